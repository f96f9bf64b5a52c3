/* vmlinux (ELF64) parsing for the PVH entry. Pure: unit-tested and fuzzed on the host. */
#include "pvh.h"
#include "../lib/bytes.h"
#include "../lib/printf.h"

#define fail(err, ...) fmt_error(err, PVH_ERR_LEN, __VA_ARGS__)

#define PT_LOAD			 1
#define PT_NOTE			 4
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define EHDR_SIZE		 64
#define PHDR_SIZE		 56

static bool in_file(uint64_t off, uint64_t size, size_t len)
{
	return off <= len && size <= len - off;
}

/* Walks the notes in [off, off+size) for the PVH entry. */
static int find_entry(const uint8_t *img, uint64_t off, uint64_t size, uint32_t *entry)
{
	uint64_t end = off + size;

	while (end - off >= 12) {
		uint64_t namesz = get_le(img + off, 4), descsz = get_le(img + off + 4, 4);
		uint64_t type = get_le(img + off + 8, 4);
		uint64_t name = off + 12, desc = name + ALIGN_UP(namesz, 4);
		if (namesz > size || descsz > size || desc > end ||
		    ALIGN_UP(descsz, 4) > end - desc)
			return -1;
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
		    !__builtin_memcmp(img + name, "Xen", 4) && (descsz == 4 || descsz == 8)) {
			*entry = (uint32_t)get_le(img + desc, 4);
			return 0;
		}
		off = desc + ALIGN_UP(descsz, 4);
	}
	return -1;
}

static int add_segment(struct pvh_image *out, const uint8_t *ph, size_t len, char *err)
{
	struct pvh_seg s = {get_le(ph + 24, 8), get_le(ph + 8, 8), get_le(ph + 32, 8),
			    get_le(ph + 40, 8)};

	if (s.memsz == 0)
		return 0;
	if (out->nsegs == PVH_MAX_SEGS)
		return fail(err, "dom0: kernel has more than %u loadable segments", PVH_MAX_SEGS);
	if (!in_file(s.offset, s.filesz, len) || s.filesz > s.memsz)
		return fail(err, "dom0: kernel segment %u lies outside the file", out->nsegs);
	if (s.paddr >= GiB(4) || s.memsz > GiB(4) - s.paddr)
		return fail(err, "dom0: kernel segment %u is not below 4 GiB", out->nsegs);
	for (unsigned i = 0; i < out->nsegs; i++)
		if (s.paddr < out->segs[i].paddr + out->segs[i].memsz &&
		    out->segs[i].paddr < s.paddr + s.memsz)
			return fail(err, "dom0: kernel segments %u and %u overlap", i, out->nsegs);
	out->segs[out->nsegs++] = s;
	out->lo = MIN(out->lo, s.paddr);
	out->hi = MAX(out->hi, s.paddr + s.memsz);
	return 0;
}

int pvh_parse(const uint8_t *img, size_t len, struct pvh_image *out, char err[PVH_ERR_LEN])
{
	uint64_t phoff, phnum, phentsize;
	bool have_entry = false;

	*out = (struct pvh_image){.lo = ~0ULL};
	if (len >= 0x206 && !__builtin_memcmp(img + 0x202, "HdrS", 4)) /* boot protocol header */
		return bzimage_parse(img, len, out, err);
	if (len < EHDR_SIZE || __builtin_memcmp(img, "\177ELF", 4))
		return fail(err, "dom0: module 0 is not an ELF file (%zu bytes)", len);
	if (img[4] != 2 || img[5] != 1 || get_le(img + 16, 2) != 2 || get_le(img + 18, 2) != 62)
		return fail(err, "dom0: module 0 is not a 64-bit x86 ELF executable");
	phoff = get_le(img + 32, 8);
	phentsize = get_le(img + 54, 2);
	phnum = get_le(img + 56, 2);
	if (phentsize != PHDR_SIZE || phnum == 0 || !in_file(phoff, phnum * PHDR_SIZE, len))
		return fail(err, "dom0: kernel program headers are invalid");
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + i * PHDR_SIZE;
		uint32_t type = (uint32_t)get_le(ph, 4);
		uint64_t off = get_le(ph + 8, 8), filesz = get_le(ph + 32, 8);
		if (type == PT_LOAD && add_segment(out, ph, len, err))
			return -1;
		if (type == PT_NOTE && !have_entry && in_file(off, filesz, len))
			have_entry = !find_entry(img, off, filesz, &out->entry);
	}
	if (!out->nsegs)
		return fail(err, "dom0: kernel has no loadable segment");
	if (!have_entry)
		return fail(err, "dom0: kernel has no PVH entry note (build it with CONFIG_PVH=y)");
	if (out->entry < out->lo || out->entry >= out->hi)
		return fail(err, "dom0: PVH entry %#x is outside the kernel", out->entry);
	return 0;
}
