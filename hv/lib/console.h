/* A 16550 UART: the hypervisor's serial console. */
#ifndef HV_CONSOLE_H
#define HV_CONSOLE_H

#include "types.h"

#define COM1 0x3f8

/* The UART's I/O base, 0 when there is none (then output goes nowhere). */
extern uint16_t console_port;

/* Uses the UART at `port` if one answers there; baud divides 115200. */
void console_init(uint16_t port, uint32_t baud);
void console_write(const char *s, size_t n);
void console_drain(void);
/* One byte as it is (no LF to CR LF). */
void console_putc_raw(char c);

#endif
