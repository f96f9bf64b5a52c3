/*
 * Guest MSR accesses for the VM's user space (KVM_CAP_X86_USER_SPACE_MSR): those its filter
 * denies (KVM_X86_SET_MSR_FILTER), and those the hypervisor refuses, for the reasons user space
 * asked for. Others of them get #GP, as without the capability. The answer completes the access
 * on the next run.
 */
#include "../../compat/kvmabi/hvabi.h"
#include "../lib/errno.h"
#include "../platform/mm.h"
#include "msr_filter.h"
#include "vmx_vm.h"

int vm_msr_exits(struct vm *vm, uint64_t reasons)
{
	if (reasons & ~(uint64_t)(HV_MSR_EXIT_INVAL | HV_MSR_EXIT_UNKNOWN | HV_MSR_EXIT_FILTER))
		return -EINVAL;
	vm->msr_exits = (uint8_t)reasons;
	return 0;
}

int vm_quirks(struct vm *vm, uint64_t disabled)
{
	if (disabled & ~(uint64_t)HV_QUIRKS)
		return -EINVAL;
	vm->quirks_off = (uint8_t)disabled;
	return 0;
}

/* The whole filter from dom0's `in`: its header checked in a copy, its bitmaps any bits. */
int vm_msr_filter(struct vm *vm, const struct hv_msr_filter *in)
{
	struct hv_msr_filter_head h = in->h;
	struct hv_msr_filter *f = NULL;

	if (msr_filter_check(&h))
		return -EINVAL;
	if (!vm->msr_filter && !(f = mem_alloc(sizeof(*f))))
		return -ENOMEM;
	spin_lock(&vm->msr_lock);
	if (!vm->msr_filter) /* the first filter: its pages stay until the VM goes */
		__atomic_store_n(&vm->msr_filter, f, __ATOMIC_RELEASE), f = NULL;
	vm->msr_filter->h = h;
	__builtin_memcpy(vm->msr_filter->bitmap, in->bitmap, h.nranges * sizeof(in->bitmap[0]));
	spin_unlock(&vm->msr_lock);
	mem_free(f, sizeof(*f)); /* not NULL: another call made them meanwhile */
	return 0;
}

void vm_msr_filter_free(struct vm *vm)
{
	mem_free(vm->msr_filter, sizeof(*vm->msr_filter));
	vm->msr_filter = NULL;
}

bool msr_allowed(struct vm *vm, uint32_t msr, bool write)
{
	bool ok = true;

	if (!__atomic_load_n(&vm->msr_filter, __ATOMIC_ACQUIRE))
		return true;
	spin_lock(&vm->msr_lock);
	ok = msr_filter_allows(vm->msr_filter, msr, write);
	spin_unlock(&vm->msr_lock);
	return ok;
}

/* A guest RDMSR/WRMSR (RCX's MSR) refused for `reason`: to user space if it takes those. */
int msr_refused(struct vcpu *v, struct vm_exit *x, bool write, uint64_t val, unsigned reason)
{
	if (!(v->vm->msr_exits & reason))
		return vcpu_inject_gp(v);
	x->msr.index = (uint32_t)v->gprs.r[GPR_RCX];
	x->msr.reason = reason;
	x->msr.write = write;
	x->msr.data = write ? val : 0;
	v->msr_pending = write ? 2 : 1;
	return exit_to_caller(x, VMEXIT_MSR);
}

/* User space's answer: #GP for an error, else a read's value; RIP past the instruction. */
void msr_complete(struct vcpu *v, const struct vm_exit *x)
{
	if (!x->msr_error && v->msr_pending == 1) {
		v->gprs.r[GPR_RAX] = (uint32_t)x->answer;
		v->gprs.r[GPR_RDX] = x->answer >> 32;
	}
	if (x->msr_error)
		vcpu_inject_gp(v);
	else
		vcpu_skip_insn(v);
	v->msr_pending = 0;
}
