/*
 * dom0's control hypercalls for VMs: create and destroy them, map dom0's frames into them,
 * create and run their vCPUs. Trusts nothing: handles, ids, sizes and every address dom0
 * passes are checked, and dom0 can only hand over frames that are its own.
 */
#include "../compat/kvmabi/hvabi.h"
#include "dom0.h"
#include "errno.h"
#include "hypercall.h"
#include "mm.h"
#include "spinlock.h"
#include "vm.h"

_Static_assert(HV_EXIT_INTERNAL == (int)VMEXIT_INTERNAL, "exit kinds match the ABI");
_Static_assert(HV_PROT_R == VM_R && HV_PROT_W == VM_W && HV_PROT_X == VM_X, "protections");

static struct vm *vms[HV_MAX_VMS];
static spinlock_t vms_lock;

static struct vm *lookup(uint64_t handle)
{
	return handle < HV_MAX_VMS ? vms[handle] : NULL;
}

int64_t hc_vm_create(struct hc_ctx *c)
{
	struct vm *vm;
	int64_t h = -ENOSPC;

	(void)c;
	vm = vm_create(VM_GUEST);
	if (!vm)
		return -ENOMEM;
	spin_lock(&vms_lock);
	for (unsigned i = 0; i < HV_MAX_VMS && h < 0; i++)
		if (!vms[i]) {
			vms[i] = vm;
			h = i;
		}
	spin_unlock(&vms_lock);
	if (h < 0)
		vm_destroy(vm);
	return h;
}

int64_t hc_vm_destroy(struct hc_ctx *c)
{
	struct vm *vm;

	spin_lock(&vms_lock);
	vm = lookup(c->arg[0]);
	if (vm)
		vms[c->arg[0]] = NULL;
	spin_unlock(&vms_lock);
	if (!vm)
		return -EBADF;
	vm_destroy(vm);
	return 0;
}

/* Maps the frames dom0 lists (page frame numbers, one page at most) at consecutive GPAs. */
int64_t hc_vm_map(struct hc_ctx *c)
{
	struct vm *vm = lookup(c->arg[0]);
	uint64_t gpa = c->arg[1], list = c->arg[2], n = c->arg[3], prot = c->arg[4];
	const uint64_t *pfn;

	if (!vm)
		return -EBADF;
	if (!n || n > HV_MAP_MAX_FRAMES || (gpa & 0xfff) || (list & 7) || !prot || prot > VM_RWX)
		return -EINVAL;
	if (!dom0_owns_range(list, n * 8))
		return -EFAULT;
	pfn = phys_to_virt(list);
	for (uint64_t i = 0; i < n; i++)
		if (pfn[i] >= (1ULL << 40) || !dom0_owns_range(pfn[i] << 12, PAGE_SIZE))
			return -EFAULT;
	for (uint64_t i = 0; i < n; i++) {
		int rc = vm_map(vm, gpa + i * PAGE_SIZE, pfn[i] << 12, PAGE_SIZE, (unsigned)prot);
		if (rc)
			return rc;
	}
	return 0;
}

int64_t hc_vcpu_create(struct hc_ctx *c)
{
	struct vm *vm = lookup(c->arg[0]);

	if (!vm)
		return -EBADF;
	if (c->arg[1] >= VM_MAX_VCPUS)
		return -EINVAL;
	if (vm_get_vcpu(vm, (unsigned)c->arg[1]))
		return -EEXIST;
	return vcpu_create(vm, (unsigned)c->arg[1]) ? 0 : -ENOMEM;
}

static void to_abi(const struct vm_exit *x, struct hv_exit *e)
{
	*e = (struct hv_exit){.kind = x->kind, .reason = x->reason, .qual = x->qual};
	if (x->kind == VMEXIT_IO) {
		e->port = x->io.port;
		e->size = x->io.size;
		e->in = x->io.in;
		e->string = x->io.string;
		e->rep = x->io.rep;
		e->data = x->io.data;
	} else if (x->kind == VMEXIT_MMIO) {
		e->gpa = x->mem.gpa;
		e->write = x->mem.write;
	}
}

/* Runs the vCPU on this CPU until an exit for dom0. */
int64_t hc_vcpu_run(struct hc_ctx *c)
{
	struct vm *vm = lookup(c->arg[0]);
	struct vcpu *v = vm && c->arg[1] < VM_MAX_VCPUS ? vm_get_vcpu(vm, (unsigned)c->arg[1]) : NULL;
	uint64_t out = c->arg[2];
	struct vm_exit x;
	int rc;

	if (!v)
		return vm ? -EINVAL : -EBADF;
	if ((out & 7) || !dom0_owns_range(out, sizeof(struct hv_exit)))
		return -EFAULT;
	rc = vcpu_run(v, &x); /* the VMCALL exit handler makes dom0's VMCS current again */
	if (!rc)
		to_abi(&x, phys_to_virt(out));
	return rc;
}
