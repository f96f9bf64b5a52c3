/*
 * bzImage parsing (the Linux x86 boot protocol, Documentation/x86/boot.rst) for dom0's 32-bit
 * entry: the protected-mode code goes to the kernel's preferred address and runs from its
 * start; the setup header is kept for the boot_params page. Pure: unit-tested and fuzzed on
 * the host, through pvh_parse, whose struct it fills.
 */
#include "pvh.h"
#include "../lib/bytes.h"
#include "../lib/printf.h"

#define fail(err, ...) fmt_error(err, PVH_ERR_LEN, __VA_ARGS__)

#define BZ_VERSION_MIN 0x020c /* 2.12: pref_address and init_size (2.10), xloadflags */
#define BZ_HDR_END     0x268  /* the last field read here: init_size, at 0x260 */

int bzimage_parse(const uint8_t *img, size_t len, struct pvh_image *out, char *err)
{
	uint64_t pm, size, load, init;
	unsigned version;

	if (len < BZ_HDR_END || get_le(img + 0x1fe, 2) != 0xaa55)
		return fail(err, "dom0: module 0 is no bzImage (%zu bytes, no boot flag)", len);
	version = (unsigned)get_le(img + 0x206, 2);
	if (version < BZ_VERSION_MIN || !(img[0x211] & 1)) /* loadflags' LOADED_HIGH: a bzImage */
		return fail(err, "dom0: bzImage protocol %u.%02u%s; 2.12 or later is needed",
			    version >> 8, version & 0xff, img[0x211] & 1 ? "" : ", loaded low");
	pm = ((img[0x1f1] ?: 4) + 1) * 512; /* setup_sects (0 means 4, as in the oldest kernels) */
	size = get_le(img + 0x1f4, 4) * 16; /* syssize: 16-byte paragraphs */
	if (pm > len || size > len - pm || !size)
		return fail(err, "dom0: bzImage truncated (%zu bytes, %lu expected)", len,
			    pm + size);
	load = get_le(img + 0x258, 8);
	init = get_le(img + 0x260, 4);
	if ((load & 0xfff) || load < MiB(1) || load >= GiB(4) || init < size ||
	    init > GiB(4) - load)
		return fail(err, "dom0: bzImage wants %#lx bytes at %#lx: not 1 MiB-4 GiB", init,
			    load);
	*out = (struct pvh_image){
		.entry = (uint32_t)load, .nsegs = 1, .lo = load, .hi = load + init};
	out->segs[0] = (struct pvh_seg){load, pm, size, init};
	out->setup_len = 0x202 + img[0x201] - 0x1f1; /* (below pm: at most 0x301 bytes in) */
	__builtin_memcpy(out->setup, img + 0x1f1, out->setup_len);
	return 0;
}
