/* VMX instructions. Each returns 0 on success, -1 on VMfailInvalid or VMfailValid. */
#ifndef HV_VMX_INSN_H
#define HV_VMX_INSN_H

#include "../lib/types.h"

/* vmxon, vmclear, vmptrld: the physical address of a VMXON region or VMCS in memory */
#define VMX_PA_INSN(insn)                                                                        \
	static inline int insn(uint64_t pa)                                                      \
	{                                                                                        \
		uint8_t bad;                                                                     \
		__asm__ volatile(#insn " %1; setna %0" : "=qm"(bad) : "m"(pa) : "cc", "memory"); \
		return bad ? -1 : 0;                                                             \
	}
VMX_PA_INSN(vmxon)
VMX_PA_INSN(vmclear)
VMX_PA_INSN(vmptrld)

static inline uint64_t vmread(uint64_t field)
{
	uint64_t v;

	__asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"(field) : "cc");
	return v;
}

static inline int vmwrite(uint64_t field, uint64_t v)
{
	uint8_t bad;

	__asm__ volatile("vmwrite %1, %2; setna %0" : "=qm"(bad) : "rm"(v), "r"(field) : "cc");
	return bad ? -1 : 0;
}

struct inv_desc {
	uint64_t a, b;
};

static inline void invept(uint64_t type, uint64_t eptp)
{
	struct inv_desc d = {eptp, 0};

	__asm__ volatile("invept %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

static inline void invvpid(uint64_t type, uint16_t vpid, uint64_t gva)
{
	struct inv_desc d = {vpid, gva};

	__asm__ volatile("invvpid %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

#define INVEPT_SINGLE  1
#define INVVPID_SINGLE 1

#endif
