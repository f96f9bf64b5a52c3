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

/* hc_vm.c: dom0's control of VMs */
int64_t hc_vm_create(struct hc_ctx *c);
int64_t hc_vm_destroy(struct hc_ctx *c);
int64_t hc_free_frames(struct hc_ctx *c);
int64_t hc_msr_list(struct hc_ctx *c);
int64_t hc_vm_map(struct hc_ctx *c);
int64_t hc_vm_unmap(struct hc_ctx *c);
int64_t hc_vcpu_create(struct hc_ctx *c);
int64_t hc_vcpu_run(struct hc_ctx *c);
int64_t hc_vcpu_get_regs(struct hc_ctx *c);
int64_t hc_vcpu_set_regs(struct hc_ctx *c);
int64_t hc_vcpu_get_sregs(struct hc_ctx *c);
int64_t hc_vcpu_set_sregs(struct hc_ctx *c);

/* Checks number and permission, then runs the handler. Returns the value for the guest's RAX. */
int64_t hypercall_dispatch(uint64_t nr, struct hc_ctx *c);

#endif
