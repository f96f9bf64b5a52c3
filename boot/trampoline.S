/*
 * AP start-up code. Copied to HV_TRAMPOLINE_PA and entered in real mode by a SIPI; goes through
 * protected mode to long mode on a low page table (identity-mapped low 2 MiB plus the image),
 * then calls ap_entry(percpu) on the stack the boot CPU put in the data block at the end.
 */
#include "../hv/platform/layout.h"

#define T(x) (HV_TRAMPOLINE_PA + (x) - trampoline_start)

	.section .rodata
	.balign 16
	.global trampoline_start, trampoline_end
	.code16
trampoline_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	lgdtl tr_gdt_ptr - trampoline_start
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $T(tr32)

	.code32
tr32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %cr4, %eax
	or $(1 << 5), %eax		/* PAE */
	mov %eax, %cr4
	mov T(tr_cr3), %eax
	mov %eax, %cr3
	mov $0xC0000080, %ecx
	rdmsr
	or $((1 << 8) | (1 << 11)), %eax	/* LME, NXE */
	wrmsr
	mov $0x80010033, %eax		/* PG WP NE ET MP PE; clears CD and NW left by INIT */
	mov %eax, %cr0
	ljmp $0x18, $T(tr64)

	.code64
tr64:
	xor %eax, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov T(tr_stack), %rsp
	mov T(tr_percpu), %rdi
	mov T(tr_entry), %rax
	xor %ebp, %ebp
	call *%rax
1:	cli
	hlt
	jmp 1b

	.balign 8
tr_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code */
tr_gdt_ptr:
	.short tr_gdt_ptr - tr_gdt - 1
	.long T(tr_gdt)
	.balign 8
	.global trampoline_data
trampoline_data:			/* filled by the boot CPU for each AP: see struct tr_data */
tr_cr3:		.quad 0
tr_stack:	.quad 0
tr_percpu:	.quad 0
tr_entry:	.quad 0
trampoline_end:
