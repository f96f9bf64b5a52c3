// SPDX-License-Identifier: GPL-2.0
/*
 * The register families of a vCPU beyond GPRs and segments, and the lists /dev/kvm answers
 * (supported CPUID, feature MSRs). Each ioctl copies in, checks what KVM checks, forwards to
 * the hypervisor (HC_VCPU_GET/SET, HC_SYS_INFO) through a bounce buffer, and copies out.
 * Every list answers E2BIG with the count it needs written back, as QEMU's sizing loops expect.
 */
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/stat.h>
#include <asm/kvm_para.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hvk.h"

#define XSAVE_SIZE 4096
#define XSTATE_BV  512 /* offset of the XSAVE header's XSTATE_BV */

static long state_call(unsigned long nr, struct hvk_vcpu *vc, unsigned int kind, void *buf,
		       unsigned int n)
{
	return hv_call(nr, vc->vm->handle, vc->id, kind, buf ? virt_to_phys(buf) : 0, n);
}

long hvk_vcpu_get(struct hvk_vcpu *vc, unsigned int kind, void *buf, unsigned int n)
{
	return state_call(HC_VCPU_GET, vc, kind, buf, n);
}

long hvk_vcpu_set(struct hvk_vcpu *vc, unsigned int kind, void *buf, unsigned int n)
{
	return state_call(HC_VCPU_SET, vc, kind, buf, n);
}

/* One fixed-size state through a bounce buffer: user -> hypervisor, or hypervisor -> user. */
static long fixed(struct hvk_vcpu *vc, unsigned int kind, void __user *argp, size_t len, bool set)
{
	void *buf = hvk_buf_alloc(PAGE_ALIGN(len));
	long rc;

	if (!buf)
		return -ENOMEM;
	if (set && copy_from_user(buf, argp, len))
		rc = -EFAULT;
	else if (set)
		rc = hvk_vcpu_set(vc, kind, buf, 1);
	else if ((rc = hvk_vcpu_get(vc, kind, buf, 1)) >= 0)
		rc = copy_to_user(argp, buf, len) ? -EFAULT : 0;
	hvk_buf_free(buf, PAGE_ALIGN(len));
	return rc;
}

/* ---- CPUID ---- */

/* A list the hypervisor fills (get: returns the count there is), as struct kvm_cpuid2. */
static long cpuid_out(struct kvm_cpuid2 __user *user, long (*fill)(void *buf, unsigned int max,
								  void *ctx), void *ctx)
{
	size_t len = HVK_MAX_CPUID * sizeof(struct kvm_cpuid_entry2);
	void *buf = hvk_buf_alloc(len);
	struct kvm_cpuid2 head;
	long n;

	if (!buf)
		return -ENOMEM;
	n = fill(buf, HVK_MAX_CPUID, ctx);
	if (n >= 0 && n > HVK_MAX_CPUID)
		n = -EIO;
	if (n >= 0 && copy_from_user(&head, user, sizeof(head)))
		n = -EFAULT;
	if (n >= 0 && put_user((u32)n, &user->nent))
		n = -EFAULT;
	if (n >= 0 && head.nent < n)
		n = -E2BIG;
	if (n >= 0)
		n = copy_to_user(user->entries, buf, n * sizeof(struct kvm_cpuid_entry2)) ? -EFAULT : 0;
	hvk_buf_free(buf, len);
	return n;
}

/* The hypervisor's list; steal time (kept here) only where this kernel has run delays. */
static long fill_supported(void *buf, unsigned int max, void *ctx)
{
	struct kvm_cpuid_entry2 *e = buf;
	long n = hv_call(HC_SYS_INFO, HV_INFO_CPUID, virt_to_phys(buf), max, 0, 0), i;

	for (i = 0; i < n && i < max && !sched_info_on(); i++)
		if (e[i].function == KVM_CPUID_FEATURES)
			e[i].eax &= ~BIT(KVM_FEATURE_STEAL_TIME);
	return n;
}

/* Register `reg` (0 EAX ... 3 EDX) of the vCPU's CPUID leaf `function` (index 0); 0 if none. */
u32 hvk_cpuid(struct hvk_vcpu *vc, u32 function, unsigned int reg)
{
	u32 r;

	hvk_cpuid_regs(vc, &function, &reg, &r, 1);
	return r;
}

/* n registers at once (one read of the table): out[i] is leaf fn[i]'s register reg[i]. */
void hvk_cpuid_regs(struct hvk_vcpu *vc, const u32 *fn, const unsigned int *reg, u32 *out,
		    unsigned int n)
{
	struct kvm_cpuid_entry2 *e = hvk_buf_alloc(HVK_MAX_CPUID * sizeof(*e));
	long nent = e ? hvk_vcpu_get(vc, HV_STATE_CPUID, e, HVK_MAX_CPUID) : 0, i;
	unsigned int j;

	for (j = 0; j < n; j++)
		for (out[j] = 0, i = 0; i < nent && i < HVK_MAX_CPUID; i++)
			if (e[i].function == fn[j] && !e[i].index)
				out[j] = (&e[i].eax)[reg[j] & 3];
	if (e)
		hvk_buf_free(e, HVK_MAX_CPUID * sizeof(*e));
}

static long fill_vcpu(void *buf, unsigned int max, void *ctx)
{
	return hvk_vcpu_get(ctx, HV_STATE_CPUID, buf, max);
}

static long set_cpuid2(struct hvk_vcpu *vc, struct kvm_cpuid2 __user *user)
{
	struct kvm_cpuid2 head;
	size_t len;
	void *buf;
	long rc;

	if (copy_from_user(&head, user, sizeof(head)))
		return -EFAULT;
	if (head.nent > HVK_MAX_CPUID)
		return -E2BIG;
	len = PAGE_ALIGN(max_t(size_t, head.nent * sizeof(struct kvm_cpuid_entry2), 1));
	buf = hvk_buf_alloc(len);
	if (!buf)
		return -ENOMEM;
	rc = copy_from_user(buf, user->entries, head.nent * sizeof(struct kvm_cpuid_entry2)) ?
		     -EFAULT : hvk_vcpu_set(vc, HV_STATE_CPUID, buf, head.nent);
	hvk_buf_free(buf, len);
	if (!rc)
		hvk_hv_set_cpuid(vc); /* whether the vCPU is Hyper-V's, its feature bits */
	return rc;
}

/* ---- MSRs ---- */

/* KVM_GET/SET_MSRS: returns how many entries were done, stopping at the first refused. */
static long msrs(struct kvm_msrs __user *user, bool set, long (*call)(void *buf, unsigned int n,
								     bool set, void *ctx), void *ctx)
{
	struct kvm_msrs head;
	size_t len;
	void *buf;
	long n;

	if (copy_from_user(&head, user, sizeof(head)))
		return -EFAULT;
	if (head.nmsrs >= HVK_MAX_MSRS)
		return -E2BIG;
	len = PAGE_ALIGN(max_t(size_t, head.nmsrs * sizeof(struct kvm_msr_entry), 1));
	buf = hvk_buf_alloc(len);
	if (!buf)
		return -ENOMEM;
	n = copy_from_user(buf, user->entries, head.nmsrs * sizeof(struct kvm_msr_entry)) ?
		    -EFAULT : call(buf, head.nmsrs, set, ctx);
	if (n > head.nmsrs)
		n = -EIO;
	if (n >= 0 && n < head.nmsrs) /* as KVM's report_ignored_msrs: say which */
		pr_warn_ratelimited("kvm_hv: KVM_%s_MSRS stops at MSR %#x (data %#llx)\n",
				    set ? "SET" : "GET", ((struct kvm_msr_entry *)buf)[n].index,
				    ((struct kvm_msr_entry *)buf)[n].data);
	if (n > 0 && !set && copy_to_user(user->entries, buf, n * sizeof(struct kvm_msr_entry)))
		n = -EFAULT;
	hvk_buf_free(buf, len);
	return n;
}

static long vcpu_msrs(void *buf, unsigned int n, bool set, void *ctx)
{
	return hvk_msrs(ctx, buf, n, set);
}

static long feature_msrs(void *buf, unsigned int n, bool set, void *ctx)
{
	return hv_call(HC_SYS_INFO, HV_INFO_FEATURE_MSRS, virt_to_phys(buf), n, 0, 0);
}

/* KVM_GET_MSR_FEATURE_INDEX_LIST: the count always comes back; E2BIG when it did not fit. */
static long feature_index_list(struct kvm_msr_list __user *user)
{
	u32 *buf = hvk_buf_alloc(PAGE_SIZE);
	struct kvm_msr_list head;
	long n;

	if (!buf)
		return -ENOMEM;
	n = hv_call(HC_SYS_INFO, HV_INFO_FEATURE_LIST, virt_to_phys(buf), PAGE_SIZE / 4, 0, 0);
	if (n < 0 || n > PAGE_SIZE / 4)
		n = -EIO;
	else if (copy_from_user(&head, user, sizeof(head)) || put_user((u32)n, &user->nmsrs))
		n = -EFAULT;
	else if (head.nmsrs < n)
		n = -E2BIG;
	else
		n = copy_to_user(user->indices, buf, n * sizeof(u32)) ? -EFAULT : 0;
	hvk_buf_free(buf, PAGE_SIZE);
	return n;
}

/* ---- extended state ---- */

/* struct kvm_fpu is the legacy region of the XSAVE image (FXSAVE layout) rearranged. */
struct fxregs {
	u16 fcw, fsw;
	u8 ftw, rsvd;
	u16 fop;
	u64 fip, fdp;
	u32 mxcsr, mxcsr_mask;
	u8 st[8][16];
	u8 xmm[16][16];
};

static long fpu(struct hvk_vcpu *vc, struct kvm_fpu __user *user, bool set)
{
	u8 *buf = hvk_buf_alloc(XSAVE_SIZE);
	struct fxregs *fx = (struct fxregs *)buf;
	struct kvm_fpu f;
	long rc;

	if (!buf)
		return -ENOMEM;
	rc = hvk_vcpu_get(vc, HV_STATE_XSAVE, buf, 1);
	if (rc >= 0 && set && copy_from_user(&f, user, sizeof(f)))
		rc = -EFAULT;
	if (rc >= 0 && set) {
		fx->fcw = f.fcw, fx->fsw = f.fsw, fx->ftw = f.ftwx, fx->fop = f.last_opcode;
		fx->fip = f.last_ip, fx->fdp = f.last_dp, fx->mxcsr = f.mxcsr;
		memcpy(fx->st, f.fpr, sizeof(f.fpr));
		memcpy(fx->xmm, f.xmm, sizeof(f.xmm));
		*(u64 *)(buf + XSTATE_BV) |= 3; /* x87 and SSE now come from this image */
		rc = hvk_vcpu_set(vc, HV_STATE_XSAVE, buf, 1);
	} else if (rc >= 0) {
		memset(&f, 0, sizeof(f));
		f.fcw = fx->fcw, f.fsw = fx->fsw, f.ftwx = fx->ftw, f.last_opcode = fx->fop;
		f.last_ip = fx->fip, f.last_dp = fx->fdp, f.mxcsr = fx->mxcsr;
		memcpy(f.fpr, fx->st, sizeof(f.fpr));
		memcpy(f.xmm, fx->xmm, sizeof(f.xmm));
		rc = copy_to_user(user, &f, sizeof(f)) ? -EFAULT : 0;
	}
	hvk_buf_free(buf, XSAVE_SIZE);
	return rc;
}

static long xcrs(struct hvk_vcpu *vc, struct kvm_xcrs __user *user, bool set)
{
	struct kvm_xcrs x;
	u64 *buf = hvk_buf_alloc(PAGE_SIZE);
	long rc = 0;
	u32 i;

	if (!buf)
		return -ENOMEM;
	if (!set) {
		rc = hvk_vcpu_get(vc, HV_STATE_XCR0, buf, 1);
		memset(&x, 0, sizeof(x));
		x.nr_xcrs = 1;
		x.xcrs[0].value = *buf;
		if (rc >= 0)
			rc = copy_to_user(user, &x, sizeof(x)) ? -EFAULT : 0;
	} else if (copy_from_user(&x, user, sizeof(x))) {
		rc = -EFAULT;
	} else if (x.flags || x.nr_xcrs > KVM_MAX_XCRS) {
		rc = -EINVAL;
	} else {
		for (i = 0; i < x.nr_xcrs && !rc; i++) {
			*buf = x.xcrs[i].value;
			rc = x.xcrs[i].xcr ? -EINVAL : hvk_vcpu_set(vc, HV_STATE_XCR0, buf, 1);
		}
	}
	hvk_buf_free(buf, PAGE_SIZE);
	return rc;
}

/* ---- events, debug registers, multiprocessing state ---- */

/* KVM_GET_VCPU_EVENTS into a kernel buffer (also KVM_SYNC_X86_EVENTS) */
long hvk_get_events(struct hvk_vcpu *vc, struct kvm_vcpu_events *out)
{
	struct kvm_vcpu_events ev = {};
	struct hv_events *e = hvk_buf_alloc(PAGE_SIZE);
	long rc;

	if (!e)
		return -ENOMEM;
	rc = hvk_vcpu_get(vc, HV_STATE_EVENTS, e, 1);
	if (rc >= 0) {
		ev.exception.injected = e->exc_injected;
		ev.exception.nr = e->exc_nr;
		ev.exception.has_error_code = e->exc_has_error;
		ev.exception.error_code = e->exc_error;
		ev.interrupt.injected = e->irq_injected;
		ev.interrupt.nr = e->irq_nr;
		ev.interrupt.shadow = e->interrupt_shadow;
		ev.nmi.pending = e->nmi_pending;
		ev.nmi.masked = e->nmi_masked;
		ev.smi.smm = !!(e->smm & HV_SMM_IN);
		ev.smi.pending = !!(e->smm & HV_SMM_PENDING);
		ev.smi.smm_inside_nmi = ev.smi.smm && vc->smm_inside_nmi;
		ev.smi.latched_init = !!(e->smm & HV_SMM_LATCHED_INIT);
		ev.flags = KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM;
		*out = ev;
		rc = 0;
	}
	hvk_buf_free(e, PAGE_SIZE);
	return rc;
}

static long get_events(struct hvk_vcpu *vc, struct kvm_vcpu_events __user *user)
{
	struct kvm_vcpu_events ev;
	long rc = hvk_get_events(vc, &ev);

	return rc ? rc : copy_to_user(user, &ev, sizeof(ev)) ? -EFAULT : 0;
}

#define EVENT_FLAGS (KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR | \
		     KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM)

/* KVM's checks; state a flag does not mark valid stays as it is. */
long hvk_set_events(struct hvk_vcpu *vc, const struct kvm_vcpu_events *evp)
{
	struct kvm_vcpu_events ev = *evp;
	bool smm = ev.flags & KVM_VCPUEVENT_VALID_SMM;
	struct hv_events *e;
	u32 *mp;
	long rc;

	if ((ev.flags & ~EVENT_FLAGS) ||
	    ((ev.exception.injected || ev.exception.pending) &&
	     (ev.exception.nr > 31 || ev.exception.nr == 2)))
		return -EINVAL;
	e = hvk_buf_alloc(PAGE_SIZE);
	if (!e)
		return -ENOMEM;
	rc = hvk_vcpu_get(vc, HV_STATE_EVENTS, e, 1);
	mp = (u32 *)(e + 1); /* as KVM: no SMM for a vCPU waiting for its SIPI */
	if (smm && (ev.smi.smm || ev.smi.pending) && vc->vm->irqchip && rc >= 0 &&
	    hvk_vcpu_get(vc, HV_STATE_MP, mp, 1) >= 0 && *mp == HV_MP_INIT_RECEIVED)
		rc = -EINVAL;
	if (smm)
		e->smm = (ev.smi.smm ? HV_SMM_IN : 0) | (ev.smi.pending ? HV_SMM_PENDING : 0) |
			 (ev.smi.latched_init ? HV_SMM_LATCHED_INIT : 0);
	e->exc_injected = ev.exception.injected || ev.exception.pending;
	e->exc_nr = ev.exception.nr;
	e->exc_has_error = ev.exception.has_error_code;
	e->exc_error = ev.exception.error_code;
	e->irq_injected = ev.interrupt.injected;
	e->irq_nr = ev.interrupt.nr;
	e->nmi_masked = ev.nmi.masked;
	if (ev.flags & KVM_VCPUEVENT_VALID_SHADOW)
		e->interrupt_shadow = ev.interrupt.shadow;
	if (ev.flags & KVM_VCPUEVENT_VALID_NMI_PENDING)
		e->nmi_pending = ev.nmi.pending;
	e->nmi_pending |= ev.nmi.injected; /* an NMI cut short is delivered again */
	if (rc >= 0)
		rc = hvk_vcpu_set(vc, HV_STATE_EVENTS, e, 1);
	if (!rc && smm)
		vc->smm_inside_nmi = ev.smi.smm && ev.smi.smm_inside_nmi;
	hvk_buf_free(e, PAGE_SIZE);
	return rc;
}

/* KVM_SMI: an SMI waits for the vCPU's next entry (taken as soon as it is not in SMM). */
static long smi(struct hvk_vcpu *vc)
{
	struct kvm_vcpu_events ev;
	long rc = hvk_get_events(vc, &ev);

	ev.smi.pending = 1;
	ev.flags = KVM_VCPUEVENT_VALID_SMM | KVM_VCPUEVENT_VALID_SHADOW;
	return rc ?: hvk_set_events(vc, &ev);
}

static long debugregs(struct hvk_vcpu *vc, struct kvm_debugregs __user *user, bool set)
{
	struct kvm_debugregs d = {};
	u64 *buf = hvk_buf_alloc(PAGE_SIZE);
	long rc;

	if (!buf)
		return -ENOMEM;
	if (set) {
		rc = copy_from_user(&d, user, sizeof(d)) ? -EFAULT : d.flags ? -EINVAL : 0;
		memcpy(buf, d.db, sizeof(d.db));
		buf[4] = d.dr6, buf[5] = d.dr7;
		if (!rc)
			rc = hvk_vcpu_set(vc, HV_STATE_DEBUGREGS, buf, 1);
	} else {
		rc = hvk_vcpu_get(vc, HV_STATE_DEBUGREGS, buf, 1);
		memcpy(d.db, buf, sizeof(d.db));
		d.dr6 = buf[4], d.dr7 = buf[5];
		if (rc >= 0)
			rc = copy_to_user(user, &d, sizeof(d)) ? -EFAULT : 0;
	}
	hvk_buf_free(buf, PAGE_SIZE);
	return rc;
}

/*
 * Without the irqchip a vCPU is always runnable (HLT exits to user space) and KVM refuses any
 * other state; with it, the hypervisor knows halted and waiting-for-SIPI vCPUs.
 */
static long mp_state(struct hvk_vcpu *vc, struct kvm_mp_state __user *user, bool set)
{
	struct kvm_mp_state s = {KVM_MP_STATE_RUNNABLE};

	if (set && copy_from_user(&s, user, sizeof(s)))
		return -EFAULT;
	if (set && !vc->vm->irqchip)
		return s.mp_state == KVM_MP_STATE_RUNNABLE ? 0 : -EINVAL;
	if (set)
		return fixed(vc, HV_STATE_MP, user, sizeof(s), true);
	if (!vc->vm->irqchip)
		return copy_to_user(user, &s, sizeof(s)) ? -EFAULT : 0;
	return fixed(vc, HV_STATE_MP, user, sizeof(s), false);
}

static long interrupt(struct hvk_vcpu *vc, struct kvm_interrupt __user *user)
{
	struct kvm_interrupt irq;

	if (copy_from_user(&irq, user, sizeof(irq)))
		return -EFAULT;
	if (irq.irq >= KVM_NR_INTERRUPTS)
		return -EINVAL;
	return fixed(vc, HV_STATE_IRQ, user, sizeof(irq), true);
}

/* KVM_SET_GUEST_DEBUG: flags as KVM's, DR0-3 and DR7 for hardware breakpoints. */
static long guest_debug(struct hvk_vcpu *vc, struct kvm_guest_debug __user *user)
{
	struct kvm_guest_debug dbg;
	u64 *buf;
	long rc;

	BUILD_BUG_ON(KVM_GUESTDBG_USE_HW_BP != HV_DBG_HW_BP ||
		     KVM_GUESTDBG_INJECT_BP != HV_DBG_INJECT_BP ||
		     KVM_GUESTDBG_BLOCKIRQ != HV_DBG_BLOCKIRQ);
	if (copy_from_user(&dbg, user, sizeof(dbg)))
		return -EFAULT;
	buf = hvk_buf_alloc(PAGE_SIZE);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, dbg.arch.debugreg, sizeof(dbg.arch.debugreg));
	rc = hv_call(HC_VCPU_DEBUG, vc->vm->handle, vc->id, dbg.control, virt_to_phys(buf), 0);
	hvk_buf_free(buf, PAGE_SIZE);
	return rc;
}

/* KVM_TRANSLATE: the linear address goes in, the rest comes out. */
static long translate(struct hvk_vcpu *vc, struct kvm_translation __user *user)
{
	struct hv_translate *t = hvk_buf_alloc(PAGE_SIZE);
	long rc;

	BUILD_BUG_ON(sizeof(struct kvm_translation) != sizeof(struct hv_translate));
	if (!t)
		return -ENOMEM;
	rc = copy_from_user(t, user, sizeof(*t)) ? -EFAULT :
						     hvk_vcpu_get(vc, HV_STATE_TRANSLATE, t, 1);
	if (rc >= 0)
		rc = copy_to_user(user, t, sizeof(*t)) ? -EFAULT : 0;
	hvk_buf_free(t, PAGE_SIZE);
	return rc;
}

static long signal_mask(struct hvk_vcpu *vc, struct kvm_signal_mask __user *user)
{
	struct kvm_signal_mask head;
	sigset_t set;

	if (!user) {
		vc->has_sigmask = false;
		return 0;
	}
	if (copy_from_user(&head, user, sizeof(head)))
		return -EFAULT;
	if (head.len != sizeof(set))
		return -EINVAL;
	if (copy_from_user(&set, user->sigset, sizeof(set)))
		return -EFAULT;
	sigdelsetmask(&set, sigmask(SIGKILL) | sigmask(SIGSTOP));
	vc->sigmask = set;
	vc->has_sigmask = true;
	return 0;
}

/* ---- SREGS2: the segment state, with PDPTEs never reported as held apart ---- */

static long sregs2(struct hvk_vcpu *vc, struct kvm_sregs2 __user *user, bool set)
{
	struct kvm_sregs *s = hvk_buf_alloc(PAGE_SIZE);
	struct kvm_sregs2 s2;
	long rc = 0;

	if (!s)
		return -ENOMEM;
	BUILD_BUG_ON(offsetof(struct kvm_sregs2, flags) != offsetof(struct kvm_sregs, interrupt_bitmap));
	if (set) {
		if (copy_from_user(&s2, user, sizeof(s2)))
			rc = -EFAULT;
		else if (s2.flags) /* PDPTEs given apart: KVM_SREGS2_FLAGS_PDPTRS_VALID is not offered */
			rc = -EINVAL;
		memcpy(s, &s2, offsetof(struct kvm_sregs2, flags)); /* no pending IRQ in SREGS2 */
		if (!rc)
			rc = hv_call(HC_VCPU_SET_SREGS, vc->vm->handle, vc->id, virt_to_phys(s), 0, 0);
	} else {
		rc = hv_call(HC_VCPU_GET_SREGS, vc->vm->handle, vc->id, virt_to_phys(s), 0, 0);
		memset(&s2, 0, sizeof(s2));
		memcpy(&s2, s, offsetof(struct kvm_sregs2, flags));
		if (!rc)
			rc = copy_to_user(user, &s2, sizeof(s2)) ? -EFAULT : 0;
	}
	hvk_buf_free(s, PAGE_SIZE);
	return rc;
}

/* KVM_ENABLE_CAP on a vCPU: KVM_CAP_ENFORCE_PV_FEATURE_CPUID only. */
static long vapic_addr(struct hvk_vcpu *vc, u64 __user *argp)
{
	u64 gpa;

	if (get_user(gpa, argp))
		return -EFAULT;
	if (gpa)
		hvk_fault_in(vc->vm, gpa & PAGE_MASK, true);
	return fixed(vc, HV_STATE_VAPIC, argp, sizeof(u64), true);
}

static long vcpu_enable_cap(struct hvk_vcpu *vc, const struct kvm_enable_cap __user *argp)
{
	struct kvm_enable_cap cap;
	bool old;
	long rc;

	if (copy_from_user(&cap, argp, sizeof(cap)))
		return -EFAULT;
	if (cap.flags)
		return -EINVAL;
	if (cap.cap == KVM_CAP_HYPERV_ENFORCE_CPUID) {
		hvk_hv_enforce(vc, cap.args[0]);
		return 0;
	}
	if (cap.cap == KVM_CAP_HYPERV_SYNIC2 && cap.args[0])
		return -EINVAL;
	if (cap.cap == KVM_CAP_HYPERV_SYNIC || cap.cap == KVM_CAP_HYPERV_SYNIC2)
		return hvk_synic_activate(vc, cap.cap == KVM_CAP_HYPERV_SYNIC2);
	if (cap.cap != KVM_CAP_ENFORCE_PV_FEATURE_CPUID)
		return -EINVAL;
	old = vc->pv_enforce;
	vc->pv_enforce = cap.args[0]; /* also for the PV MSRs this module keeps (hvk_msr.c) */
	rc = hvk_hv_update_calls(vc);
	if (rc)
		vc->pv_enforce = old;
	return rc;
}

/* vCPU device attributes, as KVM's on x86: KVM_VCPU_TSC_CTRL's KVM_VCPU_TSC_OFFSET only. */
static long vcpu_attr(struct hvk_vcpu *vc, unsigned int ioctl, const struct kvm_device_attr __user *argp)
{
	struct kvm_device_attr a;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.group != KVM_VCPU_TSC_CTRL || a.attr != KVM_VCPU_TSC_OFFSET)
		return -ENXIO;
	if (ioctl == KVM_HAS_DEVICE_ATTR)
		return 0;
	return fixed(vc, HV_STATE_TSC_OFFSET, u64_to_user_ptr(a.addr), sizeof(u64),
		     ioctl == KVM_SET_DEVICE_ATTR);
}

long hvk_state_ioctl(struct hvk_vcpu *vc, unsigned int ioctl, void __user *argp)
{
	switch (ioctl) {
	case KVM_HAS_DEVICE_ATTR:
	case KVM_GET_DEVICE_ATTR:
	case KVM_SET_DEVICE_ATTR:
		return vcpu_attr(vc, ioctl, argp);
	case KVM_SET_CPUID2:
		return set_cpuid2(vc, argp);
	case KVM_GET_CPUID2:
		return cpuid_out(argp, fill_vcpu, vc);
	case KVM_GET_MSRS:
		return msrs(argp, false, vcpu_msrs, vc);
	case KVM_SET_MSRS:
		return msrs(argp, true, vcpu_msrs, vc);
	case KVM_GET_FPU:
		return fpu(vc, argp, false);
	case KVM_SET_FPU:
		return fpu(vc, argp, true);
	case KVM_GET_XSAVE:
	case KVM_GET_XSAVE2:
		return fixed(vc, HV_STATE_XSAVE, argp, XSAVE_SIZE, false);
	case KVM_SET_XSAVE:
		return fixed(vc, HV_STATE_XSAVE, argp, XSAVE_SIZE, true);
	case KVM_GET_XCRS:
		return xcrs(vc, argp, false);
	case KVM_SET_XCRS:
		return xcrs(vc, argp, true);
	case KVM_GET_VCPU_EVENTS:
		return get_events(vc, argp);
	case KVM_SET_VCPU_EVENTS: {
		struct kvm_vcpu_events ev;

		return copy_from_user(&ev, argp, sizeof(ev)) ? -EFAULT : hvk_set_events(vc, &ev);
	}
	case KVM_GET_DEBUGREGS:
		return debugregs(vc, argp, false);
	case KVM_SET_DEBUGREGS:
		return debugregs(vc, argp, true);
	case KVM_GET_MP_STATE:
		return mp_state(vc, argp, false);
	case KVM_SET_MP_STATE:
		return mp_state(vc, argp, true);
	case KVM_INTERRUPT: /* with the irqchip, interrupts come through it (KVM: ENXIO) */
		return vc->vm->irqchip && !vc->vm->split ? -ENXIO : interrupt(vc, argp);
	case KVM_GET_LAPIC:
		return vc->vm->irqchip ? fixed(vc, HV_STATE_LAPIC, argp, 1024, false) : -EINVAL;
	case KVM_SET_LAPIC:
		return vc->vm->irqchip ? fixed(vc, HV_STATE_LAPIC, argp, 1024, true) : -EINVAL;
	case KVM_NMI:
		return hvk_vcpu_set(vc, HV_STATE_NMI, NULL, 0);
	case KVM_SMI:
		return smi(vc);
	case KVM_GET_SUPPORTED_HV_CPUID:
		return hvk_hv_supported_cpuid(vc, argp);
	case KVM_TRANSLATE:
		return translate(vc, argp);
	case KVM_SET_GUEST_DEBUG:
		return guest_debug(vc, argp);
	case KVM_SET_SIGNAL_MASK:
		return signal_mask(vc, argp);
	case KVM_SET_VAPIC_ADDR: /* its page faulted in first: the hypervisor probes it */
		return vapic_addr(vc, argp);
	case KVM_X86_SETUP_MCE:
		return fixed(vc, HV_STATE_MCE_CAP, argp, sizeof(u64), true);
	case KVM_ENABLE_CAP:
		return vcpu_enable_cap(vc, argp);
	case KVM_X86_SET_MCE:
		return fixed(vc, HV_STATE_MCE, argp, sizeof(struct kvm_x86_mce), true);
	case KVM_GET_SREGS2:
		return sregs2(vc, argp, false);
	case KVM_SET_SREGS2:
		return sregs2(vc, argp, true);
	default:
		return -ENOIOCTLCMD;
	}
}

/* The /dev/kvm ioctls that are lists from the hypervisor; -EINVAL for any other. */
long hvk_dev_state_ioctl(unsigned int ioctl, void __user *argp)
{
	switch (ioctl) {
	case KVM_GET_SUPPORTED_CPUID:
		return cpuid_out(argp, fill_supported, NULL);
	case KVM_GET_MSR_FEATURE_INDEX_LIST:
		return feature_index_list(argp);
	case KVM_GET_MSRS:
		return msrs(argp, false, feature_msrs, NULL);
	default:
		return -EINVAL;
	}
}
