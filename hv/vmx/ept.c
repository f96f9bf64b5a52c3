/* EPT table management. Pure over struct ept_ops; unit-tested on the host. */
#include "ept.h"
#include "../lib/errno.h"

#define EPTE_LEAF     (1ULL << 7)
#define EPTE_IPAT     (1ULL << 6)
#define EPTE_MT_SHIFT 3
#define EPTE_ADDR     0x000FFFFFFFFFF000ULL
#define EPTE_PROT     7ULL
#define EPTE_MAPPED   52 /* software bits 54:52: the permissions the leaf was mapped with */

static uint64_t level_size(unsigned level)
{
	return 1ULL << (12 + 9 * (level - 1));
}

static unsigned index_of(uint64_t gpa, unsigned level)
{
	return (gpa >> (12 + 9 * (level - 1))) & 511;
}

static uint64_t *table(const struct ept *e, uint64_t pa)
{
	return e->ops.virt(e->ops.ctx, pa);
}

static uint64_t leaf_entry(uint64_t hpa, unsigned prot, unsigned mt, unsigned level)
{
	return hpa | (prot & EPTE_PROT) | ((uint64_t)mt << EPTE_MT_SHIFT) | EPTE_IPAT |
	       (level > 1 ? EPTE_LEAF : 0) | (uint64_t)(prot & EPTE_PROT) << EPTE_MAPPED;
}

static bool is_leaf(uint64_t pte, unsigned level)
{
	return level == 1 || (pte & EPTE_LEAF);
}

int ept_init(struct ept *e, const struct ept_ops *ops, unsigned max_level)
{
	*e = (struct ept){.ops = *ops, .max_level = MIN(MAX(max_level, 1u), 3u)};
	e->root = e->ops.alloc(e->ops.ctx);
	if (!e->root)
		return -ENOMEM;
	e->tables = 1;
	return 0;
}

static void free_tables(struct ept *e, uint64_t pa, unsigned level)
{
	uint64_t *t = table(e, pa);

	for (unsigned i = 0; level > 1 && i < 512; i++)
		if ((t[i] & EPTE_PROT) && !is_leaf(t[i], level))
			free_tables(e, t[i] & EPTE_ADDR, level - 1);
	e->ops.free(e->ops.ctx, pa);
	e->tables--;
}

void ept_destroy(struct ept *e)
{
	if (e->root)
		free_tables(e, e->root, 4);
	e->root = 0;
}

/* A new table at *pte: empty, or (a large leaf there) 512 smaller leaves with its attributes. */
static int new_table(struct ept *e, uint64_t *pte, unsigned level)
{
	uint64_t pa = e->ops.alloc(e->ops.ctx), old = *pte;
	uint64_t *t;

	if (!pa)
		return -ENOMEM;
	e->tables++;
	t = table(e, pa);
	for (unsigned i = 0; (old & EPTE_PROT) && i < 512; i++) {
		uint64_t v = (old & ~EPTE_LEAF) + i * level_size(level - 1);
		t[i] = level - 1 > 1 ? v | EPTE_LEAF : v;
	}
	*pte = pa | EPT_RWX; /* non-leaf entries allow everything; leaves restrict */
	return 0;
}

/* The entry for gpa at `level`, creating tables (or splitting leaves) on the way down. */
static int walk_create(struct ept *e, uint64_t gpa, unsigned level, uint64_t **out)
{
	uint64_t *t = table(e, e->root);

	for (unsigned l = 4; l > level; l--) {
		uint64_t *pte = &t[index_of(gpa, l)];
		if (!(*pte & EPTE_PROT) || is_leaf(*pte, l)) {
			int rc = new_table(e, pte, l);
			if (rc)
				return rc;
			e->top_adds += l == 4; /* PML4 entries are never leaves: this one is new */
		}
		t = table(e, *pte & EPTE_ADDR);
	}
	*out = &t[index_of(gpa, level)];
	return 0;
}

/* The leaf covering gpa, or NULL; *level is the level where the walk ended either way. */
static uint64_t *walk(const struct ept *e, uint64_t gpa, unsigned *level)
{
	uint64_t *t = table(e, e->root);

	for (unsigned l = 4;; l--) {
		uint64_t *pte = &t[index_of(gpa, l)];
		*level = l;
		if (!(*pte & EPTE_PROT))
			return NULL;
		if (is_leaf(*pte, l))
			return pte;
		t = table(e, *pte & EPTE_ADDR);
	}
}

static bool range_ok(uint64_t gpa, uint64_t size)
{
	return size && !(gpa & 0xfff) && !(size & 0xfff) && gpa < EPT_GPA_LIMIT &&
	       size <= EPT_GPA_LIMIT - gpa;
}

/* Largest level whose page fits at gpa (and hpa, unless NULL) within `left` bytes. */
static unsigned fit_level(const struct ept *e, uint64_t gpa, const uint64_t *hpa, uint64_t left)
{
	for (unsigned l = e->max_level; l > 1; l--) {
		uint64_t s = level_size(l);
		if (!(gpa & (s - 1)) && (!hpa || !(*hpa & (s - 1))) && left >= s)
			return l;
	}
	return 1;
}

int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned prot,
	    unsigned memtype)
{
	if (!range_ok(gpa, size) || (hpa & 0xfff) || hpa >= EPT_GPA_LIMIT ||
	    size > EPT_GPA_LIMIT - hpa || (memtype != EPT_MT_WB && memtype != EPT_MT_UC) ||
	    !(prot & EPT_R) || (prot & ~EPT_RWX))
		return -EINVAL;
	while (size) {
		unsigned l = fit_level(e, gpa, &hpa, size);
		uint64_t *pte;
		int rc = walk_create(e, gpa, l, &pte);
		if (rc)
			return rc;
		if ((*pte & EPTE_PROT) && !is_leaf(*pte, l)) /* a finer table is replaced */
			free_tables(e, *pte & EPTE_ADDR, l - 1);
		*pte = leaf_entry(hpa, prot, memtype, l);
		gpa += level_size(l);
		hpa += level_size(l);
		size -= level_size(l);
	}
	return 0;
}

/* Never more than the leaf was mapped with: a write-protect undone keeps read-only pages so. */
static void set_prot(uint64_t *pte, unsigned prot)
{
	if (prot & EPT_R)
		*pte = (*pte & ~EPTE_PROT) | (prot & *pte >> EPTE_MAPPED & EPTE_PROT);
	else
		*pte = 0; /* no access at all: not present */
}

/* set_prot on each present leaf in the range, splitting leaves that straddle its edges. */
static int protect_leaves(struct ept *e, uint64_t gpa, uint64_t size, unsigned prot)
{
	if (!range_ok(gpa, size))
		return -EINVAL;
	while (size) {
		unsigned l;
		uint64_t *pte = walk(e, gpa, &l), step;
		if (!pte) { /* nothing mapped up to the end of this entry's reach */
			step = level_size(l) - (gpa & (level_size(l) - 1));
		} else if ((gpa & (level_size(l) - 1)) || size < level_size(l)) {
			uint64_t *fine;
			int rc = walk_create(e, gpa, 1, &fine); /* splits down to 4K */
			if (rc)
				return rc;
			set_prot(fine, prot);
			step = 0x1000;
		} else {
			set_prot(pte, prot);
			step = level_size(l);
		}
		gpa += step;
		size -= MIN(step, size);
	}
	return 0;
}

int ept_unmap(struct ept *e, uint64_t gpa, uint64_t size)
{
	return protect_leaves(e, gpa, size, 0); /* no access: every leaf cleared */
}

int ept_protect(struct ept *e, uint64_t gpa, uint64_t size, unsigned prot)
{
	if (prot & ~EPT_RWX || (prot && !(prot & EPT_R)))
		return -EINVAL; /* write or execute without read is an EPT misconfiguration */
	return protect_leaves(e, gpa, size, prot & EPT_RWX);
}

int ept_translate(const struct ept *e, uint64_t gpa, struct ept_leaf *leaf)
{
	unsigned l;
	uint64_t *pte;

	if (gpa >= EPT_GPA_LIMIT || !(pte = walk(e, gpa, &l)))
		return -ENOENT;
	leaf->level = l;
	leaf->prot = *pte & EPTE_PROT;
	leaf->memtype = (*pte >> EPTE_MT_SHIFT) & 7;
	leaf->hpa = ((*pte & EPTE_ADDR & ~(level_size(l) - 1)) + (gpa & (level_size(l) - 1))) &
		    ~0xfffULL;
	return 0;
}

uint64_t ept_pointer(const struct ept *e)
{
	return e->root | (3 << 3) | EPT_MT_WB;
}
