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
	log_emergency("  RAX %016llx RBX %016llx RCX %016llx RDX %016llx\n",
		      (unsigned long long)f->rax, (unsigned long long)f->rbx,
		      (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	log_emergency("  RSI %016llx RDI %016llx RBP %016llx RSP %016llx\n",
		      (unsigned long long)f->rsi, (unsigned long long)f->rdi,
		      (unsigned long long)f->rbp, (unsigned long long)f->rsp);
	log_emergency("  R8  %016llx R9  %016llx R10 %016llx R11 %016llx\n",
		      (unsigned long long)f->r8, (unsigned long long)f->r9,
		      (unsigned long long)f->r10, (unsigned long long)f->r11);
	log_emergency("  R12 %016llx R13 %016llx R14 %016llx R15 %016llx\n",
		      (unsigned long long)f->r12, (unsigned long long)f->r13,
		      (unsigned long long)f->r14, (unsigned long long)f->r15);
	log_emergency("  CS %04llx SS %04llx RFLAGS %016llx\n", (unsigned long long)f->cs,
		      (unsigned long long)f->ss, (unsigned long long)f->rflags);
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

	log_emergency("\n*** EXCEPTION on CPU (APIC id %u): vector %llu (%s) error %#llx\n",
		      apic_id_self(), (unsigned long long)f->vector, name,
		      (unsigned long long)f->error);
	log_emergency("  RIP %016llx CR2 %016llx\n", (unsigned long long)f->rip,
		      (unsigned long long)read_cr2());
	dump_regs(f);
	panic("trap: unhandled exception %llu (%s) at RIP %#llx", (unsigned long long)f->vector,
	      name, (unsigned long long)f->rip);
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
