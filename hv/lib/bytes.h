/* Little-endian fields at any alignment, as parsers of firmware and loader data read them. */
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

#endif
