/* Physical frame allocator: a bitmap over all RAM, 1 = free. */
#ifndef HV_FRAMES_H
#define HV_FRAMES_H

#include "mb2.h"
#include "../lib/spinlock.h"
#include "../lib/types.h"

#define FRAME_SIZE	    4096ULL
#define FRAMES_LOW_LIMIT    MiB(1) /* never handed out: BIOS, trampolines, legacy DMA */
#define FRAMES_MAX_RESERVED 24

struct phys_range {
	uint64_t base, end; /* end exclusive */
};

struct frame_pool {
	uint64_t *bitmap;
	uint64_t bitmap_pa;
	uint64_t nframes; /* frames covered by the bitmap: [0, nframes * 4K) */
	uint64_t nfree;
	uint64_t ntotal; /* frames that were ever free */
	uint64_t hint;	 /* word index to start searching from */
	spinlock_t lock;
};

/*
 * Builds the pool from a sanitized memory map, keeping out the low 1 MiB and every range
 * in `rsv` (image, boot info, modules). The bitmap is placed in usable RAM found here and
 * reached through `virt`. Returns 0, or -1 when there is no usable RAM or no room for it.
 */
int frames_init(struct frame_pool *p, const struct boot_info *bi, const struct phys_range *rsv,
		unsigned nrsv, void *(*virt)(uint64_t pa));

/* One frame, or 0 when none is left. */
uint64_t frame_alloc(struct frame_pool *p);
/* n contiguous frames starting at a multiple of align_frames (a power of two), or 0. */
uint64_t frames_alloc_contig(struct frame_pool *p, uint64_t n, uint64_t align_frames);
/* Returns 0, or -1 for an address that is unaligned, outside the pool or already free. */
int frame_free(struct frame_pool *p, uint64_t pa);
int frames_free_contig(struct frame_pool *p, uint64_t pa, uint64_t n);
bool frame_is_free(const struct frame_pool *p, uint64_t pa);
/* Takes the n frames at pa out of the pool; -1 (and nothing taken) unless all were free. */
int frames_claim(struct frame_pool *p, uint64_t pa, uint64_t n);

#endif
