// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_REGISTER_COALESCED_MMIO: a guest's writes to a registered zone (MMIO, or ports for
 * KVM_CAP_COALESCED_PIO) are queued in the VM's ring page instead of each ending KVM_RUN; user
 * space drains the ring (page KVM_COALESCED_MMIO_PAGE_OFFSET of every vCPU's mmap) at its next
 * exit. A write goes out as a normal exit when the ring is full. Reads always exit.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hvk.h"

#define RING_MAX ((PAGE_SIZE - sizeof(struct kvm_coalesced_mmio_ring)) / \
		  sizeof(struct kvm_coalesced_mmio))
#define MAX_ZONES 1000 /* as KVM's I/O bus holds at most */

struct hvk_zone {
	struct list_head link;
	struct kvm_coalesced_mmio_zone z;
};

/* Whether [addr, addr + len) lies wholly in the zone (no wrap-around). */
static bool zone_holds(const struct kvm_coalesced_mmio_zone *z, u64 addr, u64 len)
{
	return addr + len >= addr && addr >= z->addr && addr + len <= z->addr + z->size;
}

static long do_register(struct hvk_vm *vm, const struct kvm_coalesced_mmio_zone *z)
{
	struct hvk_zone *n;
	long rc = 0;

	if (z->pio > 1)
		return -EINVAL;
	n = kzalloc(sizeof(*n), GFP_KERNEL);
	if (!n)
		return -ENOMEM;
	n->z = *z;
	spin_lock(&vm->ioevent_lock);
	if (vm->nzones >= MAX_ZONES) {
		rc = -ENOSPC;
	} else {
		list_add_tail(&n->link, &vm->zones);
		vm->nzones++;
	}
	spin_unlock(&vm->ioevent_lock);
	if (rc)
		kfree(n);
	return rc;
}

/* As KVM: every zone of that kind that holds the whole range given goes. */
static long do_unregister(struct hvk_vm *vm, const struct kvm_coalesced_mmio_zone *z)
{
	struct hvk_zone *p, *t;
	LIST_HEAD(gone);

	spin_lock(&vm->ioevent_lock);
	list_for_each_entry_safe(p, t, &vm->zones, link) {
		if (p->z.pio == z->pio && zone_holds(&p->z, z->addr, z->size)) {
			list_move(&p->link, &gone);
			vm->nzones--;
		}
	}
	spin_unlock(&vm->ioevent_lock);
	list_for_each_entry_safe(p, t, &gone, link)
		kfree(p);
	return 0;
}

long hvk_coalesced_ioctl(struct hvk_vm *vm, unsigned int ioctl, void __user *argp)
{
	struct kvm_coalesced_mmio_zone z;

	if (copy_from_user(&z, argp, sizeof(z)))
		return -EFAULT;
	return ioctl == KVM_REGISTER_COALESCED_MMIO ? do_register(vm, &z) : do_unregister(vm, &z);
}

/* A guest write: true when a zone took it into the ring (the write is then complete). */
bool hvk_coalesced_write(struct hvk_vm *vm, bool pio, u64 addr, u32 len, u64 val)
{
	struct kvm_coalesced_mmio_ring *ring = page_address(vm->ring);
	struct kvm_coalesced_mmio *e;
	struct hvk_zone *p;
	bool hit = false;
	u32 last;

	if (len > sizeof(e->data) || list_empty(&vm->zones)) /* (as hvk_ioeventfd_write) */
		return false;
	spin_lock(&vm->ioevent_lock);
	list_for_each_entry(p, &vm->zones, link)
		hit = hit || (p->z.pio == pio && zone_holds(&p->z, addr, len));
	last = READ_ONCE(ring->last); /* user space can write the page: bounded before use */
	if (hit && last < RING_MAX && (last + 1) % RING_MAX != READ_ONCE(ring->first)) {
		e = &ring->coalesced_mmio[last];
		e->phys_addr = addr;
		e->len = len;
		e->pio = pio;
		memcpy(e->data, &val, len);
		smp_wmb(); /* the entry before the index that publishes it */
		WRITE_ONCE(ring->last, (last + 1) % RING_MAX);
	} else {
		hit = false;
	}
	spin_unlock(&vm->ioevent_lock);
	return hit;
}

void hvk_coalesced_release(struct hvk_vm *vm)
{
	struct hvk_zone *p, *t;

	list_for_each_entry_safe(p, t, &vm->zones, link)
		kfree(p);
	if (vm->ring)
		put_page(vm->ring);
}
