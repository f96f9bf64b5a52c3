/* The dom0 kernel image: an ELF64 vmlinux with a PVH entry note (x86/HVM direct boot ABI). */
#ifndef HV_PVH_H
#define HV_PVH_H

#include "../lib/types.h"

#define PVH_MAX_SEGS 8
#define PVH_ERR_LEN  128

struct pvh_seg {
	uint64_t paddr, offset, filesz, memsz;
};

struct pvh_image {
	uint32_t entry; /* 32-bit physical entry point from XEN_ELFNOTE_PHYS32_ENTRY */
	struct pvh_seg segs[PVH_MAX_SEGS];
	unsigned nsegs;
	uint64_t lo, hi;    /* physical range all segments occupy */
	unsigned setup_len; /* a bzImage: its setup header's bytes from 0x1f1; 0 for a vmlinux */
	uint8_t setup[0x110];
};

/*
 * Checks and describes the image in img[0..len): ELF64 x86-64 executable, program headers and
 * segments inside the file, segments below 4 GiB and not overlapping, a PVH entry note; or a
 * bzImage (bzimage_parse). Returns 0, or -1 with `err`.
 */
int pvh_parse(const uint8_t *img, size_t len, struct pvh_image *out, char err[PVH_ERR_LEN]);
/*
 * A bzImage of boot protocol 2.12 or later (img[0x202] is "HdrS", len >= 0x206): its
 * protected-mode code as the one segment, at pref_address with init_size bytes, entered at its
 * start; the setup header copied. Returns 0, or -1 with `err`.
 */
int bzimage_parse(const uint8_t *img, size_t len, struct pvh_image *out, char *err);

/* The start-of-day structures of the PVH ABI (xen/include/public/arch-x86/hvm/start_info.h). */
#define HVM_START_MAGIC 0x336ec578

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

#endif
