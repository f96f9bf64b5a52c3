/*
 * In-hypervisor device models, created for a VM through KVM_CREATE_DEVICE (HC_DEV_CREATE).
 * A model is a table of operations; the registry (device.c) owns instances and their memory.
 * Every attribute value is a u64; the rules match KVM's device attribute ioctls:
 * 0, -ENXIO (no such group or attribute), -EPERM (not accessible this way or in this state),
 * -EINVAL (a value the device refuses), -EEXIST (already configured), -EBUSY (full).
 */
#ifndef HV_DEVICE_H
#define HV_DEVICE_H

#include "../lib/types.h"

struct vm;

struct dev_ops {
	uint32_t type; /* HV_DEV_TYPE_* (compat/kvmabi/hv_devices.h) */
	bool single;   /* at most one instance per VM (-EEXIST for a second) */
	size_t size;   /* bytes of state, zeroed before create */
	/* NULL: the zeroed state is ready. A device goes with its VM, its hooks too. */
	int (*create)(void *dev, struct vm *vm);
	int (*has_attr)(void *dev, uint32_t group, uint64_t attr);
	int (*get_attr)(void *dev, uint32_t group, uint64_t attr, uint64_t *val);
	int (*set_attr)(void *dev, struct vm *vm, uint32_t group, uint64_t attr, uint64_t val);
	/* Group HV_IRQ_GRP_STATE when set: its values are blob_size bytes at buf, not u64s. */
	int (*blob)(void *dev, uint64_t attr, void *buf, bool set);
	uint16_t blob_size;
};

/* The model for a type, or NULL (-ENODEV for the caller). */
const struct dev_ops *dev_find_type(uint32_t type);

extern const struct dev_ops uart16550_ops;
/* hv/vmx/irqchip_dev.c: the irqchip's models */
extern const struct dev_ops pic_dev_ops, ioapic_dev_ops, lapic_dev_ops, pit_dev_ops;

#endif
