/*
 * int vmx_enter(struct guest_gprs *g, int launched)
 * Saves the host's callee-saved registers, points HOST_RSP at this frame, loads the guest GPRs
 * and CR2 and enters the guest. The VM exit lands in vmx_exit (HOST_RIP), which stores the
 * guest's registers back into *g and returns 0. A failed VMLAUNCH/VMRESUME returns 1.
 * struct guest_gprs: r[16] in hardware order (RAX RCX RDX RBX RSP RBP RSI RDI R8-R15), then cr2.
 */
#define VMCS_HOST_RSP 0x6c14
#define G(n) (8 * (n))
#define G_CR2 (8 * 16)

	.text
	.global vmx_enter, vmx_exit
vmx_enter:
.irp r, rbp, rbx, r12, r13, r14, r15
	push %\r
.endr
	push %rdi			/* the frame vmx_exit finds at HOST_RSP */
	mov $VMCS_HOST_RSP, %eax
	vmwrite %rsp, %rax
	jbe 2f
	mov G_CR2(%rdi), %rax
	mov %rax, %cr2
	test %esi, %esi
	mov G(0)(%rdi), %rax
	mov G(1)(%rdi), %rcx
	mov G(2)(%rdi), %rdx
	mov G(3)(%rdi), %rbx
	mov G(5)(%rdi), %rbp
	mov G(6)(%rdi), %rsi
	mov G(8)(%rdi), %r8
	mov G(9)(%rdi), %r9
	mov G(10)(%rdi), %r10
	mov G(11)(%rdi), %r11
	mov G(12)(%rdi), %r12
	mov G(13)(%rdi), %r13
	mov G(14)(%rdi), %r14
	mov G(15)(%rdi), %r15
	mov G(7)(%rdi), %rdi		/* last: it held the pointer (mov leaves the flags alone) */
	jnz 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:	/* entry failed; the guest registers were not saved, the host's are still on the stack */
	pop %rdi
	mov $1, %eax
	jmp 3f

vmx_exit:
	push %rdi			/* guest RDI */
	mov 8(%rsp), %rdi		/* struct guest_gprs * */
	mov %rax, G(0)(%rdi)
	mov %rcx, G(1)(%rdi)
	mov %rdx, G(2)(%rdi)
	mov %rbx, G(3)(%rdi)
	mov %rbp, G(5)(%rdi)
	mov %rsi, G(6)(%rdi)
	mov %r8, G(8)(%rdi)
	mov %r9, G(9)(%rdi)
	mov %r10, G(10)(%rdi)
	mov %r11, G(11)(%rdi)
	mov %r12, G(12)(%rdi)
	mov %r13, G(13)(%rdi)
	mov %r14, G(14)(%rdi)
	mov %r15, G(15)(%rdi)
	pop %rax
	mov %rax, G(7)(%rdi)
	mov %cr2, %rax
	mov %rax, G_CR2(%rdi)
	pop %rdi
	xor %eax, %eax
3:
.irp r, r15, r14, r13, r12, rbx, rbp
	pop %\r
.endr
	ret
