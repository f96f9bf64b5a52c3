/* Log ring: overwrite-oldest, never blocks the writer. */
#include "logring.h"

void logring_init(struct logring *r, char *buf, uint64_t size)
{
	*r = (struct logring){buf, size, 0};
}

void logring_write(struct logring *r, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		r->buf[(r->head + i) & (r->size - 1)] = s[i];
	r->head += n;
}

uint64_t logring_first(const struct logring *r)
{
	return r->head > r->size ? r->head - r->size : 0;
}

size_t logring_read(const struct logring *r, uint64_t *seq, char *out, size_t n)
{
	uint64_t s = *seq < logring_first(r) ? logring_first(r) : *seq;
	size_t i = 0;

	for (; i < n && s < r->head; i++, s++)
		out[i] = r->buf[s & (r->size - 1)];
	*seq = s;
	return i;
}

uint64_t logring_tail(const struct logring *r, unsigned lines)
{
	uint64_t first = logring_first(r);
	uint64_t s = r->head;

	if (lines == 0)
		return s;
	/* skip the final newline, then count newlines backwards */
	if (s > first && r->buf[(s - 1) & (r->size - 1)] == '\n')
		s--;
	for (; s > first; s--)
		if (r->buf[(s - 1) & (r->size - 1)] == '\n' && lines-- <= 1)
			return s;
	return first;
}
