/*
 * Device instances of dom0's VMs (KVM_CREATE_DEVICE and the attribute ioctls). A device lives
 * as long as its VM, as in KVM; its handle is its index among the VM's devices.
 */
#include "../../compat/kvmabi/hv_devices.h"
#include "../../compat/kvmabi/hvabi.h"
#include "../devices/device.h"
#include "../dom0/dom0.h"
#include "../lib/errno.h"
#include "hypercall.h"
#include "../platform/mm.h"
#include "../lib/spinlock.h"
#include "../vmx/vm.h"

struct dev_inst {
	const struct dev_ops *ops; /* set last: a reader that sees it sees the rest */
	void *state;
	struct vm *vm;
};

static struct dev_inst devs[HV_MAX_VMS][HV_MAX_DEVICES];
static spinlock_t devs_lock;

/* (vm, type, test): the handle of a new device, or 0 for a test; -ENODEV, -EEXIST, -ENOSPC. */
int64_t hc_dev_create(struct hc_ctx *c)
{
	const struct dev_ops *ops = c->arg[1] >> 32 ? NULL : dev_find_type((uint32_t)c->arg[1]);
	struct dev_inst *d = devs[c->arg[0]];
	int64_t rc = -ENOSPC;
	void *state;

	if (!ops)
		return -ENODEV;
	if (c->arg[2])
		return 0; /* KVM_CREATE_DEVICE_TEST: the type exists, nothing is made */
	state = mem_alloc(ops->size);
	if (!state)
		return -ENOMEM;
	spin_lock(&devs_lock);
	for (unsigned i = 0; i < HV_MAX_DEVICES && rc == -ENOSPC; i++)
		if (d[i].ops == ops && ops->single)
			rc = -EEXIST;
	for (unsigned i = 0; i < HV_MAX_DEVICES && rc == -ENOSPC; i++) {
		if (d[i].ops)
			continue;
		rc = ops->create ? ops->create(state, c->vm) : 0; /* in the first free slot, once */
		if (!rc) {
			d[i] = (struct dev_inst){NULL, state, c->vm};
			__atomic_store_n(&d[i].ops, ops, __ATOMIC_RELEASE);
			rc = i;
		}
		break;
	}
	spin_unlock(&devs_lock);
	if (rc < 0)
		mem_free(state, ops->size);
	return rc;
}

/*
 * (vm, dev, op | group << 8, attr, buf): the value at buf in dom0's memory, a u64 or (for a
 * type's HV_IRQ_GRP_STATE) a blob. HV_DEV_HAS answers the value's size in bytes. The value is
 * copied in once either way, and a get's answer copied back.
 */
int64_t hc_dev_attr(struct hc_ctx *c)
{
	uint64_t dev = c->arg[1], op = c->arg[2] & 0xff, attr = c->arg[3], buf[1024 / 8];
	uint32_t group = (uint32_t)(c->arg[2] >> 8);
	struct dev_inst *d;
	size_t size;
	int rc;

	if (dev >= HV_MAX_DEVICES || (c->arg[2] >> 40) || op > HV_DEV_SET)
		return -EINVAL;
	d = &devs[c->arg[0]][dev];
	if (!__atomic_load_n(&d->ops, __ATOMIC_ACQUIRE))
		return -ENODEV;
	size = group == HV_IRQ_GRP_STATE && d->ops->blob ? d->ops->blob_size : 8;
	if (op == HV_DEV_HAS)
		return (rc = d->ops->has_attr(d->state, group, attr)) ? rc : (int64_t)size;
	if (size > sizeof(buf))
		return -EINVAL;
	if ((rc = dom0_copy_in(buf, c->arg[4], size)))
		return rc;
	if (size != 8) /* a blob of HV_IRQ_GRP_STATE */
		rc = d->ops->blob(d->state, attr, buf, op == HV_DEV_SET);
	else if (op == HV_DEV_SET)
		rc = d->ops->set_attr(d->state, d->vm, group, attr, buf[0]);
	else
		rc = d->ops->get_attr(d->state, group, attr, buf);
	return (rc || op == HV_DEV_SET) ? rc : dom0_copy_out(c->arg[4], buf, size);
}

/* The VM is going away (no hypercall uses it): its devices go first. */
void hc_dev_destroy_all(uint64_t handle)
{
	struct dev_inst *d = devs[handle];

	for (unsigned i = 0; i < HV_MAX_DEVICES; i++) {
		if (d[i].ops)
			mem_free(d[i].state, d[i].ops->size);
		d[i] = (struct dev_inst){0};
	}
}
