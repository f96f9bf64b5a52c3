/* ACPI table walking and MADT parsing. Pure code over a mapping callback; fuzzed on the host. */
#include "acpi.h"
#include "../lib/bytes.h"
#include "../lib/printf.h"

#define fail(err, ...) fmt_error(err, ACPI_ERR_LEN, __VA_ARGS__)

#define SDT_HDR_LEN 36

/* The MADT entries read (NMI sources and LINT NMIs are not) */
enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_ISO = 2, MADT_LAPIC_ADDR = 5, MADT_X2APIC = 9 };

/* Maps a whole table at pa (*t) after checking its header; -1 (with err) if anything is off. */
static int map_table(uint64_t pa, acpi_map_fn map, void *ctx, const uint8_t **t, uint32_t *len,
		     char *err)
{
	const uint8_t *h = map(ctx, pa, SDT_HDR_LEN);

	if (!h)
		return fail(err, "acpi: table at %#lx is not in mapped memory", pa);
	*len = get_le32(h + 4);
	if (*len < SDT_HDR_LEN || *len > ACPI_TABLE_MAX)
		return fail(err, "acpi: table %.4s at %#lx has bad length %u", (const char *)h, pa,
			    *len);
	*t = map(ctx, pa, *len);
	if (!*t || !sum_ok(*t, *len))
		return fail(err, "acpi: table %.4s at %#lx is unmapped or has a bad checksum",
			    (const char *)h, pa);
	return 0;
}

int acpi_find_table(const uint8_t *rsdp, unsigned rsdp_len, const char sig[4], acpi_map_fn map,
		    void *ctx, const void **table, uint32_t *len, char err[ACPI_ERR_LEN])
{
	uint64_t xsdt = rsdp_len >= 36 ? get_le64(rsdp + 24) : 0;
	bool wide = xsdt != 0;
	uint32_t rlen, esize = wide ? 8 : 4;
	const uint8_t *root, *t;

	if (rsdp_len < 20)
		return fail(err, "acpi: no RSDP");
	if (map_table(wide ? xsdt : get_le32(rsdp + 16), map, ctx, &root, &rlen, err))
		return -1;
	if (__builtin_memcmp(root, wide ? "XSDT" : "RSDT", 4))
		return fail(err, "acpi: root table has signature %.4s", (const char *)root);
	for (uint32_t off = SDT_HDR_LEN; off + esize <= rlen; off += esize) {
		uint64_t pa = wide ? get_le64(root + off) : get_le32(root + off);
		const uint8_t *h = map(ctx, pa, SDT_HDR_LEN);

		if (!h || __builtin_memcmp(h, sig, 4))
			continue; /* unreachable or another table */
		if (map_table(pa, map, ctx, &t, len, err))
			return -1;
		*table = t;
		return 0;
	}
	return 1;
}

static int add_cpu(struct madt_info *mi, uint32_t apic_id, uint32_t uid, uint32_t flags, char *err)
{
	if (!(flags & 3)) { /* neither enabled nor online-capable */
		mi->ncpus_disabled++;
		return 0;
	}
	for (unsigned i = 0; i < mi->ncpus; i++)
		if (mi->cpus[i].apic_id == apic_id)
			return fail(err, "acpi: MADT lists APIC id %u twice", apic_id);
	if (mi->ncpus == MADT_MAX_CPUS)
		return fail(err, "acpi: MADT lists more than %u CPUs", MADT_MAX_CPUS);
	mi->cpus[mi->ncpus++] = (struct madt_cpu){apic_id, uid};
	return 0;
}

/* Minimum length of each entry type we read; 0 = skipped type. */
static const uint8_t madt_min_len[] = {
	[MADT_LAPIC] = 8,	[MADT_IOAPIC] = 12, [MADT_ISO] = 10,
	[MADT_LAPIC_ADDR] = 12, [MADT_X2APIC] = 16,
};

static int madt_entry(struct madt_info *mi, const uint8_t *e, char *err)
{
	switch (e[0]) {
	case MADT_LAPIC:
		return add_cpu(mi, e[3], e[2], get_le32(e + 4), err);
	case MADT_X2APIC:
		return add_cpu(mi, get_le32(e + 4), get_le32(e + 12), get_le32(e + 8), err);
	case MADT_IOAPIC:
		if (mi->nioapics == MADT_MAX_IOAPICS)
			return fail(err, "acpi: MADT lists more than %u IOAPICs", MADT_MAX_IOAPICS);
		mi->ioapics[mi->nioapics++] =
			(struct madt_ioapic){e[2], get_le32(e + 4), get_le32(e + 8)};
		break;
	case MADT_ISO:
		if (mi->noverrides == MADT_MAX_OVERRIDES)
			return fail(err, "acpi: MADT has more than %u overrides",
				    MADT_MAX_OVERRIDES);
		mi->overrides[mi->noverrides++] = (struct madt_override){
			e[2], e[3], (uint16_t)(e[8] | e[9] << 8), get_le32(e + 4)};
		break;
	case MADT_LAPIC_ADDR:
		mi->lapic_addr = get_le64(e + 4);
		break;
	}
	return 0; /* and the types not read */
}

int madt_parse(const void *madt, uint32_t len, struct madt_info *mi, char err[ACPI_ERR_LEN])
{
	const uint8_t *t = madt;

	__builtin_memset(mi, 0, sizeof(*mi));
	if (len < SDT_HDR_LEN + 8 || __builtin_memcmp(t, "APIC", 4) || get_le32(t + 4) != len)
		return fail(err, "acpi: MADT header is invalid (length %u)", len);
	mi->lapic_addr = get_le32(t + 36);
	mi->pcat_compat = get_le32(t + 40) & 1;
	for (uint32_t off = SDT_HDR_LEN + 8; off < len;) {
		const uint8_t *e = t + off;
		uint8_t elen;

		if (len - off < 2)
			return fail(err, "acpi: MADT entry at offset %u is truncated", off);
		elen = e[1];
		if (elen < 2 || elen > len - off)
			return fail(err, "acpi: MADT entry type %u at offset %u has bad length %u",
				    e[0], off, elen);
		if (e[0] < sizeof(madt_min_len) && elen < madt_min_len[e[0]])
			return fail(err, "acpi: MADT entry type %u at offset %u too short (%u)",
				    e[0], off, elen);
		if (madt_entry(mi, e, err))
			return -1;
		off += elen;
	}
	if (mi->ncpus == 0)
		return fail(err, "acpi: MADT lists no usable CPU");
	return 0;
}

uint32_t fadt_pm1a_cnt(const void *fadt, uint32_t len)
{
	const uint8_t *t = fadt;

	if (len < 68 || __builtin_memcmp(t, "FACP", 4))
		return 0;
	return get_le32(t + 64);
}
