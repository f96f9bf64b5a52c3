// SPDX-License-Identifier: GPL-2.0
/*
 * MSRs this module keeps for its vCPUs, as KVM's x86.c keeps them in the host kernel: the
 * hypervisor hands every guest access to an MSR it does not have to dom0 (HV_MSR_EXIT_UNKNOWN),
 * and KVM_GET/SET_MSRS come here first. IA32_FEAT_CTL, MSR_MISC_FEATURES_ENABLES, DEBUGCTL,
 * MSR_PLATFORM_INFO (KVM_CAP_MSR_PLATFORM_INFO), SMBASE and the SMI count (hvk_smm.c), PV
 * steal time (MSR_KVM_STEAL_TIME: the vCPU thread's run delay, written into the guest's
 * struct kvm_steal_time before it runs again), and KVM's fixed answers for MSRs of other
 * models and of a PMU.
 */
#include <linux/sched.h>
#include <linux/sched/stat.h>
#include <linux/uaccess.h>
#include <asm/kvm_para.h>

#include "hvk.h"

static const u32 module_msrs[] = { MSR_IA32_FEAT_CTL, MSR_PLATFORM_INFO, MSR_MISC_FEATURES_ENABLES,
				   MSR_KVM_STEAL_TIME, MSR_IA32_SMBASE, MSR_SMI_COUNT };

/*
 * MSRs of other CPU models, power management and a PMU the VM does not have, as KVM 6.1's
 * x86.c answers them: a read gives the value; a write is dropped where KVM drops it (any value
 * for the PMU's, which a guest without one may still program), else it is #GP.
 */
static const struct {
	u32 first, last;
	u64 value;
	bool drop_writes;
} fixed[] = {
	{ 0x0, 0x1, 0, false },				/* IA32_P5_MC_ADDR, _TYPE */
	{ 0x17, 0x17, 0, false },			/* IA32_PLATFORM_ID */
	{ 0x2a, 0x2a, 0, false },			/* IA32_EBL_CR_POWERON */
	{ 0x2c, 0x2c, 1 << 24, false },			/* EBC_FREQUENCY_ID */
	{ 0xc1, 0xc2, 0, true },			/* P6_PERFCTR0-1 */
	{ 0xcd, 0xcd, 3, false },			/* FSB frequency */
	{ 0x11e, 0x11e, 0xbe702111, true },		/* IA32_BBL_CR_CTL3 */
	{ 0x186, 0x187, 0, true },			/* P6_EVNTSEL0-1 */
	{ 0x198, 0x198, 1000 | 4ULL << 40, false },	/* IA32_PERF_STATUS */
	{ 0x199, 0x199, 0, false },			/* IA32_PERF_CTL */
	{ 0x1db, 0x1de, 0, false },			/* last branch and interrupt IPs */
	{ 0x606, 0x606, 0, false },			/* RAPL_POWER_UNIT */
	{ 0x611, 0x611, 0, false },			/* PKG_ENERGY_STATUS */
	{ 0x619, 0x619, 0, false },			/* DRAM_ENERGY_STATUS */
	{ 0x639, 0x639, 0, false },			/* PP0_ENERGY_STATUS */
	{ 0x641, 0x641, 0, false },			/* PP1_ENERGY_STATUS */
	{ 0xc0010000, 0xc0010007, 0, true },		/* K7_EVNTSEL0-3, K7_PERFCTR0-3 */
	{ 0xc0010010, 0xc0010010, 0, false },		/* AMD64_SYSCFG */
	{ 0xc001001b, 0xc001001b, 0x20000000, true },	/* K7_CLK_CTL */
	{ 0xc001001f, 0xc001001f, 0, true },		/* AMD64_NB_CFG */
	{ 0xc0010055, 0xc0010055, 0, false },		/* K8_INT_PENDING_MSG */
	{ 0xc0010058, 0xc0010058, 0, false },		/* FAM10H_MMIO_CONF_BASE */
	{ 0xc0010112, 0xc0010113, 0, false },		/* K8_TSEG_ADDR, _MASK */
	{ 0xc0010117, 0xc0010117, 0, true },		/* VM_HSAVE_PA */
	{ 0xc0011022, 0xc0011023, 0, true },		/* AMD64_DC_CFG, TW_CFG */
	{ 0xc001102a, 0xc001102a, 0, true },		/* AMD64_BU_CFG2 */
	{ 0xc001102c, 0xc001102c, 0, true },		/* F15H_EX_CFG */
};

static int fixed_msr(u32 msr)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(fixed); i++)
		if (msr >= fixed[i].first && msr <= fixed[i].last)
			return i;
	return -1;
}

static bool ours(u32 msr)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(module_msrs); i++)
		if (module_msrs[i] == msr)
			return true;
	return msr == MSR_IA32_DEBUGCTLMSR || fixed_msr(msr) >= 0 || hvk_hv_has_msr(msr);
}

unsigned int hvk_msr_list(u32 *out, unsigned int max)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(module_msrs) && i < max; i++)
		out[i] = module_msrs[i];
	return ARRAY_SIZE(module_msrs) + hvk_hv_msr_list(out + i, max - i);
}


/* KVM's guest_pv_has(): every PV feature is there unless KVM_CAP_ENFORCE_PV_FEATURE_CPUID. */
static bool pv_has(struct hvk_vcpu *vc, unsigned int feature)
{
	return !vc->pv_enforce || (hvk_cpuid(vc, KVM_CPUID_FEATURES, 0) & BIT(feature));
}

/* One of ours: 0 done, 1 refused (the guest's #GP, KVM_SET/GET_MSRS stop there). */
static int module_msr(struct hvk_vcpu *vc, u32 msr, u64 *data, bool write, bool host)
{
	int f = fixed_msr(msr);

	if (hvk_hv_has_msr(msr))
		return hvk_hv_msr(vc, msr, data, write, host);
	if (f >= 0) {
		if (!write)
			*data = fixed[f].value;
		return write && !fixed[f].drop_writes;
	}
	if (msr == MSR_IA32_FEAT_CTL) { /* only LOCKED is valid (no nested VMX, SGX or LMCE) */
		if (write && ((*data & ~FEAT_CTL_LOCKED) || (!host && vc->feat_ctl & FEAT_CTL_LOCKED)))
			return 1;
		if (write)
			vc->feat_ctl = *data;
		else
			*data = vc->feat_ctl;
		return 0;
	}
	if (msr == MSR_MISC_FEATURES_ENABLES) { /* no CPUID faulting (PLATFORM_INFO says none) */
		if (!write)
			*data = 0;
		return write && *data;
	}
	if (msr == MSR_IA32_DEBUGCTLMSR) { /* no LBR or BTF: their bits dropped, as KVM drops them */
		if (!write)
			*data = 0;
		return write && (*data & ~(u64)(DEBUGCTLMSR_LBR | DEBUGCTLMSR_BTF));
	}
	if (msr == MSR_IA32_SMBASE || msr == MSR_SMI_COUNT) { /* the guest only reads the count */
		if (!host && (write || msr == MSR_IA32_SMBASE))
			return 1;
		if (write && msr == MSR_IA32_SMBASE)
			vc->smbase = *data;
		else if (write)
			vc->smi_count = *data;
		else
			*data = msr == MSR_IA32_SMBASE ? vc->smbase : vc->smi_count;
		return 0;
	}
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

/*
 * A guest access the hypervisor did not know: true if answered here (*value, *error). The
 * others are logged, as KVM logs the MSRs it does not handle.
 */
bool hvk_msr_guest(struct hvk_vcpu *vc, u32 msr, bool write, u64 *value, u8 *error)
{
	if (ours(msr)) {
		*error = module_msr(vc, msr, value, write, false);
		return true;
	}
	pr_notice_ratelimited("kvm_hv: vCPU %u: %s of MSR %#x, which no one has (#GP or user space)\n",
			      vc->id, write ? "WRMSR" : "RDMSR", msr);
	return false;
}

/* The hypervisor writes the page a kvmclock or PV EOI MSR names: faulted in first. */
static void prefault(struct hvk_vcpu *vc, const struct kvm_msr_entry *e, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (((e[i].index == MSR_KVM_SYSTEM_TIME || e[i].index == MSR_KVM_SYSTEM_TIME_NEW ||
		      e[i].index == MSR_KVM_PV_EOI_EN) && (e[i].data & 1)) ||
		    e[i].index == MSR_KVM_WALL_CLOCK || e[i].index == MSR_KVM_WALL_CLOCK_NEW)
			hvk_fault_in(vc->vm, e[i].data & PAGE_MASK, true);
}

/* KVM_GET/SET_MSRS: runs of the hypervisor's MSRs go there, ours are done here, in order. */
long hvk_msrs(struct hvk_vcpu *vc, struct kvm_msr_entry *e, unsigned int n, bool set)
{
	unsigned int i = 0, j;
	long rc;

	if (set)
		prefault(vc, e, n);
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
	st = hvk_gpa_to_user(vc->vm, gpa, sizeof(*st), true);
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
		hvk_mark_dirty(vc->vm, gpa); /* for KVM_GET_DIRTY_LOG */
#endif
}
