/* A byte ring that keeps the newest log text; readers address it by a 64-bit sequence number. */
#ifndef HV_LOGRING_H
#define HV_LOGRING_H

#include "types.h"

struct logring {
	char *buf;
	uint64_t size; /* a power of two */
	uint64_t head; /* sequence number of the next byte written */
};

void logring_init(struct logring *r, char *buf, uint64_t size);
void logring_write(struct logring *r, const char *s, size_t n);
/* Oldest sequence number still held. */
uint64_t logring_first(const struct logring *r);
/* Copies bytes from *seq on (moved up to the oldest held); returns the count, advances *seq. */
size_t logring_read(const struct logring *r, uint64_t *seq, char *out, size_t n);
/* Sequence number where the last `lines` complete lines begin. */
uint64_t logring_tail(const struct logring *r, unsigned lines);

#endif
