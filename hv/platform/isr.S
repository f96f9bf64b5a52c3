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
.irp r, rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15
	push %\r
.endr
	mov %rsp, %rdi
	cld
	call trap_handler
.irp r, r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax
	pop %\r
.endr
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
.irp r, rax, rcx, rdx, rsi, rdi, r8, r9, r10, r11
	push %\r
.endr
	mov 72(%rsp), %rdi
	cld
	call irq_handler
.irp r, r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax
	pop %\r
.endr
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
