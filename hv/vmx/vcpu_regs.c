/*
 * The register families beyond GPRs and segments, for the caller while the vCPU does not run:
 * MSRs, extended state and XCR0, pending events, debug registers, address translation and
 * exit statistics. Every value from the caller is checked before it can reach the CPU.
 */
#include "../lib/errno.h"
#include "insn.h"
#include "vmx_vm.h"

#define XSTATE_BV     512 /* offsets in the XSAVE area */
#define XCOMP_BV      520
#define MXCSR	      24
#define MAX_EXC_VALID 31

bool vcpu_msr(struct vcpu *v, uint32_t msr, uint64_t *val, bool set)
{
	bool ok;

	vcpu_load(v);
	ok = set ? vcpu_msr_write(v, msr, *val, true) : vcpu_msr_read(v, msr, val);
	vcpu_put(v);
	return ok;
}

/* MXCSR bits this CPU has (FXSAVE's MXCSR_MASK; 0 there means the SDM's default 0xffbf). */
static uint32_t mxcsr_mask(void)
{
	uint8_t buf[512] __aligned(16);
	uint32_t mask;

	__asm__ volatile("fxsave64 %0" : "=m"(buf));
	__builtin_memcpy(&mask, buf + 28, 4);
	return mask ? mask : 0xffbf;
}

/* A set takes only images XRSTOR takes: known components, standard format, zero reserved
 * header bytes. */
int vcpu_xsave(struct vcpu *v, void *area, bool set)
{
	const uint8_t *a = area; /* hypervisor memory: the hypercall's copy of dom0's */
	uint64_t bv, comp;
	uint32_t mxcsr;

	if (!set) {
		__builtin_memcpy(area, v->fpu, FPU_AREA_SIZE);
		return 0;
	}
	__builtin_memcpy(&bv, a + XSTATE_BV, 8);
	__builtin_memcpy(&comp, a + XCOMP_BV, 8);
	__builtin_memcpy(&mxcsr, a + MXCSR, 4);
	if ((bv & ~guest_xcr0_supported()) || comp || (mxcsr & ~mxcsr_mask()))
		return -EINVAL;
	for (unsigned i = XCOMP_BV + 8; i < XSTATE_BV + 64; i++)
		if (a[i])
			return -EINVAL;
	__builtin_memcpy(v->fpu, a, FPU_AREA_SIZE);
	return 0;
}

int vcpu_xcr0(struct vcpu *v, void *buf, bool set)
{
	uint64_t *xcr0 = buf;

	if (!set)
		*xcr0 = v->xcr0;
	else if (!xcr0_valid(v, *xcr0))
		return -EINVAL;
	else
		v->xcr0 = *xcr0;
	return 0;
}

/* The offset from the host's TSC to the guest's into buf, first set from buf if set (as KVM:
 * as is). */
int vcpu_tsc_offset(struct vcpu *v, void *buf, bool set)
{
	uint64_t *offset = buf;

	vcpu_load(v);
	if (set)
		vmwrite(VMCS_TSC_OFFSET, *offset);
	*offset = vmread(VMCS_TSC_OFFSET);
	vcpu_put(v);
	return 0;
}

/* A set makes KVM's checks: a real exception vector (not NMI), shadow bits that exist. */
int vcpu_events(struct vcpu *v, void *buf, bool set)
{
	struct hv_events *e = buf;
	uint32_t intr;

	vcpu_load(v);
	intr = (uint32_t)vmread(VMCS_GUEST_INTERRUPTIBILITY);
	vcpu_put(v);
	if (!set) {
		*e = (struct hv_events){
			.exc_injected = v->exc.valid,
			.exc_nr = v->exc.valid ? v->exc.info & 0xff : 0,
			.exc_has_error = v->exc.valid && (v->exc.info & INTR_INFO_ERROR_CODE),
			.exc_error = v->exc.valid ? v->exc.error : 0,
			.irq_injected = v->irq_pending >= 0,
			.irq_nr = v->irq_pending >= 0 ? (uint8_t)v->irq_pending : 0,
			.interrupt_shadow = intr & INTERRUPTIBILITY_SHADOW,
			.nmi_pending = v->nmi_pending,
			.nmi_masked = !!(intr & INTERRUPTIBILITY_NMI),
			.smm = (v->smm ? HV_SMM_IN : 0) | (v->smi_pending ? HV_SMM_PENDING : 0) |
			       (v->req_init ? HV_SMM_LATCHED_INIT : 0), /* KVM's "latched" INIT */
		};
		return 0;
	}
	if ((e->exc_injected && (e->exc_nr > MAX_EXC_VALID || e->exc_nr == 2)) ||
	    (e->interrupt_shadow & ~3u) || e->smm > 7)
		return -EINVAL;
	v->exc.valid = false;
	if (e->exc_injected)
		vcpu_queue_exception(v, e->exc_nr, e->exc_has_error, e->exc_error);
	v->exc.fresh = false; /* as KVM's "injected": no RF added (events.c) */
	v->irq_pending = e->irq_injected ? e->irq_nr : -1;
	v->nmi_pending = e->nmi_pending;
	v->smm = e->smm & HV_SMM_IN;
	v->smi_pending = e->smm & HV_SMM_PENDING;
	if (v->lapic)
		v->req_init = e->smm & HV_SMM_LATCHED_INIT;
	intr &= ~(INTERRUPTIBILITY_SHADOW | INTERRUPTIBILITY_NMI);
	vcpu_load(v);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
		intr | e->interrupt_shadow | (e->nmi_masked ? INTERRUPTIBILITY_NMI : 0));
	v->state_changed = true;
	vcpu_put(v);
	return 0;
}

/* DR0-3, DR6, DR7; a set's DR6 and DR7 must fit in 32 bits, as KVM checks. */
int vcpu_debugregs(struct vcpu *v, void *buf, bool set)
{
	uint64_t *dr = buf;

	if (set && ((dr[4] >> 32) || (dr[5] >> 32)))
		return -EINVAL;
	vcpu_load(v);
	if (set) {
		__builtin_memcpy(v->dr, dr, sizeof(v->dr));
		v->dr6 = dr[4]; /* kept as given, as KVM does */
		set_guest_dr7(v, dr[5]);
	} else {
		__builtin_memcpy(dr, v->dr, sizeof(v->dr));
		dr[4] = v->dr6;
		dr[5] = guest_dr7(v);
	}
	vcpu_put(v);
	return 0;
}

/* KVM_TRANSLATE's answer (a get only): KVM reports every translation writeable and
 * supervisor. */
int vcpu_translate(struct vcpu *v, void *buf, bool set __unused)
{
	struct hv_translate *t = buf;
	uint64_t gpa;
	uint32_t pf;

	*t = (struct hv_translate){.linear_address = t->linear_address, .writeable = 1};
	vcpu_load(v);
	t->valid = gva_to_gpa(v, t->linear_address, false, &gpa, &pf) == 0;
	vcpu_put(v);
	t->physical_address = t->valid ? gpa : ~0ULL;
	return 0;
}

/* The counters of HV_STATE_STATS, summed from the exit reasons. */
void vcpu_get_stats(struct vcpu *v, uint64_t out[HV_STAT_COUNT])
{
	static const uint8_t reason_stat[EXIT_REASON_MAX + 1] = {
		[EXIT_REASON_IO] = HV_STAT_IO_EXITS,
		[EXIT_REASON_HLT] = HV_STAT_HLT_EXITS,
		[EXIT_REASON_CPUID] = HV_STAT_CPUID_EXITS,
		[EXIT_REASON_RDMSR] = HV_STAT_MSR_EXITS,
		[EXIT_REASON_WRMSR] = HV_STAT_MSR_EXITS,
		[EXIT_REASON_EXTERNAL_INTR] = HV_STAT_IRQ_EXITS,
		[EXIT_REASON_EPT_VIOLATION] = HV_STAT_EPT_EXITS,
		[EXIT_REASON_EPT_MISCONFIG] = HV_STAT_EPT_EXITS,
	};

	__builtin_memset(out, 0, HV_STAT_COUNT * sizeof(*out));
	for (unsigned r = 0; r <= EXIT_REASON_MAX; r++) {
		out[HV_STAT_EXITS] += v->exits[r];
		if (reason_stat[r])
			out[reason_stat[r]] += v->exits[r];
	}
	out[HV_STAT_MMIO_EXITS] = v->mmio_exits;
}
