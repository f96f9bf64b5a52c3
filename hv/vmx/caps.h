/* VMX capabilities: what this CPU offers, checked against what the hypervisor requires. */
#ifndef HV_VMX_CAPS_H
#define HV_VMX_CAPS_H

#include "../lib/types.h"

#define MSR_FEATURE_CONTROL    0x3a
#define MSR_VMX_BASIC	       0x480
#define MSR_VMX_PINBASED       0x481
#define MSR_VMX_PROCBASED      0x482
#define MSR_VMX_EXIT	       0x483
#define MSR_VMX_ENTRY	       0x484
#define MSR_VMX_MISC	       0x485
#define MSR_VMX_CR0_FIXED0     0x486
#define MSR_VMX_CR0_FIXED1     0x487
#define MSR_VMX_CR4_FIXED0     0x488
#define MSR_VMX_CR4_FIXED1     0x489
#define MSR_VMX_PROCBASED2     0x48b
#define MSR_VMX_EPT_VPID_CAP   0x48c
#define MSR_VMX_TRUE_PINBASED  0x48d
#define MSR_VMX_TRUE_PROCBASED 0x48e
#define MSR_VMX_TRUE_EXIT      0x48f
#define MSR_VMX_TRUE_ENTRY     0x490

#define FEATURE_CONTROL_LOCK		(1u << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1u << 2)

/* Raw inputs: CPUID.1:ECX and the MSRs above (0 for MSRs that do not exist). */
struct vmx_msrs {
	uint32_t cpuid1_ecx;
	uint64_t feature_control;
	uint64_t basic, pin, proc, exit, entry, misc, proc2, ept_vpid;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
};

/* A control field's allowed settings: bits that must be 1, bits that may be 1. */
struct vmx_ctl {
	uint32_t must1, may1;
};

struct vmx_caps {
	uint32_t revision;
	uint32_t vmcs_size;
	struct vmx_ctl pin, proc, proc2, exit, entry;
	uint64_t ept_vpid;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	unsigned preempt_shift; /* timer ticks every 2^shift TSC cycles */
	bool ept_2m, ept_1g, ept_ad, preempt_timer, apicv, tpr_shadow, posted_intr;
	bool feature_control_unlocked; /* firmware left it unlocked: we must lock it */
	char missing[256];	       /* comma-separated list of required features absent */
};

/* Decodes raw values; returns 0 when everything required is present, else -1 with `missing`. */
int vmx_caps_parse(const struct vmx_msrs *m, struct vmx_caps *c);

/* Printable summary of the features found ("EPT 2M 1G A/D, VPID, ..."). */
void vmx_caps_describe(const struct vmx_caps *c, char *buf, size_t n);

/* Control value: `want` bits (all must be allowed) plus the must-be-1 bits; -1 if not allowed. */
int64_t vmx_ctl_value(struct vmx_ctl ctl, uint32_t want);

#endif
