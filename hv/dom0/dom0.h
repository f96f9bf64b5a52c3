/* The control domain. */
#ifndef HV_DOM0_H
#define HV_DOM0_H

#include "../platform/mb2.h"

/* True when [pa, pa+len) is memory dom0 owns (what it may hand to the hypervisor or to VMs). */
bool dom0_owns_range(uint64_t pa, uint64_t len);

/* Loads and runs dom0 from the boot modules on every CPU; does not return. */
__noreturn void dom0_boot(struct boot_info *bi);

#endif
