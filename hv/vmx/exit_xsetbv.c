/* XSETBV and the XCR0 switch around guest runs. */
#include "../platform/x86.h"
#include "vmx_vm.h"

#define XCR0_AVX512 0xe0ULL

bool xcr0_valid(struct vcpu *v, uint64_t val)
{
	/* x87 always, only what is allowed, AVX with SSE, AVX-512's three together with AVX */
	return (val & XCR0_X87) && !(val & ~vcpu_xcr0_allowed(v)) &&
	       (!(val & XCR0_AVX) || (val & XCR0_SSE)) &&
	       (!(val & XCR0_AVX512) || ((val & XCR0_AVX512) == XCR0_AVX512 && (val & XCR0_AVX)));
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
int handle_xsetbv(struct vcpu *v, struct vm_exit *x __unused)
{
	uint64_t val = (v->gprs.r[GPR_RDX] << 32) | (uint32_t)v->gprs.r[GPR_RAX];

	if (vcpu_cpl() != 0 || (uint32_t)v->gprs.r[GPR_RCX] != 0 || !xcr0_valid(v, val))
		return vcpu_inject_gp(v);
	v->xcr0 = val;
	xsetbv(0, val);
	return vcpu_skip_insn(v);
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
