/*
 * The irqchip's models as KVM_CREATE_DEVICE types (hv_devices.h): each device is a handle on
 * the VM's controllers in hv/vmx/irqchip.c, which the first of them or KVM_CREATE_IRQCHIP makes.
 */
#include "../../compat/kvmabi/hv_devices.h"
#include "../lib/errno.h"
#include "../vmx/vm.h"
#include "device.h"

enum chip_kind { K_PIC, K_IOAPIC, K_LAPIC, K_PIT };

struct chipdev {
	struct vm *vm;
	enum chip_kind kind;
};

#define NONE (~0ULL)

/* HV_IRQ_GRP_CONFIG's values by kind: base, pins, GSI */
static const uint64_t config[][3] = {
	[K_PIC] = {0x20, 16, NONE},
	[K_IOAPIC] = {0xfec00000, 24, NONE},
	[K_LAPIC] = {0xfee00000, 2, NONE},
	[K_PIT] = {0x40, NONE, 0},
};

static int attach(void *dev, struct vm *vm, enum chip_kind kind)
{
	int rc = vm_irqchip_create(vm, kind == K_PIT ? IRQCHIP_PIT : IRQCHIP_FULL, 0);

	*(struct chipdev *)dev = (struct chipdev){vm, kind};
	/* there already: KVM_CREATE_IRQCHIP's, a sibling device's, or (LAPIC) a split irqchip's */
	if (rc == -EEXIST || (rc == -EBUSY && kind == K_LAPIC))
		return 0;
	return rc == -EINVAL ? -EBUSY : rc == -ENOENT ? -ENXIO : rc;
}

/* HV_IRQ_GRP_STATE: the model's state in KVM's layout. */
static int blob(void *dev, uint64_t attr, void *buf, bool set)
{
	struct chipdev *d = dev;
	struct vcpu *v;

	switch (d->kind) {
	case K_PIC:
		return attr > 1 ? -ENXIO : vm_irqchip_state(d->vm, (unsigned)attr, buf, set);
	case K_IOAPIC:
		return attr ? -ENXIO : vm_irqchip_state(d->vm, 2, buf, set);
	case K_LAPIC:
		v = vm_get_vcpu(d->vm, attr);
		return v ? vcpu_lapic_state(v, buf, set) : -ENXIO;
	default:
		return attr ? -ENXIO : vm_pit_state(d->vm, buf, set);
	}
}

static int get_attr(void *dev, uint32_t group, uint64_t attr, uint64_t *val)
{
	struct chipdev *d = dev;

	if (group != HV_IRQ_GRP_CONFIG || attr > HV_IRQ_CFG_GSI || config[d->kind][attr] == NONE)
		return -ENXIO;
	*val = config[d->kind][attr];
	return 0;
}

static int has_attr(void *dev, uint32_t group, uint64_t attr)
{
	uint64_t scratch[128];

	if (group == HV_IRQ_GRP_STATE)
		return blob(dev, attr, scratch, false);
	return get_attr(dev, group, attr, scratch);
}

static int set_attr(void *dev, struct vm *vm __unused, uint32_t group, uint64_t attr,
		    uint64_t val __unused)
{
	return has_attr(dev, group, attr) ?: -EPERM;
}

/* An ops table, and the create function that attaches a device of its kind */
#define CHIP_DEV(n, t, kind, bytes)                               \
	static int create_##kind(void *d, struct vm *vm)          \
	{                                                         \
		return attach(d, vm, kind);                       \
	}                                                         \
	const struct dev_ops n = {.type = t,                      \
				  .single = true,                 \
				  .size = sizeof(struct chipdev), \
				  .create = create_##kind,        \
				  .has_attr = has_attr,           \
				  .get_attr = get_attr,           \
				  .set_attr = set_attr,           \
				  .blob = blob,                   \
				  .blob_size = bytes}

CHIP_DEV(pic_dev_ops, KVM_DEV_TYPE_HV_PIC, K_PIC, 16);
CHIP_DEV(ioapic_dev_ops, KVM_DEV_TYPE_HV_IOAPIC, K_IOAPIC, 216);
CHIP_DEV(lapic_dev_ops, KVM_DEV_TYPE_HV_LAPIC, K_LAPIC, 1024);
CHIP_DEV(pit_dev_ops, KVM_DEV_TYPE_HV_PIT, K_PIT, 112);
