/*
 * The irqchip's private parts, shared by irqchip.c (its controllers, routes and lines),
 * irqchip_run.c (what a vCPU takes at each entry, its halts and wake-ups) and irqchip_state.c
 * (its state as dom0 reads and writes it).
 */
#ifndef HV_VMX_IRQCHIP_PRIV_H
#define HV_VMX_IRQCHIP_PRIV_H

#include "../../compat/kvmabi/hvabi.h"
#include "../devices/ioapic.h"
#include "../devices/vlapic.h" /* struct vlapic */
#include "../devices/pic.h"
#include "../devices/pit.h"
#include "vmx_vm.h"

#define LAPIC_SIZE 0x1000
#define KICK_NS	   1000000ULL /* a running vCPU looks for new interrupts at least this often */
/* ...and runs at least this long: a timer set too short (or late) must not starve the host's
 * interrupts with back-to-back preemption-timer exits */
#define MIN_RUN_NS   20000ULL
#define NGSI	     IOAPIC_PINS
#define MSR_APICB    0x1b
#define MSR_TSC_DL   0x6e0
#define MSR_PV_EOI   0x4b564d04 /* MSR_KVM_PV_EOI_EN */
#define CPUID_X2APIC (1u << 21)

struct irqchip {
	spinlock_t lock;
	struct vm *vm;
	uint64_t tsc0; /* the VM clock's zero */
	struct irq_env env;
	struct pic pic;
	struct ioapic ioapic;
	struct pit pit;
	bool has_pit;
	/* pin levels (PIC 0-15, IOAPIC 16-39) from dom0's lines and from the devices, ORed */
	uint64_t levels[2];
	unsigned nroutes;
	struct hv_irq_route routes[HV_MAX_ROUTES];
	uint64_t wake;		      /* halted vCPUs made runnable: dom0 must wake them */
	uint64_t resample, resampled; /* GSIs of resampling irqfds; those EOIed, for dom0 */
	/* KVM_CAP_SPLIT_IRQCHIP: only the local APICs here, PIC and IOAPIC in user space, whose
	 * IOAPIC's routes are the MSI routes of GSIs below ioapic_pins */
	bool split;
	uint32_t ioapic_pins;
	struct vcpu *eoi_from; /* the vCPU whose local APIC is being written (its EOIs) */
	uint32_t gen;	       /* bumped by every change (chip_lock): quiet vCPUs look again */
};

/* The lock, to change something: a vCPU that found nothing to take looks again (KVM_REQ_EVENT). */
static inline void chip_lock(struct irqchip *c)
{
	spin_lock(&c->lock);
	__atomic_add_fetch(&c->gen, 1, __ATOMIC_RELEASE);
}

/* ...for a change by v that others see only through deliver() (its own local APIC): v looks. */
static inline void chip_lock_own(struct irqchip *c, struct vcpu *v)
{
	spin_lock(&c->lock);
	v->irq_quiet = false;
}

/* KVM_X86_QUIRK_LINT0_REENABLED: a reset of the BSP leaves its LINT0 ExtINT (the PIC's). */
static inline bool lint0_quirk(struct vcpu *v)
{
	return v->id == v->vm->bsp_id && vm_quirk(v->vm, QUIRK_LINT0_REENABLED);
}

/* ns on the VM clock of the models (from the chip's creation) */
uint64_t irqchip_now_ns(void *ctx);

#endif
