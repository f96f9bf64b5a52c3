/* For parsers of firmware and loader data: little-endian fields at any alignment, checksums. */
#ifndef HV_BYTES_H
#define HV_BYTES_H

#include "types.h"

static inline uint64_t get_le(const void *p, unsigned size)
{
	const uint8_t *b = p;
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static inline uint32_t get_le32(const void *p)
{
	return (uint32_t)get_le(p, 4);
}

static inline uint64_t get_le64(const void *p)
{
	return get_le(p, 8);
}

/* ACPI's checksum: the n bytes at p sum to 0 (mod 256). */
static inline bool sum_ok(const uint8_t *p, uint32_t n)
{
	uint8_t sum = 0;

	for (uint32_t i = 0; i < n; i++)
		sum += p[i];
	return sum == 0;
}

#endif
