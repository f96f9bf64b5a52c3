/*
 * 32-bit entry from GRUB (multiboot2): EAX = magic, EBX = info (physical).
 * Builds early page tables (identity and direct map of 0-4 GiB, image at
 * the top 2 GiB), enters long mode and calls hv_main(magic, info).
 */
#include "../hv/platform/layout.h"

#define PA(x) ((x) - HV_IMAGE_VIRT)
#define PTE_P_RW 0x3
#define PTE_PS 0x80
#define MSR_EFER 0xC0000080

	.section .boot.text, "ax"
	.code32
	.global _start32
_start32:
	cli
	cld
	mov %eax, boot_magic
	mov %ebx, boot_mbi

	/* long mode and NX are required */
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	bt $29, %edx
	jnc no_long_mode
	bt $20, %edx
	jnc no_long_mode

	/* zero .bss (holds the early page tables and the boot stack) */
	mov $PA(__bss_start), %edi
	mov $PA(__bss_end), %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb

	/* 2048 PD entries of 2 MiB: physical 0 - 4 GiB */
	mov $PA(early_pd), %edi
	mov $(PTE_P_RW | PTE_PS), %eax
	mov $2048, %ecx
1:	mov %eax, (%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 1b

	/* PDPT for 0 - 4 GiB, shared by the identity map and the direct map */
	mov $PA(early_pdpt_low), %edi
	mov $(PA(early_pd) + PTE_P_RW), %eax
	mov $4, %ecx
2:	mov %eax, (%edi)
	add $4096, %eax
	add $8, %edi
	loop 2b

	/* top 2 GiB: the image mapping (first 1 GiB of physical memory twice) */
	movl $(PA(early_pd) + PTE_P_RW), PA(early_pdpt_high) + 510 * 8
	movl $(PA(early_pd) + 4096 + PTE_P_RW), PA(early_pdpt_high) + 511 * 8

	movl $(PA(early_pdpt_low) + PTE_P_RW), PA(early_pml4)
	movl $(PA(early_pdpt_low) + PTE_P_RW), PA(early_pml4) + 256 * 8
	movl $(PA(early_pdpt_high) + PTE_P_RW), PA(early_pml4) + 511 * 8

	mov %cr4, %eax
	or $(1 << 5), %eax		/* PAE */
	mov %eax, %cr4
	mov $PA(early_pml4), %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $((1 << 8) | (1 << 11)), %eax	/* LME, NXE */
	wrmsr
	mov %cr0, %eax
	or $((1 << 31) | (1 << 16) | 1), %eax	/* PG, WP, PE */
	mov %eax, %cr0

	lgdt early_gdt_ptr
	ljmp $0x08, $start64_low

no_long_mode:
	mov $no_lm_msg, %esi
3:	lodsb
	test %al, %al
	jz 5f
	mov $0x3fd, %dx			/* wait for the UART transmitter */
	mov %al, %bl
4:	in %dx, %al
	test $0x20, %al
	jz 4b
	mov %bl, %al
	mov $0x3f8, %dx
	out %al, %dx
	out %al, $0xe9
	jmp 3b
5:	cli
	hlt
	jmp 5b

	.code64
start64_low:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	movabs $start64_high, %rax
	jmp *%rax

	.section .boot.data, "aw"
	.balign 8
boot_magic:	.long 0
boot_mbi:	.long 0
early_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
early_gdt_end:
early_gdt_ptr:
	.short early_gdt_end - early_gdt - 1
	.long early_gdt
no_lm_msg:
	.asciz "hv: this CPU has no long mode or no NX; cannot start\r\n"

	.text
start64_high:
	movabs $(boot_stack + HV_BOOT_STACK_SIZE), %rsp
	xor %ebp, %ebp
	mov boot_magic, %edi
	mov boot_mbi, %esi
	call hv_main
6:	cli
	hlt
	jmp 6b

	.bss
	.balign 4096
	.global early_pml4
early_pml4:	.skip 4096
early_pdpt_low:	.skip 4096
early_pdpt_high: .skip 4096
early_pd:	.skip 4 * 4096
	.global boot_stack
	.balign 16
boot_stack:	.skip HV_BOOT_STACK_SIZE
