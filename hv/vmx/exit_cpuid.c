/* CPUID (the host's answers, filtered to what a guest really gets) and XSETBV. */
#include "../../compat/kvmabi/hvabi.h"
#include "../x86.h"
#include "insn.h"
#include "vmx_vm.h"

#define CR4_OSXSAVE (1ULL << 18)
#define XCR0_X87    1ULL
#define XCR0_SSE    2ULL
#define XCR0_AVX    4ULL
#define XCR0_AVX512 0xe0ULL

/* Feature bits hidden: per leaf/subleaf, the bits cleared from each register. */
struct cpuid_filter {
	uint32_t leaf, sub;
	bool guest_only;   /* dom0 sees these: it owns the LAPIC, MONITOR/MWAIT and sees VMX */
	uint32_t clear[4]; /* eax, ebx, ecx, edx */
};

#define AVX512_EBX 0xdc230000u /* F DQ IFMA PF ER CD BW VL */
#define AVX512_ECX 0x00005842u /* VBMI VBMI2 VNNI BITALG VPOPCNTDQ */
#define AVX512_EDX 0x0080010cu /* 4VNNIW 4FMAPS VP2INTERSECT FP16 */

static const struct cpuid_filter filters[] = {
	/* VMX, SMX, MONITOR, PDCM, x2APIC, TSC deadline, OSXSAVE (set from the guest's CR4) */
	{1,
	 0,
	 true,
	 {0, 0, (1u << 5) | (1u << 6) | (1u << 3) | (1u << 15) | (1u << 21) | (1u << 24), 0}},
	{1, 0, false, {0, 0, (1u << 6) | (1u << 27), 0}},
	/*
	 * SGX, HLE, RTM, MPX, PT; PKU/OSPKE, WAITPKG, CET shadow stacks, SGX launch control, PKS;
	 * CET IBT, AMX; AVX-512. XCR0 stops at AVX: nothing that needs another component shows.
	 */
	{7,
	 0,
	 false,
	 {0, (1u << 2) | (1u << 4) | (1u << 11) | (1u << 14) | (1u << 25) | AVX512_EBX,
	  (1u << 3) | (1u << 4) | (1u << 5) | (1u << 7) | (1u << 30) | (1u << 31) | AVX512_ECX,
	  AVX512_EDX | (1u << 20) | (1u << 22) | (1u << 24) | (1u << 25)}},
	/* XSAVES/XRSTORS: IA32_XSS is not offered */
	{0xd, 1, false, {1u << 3, 0, 0, 0}},
	/* SVM */
	{0x80000001, 0, false, {0, 0, 1u << 2, 0}},
};

/* Leaves a guest gets as zeros: thermal/power, performance monitoring, processor trace. */
static bool zero_leaf(uint32_t leaf, bool dom0)
{
	return leaf == 0x14 || (!dom0 && (leaf == 6 || leaf == 0xa));
}

/*
 * XCR0 components a VM may enable: x87, SSE and AVX where the CPU has them. AVX-512 is not
 * offered (Linux 6.1 rejects the XSAVE size Bochs reports for it).
 */
uint64_t guest_xcr0_supported(void)
{
	struct cpuid_regs r = cpuid(0xd, 0);

	return (r.eax | ((uint64_t)r.edx << 32)) & (XCR0_X87 | XCR0_SSE | XCR0_AVX);
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

static void hypervisor_leaf(uint32_t leaf, struct cpuid_regs *r)
{
	*r = (struct cpuid_regs){0};
	if (leaf == HV_CPUID_LEAF) {
		r->eax = HV_CPUID_LEAF + 1;
		__builtin_memcpy(&r->ebx, HV_CPUID_SIGNATURE, 4);
		__builtin_memcpy(&r->ecx, HV_CPUID_SIGNATURE + 4, 4);
		__builtin_memcpy(&r->edx, HV_CPUID_SIGNATURE + 8, 4);
	}
}

enum { EAX, EBX, ECX, EDX };

int handle_cpuid(struct vcpu *v, struct vm_exit *x)
{
	uint32_t leaf = (uint32_t)v->gprs.r[GPR_RAX], sub = (uint32_t)v->gprs.r[GPR_RCX];
	struct cpuid_regs r;
	uint32_t reg[4];
	bool dom0 = v->vm->kind == VM_DOM0;

	(void)x;
	if ((leaf & 0xffffff00) == HV_CPUID_LEAF)
		hypervisor_leaf(leaf, &r);
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
		if (guest_cr4() & CR4_OSXSAVE)
			reg[ECX] |= 1u << 27;
		if (!dom0) /* dom0's vCPUs keep their CPU's real APIC id */
			reg[EBX] = (reg[EBX] & 0x00ffffff) | (v->id << 24);
	} else if (leaf == 0xd && sub == 0) {
		reg[EAX] = (uint32_t)guest_xcr0_supported();
		reg[EDX] = (uint32_t)(guest_xcr0_supported() >> 32);
		reg[ECX] = xsave_size(guest_xcr0_supported()); /* all offered components */
	}
	for (int k = 0; k < 4; k++)
		v->gprs.r[(const unsigned[]){GPR_RAX, GPR_RBX, GPR_RCX, GPR_RDX}[k]] = reg[k];
	vcpu_skip_insn(v);
	return EXIT_RESUME;
}

static bool xcr0_valid(uint64_t val)
{
	if (!(val & XCR0_X87) || (val & ~guest_xcr0_supported()))
		return false;
	if ((val & XCR0_AVX) && !(val & XCR0_SSE))
		return false;
	if ((val & XCR0_AVX512) && ((val & XCR0_AVX512) != XCR0_AVX512 || !(val & XCR0_AVX)))
		return false;
	return true;
}

static inline void xsetbv(uint32_t idx, uint64_t val)
{
	__asm__ volatile("xsetbv" : : "c"(idx), "a"((uint32_t)val), "d"((uint32_t)(val >> 32)));
}

static inline uint64_t xgetbv(uint32_t idx)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(idx));
	return ((uint64_t)hi << 32) | lo;
}

/* XSETBV: #GP for anything the SDM faults on; the value is live while the guest runs. */
int handle_xsetbv(struct vcpu *v, struct vm_exit *x)
{
	uint64_t val = (v->gprs.r[GPR_RDX] << 32) | (uint32_t)v->gprs.r[GPR_RAX];

	(void)x;
	if (vcpu_cpl() != 0 || (uint32_t)v->gprs.r[GPR_RCX] != 0 || !xcr0_valid(val)) {
		vcpu_inject_gp(v);
		return EXIT_RESUME;
	}
	v->xcr0 = val;
	xsetbv(0, val);
	vcpu_skip_insn(v);
	return EXIT_RESUME;
}

/* Around a run: the guest's XCR0 in, the host's back (host CR4.OSXSAVE is on when XSAVE exists). */
uint64_t xcr0_switch(uint64_t to)
{
	uint64_t from;

	if (!(read_cr4() & CR4_OSXSAVE))
		return 0;
	from = xgetbv(0);
	if (from != to)
		xsetbv(0, to);
	return from;
}
