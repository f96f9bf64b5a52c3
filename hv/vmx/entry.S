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

/*
 * `op %reg, slot` for each guest GPR in struct guest_gprs order, but RSP (the VMCS has it) and
 * RDI (it holds the pointer): `each_gpr mov` stores them into *g, `each_gpr load` loads them.
 */
.macro each_gpr op
	i = 0
.irp r, rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15
	.ifnc \r, rsp
	.ifnc \r, rdi
	\op %\r, G(i)(%rdi)
	.endif
	.endif
	i = i + 1
.endr
.endm
.macro load reg, slot			/* mov the other way round */
	mov \slot, \reg
.endm

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
	each_gpr load
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
	each_gpr mov
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
