/*
 * Power-off for test runs: QEMU's isa-debug-exit (exit status (code << 1) | 1), ACPI S5 through
 * the FADT's PM1a control port (SLP_TYP 0, as Bochs and QEMU define S5), then Bochs's 0x8900.
 */
#include "power.h"
#include "../lib/console.h"
#include "x86.h"

#define ISA_DEBUG_EXIT 0xf4
#define PM1_SLP_EN     (1u << 13)
#define BOCHS_SHUTDOWN 0x8900

static uint32_t pm1a_cnt;

void power_set_pm1a_cnt(uint32_t port)
{
	pm1a_cnt = port;
}

__noreturn void power_off(bool ok)
{
	const char *s = "Shutdown";

	console_drain();
	outb(ISA_DEBUG_EXIT, ok ? 0 : 1);
	if (pm1a_cnt && pm1a_cnt <= 0xffff)
		outw((uint16_t)pm1a_cnt, PM1_SLP_EN);
	while (*s)
		outb(BOCHS_SHUTDOWN, (uint8_t)*s++);
	halt_forever();
}
