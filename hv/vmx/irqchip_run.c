/*
 * A vCPU and its irqchip around each entry (KVM_CREATE_IRQCHIP or a split one): due timers, INIT,
 * SIPI and NMI requests, the interrupt to inject now or the window to wait for, KVM's PV EOI,
 * user space's ExtINT with a split irqchip; HLT, and the wake masks dom0 gets to wake halted
 * vCPUs with.
 */
#include "../lib/errno.h"
#include "../platform/tsc.h"
#include "../platform/x86.h"
#include "insn.h"
#include "irqchip_priv.h"

/* ---- entries and halts ---- */

/* INIT, SIPI and NMI requests other vCPUs left for this one (VMCS loaded). */
void irqchip_requests(struct vcpu *v)
{
	struct irqchip *c = v->vm->irqchip;

	if (v->req_init && !v->smm) { /* in SMM, latched until RSM */
		v->req_init = v->mp_uninit = false;
		vcpu_init_signal(v);
		chip_lock_own(c, v);
		vlapic_init_signal(v->lapic, lint0_quirk(v)); /* the INIT state; the base is kept */
		spin_unlock(&c->lock);
	}
	if (v->req_sipi && v->wait_sipi)
		vcpu_sipi(v, (uint8_t)v->req_sipi);
	v->req_sipi = 0;
	if (v->req_nmi) {
		v->req_nmi = false;
		vcpu_queue_nmi(v);
		v->halted = false;
	}
}

/* The next timer of this vCPU (and the PIT's, for the BSP), in ns; NO_DEADLINE for none. */
static uint64_t next_ns(struct irqchip *c, struct vcpu *v)
{
	uint64_t n = vlapic_next_ns(v->lapic);

	if (v->id == c->vm->bsp_id && c->has_pit)
		n = MIN(n, pit_next_ns(&c->pit));
	return n;
}

static void tick(struct irqchip *c, struct vcpu *v, uint64_t now)
{
	if (vlapic_next_ns(v->lapic) <= now)
		vlapic_tick(v->lapic, &c->env);
	if (v->id == c->vm->bsp_id && c->has_pit && pit_next_ns(&c->pit) <= now)
		pit_tick(&c->pit, &c->env);
}

/* An ExtINT for the CPU: from the PIC, or with a split irqchip user space's (KVM_INTERRUPT). */
static bool extint(struct irqchip *c, struct vcpu *v)
{
	return vlapic_accepts_extint(v->lapic) &&
	       (c->split ? v->ext_vector >= 0 : pic_intr(&c->pic));
}

/* The interrupt this vCPU should take now, acknowledged at its controller; -1 for none. */
static int take_irq(struct irqchip *c, struct vcpu *v)
{
	int vec = vlapic_pending(v->lapic);

	if (vec >= 0) {
		vlapic_ack(v->lapic, (uint8_t)vec);
		return vec;
	}
	if (!extint(c, v))
		return -1;
	if (!c->split) {
		c->gen++; /* the PIC's next interrupt may be another vCPU's */
		return pic_ack(&c->pic);
	}
	vec = v->ext_vector;
	v->ext_vector = -1;
	return vec;
}

static bool irq_waiting(struct irqchip *c, struct vcpu *v)
{
	return vlapic_pending(v->lapic) >= 0 || extint(c, v);
}

/* KVM_INTERRUPT with a split irqchip: user space's PIC names the ExtINT vector (as KVM). */
int vcpu_ext_interrupt(struct vcpu *v, uint8_t vector)
{
	struct irqchip *c = v->vm->irqchip;

	if (!c->split)
		return -ENXIO;
	if (v->ext_vector >= 0)
		return -EEXIST;
	v->ext_vector = vector;
	return 0;
}

/*
 * kvm_run's ready_for_interrupt_injection, and whether user space's window request counts: as
 * KVM, always with the PIC here; split, when its PIC could inject (ExtINT accepted, none held).
 */
bool irqchip_dm_ready(struct vcpu *v, bool cpu_ready)
{
	struct irqchip *c = v->vm->irqchip;

	return !c->split || (cpu_ready && vlapic_accepts_extint(v->lapic) && v->ext_vector < 0);
}

/*
 * KVM's PV EOI: before an entry the guest is told (its flag set) that it may skip the EOI of
 * the vector in service; after the exit, a flag it cleared is that EOI, one still set is
 * taken back. So between runs the flag is clear and the local APIC's state complete.
 */
void irqchip_pv_eoi_sync(struct vcpu *v)
{
	struct irqchip *c = v->vm->irqchip;
	uint8_t flag = 1, clear = 0;

	v->pv_eoi_set = false;
	vcpu_read(v, v->pv_eoi & ~3ULL, &flag, 1);
	if (flag & 1) {
		vcpu_write(v, v->pv_eoi & ~3ULL, &clear, 1);
		return;
	}
	chip_lock_own(c, v);
	c->eoi_from = v;
	vlapic_eoi(v->lapic, &c->env);
	c->eoi_from = NULL;
	spin_unlock(&c->lock);
}

/*
 * Before each entry (VMCS loaded): requests, due timers, and an interrupt the guest can take
 * now; one it cannot take yet waits for the interrupt window. The preemption timer then bounds
 * the run by the next timer and KICK_NS. A vCPU that found nothing is quiet: it skips all this
 * until the chip changes, the timer fires or dom0 touches it (KVM's KVM_REQ_EVENT).
 */
void irqchip_prepare_entry(struct vcpu *v)
{
	struct irqchip *c = v->vm->irqchip;
	uint64_t next, now;
	uint32_t word;
	bool pv_eoi, quiet, waiting = false;

	if (!c || !v->lapic)
		return;
	irqchip_requests(v);
	if (v->irq_quiet && v->irq_gen == __atomic_load_n(&c->gen, __ATOMIC_ACQUIRE))
		return;
	spin_lock(&c->lock);
	if (v->vapic && !vcpu_read(v, v->vapic, &word, 1)) /* the guest's TPR there */
		vlapic_set_tpr(v->lapic, (uint8_t)word);
	now = irqchip_now_ns(c); /* (one reading for the timers and the next deadline) */
	tick(c, v, now);
	v->irq_window_internal = false;
	v->dm_window = c->split && v->want_irq_window && irqchip_dm_ready(v, true);
	if (v->irq_pending < 0 && !v->exc.valid && !(v->dbg_ctl & HV_DBG_BLOCKIRQ) &&
	    (waiting = irq_waiting(c, v))) {
		if (guest_irq_open())
			v->irq_pending = take_irq(c, v);
		else
			v->irq_window_internal = true;
	}
	next = MIN(next_ns(c, v), now + KICK_NS);
	word = v->vapic ? vlapic_vapic_word(v->lapic) : 0; /* (two scans: only for a VAPIC page) */
	pv_eoi = (v->pv_eoi & 1) && vlapic_eoi_deferrable(v->lapic);
	/* quiet: nothing waited, nothing to offer or mirror (and the timer runs on, below) */
	quiet = v->irq_pending < 0 && !v->exc.valid && !(v->dbg_ctl & HV_DBG_BLOCKIRQ) &&
		!waiting && !v->dm_window && !pv_eoi && !v->vapic;
	v->irq_gen = c->gen;
	spin_unlock(&c->lock);
	if (v->vapic)
		vcpu_write(v, v->vapic, &word, 4);
	if (pv_eoi) /* offered: the guest's flag set */
		v->pv_eoi_set = !vcpu_write(v, v->pv_eoi & ~3ULL, &(uint8_t){1}, 1);
	v->irq_quiet = vcpu_arm_preempt(v, ns_to_tsc(MAX(next, now + MIN_RUN_NS) - now)) && quiet;
}

/*
 * HLT with an irqchip: the vCPU halts until an interrupt it can take (or NMI, INIT). Returns
 * true when it stays halted; *wake_tsc is then when its next timer fires (~0: none).
 */
bool irqchip_halted(struct vcpu *v, uint64_t *wake_tsc)
{
	struct irqchip *c = v->vm->irqchip;
	bool stay;
	uint64_t next;

	if (v->req_init || v->req_nmi || v->nmi_pending || v->smi_pending)
		v->halted = false;
	v->irq_quiet = false; /* (its tick may raise what the next entry must take) */
	spin_lock(&c->lock);
	tick(c, v, irqchip_now_ns(c));
	if (v->halted && (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) && irq_waiting(c, v))
		v->halted = false;
	stay = v->halted;
	next = next_ns(c, v);
	spin_unlock(&c->lock);
	*wake_tsc = next == NO_DEADLINE ? ~0ULL : c->tsc0 + ns_to_tsc(next);
	return stay;
}

bool irqchip_wake_pending(struct vm *vm)
{
	return vm->irqchip && (__atomic_load_n(&vm->irqchip->wake, __ATOMIC_RELAXED) |
			       __atomic_load_n(&vm->irqchip->resampled, __ATOMIC_RELAXED));
}

/* What dom0 must act on, then forgotten: halted vCPUs made runnable, resampling GSIs EOIed. */
void irqchip_take_wake(struct vm *vm, struct vm_exit *x)
{
	struct irqchip *c = vm->irqchip;

	if (!c || !(c->wake | c->resampled))
		return;
	spin_lock(&c->lock);
	x->wake = c->wake;
	x->resampled = c->resampled;
	c->wake = c->resampled = 0;
	spin_unlock(&c->lock);
}

/* KVM_GET_MP_STATE and KVM_SET_MP_STATE with an irqchip (a u32 at buf). */
int vcpu_mp_state(struct vcpu *v, void *buf, bool set)
{
	uint32_t s = *(uint32_t *)buf;

	if (!set) {
		if (v->wait_sipi)
			s = v->mp_uninit ? HV_MP_UNINITIALIZED : HV_MP_INIT_RECEIVED;
		else
			s = v->halted ? HV_MP_HALTED : HV_MP_RUNNABLE;
		*(uint32_t *)buf = s;
		return 0;
	}
	if (!v->lapic)
		return s == HV_MP_RUNNABLE ? 0 : -EINVAL;
	v->mp_uninit = false;
	switch (s) {
	case HV_MP_RUNNABLE:
		v->halted = v->wait_sipi = false;
		return 0;
	case HV_MP_HALTED:
		v->halted = true;
		return 0;
	case HV_MP_UNINITIALIZED:
	case HV_MP_INIT_RECEIVED:
		v->wait_sipi = true;
		v->mp_uninit = s == HV_MP_UNINITIALIZED;
		return 0;
	default:
		return -EINVAL;
	}
}
