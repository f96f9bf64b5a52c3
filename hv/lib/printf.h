/* printf-style formatting into a buffer (no I/O): the core of all hypervisor output. */
#ifndef HV_PRINTF_H
#define HV_PRINTF_H

#include "types.h"

/* C99 semantics: writes at most size bytes (NUL included), returns the full length. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
/* Formats an error message into buf and returns -1: the parsers' one way to fail. */
int fmt_error(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
