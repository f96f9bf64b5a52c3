/* KVM_X86_SET_MSR_FILTER's filter (struct hv_msr_filter): checked once, asked on guest accesses. */
#ifndef HV_MSR_FILTER_H
#define HV_MSR_FILTER_H

#include "../../compat/kvmabi/hvabi.h"
#include "../lib/types.h"

/* 0, or -EINVAL for a filter KVM refuses (flags, range count, an empty range, deny alone). */
int msr_filter_check(const struct hv_msr_filter_head *h);
/* Whether the guest may read (or write) msr: the first range covering it decides. */
bool msr_filter_allows(const struct hv_msr_filter *f, uint32_t msr, bool write);

#endif
