/* Exception entry stubs: push a uniform frame (see struct trap_frame) and call trap_handler. */

.macro ISR n, has_err
isr\n:
	.if \has_err == 0
	pushq $0
	.endif
	pushq $\n
	jmp isr_common
.endm

	.text
ISR 0, 0
ISR 1, 0
ISR 2, 0
ISR 3, 0
ISR 4, 0
ISR 5, 0
ISR 6, 0
ISR 7, 0
ISR 8, 1
ISR 9, 0
ISR 10, 1
ISR 11, 1
ISR 12, 1
ISR 13, 1
ISR 14, 1
ISR 15, 0
ISR 16, 0
ISR 17, 1
ISR 18, 0
ISR 19, 0
ISR 20, 0
ISR 21, 1
ISR 22, 0
ISR 23, 0
ISR 24, 0
ISR 25, 0
ISR 26, 0
ISR 27, 0
ISR 28, 0
ISR 29, 1
ISR 30, 1
ISR 31, 0

isr_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	cld
	call trap_handler
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp
	iretq

/*
 * bool wrmsr_safe(uint32_t msr, uint64_t v): 1, or 0 when the CPU refused the value with a #GP
 * (trap_handler resumes at wrmsr_fault). For values that come from guests or dom0.
 */
	.global wrmsr_safe, wrmsr_insn, wrmsr_fault
wrmsr_safe:
	mov %edi, %ecx
	mov %esi, %eax
	mov %rsi, %rdx
	shr $32, %rdx
wrmsr_insn:
	wrmsr
	mov $1, %eax
	ret
wrmsr_fault:
	xor %eax, %eax
	ret

/* Interrupt vectors 32-255: save the caller-saved registers and call irq_handler(vector). */
	.balign 8
	.balign 16
irq_stubs:
	vec = 32
	.rept 224
	.balign 16
	pushq $vec
	jmp irq_common
	vec = vec + 1
	.endr

irq_common:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	mov 72(%rsp), %rdi
	cld
	call irq_handler
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	add $8, %rsp
	iretq

	.section .rodata
	.balign 8
	.global irq_stub_base
irq_stub_base:
	.quad irq_stubs
	.global isr_table
isr_table:
.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad isr\n
.endr
