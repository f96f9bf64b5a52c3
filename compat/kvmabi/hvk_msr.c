// SPDX-License-Identifier: GPL-2.0
/*
 * MSRs this module keeps for its vCPUs, as KVM's x86.c keeps them in the host kernel: the
 * hypervisor hands every guest access to an MSR it does not have to dom0 (HV_MSR_EXIT_UNKNOWN),
 * and KVM_GET/SET_MSRS come here first. MSR_PLATFORM_INFO (KVM_CAP_MSR_PLATFORM_INFO) and PV
 * steal time (MSR_KVM_STEAL_TIME: the vCPU thread's run delay, written into the guest's
 * struct kvm_steal_time before it runs again).
 */
#include <linux/sched.h>
#include <linux/sched/stat.h>
#include <linux/uaccess.h>
#include <asm/kvm_para.h>

#include "hvk.h"

static const u32 module_msrs[] = { MSR_PLATFORM_INFO, MSR_KVM_STEAL_TIME };

unsigned int hvk_msr_list(u32 *out, unsigned int max)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(module_msrs) && i < max; i++)
		out[i] = module_msrs[i];
	return ARRAY_SIZE(module_msrs);
}

static bool ours(u32 msr)
{
	return msr == MSR_PLATFORM_INFO || msr == MSR_KVM_STEAL_TIME;
}

/* KVM's guest_pv_has(): every PV feature is there unless KVM_CAP_ENFORCE_PV_FEATURE_CPUID. */
static bool pv_has(struct hvk_vcpu *vc, unsigned int feature)
{
	struct kvm_cpuid_entry2 *e;
	bool has = false;
	long n, i;

	if (!vc->pv_enforce)
		return true;
	e = hvk_buf_alloc(HVK_MAX_CPUID * sizeof(*e));
	if (!e)
		return false;
	n = hvk_vcpu_get(vc, HV_STATE_CPUID, e, HVK_MAX_CPUID);
	for (i = 0; i < n && i < HVK_MAX_CPUID; i++)
		if (e[i].function == KVM_CPUID_FEATURES)
			has = e[i].eax & BIT(feature);
	hvk_buf_free(e, HVK_MAX_CPUID * sizeof(*e));
	return has;
}

/* One of ours: 0 done, 1 refused (the guest's #GP, KVM_SET/GET_MSRS stop there). */
static int module_msr(struct hvk_vcpu *vc, u32 msr, u64 *data, bool write, bool host)
{
	if (msr == MSR_PLATFORM_INFO) { /* the guest reads it while the VM lets it; the host sets it */
		if (write ? !host : !host && !vc->vm->platform_info_ok)
			return 1;
		if (write)
			vc->platform_info = *data;
		else
			*data = vc->platform_info;
		return 0;
	}
	if (!pv_has(vc, KVM_FEATURE_STEAL_TIME) || !sched_info_on())
		return 1;
	if (!write) {
		*data = vc->steal_msr;
		return 0;
	}
	if (*data & KVM_STEAL_RESERVED_MASK)
		return 1;
	vc->steal_msr = *data;
	vc->steal_update = true;
	return 0;
}

/* A guest access the hypervisor did not know: true if answered here (*value, *error). */
bool hvk_msr_guest(struct hvk_vcpu *vc, u32 msr, bool write, u64 *value, u8 *error)
{
	if (!ours(msr))
		return false;
	*error = module_msr(vc, msr, value, write, false);
	return true;
}

/* KVM_GET/SET_MSRS: runs of the hypervisor's MSRs go there, ours are done here, in order. */
long hvk_msrs(struct hvk_vcpu *vc, struct kvm_msr_entry *e, unsigned int n, bool set)
{
	unsigned int i = 0, j;
	long rc;

	while (i < n) {
		for (j = i; j < n && !ours(e[j].index); j++)
			;
		if (j > i) {
			rc = set ? hvk_vcpu_set(vc, HV_STATE_MSRS, e + i, j - i) :
				   hvk_vcpu_get(vc, HV_STATE_MSRS, e + i, j - i);
			if (rc < 0 || rc < j - i)
				return rc < 0 && !i ? rc : i + max(rc, 0L);
		}
		if (j == n || module_msr(vc, e[j].index, &e[j].data, set, true))
			return j;
		i = j + 1;
	}
	return n;
}

/*
 * Before the guest runs: the thread's run delay since the last update goes into the guest's
 * struct kvm_steal_time, its version odd while it changes (KVM's record_steal_time()). A GPA
 * outside every slot is skipped, as KVM skips it.
 */
void hvk_steal_update(struct hvk_vcpu *vc)
{
#ifdef CONFIG_SCHED_INFO
	u64 delay = current->sched_info.run_delay, gpa = vc->steal_msr & ~63ULL, steal;
	struct kvm_steal_time __user *st;
	u32 version;

	if (!(vc->steal_msr & KVM_MSR_ENABLED) || (!vc->steal_update && delay == vc->steal_last))
		return;
	vc->steal_update = false;
	st = hvk_gpa_to_user(vc->vm, gpa, sizeof(*st));
	if (!st || get_user(version, &st->version) || get_user(steal, &st->steal))
		return;
	version += version & 1 ? 2 : 1; /* odd: being changed */
	if (put_user(version, &st->version))
		return;
	smp_wmb(); /* the odd version before the new steal time, as the guest reads them */
	steal += delay - vc->steal_last;
	vc->steal_last = delay;
	if (put_user(steal, &st->steal) || put_user(0, &st->preempted))
		return;
	smp_wmb(); /* the steal time before the even version */
	if (!put_user(version + 1, &st->version))
		WRITE_ONCE(vc->steal_dirty, true); /* for KVM_GET_DIRTY_LOG */
#endif
}
