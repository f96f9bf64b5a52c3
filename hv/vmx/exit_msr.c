/*
 * RDMSR/WRMSR exits. Every guest MSR access exits (the bitmap is all ones); this table says
 * which MSRs exist for a guest. Anything else gets #GP, as on a CPU without that MSR.
 */
#include "../platform/percpu.h"
#include "../platform/tsc.h"
#include "../platform/x86.h"
#include "insn.h"
#include "vmx.h"
#include "vmx_vm.h"

#define MSR_TSC		   0x10
#define MSR_TSC_ADJUST	   0x3b
#define MSR_PERF_CAP	   0x345
#define MSR_UCODE_REV	   0x8b
#define MSR_MTRR_CAP	   0xfe
#define MSR_SYSENTER_CS	   0x174
#define MSR_SYSENTER_ESP   0x175
#define MSR_SYSENTER_EIP   0x176
#define MSR_POWER_CTL	   0x1fc
#define MSR_MISC_ENABLE	   0x1a0
#define MSR_MTRR_DEF_TYPE  0x2ff
#define MSR_TSC_DEADLINE   0x6e0
#define MSR_STAR	   0xc0000081
#define MSR_LSTAR	   0xc0000082
#define MSR_CSTAR	   0xc0000083
#define MSR_SFMASK	   0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX	   0xc0000103

enum msr_loc { IN_VMCS, IN_VCPU, SPECIAL };

struct msr_desc {
	uint32_t msr;
	enum msr_loc loc;
	uint32_t field;				     /* VMCS field, or byte offset in struct vcpu */
	bool (*valid)(struct vcpu *v, uint64_t val); /* NULL: any value */
};

static bool canonical(struct vcpu *v __unused, uint64_t val)
{
	return (uint64_t)((int64_t)(val << 16) >> 16) == val;
}

/* Every byte of val a memory type: UC, WC, WT, WP, WB, and in the PAT also UC- (7). */
static bool types_ok(uint64_t val, bool pat)
{
	for (int i = 0; i < 8; i++) {
		uint8_t t = (val >> (8 * i)) & 0xff;
		if (t == 2 || t == 3 || t > (pat ? 7 : 6))
			return false;
	}
	return true;
}

static bool pat_ok(struct vcpu *v __unused, uint64_t val)
{
	return types_ok(val, true);
}

/* SCE, LME, NXE may change; LME only while paging is off; LMA is the CPU's to set. */
static bool efer_ok(struct vcpu *v __unused, uint64_t val)
{
	return !(val & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)) &&
	       !((val ^ vmread(VMCS_GUEST_EFER)) & EFER_LME && (guest_cr0() & CR0_PG));
}

static bool mtrr_type_ok(struct vcpu *v __unused, uint64_t val)
{
	return !(val & ~0xcffULL) && types_ok(val & 0xff, false);
}

/* The MTRRs: kept as written (memory types follow EPT, as KVM's do without DMA devices). */
static const uint16_t mtrr_fixed[11] = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26a,
					0x26b, 0x26c, 0x26d, 0x26e, 0x26f};

static int mtrr_slot(uint32_t msr)
{
	if (msr >= 0x200 && msr < 0x210)
		return 11 + (int)(msr - 0x200);
	for (int i = 0; i < 11; i++)
		if (mtrr_fixed[i] == msr)
			return i;
	return -1;
}

/* Every MTRR a CPU may have: up to 16 variable pairs, the fixed ones, the default type. */
bool msr_is_mtrr(uint32_t msr)
{
	return (msr >= 0x200 && msr < 0x220) || mtrr_slot(msr) >= 0 || msr == MSR_MTRR_DEF_TYPE;
}

static bool mtrr_ok(int slot, uint64_t val)
{
	if (slot < 11)
		return types_ok(val, false);
	if ((slot - 11) % 2) /* a mask: valid bit 11, address bits below 52 */
		return !(val & 0xfff00000000007ffULL);
	return types_ok(val & 0xff, false) && !(val & 0xfff0000000000f00ULL);
}

/* An MTRR: handled (true, *ok the result) or not one. */
static bool mtrr_msr(struct vcpu *v, uint32_t msr, uint64_t *val, bool write, bool *ok)
{
	int slot = mtrr_slot(msr);

	if (slot < 0)
		return false;
	*ok = !write || mtrr_ok(slot, *val);
	if (!write)
		*val = v->mtrr[slot];
	else if (*ok)
		v->mtrr[slot] = *val;
	return true;
}

static bool apic_base_ok(struct vcpu *v __unused, uint64_t val)
{
	return !(val & ~0x000ffffffffff900ULL); /* BSP, enable, base (no x2APIC offered) */
}

/* MISC_ENABLE.MWAIT changes CPUID (KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT off) only with SSE3. */
static bool misc_ok(struct vcpu *v, uint64_t val)
{
	return vm_quirk(v->vm, QUIRK_MISC_ENABLE_NO_MWAIT) || !((val ^ v->misc_enable) >> 18 & 1) ||
	       vcpu_cpuid_has(v, 1, 2, 1);
}

/* SFMASK's and TSC_AUX's bits 63:32 are reserved (SDM vol. 3 "SYSCALL and SYSRET", RDTSCP) */
static bool sfmask_ok(struct vcpu *v __unused, uint64_t val)
{
	return !(val >> 32);
}

/* TSC_AUX is a guest's where its CPUID has RDTSCP or RDPID (as KVM's); the host's always. */
static bool guest_has(struct vcpu *v, uint32_t msr)
{
	return msr != MSR_TSC_AUX || !v->vm->kvm_rules ||
	       vcpu_cpuid_has(v, 0x80000001, 3, 1u << 27) || vcpu_cpuid_has(v, 7, 2, 1u << 22);
}

#define VCPU_FIELD(f) ((uint32_t)offsetof(struct vcpu, f))

static const struct msr_desc msrs[] = {
	{MSR_TSC, SPECIAL, 0, NULL},
	{MSR_TSC_ADJUST, SPECIAL, 0, NULL},
	{MSR_APIC_BASE, IN_VCPU, VCPU_FIELD(apic_base), apic_base_ok},
	{MSR_UCODE_REV, SPECIAL, 0, NULL},
	{MSR_MTRR_CAP, SPECIAL, 0, NULL},
	{MSR_SYSENTER_CS, IN_VMCS, VMCS_GUEST_SYSENTER_CS, NULL},
	{MSR_SYSENTER_ESP, IN_VMCS, VMCS_GUEST_SYSENTER_ESP, canonical},
	{MSR_SYSENTER_EIP, IN_VMCS, VMCS_GUEST_SYSENTER_EIP, canonical},
	{MSR_MISC_ENABLE, IN_VCPU, VCPU_FIELD(misc_enable), misc_ok},
	{MSR_POWER_CTL, IN_VCPU, VCPU_FIELD(power_ctl), NULL}, /* kept, as KVM keeps it */
	{MSR_PAT, IN_VMCS, VMCS_GUEST_PAT, pat_ok},
	{MSR_MTRR_DEF_TYPE, IN_VCPU, VCPU_FIELD(mtrr_def_type), mtrr_type_ok},
	{MSR_EFER, SPECIAL, 0, efer_ok},
	{MSR_STAR, IN_VCPU, VCPU_FIELD(msrs.val[MSR_IDX_STAR]), NULL},
	{MSR_LSTAR, IN_VCPU, VCPU_FIELD(msrs.val[MSR_IDX_LSTAR]), canonical},
	{MSR_CSTAR, IN_VCPU, VCPU_FIELD(msrs.val[MSR_IDX_CSTAR]), canonical},
	{MSR_SFMASK, IN_VCPU, VCPU_FIELD(msrs.val[MSR_IDX_SFMASK]), sfmask_ok},
	{MSR_FS_BASE, IN_VMCS, VMCS_SEG_BASE(4), canonical},
	{MSR_GS_BASE, IN_VMCS, VMCS_SEG_BASE(5), canonical},
	{MSR_KERNEL_GS_BASE, IN_VCPU, VCPU_FIELD(msrs.val[MSR_IDX_KGSBASE]), canonical},
	{MSR_TSC_AUX, IN_VCPU, VCPU_FIELD(msrs.val[MSR_IDX_TSC_AUX]), sfmask_ok},
	{MSR_TSC_DEADLINE, SPECIAL, 0, NULL}, /* here only without a local APIC (irqchip.c) */
};

/* Handled before the table (kvmclock.c, mce.c) and, as in KVM, listed for save and restore. */
static const uint32_t listed_too[] = {0x11, 0x12, 0x4b564d00, 0x4b564d01, 0x4b564d04, 0x17a, 0x17b};

/* KVM_GET_MSR_INDEX_LIST: every MSR a VM of dom0's KVM has that user space should save. */
unsigned vm_msr_index_list(uint32_t *out, unsigned max)
{
	unsigned n = ARRAY_SIZE(msrs), total = n + ARRAY_SIZE(listed_too);

	for (unsigned i = 0; i < MIN(max, total); i++)
		out[i] = i < n ? msrs[i].msr : listed_too[i - n];
	return total;
}

static const struct msr_desc *find(uint32_t msr)
{
	for (unsigned i = 0; i < ARRAY_SIZE(msrs); i++)
		if (msrs[i].msr == msr)
			return &msrs[i];
	return NULL;
}

static uint64_t *vcpu_slot(struct vcpu *v, const struct msr_desc *d)
{
	return (uint64_t *)((char *)v + d->field);
}

/* The syscall MSRs live in struct guest_msrs and are switched around runs. */
static bool is_swapped(const struct msr_desc *d)
{
	return d->loc == IN_VCPU && d->field >= VCPU_FIELD(msrs.val) &&
	       d->field < VCPU_FIELD(msrs.val) + sizeof(((struct guest_msrs *)0)->val);
}

static uint64_t read_special(struct vcpu *v, uint32_t msr)
{
	switch (msr) {
	case MSR_TSC:
		return rdtsc() + vmread(VMCS_TSC_OFFSET);
	case MSR_EFER:
		return vmread(VMCS_GUEST_EFER);
	case MSR_UCODE_REV:
		return v->ucode_rev;
	case MSR_TSC_ADJUST:
		return v->tsc_adjust;
	case MSR_TSC_DEADLINE: /* as KVM's without an in-kernel local APIC */
		return 0;
	default: /* MTRRcap: as KVM's, 8 variable ranges, the fixed ones and write-combining */
		return 0x508;
	}
}

static void write_special(struct vcpu *v, uint32_t msr, uint64_t val, bool host)
{
	if (msr == MSR_UCODE_REV) { /* the guest's write asks for an update: ignored, as KVM does */
		if (host)
			v->ucode_rev = val;
	} else if (msr == MSR_TSC) {
		/* as KVM: the guest's writes of either move the TSC and TSC_ADJUST together; the
		 * host's set one of them */
		if (!host)
			v->tsc_adjust += val - (rdtsc() + vmread(VMCS_TSC_OFFSET));
		vmwrite(VMCS_TSC_OFFSET, val - rdtsc());
	} else if (msr == MSR_TSC_ADJUST) {
		if (!host)
			vmwrite(VMCS_TSC_OFFSET, vmread(VMCS_TSC_OFFSET) + val - v->tsc_adjust);
		v->tsc_adjust = val;
	} else if (msr == MSR_EFER) { /* LMA keeps tracking CR0.PG with LME */
		uint64_t lma = vmread(VMCS_GUEST_EFER) & EFER_LMA;
		vmwrite(VMCS_GUEST_EFER, (val & ~EFER_LMA) | lma);
	} /* MTRRcap is read-only: caught by the caller; TSC_DEADLINE's writes dropped */
}

/*
 * A syscall MSR's value as the CPU takes it (KVM's wrmsr_safe): live when the guest's are
 * loaded, else tried and put back. What the CPU refuses is the guest's #GP or the host's error,
 * never a #GP in root mode when guest_msrs_load() loads it later.
 */
static bool cpu_takes(struct vcpu *v, uint32_t msr, uint64_t val)
{
	uint64_t old = rdmsr(msr);
	bool ok = wrmsr_safe(msr, val);

	if (!ok || !v->msrs.loaded)
		wrmsr(msr, old);
	return ok;
}

/* Reads an MSR as the guest would (VMCS loaded); false where the CPU would raise #GP. */
bool vcpu_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	const struct msr_desc *d = find(msr);
	bool ok;

	if (irqchip_msr(v, msr, val, false, true, &ok) || kvmclock_msr(v, msr, val, false, &ok) ||
	    mce_msr(v, msr, val, false, true, &ok) || mtrr_msr(v, msr, val, false, &ok))
		return ok;
	if (!d)
		return false;
	if (is_swapped(d) && v->msrs.loaded)
		*val = rdmsr(msr); /* live in the CPU (SWAPGS changes KERNEL_GS_BASE) */
	else if (d->loc == IN_VMCS)
		*val = vmread(d->field);
	else
		*val = d->loc == IN_VCPU ? *vcpu_slot(v, d) : read_special(v, msr);
	return true;
}

/* Writes an MSR for the guest (host: KVM_SET_MSRS while it does not run); false: #GP. */
bool vcpu_msr_write(struct vcpu *v, uint32_t msr, uint64_t val, bool host)
{
	const struct msr_desc *d = find(msr);
	bool ok;

	if (msr == MSR_UCODE_WRITE || (v->vm->kind == VM_DOM0 && msr_is_mtrr(msr)))
		return true; /* microcode loads are ignored (as KVM); dom0's MTRRs too (README) */
	if (v->vm->kind == VM_DOM0)
		return false; /* its other trapped writes are for dom0's loop (dom0_msr) */
	if (irqchip_msr(v, msr, &val, true, host, &ok) || kvmclock_msr(v, msr, &val, true, &ok) ||
	    mce_msr(v, msr, &val, true, host, &ok) || mtrr_msr(v, msr, &val, true, &ok))
		return ok;
	if (msr == MSR_MTRR_CAP) /* read-only: a restore may write back what it read */
		return host && val == read_special(v, msr);
	if (!d || (d->valid && !d->valid(v, val)) || (is_swapped(d) && !cpu_takes(v, msr, val)))
		return false;
	if (d->loc == IN_VMCS)
		vmwrite(d->field, val);
	else if (d->loc == IN_VCPU)
		*vcpu_slot(v, d) = val;
	else
		write_special(v, msr, val, host);
	if (is_swapped(d) && !v->msrs.loaded && !host)
		guest_msrs_load(v); /* from now on they are switched around this guest's runs */
	return true;
}

/*
 * RDMSR and WRMSR: filtered, then handled here; what is refused may go to user space
 * (msr_user.c). A write refused by an MSR that reads refused the value.
 */
int handle_msr(struct vcpu *v, struct vm_exit *x)
{
	bool write = (x->reason & 0xffff) == EXIT_REASON_WRMSR;
	uint64_t val = write ? (v->gprs.r[GPR_RDX] << 32) | (uint32_t)v->gprs.r[GPR_RAX] : 0, cur;
	uint32_t msr = (uint32_t)v->gprs.r[GPR_RCX];
	unsigned why = 0;

	if (!msr_allowed(v->vm, msr, write))
		why = HV_MSR_EXIT_FILTER;
	else if (!guest_has(v, msr))
		why = HV_MSR_EXIT_INVAL;
	else if (write ? !vcpu_msr_write(v, msr, val, false) : !vcpu_msr_read(v, msr, &val))
		why = write && vcpu_msr_read(v, msr, &cur) ? HV_MSR_EXIT_INVAL
							   : HV_MSR_EXIT_UNKNOWN;
	if (why)
		return msr_refused(v, x, write, val, why);
	if (!write) {
		v->gprs.r[GPR_RAX] = (uint32_t)val;
		v->gprs.r[GPR_RDX] = val >> 32;
	}
	return vcpu_skip_insn(v);
}

/* Feature MSRs (KVM_GET_MSR_FEATURE_INDEX_LIST): what a VM's model can be given. */
static const struct {
	uint32_t msr;
	uint64_t val;
} features[] = {
	{MSR_UCODE_REV, UCODE_REV_DEFAULT},
	{MSR_PERF_CAP, 0}, /* no PMU is offered: none of its capabilities */
};

unsigned vm_feature_msr_list(uint32_t *out, unsigned max)
{
	for (unsigned i = 0; i < ARRAY_SIZE(features) && i < max; i++)
		out[i] = features[i].msr;
	return ARRAY_SIZE(features);
}

bool vm_feature_msr(uint32_t msr, uint64_t *val)
{
	for (unsigned i = 0; i < ARRAY_SIZE(features); i++)
		if (features[i].msr == msr) {
			*val = features[i].val;
			return true;
		}
	return false;
}

/* The syscall MSRs are not switched by VMX: swap them only for guests that set them. */
_Static_assert(MSR_IDX_COUNT == HOST_SWAPPED_MSRS, "per-CPU save area size");
static const uint32_t swapped[MSR_IDX_COUNT] = {MSR_STAR,   MSR_LSTAR,		MSR_CSTAR,
						MSR_SFMASK, MSR_KERNEL_GS_BASE, MSR_TSC_AUX};

void guest_msrs_load(struct vcpu *v)
{
	uint64_t *host_saved = this_cpu()->vmx->host_msrs;
	bool any = false;

	if (v->vm->kind == VM_DOM0)
		return; /* dom0's are the CPU's own */
	for (unsigned i = 0; i < ARRAY_SIZE(swapped); i++)
		any |= v->msrs.val[i] != 0;
	if (!any && !v->msrs.loaded && !rdmsr(MSR_TSC_AUX)) /* RDTSCP reads it without an exit */
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(swapped); i++) {
		if (!v->msrs.loaded)
			host_saved[i] = rdmsr(swapped[i]);
		wrmsr(swapped[i], v->msrs.val[i]);
	}
	v->msrs.loaded = true;
}

void guest_msrs_put(struct vcpu *v)
{
	uint64_t *host_saved = this_cpu()->vmx->host_msrs;

	if (!v->msrs.loaded)
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(swapped); i++) {
		v->msrs.val[i] = rdmsr(swapped[i]);
		wrmsr(swapped[i], host_saved[i]);
	}
	v->msrs.loaded = false;
}
