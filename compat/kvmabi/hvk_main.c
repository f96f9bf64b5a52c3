// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_hv: /dev/kvm in dom0. Every KVM ioctl is checked here, then forwarded over hypercalls
 * (hvabi.h) to the hypervisor, which owns the VMs, their vCPUs, their EPT and their devices.
 * This file: /dev/kvm, the VM fd and the module's life; hvk.h lists the others.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/stat.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/processor.h>

#include "hv_devices.h"
#include "hvk.h"

#define CLOCK_FLAGS (KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC)

/* What works, and nothing else: KVM_CHECK_EXTENSION on /dev/kvm and on a VM fd. */
long hvk_check_extension(struct hvk_vm *vm, unsigned long cap)
{
	switch (cap) {
	case KVM_CAP_USER_MEMORY:
	case KVM_CAP_IMMEDIATE_EXIT:
	case KVM_CAP_SET_TSS_ADDR:
	case KVM_CAP_SET_IDENTITY_MAP_ADDR:
	case KVM_CAP_EXT_CPUID:
	case KVM_CAP_MP_STATE:
	case KVM_CAP_USER_NMI:
	case KVM_CAP_VCPU_EVENTS:
	case KVM_CAP_INTR_SHADOW:
	case KVM_CAP_DEBUGREGS:
	case KVM_CAP_XSAVE:
	case KVM_CAP_XCRS:
	case KVM_CAP_ENABLE_CAP_VM:
	case KVM_CAP_ENABLE_CAP:
	case KVM_CAP_ENFORCE_PV_FEATURE_CPUID:
	case KVM_CAP_SPLIT_IRQCHIP: /* local APICs here; KVM_EXIT_IOAPIC_EOI for user's IOAPIC */
	case KVM_CAP_GET_MSR_FEATURES:
	case KVM_CAP_SREGS2:
	case KVM_CAP_BINARY_STATS_FD:
	case KVM_CAP_DEVICE_CTRL:
	case KVM_CAP_HV_DEVICES:
	case KVM_CAP_MMU_SHADOW_CACHE_CONTROL:
	case KVM_CAP_SET_BOOT_CPU_ID:
	case KVM_CAP_DESTROY_MEMORY_REGION_WORKS: /* a slot of size 0 deletes it */
	case KVM_CAP_JOIN_MEMORY_REGIONS_WORKS:
	case KVM_CAP_INTERNAL_ERROR_DATA: /* internal.ndata and data[] are filled */
	case KVM_CAP_X86_USER_SPACE_MSR:
	case KVM_CAP_X86_MSR_FILTER:
	case KVM_CAP_SMALLER_MAXPHYADDR: /* reserved-bit faults above the guest's width */
	case KVM_CAP_EXIT_ON_EMULATION_FAILURE: /* always so, with the instruction's bytes */
		return 1;
	case KVM_CAP_MCE:
		return 32; /* banks, as KVM_MAX_MCE_BANKS */
	case KVM_CAP_ADJUST_CLOCK:
		return CLOCK_FLAGS;
	case KVM_CAP_IRQ_ROUTING:
		return HV_MAX_ROUTES; /* as KVM: how many routes (QEMU takes it for the GSI count) */
	case KVM_CAP_SYNC_REGS:
		return KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
	case KVM_CAP_SET_GUEST_DEBUG:
	case KVM_CAP_IRQCHIP:
	case KVM_CAP_IOAPIC_POLARITY_IGNORED: /* KVM_IRQ_LINE's 1 asserts, whatever the polarity */
	case KVM_CAP_IRQ_INJECT_STATUS:
	case KVM_CAP_IRQFD:
	case KVM_CAP_IRQFD_RESAMPLE:
	case KVM_CAP_PIT2:
	case KVM_CAP_PIT_STATE2:
	case KVM_CAP_SIGNAL_MSI:
	case KVM_CAP_TSC_DEADLINE_TIMER:
	case KVM_CAP_IOEVENTFD:
	case KVM_CAP_IOEVENTFD_NO_LENGTH:
	case KVM_CAP_IOEVENTFD_ANY_LENGTH:
	case KVM_CAP_HLT: /* KVM_EXIT_HLT without an in-kernel irqchip */
	case KVM_CAP_COALESCED_PIO: /* port zones in the same ring (as KVM, 1 and not the page) */
	case KVM_CAP_GET_TSC_KHZ:
	case KVM_CAP_CHECK_EXTENSION_VM:
	case KVM_CAP_READONLY_MEM: /* a write to a KVM_MEM_READONLY slot is an MMIO exit */
	case KVM_CAP_SYNC_MMU:	   /* guest memory follows the host mapping (hvk_mem.c) */
	case KVM_CAP_CLOCKSOURCE:  /* kvmclock */
	case KVM_CAP_NOP_IO_DELAY: /* KVM_FEATURE_NOP_IO_DELAY */
	case KVM_CAP_VCPU_ATTRIBUTES: /* KVM_VCPU_TSC_OFFSET */
	case KVM_CAP_MSR_PLATFORM_INFO:
	case KVM_CAP_DISABLE_QUIRKS: /* the first form ignores what cannot be disabled */
	case KVM_CAP_X86_SMM:	     /* KVM_SMI, SMBASE, RSM and the SMI events (hvk_smm.c) */
	/* Hyper-V's (hvk_hyperv.c): the MSRs, reference counter and TSC page, the hypercalls */
	case KVM_CAP_HYPERV:
	case KVM_CAP_HYPERV_TIME:
	case KVM_CAP_HYPERV_VP_INDEX:
	case KVM_CAP_HYPERV_SPIN:
	case KVM_CAP_HYPERV_TLBFLUSH:
	case KVM_CAP_HYPERV_SEND_IPI:
	case KVM_CAP_HYPERV_CPUID:
	case KVM_CAP_SYS_HYPERV_CPUID:
	case KVM_CAP_HYPERV_ENFORCE_CPUID:
	case KVM_CAP_SYSTEM_EVENT_DATA: /* a system event's ndata (0 for Hyper-V's reset, crash) */
	case KVM_CAP_HYPERV_VAPIC: /* the EOI, ICR, TPR MSRs (the hypervisor's) and assist page */
	case KVM_CAP_HYPERV_SYNIC: /* hvk_synic.c: the SynIC and its timers */
	case KVM_CAP_HYPERV_SYNIC2:
		return 1;
	case KVM_CAP_DISABLE_QUIRKS2:
		return HV_QUIRKS; /* all of KVM 6.1's but LAPIC_MMIO_HOLE */
	case KVM_CAP_STEAL_TIME: /* as KVM: the run delay exists */
		return sched_info_on();
	case KVM_CAP_SET_GUEST_DEBUG2:
		return HV_DBG_ALL; /* the KVM_GUESTDBG_* flags that work */
	case KVM_CAP_XSAVE2:
		return 4096; /* the kvm_xsave size: no component past AVX is offered */
	case KVM_CAP_NR_VCPUS:
	case KVM_CAP_MAX_VCPUS:
		return HVK_MAX_VCPUS;
	case KVM_CAP_MAX_VCPU_ID:
		return vm && vm->max_vcpu_ids ? vm->max_vcpu_ids : HVK_MAX_VCPUS;
	case KVM_CAP_NR_MEMSLOTS:
		return HVK_MAX_SLOTS; /* in each address space */
	case KVM_CAP_MULTI_ADDRESS_SPACE:
		return 2; /* SMM's is the second (hvk_smm.c) */
	case KVM_CAP_COALESCED_MMIO:
		return KVM_COALESCED_MMIO_PAGE_OFFSET; /* where the ring is in the vCPU mmap */
	default:
		return 0;
	}
}

void *hvk_buf_alloc(size_t size)
{
	return alloc_pages_exact(size, GFP_KERNEL | __GFP_ZERO);
}

void hvk_buf_free(void *buf, size_t size)
{
	free_pages_exact(buf, size);
}

static void vm_free(struct kref *ref)
{
	struct hvk_vm *vm = container_of(ref, struct hvk_vm, ref);
	unsigned int i;

	for (i = 0; i < HVK_MAX_VCPUS; i++)
		if (vm->vcpus[i])
			hvk_vcpu_free(vm->vcpus[i]);
	hvk_slots_release(vm);
	if (vm->mn.ops)
		hvk_mem_fini(vm);
	hvk_ioeventfd_release(vm);
	hvk_coalesced_release(vm);
	hvk_irqfd_release(vm);
	hv_call(HC_VM_DESTROY, vm->handle, 0, 0, 0, 0);
	mmdrop(vm->mm);
	__free_page(vm->fault_page);
	kfree(vm);
}

void hvk_vm_put(struct hvk_vm *vm)
{
	kref_put(&vm->ref, vm_free);
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

/*
 * KVM_ENABLE_CAP on a VM: KVM_CAP_MAX_VCPU_ID, once (the same value again is fine),
 * KVM_CAP_X86_USER_SPACE_MSR (the KVM_MSR_EXIT_REASON_* user space takes),
 * KVM_CAP_DISABLE_QUIRKS(2), KVM_CAP_MSR_PLATFORM_INFO, and
 * KVM_CAP_EXIT_ON_EMULATION_FAILURE, which is how every emulation failure ends here anyway.
 */
static long enable_cap(struct hvk_vm *vm, void __user *argp)
{
	struct kvm_enable_cap cap;
	long rc = -EINVAL;

	if (copy_from_user(&cap, argp, sizeof(cap)))
		return -EFAULT;
	if (!cap.flags && cap.cap == KVM_CAP_X86_USER_SPACE_MSR) { /* the unknown ones come here */
		rc = hv_call(HC_VM_MSR, vm->handle, HV_MSR_EXITS, cap.args[0] | HV_MSR_EXIT_UNKNOWN,
			     0, 0);
		if (!rc)
			vm->user_msr_exits = cap.args[0];
		return rc;
	}
	if (!cap.flags && (cap.cap == KVM_CAP_DISABLE_QUIRKS2 || cap.cap == KVM_CAP_DISABLE_QUIRKS))
		return hv_call(HC_VM_MSR, vm->handle, HV_MSR_QUIRKS,
			       cap.args[0] & (cap.cap == KVM_CAP_DISABLE_QUIRKS ? HV_QUIRKS : ~0ULL),
			       0, 0);
	if (!cap.flags && cap.cap == KVM_CAP_MSR_PLATFORM_INFO) {
		vm->platform_info_ok = cap.args[0];
		return 0;
	}
	if (!cap.flags && cap.cap == KVM_CAP_EXIT_ON_EMULATION_FAILURE)
		return cap.args[0] > 1 ? -EINVAL : 0;
	if (!cap.flags && cap.cap == KVM_CAP_SPLIT_IRQCHIP)
		return hvk_irqchip_split(vm, cap.args[0]);
	if (cap.flags || cap.cap != KVM_CAP_MAX_VCPU_ID || cap.args[0] > HVK_MAX_VCPUS)
		return -EINVAL;
	mutex_lock(&vm->lock);
	if (vm->max_vcpu_ids == cap.args[0] || (!vm->max_vcpu_ids && !vm->nvcpus)) {
		vm->max_vcpu_ids = cap.args[0];
		rc = 0;
	}
	mutex_unlock(&vm->lock);
	return rc;
}

/*
 * KVM_SET_NR_MMU_PAGES: KVM's limit on shadow page-table pages, which with EPT (as here) bounds
 * nothing; the value is kept and read back as KVM keeps it.
 */
static long nr_mmu_pages(struct hvk_vm *vm, unsigned long n, bool set)
{
	if (!set)
		return vm->nr_mmu_pages ? vm->nr_mmu_pages : 64;
	if (n < 64) /* KVM_MIN_ALLOC_MMU_PAGES */
		return -EINVAL;
	WRITE_ONCE(vm->nr_mmu_pages, n);
	return 0;
}

/* KVM_GET/SET_CLOCK: kvmclock, kept by the hypervisor; realtime pairs it with dom0's clock. */
static long vm_clock(struct hvk_vm *vm, struct kvm_clock_data __user *user, bool set)
{
	struct kvm_clock_data d;
	u64 *buf;
	long rc;

	if (set) {
		if (copy_from_user(&d, user, sizeof(d)))
			return -EFAULT;
		if (d.flags & ~CLOCK_FLAGS)
			return -EINVAL;
		if ((d.flags & KVM_CLOCK_REALTIME) && ktime_get_real_ns() > d.realtime)
			d.clock += ktime_get_real_ns() - d.realtime; /* as KVM: the time since */
		rc = hv_call(HC_VM_CLOCK, vm->handle, 1, d.clock, ktime_get_real_ns(), 0);
		if (!rc)
			hvk_hv_clock_set(vm); /* Hyper-V's reference TSC page follows */
		return rc;
	}
	buf = hvk_buf_alloc(PAGE_SIZE);
	if (!buf)
		return -ENOMEM;
	memset(&d, 0, sizeof(d));
	preempt_disable(); /* the three readings as close together as can be */
	rc = hv_call(HC_VM_CLOCK, vm->handle, 0, 0, virt_to_phys(buf), 0);
	d.realtime = ktime_get_real_ns();
	preempt_enable();
	d.clock = buf[0];
	d.host_tsc = buf[1];
	d.flags = CLOCK_FLAGS;
	hvk_buf_free(buf, PAGE_SIZE);
	if (rc)
		return rc;
	return copy_to_user(user, &d, sizeof(d)) ? -EFAULT : 0;
}

/* KVM_X86_SET_MSR_FILTER: KVM's checks, in its order; the ranges with MSRs go over in one page
 * run, the hypervisor checking them again.
 */
static long set_msr_filter(struct hvk_vm *vm, const struct kvm_msr_filter __user *argp)
{
	struct kvm_msr_filter f;
	struct hv_msr_filter *hf;
	unsigned int i, n = 0;
	long rc = 0;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	if (f.flags & ~KVM_MSR_FILTER_DEFAULT_DENY)
		return -EINVAL;
	hf = hvk_buf_alloc(sizeof(*hf));
	if (!hf)
		return -ENOMEM;
	hf->h.deny = f.flags & KVM_MSR_FILTER_DEFAULT_DENY;
	for (i = 0; i < KVM_MSR_FILTER_MAX_RANGES && !rc; i++) {
		const struct kvm_msr_filter_range *r = &f.ranges[i];
		size_t bytes = BITS_TO_LONGS(r->nmsrs) * sizeof(long);

		if (!r->nmsrs)
			continue;
		if (!r->flags || r->flags & ~(KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE) ||
		    bytes > KVM_MSR_FILTER_MAX_BITMAP_SIZE)
			rc = -EINVAL;
		else if (copy_from_user(hf->bitmap[n], r->bitmap, bytes))
			rc = -EFAULT;
		else
			hf->h.range[n++] = (typeof(hf->h.range[0])){r->flags, r->base, r->nmsrs, 0};
	}
	hf->h.nranges = n;
	if (!n && hf->h.deny)
		rc = -EINVAL; /* as KVM: deny everything is not a filter */
	if (!rc)
		rc = hv_call(HC_VM_MSR, vm->handle, HV_MSR_FILTER, 0, virt_to_phys(hf), 0);
	hvk_buf_free(hf, sizeof(*hf));
	return rc;
}

static long vm_ioctl(struct file *f, unsigned int ioctl, unsigned long arg)
{
	struct hvk_vm *vm = f->private_data;

	if (vm->mm != current->mm)
		return -EIO;
	switch (ioctl) {
	case KVM_CREATE_VCPU:
		return hvk_create_vcpu(vm, arg);
	case KVM_SET_USER_MEMORY_REGION:
		return hvk_set_memory_region(vm, (void __user *)arg);
	case KVM_GET_DIRTY_LOG:
		return hvk_get_dirty_log(vm, (void __user *)arg);
	case KVM_ENABLE_CAP:
		return enable_cap(vm, (void __user *)arg);
	case KVM_X86_SET_MSR_FILTER:
		return set_msr_filter(vm, (void __user *)arg);
	case KVM_CREATE_DEVICE:
		return hvk_create_device(vm, (void __user *)arg);
	case KVM_IOEVENTFD:
		return hvk_ioeventfd(vm, (void __user *)arg);
	case KVM_IRQFD:
		return hvk_irqfd(vm, (void __user *)arg);
	case KVM_REGISTER_COALESCED_MMIO:
	case KVM_UNREGISTER_COALESCED_MMIO:
		return hvk_coalesced_ioctl(vm, ioctl, (void __user *)arg);
	case KVM_CREATE_IRQCHIP:
	case KVM_IRQ_LINE:
	case KVM_IRQ_LINE_STATUS:
	case KVM_GET_IRQCHIP:
	case KVM_SET_IRQCHIP:
	case KVM_SIGNAL_MSI:
	case KVM_CREATE_PIT2:
	case KVM_GET_PIT2:
	case KVM_SET_PIT2:
	case KVM_SET_BOOT_CPU_ID:
	case KVM_SET_GSI_ROUTING:
		return hvk_irqchip_vm_ioctl(vm, ioctl, (void __user *)arg);
	case KVM_GET_STATS_FD:
		return hvk_vm_stats_fd(vm);
	case KVM_SET_TSS_ADDR:
		return set_tss_addr(vm, arg);
	case KVM_SET_IDENTITY_MAP_ADDR:
		return set_identity_map_addr(vm, (void __user *)arg);
	case KVM_CHECK_EXTENSION:
		return hvk_check_extension(vm, arg);
	case KVM_GET_CLOCK:
	case KVM_SET_CLOCK:
		return vm_clock(vm, (void __user *)arg, ioctl == KVM_SET_CLOCK);
	case KVM_SET_NR_MMU_PAGES:
	case KVM_GET_NR_MMU_PAGES:
		return nr_mmu_pages(vm, arg, ioctl == KVM_SET_NR_MMU_PAGES);
	default:
		return -ENOTTY;
	}
}

static int vm_release(struct inode *inode, struct file *f)
{
	hvk_vm_put(f->private_data);
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
	vm->fault_page = alloc_page(GFP_KERNEL);
	vm->handle = vm->fault_page ? hv_call(HC_VM_CREATE, ktime_get_real_ns(), 0, 0, 0, 0) : -ENOMEM;
	if (vm->handle < 0) {
		fd = vm->handle;
		if (vm->fault_page)
			__free_page(vm->fault_page);
		kfree(vm);
		return fd;
	}
	kref_init(&vm->ref);
	mutex_init(&vm->lock);
	mutex_init(&vm->hv.lock);
	mutex_init(&vm->fault_lock);
	init_rwsem(&vm->slots_lock);
	spin_lock_init(&vm->ioevent_lock);
	INIT_LIST_HEAD(&vm->ioeventfds);
	INIT_LIST_HEAD(&vm->irqfds);
	INIT_LIST_HEAD(&vm->zones);
	vm->mm = current->mm;
	mmgrab(vm->mm);
	vm->platform_info_ok = true;
	/* accesses to MSRs the hypervisor does not have: this module's (hvk_msr.c), or #GP */
	hv_call(HC_VM_MSR, vm->handle, HV_MSR_EXITS, HV_MSR_EXIT_UNKNOWN, 0, 0);
	vm->ring = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!vm->ring || hvk_mem_init(vm)) { /* (the MMU notifier: guest memory follows the host's) */
		hvk_vm_put(vm);
		return -ENOMEM;
	}
	fd = anon_inode_getfd("kvm-vm", &vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		hvk_vm_put(vm);
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
	if (n >= 0 && n <= PAGE_SIZE / 4) /* and this module's */
		n += hvk_msr_list((u32 *)page_address(page) + n, PAGE_SIZE / 4 - n);
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
		return hvk_check_extension(NULL, arg);
	case KVM_GET_VCPU_MMAP_SIZE:
		return arg ? -EINVAL : (KVM_COALESCED_MMIO_PAGE_OFFSET + 1) * PAGE_SIZE;
	case KVM_GET_MSR_INDEX_LIST:
		return get_msr_index_list((struct kvm_msr_list __user *)arg);
	case KVM_GET_SUPPORTED_HV_CPUID:
		return hvk_hv_supported_cpuid(NULL, (struct kvm_cpuid2 __user *)arg);
	case KVM_X86_GET_MCE_CAP_SUPPORTED: /* MCG_CTL_P, MCG_CMCI_P, MCG_SER_P, as KVM's */
		return put_user((u64)(1 << 8 | 1 << 10 | 1 << 24), (u64 __user *)arg) ? -EFAULT : 0;
	default:
		return hvk_dev_state_ioctl(ioctl, (void __user *)arg);
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

/*
 * Whether this kernel runs under the hypervisor: its CPUID signature first, as VMCALL is #UD
 * on bare metal and another hypervisor's hypercall under any other.
 */
static bool hv_present(void)
{
	u32 max, sig[3];

	if (!boot_cpu_has(X86_FEATURE_HYPERVISOR))
		return false;
	cpuid(HV_CPUID_LEAF, &max, &sig[0], &sig[1], &sig[2]);
	return max >= HV_CPUID_LEAF && !memcmp(sig, HV_CPUID_SIGNATURE, sizeof(sig));
}

static int __init kvm_hv_init(void)
{
	long v;

	if (!hv_present()) {
		pr_err("kvm_hv: no hypervisor: CPUID 0x%x does not say %s; /dev/kvm not offered\n",
		       HV_CPUID_LEAF, HV_CPUID_SIGNATURE);
		return -ENODEV;
	}
	v = hv_call(HC_ABI_VERSION, 0, 0, 0, 0, 0);
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
/*
 * What kvm_intel's and kvm's parameters of the same names say, read-only: the hypervisor always
 * runs guests with EPT, VPID and unrestricted guest; it has no APICv, PML, nested VMX, virtual
 * PMU, halt polling, ignored MSRs or NX huge-page mitigation (README).
 */
static bool ept = true, vpid = true, unrestricted_guest = true, allow_smaller_maxphyaddr = true;
static bool enable_apicv, pml, nested, enable_pmu, ignore_msrs, nx_huge_pages;
static unsigned int halt_poll_ns;

static int fixed_param(const char *val, const struct kernel_param *kp)
{
	return -EPERM; /* facts of the hypervisor, not choices */
}

static const struct kernel_param_ops fixed_bool = { .set = fixed_param, .get = param_get_bool };
static const struct kernel_param_ops fixed_uint = { .set = fixed_param, .get = param_get_uint };
module_param_cb(ept, &fixed_bool, &ept, 0444);
module_param_cb(vpid, &fixed_bool, &vpid, 0444);
module_param_cb(unrestricted_guest, &fixed_bool, &unrestricted_guest, 0444);
module_param_cb(allow_smaller_maxphyaddr, &fixed_bool, &allow_smaller_maxphyaddr, 0444);
module_param_cb(enable_apicv, &fixed_bool, &enable_apicv, 0444);
module_param_cb(pml, &fixed_bool, &pml, 0444);
module_param_cb(nested, &fixed_bool, &nested, 0444);
module_param_cb(enable_pmu, &fixed_bool, &enable_pmu, 0444);
module_param_cb(ignore_msrs, &fixed_bool, &ignore_msrs, 0444);
module_param_cb(nx_huge_pages, &fixed_bool, &nx_huge_pages, 0444);
module_param_cb(halt_poll_ns, &fixed_uint, &halt_poll_ns, 0444);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("/dev/kvm forwarded to the hypervisor");

