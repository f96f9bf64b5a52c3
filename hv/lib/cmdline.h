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
/* A decimal value; false when absent, empty, not a number or too large. */
bool cmdline_get_u64(const char *cl, const char *key, uint64_t *out);

#endif
