/* VMCS set-up: controls for a guest VM, host state of the executing CPU, guest reset state. */
#include "../lib/log.h"
#include "../platform/mm.h"
#include "../lib/panic.h"
#include "../platform/percpu.h"
#include "../platform/x86.h"
#include "insn.h"
#include "vmx.h"
#include "vmx_vm.h"

#define PAT_RESET 0x0007040600070406ULL

extern char vmx_exit[];

static void must_write(uint64_t field, uint64_t v)
{
	if (vmwrite(field, v))
		panic("vmx: VMWRITE of field %#lx failed (error %lu)", field,
		      vmread(VMCS_INSN_ERROR));
}

static uint32_t ctl(struct vmx_ctl c, uint32_t want, uint32_t optional, const char *name)
{
	int64_t v = vmx_ctl_value(c, want | (optional & c.may1));

	if (v < 0)
		panic("vmx: %s controls %#x not allowed (may be 1: %#x)", name, want, c.may1);
	return (uint32_t)v;
}

/*
 * The CR0 the hardware runs the guest with: unrestricted guest leaves PE and PG to the guest,
 * the other fixed bits hold, and caching is never really disabled (the shadow keeps CD/NW).
 */
uint64_t vmcs_cr0_guest_fixed(uint64_t cr0)
{
	uint64_t fixed0 = vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG);

	return ((cr0 & ~(CR0_CD | CR0_NW)) | fixed0) & vmx_caps.cr0_fixed1;
}

uint64_t vmcs_cr4_guest_fixed(uint64_t cr4)
{
	return (cr4 | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1;
}

/* CR0 and CR4 as the guest sees them: owned bits from the read shadow, the rest real. */
uint64_t guest_cr0(void)
{
	uint64_t mask = vmread(VMCS_CR0_MASK);

	return (vmread(VMCS_GUEST_CR0) & ~mask) | (vmread(VMCS_CR0_SHADOW) & mask);
}

uint64_t guest_cr4(void)
{
	uint64_t mask = vmread(VMCS_CR4_MASK);

	return (vmread(VMCS_GUEST_CR4) & ~mask) | (vmread(VMCS_CR4_SHADOW) & mask);
}

/* Host state that differs between CPUs; written whenever a VMCS is loaded on a new CPU. */
void vmcs_load_host_state(void)
{
	struct percpu *c = this_cpu();
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed gdtr, idtr;

	__asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	must_write(VMCS_HOST_CR0, read_cr0());
	must_write(VMCS_HOST_CR3, read_cr3());
	must_write(VMCS_HOST_CR4, read_cr4());
	must_write(VMCS_HOST_GS_BASE, (uint64_t)(uintptr_t)c);
	must_write(VMCS_HOST_TR_BASE, (uint64_t)(uintptr_t)&c->tables.tss);
	must_write(VMCS_HOST_GDTR_BASE, gdtr.base);
	must_write(VMCS_HOST_IDTR_BASE, idtr.base);
	must_write(VMCS_HOST_EFER, rdmsr(MSR_EFER));
	must_write(VMCS_HOST_PAT, rdmsr(MSR_PAT));
}

static void init_host_fixed(void)
{
	must_write(VMCS_HOST_CS_SEL, GDT_CODE);
	must_write(VMCS_HOST_SS_SEL, GDT_DATA);
	must_write(VMCS_HOST_DS_SEL, GDT_DATA);
	must_write(VMCS_HOST_ES_SEL, GDT_DATA);
	must_write(VMCS_HOST_TR_SEL, GDT_TSS);
	must_write(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit);
}

/*
 * Execution controls per kind of VM. A guest exits on interrupts, NMIs, HLT and every
 * instruction that touches shared hardware; dom0 owns interrupts, idles with HLT and keeps
 * its TPR and debug registers in the hardware. Physical NMIs exit both ways: the hypervisor
 * hands each to dom0 (with virtual-NMI blocking, so one that waits can wait for its window).
 */
static const struct {
	uint32_t pin, proc;
} profiles[] = {
	[VM_GUEST] = {PIN_EXT_INTR | PIN_NMI_EXIT | PIN_VIRTUAL_NMI,
		      PROC_HLT_EXIT | PROC_IO_BITMAP | PROC_MSR_BITMAP | PROC_SECONDARY |
			      PROC_CR8_LOAD | PROC_CR8_STORE | PROC_MOV_DR_EXIT | PROC_MWAIT_EXIT |
			      PROC_MONITOR_EXIT | PROC_RDPMC_EXIT | PROC_TSC_OFFSET},
	[VM_DOM0] = {PIN_NMI_EXIT | PIN_VIRTUAL_NMI,
		     PROC_IO_BITMAP | PROC_MSR_BITMAP | PROC_SECONDARY},
};

static void init_controls(struct vcpu *v)
{
	const struct vmx_caps *c = &vmx_caps;

	must_write(VMCS_PIN_CTLS, ctl(c->pin, profiles[v->vm->kind].pin, 0, "pin"));
	must_write(VMCS_PROC_CTLS, ctl(c->proc, profiles[v->vm->kind].proc, 0, "processor"));
	/* KVM's VMs get RDTSCP and INVPCID once their CPUID offers them (vcpu_set_cpuid) */
	must_write(VMCS_PROC2_CTLS,
		   ctl(c->proc2, PROC2_EPT | PROC2_VPID | PROC2_UNRESTRICTED,
		       (v->vm->kind == VM_GUEST ? PROC2_PLE : 0) |
			       (v->vm->kvm_rules ? 0 : PROC2_RDTSCP | PROC2_INVPCID),
		       "secondary"));
	/* a vCPU spinning on a lock held by a preempted one gives up its CPU (KVM's defaults) */
	must_write(VMCS_PLE_GAP, 128);
	must_write(VMCS_PLE_WINDOW, 4096);
	must_write(VMCS_EXIT_CTLS, ctl(c->exit, EXIT_HOST_64 | EXIT_SAVE_EFER | EXIT_LOAD_EFER,
				       EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_DEBUG, "exit"));
	must_write(VMCS_ENTRY_CTLS,
		   ctl(c->entry, ENTRY_LOAD_EFER, ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG, "entry"));
	must_write(VMCS_EXCEPTION_BITMAP, v->exc_intercept);
	must_write(VMCS_IO_BITMAP_A, v->vm->io_bitmap);
	must_write(VMCS_IO_BITMAP_B, v->vm->io_bitmap + PAGE_SIZE);
	must_write(VMCS_MSR_BITMAP, v->vm->msr_bitmap);
	must_write(VMCS_EPTP, v->vm->eptp);
	must_write(VMCS_VPID, v->vpid);
	must_write(VMCS_LINK_POINTER, ~0ULL);
	/* a guest's TSC counts from its VM's birth */
	must_write(VMCS_TSC_OFFSET, v->vm->tsc_offset);
	/* the hypervisor owns these bits; the guest sees its own values in the read shadows */
	must_write(VMCS_CR0_MASK, CR0_PE | CR0_PG | CR0_NE | CR0_CD | CR0_NW);
	must_write(VMCS_CR4_MASK, ~vcpu_cr4_allowed(v) | vmx_caps.cr4_fixed0);
}

void vmcs_set_entry_ia32e(struct vcpu *v __unused, bool on)
{
	uint64_t e = vmread(VMCS_ENTRY_CTLS);

	must_write(VMCS_ENTRY_CTLS, on ? e | ENTRY_IA32E : e & ~ENTRY_IA32E);
}

/* Architectural state after RESET (SDM vol. 3, 10.1.1), EIP at 0xfff0 of the F000 segment. */
static void init_guest_reset(void)
{
	for (unsigned s = 0; s < 8; s++) {
		bool code = s == 1, ldtr = s == 6, tr = s == 7;
		must_write(VMCS_SEG_SEL(s), code ? 0xf000 : 0);
		must_write(VMCS_SEG_BASE(s), code ? 0xffff0000 : 0);
		must_write(VMCS_SEG_LIMIT(s), 0xffff);
		must_write(VMCS_SEG_AR(s), code ? 0x9b : ldtr ? 0x82 : tr ? 0x8b : 0x93);
	}
	must_write(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	must_write(VMCS_GUEST_IDTR_LIMIT, 0xffff);
	must_write(VMCS_GUEST_CR0, vmcs_cr0_guest_fixed(CR0_CD | CR0_NW | (1ULL << 4)));
	must_write(VMCS_CR0_SHADOW, CR0_CD | CR0_NW | (1ULL << 4));
	must_write(VMCS_GUEST_CR4, vmcs_cr4_guest_fixed(0));
	must_write(VMCS_GUEST_DR7, 0x400);
	must_write(VMCS_GUEST_RIP, 0xfff0);
	must_write(VMCS_GUEST_RFLAGS, 0x2);
	must_write(VMCS_GUEST_PAT, PAT_RESET);
	must_write(VMCS_GUEST_ACTIVITY, ACTIVITY_ACTIVE);
}

/* The fields that start at 0 (unused controls, host and guest state). */
static const uint32_t zeroed[] = {VMCS_HOST_FS_BASE,	    VMCS_HOST_FS_SEL,
				  VMCS_HOST_GS_SEL,	    VMCS_HOST_SYSENTER_CS,
				  VMCS_HOST_SYSENTER_ESP,   VMCS_HOST_SYSENTER_EIP,
				  VMCS_PF_ERR_MASK,	    VMCS_PF_ERR_MATCH,
				  VMCS_CR3_TARGET_COUNT,    VMCS_EXIT_MSR_STORE_COUNT,
				  VMCS_EXIT_MSR_LOAD_COUNT, VMCS_ENTRY_MSR_LOAD_COUNT,
				  VMCS_ENTRY_INTR_INFO,	    VMCS_GUEST_GDTR_BASE,
				  VMCS_GUEST_IDTR_BASE,	    VMCS_GUEST_CR3,
				  VMCS_CR4_SHADOW,	    VMCS_GUEST_RSP,
				  VMCS_GUEST_EFER,	    VMCS_GUEST_DEBUGCTL,
				  VMCS_GUEST_SYSENTER_CS,   VMCS_GUEST_SYSENTER_ESP,
				  VMCS_GUEST_SYSENTER_EIP,  VMCS_GUEST_INTERRUPTIBILITY,
				  VMCS_GUEST_PENDING_DBG,   VMCS_PREEMPT_TIMER};

/* Clears and loads the new VMCS on this CPU and fills every field. */
int vmcs_init(struct vcpu *v)
{
	*(uint32_t *)phys_to_virt(v->vmcs) = vmx_caps.revision;
	if (vmclear(v->vmcs) || vmptrld(v->vmcs))
		return -1;
	this_cpu()->vmx->current_vmcs = v->vmcs;
	for (unsigned i = 0; i < ARRAY_SIZE(zeroed); i++)
		must_write(zeroed[i], 0);
	init_host_fixed();
	vmcs_load_host_state();
	init_controls(v);
	init_guest_reset();
	return 0;
}

static const struct {
	uint32_t field;
	const char *name;
} dump_fields[] = {
	{VMCS_GUEST_CR0, "CR0"},
	{VMCS_GUEST_CR3, "CR3"},
	{VMCS_GUEST_CR4, "CR4"},
	{VMCS_GUEST_EFER, "EFER"},
	{VMCS_GUEST_RIP, "RIP"},
	{VMCS_GUEST_RSP, "RSP"},
	{VMCS_GUEST_RFLAGS, "RFLAGS"},
	{VMCS_ENTRY_CTLS, "entry ctls"},
	{VMCS_GUEST_ACTIVITY, "activity"},
	{VMCS_GUEST_INTERRUPTIBILITY, "interruptibility"},
	{VMCS_ENTRY_INTR_INFO, "entry intr info"},
};

static const char *const seg_names[8] = {"ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR"};

/* Prints the guest state a failed VM entry is judged on. */
void vmcs_dump_guest(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(dump_fields); i++)
		pr_err("vmx:   %-16s %#lx", dump_fields[i].name, vmread(dump_fields[i].field));
	for (unsigned s = 0; s < 8; s++)
		pr_err("vmx:   %-4s sel %04lx base %016lx limit %08lx ar %05lx", seg_names[s],
		       vmread(VMCS_SEG_SEL(s)), vmread(VMCS_SEG_BASE(s)), vmread(VMCS_SEG_LIMIT(s)),
		       vmread(VMCS_SEG_AR(s)));
	pr_err("vmx:   GDTR %016lx/%lx IDTR %016lx/%lx", vmread(VMCS_GUEST_GDTR_BASE),
	       vmread(VMCS_GUEST_GDTR_LIMIT), vmread(VMCS_GUEST_IDTR_BASE),
	       vmread(VMCS_GUEST_IDTR_LIMIT));
}
