/* The register frame pushed by the exception stubs in isr.S. */
#ifndef HV_TRAP_H
#define HV_TRAP_H

#include "../lib/types.h"

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

void trap_handler(struct trap_frame *f);

/* How often each vector reached irq_handler (all CPUs). */
extern volatile uint64_t irq_counts[256];

#endif
