// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_IRQFD: an eventfd whose signal raises a GSI of the in-hypervisor irqchip (a pulse: high,
 * then low, as KVM injects a non-resampling irqfd). The eventfd's wait queue calls us in atomic
 * context; the hypercall is made from a work item. A resampling irqfd (GSIs below 64) holds the
 * GSI high instead; the guest's EOI at the IOAPIC lowers it in the hypervisor, and the exit
 * that reports it here signals the resamplefd, as KVM's do.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "hvk.h"

struct hvk_irqfd {
	struct list_head link;
	struct hvk_vm *vm;
	struct eventfd_ctx *ctx;
	struct eventfd_ctx *resample; /* KVM_IRQFD_FLAG_RESAMPLE's, or NULL */
	u32 gsi;
	wait_queue_entry_t wait;
	poll_table pt;
	wait_queue_head_t *wqh;
	struct work_struct inject;
};

static void irqfd_inject(struct work_struct *work)
{
	struct hvk_irqfd *f = container_of(work, struct hvk_irqfd, inject);

	hvk_irq_level(f->vm, f->gsi, 1);
	if (!f->resample) /* an edge: high, then low */
		hvk_irq_level(f->vm, f->gsi, 0);
}

/* Called by the eventfd with its wait-queue lock held: consume the count, inject later. */
static int irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode, int sync, void *key)
{
	struct hvk_irqfd *f = container_of(wait, struct hvk_irqfd, wait);
	__poll_t flags = key_to_poll(key);
	u64 cnt;

	if (flags & EPOLLIN) {
		eventfd_ctx_do_read(f->ctx, &cnt);
		schedule_work(&f->inject);
	}
	return 0;
}

static void irqfd_queue(struct file *file, wait_queue_head_t *wqh, poll_table *pt)
{
	struct hvk_irqfd *f = container_of(pt, struct hvk_irqfd, pt);

	f->wqh = wqh;
	add_wait_queue_priority(wqh, &f->wait);
}

static void irqfd_free(struct hvk_irqfd *f)
{
	u64 cnt;

	eventfd_ctx_remove_wait_queue(f->ctx, &f->wait, &cnt);
	flush_work(&f->inject);
	eventfd_ctx_put(f->ctx);
	if (f->resample)
		eventfd_ctx_put(f->resample);
	kfree(f);
}

/* The last resampling irqfd of a GSI went: the GSI stops being resampled and drops. */
static void resample_off(struct hvk_vm *vm, u32 gsi)
{
	struct hvk_irqfd *p;
	bool other = false;

	spin_lock(&vm->ioevent_lock);
	list_for_each_entry(p, &vm->irqfds, link) other |= p->resample && p->gsi == gsi;
	spin_unlock(&vm->ioevent_lock);
	if (other)
		return;
	hv_call(HC_IRQCHIP, vm->handle, HV_IRQCHIP_RESAMPLE, gsi, 0, 0);
	hvk_irq_level(vm, gsi, 0);
}

/* An exit reported resampling GSIs the guest EOIed: their resamplefds are signalled. */
void hvk_irqfd_resampled(struct hvk_vm *vm, u64 gsis)
{
	struct hvk_irqfd *p;

	spin_lock(&vm->ioevent_lock);
	list_for_each_entry(p, &vm->irqfds, link)
		if (p->resample && p->gsi < 64 && (gsis >> p->gsi & 1))
			eventfd_signal(p->resample, 1);
	spin_unlock(&vm->ioevent_lock);
}

static long assign(struct hvk_vm *vm, struct kvm_irqfd *a)
{
	struct hvk_irqfd *f, *p;
	struct fd file;
	long rc = 0;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	file = fdget(a->fd);
	if (!file.file) {
		kfree(f);
		return -EBADF;
	}
	f->ctx = eventfd_ctx_fileget(file.file);
	if (IS_ERR(f->ctx)) {
		rc = PTR_ERR(f->ctx);
		goto out;
	}
	f->vm = vm;
	f->gsi = a->gsi;
	if (a->flags & KVM_IRQFD_FLAG_RESAMPLE) {
		f->resample = eventfd_ctx_fdget(a->resamplefd);
		rc = IS_ERR(f->resample) ? PTR_ERR(f->resample)
					 : hv_call(HC_IRQCHIP, vm->handle, HV_IRQCHIP_RESAMPLE,
						   a->gsi, 1, 0);
		if (rc) {
			if (!IS_ERR(f->resample))
				eventfd_ctx_put(f->resample);
			eventfd_ctx_put(f->ctx);
			goto out;
		}
	}
	INIT_WORK(&f->inject, irqfd_inject);
	init_waitqueue_func_entry(&f->wait, irqfd_wakeup);
	init_poll_funcptr(&f->pt, irqfd_queue);
	spin_lock(&vm->ioevent_lock);
	list_for_each_entry(p, &vm->irqfds, link) if (p->ctx == f->ctx) rc =
		-EBUSY; /* one eventfd, one irqfd */
	if (!rc)
		list_add_tail(&f->link, &vm->irqfds);
	spin_unlock(&vm->ioevent_lock);
	if (rc) {
		if (f->resample) {
			eventfd_ctx_put(f->resample);
			resample_off(vm, f->gsi);
		}
		eventfd_ctx_put(f->ctx);
		goto out;
	}
	if (vfs_poll(file.file, &f->pt) & EPOLLIN) /* signalled already */
		schedule_work(&f->inject);
	fdput(file);
	return 0;
out:
	fdput(file);
	kfree(f);
	return rc;
}

/* As KVM: removing an irqfd that is not there is not an error. */
static long deassign(struct hvk_vm *vm, struct kvm_irqfd *a)
{
	struct eventfd_ctx *ctx = eventfd_ctx_fdget(a->fd);
	struct hvk_irqfd *p, *found = NULL;

	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	spin_lock(&vm->ioevent_lock);
	list_for_each_entry(p, &vm->irqfds, link) if (!found && p->ctx == ctx && p->gsi == a->gsi)
		found = p;
	if (found)
		list_del(&found->link);
	spin_unlock(&vm->ioevent_lock);
	eventfd_ctx_put(ctx);
	if (found && found->resample) {
		irqfd_free(found);
		resample_off(vm, a->gsi);
	} else if (found) {
		irqfd_free(found);
	}
	return 0;
}

long hvk_irqfd(struct hvk_vm *vm, void __user *argp)
{
	struct kvm_irqfd a;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~(KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE))
		return -EINVAL;
	if (a.flags & KVM_IRQFD_FLAG_DEASSIGN)
		return deassign(vm, &a);
	if (!vm->irqchip) /* as KVM, any GSI: one without a route takes the signals to nowhere */
		return -EINVAL;
	if ((a.flags & KVM_IRQFD_FLAG_RESAMPLE) && vm->split)
		return -EINVAL; /* as KVM: resampling needs the IOAPIC in the hypervisor */
	return assign(vm, &a);
}

void hvk_irqfd_release(struct hvk_vm *vm)
{
	struct hvk_irqfd *p, *t;

	list_for_each_entry_safe(p, t, &vm->irqfds, link) irqfd_free(p);
}
