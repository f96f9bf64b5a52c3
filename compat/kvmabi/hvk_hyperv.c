// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-V enlightenments, kept in this module as KVM keeps them in hyperv.c: the guest's
 * identity and hypercall page, the VP index and run time, the partition reference counter and
 * TSC page, the frequency MSRs, the reset and crash MSRs, re-enlightenment, and the hypercalls
 * (remote TLB flushes, IPIs, the long-spin notice; messages, events and the debugger's go to
 * user space). The SynIC, timers and debugger MSRs are in hvk_synic.c. A vCPU whose CPUID has
 * Hyper-V's interface signature reaches them; KVM_CAP_HYPERV_ENFORCE_CPUID gates each on its
 * CPUID feature bit. The EOI, ICR and TPR MSRs are the hypervisor's (its local APIC). Not
 * offered: event ports (KVM_HYPERV_EVENTFD), SINT routes for irqfds, enlightened VMCS.
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
		   HV_MSR_SYNIC_AVAILABLE | HV_MSR_SYNTIMER_AVAILABLE | HV_MSR_HYPERCALL_AVAILABLE |
		   (lapic ? HV_MSR_APIC_ACCESS_AVAILABLE : 0) |
		   HV_MSR_VP_INDEX_AVAILABLE | HV_MSR_RESET_AVAILABLE |
		   HV_MSR_REFERENCE_TSC_AVAILABLE | HV_ACCESS_FREQUENCY_MSRS | HV_ACCESS_REENLIGHTENMENT;
	e[3].ebx = HV_POST_MESSAGES | HV_SIGNAL_EVENTS | HV_DEBUGGING;
	e[3].edx = HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE | HV_FEATURE_FREQUENCY_MSRS_AVAILABLE |
		   HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE | HV_X64_GUEST_DEBUGGING_AVAILABLE |
		   HV_FEATURE_DEBUG_MSRS_AVAILABLE | (lapic ? HV_STIMER_DIRECT_MODE_AVAILABLE : 0);
	e[4].eax = HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED | HV_X64_RELAXED_TIMING_RECOMMENDED |
		   (lapic ? HV_X64_APIC_ACCESS_RECOMMENDED : 0) |
		   HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED | (lapic ? HV_X64_CLUSTER_IPI_RECOMMENDED : 0) |
		   (cpu_smt_possible() ? 0 : HV_X64_NO_NONARCH_CORESHARING) |
		   HV_DEPRECATING_AEOI_RECOMMENDED; /* AutoEOI is not special here (hvk_synic.c) */
	e[4].ebx = 0xfff; /* spinlock retries before the long-spin notice, as Hyper-V 2016 */
	e[5].eax = HVK_MAX_VCPUS, e[5].ebx = 64;
	memcpy(&e[6].ebx, vendor, 4), memcpy(&e[6].ecx, vendor + 4, 4);
	memcpy(&e[6].edx, vendor + 8, 4);
	memcpy(&e[7].eax, "VS#1", 4);
	e[8].eax = SYNDBG_CAP_ALLOW_KERNEL_DEBUGGING;
	/* as KVM's always: an L1 hypervisor could use the enlightened MSR bitmap (no nested VMX
	 * is offered, so none runs) */
	e[9].eax = HV_X64_NESTED_MSR_BITMAP;
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
	static const u32 fn[7] = {HYPERV_CPUID_INTERFACE, HYPERV_CPUID_FEATURES,
				  HYPERV_CPUID_FEATURES, HYPERV_CPUID_FEATURES,
				  HYPERV_CPUID_ENLIGHTMENT_INFO, HYPERV_CPUID_ENLIGHTMENT_INFO,
				  HYPERV_CPUID_SYNDBG_PLATFORM_CAPABILITIES};
	static const unsigned int reg[7] = {0, 0, 1, 3, 0, 1, 0};
	struct hvk_hv_vcpu *h = &vc->hv;
	u32 r[7];

	hvk_cpuid_regs(vc, fn, reg, r, 7);
	h->enabled = r[0] == HYPERV_CPUID_SIGNATURE_EAX;
	h->features_eax = r[1], h->features_ebx = r[2], h->features_edx = r[3];
	h->recommend_eax = r[4], h->recommend_ebx = r[5];
	h->syndbg_eax = r[6];
	hvk_hv_update_calls(vc);
}

static bool msr_allowed(struct hvk_hv_vcpu *h, u32 msr);

/*
 * VMCALL is Hyper-V's once the vCPU is Hyper-V's and the guest said who it is; Hyper-V's EOI,
 * ICR and TPR MSRs reach the hypervisor's local APIC where the vCPU may use them.
 */
long hvk_hv_update_calls(struct hvk_vcpu *vc)
{
	u64 *flags = hvk_buf_alloc(PAGE_SIZE);
	long rc;

	if (!flags)
		return -ENOMEM;
	*flags = (vc->pv_enforce ? HV_PV_ENFORCE : 0) |
		 (vc->hv.enabled && READ_ONCE(vc->vm->hv.guest_os_id) ? HV_PV_HYPERV_CALLS : 0) |
		 (vc->hv.enabled && msr_allowed(&vc->hv, HV_X64_MSR_EOI) ? HV_PV_HYPERV_APIC : 0);
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
	case HV_X64_MSR_EOI:
	case HV_X64_MSR_VP_ASSIST_PAGE:
		return eax & HV_MSR_APIC_ACCESS_AVAILABLE;
	case HV_X64_MSR_REENLIGHTENMENT_CONTROL:
	case HV_X64_MSR_TSC_EMULATION_CONTROL:
	case HV_X64_MSR_TSC_EMULATION_STATUS:
		return eax & HV_ACCESS_REENLIGHTENMENT;
	case HV_X64_MSR_CRASH_P0 ... HV_X64_MSR_CRASH_CTL:
		return h->features_edx & HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE;
	default:
		return hvk_synic_msr_allowed(h, msr);
	}
}

static const u32 hv_msrs[] = {
	HV_X64_MSR_GUEST_OS_ID,	    HV_X64_MSR_HYPERCALL,	 HV_X64_MSR_VP_INDEX,
	HV_X64_MSR_RESET,	    HV_X64_MSR_VP_RUNTIME,	 HV_X64_MSR_TIME_REF_COUNT,
	HV_X64_MSR_REFERENCE_TSC,   HV_X64_MSR_TSC_FREQUENCY,	 HV_X64_MSR_APIC_FREQUENCY,
	HV_X64_MSR_CRASH_P0,	    HV_X64_MSR_CRASH_P1,	 HV_X64_MSR_CRASH_P2,
	HV_X64_MSR_CRASH_P3,	    HV_X64_MSR_CRASH_P4,	 HV_X64_MSR_CRASH_CTL,
	HV_X64_MSR_REENLIGHTENMENT_CONTROL, HV_X64_MSR_TSC_EMULATION_CONTROL,
	HV_X64_MSR_TSC_EMULATION_STATUS, HV_X64_MSR_SCONTROL, HV_X64_MSR_STIMER0_CONFIG,
	HV_X64_MSR_VP_ASSIST_PAGE,
	0x400000ff, 0x400000f1, 0x400000f2, 0x400000f3, 0x400000f4, 0x400000f5, /* SYNDBG_* */
};

bool hvk_hv_has_msr(u32 msr)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(hv_msrs); i++)
		if (hv_msrs[i] == msr)
			return true;
	return hvk_synic_has_msr(msr);
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
u64 hvk_hv_ref_counter(struct hvk_vcpu *vc)
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
		hvk_mark_dirty(vc->vm, gpa);
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
	hvk_mark_dirty(vc->vm, data & HV_X64_MSR_HYPERCALL_PAGE_ADDRESS_MASK);
	up_read(&vc->vm->slots_lock);
	return rc;
}

/* KVM_RUN returns with it once the WRMSR completed. */
static void system_event(struct hvk_vcpu *vc, u32 type)
{
	vc->deferred.system_event = type;
	vc->deferred_exit = KVM_EXIT_SYSTEM_EVENT;
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
			*data = hvk_hv_ref_counter(vc);
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
			system_event(vc, KVM_SYSTEM_EVENT_CRASH);
		return 0;
	case HV_X64_MSR_RESET:
		if (!write)
			*data = 0;
		else if (v == 1)
			system_event(vc, KVM_SYSTEM_EVENT_RESET);
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

/*
 * An enabled VP assist page has its APIC-assist word cleared, the rest kept (as KVM). No
 * interrupt is ever marked as needing no EOI there: the guest EOIs each, which is correct.
 */
static int clear_assist(struct hvk_vcpu *vc, u64 data)
{
	u32 __user *p;
	int rc = 1;

	down_read(&vc->vm->slots_lock);
	p = hvk_gpa_to_user(vc->vm, data & PAGE_MASK, sizeof(u32), true);
	if (p && !put_user(0U, p))
		rc = 0;
	hvk_mark_dirty(vc->vm, data & PAGE_MASK);
	up_read(&vc->vm->slots_lock);
	return rc;
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
	if (hvk_synic_has_msr(msr))
		return hvk_synic_msr(vc, msr, data, write, host);
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
	case HV_X64_MSR_VP_ASSIST_PAGE:
		if (write && (*data & HV_X64_MSR_VP_ASSIST_PAGE_ENABLE) && clear_assist(vc, *data))
			return 1;
		if (write)
			h->vp_assist = *data;
		else
			*data = h->vp_assist;
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

/* KVM_CAP_HYPERV_ENFORCE_CPUID on a vCPU. */
void hvk_hv_enforce(struct hvk_vcpu *vc, bool on)
{
	vc->hv.enforce = on;
	hvk_hv_update_calls(vc);
}

void hvk_hv_vcpu_init(struct hvk_vcpu *vc)
{
	vc->hv.vp_index = vc->id; /* KVM's: the vCPU's index, which is its id here */
	hvk_stimers_init(vc);
}
