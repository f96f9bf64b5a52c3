/* Exceptions taken in the hypervisor are fatal: report everything, then stop this CPU. */
#include "trap.h"
#include "percpu.h"
#include "lapic.h"
#include "../lib/log.h"
#include "../lib/panic.h"
#include "x86.h"

static const char *const exc_names[32] = {
	[0] = "#DE divide error",
	[1] = "#DB debug",
	[2] = "NMI",
	[3] = "#BP breakpoint",
	[4] = "#OF overflow",
	[5] = "#BR bound range",
	[6] = "#UD invalid opcode",
	[7] = "#NM device not available",
	[8] = "#DF double fault",
	[10] = "#TS invalid TSS",
	[11] = "#NP segment not present",
	[12] = "#SS stack fault",
	[13] = "#GP general protection",
	[14] = "#PF page fault",
	[16] = "#MF x87 error",
	[17] = "#AC alignment check",
	[18] = "#MC machine check",
	[19] = "#XM SIMD error",
	[20] = "#VE virtualization",
	[21] = "#CP control protection",
};

static void dump_regs(const struct trap_frame *f)
{
	log_emergency("  RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n", f->rax, f->rbx, f->rcx,
		      f->rdx);
	log_emergency("  RSI %016lx RDI %016lx RBP %016lx RSP %016lx\n", f->rsi, f->rdi, f->rbp,
		      f->rsp);
	log_emergency("  R8  %016lx R9  %016lx R10 %016lx R11 %016lx\n", f->r8, f->r9, f->r10,
		      f->r11);
	log_emergency("  R12 %016lx R13 %016lx R14 %016lx R15 %016lx\n", f->r12, f->r13, f->r14,
		      f->r15);
	log_emergency("  CS %04lx SS %04lx RFLAGS %016lx\n", f->cs, f->ss, f->rflags);
}

extern const char wrmsr_insn[], wrmsr_fault[];

void trap_handler(struct trap_frame *f)
{
	if (f->vector == 13 && f->rip == (uintptr_t)wrmsr_insn) {
		f->rip = (uintptr_t)wrmsr_fault; /* wrmsr_safe: the value was refused */
		return;
	}
	if (f->vector == 2 && ncpus_online) { /* dom0 owns the NMI sources (watchdog, IPIs) */
		this_cpu()->nmi_for_dom0 = true;
		return;
	}
	const char *name =
		f->vector < 32 && exc_names[f->vector] ? exc_names[f->vector] : "reserved";

	log_emergency("\n*** EXCEPTION on CPU (APIC id %u): vector %lu (%s) error %#lx\n",
		      apic_id_self(), f->vector, name, f->error);
	log_emergency("  RIP %016lx CR2 %016lx\n", f->rip, read_cr2());
	dump_regs(f);
	panic("trap: unhandled exception %lu (%s) at RIP %#lx", f->vector, name, f->rip);
}

/* Interrupts the hypervisor takes itself (self-tests; normally dom0 owns every vector). */
volatile uint64_t irq_counts[256];

void irq_handler(uint64_t vector);
void irq_handler(uint64_t vector)
{
	__atomic_fetch_add(&irq_counts[vector & 0xff], 1, __ATOMIC_RELAXED);
	if (vector != 0xff) /* the spurious vector takes no EOI */
		lapic_eoi();
}
