/* Exception entry stubs: push a uniform frame (see struct trap_frame) and call trap_handler. */

/* Vectors 8, 10-14, 17, 21, 29 and 30 push an error code; the others get a 0 in its place. */
.macro ISR n
isr\n:
	.if !(\n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30)
	pushq $0
	.endif
	pushq $\n
	jmp isr_common
.endm

	.text
.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ISR \n
.endr

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
