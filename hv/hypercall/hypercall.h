/* Hypercall dispatch: a table indexed by number, each entry with who may call it. */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H

#include "../lib/types.h"

struct vcpu;
struct vm;
struct vmcall;

/* A call's arguments (copied from the caller's registers) and what they name. */
struct hc_ctx {
	uint64_t nr, arg[6];
	struct vm *vm;	     /* arg0 resolved, for calls on a VM */
	struct vcpu *target; /* (arg0, arg1) resolved, for calls on a vCPU */
};

/* This CPU's buffer of HV_STATE_MAX_BYTES for what a call copies in from dom0 and out to it
 * (dom0_copy_in/out). */
void *hc_bounce(void);

/* hc_vm.c: resolve and claim c->vm (and c->target), release after the call */
int64_t hc_claim(struct hc_ctx *c, bool vcpu);
void hc_release(struct hc_ctx *c);

/* hc_vm.c: dom0's control of VMs */
int64_t hc_vm_create(struct hc_ctx *c);
int64_t hc_vm_destroy(struct hc_ctx *c);
int64_t hc_free_frames(struct hc_ctx *c);
int64_t hc_msr_list(struct hc_ctx *c);
int64_t hc_vm_map(struct hc_ctx *c);
int64_t hc_vm_unmap(struct hc_ctx *c);
int64_t hc_vcpu_create(struct hc_ctx *c);
int64_t hc_vcpu_run(struct hc_ctx *c);
int64_t hc_vcpu_regs(struct hc_ctx *c); /* HC_VCPU_GET_REGS and HC_VCPU_SET_REGS */
int64_t hc_vcpu_get_sregs(struct hc_ctx *c);
int64_t hc_vcpu_set_sregs(struct hc_ctx *c);
/* hc_vcpu.c: vCPU state families (HC_VCPU_GET and HC_VCPU_SET) and system lists */
int64_t hc_vcpu_state(struct hc_ctx *c);
int64_t hc_sys_info(struct hc_ctx *c);
int64_t hc_vcpu_stats(struct hc_ctx *c);
int64_t hc_vcpu_debug(struct hc_ctx *c);
int64_t hc_irqchip(struct hc_ctx *c);
int64_t hc_vm_clock(struct hc_ctx *c);
int64_t hc_vm_dirty(struct hc_ctx *c);
int64_t hc_vm_msr(struct hc_ctx *c);
/* hc_dev.c: in-hypervisor devices */
int64_t hc_dev_create(struct hc_ctx *c);
int64_t hc_dev_attr(struct hc_ctx *c);
void hc_dev_destroy_all(uint64_t handle);

/* Once every CPU is up: their bounce buffers, and the dispatcher registered for VMCALL exits. */
void hypercall_init(void);

#endif
