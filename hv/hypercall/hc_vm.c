/*
 * dom0's control hypercalls for VMs: create and destroy them, map dom0's frames into them,
 * create and run their vCPUs. Trusts nothing: handles, ids, sizes and every address dom0
 * passes are checked, and dom0 can only hand over frames that are its own.
 */
#include "../../compat/kvmabi/hvabi.h"
#include "../dom0/dom0.h"
#include "../lib/errno.h"
#include "hypercall.h"
#include "../platform/mm.h"
#include "../lib/spinlock.h"
#include "../vmx/vm.h"
#include "../platform/x86.h"

_Static_assert(HV_EXIT_DEBUG == (int)VMEXIT_DEBUG && HV_EXIT_NEED_PAGE == (int)VMEXIT_NEED_PAGE,
	       "exit kinds match the ABI");
_Static_assert(HV_PROT_R == VM_R && HV_PROT_W == VM_W && HV_PROT_X == VM_X, "protections");

static struct vm *vms[HV_MAX_VMS];
static unsigned users[HV_MAX_VMS]; /* hypercalls using the VM now: it cannot be destroyed */
static spinlock_t vms_lock;
#define DYING (~0u) /* users[] of a handle whose VM is being destroyed */

/*
 * Resolves arg0 (VM handle) and, for HC_ON_VCPU, arg1 (vCPU id) into c->vm and c->target,
 * claimed for the call: a vCPU serves one hypercall at a time, and a VM in use stays alive,
 * whatever dom0 does on its other CPUs.
 */
int64_t hc_claim(struct hc_ctx *c, bool vcpu)
{
	uint64_t h = c->arg[0];
	int64_t rc = 0;

	spin_lock(&vms_lock);
	c->vm = h < HV_MAX_VMS ? vms[h] : NULL;
	c->target = NULL;
	if (!c->vm)
		rc = -EBADF;
	else if (vcpu && !(c->target = vm_get_vcpu(c->vm, c->arg[1])))
		rc = -EINVAL;
	else if (vcpu && !vcpu_try_claim(c->target, c->nr == HC_VCPU_RUN))
		rc = -EBUSY;
	if (rc)
		c->vm = NULL, c->target = NULL;
	else
		users[h]++;
	spin_unlock(&vms_lock);
	return rc;
}

void hc_release(struct hc_ctx *c)
{
	if (!c->vm)
		return;
	spin_lock(&vms_lock);
	users[c->arg[0]]--;
	if (c->target)
		vcpu_release(c->target);
	spin_unlock(&vms_lock);
}

int64_t hc_vm_create(struct hc_ctx *c)
{
	struct vm *vm;
	int64_t h = -ENOSPC;

	vm = vm_create(VM_GUEST);
	if (!vm)
		return -ENOMEM;
	vm_set_kvm_rules(vm, c->arg[0]);
	spin_lock(&vms_lock);
	for (unsigned i = 0; i < HV_MAX_VMS && h < 0; i++)
		if (!vms[i] && !users[i]) {
			vms[i] = vm;
			h = i;
		}
	spin_unlock(&vms_lock);
	if (h < 0)
		vm_destroy(vm);
	return h;
}

int64_t hc_free_frames(struct hc_ctx *c __unused)
{
	return (int64_t)hv_frames.nfree;
}

int64_t hc_msr_list(struct hc_ctx *c)
{
	uint64_t max = c->arg[1];
	uint32_t *list = hc_bounce();
	int64_t n;

	if (max > PAGE_SIZE / 4)
		return -EINVAL;
	n = vm_msr_index_list(list, (unsigned)max);
	return dom0_copy_out(c->arg[0], list, (uint64_t)MIN(n, (int64_t)max) * 4) ? -EFAULT : n;
}

/* Not claimed by the dispatcher: it must find the VM unused, then takes it out. */
int64_t hc_vm_destroy(struct hc_ctx *c)
{
	uint64_t h = c->arg[0];
	struct vm *vm = NULL;
	int64_t rc = -EBADF;

	spin_lock(&vms_lock);
	if (h < HV_MAX_VMS && vms[h] && users[h])
		rc = -EBUSY;
	else if (h < HV_MAX_VMS && vms[h])
		vm = vms[h], vms[h] = NULL, users[h] = DYING, rc = 0;
	spin_unlock(&vms_lock);
	if (!vm)
		return rc;
	hc_dev_destroy_all(h);
	vm_destroy(vm);
	spin_lock(&vms_lock);
	users[h] = 0; /* the handle may be given out again */
	spin_unlock(&vms_lock);
	return 0;
}

/*
 * Maps the frames dom0 lists (page frame numbers, one page at most) at consecutive GPAs, all or
 * nothing: the list is copied and checked whole before anything changes; if the EPT then runs
 * out of memory, what the call mapped is unmapped (4K leaves: that cannot fail).
 */
int64_t hc_vm_map(struct hc_ctx *c)
{
	uint64_t gpa = c->arg[1], list = c->arg[2], n = c->arg[3], prot = c->arg[4], done = 0;
	uint64_t *pfn = hc_bounce();
	int rc;

	if (!n || n > HV_MAP_MAX_FRAMES || (gpa & 0xfff) || (list & 7) || !prot || prot > VM_RWX ||
	    gpa >= VM_GPA_LIMIT || n > (VM_GPA_LIMIT - gpa) / PAGE_SIZE)
		return -EINVAL;
	rc = dom0_copy_in(pfn, list, n * 8);
	for (uint64_t i = 0; i < n && !rc; i++)
		if (pfn[i] >= (1ULL << 40) || !dom0_owns_range(pfn[i] << 12, PAGE_SIZE))
			rc = -EFAULT;
	for (; done < n && !rc; done++)
		rc = vm_map(c->vm, gpa + done * PAGE_SIZE, pfn[done] << 12, PAGE_SIZE,
			    (unsigned)prot);
	if (rc && done)
		vm_unmap(c->vm, gpa, done * PAGE_SIZE);
	return rc;
}

/*
 * After this returns, no CPU can reach the frames through the VM (they may be unpinned). It
 * cannot fail for a range HC_VM_MAP mapped: 4K leaves, none at or above VM_GPA_LIMIT.
 */
int64_t hc_vm_unmap(struct hc_ctx *c)
{
	uint64_t gpa = c->arg[1], n = c->arg[2];

	if ((!n && gpa) || (gpa & 0xfff) || n > (1ULL << 36) || gpa + n * PAGE_SIZE < gpa)
		return -EINVAL; /* (nothing at 0: only every vCPU's TLB flushed) */
	if (gpa >= VM_GPA_LIMIT)
		return 0; /* nothing is mapped there */
	return vm_unmap(c->vm, gpa, MIN(n * PAGE_SIZE, VM_GPA_LIMIT - gpa));
}

/* vcpu_create() makes one vCPU per id, whatever dom0's CPUs race. */
int64_t hc_vcpu_create(struct hc_ctx *c)
{
	unsigned id = (unsigned)c->arg[1];

	if (c->arg[1] >= VM_MAX_VCPUS)
		return -EINVAL;
	if (vcpu_create(c->vm, id))
		return 0;
	return vm_get_vcpu(c->vm, id) ? -EEXIST : -ENOMEM;
}

static void to_abi(const struct vm_exit *x, struct hv_exit *e)
{
	*e = (struct hv_exit){.kind = x->kind,
			      .reason = x->reason,
			      .qual = x->qual,
			      .rflags = x->rflags,
			      .irq_ready = x->irq_ready,
			      .wake = x->wake,
			      .wake_tsc = x->wake_tsc,
			      .resampled = x->resampled,
			      .apic_base = x->apic_base,
			      .cr8 = x->cr8,
			      .smm = x->smm};
	if (x->kind == VMEXIT_IO) {
		e->port = x->io.port;
		e->size = x->io.size;
		e->in = x->io.in;
		e->string = x->io.string;
		e->rep = x->io.rep;
		e->count = x->io.count;
		e->data = x->io.data;
	} else if (x->kind == VMEXIT_IOAPIC_EOI) {
		e->port = x->vector;
	} else if (x->kind == VMEXIT_DEBUG) {
		e->port = (uint16_t)x->dbg.exception;
		e->data = x->dbg.dr6;
		e->gpa = x->dbg.pc;
		e->qual = x->dbg.dr7;
	} else if (x->kind == VMEXIT_MSR) {
		e->qual = x->msr.index;
		e->write = x->msr.write;
		e->data = x->msr.data;
		e->size = (uint8_t)x->msr.reason;
	} else if (x->kind == VMEXIT_INTERNAL) {
		e->gpa = x->mem.gpa;
	} else if (x->kind == VMEXIT_MMIO || x->kind == VMEXIT_NEED_PAGE) {
		e->gpa = x->mem.gpa;
		e->write = x->mem.write;
		e->size = x->mem.len;
		e->data = x->mem.data;
		e->count = x->mem.insn_len; /* not decoded: its bytes at HV_IO_DATA */
	}
}

/*
 * Runs the vCPU on this CPU until an exit for dom0 (the VMCALL handler reloads dom0 after). The
 * one exception to copying: the exit page at arg2 is written in place, and a string IN's data
 * there read once, straight into guest memory (nothing checks it, so nothing can change under it).
 */
int64_t hc_vcpu_run(struct hc_ctx *c)
{
	struct vm_exit x = {.answer = c->arg[3], .msr_error = c->arg[4] & HV_RUN_MSR_ERROR};
	struct vcpu *v = c->target;
	struct hv_exit *out;
	int rc;

	if ((c->arg[2] & 7) || !dom0_owns_range(c->arg[2], HV_IO_DATA + HV_IO_DATA_MAX))
		return -EFAULT;
	out = phys_to_virt(c->arg[2]);
	x.strdata = (uint8_t *)out + HV_IO_DATA;
	if ((c->arg[4] & ~(uint64_t)(HV_RUN_IRQ_WINDOW | HV_RUN_COMPLETE_ONLY | HV_RUN_MSR_ERROR |
				     HV_RUN_CR8 | 0xf0 | HV_RUN_RETRY | HV_RUN_NO_PAGE)) ||
	    ((c->arg[4] & 0xf0) && !(c->arg[4] & HV_RUN_CR8)))
		return -EINVAL; /* (a CR8 value only with its flag) */
	if (c->arg[4] & HV_RUN_CR8)
		vcpu_set_cr8(v, c->arg[4] >> 4 & 15);
	vcpu_retry(v, c->arg[4]);
	if (c->arg[4] & HV_RUN_COMPLETE_ONLY) {
		vcpu_complete_io(v, &x);
		to_abi(&x, out);
		return 0;
	}
	vcpu_request_irq_window(v, c->arg[4] & HV_RUN_IRQ_WINDOW);
	rc = vcpu_run(v, &x);
	if (!rc)
		to_abi(&x, out);
	return rc;
}

_Static_assert(sizeof(struct hv_regs) == sizeof(struct vcpu_regs), "same register order");

/* HC_VCPU_GET_REGS and HC_VCPU_SET_REGS (vm, id, regs) */
int64_t hc_vcpu_regs(struct hc_ctx *c)
{
	struct vcpu_regs r;

	if (c->nr == HC_VCPU_SET_REGS)
		return dom0_copy_in(&r, c->arg[2], sizeof(r)) ?: vcpu_set_regs(c->target, &r);
	return vcpu_get_regs(c->target, &r) ?: dom0_copy_out(c->arg[2], &r, sizeof(r));
}

int64_t hc_vcpu_get_sregs(struct hc_ctx *c)
{
	struct vcpu *v = c->target;
	struct hv_sregs out = {0}, *o = &out;
	struct hv_events e;
	int rc = vcpu_get_sregs(v, o);

	if (rc)
		return rc;
	uint64_t base = 0;

	vcpu_msr(v, MSR_APIC_BASE, &base, false);
	o->apic_base = base;
	vcpu_events(v, &e, false);
	if (e.irq_injected) /* KVM reports the interrupt it will inject here */
		o->interrupt_bitmap[e.irq_nr / 64] = 1ULL << (e.irq_nr % 64);
	return dom0_copy_out(c->arg[2], o, sizeof(*o));
}

/*
 * As KVM: the registers checked, then the APIC base (refused: nothing changed yet), then the
 * registers set (they cannot fail now), then a pending IRQ.
 */
static int64_t set_sregs(struct vcpu *v, const struct hv_sregs *s)
{
	uint64_t base = s->apic_base;

	if (!vcpu_sregs_valid(v, s) || !vcpu_msr(v, MSR_APIC_BASE, &base, true))
		return -EINVAL;
	vcpu_set_sregs(v, s);
	for (unsigned i = 0; i < 256; i++)
		if (s->interrupt_bitmap[i / 64] >> (i % 64) & 1) {
			struct hv_events e;
			vcpu_events(v, &e, false);
			e.irq_injected = 1, e.irq_nr = (uint8_t)i;
			return vcpu_events(v, &e, true);
		}
	return 0;
}

int64_t hc_vcpu_set_sregs(struct hc_ctx *c)
{
	struct hv_sregs in;

	return dom0_copy_in(&in, c->arg[2], sizeof(in)) ?: set_sregs(c->target, &in);
}
