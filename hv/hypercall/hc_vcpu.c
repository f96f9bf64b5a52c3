/*
 * HC_VCPU_GET/SET: the vCPU state families, one table entry each (layouts in hvabi.h), and
 * HC_SYS_INFO: the system-wide lists. dom0's buffer is copied into this CPU's bounce buffer
 * once; handlers see only that copy.
 */
#include "../../compat/kvmabi/hvabi.h"
#include "../dom0/dom0.h"
#include "../lib/errno.h"
#include "hypercall.h"
#include "../platform/mm.h"
#include "../platform/tsc.h"
#include "../vmx/vm.h"

struct msr_entry { /* struct kvm_msr_entry */
	uint32_t index, reserved;
	uint64_t data;
};

enum { GET = 1, SET = 2 }; /* the directions a kind has */

/* One handler a kind, for both directions: set, or get (the answer left in buf). */
struct state_kind {
	uint32_t elem, max; /* element size, and how many one call may carry */
	uint8_t dirs;
	int64_t (*op)(struct vcpu *v, void *buf, uint32_t n, bool set);
	int (*one)(struct vcpu *v, void *buf, bool set); /* or one element: a get answers 1 */
	int (*set64)(struct vcpu *v, uint64_t val);	 /* or a set of a u64 */
};

static int64_t cpuid_entries(struct vcpu *v, void *buf, uint32_t n, bool set)
{
	return set ? (int64_t)vcpu_set_cpuid(v, buf, n) : vcpu_get_cpuid(v, buf, n);
}

/* KVM_GET/SET_MSRS: entries in order, stopping at the first the vCPU refuses. */
static int64_t msrs(struct vcpu *v, void *buf, uint32_t n, bool set)
{
	struct msr_entry *e = buf;
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint64_t val = e[i].data;
		if (!vcpu_msr(v, e[i].index, &val, set))
			break;
		e[i].data = val; /* a set's data is written back unchanged */
	}
	return i;
}

/* KVM_INTERRUPT without an in-hypervisor irqchip: one vector waits at a time (the last). */
static int64_t set_irq(struct vcpu *v, void *buf, uint32_t n __unused, bool set __unused)
{
	uint32_t vector = *(const uint32_t *)buf;

	return vector > 255 ? -EINVAL : vcpu_interrupt(v, (uint8_t)vector);
}

static int64_t set_nmi(struct vcpu *v, void *buf __unused, uint32_t n __unused, bool set __unused)
{
	vcpu_queue_nmi(v);
	return 0;
}

static const struct state_kind kinds[HV_STATE_COUNT] = {
	[HV_STATE_MP] = {4, 1, GET | SET, .one = vcpu_mp_state},
	[HV_STATE_LAPIC] = {1024, 1, GET | SET, .one = vcpu_lapic_state},
	[HV_STATE_MCE_CAP] = {8, 1, SET, .set64 = vcpu_setup_mce},
	[HV_STATE_MCE] = {64, 1, SET, .one = vcpu_set_mce},
	[HV_STATE_VAPIC] = {8, 1, SET, .set64 = vcpu_set_vapic},
	[HV_STATE_PV_ENFORCE] = {8, 1, SET, .set64 = vcpu_pv_enforce},
	[HV_STATE_TSC_OFFSET] = {8, 1, GET | SET, .one = vcpu_tsc_offset},
	[HV_STATE_CPUID] = {sizeof(struct vm_cpuid_entry), VM_CPUID_MAX, GET | SET, cpuid_entries},
	[HV_STATE_MSRS] = {sizeof(struct msr_entry), 1024, GET | SET, msrs},
	[HV_STATE_XSAVE] = {4096, 1, GET | SET, .one = vcpu_xsave},
	[HV_STATE_XCR0] = {8, 1, GET | SET, .one = vcpu_xcr0},
	[HV_STATE_EVENTS] = {sizeof(struct hv_events), 1, GET | SET, .one = vcpu_events},
	[HV_STATE_DEBUGREGS] = {48, 1, GET | SET, .one = vcpu_debugregs},
	[HV_STATE_IRQ] = {4, 1, SET, set_irq},
	[HV_STATE_NMI] = {0, 0, SET, set_nmi},
	[HV_STATE_TRANSLATE] = {sizeof(struct hv_translate), 1, GET, .one = vcpu_translate},
};

/*
 * HC_VCPU_GET/SET (vm, id, kind, buf, n): the kind's count is bounded before it sizes anything;
 * dom0's buffer is copied into the CPU's bounce buffer, the handler works on that copy, and a
 * get's result is copied back.
 */
int64_t hc_vcpu_state(struct hc_ctx *c)
{
	bool set = c->nr == HC_VCPU_SET;
	const struct state_kind *k = c->arg[2] < HV_STATE_COUNT ? &kinds[c->arg[2]] : NULL;
	uint64_t n = c->arg[4], len;
	void *buf = hc_bounce();
	int64_t rc;

	if (!k || !(k->dirs & (set ? SET : GET)) || n > k->max || (k->max == 1 && n != 1))
		return -EINVAL;
	len = n * k->elem; /* at most 1024 * 4096: no overflow */
	if (len > HV_STATE_MAX_BYTES)
		return -EINVAL;
	if ((rc = dom0_copy_in(buf, c->arg[3], len)))
		return rc;
	if (k->op)
		rc = k->op(c->target, buf, (uint32_t)n, set);
	else if (k->set64)
		rc = k->set64(c->target, *(const uint64_t *)buf);
	else if (!(rc = k->one(c->target, buf, set)) && !set)
		rc = 1;
	if (rc >= 0 && !set && dom0_copy_out(c->arg[3], buf, len))
		rc = -EFAULT;
	return rc;
}

/* HC_VCPU_STATS (vm, id, buf, count): not claimed, so it answers while the vCPU runs. */
int64_t hc_vcpu_stats(struct hc_ctx *c)
{
	struct vcpu *v = vm_get_vcpu(c->vm, c->arg[1]);
	uint64_t s[HV_STAT_COUNT], n = MIN(c->arg[3], (uint64_t)HV_STAT_COUNT);

	if (!v)
		return -EINVAL;
	vcpu_get_stats(v, s);
	return dom0_copy_out(c->arg[2], s, n * 8) ?: HV_STAT_COUNT;
}

/* HC_VCPU_DEBUG (vm, id, control, buf): KVM_SET_GUEST_DEBUG with DR0-7 at buf. */
int64_t hc_vcpu_debug(struct hc_ctx *c)
{
	uint64_t dr[8];

	if (c->arg[2] >> 32)
		return -EINVAL;
	return dom0_copy_in(dr, c->arg[3], sizeof(dr))
		       ?: vcpu_set_guest_debug(c->target, (uint32_t)c->arg[2], dr);
}

/* HC_IRQCHIP (vm, op, a, b, buf): the u64 or state at buf is dom0's, checked here. */
int64_t hc_irqchip(struct hc_ctx *c)
{
	static const uint16_t buf_size[HV_IRQCHIP_OPS] = {
		[HV_IRQCHIP_LINE] = 8,	[HV_IRQCHIP_MSI] = 8,	    [HV_IRQCHIP_GET] = 216,
		[HV_IRQCHIP_SET] = 216, [HV_IRQCHIP_PIT_GET] = 112, [HV_IRQCHIP_PIT_SET] = 112,
	};
	uint64_t op = c->arg[1], a = c->arg[2], b = c->arg[3], pa = c->arg[4];
	uint64_t state[216 / 8]; /* LINE and MSI: the wake mask */
	int64_t rc;

	_Static_assert(HV_MAX_ROUTES * sizeof(struct hv_irq_route) <= HV_STATE_MAX_BYTES, "fits");
	if (op >= HV_IRQCHIP_OPS || (op == HV_IRQCHIP_ROUTING && a > HV_MAX_ROUTES))
		return -EINVAL;
	/* KVM_SET_GSI_ROUTING: a routes at pa (their own size), copied into the bounce buffer */
	if (op == HV_IRQCHIP_ROUTING)
		return dom0_copy_in(hc_bounce(), pa, a * sizeof(struct hv_irq_route))
			       ?: vm_irq_routing(c->vm, hc_bounce(), (unsigned)a);
	if ((rc = dom0_copy_in(state, pa, buf_size[op])))
		return rc;
	switch (op) {
	case HV_IRQCHIP_CREATE:
		return vm_irqchip_create(c->vm, IRQCHIP_FULL, 0);
	case HV_IRQCHIP_SPLIT:
		return vm_irqchip_create(c->vm, IRQCHIP_SPLIT, a);
	case HV_IRQCHIP_PIT:
		return vm_irqchip_create(c->vm, IRQCHIP_PIT, 0);
	case HV_IRQCHIP_BOOT_CPU:
		return vm_set_boot_cpu(c->vm, a);
	case HV_IRQCHIP_RESAMPLE:
		return vm_irq_resample(c->vm, a, b != 0);
	case HV_IRQCHIP_LINE:
		rc = a > 0xffffffffULL ? -EINVAL : vm_irq_line(c->vm, (unsigned)a, b != 0, state);
		break;
	case HV_IRQCHIP_MSI:
		rc = b >> 32 ? -EINVAL : vm_signal_msi(c->vm, a, (uint32_t)b, state);
		break;
	case HV_IRQCHIP_GET:
	case HV_IRQCHIP_SET:
		rc = a > 2 ? -EINVAL
			   : vm_irqchip_state(c->vm, (unsigned)a, state, op == HV_IRQCHIP_SET);
		break;
	default:
		rc = vm_pit_state(c->vm, state, op == HV_IRQCHIP_PIT_SET);
	}
	if (rc >= 0 && op != HV_IRQCHIP_SET && op != HV_IRQCHIP_PIT_SET && /* all but the sets */
	    dom0_copy_out(pa, state, buf_size[op]))
		rc = -EFAULT;
	return rc;
}

/* HC_VM_CLOCK (vm, set, ns, arg): KVM_SET_CLOCK (arg: the time of day), or KVM_GET_CLOCK's ns
 * and host TSC at buf arg. */
int64_t hc_vm_clock(struct hc_ctx *c)
{
	uint64_t out[2];

	if (c->arg[1]) {
		vm_set_clock(c->vm, c->arg[2], c->arg[3]);
		return 0;
	}
	out[1] = rdtsc();
	out[0] = vm_clock_ns(c->vm, out[1]);
	return dom0_copy_out(c->arg[3], out, sizeof(out));
}

/* HC_VM_MSR (vm, op, arg, buf): enum hv_msr_op */
int64_t hc_vm_msr(struct hc_ctx *c)
{
	if (c->arg[1] == HV_MSR_EXITS)
		return vm_msr_exits(c->vm, c->arg[2]);
	if (c->arg[1] == HV_MSR_QUIRKS)
		return vm_quirks(c->vm, c->arg[2]);
	if (c->arg[1] != HV_MSR_FILTER)
		return -EINVAL;
	if ((c->arg[3] & 7) || !dom0_owns_range(c->arg[3], sizeof(struct hv_msr_filter)))
		return -EFAULT;
	return vm_msr_filter(c->vm, phys_to_virt(c->arg[3]));
}

/* HC_VM_DIRTY (vm, op, gpa, npages, bitmap) */
int64_t hc_vm_dirty(struct hc_ctx *c)
{
	uint64_t gpa = c->arg[2], n = c->arg[3], buf = c->arg[4], bytes = ALIGN_UP(n, 64) / 8;

	switch (c->arg[1]) {
	case HV_DIRTY_START:
		return vm_dirty_start(c->vm, gpa, n);
	case HV_DIRTY_STOP:
		return vm_dirty_stop(c->vm, gpa);
	case HV_DIRTY_FETCH:
		if (n > (1ULL << 20))
			return -EINVAL;
		if ((buf & 7) || !dom0_owns_range(buf, bytes))
			return -EFAULT;
		return vm_dirty_fetch(c->vm, gpa, phys_to_virt(buf), bytes);
	default:
		return -EINVAL;
	}
}

/* HC_SYS_INFO (kind, buf, count): the number of entries there are; the first count written. */
int64_t hc_sys_info(struct hc_ctx *c)
{
	static const uint32_t elem[HV_INFO_COUNT] = {
		[HV_INFO_CPUID] = sizeof(struct vm_cpuid_entry),
		[HV_INFO_FEATURE_LIST] = 4,
		[HV_INFO_FEATURE_MSRS] = sizeof(struct msr_entry),
	};
	uint64_t kind = c->arg[0], n = c->arg[2], len;
	struct msr_entry *e = hc_bounce();
	int64_t rc;

	if (!kind || kind >= HV_INFO_COUNT || n > HV_STATE_MAX_BYTES / elem[kind])
		return -EINVAL; /* bounded before the multiply */
	len = n * elem[kind];
	if ((rc = dom0_copy_in(e, c->arg[1], len)))
		return rc;
	if (kind == HV_INFO_CPUID)
		rc = vm_cpuid_supported((struct vm_cpuid_entry *)e, (unsigned)n);
	else if (kind == HV_INFO_FEATURE_LIST)
		rc = vm_feature_msr_list((uint32_t *)e, (unsigned)n);
	else
		for (rc = 0; rc < (int64_t)n && vm_feature_msr(e[rc].index, &e[rc].data); rc++)
			;
	return dom0_copy_out(c->arg[1], e, len) ? -EFAULT : rc;
}
