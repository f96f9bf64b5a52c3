/* Powering the (emulated) machine off at the end of a test run. */
#ifndef HV_POWER_H
#define HV_POWER_H

#include "../lib/types.h"

/* PM1a control port from the FADT (0: unknown). */
void power_set_pm1a_cnt(uint32_t port);
__noreturn void power_off(bool ok);

#endif
