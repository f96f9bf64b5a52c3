/*
 * The irqchip's state as dom0 reads and writes it (KVM_GET/SET_IRQCHIP, KVM_GET/SET_PIT2,
 * KVM_GET/SET_LAPIC, KVM_SET_VAPIC_ADDR), and the TPR as CR8 and kvm_run show it.
 */
#include "../lib/errno.h"
#include "irqchip_priv.h"

/* KVM_GET/SET_IRQCHIP: chip 0 and 1 the PICs (16 bytes), 2 the IOAPIC (216 bytes). */
int vm_irqchip_state(struct vm *vm, unsigned chip, void *buf, bool set)
{
	struct irqchip *c = vm->irqchip;
	int rc = 0;

	if (!c || c->split)
		return -ENXIO;
	if (chip > 2)
		return -EINVAL;
	chip_lock(c);
	if (chip < 2 && set)
		rc = pic_set_state(&c->pic, chip, buf);
	else if (chip < 2)
		pic_get_state(&c->pic, chip, buf);
	else if (set)
		rc = ioapic_set_state(&c->ioapic, buf);
	else
		ioapic_get_state(&c->ioapic, buf);
	spin_unlock(&c->lock);
	return rc ? -EINVAL : 0;
}

int vm_pit_state(struct vm *vm, void *buf, bool set)
{
	struct irqchip *c = vm->irqchip;
	int rc = 0;

	if (!c || !c->has_pit)
		return -ENXIO;
	chip_lock(c);
	if (set)
		rc = pit_set_state(&c->pit, buf, &c->env);
	else
		pit_get_state(&c->pit, buf, &c->env);
	spin_unlock(&c->lock);
	return rc ? -EINVAL : 0;
}

int vcpu_lapic_state(struct vcpu *v, void *buf, bool set)
{
	struct irqchip *c = v->vm->irqchip;
	int rc = 0;

	if (!c || !v->lapic)
		return -ENXIO;
	chip_lock(c);
	if (set)
		rc = vlapic_set_state(v->lapic, buf, &c->env);
	else
		vlapic_get_state(v->lapic, buf, &c->env);
	spin_unlock(&c->lock);
	return rc ? -EINVAL : 0;
}

/* KVM_SET_VAPIC_ADDR: where TPR, ISR and IRR are mirrored around runs (0: nowhere). */
int vcpu_set_vapic(struct vcpu *v, uint64_t gpa)
{
	uint32_t probe;

	if (!v->lapic || (gpa && vm_read(v->vm, gpa, &probe, 4)))
		return -EINVAL; /* as KVM: a local APIC, and (not 0) a page of guest memory */
	v->vapic = gpa;
	return 0;
}

/*
 * kvm_run's apic_base and cr8 at an exit, read without the chip's lock: they change only on this
 * vCPU's thread or by a VM-wide state restore, and either side of such a race is a valid value.
 */
void vcpu_exit_apic(struct vcpu *v, struct vm_exit *x)
{
	x->apic_base = v->lapic ? v->lapic->apic_base : v->apic_base; /* a local APIC: an irqchip */
	x->cr8 = v->lapic ? vlapic_tpr(v->lapic) >> 4 : v->tpr;
}

/* CR8: bits 7:4 of the local APIC's TPR with an irqchip (as KVM), else a register of its own. */
uint8_t vcpu_cr8(struct vcpu *v)
{
	struct irqchip *c = v->vm->irqchip;
	uint8_t tpr;

	if (!c || !v->lapic)
		return v->tpr;
	spin_lock(&c->lock);
	tpr = vlapic_tpr(v->lapic);
	spin_unlock(&c->lock);
	return tpr >> 4;
}

void vcpu_set_cr8(struct vcpu *v, uint64_t cr8)
{
	struct irqchip *c = v->vm->irqchip;

	if (!c || !v->lapic) {
		v->tpr = cr8 & 15;
		return;
	}
	chip_lock_own(c, v);
	vlapic_set_tpr(v->lapic, (uint8_t)((cr8 & 15) << 4));
	spin_unlock(&c->lock);
}

/* KVM_SET_BOOT_CPU_ID: which vCPU is the BSP; only before the first vCPU, as in KVM. */
int vm_set_boot_cpu(struct vm *vm, uint64_t id)
{
	int rc = 0;

	spin_lock(&vm->create_lock);
	if (vm->nvcpus)
		rc = -EBUSY;
	else if (id >= VM_MAX_VCPUS)
		rc = -EINVAL;
	else
		vm->bsp_id = (unsigned)id;
	spin_unlock(&vm->create_lock);
	return rc;
}
