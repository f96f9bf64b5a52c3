/*
 * 64-bit guest, started in long mode on page tables the test built (identity, 2 MiB pages):
 * CPUID, an intercepted INT3, REP INSB, syscall MSRs, then an access to unbacked memory.
 */
#include "guest.h"
	.code64
	.globl _start
_start:
	lgdt gdt_desc(%rip)
	lea bp_handler(%rip), %rax	/* fill the #BP gate */
	mov %ax, bp_gate(%rip)
	shr $16, %rax
	mov %ax, bp_gate+6(%rip)
	shr $16, %rax
	mov %eax, bp_gate+8(%rip)
	lidt idt_desc(%rip)
	mov $1, %eax			/* initial APIC id = vCPU id */
	cpuid
	shr $24, %ebx
	mov %ebx, %eax
	out %eax, $PORT_REPORT
	movb $1, SKIP
	int3				/* the test intercepts #BP, then lets the guest see it */
	lea buf(%rip), %rdi
	mov $2, %ecx
	mov $PORT_STRING, %dx
	cld
	rep insb			/* the test supplies 0x41, 0x42 */
	movzwl buf(%rip), %eax
	out %eax, $PORT_REPORT
	mov $0xc0000082, %ecx		/* LSTAR round trip */
	mov $0x401000, %eax
	xor %edx, %edx
	wrmsr
	xor %eax, %eax
	rdmsr
	out %eax, $PORT_REPORT
	mov $0x3fe00000, %rax		/* mapped by the guest, not backed by the VM */
	mov (%rax), %rax
	hlt

bp_handler:
	push %rax
	mov $3, %al
	out %al, $PORT_BYTE
	movzbq SKIP, %rax
	add %rax, 8(%rsp)
	pop %rax
	iretq

	.balign 8
gdt:	.quad 0
	.quad 0x00af9a000000ffff
	.quad 0x00cf92000000ffff
gdt_desc:
	.short gdt_desc - gdt - 1
	.quad gdt
	.balign 16
idt:	.skip 3 * 16
bp_gate:				/* vector 3: 64-bit interrupt gate */
	.short 0, 0x08, 0x8e00, 0
	.long 0, 0
idt_desc:
	.short 4 * 16 - 1
	.quad idt
buf:	.word 0
