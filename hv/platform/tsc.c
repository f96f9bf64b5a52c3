/* TSC calibration with PIT channel 2 (gate through port 0x61), as firmware-independent as it gets.
 */
#include "tsc.h"
#include "../lib/log.h"
#include "x86.h"

#define PIT_HZ	     1193182
#define CALIBRATE_MS 10
#define POLL_LIMIT   100000000ULL

uint64_t tsc_khz = 1000000; /* 1 GHz until calibrated */

void tsc_calibrate(void)
{
	uint32_t latch = PIT_HZ * CALIBRATE_MS / 1000;
	uint64_t t0, t1, n = 0;

	outb(0x61, (inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
	outb(0x43, 0xb0);			/* channel 2, lobyte/hibyte, mode 0 */
	outb(0x42, latch & 0xff);
	outb(0x42, latch >> 8);
	t0 = rdtsc();
	while (!(inb(0x61) & 0x20) && ++n < POLL_LIMIT)
		;
	t1 = rdtsc();
	if (n >= POLL_LIMIT || t1 <= t0) {
		pr_warn("tsc: PIT did not count; assuming %lu kHz", tsc_khz);
		return;
	}
	tsc_khz = (t1 - t0) / CALIBRATE_MS;
	pr_info("tsc: %lu kHz", tsc_khz);
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + us * tsc_khz / 1000;

	while (rdtsc() < end)
		cpu_relax();
}
