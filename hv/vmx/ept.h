/* EPT page tables: map, unmap, protect and translate guest-physical ranges (4K, 2M, 1G pages). */
#ifndef HV_VMX_EPT_H
#define HV_VMX_EPT_H

#include "../lib/types.h"

#define EPT_R	      1u
#define EPT_W	      2u
#define EPT_X	      4u
#define EPT_RWX	      (EPT_R | EPT_W | EPT_X)
#define EPT_MT_UC     0u
#define EPT_MT_WB     6u
#define EPT_GPA_LIMIT (1ULL << 48) /* 4-level EPT */

/* Where table frames come from: the hypervisor's pool, or host memory in unit tests. */
struct ept_ops {
	uint64_t (*alloc)(void *ctx); /* a zeroed 4K frame, or 0 */
	void (*free)(void *ctx, uint64_t pa);
	void *(*virt)(void *ctx, uint64_t pa);
	void *ctx;
};

struct ept {
	uint64_t root; /* physical address of the PML4 */
	struct ept_ops ops;
	uint64_t tables;    /* table frames in use, the root included */
	unsigned max_level; /* largest leaf: 1 = 4K, 2 = 2M, 3 = 1G */
	uint64_t top_adds;  /* PML4 entries made (never taken away before ept_destroy) */
};

struct ept_leaf {
	uint64_t hpa;  /* of the 4K page holding the GPA's byte */
	unsigned prot; /* EPT_R/W/X */
	unsigned memtype;
	unsigned level; /* 1, 2 or 3 */
};

/* Returns 0 or -ENOMEM. max_level limits page sizes to what the CPU offers. */
int ept_init(struct ept *e, const struct ept_ops *ops, unsigned max_level);
/* Frees every table frame (never the mapped memory). */
void ept_destroy(struct ept *e);
/*
 * Maps [gpa, gpa+size) to [hpa, ...) with prot (EPT_R required) and memtype, replacing what was
 * there, using the largest pages alignment allows. All three must be 4K-aligned. 0, -EINVAL or
 * -ENOMEM (a partial mapping may then remain; the caller unmaps the range).
 */
int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned prot,
	    unsigned memtype);
/* Removes mappings in the range (splitting large pages at its edges). 0, -EINVAL or -ENOMEM. */
int ept_unmap(struct ept *e, uint64_t gpa, uint64_t size);
/* Changes permissions of the present mappings in the range (0 unmaps), never beyond those each
 * was mapped with. 0, -EINVAL or -ENOMEM. */
int ept_protect(struct ept *e, uint64_t gpa, uint64_t size, unsigned prot);
/* Walks the tables for gpa. Returns 0 with *leaf filled, or -ENOENT. */
int ept_translate(const struct ept *e, uint64_t gpa, struct ept_leaf *leaf);
/* The EPTP value: 4-level walk, write-back tables. */
uint64_t ept_pointer(const struct ept *e);

#endif
