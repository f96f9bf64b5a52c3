/* The registry of device models: which KVM_CREATE_DEVICE types the hypervisor has. */
#include "device.h"

static const struct dev_ops *const models[] = {
	&uart16550_ops, &pic_dev_ops, &ioapic_dev_ops, &lapic_dev_ops, &pit_dev_ops,
};

const struct dev_ops *dev_find_type(uint32_t type)
{
	for (unsigned i = 0; i < ARRAY_SIZE(models); i++)
		if (models[i]->type == type)
			return models[i];
	return NULL;
}
