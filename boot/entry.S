/*
 * 32-bit entry from GRUB (multiboot2): EAX = magic, EBX = info (physical). GRUB may load the
 * image higher than it is linked (the relocatable header tag): EBP holds that offset, a multiple
 * of 2 MiB, and every physical reference adds it. Builds early page tables (identity and direct
 * map of 0-4 GiB, the image at the top 2 GiB), enters long mode and calls hv_main(magic, info).
 */
#include "../hv/platform/layout.h"

#define PA(x) ((x) - HV_IMAGE_VIRT)
#define PTE_P_RW 0x3
#define PTE_PS 0x80
#define MSR_EFER 0xC0000080
#define MB2_BOOTLOADER_MAGIC 0x36d76289

	.section .boot.text, "ax"
	.code32
	.global _start32
_start32:
	cli
	cld
	cmp $MB2_BOOTLOADER_MAGIC, %eax
	jne not_mb2
	lea 8(%ebx), %esp		/* the info block's reserved word: a stack for one call */
	call 1f
1:	pop %ebp
	sub $1b, %ebp			/* load offset */
	mov %eax, boot_magic(%ebp)
	mov %ebx, boot_mbi(%ebp)

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
	lea PA(__bss_start)(%ebp), %edi
	lea PA(__bss_end)(%ebp), %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb
	mov %ebp, PA(hv_load_offset)(%ebp)

	/* 2048 PD entries of 2 MiB: physical 0 - 4 GiB */
	lea PA(early_pd)(%ebp), %edi
	mov $(PTE_P_RW | PTE_PS), %eax
	mov $2048, %ecx
1:	mov %eax, (%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 1b

	/* PDPT for 0 - 4 GiB, shared by the identity map and the direct map */
	lea PA(early_pdpt_low)(%ebp), %edi
	lea (PA(early_pd) + PTE_P_RW)(%ebp), %eax
	mov $4, %ecx
2:	mov %eax, (%edi)
	add $4096, %eax
	add $8, %edi
	loop 2b

	/* the image's 1 GiB at the top: virtual HV_IMAGE_VIRT + x is physical x + offset */
	lea PA(early_pd_image)(%ebp), %edi
	lea (PTE_P_RW | PTE_PS)(%ebp), %eax
	mov $512, %ecx
3:	mov %eax, (%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 3b
	lea (PA(early_pd_image) + PTE_P_RW)(%ebp), %eax
	mov %eax, (PA(early_pdpt_high) + 510 * 8)(%ebp)

	lea (PA(early_pdpt_low) + PTE_P_RW)(%ebp), %eax
	mov %eax, PA(early_pml4)(%ebp)
	mov %eax, (PA(early_pml4) + 256 * 8)(%ebp)
	lea (PA(early_pdpt_high) + PTE_P_RW)(%ebp), %eax
	mov %eax, (PA(early_pml4) + 511 * 8)(%ebp)

	mov %cr4, %eax
	or $(1 << 5), %eax		/* PAE */
	mov %eax, %cr4
	lea PA(early_pml4)(%ebp), %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $((1 << 8) | (1 << 11)), %eax	/* LME, NXE */
	wrmsr
	mov %cr0, %eax
	or $((1 << 31) | (1 << 16) | 1), %eax	/* PG, WP, PE */
	mov %eax, %cr0

	lea early_gdt(%ebp), %eax
	mov %eax, (early_gdt_ptr + 2)(%ebp)
	lgdt early_gdt_ptr(%ebp)
	lea PA(boot_stack + HV_BOOT_STACK_SIZE)(%ebp), %esp
	lea start64_low(%ebp), %eax
	push $0x08
	push %eax
	lret

not_mb2:				/* no info block to borrow a stack from: at the link address */
	xor %ebp, %ebp
	lea no_mb2_msg, %esi
	jmp 3f
no_long_mode:
	lea no_lm_msg(%ebp), %esi
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
	mov boot_magic(%rip), %edi
	mov boot_mbi(%rip), %esi
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
	.long 0				/* early_gdt's physical address, filled in */
no_mb2_msg:
	.asciz "hv: not started by a multiboot2 loader; cannot start\r\n"
no_lm_msg:
	.asciz "hv: this CPU has no long mode or no NX; cannot start\r\n"

	.text
start64_high:
	movabs $(boot_stack + HV_BOOT_STACK_SIZE), %rsp
	xor %ebp, %ebp
	call hv_main
6:	cli
	hlt
	jmp 6b

	.data
	.balign 8
	.global hv_load_offset
hv_load_offset:	.quad 0			/* physical = linked physical + this */

	.bss
	.balign 4096
	.global early_pml4
early_pml4:	.skip 4096
early_pdpt_low:	.skip 4096
early_pdpt_high: .skip 4096
early_pd:	.skip 4 * 4096
early_pd_image:	.skip 4096
	.global boot_stack
	.balign 16
boot_stack:	.skip HV_BOOT_STACK_SIZE
