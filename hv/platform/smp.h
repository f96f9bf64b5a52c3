/* Application processors: start-up and running work on every CPU. */
#ifndef HV_SMP_H
#define HV_SMP_H

#include "acpi.h"
#include "percpu.h"

/* Sets up the boot CPU's per-CPU block (GS) and descriptor tables. */
void smp_init_bsp(uint32_t apic_id);
/* Starts every enabled CPU of the MADT with INIT-SIPI-SIPI through the free low page `page`;
 * each then idles, waiting for smp_call_all(). */
void smp_start_aps(const struct madt_info *mi, uint64_t page);
/* Runs fn(arg) on every online CPU (the caller's too) and waits until all have returned. */
void smp_call_all(void (*fn)(void *arg), void *arg);
/* Starts fn(arg) on every other online CPU and returns at once. */
void smp_start_all(void (*fn)(void *arg), void *arg);

#endif
