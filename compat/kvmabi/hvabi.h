/*
 * The hypercall ABI between the hypervisor and its guests (dom0's /dev/kvm module included).
 * Single source of truth: included by hv/ and by the dom0 module.
 *
 * VMCALL with RAX = hypercall number, arguments in RDI, RSI, RDX, R10, R8, R9; the result comes
 * back in RAX: 0 or more on success, a negative Linux errno on failure. Unknown numbers return
 * -ENOSYS; a call from CPL > 0 returns -EPERM; control hypercalls from a VM that is not dom0
 * return -EPERM.
 */
#ifndef HVABI_H
#define HVABI_H

#define HV_ABI_VERSION 1

/* CPUID leaf 0x40000000: EAX = highest hypervisor leaf, EBX:ECX:EDX = this signature. */
#define HV_CPUID_LEAF	   0x40000000
#define HV_CPUID_SIGNATURE "uHVuHVuHVuHV"

enum hv_hypercall {
	HC_ABI_VERSION = 0, /* () -> HV_ABI_VERSION */
	HC_NOP = 1,	    /* () -> 0; the cheapest round trip, for measurements */
	HC_COUNT
};

#endif
