/* Multiboot2 boot information: a parser that trusts nothing in the loader's data. */
#ifndef HV_MB2_H
#define HV_MB2_H

#include "../lib/types.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289
#define MB2_INFO_MAX	     KiB(256) /* larger info blocks are rejected as nonsensical */
#define MB2_MAX_MMAP	     128
#define MB2_MAX_MODS	     16
#define MB2_PHYS_LIMIT	     (1ULL << 52) /* architectural MAXPHYADDR bound */

enum { MEM_AVAILABLE = 1, MEM_RESERVED = 2, MEM_ACPI_RECLAIM = 3, MEM_ACPI_NVS = 4, MEM_BAD = 5 };

struct mem_range {
	uint64_t base;
	uint64_t len;
	uint32_t type;
};

struct boot_module {
	uint64_t start, end; /* physical, end exclusive */
	const char *cmdline; /* points into the info block */
};

struct boot_info {
	const char *cmdline; /* "" when the loader gave none */
	const char *loader;
	struct mem_range mmap[MB2_MAX_MMAP]; /* sorted, disjoint, adjacent equal types merged */
	unsigned nmmap;
	unsigned mmap_conflicts; /* overlapping input entries resolved in favour of reserved */
	struct boot_module mods[MB2_MAX_MODS];
	unsigned nmods;
	uint8_t rsdp[36];  /* copy of the ACPI RSDP, checksum verified */
	unsigned rsdp_len; /* 0: none, 20: ACPI 1.0, 36: ACPI 2.0+ */
	char err[160];
};

/*
 * Parses the info block at `info` of which `avail` bytes are readable. Trusts nothing:
 * checks sizes, alignment, the end tag, string termination, ranges and checksums.
 * Returns 0, or -1 with bi->err naming the problem.
 */
int mb2_parse(const void *info, size_t avail, struct boot_info *bi);

/* Sum of the MEM_AVAILABLE ranges. */
uint64_t mb2_usable_bytes(const struct boot_info *bi);

/* True when [base, base+len) lies inside MEM_AVAILABLE memory. */
bool mb2_range_usable(const struct boot_info *bi, uint64_t base, uint64_t len);

/* The highest available 4 KiB page in [4 KiB, 1 MiB) outside the modules and [avoid, avoid_end);
 * 0 if there is none. */
uint64_t mb2_low_page(const struct boot_info *bi, uint64_t avoid, uint64_t avoid_end);

const char *mem_type_name(uint32_t type);

#endif
