/*
 * Guest memory as KVM's model has it: a slot maps (and pins) nothing when it is made; a page
 * is faulted in when the guest first touches it, with the access the host mapping allows then.
 * A 512 MiB slot of which the guest touches one page leaves one page resident (mincore); a
 * write to memory user space made read-only is KVM_RUN's EFAULT while a read still works; two
 * VMs whose slots together exceed dom0's memory run while what they touch fits; KVM_GET_STATS_FD
 * counts the faults (pf_taken, pf_fixed); munmap while a vCPU runs over the memory ends KVM_RUN
 * with EFAULT and leaves dom0's log clean; over a host huge page one fault maps 2 MiB. Written from
 * KVM's API documentation; make referee runs it on Linux KVM too.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/klog.h>

#include "kvm_util.h"

#define BIG_GPA	 0x1000000ULL
#define BIG_SIZE (512ULL << 20)

/* A flat 32-bit vCPU over 64 KiB of RAM at 0 and a slot of `size` at `gpa` backed by `mem`. */
static int slot_vm(int kvm, struct rm *x, void *mem, uint64_t gpa, uint64_t size)
{
	struct kvm_userspace_memory_region r = {.slot = 1,
						.guest_phys_addr = gpa,
						.memory_size = size,
						.userspace_addr = (uintptr_t)mem};

	return rm_vm(kvm, false, 0, x) || io(x->vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r) ||
			       flat32(x->vcpu, x->ram, 0x500, 0x3000, 0x1000, 0x8000)
		       ? -1
		       : 0;
}

static int big_vm(int kvm, struct rm *x, void *mem, uint64_t size)
{
	return slot_vm(kvm, x, mem, BIG_GPA, size);
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

static unsigned char vec[BIG_SIZE / 4096]; /* mincore()'s */

static long resident(void *mem, uint64_t size)
{
	long n = 0;

	if (mincore(mem, size, vec))
		return -1;
	for (uint64_t i = 0; i < size / 4096; i++)
		n += vec[i] & 1;
	return n;
}

/* The vCPU's statistic `name` (KVM_GET_STATS_FD: header, descriptors, data), or -1. */
static long vcpu_stat(int vcpu, const char *name)
{
	int fd = io(vcpu, KVM_GET_STATS_FD, 0);
	struct kvm_stats_header h;
	static char desc[1 << 16];
	long value = -1;

	if (fd < 0 || pread(fd, &h, sizeof(h), 0) != sizeof(h) || h.num_desc > 256 ||
	    pread(fd, desc, sizeof(desc), h.desc_offset) <= 0) {
		close(fd);
		return -1;
	}
	for (uint32_t i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d =
			(void *)(desc + i * (sizeof(struct kvm_stats_desc) + h.name_size));
		uint64_t v;

		if (!strcmp(d->name, name) &&
		    pread(fd, &v, sizeof(v), h.data_offset + d->offset) == sizeof(v))
			value = (long)v;
	}
	close(fd);
	return value;
}

/* What one guest access adds to pf_taken and pf_fixed (the code page mapped already). */
static long faults_of(struct rm *x, uint32_t gpa, bool write, const char *which)
{
	long before = vcpu_stat(x->vcpu, which);

	guest_access(x, gpa, write, 1);
	return vcpu_stat(x->vcpu, which) - before;
}

/* The process's anonymous resident memory in kB (/proc/self/status RssAnon), or -1. */
static long rss_anon_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f) && sscanf(line, "RssAnon: %ld kB", &kb) != 1)
		;
	if (f)
		fclose(f);
	return kb;
}

static void touch_one(int kvm)
{
	long rss = (memset(vec, 0, sizeof(vec)), rss_anon_kb()); /* (vec resident before) */
	long frames = hv_free_frames(); /* (-1 on Linux KVM: those checks hold trivially) */
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
	/* (the VM's own 64 KiB and this program's stack and buffers come on top) */
	check("dom0's anonymous RSS grew by under 256 kB for all that", rss_anon_kb() - rss < 256,
	      1);
	/* the EPT grows with what is touched: mapping 512 MiB whole would take 257 tables */
	check("the hypervisor's frames for this VM, its vCPU and EPT: under 64",
	      frames < 0 || frames - hv_free_frames() < 64, 1);
	/* KVM_GET_STATS_FD's page-fault counters, as KVM's: one fault per first touch */
	check("pf_taken: a write to a new page adds 1",
	      faults_of(&x, BIG_GPA + 0x300000, true, "pf_taken"), 1);
	check("pf_fixed: a write to a new page adds 1",
	      faults_of(&x, BIG_GPA + 0x301000, true, "pf_fixed"), 1);
	check("pf_fixed: a read of a new page adds 1",
	      faults_of(&x, BIG_GPA + 0x302000, false, "pf_fixed"), 1);
	check("pf_fixed: a write to a page mapped writable adds 0",
	      faults_of(&x, BIG_GPA + 0x301000, true, "pf_fixed"), 0);
	rm_close(&x);
	munmap(mem, BIG_SIZE);
	check("... all back once it is closed", frames < 0 || hv_free_frames() == frames, 1);
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

/* The host's AnonHugePages in kB for the mapping at addr (/proc/self/smaps), or -1. */
static long huge_kb(void *addr)
{
	char line[256], want[32];
	FILE *f = fopen("/proc/self/smaps", "r");
	bool in = false;
	long kb = -1;

	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	while (f && fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' '))
			in = !strncmp(line, want, strlen(want));
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	if (f)
		fclose(f);
	return kb;
}

/* Where the host has a huge page (THP) under an aligned slot, one fault maps all 2 MiB (KVM's). */
/*
 * The slot starts 1 MiB below a 2 MiB boundary (as QEMU's RAM above 1 MiB): its first, partial
 * 2 MiB is never mapped whole, the next ones may be.
 */
static void huge_page(int kvm)
{
	char *raw = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *mem = (char *)(((uintptr_t)raw + (4 << 20) - 1) & ~(uintptr_t)((2 << 20) - 1));
	int fd = open("/proc/sys/vm/compact_memory", O_WRONLY);
	struct rm x;
	long kb;

	if (fd >= 0 && write(fd, "1", 1) < 0) /* (a free 2 MiB for the host, best effort) */
		perror("kvm_mem: compact_memory");
	if (fd >= 0)
		close(fd);
	if (raw == MAP_FAILED || madvise(mem, 4 << 20, MADV_HUGEPAGE) ||
	    slot_vm(kvm, &x, mem - (1 << 20), BIG_GPA - (1 << 20), 5 << 20)) {
		check("huge page: VM", -1, 0);
		return;
	}
	guest_access(&x, 0x8000, false, 0); /* (the guest's code page faulted in first) */
	check("a guest write into a 2 MiB-aligned slot over MADV_HUGEPAGE memory",
	      faults_of(&x, BIG_GPA + 0x2000, true, "pf_fixed"), 1);
	/* the host backs it with a huge page where it finds a free 2 MiB, else with small pages */
	kb = huge_kb(mem);
	check("... the host backs it with a huge page, or small ones (AnonHugePages 2048 or 0 kB)",
	      kb == 2048 || kb == 0, 1);
	printf("kvm_mem: the host %s\n",
	       kb ? "gave a huge page" : "had no free 2 MiB: small pages");
	check(kb ? "... a write elsewhere in those 2 MiB takes no fault (mapped with the first)"
		 : "... a write elsewhere in those 2 MiB takes a fault of its own (small pages)",
	      faults_of(&x, BIG_GPA + 0x1ff000, true, "pf_taken"), kb ? 0 : 1);
	check("... the host sees it", mem[0x1ff000], 1);
	check("... the next 2 MiB: a fault of its own",
	      faults_of(&x, BIG_GPA + 0x200000, true, "pf_taken"), 1);
	check("the slot's first, partial 2 MiB: a write", guest_access(&x, BIG_GPA - 4096, true, 7),
	      7);
	check("... the host sees it", mem[-4096], 7);
	rm_close(&x);
	munmap(raw, 8 << 20);
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

/* A guest that increments a word in each page of the slot, then OUTs to port 0x10, for ever. */
/* clang-format off */
static const uint8_t sweep[] = {
	0xbb, 0, 0, 0, 0,		    /* 0x1000: mov $BIG_GPA,%ebx */
	0xff, 0x03,			    /* 0x1005: incl (%ebx) */
	0x81, 0xc3, 0x00, 0x10, 0x00, 0x00, /* add $0x1000,%ebx */
	0x81, 0xfb, 0, 0, 0, 0,		    /* cmp $end,%ebx */
	0x72, 0xf0,			    /* jb 0x1005 */
	0xe6, 0x10,			    /* out %al,$0x10 */
	0xeb, 0xe7,			    /* jmp 0x1000 */
};
/* clang-format on */

struct sweeper {
	struct rm *x;
	volatile long passes, rc;
	volatile bool done;
};

static void *sweep_thread(void *arg)
{
	struct sweeper *s = arg;
	long rc;

	while (!(rc = io(s->x->vcpu, KVM_RUN, 0)) && s->x->run->exit_reason == KVM_EXIT_IO)
		s->passes++;
	s->rc = rc ? rc : -2000 - (long)s->x->run->exit_reason;
	s->done = true;
	return NULL;
}

/* Kernel log lines since the last call that say BUG or WARNING (dom0 stays clean). */
static long kernel_complaints(void)
{
	static char buf[1 << 17];
	int n = klogctl(4, buf, sizeof(buf) - 1); /* SYSLOG_ACTION_READ_CLEAR */

	if (n < 0)
		return -1;
	buf[n] = 0;
	return (strstr(buf, "BUG") || strstr(buf, "WARNING")) ? 1 : 0;
}

/*
 * munmap of the slot's memory while a vCPU thread sweeps over it: KVM_RUN ends with EFAULT (no
 * page there any more, as KVM), the guest never reaches a freed frame, dom0 logs no complaint.
 */
static void unmap_running(int kvm)
{
	const uint64_t size = 1 << 20;
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sweeper s = {0};
	uint32_t gpa = BIG_GPA, end = BIG_GPA + size;
	pthread_t t;
	struct rm x;
	int i;

	kernel_complaints();
	if (mem == MAP_FAILED || big_vm(kvm, &x, mem, size)) {
		check("munmap while running: VM", -1, 0);
		return;
	}
	memcpy(x.ram + 0x1000, sweep, sizeof(sweep));
	memcpy(x.ram + 0x1001, &gpa, 4);
	memcpy(x.ram + 0x100f, &end, 4);
	s.x = &x;
	check("munmap while running: the sweeping thread starts",
	      pthread_create(&t, NULL, sweep_thread, &s), 0);
	for (i = 0; i < 3000 && s.passes < 3 && !s.done; i++)
		usleep(10000);
	check("... the guest sweeps the slot (3 passes)", s.passes >= 3, 1);
	check("... every page it wrote is the host's",
	      *(uint32_t *)((char *)mem + size - 4096) >= 3, 1);
	check("munmap of the slot's memory", munmap(mem, size), 0);
	for (i = 0; i < 3000 && !s.done; i++)
		usleep(10000);
	check("... KVM_RUN ends with EFAULT", s.rc, -EFAULT);
	if (s.done)
		pthread_join(t, NULL);
	check("... dom0's kernel log: no BUG or WARNING", kernel_complaints(), 0);
	rm_close(&x);
}

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR);

	test_name = "kvm_mem";
	if (kvm < 0) {
		perror("kvm_mem: /dev/kvm");
		return summary() + 1;
	}
	huge_page(kvm); /* (first: the others leave dom0's memory fragmented) */
	touch_one(kvm);
	read_only(kvm);
	overcommit(kvm);
	unmap_running(kvm);
	return summary();
}
