// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_hv: /dev/kvm in dom0. Every KVM ioctl is checked here, then forwarded over hypercalls
 * (hvabi.h) to the hypervisor, which owns the VMs, their vCPUs and their EPT.
 *
 * Memory slots pin the user pages and hand their frames to the hypervisor. A VM's slots change
 * only while none of its vCPUs runs (slots_lock), so no CPU can still reach an unpinned page.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/io.h>
#include <linux/kvm.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hvabi.h"

#define HVK_MAX_VCPUS 64
#define HVK_MAX_SLOTS 32
#define HVK_RUN_PAGES 2 /* struct kvm_run, then the port I/O data page */

struct hvk_slot {
	u64 gpa, size, uaddr;
	u32 flags;
	struct page **pages;
	unsigned long npages;
};

struct hvk_vm {
	struct kref ref;
	long handle;
	struct mm_struct *mm;
	struct mutex lock; /* vCPU creation */
	struct rw_semaphore slots_lock; /* KVM_RUN reads, slot changes write */
	struct hvk_slot slots[HVK_MAX_SLOTS];
	struct hvk_vcpu *vcpus[HVK_MAX_VCPUS];
	unsigned int nvcpus;
	/*
	 * Where KVM may keep its real-mode TSS and identity page table. Unrestricted guest needs
	 * neither, but the ioctls keep KVM's checks and answers.
	 */
	u64 tss_addr, identity_map_addr;
};

struct hvk_vcpu {
	struct hvk_vm *vm;
	u32 id;
	struct mutex lock;
	struct page *run_page[HVK_RUN_PAGES]; /* mmap()ed by user space */
	struct page *hv_page; /* exit records and register files exchanged with the hypervisor */
	/* the last exit was an IN or an MMIO read: its data comes back on the next KVM_RUN */
	enum { NOTHING, IO_IN, MMIO_READ } pending;
	u8 pending_size;
};

static long check_extension(unsigned long cap)
{
	switch (cap) {
	case KVM_CAP_USER_MEMORY:
	case KVM_CAP_IMMEDIATE_EXIT:
	case KVM_CAP_SET_TSS_ADDR:
	case KVM_CAP_SET_IDENTITY_MAP_ADDR:
		return 1;
	case KVM_CAP_NR_VCPUS:
	case KVM_CAP_MAX_VCPUS:
	case KVM_CAP_MAX_VCPU_ID:
		return HVK_MAX_VCPUS;
	case KVM_CAP_NR_MEMSLOTS:
		return HVK_MAX_SLOTS;
	default:
		return 0; /* only what really works is reported */
	}
}

/* ---- memory slots ---- */

static void slot_release(struct hvk_vm *vm, struct hvk_slot *s)
{
	if (!s->pages)
		return;
	hv_call(HC_VM_UNMAP, vm->handle, s->gpa, s->npages, 0, 0);
	unpin_user_pages(s->pages, s->npages);
	kvfree(s->pages);
	memset(s, 0, sizeof(*s));
}

/* Pins the user range and maps its frames, one page of frame numbers per hypercall. */
static long slot_map(struct hvk_vm *vm, struct hvk_slot *s)
{
	struct page *list = alloc_page(GFP_KERNEL);
	unsigned long done = 0, prot;
	long pinned, rc = 0;
	u64 *pfn;

	if (!list)
		return -ENOMEM;
	s->pages = kvcalloc(s->npages, sizeof(*s->pages), GFP_KERNEL);
	if (!s->pages) {
		__free_page(list);
		return -ENOMEM;
	}
	mmap_read_lock(current->mm);
	pinned = pin_user_pages(s->uaddr, s->npages, FOLL_WRITE | FOLL_LONGTERM, s->pages, NULL);
	mmap_read_unlock(current->mm);
	if (pinned != s->npages) {
		if (pinned > 0)
			unpin_user_pages(s->pages, pinned);
		kvfree(s->pages);
		s->pages = NULL;
		__free_page(list);
		return pinned < 0 ? pinned : -EFAULT;
	}
	prot = HV_PROT_R | HV_PROT_X | (s->flags & KVM_MEM_READONLY ? 0 : HV_PROT_W);
	pfn = page_address(list);
	while (!rc && done < s->npages) {
		unsigned long n = min_t(unsigned long, s->npages - done, HV_MAP_MAX_FRAMES), i;

		for (i = 0; i < n; i++)
			pfn[i] = page_to_pfn(s->pages[done + i]);
		rc = hv_call(HC_VM_MAP, vm->handle, s->gpa + done * PAGE_SIZE, page_to_phys(list),
			     n, prot);
		done += n;
	}
	__free_page(list);
	if (rc)
		slot_release(vm, s);
	return rc;
}

static bool overlaps(struct hvk_vm *vm, unsigned int slot, u64 gpa, u64 size)
{
	unsigned int i;

	for (i = 0; i < HVK_MAX_SLOTS; i++) {
		struct hvk_slot *s = &vm->slots[i];

		if (i != slot && s->pages && gpa < s->gpa + s->size && s->gpa < gpa + size)
			return true;
	}
	return false;
}

/* KVM's rules: aligned and sized in pages; size 0 deletes; a slot's range cannot overlap. */
static long set_memory_region(struct hvk_vm *vm, void __user *argp)
{
	struct kvm_userspace_memory_region r;
	struct hvk_slot *s, n;
	long rc;

	if (copy_from_user(&r, argp, sizeof(r)))
		return -EFAULT;
	if ((r.slot & 0xffff) >= HVK_MAX_SLOTS || (r.slot >> 16))
		return -EINVAL;
	if (r.flags & ~(KVM_MEM_READONLY))
		return -EINVAL;
	if ((r.memory_size | r.guest_phys_addr | r.userspace_addr) & ~PAGE_MASK)
		return -EINVAL;
	if (r.guest_phys_addr + r.memory_size < r.guest_phys_addr ||
	    !access_ok((void __user *)(unsigned long)r.userspace_addr, r.memory_size))
		return -EINVAL;
	s = &vm->slots[r.slot];
	down_write(&vm->slots_lock);
	if (!r.memory_size) {
		slot_release(vm, s);
		up_write(&vm->slots_lock);
		return 0;
	}
	if (overlaps(vm, r.slot, r.guest_phys_addr, r.memory_size)) {
		up_write(&vm->slots_lock);
		return -EEXIST;
	}
	n = (struct hvk_slot){ .gpa = r.guest_phys_addr, .size = r.memory_size,
			       .uaddr = r.userspace_addr, .flags = r.flags,
			       .npages = r.memory_size >> PAGE_SHIFT };
	slot_release(vm, s); /* a changed slot is replaced as a whole */
	rc = slot_map(vm, &n);
	if (!rc)
		*s = n;
	up_write(&vm->slots_lock);
	return rc;
}

/* ---- VM lifetime ---- */

/* Pages still mapped by user space live on until it unmaps them (they hold a reference). */
static void vcpu_free(struct hvk_vcpu *vc)
{
	int i;

	for (i = 0; i < HVK_RUN_PAGES; i++)
		if (vc->run_page[i])
			put_page(vc->run_page[i]);
	if (vc->hv_page)
		__free_page(vc->hv_page);
	kfree(vc);
}

static void vm_free(struct kref *ref)
{
	struct hvk_vm *vm = container_of(ref, struct hvk_vm, ref);
	unsigned int i;

	for (i = 0; i < HVK_MAX_VCPUS; i++)
		if (vm->vcpus[i])
			vcpu_free(vm->vcpus[i]);
	for (i = 0; i < HVK_MAX_SLOTS; i++)
		slot_release(vm, &vm->slots[i]);
	hv_call(HC_VM_DESTROY, vm->handle, 0, 0, 0, 0);
	mmdrop(vm->mm);
	kfree(vm);
}

static void vm_put(struct hvk_vm *vm)
{
	kref_put(&vm->ref, vm_free);
}

/* ---- vCPUs ---- */

static struct hv_exit *hv_exit_of(struct hvk_vcpu *vc)
{
	return page_address(vc->hv_page);
}

static struct kvm_run *run_of(struct hvk_vcpu *vc)
{
	return page_address(vc->run_page[0]);
}

static u8 *pio_of(struct hvk_vcpu *vc)
{
	return page_address(vc->run_page[1]);
}

/* What the hypervisor could not handle, as KVM reports it, with the hypervisor's details. */
static long internal_error(struct kvm_run *run, const struct hv_exit *e)
{
	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run->internal.ndata = 4;
	run->internal.data[0] = e->kind;
	run->internal.data[1] = e->reason;
	run->internal.data[2] = e->qual;
	run->internal.data[3] = e->gpa;
	return 0;
}

static void fill_io(struct hvk_vcpu *vc, const struct hv_exit *e)
{
	struct kvm_run *run = run_of(vc);

	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = e->in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = e->size;
	run->io.port = e->port;
	run->io.count = 1; /* string forms come one element per exit */
	run->io.data_offset = PAGE_SIZE;
	if (!e->in)
		memcpy(pio_of(vc), &e->data, e->size);
	vc->pending = e->in ? IO_IN : NOTHING;
	vc->pending_size = e->size;
}

/* A decoded access to memory the VM has no RAM at: user space performs it. */
static long fill_mmio(struct hvk_vcpu *vc, const struct hv_exit *e)
{
	struct kvm_run *run = run_of(vc);

	if (!e->size || e->size > sizeof(run->mmio.data))
		return internal_error(run, e);
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = e->gpa;
	run->mmio.len = e->size;
	run->mmio.is_write = e->write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (e->write)
		memcpy(run->mmio.data, &e->data, e->size);
	vc->pending = e->write ? NOTHING : MMIO_READ;
	vc->pending_size = e->size;
	return 0;
}

/* Turns the hypervisor's exit into struct kvm_run; 1 means run again, else the ioctl result. */
static long translate_exit(struct hvk_vcpu *vc, const struct hv_exit *e)
{
	struct kvm_run *run = run_of(vc);

	switch (e->kind) {
	case HV_EXIT_IO:
		fill_io(vc, e);
		return 0;
	case HV_EXIT_HLT:
		run->exit_reason = KVM_EXIT_HLT;
		return 0;
	case HV_EXIT_SHUTDOWN:
		run->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	case HV_EXIT_FAIL_ENTRY:
		run->exit_reason = KVM_EXIT_FAIL_ENTRY;
		run->fail_entry.hardware_entry_failure_reason = e->reason;
		return 0;
	case HV_EXIT_MMIO:
		return fill_mmio(vc, e);
	case HV_EXIT_INTR:
	case HV_EXIT_TIMEOUT:
		return 1;
	default:
		return internal_error(run, e);
	}
}

static long vcpu_run(struct hvk_vcpu *vc)
{
	struct kvm_run *run = run_of(vc);
	unsigned long in_data = 0; /* completes the IN or MMIO read the last exit stopped at */
	long rc;

	if (vc->pending == IO_IN)
		memcpy(&in_data, pio_of(vc), vc->pending_size);
	else if (vc->pending == MMIO_READ)
		memcpy(&in_data, run->mmio.data, vc->pending_size);
	do {
		if (READ_ONCE(run->immediate_exit) || signal_pending(current)) {
			run->exit_reason = KVM_EXIT_INTR;
			return -EINTR;
		}
		down_read(&vc->vm->slots_lock);
		rc = hv_call(HC_VCPU_RUN, vc->vm->handle, vc->id, page_to_phys(vc->hv_page), in_data,
			     0);
		up_read(&vc->vm->slots_lock);
		if (rc)
			return rc;
		vc->pending = NOTHING; /* the access completed: its data went in */
		in_data = 0;
		rc = translate_exit(vc, hv_exit_of(vc));
		cond_resched();
	} while (rc == 1);
	return rc;
}

/* Register files go through the hypervisor page; their layouts are KVM's. */
static long vcpu_regs(struct hvk_vcpu *vc, unsigned int nr, void __user *argp, size_t len,
		      bool set)
{
	void *buf = page_address(vc->hv_page);
	long rc;

	if (set && copy_from_user(buf, argp, len))
		return -EFAULT;
	rc = hv_call(nr, vc->vm->handle, vc->id, page_to_phys(vc->hv_page), 0, 0);
	if (!rc && !set && copy_to_user(argp, buf, len))
		return -EFAULT;
	return rc;
}

static long vcpu_ioctl(struct file *f, unsigned int ioctl, unsigned long arg)
{
	struct hvk_vcpu *vc = f->private_data;
	void __user *argp = (void __user *)arg;
	long rc;

	if (vc->vm->mm != current->mm)
		return -EIO;
	mutex_lock(&vc->lock);
	switch (ioctl) {
	case KVM_RUN:
		rc = arg ? -EINVAL : vcpu_run(vc);
		break;
	case KVM_GET_REGS:
		rc = vcpu_regs(vc, HC_VCPU_GET_REGS, argp, sizeof(struct kvm_regs), false);
		break;
	case KVM_SET_REGS:
		rc = vcpu_regs(vc, HC_VCPU_SET_REGS, argp, sizeof(struct kvm_regs), true);
		break;
	case KVM_GET_SREGS:
		rc = vcpu_regs(vc, HC_VCPU_GET_SREGS, argp, sizeof(struct kvm_sregs), false);
		break;
	case KVM_SET_SREGS:
		rc = vcpu_regs(vc, HC_VCPU_SET_SREGS, argp, sizeof(struct kvm_sregs), true);
		break;
	default:
		rc = -EINVAL;
	}
	mutex_unlock(&vc->lock);
	return rc;
}

static vm_fault_t vcpu_fault(struct vm_fault *vmf)
{
	struct hvk_vcpu *vc = vmf->vma->vm_file->private_data;

	if (vmf->pgoff >= HVK_RUN_PAGES)
		return VM_FAULT_SIGBUS;
	vmf->page = vc->run_page[vmf->pgoff];
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct vcpu_vm_ops = {
	.fault = vcpu_fault,
};

static int vcpu_mmap(struct file *f, struct vm_area_struct *vma)
{
	vma->vm_ops = &vcpu_vm_ops;
	return 0;
}

static int vcpu_release(struct inode *inode, struct file *f)
{
	struct hvk_vcpu *vc = f->private_data;

	vm_put(vc->vm);
	return 0;
}

static const struct file_operations vcpu_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vcpu_ioctl,
	.mmap = vcpu_mmap,
	.release = vcpu_release,
	.llseek = noop_llseek,
};

/* The hypervisor's vCPU lives as long as its VM; the pages here as long as this module's VM. */
static long create_vcpu(struct hvk_vm *vm, unsigned long id)
{
	struct hvk_vcpu *vc;
	long rc;
	int fd;

	if (id >= HVK_MAX_VCPUS)
		return -EINVAL;
	mutex_lock(&vm->lock);
	rc = -EEXIST;
	if (vm->vcpus[id])
		goto out;
	rc = -ENOMEM;
	vc = kzalloc(sizeof(*vc), GFP_KERNEL);
	if (!vc)
		goto out;
	vc->run_page[0] = alloc_page(GFP_KERNEL | __GFP_ZERO);
	vc->run_page[1] = alloc_page(GFP_KERNEL | __GFP_ZERO);
	vc->hv_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	rc = vc->run_page[0] && vc->run_page[1] && vc->hv_page ?
		     hv_call(HC_VCPU_CREATE, vm->handle, id, 0, 0, 0) : -ENOMEM;
	if (rc)
		goto free;
	vc->vm = vm;
	vc->id = id;
	mutex_init(&vc->lock);
	kref_get(&vm->ref);
	fd = anon_inode_getfd("kvm-vcpu", &vcpu_fops, vc, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		vm_put(vm); /* the hypervisor's vCPU goes with the VM */
		rc = fd;
		goto out_kept;
	}
	vm->vcpus[id] = vc;
	vm->nvcpus++;
	mutex_unlock(&vm->lock);
	return fd;
free:
	vcpu_free(vc);
out:
	mutex_unlock(&vm->lock);
	return rc;
out_kept:
	vm->vcpus[id] = vc; /* the id stays taken, as the hypervisor's vCPU does */
	mutex_unlock(&vm->lock);
	return rc;
}

/* ---- the VM fd ---- */

static long set_tss_addr(struct hvk_vm *vm, unsigned long addr)
{
	if (addr > (unsigned int)(-3 * PAGE_SIZE))
		return -EINVAL; /* the three pages must fit below 4 GiB */
	vm->tss_addr = addr;
	return 0;
}

static long set_identity_map_addr(struct hvk_vm *vm, void __user *argp)
{
	u64 addr;
	long rc = 0;

	if (copy_from_user(&addr, argp, sizeof(addr)))
		return -EFAULT;
	mutex_lock(&vm->lock);
	if (vm->nvcpus)
		rc = -EEXIST; /* only before the first vCPU, as in KVM */
	else
		vm->identity_map_addr = addr;
	mutex_unlock(&vm->lock);
	return rc;
}

static long vm_ioctl(struct file *f, unsigned int ioctl, unsigned long arg)
{
	struct hvk_vm *vm = f->private_data;

	if (vm->mm != current->mm)
		return -EIO;
	switch (ioctl) {
	case KVM_CREATE_VCPU:
		return create_vcpu(vm, arg);
	case KVM_SET_USER_MEMORY_REGION:
		return set_memory_region(vm, (void __user *)arg);
	case KVM_SET_TSS_ADDR:
		return set_tss_addr(vm, arg);
	case KVM_SET_IDENTITY_MAP_ADDR:
		return set_identity_map_addr(vm, (void __user *)arg);
	case KVM_CHECK_EXTENSION:
		return check_extension(arg);
	default:
		return -ENOTTY;
	}
}

static int vm_release(struct inode *inode, struct file *f)
{
	vm_put(f->private_data);
	return 0;
}

static const struct file_operations vm_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vm_ioctl,
	.release = vm_release,
	.llseek = noop_llseek,
};

static long create_vm(unsigned long type)
{
	struct hvk_vm *vm;
	int fd;

	if (type)
		return -EINVAL;
	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return -ENOMEM;
	vm->handle = hv_call(HC_VM_CREATE, 0, 0, 0, 0, 0);
	if (vm->handle < 0) {
		fd = vm->handle;
		kfree(vm);
		return fd;
	}
	kref_init(&vm->ref);
	mutex_init(&vm->lock);
	init_rwsem(&vm->slots_lock);
	vm->mm = current->mm;
	mmgrab(vm->mm);
	fd = anon_inode_getfd("kvm-vm", &vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		vm_put(vm);
	return fd;
}

/* ---- /dev/kvm ---- */

/* KVM's rule: nmsrs always comes back as the count needed; E2BIG when the caller's was less. */
static long get_msr_index_list(struct kvm_msr_list __user *user)
{
	struct page *page = alloc_page(GFP_KERNEL);
	struct kvm_msr_list head;
	long n;

	if (!page)
		return -ENOMEM;
	n = hv_call(HC_MSR_LIST, page_to_phys(page), PAGE_SIZE / 4, 0, 0, 0);
	if (n < 0 || n > PAGE_SIZE / 4)
		n = -EIO;
	else if (copy_from_user(&head, user, sizeof(head)))
		n = -EFAULT;
	else if (put_user((u32)n, &user->nmsrs))
		n = -EFAULT;
	else if (head.nmsrs < n)
		n = -E2BIG;
	else if (copy_to_user(user->indices, page_address(page), n * sizeof(u32)))
		n = -EFAULT;
	else
		n = 0;
	__free_page(page);
	return n;
}

static long dev_ioctl(struct file *f, unsigned int ioctl, unsigned long arg)
{
	switch (ioctl) {
	case KVM_GET_API_VERSION:
		return arg ? -EINVAL : KVM_API_VERSION;
	case KVM_CREATE_VM:
		return create_vm(arg);
	case KVM_CHECK_EXTENSION:
		return check_extension(arg);
	case KVM_GET_VCPU_MMAP_SIZE:
		return arg ? -EINVAL : HVK_RUN_PAGES * PAGE_SIZE;
	case KVM_GET_MSR_INDEX_LIST:
		return get_msr_index_list((struct kvm_msr_list __user *)arg);
	default:
		return -EINVAL;
	}
}

static const struct file_operations dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = dev_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice kvm_dev = {
	.minor = KVM_MINOR,
	.name = "kvm",
	.fops = &dev_fops,
	.mode = 0660,
};

/* /sys/module/kvm_hv/parameters/hv_free_frames: the hypervisor's free frames, for leak tests */
static int free_frames_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", hv_call(HC_FREE_FRAMES, 0, 0, 0, 0, 0));
}

static const struct kernel_param_ops free_frames_ops = {
	.get = free_frames_get,
};
module_param_cb(hv_free_frames, &free_frames_ops, NULL, 0444);
MODULE_PARM_DESC(hv_free_frames, "Free frames in the hypervisor (read-only)");

static int __init kvm_hv_init(void)
{
	long v = hv_call(HC_ABI_VERSION, 0, 0, 0, 0, 0);

	if (v != HV_ABI_VERSION) {
		pr_err("kvm_hv: hypervisor ABI %ld, this module speaks %d\n", v, HV_ABI_VERSION);
		return -ENODEV;
	}
	return misc_register(&kvm_dev);
}

static void __exit kvm_hv_exit(void)
{
	misc_deregister(&kvm_dev);
}

module_init(kvm_hv_init);
module_exit(kvm_hv_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("/dev/kvm forwarded to the hypervisor");
