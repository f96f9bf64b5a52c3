/* Multiboot2 header: GRUB finds it in the first 32 KiB of the image. */
#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0
#ifndef HV_RELOC_MIN
#define HV_RELOC_MIN 0x200000 /* (a test image asks for a higher place: Makefile) */
#endif

	.section .mb2hdr, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	/* entry address tag: the 32-bit entry, a physical address */
	.balign 8
	.short 3, 0
	.long 12
	.long _start32

	/* information request (optional): cmdline, modules, memory map, ACPI */
	.balign 8
	.short 1, 1
	.long 8 + 4 * 4
	.long 1, 3, 6, 14

	/* relocatable: at 2 MiB, or where the firmware left room, 2 MiB-aligned, ending below
	 * 16 MiB where Linux kernels load (entry.S adds the offset); a loader that ignores the
	 * tag loads at 2 MiB */
	.balign 8
	.short 10, 1
	.long 24
	.long HV_RELOC_MIN, 0x1000000, 0x200000, 1	/* min, max end, align, prefer low */

	/* module alignment: page-aligned modules */
	.balign 8
	.short 6, 0
	.long 8

	/* end tag */
	.balign 8
	.short 0, 0
	.long 8
mb2_header_end:
