// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_IOEVENTFD: a guest's write to a port or MMIO address (of a length, optionally of a value)
 * signals an eventfd and completes without reaching user space. Checked on the exits the
 * hypervisor hands to dom0, before they would become KVM_EXIT_IO or KVM_EXIT_MMIO.
 */
#include <linux/eventfd.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hvk.h"

struct hvk_ioeventfd {
	struct list_head link;
	struct eventfd_ctx *ctx;
	u64 addr, data;
	u32 len; /* 0: any length */
	bool pio, datamatch;
};

#define FLAGS (KVM_IOEVENTFD_FLAG_DATAMATCH | KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DEASSIGN)

static bool same_trigger(const struct hvk_ioeventfd *a, const struct hvk_ioeventfd *b)
{
	return a->pio == b->pio && a->addr == b->addr && (!a->len || !b->len || a->len == b->len) &&
	       (!a->datamatch || !b->datamatch || a->data == b->data);
}

static long assign(struct hvk_vm *vm, struct hvk_ioeventfd *n)
{
	struct hvk_ioeventfd *p;
	long rc = 0;

	spin_lock(&vm->ioevent_lock);
	list_for_each_entry(p, &vm->ioeventfds, link) if (same_trigger(p, n)) rc = -EEXIST;
	if (!rc)
		list_add_tail(&n->link, &vm->ioeventfds);
	spin_unlock(&vm->ioevent_lock);
	return rc;
}

/* The entry made with the same eventfd and the same trigger, exactly. */
static long deassign(struct hvk_vm *vm, const struct hvk_ioeventfd *n)
{
	struct hvk_ioeventfd *p, *found = NULL;

	spin_lock(&vm->ioevent_lock);
	list_for_each_entry(p, &vm->ioeventfds,
			    link) if (!found && p->ctx == n->ctx && p->pio == n->pio &&
				      p->addr == n->addr && p->len == n->len &&
				      p->datamatch == n->datamatch &&
				      (!p->datamatch || p->data == n->data)) found = p;
	if (found)
		list_del(&found->link);
	spin_unlock(&vm->ioevent_lock);
	if (!found)
		return -ENOENT;
	eventfd_ctx_put(found->ctx);
	kfree(found);
	return 0;
}

long hvk_ioeventfd(struct hvk_vm *vm, void __user *argp)
{
	struct kvm_ioeventfd a;
	struct hvk_ioeventfd *n;
	long rc;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if ((a.flags & ~FLAGS) || a.addr + a.len < a.addr ||
	    (a.len != 0 && a.len != 1 && a.len != 2 && a.len != 4 && a.len != 8) ||
	    (!a.len && (a.flags & KVM_IOEVENTFD_FLAG_DATAMATCH)))
		return -EINVAL;
	n = kzalloc(sizeof(*n), GFP_KERNEL);
	if (!n)
		return -ENOMEM;
	*n = (struct hvk_ioeventfd){.addr = a.addr,
				    .data = a.datamatch,
				    .len = a.len,
				    .pio = a.flags & KVM_IOEVENTFD_FLAG_PIO,
				    .datamatch = a.flags & KVM_IOEVENTFD_FLAG_DATAMATCH};
	n->ctx = eventfd_ctx_fdget(a.fd);
	rc = IS_ERR(n->ctx) ? PTR_ERR(n->ctx) : 0;
	if (!rc && (a.flags & KVM_IOEVENTFD_FLAG_DEASSIGN))
		rc = deassign(vm, n);
	else if (!rc && !(rc = assign(vm, n)))
		return 0;
	if (!IS_ERR(n->ctx))
		eventfd_ctx_put(n->ctx);
	kfree(n);
	return rc;
}

/* A guest write: true when an ioeventfd took it (signalled; the write is complete). */
bool hvk_ioeventfd_write(struct hvk_vm *vm, bool pio, u64 addr, u32 len, u64 val)
{
	u64 mask = len >= 8 ? ~0ULL : (1ULL << (len * 8)) - 1;
	struct hvk_ioeventfd *p;
	bool hit = false;

	if (list_empty(&vm->ioeventfds)) /* (a racing KVM_IOEVENTFD is ordered after this access) */
		return false;
	spin_lock(&vm->ioevent_lock);
	list_for_each_entry(p, &vm->ioeventfds,
			    link) if (!hit && p->pio == pio && p->addr == addr &&
				      (!p->len || p->len == len) &&
				      (!p->datamatch || (p->data & mask) == (val & mask)))
	{
		eventfd_signal(p->ctx, 1);
		hit = true;
	}
	spin_unlock(&vm->ioevent_lock);
	return hit;
}

void hvk_ioeventfd_release(struct hvk_vm *vm)
{
	struct hvk_ioeventfd *p, *t;

	list_for_each_entry_safe(p, t, &vm->ioeventfds, link)
	{
		eventfd_ctx_put(p->ctx);
		kfree(p);
	}
}
