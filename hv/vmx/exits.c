/* VM-exit dispatch: one table indexed by exit reason; unknown reasons end the run for the caller.
 */
#include "../platform/x86.h"
#include "../lib/errno.h"
#include "../lib/log.h"
#include "../platform/percpu.h"
#include "insn.h"
#include "vmx_vm.h"

#define KVM_HC_VAPIC_POLL_IRQ	   1
#define KVM_HC_SCHED_YIELD	   11
#define KVM_FEATURE_PV_SCHED_YIELD 13
#define KVM_ENOSYS		   1000
#define KVM_EPERM		   1

typedef int (*exit_handler)(struct vcpu *v, struct vm_exit *x);

void vcpu_advance_rip(uint64_t len)
{
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + len);
	/* the instruction completed: STI/MOV SS blocking ends with it */
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
		vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~(uint64_t)INTERRUPTIBILITY_SHADOW);
}

int vcpu_skip_insn(struct vcpu *v __unused)
{
	vcpu_advance_rip(vmread(VMCS_EXIT_INSN_LEN));
	return EXIT_RESUME;
}

/* The code size the vCPU runs at (VMCS loaded). */
enum x86_mode vcpu_mode(void)
{
	uint32_t ar = (uint32_t)vmread(VMCS_SEG_AR(1));

	if (!(vmread(VMCS_GUEST_CR0) & CR0_PE))
		return X86_MODE16;
	if ((vmread(VMCS_GUEST_EFER) & EFER_LMA) && (ar & (1u << 13))) /* CS.L */
		return X86_MODE64;
	return (ar & (1u << 14)) ? X86_MODE32 : X86_MODE16; /* CS.D */
}

/* CPL is SS.DPL (real mode: 0). */
unsigned vcpu_cpl(void)
{
	return (vmread(VMCS_SEG_AR(2)) >> 5) & 3;
}

int exit_to_caller(struct vm_exit *x, enum vm_exit_kind kind)
{
	x->kind = kind;
	return EXIT_TO_CALLER;
}

/* With an irqchip the vCPU halts until an interrupt: in dom0 when nothing is pending. */
static int handle_hlt(struct vcpu *v, struct vm_exit *x)
{
	vcpu_skip_insn(v);
	if (v->lapic) {
		v->halted = true;
		if (!irqchip_halted(v, &x->wake_tsc))
			return EXIT_RESUME;
	}
	return exit_to_caller(x, VMEXIT_HLT);
}

static int handle_triple_fault(struct vcpu *v, struct vm_exit *x)
{
	pr_info("vmx: vCPU %u triple fault at RIP %#llx", v->id,
		(unsigned long long)vmread(VMCS_GUEST_RIP));
	if (!v->failure_dumped) /* the state once per vCPU, as for failed entries */
		vcpu_report(v);
	v->failure_dumped = true;
	return exit_to_caller(x, VMEXIT_SHUTDOWN);
}

/* Acknowledge-on-exit is off: the interrupt stays pending for the host to take. */
static int handle_external_intr(struct vcpu *v __unused, struct vm_exit *x)
{
	return exit_to_caller(x, VMEXIT_INTR);
}

static int handle_intr_window(struct vcpu *v, struct vm_exit *x)
{
	if (!(v->lapic ? v->dm_window : v->want_irq_window) || v->irq_window_internal)
		return EXIT_RESUME; /* a queued interrupt is injected on the way back in */
	v->want_irq_window = false;
	return exit_to_caller(x, VMEXIT_INTR_WINDOW);
}

static int handle_nmi_window(struct vcpu *v __unused, struct vm_exit *x __unused)
{
	return EXIT_RESUME; /* events_inject delivers the pending NMI */
}

/*
 * #UD in a VM of dom0's KVM: AMD's VMMCALL is rewritten into VMCALL, which then runs, as
 * KVM_X86_QUIRK_FIX_HYPERCALL_INSN does; anything else is the guest's #UD.
 */
static int guest_ud(struct vcpu *v, struct vm_exit *x)
{
	static const uint8_t vmmcall[3] = {0x0f, 0x01, 0xd9}, vmcall[3] = {0x0f, 0x01, 0xc1};
	uint64_t lin = vmread(VMCS_SEG_BASE(1)) + vmread(VMCS_GUEST_RIP), gpa[3];
	uint8_t insn[X86_MAX_INSN];
	size_t n = vcpu_fetch(v, insn);
	int rc = 0;

	if (v->smm && n >= 2 && insn[0] == 0x0f && insn[1] == 0xaa) {
		x->qual = 1; /* RSM: dom0 restores the state SMM saved */
		return exit_to_caller(x, VMEXIT_SMM);
	}
	if (!vm_quirk(v->vm, QUIRK_FIX_HYPERCALL_INSN) || n < 3 ||
	    __builtin_memcmp(insn, vmmcall, 3))
		return vcpu_inject_ud(v);
	for (unsigned i = 0; i < 3 && !rc; i++) /* written as the guest could (#PF if not) */
		rc = gva_to_gpa_or_pf(v, lin + i, true, &gpa[i]);
	for (unsigned i = 0; i < 3 && !rc; i++)
		rc = vcpu_write(v, gpa[i], &vmcall[i], 1);
	if (rc < 0)
		vcpu_inject_ud(v);
	return EXIT_RESUME;
}

static int handle_exception_nmi(struct vcpu *v, struct vm_exit *x)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);

	if ((info & INTR_TYPE_MASK) == INTR_TYPE_NMI || (info & 0xff) == VEC_MC) {
		/* the machine's, not the guest's: dom0 takes it as soon as this run ends */
		if ((info & 0xff) == VEC_MC)
			this_cpu()->mce_for_dom0 = true;
		else
			this_cpu()->nmi_for_dom0 = true;
		return exit_to_caller(x, VMEXIT_INTR);
	}
	if (debug_exception(v, info & 0xff, x))
		return EXIT_TO_CALLER;
	if ((info & 0xff) == VEC_UD && v->vm->kvm_rules)
		return guest_ud(v, x);
	if ((info & 0xff) == VEC_DB && v->vm->kvm_rules)
		return debug_guest_db(v, x->qual, info);
	x->exc.vector = info & 0xff;
	x->exc.has_error = info & INTR_INFO_ERROR_CODE;
	x->exc.error = x->exc.has_error ? (uint32_t)vmread(VMCS_EXIT_INTR_ERROR) : 0;
	return exit_to_caller(x, VMEXIT_EXCEPTION);
}

/* A physical INIT reached this CPU in non-root operation: it was meant for the guest. */
static int handle_init(struct vcpu *v, struct vm_exit *x)
{
	vcpu_init_signal(v);
	return exit_to_caller(x, VMEXIT_WAIT_SIPI);
}

static int handle_sipi(struct vcpu *v, struct vm_exit *x)
{
	vcpu_sipi(v, (uint8_t)x->qual);
	return EXIT_RESUME;
}

/* The run budget is used up; or, with an irqchip, a timer is due or it is time to look. */
static int handle_preempt(struct vcpu *v, struct vm_exit *x)
{
	v->irq_quiet = false; /* the next entry looks */
	if (v->lapic && !v->timeout && vcpu_slice_left(v))
		return EXIT_RESUME;
	return exit_to_caller(x, VMEXIT_TIMEOUT);
}

/* VMX instructions and GETSEC fault in a guest. */
static int handle_ud(struct vcpu *v, struct vm_exit *x __unused)
{
	return vcpu_inject_ud(v);
}

/* MONITOR and MWAIT are NOPs, as KVM's, unless the VMM disabled that quirk and CPUID lacks them. */
static int handle_mwait(struct vcpu *v, struct vm_exit *x)
{
	if (!vm_quirk(v->vm, QUIRK_MWAIT_NEVER_UD) && !vcpu_has_mwait(v))
		return handle_ud(v, x);
	return vcpu_skip_insn(v);
}

static int handle_rdpmc(struct vcpu *v, struct vm_exit *x __unused)
{
	return vcpu_inject_gp(v); /* no performance counters are exposed */
}

/*
 * KVM's hypercall ABI, for the guests of dom0's KVM: number in RAX (EAX outside 64-bit mode),
 * result there. The no-op VAPIC poll, and SCHED_YIELD: true, the run ends so that dom0's
 * scheduler can run what the guest waits for.
 */
static bool kvm_hypercall(struct vcpu *v)
{
	bool op64 = vcpu_mode() == X86_MODE64;
	uint64_t nr = op64 ? v->gprs.r[GPR_RAX] : (uint32_t)v->gprs.r[GPR_RAX];
	bool yield = nr == KVM_HC_SCHED_YIELD && vcpu_pv_has(v, KVM_FEATURE_PV_SCHED_YIELD);
	int64_t ret = vcpu_cpl()			     ? -KVM_EPERM
		      : nr == KVM_HC_VAPIC_POLL_IRQ || yield ? 0
							     : -KVM_ENOSYS;

	v->gprs.r[GPR_RAX] = op64 ? (uint64_t)ret : (uint32_t)ret;
	return yield && !ret;
}

static int64_t (*hypercall_handler)(const struct vmcall *call);

void vm_set_hypercall_handler(int64_t (*handler)(const struct vmcall *call))
{
	hypercall_handler = handler;
}

/* The hypervisor's own hypercall ABI (hv/hypercall/), for dom0 and the hypervisor's guests. */
static void hv_hypercall(struct vcpu *v)
{
	const struct vmcall call = {
		.from_dom0 = v->vm->kind == VM_DOM0,
		.cpl = vcpu_cpl(),
		.nr = v->gprs.r[GPR_RAX],
		.arg = {v->gprs.r[GPR_RDI], v->gprs.r[GPR_RSI], v->gprs.r[GPR_RDX],
			v->gprs.r[GPR_R10], v->gprs.r[GPR_R8], v->gprs.r[GPR_R9]},
	};

	v->gprs.r[GPR_RAX] = (uint64_t)(hypercall_handler ? hypercall_handler(&call) : -ENOSYS);
	vcpu_load(v); /* dom0's control hypercalls may have loaded other vCPUs' VMCSs */
}

static int handle_vmcall(struct vcpu *v, struct vm_exit *x)
{
	if (v->hv_calls) /* Hyper-V's ABI instead of KVM's: dom0's kvm_hv answers */
		return exit_to_caller(x, VMEXIT_HYPERCALL);
	bool yield = v->vm->kvm_rules && kvm_hypercall(v);

	if (!v->vm->kvm_rules)
		hv_hypercall(v);
	vcpu_skip_insn(v);
	return yield ? exit_to_caller(x, VMEXIT_TIMEOUT) : EXIT_RESUME;
}

static int handle_unknown(struct vcpu *v, struct vm_exit *x)
{
	pr_err("vmx: vCPU %u: unhandled exit reason %u (qualification %#llx) at RIP %#llx", v->id,
	       x->reason, (unsigned long long)x->qual, (unsigned long long)vmread(VMCS_GUEST_RIP));
	x->fail.code = x->reason;
	return exit_to_caller(x, VMEXIT_INTERNAL);
}

static int handle_entry_failure(struct vcpu *v, struct vm_exit *x)
{
	pr_err("vmx: VM entry of vCPU %u failed: reason %u, qualification %llu", v->id,
	       x->reason & 0xffff, (unsigned long long)x->qual);
	if (!v->failure_dumped) /* the state once per vCPU: a VMM retrying cannot flood the log */
		vmcs_dump_guest();
	v->failure_dumped = true;
	x->fail.code = x->reason & 0xffff;
	return exit_to_caller(x, VMEXIT_FAIL_ENTRY);
}

static const exit_handler handlers[EXIT_REASON_MAX] = {
	[EXIT_REASON_EXCEPTION_NMI] = handle_exception_nmi,
	[EXIT_REASON_MTF] = handle_mtf,
	[EXIT_REASON_EXTERNAL_INTR] = handle_external_intr,
	[EXIT_REASON_TRIPLE_FAULT] = handle_triple_fault,
	[EXIT_REASON_INIT] = handle_init,
	[EXIT_REASON_SIPI] = handle_sipi,
	[EXIT_REASON_INTR_WINDOW] = handle_intr_window,
	[EXIT_REASON_NMI_WINDOW] = handle_nmi_window,
	[EXIT_REASON_TASK_SWITCH] = handle_task_switch,
	[EXIT_REASON_CPUID] = handle_cpuid,
	[EXIT_REASON_GETSEC] = handle_ud,
	[EXIT_REASON_HLT] = handle_hlt,
	[EXIT_REASON_RDPMC] = handle_rdpmc,
	[EXIT_REASON_VMCALL] = handle_vmcall,
	[EXIT_REASON_VMCLEAR... EXIT_REASON_VMXON] = handle_ud, /* the VMX instructions, 19-27 */
	[EXIT_REASON_INVEPT] = handle_ud,
	[EXIT_REASON_INVVPID] = handle_ud,
	[EXIT_REASON_VMFUNC] = handle_ud,
	[EXIT_REASON_MWAIT] = handle_mwait,
	[EXIT_REASON_MONITOR] = handle_mwait,
	[EXIT_REASON_CR_ACCESS] = handle_cr,
	[EXIT_REASON_DR_ACCESS] = handle_dr,
	[EXIT_REASON_IO] = handle_io,
	[EXIT_REASON_RDMSR] = handle_msr,
	[EXIT_REASON_WRMSR] = handle_msr,
	[EXIT_REASON_EPT_VIOLATION] = handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = handle_ept_misconfig,
	[EXIT_REASON_PREEMPT_TIMER] = handle_preempt,
	[EXIT_REASON_PAUSE] = handle_external_intr, /* dom0 runs another vCPU (reason 40) */
	[EXIT_REASON_XSETBV] = handle_xsetbv,
};

int vmx_handle_exit(struct vcpu *v, struct vm_exit *x)
{
	uint32_t raw = (uint32_t)vmread(VMCS_EXIT_REASON);
	uint32_t basic = raw & 0xffff;

	x->reason = raw;
	x->qual = vmread(VMCS_EXIT_QUALIFICATION);
	v->exits[MIN(basic, (uint32_t)EXIT_REASON_MAX)]++;
	v->recent[v->nrecent++ % ARRAY_SIZE(v->recent)] =
		(struct recent_exit){raw, vmread(VMCS_GUEST_RIP), x->qual};
	if (raw & EXIT_REASON_FAILED_ENTRY)
		return handle_entry_failure(v, x);
	if (basic < EXIT_REASON_MAX && handlers[basic])
		return handlers[basic](v, x);
	return handle_unknown(v, x);
}
