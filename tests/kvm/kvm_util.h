/* Shared by the KVM API tests in dom0. */
#ifndef KVM_UTIL_H
#define KVM_UTIL_H

#include <stdio.h>

/* The hypervisor's free frames, through the kvm_hv module (for leak checks); -1 if unknown. */
static inline long hv_free_frames(void)
{
	FILE *f = fopen("/sys/module/kvm_hv/parameters/hv_free_frames", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

#endif
