/* Physical and virtual memory layout of the hypervisor image (C and assembly). */
#ifndef HV_LAYOUT_H
#define HV_LAYOUT_H

#define HV_IMAGE_VIRT	   0xFFFFFFFF80000000 /* image VA = this + PA (top 2 GiB) */
#define HV_DIRECT_MAP	   0xFFFF800000000000 /* all physical memory at this offset */
#define HV_IOREMAP	   0xFFFFC00000000000 /* uncached device mappings at this + PA */
#define HV_IOREMAP_LIMIT   0x0000010000000000 /* device addresses below 1 TiB */
#define HV_BOOT_STACK_SIZE 16384
#define PAGE_SIZE	   4096

#endif
