/*
 * A 16550 UART, COM1 at 115200 8N1 unless com1=PORT,BAUD says otherwise, with FIFOs; none when
 * nothing answers at the port (the log then stays in the ring). Output polls the transmitter,
 * LF becomes CR LF.
 */
#include "../lib/console.h"
#include "x86.h"

#define UART_THR   0
#define UART_IER   1
#define UART_DLL   0
#define UART_DLM   1
#define UART_FCR   2
#define UART_LCR   3
#define UART_MCR   4
#define UART_LSR   5
#define UART_SCR   7
#define LSR_THRE   0x20
#define LSR_TEMT   0x40
#define LCR_DLAB   0x80
#define POLL_LIMIT 100000 /* a missing UART must not hang us */

uint16_t console_port;

void console_init(uint16_t port, uint32_t baud)
{
	uint16_t div = (uint16_t)(115200 / baud);

	console_port = 0;
	outb(port + UART_SCR, 0x5a);
	if (inb(port + UART_SCR) != 0x5a)
		return; /* no UART there */
	outb(port + UART_IER, 0x00);
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + UART_DLL, (uint8_t)div);
	outb(port + UART_DLM, (uint8_t)(div >> 8));
	outb(port + UART_LCR, 0x03); /* 8N1 */
	outb(port + UART_FCR, 0x07); /* enable and clear FIFOs */
	outb(port + UART_MCR, 0x03); /* DTR, RTS */
	console_port = port;
}

void console_putc_raw(char c)
{
	if (!console_port)
		return;
	for (int i = 0; i < POLL_LIMIT && !(inb(console_port + UART_LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(console_port + UART_THR, (uint8_t)c);
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
	for (int i = 0;
	     console_port && i < POLL_LIMIT && !(inb(console_port + UART_LSR) & LSR_TEMT); i++)
		cpu_relax();
}
