/* Multiboot2 info parser and memory-map sanitizer. Pure code: unit-tested and fuzzed on the host.
 */
#include "mb2.h"
#include "../lib/bytes.h"
#include "../lib/printf.h"

#define fail(bi, ...) fmt_error((bi)->err, sizeof((bi)->err), __VA_ARGS__)

enum { TAG_END = 0, TAG_CMDLINE = 1, TAG_LOADER = 2, TAG_MODULE = 3, TAG_MMAP = 6 };
enum { TAG_ACPI_OLD = 14, TAG_ACPI_NEW = 15 };

struct parse {
	const uint8_t *p;
	uint32_t total;
	struct boot_info *bi;
	struct mem_range raw[MB2_MAX_MMAP];
	unsigned nraw;
	bool have_mmap;
};

/* A string field at [off, off+len): must hold a NUL. */
static const char *tag_string(const struct parse *ps, uint32_t off, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (ps->p[off + i] == '\0')
			return (const char *)ps->p + off;
	return NULL;
}

static int parse_string_tag(struct parse *ps, uint32_t off, uint32_t size, const char **dst,
			    const char *what)
{
	if (*dst)
		return fail(ps->bi, "mb2: duplicate %s tag at offset %u", what, off);
	*dst = tag_string(ps, off + 8, size - 8);
	if (!*dst)
		return fail(ps->bi, "mb2: %s tag at offset %u is not NUL-terminated", what, off);
	return 0;
}

static int parse_module(struct parse *ps, uint32_t off, uint32_t size)
{
	struct boot_info *bi = ps->bi;
	struct boot_module *m;

	if (size < 17)
		return fail(bi, "mb2: module tag at offset %u too short (%u bytes)", off, size);
	if (bi->nmods == MB2_MAX_MODS)
		return fail(bi, "mb2: more than %u modules", MB2_MAX_MODS);
	m = &bi->mods[bi->nmods];
	m->start = get_le32(ps->p + off + 8);
	m->end = get_le32(ps->p + off + 12);
	m->cmdline = tag_string(ps, off + 16, size - 16);
	if (!m->cmdline)
		return fail(bi, "mb2: module %u string is not NUL-terminated", bi->nmods);
	if (m->end < m->start)
		return fail(bi, "mb2: module %u ends (%#lx) before it starts (%#lx)", bi->nmods,
			    m->end, m->start);
	bi->nmods++;
	return 0;
}

static int parse_mmap(struct parse *ps, uint32_t off, uint32_t size)
{
	struct boot_info *bi = ps->bi;
	uint32_t esize, eversion;

	if (ps->have_mmap)
		return fail(bi, "mb2: duplicate memory map tag at offset %u", off);
	ps->have_mmap = true;
	if (size < 16)
		return fail(bi, "mb2: memory map tag at offset %u too short (%u bytes)", off, size);
	esize = get_le32(ps->p + off + 8);
	eversion = get_le32(ps->p + off + 12);
	if (esize < 24 || esize % 8)
		return fail(bi, "mb2: memory map entry size %u is invalid", esize);
	if (eversion != 0)
		return fail(bi, "mb2: memory map entry version %u is unknown", eversion);
	if ((size - 16) % esize)
		return fail(bi, "mb2: memory map truncated (%u bytes of entries, entry size %u)",
			    size - 16, esize);
	for (uint32_t e = off + 16; e < off + size; e += esize) {
		uint64_t base = get_le64(ps->p + e), len = get_le64(ps->p + e + 8);
		uint32_t type = get_le32(ps->p + e + 16);
		unsigned idx = (e - off - 16) / esize;

		if (len == 0)
			continue; /* empty entries describe nothing */
		if (base >= MB2_PHYS_LIMIT || len > MB2_PHYS_LIMIT - base)
			return fail(bi, "mb2: memory map entry %u [%#lx +%#lx] exceeds 2^52", idx,
				    base, len);
		if (ps->nraw == MB2_MAX_MMAP)
			return fail(bi, "mb2: more than %u memory map entries", MB2_MAX_MMAP);
		for (unsigned i = 0; i < ps->nraw; i++) /* each pair of overlapping entries once */
			if (ps->raw[i].base < base + len && base < ps->raw[i].base + ps->raw[i].len)
				bi->mmap_conflicts++;
		ps->raw[ps->nraw++] = (struct mem_range){base, len, type};
	}
	return 0;
}

static int parse_acpi(struct parse *ps, uint32_t off, uint32_t size, bool v2)
{
	struct boot_info *bi = ps->bi;
	const uint8_t *r = ps->p + off + 8;
	uint32_t payload = size - 8, need = v2 ? 36 : 20;
	const char *what = v2 ? "new" : "old";

	if (payload < need)
		return fail(bi, "mb2: ACPI %s RSDP tag too short (%u bytes)", what, payload);
	if (__builtin_memcmp(r, "RSD PTR ", 8) || !sum_ok(r, 20))
		return fail(bi, "mb2: ACPI %s RSDP has a bad signature or checksum", what);
	if (v2) {
		uint32_t len = get_le32(r + 20);
		if (r[15] < 2 || len < 36 || len > payload || !sum_ok(r, len))
			return fail(bi, "mb2: ACPI new RSDP revision %u length %u is invalid",
				    r[15], len);
	} else if (bi->rsdp_len == 36) {
		return 0; /* keep the ACPI 2.0 one */
	}
	__builtin_memcpy(bi->rsdp, r, need);
	bi->rsdp_len = need;
	return 0;
}

static int parse_tag(struct parse *ps, uint32_t off, uint32_t type, uint32_t size)
{
	switch (type) {
	case TAG_CMDLINE:
		return parse_string_tag(ps, off, size, &ps->bi->cmdline, "command line");
	case TAG_LOADER:
		return parse_string_tag(ps, off, size, &ps->bi->loader, "loader name");
	case TAG_MODULE:
		return parse_module(ps, off, size);
	case TAG_MMAP:
		return parse_mmap(ps, off, size);
	case TAG_ACPI_OLD:
	case TAG_ACPI_NEW:
		return parse_acpi(ps, off, size, type == TAG_ACPI_NEW);
	default:
		return 0; /* tags we do not use */
	}
}

/* Higher rank wins where input ranges overlap: anything beats available RAM. */
static unsigned type_rank(uint32_t type)
{
	static const uint8_t rank[] = {[0] = 4,
				       [MEM_AVAILABLE] = 0,
				       [MEM_RESERVED] = 4,
				       [MEM_ACPI_RECLAIM] = 1,
				       [MEM_ACPI_NVS] = 2,
				       [MEM_BAD] = 3};

	return type < ARRAY_SIZE(rank) ? rank[type] : 4;
}

/*
 * Cuts the raw entries into pieces at every entry boundary, from address 0 upwards; each piece
 * takes the highest-ranked covering type.
 */
static int sanitize_mmap(struct parse *ps)
{
	struct boot_info *bi = ps->bi; /* zeroed by mb2_parse: no ranges yet */

	for (uint64_t a = 0, b;; a = b) {
		int best = -1;

		b = ~0ULL; /* the lowest boundary above a: [a, b) is the next piece */
		for (unsigned i = 0; i < ps->nraw; i++) {
			uint64_t base = ps->raw[i].base, end = base + ps->raw[i].len;

			if (base > a)
				b = MIN(b, base);
			else if (end > a)
				b = MIN(b, end);
		}
		if (b == ~0ULL)
			return 0; /* past the last entry (they all end below 2^52) */
		for (unsigned i = 0; i < ps->nraw; i++)
			if (ps->raw[i].base <= a && b <= ps->raw[i].base + ps->raw[i].len &&
			    (best < 0 ||
			     type_rank(ps->raw[i].type) > type_rank(ps->raw[best].type)))
				best = (int)i;
		if (best < 0)
			continue; /* a hole */
		uint32_t type =
			type_rank(ps->raw[best].type) == 4 ? MEM_RESERVED : ps->raw[best].type;
		struct mem_range *last = bi->nmmap ? &bi->mmap[bi->nmmap - 1] : NULL;
		if (last && last->type == type && last->base + last->len == a) {
			last->len += b - a;
			continue;
		}
		if (bi->nmmap == MB2_MAX_MMAP)
			return fail(bi, "mb2: memory map too fragmented (over %u ranges)",
				    MB2_MAX_MMAP);
		bi->mmap[bi->nmmap++] = (struct mem_range){a, b - a, type};
	}
}

bool mb2_range_usable(const struct boot_info *bi, uint64_t base, uint64_t len)
{
	for (unsigned i = 0; i < bi->nmmap; i++) {
		const struct mem_range *r = &bi->mmap[i];
		if (r->type == MEM_AVAILABLE && base >= r->base && base - r->base <= r->len &&
		    len <= r->len - (base - r->base))
			return true;
	}
	return false;
}

uint64_t mb2_low_page(const struct boot_info *bi, uint64_t avoid, uint64_t avoid_end)
{
	for (uint64_t pa = MiB(1) - KiB(4); pa >= KiB(4); pa -= KiB(4)) {
		bool used = pa < avoid_end && avoid < pa + KiB(4);

		for (unsigned i = 0; i < bi->nmods; i++)
			used |= pa < bi->mods[i].end && bi->mods[i].start < pa + KiB(4);
		if (!used && mb2_range_usable(bi, pa, KiB(4)))
			return pa;
	}
	return 0;
}

static int check_modules(struct boot_info *bi)
{
	for (unsigned i = 0; i < bi->nmods; i++) {
		const struct boot_module *m = &bi->mods[i];

		if (!mb2_range_usable(bi, m->start, m->end - m->start))
			return fail(bi, "mb2: module %u [%#lx-%#lx) is not in usable RAM", i,
				    m->start, m->end);
		for (unsigned j = 0; j < i; j++)
			if (m->start < bi->mods[j].end && bi->mods[j].start < m->end)
				return fail(bi, "mb2: module %u overlaps module %u", i, j);
	}
	return 0;
}

static int walk_tags(struct parse *ps)
{
	uint32_t off = 8;

	for (;;) {
		uint32_t type, size;

		if (off > ps->total - 8)
			return fail(ps->bi, "mb2: truncated: no end tag within %u bytes",
				    ps->total);
		type = get_le32(ps->p + off); /* info tags have a 32-bit type */
		size = get_le32(ps->p + off + 4);
		if (size < 8 || size > ps->total - off)
			return fail(ps->bi, "mb2: tag type %u at offset %u has bad size %u", type,
				    off, size);
		if (type == TAG_END)
			return size == 8 ? 0 : fail(ps->bi, "mb2: end tag has size %u", size);
		if (parse_tag(ps, off, type, size))
			return -1;
		off += ALIGN_UP(size, 8u);
		if (off < 8)
			return fail(ps->bi, "mb2: tag offset overflow");
	}
}

int mb2_parse(const void *info, size_t avail, struct boot_info *bi)
{
	static struct parse ps; /* large; one parse at a time (boot CPU only) */

	__builtin_memset(bi, 0, sizeof(*bi));
	ps = (struct parse){.p = info, .bi = bi};
	if (!info || ((uintptr_t)info & 7))
		return fail(bi, "mb2: info block missing or not 8-byte aligned");
	if (avail < 16)
		return fail(bi, "mb2: truncated: only %zu bytes of info", avail);
	ps.total = get_le32(ps.p);
	if (ps.total < 16 || ps.total > avail || ps.total > MB2_INFO_MAX)
		return fail(bi, "mb2: total_size %u is nonsensical (%zu bytes available)", ps.total,
			    avail);
	if (walk_tags(&ps))
		return -1;
	if (!ps.have_mmap)
		return fail(bi, "mb2: no memory map tag");
	if (sanitize_mmap(&ps))
		return -1;
	bi->cmdline = bi->cmdline ?: "";
	bi->loader = bi->loader ?: "unknown";
	return check_modules(bi);
}

uint64_t mb2_usable_bytes(const struct boot_info *bi)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < bi->nmmap; i++)
		if (bi->mmap[i].type == MEM_AVAILABLE)
			sum += bi->mmap[i].len;
	return sum;
}

const char *mem_type_name(uint32_t type)
{
	static const char *const names[] = {
		[MEM_AVAILABLE] = "available",
		[MEM_RESERVED] = "reserved",
		[MEM_ACPI_RECLAIM] = "ACPI",
		[MEM_ACPI_NVS] = "ACPI NVS",
		[MEM_BAD] = "bad",
	};

	return type < ARRAY_SIZE(names) && names[type] ? names[type] : "reserved";
}
