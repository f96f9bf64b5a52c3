/* VMX root operation on each CPU. */
#ifndef HV_VMX_VMX_H
#define HV_VMX_VMX_H

#include "../types.h"
#include "caps.h"

struct vmx_cpu {
	uint64_t vmxon_pa;
	uint64_t current_vmcs; /* physical address of the VMCS loaded on this CPU, 0 if none */
};

extern struct vmx_caps vmx_caps;

#endif
