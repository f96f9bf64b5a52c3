/* MSR filters as KVM applies them: the first range of the right direction covering the MSR. */
#include "msr_filter.h"
#include "../lib/errno.h"

int msr_filter_check(const struct hv_msr_filter_head *h)
{
	if (h->deny > 1 || h->nranges > HV_MSR_RANGES || (h->deny && !h->nranges))
		return -EINVAL;
	for (unsigned i = 0; i < h->nranges; i++)
		if (!h->range[i].flags || h->range[i].flags > 3 || !h->range[i].nmsrs ||
		    h->range[i].nmsrs > HV_MSR_BITMAP_MAX * 8)
			return -EINVAL;
	return 0;
}

bool msr_filter_allows(const struct hv_msr_filter *f, uint32_t msr, bool write)
{
	if (msr >= 0x800 && msr <= 0x8ff)
		return true; /* as KVM: the x2APIC MSRs are never filtered */
	const struct hv_msr_filter_head *h = &f->h;

	for (unsigned i = 0; i < h->nranges && i < HV_MSR_RANGES; i++) {
		uint32_t base = h->range[i].base, off = msr - base;
		/* KVM's end is base + nmsrs in 32 bits: a range past 4G covers nothing */
		if ((h->range[i].flags & (write ? 2u : 1u)) && msr >= base &&
		    msr < (uint32_t)(base + h->range[i].nmsrs))
			return f->bitmap[i][off / 8] >> (off % 8) & 1;
	}
	return !h->deny;
}
