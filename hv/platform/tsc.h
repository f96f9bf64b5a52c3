/* Time from the TSC, calibrated once against the 8254 PIT. */
#ifndef HV_TSC_H
#define HV_TSC_H

#include "../lib/types.h"

extern uint64_t tsc_khz;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* TSC cycles and nanoseconds, split so that no product overflows for decades at any rate. */
static inline uint64_t tsc_to_ns(uint64_t tsc)
{
	return tsc / tsc_khz * 1000000 + tsc % tsc_khz * 1000000 / tsc_khz;
}

static inline uint64_t ns_to_tsc(uint64_t ns)
{
	return ns / 1000000 * tsc_khz + ns % 1000000 * tsc_khz / 1000000;
}

void tsc_calibrate(void);
void udelay(uint64_t us);

#endif
