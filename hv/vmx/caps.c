/* VMX capability decoding. Pure: fed raw MSR values, unit-tested on the host. */
#include "caps.h"
#include "../lib/printf.h"
#include "bits.h"

/* A requirement: present() says, or (present NULL) the bits of a control or of EPT_VPID_CAP. */
struct requirement {
	const char *name;
	bool (*present)(const struct vmx_msrs *m, const struct vmx_caps *c);
	size_t ctl;    /* offset of the struct vmx_ctl whose may1 needs all the bits; 0: ept_vpid */
	uint64_t bits; /* for ept_vpid: any of them */
};

#define CTL(field, bits) NULL, offsetof(struct vmx_caps, field), (bits)
#define EPT(bit)	 NULL, 0, (bit)

static struct vmx_ctl ctl_of(uint64_t msr)
{
	return (struct vmx_ctl){.must1 = (uint32_t)msr, .may1 = (uint32_t)(msr >> 32)};
}

int64_t vmx_ctl_value(struct vmx_ctl ctl, uint32_t want)
{
	if (want & ~ctl.may1)
		return -1;
	return want | ctl.must1;
}

static bool has_vmx(const struct vmx_msrs *m, const struct vmx_caps *c __unused)
{
	return m->cpuid1_ecx & (1u << 5);
}

static bool vmx_enabled(const struct vmx_msrs *m, const struct vmx_caps *c __unused)
{
	return !(m->feature_control & FEATURE_CONTROL_LOCK) ||
	       (m->feature_control & FEATURE_CONTROL_VMX_OUTSIDE_SMX);
}

static bool wb_vmcs(const struct vmx_msrs *m, const struct vmx_caps *c)
{
	return ((m->basic >> 50) & 0xf) == 6 && c->vmcs_size && c->vmcs_size <= 4096;
}

static bool true_ctls(const struct vmx_msrs *m, const struct vmx_caps *c __unused)
{
	return m->basic & (1ULL << 55);
}

static const struct requirement requirements[] = {
	{"VMX (CPUID.1:ECX[5])", .present = has_vmx},
	{"VMX enabled by firmware (IA32_FEATURE_CONTROL)", .present = vmx_enabled},
	{"write-back VMCS memory", .present = wb_vmcs},
	{"true VMX controls", .present = true_ctls},
	{"secondary controls", CTL(proc, PROC_SECONDARY)},
	{"I/O bitmaps", CTL(proc, PROC_IO_BITMAP)},
	{"MSR bitmaps", CTL(proc, PROC_MSR_BITMAP)},
	{"HLT exiting", CTL(proc, PROC_HLT_EXIT)},
	{"CR8, MOV DR, MWAIT, MONITOR and RDPMC exiting",
	 CTL(proc, PROC_CR8_LOAD | PROC_CR8_STORE | PROC_MOV_DR_EXIT | PROC_MWAIT_EXIT |
			   PROC_MONITOR_EXIT | PROC_RDPMC_EXIT)},
	{"EPT", CTL(proc2, PROC2_EPT)},
	{"VPID", CTL(proc2, PROC2_VPID)},
	{"unrestricted guest", CTL(proc2, PROC2_UNRESTRICTED)},
	{"external-interrupt exiting", CTL(pin, PIN_EXT_INTR)},
	{"NMI exiting", CTL(pin, PIN_NMI_EXIT)},
	{"virtual NMIs", CTL(pin, PIN_VIRTUAL_NMI)},
	{"64-bit host on exit", CTL(exit, EXIT_HOST_64)},
	{"EFER load/save on exit", CTL(exit, EXIT_LOAD_EFER | EXIT_SAVE_EFER)},
	{"EFER load on entry", CTL(entry, ENTRY_LOAD_EFER)},
	{"EPT write-back tables", EPT(EPT_CAP_WB)},
	{"EPT 4-level walk", EPT(EPT_CAP_WALK4)},
	{"INVEPT", EPT(EPT_CAP_INVEPT)},
	{"INVEPT single-context", EPT(EPT_CAP_INVEPT_SINGLE)},
	{"INVVPID", EPT(VPID_CAP_INVVPID)},
	{"INVVPID single-context", EPT(VPID_CAP_INVVPID_SINGLE)},
};

static bool present(const struct requirement *r, const struct vmx_msrs *m, const struct vmx_caps *c)
{
	const struct vmx_ctl *ctl = (const void *)((const char *)c + r->ctl);

	if (r->present)
		return r->present(m, c);
	return r->ctl ? (ctl->may1 & r->bits) == r->bits : (c->ept_vpid & r->bits) != 0;
}

static void decode(const struct vmx_msrs *m, struct vmx_caps *c)
{
	*c = (struct vmx_caps){
		.revision = m->basic & 0x7fffffff,
		.vmcs_size = (m->basic >> 32) & 0x1fff,
		.pin = ctl_of(m->pin),
		.proc = ctl_of(m->proc),
		.exit = ctl_of(m->exit),
		.entry = ctl_of(m->entry),
		.ept_vpid = m->ept_vpid,
		.cr0_fixed0 = m->cr0_fixed0,
		.cr0_fixed1 = m->cr0_fixed1,
		.cr4_fixed0 = m->cr4_fixed0,
		.cr4_fixed1 = m->cr4_fixed1,
		.preempt_shift = m->misc & 0x1f,
		.feature_control_unlocked = !(m->feature_control & FEATURE_CONTROL_LOCK),
	};
	if (c->proc.may1 & PROC_SECONDARY)
		c->proc2 = ctl_of(m->proc2);
	else
		c->ept_vpid = 0; /* without secondary controls EPT and VPID do not exist */
	c->ept_2m = c->ept_vpid & EPT_CAP_2M;
	c->ept_1g = c->ept_vpid & EPT_CAP_1G;
	c->ept_ad = c->ept_vpid & EPT_CAP_AD;
	c->preempt_timer = c->pin.may1 & PIN_PREEMPT_TIMER;
	c->posted_intr = c->pin.may1 & PIN_POSTED_INTR;
	c->tpr_shadow = c->proc.may1 & PROC_TPR_SHADOW;
	c->apicv = (c->proc2.may1 & (PROC2_VAPIC | PROC2_APIC_REG | PROC2_VINTR)) ==
		   (PROC2_VAPIC | PROC2_APIC_REG | PROC2_VINTR);
}

int vmx_caps_parse(const struct vmx_msrs *m, struct vmx_caps *c)
{
	size_t used = 0;

	decode(m, c);
	for (unsigned i = 0; i < ARRAY_SIZE(requirements); i++) {
		if (present(&requirements[i], m, c))
			continue;
		int n = fmt_snprintf(c->missing + used, sizeof(c->missing) - used, "%s%s",
				     used ? ", " : "", requirements[i].name);
		used = MIN(used + (size_t)n, sizeof(c->missing) - 1);
		if (i < 2)
			break; /* without VMX itself the rest is meaningless */
	}
	return used ? -1 : 0;
}

void vmx_caps_describe(const struct vmx_caps *c, char *buf, size_t n)
{
	fmt_snprintf(buf, n,
		     "EPT 4K%s%s%s, VPID, unrestricted guest, MSR/IO bitmaps, "
		     "preemption timer %s, APIC virtualization %s, TPR shadow %s, "
		     "posted interrupts %s, VMCS rev %#x size %u",
		     c->ept_2m ? " 2M" : "", c->ept_1g ? " 1G" : "", c->ept_ad ? " A/D" : "",
		     c->preempt_timer ? "yes" : "no", c->apicv ? "yes" : "no",
		     c->tpr_shadow ? "yes" : "no", c->posted_intr ? "yes" : "no", c->revision,
		     c->vmcs_size);
}
