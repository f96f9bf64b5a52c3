/*
 * kvmclock, as KVM offers it: a VM clock in nanoseconds (KVM_GET/SET_CLOCK) that runs with the
 * host's TSC, and per vCPU the pvclock page the guest registers with MSR_KVM_SYSTEM_TIME_NEW,
 * from which it reads that clock with RDTSC alone. The page is rewritten when the guest
 * registers it and, before the next entry, whenever the VM clock is set. The wall clock the
 * guest asks for (MSR_KVM_WALL_CLOCK_NEW) is the time of day at which the VM clock read 0, as
 * dom0 told it when it last set the clock.
 */
#include "../platform/tsc.h"
#include "insn.h"
#include "vmx_vm.h"

#define MSR_KVM_WALL_CLOCK	0x11 /* the first kvmclock's: the same as the _NEW ones */
#define MSR_KVM_SYSTEM_TIME	0x12
#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define NSEC_PER_SEC		1000000000ULL
#define PVCLOCK_TSC_STABLE	1

struct pvclock {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags, pad[2];
};

_Static_assert(sizeof(struct pvclock) == 32, "struct pvclock_vcpu_time_info");

/* The VM clock when the host TSC reads `tsc`. */
uint64_t vm_clock_ns(struct vm *vm, uint64_t tsc)
{
	return tsc_to_ns(tsc) + (uint64_t)__atomic_load_n(&vm->clock_offset, __ATOMIC_RELAXED);
}

/* KVM_SET_CLOCK: the clock reads `ns` now; every vCPU's page follows at its next entry. */
void vm_set_clock(struct vm *vm, uint64_t ns, uint64_t realtime)
{
	__atomic_store_n(&vm->clock_offset, (int64_t)(ns - tsc_to_ns(rdtsc())), __ATOMIC_RELAXED);
	__atomic_store_n(&vm->wall_zero, realtime - ns, __ATOMIC_RELAXED);
	__atomic_add_fetch(&vm->clock_gen, 1, __ATOMIC_RELEASE);
}

/* struct pvclock_wall_clock at gpa, its version odd while it changes (as KVM writes it). */
static void write_wall_clock(struct vcpu *v, uint64_t gpa)
{
	uint64_t zero = __atomic_load_n(&v->vm->wall_zero, __ATOMIC_RELAXED);
	uint32_t version, time[2] = {(uint32_t)(zero / NSEC_PER_SEC), zero % NSEC_PER_SEC};

	if (vcpu_read(v, gpa, &version, 4))
		return;
	version = (version + 1) | 1;
	vcpu_write(v, gpa, &version, 4);
	vcpu_write(v, gpa + 4, time, sizeof(time));
	version++;
	vcpu_write(v, gpa, &version, 4);
}

/* The guest's pvclock page for now (VMCS loaded): ns = system_time + scaled TSC delta. */
static void write_page(struct vcpu *v)
{
	uint64_t tsc = rdtsc(), scale = (1000000ULL << 32) / tsc_khz; /* 32.32 ns per cycle */
	struct pvclock p = {.flags = PVCLOCK_TSC_STABLE};

	uint32_t gen = __atomic_load_n(&v->vm->clock_gen, __ATOMIC_ACQUIRE);

	while (scale >> 32)
		scale >>= 1, p.tsc_shift++; /* the guest shifts the delta left as much */
	p.tsc_to_system_mul = (uint32_t)scale;
	p.tsc_timestamp = tsc + vmread(VMCS_TSC_OFFSET);
	p.system_time = vm_clock_ns(v->vm, tsc);
	if (vcpu_read(v, v->pvclock & ~1ULL, &p.version, 4) && v->need_page)
		return;			   /* written once dom0 has mapped it */
	p.version = (p.version + 2) & ~1u; /* even: not being updated (the guest is not running) */
	if (!vcpu_write(v, v->pvclock & ~1ULL, &p, sizeof(p)) || !v->need_page)
		v->clock_gen = gen;
}

void kvmclock_prepare_entry(struct vcpu *v)
{
	if ((v->pvclock & 1) &&
	    v->clock_gen != __atomic_load_n(&v->vm->clock_gen, __ATOMIC_RELAXED))
		write_page(v);
}

/* The kvmclock MSRs of a KVM VM: handled (true, *ok the result) or not ours. */
bool kvmclock_msr(struct vcpu *v, uint32_t msr, uint64_t *val, bool write, bool *ok)
{
	bool wall = msr == MSR_KVM_WALL_CLOCK || msr == MSR_KVM_WALL_CLOCK_NEW;
	bool first = msr == MSR_KVM_WALL_CLOCK || msr == MSR_KVM_SYSTEM_TIME; /* the old pair */
	uint64_t *reg = wall ? &v->vm->wall_clock : &v->pvclock; /* the wall clock: VM-wide */

	if (!v->vm->kvm_rules ||
	    (!wall && msr != MSR_KVM_SYSTEM_TIME_NEW && msr != MSR_KVM_SYSTEM_TIME))
		return false;
	*ok = vcpu_pv_has(v, first ? KVM_FEATURE_CLOCKSOURCE : KVM_FEATURE_CLOCKSOURCE2);
	if (*ok && !write)
		*val = *reg;
	if (!*ok || !write)
		return true;
	*reg = *val;
	if (wall)
		write_wall_clock(v, *val);
	else if (*val & 1)
		write_page(v);
	return true;
}
