/*
 * The interrupt controllers and timers of a VM as pure models (vlapic.c, ioapic.c, pic.c,
 * pit.c). Each keeps its state in a struct; where KVM has a save format (KVM_GET/SET_LAPIC,
 * KVM_GET/SET_IRQCHIP, KVM_GET/SET_PIT2) the model converts to and from it exactly. A model
 * reaches the rest of the VM only through struct irq_env, so the unit tests drive it alone.
 * Time is nanoseconds of the VM's clock (env->now_ns); a model with a timer says when it next
 * needs attention (*_next_ns, ~0 for never) and the caller calls its *_tick then.
 * Models do no locking: the caller (irqchip.c) serializes all calls into one VM's models.
 */
#ifndef HV_IRQ_H
#define HV_IRQ_H

#include "../lib/types.h"

#define NO_DEADLINE (~0ULL)

/* APIC delivery modes (ICR, redirection entries, MSI data) */
enum {
	DM_FIXED = 0,
	DM_LOWEST = 1,
	DM_SMI = 2,
	DM_NMI = 4,
	DM_INIT = 5,
	DM_STARTUP = 6,
	DM_EXTINT = 7
};
/* ICR destination shorthands */
enum { SH_NONE = 0, SH_SELF = 1, SH_ALL = 2, SH_OTHERS = 3 };

/* An interrupt message as an IOAPIC redirection entry, an MSI or an IPI carries it. */
struct apic_msg {
	uint32_t dest;	 /* physical APIC id (0xff: broadcast), or a logical destination */
	uint32_t source; /* the sender's APIC id (IPIs, for the shorthands) */
	uint8_t vector;
	uint8_t delivery;  /* DM_* */
	uint8_t shorthand; /* SH_* (IPIs only) */
	bool logical;	   /* destination mode */
	bool level;	   /* trigger mode */
	bool assert;	   /* level: asserted (an INIT de-assert IPI has assert = false) */
};

struct irq_env {
	void *ctx;
	uint64_t (*now_ns)(void *ctx);
	/* a message for the local APICs it names (IOAPIC entries, MSIs, IPIs from vlapic.c) */
	void (*deliver)(void *ctx, const struct apic_msg *m);
	/* a level-triggered vector was EOIed at a local APIC (IOAPIC pins clear remote IRR) */
	void (*eoi)(void *ctx, uint8_t vector);
	/* a source line changed (the PIT's output on GSI 0): routed to the PIC and IOAPIC */
	void (*set_irq)(void *ctx, unsigned gsi, int level);
	/* optional: an IOAPIC pin's level interrupt was EOIed; called before the pin is looked at
	 * again (KVM's ack notifiers, for resampling irqfds) */
	void (*ack)(void *ctx, unsigned pin);
};

#endif
