// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-V's hypercalls, as KVM's kvm_hv_hypercall() answers them once the guest has enabled
 * its hypercall page (the hypervisor hands such a VMCALL to this module): remote TLB flushes
 * (every vCPU's TLB is flushed, a superset of the set asked for), cluster IPIs, the long-spin
 * notice; message posting and event signals go to user space (KVM_EXIT_HYPERV_HCALL) while
 * the SynIC is active, the debugger's when user space asked for them over hypercalls.
 */
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <asm/hyperv-tlfs.h>

#include "hvk.h"

#define SYNDBG_CAP_ALLOW_KERNEL_DEBUGGING BIT(1)
#define SYNDBG_OPTION_USE_HCALLS	  BIT(2)
#define USER_SPACE			  (~0ULL) /* dispatch(): user space answers */
#define CONN_ID_MASK			  0xffffff

struct hcall {
	u64 param, ingpa, outgpa;
	u16 code, var_cnt, rep_cnt, rep_idx;
	bool fast, rep;
	u64 xmm[12]; /* XMM0-5, for the fast forms that pass more than two words */
};

/* KVM's hv_check_hypercall_access(). */
static bool call_allowed(struct hvk_hv_vcpu *h, u16 code)
{
	if (!h->enforce)
		return true;
	switch (code) {
	case HVCALL_NOTIFY_LONG_SPIN_WAIT:
		return h->recommend_ebx && h->recommend_ebx != U32_MAX;
	case HVCALL_POST_MESSAGE:
		return h->features_ebx & HV_POST_MESSAGES;
	case HVCALL_SIGNAL_EVENT:
		return h->features_ebx & HV_SIGNAL_EVENTS;
	case HVCALL_POST_DEBUG_DATA:
	case HVCALL_RETRIEVE_DEBUG_DATA:
	case HVCALL_RESET_DEBUG_SESSION: /* so that a disabled debugger is an invalid code */
		return !(h->syndbg_eax & SYNDBG_CAP_ALLOW_KERNEL_DEBUGGING) ||
		       (h->features_ebx & HV_DEBUGGING);
	case HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX:
	case HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX:
		if (!(h->recommend_eax & HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED))
			return false;
		fallthrough;
	case HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST:
	case HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE:
		return h->recommend_eax & HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED;
	case HVCALL_SEND_IPI_EX:
		if (!(h->recommend_eax & HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED))
			return false;
		fallthrough;
	case HVCALL_SEND_IPI:
		return h->recommend_eax & HV_X64_CLUSTER_IPI_RECOMMENDED;
	default:
		return true;
	}
}

/* Guest memory the hypercall names: input at ingpa (or after the fast words, in XMM). */
static int read_input(struct hvk_vcpu *vc, const struct hcall *hc, void *buf, size_t off,
		      size_t len)
{
	void __user *p;
	int rc = -EFAULT;

	if (hc->fast) {
		if (off < 16 || off - 16 + len > sizeof(hc->xmm))
			return -EINVAL;
		memcpy(buf, (u8 *)hc->xmm + off - 16, len);
		return 0;
	}
	down_read(&vc->vm->slots_lock);
	p = hvk_gpa_to_user(vc->vm, hc->ingpa + off, len, false);
	if (p && !copy_from_user(buf, p, len))
		rc = 0;
	up_read(&vc->vm->slots_lock);
	return rc;
}

/*
 * A sparse VP set's banks (HV_GENERIC_SET_SPARSE_4K) at `off`: whether vp_index is in it. The
 * count of banks is var_cnt, one per bit of the valid mask, as KVM checks.
 */
static int vp_in_set(struct hvk_vcpu *vc, const struct hcall *hc, size_t off, u64 valid, u32 vp,
		     bool *in)
{
	unsigned int bank = vp / 64, slot;
	u64 bits;

	*in = false;
	if (bank >= 64 || !(valid >> bank & 1))
		return 0;
	slot = hweight64(valid & (BIT_ULL(bank) - 1));
	if (read_input(vc, hc, &bits, off + slot * 8, 8))
		return -EFAULT;
	*in = bits >> (vp % 64) & 1;
	return 0;
}

/*
 * HvFlushVirtualAddressSpace/List(Ex): every vCPU's TLB is flushed (a superset of the set asked
 * for, which KVM flushes); rep hypercalls report all their elements done.
 */
static u64 flush_tlb(struct hvk_vcpu *vc, const struct hcall *hc)
{
	struct hv_tlb_flush_ex ex;

	if (!hc->fast && read_input(vc, hc, &ex, 0, sizeof(ex)))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (hc->fast)
		ex.hv_vp_set.valid_bank_mask = hc->xmm[0];
	if ((hc->code == HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX ||
	     hc->code == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX) &&
	    hc->var_cnt != hweight64(ex.hv_vp_set.valid_bank_mask))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (hv_call(HC_VM_UNMAP, vc->vm->handle, 0, 0, 0, 0))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	return (u64)hc->rep_cnt << HV_HYPERCALL_REP_COMP_OFFSET;
}

/* HvCallSendSyntheticClusterIpi(Ex), as KVM's kvm_hv_send_ipi(): fixed IPIs by VP index. */
static u64 send_ipi(struct hvk_vcpu *vc, const struct hcall *hc)
{
	struct hv_send_ipi_ex ex = {};
	bool all = false, in;
	u64 valid, mask = 0;
	unsigned int i;
	u32 vector;

	if (!vc->vm->irqchip)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (hc->code == HVCALL_SEND_IPI) {
		struct hv_send_ipi s;

		if (hc->fast && hc->ingpa >> 32)
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
		if (!hc->fast && read_input(vc, hc, &s, 0, sizeof(s)))
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
		vector = hc->fast ? (u32)hc->ingpa : s.vector;
		mask = hc->fast ? hc->outgpa : s.cpu_mask;
		valid = 1;
	} else {
		if (hc->fast) {
			ex.vector = hc->ingpa, ex.vp_set.format = hc->outgpa;
			ex.vp_set.valid_bank_mask = hc->xmm[0];
		} else if (read_input(vc, hc, &ex, 0, sizeof(ex))) {
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
		}
		vector = ex.vector;
		valid = ex.vp_set.valid_bank_mask;
		all = ex.vp_set.format == HV_GENERIC_SET_ALL;
		if (hc->var_cnt != hweight64(valid))
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
		if (!all && !hc->var_cnt)
			return HV_STATUS_SUCCESS;
	}
	if (vector < HV_IPI_LOW_VECTOR || vector > HV_IPI_HIGH_VECTOR)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	for (i = 0; i < HVK_MAX_VCPUS; i++) {
		struct hvk_vcpu *t = READ_ONCE(vc->vm->vcpus[i]);

		if (!t)
			continue;
		if (hc->code == HVCALL_SEND_IPI)
			in = t->hv.vp_index < 64 && (mask >> t->hv.vp_index & 1);
		else if (!all && vp_in_set(vc, hc, offsetof(struct hv_send_ipi_ex, vp_set.bank_contents),
					   valid, t->hv.vp_index, &in))
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
		if (all || in)
			hvk_msi(vc->vm, 0xfee00000 | t->id << 12, vector);
	}
	return HV_STATUS_SUCCESS;
}

/* XMM0-5 from the vCPU's saved FPU state (XSAVE legacy area). */
static int read_xmm(struct hvk_vcpu *vc, u64 *xmm)
{
	u8 *x = hvk_buf_alloc(PAGE_SIZE);
	long rc;

	if (!x)
		return -ENOMEM;
	rc = hvk_vcpu_get(vc, HV_STATE_XSAVE, x, 1);
	memcpy(xmm, x + 160, 6 * 16);
	hvk_buf_free(x, PAGE_SIZE);
	return rc < 0 ? rc : 0;
}

/*
 * HvSignalEvent's checks as KVM's kvm_hvcall_signal_event(); no port has an eventfd here, so a
 * valid one is user space's (HV_STATUS_INVALID_PORT_ID sends it on).
 */
static u64 signal_event(struct hvk_vcpu *vc, const struct hcall *hc)
{
	u64 param = hc->ingpa;

	if (!hc->fast) {
		if ((hc->ingpa & 7) || offset_in_page(hc->ingpa) + 8 > PAGE_SIZE ||
		    read_input(vc, hc, &param, 0, 8))
			return HV_STATUS_INVALID_ALIGNMENT;
	}
	if (param & 0xffff00000000ULL) /* the flag number: not for KVM's ports */
		return HV_STATUS_INVALID_PORT_ID;
	if (param & ~(u64)CONN_ID_MASK)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	return HV_STATUS_INVALID_PORT_ID;
}

static u64 dispatch(struct hvk_vcpu *vc, struct hcall *hc)
{
	u64 ret;

	switch (hc->code) {
	case HVCALL_NOTIFY_LONG_SPIN_WAIT:
		if (hc->rep || hc->var_cnt)
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
		cond_resched(); /* KVM's kvm_vcpu_on_spin(): let others run */
		return HV_STATUS_SUCCESS;
	case HVCALL_SIGNAL_EVENT:
		if (hc->rep || hc->var_cnt)
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
		ret = signal_event(vc, hc);
		if (ret != HV_STATUS_INVALID_PORT_ID)
			return ret;
		fallthrough; /* user space may know the port */
	case HVCALL_POST_MESSAGE: /* for user space's SynIC, if the guest has one */
		if (hc->rep || hc->var_cnt || !vc->hv.synic.active)
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
		return USER_SPACE;
	case HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST:
	case HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX:
		if ((hc->code == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST && hc->var_cnt) || !hc->rep_cnt ||
		    hc->rep_idx)
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
		return flush_tlb(vc, hc);
	case HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE:
	case HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX:
		if ((hc->code == HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE && hc->var_cnt) || hc->rep)
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
		return flush_tlb(vc, hc);
	case HVCALL_SEND_IPI:
	case HVCALL_SEND_IPI_EX:
		if ((hc->code == HVCALL_SEND_IPI && hc->var_cnt) || hc->rep)
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
		return send_ipi(vc, hc);
	case HVCALL_POST_DEBUG_DATA:
	case HVCALL_RETRIEVE_DEBUG_DATA:
	case HVCALL_RESET_DEBUG_SESSION:
		if (hc->fast && hc->code != HVCALL_RESET_DEBUG_SESSION)
			return HV_STATUS_INVALID_PARAMETER;
		if (!(vc->hv.syndbg_eax & SYNDBG_CAP_ALLOW_KERNEL_DEBUGGING))
			return HV_STATUS_INVALID_HYPERCALL_CODE;
		if (!(vc->vm->hv.syndbg.options & SYNDBG_OPTION_USE_HCALLS))
			return HV_STATUS_OPERATION_DENIED;
		return USER_SPACE;
	default:
		return HV_STATUS_INVALID_HYPERCALL_CODE;
	}
}

static void queue_ud(struct hvk_vcpu *vc)
{
	struct kvm_vcpu_events ev;

	if (hvk_get_events(vc, &ev))
		return;
	ev.exception.injected = 1, ev.exception.nr = UD_VECTOR, ev.exception.has_error_code = 0;
	hvk_set_events(vc, &ev);
}

/* The result in RAX (64-bit) or EDX:EAX, and RIP past the VMCALL. */
static long finish(struct hvk_vcpu *vc, struct kvm_regs *r, u64 ret, bool lm)
{
	if (lm) {
		r->rax = ret;
	} else {
		r->rdx = ret >> 32;
		r->rax = (u32)ret;
	}
	r->rip += 3; /* VMCALL */
	return hvk_regs(vc, HC_VCPU_SET_REGS, r, sizeof(*r), true);
}

/* At the KVM_RUN after a hypercall or debugger exit: user space's answer goes in. */
void hvk_hv_hcall_done(struct hvk_vcpu *vc, struct kvm_run *run)
{
	struct kvm_regs r;

	if (vc->hv.syndbg_done) /* its status for the debugger's CONTROL */
		vc->vm->hv.syndbg.control[1] = READ_ONCE(run->hyperv.u.syndbg.status);
	if (vc->hv.hcall_done && !hvk_regs(vc, HC_VCPU_GET_REGS, &r, sizeof(r), false))
		finish(vc, &r, READ_ONCE(run->hyperv.u.hcall.result), vc->hv.hcall_done == 2);
	vc->hv.syndbg_done = false;
	vc->hv.hcall_done = 0;
}

/*
 * HV_EXIT_HYPERCALL, as KVM's kvm_hv_hypercall(): #UD outside CPL 0 protected mode; the
 * parameters from RCX, RDX, R8 (64-bit) or EDX:EAX, EBX:ECX, EDI:ESI; the result in RAX (or
 * EDX:EAX) and RIP past the VMCALL. Returns 1: the vCPU runs on; 0: user space answers.
 */
long hvk_hv_hypercall(struct hvk_vcpu *vc, struct kvm_run *run)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	struct hcall hc = {};
	bool lm;
	u64 ret;

	if (hvk_regs(vc, HC_VCPU_GET_REGS, &r, sizeof(r), false) ||
	    hvk_regs(vc, HC_VCPU_GET_SREGS, &s, sizeof(s), false))
		return -EIO;
	if (!(s.cr0 & X86_CR0_PE) || s.ss.dpl || (r.rflags & X86_EFLAGS_VM)) {
		queue_ud(vc);
		return 1;
	}
	lm = (s.efer & EFER_LMA) && s.cs.l;
	hc.param = lm ? r.rcx : r.rdx << 32 | (u32)r.rax;
	hc.ingpa = lm ? r.rdx : r.rbx << 32 | (u32)r.rcx;
	hc.outgpa = lm ? r.r8 : r.rdi << 32 | (u32)r.rsi;
	hc.code = hc.param & 0xffff;
	hc.var_cnt = (hc.param & HV_HYPERCALL_VARHEAD_MASK) >> HV_HYPERCALL_VARHEAD_OFFSET;
	hc.fast = hc.param & HV_HYPERCALL_FAST_BIT;
	hc.rep_cnt = hc.param >> HV_HYPERCALL_REP_COMP_OFFSET & 0xfff;
	hc.rep_idx = hc.param >> HV_HYPERCALL_REP_START_OFFSET & 0xfff;
	hc.rep = hc.rep_cnt || hc.rep_idx;
	if (!call_allowed(&vc->hv, hc.code)) {
		ret = HV_STATUS_ACCESS_DENIED;
	} else if (hc.param & HV_HYPERCALL_RSVD_MASK) {
		ret = HV_STATUS_INVALID_HYPERCALL_INPUT;
	} else {
		/* a fast call with more than two words passes the rest in XMM registers */
		if (hc.fast && (hc.code == HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX ||
				hc.code == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX ||
				hc.code == HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE ||
				hc.code == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST ||
				hc.code == HVCALL_SEND_IPI_EX)) {
			if (vc->hv.enforce && !(vc->hv.features_edx & HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE)) {
				queue_ud(vc);
				return 1;
			}
			if (read_xmm(vc, hc.xmm))
				return -EIO;
		}
		ret = dispatch(vc, &hc);
	}
	if (ret == USER_SPACE) {
		memset(&run->hyperv, 0, sizeof(run->hyperv));
		run->exit_reason = KVM_EXIT_HYPERV;
		run->hyperv.type = KVM_EXIT_HYPERV_HCALL;
		run->hyperv.u.hcall.input = hc.param;
		run->hyperv.u.hcall.params[0] = hc.ingpa;
		run->hyperv.u.hcall.params[1] = hc.outgpa;
		vc->hv.hcall_done = lm ? 2 : 1;
		return 0;
	}
	return finish(vc, &r, ret, lm) ?: 1;
}

