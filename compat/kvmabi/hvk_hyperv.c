// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-V enlightenments, kept in this module as KVM keeps them in hyperv.c: the guest's
 * identity and hypercall page, the VP index and run time, the partition reference counter and
 * TSC page, the frequency MSRs, the reset and crash MSRs, re-enlightenment, and the hypercalls
 * (remote TLB flushes, IPIs, the long-spin notice). A vCPU whose CPUID has Hyper-V's interface
 * signature reaches them; KVM_CAP_HYPERV_ENFORCE_CPUID gates each on its CPUID feature bit.
 * Not offered (so not in KVM_GET_SUPPORTED_HV_CPUID): the synthetic interrupt controller and
 * timers, the APIC access MSRs and VP assist page, the synthetic debugger, enlightened VMCS.
 */
#include <linux/cpu.h>
#include <linux/math64.h>
#include <linux/sched/cputime.h>
#include <linux/uaccess.h>
#include <asm/hyperv-tlfs.h>

#include "hvk.h"

#define HYPERV_CPUID_SIGNATURE_EAX		  0x31237648 /* "Hv#1" */
#define HYPERV_CPUID_SYNDBG_PLATFORM_CAPABILITIES 0x40000082
#define SYNDBG_CAP_ALLOW_KERNEL_DEBUGGING	  BIT(1)
#define HV_CPUID_LEAVES				  10

/* The reference TSC page's head (the TLFS's struct ms_hyperv_tsc_page, without volatile). */
struct tsc_page {
	u32 tsc_sequence, reserved;
	u64 tsc_scale;
	s64 tsc_offset;
} __packed;

/* What KVM_GET_SUPPORTED_HV_CPUID offers: KVM's ten leaves, with only the features here. */
static void supported(struct kvm_cpuid_entry2 *e, bool lapic)
{
	static const u32 fn[HV_CPUID_LEAVES] = {
		HYPERV_CPUID_VENDOR_AND_MAX_FUNCTIONS, HYPERV_CPUID_INTERFACE, HYPERV_CPUID_VERSION,
		HYPERV_CPUID_FEATURES, HYPERV_CPUID_ENLIGHTMENT_INFO, HYPERV_CPUID_IMPLEMENT_LIMITS,
		0x40000080, 0x40000081, HYPERV_CPUID_SYNDBG_PLATFORM_CAPABILITIES,
		HYPERV_CPUID_NESTED_FEATURES,
	};
	static const char vendor[12] = "Linux KVM Hv";
	int i;

	memset(e, 0, HV_CPUID_LEAVES * sizeof(*e));
	for (i = 0; i < HV_CPUID_LEAVES; i++)
		e[i].function = fn[i];
	e[0].eax = HYPERV_CPUID_SYNDBG_PLATFORM_CAPABILITIES;
	memcpy(&e[0].ebx, vendor, 4), memcpy(&e[0].ecx, vendor + 4, 4);
	memcpy(&e[0].edx, vendor + 8, 4);
	e[1].eax = HYPERV_CPUID_SIGNATURE_EAX;
	e[2].eax = 0x00003839, e[2].ebx = 0x000a0000; /* the Hyper-V 2016 KVM names */
	e[3].eax = HV_MSR_VP_RUNTIME_AVAILABLE | HV_MSR_TIME_REF_COUNT_AVAILABLE |
		   HV_MSR_HYPERCALL_AVAILABLE | HV_MSR_VP_INDEX_AVAILABLE | HV_MSR_RESET_AVAILABLE |
		   HV_MSR_REFERENCE_TSC_AVAILABLE | HV_ACCESS_FREQUENCY_MSRS | HV_ACCESS_REENLIGHTENMENT;
	e[3].edx = HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE | HV_FEATURE_FREQUENCY_MSRS_AVAILABLE |
		   HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE;
	e[4].eax = HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED | HV_X64_RELAXED_TIMING_RECOMMENDED |
		   HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED | (lapic ? HV_X64_CLUSTER_IPI_RECOMMENDED : 0) |
		   (cpu_smt_possible() ? 0 : HV_X64_NO_NONARCH_CORESHARING);
	e[4].ebx = 0xfff; /* spinlock retries before the long-spin notice, as Hyper-V 2016 */
	e[5].eax = HVK_MAX_VCPUS, e[5].ebx = 64;
	memcpy(&e[6].ebx, vendor, 4), memcpy(&e[6].ecx, vendor + 4, 4);
	memcpy(&e[6].edx, vendor + 8, 4);
	memcpy(&e[7].eax, "VS#1", 4);
}

/* KVM_GET_SUPPORTED_HV_CPUID on /dev/kvm (vc NULL) or a vCPU: E2BIG below ten entries. */
long hvk_hv_supported_cpuid(struct hvk_vcpu *vc, struct kvm_cpuid2 __user *user)
{
	struct kvm_cpuid_entry2 e[HV_CPUID_LEAVES];
	u32 nent;

	if (get_user(nent, &user->nent))
		return -EFAULT;
	if (nent < HV_CPUID_LEAVES)
		return -E2BIG;
	supported(e, !vc || vc->vm->irqchip);
	if (put_user((u32)HV_CPUID_LEAVES, &user->nent) ||
	    copy_to_user(user->entries, e, sizeof(e)))
		return -EFAULT;
	return 0;
}

/* After KVM_SET_CPUID2: whether the vCPU is Hyper-V's, and the feature bits that gate it. */
void hvk_hv_set_cpuid(struct hvk_vcpu *vc)
{
	struct hvk_hv_vcpu *h = &vc->hv;

	h->enabled = hvk_cpuid(vc, HYPERV_CPUID_INTERFACE, 0) == HYPERV_CPUID_SIGNATURE_EAX;
	h->features_eax = hvk_cpuid(vc, HYPERV_CPUID_FEATURES, 0);
	h->features_ebx = hvk_cpuid(vc, HYPERV_CPUID_FEATURES, 1);
	h->features_edx = hvk_cpuid(vc, HYPERV_CPUID_FEATURES, 3);
	h->recommend_eax = hvk_cpuid(vc, HYPERV_CPUID_ENLIGHTMENT_INFO, 0);
	h->recommend_ebx = hvk_cpuid(vc, HYPERV_CPUID_ENLIGHTMENT_INFO, 1);
	h->syndbg_eax = hvk_cpuid(vc, HYPERV_CPUID_SYNDBG_PLATFORM_CAPABILITIES, 0);
	hvk_hv_update_calls(vc);
}

/* VMCALL is Hyper-V's once the vCPU is Hyper-V's and the guest said who it is. */
long hvk_hv_update_calls(struct hvk_vcpu *vc)
{
	u64 *flags = hvk_buf_alloc(PAGE_SIZE);
	long rc;

	if (!flags)
		return -ENOMEM;
	*flags = (vc->pv_enforce ? HV_PV_ENFORCE : 0) |
		 (vc->hv.enabled && READ_ONCE(vc->vm->hv.guest_os_id) ? HV_PV_HYPERV_CALLS : 0);
	rc = hvk_vcpu_set(vc, HV_STATE_PV_ENFORCE, flags, 1);
	hvk_buf_free(flags, PAGE_SIZE);
	return rc;
}

static void update_all_calls(struct hvk_vm *vm)
{
	unsigned int i;

	for (i = 0; i < HVK_MAX_VCPUS; i++)
		if (READ_ONCE(vm->vcpus[i]))
			hvk_hv_update_calls(vm->vcpus[i]);
}

/* KVM's hv_check_msr_access(): with the CPUID enforced, each MSR needs its feature bit. */
static bool msr_allowed(struct hvk_hv_vcpu *h, u32 msr)
{
	u32 eax = h->features_eax;

	if (!h->enforce)
		return true;
	switch (msr) {
	case HV_X64_MSR_GUEST_OS_ID:
	case HV_X64_MSR_HYPERCALL:
		return eax & HV_MSR_HYPERCALL_AVAILABLE;
	case HV_X64_MSR_VP_RUNTIME:
		return eax & HV_MSR_VP_RUNTIME_AVAILABLE;
	case HV_X64_MSR_TIME_REF_COUNT:
		return eax & HV_MSR_TIME_REF_COUNT_AVAILABLE;
	case HV_X64_MSR_VP_INDEX:
		return eax & HV_MSR_VP_INDEX_AVAILABLE;
	case HV_X64_MSR_RESET:
		return eax & HV_MSR_RESET_AVAILABLE;
	case HV_X64_MSR_REFERENCE_TSC:
		return eax & HV_MSR_REFERENCE_TSC_AVAILABLE;
	case HV_X64_MSR_TSC_FREQUENCY:
	case HV_X64_MSR_APIC_FREQUENCY:
		return eax & HV_ACCESS_FREQUENCY_MSRS;
	case HV_X64_MSR_REENLIGHTENMENT_CONTROL:
	case HV_X64_MSR_TSC_EMULATION_CONTROL:
	case HV_X64_MSR_TSC_EMULATION_STATUS:
		return eax & HV_ACCESS_REENLIGHTENMENT;
	default: /* the crash MSRs */
		return h->features_edx & HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE;
	}
}

static const u32 hv_msrs[] = {
	HV_X64_MSR_GUEST_OS_ID,	    HV_X64_MSR_HYPERCALL,	 HV_X64_MSR_VP_INDEX,
	HV_X64_MSR_RESET,	    HV_X64_MSR_VP_RUNTIME,	 HV_X64_MSR_TIME_REF_COUNT,
	HV_X64_MSR_REFERENCE_TSC,   HV_X64_MSR_TSC_FREQUENCY,	 HV_X64_MSR_APIC_FREQUENCY,
	HV_X64_MSR_CRASH_P0,	    HV_X64_MSR_CRASH_P1,	 HV_X64_MSR_CRASH_P2,
	HV_X64_MSR_CRASH_P3,	    HV_X64_MSR_CRASH_P4,	 HV_X64_MSR_CRASH_CTL,
	HV_X64_MSR_REENLIGHTENMENT_CONTROL, HV_X64_MSR_TSC_EMULATION_CONTROL,
	HV_X64_MSR_TSC_EMULATION_STATUS,
};

bool hvk_hv_has_msr(u32 msr)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(hv_msrs); i++)
		if (hv_msrs[i] == msr)
			return true;
	return false;
}

unsigned int hvk_hv_msr_list(u32 *out, unsigned int max)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hv_msrs) && i < max; i++)
		out[i] = hv_msrs[i];
	return ARRAY_SIZE(hv_msrs);
}

/* The VM clock (kvmclock's ns) and the guest's TSC at one moment: the vCPU's offset added. */
static int clock_pair(struct hvk_vcpu *vc, u64 *ns, u64 *tsc)
{
	u64 *buf = hvk_buf_alloc(PAGE_SIZE);
	long rc;

	if (!buf)
		return -ENOMEM;
	rc = hvk_vcpu_get(vc, HV_STATE_TSC_OFFSET, buf + 2, 1);
	if (rc >= 0)
		rc = hv_call(HC_VM_CLOCK, vc->vm->handle, 0, 0, virt_to_phys(buf), 0);
	*ns = buf[0];
	*tsc = buf[1] + buf[2];
	hvk_buf_free(buf, PAGE_SIZE);
	return rc < 0 ? rc : 0;
}

/* The partition reference counter (100 ns): the TSC page's formula while it is valid. */
static u64 ref_counter(struct hvk_vcpu *vc)
{
	struct hvk_hv *hv = &vc->vm->hv;
	u64 ns = 0, tsc = 0;

	clock_pair(vc, &ns, &tsc);
	if (hv->tsc_ref.tsc_sequence)
		return mul_u64_u64_shr(tsc, hv->tsc_ref.tsc_scale, 64) + hv->tsc_ref.tsc_offset;
	return div_u64(ns, 100);
}

/*
 * The reference TSC page from the VM clock, as KVM's kvm_hv_setup_tsc_page(): invalidated
 * (sequence 0), rewritten, then a new sequence. A change of the VM clock leaves a valid page
 * alone while the guest asked for TSC emulation (re-enlightenment), as KVM leaves it.
 */
static void tsc_page_update(struct hvk_vcpu *vc, bool guest)
{
	struct hvk_hv *hv = &vc->vm->hv;
	u64 gpa = hv->tsc_page & PAGE_MASK, ns, tsc;
	struct tsc_page __user *p;
	u32 seq = hv->tsc_ref.tsc_sequence;

	if (!(hv->tsc_page & HV_X64_MSR_TSC_REFERENCE_ENABLE) || clock_pair(vc, &ns, &tsc))
		return;
	if (!guest && seq && hv->tsc_emulation_control)
		return;
	down_read(&vc->vm->slots_lock);
	p = hvk_gpa_to_user(vc->vm, gpa, sizeof(*p), true);
	hv->tsc_ref.tsc_sequence = 0;
	if (p && !put_user(0U, &p->tsc_sequence)) {
		smp_wmb();
		hv->tsc_ref.tsc_scale = mul_u64_u32_div(1ULL << 63, 20000, vc->tsc_khz ?: tsc_khz);
		hv->tsc_ref.tsc_offset = div_u64(ns, 100) - mul_u64_u64_shr(tsc, hv->tsc_ref.tsc_scale, 64);
		if (++seq == 0xffffffff || !seq)
			seq = 1;
		if (!put_user(hv->tsc_ref.tsc_scale, &p->tsc_scale) &&
		    !put_user(hv->tsc_ref.tsc_offset, &p->tsc_offset)) {
			smp_wmb();
			if (!put_user(seq, &p->tsc_sequence))
				hv->tsc_ref.tsc_sequence = seq;
		}
	}
	up_read(&vc->vm->slots_lock);
}

/* KVM_SET_CLOCK moved the VM clock: the reference TSC page follows. */
void hvk_hv_clock_set(struct hvk_vm *vm)
{
	struct hvk_vcpu *vc = READ_ONCE(vm->vcpus[0]);

	mutex_lock(&vm->hv.lock);
	if (vc)
		tsc_page_update(vc, false);
	mutex_unlock(&vm->hv.lock);
}

/* The hypercall page: VMCALL; RET, written where the guest asked. */
static int hypercall_page(struct hvk_vcpu *vc, u64 data)
{
	static const u8 code[4] = {0x0f, 0x01, 0xc1, 0xc3};
	void __user *p;
	int rc = 1;

	down_read(&vc->vm->slots_lock);
	p = hvk_gpa_to_user(vc->vm, data & HV_X64_MSR_HYPERCALL_PAGE_ADDRESS_MASK, sizeof(code), true);
	if (p && !copy_to_user(p, code, sizeof(code)))
		rc = 0;
	up_read(&vc->vm->slots_lock);
	return rc;
}

/* The partition-wide MSRs (under hv.lock): 0 done, 1 refused. */
static int partition_msr(struct hvk_vcpu *vc, u32 msr, u64 *data, bool write, bool host)
{
	struct hvk_hv *hv = &vc->vm->hv;
	u64 v = *data;

	switch (msr) {
	case HV_X64_MSR_GUEST_OS_ID:
		if (!write)
			return *data = hv->guest_os_id, 0;
		WRITE_ONCE(hv->guest_os_id, v);
		if (!v) /* no identity: no hypercall page */
			hv->hypercall &= ~(u64)HV_X64_MSR_HYPERCALL_ENABLE;
		update_all_calls(vc->vm);
		return 0;
	case HV_X64_MSR_HYPERCALL:
		if (!write)
			return *data = hv->hypercall, 0;
		if (!hv->guest_os_id)
			return 0; /* stays disabled until the guest says who it is */
		if ((v & HV_X64_MSR_HYPERCALL_ENABLE) && hypercall_page(vc, v))
			return 1;
		hv->hypercall = v;
		return 0;
	case HV_X64_MSR_REFERENCE_TSC:
		if (!write)
			return *data = hv->tsc_page, 0;
		hv->tsc_page = v;
		hv->tsc_ref.tsc_sequence = 0;
		tsc_page_update(vc, !host);
		return 0;
	case HV_X64_MSR_TIME_REF_COUNT:
		if (!write)
			*data = ref_counter(vc);
		return write && !host; /* read-only; the host's write is ignored */
	case HV_X64_MSR_CRASH_P0 ... HV_X64_MSR_CRASH_P4:
		if (write)
			hv->crash[msr - HV_X64_MSR_CRASH_P0] = v;
		else
			*data = hv->crash[msr - HV_X64_MSR_CRASH_P0];
		return 0;
	case HV_X64_MSR_CRASH_CTL:
		if (!write)
			*data = hv->crash_ctl;
		else if (host)
			hv->crash_ctl = v & HV_CRASH_CTL_CRASH_NOTIFY;
		else if (v & HV_CRASH_CTL_CRASH_NOTIFY)
			vc->sys_event = KVM_SYSTEM_EVENT_CRASH;
		return 0;
	case HV_X64_MSR_RESET:
		if (!write)
			*data = 0;
		else if (v == 1)
			vc->sys_event = KVM_SYSTEM_EVENT_RESET;
		return 0;
	case HV_X64_MSR_REENLIGHTENMENT_CONTROL:
		if (write)
			hv->reenlightenment = v;
		else
			*data = hv->reenlightenment;
		return 0;
	case HV_X64_MSR_TSC_EMULATION_CONTROL:
		if (write)
			hv->tsc_emulation_control = v;
		else
			*data = hv->tsc_emulation_control;
		return 0;
	default: /* HV_X64_MSR_TSC_EMULATION_STATUS: the guest may only clear it */
		if (!write)
			return *data = hv->tsc_emulation_status, 0;
		if (v && !host)
			return 1;
		hv->tsc_emulation_status = v;
		return 0;
	}
}

/* The thread's CPU time in 100 ns, as KVM's current_task_runtime_100ns(). */
static u64 runtime_100ns(void)
{
	u64 utime, stime;

	task_cputime_adjusted(current, &utime, &stime);
	return div_u64(utime + stime, 100);
}

/* One of hv_msrs for the vCPU: 0 done, 1 refused (the guest's #GP). */
int hvk_hv_msr(struct hvk_vcpu *vc, u32 msr, u64 *data, bool write, bool host)
{
	struct hvk_hv_vcpu *h = &vc->hv;
	int rc;

	if (!host && (!h->enabled || !msr_allowed(h, msr)))
		return 1;
	switch (msr) {
	case HV_X64_MSR_VP_INDEX:
		if (write && (!host || (u32)*data >= 1024)) /* KVM_MAX_VCPUS */
			return 1;
		if (write)
			h->vp_index = *data;
		else
			*data = h->vp_index;
		return 0;
	case HV_X64_MSR_VP_RUNTIME:
		if (write && !host)
			return 1;
		if (write)
			h->runtime_offset = *data - runtime_100ns();
		else
			*data = runtime_100ns() + h->runtime_offset;
		return 0;
	case HV_X64_MSR_TSC_FREQUENCY:
	case HV_X64_MSR_APIC_FREQUENCY:
		if (write)
			return !host;
		*data = msr == HV_X64_MSR_APIC_FREQUENCY ? 1000000000ULL /* KVM's 1 ns bus cycle */
							 : (u64)(vc->tsc_khz ?: tsc_khz) * 1000;
		return 0;
	}
	mutex_lock(&vc->vm->hv.lock);
	rc = partition_msr(vc, msr, data, write, host);
	mutex_unlock(&vc->vm->hv.lock);
	return rc;
}

/* ---- hypercalls ---- */

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

static u64 dispatch(struct hvk_vcpu *vc, struct hcall *hc)
{
	switch (hc->code) {
	case HVCALL_NOTIFY_LONG_SPIN_WAIT:
		if (hc->rep || hc->var_cnt)
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
		cond_resched(); /* KVM's kvm_vcpu_on_spin(): let others run */
		return HV_STATUS_SUCCESS;
	case HVCALL_SIGNAL_EVENT:
	case HVCALL_POST_MESSAGE: /* no SynIC: nothing to post to, no port to signal */
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
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
		return HV_STATUS_OPERATION_DENIED; /* no debugger options: not over hypercalls */
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

/*
 * HV_EXIT_HYPERCALL, as KVM's kvm_hv_hypercall(): #UD outside CPL 0 protected mode; the
 * parameters from RCX, RDX, R8 (64-bit) or EDX:EAX, EBX:ECX, EDI:ESI; the result in RAX (or
 * EDX:EAX) and RIP past the VMCALL. Returns 1: the vCPU runs on.
 */
long hvk_hv_hypercall(struct hvk_vcpu *vc)
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
	if (lm) {
		r.rax = ret;
	} else {
		r.rdx = ret >> 32;
		r.rax = (u32)ret;
	}
	r.rip += 3; /* VMCALL */
	return hvk_regs(vc, HC_VCPU_SET_REGS, &r, sizeof(r), true) ?: 1;
}

/* KVM_CAP_HYPERV_ENFORCE_CPUID on a vCPU. */
void hvk_hv_enforce(struct hvk_vcpu *vc, bool on)
{
	vc->hv.enforce = on;
}

void hvk_hv_vcpu_init(struct hvk_vcpu *vc)
{
	vc->hv.vp_index = vc->id; /* KVM's: the vCPU's index, which is its id here */
}
