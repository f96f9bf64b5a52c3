/* VMX root operation on each CPU. */
#ifndef HV_VMX_VMX_H
#define HV_VMX_VMX_H

#include "../lib/types.h"
#include "caps.h"

#define HOST_SWAPPED_MSRS 6

struct vmx_cpu {
	uint64_t vmxon_pa;
	uint64_t current_vmcs; /* physical address of the VMCS loaded on this CPU, 0 if none */
	uint64_t host_msrs[HOST_SWAPPED_MSRS]; /* syscall MSRs saved while a guest's are loaded */
	uint8_t *host_fpu;		       /* extended state saved while a guest's is loaded */
};

extern struct vmx_caps vmx_caps;

#endif
