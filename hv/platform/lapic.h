/* The physical local APIC of the executing CPU (xAPIC MMIO or x2APIC MSRs, whichever is on);
 * a vCPU's is the model in hv/devices/vlapic.h. */
#ifndef HV_LAPIC_H
#define HV_LAPIC_H

#include "../lib/types.h"

#define LAPIC_EOI    0xb0
#define LAPIC_SVR    0xf0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310

#define ICR_INIT	  (5u << 8)
#define ICR_STARTUP	  (6u << 8)
#define ICR_FIXED	  (0u << 8)
#define ICR_LEVEL_ASSERT  (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define ICR_SELF	  (1u << 18)
#define ICR_BUSY	  (1u << 12)

void lapic_init(void); /* boot CPU: map the registers; every CPU: software-enable */
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
/* Sends an IPI (ICR low bits `cmd`) to APIC id `dest`; waits until it is accepted. */
void lapic_send_ipi(uint32_t dest, uint32_t cmd);
void lapic_eoi(void);
uint64_t lapic_base_pa(void);
bool lapic_x2apic(void); /* this CPU's mode, read from its base MSR */

#endif
