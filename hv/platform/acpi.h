/* ACPI: root table walk (RSDT/XSDT) and the MADT and FADT fields the hypervisor needs. */
#ifndef HV_ACPI_H
#define HV_ACPI_H

#include "../lib/types.h"

#define ACPI_TABLE_MAX	   MiB(1) /* longer tables are rejected as nonsensical */
#define MADT_MAX_CPUS	   256
#define MADT_MAX_IOAPICS   16
#define MADT_MAX_OVERRIDES 24
#define ACPI_ERR_LEN	   128

/* Maps [pa, pa+len) for reading, or returns NULL when that range cannot be reached. */
typedef const void *(*acpi_map_fn)(void *ctx, uint64_t pa, size_t len);

struct madt_cpu {
	uint32_t apic_id;
	uint32_t uid;
};

struct madt_ioapic {
	uint32_t id;
	uint32_t addr;
	uint32_t gsi_base;
};

struct madt_override {
	uint8_t bus, irq;
	uint16_t flags;
	uint32_t gsi;
};

struct madt_info {
	uint64_t lapic_addr;
	bool pcat_compat; /* dual 8259s present */
	struct madt_cpu cpus[MADT_MAX_CPUS];
	unsigned ncpus;
	unsigned ncpus_disabled; /* entries neither enabled nor online-capable */
	struct madt_ioapic ioapics[MADT_MAX_IOAPICS];
	unsigned nioapics;
	struct madt_override overrides[MADT_MAX_OVERRIDES];
	unsigned noverrides;
};

/*
 * Finds the table with signature `sig` through the RSDP copy (20 or 36 bytes, checksum already
 * verified). Trusts nothing it maps: checks signatures, lengths and checksums of every table.
 * Returns 0 with *table and *len set, 1 when no such table exists, -1 with `err` on bad tables.
 */
int acpi_find_table(const uint8_t *rsdp, unsigned rsdp_len, const char sig[4], acpi_map_fn map,
		    void *ctx, const void **table, uint32_t *len, char err[ACPI_ERR_LEN]);

/* Parses a MADT of `len` bytes (header included). Checks every entry's length and ids. */
int madt_parse(const void *madt, uint32_t len, struct madt_info *mi, char err[ACPI_ERR_LEN]);

/* I/O port of PM1a_CNT from a FADT, or 0 when it has none. */
uint32_t fadt_pm1a_cnt(const void *fadt, uint32_t len);

#endif
