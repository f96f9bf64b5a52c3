// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_CREATE_DEVICE and device fds (api.txt 4.79-4.81), for the hypervisor's device models
 * (hv_devices.h). A device lives as long as its VM, as in KVM; its fd holds the VM.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hv_devices.h"
#include "hvk.h"

struct hvk_device {
	struct hvk_vm *vm;
	long handle; /* the hypervisor's, within the VM */
	void *val;   /* a bounce page for attribute values */
};

/*
 * KVM_SET/GET/HAS_DEVICE_ATTR: the value at attr.addr is a u64 or a struct; the hypervisor says
 * its size. EFAULT comes before any effect.
 */
static long device_attr(struct hvk_device *d, unsigned int ioctl, void __user *argp)
{
	void __user *uaddr;
	struct kvm_device_attr a;
	unsigned int op;
	long rc, size;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	uaddr = u64_to_user_ptr(a.addr);
	op = ioctl == KVM_HAS_DEVICE_ATTR   ? HV_DEV_HAS
	     : ioctl == KVM_GET_DEVICE_ATTR ? HV_DEV_GET
					    : HV_DEV_SET;
	size = hv_call(HC_DEV_ATTR, d->vm->handle, d->handle, HV_DEV_HAS | ((u64)a.group << 8),
		       a.attr, 0);
	if (size < 0 || op == HV_DEV_HAS)
		return min(size, 0L);
	if (size > PAGE_SIZE)
		return -EIO;
	if (op == HV_DEV_SET && copy_from_user(d->val, uaddr, size))
		return -EFAULT;
	if (op == HV_DEV_GET && clear_user(uaddr, size)) /* writable: a read may consume state */
		return -EFAULT;
	rc = hv_call(HC_DEV_ATTR, d->vm->handle, d->handle, op | ((u64)a.group << 8), a.attr,
		     virt_to_phys(d->val));
	if (!rc && op == HV_DEV_GET && copy_to_user(uaddr, d->val, size))
		return -EFAULT;
	return rc;
}

static long device_ioctl(struct file *f, unsigned int ioctl, unsigned long arg)
{
	struct hvk_device *d = f->private_data;
	long rc;

	if (d->vm->mm != current->mm)
		return -EIO;
	switch (ioctl) {
	case KVM_SET_DEVICE_ATTR:
	case KVM_GET_DEVICE_ATTR:
	case KVM_HAS_DEVICE_ATTR:
		mutex_lock(&d->vm->lock); /* one bounce page per device */
		rc = device_attr(d, ioctl, (void __user *)arg);
		mutex_unlock(&d->vm->lock);
		return rc;
	default:
		return -ENOTTY;
	}
}

static void device_free(struct hvk_device *d)
{
	hvk_vm_put(d->vm);
	free_page((unsigned long)d->val);
	kfree(d);
}

static int device_release(struct inode *inode, struct file *f)
{
	device_free(f->private_data);
	return 0;
}

static const struct file_operations device_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = device_ioctl,
	.release = device_release,
	.llseek = noop_llseek,
};

/* ENODEV for a type the hypervisor lacks, 0 and nothing made for KVM_CREATE_DEVICE_TEST. */
long hvk_create_device(struct hvk_vm *vm, void __user *argp)
{
	struct kvm_create_device cd;
	struct hvk_device *d;
	bool test;
	long h;
	int fd;

	if (copy_from_user(&cd, argp, sizeof(cd)))
		return -EFAULT;
	test = cd.flags & KVM_CREATE_DEVICE_TEST;
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->val = (void *)get_zeroed_page(GFP_KERNEL);
	if (!d->val) {
		kfree(d);
		return -ENOMEM;
	}
	mutex_lock(&vm->lock);
	h = hv_call(HC_DEV_CREATE, vm->handle, cd.type, test, 0, 0);
	if (h >= 0 && !test && cd.type >= KVM_DEV_TYPE_HV_PIC && cd.type <= KVM_DEV_TYPE_HV_PIT)
		vm->irqchip = true; /* a handle on KVM_CREATE_IRQCHIP's models, made or found */
	if (h >= 0 && !test && cd.type == KVM_DEV_TYPE_HV_PIT)
		vm->pit = true;
	mutex_unlock(&vm->lock);
	if (h < 0 || test) {
		free_page((unsigned long)d->val);
		kfree(d);
		return h < 0 ? h : 0;
	}
	d->vm = vm;
	d->handle = h;
	kref_get(&vm->ref);
	fd = anon_inode_getfd("kvm-hv-device", &device_fops, d, O_RDWR | O_CLOEXEC);
	if (fd < 0) { /* the device itself lives on with the VM, as in KVM */
		device_free(d);
		return fd;
	}
	cd.fd = fd;
	if (copy_to_user(argp, &cd, sizeof(cd)))
		return -EFAULT; /* as KVM: the fd stays installed */
	return 0;
}
