/* Event injection at VM entry: exceptions, then NMIs, then external interrupts, as hardware orders
 * them. */
#include "../platform/x86.h"
#include "insn.h"
#include "vmx_vm.h"

#define VEC_GP 13

static bool exc_has_error(uint8_t v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}

int vcpu_inject_gp(struct vcpu *v)
{
	vcpu_queue_exception(v, VEC_GP, true, 0);
	return EXIT_RESUME;
}

int vcpu_inject_ud(struct vcpu *v)
{
	vcpu_queue_exception(v, VEC_UD, false, 0);
	return EXIT_RESUME;
}

/* Re-queues an event whose delivery the VM exit interrupted, so it is not lost. */
void events_save_idt_vectoring(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
	uint32_t type = info & INTR_TYPE_MASK;

	if (!(info & INTR_INFO_VALID))
		return;
	if (type == INTR_TYPE_EXT_INTR && v->irq_pending < 0)
		v->irq_pending = info & 0xff;
	else if (type == INTR_TYPE_NMI)
		v->nmi_pending = true;
	else
		v->exc = (struct pending_exc){
			.valid = true,
			.info = info & ~(1u << 12), /* bit 12 is undefined on entry */
			.error = (uint32_t)vmread(VMCS_IDT_VECTORING_ERROR),
			.insn_len = (uint32_t)vmread(VMCS_EXIT_INSN_LEN),
		};
}

/* The guest takes an external interrupt now: IF set, no STI or MOV SS blocking (VMCS loaded). */
bool guest_irq_open(void)
{
	return (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
	       !(vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_SHADOW);
}

static bool nmi_blocked(void)
{
	return vmread(VMCS_GUEST_INTERRUPTIBILITY) &
	       (INTERRUPTIBILITY_SHADOW | INTERRUPTIBILITY_NMI);
}

/* The window exits this entry wants, written only when they change. */
static void set_windows(struct vcpu *v, uint32_t want)
{
	uint32_t keep = (uint32_t) ~(PROC_NMI_WINDOW | PROC_INTR_WINDOW);

	if (want != v->windows)
		vmwrite(VMCS_PROC_CTLS, ((uint32_t)vmread(VMCS_PROC_CTLS) & keep) | want);
	v->windows = want;
}

static void inject(uint32_t info, uint32_t error, uint32_t len)
{
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
	if (info & INTR_INFO_ERROR_CODE) /* bits 31:16 would fail the entry: dropped, as KVM */
		vmwrite(VMCS_ENTRY_EXC_ERROR, (uint16_t)error);
	vmwrite(VMCS_ENTRY_INSN_LEN, len);
	if ((vmread(VMCS_GUEST_ACTIVITY) & 3) == ACTIVITY_HLT)
		vmwrite(VMCS_GUEST_ACTIVITY, ACTIVITY_ACTIVE);
}

void events_inject(struct vcpu *v)
{
	bool nmi_wait = false,
	     irq_wait = (v->lapic ? v->dm_window : v->want_irq_window) || v->irq_window_internal;

	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	if (v->exc.valid) {
		uint8_t vec = v->exc.info & 0xff;
		uint32_t info = v->exc.info;
		/* no error code where the vector has none, nor in real mode (as KVM delivers) */
		if ((info & INTR_TYPE_MASK) == INTR_TYPE_HW_EXCEPTION &&
		    (!exc_has_error(vec) || !(guest_cr0() & 1)))
			info &= ~INTR_INFO_ERROR_CODE;
		/* a fault pushes RF set, as the CPU's do (all but #DB, NMI, #BP, #OF, #DF, #MC) */
		if (v->exc.fresh && (info & INTR_TYPE_MASK) == INTR_TYPE_HW_EXCEPTION && vec < 32 &&
		    !(0x4011eu >> vec & 1))
			vmwrite(VMCS_GUEST_RFLAGS, vmread(VMCS_GUEST_RFLAGS) | RFLAGS_RF);
		inject(info, v->exc.error, v->exc.insn_len);
		v->exc.valid = false;
		irq_wait |= v->irq_pending >= 0;
		nmi_wait = v->nmi_pending;
	} else if (v->nmi_pending) { /* the NMI goes in now, or waits for its window */
		nmi_wait = nmi_blocked();
		if (!nmi_wait)
			inject(INTR_INFO_VALID | INTR_TYPE_NMI | 2, 0, 0);
		v->nmi_pending = nmi_wait;
		irq_wait |= v->irq_pending >= 0;
	} else if (v->dbg_ctl & HV_DBG_BLOCKIRQ) {
		irq_wait = false; /* KVM_GUESTDBG_BLOCKIRQ: interrupts wait until debugging ends */
	} else if (v->irq_pending >= 0 && guest_irq_open()) {
		inject(INTR_INFO_VALID | INTR_TYPE_EXT_INTR | (uint32_t)v->irq_pending, 0, 0);
		v->irq_pending = -1;
	} else if (v->irq_pending >= 0) {
		irq_wait = true;
	}
	set_windows(v, (nmi_wait ? PROC_NMI_WINDOW : 0) | (irq_wait ? PROC_INTR_WINDOW : 0));
}
