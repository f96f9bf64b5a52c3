/* COM1 at 115200 8N1 with FIFOs; output polls the transmitter, LF becomes CR LF. */
#include "../lib/console.h"
#include "x86.h"

#define COM1	   0x3f8
#define UART_THR   0
#define UART_IER   1
#define UART_DLL   0
#define UART_DLM   1
#define UART_FCR   2
#define UART_LCR   3
#define UART_MCR   4
#define UART_LSR   5
#define LSR_THRE   0x20
#define LSR_TEMT   0x40
#define LCR_DLAB   0x80
#define POLL_LIMIT 100000 /* a missing UART must not hang us */

void console_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, 1); /* 115200 = 115200 / 1 */
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, 0x03); /* 8N1 */
	outb(COM1 + UART_FCR, 0x07); /* enable and clear FIFOs */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
}

void console_putc_raw(char c)
{
	for (int i = 0; i < POLL_LIMIT && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(COM1 + UART_THR, (uint8_t)c);
}

void console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			console_putc_raw('\r');
		console_putc_raw(s[i]);
	}
}

/* Waits until the last byte has left the UART (before power-off). */
void console_drain(void)
{
	for (int i = 0; i < POLL_LIMIT && !(inb(COM1 + UART_LSR) & LSR_TEMT); i++)
		cpu_relax();
}
