// SPDX-License-Identifier: GPL-2.0
/*
 * Memory slots: KVM's rules for KVM_SET_USER_MEMORY_REGION. A slot maps nothing when it is made;
 * the guest's first touch of a page (an exit for MMIO at a slot's address, or the hypervisor's
 * own access) faults that page in with the access the host mapping allows, and the hypervisor
 * maps it (hvk_fault_in). The host mapping stays the truth: before it changes (munmap, madvise,
 * mprotect, migration, swap, KSM), the MMU notifier has the hypervisor unmap the pages, TLB
 * shootdown included; no page is pinned. Slots change only while no vCPU runs (slots_lock).
 */
#include <linux/bitmap.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <linux/uaccess.h>
#include <asm/processor.h>

#include "hvk.h"

/* A read-only slot is never written, so its log stays empty without the hypervisor. */
static bool logged(const struct hvk_slot *s)
{
	return (s->flags & KVM_MEM_LOG_DIRTY_PAGES) && !(s->flags & KVM_MEM_READONLY);
}

/* While the slot is logged, the pages this module writes into it join the log (hvk_mark_dirty). */
static long module_log(struct hvk_slot *s, bool on)
{
	if (!on) {
		bitmap_free(s->module_bits);
		s->module_bits = NULL;
	} else if (!s->module_bits) {
		s->module_bits = bitmap_zalloc(s->npages, GFP_KERNEL);
	}
	return on && !s->module_bits ? -ENOMEM : 0;
}

/*
 * A slot's mapped page: its frame number shifted left by one, bit 0 set where it is mapped
 * writable, as an xarray value at the page's index (absent: not mapped). The xarray holds only
 * what is mapped, so making and deleting a slot cost the same whatever its size, as KVM's. No
 * reference is held: the host changes a mapping only after telling this module (MMU notifier),
 * which has the hypervisor unmap the page first.
 */
#define PAGE_WRITABLE 1UL

/*
 * The VM no longer reaches the slot's pages [first, first + n) (fault_lock held); those it had
 * writable are dirty for the host (the guest may have written them).
 */
static void slot_unmap(struct hvk_vm *vm, struct hvk_slot *s, unsigned long first,
		       unsigned long n)
{
	long rc = hv_call(HC_VM_UNMAP, vm->handle, s->gpa + first * PAGE_SIZE, n, 0, 0);
	unsigned long i;
	void *e;

	/* (it cannot fail for what HC_VM_MAP mapped; if it did, the host would free under it) */
	WARN(rc, "kvm_hv: unmap at GPA %#llx failed (%ld)\n", s->gpa + first * PAGE_SIZE, rc);
	xa_for_each_range(&s->pages, i, e, first, first + n - 1) {
		if (xa_to_value(e) & PAGE_WRITABLE)
			set_page_dirty_lock(pfn_to_page(xa_to_value(e) >> 1));
		xa_erase(&s->pages, i);
	}
}

static void slot_release(struct hvk_vm *vm, struct hvk_slot *s)
{
	if (!s->npages)
		return;
	if (logged(s))
		hv_call(HC_VM_DIRTY, vm->handle, HV_DIRTY_STOP, s->gpa, 0, 0);
	module_log(s, false);
	mutex_lock(&vm->fault_lock);
	slot_unmap(vm, s, 0, s->npages);
	xa_destroy(&s->pages);
	memset(s, 0, sizeof(*s));
	mutex_unlock(&vm->fault_lock);
}

/* A slot maps nothing when it is made: each page waits for the guest's first touch. */
static long slot_map(struct hvk_vm *vm, struct hvk_slot *s)
{
	long rc = 0;

	xa_init(&s->pages);
	if (logged(s))
		rc = module_log(s, true) ?: hv_call(HC_VM_DIRTY, vm->handle, HV_DIRTY_START, s->gpa,
						    s->npages, 0);
	if (rc)
		slot_release(vm, s);
	return rc;
}

/* The slot whose pages hold gpa (the hypervisor's: HV_GPA_SMM in SMM's space), or NULL. */
static struct hvk_slot *slot_of(struct hvk_vm *vm, u64 gpa)
{
	unsigned int as = !!(gpa & HV_GPA_SMM), i;
	struct hvk_slot *s = &vm->slots[as * HVK_MAX_SLOTS];

	for (i = 0; i < vm->slots_hi[as]; i++) /* (only the space's slots in use) */
		if (s[i].npages && gpa - s[i].gpa < s[i].size)
			return &s[i];
	return NULL;
}

/*
 * A host huge page (THP) under a slot that lines up with it (its 2 MiB inside the slot, at the
 * same offset in both, no dirty log): the frames of all its 512 pages, as the host maps each now
 * (nothing is faulted in for this), so that one fault maps 2 MiB as KVM's; NULL: just the page.
 */
static u64 *huge_frames(struct hvk_slot *s, u64 gpa, bool writable, struct page *page)
{
	u64 lo = gpa & ~(u64)(SZ_2M - 1), *frames;
	struct page **pages;
	int n, k;

	if (!PageTransCompound(page) || logged(s) || ((s->uaddr - s->gpa) & (SZ_2M - 1)) ||
	    lo < s->gpa || lo + SZ_2M > s->gpa + s->size)
		return NULL;
	frames = kmalloc(PAGE_SIZE, GFP_KERNEL); /* (512 page pointers, then their frames) */
	if (!frames)
		return NULL;
	pages = (struct page **)frames;
	n = get_user_pages_fast_only(s->uaddr + (lo - s->gpa), 512, writable ? FOLL_WRITE : 0, pages);
	for (k = 0; k < n; k++) {
		struct page *p = pages[k];

		frames[k] = page_to_pfn(p);
		put_page(p); /* (the sequence count covers them, as the one page's) */
	}
	if (n == 512)
		return frames;
	kfree(frames);
	return NULL;
}

/*
 * The host page with the access its mapping allows now, as KVM's hva_to_pfn(): a write needs
 * it writable (faulted in so); a read takes it writable where it already is so, else read-only
 * (nothing allocated: an untouched anonymous page is the zero page until written; a logged
 * slot's read takes it read-only, so that the first write is seen). Then it is mapped (with the
 * rest of its huge page, if any), unless the host changed its mapping meanwhile (the notifier's
 * sequence moved): the guest retries.
 */
static long fault_page(struct hvk_vm *vm, struct hvk_slot *s, u64 gpa, bool write)
{
	unsigned long i = (gpa - s->gpa) >> PAGE_SHIFT, seq = READ_ONCE(vm->mn_seq), n = 1, k;
	bool writable = !(s->flags & KVM_MEM_READONLY) && (write || !logged(s));
	u64 *pfn = page_address(vm->fault_page), *huge;
	struct page *page;
	long rc = 2; /* not mapped now (a change raced, or another vCPU mapped it): runs again */

	smp_rmb(); /* the sequence before the page tables it covers */
	if (writable && !write)
		writable = get_user_page_fast_only(s->uaddr + i * PAGE_SIZE, FOLL_WRITE, &page);
	else if (writable && get_user_pages_fast(s->uaddr + i * PAGE_SIZE, 1, FOLL_WRITE, &page) != 1)
		return -EFAULT; /* as KVM's KVM_RUN: the host refuses the write */
	if (!writable && get_user_pages_fast(s->uaddr + i * PAGE_SIZE, 1, 0, &page) != 1)
		return -EFAULT;
	huge = huge_frames(s, gpa, writable, page);
	if (huge) { /* (the slot's index of the 2 MiB's first page: the slot need not be aligned) */
		n = 512;
		gpa &= ~(u64)(SZ_2M - 1);
		i = (gpa - s->gpa) >> PAGE_SHIFT;
	}
	mutex_lock(&vm->fault_lock);
	if (!vm->mn_active && seq == vm->mn_seq &&
	    (huge || !xa_load(&s->pages, i) || (writable && write))) {
		if (huge)
			memcpy(pfn, huge, n * sizeof(*pfn));
		else
			*pfn = page_to_pfn(page);
		rc = hv_call(HC_VM_MAP, vm->handle, gpa, page_to_phys(vm->fault_page), n,
			     HV_PROT_R | HV_PROT_X | (writable ? HV_PROT_W : 0));
		for (k = 0; !rc && k < n; k++) /* (logged: mapped write-protected, the write logged) */
			rc = xa_err(xa_store(&s->pages, i + k, xa_mk_value(pfn[k] << 1 | writable),
					     GFP_KERNEL));
		if (rc && k) /* no memory to record it: not mapped after all */
			slot_unmap(vm, s, i, n);
		rc = rc ?: 1;
	}
	mutex_unlock(&vm->fault_lock);
	kfree(huge);
	put_page(page); /* the mapping holds no reference: the notifier unmaps it first */
	return rc;
}

/*
 * The host is about to change [start, end) of its mappings: every slot page there is unmapped
 * (TLB shootdown included) before this returns, and faults racing with it map nothing.
 */
static int invalidate_start(struct mmu_notifier *mn, const struct mmu_notifier_range *range)
{
	struct hvk_vm *vm = container_of(mn, struct hvk_vm, mn);
	unsigned int i;

	if (mmu_notifier_range_blockable(range))
		mutex_lock(&vm->fault_lock);
	else if (!mutex_trylock(&vm->fault_lock))
		return -EAGAIN;
	vm->mn_active++;
	vm->mn_seq++;
	for (i = 0; i < ARRAY_SIZE(vm->slots); i++) {
		struct hvk_slot *s = &vm->slots[i];
		u64 lo = max(range->start, (unsigned long)s->uaddr);
		u64 hi = min(range->end, (unsigned long)(s->uaddr + s->size));

		if (s->npages && lo < hi)
			slot_unmap(vm, s, (lo - s->uaddr) >> PAGE_SHIFT,
				   (PAGE_ALIGN(hi) - (lo & PAGE_MASK)) >> PAGE_SHIFT);
	}
	mutex_unlock(&vm->fault_lock);
	return 0;
}

static void invalidate_end(struct mmu_notifier *mn, const struct mmu_notifier_range *range)
{
	struct hvk_vm *vm = container_of(mn, struct hvk_vm, mn);

	mutex_lock(&vm->fault_lock);
	vm->mn_seq++;
	vm->mn_active--;
	mutex_unlock(&vm->fault_lock);
}

/* The process's memory goes (its exit): nothing of it stays mapped, whatever the fds do. */
static void notifier_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct hvk_vm *vm = container_of(mn, struct hvk_vm, mn);
	unsigned int i;

	mutex_lock(&vm->fault_lock);
	vm->mn_seq++;
	vm->mn_active++; /* for good: no page is mapped again */
	for (i = 0; i < ARRAY_SIZE(vm->slots); i++)
		if (vm->slots[i].npages)
			slot_unmap(vm, &vm->slots[i], 0, vm->slots[i].npages);
	mutex_unlock(&vm->fault_lock);
}

static const struct mmu_notifier_ops notifier_ops = {
	.release = notifier_release,
	.invalidate_range_start = invalidate_start,
	.invalidate_range_end = invalidate_end,
};

long hvk_mem_init(struct hvk_vm *vm)
{
	long rc;

	vm->mn.ops = &notifier_ops;
	rc = mmu_notifier_register(&vm->mn, current->mm);
	if (rc)
		vm->mn.ops = NULL;
	return rc;
}

void hvk_mem_fini(struct hvk_vm *vm)
{
	mmu_notifier_unregister(&vm->mn, vm->mm);
}

/*
 * The guest touched gpa where nothing is mapped, or wrote where the page is read-only: a slot's
 * page is faulted in (1 mapped, 2 not: either way the access runs again); not a slot's, or a
 * write to a read-only slot, is MMIO (0); a write the host mapping refuses is -EFAULT.
 */
long hvk_fault_in(struct hvk_vm *vm, u64 gpa, bool write)
{
	struct hvk_slot *s;
	long rc = 0;

	down_read(&vm->slots_lock);
	s = slot_of(vm, gpa);
	if (s && !(write && (s->flags & KVM_MEM_READONLY)))
		rc = fault_page(vm, s, gpa & PAGE_MASK, write);
	up_read(&vm->slots_lock);
	return rc;
}

/* In the slot's own address space: the other's have HV_GPA_SMM the other way. */
static bool overlaps(struct hvk_vm *vm, unsigned int slot, u64 gpa, u64 size)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vm->slots); i++) {
		struct hvk_slot *s = &vm->slots[i];

		if (i != slot && s->npages && gpa < s->gpa + s->size && s->gpa < gpa + size)
			return true;
	}
	return false;
}

/* A flags-only change: dirty logging starts or stops; the mapping stays. */
static long set_logging(struct hvk_vm *vm, struct hvk_slot *s, u32 flags)
{
	bool was = logged(s);
	long rc = 0;

	s->flags = flags;
	if (logged(s) && !was)
		rc = module_log(s, true) ?: hv_call(HC_VM_DIRTY, vm->handle, HV_DIRTY_START, s->gpa,
						    s->npages, 0);
	else if (!logged(s) && was)
		rc = hv_call(HC_VM_DIRTY, vm->handle, HV_DIRTY_STOP, s->gpa, 0, 0);
	if (rc)
		s->flags ^= KVM_MEM_LOG_DIRTY_PAGES;
	module_log(s, logged(s));
	return rc;
}

/* A slot is created, moved, deleted or has its flags changed; the rest is KVM's -EINVAL. */
static long change_slot(struct hvk_vm *vm, unsigned int id,
			const struct kvm_userspace_memory_region *r)
{
	struct hvk_slot *s = &vm->slots[id], n;
	u64 gpa = r->guest_phys_addr | (id >= HVK_MAX_SLOTS ? HV_GPA_SMM : 0);
	long rc;

	if (!r->memory_size) {
		rc = s->npages ? 0 : -EINVAL; /* deleting nothing */
		slot_release(vm, s);
		return rc;
	}
	if (s->npages && (r->userspace_addr != s->uaddr || r->memory_size != s->size ||
			 ((r->flags ^ s->flags) & KVM_MEM_READONLY)))
		return -EINVAL; /* no resize, no new backing, READONLY fixed */
	if (s->npages && gpa == s->gpa)
		return r->flags == s->flags ? 0 : set_logging(vm, s, r->flags);
	if (overlaps(vm, id, gpa, r->memory_size))
		return -EEXIST;
	n = (struct hvk_slot){.gpa = gpa,
			      .size = r->memory_size,
			      .uaddr = r->userspace_addr,
			      .flags = r->flags,
			      .npages = r->memory_size >> PAGE_SHIFT};
	slot_release(vm, s); /* created, or moved: mapped anew */
	rc = slot_map(vm, &n);
	mutex_lock(&vm->fault_lock); /* (the notifier walks the slots) */
	if (!rc) {
		*s = n;
		xa_init(&s->pages); /* (in place: n's is empty, and not to be copied) */
	}
	mutex_unlock(&vm->fault_lock);
	return rc;
}

/* KVM's checks on the request, then the change while no vCPU of the VM runs. */
long hvk_set_memory_region(struct hvk_vm *vm, void __user *argp)
{
	struct kvm_userspace_memory_region r;
	unsigned int hi;
	long rc;

	if (copy_from_user(&r, argp, sizeof(r)))
		return -EFAULT;
	if ((r.slot & 0xffff) >= HVK_MAX_SLOTS || (r.slot >> 16) >= 2) /* two address spaces */
		return -EINVAL;
	if (r.flags & ~(KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES))
		return -EINVAL;
	if ((r.memory_size | r.guest_phys_addr | r.userspace_addr) & ~PAGE_MASK)
		return -EINVAL;
	if (r.guest_phys_addr + r.memory_size < r.guest_phys_addr ||
	    !access_ok((void __user *)(unsigned long)r.userspace_addr, r.memory_size))
		return -EINVAL;
	/* as KVM: a slot ends below the guest physical address width (and 47 bits: HV_GPA_SMM) */
	if (r.memory_size &&
	    (r.guest_phys_addr + r.memory_size - 1) >> min_t(unsigned int, boot_cpu_data.x86_phys_bits, 47))
		return -EINVAL;
	down_write(&vm->slots_lock);
	rc = change_slot(vm, (r.slot >> 16) * HVK_MAX_SLOTS + (u16)r.slot, &r);
	for (hi = HVK_MAX_SLOTS; hi && !vm->slots[(r.slot >> 16) * HVK_MAX_SLOTS + hi - 1].npages;)
		hi--;
	vm->slots_hi[r.slot >> 16] = hi;
	up_write(&vm->slots_lock);
	return rc;
}

void hvk_slots_release(struct hvk_vm *vm)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vm->slots); i++)
		slot_release(vm, &vm->slots[i]);
}

/*
 * Where user space has guest memory [gpa, gpa + len) that may be read (and written, if `write`),
 * or NULL (slots_lock); HV_GPA_SMM in gpa for SMM's address space.
 */
void __user *hvk_gpa_to_user(struct hvk_vm *vm, u64 gpa, u64 len, bool write)
{
	struct hvk_slot *s = slot_of(vm, gpa);

	if (!s || (write && (s->flags & KVM_MEM_READONLY)) || gpa + len > s->gpa + s->size)
		return NULL;
	return (void __user *)(unsigned long)(s->uaddr + gpa - s->gpa);
}

/*
 * A page this module wrote for the guest (steal time, Hyper-V's pages, the SMM state map) at
 * the hypervisor's GPA (HV_GPA_SMM in SMM's space): in the log of its slot, if logged (slots_lock
 * held, for reading is enough: the bits are atomic and the log is taken under the write lock).
 */
void hvk_mark_dirty(struct hvk_vm *vm, u64 gpa)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vm->slots); i++) {
		struct hvk_slot *s = &vm->slots[i];

		if (s->module_bits && gpa >= s->gpa && gpa < s->gpa + s->size)
			set_bit((gpa - s->gpa) >> PAGE_SHIFT, s->module_bits);
	}
}

/* KVM_GET_DIRTY_LOG: the pages written since the last call (then reset), one bit per page. */
long hvk_get_dirty_log(struct hvk_vm *vm, void __user *argp)
{
	struct kvm_dirty_log log;
	struct hvk_slot *s;
	size_t bytes;
	void *buf;
	long rc;

	if (copy_from_user(&log, argp, sizeof(log)))
		return -EFAULT;
	/* as x86 KVM: two address spaces of KVM_USER_MEM_SLOTS (32764) ids; one not made is ENOENT */
	if ((log.slot >> 16) >= 2 || (u16)log.slot >= 32764)
		return -EINVAL;
	if ((u16)log.slot >= HVK_MAX_SLOTS)
		return -ENOENT;
	down_write(&vm->slots_lock); /* no vCPU is in the guest while pages are re-protected */
	s = &vm->slots[(log.slot >> 16) * HVK_MAX_SLOTS + (u16)log.slot];
	rc = -ENOENT;
	if (!s->npages || !(s->flags & KVM_MEM_LOG_DIRTY_PAGES))
		goto out;
	bytes = ALIGN(s->npages, 64) / 8;
	rc = -ENOMEM;
	buf = hvk_buf_alloc(PAGE_ALIGN(bytes));
	if (!buf)
		goto out;
	rc = logged(s) ? hv_call(HC_VM_DIRTY, vm->handle, HV_DIRTY_FETCH, s->gpa, s->npages,
				 virt_to_phys(buf))
		       : 0;
	if (!rc && s->module_bits) { /* and what this module wrote */
		bitmap_or(buf, buf, s->module_bits, s->npages);
		bitmap_zero(s->module_bits, s->npages);
	}
	if (!rc && copy_to_user(log.dirty_bitmap, buf, bytes))
		rc = -EFAULT;
	hvk_buf_free(buf, PAGE_ALIGN(bytes));
out:
	up_write(&vm->slots_lock);
	return rc;
}
