/*
 * The local APIC of a vCPU as a pure model (xAPIC MMIO and x2APIC MSRs), per the Intel SDM
 * vol. 3 chapter "Advanced Programmable Interrupt Controller". The register page keeps KVM's
 * KVM_GET_LAPIC layout (struct kvm_lapic_state): each 32-bit register at its xAPIC offset,
 * in x2APIC mode the ID register holds the 32-bit x2APIC id and ICR high the 32-bit dest.
 * Functions are vlapic_* (the host's own APIC driver, hv/platform/lapic.h, owns lapic_*).
 * No locking: the caller serializes all calls for one VM (see irq.h).
 */
#ifndef HV_DEVICES_VLAPIC_H
#define HV_DEVICES_VLAPIC_H

#include "irq.h"

/* IA32_APIC_BASE (MSR 0x1b) */
#define VLAPIC_BASE_BSP	    (1ULL << 8)
#define VLAPIC_BASE_EXTD    (1ULL << 10) /* x2APIC mode */
#define VLAPIC_BASE_EN	    (1ULL << 11) /* hardware enable */
#define VLAPIC_DEFAULT_BASE 0xfee00000ULL

#define VLAPIC_MSR_FIRST 0x800
#define VLAPIC_MSR_LAST	 0x8ff

enum vlapic_mode { VLAPIC_DISABLED, VLAPIC_XAPIC, VLAPIC_X2APIC };

struct vlapic {
	uint8_t regs[1024];    /* KVM_GET_LAPIC's page; the current count there is not kept */
	uint64_t apic_base;    /* IA32_APIC_BASE */
	uint32_t initial_id;   /* the id given to vlapic_reset: the x2APIC id */
	uint32_t esr_pending;  /* errors since the last ESR write (xAPIC ESR latches on write) */
	uint64_t timer_next;   /* ns of the next timer expiry, NO_DEADLINE when not armed */
	uint64_t timer_period; /* ns, periodic mode; 0 otherwise */
	uint64_t tsc_deadline; /* IA32_TSC_DEADLINE as written (0: disarmed) */
	uint32_t version;      /* the version register (the LVTs, directed EOI: the vCPU's) */
};

/* Power-on state (also used by the caller for RESET): xAPIC enabled at 0xfee00000; every LVT
 * masked, but LINT0 unmasked ExtINT where lint0_extint (KVM's LINT0_REENABLED quirk). */
void vlapic_reset(struct vlapic *l, uint32_t apic_id, bool bsp, bool lint0_extint);
void vlapic_set_version(struct vlapic *l, uint32_t version);
/* An INIT signal: registers reset, but IA32_APIC_BASE (and so the mode) and the id kept. */
void vlapic_init_signal(struct vlapic *l, bool lint0_extint);
enum vlapic_mode vlapic_mode(const struct vlapic *l);

/*
 * xAPIC MMIO, aligned 4-byte accesses at 16-byte aligned offsets < 0x400 (the caller splits
 * or drops the others). Outside xAPIC mode the page is not the APIC's: reads all ones, writes
 * ignored.
 */
uint32_t vlapic_read(struct vlapic *l, uint32_t offset, const struct irq_env *env);
void vlapic_write(struct vlapic *l, uint32_t offset, uint32_t val, const struct irq_env *env);

/* x2APIC MSRs 0x800-0x8ff: 0, or -1 where the CPU raises #GP(0). */
int vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *val, const struct irq_env *env);
int vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val, const struct irq_env *env);
int vlapic_hv_msr(struct vlapic *l, unsigned off, uint64_t *val, bool write,
		  const struct irq_env *env);

/*
 * A WRMSR of IA32_APIC_BASE: 0, or -1 for #GP (reserved bits, EXTD without x2apic_allowed,
 * an invalid transition: the host, as KVM's, may make any, e.g. x2APIC back to xAPIC when its
 * VMM resets the vCPU). Bits from the vCPU's MAXPHYADDR up to 51 are the caller's to check.
 */
int vlapic_set_base(struct vlapic *l, uint64_t val, bool x2apic_allowed, bool host);

/*
 * Acceptance of a fixed or lowest-priority interrupt that vlapic_matches() chose: sets IRR
 * (and TMR for level). Dropped while the APIC is hardware- or software-disabled; vectors 0-15
 * set ESR "received illegal vector" instead. True when the IRR bit was set.
 */
bool vlapic_set_irr(struct vlapic *l, uint8_t vector, bool level);
/* The vector to inject now: highest IRR whose class exceeds PPR's; -1 for none. */
int vlapic_pending(const struct vlapic *l);
/* The vector was injected: IRR to ISR, PPR raised. */
void vlapic_ack(struct vlapic *l, uint8_t vector);
/* An EOI, as a write of the EOI register: the highest in-service vector ends (level: broadcast). */
void vlapic_eoi(struct vlapic *l, const struct irq_env *env);
/*
 * Whether KVM's PV EOI may stand in for the next EOI: an edge-triggered vector in service and
 * none requested, so the EOI only has to end it, whenever the hypervisor next looks.
 */
bool vlapic_eoi_deferrable(const struct vlapic *l);
/* Whether the message names this APIC (destination, mode, shorthand relative to m->source). */
bool vlapic_matches(const struct vlapic *l, const struct apic_msg *m);
/* The PIC's INTR reaches the CPU: APIC hardware-disabled, or LINT0 unmasked as ExtINT. */
bool vlapic_accepts_extint(const struct vlapic *l);
/* The current APIC id: 8 bits (ID[31:24]) in xAPIC mode, 32 in x2APIC mode. */
uint32_t vlapic_id(const struct vlapic *l);
/* The TPR in any mode: CR8 is its bits 7:4 */
uint8_t vlapic_tpr(const struct vlapic *l);
void vlapic_set_tpr(struct vlapic *l, uint8_t tpr);
/* KVM's VAPIC word (KVM_SET_VAPIC_ADDR): TPR, highest ISR class << 8, highest IRR << 24 */
uint32_t vlapic_vapic_word(const struct vlapic *l);

/* A local interrupt source (CMCI: lvt_off 0x2f0) fires through its LVT, unless masked. */
void vlapic_local_irq(struct vlapic *l, unsigned lvt_off, const struct irq_env *env);

/*
 * Timer: 1 GHz APIC bus (one tick per ns before the divider). In TSC-deadline mode the caller
 * converts IA32_TSC_DEADLINE writes to VM ns; writes in other modes are ignored; 0 disarms.
 * vlapic_get_tsc_deadline reads the MSR: 0 outside TSC-deadline mode and after it fired.
 */
void vlapic_set_tsc_deadline(struct vlapic *l, uint64_t tsc, uint64_t deadline_ns);
uint64_t vlapic_get_tsc_deadline(const struct vlapic *l);
/* Absolute ns of the next timer expiry, or NO_DEADLINE. */
uint64_t vlapic_next_ns(const struct vlapic *l);
/* Fires an expired timer (IRR unless masked) and re-arms periodic mode without drift. */
void vlapic_tick(struct vlapic *l, const struct irq_env *env);

/*
 * KVM_GET_LAPIC: the page with the current count filled in. KVM_SET_LAPIC: IA32_APIC_BASE
 * must be restored first (the page is read in its mode); in x2APIC mode the ID register must
 * equal the id given to vlapic_reset (else -1, nothing changed). Read-only registers are
 * recomputed, reserved bits dropped; the timer restarts from the saved current count at
 * env->now_ns. A TSC deadline already set is kept when the page's mode is TSC-deadline.
 * Not in the page: errors not yet latched into ESR (dropped) and the LINT line levels (kept).
 */
void vlapic_get_state(const struct vlapic *l, uint8_t out[1024], const struct irq_env *env);
int vlapic_set_state(struct vlapic *l, const uint8_t in[1024], const struct irq_env *env);

#endif
