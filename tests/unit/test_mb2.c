/* Multiboot2 info parsing and memory-map sanitizing (hv/platform/mb2.c) on blocks in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "platform/mb2.h"

/* ---- a small multiboot2 info builder ---- */

struct mb {
	uint64_t words[16384]; /* 128 KiB, 8-byte aligned */
	size_t len;
};

struct mmap_entry {
	uint64_t base, len;
	uint32_t type;
};

static struct mb *mb_new(void)
{
	struct mb *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	b->len = 8; /* total_size and reserved, filled in by mb_end() */
	return b;
}

static uint8_t *mb_bytes(struct mb *b)
{
	return (uint8_t *)b->words;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Appends a tag with an explicit size field (which may lie); returns its offset. */
static size_t mb_tag_sized(struct mb *b, uint32_t type, uint32_t size, const void *payload,
			   size_t plen)
{
	size_t off = b->len;

	assert_true(off + 8 + plen + 8 <= sizeof(b->words));
	put32(mb_bytes(b) + off, type);
	put32(mb_bytes(b) + off + 4, size);
	if (plen)
		memcpy(mb_bytes(b) + off + 8, payload, plen);
	b->len = (off + 8 + plen + 7) & ~(size_t)7;
	return off;
}

static size_t mb_tag(struct mb *b, uint32_t type, const void *payload, size_t plen)
{
	return mb_tag_sized(b, type, (uint32_t)(8 + plen), payload, plen);
}

static void mb_string(struct mb *b, uint32_t type, const char *s)
{
	mb_tag(b, type, s, strlen(s) + 1);
}

static void mb_module(struct mb *b, uint32_t start, uint32_t end, const char *s)
{
	uint8_t p[256];
	size_t n = strlen(s) + 1;

	assert_true(8 + n <= sizeof(p));
	put32(p, start);
	put32(p + 4, end);
	memcpy(p + 8, s, n);
	mb_tag(b, 3, p, 8 + n);
}

/* A memory map tag with the given entry size (>= 24) and version. */
static void mb_mmap_ex(struct mb *b, uint32_t esize, uint32_t version, const struct mmap_entry *e,
		       size_t n)
{
	static uint8_t p[8 + 512 * 32];

	assert_true(8 + n * esize <= sizeof(p));
	memset(p, 0, sizeof(p));
	put32(p, esize);
	put32(p + 4, version);
	for (size_t i = 0; i < n; i++) {
		uint8_t *q = p + 8 + i * esize;
		put64(q, e[i].base);
		put64(q + 8, e[i].len);
		put32(q + 16, e[i].type);
		put32(q + 20, 0);
		if (esize > 24)
			memset(q + 24, 0xee, esize - 24); /* future fields */
	}
	mb_tag(b, 6, p, 8 + n * esize);
}

static void mb_mmap(struct mb *b, const struct mmap_entry *e, size_t n)
{
	mb_mmap_ex(b, 24, 0, e, n);
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* An ACPI 1.0 RSDP (20 bytes). */
static void make_rsdp_old(uint8_t r[20], uint32_t rsdt)
{
	memset(r, 0, 20);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "BOCHS ", 6);
	r[15] = 0;
	put32(r + 16, rsdt);
	r[8] = (uint8_t)-sum8(r, 20);
}

/* An ACPI 2.0 RSDP (36 bytes, revision 2): both checksums set. */
static void make_rsdp_new(uint8_t r[36], uint32_t rsdt, uint64_t xsdt)
{
	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "BOCHS ", 6);
	r[15] = 2;
	put32(r + 16, rsdt);
	put32(r + 20, 36);
	put64(r + 24, xsdt);
	r[8] = (uint8_t)-sum8(r, 20);
	r[32] = (uint8_t)-sum8(r, 36);
}

static void mb_end(struct mb *b)
{
	mb_tag(b, 0, NULL, 0);
	put32(mb_bytes(b), (uint32_t)b->len);
	put32(mb_bytes(b) + 4, 0);
}

/* Finishes without an end tag. */
static void mb_finish_raw(struct mb *b)
{
	put32(mb_bytes(b), (uint32_t)b->len);
	put32(mb_bytes(b) + 4, 0);
}

/*
 * Parses a copy of the first `avail` bytes in a heap block of exactly that size, so that
 * AddressSanitizer reports any read beyond what the parser was given. The copy is kept until
 * the next parse (the result points into it).
 */
static void *copy;

static int parse_avail(struct mb *b, size_t avail, struct boot_info *bi)
{
	free(copy);
	copy = malloc(avail ? avail : 1);
	assert_non_null(copy);
	assert_int_equal((uintptr_t)copy & 7, 0);
	memcpy(copy, mb_bytes(b), avail);
	return mb2_parse(copy, avail, bi);
}

static int parse(struct mb *b, struct boot_info *bi)
{
	return parse_avail(b, b->len, bi);
}

static int teardown(void **state)
{
	free(*state);
	*state = NULL;
	free(copy);
	copy = NULL;
	return 0;
}

static int setup(void **state)
{
	*state = mb_new();
	return 0;
}

#define MB(state) ((struct mb *)*(state))

/* Expects a parse failure whose message contains `what`. */
#define EXPECT_FAIL(b, what)                                                                    \
	do {                                                                                    \
		struct boot_info bi_;                                                           \
		assert_int_equal(parse((b), &bi_), -1);                                         \
		if (!strstr(bi_.err, (what))) {                                                 \
			print_error("error \"%s\" does not contain \"%s\"\n", bi_.err, (what)); \
			fail();                                                                 \
		}                                                                               \
	} while (0)

static void expect_range(const struct boot_info *bi, unsigned i, uint64_t base, uint64_t end,
			 uint32_t type)
{
	assert_true(i < bi->nmmap);
	assert_int_equal(bi->mmap[i].base, base);
	assert_int_equal(bi->mmap[i].len, end - base);
	assert_int_equal(bi->mmap[i].type, type);
}

/* A QEMU/GRUB-like map with 128 MiB of RAM. */
static const struct mmap_entry grub_map[] = {
	{0x0, 0x9fc00, 1},	  {0x9fc00, 0x400, 2},	   {0xf0000, 0x10000, 2},
	{0x100000, 0x7ee0000, 1}, {0x7fe0000, 0x20000, 2}, {0xfeffc000, 0x4000, 2},
	{0xfffc0000, 0x40000, 2},
};

static void test_minimal(void **state)
{
	struct mb *b = MB(state);
	struct boot_info bi;
	const struct mmap_entry e[] = {{0x100000, 0x100000, 1}};

	mb_mmap(b, e, 1);
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	assert_string_equal(bi.cmdline, "");
	assert_string_equal(bi.loader, "unknown");
	assert_int_equal(bi.nmmap, 1);
	expect_range(&bi, 0, 0x100000, 0x200000, MEM_AVAILABLE);
	assert_int_equal(bi.nmods, 0);
	assert_int_equal(bi.rsdp_len, 0);
	assert_int_equal(bi.mmap_conflicts, 0);
}

static void test_grub_like(void **state)
{
	struct mb *b = MB(state);
	struct boot_info bi;
	uint8_t rsdp[20];
	uint32_t unknown[6] = {0x1234, 0x5678, 1, 2, 3, 4};

	mb_string(b, 1, "loglevel=debug poweroff");
	mb_string(b, 2, "GRUB 2.06");
	mb_tag(b, 4, unknown, 8);  /* basic meminfo */
	mb_tag(b, 5, unknown, 12); /* boot device */
	mb_module(b, 0x400000, 0x9a3000, "/boot/bzImage console=ttyS0 quiet");
	mb_module(b, 0x9a3000, 0x1000000, "/boot/initrd.img");
	mb_mmap(b, grub_map, sizeof(grub_map) / sizeof(grub_map[0]));
	mb_tag(b, 8, unknown, sizeof(unknown)); /* framebuffer */
	mb_tag(b, 21, unknown, 4);		/* load base address */
	make_rsdp_old(rsdp, 0x7fe1000);
	mb_tag(b, 14, rsdp, sizeof(rsdp));
	mb_end(b);

	assert_int_equal(parse(b, &bi), 0);
	assert_string_equal(bi.cmdline, "loglevel=debug poweroff");
	assert_string_equal(bi.loader, "GRUB 2.06");
	assert_int_equal(bi.nmmap, 7);
	expect_range(&bi, 0, 0x0, 0x9fc00, MEM_AVAILABLE);
	expect_range(&bi, 1, 0x9fc00, 0xa0000, MEM_RESERVED);
	expect_range(&bi, 2, 0xf0000, 0x100000, MEM_RESERVED);
	expect_range(&bi, 3, 0x100000, 0x7fe0000, MEM_AVAILABLE);
	expect_range(&bi, 4, 0x7fe0000, 0x8000000, MEM_RESERVED);
	expect_range(&bi, 5, 0xfeffc000, 0xff000000, MEM_RESERVED);
	expect_range(&bi, 6, 0xfffc0000, 0x100000000, MEM_RESERVED);
	assert_int_equal(bi.mmap_conflicts, 0);
	assert_int_equal(mb2_usable_bytes(&bi), 0x9fc00 + 0x7ee0000);

	assert_int_equal(bi.nmods, 2);
	assert_int_equal(bi.mods[0].start, 0x400000);
	assert_int_equal(bi.mods[0].end, 0x9a3000);
	assert_string_equal(bi.mods[0].cmdline, "/boot/bzImage console=ttyS0 quiet");
	assert_int_equal(bi.mods[1].start, 0x9a3000);
	assert_int_equal(bi.mods[1].end, 0x1000000);
	assert_string_equal(bi.mods[1].cmdline, "/boot/initrd.img");
	/* strings point into the info block itself */
	assert_true((const uint8_t *)bi.cmdline > (const uint8_t *)copy);
	assert_true((const uint8_t *)bi.mods[1].cmdline < (const uint8_t *)copy + b->len);

	assert_int_equal(bi.rsdp_len, 20);
	assert_memory_equal(bi.rsdp, rsdp, 20);
}

/* Entries in any order; the result is sorted. Entry size 32 carries unknown trailing fields. */
static void test_unsorted_and_wide_entries(void **state)
{
	struct mb *b = MB(state);
	struct boot_info bi;
	const struct mmap_entry e[] = {
		{0x100000000, 0x40000000, 1}, {0x100000, 0x3ff00000, 1},
		{0xfec00000, 0x1000, 2},      {0x0, 0x9f000, 1},
		{0x40000000, 0x0, 2}, /* empty: ignored */
	};

	mb_mmap_ex(b, 32, 0, e, sizeof(e) / sizeof(e[0]));
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	assert_int_equal(bi.nmmap, 4);
	expect_range(&bi, 0, 0x0, 0x9f000, MEM_AVAILABLE);
	expect_range(&bi, 1, 0x100000, 0x40000000, MEM_AVAILABLE);
	expect_range(&bi, 2, 0xfec00000, 0xfec01000, MEM_RESERVED);
	expect_range(&bi, 3, 0x100000000, 0x140000000, MEM_AVAILABLE);
	assert_int_equal(mb2_usable_bytes(&bi), 0x9f000 + 0x3ff00000 + 0x40000000);
}

static void test_overlaps(void **state)
{
	struct mb *b = MB(state);
	struct boot_info bi;
	const struct mmap_entry e[] = {
		{0x0, 0x200000, 1},	   /* 0: available ...                      */
		{0x100000, 0x80000, 2},	   /* 1: ... with a reserved hole in it     */
		{0x200000, 0x100000, 1},   /* 2: adjacent available: merged         */
		{0x300000, 0x100000, 1},   /* 3: adjacent again: merged             */
		{0x800000, 0x100000, 3},   /* 4: ACPI reclaim ...                   */
		{0x880000, 0x100000, 4},   /* 5: ... overlapped by NVS: NVS wins    */
		{0xa00000, 0x100000, 5},   /* 6: bad ...                            */
		{0xa80000, 0x100000, 3},   /* 7: ... beats ACPI                     */
		{0xc00000, 0x100000, 7},   /* 8: unknown type: reserved             */
		{0xd00000, 0x100000, 2},   /* 9: adjacent reserved: merged with 8   */
		{0xc80000, 0x100000, 1},   /* 10: available inside reserved: loses  */
		{0x1000000, 0x1000000, 1}, /* 11: available ...                     */
		{0x1000000, 0x1000000, 1}, /* 12: ... listed twice                  */
		{0x1fff000, 0x2000, 5},	   /* 13: bad straddling the end of 11/12   */
		{0x3000000, 0x100000, 5},  /* 14: bad ...                           */
		{0x3000000, 0x100000, 2},  /* 15: ... and reserved: reserved wins   */
	};

	mb_mmap(b, e, sizeof(e) / sizeof(e[0]));
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	assert_int_equal(bi.nmmap, 11);
	expect_range(&bi, 0, 0x0, 0x100000, MEM_AVAILABLE);
	expect_range(&bi, 1, 0x100000, 0x180000, MEM_RESERVED);
	expect_range(&bi, 2, 0x180000, 0x400000, MEM_AVAILABLE);
	expect_range(&bi, 3, 0x800000, 0x880000, MEM_ACPI_RECLAIM);
	expect_range(&bi, 4, 0x880000, 0x980000, MEM_ACPI_NVS);
	expect_range(&bi, 5, 0xa00000, 0xb00000, MEM_BAD);
	expect_range(&bi, 6, 0xb00000, 0xb80000, MEM_ACPI_RECLAIM);
	expect_range(&bi, 7, 0xc00000, 0xe00000, MEM_RESERVED);
	expect_range(&bi, 8, 0x1000000, 0x1fff000, MEM_AVAILABLE);
	expect_range(&bi, 9, 0x1fff000, 0x2001000, MEM_BAD);
	expect_range(&bi, 10, 0x3000000, 0x3100000, MEM_RESERVED);
	/* overlapping pairs: 0/1, 4/5, 6/7, 8/10, 9/10, 11/12, 11/13, 12/13, 14/15 */
	assert_int_equal(bi.mmap_conflicts, 9);
	assert_int_equal(mb2_usable_bytes(&bi), 0x100000 + 0x280000 + 0xfff000);
}

static void test_range_usable(void **state)
{
	struct mb *b = MB(state);
	struct boot_info bi;

	mb_mmap(b, grub_map, sizeof(grub_map) / sizeof(grub_map[0]));
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	assert_true(mb2_range_usable(&bi, 0x100000, 0x7ee0000));
	assert_true(mb2_range_usable(&bi, 0x100000, 0));
	assert_true(mb2_range_usable(&bi, 0x7fdf000, 0x1000));
	assert_true(mb2_range_usable(&bi, 0x7fe0000, 0)); /* empty range at the very end */
	assert_true(mb2_range_usable(&bi, 0, 0x9fc00));
	assert_false(mb2_range_usable(&bi, 0x100000, 0x7ee0001));
	assert_false(mb2_range_usable(&bi, 0xfffff, 2));
	assert_false(mb2_range_usable(&bi, 0x0, 0x100000)); /* spans a reserved hole */
	assert_false(mb2_range_usable(&bi, 0x9fc00, 1));
	assert_false(mb2_range_usable(&bi, 0x8000000, 1));
	assert_false(mb2_range_usable(&bi, 0x100000, UINT64_MAX));
	assert_false(mb2_range_usable(&bi, UINT64_MAX, 1));
	assert_false(mb2_range_usable(&bi, 0xfffc0000, 0x1000)); /* reserved */
}

static void test_mem_type_name(void **state)
{
	(void)state;
	assert_string_equal(mem_type_name(MEM_AVAILABLE), "available");
	assert_string_equal(mem_type_name(MEM_RESERVED), "reserved");
	assert_string_equal(mem_type_name(MEM_ACPI_RECLAIM), "ACPI");
	assert_string_equal(mem_type_name(MEM_ACPI_NVS), "ACPI NVS");
	assert_string_equal(mem_type_name(MEM_BAD), "bad");
	assert_string_equal(mem_type_name(0), "reserved");
	assert_string_equal(mem_type_name(6), "reserved");
	assert_string_equal(mem_type_name(UINT32_MAX), "reserved");
}

static const struct mmap_entry ram[] = {{0x0, 0x9f000, 1}, {0x100000, 0x7f00000, 1}};

static void test_modules(void **state)
{
	struct mb *b = MB(state);
	struct boot_info bi;

	mb_mmap(b, ram, 2);
	mb_module(b, 0x200000, 0x300000, "kernel root=/dev/ram0");
	mb_module(b, 0x300000, 0x300000, ""); /* empty module, empty string */
	mb_module(b, 0x7fff000, 0x8000000, "last page");
	mb_module(b, 0x1000, 0x2000, "low");
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	assert_int_equal(bi.nmods, 4);
	assert_int_equal(bi.mods[0].start, 0x200000);
	assert_int_equal(bi.mods[0].end, 0x300000);
	assert_string_equal(bi.mods[0].cmdline, "kernel root=/dev/ram0");
	assert_int_equal(bi.mods[1].start, 0x300000);
	assert_int_equal(bi.mods[1].end, 0x300000);
	assert_string_equal(bi.mods[1].cmdline, "");
	assert_int_equal(bi.mods[2].start, 0x7fff000);
	assert_int_equal(bi.mods[2].end, 0x8000000);
	assert_string_equal(bi.mods[2].cmdline, "last page");
	assert_int_equal(bi.mods[3].start, 0x1000);
	assert_string_equal(bi.mods[3].cmdline, "low");
}

/* The AP start page: the highest free page below 1 MiB, never in a module or the info block. */
static void test_low_page(void **state)
{
	static const struct mmap_entry uefi[] = {{0x0, 0x1000, 1},
						 {0x1000, 0x6000, 1},
						 {0x7000, 0x98000, 2},
						 {0x9f000, 0x1000, 1},
						 {0x100000, 0x7f00000, 1}};
	static const struct mmap_entry none[] = {{0x0, 0x1000, 1}, {0x100000, 0x7f00000, 1}};
	struct mb *b = MB(state);
	struct boot_info bi;

	mb_mmap(b, ram, 2);
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	assert_int_equal(mb2_low_page(&bi, 0, 0), 0x9e000);
	assert_int_equal(mb2_low_page(&bi, 0x9dfff, 0x9e001), 0x9c000); /* overlaps two pages */
	assert_int_equal(mb2_low_page(&bi, 0x1000, 0x9f000), 0);	/* page 0 is never used */

	b = mb_new();
	mb_mmap(b, uefi, 5);
	mb_module(b, 0x9f000, 0xa0000, "low module");
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	assert_int_equal(mb2_low_page(&bi, 0, 0), 0x6000); /* reserved and module pages skipped */
	assert_int_equal(mb2_low_page(&bi, 0x6000, 0x6001), 0x5000);
	free(b);

	b = mb_new();
	mb_mmap(b, none, 2);
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	assert_int_equal(mb2_low_page(&bi, 0, 0), 0);
	free(b);
}

static void test_sixteen_modules(void **state)
{
	struct mb *b = MB(state);
	struct boot_info bi;

	mb_mmap(b, ram, 2);
	for (uint32_t i = 0; i < MB2_MAX_MODS; i++)
		mb_module(b, 0x200000 + i * 0x1000, 0x201000 + i * 0x1000, "m");
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	assert_int_equal(bi.nmods, 16);
	assert_int_equal(bi.mods[15].start, 0x20f000);
}

static void test_rsdp_new_preferred(void **state)
{
	struct mb *b = MB(state);
	struct boot_info bi;
	uint8_t r1[20], r2[36];

	make_rsdp_old(r1, 0x1000);
	make_rsdp_new(r2, 0x2000, 0x123456789000ULL);
	mb_mmap(b, ram, 2);
	mb_tag(b, 14, r1, 20);
	mb_tag(b, 15, r2, 36);
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	assert_int_equal(bi.rsdp_len, 36);
	assert_memory_equal(bi.rsdp, r2, 36);

	/* the other order: the old one does not replace the new one */
	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_tag(b, 15, r2, 36);
	mb_tag(b, 14, r1, 20);
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	assert_int_equal(bi.rsdp_len, 36);
	assert_memory_equal(bi.rsdp, r2, 36);

	/* new RSDP only */
	b->len = 8;
	mb_tag(b, 15, r2, 36);
	mb_mmap(b, ram, 2);
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	assert_int_equal(bi.rsdp_len, 36);
	assert_memory_equal(bi.rsdp, r2, 36);
}

/* Tags this parser does not use are skipped, including ones with large type numbers. */
static void test_unknown_tags(void **state)
{
	struct mb *b = MB(state);
	struct boot_info bi;
	uint8_t junk[40];

	memset(junk, 0xff, sizeof(junk));
	mb_tag(b, 0x10000, NULL, 0); /* not an end tag: the type is 32 bits */
	mb_tag(b, 0x10001, junk, 3); /* not a command line */
	mb_tag(b, 0x10006, junk, 5); /* not a memory map */
	mb_tag(b, 9, junk, 40);	     /* ELF sections */
	mb_tag(b, 19, junk, 1);	     /* EFI 64-bit image handle */
	mb_tag(b, 0xffffffff, junk, 7);
	mb_mmap(b, ram, 2);
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	assert_int_equal(bi.nmmap, 2);
	assert_string_equal(bi.cmdline, "");
}

/* total_size may be less than the readable bytes, and trailing data is ignored. */
static void test_avail_larger(void **state)
{
	struct mb *b = MB(state);
	struct boot_info bi;

	mb_mmap(b, ram, 2);
	mb_end(b);
	assert_int_equal(parse_avail(b, b->len + 64, &bi), 0);
	assert_int_equal(bi.nmmap, 2);
}

/* ---- malformed blocks ---- */

static void test_bad_header(void **state)
{
	struct mb *b = MB(state);
	struct boot_info bi;

	mb_mmap(b, ram, 2);
	mb_end(b);
	assert_int_equal(parse_avail(b, b->len - 8, &bi), -1);
	assert_non_null(strstr(bi.err, "total_size 80 is nonsensical (72 bytes available)"));

	assert_int_equal(parse_avail(b, 8, &bi), -1);
	assert_non_null(strstr(bi.err, "truncated: only 8 bytes of info"));

	assert_int_equal(mb2_parse(NULL, 100, &bi), -1);
	assert_non_null(strstr(bi.err, "missing or not 8-byte aligned"));

	put32(mb_bytes(b), 8);
	assert_int_equal(parse(b, &bi), -1);
	assert_non_null(strstr(bi.err, "total_size 8 is nonsensical"));

	put32(mb_bytes(b), 0);
	assert_int_equal(parse(b, &bi), -1);
	assert_non_null(strstr(bi.err, "total_size 0 is nonsensical"));

	put32(mb_bytes(b), (uint32_t)MB2_INFO_MAX + 8);
	assert_int_equal(parse_avail(b, sizeof(b->words), &bi), -1);
	assert_non_null(strstr(bi.err, "total_size 262152 is nonsensical"));
}

static void test_unaligned(void **state)
{
	struct mb *b = MB(state);
	struct boot_info bi;
	static uint64_t shifted[64];

	mb_mmap(b, ram, 2);
	mb_end(b);
	for (unsigned shift = 1; shift < 8; shift++) {
		memcpy((uint8_t *)shifted + shift, mb_bytes(b), b->len);
		assert_int_equal(mb2_parse((uint8_t *)shifted + shift, b->len, &bi), -1);
		assert_non_null(strstr(bi.err, "not 8-byte aligned"));
	}
	memcpy(shifted, mb_bytes(b), b->len);
	assert_int_equal(mb2_parse(shifted, b->len, &bi), 0);
}

static void test_bad_tag_size(void **state)
{
	struct mb *b = MB(state);

	mb_tag_sized(b, 1, 4, NULL, 0);
	mb_mmap(b, ram, 2);
	mb_end(b);
	EXPECT_FAIL(b, "tag type 1 at offset 8 has bad size 4");

	b->len = 8;
	mb_tag_sized(b, 5, 0, NULL, 0);
	mb_end(b);
	EXPECT_FAIL(b, "tag type 5 at offset 8 has bad size 0");

	/* a tag that runs past total_size */
	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_tag_sized(b, 2, 64, "x", 2);
	mb_end(b);
	EXPECT_FAIL(b, "tag type 2 at offset 72 has bad size 64");

	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_tag_sized(b, 7, 0xfffffff8, NULL, 0);
	mb_end(b);
	EXPECT_FAIL(b, "tag type 7 at offset 72 has bad size 4294967288");
}

static void test_end_tag(void **state)
{
	struct mb *b = MB(state);

	mb_mmap(b, ram, 2);
	mb_finish_raw(b);
	EXPECT_FAIL(b, "truncated: no end tag within 72 bytes");

	/* the end tag would lie past total_size */
	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_end(b);
	put32(mb_bytes(b), (uint32_t)b->len - 8);
	EXPECT_FAIL(b, "truncated: no end tag within 72 bytes");

	/* total_size cuts the end tag in half */
	put32(mb_bytes(b), (uint32_t)b->len - 4);
	EXPECT_FAIL(b, "truncated: no end tag within 76 bytes");

	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_tag_sized(b, 0, 16, "\0\0\0\0\0\0\0", 8);
	mb_finish_raw(b);
	EXPECT_FAIL(b, "end tag has size 16");
}

static void test_no_mmap(void **state)
{
	struct mb *b = MB(state);

	mb_string(b, 1, "hello");
	mb_end(b);
	EXPECT_FAIL(b, "no memory map tag");

	b->len = 8;
	mb_end(b);
	EXPECT_FAIL(b, "no memory map tag");
}

static void test_duplicate_mmap(void **state)
{
	struct mb *b = MB(state);

	mb_mmap(b, ram, 2);
	mb_mmap(b, ram, 2);
	mb_end(b);
	EXPECT_FAIL(b, "duplicate memory map tag at offset 72");
}

static void test_bad_mmap_header(void **state)
{
	struct mb *b = MB(state);
	uint32_t hdr[2] = {24, 0};

	mb_tag(b, 6, hdr, 4);
	mb_end(b);
	EXPECT_FAIL(b, "memory map tag at offset 8 too short (12 bytes)");

	const uint32_t sizes[] = {0, 8, 16, 20, 28, 30};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char want[64];
		b->len = 8;
		mb_mmap_ex(b, sizes[i] < 24 ? 24 : sizes[i], 0, ram, 2);
		put32(mb_bytes(b) + 16, sizes[i]); /* entry_size */
		mb_end(b);
		snprintf(want, sizeof(want), "memory map entry size %u is invalid", sizes[i]);
		EXPECT_FAIL(b, want);
	}

	b->len = 8;
	mb_mmap_ex(b, 24, 1, ram, 2);
	mb_end(b);
	EXPECT_FAIL(b, "memory map entry version 1 is unknown");

	/* 48 bytes of entries cannot hold 32-byte entries */
	b->len = 8;
	mb_mmap_ex(b, 24, 0, ram, 2);
	put32(mb_bytes(b) + 16, 32);
	mb_end(b);
	EXPECT_FAIL(b, "memory map truncated (48 bytes of entries, entry size 32)");

	/* a tag size that cuts the last entry */
	b->len = 8;
	mb_mmap(b, ram, 2);
	put32(mb_bytes(b) + 12, 16 + 24 + 8);
	mb_end(b);
	EXPECT_FAIL(b, "memory map truncated (32 bytes of entries, entry size 24)");
}

static void test_mmap_empty_ok(void **state)
{
	struct mb *b = MB(state);
	struct boot_info bi;

	mb_mmap(b, ram, 0);
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	assert_int_equal(bi.nmmap, 0);
	assert_int_equal(mb2_usable_bytes(&bi), 0);
}

static void test_mmap_bad_ranges(void **state)
{
	struct mb *b = MB(state);
	const struct mmap_entry wrap[] = {{0x100000, 0x100000, 1},
					  {0xfffffffffffff000ULL, 0x2000, 1}};
	const struct mmap_entry high[] = {{MB2_PHYS_LIMIT, 0x1000, 2}};
	const struct mmap_entry over[] = {{MB2_PHYS_LIMIT - 0x1000, 0x1001, 1}};
	const struct mmap_entry edge[] = {{MB2_PHYS_LIMIT - 0x1000, 0x1000, 1}};
	struct boot_info bi;

	mb_mmap(b, wrap, 2);
	mb_end(b);
	EXPECT_FAIL(b, "memory map entry 1 [0xfffffffffffff000 +0x2000] exceeds 2^52");

	b->len = 8;
	mb_mmap(b, high, 1);
	mb_end(b);
	EXPECT_FAIL(b, "memory map entry 0 [0x10000000000000 +0x1000] exceeds 2^52");

	b->len = 8;
	mb_mmap(b, over, 1);
	mb_end(b);
	EXPECT_FAIL(b, "entry 0 [0xffffffffff000 +0x1001] exceeds 2^52");

	b->len = 8;
	mb_mmap(b, edge, 1);
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	expect_range(&bi, 0, MB2_PHYS_LIMIT - 0x1000, MB2_PHYS_LIMIT, MEM_AVAILABLE);
}

static void test_mmap_too_many(void **state)
{
	struct mb *b = MB(state);
	struct mmap_entry e[MB2_MAX_MMAP + 1];
	struct boot_info bi;

	for (unsigned i = 0; i < MB2_MAX_MMAP + 1; i++)
		e[i] = (struct mmap_entry){0x100000ULL * (2 * i + 1), 0x100000, 1 + i % 2};
	mb_mmap(b, e, MB2_MAX_MMAP);
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	assert_int_equal(bi.nmmap, MB2_MAX_MMAP);

	b->len = 8;
	mb_mmap(b, e, MB2_MAX_MMAP + 1);
	mb_end(b);
	EXPECT_FAIL(b, "more than 128 memory map entries");

	/* empty entries do not count */
	struct mmap_entry z[MB2_MAX_MMAP + 8];
	memcpy(z, e, sizeof(struct mmap_entry) * MB2_MAX_MMAP);
	for (unsigned i = MB2_MAX_MMAP; i < MB2_MAX_MMAP + 8; i++)
		z[i] = (struct mmap_entry){0x1000, 0, 1};
	b->len = 8;
	mb_mmap(b, z, MB2_MAX_MMAP + 8);
	mb_end(b);
	assert_int_equal(parse(b, &bi), 0);
	assert_int_equal(bi.nmmap, MB2_MAX_MMAP);
}

/* 128 entries whose overlaps split into more than 128 pieces. */
static void test_mmap_too_fragmented(void **state)
{
	struct mb *b = MB(state);
	struct mmap_entry e[MB2_MAX_MMAP];

	e[0] = (struct mmap_entry){0x0, 0x100000000ULL, 1};
	for (unsigned i = 1; i < MB2_MAX_MMAP; i++)
		e[i] = (struct mmap_entry){0x1000000ULL * i, 0x1000, 2};
	mb_mmap(b, e, MB2_MAX_MMAP);
	mb_end(b);
	EXPECT_FAIL(b, "memory map too fragmented (over 128 ranges)");
}

static void test_bad_strings(void **state)
{
	struct mb *b = MB(state);

	mb_tag(b, 1, "abc", 3);
	mb_mmap(b, ram, 2);
	mb_end(b);
	EXPECT_FAIL(b, "command line tag at offset 8 is not NUL-terminated");

	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_tag(b, 2, "GRUB", 4);
	mb_end(b);
	EXPECT_FAIL(b, "loader name tag at offset 72 is not NUL-terminated");

	/* an empty string tag holds no NUL either */
	b->len = 8;
	mb_tag(b, 1, NULL, 0);
	mb_mmap(b, ram, 2);
	mb_end(b);
	EXPECT_FAIL(b, "command line tag at offset 8 is not NUL-terminated");

	b->len = 8;
	mb_string(b, 1, "a");
	mb_string(b, 1, "b");
	mb_mmap(b, ram, 2);
	mb_end(b);
	EXPECT_FAIL(b, "duplicate command line tag at offset 24");

	b->len = 8;
	mb_string(b, 2, "a");
	mb_string(b, 2, "b");
	mb_mmap(b, ram, 2);
	mb_end(b);
	EXPECT_FAIL(b, "duplicate loader name tag");
}

static void test_bad_modules(void **state)
{
	struct mb *b = MB(state);
	uint32_t m[4] = {0x200000, 0x300000, 0x41414141, 0x41414141};

	mb_mmap(b, ram, 2);
	mb_tag(b, 3, m, 8);
	mb_end(b);
	EXPECT_FAIL(b, "module tag at offset 72 too short (16 bytes)");

	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_tag(b, 3, m, 16);
	mb_end(b);
	EXPECT_FAIL(b, "module 0 string is not NUL-terminated");

	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_module(b, 0x200000, 0x300000, "ok");
	mb_module(b, 0x2000, 0x1000, "backwards");
	mb_end(b);
	EXPECT_FAIL(b, "module 1 ends (0x1000) before it starts (0x2000)");

	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_module(b, 0x9f000, 0xa0000, "in the hole");
	mb_end(b);
	EXPECT_FAIL(b, "module 0 [0x9f000-0xa0000) is not in usable RAM");

	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_module(b, 0x7fff000, 0x8001000, "past the end of RAM");
	mb_end(b);
	EXPECT_FAIL(b, "module 0 [0x7fff000-0x8001000) is not in usable RAM");

	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_module(b, 0x9e000, 0x101000, "across the hole");
	mb_end(b);
	EXPECT_FAIL(b, "module 0 [0x9e000-0x101000) is not in usable RAM");

	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_module(b, 0x200000, 0x300000, "a");
	mb_module(b, 0x400000, 0x500000, "b");
	mb_module(b, 0x2ff000, 0x301000, "c");
	mb_end(b);
	EXPECT_FAIL(b, "module 2 overlaps module 0");

	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_module(b, 0x200000, 0x300000, "a");
	mb_module(b, 0x200000, 0x300000, "a again");
	mb_end(b);
	EXPECT_FAIL(b, "module 1 overlaps module 0");

	b->len = 8;
	mb_mmap(b, ram, 2);
	for (uint32_t i = 0; i < MB2_MAX_MODS + 1; i++)
		mb_module(b, 0x200000 + i * 0x1000, 0x201000 + i * 0x1000, "m");
	mb_end(b);
	EXPECT_FAIL(b, "more than 16 modules");
}

static void test_bad_rsdp(void **state)
{
	struct mb *b = MB(state);
	uint8_t r1[20], r2[36];

	make_rsdp_old(r1, 0x1000);
	r1[19] ^= 1;
	mb_mmap(b, ram, 2);
	mb_tag(b, 14, r1, 20);
	mb_end(b);
	EXPECT_FAIL(b, "ACPI old RSDP has a bad signature or checksum");

	make_rsdp_old(r1, 0x1000);
	r1[0] = 'X';
	r1[8] -= 'X' - 'R'; /* checksum still right: only the signature is wrong */
	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_tag(b, 14, r1, 20);
	mb_end(b);
	EXPECT_FAIL(b, "ACPI old RSDP has a bad signature or checksum");

	make_rsdp_old(r1, 0x1000);
	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_tag(b, 14, r1, 16);
	mb_end(b);
	EXPECT_FAIL(b, "ACPI old RSDP tag too short (16 bytes)");

	make_rsdp_new(r2, 0x1000, 0x2000);
	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_tag(b, 15, r2, 20);
	mb_end(b);
	EXPECT_FAIL(b, "ACPI new RSDP tag too short (20 bytes)");

	make_rsdp_new(r2, 0x1000, 0x2000);
	r2[8] ^= 0x10;
	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_tag(b, 15, r2, 36);
	mb_end(b);
	EXPECT_FAIL(b, "ACPI new RSDP has a bad signature or checksum");

	make_rsdp_new(r2, 0x1000, 0x2000);
	r2[33] = 1; /* extended checksum off */
	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_tag(b, 15, r2, 36);
	mb_end(b);
	EXPECT_FAIL(b, "ACPI new RSDP revision 2 length 36 is invalid");

	make_rsdp_new(r2, 0x1000, 0x2000);
	r2[15] = 0;
	r2[8] += 2;
	r2[32] += 0; /* both sums still zero: revision 0 is the problem */
	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_tag(b, 15, r2, 36);
	mb_end(b);
	EXPECT_FAIL(b, "ACPI new RSDP revision 0 length 36 is invalid");

	/* length field larger than the tag */
	make_rsdp_new(r2, 0x1000, 0x2000);
	put32(r2 + 20, 40);
	r2[8] = 0;
	r2[8] = (uint8_t)-sum8(r2, 20);
	r2[32] = 0;
	r2[32] = (uint8_t)-sum8(r2, 36);
	b->len = 8;
	mb_mmap(b, ram, 2);
	mb_tag(b, 15, r2, 36);
	mb_end(b);
	EXPECT_FAIL(b, "ACPI new RSDP revision 2 length 40 is invalid");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_minimal),
		T(test_grub_like),
		T(test_unsorted_and_wide_entries),
		T(test_overlaps),
		T(test_range_usable),
		T(test_mem_type_name),
		T(test_modules),
		T(test_low_page),
		T(test_sixteen_modules),
		T(test_rsdp_new_preferred),
		T(test_unknown_tags),
		T(test_avail_larger),
		T(test_bad_header),
		T(test_unaligned),
		T(test_bad_tag_size),
		T(test_end_tag),
		T(test_no_mmap),
		T(test_duplicate_mmap),
		T(test_bad_mmap_header),
		T(test_mmap_empty_ok),
		T(test_mmap_bad_ranges),
		T(test_mmap_too_many),
		T(test_mmap_too_fragmented),
		T(test_bad_strings),
		T(test_bad_modules),
		T(test_bad_rsdp),
	};

	return cmocka_run_group_tests_name("mb2", tests, NULL, NULL);
}
