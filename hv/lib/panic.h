/* Fatal errors and the end of a run. */
#ifndef HV_PANIC_H
#define HV_PANIC_H

#include "types.h"

/* Prints the reason, CPU and registers and the last log lines, then stops (see hv_stop). */
__noreturn void panic(const char *fmt, ...) __printf(1, 2);

/*
 * Ends the run. With `poweroff` on the command line, prints "hv: result: PASS" or
 * "hv: result: FAIL (why)" and powers the machine off; otherwise halts this CPU.
 */
__noreturn void hv_stop(bool ok, const char *why);

/* Set from the command line at boot. */
extern bool hv_poweroff_at_end;

#endif
