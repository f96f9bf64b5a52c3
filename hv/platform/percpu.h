/* Per-CPU state, reached through GS (gs:0 holds a pointer to the CPU's own struct). */
#ifndef HV_PERCPU_H
#define HV_PERCPU_H

#include "cpu.h"
#include "../lib/types.h"

#define MAX_CPUS       64
#define CPU_STACK_SIZE KiB(16)

struct vmx_cpu; /* arch part, defined in hv/vmx */

struct percpu {
	struct percpu *self; /* must stay first: read as gs:0 */
	uint32_t index;	     /* 0 = boot CPU */
	uint32_t apic_id;
	uint64_t stack_top;
	struct vmx_cpu *vmx;
	volatile bool online;
	/* work handed to this CPU by smp_call_all(); NULL when idle */
	void (*volatile work)(void *arg);
	void *work_arg;
	volatile bool work_done;
	/* an NMI or machine check this CPU took for dom0 (in root mode, or in a guest's run):
	 * dom0's vCPU gets it at its next entry */
	volatile bool nmi_for_dom0, mce_for_dom0;
	struct cpu_tables tables;
};

extern struct percpu *cpus[MAX_CPUS];
extern unsigned ncpus_online;

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

#endif
