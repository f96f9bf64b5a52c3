/* The control domain. */
#ifndef HV_DOM0_H
#define HV_DOM0_H

#include "../platform/mb2.h"

/* True when [pa, pa+len) is memory dom0 owns (what it may hand to the hypervisor or to VMs). */
bool dom0_owns_range(uint64_t pa, uint64_t len);
/*
 * The one way hypercalls read and write dom0's memory: [pa, pa+len) must be dom0's and pa
 * 8-byte aligned, else -EFAULT and nothing is copied (len 0: nothing to do). dom0's other CPUs
 * may change their memory at any time: what was copied in is checked and used, never re-read.
 */
int dom0_copy_in(void *dst, uint64_t pa, uint64_t len);
int dom0_copy_out(uint64_t pa, const void *src, uint64_t len);

/* Loads and runs dom0 from the boot modules on every CPU; does not return. */
__noreturn void dom0_boot(struct boot_info *bi);

#endif
