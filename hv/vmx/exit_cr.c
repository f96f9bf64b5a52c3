/* Control and debug register exits: the bits the hypervisor owns, checked as the CPU would. */
#include "../platform/x86.h"
#include "insn.h"
#include "vmx_vm.h"

uint64_t guest_gpr(struct vcpu *v, unsigned reg)
{
	return reg == GPR_RSP ? vmread(VMCS_GUEST_RSP) : v->gprs.r[reg];
}

void set_guest_gpr(struct vcpu *v, unsigned reg, uint64_t val)
{
	if (reg == GPR_RSP)
		vmwrite(VMCS_GUEST_RSP, val);
	else
		v->gprs.r[reg] = val;
}

/* After a CR0 or CR4 write that leaves PAE paging on, the CPU reloads the PDPTEs: #GP if bad */
static bool pdptes_reload(struct vcpu *v, uint64_t cr0, uint64_t cr4)
{
	return !(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || (vmread(VMCS_GUEST_EFER) & EFER_LME) ||
	       vcpu_load_pdptes(v, vmread(VMCS_GUEST_CR3));
}

/* MOV to CR0: #GP for what hardware refuses; long mode follows PG with EFER.LME. */
static bool set_cr0(struct vcpu *v, uint64_t val)
{
	uint64_t efer = vmread(VMCS_GUEST_EFER);
	bool pg_on = (val & CR0_PG) && !(guest_cr0() & CR0_PG);

	if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) ||
	    ((val & CR0_NW) && !(val & CR0_CD)))
		return false;
	if (pg_on && (efer & EFER_LME) && !(guest_cr4() & CR4_PAE))
		return false;
	if (!(val & CR0_PG) && (guest_cr4() & CR4_PCIDE)) /* SDM: PG may not clear with PCIDE */
		return false;
	if (pg_on && !pdptes_reload(v, val, guest_cr4()))
		return false;
	if ((efer & EFER_LME) && (val & CR0_PG) != (guest_cr0() & CR0_PG)) {
		efer = (val & CR0_PG) ? efer | EFER_LMA : efer & ~EFER_LMA;
		vmwrite(VMCS_GUEST_EFER, efer);
		vmcs_set_entry_ia32e(v, efer & EFER_LMA);
	}
	vmwrite(VMCS_CR0_SHADOW, val);
	vmwrite(VMCS_GUEST_CR0, vmcs_cr0_guest_fixed(val));
	return true;
}

/* MOV to CR4: VMX is not offered to guests; PAE stays on in long mode. */
static bool set_cr4(struct vcpu *v, uint64_t val)
{
	if ((val & CR4_VMXE) || (val & ~vcpu_cr4_allowed(v)) ||
	    ((vmread(VMCS_GUEST_EFER) & EFER_LMA) && !(val & CR4_PAE)))
		return false;
	if (((val ^ guest_cr4()) & (CR4_PAE | CR4_PGE | CR4_PSE | 1ULL << 20 /* SMEP */)) &&
	    !pdptes_reload(v, guest_cr0(), val))
		return false;
	vmwrite(VMCS_CR4_SHADOW, val);
	vmwrite(VMCS_GUEST_CR4, vmcs_cr4_guest_fixed(val));
	return true;
}

static bool mov_to_cr(struct vcpu *v, unsigned cr, uint64_t val)
{
	switch (cr) {
	case 0:
		return set_cr0(v, val);
	case 4:
		return set_cr4(v, val);
	case 8:
		if (val > 15)
			return false;
		vcpu_set_cr8(v, val);
		return true;
	default:
		return false;
	}
}

int handle_cr(struct vcpu *v, struct vm_exit *x)
{
	unsigned cr = x->qual & 15, type = (x->qual >> 4) & 3, reg = (x->qual >> 8) & 15;
	uint64_t cr0 = guest_cr0();
	bool ok = true;

	switch (type) {
	case 0: /* MOV to CR */
		ok = mov_to_cr(v, cr, guest_gpr(v, reg));
		break;
	case 1: /* MOV from CR: only CR8 exits */
		set_guest_gpr(v, reg, vcpu_cr8(v));
		break;
	case 2: /* CLTS */
		ok = set_cr0(v, cr0 & ~CR0_TS);
		break;
	default: /* LMSW: low four bits, and it cannot clear PE */
		ok = set_cr0(v, (cr0 & ~0xeULL) | ((x->qual >> 16) & 0xf) | (cr0 & CR0_PE));
		break;
	}
	return ok ? vcpu_skip_insn(v) : vcpu_inject_gp(v);
}

/* The guest's DR7: in the VMCS, unless the debugger's breakpoints are there (debug.c). */
uint64_t guest_dr7(struct vcpu *v)
{
	return v->dbg_ctl & HV_DBG_HW_BP ? v->guest_dr7 : vmread(VMCS_GUEST_DR7);
}

void set_guest_dr7(struct vcpu *v, uint64_t val)
{
	if (v->dbg_ctl & HV_DBG_HW_BP)
		v->guest_dr7 = val;
	else
		vmwrite(VMCS_GUEST_DR7, val);
}

/* MOV DR: DR0-3 and DR6 are kept per vCPU, DR7 in the VMCS; DR4/5 alias 6/7 unless CR4.DE. */
int handle_dr(struct vcpu *v, struct vm_exit *x)
{
	unsigned dr = x->qual & 7, reg = (x->qual >> 8) & 15;
	bool from = (x->qual >> 4) & 1;
	uint64_t val = from ? 0 : guest_gpr(v, reg);

	if (vmread(VMCS_GUEST_DR7) & DR7_GD)
		return debug_general_detect(v, x);
	if (dr == 4 || dr == 5) {
		if (guest_cr4() & CR4_DE)
			return vcpu_inject_ud(v);
		dr += 2;
	}
	if (!from && dr >= 6 && (val >> 32))
		return vcpu_inject_gp(v);
	if (from)
		set_guest_gpr(v, reg, dr < 4 ? v->dr[dr] : dr == 6 ? v->dr6 : guest_dr7(v));
	else if (dr < 4)
		v->dr[dr] = val;
	else if (dr == 6)
		v->dr6 = (val & 0x1e00f) | 0xffff0ff0;
	else
		set_guest_dr7(v, (val & 0xffff2fff) | 0x400);
	if (!from)
		debug_enter(v); /* a breakpoint set now works now */
	return vcpu_skip_insn(v);
}
