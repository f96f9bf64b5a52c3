/*
 * Debug registers in hardware, and debugging a guest from outside (KVM_SET_GUEST_DEBUG).
 * MOV DR always exits, so DR0-3 and DR6 are kept per vCPU; they are loaded into the CPU around
 * a run only while the DR7 in force enables a breakpoint: the guest's own, or the debugger's
 * (HV_DBG_HW_BP), which then hides the guest's DR7 in guest_dr7. Single-stepping uses the
 * monitor trap flag where the CPU has it; elsewhere RFLAGS.TF, set around each entry and taken
 * away at each exit, as KVM does (a guest's PUSHF could see it).
 */
#include "../platform/x86.h"
#include "../lib/errno.h"
#include "insn.h"
#include "vmx.h"
#include "vmx_vm.h"

#define DR7_ENABLES 0xffULL
#define DR6_BS	    (1ULL << 14)
#define DR6_FIXED   0xffff0ff0ULL
#define DR6_BD	    (1ULL << 13)
#define VEC_BP	    3

static bool use_mtf(void)
{
	return vmx_caps.proc.may1 & PROC_MTF;
}

/* Before each entry: the trap flag of a single step (entry requires a pending BS under STI). */
void debug_prepare_entry(struct vcpu *v)
{
	uint64_t rflags;

	if (!(v->dbg_ctl & HV_DBG_SINGLESTEP) || use_mtf())
		return;
	rflags = vmread(VMCS_GUEST_RFLAGS);
	if (rflags & RFLAGS_TF)
		return; /* the guest's own */
	vmwrite(VMCS_GUEST_RFLAGS, rflags | RFLAGS_TF);
	v->dbg_tf = true;
	if (vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_SHADOW)
		vmwrite(VMCS_GUEST_PENDING_DBG, vmread(VMCS_GUEST_PENDING_DBG) | DR6_BS);
}

/* After each exit: the trap flag the hypervisor set goes away before anyone reads RFLAGS. */
void debug_after_exit(struct vcpu *v)
{
	if (!v->dbg_tf)
		return;
	vmwrite(VMCS_GUEST_RFLAGS, vmread(VMCS_GUEST_RFLAGS) & ~RFLAGS_TF);
	v->dbg_tf = false;
}

/* DR0-3 and DR6, in that order: the registers a run switches. */
static void read_drs(uint64_t dr[5])
{
	__asm__ volatile("mov %%db0, %0; mov %%db1, %1; mov %%db2, %2; mov %%db3, %3; mov %%db6, %4"
			 : "=r"(dr[0]), "=r"(dr[1]), "=r"(dr[2]), "=r"(dr[3]), "=r"(dr[4]));
}

static void write_drs(const uint64_t dr[5])
{
	__asm__ volatile("mov %0, %%db0; mov %1, %%db1; mov %2, %%db2; mov %3, %%db3; mov %4, %%db6"
			 :
			 : "r"(dr[0]), "r"(dr[1]), "r"(dr[2]), "r"(dr[3]), "r"(dr[4]));
}

/*
 * Before a run, and when the guest changes a debug register while it runs (VMCS loaded): the
 * breakpoints in force go into the CPU, whoever had it saved first.
 */
void debug_enter(struct vcpu *v)
{
	const uint64_t *dr = v->dbg_ctl & HV_DBG_HW_BP ? v->dbg_dr : v->dr;
	const uint64_t in[5] = {dr[0], dr[1], dr[2], dr[3], v->dr6};

	if (!v->host_dr.loaded && !(vmread(VMCS_GUEST_DR7) & DR7_ENABLES))
		return;
	if (!v->host_dr.loaded)
		read_drs(v->host_dr.dr);
	write_drs(in);
	v->host_dr.loaded = true;
}

void debug_leave(struct vcpu *v)
{
	if (!v->host_dr.loaded)
		return;
	if (!(v->dbg_ctl & HV_DBG_HW_BP)) /* a #DB the guest took itself updated DR6 */
		__asm__ volatile("mov %%db6, %0" : "=r"(v->dr6));
	write_drs(v->host_dr.dr);
	v->host_dr.loaded = false;
}

/* KVM_SET_GUEST_DEBUG. dr: DR0-3, then (index 7) the debugger's DR7. */
int vcpu_set_guest_debug(struct vcpu *v, uint32_t ctl, const uint64_t dr[8])
{
	bool was_hw = v->dbg_ctl & HV_DBG_HW_BP;
	uint32_t proc;

	if ((ctl & ~HV_DBG_ALL) || (dr[7] >> 32))
		return -EINVAL;
	if ((ctl & (HV_DBG_INJECT_DB | HV_DBG_INJECT_BP)) && v->exc.valid)
		return -EBUSY;
	if (ctl & (HV_DBG_INJECT_DB | HV_DBG_INJECT_BP))
		vcpu_queue_exception(v, ctl & HV_DBG_INJECT_DB ? VEC_DB : VEC_BP, false, 0);
	ctl = ctl & HV_DBG_ENABLE ? ctl & ~(HV_DBG_INJECT_DB | HV_DBG_INJECT_BP) : 0;
	vcpu_load(v);
	if (!was_hw && (ctl & HV_DBG_HW_BP))
		v->guest_dr7 = vmread(VMCS_GUEST_DR7);
	if (was_hw && !(ctl & HV_DBG_HW_BP))
		vmwrite(VMCS_GUEST_DR7, v->guest_dr7);
	__builtin_memcpy(v->dbg_dr, dr, sizeof(v->dbg_dr));
	if (ctl & HV_DBG_HW_BP)
		vmwrite(VMCS_GUEST_DR7, dr[7]);
	v->dbg_ctl = ctl;
	vmwrite(VMCS_EXCEPTION_BITMAP, v->exc_intercept | debug_exceptions(v));
	proc = (uint32_t)vmread(VMCS_PROC_CTLS) & ~PROC_MTF;
	vmwrite(VMCS_PROC_CTLS, proc | ((ctl & HV_DBG_SINGLESTEP) && use_mtf() ? PROC_MTF : 0));
	vcpu_put(v);
	return 0;
}

/* The exceptions the debugger takes: #BP for software breakpoints, #DB for the rest. */
uint32_t debug_exceptions(struct vcpu *v)
{
	return ((v->dbg_ctl & HV_DBG_SW_BP) ? 1u << VEC_BP : 0) |
	       ((v->dbg_ctl & (HV_DBG_HW_BP | HV_DBG_SINGLESTEP)) ? 1u << VEC_DB : 0);
}

static int debug_exit(struct vm_exit *x, unsigned exception, uint64_t dr6)
{
	x->dbg.exception = exception;
	x->dbg.dr6 = dr6 | DR6_FIXED;
	x->dbg.dr7 = vmread(VMCS_GUEST_DR7);
	x->dbg.pc = vmread(VMCS_SEG_BASE(1)) + vmread(VMCS_GUEST_RIP); /* linear, as KVM's */
	return exit_to_caller(x, VMEXIT_DEBUG);
}

/* An intercepted #DB or #BP: the debugger's (true, *x filled) or the guest's own. */
bool debug_exception(struct vcpu *v, unsigned vector, struct vm_exit *x)
{
	if (!(debug_exceptions(v) >> vector & 1))
		return false;
	debug_exit(x, vector, vector == VEC_DB ? vmread(VMCS_EXIT_QUALIFICATION) & 0x600f : 0);
	return true;
}

/*
 * A #DB of the guest's own in a VM of dom0's KVM (intercepted there, as KVM does): DR6 takes the
 * exit's B0-B3, BD, BS and RTM (active low) as the CPU would have written them, in hardware too
 * while the guest's registers are loaded; an ICEBP is stepped over; then the #DB goes in.
 */
int debug_guest_db(struct vcpu *v, uint64_t qual, uint32_t info)
{
	v->dr6 = (((v->dr6 & ~0xfULL) | DR6_FIXED | (qual & 0x1e80f)) ^ (qual & 0x10800)) &
		 ~(1ULL << 12);
	if (v->host_dr.loaded)
		__asm__ volatile("mov %0, %%db6" : : "r"(v->dr6));
	if ((info & INTR_TYPE_MASK) == INTR_TYPE_PRIV_SW_EXC)
		vcpu_skip_insn(v);
	else if ((vmread(VMCS_GUEST_RFLAGS) & RFLAGS_TF) && /* the CPU does not set it */
		 (vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_SHADOW))
		vmwrite(VMCS_GUEST_PENDING_DBG, vmread(VMCS_GUEST_PENDING_DBG) | DR6_BS);
	vcpu_queue_exception(v, VEC_DB, false, 0);
	return EXIT_RESUME;
}

/*
 * MOV DR while DR7.GD is set: the exit took precedence over the #DB the instruction raises.
 * The debugger's (KVM_GUESTDBG_USE_HW_BP) goes to it, as in KVM; otherwise the guest takes it
 * with DR6.BD set and DR7.GD clear, as the CPU delivers it.
 */
int debug_general_detect(struct vcpu *v, struct vm_exit *x)
{
	if (v->dbg_ctl & HV_DBG_HW_BP)
		return debug_exit(x, VEC_DB, DR6_BD);
	v->dr6 |= DR6_BD;
	vmwrite(VMCS_GUEST_DR7, vmread(VMCS_GUEST_DR7) & ~DR7_GD);
	vcpu_queue_exception(v, VEC_DB, false, 0);
	return EXIT_RESUME;
}

/* Monitor trap flag: one instruction done while single-stepping. */
int handle_mtf(struct vcpu *v, struct vm_exit *x)
{
	if (!(v->dbg_ctl & HV_DBG_SINGLESTEP))
		return EXIT_RESUME;
	return debug_exit(x, VEC_DB, DR6_BS);
}
