/*
 * Guest memory as KVM's model has it: a slot maps (and pins) nothing when it is made; a page
 * is faulted in when the guest first touches it, with the access the host mapping allows then.
 * A 512 MiB slot of which the guest touches one page leaves one page resident (mincore); a
 * write to memory user space made read-only is KVM_RUN's EFAULT while a read still works; two
 * VMs whose slots together exceed dom0's memory run while what they touch fits. Written from
 * KVM's API documentation; make referee runs it on Linux KVM too.
 */
#include <fcntl.h>

#include "kvm_util.h"

#define BIG_GPA	 0x1000000ULL
#define BIG_SIZE (512ULL << 20)

/* A flat 32-bit vCPU over 64 KiB of RAM at 0 and a slot of `size` at BIG_GPA backed by `mem`. */
static int big_vm(int kvm, struct rm *x, void *mem, uint64_t size)
{
	struct kvm_userspace_memory_region r = {.slot = 1,
						.guest_phys_addr = BIG_GPA,
						.memory_size = size,
						.userspace_addr = (uintptr_t)mem};

	return rm_vm(kvm, false, 0, x) || io(x->vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r) ||
			       flat32(x->vcpu, x->ram, 0x500, 0x3000, 0x1000, 0x8000)
		       ? -1
		       : 0;
}

/* mov $value,%eax; mov %eax,gpa (or mov gpa,%eax); hlt: EAX after it, or -errno */
static long guest_access(struct rm *x, uint32_t gpa, bool write, uint32_t value)
{
	uint8_t code[] = {0xb8, 0, 0, 0, 0, write ? 0xa3 : 0xa1, 0, 0, 0, 0, 0xf4};
	struct kvm_regs r;

	memcpy(code + 1, &value, 4);
	memcpy(code + 6, &gpa, 4);
	memcpy(x->ram + 0x1000, code, sizeof(code));
	if (io(x->vcpu, KVM_GET_REGS, (uintptr_t)&r))
		return -1000;
	r.rip = 0x1000;
	if (io(x->vcpu, KVM_SET_REGS, (uintptr_t)&r))
		return -1000;
	long rc = io(x->vcpu, KVM_RUN, 0);
	if (rc)
		return rc;
	if (x->run->exit_reason != KVM_EXIT_HLT)
		return -2000 - (long)x->run->exit_reason;
	return io(x->vcpu, KVM_GET_REGS, (uintptr_t)&r) ? -1000 : (long)(uint32_t)r.rax;
}

static long resident(void *mem, uint64_t size)
{
	static unsigned char vec[BIG_SIZE / 4096];
	long n = 0;

	if (mincore(mem, size, vec))
		return -1;
	for (uint64_t i = 0; i < size / 4096; i++)
		n += vec[i] & 1;
	return n;
}

static void touch_one(int kvm)
{
	void *mem = mmap(NULL, BIG_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct rm x;

	/* (4 KiB pages: a transparent huge page would make one touch 512 resident pages) */
	if (mem == MAP_FAILED || madvise(mem, BIG_SIZE, MADV_NOHUGEPAGE) ||
	    big_vm(kvm, &x, mem, BIG_SIZE)) {
		check("512 MiB slot: VM", -1, 0);
		return;
	}
	check("512 MiB slot: nothing resident when made", resident(mem, BIG_SIZE), 0);
	check("a guest write into it", guest_access(&x, BIG_GPA + 0x123000, true, 0x5a5a), 0x5a5a);
	check("... the host sees it", *(uint32_t *)((char *)mem + 0x123000), 0x5a5a);
	check("... one page resident", resident(mem, BIG_SIZE), 1);
	check("a guest read of a page never touched: 0",
	      guest_access(&x, BIG_GPA + 0x200000, false, 0), 0);
	check("... the zero page mapped there: 2 resident", resident(mem, BIG_SIZE), 2);
	rm_close(&x);
	munmap(mem, BIG_SIZE);
}

static void read_only(int kvm)
{
	void *mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct rm x;

	if (mem == MAP_FAILED || big_vm(kvm, &x, mem, 1 << 20)) {
		check("read-only host mapping: VM", -1, 0);
		return;
	}
	*(uint32_t *)((char *)mem + 0x4000) = 0x77;
	check("mprotect(PROT_READ) after the slot is made", mprotect(mem, 1 << 20, PROT_READ), 0);
	check("a guest read still works", guest_access(&x, BIG_GPA + 0x4000, false, 0), 0x77);
	check("a guest write: KVM_RUN fails with EFAULT",
	      guest_access(&x, BIG_GPA + 0x8000, true, 1), -EFAULT);
	check("... and to the page it read: EFAULT too",
	      guest_access(&x, BIG_GPA + 0x4000, true, 1), -EFAULT);
	check("... which is unchanged", *(uint32_t *)((char *)mem + 0x4000), 0x77);
	mprotect(mem, 1 << 20, PROT_READ | PROT_WRITE);
	check("writable again: the write goes in", guest_access(&x, BIG_GPA + 0x4000, true, 9), 9);
	check("... the host sees it", *(uint32_t *)((char *)mem + 0x4000), 9);
	/* the guest has the page writable now: mprotect takes that away too */
	check("mprotect(PROT_READ) again", mprotect(mem, 1 << 20, PROT_READ), 0);
	check("... a guest write to the page it wrote: EFAULT",
	      guest_access(&x, BIG_GPA + 0x4000, true, 1), -EFAULT);
	check("... a read: what it wrote", guest_access(&x, BIG_GPA + 0x4000, false, 0), 9);
	mprotect(mem, 1 << 20, PROT_READ | PROT_WRITE);
	/* MADV_DONTNEED drops the page: the guest reads zeros, as a fresh one */
	check("MADV_DONTNEED of the page", madvise((char *)mem + 0x4000, 4096, MADV_DONTNEED), 0);
	check("... the guest reads 0", guest_access(&x, BIG_GPA + 0x4000, false, 0), 0);
	check("... and writes a fresh page", guest_access(&x, BIG_GPA + 0x4000, true, 5), 5);
	check("... which the host sees", *(uint32_t *)((char *)mem + 0x4000), 5);
	rm_close(&x);
	munmap(mem, 1 << 20);
}

/* Each VM's slot is most of dom0's memory; together they exceed it; each touches one page. */
static void overcommit(int kvm)
{
	long pages = sysconf(_SC_PHYS_PAGES);
	uint64_t size = ((uint64_t)pages * 4096 * 3 / 4) & ~((1ULL << 21) - 1);
	void *a = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	void *b = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct rm x, y;

	if (a == MAP_FAILED || b == MAP_FAILED) {
		check("two large slots: mmap", -1, 0);
		return;
	}
	check("two VMs with slots of 3/4 of dom0's memory each",
	      big_vm(kvm, &x, a, size) || big_vm(kvm, &y, b, size), 0);
	check("... the first runs", guest_access(&x, BIG_GPA + size - 4096, true, 1), 1);
	check("... the second runs", guest_access(&y, BIG_GPA + size - 4096, true, 2), 2);
	rm_close(&x);
	rm_close(&y);
	munmap(a, size);
	munmap(b, size);
}

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR);

	test_name = "kvm_mem";
	if (kvm < 0) {
		perror("kvm_mem: /dev/kvm");
		return summary() + 1;
	}
	touch_one(kvm);
	read_only(kvm);
	overcommit(kvm);
	return summary();
}
