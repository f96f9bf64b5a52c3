/* 16550 UART on COM1: the hypervisor's serial console. */
#ifndef HV_CONSOLE_H
#define HV_CONSOLE_H

#include "types.h"

void console_init(void);
void console_write(const char *s, size_t n);
void console_drain(void);
/* One byte as it is (no LF to CR LF). */
void console_putc_raw(char c);

#endif
