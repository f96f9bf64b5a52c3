/* Time from the TSC, calibrated once against the 8254 PIT. */
#ifndef HV_TSC_H
#define HV_TSC_H

#include "types.h"

extern uint64_t tsc_khz;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

void tsc_calibrate(void);
void udelay(uint64_t us);

#endif
