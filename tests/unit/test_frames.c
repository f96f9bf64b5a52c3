/* The physical frame allocator (hv/platform/frames.c) over a fake 64 MiB machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "platform/frames.h"

#define MEM_SIZE MiB(64)
#define NFRAMES	 (MEM_SIZE / FRAME_SIZE)

/* Fake physical memory: only the bitmap is ever written through virt(). */
static uint8_t *fake_mem;

static void *virt(uint64_t pa)
{
	assert_true(pa < MEM_SIZE);
	return fake_mem + pa;
}

/*
 * The machine: low RAM with the usual hole below 1 MiB, a reserved hole in the middle and
 * memory above 64 MiB that is not RAM.
 */
static const struct mem_range machine_map[] = {
	{0x0, 0x9f000, MEM_AVAILABLE},	      {0x9f000, 0x61000, MEM_RESERVED},
	{0x100000, 0x2f00000, MEM_AVAILABLE}, {0x3000000, 0x100000, MEM_RESERVED},
	{0x3100000, 0xf00000, MEM_AVAILABLE}, {0xfec00000, 0x1000, MEM_RESERVED},
};

/* Image, boot info (not page aligned) and one module (unaligned end). */
static const struct phys_range machine_rsv[] = {
	{0x100000, 0x180000},
	{0x180000, 0x180100},
	{0x200000, 0x400800},
};

static struct boot_info bi;
static struct frame_pool pool;

static void set_map(const struct mem_range *m, unsigned n)
{
	memset(&bi, 0, sizeof(bi));
	if (n)
		memcpy(bi.mmap, m, n * sizeof(*m));
	bi.nmmap = n;
}

static int setup(void **state)
{
	(void)state;
	fake_mem = calloc(1, MEM_SIZE);
	if (!fake_mem)
		return -1;
	memset(fake_mem, 0xa5, MEM_SIZE); /* frames_init must clear its bitmap itself */
	set_map(machine_map, sizeof(machine_map) / sizeof(machine_map[0]));
	return frames_init(&pool, &bi, machine_rsv, 3, virt);
}

static int teardown(void **state)
{
	(void)state;
	free(fake_mem);
	fake_mem = NULL;
	return 0;
}

/* What the pool must hold after frames_init, frame by frame. */
static bool expect_free(uint64_t f)
{
	uint64_t pa = f * FRAME_SIZE;

	if (pa < MiB(1))
		return false;
	if (!((pa >= 0x100000 && pa < 0x3000000) || (pa >= 0x3100000 && pa < 0x4000000)))
		return false;
	for (unsigned i = 0; i < 3; i++)
		if (pa < machine_rsv[i].end && machine_rsv[i].base < pa + FRAME_SIZE)
			return false;
	return pa != pool.bitmap_pa; /* the bitmap takes one page */
}

static void test_init(void **state)
{
	uint64_t n = 0;

	(void)state;
	assert_int_equal(pool.nframes, NFRAMES);
	assert_ptr_equal(pool.bitmap, fake_mem + pool.bitmap_pa);
	/* first page above 1 MiB clear of image and boot info */
	assert_int_equal(pool.bitmap_pa, 0x181000);
	/* RAM above 1 MiB: 0x2f00 + 0xf00 frames; minus image 0x80, info 1, module 0x201, bitmap 1
	 */
	assert_int_equal(pool.ntotal, 0x2f00 + 0xf00 - 0x80 - 1 - 0x201 - 1);
	assert_int_equal(pool.nfree, pool.ntotal);
	for (uint64_t f = 0; f < NFRAMES; f++) {
		bool want = expect_free(f);
		if (frame_is_free(&pool, f * FRAME_SIZE) != want) {
			print_error("frame %#llx: free=%d, expected %d\n", (unsigned long long)f,
				    !want, want);
			fail();
		}
		n += want;
	}
	assert_int_equal(n, pool.ntotal);
	assert_false(frame_is_free(&pool, MEM_SIZE));
	assert_false(frame_is_free(&pool, UINT64_MAX));
	assert_false(frame_is_free(&pool, 0xfec00000));
}

static void test_exhaust(void **state)
{
	uint8_t *seen = calloc(NFRAMES, 1);
	uint64_t n = 0, pa;

	(void)state;
	assert_non_null(seen);
	while ((pa = frame_alloc(&pool)) != 0) {
		uint64_t f = pa / FRAME_SIZE;
		assert_int_equal(pa % FRAME_SIZE, 0);
		assert_true(pa >= FRAMES_LOW_LIMIT);
		assert_true(f < NFRAMES);
		assert_true(expect_free(f)); /* never reserved, the bitmap, a hole or low memory */
		assert_int_equal(seen[f], 0);
		assert_false(frame_is_free(&pool, pa));
		seen[f] = 1;
		n++;
		assert_int_equal(pool.nfree, pool.ntotal - n);
		assert_true(n <= pool.ntotal);
	}
	assert_int_equal(n, pool.ntotal);
	assert_int_equal(pool.nfree, 0);
	assert_int_equal(frame_alloc(&pool), 0);
	assert_int_equal(frames_alloc_contig(&pool, 1, 1), 0);

	/* free everything again, then the pool is whole */
	for (uint64_t f = 0; f < NFRAMES; f++)
		if (seen[f])
			assert_int_equal(frame_free(&pool, f * FRAME_SIZE), 0);
	assert_int_equal(pool.nfree, pool.ntotal);
	for (uint64_t f = 0; f < NFRAMES; f++)
		assert_int_equal(frame_is_free(&pool, f * FRAME_SIZE), expect_free(f));
	free(seen);
}

static void test_free_realloc(void **state)
{
	uint64_t a, b, c;

	(void)state;
	a = frame_alloc(&pool);
	b = frame_alloc(&pool);
	assert_int_not_equal(a, 0);
	assert_int_not_equal(b, 0);
	assert_int_not_equal(a, b);
	assert_int_equal(pool.nfree, pool.ntotal - 2);
	assert_int_equal(frame_free(&pool, a), 0);
	assert_true(frame_is_free(&pool, a));
	assert_int_equal(pool.nfree, pool.ntotal - 1);
	c = frame_alloc(&pool);
	assert_int_equal(c, a); /* the lowest free frame comes back first */
	assert_int_equal(pool.nfree, pool.ntotal - 2);
	assert_int_equal(frame_free(&pool, b), 0);
	assert_int_equal(frame_free(&pool, c), 0);
	assert_int_equal(pool.nfree, pool.ntotal);
}

static void test_bad_free(void **state)
{
	uint64_t a, nfree;

	(void)state;
	a = frame_alloc(&pool);
	assert_int_equal(a, 0x180000 + 0x2000); /* after image, info page and bitmap */
	nfree = pool.nfree;
	assert_int_equal(frame_free(&pool, a + 1), -1);
	assert_int_equal(frame_free(&pool, a + 0x800), -1);
	assert_int_equal(frame_free(&pool, 0), -1);
	assert_int_equal(frame_free(&pool, 0x9000), -1);
	assert_int_equal(frame_free(&pool, 0xff000), -1);
	assert_int_equal(frame_free(&pool, MEM_SIZE), -1);
	assert_int_equal(frame_free(&pool, 0xfec00000), -1);
	assert_int_equal(frame_free(&pool, UINT64_MAX & ~(FRAME_SIZE - 1)), -1);
	assert_int_equal(frames_free_contig(&pool, MEM_SIZE - FRAME_SIZE, 2), -1);
	assert_int_equal(frames_free_contig(&pool, a, UINT64_MAX), -1);
	assert_int_equal(frames_free_contig(&pool, 0xff000, 2), -1);
	assert_int_equal(pool.nfree, nfree);
	assert_false(frame_is_free(&pool, a));

	assert_int_equal(frame_free(&pool, a), 0);
	assert_int_equal(frame_free(&pool, a), -1); /* double free */
	assert_int_equal(pool.nfree, nfree + 1);
	/* a run with one free frame in it is refused as a whole */
	uint64_t r = frames_alloc_contig(&pool, 4, 1);
	assert_int_equal(r, a);
	assert_int_equal(frame_free(&pool, r + 2 * FRAME_SIZE), 0);
	nfree = pool.nfree;
	assert_int_equal(frames_free_contig(&pool, r, 4), -1);
	assert_int_equal(pool.nfree, nfree);
	assert_false(frame_is_free(&pool, r));
	assert_int_equal(frames_free_contig(&pool, r, 2), 0);
	assert_int_equal(frame_free(&pool, r + 3 * FRAME_SIZE), 0);
	assert_int_equal(pool.nfree, pool.ntotal);
}

static void test_contig(void **state)
{
	uint64_t r, nfree = pool.nfree;

	(void)state;
	/* 2 MiB aligned runs: 0x200000 and 0x400000 are taken by the module */
	r = frames_alloc_contig(&pool, 512, 512);
	assert_int_equal(r, 0x600000);
	assert_int_equal(pool.nfree, nfree - 512);
	for (uint64_t i = 0; i < 512; i++)
		assert_false(frame_is_free(&pool, r + i * FRAME_SIZE));
	assert_true(frame_is_free(&pool, r + 512 * FRAME_SIZE));
	assert_true(frame_is_free(&pool, r - FRAME_SIZE));

	uint64_t r2 = frames_alloc_contig(&pool, 512, 512);
	assert_int_equal(r2, 0x800000);
	uint64_t r3 = frames_alloc_contig(&pool, 3, 4);
	assert_int_equal(r3 % (4 * FRAME_SIZE), 0);
	assert_int_equal(r3, 0xa00000); /* the search resumes where the last run was found */
	uint64_t r4 = frames_alloc_contig(&pool, 1, 1);
	assert_int_equal(r4, 0xa03000);
	assert_int_equal(pool.nfree, nfree - 1024 - 3 - 1);

	assert_int_equal(frames_free_contig(&pool, r, 512), 0);
	assert_int_equal(frames_free_contig(&pool, r2, 512), 0);
	assert_int_equal(frames_free_contig(&pool, r3, 3), 0);
	assert_int_equal(frame_free(&pool, r4), 0);
	assert_int_equal(pool.nfree, nfree);

	/* invalid requests */
	assert_int_equal(frames_alloc_contig(&pool, 0, 1), 0);
	assert_int_equal(frames_alloc_contig(&pool, 1, 0), 0);
	assert_int_equal(frames_alloc_contig(&pool, 1, 3), 0);
	assert_int_equal(frames_alloc_contig(&pool, 2, 6), 0);
	assert_int_equal(frames_alloc_contig(&pool, pool.nfree + 1, 1), 0);
	assert_int_equal(frames_alloc_contig(&pool, UINT64_MAX, 1), 0);
	assert_int_equal(frames_alloc_contig(&pool, 1, 1ULL << 63), 0);
	assert_int_equal(frames_alloc_contig(&pool, 1, NFRAMES * 2), 0);
	assert_int_equal(pool.nfree, nfree);
}

/* The longest free run is [0x401000, 0x3000000): 0x2bff frames. */
static void test_contig_largest(void **state)
{
	uint64_t nfree = pool.nfree;

	(void)state;
	assert_int_equal(frames_alloc_contig(&pool, 0x2c00, 1), 0);
	assert_int_equal(frames_alloc_contig(&pool, 0x2bff, 2), 0); /* 0x401000 is odd */
	assert_int_equal(pool.nfree, nfree);
	assert_int_equal(frames_alloc_contig(&pool, 0x2bff, 1), 0x401000);
	assert_int_equal(pool.nfree, nfree - 0x2bff);
	assert_int_equal(frames_alloc_contig(&pool, 0xf00, 256), 0x3100000);
	assert_int_equal(frames_alloc_contig(&pool, 1, 1), 0x182000);
	assert_int_equal(frames_alloc_contig(&pool, 0x7e, 1), 0);
	assert_int_equal(frames_alloc_contig(&pool, 0x7d, 1), 0x183000);
	assert_int_equal(pool.nfree, 0);
	assert_int_equal(frames_free_contig(&pool, 0x401000, 0x2bff), 0);
	assert_int_equal(frames_free_contig(&pool, 0x3100000, 0xf00), 0);
	assert_int_equal(frames_free_contig(&pool, 0x182000, 0x7e), 0);
	assert_int_equal(pool.nfree, pool.ntotal);
}

/* Allocation after frees elsewhere still finds them (the search wraps around). */
static void test_wraparound(void **state)
{
	uint64_t last = 0, pa;

	(void)state;
	while ((pa = frame_alloc(&pool)) != 0)
		last = pa;
	assert_int_equal(last, 0x3fff000);
	assert_int_equal(frame_free(&pool, 0x200000 - FRAME_SIZE), 0);
	assert_int_equal(frame_alloc(&pool), 0x200000 - FRAME_SIZE);
	assert_int_equal(frame_free(&pool, 0x3fff000), 0);
	assert_int_equal(frame_free(&pool, 0x500000), 0);
	/* the search starts at the word of the last allocation (0x1ff000) */
	assert_int_equal(frame_alloc(&pool), 0x500000);
	assert_int_equal(frame_alloc(&pool), 0x3fff000);
	assert_int_equal(frame_alloc(&pool), 0);
}

static void test_init_failures(void **state)
{
	struct frame_pool p;
	const struct mem_range low_only[] = {{0x0, 0x9f000, MEM_AVAILABLE},
					     {0x100000, 0x1000000, MEM_RESERVED}};
	const struct mem_range exactly_1m[] = {{0x0, 0x100000, MEM_AVAILABLE}};
	const struct mem_range small[] = {{0x100000, 0x2000, MEM_AVAILABLE}};
	const struct phys_range all[] = {{0x100000, 0x102000}};

	(void)state;
	set_map(low_only, 2);
	assert_int_equal(frames_init(&p, &bi, NULL, 0, virt), -1);
	set_map(exactly_1m, 1);
	assert_int_equal(frames_init(&p, &bi, NULL, 0, virt), -1);
	set_map(NULL, 0);
	assert_int_equal(frames_init(&p, &bi, NULL, 0, virt), -1);
	/* RAM above 1 MiB, but all of it reserved: no room for the bitmap */
	set_map(small, 1);
	assert_int_equal(frames_init(&p, &bi, all, 1, virt), -1);
}

/* A tiny machine: the bitmap takes the first page, one frame is left; partial pages are not. */
static void test_init_tiny(void **state)
{
	struct frame_pool p;
	const struct mem_range tiny[] = {{0x0, 0x9f000, MEM_AVAILABLE},
					 {0x100000, 0x2800, MEM_AVAILABLE}};

	(void)state;
	set_map(tiny, 2);
	assert_int_equal(frames_init(&p, &bi, NULL, 0, virt), 0);
	assert_int_equal(p.bitmap_pa, 0x100000);
	assert_int_equal(p.nframes, 320);
	assert_int_equal(p.ntotal, 1);
	assert_int_equal(frame_alloc(&p), 0x101000);
	assert_int_equal(frame_alloc(&p), 0);
	assert_int_equal(frame_free(&p, 0x140000), -1);
}

/* Only whole frames inside available ranges are free: partial first and last pages are not. */
static void test_init_unaligned_ranges(void **state)
{
	struct frame_pool p;
	const struct mem_range m[] = {{0x100800, 0x3000, MEM_AVAILABLE},
				      {0x200400, 0x2000, MEM_AVAILABLE}};

	(void)state;
	set_map(m, 2);
	assert_int_equal(frames_init(&p, &bi, NULL, 0, virt), 0);
	assert_int_equal(p.bitmap_pa, 0x101000);
	assert_int_equal(p.ntotal, 2);
	assert_false(frame_is_free(&p, 0x100000));
	assert_false(frame_is_free(&p, 0x101000));
	assert_true(frame_is_free(&p, 0x102000));
	assert_false(frame_is_free(&p, 0x103000));
	assert_false(frame_is_free(&p, 0x200000));
	assert_false(frame_is_free(&p, 0x202000));
	assert_true(frame_is_free(&p, 0x201000));
	assert_int_equal(frame_alloc(&p), 0x102000);
	assert_int_equal(frame_alloc(&p), 0x201000);
	assert_int_equal(frame_alloc(&p), 0);
}

/* frames_claim takes exactly the frames asked for, and they can be freed back. */
static void test_claim(void **state)
{
	uint64_t nfree = pool.nfree, ntotal = pool.ntotal;

	(void)state;
	assert_int_equal(frames_claim(&pool, 0x600000, 4), 0);
	assert_int_equal(pool.nfree, nfree - 4);
	assert_int_equal(pool.ntotal, ntotal);
	for (uint64_t i = 0; i < 4; i++)
		assert_false(frame_is_free(&pool, 0x600000 + i * FRAME_SIZE));
	assert_true(frame_is_free(&pool, 0x600000 - FRAME_SIZE));
	assert_true(frame_is_free(&pool, 0x600000 + 4 * FRAME_SIZE));

	/* single frames, the first and the last free ones, and a run across a bitmap word */
	assert_int_equal(frames_claim(&pool, 0x182000, 1), 0);
	assert_int_equal(frames_claim(&pool, 0x3fff000, 1), 0);
	assert_int_equal(frames_claim(&pool, 0x7f0000 /* frame 0x7f0: word 31, bit 48 */, 0x20), 0);
	assert_int_equal(pool.nfree, nfree - 4 - 2 - 0x20);
	for (uint64_t i = 0; i < 0x20; i++)
		assert_false(frame_is_free(&pool, 0x7f0000 + i * FRAME_SIZE));
	assert_true(frame_is_free(&pool, 0x7ef000));
	assert_true(frame_is_free(&pool, 0x810000));

	/* claimed frames are never handed out */
	assert_int_equal(frame_alloc(&pool), 0x183000);
	assert_int_equal(frame_free(&pool, 0x183000), 0);

	/* and can be given back */
	assert_int_equal(frames_free_contig(&pool, 0x600000, 4), 0);
	assert_int_equal(frame_free(&pool, 0x182000), 0);
	assert_int_equal(frame_free(&pool, 0x3fff000), 0);
	for (uint64_t i = 0; i < 0x20; i++)
		assert_int_equal(frame_free(&pool, 0x7f0000 + i * FRAME_SIZE), 0);
	assert_int_equal(pool.nfree, nfree);
	for (uint64_t f = 0; f < NFRAMES; f++)
		assert_int_equal(frame_is_free(&pool, f * FRAME_SIZE), expect_free(f));

	/* the whole largest free run, then once more: refused */
	assert_int_equal(frames_claim(&pool, 0x401000, 0x2bff), 0);
	assert_int_equal(pool.nfree, nfree - 0x2bff);
	assert_int_equal(frames_claim(&pool, 0x401000, 0x2bff), -1);
	assert_int_equal(frames_claim(&pool, 0x401000, 1), -1);
	assert_int_equal(pool.nfree, nfree - 0x2bff);
	assert_int_equal(frames_free_contig(&pool, 0x401000, 0x2bff), 0);
	assert_int_equal(pool.nfree, nfree);
}

/* A refused claim takes nothing. */
static void test_claim_refused(void **state)
{
	uint64_t nfree, a;

	(void)state;
	a = frame_alloc(&pool);
	assert_int_equal(a, 0x182000);
	nfree = pool.nfree;

	/* runs with one used frame in them: first, middle, last */
	assert_int_equal(frames_claim(&pool, a, 4), -1);
	assert_int_equal(frames_claim(&pool, a - FRAME_SIZE, 3), -1); /* the bitmap page */
	assert_int_equal(pool.nfree, nfree);
	assert_true(frame_is_free(&pool, a + FRAME_SIZE));
	assert_int_equal(frames_claim(&pool, 0x700000, 0x200), 0);
	assert_int_equal(frame_free(&pool, 0x700000 + 0x100 * FRAME_SIZE), 0);
	nfree = pool.nfree;
	assert_int_equal(frames_claim(&pool, 0x6ff000, 2), -1);
	assert_int_equal(frames_claim(&pool, 0x8ff000, 2), -1);
	assert_int_equal(frames_claim(&pool, 0x600000, 0x400), -1);
	assert_int_equal(pool.nfree, nfree);
	assert_true(frame_is_free(&pool, 0x6ff000));
	assert_true(frame_is_free(&pool, 0x800000));
	assert_true(frame_is_free(&pool, 0x900000));
	assert_true(frame_is_free(&pool, 0x600000));
	assert_false(frame_is_free(&pool, 0x700000));

	/* never-free frames: low memory, reserved ranges, holes */
	assert_int_equal(frames_claim(&pool, 0, 1), -1);
	assert_int_equal(frames_claim(&pool, 0x9f000, 1), -1);
	assert_int_equal(frames_claim(&pool, 0xff000, 2), -1);
	assert_int_equal(frames_claim(&pool, 0x100000, 1), -1);
	assert_int_equal(frames_claim(&pool, 0x180000, 1), -1);
	assert_int_equal(frames_claim(&pool, 0x400000, 1), -1);
	assert_int_equal(frames_claim(&pool, 0x2fff000, 2), -1);
	assert_int_equal(frames_claim(&pool, 0x3000000, 1), -1);
	assert_int_equal(pool.nfree, nfree);
	assert_true(frame_is_free(&pool, 0x2fff000));

	/* unaligned */
	assert_int_equal(frames_claim(&pool, 0x600001, 1), -1);
	assert_int_equal(frames_claim(&pool, 0x600800, 1), -1);
	assert_int_equal(frames_claim(&pool, 0x600fff, 2), -1);
	assert_int_equal(pool.nfree, nfree);
	assert_true(frame_is_free(&pool, 0x600000));
	assert_true(frame_is_free(&pool, 0x601000));

	/* outside the pool, or a run crossing its end */
	assert_int_equal(frames_claim(&pool, MEM_SIZE, 1), -1);
	assert_int_equal(frames_claim(&pool, MEM_SIZE - FRAME_SIZE, 2), -1);
	assert_int_equal(frames_claim(&pool, 0xfec00000, 1), -1);
	assert_int_equal(frames_claim(&pool, UINT64_MAX & ~(FRAME_SIZE - 1), 1), -1);
	assert_int_equal(frames_claim(&pool, 0x600000, UINT64_MAX), -1);
	assert_int_equal(frames_claim(&pool, 0x600000, NFRAMES), -1);
	assert_int_equal(frames_claim(&pool, 0x600000, NFRAMES + 1), -1);
	assert_int_equal(frames_claim(&pool, 0x600000, 1ULL << 52), -1);
	assert_int_equal(pool.nfree, nfree);
	assert_true(frame_is_free(&pool, MEM_SIZE - FRAME_SIZE));

	/* nothing changed: the free frames are where they were */
	assert_int_equal(frame_free(&pool, a), 0);
	assert_int_equal(frames_free_contig(&pool, 0x700000, 0x100), 0);
	assert_int_equal(frames_free_contig(&pool, 0x701000 + 0x100 * FRAME_SIZE, 0xff), 0);
	assert_int_equal(pool.nfree, pool.ntotal);
	for (uint64_t f = 0; f < NFRAMES; f++)
		assert_int_equal(frame_is_free(&pool, f * FRAME_SIZE), expect_free(f));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_init),	      T(test_exhaust),
		T(test_free_realloc), T(test_bad_free),
		T(test_contig),	      T(test_contig_largest),
		T(test_wraparound),   T(test_init_failures),
		T(test_init_tiny),    T(test_init_unaligned_ranges),
		T(test_claim),	      T(test_claim_refused),
	};

	return cmocka_run_group_tests_name("frames", tests, NULL, NULL);
}
