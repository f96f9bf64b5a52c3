/* Hypercall dispatch: a table indexed by number, each entry with who may call it. */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H

#include "types.h"

struct vcpu;

struct hc_ctx {
	struct vcpu *vcpu;
	bool from_dom0;
	unsigned cpl;
	uint64_t arg[6];
};

/* Checks number and permission, then runs the handler. Returns the value for the guest's RAX. */
int64_t hypercall_dispatch(uint64_t nr, struct hc_ctx *c);

#endif
