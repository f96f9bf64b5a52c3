/*
 * What the hypervisor traps for dom0: its console UART's data port (console sharing), writes to the
 * local APIC's ICR in both modes (INIT and SIPI for dom0's other vCPUs) and to its base MSR, the
 * reset ports, the VMX MSRs, and writes of microcode and MTRRs (dropped: they are the firmware's).
 */
#include "dom0_priv.h"
#include "../platform/lapic.h"
#include "../lib/console.h"
#include "../lib/log.h"
#include "../platform/mm.h"
#include "../lib/panic.h"
#include "../platform/x86.h"
#include "../vmx/caps.h"

#define MSR_VMX_LAST   0x491 /* the last VMX capability MSR (VM functions) */
#define MSR_X2APIC_ICR 0x830
#define APIC_BASE_MODE (3ULL << 10) /* x2APIC, enable */

/* The console's data port: dom0's bytes go out through the log, so lines never interleave. */
static bool com1_io(void *ctx __unused, struct vcpu *v __unused, uint64_t port,
		    unsigned size __unused, uint64_t *val, bool write)
{
	if (!write)
		*val = inb((uint16_t)port);
	else if (inb((uint16_t)port + 3) & 0x80) /* divisor latch: not data */
		outb((uint16_t)port, (uint8_t)*val);
	else
		log_dom0_putc((char)*val);
	return true;
}

/*
 * INIT and SIPI aimed at a CPU that runs a dom0 vCPU are delivered to that vCPU (by physical
 * destination or shorthand); SMI and the reserved modes go nowhere. Others are sent as asked.
 */
static bool icr_emulate(uint32_t lo, uint32_t dest)
{
	uint32_t mode = (lo >> 8) & 7, shorthand = (lo >> 18) & 3;
	uint32_t self = this_cpu()->apic_id;

	if (mode < 2 || mode == 4)
		return false;
	for (unsigned i = 0; i < ncpus_online; i++) {
		uint32_t id = cpus[i]->apic_id;
		/* the destination, or by shorthand all (with or without self): never self */
		if (id == self || (shorthand == 0 ? id != dest : shorthand == 1))
			continue;
		if (mode == 5 && (lo & ICR_LEVEL_ASSERT))
			d0.mbox[i].init = true;
		else if (mode == 6 && d0.mbox[i].init)
			d0.mbox[i].sipi = lo & 0xff;
	}
	return true;
}

static bool lapic_hook(void *ctx __unused, struct vcpu *v __unused, uint64_t addr, unsigned size,
		       uint64_t *val, bool write)
{
	uint32_t reg = (uint32_t)(addr - d0.lapic);

	if (size != 4 || (addr & 15))
		return false;
	if (!write)
		*val = lapic_read(reg);
	else if (reg != LAPIC_ICR_LO ||
		 !icr_emulate((uint32_t)*val, lapic_read(LAPIC_ICR_HI) >> 24))
		lapic_write(reg, (uint32_t)*val);
	return true;
}

/*
 * dom0's trapped MSR accesses: x2APIC ICR writes as the xAPIC's; APIC base writes may switch
 * the mode (the CPU refuses a wrong transition), never move the page or the BSP flag. Else #GP.
 */
void dom0_msr(struct vm_exit *x)
{
	uint64_t val = x->msr.data, base;
	bool ok = false;

	if (x->msr.write && x->msr.index == MSR_X2APIC_ICR) { /* every IPI: nothing else read */
		ok = icr_emulate((uint32_t)val, (uint32_t)(val >> 32)) ||
		     wrmsr_safe(MSR_X2APIC_ICR, val);
	} else if (x->msr.write && x->msr.index == MSR_APIC_BASE) {
		/* by APIC_BASE_MODE, bits 11:10 (enable, x2APIC) */
		static const char *const mode[] = {"off", "off", "xAPIC", "x2APIC"};

		base = rdmsr(MSR_APIC_BASE);
		ok = !((val ^ base) & ~APIC_BASE_MODE) && wrmsr_safe(MSR_APIC_BASE, val);
		if (ok && ((val ^ base) & APIC_BASE_MODE))
			pr_info("dom0: CPU %u's local APIC: %s", this_cpu()->index,
				mode[(val & APIC_BASE_MODE) >> 10]);
	}
	x->msr_error = !ok;
}

/* dom0 asking the machine to reset (reboot, or a panic with panic=-1) ends the run here. */
static __noreturn void dom0_reset(uint64_t port, uint64_t val)
{
	log_emergency("\n*** dom0 asked for a reset (port %#lx value %#lx)\n", port, val);
	log_dump_tail(8);
	if (!hv_poweroff_at_end)
		outb(0xcf9, 0x06); /* a real machine: do what dom0 asked */
	hv_stop(false, "dom0 asked for a reset");
}

/* 0xcf9 with RST_CPU, or the keyboard controller's pulse-reset command 0xfe. */
static bool reset_io(void *ctx __unused, struct vcpu *v __unused, uint64_t port,
		     unsigned size __unused, uint64_t *val, bool write)
{
	if (!write)
		*val = inb((uint16_t)port);
	else if ((port == 0xcf9 && (*val & 4)) || (port == 0x64 && (*val & 0xff) == 0xfe))
		dom0_reset(port, *val);
	else
		outb((uint16_t)port, (uint8_t)*val);
	return true;
}

void dom0_setup_vm(void)
{
	/* the console UART, the keyboard controller and the reset control register; the local APIC
	 */
	const struct io_hook ports[] = {{console_port ?: COM1, 1, com1_io, NULL},
					{0x64, 1, reset_io, NULL},
					{0xcf9, 1, reset_io, NULL}};
	const struct io_hook apic = {d0.lapic, PAGE_SIZE, lapic_hook, NULL};

	d0.vm = vm_create(VM_DOM0);
	if (!d0.vm)
		panic("dom0: out of memory");
	dom0_must(vm_add_hooks(d0.vm, ports, ARRAY_SIZE(ports), &apic, 1), "hooking its devices");
	vm_msr_intercept(d0.vm, MSR_FEATURE_CONTROL, true, true);
	for (uint32_t m = MSR_VMX_BASIC; m <= MSR_VMX_LAST; m++)
		vm_msr_intercept(d0.vm, m, true, true);
	/* microcode and the MTRRs stay the firmware's: dom0's writes are dropped (README) */
	vm_msr_intercept(d0.vm, MSR_UCODE_WRITE, false, true);
	for (uint32_t m = 0x200; m <= 0x2ff; m++)
		if (msr_is_mtrr(m))
			vm_msr_intercept(d0.vm, m, false, true);
	vm_msr_intercept(d0.vm, MSR_X2APIC_ICR, false, true);
	vm_msr_intercept(d0.vm, MSR_APIC_BASE, false, true);
	vm_msr_exits(d0.vm, HV_MSR_EXIT_UNKNOWN | HV_MSR_EXIT_INVAL); /* to dom0_msr() */
}

void dom0_port_passthrough(struct vm_exit *x)
{
	uint16_t p = x->io.port;

	if (x->io.in)
		x->answer = x->io.size == 1 ? inb(p) : x->io.size == 2 ? inw(p) : inl(p);
	else if (x->io.size == 1)
		outb(p, (uint8_t)x->io.data);
	else if (x->io.size == 2)
		outw(p, (uint16_t)x->io.data);
	else
		outl(p, (uint32_t)x->io.data);
}
