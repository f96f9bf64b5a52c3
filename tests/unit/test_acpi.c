/* ACPI root-table walk, MADT and FADT parsing (hv/platform/acpi.c) over fake physical memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "platform/acpi.h"

/* ---- fake physical memory: a low window and one above 4 GiB ---- */

#define LOW_SIZE  0x40000
#define HIGH_BASE 0x100000000ULL
#define HIGH_SIZE 0x10000

struct fake_mem {
	uint8_t *low, *high;
	uint64_t hole_base, hole_len; /* a range map() refuses, to model unmapped memory */
	unsigned calls;
};

static struct fake_mem mem;

static const void *map(void *ctx, uint64_t pa, size_t len)
{
	struct fake_mem *m = ctx;

	m->calls++;
	if (m->hole_len && pa < m->hole_base + m->hole_len && m->hole_base < pa + len)
		return NULL;
	if (pa < LOW_SIZE && len <= LOW_SIZE - pa)
		return m->low + pa;
	if (pa >= HIGH_BASE && pa - HIGH_BASE < HIGH_SIZE && len <= HIGH_SIZE - (pa - HIGH_BASE))
		return m->high + (pa - HIGH_BASE);
	return NULL;
}

static const void *map_nothing(void *ctx, uint64_t pa, size_t len)
{
	(void)ctx;
	(void)pa;
	(void)len;
	return NULL;
}

static uint8_t *phys(uint64_t pa)
{
	if (pa >= HIGH_BASE)
		return mem.high + (pa - HIGH_BASE);
	return mem.low + pa;
}

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

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* Sets the checksum byte of a table whose length field is already right. */
static void sdt_fix(uint8_t *t)
{
	uint32_t len;

	memcpy(&len, t + 4, 4);
	t[9] = 0;
	t[9] = (uint8_t)-sum8(t, len);
}

static void sdt_header(uint8_t *t, const char *sig, uint32_t len)
{
	memset(t, 0, 36);
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = 1;
	memcpy(t + 10, "HVTEST", 6);
	memcpy(t + 16, "UNITTEST", 8);
	put32(t + 24, 1);
}

/* ---- MADT builder ---- */

struct madt {
	uint8_t b[8192];
	uint32_t len;
};

static void madt_begin(struct madt *m, uint32_t lapic, uint32_t flags)
{
	memset(m, 0, sizeof(*m));
	sdt_header(m->b, "APIC", 44);
	put32(m->b + 36, lapic);
	put32(m->b + 40, flags);
	m->len = 44;
}

static uint8_t *madt_add(struct madt *m, uint8_t type, uint8_t len)
{
	uint8_t *e = m->b + m->len;

	assert_true(m->len + len + 2 <= sizeof(m->b));
	memset(e, 0, len < 2 ? 2 : len);
	e[0] = type;
	e[1] = len;
	m->len += len;
	return e;
}

static void madt_lapic(struct madt *m, uint8_t uid, uint8_t id, uint32_t flags)
{
	uint8_t *e = madt_add(m, 0, 8);
	e[2] = uid;
	e[3] = id;
	put32(e + 4, flags);
}

static void madt_x2apic(struct madt *m, uint32_t id, uint32_t uid, uint32_t flags)
{
	uint8_t *e = madt_add(m, 9, 16);
	put32(e + 4, id);
	put32(e + 8, flags);
	put32(e + 12, uid);
}

static void madt_ioapic(struct madt *m, uint8_t id, uint32_t addr, uint32_t gsi)
{
	uint8_t *e = madt_add(m, 1, 12);
	e[2] = id;
	put32(e + 4, addr);
	put32(e + 8, gsi);
}

static void madt_iso(struct madt *m, uint8_t bus, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	uint8_t *e = madt_add(m, 2, 10);
	e[2] = bus;
	e[3] = irq;
	put32(e + 4, gsi);
	put16(e + 8, flags);
}

static void madt_end(struct madt *m)
{
	put32(m->b + 4, m->len);
	sdt_fix(m->b);
}

/* Parses a heap copy of exactly len bytes so that over-reads are caught. */
static int parse_madt(const struct madt *m, uint32_t len, struct madt_info *mi, char *err)
{
	uint8_t *c = malloc(len ? len : 1);
	int rc;

	assert_non_null(c);
	memcpy(c, m->b, len);
	rc = madt_parse(c, len, mi, err);
	free(c);
	return rc;
}

static struct madt_info mi;
static char err[ACPI_ERR_LEN];

#define EXPECT_ERR(what)                                                                    \
	do {                                                                                \
		if (!strstr(err, (what))) {                                                 \
			print_error("error \"%s\" does not contain \"%s\"\n", err, (what)); \
			fail();                                                             \
		}                                                                           \
	} while (0)

#define EXPECT_MADT_FAIL(m, what)                                          \
	do {                                                               \
		madt_end(m);                                               \
		memset(err, 0, sizeof(err));                               \
		assert_int_equal(parse_madt((m), (m)->len, &mi, err), -1); \
		EXPECT_ERR(what);                                          \
	} while (0)

static void build_typical_madt(struct madt *m)
{
	madt_begin(m, 0xfee00000, 1);
	madt_lapic(m, 0, 0, 1);
	madt_lapic(m, 1, 2, 1);
	madt_lapic(m, 2, 4, 0);		 /* disabled */
	madt_lapic(m, 3, 6, 2);		 /* online-capable */
	madt_lapic(m, 4, 8, 0xfffffffc); /* reserved bits only: disabled */
	madt_ioapic(m, 8, 0xfec00000, 0);
	madt_ioapic(m, 9, 0xfec01000, 24);
	madt_iso(m, 0, 0, 2, 0);
	madt_iso(m, 0, 9, 9, 0x000d);
	uint8_t *nmi = madt_add(m, 3, 8); /* NMI source: skipped */
	put32(nmi + 4, 2);
	uint8_t *lnmi = madt_add(m, 4, 6); /* local APIC NMI: skipped */
	lnmi[2] = 0xff;
	madt_x2apic(m, 0x100, 5, 1);
	madt_x2apic(m, 0x101, 6, 0); /* disabled */
	madt_add(m, 10, 12);	     /* x2APIC NMI: skipped */
	madt_add(m, 0x7f, 4);	     /* unknown: skipped */
	madt_add(m, 20, 2);	     /* unknown, header only */
	madt_end(m);
}

static void test_madt_typical(void **state)
{
	struct madt m;

	(void)state;
	build_typical_madt(&m);
	assert_int_equal(parse_madt(&m, m.len, &mi, err), 0);
	assert_int_equal(mi.lapic_addr, 0xfee00000);
	assert_true(mi.pcat_compat);
	assert_int_equal(mi.ncpus, 4);
	assert_int_equal(mi.cpus[0].apic_id, 0);
	assert_int_equal(mi.cpus[0].uid, 0);
	assert_int_equal(mi.cpus[1].apic_id, 2);
	assert_int_equal(mi.cpus[1].uid, 1);
	assert_int_equal(mi.cpus[2].apic_id, 6);
	assert_int_equal(mi.cpus[2].uid, 3);
	assert_int_equal(mi.cpus[3].apic_id, 0x100);
	assert_int_equal(mi.cpus[3].uid, 5);
	assert_int_equal(mi.ncpus_disabled, 3);
	assert_int_equal(mi.nioapics, 2);
	assert_int_equal(mi.ioapics[0].id, 8);
	assert_int_equal(mi.ioapics[0].addr, 0xfec00000);
	assert_int_equal(mi.ioapics[0].gsi_base, 0);
	assert_int_equal(mi.ioapics[1].id, 9);
	assert_int_equal(mi.ioapics[1].addr, 0xfec01000);
	assert_int_equal(mi.ioapics[1].gsi_base, 24);
	assert_int_equal(mi.noverrides, 2);
	assert_int_equal(mi.overrides[0].bus, 0);
	assert_int_equal(mi.overrides[0].irq, 0);
	assert_int_equal(mi.overrides[0].gsi, 2);
	assert_int_equal(mi.overrides[0].flags, 0);
	assert_int_equal(mi.overrides[1].irq, 9);
	assert_int_equal(mi.overrides[1].gsi, 9);
	assert_int_equal(mi.overrides[1].flags, 0xd);
}

static void test_madt_lapic_override(void **state)
{
	struct madt m;

	(void)state;
	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	uint8_t *e = madt_add(&m, 5, 12);
	put64(e + 4, 0x1234fee00000ULL);
	madt_end(&m);
	assert_int_equal(parse_madt(&m, m.len, &mi, err), 0);
	assert_int_equal(mi.lapic_addr, 0x1234fee00000ULL);
	assert_false(mi.pcat_compat);
	assert_int_equal(mi.ncpus, 1);
	assert_int_equal(mi.ncpus_disabled, 0);
	assert_int_equal(mi.nioapics, 0);
	assert_int_equal(mi.noverrides, 0);
}

/* Entry lengths longer than needed are fine (later ACPI revisions add fields). */
static void test_madt_long_entries(void **state)
{
	struct madt m;

	(void)state;
	madt_begin(&m, 0xfee00000, 0);
	uint8_t *e = madt_add(&m, 0, 12);
	e[2] = 7;
	e[3] = 3;
	put32(e + 4, 1);
	e = madt_add(&m, 9, 24);
	put32(e + 4, 0x200);
	put32(e + 8, 3);
	put32(e + 12, 9);
	madt_end(&m);
	assert_int_equal(parse_madt(&m, m.len, &mi, err), 0);
	assert_int_equal(mi.ncpus, 2);
	assert_int_equal(mi.cpus[0].apic_id, 3);
	assert_int_equal(mi.cpus[0].uid, 7);
	assert_int_equal(mi.cpus[1].apic_id, 0x200);
	assert_int_equal(mi.cpus[1].uid, 9);
}

static void test_madt_duplicate_id(void **state)
{
	struct madt m;

	(void)state;
	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 1, 1);
	madt_lapic(&m, 2, 1, 1);
	EXPECT_MADT_FAIL(&m, "acpi: MADT lists APIC id 1 twice");

	/* across xAPIC and x2APIC entries */
	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 5, 2);
	madt_x2apic(&m, 5, 1, 1);
	EXPECT_MADT_FAIL(&m, "acpi: MADT lists APIC id 5 twice");

	/* disabled entries are not CPUs, so they may repeat ids */
	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 0, 0);
	madt_lapic(&m, 2, 0, 0);
	madt_end(&m);
	assert_int_equal(parse_madt(&m, m.len, &mi, err), 0);
	assert_int_equal(mi.ncpus, 1);
	assert_int_equal(mi.ncpus_disabled, 2);
}

static void test_madt_bad_entry_length(void **state)
{
	struct madt m;

	(void)state;
	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_add(&m, 0, 0);
	m.len += 8; /* bytes after it so that only the length is wrong */
	EXPECT_MADT_FAIL(&m, "acpi: MADT entry type 0 at offset 52 has bad length 0");

	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_add(&m, 0x7f, 1);
	m.len += 8;
	EXPECT_MADT_FAIL(&m, "acpi: MADT entry type 127 at offset 52 has bad length 1");

	/* an entry running past the end of the table */
	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 1, 1);
	m.b[m.len - 7] = 9;
	EXPECT_MADT_FAIL(&m, "acpi: MADT entry type 0 at offset 52 has bad length 9");

	/* one byte left: not even a header */
	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	m.len += 1;
	EXPECT_MADT_FAIL(&m, "acpi: MADT entry at offset 52 is truncated");

	static const struct {
		uint8_t type, len;
	} short_ones[] = {{0, 7}, {1, 11}, {2, 9}, {5, 11}, {9, 15}, {0, 2}, {9, 8}};
	for (size_t i = 0; i < sizeof(short_ones) / sizeof(short_ones[0]); i++) {
		char want[96];
		madt_begin(&m, 0xfee00000, 0);
		madt_lapic(&m, 0, 0, 1);
		madt_add(&m, short_ones[i].type, short_ones[i].len);
		snprintf(want, sizeof(want), "acpi: MADT entry type %u at offset 52 too short (%u)",
			 short_ones[i].type, short_ones[i].len);
		EXPECT_MADT_FAIL(&m, want);
	}
}

static void test_madt_limits(void **state)
{
	struct madt m;

	(void)state;
	madt_begin(&m, 0xfee00000, 0);
	for (uint32_t i = 0; i < MADT_MAX_CPUS; i++)
		madt_x2apic(&m, i, i, 1);
	madt_end(&m);
	assert_int_equal(parse_madt(&m, m.len, &mi, err), 0);
	assert_int_equal(mi.ncpus, MADT_MAX_CPUS);
	assert_int_equal(mi.cpus[255].apic_id, 255);
	madt_x2apic(&m, 1000, 1000, 0); /* a disabled one more is fine */
	madt_end(&m);
	assert_int_equal(parse_madt(&m, m.len, &mi, err), 0);
	madt_x2apic(&m, 1001, 1001, 1);
	EXPECT_MADT_FAIL(&m, "acpi: MADT lists more than 256 CPUs");

	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	for (uint8_t i = 0; i < MADT_MAX_IOAPICS; i++)
		madt_ioapic(&m, i, 0xfec00000 + i * 0x1000u, i * 24u);
	madt_end(&m);
	assert_int_equal(parse_madt(&m, m.len, &mi, err), 0);
	assert_int_equal(mi.nioapics, 16);
	assert_int_equal(mi.ioapics[15].gsi_base, 360);
	madt_ioapic(&m, 99, 0xfed00000, 999);
	EXPECT_MADT_FAIL(&m, "acpi: MADT lists more than 16 IOAPICs");

	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	for (uint8_t i = 0; i < MADT_MAX_OVERRIDES; i++)
		madt_iso(&m, 0, i, i, 5);
	madt_end(&m);
	assert_int_equal(parse_madt(&m, m.len, &mi, err), 0);
	assert_int_equal(mi.noverrides, 24);
	madt_iso(&m, 0, 30, 30, 5);
	EXPECT_MADT_FAIL(&m, "acpi: MADT has more than 24 overrides");
}

static void test_madt_no_cpu(void **state)
{
	struct madt m;

	(void)state;
	madt_begin(&m, 0xfee00000, 1);
	madt_ioapic(&m, 0, 0xfec00000, 0);
	EXPECT_MADT_FAIL(&m, "acpi: MADT lists no usable CPU");

	madt_begin(&m, 0xfee00000, 1);
	madt_lapic(&m, 0, 0, 0);
	madt_x2apic(&m, 1, 1, 0);
	EXPECT_MADT_FAIL(&m, "acpi: MADT lists no usable CPU");

	madt_begin(&m, 0xfee00000, 1);
	EXPECT_MADT_FAIL(&m, "acpi: MADT lists no usable CPU");
}

static void test_madt_bad_header(void **state)
{
	struct madt m;

	(void)state;
	build_typical_madt(&m);
	assert_int_equal(parse_madt(&m, 43, &mi, err), -1);
	EXPECT_ERR("acpi: MADT header is invalid (length 43)");
	assert_int_equal(parse_madt(&m, 0, &mi, err), -1);
	EXPECT_ERR("acpi: MADT header is invalid (length 0)");
	/* the length field disagrees with the length given */
	assert_int_equal(parse_madt(&m, m.len - 8, &mi, err), -1);
	EXPECT_ERR("acpi: MADT header is invalid");
	m.b[0] = 'X';
	assert_int_equal(parse_madt(&m, m.len, &mi, err), -1);
	EXPECT_ERR("acpi: MADT header is invalid");
}

/* ---- root tables ---- */

#define RSDT_PA	 0x1000
#define XSDT_PA	 0x1800
#define MADT_PA	 0x2000
#define MADT2_PA (HIGH_BASE + 0x3000)
#define FACP_PA	 0x6000
#define SSDT_PA	 0x7000

static uint8_t rsdp_v1[20], rsdp_v2[36];

static void make_rsdp(void)
{
	memset(rsdp_v1, 0, sizeof(rsdp_v1));
	memcpy(rsdp_v1, "RSD PTR ", 8);
	put32(rsdp_v1 + 16, RSDT_PA);
	rsdp_v1[8] = (uint8_t)-sum8(rsdp_v1, 20);

	memset(rsdp_v2, 0, sizeof(rsdp_v2));
	memcpy(rsdp_v2, "RSD PTR ", 8);
	rsdp_v2[15] = 2;
	put32(rsdp_v2 + 16, RSDT_PA);
	put32(rsdp_v2 + 20, 36);
	put64(rsdp_v2 + 24, XSDT_PA);
	rsdp_v2[8] = (uint8_t)-sum8(rsdp_v2, 20);
	rsdp_v2[32] = (uint8_t)-sum8(rsdp_v2, 36);
}

static void make_rsdt(const uint32_t *ptrs, unsigned n)
{
	uint8_t *t = phys(RSDT_PA);

	sdt_header(t, "RSDT", 36 + 4 * n);
	for (unsigned i = 0; i < n; i++)
		put32(t + 36 + 4 * i, ptrs[i]);
	sdt_fix(t);
}

static void make_xsdt(const uint64_t *ptrs, unsigned n)
{
	uint8_t *t = phys(XSDT_PA);

	sdt_header(t, "XSDT", 36 + 8 * n);
	for (unsigned i = 0; i < n; i++)
		put64(t + 36 + 8 * i, ptrs[i]);
	sdt_fix(t);
}

static uint32_t madt_len, madt2_len;

static int acpi_setup(void **state)
{
	struct madt m;

	(void)state;
	memset(&mem, 0, sizeof(mem));
	mem.low = calloc(1, LOW_SIZE);
	mem.high = calloc(1, HIGH_SIZE);
	if (!mem.low || !mem.high)
		return -1;
	make_rsdp();

	build_typical_madt(&m);
	memcpy(phys(MADT_PA), m.b, m.len);
	madt_len = m.len;

	madt_begin(&m, 0xfee00000, 0);
	madt_x2apic(&m, 0x42, 1, 1);
	madt_end(&m);
	memcpy(phys(MADT2_PA), m.b, m.len);
	madt2_len = m.len;

	uint8_t *f = phys(FACP_PA);
	sdt_header(f, "FACP", 116);
	put32(f + 64, 0x604);
	sdt_fix(f);

	uint8_t *s = phys(SSDT_PA);
	sdt_header(s, "SSDT", 40);
	sdt_fix(s);

	const uint32_t r[] = {SSDT_PA, FACP_PA, MADT_PA};
	make_rsdt(r, 3);
	const uint64_t x[] = {SSDT_PA, FACP_PA, MADT2_PA};
	make_xsdt(x, 3);
	return 0;
}

static int acpi_teardown(void **state)
{
	(void)state;
	free(mem.low);
	free(mem.high);
	return 0;
}

static int find(const uint8_t *rsdp, unsigned rsdp_len, const char *sig, const void **t,
		uint32_t *len)
{
	memset(err, 0, sizeof(err));
	*t = NULL;
	*len = 0;
	return acpi_find_table(rsdp, rsdp_len, sig, map, &mem, t, len, err);
}

static void test_find_rsdt(void **state)
{
	const void *t;
	uint32_t len;

	(void)state;
	assert_int_equal(find(rsdp_v1, 20, "APIC", &t, &len), 0);
	assert_ptr_equal(t, phys(MADT_PA));
	assert_int_equal(len, madt_len);
	assert_int_equal(madt_parse(t, len, &mi, err), 0);
	assert_int_equal(mi.ncpus, 4);

	assert_int_equal(find(rsdp_v1, 20, "FACP", &t, &len), 0);
	assert_ptr_equal(t, phys(FACP_PA));
	assert_int_equal(len, 116);
	assert_int_equal(fadt_pm1a_cnt(t, len), 0x604);

	assert_int_equal(find(rsdp_v1, 20, "SSDT", &t, &len), 0);
	assert_ptr_equal(t, phys(SSDT_PA));
	assert_int_equal(len, 40);

	assert_int_equal(find(rsdp_v1, 20, "HPET", &t, &len), 1);
	assert_null(t);
}

/* With an ACPI 2.0 RSDP the XSDT (64-bit pointers) is used, not the RSDT. */
static void test_find_xsdt(void **state)
{
	const void *t;
	uint32_t len;

	(void)state;
	assert_int_equal(find(rsdp_v2, 36, "APIC", &t, &len), 0);
	assert_ptr_equal(t, phys(MADT2_PA));
	assert_int_equal(len, madt2_len);
	assert_int_equal(madt_parse(t, len, &mi, err), 0);
	assert_int_equal(mi.ncpus, 1);
	assert_int_equal(mi.cpus[0].apic_id, 0x42);
	assert_int_equal(find(rsdp_v2, 36, "FACP", &t, &len), 0);
	assert_int_equal(fadt_pm1a_cnt(t, len), 0x604);
	assert_int_equal(find(rsdp_v2, 36, "DSDT", &t, &len), 1);

	/* the first 20 bytes alone: the RSDT */
	assert_int_equal(find(rsdp_v2, 20, "APIC", &t, &len), 0);
	assert_ptr_equal(t, phys(MADT_PA));

	/* a 2.0 RSDP with no XSDT address falls back to the RSDT */
	put64(rsdp_v2 + 24, 0);
	assert_int_equal(find(rsdp_v2, 36, "APIC", &t, &len), 0);
	assert_ptr_equal(t, phys(MADT_PA));
}

static void test_find_no_rsdp(void **state)
{
	const void *t;
	uint32_t len;

	(void)state;
	assert_int_equal(find(rsdp_v1, 0, "APIC", &t, &len), -1);
	EXPECT_ERR("acpi: no RSDP");
	assert_int_equal(find(rsdp_v1, 19, "APIC", &t, &len), -1);
	EXPECT_ERR("acpi: no RSDP");
}

static void test_find_bad_root(void **state)
{
	const void *t;
	uint32_t len;
	uint8_t *r = phys(RSDT_PA);

	(void)state;
	/* checksum */
	r[20] ^= 0x55;
	assert_int_equal(find(rsdp_v1, 20, "APIC", &t, &len), -1);
	EXPECT_ERR("acpi: table RSDT at 0x1000 is unmapped or has a bad checksum");
	r[20] ^= 0x55;

	/* signature */
	memcpy(r, "XSDT", 4);
	sdt_fix(r);
	assert_int_equal(find(rsdp_v1, 20, "APIC", &t, &len), -1);
	EXPECT_ERR("acpi: root table has signature XSDT");
	assert_int_equal(find(rsdp_v2, 36, "APIC", &t, &len), 0); /* the XSDT is still good */

	/* length too short and too long */
	memcpy(r, "RSDT", 4);
	put32(r + 4, 35);
	assert_int_equal(find(rsdp_v1, 20, "APIC", &t, &len), -1);
	EXPECT_ERR("acpi: table RSDT at 0x1000 has bad length 35");
	put32(r + 4, (uint32_t)ACPI_TABLE_MAX + 1);
	assert_int_equal(find(rsdp_v1, 20, "APIC", &t, &len), -1);
	EXPECT_ERR("acpi: table RSDT at 0x1000 has bad length 1048577");

	/* a length that runs out of mapped memory */
	put32(r + 4, LOW_SIZE);
	assert_int_equal(find(rsdp_v1, 20, "APIC", &t, &len), -1);
	EXPECT_ERR("acpi: table RSDT at 0x1000 is unmapped or has a bad checksum");

	/* the root pointer leads nowhere */
	put32(rsdp_v1 + 16, 0xdead0000);
	assert_int_equal(find(rsdp_v1, 20, "APIC", &t, &len), -1);
	EXPECT_ERR("acpi: table at 0xdead0000 is not in mapped memory");
	put64(rsdp_v2 + 24, 0x123400000000ULL);
	assert_int_equal(find(rsdp_v2, 36, "APIC", &t, &len), -1);
	EXPECT_ERR("acpi: table at 0x123400000000 is not in mapped memory");

	/* a callback that maps nothing */
	memset(err, 0, sizeof(err));
	assert_int_equal(acpi_find_table(rsdp_v2, 36, "APIC", map_nothing, NULL, &t, &len, err),
			 -1);
	EXPECT_ERR("is not in mapped memory");
}

static void test_find_bad_table(void **state)
{
	const void *t;
	uint32_t len;
	uint8_t *m = phys(MADT_PA);

	(void)state;
	m[50] ^= 1;
	assert_int_equal(find(rsdp_v1, 20, "APIC", &t, &len), -1);
	EXPECT_ERR("acpi: table APIC at 0x2000 is unmapped or has a bad checksum");
	m[50] ^= 1;
	assert_int_equal(find(rsdp_v1, 20, "APIC", &t, &len), 0);

	put32(m + 4, 20);
	assert_int_equal(find(rsdp_v1, 20, "APIC", &t, &len), -1);
	EXPECT_ERR("acpi: table APIC at 0x2000 has bad length 20");

	/* header mapped, body not */
	put32(m + 4, madt_len);
	mem.hole_base = MADT_PA + 40;
	mem.hole_len = 1;
	assert_int_equal(find(rsdp_v1, 20, "APIC", &t, &len), -1);
	EXPECT_ERR("acpi: table APIC at 0x2000 is unmapped or has a bad checksum");

	/* header unmapped: the entry is skipped like any unreachable table */
	mem.hole_base = MADT_PA;
	assert_int_equal(find(rsdp_v1, 20, "APIC", &t, &len), 1);
	mem.hole_len = 0;
}

/* Entries that point nowhere are skipped; a later good one is still found. */
static void test_find_skips_unreachable(void **state)
{
	const void *t;
	uint32_t len;
	const uint32_t r[] = {0, 0xfffffff0, LOW_SIZE - 8, FACP_PA, MADT_PA};
	const uint64_t x[] = {UINT64_MAX, HIGH_BASE + HIGH_SIZE - 4, MADT2_PA};

	(void)state;
	make_rsdt(r, 5);
	assert_int_equal(find(rsdp_v1, 20, "APIC", &t, &len), 0);
	assert_ptr_equal(t, phys(MADT_PA));
	make_xsdt(x, 3);
	assert_int_equal(find(rsdp_v2, 36, "APIC", &t, &len), 0);
	assert_ptr_equal(t, phys(MADT2_PA));
	assert_int_equal(find(rsdp_v2, 36, "FACP", &t, &len), 1);

	/* a trailing partial pointer is ignored */
	uint8_t *rs = phys(RSDT_PA);
	const uint32_t one[] = {FACP_PA, MADT_PA};
	make_rsdt(one, 2);
	put32(rs + 4, 36 + 4 + 3);
	sdt_fix(rs);
	assert_int_equal(find(rsdp_v1, 20, "FACP", &t, &len), 0);
	assert_int_equal(find(rsdp_v1, 20, "APIC", &t, &len), 1);

	/* an empty root table */
	make_rsdt(NULL, 0);
	assert_int_equal(find(rsdp_v1, 20, "FACP", &t, &len), 1);
}

/* The first matching table is the one returned, even if a later one is good. */
static void test_find_first_match(void **state)
{
	const void *t;
	uint32_t len;
	const uint32_t r[] = {MADT_PA, FACP_PA, 0x8000};

	(void)state;
	memcpy(phys(0x8000), phys(MADT_PA), madt_len);
	make_rsdt(r, 3);
	assert_int_equal(find(rsdp_v1, 20, "APIC", &t, &len), 0);
	assert_ptr_equal(t, phys(MADT_PA));
	phys(MADT_PA)[60] ^= 0xff;
	assert_int_equal(find(rsdp_v1, 20, "APIC", &t, &len), -1);
	EXPECT_ERR("acpi: table APIC at 0x2000 is unmapped or has a bad checksum");
}

static void test_fadt(void **state)
{
	uint8_t f[244];

	(void)state;
	memset(f, 0, sizeof(f));
	sdt_header(f, "FACP", sizeof(f));
	put32(f + 64, 0xb004);
	assert_int_equal(fadt_pm1a_cnt(f, sizeof(f)), 0xb004);
	assert_int_equal(fadt_pm1a_cnt(f, 68), 0xb004);
	assert_int_equal(fadt_pm1a_cnt(f, 67), 0);
	assert_int_equal(fadt_pm1a_cnt(f, 0), 0);
	put32(f + 64, 0);
	assert_int_equal(fadt_pm1a_cnt(f, sizeof(f)), 0);
	put32(f + 64, 0x404);
	memcpy(f, "FACS", 4);
	assert_int_equal(fadt_pm1a_cnt(f, sizeof(f)), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, acpi_setup, acpi_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_madt_typical),
		cmocka_unit_test(test_madt_lapic_override),
		cmocka_unit_test(test_madt_long_entries),
		cmocka_unit_test(test_madt_duplicate_id),
		cmocka_unit_test(test_madt_bad_entry_length),
		cmocka_unit_test(test_madt_limits),
		cmocka_unit_test(test_madt_no_cpu),
		cmocka_unit_test(test_madt_bad_header),
		T(test_find_rsdt),
		T(test_find_xsdt),
		T(test_find_no_rsdp),
		T(test_find_bad_root),
		T(test_find_bad_table),
		T(test_find_skips_unreachable),
		T(test_find_first_match),
		cmocka_unit_test(test_fadt),
	};

	return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
