/* VMX probing and VMXON. */
#include "vmx.h"
#include "virt.h"
#include "../lib/log.h"
#include "../platform/mm.h"
#include "../lib/panic.h"
#include "../platform/percpu.h"
#include "../platform/x86.h"
#include "insn.h"

struct vmx_caps vmx_caps;

/* The MSRs exist only when CPUID says VMX does: reading them otherwise would #GP. */
static void read_msrs(struct vmx_msrs *m)
{
	bool true_ctls;

	*m = (struct vmx_msrs){.cpuid1_ecx = cpuid(1, 0).ecx};
	if (!(m->cpuid1_ecx & (1u << 5)))
		return;
	m->feature_control = rdmsr(MSR_FEATURE_CONTROL);
	m->basic = rdmsr(MSR_VMX_BASIC);
	true_ctls = m->basic & (1ULL << 55);
	m->pin = rdmsr(true_ctls ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED);
	m->proc = rdmsr(true_ctls ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED);
	m->exit = rdmsr(true_ctls ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT);
	m->entry = rdmsr(true_ctls ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY);
	m->misc = rdmsr(MSR_VMX_MISC);
	m->cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
	m->cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
	m->cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
	m->cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
	if ((m->proc >> 32) & (1u << 31)) {
		m->proc2 = rdmsr(MSR_VMX_PROCBASED2);
		if ((m->proc2 >> 32) & ((1u << 1) | (1u << 5)))
			m->ept_vpid = rdmsr(MSR_VMX_EPT_VPID_CAP);
	}
}

int virt_probe(void)
{
	struct vmx_msrs m;
	char desc[256];

	read_msrs(&m);
	if (vmx_caps_parse(&m, &vmx_caps)) {
		pr_err("vmx: this CPU cannot run the hypervisor; missing: %s", vmx_caps.missing);
		return -1;
	}
	vmx_caps_describe(&vmx_caps, desc, sizeof(desc));
	pr_info("vmx: %s", desc);
	if (vmx_caps.feature_control_unlocked)
		pr_info("vmx: IA32_FEATURE_CONTROL was unlocked; enabling VMX and locking it");
	return 0;
}

void virt_cpu_on(void *unused __unused)
{
	struct percpu *c = this_cpu();
	struct vmx_cpu *v;
	uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);

	if (!(fc & FEATURE_CONTROL_LOCK))
		wrmsr(MSR_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	else if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
		panic("vmx: CPU %u: VMX disabled by firmware", c->index);
	write_cr0((read_cr0() | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1);
	write_cr4((read_cr4() | vmx_caps.cr4_fixed0 | CR4_VMXE) & vmx_caps.cr4_fixed1);
	if (cpuid(1, 0).ecx & (1u << 26))
		write_cr4(read_cr4() | CR4_OSXSAVE); /* XSETBV from guests needs it in the host */
	v = phys_to_virt(frame_alloc_zeroed());
	v->vmxon_pa = frame_alloc_zeroed();
	v->host_fpu = phys_to_virt(frame_alloc_zeroed());
	*(uint32_t *)phys_to_virt(v->vmxon_pa) = vmx_caps.revision;
	if (vmxon(v->vmxon_pa))
		panic("vmx: CPU %u: VMXON failed", c->index);
	c->vmx = v;
	pr_info("vmx: CPU %u (APIC id %u) in VMX root operation", c->index, c->apic_id);
}
