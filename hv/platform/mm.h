/* Address translation between physical memory, the direct map and the image. */
#ifndef HV_MM_H
#define HV_MM_H

#include "frames.h"
#include "layout.h"
#include "../lib/types.h"

extern struct frame_pool hv_frames;
extern char __image_start[], __image_end[], __text_start[], __text_end[];
extern char __rodata_start[], __rodata_end[], __data_start[], __bss_start[], __bss_end[];

static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)(pa + HV_DIRECT_MAP);
}

/* Physical address of a direct-map pointer. */
static inline uint64_t virt_to_phys(const void *va)
{
	return (uint64_t)(uintptr_t)va - HV_DIRECT_MAP;
}

extern uint64_t hv_load_offset; /* where GRUB put the image, less where it is linked */

/* Physical address of an image symbol (code, data, bss). */
static inline uint64_t image_to_phys(const void *va)
{
	return (uint64_t)(uintptr_t)va - HV_IMAGE_VIRT + hv_load_offset;
}

/* The pages that hold `bytes` bytes. */
#define PAGES(bytes) (ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE)

/* A zeroed frame (panics when memory is exhausted: boot-time use only). */
uint64_t frame_alloc_zeroed(void);
/* `bytes` in whole contiguous frames, zeroed, by the direct map; NULL when memory is short. */
void *mem_alloc(uint64_t bytes);
/* Gives back what mem_alloc(bytes) returned; NULL is nothing. */
void mem_free(void *p, uint64_t bytes);

/* Builds the final page tables: direct map of [0, dm_end) and the image with W^X, then loads them.
 */
void paging_init(uint64_t dm_end);
/* Physical address of the hypervisor's PML4 (for CR3 on other CPUs and VMCS host state). */
uint64_t paging_root(void);
/* Uncached mapping of device memory (below HV_IOREMAP_LIMIT) at HV_IOREMAP + pa. */
void *ioremap(uint64_t pa, size_t size);
/* Exclusive end of the direct map; physical addresses at or above it have no mapping. */
uint64_t direct_map_end(void);

#endif
