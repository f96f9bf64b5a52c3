// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel irqchip of KVM, living in the hypervisor: KVM_CREATE_IRQCHIP (PICs, IOAPIC, a
 * local APIC per vCPU), KVM_IRQ_LINE(_STATUS), KVM_SIGNAL_MSI, KVM_GET/SET_IRQCHIP and the PIT
 * (KVM_CREATE_PIT2, KVM_GET/SET_PIT2), forwarded as HC_IRQCHIP operations. Halted vCPUs the
 * hypervisor reports runnable again are woken here.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hvk.h"

void hvk_wake(struct hvk_vm *vm, u64 mask)
{
	unsigned int i;

	for (i = 0; i < HVK_MAX_VCPUS; i++) {
		struct hvk_vcpu *vc = READ_ONCE(vm->vcpus[i]);

		if (!(mask >> i & 1) || !vc)
			continue;
		WRITE_ONCE(vc->kicked, true);
		wake_up_interruptible(&vc->wq);
	}
}

/* One operation with a bounce page for its state or wake mask. */
static long irqchip_op(struct hvk_vm *vm, unsigned int op, u64 a, u64 b, void *buf, size_t len,
		       bool out)
{
	u64 *page = hvk_buf_alloc(PAGE_SIZE);
	long rc;

	if (!page)
		return -ENOMEM;
	if (len && !out)
		memcpy(page, buf, len);
	rc = hv_call(HC_IRQCHIP, vm->handle, op, a, b, virt_to_phys(page));
	if (rc >= 0 && (op == HV_IRQCHIP_LINE || op == HV_IRQCHIP_MSI))
		hvk_wake(vm, *page);
	if (rc >= 0 && out)
		memcpy(buf, page, len);
	hvk_buf_free(page, PAGE_SIZE);
	return rc;
}

/* An MSI (Hyper-V's IPIs); the halted vCPUs it makes runnable are woken. */
long hvk_msi(struct hvk_vm *vm, u64 address, u32 data)
{
	return irqchip_op(vm, HV_IRQCHIP_MSI, address, data, NULL, 0, false);
}

/* A GSI's level from an irqfd; the halted vCPUs it makes runnable are woken. */
void hvk_irq_level(struct hvk_vm *vm, u32 gsi, int level)
{
	irqchip_op(vm, HV_IRQCHIP_LINE, gsi, level, NULL, 0, false);
}

static long create_irqchip(struct hvk_vm *vm)
{
	long rc;

	mutex_lock(&vm->lock);
	rc = vm->irqchip  ? -EEXIST
	     : vm->nvcpus ? -EINVAL
			  : irqchip_op(vm, HV_IRQCHIP_CREATE, 0, 0, NULL, 0, false);
	if (!rc)
		vm->irqchip = true;
	mutex_unlock(&vm->lock);
	return rc;
}

/* KVM_CAP_SPLIT_IRQCHIP: local APICs here, PIC and IOAPIC in user space (the hypervisor checks). */
long hvk_irqchip_split(struct hvk_vm *vm, u64 ioapic_pins)
{
	long rc;

	mutex_lock(&vm->lock);
	rc = irqchip_op(vm, HV_IRQCHIP_SPLIT, ioapic_pins, 0, NULL, 0, false);
	if (!rc)
		vm->irqchip = vm->split = true;
	mutex_unlock(&vm->lock);
	return rc;
}

static long irq_line(struct hvk_vm *vm, struct kvm_irq_level __user *user, bool status)
{
	struct kvm_irq_level l;
	long rc;

	if (copy_from_user(&l, user, sizeof(l)))
		return -EFAULT;
	if (!vm->irqchip)
		return -ENXIO;
	rc = irqchip_op(vm, HV_IRQCHIP_LINE, l.irq, l.level, NULL, 0, false);
	if (rc < 0)
		return rc;
	if (status && put_user((__s32)rc, &user->status))
		return -EFAULT;
	return 0;
}

/* One KVM routing entry in the hypervisor's form; false for what KVM refuses or is not offered. */
static bool route_of(const struct kvm_irq_routing_entry *e, struct hv_irq_route *r)
{
	*r = (struct hv_irq_route){.gsi = e->gsi, .type = e->type};
	if (e->flags)
		return false; /* KVM_MSI_VALID_DEVID: no ITS here */
	if (e->type == KVM_IRQ_ROUTING_IRQCHIP && e->u.irqchip.irqchip <= 2 &&
	    e->u.irqchip.pin < HV_IRQCHIP_GSIS) {
		r->chip = e->u.irqchip.irqchip;
		r->pin = e->u.irqchip.pin;
		return true;
	}
	r->type = HV_ROUTE_MSI;
	r->msi_addr = ((u64)e->u.msi.address_hi << 32) | e->u.msi.address_lo;
	r->msi_data = e->u.msi.data;
	return e->type == KVM_IRQ_ROUTING_MSI;
}

/* KVM_SET_GSI_ROUTING: the hypervisor checks the table as KVM does and takes it whole. */
static long set_routing(struct hvk_vm *vm, struct kvm_irq_routing __user *user)
{
	struct kvm_irq_routing_entry e;
	struct kvm_irq_routing head;
	struct hv_irq_route *r;
	long rc = 0;
	u32 i;

	if (copy_from_user(&head, user, sizeof(head)))
		return -EFAULT;
	if (!vm->irqchip)
		return -EINVAL;
	if (head.flags || head.nr > HV_MAX_ROUTES)
		return -EINVAL;
	r = hvk_buf_alloc(HV_MAX_ROUTES * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < head.nr && !rc; i++)
		if (copy_from_user(&e, &user->entries[i], sizeof(e)))
			rc = -EFAULT;
		else if (!route_of(&e, &r[i]))
			rc = -EINVAL;
	if (!rc)
		rc = hv_call(HC_IRQCHIP, vm->handle, HV_IRQCHIP_ROUTING, head.nr, 0, virt_to_phys(r));
	hvk_buf_free(r, HV_MAX_ROUTES * sizeof(*r));
	return rc;
}

static long signal_msi(struct hvk_vm *vm, struct kvm_msi __user *user)
{
	struct kvm_msi m;

	if (copy_from_user(&m, user, sizeof(m)))
		return -EFAULT;
	if (m.flags)
		return -EINVAL;
	if (!vm->irqchip)
		return -EPERM; /* as KVM without an in-kernel irqchip */
	return irqchip_op(vm, HV_IRQCHIP_MSI, ((u64)m.address_hi << 32) | m.address_lo, m.data,
			  NULL, 0, false);
}

/* KVM_GET/SET_IRQCHIP: chip 0 and 1 are the PICs, 2 the IOAPIC, in KVM's layouts. */
static long irqchip_state(struct hvk_vm *vm, struct kvm_irqchip __user *user, bool set)
{
	struct kvm_irqchip *chip;
	long rc;

	if (!vm->irqchip)
		return -ENXIO;
	chip = kzalloc(sizeof(*chip), GFP_KERNEL);
	if (!chip)
		return -ENOMEM;
	BUILD_BUG_ON(sizeof(chip->chip.pic) != 16 || sizeof(chip->chip.ioapic) != 216);
	if (copy_from_user(chip, user, sizeof(*chip)))
		rc = -EFAULT;
	else if (chip->chip_id > KVM_IRQCHIP_IOAPIC)
		rc = -EINVAL;
	else
		rc = irqchip_op(vm, set ? HV_IRQCHIP_SET : HV_IRQCHIP_GET, chip->chip_id, 0,
				&chip->chip, chip->chip_id == KVM_IRQCHIP_IOAPIC ? 216 : 16, !set);
	if (!rc && !set && copy_to_user(user, chip, sizeof(*chip)))
		rc = -EFAULT;
	kfree(chip);
	return rc;
}

static long create_pit(struct hvk_vm *vm, struct kvm_pit_config __user *user)
{
	struct kvm_pit_config cfg;
	long rc;

	if (copy_from_user(&cfg, user, sizeof(cfg)))
		return -EFAULT;
	if (cfg.flags & ~KVM_PIT_SPEAKER_DUMMY)
		return -EINVAL;
	mutex_lock(&vm->lock);
	rc = !vm->irqchip ? -ENOENT
	     : vm->pit	  ? -EEXIST
			  : irqchip_op(vm, HV_IRQCHIP_PIT, 0, 0, NULL, 0, false);
	if (!rc)
		vm->pit = true;
	mutex_unlock(&vm->lock);
	return rc;
}

static long pit_state(struct hvk_vm *vm, struct kvm_pit_state2 __user *user, bool set)
{
	struct kvm_pit_state2 s;
	long rc;

	BUILD_BUG_ON(sizeof(s) != 112);
	if (!vm->pit)
		return -ENXIO;
	if (set && copy_from_user(&s, user, sizeof(s)))
		return -EFAULT;
	rc = irqchip_op(vm, set ? HV_IRQCHIP_PIT_SET : HV_IRQCHIP_PIT_GET, 0, 0, &s, sizeof(s),
			!set);
	if (!rc && !set && copy_to_user(user, &s, sizeof(s)))
		rc = -EFAULT;
	return rc;
}

long hvk_irqchip_vm_ioctl(struct hvk_vm *vm, unsigned int ioctl, void __user *argp)
{
	switch (ioctl) {
	case KVM_CREATE_IRQCHIP:
		return create_irqchip(vm);
	case KVM_IRQ_LINE:
		return irq_line(vm, argp, false);
	case KVM_IRQ_LINE_STATUS:
		return irq_line(vm, argp, true);
	case KVM_SIGNAL_MSI:
		return signal_msi(vm, argp);
	case KVM_GET_IRQCHIP:
		return irqchip_state(vm, argp, false);
	case KVM_SET_IRQCHIP:
		return irqchip_state(vm, argp, true);
	case KVM_CREATE_PIT2:
		return create_pit(vm, argp);
	case KVM_GET_PIT2:
		return pit_state(vm, argp, false);
	case KVM_SET_PIT2:
		return pit_state(vm, argp, true);
	case KVM_SET_GSI_ROUTING:
		return set_routing(vm, argp);
	case KVM_SET_BOOT_CPU_ID: /* the hypervisor says EBUSY once a vCPU exists */
		return irqchip_op(vm, HV_IRQCHIP_BOOT_CPU, (unsigned long)argp, 0, NULL, 0, false);
	default:
		return -ENOTTY;
	}
}
