// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-V's synthetic interrupt controller, synthetic timers and synthetic debugger MSRs, as
 * KVM's hyperv.c keeps them. A SynIC is per vCPU once the VMM enables KVM_CAP_HYPERV_SYNIC(2)
 * (it needs the in-kernel irqchip): its SINTs name the vectors its messages raise, through the
 * hypervisor's local APIC. A timer (one-shot or periodic, in 100 ns of the reference counter)
 * is an hrtimer here; on expiry the vCPU thread, kicked out of the guest, writes its
 * HVMSG_TIMER_EXPIRED message into the SINT's slot of the message page and raises the SINT (or,
 * in direct mode, raises the timer's own vector). A message slot still in use leaves the
 * message pending until the guest writes EOM, as in KVM. Guest writes of SCONTROL, SIEFP and
 * SIMP (and the debugger's CONTROL and PENDING_BUFFER) end KVM_RUN with KVM_EXIT_HYPERV so
 * that user space's SynIC (or debugger) follows. AutoEOI SINTs are delivered as others: the
 * guest EOIs them (KVM_GET_SUPPORTED_HV_CPUID recommends against AutoEOI, as KVM's does).
 */
#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <asm/hyperv-tlfs.h>

#include "hvk.h"

#define SYNDBG_CONTROL	0x400000f1
#define SYNDBG_PENDING	0x400000f5
#define SYNDBG_OPTIONS	0x400000ff
#define SYNDBG_ALLOWED	BIT(1) /* HYPERV_CPUID_SYNDBG_PLATFORM_CAPABILITIES.EAX */
#define STIMER_DIRECT	BIT_ULL(12)
#define STIMER_ENABLE	BIT_ULL(0)
#define STIMER_PERIODIC BIT_ULL(1)
#define STIMER_AUTO	BIT_ULL(3)

bool hvk_synic_has_msr(u32 msr)
{
	return (msr >= HV_X64_MSR_SCONTROL && msr <= HV_X64_MSR_EOM) ||
	       (msr >= HV_X64_MSR_SINT0 && msr <= HV_X64_MSR_SINT15) ||
	       (msr >= HV_X64_MSR_STIMER0_CONFIG && msr <= HV_X64_MSR_STIMER3_COUNT) ||
	       (msr >= SYNDBG_CONTROL && msr <= SYNDBG_PENDING) || msr == SYNDBG_OPTIONS;
}

/* KVM's hv_check_msr_access() for these: SynIC, timers, debugger each by their bit. */
bool hvk_synic_msr_allowed(struct hvk_hv_vcpu *h, u32 msr)
{
	if (msr >= HV_X64_MSR_STIMER0_CONFIG && msr <= HV_X64_MSR_STIMER3_COUNT)
		return h->features_eax & HV_MSR_SYNTIMER_AVAILABLE;
	if (msr >= SYNDBG_CONTROL)
		return h->features_edx & HV_FEATURE_DEBUG_MSRS_AVAILABLE;
	return h->features_eax & HV_MSR_SYNIC_AVAILABLE;
}

/* KVM_CAP_HYPERV_SYNIC(2) on a vCPU: SYNIC2 keeps the pages the guest names as they are. */
long hvk_synic_activate(struct hvk_vcpu *vc, bool synic2)
{
	if (!vc->vm->irqchip)
		return -EINVAL;
	vc->hv.synic.active = true;
	vc->hv.synic.keep_pages = synic2;
	vc->hv.synic.control = HV_SYNIC_CONTROL_ENABLE;
	return 0;
}

/* After the WRMSR, KVM_RUN returns with this for user space's SynIC or debugger. */
static void user_exit(struct hvk_vcpu *vc, const struct kvm_hyperv_exit *e)
{
	vc->deferred.hyperv = *e;
	vc->deferred_exit = KVM_EXIT_HYPERV;
}

static void synic_user_exit(struct hvk_vcpu *vc, u32 msr)
{
	struct hvk_synic *s = &vc->hv.synic;
	struct kvm_hyperv_exit e = {.type = KVM_EXIT_HYPERV_SYNIC};

	e.u.synic.msr = msr;
	e.u.synic.control = s->control;
	e.u.synic.evt_page = s->evt_page;
	e.u.synic.msg_page = s->msg_page;
	user_exit(vc, &e);
}

/* A page the guest enables is cleared first (not under KVM_CAP_HYPERV_SYNIC2). */
static int clear_page_of(struct hvk_vcpu *vc, u64 msr_value)
{
	void __user *p;
	int rc = 1;

	down_read(&vc->vm->slots_lock);
	p = hvk_gpa_to_user(vc->vm, msr_value & PAGE_MASK, PAGE_SIZE, true);
	if (p && !clear_user(p, PAGE_SIZE))
		rc = 0;
	hvk_mark_dirty(vc->vm, msr_value & PAGE_MASK);
	up_read(&vc->vm->slots_lock);
	return rc;
}

static void stimer_mark(struct hvk_vcpu *vc, unsigned int i)
{
	set_bit(i, &vc->hv.stimer_pending);
}

static int sint_write(struct hvk_vcpu *vc, unsigned int n, u64 v, bool host)
{
	unsigned int i;

	/* vectors 0-15 only masked (nested Hyper-V writes the 0x10000 default); the host's 0 */
	if ((v & HV_SYNIC_SINT_VECTOR_MASK) < HV_SYNIC_FIRST_VALID_VECTOR && !host &&
	    !(v & HV_SYNIC_SINT_MASKED))
		return 1;
	vc->hv.synic.sint[n] = v;
	for (i = 0; i < HV_STIMER_COUNT; i++) /* a message waiting for this SINT may go now */
		if (vc->hv.stimer[i].msg_pending && (vc->hv.stimer[i].config >> 16 & 15) == n)
			stimer_mark(vc, i);
	return 0;
}

static int synic_msr(struct hvk_vcpu *vc, u32 msr, u64 *data, bool write, bool host)
{
	struct hvk_synic *s = &vc->hv.synic;
	u64 v = *data, *reg;
	unsigned int i;

	if (!s->active && (write ? !host || v : !host))
		return 1;
	if (!write) {
		*data = msr == HV_X64_MSR_SCONTROL ? s->control
			: msr == HV_X64_MSR_SVERSION ? s->version
			: msr == HV_X64_MSR_SIEFP    ? s->evt_page
			: msr == HV_X64_MSR_SIMP     ? s->msg_page
			: msr == HV_X64_MSR_EOM	     ? 0
						     : s->sint[msr - HV_X64_MSR_SINT0];
		return 0;
	}
	switch (msr) {
	case HV_X64_MSR_SVERSION:
		if (!host)
			return 1;
		s->version = v;
		return 0;
	case HV_X64_MSR_EOM: /* messages waiting for a free slot are tried again */
		for (i = 0; i < HV_STIMER_COUNT && s->active; i++)
			if (vc->hv.stimer[i].msg_pending)
				stimer_mark(vc, i);
		return 0;
	case HV_X64_MSR_SCONTROL:
	case HV_X64_MSR_SIEFP:
	case HV_X64_MSR_SIMP:
		reg = msr == HV_X64_MSR_SCONTROL ? &s->control
		      : msr == HV_X64_MSR_SIEFP	 ? &s->evt_page
						 : &s->msg_page;
		if (msr != HV_X64_MSR_SCONTROL && (v & 1) && !host && !s->keep_pages &&
		    clear_page_of(vc, v))
			return 1;
		*reg = v;
		if (!host)
			synic_user_exit(vc, msr);
		return 0;
	default:
		return sint_write(vc, msr - HV_X64_MSR_SINT0, v, host);
	}
}

/* ---- synthetic timers ---- */

static enum hrtimer_restart stimer_fired(struct hrtimer *t)
{
	struct hvk_stimer *st = container_of(t, struct hvk_stimer, timer);
	struct hvk_vcpu *vc = st->vc;

	stimer_mark(vc, st - vc->hv.stimer);
	hvk_kick(vc); /* out of the guest or its halt: the vCPU thread delivers it */
	return HRTIMER_NORESTART;
}

static void stimer_stop(struct hvk_stimer *st, struct hvk_vcpu *vc)
{
	hrtimer_cancel(&st->timer);
	clear_bit(st - vc->hv.stimer, &vc->hv.stimer_pending);
	st->msg_pending = false;
	st->exp_time = 0;
}

/* Armed for the next expiry, in reference time (a one-shot count in the past is due now). */
static void stimer_start(struct hvk_vcpu *vc, struct hvk_stimer *st)
{
	u64 now = hvk_hv_ref_counter(vc), rem;

	if (st->config & STIMER_PERIODIC) {
		if (!st->exp_time) {
			st->exp_time = now + st->count;
		} else if (now >= st->exp_time) { /* ticks missed are skipped, not piled up */
			div64_u64_rem(now - st->exp_time, st->count, &rem);
			st->exp_time = now + st->count - rem;
		}
	} else {
		st->exp_time = st->count;
		if (now >= st->count) {
			stimer_mark(vc, st - vc->hv.stimer);
			return;
		}
	}
	hrtimer_start(&st->timer,
		      ktime_add_safe(ktime_get(), (st->exp_time - now) >= KTIME_MAX / 100
							  ? KTIME_MAX
							  : (st->exp_time - now) * 100),
		      HRTIMER_MODE_ABS);
}

static int stimer_msr(struct hvk_vcpu *vc, u32 msr, u64 *data, bool write, bool host)
{
	unsigned int i = (msr - HV_X64_MSR_STIMER0_CONFIG) / 2;
	struct hvk_stimer *st = &vc->hv.stimer[i];
	bool config = !(msr & 1);
	u64 v = *data;

	if (!write) {
		*data = config ? st->config : st->count;
		return 0;
	}
	if (!vc->hv.synic.active && (!host || v))
		return 1;
	if (config && (v & STIMER_DIRECT) && !host && vc->hv.enforce &&
	    !(vc->hv.features_edx & HV_STIMER_DIRECT_MODE_AVAILABLE))
		return 1;
	stimer_stop(st, vc);
	if (config) { /* a message timer without a SINT stays off */
		if ((st->config & STIMER_ENABLE) && !(v & STIMER_DIRECT) && !(v >> 16 & 15))
			v &= ~STIMER_ENABLE;
		st->config = v;
	} else {
		st->count = v;
		if (!host && !v)
			st->config &= ~STIMER_ENABLE;
		else if (!host && (st->config & STIMER_AUTO))
			st->config |= STIMER_ENABLE;
	}
	if (st->config & STIMER_ENABLE)
		stimer_mark(vc, i);
	return 0;
}

/* HVMSG_TIMER_EXPIRED into the SINT's slot: 0 sent, -EAGAIN slot busy, else not deliverable. */
static int stimer_message(struct hvk_vcpu *vc, struct hvk_stimer *st)
{
	unsigned int sint = st->config >> 16 & 15;
	u64 page = vc->hv.synic.msg_page, sv = vc->hv.synic.sint[sint];
	struct hv_message __user *slot;
	struct hv_message m = {};
	struct hv_timer_message_payload *t = (void *)m.u.payload;
	u32 type;

	if (!(page & HV_SYNIC_SIMP_ENABLE))
		return -ENOENT;
	slot = hvk_gpa_to_user(vc->vm, (page & PAGE_MASK) + sint * sizeof(m), sizeof(m), true);
	if (!slot || get_user(type, &slot->header.message_type))
		return -EFAULT;
	if (type != HVMSG_NONE) { /* the guest has not taken the last one: it is told so */
		if (st->config & STIMER_PERIODIC)
			return 0; /* periodic ticks are not piled up */
		m.header.message_flags.msg_pending = 1;
		hvk_mark_dirty(vc->vm, page & PAGE_MASK);
		return put_user(m.header.message_flags.asu8, &slot->header.message_flags.asu8)
			       ?: -EAGAIN;
	}
	m.header.message_type = HVMSG_TIMER_EXPIRED;
	m.header.payload_size = sizeof(*t);
	t->timer_index = st - vc->hv.stimer;
	t->expiration_time = st->exp_time;
	t->delivery_time = hvk_hv_ref_counter(vc);
	if (copy_to_user(slot, &m, sizeof(m.header) + sizeof(*t)))
		return -EFAULT;
	hvk_mark_dirty(vc->vm, page & PAGE_MASK);
	if (sv & HV_SYNIC_SINT_MASKED)
		return -ENOENT;
	return hvk_msi(vc->vm, 0xfee00000 | vc->id << 12, sv & HV_SYNIC_SINT_VECTOR_MASK) < 0
		       ? -EFAULT : 0;
}

static void stimer_expired(struct hvk_vcpu *vc, struct hvk_stimer *st)
{
	int rc;

	st->msg_pending = true;
	if (st->config & STIMER_DIRECT)
		rc = hvk_msi(vc->vm, 0xfee00000 | vc->id << 12, st->config >> 4 & 0xff) < 0;
	else
		rc = stimer_message(vc, st);
	if (!rc) {
		st->msg_pending = false;
		if (!(st->config & STIMER_PERIODIC))
			st->config &= ~STIMER_ENABLE;
	}
}

/* In the vCPU thread before it enters (slots_lock held): the timers that fired or changed. */
void hvk_stimers_process(struct hvk_vcpu *vc)
{
	unsigned int i;

	for (i = 0; i < HV_STIMER_COUNT; i++) {
		struct hvk_stimer *st = &vc->hv.stimer[i];

		if (!test_and_clear_bit(i, &vc->hv.stimer_pending) || !(st->config & STIMER_ENABLE))
			continue;
		if (st->exp_time && hvk_hv_ref_counter(vc) >= st->exp_time)
			stimer_expired(vc, st);
		if ((st->config & STIMER_ENABLE) && st->count) {
			if (!st->msg_pending)
				stimer_start(vc, st);
		} else {
			stimer_stop(st, vc);
		}
	}
}

void hvk_stimers_init(struct hvk_vcpu *vc)
{
	unsigned int i;

	vc->hv.synic.version = HV_SYNIC_VERSION_1;
	for (i = 0; i < ARRAY_SIZE(vc->hv.synic.sint); i++)
		vc->hv.synic.sint[i] = HV_SYNIC_SINT_MASKED;
	for (i = 0; i < HV_STIMER_COUNT; i++) {
		hrtimer_init(&vc->hv.stimer[i].timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
		vc->hv.stimer[i].timer.function = stimer_fired;
		vc->hv.stimer[i].vc = vc;
	}
}

void hvk_stimers_stop(struct hvk_vcpu *vc)
{
	unsigned int i;

	for (i = 0; i < HV_STIMER_COUNT; i++)
		hrtimer_cancel(&vc->hv.stimer[i].timer);
}

/* ---- the synthetic debugger's MSRs (the VM's), for user space's debugger ---- */

static int syndbg_msr(struct hvk_vcpu *vc, u32 msr, u64 *data, bool write, bool host)
{
	struct hvk_syndbg *d = &vc->vm->hv.syndbg;
	u64 *reg = msr == SYNDBG_OPTIONS ? &d->options : &d->control[msr - SYNDBG_CONTROL];
	struct kvm_hyperv_exit e = {.type = KVM_EXIT_HYPERV_SYNDBG};

	if (!host && !(vc->hv.syndbg_eax & SYNDBG_ALLOWED))
		return 1;
	if (!write) {
		*data = *reg;
		return 0;
	}
	*reg = *data;
	if (!host && (msr == SYNDBG_CONTROL || msr == SYNDBG_PENDING)) {
		e.u.syndbg.msr = msr;
		e.u.syndbg.control = d->control[0];
		e.u.syndbg.status = d->control[1];
		e.u.syndbg.send_page = d->control[2];
		e.u.syndbg.recv_page = d->control[3];
		e.u.syndbg.pending_page = d->control[4];
		user_exit(vc, &e);
	}
	return 0;
}

/* One of hvk_synic_has_msr's, its access already checked: 0 done, 1 refused. */
int hvk_synic_msr(struct hvk_vcpu *vc, u32 msr, u64 *data, bool write, bool host)
{
	if (msr >= HV_X64_MSR_STIMER0_CONFIG && msr <= HV_X64_MSR_STIMER3_COUNT)
		return stimer_msr(vc, msr, data, write, host);
	if (msr >= SYNDBG_CONTROL)
		return syndbg_msr(vc, msr, data, write, host);
	return synic_msr(vc, msr, data, write, host);
}
