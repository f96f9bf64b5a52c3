/*
 * CPUID. Guests of dom0's KVM get the table user space set (KVM_SET_CPUID2), as in KVM; the
 * hypervisor's own guests and dom0 get the host's answers filtered to what a VM really has.
 * The filtered answers are also the list of what guests can be given (KVM_GET_SUPPORTED_CPUID).
 */
#include "../../compat/kvmabi/hvabi.h"
#include "../platform/x86.h"
#include "../lib/errno.h"
#include "../platform/mm.h"
#include "insn.h"
#include "vmx.h"
#include "vmx_vm.h"

/* Feature bits hidden: per leaf/subleaf, the bits cleared from each register. */
struct cpuid_filter {
	uint32_t leaf, sub;
	bool guest_only;   /* dom0 sees these: it owns the LAPIC, MONITOR/MWAIT and sees VMX */
	uint32_t clear[4]; /* eax, ebx, ecx, edx */
};

#define AVX512_EBX 0xdc230000u /* F DQ IFMA PF ER CD BW VL */
#define AVX512_ECX 0x00005842u /* VBMI VBMI2 VNNI BITALG VPOPCNTDQ */
#define AVX512_EDX 0x0080010cu /* 4VNNIW 4FMAPS VP2INTERSECT FP16 */

/*
 * Leaf 1: VMX, SMX, MONITOR, PDCM, x2APIC, TSC deadline, OSXSAVE (set from the guest's CR4); as
 * KVM's list leaves out: DTES64, DS-CPL, EST, TM2, CNXT-ID, xTPR, DCA; DS, ACPI, HTT, TM, PBE
 * (a guest that sees DS reads IA32_DS_AREA)
 */
#define LEAF1_ECX                                                                               \
	((1u << 5) | (1u << 6) | (1u << 3) | (1u << 15) | (1u << 21) | (1u << 24) | (1u << 2) | \
	 (1u << 4) | (1u << 7) | (1u << 8) | (1u << 10) | (1u << 14) | (1u << 18))
#define LEAF1_EDX ((1u << 21) | (1u << 22) | (1u << 28) | (1u << 29) | (1u << 31))
/*
 * Leaf 7: SGX, HLE, RTM, MPX, PT; PKU/OSPKE, WAITPKG, CET shadow stacks, SGX launch control,
 * PKS; CET IBT, AMX; AVX-512. XCR0 stops at AVX: nothing that needs another component shows.
 * LA57: the page walks the hypervisor emulates (gva.c) have four levels.
 */
#define LEAF7_EBX ((1u << 2) | (1u << 4) | (1u << 11) | (1u << 14) | (1u << 25) | AVX512_EBX)
#define LEAF7_ECX                                                                               \
	((1u << 3) | (1u << 4) | (1u << 5) | (1u << 7) | (1u << 16) | (1u << 30) | (1u << 31) | \
	 AVX512_ECX)
#define LEAF7_EDX (AVX512_EDX | (1u << 20) | (1u << 22) | (1u << 24) | (1u << 25))

static const struct cpuid_filter filters[] = {
	{1, 0, true, {0, 0, LEAF1_ECX, LEAF1_EDX}},
	{1, 0, false, {0, 0, (1u << 6) | (1u << 27), 0}},
	{7, 0, false, {0, LEAF7_EBX, LEAF7_ECX, LEAF7_EDX}},
	/*
	 * XSAVES/XRSTORS: IA32_XSS is not offered. XSAVEOPT and XSAVEC neither: with them dom0's
	 * Linux lost every process's SSE and AVX registers at context switches under the
	 * hypervisor in Bochs (all zero after XRSTOR; plain XSAVE keeps them), which crashed QEMU
	 */
	{0xd, 1, false, {(1u << 3) | (1u << 1) | (1u << 0), 0, 0, 0}},
	/* SVM */
	{0x80000001, 0, false, {0, 0, 1u << 2, 0}},
};

/* Leaves a guest gets as zeros: thermal/power, performance monitoring, processor trace. */
static bool zero_leaf(uint32_t leaf, bool dom0)
{
	/* 0x15/0x16: the TSC and bus rates of the model, not of this machine (Bochs runs the TSC at
	 * its own speed): without them Linux measures the TSC against the PIT */
	return leaf == 0x14 || leaf == 0x15 || leaf == 0x16 ||
	       (!dom0 && (leaf == 6 || leaf == 0xa));
}

/*
 * XCR0 components a VM may enable: x87, SSE and AVX where the CPU has them. AVX-512 is not
 * offered (Linux 6.1 rejects the XSAVE size Bochs reports for it).
 */
uint64_t guest_xcr0_supported(void)
{
	static uint64_t xcr0; /* (CPUID from VMX root mode is slow on hardware: read once) */

	if (!xcr0) {
		struct cpuid_regs r = cpuid(0xd, 0);
		xcr0 = (r.eax | (uint64_t)r.edx << 32) & (XCR0_X87 | XCR0_SSE | XCR0_AVX);
	}
	return xcr0;
}

/* Size of the standard-format XSAVE area for the components in xcr0. */
static uint32_t xsave_size(uint64_t xcr0)
{
	uint32_t size = 576; /* legacy area and header */

	for (unsigned i = 2; i < 8; i++)
		if (xcr0 & (1ULL << i)) {
			struct cpuid_regs r = cpuid(0xd, i);
			size = MAX(size, r.ebx + r.eax);
		}
	return size;
}

#define KVM_SIGNATURE "KVMKVMKVM\0\0\0"

/*
 * Ours at 0x40000000. dom0 also finds KVM's signature, with no PV features, at 0x40000100 (as
 * KVM places its own beside Hyper-V's): Linux then keeps x2APIC without interrupt remapping,
 * as a guest may (physical destinations, APIC ids below 256); it disables it otherwise.
 */
static void hypervisor_leaf(uint32_t leaf, bool dom0, struct cpuid_regs *r)
{
	const char *sig = leaf == HV_CPUID_LEAF			  ? HV_CPUID_SIGNATURE
			  : dom0 && leaf == HV_CPUID_LEAF + 0x100 ? KVM_SIGNATURE
								  : NULL;

	*r = (struct cpuid_regs){0};
	if (sig) {
		r->eax = leaf + 1;
		__builtin_memcpy(&r->ebx, sig, 12); /* EBX, ECX, EDX */
	}
}

enum { EAX, EBX, ECX, EDX };

/* The host's answer with everything a VM of this kind must not see cleared. */
static void filtered(uint32_t leaf, uint32_t sub, bool dom0, uint32_t reg[4])
{
	struct cpuid_regs r;

	if ((leaf & 0xfffffe00) == HV_CPUID_LEAF)
		hypervisor_leaf(leaf, dom0, &r);
	else if (zero_leaf(leaf, dom0))
		r = (struct cpuid_regs){0};
	else
		r = cpuid(leaf, sub);
	reg[EAX] = r.eax, reg[EBX] = r.ebx, reg[ECX] = r.ecx, reg[EDX] = r.edx;
	for (unsigned i = 0; i < ARRAY_SIZE(filters); i++)
		if (filters[i].leaf == leaf && (!dom0 || !filters[i].guest_only) &&
		    filters[i].sub == (leaf == 7 || leaf == 0xd ? sub : 0))
			for (int k = 0; k < 4; k++)
				reg[k] &= ~filters[i].clear[k];
	if (leaf == 1) {
		reg[ECX] |= 1u << 31; /* running under a hypervisor */
	} else if (leaf == 0xd && sub == 0) {
		reg[EAX] = (uint32_t)guest_xcr0_supported();
		reg[EDX] = (uint32_t)(guest_xcr0_supported() >> 32);
		/* the XSAVE area's size with all offered components */
		reg[EBX] = reg[ECX] = xsave_size(guest_xcr0_supported());
	}
}

/* ---- the supported list ---- */

struct cpuid_list {
	struct vm_cpuid_entry *out;
	unsigned n, max;
};

static const struct vm_cpuid_entry *put(struct cpuid_list *l, const struct vm_cpuid_entry *e)
{
	static struct vm_cpuid_entry spare; /* counted but not written: the caller's list is full */
	struct vm_cpuid_entry *to = l->n < l->max ? &l->out[l->n] : &spare;

	*to = *e;
	l->n++;
	return to;
}

static const struct vm_cpuid_entry *add(struct cpuid_list *l, uint32_t leaf, uint32_t sub,
					bool indexed)
{
	uint32_t reg[4];

	filtered(leaf, sub, false, reg);
	return put(l, &(struct vm_cpuid_entry){.function = leaf,
					       .index = sub,
					       .flags = indexed ? VM_CPUID_INDEXED : 0,
					       .eax = reg[EAX],
					       .ebx = reg[EBX],
					       .ecx = reg[ECX],
					       .edx = reg[EDX]});
}

/*
 * KVM's own leaves, as the guests of dom0's KVM know them: its signature, and of its PV features
 * those that work here: kvmclock in both MSR sets, its stable bit, no I/O delays needed, PV EOI.
 */
static void add_kvm_leaves(struct cpuid_list *l)
{
	struct vm_cpuid_entry sig = {.function = HV_CPUID_LEAF, .eax = HV_CPUID_LEAF + 1};

	__builtin_memcpy(&sig.ebx, KVM_SIGNATURE, 12); /* EBX, ECX, EDX */
	put(l, &sig);
	put(l, &(struct vm_cpuid_entry){
		       .function = HV_CPUID_LEAF + 1,
		       .eax = 1u << KVM_FEATURE_CLOCKSOURCE | 1u << KVM_FEATURE_NOP_IO_DELAY |
			      1u << KVM_FEATURE_CLOCKSOURCE2 | 1u << KVM_FEATURE_PV_EOI |
			      1u << KVM_FEATURE_STEAL_TIME | /* kept by dom0's kvm_hv */
			      1u << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT});
}

static bool has_subleaves(uint32_t leaf)
{
	return leaf == 4 || leaf == 7 || leaf == 0xb || leaf == 0xd || leaf == 0x1f ||
	       leaf == 0x10 || leaf == 0x12 || leaf == 0x14 || leaf == 0x17 || leaf == 0x18;
}

/* One basic leaf with its subleaves, enumerated the way each leaf defines its own end. */
static void add_basic(struct cpuid_list *l, uint32_t leaf)
{
	const struct vm_cpuid_entry *e = add(l, leaf, 0, has_subleaves(leaf));
	uint64_t xcr0 = guest_xcr0_supported();

	if (leaf == 4)
		for (uint32_t s = 1; (e->eax & 0x1f) && s < 64; s++)
			e = add(l, leaf, s, true);
	else if (leaf == 0xb || leaf == 0x1f)
		for (uint32_t s = 1; (e->ecx & 0xff00) && s < 64; s++)
			e = add(l, leaf, s, true);
	else if (leaf == 7)
		for (uint32_t s = 1, last = e->eax; s <= last && s < 4; s++)
			add(l, leaf, s, true);
	else if (leaf == 0xd)
		for (uint32_t s = 1; s < 64; s++)
			if (s == 1 || (xcr0 >> s & 1))
				add(l, leaf, s, true);
}

unsigned vm_cpuid_supported(struct vm_cpuid_entry *out, unsigned max)
{
	struct cpuid_list l = {out, 0, max};
	uint32_t top = MIN(cpuid(0, 0).eax, 0x1fu),
		 ext = MIN(cpuid(0x80000000, 0).eax, 0x80000021u);

	for (uint32_t leaf = 0; leaf <= top; leaf++)
		add_basic(&l, leaf);
	if (l.n > 1 && max > 1 && out[1].function == 1)
		out[1].ecx |= 1u << 21; /* x2APIC: the in-hypervisor local APIC has it */
	add_kvm_leaves(&l);
	for (uint32_t leaf = 0x80000000; leaf <= ext; leaf++)
		add(&l, leaf, 0, false);
	return l.n;
}

/* ---- per-vCPU tables ---- */

struct cpuid_table {
	unsigned n;
	struct vm_cpuid_entry e[VM_CPUID_MAX];
};

static const struct vm_cpuid_entry *find(const struct cpuid_table *t, uint32_t leaf, uint32_t sub)
{
	for (unsigned i = 0; t && i < t->n; i++)
		if (t->e[i].function == leaf &&
		    (!(t->e[i].flags & VM_CPUID_INDEXED) || t->e[i].index == sub))
			return &t->e[i];
	return NULL;
}

/* KVM's rule for Intel: a leaf above its range's maximum answers as the highest basic leaf. */
static const struct vm_cpuid_entry *lookup(const struct cpuid_table *t, uint32_t leaf, uint32_t sub)
{
	const struct vm_cpuid_entry *e = find(t, leaf, sub), *range = find(t, leaf & 0xc0000000, 0);
	const struct vm_cpuid_entry *basic = find(t, 0, 0);

	if (e || !range || leaf <= range->eax || !basic || basic->ebx != 0x756e6547) /* "Genu" */
		return e;
	return find(t, basic->eax, sub);
}

void vcpu_cpuid_free(struct vcpu *v)
{
	mem_free(v->cpuid, sizeof(*v->cpuid));
	v->cpuid = NULL;
}

static bool table_valid(const struct cpuid_table *t)
{
	const struct vm_cpuid_entry *e = find(t, 0x80000008, 0);
	uint32_t va = e ? (e->eax >> 8) & 0xff : 0;

	return va == 0 || va == 48 || va == 57;
}

/* Bits that follow the vCPU's state, as CPUID on hardware reports them. */
static void dynamic_bits(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t reg[4])
{
	if (leaf == 1) {
		reg[ECX] &= ~(1u << 27);
		if (guest_cr4() & CR4_OSXSAVE)
			reg[ECX] |= 1u << 27;
		if (!vm_quirk(v->vm, QUIRK_MISC_ENABLE_NO_MWAIT)) /* MONITOR is MISC_ENABLE.MWAIT */
			reg[ECX] = (reg[ECX] & ~(1u << 3)) | (uint32_t)vcpu_has_mwait(v) << 3;
		if (!v->vm->kvm_rules && v->vm->kind != VM_DOM0) /* dom0 keeps its real APIC ids */
			reg[EBX] = (reg[EBX] & 0x00ffffff) | (v->id << 24);
	} else if (leaf == 0xd && sub == 0 && reg[EAX]) {
		reg[EBX] = xsave_size(v->xcr0); /* the size for the components enabled now */
	}
}

/* An entry as the guest reads it now: KVM updates its table the same way as state changes. */
static void live_entry(struct vcpu *v, const struct vm_cpuid_entry *e, uint32_t reg[4])
{
	reg[EAX] = e->eax, reg[EBX] = e->ebx, reg[ECX] = e->ecx, reg[EDX] = e->edx;
	dynamic_bits(v, e->function, e->index, reg);
}

/* The same model: equal entries once the bits that follow the state are applied (VMCS loaded). */
static bool same_table(struct vcpu *v, const struct cpuid_table *a, const struct cpuid_table *b)
{
	uint32_t ra[4], rb[4];

	if (!a || a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++) {
		live_entry(v, &a->e[i], ra);
		live_entry(v, &b->e[i], rb);
		if (a->e[i].function != b->e[i].function || a->e[i].index != b->e[i].index ||
		    a->e[i].flags != b->e[i].flags || __builtin_memcmp(ra, rb, sizeof(ra)))
			return false;
	}
	return true;
}

/* RDTSCP (RDPID with it) and INVPCID run where the CPUID offers them, else #UD (as KVM). */
static uint32_t offered_insns(struct vcpu *v)
{
	uint32_t p2 = (uint32_t)vmread(VMCS_PROC2_CTLS) & ~(PROC2_RDTSCP | PROC2_INVPCID);

	if (vcpu_cpuid_has(v, 0x80000001, EDX, 1u << 27) || vcpu_cpuid_has(v, 7, ECX, 1u << 22))
		p2 |= PROC2_RDTSCP & vmx_caps.proc2.may1;
	if (vcpu_cpuid_has(v, 7, EBX, 1u << 10))
		p2 |= PROC2_INVPCID & vmx_caps.proc2.may1;
	return p2;
}

/* The list is copied first, then checked: dom0 cannot change it under the checks. */
int vcpu_set_cpuid(struct vcpu *v, const struct vm_cpuid_entry *e, unsigned n)
{
	struct cpuid_table *t;

	if (n > VM_CPUID_MAX)
		return -E2BIG;
	t = mem_alloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->n = n;
	__builtin_memcpy(t->e, e, n * sizeof(*e));
	vcpu_load(v);
	if (!table_valid(t) || (v->ran && !same_table(v, v->cpuid, t))) {
		vcpu_put(v);
		mem_free(t, sizeof(*t));
		return -EINVAL; /* after KVM_RUN only the same model may be set again, as in KVM */
	}
	vcpu_cpuid_free(v);
	v->cpuid = t;
	vmwrite(VMCS_CR4_MASK, ~vcpu_cr4_allowed(v) | vmx_caps.cr4_fixed0);
	vmwrite(VMCS_PROC2_CTLS, offered_insns(v));
	irqchip_lapic_version(v);
	vcpu_put(v);
	return 0;
}

/* KVM_GET_CPUID2: the entries as the guest reads them now (OSXSAVE, XSAVE sizes), as KVM's. */
unsigned vcpu_get_cpuid(struct vcpu *v, struct vm_cpuid_entry *out, unsigned max)
{
	unsigned n = v->cpuid ? v->cpuid->n : 0;
	uint32_t r[4];

	__builtin_memcpy(out, v->cpuid ? v->cpuid->e : out, MIN(n, max) * sizeof(*out));
	vcpu_load(v);
	for (unsigned i = 0; i < MIN(n, max); i++) {
		live_entry(v, &out[i], r);
		out[i].eax = r[EAX], out[i].ebx = r[EBX], out[i].ecx = r[ECX], out[i].edx = r[EDX];
	}
	vcpu_put(v);
	return n;
}

/* A vCPU's answer: its table under KVM's rules, else the filtered host values. */
static void answer(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t reg[4])
{
	const struct vm_cpuid_entry *e;

	if (!v->vm->kvm_rules) {
		filtered(leaf, sub, v->vm->kind == VM_DOM0, reg);
		return;
	}
	e = lookup(v->cpuid, leaf, sub) ?: &(const struct vm_cpuid_entry){0}; /* none: all zero */
	reg[EAX] = e->eax, reg[EBX] = e->ebx, reg[ECX] = e->ecx, reg[EDX] = e->edx;
}

/*
 * The guest's physical-address width where its CPUID table makes it smaller than the machine's
 * (KVM_CAP_SMALLER_MAXPHYADDR: 0x80000008 EAX[7:0]); else the machine's.
 */
unsigned host_maxphyaddr(void)
{
	static unsigned bits; /* asked once: CPUID exits cost in a nested run */

	if (!bits)
		bits = cpuid(0x80000008, 0).eax & 0xff;
	return bits;
}

unsigned vcpu_maxphyaddr(struct vcpu *v)
{
	unsigned host = host_maxphyaddr();
	const struct vm_cpuid_entry *e =
		v->vm->kvm_rules && v->cpuid ? find(v->cpuid, 0x80000008, 0) : NULL;

	return e && (e->eax & 0xff) && (e->eax & 0xff) < host ? e->eax & 0xff : host;
}

/* Whether the vCPU's CPUID (as it answers now) has a bit: reg 0-3 = EAX-EDX of leaf.0. */
bool vcpu_cpuid_has(struct vcpu *v, uint32_t leaf, unsigned reg, uint32_t bit)
{
	uint32_t r[4];

	answer(v, leaf, 0, r);
	return reg < 4 && (r[reg] & bit);
}

bool vcpu_has_mwait(struct vcpu *v)
{
	if (!vm_quirk(v->vm, QUIRK_MISC_ENABLE_NO_MWAIT))
		return v->misc_enable >> 18 & 1;
	return vcpu_cpuid_has(v, 1, ECX, 1u << 3);
}

/*
 * A PV feature works for the guest, or with KVM_CAP_ENFORCE_PV_FEATURE_CPUID only where the
 * vCPU's CPUID has KVM's signature and the feature's bit at 0x40000001.
 */
int vcpu_pv_enforce(struct vcpu *v, uint64_t flags)
{
	v->pv_enforce = flags & HV_PV_ENFORCE;
	v->hv_calls = flags & HV_PV_HYPERV_CALLS;
	v->hv_apic = flags & HV_PV_HYPERV_APIC;
	return 0;
}

bool vcpu_pv_has(struct vcpu *v, unsigned feature)
{
	uint32_t sig[4];

	if (!v->pv_enforce)
		return true;
	answer(v, HV_CPUID_LEAF, 0, sig);
	return !__builtin_memcmp(&sig[EBX], KVM_SIGNATURE, 12) &&
	       vcpu_cpuid_has(v, HV_CPUID_LEAF + 1, EAX, 1u << feature);
}

/* What a vCPU may enable in XCR0: the CPU's offer, within its CPUID when KVM's rules apply. */
uint64_t vcpu_xcr0_allowed(struct vcpu *v)
{
	uint32_t reg[4];

	if (!v->vm->kvm_rules)
		return guest_xcr0_supported();
	answer(v, 0xd, 0, reg);
	return (reg[EAX] | ((uint64_t)reg[EDX] << 32) | XCR0_X87) & guest_xcr0_supported();
}

/* CR4 bits that exist for these CPUID features (leaf 1 ECX, leaf 7 EBX and ECX). */
static uint64_t cr4_of(uint32_t l1c, uint32_t l7b, uint32_t l7c)
{
	static const struct {
		uint8_t cr4_bit, reg, bit; /* reg: 0 leaf 1 ECX, 1 leaf 7 EBX, 2 leaf 7 ECX */
	} deps[] = {{11, 2, 2},	 {12, 2, 16}, {13, 0, 5}, {14, 0, 6},  {16, 1, 0},
		    {17, 0, 17}, {18, 0, 26}, {20, 1, 7}, {21, 1, 20}, {22, 2, 3}};
	const uint32_t regs[3] = {l1c, l7b, l7c};
	uint64_t cr4 = 0x7ff; /* VME to OSXMMEXCPT: every x86-64 CPU has them */

	for (unsigned i = 0; i < ARRAY_SIZE(deps); i++)
		if (regs[deps[i].reg] >> deps[i].bit & 1)
			cr4 |= 1ULL << deps[i].cr4_bit;
	return cr4;
}

/* CR4 bits a vCPU may set: offered to guests, and in its own CPUID once it has a table. */
uint64_t vcpu_cr4_allowed(struct vcpu *v)
{
	uint32_t l1[4], l7[4];
	uint64_t cr4;

	filtered(1, 0, v->vm->kind == VM_DOM0, l1);
	filtered(7, 0, v->vm->kind == VM_DOM0, l7);
	cr4 = cr4_of(l1[ECX], l7[EBX], l7[ECX]) & vmx_caps.cr4_fixed1;
	if (v->cpuid) {
		answer(v, 1, 0, l1);
		answer(v, 7, 0, l7);
		cr4 &= cr4_of(l1[ECX], l7[EBX], l7[ECX]);
	}
	return cr4;
}

int handle_cpuid(struct vcpu *v, struct vm_exit *x __unused)
{
	uint32_t leaf = (uint32_t)v->gprs.r[GPR_RAX], sub = (uint32_t)v->gprs.r[GPR_RCX];
	uint32_t reg[4];

	answer(v, leaf, sub, reg);
	dynamic_bits(v, leaf, sub, reg);
	for (int k = 0; k < 4; k++)
		v->gprs.r[(const unsigned[]){GPR_RAX, GPR_RBX, GPR_RCX, GPR_RDX}[k]] = reg[k];
	return vcpu_skip_insn(v);
}
