/*
 * Extended state (x87, SSE, AVX) of guest vCPUs. The state of whoever had the CPU before (dom0,
 * or nothing in the self-tests) is saved around each run of a guest, so neither ever sees the
 * other's registers. dom0's own vCPUs are that "host": their state stays in the registers.
 */
#include "../platform/percpu.h"
#include "../platform/x86.h"
#include "vmx.h"
#include "vmx_vm.h"

#define FCW_INIT   0x37f
#define MXCSR_INIT 0x1f80

static bool use_xsave(void)
{
	return read_cr4() & CR4_OSXSAVE;
}

static void save(uint8_t *area)
{
	if (use_xsave())
		__asm__ volatile("xsave64 (%0)" : : "r"(area), "a"(~0u), "d"(~0u) : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

static void restore(const uint8_t *area)
{
	if (use_xsave())
		__asm__ volatile("xrstor64 (%0)" : : "r"(area), "a"(~0u), "d"(~0u) : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

/* The architectural initial state: x87 control word and MXCSR as after FNINIT/reset. */
void fpu_init_area(uint8_t *area)
{
	__builtin_memset(area, 0, FPU_AREA_SIZE);
	*(uint16_t *)area = FCW_INIT;
	*(uint32_t *)(area + 24) = MXCSR_INIT;
}

/*
 * Saves one state and loads the other with every offered component enabled in XCR0: SSE state
 * is live even while a guest's XCR0 holds only x87, and must move with the rest. Returns the
 * XCR0 that was in force before (0 without XSAVE).
 */
static uint64_t swap(uint8_t *out, const uint8_t *in)
{
	uint64_t was = use_xsave() ? xcr0_switch(guest_xcr0_supported()) : 0;

	save(out);
	restore(in);
	return was;
}

/* Before a guest runs: the host's state out, the guest's in, then the guest's XCR0. */
uint64_t fpu_enter(struct vcpu *v)
{
	uint64_t host_xcr0;

	if (v->vm->kind == VM_DOM0) /* dom0's state is the host's: it stays live */
		return use_xsave() ? xcr0_switch(v->xcr0) : 0;
	host_xcr0 = swap(this_cpu()->vmx->host_fpu, v->fpu);
	if (host_xcr0)
		xcr0_switch(v->xcr0);
	return host_xcr0;
}

void fpu_leave(struct vcpu *v, uint64_t host_xcr0)
{
	if (v->vm->kind != VM_DOM0)
		swap(v->fpu, this_cpu()->vmx->host_fpu);
	if (host_xcr0)
		xcr0_switch(host_xcr0);
}
