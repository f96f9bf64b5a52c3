/* The hypercall table. Every entry says who may call it; everything else gets an errno. */
#include "hypercall.h"
#include "../../compat/kvmabi/hvabi.h"
#include "../lib/errno.h"
#include "../lib/panic.h"
#include "../platform/mm.h"
#include "../platform/percpu.h"
#include "../vmx/vm.h"

/* Who may call: any VM at CPL 0, or dom0's kernel only. */
enum hc_perm { HC_ANY_VM, HC_DOM0 };

/* What arg0 (and arg1) name: resolved and claimed before the handler runs. */
enum hc_on { HC_ON_NOTHING, HC_ON_VM, HC_ON_VCPU };

struct hypercall {
	int64_t (*fn)(struct hc_ctx *c);
	enum hc_perm perm;
	enum hc_on on;
};

static int64_t hc_abi_version(struct hc_ctx *c __unused)
{
	return HV_ABI_VERSION;
}

static int64_t hc_nop(struct hc_ctx *c __unused)
{
	return 0;
}

static const struct hypercall hypercalls[HC_COUNT] = {
	[HC_ABI_VERSION] = {hc_abi_version, HC_ANY_VM, HC_ON_NOTHING},
	[HC_NOP] = {hc_nop, HC_ANY_VM, HC_ON_NOTHING},
	[HC_VM_CREATE] = {hc_vm_create, HC_DOM0, HC_ON_NOTHING},
	[HC_VM_DESTROY] = {hc_vm_destroy, HC_DOM0, HC_ON_NOTHING},
	[HC_VM_MAP] = {hc_vm_map, HC_DOM0, HC_ON_VM},
	[HC_VM_UNMAP] = {hc_vm_unmap, HC_DOM0, HC_ON_VM},
	[HC_FREE_FRAMES] = {hc_free_frames, HC_DOM0, HC_ON_NOTHING},
	[HC_MSR_LIST] = {hc_msr_list, HC_DOM0, HC_ON_NOTHING},
	[HC_SYS_INFO] = {hc_sys_info, HC_DOM0, HC_ON_NOTHING},
	[HC_VCPU_CREATE] = {hc_vcpu_create, HC_DOM0, HC_ON_VM},
	[HC_VCPU_RUN] = {hc_vcpu_run, HC_DOM0, HC_ON_VCPU},
	[HC_VCPU_GET_REGS] = {hc_vcpu_regs, HC_DOM0, HC_ON_VCPU},
	[HC_VCPU_SET_REGS] = {hc_vcpu_regs, HC_DOM0, HC_ON_VCPU},
	[HC_VCPU_GET_SREGS] = {hc_vcpu_get_sregs, HC_DOM0, HC_ON_VCPU},
	[HC_VCPU_SET_SREGS] = {hc_vcpu_set_sregs, HC_DOM0, HC_ON_VCPU},
	[HC_VCPU_GET] = {hc_vcpu_state, HC_DOM0, HC_ON_VCPU},
	[HC_VCPU_SET] = {hc_vcpu_state, HC_DOM0, HC_ON_VCPU},
	[HC_VCPU_STATS] = {hc_vcpu_stats, HC_DOM0, HC_ON_VM},
	[HC_VCPU_DEBUG] = {hc_vcpu_debug, HC_DOM0, HC_ON_VCPU},
	[HC_IRQCHIP] = {hc_irqchip, HC_DOM0, HC_ON_VM},
	[HC_VM_CLOCK] = {hc_vm_clock, HC_DOM0, HC_ON_VM},
	[HC_VM_DIRTY] = {hc_vm_dirty, HC_DOM0, HC_ON_VM},
	[HC_VM_MSR] = {hc_vm_msr, HC_DOM0, HC_ON_VM},
	[HC_DEV_CREATE] = {hc_dev_create, HC_DOM0, HC_ON_VM},
	[HC_DEV_ATTR] = {hc_dev_attr, HC_DOM0, HC_ON_VM},
};

static void *bounce[MAX_CPUS]; /* a hypercall runs to its end on the CPU that took it */

void *hc_bounce(void)
{
	return bounce[this_cpu()->index];
}

/* Checks number and permission, then runs the handler: the value for the guest's RAX. */
static int64_t hypercall_dispatch(const struct vmcall *call)
{
	struct hc_ctx ctx = {.nr = call->nr}, *c = &ctx;
	uint64_t nr = call->nr;
	const struct hypercall *h;
	int64_t rc;

	__builtin_memcpy(c->arg, call->arg, sizeof(c->arg));
	if (nr >= HC_COUNT || !hypercalls[nr].fn)
		return -ENOSYS;
	h = &hypercalls[nr];
	if (call->cpl != 0 || (h->perm == HC_DOM0 && !call->from_dom0))
		return -EPERM;
	if (h->on != HC_ON_NOTHING && (rc = hc_claim(c, h->on == HC_ON_VCPU)))
		return rc;
	rc = h->fn(c);
	if (h->on != HC_ON_NOTHING)
		hc_release(c);
	return rc;
}

void hypercall_init(void)
{
	for (unsigned i = 0; i < ncpus_online; i++)
		if (!(bounce[i] = mem_alloc(HV_STATE_MAX_BYTES)))
			panic("hc: no memory for the bounce buffers");
	vm_set_hypercall_handler(hypercall_dispatch);
}
