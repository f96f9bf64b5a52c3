/* vmlinux (ELF64) parsing for the PVH entry (hv/dom0/pvh.c) and bzImage parsing
 * (hv/dom0/bzimage.c) on images built in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dom0/pvh.h"

/* ---- a small ELF64 image builder ---- */

#define PT_LOAD	   1
#define PT_NOTE	   4
#define PT_STACK   0x6474e551 /* PT_GNU_STACK: ignored */
#define PHYS32	   18	      /* XEN_ELFNOTE_PHYS32_ENTRY */
#define PHOFF	   64	      /* program headers right after the ELF header */
#define NOTE_OFF   0x400      /* where the note segment's contents go */
#define DATA_OFF   0x800      /* segment contents are appended from here */
#define IMG_MAX	   0x8000
#define KERN	   0x1000000ULL /* a typical vmlinux load address */
#define KERN_ENTRY 0x1000040U

static uint8_t img[IMG_MAX];
static size_t img_len;	/* bytes of img handed to pvh_parse */
static size_t note_len; /* bytes of notes written at NOTE_OFF */
static unsigned img_phnum;

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* An ELF header without program headers; the data area starts at DATA_OFF. */
static void img_start(void)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\177ELF", 4);
	img[4] = 2;	     /* ELFCLASS64 */
	img[5] = 1;	     /* ELFDATA2LSB */
	img[6] = 1;	     /* EV_CURRENT */
	put16(img + 16, 2);  /* ET_EXEC */
	put16(img + 18, 62); /* EM_X86_64 */
	put32(img + 20, 1);
	put64(img + 24, 0xffffffff81000000ULL); /* e_entry: the 64-bit one, not used */
	put64(img + 32, PHOFF);
	put16(img + 52, 64); /* e_ehsize */
	put16(img + 54, 56); /* e_phentsize */
	put16(img + 56, 0);  /* e_phnum */
	img_len = DATA_OFF;
	note_len = 0;
	img_phnum = 0;
}

static uint8_t *phdr(unsigned i)
{
	assert_true(PHOFF + (i + 1) * 56 <= NOTE_OFF);
	return img + PHOFF + i * 56;
}

/* Appends a program header; returns its index. */
static unsigned add_ph(uint32_t type, uint64_t offset, uint64_t paddr, uint64_t filesz,
		       uint64_t memsz)
{
	uint8_t *ph = phdr(img_phnum);

	put32(ph, type);
	put32(ph + 4, 5); /* p_flags: R+X */
	put64(ph + 8, offset);
	put64(ph + 16, paddr + 0xffffffff80000000ULL); /* p_vaddr: not used */
	put64(ph + 24, paddr);
	put64(ph + 32, filesz);
	put64(ph + 40, memsz);
	put64(ph + 48, 0x1000);
	put16(img + 56, (uint16_t)++img_phnum);
	return img_phnum - 1;
}

/* A PT_LOAD whose file contents (a byte pattern) are appended to the image. */
static unsigned add_load(uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	uint64_t off = img_len;

	assert_true(filesz <= IMG_MAX - off);
	for (uint64_t i = 0; i < filesz; i++)
		img[off + i] = (uint8_t)(0x90 + i);
	img_len = (size_t)(off + ((filesz + 15) & ~15ULL));
	return add_ph(PT_LOAD, off, paddr, filesz, memsz);
}

/* Appends a note at NOTE_OFF + note_len: name (namesz bytes), desc (descsz bytes, entry first). */
static void add_note(uint32_t namesz, uint32_t descsz, uint32_t type, const char *name,
		     uint64_t desc)
{
	uint8_t *n = img + NOTE_OFF + note_len;
	size_t dpos = 12 + ((namesz + 3) & ~3U);

	assert_true(NOTE_OFF + note_len + dpos + ((descsz + 3) & ~3U) <= DATA_OFF);
	put32(n, namesz);
	put32(n + 4, descsz);
	put32(n + 8, type);
	memcpy(n + 12, name, namesz);
	memset(n + dpos, 0xcc, descsz);
	memcpy(n + dpos, &desc, descsz < 8 ? descsz : 8);
	note_len += dpos + ((descsz + 3) & ~3U);
}

/* The PT_NOTE over everything add_note() wrote. */
static unsigned add_note_seg(void)
{
	return add_ph(PT_NOTE, NOTE_OFF, 0, note_len, note_len);
}

static void add_pvh_note(uint32_t entry)
{
	add_note(4, 4, PHYS32, "Xen", entry);
}

/* A vmlinux-like image: a PVH note and one segment [KERN, KERN + 0x3000), 0x100 in the file. */
static void std_image(void)
{
	img_start();
	add_pvh_note(KERN_ENTRY);
	add_note_seg();
	add_load(KERN, 0x100, 0x3000);
}

/*
 * Parses a heap copy of exactly img[0..len), so that AddressSanitizer reports any read beyond
 * what the parser was given.
 */
static struct pvh_image out;
static char err[PVH_ERR_LEN];

static int parse_len(size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, img, len);
	memset(&out, 0xa5, sizeof(out));
	memset(err, 'X', sizeof(err));
	rc = pvh_parse(copy, len, &out, err);
	free(copy);
	return rc;
}

static int parse(void)
{
	return parse_len(img_len);
}

static void expect_err_len(size_t len, const char *msg)
{
	assert_int_equal(parse_len(len), -1);
	assert_non_null(memchr(err, '\0', sizeof(err)));
	assert_string_equal(err, msg);
}

static void expect_err(const char *msg)
{
	expect_err_len(img_len, msg);
}

static void expect_seg(unsigned i, uint64_t paddr, uint64_t offset, uint64_t filesz, uint64_t memsz)
{
	assert_true(i < out.nsegs);
	assert_int_equal(out.segs[i].paddr, paddr);
	assert_int_equal(out.segs[i].offset, offset);
	assert_int_equal(out.segs[i].filesz, filesz);
	assert_int_equal(out.segs[i].memsz, memsz);
}

#define MSG_NO_NOTE "dom0: kernel has no PVH entry note (build it with CONFIG_PVH=y)"
#define MSG_PHDRS   "dom0: kernel program headers are invalid"
#define MSG_NOT_X86 "dom0: module 0 is not a 64-bit x86 ELF executable"

/* ---- images that parse ---- */

static void test_minimal(void **state)
{
	(void)state;
	std_image();
	assert_int_equal(parse(), 0);
	assert_int_equal(out.entry, KERN_ENTRY);
	assert_int_equal(out.nsegs, 1);
	expect_seg(0, KERN, DATA_OFF, 0x100, 0x3000);
	assert_int_equal(out.lo, KERN);
	assert_int_equal(out.hi, KERN + 0x3000);
}

/* Several segments in header order; memsz 0 and non-load segments are skipped. */
static void test_segments(void **state)
{
	(void)state;
	img_start();
	add_load(KERN + 0x200000, 0x80, 0x1000);
	add_ph(PT_LOAD, 0xdeadbeef00000000ULL, 0xffffffffffff0000ULL, 0x10, 0); /* memsz 0 */
	add_ph(PT_STACK, 0xdeadbeef00000000ULL, 0xffffffffffff0000ULL, ~0ULL, 0x10);
	add_pvh_note(KERN_ENTRY);
	add_note_seg();
	add_load(KERN, 0x200, 0x200000);		  /* ends where the first begins */
	add_load(0x100000, 0, 0x1000);			  /* bss only */
	add_ph(PT_LOAD, DATA_OFF, KERN + 0x200000, 0, 0); /* memsz 0, overlapping: skipped */
	assert_int_equal(parse(), 0);
	assert_int_equal(out.entry, KERN_ENTRY);
	assert_int_equal(out.nsegs, 3);
	expect_seg(0, KERN + 0x200000, DATA_OFF, 0x80, 0x1000);
	expect_seg(1, KERN, DATA_OFF + 0x80, 0x200, 0x200000);
	expect_seg(2, 0x100000, DATA_OFF + 0x280, 0, 0x1000);
	assert_int_equal(out.lo, 0x100000);
	assert_int_equal(out.hi, KERN + 0x201000);
}

/* Eight segments are the limit, not counting memsz 0 ones. */
static void test_eight_segments(void **state)
{
	(void)state;
	img_start();
	add_pvh_note(KERN_ENTRY);
	add_note_seg();
	for (unsigned i = 0; i < 8; i++) {
		add_load(KERN + i * 0x10000, 0x10, 0x10000);
		add_ph(PT_LOAD, 0, 0, 0, 0);
	}
	assert_int_equal(parse(), 0);
	assert_int_equal(out.nsegs, 8);
	for (unsigned i = 0; i < 8; i++)
		expect_seg(i, KERN + i * 0x10000, DATA_OFF + i * 0x10, 0x10, 0x10000);
	assert_int_equal(out.lo, KERN);
	assert_int_equal(out.hi, KERN + 0x80000);
}

/* A segment may end exactly at 4 GiB, and its file contents may end exactly at the file's end. */
static void test_limits(void **state)
{
	(void)state;
	img_start();
	add_pvh_note(0xfffff000);
	add_note_seg();
	add_load(0xfffff000, 0x10, 0x1000);
	assert_int_equal(img_len, DATA_OFF + 0x10);
	assert_int_equal(parse(), 0);
	assert_int_equal(out.nsegs, 1);
	expect_seg(0, 0xfffff000, DATA_OFF, 0x10, 0x1000);
	assert_int_equal(out.lo, 0xfffff000);
	assert_int_equal(out.hi, 0x100000000ULL);

	/* a segment at physical 0, with filesz == memsz */
	img_start();
	add_pvh_note(0);
	add_note_seg();
	add_load(0, 0x20, 0x20);
	assert_int_equal(parse(), 0);
	expect_seg(0, 0, DATA_OFF, 0x20, 0x20);
	assert_int_equal(out.lo, 0);
	assert_int_equal(out.hi, 0x20);
	assert_int_equal(out.entry, 0);

	/* the note and the program headers may be at the very end of the file */
	img_start();
	add_load(KERN, 0x10, 0x1000);
	add_pvh_note(KERN);
	memcpy(img + img_len, img + NOTE_OFF, note_len);
	add_ph(PT_NOTE, img_len, 0, note_len, note_len);
	img_len += note_len;
	memcpy(img + img_len, img + PHOFF, 2 * 56);
	put64(img + 32, img_len);
	img_len += 2 * 56;
	assert_int_equal(parse(), 0);
	assert_int_equal(out.entry, KERN);
	expect_seg(0, KERN, DATA_OFF, 0x10, 0x1000);
}

/* The entry may be anywhere in [lo, hi), even in a gap between segments. */
static void test_entry_range(void **state)
{
	static const struct {
		uint32_t entry;
		int rc;
	} cases[] = {
		{KERN, 0},
		{KERN + 0x2fff, 0},
		{KERN + 0x3000, 0}, /* in the gap between the segments */
		{KERN - 1, -1},
		{KERN + 0x100000, 0}, /* in the gap */
		{KERN + 0x200fff, 0},
		{KERN + 0x201000, -1},
		{0, -1},
		{0xffffffff, -1},
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char msg[PVH_ERR_LEN];
		img_start();
		add_pvh_note(cases[i].entry);
		add_note_seg();
		add_load(KERN, 0x10, 0x3000);
		add_load(KERN + 0x200000, 0x10, 0x1000);
		if (cases[i].rc == 0) {
			assert_int_equal(parse(), 0);
			assert_int_equal(out.entry, cases[i].entry);
			continue;
		}
		snprintf(msg, sizeof(msg), "dom0: PVH entry %#x is outside the kernel",
			 cases[i].entry);
		expect_err(msg);
	}
	std_image();
	put32(img + NOTE_OFF + 16, 0xfff);
	expect_err("dom0: PVH entry 0xfff is outside the kernel");
}

/* An 8-byte descriptor is accepted (its low 32 bits are the entry). */
static void test_note_desc8(void **state)
{
	(void)state;
	img_start();
	add_note(4, 8, PHYS32, "Xen", 0xffffffff00000000ULL | (KERN + 0x10));
	add_note_seg();
	add_load(KERN, 0x10, 0x1000);
	assert_int_equal(parse(), 0);
	assert_int_equal(out.entry, KERN + 0x10);
}

/* The PVH note is found among others, with padded names and descriptors. */
static void test_note_among_others(void **state)
{
	(void)state;
	img_start();
	add_note(4, 20, 3, "GNU", 0x1122334455667788ULL);  /* NT_GNU_BUILD_ID */
	add_note(6, 6, 0x100, "Linux", 0x0a0b0c0d0e0fULL); /* padded name and desc */
	add_note(4, 8, 1, "Xen", KERN + 0x20);		   /* XEN_ELFNOTE_ENTRY */
	add_note(4, 4, PHYS32, "Xe\0", KERN + 0x30);	   /* wrong name */
	add_note(5, 4, PHYS32, "Xen\0", KERN + 0x40);	   /* wrong namesz */
	add_note(4, 2, PHYS32, "Xen", KERN + 0x50);	   /* wrong descsz */
	add_note(4, 16, PHYS32, "Xen", KERN + 0x60);	   /* wrong descsz */
	add_note(0, 0, PHYS32, "", 0);			   /* empty */
	add_note(4, 4, PHYS32, "Xen", KERN + 0x70);	   /* the one */
	add_note(4, 4, PHYS32, "Xen", KERN + 0x80);	   /* a second one: ignored */
	add_note_seg();
	add_load(KERN, 0x10, 0x1000);
	assert_int_equal(parse(), 0);
	assert_int_equal(out.entry, KERN + 0x70);
}

/* Notes may come in several PT_NOTE segments; the first PVH note counts. */
static void test_note_segments(void **state)
{
	unsigned first;

	(void)state;
	img_start();
	add_note(4, 20, 3, "GNU", 0);
	add_note_seg();
	add_pvh_note(KERN + 0x10);
	first = add_note_seg();
	add_pvh_note(KERN + 0x20);
	add_note_seg();
	add_load(KERN, 0x10, 0x1000);
	/* segment 0 has the GNU note only, segment 1 adds the first PVH note, segment 2 both */
	assert_int_equal(parse(), 0);
	assert_int_equal(out.entry, KERN + 0x10);

	/* a note segment outside the file is ignored, the next one is used */
	put64(phdr(first) + 8, IMG_MAX);
	assert_int_equal(parse(), 0);
	assert_int_equal(out.entry, KERN + 0x10);
	/* segment 2 cut inside its first note (GNU): nothing found */
	put64(phdr(first + 1) + 32, 0x20);
	expect_err(MSG_NO_NOTE);
}

/* ---- images that are refused ---- */

/* ---- bzImages (hv/dom0/bzimage.c): the Linux x86 boot protocol's setup header ---- */

#define BZ_LOAD 0x1000000ULL /* pref_address */
#define BZ_PM	0xa00	     /* (4 setup sectors + the boot sector) * 512 */
#define BZ_SIZE 0x1000	     /* the protected-mode code: syssize 0x100 paragraphs */
#define BZ_INIT 0x20000	     /* init_size */

static void bz_start(void)
{
	memset(img, 0, sizeof(img));
	img[0] = 'M';
	img[1] = 'Z';
	img[0x1f1] = 4; /* setup_sects */
	put32(img + 0x1f4, BZ_SIZE / 16);
	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	img[0x200] = 0xeb; /* jmp over the header, which ends at 0x202 + 0x66 */
	img[0x201] = 0x66;
	memcpy(img + 0x202, "HdrS", 4);
	put16(img + 0x206, 0x020f);
	img[0x211] = 1; /* loadflags: LOADED_HIGH */
	put64(img + 0x258, BZ_LOAD);
	put32(img + 0x260, BZ_INIT);
	img_len = BZ_PM + BZ_SIZE;
}

static void test_bzimage(void **state)
{
	(void)state;
	bz_start();
	assert_int_equal(parse(), 0);
	assert_int_equal(out.entry, BZ_LOAD); /* the 32-bit entry: the code's start */
	assert_int_equal(out.nsegs, 1);
	expect_seg(0, BZ_LOAD, BZ_PM, BZ_SIZE, BZ_INIT);
	assert_int_equal(out.lo, BZ_LOAD);
	assert_int_equal(out.hi, BZ_LOAD + BZ_INIT);
	assert_int_equal(out.setup_len, 0x268 - 0x1f1);
	assert_memory_equal(out.setup, img + 0x1f1, 0x268 - 0x1f1);
	/* setup_sects 0 means 4; the longest header (jump offset 0xff) is copied whole */
	img[0x1f1] = 0;
	img[0x201] = 0xff;
	assert_int_equal(parse(), 0);
	expect_seg(0, BZ_LOAD, BZ_PM, BZ_SIZE, BZ_INIT);
	assert_int_equal(out.setup_len, 0x110);
	/* one setup sector: the code starts at 0x400 */
	img[0x1f1] = 1;
	assert_int_equal(parse_len(0x400 + BZ_SIZE), 0);
	expect_seg(0, BZ_LOAD, 0x400, BZ_SIZE, BZ_INIT);
}

static void test_bzimage_refused(void **state)
{
	(void)state;
	bz_start();
	expect_err_len(0x267, "dom0: module 0 is no bzImage (615 bytes, no boot flag)");
	img[0x1fe] = 0;
	expect_err("dom0: module 0 is no bzImage (6656 bytes, no boot flag)");
	bz_start();
	put16(img + 0x206, 0x020b);
	expect_err("dom0: bzImage protocol 2.11; 2.12 or later is needed");
	bz_start();
	img[0x211] = 0;
	expect_err("dom0: bzImage protocol 2.15, loaded low; 2.12 or later is needed");
	bz_start();
	expect_err_len(img_len - 1, "dom0: bzImage truncated (6655 bytes, 6656 expected)");
	img[0x1f1] = 200; /* the setup alone is longer than the file */
	expect_err("dom0: bzImage truncated (6656 bytes, 107008 expected)");
	bz_start();
	put32(img + 0x1f4, 0);
	expect_err("dom0: bzImage truncated (6656 bytes, 2560 expected)");
	bz_start();
	put64(img + 0x258, BZ_LOAD + 0x800);
	expect_err("dom0: bzImage wants 0x20000 bytes at 0x1000800: not 1 MiB-4 GiB");
	put64(img + 0x258, 0x80000);
	expect_err("dom0: bzImage wants 0x20000 bytes at 0x80000: not 1 MiB-4 GiB");
	put64(img + 0x258, 0x100000000ULL);
	expect_err("dom0: bzImage wants 0x20000 bytes at 0x100000000: not 1 MiB-4 GiB");
	put64(img + 0x258, BZ_LOAD);
	put32(img + 0x260, 0xffffffff);
	expect_err("dom0: bzImage wants 0xffffffff bytes at 0x1000000: not 1 MiB-4 GiB");
	put32(img + 0x260, BZ_SIZE - 1); /* less than the code itself */
	expect_err("dom0: bzImage wants 0xfff bytes at 0x1000000: not 1 MiB-4 GiB");
	/* one byte short of the magic: just not an ELF file */
	expect_err_len(0x205, "dom0: module 0 is not an ELF file (517 bytes)");
	img[0x205] = 'T';
	expect_err_len(0x205, "dom0: module 0 is not an ELF file (517 bytes)");
}

static void test_not_elf(void **state)
{
	(void)state;
	std_image();
	expect_err_len(0, "dom0: module 0 is not an ELF file (0 bytes)");
	expect_err_len(4, "dom0: module 0 is not an ELF file (4 bytes)");
	expect_err_len(63, "dom0: module 0 is not an ELF file (63 bytes)");
	img[0] = 0x7e;
	expect_err("dom0: module 0 is not an ELF file (2304 bytes)");
	img[0] = 0x7f;
	img[3] = 'f';
	expect_err("dom0: module 0 is not an ELF file (2304 bytes)");
	/* just the header: now it fails later */
	img[3] = 'F';
	expect_err_len(64, MSG_PHDRS);
}

static void test_not_x86_64(void **state)
{
	static const struct {
		unsigned off, size;
		uint16_t val;
	} cases[] = {
		{4, 1, 1},	/* ELFCLASS32 */
		{4, 1, 0},	/* ELFCLASSNONE */
		{5, 1, 2},	/* big endian */
		{16, 2, 3},	/* ET_DYN */
		{16, 2, 1},	/* ET_REL */
		{16, 2, 0x102}, /* ET_EXEC in the low byte only */
		{18, 2, 3},	/* EM_386 */
		{18, 2, 183},	/* EM_AARCH64 */
		{18, 2, 0x13e}, /* EM_X86_64 in the low byte only */
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		std_image();
		if (cases[i].size == 1)
			img[cases[i].off] = (uint8_t)cases[i].val;
		else
			put16(img + cases[i].off, cases[i].val);
		expect_err(MSG_NOT_X86);
	}
}

static void test_bad_phdrs(void **state)
{
	(void)state;
	std_image();
	assert_int_equal(parse(), 0);
	put16(img + 54, 32); /* e_phentsize */
	expect_err(MSG_PHDRS);
	put16(img + 54, 64);
	expect_err(MSG_PHDRS);
	put16(img + 54, 0);
	expect_err(MSG_PHDRS);

	std_image();
	put16(img + 56, 0); /* e_phnum */
	expect_err(MSG_PHDRS);

	/* the table crosses the end of the file by one byte, or starts after it */
	std_image();
	put64(img + 32, img_len - 2 * 56 + 1);
	expect_err(MSG_PHDRS);
	/* a table that ends exactly at the end of the file is fine */
	memcpy(img + img_len - 2 * 56, img + PHOFF, 2 * 56);
	put64(img + 32, img_len - 2 * 56);
	assert_int_equal(parse(), 0);
	assert_int_equal(out.entry, KERN_ENTRY);
	put64(img + 32, img_len);
	expect_err(MSG_PHDRS);
	put64(img + 32, img_len + 1);
	expect_err(MSG_PHDRS);
	put64(img + 32, ~0ULL - 55);
	expect_err(MSG_PHDRS);
	put64(img + 32, ~0ULL);
	expect_err(MSG_PHDRS);
	put64(img + 32, 1ULL << 63);
	expect_err(MSG_PHDRS);

	/* e_phnum larger than the file holds */
	std_image();
	put16(img + 56, 0xffff);
	expect_err(MSG_PHDRS);
	put16(img + 56, (uint16_t)((img_len - PHOFF) / 56 + 1));
	expect_err(MSG_PHDRS);
	/* all that fit: the extra ones are zero (PT_NULL) */
	put16(img + 56, (uint16_t)((img_len - PHOFF) / 56));
	assert_int_equal(parse(), 0);

	/* a table truncated by the file's end */
	std_image();
	expect_err_len(PHOFF + 56 + 55, MSG_PHDRS);
}

static void test_segment_outside_file(void **state)
{
	static const struct {
		uint64_t offset, filesz;
	} cases[] = {
		{DATA_OFF, 0x11},
		{DATA_OFF + 1, 0x10},
		{DATA_OFF + 0x10, 1},
		{DATA_OFF + 0x11, 0},
		{0, DATA_OFF + 0x11},
		{~0ULL, 1},
		{~0ULL, 0},
		{1, ~0ULL},
		{1ULL << 63, 1ULL << 63},
		{DATA_OFF, ~0ULL - DATA_OFF + 1},
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned s;
		img_start();
		add_pvh_note(KERN);
		add_note_seg();
		s = add_load(KERN, 0x10, ~0ULL >> 33);
		assert_int_equal(img_len, DATA_OFF + 0x10);
		put64(phdr(s) + 8, cases[i].offset);
		put64(phdr(s) + 32, cases[i].filesz);
		expect_err("dom0: kernel segment 0 lies outside the file");
	}
	/* the index counts accepted segments only */
	img_start();
	add_pvh_note(KERN);
	add_note_seg();
	add_load(KERN, 0x10, 0x1000);
	add_ph(PT_LOAD, 0, 0, 0, 0);
	add_load(KERN + 0x1000, 0x10, 0x1000);
	add_ph(PT_LOAD, img_len, KERN + 0x2000, 1, 0x1000);
	expect_err("dom0: kernel segment 2 lies outside the file");
	/* ... and the same segment within the file is fine */
	put64(phdr(img_phnum - 1) + 8, img_len - 1);
	assert_int_equal(parse(), 0);
	assert_int_equal(out.nsegs, 3);
	expect_seg(2, KERN + 0x2000, img_len - 1, 1, 0x1000);
}

static void test_filesz_over_memsz(void **state)
{
	(void)state;
	img_start();
	add_pvh_note(KERN);
	add_note_seg();
	add_load(KERN, 0x11, 0x10);
	expect_err("dom0: kernel segment 0 lies outside the file");
	img_start();
	add_pvh_note(KERN);
	add_note_seg();
	add_load(KERN, 0x100, 0x1000);
	add_load(KERN + 0x1000, 0x100, 0xff);
	expect_err("dom0: kernel segment 1 lies outside the file");
}

static void test_not_below_4g(void **state)
{
	static const struct {
		uint64_t paddr, memsz;
	} cases[] = {
		{0x100000000ULL, 0x1000},
		{0xfffff000, 0x1001},
		{0xfffffffc, 0x10},
		{0, 0x100000001ULL},
		{0x1000, ~0ULL},
		{~0ULL, 1},
		{~0ULL - 0xfff, 0x2000},
		{0xffffffffULL, 2},
		{0x8000000000000000ULL, 0x1000},
		{KERN, 0x100000000ULL - KERN + 1},
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		img_start();
		add_pvh_note(KERN);
		add_note_seg();
		add_load(cases[i].paddr, 0, cases[i].memsz);
		expect_err("dom0: kernel segment 0 is not below 4 GiB");
	}
	img_start();
	add_pvh_note(KERN);
	add_note_seg();
	add_load(KERN, 0x10, 0x10);
	add_load(0x100000000ULL, 0x10, 0x10);
	expect_err("dom0: kernel segment 1 is not below 4 GiB");
}

static void test_overlap(void **state)
{
	static const struct {
		uint64_t paddr, memsz;
	} cases[] = {
		{KERN + 0x1fff, 1}, {KERN - 1, 2}, {KERN - 0x1000, 0x100000}, {KERN + 0x800, 0x100},
		{KERN, 0x2000},	    {KERN, 1},	   {KERN + 0x1000, 0x2000},   {0, 0x100000000ULL},
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		img_start();
		add_pvh_note(KERN);
		add_note_seg();
		add_load(KERN, 0x10, 0x2000);
		add_load(cases[i].paddr, 0, cases[i].memsz);
		expect_err("dom0: kernel segments 0 and 1 overlap");
	}
	/* with the third segment, and only touching ones are fine */
	img_start();
	add_pvh_note(KERN);
	add_note_seg();
	add_load(KERN, 0x10, 0x2000);
	add_load(KERN + 0x2000, 0x10, 0x1000);
	add_load(KERN - 0x1000, 0x10, 0x1000);
	assert_int_equal(parse(), 0);
	assert_int_equal(out.nsegs, 3);
	assert_int_equal(out.lo, KERN - 0x1000);
	assert_int_equal(out.hi, KERN + 0x3000);
	add_load(KERN + 0x2fff, 0x10, 0x1000);
	expect_err("dom0: kernel segments 1 and 3 overlap");
	/* overlapping file contents do not matter */
	img_start();
	add_pvh_note(KERN);
	add_note_seg();
	add_ph(PT_LOAD, DATA_OFF, KERN, 0x10, 0x1000);
	add_ph(PT_LOAD, DATA_OFF, KERN + 0x1000, 0x10, 0x1000);
	img_len = DATA_OFF + 0x10;
	assert_int_equal(parse(), 0);
	assert_int_equal(out.nsegs, 2);
}

static void test_too_many_segments(void **state)
{
	(void)state;
	img_start();
	add_pvh_note(KERN);
	add_note_seg();
	for (unsigned i = 0; i < 9; i++)
		add_load(KERN + i * 0x1000, 0x10, 0x1000);
	expect_err("dom0: kernel has more than 8 loadable segments");
	/* the check comes before the others on the ninth */
	put64(phdr(9) + 24, ~0ULL);
	expect_err("dom0: kernel has more than 8 loadable segments");
	put32(phdr(9), PT_NOTE);
	assert_int_equal(parse(), 0);
	assert_int_equal(out.nsegs, 8);
}

static void test_no_load(void **state)
{
	(void)state;
	img_start();
	add_pvh_note(KERN);
	add_note_seg();
	expect_err("dom0: kernel has no loadable segment");
	add_ph(PT_LOAD, DATA_OFF, KERN, 0, 0);
	add_ph(PT_STACK, 0, 0, 0, 0);
	add_ph(2, 0, KERN, 0x10, 0x1000); /* PT_DYNAMIC */
	expect_err("dom0: kernel has no loadable segment");
	/* before the missing note */
	put32(phdr(0), PT_STACK);
	expect_err("dom0: kernel has no loadable segment");
}

static void test_no_note(void **state)
{
	(void)state;
	/* no note segment at all */
	img_start();
	add_load(KERN, 0x10, 0x1000);
	expect_err(MSG_NO_NOTE);

	/* notes, but not the PVH entry */
	static const struct {
		uint32_t namesz, descsz, type;
		const char *name;
	} cases[] = {
		{4, 4, 17, "Xen"},	{4, 4, 1, "Xen"},      {4, 4, PHYS32, "GNU"},
		{4, 4, PHYS32, "xen"},	{3, 4, PHYS32, "Xen"}, {8, 4, PHYS32, "Xen\0\0\0\0"},
		{4, 0, PHYS32, "Xen"},	{4, 3, PHYS32, "Xen"}, {4, 5, PHYS32, "Xen"},
		{4, 12, PHYS32, "Xen"}, {0, 4, PHYS32, ""},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		img_start();
		add_note(cases[i].namesz, cases[i].descsz, cases[i].type, cases[i].name, KERN);
		add_note_seg();
		add_load(KERN, 0x10, 0x1000);
		expect_err(MSG_NO_NOTE);
	}
}

/* A note cut short by its segment (or lying sizes) is not read. */
static void test_truncated_note(void **state)
{
	unsigned s;

	(void)state;
	for (uint64_t filesz = 0; filesz < 20; filesz++) {
		img_start();
		add_pvh_note(KERN);
		s = add_note_seg();
		add_load(KERN, 0x10, 0x1000);
		put64(phdr(s) + 32, filesz);
		expect_err(MSG_NO_NOTE);
	}

	/* the note segment (at the end of the file) is cut by the file's end: ignored */
	img_start();
	add_load(KERN, 0x10, 0x1000);
	add_pvh_note(KERN);
	memcpy(img + img_len, img + NOTE_OFF, note_len);
	add_ph(PT_NOTE, img_len, 0, note_len, note_len);
	for (size_t cut = 1; cut <= note_len; cut++)
		expect_err_len(img_len + note_len - cut, MSG_NO_NOTE);
	img_len += note_len;
	assert_int_equal(parse(), 0);

	/* huge or misaligned sizes in the note header */
	static const uint32_t sizes[][2] = {
		{0xffffffff, 4}, {0xfffffffd, 4}, {4, 0xffffffff}, {4, 0xfffffffd},
		{0x80000000, 4}, {4, 0x80000000}, {0x1000, 4},	   {4, 0x1000},
	};
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		img_start();
		add_note(4, 4, 1, "Xen", 0);
		add_pvh_note(KERN);
		add_note_seg();
		add_load(KERN, 0x10, 0x1000);
		put32(img + NOTE_OFF, sizes[i][0]);
		put32(img + NOTE_OFF + 4, sizes[i][1]);
		expect_err(MSG_NO_NOTE);
	}
	/* a first note whose sizes run exactly to the end of the segment hides nothing after it */
	img_start();
	add_note(4, 4, 1, "Xen", 0);
	add_pvh_note(KERN);
	add_note_seg();
	add_load(KERN, 0x10, 0x1000);
	put32(img + NOTE_OFF + 4, 24);
	expect_err(MSG_NO_NOTE);
	put32(img + NOTE_OFF + 4, 4);
	assert_int_equal(parse(), 0);
	assert_int_equal(out.entry, KERN);
}

/* Every proper prefix of a valid image is refused (without reading past it). */
static void test_prefixes(void **state)
{
	(void)state;
	img_start();
	add_pvh_note(KERN + 0x10);
	add_note_seg();
	add_load(KERN, 0x10, 0x1000);
	add_load(KERN + 0x1000, 0x10, 0x1000);
	assert_int_equal(parse(), 0);
	for (size_t len = 0; len < img_len; len++)
		assert_int_equal(parse_len(len), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_eight_segments),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_entry_range),
		cmocka_unit_test(test_note_desc8),
		cmocka_unit_test(test_note_among_others),
		cmocka_unit_test(test_note_segments),
		cmocka_unit_test(test_bzimage),
		cmocka_unit_test(test_bzimage_refused),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_not_x86_64),
		cmocka_unit_test(test_bad_phdrs),
		cmocka_unit_test(test_segment_outside_file),
		cmocka_unit_test(test_filesz_over_memsz),
		cmocka_unit_test(test_not_below_4g),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_too_many_segments),
		cmocka_unit_test(test_no_load),
		cmocka_unit_test(test_no_note),
		cmocka_unit_test(test_truncated_note),
		cmocka_unit_test(test_prefixes),
	};

	return cmocka_run_group_tests_name("pvh", tests, NULL, NULL);
}
