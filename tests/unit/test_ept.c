/* EPT tables (hv/vmx/ept.c) built in a fake physical arena of host memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "vmx/ept.h"

#define PAGE	     0x1000ULL
#define ARENA_SIZE   MiB(4)
#define ARENA_FRAMES (ARENA_SIZE / PAGE)
#define ARENA_BASE   0x100000ULL /* fake physical address of the arena's first frame */
#define POISON	     0xa5

/* Raw EPT entry bits, as the hardware defines them. */
#define PTE_IPAT  (1ULL << 6)
#define PTE_LEAF  (1ULL << 7)
#define PTE_MT(m) ((uint64_t)(m) << 3)

/* Table frames: handed out zeroed, poisoned when freed, checked on every access. */
struct arena {
	uint8_t *mem;
	uint32_t free_list[ARENA_FRAMES];
	unsigned nfree;
	unsigned next; /* frames never handed out start here */
	bool live[ARENA_FRAMES];
	unsigned long allocs, frees, virts;
	long fail_after; /* allocations that still succeed; -1: all of them */
};

static struct arena arena;

static unsigned frame_of(uint64_t pa)
{
	assert_true(pa >= ARENA_BASE && pa < ARENA_BASE + ARENA_SIZE);
	assert_int_equal(pa & (PAGE - 1), 0);
	return (unsigned)((pa - ARENA_BASE) / PAGE);
}

static uint64_t arena_alloc(void *ctx)
{
	struct arena *a = ctx;
	unsigned f = 0;

	if (a->fail_after == 0)
		return 0;
	if (a->fail_after > 0)
		a->fail_after--;
	if (a->nfree)
		f = a->free_list[--a->nfree];
	else if (a->next < ARENA_FRAMES)
		f = a->next++;
	else
		fail_msg("fake arena exhausted"); /* does not return */
	assert_false(a->live[f]);
	a->live[f] = true;
	memset(a->mem + (uint64_t)f * PAGE, 0, PAGE);
	a->allocs++;
	return ARENA_BASE + (uint64_t)f * PAGE;
}

static void arena_free(void *ctx, uint64_t pa)
{
	struct arena *a = ctx;
	unsigned f = frame_of(pa);

	assert_true(a->live[f]); /* no double free */
	a->live[f] = false;
	memset(a->mem + (uint64_t)f * PAGE, POISON, PAGE);
	a->free_list[a->nfree++] = f;
	a->frees++;
}

static void *arena_virt(void *ctx, uint64_t pa)
{
	struct arena *a = ctx;
	unsigned f = frame_of(pa);

	assert_true(a->live[f]); /* no use after free */
	a->virts++;
	return a->mem + (uint64_t)f * PAGE;
}

static const struct ept_ops ops = {
	.alloc = arena_alloc,
	.free = arena_free,
	.virt = arena_virt,
	.ctx = &arena,
};

static int setup(void **state)
{
	(void)state;
	memset(&arena, 0, sizeof(arena));
	arena.fail_after = -1;
	arena.mem = aligned_alloc(PAGE, ARENA_SIZE);
	if (!arena.mem)
		return -1;
	memset(arena.mem, POISON, ARENA_SIZE); /* alloc must hand out zeroed frames */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(arena.mem);
	arena.mem = NULL;
	return 0;
}

static void init(struct ept *e, unsigned max_level)
{
	assert_int_equal(ept_init(e, &ops, max_level), 0);
	assert_int_equal(e->tables, 1);
}

/* e->tables always counts exactly the frames taken from the arena and not given back. */
static void check_tables(const struct ept *e)
{
	assert_int_equal(e->tables, arena.allocs - arena.frees);
}

/* Destroys e and checks that every table frame came back. */
static void done(struct ept *e)
{
	check_tables(e);
	ept_destroy(e);
	assert_int_equal(e->root, 0);
	assert_int_equal(e->tables, 0);
	assert_int_equal(arena.allocs, arena.frees);
	for (unsigned f = 0; f < ARENA_FRAMES; f++)
		assert_false(arena.live[f]);
}

static void check_leaf(const char *file, int line, const struct ept *e, uint64_t gpa, uint64_t hpa,
		       unsigned prot, unsigned mt, unsigned level)
{
	struct ept_leaf l;
	int rc;

	memset(&l, 0x5a, sizeof(l));
	rc = ept_translate(e, gpa, &l);
	if (rc || l.hpa != hpa || l.prot != prot || l.memtype != mt || l.level != level) {
		print_error("%s:%d: gpa %#llx: rc %d hpa %#llx prot %u mt %u level %u, expected "
			    "hpa %#llx prot %u mt %u level %u\n",
			    file, line, (unsigned long long)gpa, rc, (unsigned long long)l.hpa,
			    l.prot, l.memtype, l.level, (unsigned long long)hpa, prot, mt, level);
		_fail(file, line);
	}
}

static void check_none(const char *file, int line, const struct ept *e, uint64_t gpa)
{
	struct ept_leaf l;
	int rc = ept_translate(e, gpa, &l);

	if (rc != -ENOENT) {
		print_error("%s:%d: gpa %#llx: rc %d (hpa %#llx level %u), expected -ENOENT\n",
			    file, line, (unsigned long long)gpa, rc,
			    rc ? 0ULL : (unsigned long long)l.hpa, rc ? 0u : l.level);
		_fail(file, line);
	}
}

#define expect_leaf(e, gpa, hpa, prot, mt, level) \
	check_leaf(__FILE__, __LINE__, e, gpa, hpa, prot, mt, level)
#define expect_none(e, gpa) check_none(__FILE__, __LINE__, e, gpa)

/* The raw entry that maps gpa at `level`, read straight from the arena. */
static uint64_t raw_entry(const struct ept *e, uint64_t gpa, unsigned level)
{
	uint64_t pa = e->root;

	for (unsigned l = 4;; l--) {
		const uint64_t *t = (const uint64_t *)(arena.mem + frame_of(pa) * PAGE);
		uint64_t pte = t[(gpa >> (12 + 9 * (l - 1))) & 511];

		if (l == level)
			return pte &
			       ~(7ULL << 52); /* the software bits: see test_protect_never_widens */
		assert_int_equal(pte & 7, 7); /* non-leaf entries allow everything */
		assert_int_equal(pte & PTE_LEAF, 0);
		pa = pte & 0x000ffffffffff000ULL;
	}
}

static void test_init(void **state)
{
	struct ept e;

	(void)state;
	init(&e, 3);
	assert_int_equal(e.root, ARENA_BASE);
	assert_int_equal(e.max_level, 3);
	assert_true(e.ops.alloc == arena_alloc && e.ops.ctx == &arena);
	assert_int_equal(arena.allocs, 1);
	for (unsigned i = 0; i < 512; i++) /* handed out zeroed: nothing present */
		assert_int_equal(raw_entry(&e, (uint64_t)i << 39, 4), 0);
	expect_none(&e, 0);
	expect_none(&e, EPT_GPA_LIMIT - PAGE);
	done(&e);
	assert_int_equal(arena.frees, 1);

	/* max_level is clamped to 1..3 */
	init(&e, 0);
	assert_int_equal(e.max_level, 1);
	done(&e);
	init(&e, 2);
	assert_int_equal(e.max_level, 2);
	done(&e);
	init(&e, 4);
	assert_int_equal(e.max_level, 3);
	done(&e);
	init(&e, ~0u);
	assert_int_equal(e.max_level, 3);
	done(&e);
}

static void test_init_nomem(void **state)
{
	struct ept e;

	(void)state;
	arena.fail_after = 0;
	memset(&e, 0x5a, sizeof(e));
	assert_int_equal(ept_init(&e, &ops, 3), -ENOMEM);
	assert_int_equal(e.root, 0);
	assert_int_equal(e.tables, 0);
	ept_destroy(&e); /* harmless */
	assert_int_equal(arena.allocs, 0);
	assert_int_equal(arena.frees, 0);
}

static void test_pointer(void **state)
{
	struct ept a, b;

	(void)state;
	init(&a, 3);
	init(&b, 3);
	/* bits 5:3 = 3 (4-level walk), 2:0 = 6 (write-back), no A/D flag */
	assert_int_equal(ept_pointer(&a), a.root | 0x1e);
	assert_int_equal(ept_pointer(&a), 0x10001e);
	assert_int_equal(ept_pointer(&b), 0x10101e);
	ept_destroy(&a);
	done(&b);
}

static void test_map_4k(void **state)
{
	struct ept e;

	(void)state;
	init(&e, 3);
	assert_int_equal(ept_map(&e, 0x1000, 0x5000, PAGE, EPT_R | EPT_W, EPT_MT_WB), 0);
	assert_int_equal(e.tables, 4); /* root, PDPT, PD, PT */
	check_tables(&e);
	expect_leaf(&e, 0x1000, 0x5000, EPT_R | EPT_W, EPT_MT_WB, 1);
	expect_leaf(&e, 0x1abc, 0x5000, EPT_R | EPT_W, EPT_MT_WB, 1);
	expect_leaf(&e, 0x1fff, 0x5000, EPT_R | EPT_W, EPT_MT_WB, 1);
	expect_none(&e, 0);
	expect_none(&e, 0xfff);
	expect_none(&e, 0x2000);
	expect_none(&e, 0x201000);
	expect_none(&e, GiB(1) + 0x1000);

	/* the tables, frame by frame: PDPT, PD and PT follow the root */
	assert_int_equal(raw_entry(&e, 0x1000, 4), 0x101007);
	assert_int_equal(raw_entry(&e, 0x1000, 3), 0x102007);
	assert_int_equal(raw_entry(&e, 0x1000, 2), 0x103007);
	assert_int_equal(raw_entry(&e, 0x1000, 1),
			 0x5000 | EPT_R | EPT_W | PTE_MT(EPT_MT_WB) | PTE_IPAT);
	assert_int_equal(raw_entry(&e, 0x1000, 1), 0x5073);

	/* a neighbour, uncached and execute-read, shares the PT */
	assert_int_equal(ept_map(&e, 0x2000, 0x7000, PAGE, EPT_R | EPT_X, EPT_MT_UC), 0);
	assert_int_equal(e.tables, 4);
	expect_leaf(&e, 0x2800, 0x7000, EPT_R | EPT_X, EPT_MT_UC, 1);
	assert_int_equal(raw_entry(&e, 0x2000, 1), 0x7045);
	expect_leaf(&e, 0x1000, 0x5000, EPT_R | EPT_W, EPT_MT_WB, 1);

	/* mapping again replaces */
	assert_int_equal(ept_map(&e, 0x1000, 0x9000, PAGE, EPT_RWX, EPT_MT_UC), 0);
	expect_leaf(&e, 0x1000, 0x9000, EPT_RWX, EPT_MT_UC, 1);
	assert_int_equal(e.tables, 4);
	done(&e);
}

static void test_map_2m(void **state)
{
	struct ept e;

	(void)state;
	init(&e, 3);
	assert_int_equal(ept_map(&e, MiB(2), GiB(1), MiB(2), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e.tables, 3); /* root, PDPT, PD */
	check_tables(&e);
	expect_leaf(&e, MiB(2), GiB(1), EPT_RWX, EPT_MT_WB, 2);
	expect_leaf(&e, 0x3ff123, GiB(1) + 0x1ff000, EPT_RWX, EPT_MT_WB, 2);
	expect_leaf(&e, 0x2ab000, GiB(1) + 0xab000, EPT_RWX, EPT_MT_WB, 2);
	expect_none(&e, MiB(2) - PAGE);
	expect_none(&e, MiB(4));
	assert_int_equal(raw_entry(&e, MiB(2), 2),
			 GiB(1) | EPT_RWX | PTE_MT(EPT_MT_WB) | PTE_IPAT | PTE_LEAF);
	assert_int_equal(raw_entry(&e, MiB(2), 2), 0x400000f7);

	/* two 2M pages in one call */
	assert_int_equal(ept_map(&e, MiB(8), MiB(64), MiB(4), EPT_R, EPT_MT_UC), 0);
	assert_int_equal(e.tables, 3);
	expect_leaf(&e, MiB(8), MiB(64), EPT_R, EPT_MT_UC, 2);
	expect_leaf(&e, MiB(12) - 1, MiB(68) - PAGE, EPT_R, EPT_MT_UC, 2);
	assert_int_equal(raw_entry(&e, MiB(10), 2), MiB(66) | 0xc1);
	done(&e);
}

static void test_map_1g(void **state)
{
	struct ept e;

	(void)state;
	init(&e, 3);
	assert_int_equal(ept_map(&e, GiB(1), GiB(2), GiB(1), EPT_R, EPT_MT_UC), 0);
	assert_int_equal(e.tables, 2); /* root, PDPT */
	check_tables(&e);
	expect_leaf(&e, GiB(1), GiB(2), EPT_R, EPT_MT_UC, 3);
	expect_leaf(&e, GiB(1) + 0x12345678, GiB(2) + 0x12345000, EPT_R, EPT_MT_UC, 3);
	expect_leaf(&e, GiB(2) - 1, GiB(3) - PAGE, EPT_R, EPT_MT_UC, 3);
	expect_none(&e, GiB(1) - PAGE);
	expect_none(&e, GiB(2));
	assert_int_equal(raw_entry(&e, GiB(1), 3), GiB(2) | EPT_R | PTE_IPAT | PTE_LEAF);
	assert_int_equal(raw_entry(&e, GiB(1), 3), 0x800000c1);

	/* the last gigabyte below the 48-bit limit, in the last PML4 slot */
	assert_int_equal(ept_map(&e, EPT_GPA_LIMIT - GiB(1), 0, GiB(1), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e.tables, 3);
	expect_leaf(&e, EPT_GPA_LIMIT - PAGE, GiB(1) - PAGE, EPT_RWX, EPT_MT_WB, 3);
	expect_leaf(&e, EPT_GPA_LIMIT - GiB(1), 0, EPT_RWX, EPT_MT_WB, 3);
	expect_none(&e, EPT_GPA_LIMIT - GiB(1) - PAGE);
	done(&e);
}

static void test_max_level(void **state)
{
	struct ept e;

	(void)state;
	/* 4K pages only */
	init(&e, 1);
	assert_int_equal(ept_map(&e, MiB(2), MiB(6), MiB(2), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e.tables, 4); /* root, PDPT, PD, PT */
	check_tables(&e);
	for (uint64_t off = 0; off < MiB(2); off += PAGE)
		expect_leaf(&e, MiB(2) + off, MiB(6) + off, EPT_RWX, EPT_MT_WB, 1);
	expect_none(&e, MiB(4));
	done(&e);

	/* no 1G pages: 512 2M pages in one PD */
	init(&e, 2);
	assert_int_equal(ept_map(&e, GiB(1), GiB(4), GiB(1), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e.tables, 3);
	check_tables(&e);
	for (uint64_t off = 0; off < GiB(1); off += MiB(2))
		expect_leaf(&e, GiB(1) + off + 0x3000, GiB(4) + off + 0x3000, EPT_RWX, EPT_MT_WB,
			    2);
	done(&e);
}

static void test_map_mixed_sizes(void **state)
{
	struct ept e;

	(void)state;
	init(&e, 3);
	/* 4K, then 2M, then 4K */
	assert_int_equal(ept_map(&e, 0x1ff000, 0x41ff000, MiB(2) + 2 * PAGE, EPT_RWX, EPT_MT_WB),
			 0);
	assert_int_equal(e.tables, 5); /* root, PDPT, PD, PT for [0, 2M), PT for [4M, 6M) */
	expect_none(&e, 0x1fe000);
	expect_leaf(&e, 0x1ff000, 0x41ff000, EPT_RWX, EPT_MT_WB, 1);
	expect_leaf(&e, 0x200000, 0x4200000, EPT_RWX, EPT_MT_WB, 2);
	expect_leaf(&e, 0x3ff000, 0x43ff000, EPT_RWX, EPT_MT_WB, 2);
	expect_leaf(&e, 0x400000, 0x4400000, EPT_RWX, EPT_MT_WB, 1);
	expect_none(&e, 0x401000);

	/* a 2M-aligned GPA with an hpa that is not: 4K pages */
	assert_int_equal(ept_map(&e, GiB(1), GiB(2) + PAGE, MiB(2), EPT_R, EPT_MT_WB), 0);
	assert_int_equal(e.tables, 7);
	for (uint64_t off = 0; off < MiB(2); off += PAGE)
		expect_leaf(&e, GiB(1) + off, GiB(2) + PAGE + off, EPT_R, EPT_MT_WB, 1);

	/* 1G-aligned GPA, hpa only 2M-aligned: 2M pages */
	assert_int_equal(ept_map(&e, GiB(2), MiB(2), GiB(1), EPT_R, EPT_MT_WB), 0);
	assert_int_equal(e.tables, 8);
	expect_leaf(&e, GiB(2), MiB(2), EPT_R, EPT_MT_WB, 2);
	expect_leaf(&e, GiB(3) - PAGE, GiB(1) + MiB(2) - PAGE, EPT_R, EPT_MT_WB, 2);

	/* 1G + 2M + 4K from a 1G boundary: one page of each size */
	assert_int_equal(ept_map(&e, GiB(4), GiB(8), GiB(1) + MiB(2) + PAGE, EPT_R, EPT_MT_WB), 0);
	assert_int_equal(e.tables, 10); /* PD and PT for [5G, 5G+2M] */
	expect_leaf(&e, GiB(4), GiB(8), EPT_R, EPT_MT_WB, 3);
	expect_leaf(&e, GiB(5), GiB(9), EPT_R, EPT_MT_WB, 2);
	expect_leaf(&e, GiB(5) + MiB(2), GiB(9) + MiB(2), EPT_R, EPT_MT_WB, 1);
	expect_none(&e, GiB(5) + MiB(2) + PAGE);
	check_tables(&e);
	done(&e);
}

static void test_invalid_args(void **state)
{
	static const struct {
		uint64_t gpa, hpa, size;
		unsigned prot, mt;
	} bad_maps[] = {
		{0x1001, 0x5000, PAGE, EPT_RWX, EPT_MT_WB},
		{0x1800, 0x5000, PAGE, EPT_RWX, EPT_MT_WB},
		{0x1000, 0x5001, PAGE, EPT_RWX, EPT_MT_WB},
		{0x1000, 0x5000, 0x1001, EPT_RWX, EPT_MT_WB},
		{0x1000, 0x5000, 0x800, EPT_RWX, EPT_MT_WB},
		{0x1000, 0x5000, 0, EPT_RWX, EPT_MT_WB},
		{EPT_GPA_LIMIT, 0x5000, PAGE, EPT_RWX, EPT_MT_WB},
		{EPT_GPA_LIMIT - PAGE, 0x5000, 2 * PAGE, EPT_RWX, EPT_MT_WB},
		{0, 0, EPT_GPA_LIMIT + PAGE, EPT_RWX, EPT_MT_WB},
		{0x1000, 0x5000, ~0xfffULL, EPT_RWX, EPT_MT_WB}, /* gpa + size wraps */
		{~0xfffULL, 0x5000, PAGE, EPT_RWX, EPT_MT_WB},
		{0x1000, EPT_GPA_LIMIT, PAGE, EPT_RWX, EPT_MT_WB},
		{0x1000, 0x5000, PAGE, EPT_W, EPT_MT_WB},
		{0x1000, 0x5000, PAGE, EPT_X, EPT_MT_WB},
		{0x1000, 0x5000, PAGE, EPT_W | EPT_X, EPT_MT_WB},
		{0x1000, 0x5000, PAGE, 0, EPT_MT_WB},
		{0x1000, 0x5000, PAGE, EPT_R | 8, EPT_MT_WB},
		{0x1000, 0x5000, PAGE, EPT_RWX | 0x80, EPT_MT_WB},
		{0x1000, 0x5000, PAGE, EPT_RWX, 1},
		{0x1000, 0x5000, PAGE, EPT_RWX, 2},
		{0x1000, 0x5000, PAGE, EPT_RWX, 4},
		{0x1000, 0x5000, PAGE, EPT_RWX, 5},
		{0x1000, 0x5000, PAGE, EPT_RWX, 7},
		{0x1000, 0x5000, PAGE, EPT_RWX, 14},
	};
	static const struct {
		uint64_t gpa, size;
	} bad_ranges[] = {
		{0x1001, PAGE},
		{0x1000, 0x1001},
		{0x1000, 0},
		{EPT_GPA_LIMIT, PAGE},
		{EPT_GPA_LIMIT - PAGE, 2 * PAGE},
		{0x1000, ~0xfffULL},
		{~0xfffULL, PAGE},
	};
	static const unsigned bad_prots[] = {EPT_W, EPT_X, EPT_W | EPT_X, 8, EPT_R | 8, 0x100};
	struct ept e;

	(void)state;
	init(&e, 3);
	for (unsigned i = 0; i < sizeof(bad_maps) / sizeof(bad_maps[0]); i++) {
		int rc = ept_map(&e, bad_maps[i].gpa, bad_maps[i].hpa, bad_maps[i].size,
				 bad_maps[i].prot, bad_maps[i].mt);
		if (rc != -EINVAL)
			fail_msg("bad map %u: rc %d", i, rc);
	}
	for (unsigned i = 0; i < sizeof(bad_ranges) / sizeof(bad_ranges[0]); i++) {
		assert_int_equal(ept_unmap(&e, bad_ranges[i].gpa, bad_ranges[i].size), -EINVAL);
		assert_int_equal(ept_protect(&e, bad_ranges[i].gpa, bad_ranges[i].size, EPT_R),
				 -EINVAL);
	}
	for (unsigned i = 0; i < sizeof(bad_prots) / sizeof(bad_prots[0]); i++)
		assert_int_equal(ept_protect(&e, 0x1000, PAGE, bad_prots[i]), -EINVAL);
	/* nothing was allocated, nothing mapped */
	assert_int_equal(e.tables, 1);
	assert_int_equal(arena.allocs, 1);
	expect_none(&e, 0x1000);

	/* the edges that are allowed */
	assert_int_equal(
		ept_map(&e, EPT_GPA_LIMIT - PAGE, EPT_GPA_LIMIT - PAGE, PAGE, EPT_R, EPT_MT_WB), 0);
	expect_leaf(&e, EPT_GPA_LIMIT - 1, EPT_GPA_LIMIT - PAGE, EPT_R, EPT_MT_WB, 1);
	expect_none(&e, EPT_GPA_LIMIT);
	expect_none(&e, ~0ULL);
	assert_int_equal(ept_protect(&e, EPT_GPA_LIMIT - PAGE, PAGE, EPT_RWX), 0);
	expect_leaf(&e, EPT_GPA_LIMIT - PAGE, EPT_GPA_LIMIT - PAGE, EPT_R, EPT_MT_WB, 1);
	assert_int_equal(ept_unmap(&e, EPT_GPA_LIMIT - PAGE, PAGE), 0);
	expect_none(&e, EPT_GPA_LIMIT - PAGE);
	/* the failed protect above must not have touched a mapping either */
	assert_int_equal(ept_map(&e, 0x1000, 0x5000, PAGE, EPT_R, EPT_MT_WB), 0);
	assert_int_equal(ept_protect(&e, 0x1000, PAGE, EPT_W), -EINVAL);
	expect_leaf(&e, 0x1000, 0x5000, EPT_R, EPT_MT_WB, 1);
	done(&e);
}

static void test_translate_unmapped(void **state)
{
	static const uint64_t gpas[] = {
		0,
		PAGE,
		MiB(2),
		GiB(1),
		GiB(512),
		1ULL << 47,
		EPT_GPA_LIMIT - 1,
		EPT_GPA_LIMIT,
		1ULL << 52,
		~0ULL,
	};
	struct ept e;

	(void)state;
	init(&e, 3);
	for (unsigned i = 0; i < sizeof(gpas) / sizeof(gpas[0]); i++)
		expect_none(&e, gpas[i]);
	/* tables without leaves below: still nothing */
	assert_int_equal(ept_map(&e, MiB(2), 0, PAGE, EPT_R, EPT_MT_WB), 0);
	expect_none(&e, 0);
	expect_none(&e, MiB(2) + PAGE);
	expect_none(&e, MiB(4));
	expect_none(&e, GiB(1));
	/* a GPA beyond the limit is not truncated into the tables */
	expect_none(&e, EPT_GPA_LIMIT + MiB(2));
	expect_none(&e, (1ULL << 63) + MiB(2));
	done(&e);
}

static void test_unmap_splits_2m(void **state)
{
	struct ept e;

	(void)state;
	init(&e, 3);
	assert_int_equal(ept_map(&e, MiB(2), MiB(8), MiB(2), EPT_R | EPT_X, EPT_MT_UC), 0);
	assert_int_equal(e.tables, 3);
	assert_int_equal(ept_unmap(&e, 0x300000, PAGE), 0);
	assert_int_equal(e.tables, 4); /* the 2M page became a PT */
	check_tables(&e);
	for (uint64_t off = 0; off < MiB(2); off += PAGE) {
		if (off == 0x100000)
			expect_none(&e, MiB(2) + off);
		else
			expect_leaf(&e, MiB(2) + off, MiB(8) + off, EPT_R | EPT_X, EPT_MT_UC, 1);
	}
	expect_leaf(&e, 0x2ff000, 0x8ff000, EPT_R | EPT_X, EPT_MT_UC, 1);
	expect_leaf(&e, 0x301000, 0x901000, EPT_R | EPT_X, EPT_MT_UC, 1);
	/* the split entries are plain 4K entries with the same attributes */
	assert_int_equal(raw_entry(&e, 0x2ff000, 1), 0x8ff000 | EPT_R | EPT_X | PTE_IPAT);
	assert_int_equal(raw_entry(&e, 0x300000, 1), 0);
	assert_int_equal(raw_entry(&e, MiB(2), 2), 0x103000 | EPT_RWX);

	/* unmapping the hole again changes nothing */
	assert_int_equal(ept_unmap(&e, 0x300000, PAGE), 0);
	assert_int_equal(e.tables, 4);
	expect_leaf(&e, 0x2ff000, 0x8ff000, EPT_R | EPT_X, EPT_MT_UC, 1);

	/* a whole, aligned 2M page goes without a split */
	assert_int_equal(ept_map(&e, MiB(6), MiB(6), MiB(2), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_unmap(&e, MiB(6), MiB(2)), 0);
	assert_int_equal(e.tables, 4);
	expect_none(&e, MiB(6));
	expect_none(&e, MiB(8) - PAGE);
	assert_int_equal(raw_entry(&e, MiB(6), 2), 0);

	/* the first and last pages of a 2M page */
	assert_int_equal(ept_map(&e, MiB(10), MiB(20), MiB(2), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_unmap(&e, MiB(10), PAGE), 0);
	assert_int_equal(ept_unmap(&e, MiB(12) - PAGE, PAGE), 0);
	assert_int_equal(e.tables, 5);
	expect_none(&e, MiB(10));
	expect_leaf(&e, MiB(10) + PAGE, MiB(20) + PAGE, EPT_RWX, EPT_MT_WB, 1);
	expect_leaf(&e, MiB(12) - 2 * PAGE, MiB(22) - 2 * PAGE, EPT_RWX, EPT_MT_WB, 1);
	expect_none(&e, MiB(12) - PAGE);
	done(&e);
}

static void test_unmap_splits_1g(void **state)
{
	const uint64_t hole = GiB(1) + MiB(512) + 0x5000;
	struct ept e;

	(void)state;
	init(&e, 3);
	assert_int_equal(ept_map(&e, GiB(1), GiB(4), GiB(1), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_unmap(&e, hole, PAGE), 0);
	assert_int_equal(e.tables, 4); /* root, PDPT, PD of 2M pages, PT for the hole's 2M */
	check_tables(&e);
	expect_none(&e, hole);
	expect_leaf(&e, hole - PAGE, GiB(4) + MiB(512) + 0x4000, EPT_RWX, EPT_MT_WB, 1);
	expect_leaf(&e, hole + PAGE, GiB(4) + MiB(512) + 0x6000, EPT_RWX, EPT_MT_WB, 1);
	for (uint64_t off = 0; off < GiB(1); off += MiB(2)) {
		unsigned level = off == MiB(512) ? 1 : 2;

		expect_leaf(&e, GiB(1) + off + 0x3000, GiB(4) + off + 0x3000, EPT_RWX, EPT_MT_WB,
			    level);
	}
	assert_int_equal(raw_entry(&e, GiB(1) + MiB(2), 2),
			 (GiB(4) + MiB(2)) | EPT_RWX | PTE_MT(EPT_MT_WB) | PTE_IPAT | PTE_LEAF);

	/* [3M, 7M): half of one 2M page, a whole one, half of another */
	assert_int_equal(ept_unmap(&e, GiB(1) + MiB(3), MiB(4)), 0);
	assert_int_equal(e.tables, 6);
	expect_leaf(&e, GiB(1) + MiB(3) - PAGE, GiB(4) + MiB(3) - PAGE, EPT_RWX, EPT_MT_WB, 1);
	for (uint64_t off = MiB(3); off < MiB(7); off += PAGE)
		expect_none(&e, GiB(1) + off);
	expect_leaf(&e, GiB(1) + MiB(7), GiB(4) + MiB(7), EPT_RWX, EPT_MT_WB, 1);
	expect_leaf(&e, GiB(1) + MiB(8), GiB(4) + MiB(8), EPT_RWX, EPT_MT_WB, 2);
	expect_leaf(&e, GiB(1) + MiB(2), GiB(4) + MiB(2), EPT_RWX, EPT_MT_WB, 1);
	done(&e);
}

static void test_protect_subrange(void **state)
{
	struct ept e;

	(void)state;
	init(&e, 3);
	assert_int_equal(ept_map(&e, MiB(2), MiB(6), MiB(2), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_protect(&e, 0x210000, 3 * PAGE, EPT_R), 0);
	assert_int_equal(e.tables, 4);
	for (uint64_t off = 0; off < MiB(2); off += PAGE) {
		unsigned prot = off >= 0x10000 && off < 0x13000 ? EPT_R : EPT_RWX;

		expect_leaf(&e, MiB(2) + off, MiB(6) + off, prot, EPT_MT_WB, 1);
	}
	assert_int_equal(raw_entry(&e, 0x211000, 1), 0x611000 | EPT_R | 0x30 | PTE_IPAT);

	/* back, and to read-write on one page */
	assert_int_equal(ept_protect(&e, 0x211000, PAGE, EPT_R | EPT_W), 0);
	expect_leaf(&e, 0x210000, 0x610000, EPT_R, EPT_MT_WB, 1);
	expect_leaf(&e, 0x211000, 0x611000, EPT_R | EPT_W, EPT_MT_WB, 1);
	expect_leaf(&e, 0x212000, 0x612000, EPT_R, EPT_MT_WB, 1);

	/* a whole 2M page keeps its size and memory type */
	assert_int_equal(ept_map(&e, MiB(4), MiB(10), MiB(2), EPT_RWX, EPT_MT_UC), 0);
	assert_int_equal(ept_protect(&e, MiB(4), MiB(2), EPT_R | EPT_X), 0);
	assert_int_equal(e.tables, 4);
	expect_leaf(&e, MiB(4), MiB(10), EPT_R | EPT_X, EPT_MT_UC, 2);
	expect_leaf(&e, MiB(6) - PAGE, MiB(12) - PAGE, EPT_R | EPT_X, EPT_MT_UC, 2);

	/* a whole 1G page too */
	assert_int_equal(ept_map(&e, GiB(1), GiB(1), GiB(1), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_protect(&e, GiB(1), GiB(1), EPT_R), 0);
	expect_leaf(&e, GiB(1) + MiB(3), GiB(1) + MiB(3), EPT_R, EPT_MT_WB, 3);

	/* unmapped ranges stay unmapped and need no tables */
	assert_int_equal(ept_protect(&e, MiB(8), 2 * PAGE, EPT_RWX), 0);
	assert_int_equal(ept_protect(&e, GiB(5), GiB(2), EPT_RWX), 0);
	expect_none(&e, MiB(8));
	expect_none(&e, GiB(5));
	assert_int_equal(e.tables, 4);

	/* a range over mapped and unmapped pages */
	assert_int_equal(ept_protect(&e, MiB(2) - MiB(1), MiB(1) + 2 * PAGE, EPT_R | EPT_X), 0);
	expect_none(&e, MiB(2) - PAGE);
	expect_leaf(&e, MiB(2), MiB(6), EPT_R | EPT_X, EPT_MT_WB, 1);
	expect_leaf(&e, MiB(2) + PAGE, MiB(6) + PAGE, EPT_R | EPT_X, EPT_MT_WB, 1);
	expect_leaf(&e, MiB(2) + 2 * PAGE, MiB(6) + 2 * PAGE, EPT_RWX, EPT_MT_WB, 1);
	check_tables(&e);
	done(&e);
}

/* Dirty logging's write-protect undone, or a write fault on a logged page, must not make a
 * page writable that was mapped read-only (a read-only slot, or ROM). */
static void test_protect_never_widens(void **state)
{
	struct ept e;

	(void)state;
	init(&e, 3);
	assert_int_equal(ept_map(&e, 0x1000, 0x5000, 2 * PAGE, EPT_R | EPT_X, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, 0x3000, 0x7000, PAGE, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_protect(&e, 0x1000, 3 * PAGE, EPT_R | EPT_X), 0);
	assert_int_equal(ept_protect(&e, 0x1000, 3 * PAGE, EPT_RWX), 0);
	expect_leaf(&e, 0x1000, 0x5000, EPT_R | EPT_X, EPT_MT_WB, 1);
	expect_leaf(&e, 0x2000, 0x6000, EPT_R | EPT_X, EPT_MT_WB, 1);
	expect_leaf(&e, 0x3000, 0x7000, EPT_RWX, EPT_MT_WB, 1);
	assert_int_equal(ept_protect(&e, 0x2000, PAGE, EPT_R | EPT_W), 0);
	expect_leaf(&e, 0x2000, 0x6000, EPT_R, EPT_MT_WB, 1);
	/* a 2M leaf split by a protect keeps what it was mapped with in every 4K piece */
	assert_int_equal(ept_map(&e, MiB(2), MiB(8), MiB(2), EPT_R, EPT_MT_WB), 0);
	assert_int_equal(ept_protect(&e, MiB(2) + PAGE, PAGE, EPT_RWX), 0);
	expect_leaf(&e, MiB(2) + PAGE, MiB(8) + PAGE, EPT_R, EPT_MT_WB, 1);
	/* a new map sets the limit anew */
	assert_int_equal(ept_map(&e, 0x1000, 0x5000, PAGE, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_protect(&e, 0x1000, PAGE, EPT_R), 0);
	assert_int_equal(ept_protect(&e, 0x1000, PAGE, EPT_RWX), 0);
	expect_leaf(&e, 0x1000, 0x5000, EPT_RWX, EPT_MT_WB, 1);
	done(&e);
}

static void test_protect_zero_unmaps(void **state)
{
	struct ept e;

	(void)state;
	init(&e, 3);
	assert_int_equal(ept_map(&e, 0x10000, 0x80000, 4 * PAGE, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_protect(&e, 0x11000, 2 * PAGE, 0), 0);
	expect_leaf(&e, 0x10000, 0x80000, EPT_RWX, EPT_MT_WB, 1);
	expect_none(&e, 0x11000);
	expect_none(&e, 0x12000);
	expect_leaf(&e, 0x13000, 0x83000, EPT_RWX, EPT_MT_WB, 1);
	assert_int_equal(raw_entry(&e, 0x11000, 1), 0);

	/* a whole 2M page */
	assert_int_equal(ept_map(&e, MiB(2), MiB(2), MiB(2), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_protect(&e, MiB(2), MiB(2), 0), 0);
	expect_none(&e, MiB(2));
	expect_none(&e, MiB(4) - PAGE);
	assert_int_equal(raw_entry(&e, MiB(2), 2), 0);
	assert_int_equal(e.tables, 4);

	/* part of one: split, the rest stays */
	assert_int_equal(ept_map(&e, MiB(2), MiB(2), MiB(2), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_protect(&e, MiB(3), MiB(1), 0), 0);
	expect_leaf(&e, MiB(3) - PAGE, MiB(3) - PAGE, EPT_RWX, EPT_MT_WB, 1);
	expect_none(&e, MiB(3));
	expect_none(&e, MiB(4) - PAGE);
	assert_int_equal(e.tables, 5);
	done(&e);
}

static void test_remap_frees_finer_tables(void **state)
{
	struct ept e;

	(void)state;
	init(&e, 3);
	assert_int_equal(ept_map(&e, MiB(2), 0x1000, PAGE, EPT_R, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, MiB(4) - PAGE, 0x2000, PAGE, EPT_R, EPT_MT_WB), 0);
	assert_int_equal(e.tables, 4);
	assert_int_equal(arena.frees, 0);

	/* a 2M page over the PT */
	assert_int_equal(ept_map(&e, MiB(2), MiB(8), MiB(2), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e.tables, 3);
	assert_int_equal(arena.frees, 1);
	check_tables(&e);
	expect_leaf(&e, MiB(2), MiB(8), EPT_RWX, EPT_MT_WB, 2);
	expect_leaf(&e, MiB(4) - PAGE, MiB(10) - PAGE, EPT_RWX, EPT_MT_WB, 2);

	/* a 1G page over a PD holding two PTs and a 2M page */
	assert_int_equal(ept_map(&e, GiB(1) + PAGE, 0x1000, PAGE, EPT_R, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, GiB(1) + MiB(700), 0x2000, PAGE, EPT_R, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, GiB(1) + MiB(900), 0, MiB(2), EPT_R, EPT_MT_WB), 0);
	assert_int_equal(e.tables, 6);
	assert_int_equal(ept_map(&e, GiB(1), GiB(3), GiB(1), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e.tables, 3);
	assert_int_equal(arena.frees, 4);
	check_tables(&e);
	expect_leaf(&e, GiB(1) + PAGE, GiB(3) + PAGE, EPT_RWX, EPT_MT_WB, 3);
	expect_leaf(&e, GiB(1) + MiB(700), GiB(3) + MiB(700), EPT_RWX, EPT_MT_WB, 3);
	expect_leaf(&e, GiB(1) + MiB(900), GiB(3) + MiB(900), EPT_RWX, EPT_MT_WB, 3);

	/* split by a 4K mapping inside, then merged again */
	assert_int_equal(ept_map(&e, GiB(1) + MiB(5), 0x1000, PAGE, EPT_R, EPT_MT_UC), 0);
	assert_int_equal(e.tables, 5);
	expect_leaf(&e, GiB(1) + MiB(5), 0x1000, EPT_R, EPT_MT_UC, 1);
	expect_leaf(&e, GiB(1) + MiB(5) + PAGE, GiB(3) + MiB(5) + PAGE, EPT_RWX, EPT_MT_WB, 1);
	expect_leaf(&e, GiB(1) + MiB(7), GiB(3) + MiB(7), EPT_RWX, EPT_MT_WB, 2);
	expect_leaf(&e, GiB(1) + MiB(3), GiB(3) + MiB(3), EPT_RWX, EPT_MT_WB, 2);
	assert_int_equal(ept_map(&e, GiB(1), GiB(3), GiB(1), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e.tables, 3);
	expect_leaf(&e, GiB(1) + MiB(5), GiB(3) + MiB(5), EPT_RWX, EPT_MT_WB, 3);

	/* tables emptied by unmap are reclaimed the same way */
	assert_int_equal(ept_map(&e, MiB(20), MiB(20), 3 * PAGE, EPT_R, EPT_MT_WB), 0);
	assert_int_equal(ept_unmap(&e, MiB(20), 3 * PAGE), 0);
	assert_int_equal(e.tables, 4);
	assert_int_equal(ept_map(&e, MiB(20), MiB(20), MiB(2), EPT_R, EPT_MT_WB), 0);
	assert_int_equal(e.tables, 3);
	check_tables(&e);
	done(&e);
}

static void test_unmap_sparse_large(void **state)
{
	struct ept e;

	(void)state;
	init(&e, 3);
	assert_int_equal(ept_map(&e, PAGE, PAGE, PAGE, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, GiB(300), MiB(2), MiB(2), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, GiB(1024), GiB(1), GiB(1), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, EPT_GPA_LIMIT - PAGE, PAGE, PAGE, EPT_RWX, EPT_MT_WB), 0);
	/* root; PDPT, PD, PT; PD; PDPT; PDPT, PD, PT */
	assert_int_equal(e.tables, 9);

	arena.virts = 0;
	assert_int_equal(ept_unmap(&e, 0, EPT_GPA_LIMIT), 0);
	/* skips absent entries at the highest level: ~12000 table accesses, not 2^36 steps */
	if (arena.virts > 50000)
		fail_msg("unmap of 256 TiB took %lu table accesses", arena.virts);
	expect_none(&e, PAGE);
	expect_none(&e, GiB(300));
	expect_none(&e, GiB(1024));
	expect_none(&e, GiB(1025) - PAGE);
	expect_none(&e, EPT_GPA_LIMIT - PAGE);
	assert_int_equal(e.tables, 9); /* emptied tables stay until reused or destroyed */
	check_tables(&e);

	/* an empty tree */
	arena.virts = 0;
	assert_int_equal(ept_unmap(&e, GiB(1), EPT_GPA_LIMIT - GiB(1)), 0);
	assert_int_equal(ept_protect(&e, 0, EPT_GPA_LIMIT, EPT_RWX), 0);
	if (arena.virts > 50000)
		fail_msg("unmap and protect of an empty tree took %lu accesses", arena.virts);
	assert_int_equal(e.tables, 9);
	done(&e);
}

static void test_enomem(void **state)
{
	struct ept e;

	(void)state;
	/* no table for a 4K page: PDPT and PD come, the PT does not */
	init(&e, 3);
	arena.fail_after = 2;
	assert_int_equal(ept_map(&e, PAGE, PAGE, PAGE, EPT_RWX, EPT_MT_WB), -ENOMEM);
	assert_int_equal(e.tables, 3);
	check_tables(&e);
	expect_none(&e, PAGE);
	arena.fail_after = -1;
	assert_int_equal(ept_map(&e, PAGE, PAGE, PAGE, EPT_RWX, EPT_MT_WB), 0);
	expect_leaf(&e, PAGE, PAGE, EPT_RWX, EPT_MT_WB, 1);
	done(&e);

	/* splitting a 2M page fails: nothing changes */
	init(&e, 3);
	assert_int_equal(ept_map(&e, MiB(2), MiB(2), MiB(2), EPT_R | EPT_W, EPT_MT_UC), 0);
	arena.fail_after = 0;
	assert_int_equal(ept_unmap(&e, MiB(3), PAGE), -ENOMEM);
	assert_int_equal(ept_protect(&e, MiB(3), PAGE, EPT_R), -ENOMEM);
	assert_int_equal(ept_protect(&e, MiB(3), PAGE, 0), -ENOMEM);
	assert_int_equal(ept_map(&e, MiB(3), 0, PAGE, EPT_R, EPT_MT_WB), -ENOMEM);
	assert_int_equal(e.tables, 3);
	for (uint64_t off = 0; off < MiB(2); off += PAGE)
		expect_leaf(&e, MiB(2) + off, MiB(2) + off, EPT_R | EPT_W, EPT_MT_UC, 2);
	/* operations that need no table still work */
	assert_int_equal(ept_protect(&e, MiB(2), MiB(2), EPT_R), 0);
	expect_leaf(&e, MiB(3), MiB(3), EPT_R, EPT_MT_UC, 2);
	arena.fail_after = -1;
	done(&e);

	/* a 1G page split into 2M pages, but not further: same translations */
	init(&e, 3);
	assert_int_equal(ept_map(&e, GiB(1), GiB(7), GiB(1), EPT_RWX, EPT_MT_WB), 0);
	arena.fail_after = 1;
	assert_int_equal(ept_unmap(&e, GiB(1) + MiB(3), PAGE), -ENOMEM);
	assert_int_equal(e.tables, 3);
	check_tables(&e);
	for (uint64_t off = 0; off < GiB(1); off += MiB(1))
		expect_leaf(&e, GiB(1) + off, GiB(7) + off, EPT_RWX, EPT_MT_WB, 2);
	arena.fail_after = -1;
	done(&e);

	/* a partial mapping remains; the caller unmaps it */
	init(&e, 3);
	arena.fail_after = 3; /* PDPT, PD, PT for [0, 2M); not the PT for [4M, 6M) */
	assert_int_equal(ept_map(&e, 0x1ff000, 0x1ff000, MiB(2) + 2 * PAGE, EPT_RWX, EPT_MT_WB),
			 -ENOMEM);
	assert_int_equal(e.tables, 4);
	expect_leaf(&e, 0x1ff000, 0x1ff000, EPT_RWX, EPT_MT_WB, 1);
	expect_leaf(&e, 0x200000, 0x200000, EPT_RWX, EPT_MT_WB, 2);
	expect_none(&e, 0x400000);
	assert_int_equal(ept_unmap(&e, 0x1ff000, MiB(2) + 2 * PAGE), 0);
	expect_none(&e, 0x1ff000);
	expect_none(&e, 0x200000);
	arena.fail_after = -1;
	done(&e);

	/* a 1G page needs only the PDPT */
	init(&e, 3);
	arena.fail_after = 0;
	assert_int_equal(ept_map(&e, GiB(1), 0, GiB(1), EPT_RWX, EPT_MT_WB), -ENOMEM);
	assert_int_equal(e.tables, 1);
	arena.fail_after = 1;
	assert_int_equal(ept_map(&e, GiB(1), 0, GiB(1), EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e.tables, 2);
	done(&e);
}

/* Many tables in many PML4 slots, then destroy: every frame is given back exactly once. */
static void test_destroy_frees_everything(void **state)
{
	struct ept e;

	(void)state;
	init(&e, 3);
	for (uint64_t i = 0; i < 64; i++) {
		uint64_t gpa = i * (GiB(512) * 7 + MiB(2) * 13 + GiB(1) * 5) + i * PAGE;

		assert_true(gpa + MiB(4) < EPT_GPA_LIMIT);
		assert_int_equal(ept_map(&e, gpa, i * PAGE, PAGE, EPT_R, EPT_MT_WB), 0);
		assert_int_equal(ept_map(&e, gpa + MiB(2), MiB(2), MiB(2), EPT_R, EPT_MT_WB), 0);
	}
	assert_int_equal(ept_map(&e, GiB(8), 0, GiB(2), EPT_R, EPT_MT_WB), 0);
	assert_true(e.tables > 64 * 2);
	check_tables(&e);
	done(&e);
}

/*
 * Differential test against a shadow array of 4K pages. The window straddles the 1G boundary
 * and starts empty below it; [1G, 2G) starts as one mapping, split as the window is modified.
 */
#define WIN_BASE  (GiB(1) - MiB(32))
#define WIN_SIZE  MiB(64)
#define WIN_PAGES (WIN_SIZE / PAGE)
#define INIT_HPA  GiB(8)

struct shadow_page {
	uint64_t hpa;
	unsigned prot; /* 0: not mapped */
	unsigned mt;
	unsigned mapped; /* prot at the map: a protect never gives more */
};

static struct shadow_page shadow[WIN_PAGES];
static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (rng * 0x2545f4914f6cdd1dULL >> 11) % n;
}

static void verify(const struct ept *e, unsigned max_level, unsigned op)
{
	struct ept_leaf l;

	for (uint64_t i = 0; i < WIN_PAGES; i++) {
		uint64_t gpa = WIN_BASE + i * PAGE + rnd(PAGE);
		const struct shadow_page *s = &shadow[i];
		int rc = ept_translate(e, gpa, &l);

		if (!s->prot) {
			if (rc != -ENOENT)
				fail_msg("after op %u: gpa %#llx: rc %d, expected -ENOENT", op,
					 (unsigned long long)gpa, rc);
			continue;
		}
		if (rc || l.hpa != s->hpa || l.prot != s->prot || l.memtype != s->mt ||
		    l.level < 1 || l.level > max_level)
			fail_msg("after op %u: gpa %#llx: rc %d hpa %#llx prot %u mt %u level %u, "
				 "expected hpa %#llx prot %u mt %u",
				 op, (unsigned long long)gpa, rc, (unsigned long long)l.hpa, l.prot,
				 l.memtype, l.level, (unsigned long long)s->hpa, s->prot, s->mt);
	}
	/* beyond the window: [1G + 32M, 2G) as first mapped, in pages of 2M or more */
	for (unsigned i = 0; i <= 64; i++) {
		uint64_t gpa = WIN_BASE + WIN_SIZE + rnd(GiB(2) - WIN_BASE - WIN_SIZE);

		if (i == 64)
			gpa = GiB(2) - 1;
		assert_int_equal(ept_translate(e, gpa, &l), 0);
		assert_int_equal(l.hpa, INIT_HPA + ((gpa - GiB(1)) & ~(PAGE - 1)));
		assert_int_equal(l.prot, EPT_RWX);
		assert_int_equal(l.memtype, EPT_MT_WB);
		assert_in_range(l.level, 2, max_level);
	}
	expect_none(e, WIN_BASE - PAGE);
	expect_none(e, GiB(2));
}

static void apply_random_ops(struct ept *e, unsigned max_level, uint64_t seed, unsigned nops)
{
	static const uint64_t aligns[] = {KiB(4), KiB(64), MiB(2), MiB(4)};
	static const unsigned map_prots[] = {EPT_R, EPT_R | EPT_W, EPT_R | EPT_X, EPT_RWX};
	static const unsigned protect_prots[] = {0, EPT_R, EPT_R | EPT_W, EPT_R | EPT_X, EPT_RWX};
	unsigned counts[3] = {0};

	rng = seed;
	init(e, max_level);
	memset(shadow, 0, sizeof(shadow));
	assert_int_equal(ept_map(e, GiB(1), INIT_HPA, GiB(1), EPT_RWX, EPT_MT_WB), 0);
	for (uint64_t i = (GiB(1) - WIN_BASE) / PAGE; i < WIN_PAGES; i++)
		shadow[i] = (struct shadow_page){INIT_HPA + i * PAGE - (GiB(1) - WIN_BASE), EPT_RWX,
						 EPT_MT_WB, EPT_RWX};
	verify(e, max_level, 0);

	for (unsigned op = 1; op <= nops; op++) {
		uint64_t align = aligns[rnd(4)];
		uint64_t gpa = WIN_BASE + ALIGN_DOWN(rnd(WIN_SIZE), align);
		uint64_t size, first = (gpa - WIN_BASE) / PAGE;
		unsigned kind = (unsigned)rnd(10), prot;
		int rc;

		switch (rnd(3)) {
		case 0:
			size = (rnd(16) + 1) * PAGE;
			break;
		case 1:
			size = (rnd(4) + 1) * MiB(2);
			break;
		default:
			size = (rnd(WIN_SIZE / 4 / PAGE) + 1) * PAGE;
			break;
		}
		size = MIN(size, WIN_BASE + WIN_SIZE - gpa);
		if (kind < 5) {
			uint64_t hpa = ALIGN_DOWN(rnd(GiB(64)), PAGE);
			unsigned mt = rnd(2) ? EPT_MT_WB : EPT_MT_UC;

			if (rnd(3)) /* same offset in a 2M page: large pages where aligned */
				hpa = ALIGN_DOWN(hpa, MiB(2)) + (gpa & (MiB(2) - 1));
			prot = map_prots[rnd(4)];
			rc = ept_map(e, gpa, hpa, size, prot, mt);
			for (uint64_t i = 0; i < size / PAGE; i++)
				shadow[first + i] =
					(struct shadow_page){hpa + i * PAGE, prot, mt, prot};
		} else if (kind < 7) {
			rc = ept_unmap(e, gpa, size);
			for (uint64_t i = 0; i < size / PAGE; i++)
				shadow[first + i].prot = 0;
		} else {
			prot = protect_prots[rnd(5)];
			rc = ept_protect(e, gpa, size, prot);
			for (uint64_t i = 0; i < size / PAGE; i++)
				if (shadow[first + i].prot)
					shadow[first + i].prot =
						prot ? prot & shadow[first + i].mapped : 0;
		}
		if (rc)
			fail_msg("op %u (kind %u) gpa %#llx size %#llx: rc %d", op, kind,
				 (unsigned long long)gpa, (unsigned long long)size, rc);
		counts[kind < 5 ? 0 : kind < 7 ? 1 : 2]++;
		check_tables(e);
		if (op % 250 == 0)
			verify(e, max_level, op);
	}
	verify(e, max_level, nops);
	assert_true(counts[0] > nops / 3 && counts[1] > nops / 10 && counts[2] > nops / 10);

	/* everything in the window mapped in 2M pages again: every PT is freed */
	assert_int_equal(ept_map(e, WIN_BASE, GiB(16), WIN_SIZE, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e->tables, 4); /* root, PDPT, the PDs of [0, 1G) and [1G, 2G) */
	for (uint64_t off = 0; off < WIN_SIZE; off += PAGE)
		expect_leaf(e, WIN_BASE + off, GiB(16) + off, EPT_RWX, EPT_MT_WB, 2);
	done(e);
}

static void test_random_level3(void **state)
{
	struct ept e;

	(void)state;
	apply_random_ops(&e, 3, 0x9e3779b97f4a7c15ULL, 2000);
	apply_random_ops(&e, 3, 0x0123456789abcdefULL, 2000);
}

static void test_random_level2(void **state)
{
	struct ept e;

	(void)state;
	apply_random_ops(&e, 2, 0xd1b54a32d192ed03ULL, 2000);
	apply_random_ops(&e, 2, 0x2545f4914f6cdd1dULL, 2000);
}

/* top_adds counts the PML4 entries made (a guest's derived roots copy them when it grows);
 * nothing but ept_destroy takes one away, so unmaps and remaps leave the count alone. */
static void test_top_adds(void **state)
{
	struct ept e;

	(void)state;
	init(&e, 3);
	assert_int_equal(e.top_adds, 0);
	assert_int_equal(ept_map(&e, 0x1000, 0x5000, PAGE, EPT_R, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, GiB(1), 0x5000, PAGE, EPT_R, EPT_MT_WB), 0);
	assert_int_equal(e.top_adds, 1); /* both under PML4 entry 0 */
	assert_int_equal(ept_map(&e, 1ULL << 47, 0x5000, PAGE, EPT_R, EPT_MT_WB), 0);
	assert_int_equal(e.top_adds, 2); /* entry 256: the upper half */
	assert_int_equal(ept_unmap(&e, 0, GiB(2)), 0);
	assert_int_equal(ept_map(&e, 0x2000, 0x6000, PAGE, EPT_R, EPT_MT_WB), 0);
	assert_int_equal(raw_entry(&e, 1ULL << 47, 4) != 0 && raw_entry(&e, 0, 4) != 0, 1);
	assert_int_equal(e.top_adds, 2);
	check_tables(&e);
	done(&e);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_init),
		TEST(test_init_nomem),
		TEST(test_pointer),
		TEST(test_map_4k),
		TEST(test_map_2m),
		TEST(test_map_1g),
		TEST(test_max_level),
		TEST(test_map_mixed_sizes),
		TEST(test_invalid_args),
		TEST(test_translate_unmapped),
		TEST(test_unmap_splits_2m),
		TEST(test_unmap_splits_1g),
		TEST(test_protect_subrange),
		TEST(test_protect_never_widens),
		TEST(test_protect_zero_unmaps),
		TEST(test_remap_frees_finer_tables),
		TEST(test_unmap_sparse_large),
		TEST(test_enomem),
		TEST(test_destroy_frees_everything),
		TEST(test_random_level3),
		TEST(test_random_level2),
		TEST(test_top_adds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
