/* EPT violations (memory the VM does not have, or not with that access) and misconfigurations. */
#include "../lib/log.h"
#include "insn.h"
#include "vmx_vm.h"

#define QUAL_READ	 (1u << 0)
#define QUAL_WRITE	 (1u << 1)
#define QUAL_FETCH	 (1u << 2)
#define QUAL_GLA_VALID	 (1u << 7)
#define QUAL_NMI_UNBLOCK (1u << 12)

/*
 * Emulated here when an MMIO hook owns the address; otherwise handed to the caller as an MMIO
 * access, and the faulting instruction re-executes on the next run.
 */
int handle_ept_violation(struct vcpu *v, struct vm_exit *x)
{
	const struct io_hook *h;

	x->mem.gpa = vmread(VMCS_GUEST_PHYS_ADDR);
	x->mem.read = x->qual & QUAL_READ;
	x->mem.write = x->qual & QUAL_WRITE;
	x->mem.fetch = x->qual & QUAL_FETCH;
	x->mem.gla_valid = x->qual & QUAL_GLA_VALID;
	x->mem.gla = x->mem.gla_valid ? vmread(VMCS_GUEST_LINEAR_ADDR) : 0;
	/* an IRET that unblocked NMIs faulted: blocking must be restored before re-execution */
	if ((x->qual & QUAL_NMI_UNBLOCK) && !v->exc.valid)
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
			vmread(VMCS_GUEST_INTERRUPTIBILITY) | INTERRUPTIBILITY_NMI);
	if (x->mem.write && dirty_write_fault(v->vm, x->mem.gpa | (v->smm ? HV_GPA_SMM : 0)))
		return EXIT_RESUME; /* logged, and writable again: the write re-executes */
	if (vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID) {
		/* delivering an event touched memory that is not RAM (an IDT or stack in MMIO):
		 * nothing to emulate, as KVM reports it (KVM_INTERNAL_ERROR_DELIVERY_EV) */
		x->kind = VMEXIT_INTERNAL; /* (the caller sees the GPA: its RAM may be unmapped yet)
					    */
		return EXIT_TO_CALLER;
	}
	x->kind = VMEXIT_MMIO;
	if (x->mem.gla_valid && x->mem.gpa >> vcpu_maxphyaddr(v))
		return mmio_reserved_gpa(v, x);
	if (x->mem.fetch)
		return EXIT_TO_CALLER;
	h = find_hook(v->vm->mmio, &v->vm->nmmio, x->mem.gpa, 1);
	return h ? emulate_mmio(v, h, x->mem.gpa, x) : mmio_to_caller(v, x);
}

/* Our tables are wrong: a hypervisor bug, reported and contained to this VM. */
int handle_ept_misconfig(struct vcpu *v, struct vm_exit *x)
{
	x->mem.gpa = vmread(VMCS_GUEST_PHYS_ADDR);
	pr_err("vmx: vCPU %u: EPT misconfiguration at GPA %#lx", v->id, x->mem.gpa);
	x->fail.code = EXIT_REASON_EPT_MISCONFIG;
	return exit_to_caller(x, VMEXIT_INTERNAL);
}
