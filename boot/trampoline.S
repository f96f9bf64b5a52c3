/*
 * AP start-up code. Copied to a free page below 1 MiB that the memory map names (smp.c) and
 * entered in real mode by a SIPI at CS:IP = page:0; position-independent: EBX holds the page's
 * address. Goes through protected mode to long mode on a low page table (identity-mapped low
 * 2 MiB plus the image), then calls ap_entry(percpu) on the stack in the data block at the end.
 */
#define R(x) ((x) - trampoline_start) /* offset in the page */

	.section .rodata
	.balign 16
	.global trampoline_start, trampoline_end
	.code16
trampoline_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	movzwl %ax, %ebx
	shl $4, %ebx			/* the page's physical address */
	leal R(tr_gdt)(%ebx), %eax	/* the absolute addresses, patched in place */
	movl %eax, R(tr_gdt_ptr) + 2
	leal R(tr32)(%ebx), %eax
	movl %eax, R(tr_far32)
	leal R(tr64)(%ebx), %eax
	movl %eax, R(tr_far64)
	lgdtl R(tr_gdt_ptr)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl *R(tr_far32)

	.code32
tr32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %cr4, %eax
	or $(1 << 5), %eax		/* PAE */
	mov %eax, %cr4
	mov R(tr_cr3)(%ebx), %eax
	mov %eax, %cr3
	mov $0xC0000080, %ecx
	rdmsr
	or $((1 << 8) | (1 << 11)), %eax	/* LME, NXE */
	wrmsr
	mov $0x80010033, %eax		/* PG WP NE ET MP PE; clears CD and NW left by INIT */
	mov %eax, %cr0
	ljmpl *R(tr_far64)(%ebx)

	.code64
tr64:
	xor %eax, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov tr_stack(%rip), %rsp
	mov tr_percpu(%rip), %rdi
	mov tr_entry(%rip), %rax
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
	.long 0
tr_far32:
	.long 0
	.short 0x08
tr_far64:
	.long 0
	.short 0x18
	.balign 8
	.global trampoline_data
trampoline_data:			/* filled by the boot CPU for each AP: see struct tr_data */
tr_cr3:		.quad 0
tr_stack:	.quad 0
tr_percpu:	.quad 0
tr_entry:	.quad 0
trampoline_end:
