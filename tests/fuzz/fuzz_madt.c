/*
 * libFuzzer target: hv/platform/acpi.c. The input is parsed as a MADT (as given, then with a valid
 * header forced on it) and is also taken as a small physical memory image mapped at address 0,
 * with an RSDP at offset 0, through which acpi_find_table walks RSDT/XSDT to the tables.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "platform/acpi.h"

#define CHECK(c)                          \
	do {                              \
		if (!(c))                 \
			__builtin_trap(); \
	} while (0)

struct image {
	const uint8_t *mem;
	size_t size;
};

/* Maps only what lies inside the image; everything else is unreachable. */
static const void *map(void *ctx, uint64_t pa, size_t len)
{
	const struct image *im = ctx;

	if (pa >= im->size || len > im->size - pa)
		return NULL;
	return im->mem + pa;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static void check_err(const char *err)
{
	CHECK(memchr(err, '\0', ACPI_ERR_LEN) && !strncmp(err, "acpi: ", 6));
}

static void check_madt(const struct madt_info *mi)
{
	CHECK(mi->ncpus >= 1 && mi->ncpus <= MADT_MAX_CPUS);
	CHECK(mi->nioapics <= MADT_MAX_IOAPICS);
	CHECK(mi->noverrides <= MADT_MAX_OVERRIDES);
	for (unsigned i = 0; i < mi->ncpus; i++)
		for (unsigned j = 0; j < i; j++)
			CHECK(mi->cpus[i].apic_id != mi->cpus[j].apic_id);
}

static void parse_madt(const uint8_t *t, uint32_t len)
{
	static struct madt_info mi;
	char err[ACPI_ERR_LEN];

	if (madt_parse(t, len, &mi, err) == 0)
		check_madt(&mi);
	else
		check_err(err);
}

static void fix_sum(uint8_t *t, uint32_t len)
{
	uint8_t s = 0;

	t[9] = 0;
	for (uint32_t i = 0; i < len; i++)
		s += t[i];
	t[9] = (uint8_t)-s;
}

/* Sets the checksum of the table at pa if its header and length lie inside the image. */
static void fix_table(uint8_t *mem, size_t size, uint64_t pa)
{
	uint32_t len;

	if (pa >= size || size - pa < 36)
		return;
	len = rd32(mem + pa + 4);
	if (len >= 36 && len <= size - pa)
		fix_sum(mem + pa, len);
}

/*
 * Byte 9 of the RSDP (first OEM id byte; acpi_find_table does not look at it) asks for the
 * checksums to be repaired, so that mutations reach past the checksum checks.
 */
static void fix_checksums(uint8_t *mem, size_t size, bool wide)
{
	uint64_t root = wide ? rd64(mem + 24) : rd32(mem + 16);
	uint32_t esize = wide ? 8 : 4, len;

	if (root >= size || size - root < 36)
		return;
	len = rd32(mem + root + 4);
	if (len < 36 || len > size - root)
		return;
	for (uint32_t off = 36; off + esize <= len; off += esize) {
		uint64_t pa = wide ? rd64(mem + root + off) : rd32(mem + root + off);
		if (pa != root)
			fix_table(mem, size, pa);
	}
	fix_sum(mem + root, len);
}

static void walk(uint8_t *mem, size_t size)
{
	static const char *const sigs[] = {"APIC", "FACP", "SSDT", "XSDT"};
	struct image im = {mem, size};
	uint8_t rsdp[36];
	unsigned rsdp_len;

	if (size < 36)
		return;
	memcpy(rsdp, mem, 36);
	rsdp_len = rsdp[15] >= 2 ? 36 : 20; /* as the multiboot2 parser would hand it over */
	if (rsdp[9] & 1)
		fix_checksums(mem, size, rsdp_len == 36 && rd64(rsdp + 24) != 0);
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		char err[ACPI_ERR_LEN];
		const void *t = NULL;
		uint32_t len = 0;
		int rc = acpi_find_table(rsdp, rsdp_len, sigs[i], map, &im, &t, &len, err);

		if (rc < 0) {
			check_err(err);
			continue;
		}
		CHECK(rc == 0 || rc == 1);
		if (rc == 1)
			continue;
		const uint8_t *tb = t;
		CHECK(tb >= mem && len >= 36 && len <= ACPI_TABLE_MAX);
		CHECK((size_t)(tb - mem) <= size && len <= size - (size_t)(tb - mem));
		CHECK(!memcmp(tb, sigs[i], 4) && rd32(tb + 4) == len);
		uint8_t s = 0;
		for (uint32_t k = 0; k < len; k++)
			s += tb[k];
		CHECK(s == 0);
		if (i == 0)
			parse_madt(tb, len);
		else if (i == 1)
			(void)fadt_pm1a_cnt(tb, len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;

	if (size > MiB(1))
		return 0;
	/* exact-size heap copies, so that any read past the end is caught */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;

	/* 1: the input as a MADT, as is */
	memcpy(buf, data, size);
	parse_madt(buf, (uint32_t)size);
	(void)fadt_pm1a_cnt(buf, (uint32_t)size);

	/* 2: the same with a valid header, to reach the entries */
	if (size >= 8) {
		uint32_t len = (uint32_t)size;
		memcpy(buf, "APIC", 4);
		memcpy(buf + 4, &len, 4);
		parse_madt(buf, len);
	}

	/* 3: the input as physical memory with an RSDP at 0 */
	memcpy(buf, data, size);
	walk(buf, size);

	free(buf);
	return 0;
}
