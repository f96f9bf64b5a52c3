/* Local APIC access for the hypervisor's own needs: IPIs at boot and self-tests, EOI. */
#include "lapic.h"
#include "mm.h"
#include "x86.h"

#define APIC_BASE_X2APIC    (1ULL << 10)
#define APIC_BASE_ENABLE    (1ULL << 11)
#define MSR_X2APIC_BASE	    0x800
#define SVR_ENABLE	    (1u << 8)
#define SVR_SPURIOUS_VECTOR 0xff

static volatile uint32_t *mmio;
/* The mode is read at each access: dom0 may leave x2APIC (Linux does without interrupt
 * remapping), one CPU at a time. */
bool lapic_x2apic(void)
{
	return rdmsr(MSR_APIC_BASE) & APIC_BASE_X2APIC;
}

uint64_t lapic_base_pa(void)
{
	return rdmsr(MSR_APIC_BASE) & 0x000ffffffffff000ULL;
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (!mmio)
		mmio = ioremap(lapic_base_pa(), PAGE_SIZE);
	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
	lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | SVR_ENABLE | SVR_SPURIOUS_VECTOR);
}

uint32_t lapic_read(uint32_t reg)
{
	if (lapic_x2apic())
		return (uint32_t)rdmsr(MSR_X2APIC_BASE + (reg >> 4));
	return mmio[reg / 4];
}

void lapic_write(uint32_t reg, uint32_t v)
{
	if (lapic_x2apic())
		wrmsr(MSR_X2APIC_BASE + (reg >> 4), v);
	else
		mmio[reg / 4] = v;
}

void lapic_send_ipi(uint32_t dest, uint32_t cmd)
{
	if (lapic_x2apic()) {
		wrmsr(MSR_X2APIC_BASE + (LAPIC_ICR_LO >> 4), ((uint64_t)dest << 32) | cmd);
		return;
	}
	mmio[LAPIC_ICR_HI / 4] = dest << 24;
	mmio[LAPIC_ICR_LO / 4] = cmd;
	while (mmio[LAPIC_ICR_LO / 4] & ICR_BUSY)
		cpu_relax();
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}
