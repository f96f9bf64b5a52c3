// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_CREATE_DEVICE and device fds (api.txt 4.79-4.81), for the hypervisor's device models
 * (hv_devices.h). A device lives as long as its VM, as in KVM; its fd holds the VM.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hvk.h"

struct hvk_device {
	struct hvk_vm *vm;
	long handle; /* the hypervisor's, within the VM */
	u64 *val;    /* a bounce word for attribute values */
};

/* KVM_SET/GET/HAS_DEVICE_ATTR: the value is a u64 at attr.addr (EFAULT before any effect). */
static long device_attr(struct hvk_device *d, unsigned int ioctl, void __user *argp)
{
	u64 __user *uaddr;
	struct kvm_device_attr a;
	unsigned int op;
	long rc;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	uaddr = u64_to_user_ptr(a.addr);
	op = ioctl == KVM_HAS_DEVICE_ATTR ? HV_DEV_HAS :
	     ioctl == KVM_GET_DEVICE_ATTR ? HV_DEV_GET : HV_DEV_SET;
	if (op == HV_DEV_SET && get_user(*d->val, uaddr))
		return -EFAULT;
	if (op == HV_DEV_GET && put_user(0, uaddr)) /* writable: a read may consume state */
		return -EFAULT;
	rc = hv_call(HC_DEV_ATTR, d->vm->handle, d->handle, op | ((u64)a.group << 8), a.attr,
		     virt_to_phys(d->val));
	if (!rc && op == HV_DEV_GET && put_user(*d->val, uaddr))
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
		mutex_lock(&d->vm->lock); /* one bounce word per device */
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
	d->val = (u64 *)get_zeroed_page(GFP_KERNEL);
	if (!d->val) {
		kfree(d);
		return -ENOMEM;
	}
	mutex_lock(&vm->lock);
	h = hv_call(HC_DEV_CREATE, vm->handle, cd.type, test, 0, 0);
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
