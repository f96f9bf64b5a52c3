/* Boot command line: space-separated `key` and `key=value` words. */
#ifndef HV_CMDLINE_H
#define HV_CMDLINE_H

#include "types.h"

/*
 * Looks up the last occurrence of `key`. Returns false if absent; otherwise copies its value
 * ("" for a bare key) into val[0..n), truncated and always NUL-terminated.
 */
bool cmdline_get(const char *cl, const char *key, char *val, size_t n);
bool cmdline_has(const char *cl, const char *key);
#define CMDLINE_MAX_NUMS 4
/*
 * `key=N[,N...]`: numbers, decimal or 0x-hexadecimal, each fitting in 64 bits. Returns how many
 * were stored in out[0..n), or 0 (out untouched) when the key is absent, a number is empty or
 * malformed, or there are more than n.
 */
unsigned cmdline_get_nums(const char *cl, const char *key, uint64_t *out, unsigned n);
/* `key=N`: one such number; false when absent or not exactly one number. */
bool cmdline_get_u64(const char *cl, const char *key, uint64_t *out);

#endif
