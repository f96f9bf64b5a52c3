/*
 * kvm_fuzz: hostile user space against /dev/kvm for a bounded time. Every ioctl family the
 * kvm_hv module implements (system, VM, vCPU, device and stats fds) is called with random and
 * with structured-but-wrong arguments: random register files, segment state, XSAVE images and
 * MSR values, bad pointers (NULL, kernel, unmapped, read-only, straddling into a read-only
 * page), huge counts, closed and wrong-type fds; guests run random code.
 *
 * Phases, each bounded by a number of calls and by time (dom0's clock crawls in Bochs, so there
 * the count ends them; the whole test takes about 20 s of Bochs there):
 *   1. one thread, table-driven, replayable from the seed;
 *   2. racing threads on the same fds: KVM_RUN in one while others change memory slots and the
 *      host mapping under them (mprotect, madvise, mmap over it), set registers, close and
 *      reopen fds, create vCPUs and devices, read stats, close VM fds;
 *   3. children killed with SIGKILL in the middle of KVM_RUN (a guest spinning in a loop).
 * Afterwards every fd is closed and the hypervisor's free-frame count must be back where it
 * started, and no VM entry may have failed (the hypervisor must refuse bad state at the ioctl);
 * dom0 and the hypervisor must still be alive to print the result.
 *
 * kvm_fuzz [seed [seconds per phase]]: the seed is printed, so a failure can be replayed (phase 1
 * exactly; the racing phases as far as thread timing allows). A failed VM entry prints the vCPU's
 * state and, in phase 1, the state ioctls that led to it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "../../compat/kvmabi/hv_devices.h"
#include "kvm_util.h"

#define DEFAULT_SEED 20240611
#define DEFAULT_SECS 3
#define CALLS	     2400 /* per thread and phase, at most */
#define PAGE	     4096
#define BUF_RW	     (3 * PAGE) /* each thread's argument buffer, then a read-only page */
#define GUEST_SIZE   (256 * 1024)
#define CHURN_SIZE   (64 * PAGE)
#define MAX_FDS	     12 /* per kind */
#define THREADS	     5
#define KILLS	     3

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- randomness: one xorshift state per thread, derived from the seed ---- */

static uint64_t seed;
static __thread uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int one_in(unsigned int n)
{
	return rnd() % n == 0;
}

/* A value with a fair chance of being an edge: 0, all ones, sign bits, non-canonical... */
static uint64_t rval(void)
{
	static const uint64_t edge[] = {0,
					1,
					2,
					0x7f,
					0x80,
					0xff,
					0xfff,
					0x1000,
					0xffff,
					0x10000,
					0x7fffffff,
					0x80000000,
					0xffffffff,
					0x100000000ULL,
					0x0000800000000000ULL,
					0xffff800000000000ULL,
					0x7fffffffffffffffULL,
					0x8000000000000000ULL,
					~0ULL};

	switch (rnd() % 5) {
	case 0:
		return edge[rnd() % ARRAY_SIZE(edge)];
	case 1:
		return rnd() % 256;
	case 2:
		return 1ULL << (rnd() % 64);
	case 3:
		return rnd() & 0xffffffff;
	default:
		return rnd();
	}
}

static void rbytes(void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)p)[i] = (uint8_t)rnd();
}

/* A few random changes to a structure: a bit, a byte or a whole word somewhere. */
static void mutate(void *p, size_t n)
{
	uint8_t *b = p;

	for (int k = 1 + (int)(rnd() % 3); k > 0; k--) {
		size_t at = rnd() % n;
		uint64_t v = rval();

		switch (rnd() % 3) {
		case 0:
			b[at] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1:
			b[at] = (uint8_t)v;
			break;
		default:
			at &= ~(size_t)7;
			memcpy(b + at, &v, n - at < 8 ? n - at : 8);
		}
	}
}

/* ---- memory: the guest's, and each thread's argument buffer ---- */

static uint8_t *guest;	  /* shared, writable: what memory slots map */
static uint8_t *guest_ro; /* read-only: slots over it cannot be pinned for writing */
static uint8_t *hole;	  /* unmapped */
static uint8_t *churn;	  /* slots over it while act_churn() changes its host mapping */
static __thread uint8_t *buf;
static __thread const char *doing = "setup"; /* the op running, for a crash report */

static uint8_t *map_buffer(void)
{
	uint8_t *b = mmap(NULL, BUF_RW + 2 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (b == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	memset(b + BUF_RW, 0xa5, PAGE); /* never a valid signal mask length */
	mprotect(b + BUF_RW, PAGE, PROT_READ);
	munmap(b + BUF_RW + PAGE, PAGE);
	return b;
}

/* Instructions worth meeting in random guest code (real mode or otherwise). */
static const char *const snippets[] = {
	"\xeb\xfe",	/* jmp $ */
	"\xf4",		/* hlt */
	"\x0f\x01\xd1", /* xsetbv */
	"\x0f\x30",	/* wrmsr */
	"\x0f\x32",	/* rdmsr */
	"\x0f\xa2",	/* cpuid */
	"\xe6\x80",	/* out 0x80, al */
	"\xe4\x71",	/* in al, 0x71 */
	"\x66\xef",	/* out dx, eax */
	"\x0f\x22\xc0", /* mov cr0, eax */
	"\x0f\x22\xe0", /* mov cr4, eax */
	"\x0f\x22\xd8", /* mov cr3, eax */
	"\x0f\x23\xf8", /* mov dr7, eax */
	"\x0f\x01\xc1", /* vmcall */
	"\xcc",		/* int3 */
	"\xcd\x0d",	/* int 0x0d */
	"\x0f\x0b",	/* ud2 */
	"\xfb",		/* sti */
	"\xfa",		/* cli */
	"\x0f\x01\x10", /* lgdt [bx+si] */
	"\x0f\x00\xd8", /* ltr ax */
	"\x0f\x09",	/* wbinvd */
	"\x0f\x01\xf9", /* rdtscp */
	"\x0f\xae\x28", /* xrstor [bx+si] */
	"\xf3\xa4",	/* rep movsb */
	"\xf3\x6c",	/* rep insb */
	"\xa3\x00\xf0", /* mov [0xf000], ax */
	"\x8e\xd0",	/* mov ss, ax */
	"\x9d",		/* popf */
	"\xcf",		/* iret */
	"\x0f\x01\xd8", /* vmrun */
	"\x0f\x78\xc0", /* vmread */
	"\x0f\xc7\x30", /* vmptrld */
};

/* Random bytes, with instructions sprinkled in and sometimes a spin loop at the start. */
static void scribble(uint8_t *p, size_t n)
{
	size_t at;

	rbytes(p, n);
	for (int k = (int)(n / 64); k > 0; k--) {
		const char *s = snippets[rnd() % ARRAY_SIZE(snippets)];

		at = rnd() % n;
		if (at + strlen(s) <= n)
			memcpy(p + at, s, strlen(s));
	}
}

/* ---- fds: a pool per kind, shared by the threads ---- */

enum kind { SYS, VM, VCPU, DEV, STATS, KINDS, NONE = KINDS };

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int fd[MAX_FDS];
	int n;
} pool[KINDS];

static void pool_add(enum kind k, int fd)
{
	int victim = -1;

	if (fd < 3)
		return;
	pthread_mutex_lock(&pool_lock);
	if (pool[k].n < MAX_FDS) {
		pool[k].fd[pool[k].n++] = fd;
	} else { /* full: the newcomer replaces a random one */
		int i = (int)(rnd() % MAX_FDS);

		victim = pool[k].fd[i];
		pool[k].fd[i] = fd;
	}
	pthread_mutex_unlock(&pool_lock);
	if (victim >= 0)
		close(victim);
}

/* An fd of the kind asked for, mostly; else a closed, foreign or wrong-type one. */
static int pool_pick(enum kind k)
{
	int fd = -1;

	if (one_in(12))
		return one_in(4) ? -1 : 3 + (int)(rnd() % 80);
	if (one_in(10))
		k = (enum kind)(rnd() % KINDS);
	pthread_mutex_lock(&pool_lock);
	if (pool[k].n)
		fd = pool[k].fd[rnd() % pool[k].n];
	pthread_mutex_unlock(&pool_lock);
	return fd;
}

/* Takes an fd out of its pool (the caller closes it); -1 when the pool is empty. */
static int pool_take(enum kind k)
{
	int fd = -1;

	pthread_mutex_lock(&pool_lock);
	if (pool[k].n) {
		int i = (int)(rnd() % pool[k].n);

		fd = pool[k].fd[i];
		pool[k].fd[i] = pool[k].fd[--pool[k].n];
	}
	pthread_mutex_unlock(&pool_lock);
	return fd;
}

/* Closes every fd but stdio: the pools', and those a random ioctl made that nobody knows. */
static void close_all(void)
{
	pthread_mutex_lock(&pool_lock);
	memset(pool, 0, sizeof(pool));
	pthread_mutex_unlock(&pool_lock);
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
}

/* ---- what the system says, for structured arguments ---- */

static uint32_t msr_index[512];
static unsigned int nmsr_index;
static uint32_t feature_index[64];
static unsigned int nfeature_index;
static struct kvm_cpuid_entry2 supported[256];
static unsigned int nsupported;

static const uint32_t interesting_msrs[] = {
	0x10,	    0x1b,	0x3a,	    0x48,	0x49,	    0xc1,	0x174,
	0x175,	    0x176,	0x1a0,	    0x1d9,	0x277,	    0x2ff,	0x38f,
	0x480,	    0x48d,	0x4d0,	    0x6a2,	0x6e0,	    0x800,	0x830,
	0xd90,	    0xda0,	0x40000000, 0x4b564d00, 0x4b564d01, 0x4b564d04, 0x11,
	0x12,	    0xc0000080, 0xc0000081, 0xc0000082, 0xc0000084, 0xc0000100, 0xc0000101,
	0xc0000102, 0xc0000103, 0xc0010000, 0xffffffff,
};

static void learn_system(int kvm)
{
	struct {
		struct kvm_msr_list l;
		uint32_t i[512];
	} ml = {.l.nmsrs = 512};
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[256];
	} cp = {.c.nent = 256};

	if (ioctl(kvm, KVM_GET_MSR_INDEX_LIST, &ml) == 0) {
		nmsr_index = ml.l.nmsrs;
		memcpy(msr_index, ml.i, nmsr_index * 4);
	}
	ml.l.nmsrs = 64;
	if (ioctl(kvm, KVM_GET_MSR_FEATURE_INDEX_LIST, &ml) == 0) {
		nfeature_index = ml.l.nmsrs;
		memcpy(feature_index, ml.i, nfeature_index * 4);
	}
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &cp) == 0) {
		nsupported = cp.c.nent;
		memcpy(supported, cp.e, nsupported * sizeof(supported[0]));
	}
	printf("kvm_fuzz: %u MSRs, %u feature MSRs, %u CPUID entries\n", nmsr_index, nfeature_index,
	       nsupported);
}

/* ---- argument generators: each fills the thread's buffer (or not) and returns the arg ---- */

typedef unsigned long (*gen_fn)(int fd);
typedef long (*act_fn)(int fd);

static unsigned long arg_buf(void)
{
	return (unsigned long)buf;
}

/* A count: small, just past a limit, or huge. */
static uint32_t count(uint32_t sane)
{
	static const uint32_t big[] = {255,	256,	    257,	511,	    512,       1024,
				       0x10000, 0x40000000, 0x7fffffff, 0x80000000, 0xffffffff};

	if (one_in(4))
		return big[rnd() % ARRAY_SIZE(big)];
	return (uint32_t)(rnd() % (sane + 1));
}

static unsigned long gen_zero(int fd)
{
	(void)fd;
	return one_in(10) ? rval() : 0;
}

static unsigned long gen_small(int fd)
{
	(void)fd;
	return one_in(5) ? rval() : rnd() % 72;
}

static unsigned long gen_cap(int fd)
{
	(void)fd;
	if (one_in(6))
		return KVM_CAP_HV_DEVICES;
	return one_in(6) ? rval() : rnd() % 240;
}

static unsigned long gen_vm_type(int fd)
{
	(void)fd;
	return one_in(8) ? rval() : 0;
}

static unsigned long gen_tss(int fd)
{
	static const unsigned long a[] = {0xfffbd000, 0xfffbe000, 0xffffd000, 0xffffe000,
					  0x100000000UL};

	(void)fd;
	return one_in(2) ? a[rnd() % ARRAY_SIZE(a)] : rval();
}

static unsigned long gen_u64(int fd)
{
	(void)fd;
	*(uint64_t *)buf = rval();
	return arg_buf();
}

static unsigned long gen_random_bytes(int fd)
{
	(void)fd;
	rbytes(buf, BUF_RW);
	return arg_buf();
}

/* KVM_SET_GSI_ROUTING: entries mostly of the two kinds offered, GSIs and pins near the limits */
static unsigned long gen_routing(int fd)
{
	struct kvm_irq_routing *r = (void *)buf;
	unsigned max = (BUF_RW - sizeof(*r)) / sizeof(r->entries[0]);

	(void)fd;
	rbytes(buf, BUF_RW);
	r->nr = one_in(8) ? (uint32_t)rval() : (uint32_t)(rnd() % (max + 1));
	r->flags = one_in(8) ? (uint32_t)rval() : 0;
	for (unsigned i = 0; i < max; i++) {
		struct kvm_irq_routing_entry *e = &r->entries[i];
		e->gsi = one_in(4) ? (uint32_t)rval() : (uint32_t)(rnd() % 260);
		e->type = one_in(5) ? (uint32_t)rval() : 1 + (uint32_t)(rnd() % 2);
		e->flags = one_in(6) ? (uint32_t)rval() : 0;
		if (e->type == KVM_IRQ_ROUTING_IRQCHIP)
			e->u.irqchip.irqchip = rnd() % 4, e->u.irqchip.pin = rnd() % 26;
	}
	return arg_buf();
}

static unsigned long gen_msr_list(int fd)
{
	(void)fd;
	rbytes(buf, 256);
	((struct kvm_msr_list *)buf)->nmsrs = count(600);
	return arg_buf();
}

static unsigned long gen_cpuid_out(int fd)
{
	(void)fd;
	rbytes(buf, 64);
	((struct kvm_cpuid2 *)buf)->nent = count(300);
	return arg_buf();
}

static uint32_t some_msr(int features)
{
	if (features && nfeature_index && !one_in(4))
		return feature_index[rnd() % nfeature_index];
	if (nmsr_index && one_in(2))
		return msr_index[rnd() % nmsr_index];
	return one_in(3) ? (uint32_t)rval()
			 : interesting_msrs[rnd() % ARRAY_SIZE(interesting_msrs)];
}

static unsigned long msrs(int features)
{
	struct kvm_msrs *m = (void *)buf;
	uint32_t n = count(40), room = (BUF_RW - sizeof(*m)) / sizeof(m->entries[0]);

	m->nmsrs = n;
	m->pad = one_in(8) ? (uint32_t)rnd() : 0;
	for (uint32_t i = 0; i < n && i < room; i++) {
		m->entries[i].index = some_msr(features);
		m->entries[i].reserved = one_in(8) ? (uint32_t)rnd() : 0;
		m->entries[i].data = rval();
	}
	return arg_buf();
}

static unsigned long gen_feature_msrs(int fd)
{
	(void)fd;
	return msrs(1);
}

static unsigned long gen_vcpu_msrs(int fd)
{
	(void)fd;
	return msrs(0);
}

static unsigned long gen_set_cpuid(int fd)
{
	struct kvm_cpuid2 *c = (void *)buf;
	uint32_t n = count(80), room = (BUF_RW - sizeof(*c)) / sizeof(c->entries[0]);

	(void)fd;
	c->nent = n;
	c->padding = 0;
	for (uint32_t i = 0; i < n && i < room; i++) {
		if (nsupported && !one_in(4)) {
			c->entries[i] = supported[(i + rnd() % 3) % nsupported];
			if (one_in(3))
				mutate(&c->entries[i], sizeof(c->entries[i]));
		} else {
			rbytes(&c->entries[i], sizeof(c->entries[i]));
		}
	}
	return arg_buf();
}

/* A guest-physical address: low memory, the reset vector, just under 4 GiB, or absurd. */
static uint64_t some_gpa(void)
{
	static const uint64_t a[] = {0,		 0x1000,
				     0xa0000,	 0xf0000,
				     0x100000,	 0xfee00000,
				     0xfffc0000, 0xffff0000,
				     0xfffff000, 0x100000000ULL,
				     1ULL << 39, 1ULL << 46,
				     1ULL << 52, 0xfffffffffffff000ULL};

	if (one_in(2))
		return a[rnd() % ARRAY_SIZE(a)];
	if (one_in(8))
		return rval() | (one_in(2) ? 0 : 8);
	return (rnd() % 1024) * PAGE;
}

/* A user address for a slot: the guest buffer, read-only, unmapped, kernel, misaligned, churn. */
static uint64_t some_uaddr(uint64_t size)
{
	switch (rnd() % 10) {
	case 0:
		return (uintptr_t)guest_ro;
	case 1:
		return (uintptr_t)hole;
	case 2:
		return 0xffff888000000000ULL;
	case 3:
		return one_in(2) ? 0 : (uintptr_t)guest + 8;
	case 4:
		return rval() & ~0xfffULL;
	case 5:
		return (uintptr_t)churn + (rnd() % (CHURN_SIZE / PAGE)) * PAGE;
	default:
		if (size >= GUEST_SIZE)
			return (uintptr_t)guest;
		return (uintptr_t)guest + (rnd() % ((GUEST_SIZE - size) / PAGE + 1)) * PAGE;
	}
}

static unsigned long gen_memory_region(int fd)
{
	static const uint32_t flags[] = {0,
					 KVM_MEM_LOG_DIRTY_PAGES,
					 KVM_MEM_READONLY,
					 KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY,
					 4,
					 0x80000000};
	struct kvm_userspace_memory_region *r = (void *)buf;

	(void)fd;
	r->slot = one_in(8) ? (uint32_t)rval() : (uint32_t)(rnd() % 36);
	r->flags = one_in(3) ? flags[rnd() % ARRAY_SIZE(flags)] : 0;
	r->guest_phys_addr = some_gpa();
	r->memory_size = one_in(5) ? 0 : (1 + rnd() % 64) * PAGE;
	if (one_in(10))
		r->memory_size = one_in(2) ? rval() : GUEST_SIZE * 4ULL;
	r->userspace_addr = some_uaddr(r->memory_size);
	return arg_buf();
}

static unsigned long gen_dirty_log(int fd)
{
	struct kvm_dirty_log *l = (void *)buf;

	(void)fd;
	l->slot = one_in(8) ? (uint32_t)rval() : (uint32_t)(rnd() % 36);
	l->padding1 = one_in(8) ? (uint32_t)rnd() : 0;
	switch (rnd() % 6) {
	case 0:
		l->dirty_bitmap = NULL;
		break;
	case 1:
		l->dirty_bitmap = buf + BUF_RW - 8; /* straddles into the read-only page */
		break;
	case 2:
		l->dirty_bitmap = (void *)0xffffffff81000000UL;
		break;
	default:
		l->dirty_bitmap = buf + PAGE;
	}
	return arg_buf();
}

static unsigned long gen_enable_cap(int fd)
{
	struct kvm_enable_cap *c = (void *)buf;

	(void)fd;
	memset(c, 0, sizeof(*c));
	static const uint32_t caps[] = {
		KVM_CAP_MAX_VCPU_ID, KVM_CAP_SPLIT_IRQCHIP, KVM_CAP_X86_USER_SPACE_MSR,
		KVM_CAP_EXIT_ON_EMULATION_FAILURE, KVM_CAP_ENFORCE_PV_FEATURE_CPUID};

	c->cap = one_in(3) ? (uint32_t)gen_cap(fd) : caps[rnd() % (sizeof(caps) / sizeof(caps[0]))];
	c->flags = one_in(6) ? (uint32_t)rval() : 0;
	c->args[0] = one_in(4) ? rval() : rnd() % 70;
	if (one_in(4))
		rbytes(&c->args[1], sizeof(c->args) - sizeof(c->args[0]));
	return arg_buf();
}

static unsigned long gen_create_device(int fd)
{
	struct kvm_create_device *d = (void *)buf;

	(void)fd;
	d->type = one_in(3) ? (uint32_t)(one_in(2) ? rval() : rnd() % 16)
			    : KVM_DEV_TYPE_HV_UART16550 + (uint32_t)(rnd() % 6);
	d->flags = one_in(4) ? (one_in(2) ? KVM_CREATE_DEVICE_TEST : (uint32_t)rval()) : 0;
	d->fd = (uint32_t)rnd();
	return arg_buf();
}

static unsigned long gen_device_attr(int fd)
{
	static const uint64_t values[] = {0x3f8, 0x2f8, 0x3e8, 0xfff8, 0xfff9, 0x10000, 0,
					  4,	 23,	24,    0x80,   0x100,  0xff};
	struct kvm_device_attr *a = (void *)buf;
	uint64_t *v = (void *)(buf + 64);

	(void)fd;
	a->flags = one_in(6) ? (uint32_t)rval() : 0;
	a->group = one_in(5) ? (uint32_t)rval() : (uint32_t)(rnd() % 5);
	a->attr = one_in(5) ? rval() : rnd() % (HV_UART_NR_REGS + 2);
	*v = one_in(2) ? values[rnd() % ARRAY_SIZE(values)] : rval();
	switch (rnd() % 8) {
	case 0:
		a->addr = 0;
		break;
	case 1:
		a->addr = (uintptr_t)(buf + BUF_RW); /* read-only: GET cannot write there */
		break;
	case 2:
		a->addr = (uintptr_t)(buf + BUF_RW + PAGE); /* unmapped */
		break;
	case 3:
		a->addr = 0xffff888000001000ULL;
		break;
	default:
		a->addr = (uintptr_t)v + (one_in(6) ? 3 : 0);
	}
	return arg_buf();
}

/* "Get, then change a little": a register file as the vCPU has it, mutated. */
static unsigned long get_mutated(int fd, unsigned long get, size_t size)
{
	if (one_in(4) || ioctl(fd, get, buf) < 0)
		rbytes(buf, size);
	else
		mutate(buf, size);
	return arg_buf();
}

static unsigned long gen_regs(int fd)
{
	struct kvm_regs *r = (void *)buf;

	get_mutated(fd, KVM_GET_REGS, sizeof(*r));
	if (one_in(2)) { /* mostly sane: code in low memory */
		r->rip = one_in(4) ? rval() : rnd() % 0x10000;
		r->rflags = one_in(3) ? rval() : 2 | (rnd() & 0x3f7fd5);
	}
	return arg_buf();
}

static void some_segment(struct kvm_segment *s)
{
	if (one_in(2)) {
		mutate(s, sizeof(*s));
		return;
	}
	s->base = one_in(2) ? 0 : rval();
	s->limit = one_in(2) ? 0xffff : (uint32_t)rval();
	s->selector = (uint16_t)(one_in(2) ? 0 : rnd());
	s->type = (uint8_t)(rnd() % 16);
	s->present = (uint8_t)(rnd() % 3);
	s->dpl = (uint8_t)(rnd() % 5);
	s->db = (uint8_t)(rnd() % 2);
	s->s = (uint8_t)(rnd() % 3);
	s->l = (uint8_t)(rnd() % 2);
	s->g = (uint8_t)(rnd() % 2);
	s->avl = (uint8_t)(rnd() % 2);
	s->unusable = (uint8_t)(rnd() % 3);
}

/* Segment and control registers with the fields a VM entry checks changed on purpose. */
static void mutate_sregs(struct kvm_sregs *s)
{
	static const uint64_t cr0[] = {0x10,	   0x11,       0x60000010, 0x80000011, 0x80000010,
				       0x80050033, 0x20000010, 0x40000010, 0x31};
	static const uint64_t cr4[] = {0,	0x20,	 0x620,	   0x2000,    0x1000,  0x20000,
				       0x40000, 0x80000, 0x800000, 0x1000000, 0x3ff7ff};
	static const uint64_t efer[] = {0, 0x100, 0x400, 0x500, 0xd01, 0x800, 0x1, 0x2000};

	for (int k = 1 + (int)(rnd() % 3); k > 0; k--) {
		switch (rnd() % 9) {
		case 0:
			s->cr0 = one_in(2) ? cr0[rnd() % ARRAY_SIZE(cr0)] : rval();
			break;
		case 1:
			s->cr4 = one_in(2) ? cr4[rnd() % ARRAY_SIZE(cr4)] : rval();
			break;
		case 2:
			s->efer = one_in(2) ? efer[rnd() % ARRAY_SIZE(efer)] : rval();
			break;
		case 3:
			s->cr3 = rval();
			break;
		case 4:
			some_segment(&(&s->cs)[rnd() % 8]); /* cs, ds, es, fs, gs, ss, tr, ldt */
			break;
		case 5:
			s->gdt.limit = (uint16_t)rnd();
			s->idt.base = rval();
			break;
		case 6:
			s->apic_base = rval();
			s->cr8 = rval();
			break;
		case 7:
			s->interrupt_bitmap[rnd() % 4] = 1ULL << (rnd() % 64);
			break;
		default:
			mutate(s, sizeof(*s));
		}
	}
}

static unsigned long gen_sregs(int fd)
{
	struct kvm_sregs *s = (void *)buf;

	if (one_in(5) || ioctl(fd, KVM_GET_SREGS, s) < 0) {
		rbytes(s, sizeof(*s));
		return arg_buf();
	}
	if (one_in(3)) { /* flat real mode at 0: random guest code runs from low memory */
		s->cs.base = 0;
		s->cs.selector = 0;
	}
	memset(s->interrupt_bitmap, 0, sizeof(s->interrupt_bitmap));
	if (!one_in(3))
		mutate_sregs(s);
	return arg_buf();
}

static unsigned long gen_sregs2(int fd)
{
	struct kvm_sregs2 *s = (void *)buf;

	if (one_in(5) || ioctl(fd, KVM_GET_SREGS2, s) < 0) {
		rbytes(s, sizeof(*s));
		return arg_buf();
	}
	mutate_sregs((struct kvm_sregs *)s); /* the same layout up to the flags */
	s->flags = one_in(4) ? (uint64_t)rval() : 0;
	if (one_in(3))
		s->pdptrs[rnd() % 4] = rval();
	return arg_buf();
}

static unsigned long gen_fpu(int fd)
{
	struct kvm_fpu *f = (void *)buf;

	get_mutated(fd, KVM_GET_FPU, sizeof(*f));
	if (one_in(2))
		f->mxcsr = one_in(2) ? (uint32_t)rval() : 0x1f80 | (1u << (rnd() % 32));
	return arg_buf();
}

/* An XSAVE image: the header and MXCSR are where XRSTOR faults. */
static unsigned long gen_xsave(int fd)
{
	uint8_t *x = buf;

	get_mutated(fd, KVM_GET_XSAVE, 4096);
	switch (rnd() % 5) {
	case 0: /* XSTATE_BV */
		*(uint64_t *)(x + 512) = rval();
		break;
	case 1: /* XCOMP_BV: the compacted format */
		*(uint64_t *)(x + 520) = one_in(2) ? 1ULL << 63 | 3 : rval();
		break;
	case 2: /* the header's reserved bytes */
		x[528 + rnd() % 48] = (uint8_t)(1 + rnd() % 255);
		break;
	case 3: /* MXCSR and MXCSR_MASK */
		*(uint32_t *)(x + 24 + 4 * (rnd() % 2)) = (uint32_t)rval();
		break;
	default:
		break;
	}
	return arg_buf();
}

static unsigned long gen_xcrs(int fd)
{
	static const uint64_t xcr0[] = {0, 1, 2, 3, 4, 5, 6, 7, 0x1f, 0xe7, 0x2e7, 0x60007};
	struct kvm_xcrs *x = (void *)buf;

	(void)fd;
	memset(x, 0, sizeof(*x));
	x->nr_xcrs = one_in(5) ? (uint32_t)rval() : (uint32_t)(rnd() % 3);
	x->flags = one_in(6) ? (uint32_t)rval() : 0;
	for (int i = 0; i < KVM_MAX_XCRS; i++) {
		x->xcrs[i].xcr = one_in(4) ? (uint32_t)rval() : 0;
		x->xcrs[i].value = one_in(3) ? rval() : xcr0[rnd() % ARRAY_SIZE(xcr0)];
	}
	return arg_buf();
}

/* Events: exceptions with and without error codes, interrupt shadows, NMIs, SMM, in any mode. */
static unsigned long gen_events(int fd)
{
	struct kvm_vcpu_events *e = (void *)buf;

	get_mutated(fd, KVM_GET_VCPU_EVENTS, sizeof(*e));
	if (one_in(2)) {
		e->exception.injected = (uint8_t)(rnd() % 2);
		e->exception.pending = (uint8_t)(rnd() % 2);
		e->exception.nr = (uint8_t)(one_in(4) ? rnd() : rnd() % 32);
		e->exception.has_error_code = (uint8_t)(rnd() % 2);
		e->exception.error_code = (uint32_t)rval();
	}
	if (one_in(2)) {
		e->interrupt.injected = (uint8_t)(rnd() % 2);
		e->interrupt.nr = (uint8_t)rnd();
		e->interrupt.soft = (uint8_t)(rnd() % 2);
		e->interrupt.shadow = (uint8_t)(rnd() % 4);
	}
	if (one_in(2)) {
		e->nmi.injected = (uint8_t)(rnd() % 2);
		e->nmi.pending = (uint8_t)(rnd() % 2);
		e->nmi.masked = (uint8_t)(rnd() % 2);
	}
	if (one_in(3)) { /* into or out of SMM, an SMI pending, an INIT latched */
		e->smi.smm = (uint8_t)(rnd() % 2);
		e->smi.pending = (uint8_t)(rnd() % 2);
		e->smi.smm_inside_nmi = (uint8_t)(rnd() % 2);
		e->smi.latched_init = (uint8_t)(rnd() % 2);
	}
	if (one_in(2))
		e->flags = one_in(3) ? (uint32_t)rval() : (uint32_t)(rnd() % 16);
	return arg_buf();
}

static unsigned long gen_debugregs(int fd)
{
	struct kvm_debugregs *d = (void *)buf;

	get_mutated(fd, KVM_GET_DEBUGREGS, sizeof(*d));
	if (one_in(2))
		d->dr7 = one_in(2) ? rval() : 0x400 | (rnd() & 0xffff2fff);
	if (one_in(2))
		d->dr6 = one_in(2) ? rval() : 0xffff0ff0 | (rnd() & 0xf00f);
	if (one_in(2))
		d->flags = 0;
	return arg_buf();
}

static unsigned long gen_mp_state(int fd)
{
	(void)fd;
	*(uint32_t *)buf = one_in(5) ? (uint32_t)rval() : (uint32_t)(rnd() % 10);
	return arg_buf();
}

static unsigned long gen_interrupt(int fd)
{
	(void)fd;
	*(uint32_t *)buf = one_in(5) ? (uint32_t)rval() : (uint32_t)(rnd() % 300);
	return arg_buf();
}

static unsigned long gen_translate(int fd)
{
	struct kvm_translation *t = (void *)buf;

	(void)fd;
	rbytes(t, sizeof(*t));
	t->linear_address = one_in(2) ? rnd() % 0x100000 : rval();
	return arg_buf();
}

static unsigned long gen_signal_mask(int fd)
{
	struct kvm_signal_mask *m = (void *)buf;

	(void)fd;
	if (one_in(5))
		return 0; /* no mask */
	m->len = one_in(3) ? (uint32_t)rval() : 8;
	rbytes(m->sigset, 16);
	return arg_buf();
}

/* A pointer argument that is not the buffer the generator filled. */
static unsigned long bad_pointer(void)
{
	static const unsigned long bad[] = {0,
					    8,
					    0x1000,
					    0xffffffff81000000UL,
					    0xffff888000000000UL,
					    0xffffffffff600000UL,
					    0x7ffffffff000UL,
					    0x800000000000UL,
					    ~0UL};

	switch (rnd() % 4) {
	case 0:
		return (unsigned long)(buf + BUF_RW); /* read-only */
	case 1:
		return (unsigned long)(buf + BUF_RW - 8 * (1 + rnd() % 8)); /* straddles */
	case 2:
		return (unsigned long)(buf + BUF_RW + PAGE); /* unmapped */
	default:
		return bad[rnd() % ARRAY_SIZE(bad)];
	}
}

/* ---- actions that are more than one ioctl ---- */

static long exits[64];	    /* KVM_RUN's exit reasons */
static long entry_failures; /* KVM_EXIT_FAIL_ENTRY: the hypervisor took state it should refuse */
static long calls_ok, calls_err; /* every ioctl and action */
static int sequential;		 /* phase 1: one thread, keep the history of state changes */

/* Phase 1 keeps the last state changes, to show what led to a failed VM entry. */
static struct {
	int fd;
	const char *name;
	uint8_t arg[64];
} history[32];
static unsigned int history_n;

static void dump_vcpu(int fd)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct kvm_vcpu_events e;
	struct kvm_debugregs d;
	const struct kvm_segment *seg = &s.cs;
	static const char *const segs[] = {"cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"};

	if (ioctl(fd, KVM_GET_REGS, &r) == 0)
		printf("kvm_fuzz:   rip %llx rsp %llx rflags %llx\n", r.rip, r.rsp, r.rflags);
	if (ioctl(fd, KVM_GET_SREGS, &s) == 0) {
		printf("kvm_fuzz:   cr0 %llx cr3 %llx cr4 %llx efer %llx apic_base %llx\n", s.cr0,
		       s.cr3, s.cr4, s.efer, s.apic_base);
		for (int i = 0; i < 8; i++, seg++)
			printf("kvm_fuzz:   %s sel %x base %llx limit %x type %u p %u dpl %u db %u "
			       "s %u l %u g %u unusable %u\n",
			       segs[i], seg->selector, seg->base, seg->limit, seg->type,
			       seg->present, seg->dpl, seg->db, seg->s, seg->l, seg->g,
			       seg->unusable);
		printf("kvm_fuzz:   gdt %llx/%x idt %llx/%x\n", s.gdt.base, s.gdt.limit, s.idt.base,
		       s.idt.limit);
	}
	if (ioctl(fd, KVM_GET_VCPU_EVENTS, &e) == 0)
		printf("kvm_fuzz:   exception inj %u nr %u has_err %u err %x; irq inj %u nr %u "
		       "shadow %u; nmi pending %u masked %u\n",
		       e.exception.injected, e.exception.nr, e.exception.has_error_code,
		       e.exception.error_code, e.interrupt.injected, e.interrupt.nr,
		       e.interrupt.shadow, e.nmi.pending, e.nmi.masked);
	if (ioctl(fd, KVM_GET_DEBUGREGS, &d) == 0)
		printf("kvm_fuzz:   dr6 %llx dr7 %llx\n", d.dr6, d.dr7);
}

static void report_entry_failure(int fd, struct kvm_run *run)
{
	long n = __atomic_add_fetch(&entry_failures, 1, __ATOMIC_RELAXED);

	if (n > 3)
		return;
	printf("kvm_fuzz: BUG: KVM_RUN on fd %d: KVM_EXIT_FAIL_ENTRY, hardware reason %#llx "
	       "(seed %llu, %s phase); the vCPU now:\n",
	       fd, (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
	       (unsigned long long)seed, sequential ? "sequential" : "racing");
	dump_vcpu(fd);
	if (!sequential)
		return;
	printf("kvm_fuzz:   state set on this fd before it (oldest first):\n");
	for (unsigned int i = 0; i < ARRAY_SIZE(history); i++) {
		unsigned int k = (history_n + i) % ARRAY_SIZE(history);

		if (history[k].name && history[k].fd == fd) {
			printf("kvm_fuzz:     %s", history[k].name);
			for (int b = 0; b < 64; b++)
				printf(b % 8 ? "%02x" : " %02x", history[k].arg[b]);
			printf("\n");
		}
	}
}

static long act_run(int fd)
{
	struct kvm_run *run = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	long r;

	if (run == MAP_FAILED) {
		run = NULL;
	} else {
		run->immediate_exit = one_in(16);
		run->request_interrupt_window = one_in(4);
		if (one_in(4))
			rbytes(&run->mmio, sizeof(run->mmio)); /* data for a pending MMIO read */
	}
	r = ioctl(fd, KVM_RUN, one_in(20) ? rval() : 0);
	if (r == 0 && run) {
		__atomic_add_fetch(&exits[run->exit_reason % 64], 1, __ATOMIC_RELAXED);
		if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
			report_entry_failure(fd, run);
	}
	if (run)
		munmap(run, 2 * PAGE);
	return r;
}

static long act_close(int fd)
{
	(void)fd;
	fd = pool_take((enum kind)(rnd() % KINDS));
	return fd < 0 ? -1 : close(fd);
}

static long act_open(int fd)
{
	(void)fd;
	fd = open("/dev/kvm", one_in(8) ? O_RDONLY : O_RDWR);
	pool_add(SYS, fd);
	return fd;
}

static long act_dup(int fd)
{
	enum kind k = (enum kind)(rnd() % KINDS);
	int d;

	fd = pool_pick(k);
	d = dup(fd);
	if (d >= 0)
		pool_add(k, d);
	return d;
}

/* A whole VM at once, with memory in low memory and at the reset vector, and a vCPU. */
static long act_new_vm(int fd)
{
	struct kvm_userspace_memory_region low = {0, 0, 0, 0x10000, (uintptr_t)guest};
	struct kvm_userspace_memory_region top = {1, 0, 0xffff0000, 0x10000,
						  (uintptr_t)guest + 0x10000};
	int vm = (int)ioctl(fd, KVM_CREATE_VM, 0), vcpu;

	if (vm < 0)
		return vm;
	low.flags = one_in(3) ? KVM_MEM_LOG_DIRTY_PAGES : 0;
	ioctl(vm, KVM_SET_USER_MEMORY_REGION, &low);
	ioctl(vm, KVM_SET_USER_MEMORY_REGION, &top);
	vcpu = (int)ioctl(vm, KVM_CREATE_VCPU, rnd() % 4);
	pool_add(VM, vm);
	pool_add(VCPU, vcpu);
	return 0;
}

static long act_stats_read(int fd)
{
	static const size_t sizes[] = {0, 1, 7, 8, 24, 72, 100, 4096, BUF_RW, 1 << 20, ~0UL >> 1};
	static const off_t offs[] = {0, 1, 8, 24, 72, 512, 4095, 4096, 1 << 30, -1, -4096};
	size_t size = one_in(3) ? rnd() % 2048 : sizes[rnd() % ARRAY_SIZE(sizes)];
	off_t off = one_in(3) ? (off_t)(rnd() % 2048) : offs[rnd() % ARRAY_SIZE(offs)];
	void *p = one_in(6) ? (void *)bad_pointer() : buf;

	if (size > BUF_RW && p == buf && one_in(2))
		size = BUF_RW; /* else the kernel stops at the file's end, or faults at the RO page
				*/
	switch (rnd() % 4) {
	case 0:
		return read(fd, p, size);
	case 1:
		lseek(fd, off, rnd() % 3);
		return read(fd, p, size);
	case 2:
		return write(fd, p, size % 64);
	default:
		return pread(fd, p, size, off);
	}
}

/* mmap()s of a vCPU fd at odd lengths and offsets; only the two run pages are touched. */
static long act_mmap(int fd)
{
	static const size_t lens[] = {PAGE, 2 * PAGE, 3 * PAGE, 16 * PAGE};
	size_t len = lens[rnd() % ARRAY_SIZE(lens)];
	off_t off = one_in(4) ? (off_t)(rnd() % 4) * PAGE : 0;
	volatile uint8_t *p = mmap(NULL, len, one_in(3) ? PROT_READ : PROT_READ | PROT_WRITE,
				   one_in(4) ? MAP_PRIVATE : MAP_SHARED, fd, off);
	long sum = 0;

	if (p == MAP_FAILED)
		return -1;
	for (off_t at = 0; at + off < 2 * PAGE && at < (off_t)len; at += 512)
		sum += p[at];
	munmap((void *)p, len);
	return sum & 0;
}

/* Rewrites part of the guest's memory, or puts fresh pages under a slot's pinned ones. */
static long act_guest_memory(int fd)
{
	size_t at = (rnd() % (GUEST_SIZE / PAGE)) * PAGE, n = (1 + rnd() % 4) * PAGE;

	(void)fd;
	if (at + n > GUEST_SIZE)
		n = GUEST_SIZE - at;
	if (!sequential && one_in(8)) {
		void *p = mmap(guest + at, n, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

		return p == MAP_FAILED ? -1 : 0;
	}
	scribble(guest + at, n);
	if (one_in(3)) /* a spin loop somewhere low: a guest that never exits by itself */
		memcpy(guest + (rnd() % 0x10000 & ~1UL), "\xeb\xfe", 2);
	return 0;
}

/*
 * The host mapping under slots changes while vCPUs run over it (the MEMORY thread): mprotect,
 * madvise, and mmap of fresh or inaccessible pages over part of churn (a real munmap would let
 * another thread's mmap land there; kvm_mem tests munmap). The fuzzer never touches churn.
 */
static long act_churn(int fd)
{
	size_t at = (rnd() % (CHURN_SIZE / PAGE)) * PAGE, n = (1 + rnd() % 8) * PAGE;
	uint8_t *p = churn + at;

	(void)fd;
	if (at + n > CHURN_SIZE)
		n = CHURN_SIZE - at;
	switch (rnd() % 7) {
	case 0:
		return mprotect(p, n, PROT_READ);
	case 1:
		return mprotect(p, n, PROT_NONE);
	case 2:
		return mprotect(p, n, PROT_READ | PROT_WRITE);
	case 3:
		return madvise(p, n, MADV_DONTNEED);
	case 4: /* a hole for a while, as munmap (a run there must fail with EFAULT, not reach a
		 * freed frame), but not a hole the process's next mmap could take */
		return mmap(p, n, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1,
			    0) == MAP_FAILED;
	case 5:
		return madvise(p, n, one_in(2) ? MADV_HUGEPAGE : MADV_COLD);
	default: /* fresh pages where there were others, or none */
		return mmap(p, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			    -1, 0) == MAP_FAILED;
	}
}

/* A child inherits the fds: every call there must fail (the VM belongs to our mm). */
static long act_fork_use(int fd)
{
	enum kind k[20];
	int f[20], status;
	pid_t pid;

	for (int i = 0; i < 20; i++) /* before fork(): the child must not take pool_lock */
		f[i] = pool_pick(k[i] = (enum kind)(rnd() % KINDS));
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 20; i++) {
			if (k[i] == VCPU)
				ioctl(f[i], one_in(2) ? KVM_RUN : KVM_GET_REGS, buf);
			else if (k[i] == VM)
				ioctl(f[i], one_in(2) ? KVM_CREATE_VCPU : KVM_GET_STATS_FD, 1);
			else
				ioctl(f[i], KVM_SET_DEVICE_ATTR, gen_device_attr(f[i]));
		}
		_exit(0);
	}
	(void)fd;
	return pid < 0 ? -1 : waitpid(pid, &status, 0);
}

/* ---- the table ---- */

enum role { ANY, RUNNER, MEMORY, STATE, CHAOS, ROLES };

struct op {
	const char *name;
	enum kind on;	   /* the fd it wants */
	unsigned long req; /* the ioctl, or 0 for an action */
	gen_fn gen;	   /* the argument */
	act_fn act;	   /* or the action, instead of one ioctl */
	enum kind makes;   /* the kind of fd a success returns */
	enum role role;	   /* the racing thread that favours it */
	int sets;	   /* changes vCPU state (phase 1 keeps a history) */
};

#define IOCTL(k, rq, g, mk, rl, st)                                                            \
	{                                                                                      \
		.name = #rq, .on = k, .req = rq, .gen = g, .makes = mk, .role = rl, .sets = st \
	}
#define ACTION(k, fn, rl)                                                  \
	{                                                                  \
		.name = #fn, .on = k, .act = fn, .makes = NONE, .role = rl \
	}

static const struct op ops[] = {
	/* /dev/kvm */
	IOCTL(SYS, KVM_GET_API_VERSION, gen_zero, NONE, ANY, 0),
	IOCTL(SYS, KVM_CREATE_VM, gen_vm_type, VM, CHAOS, 0),
	IOCTL(SYS, KVM_CHECK_EXTENSION, gen_cap, NONE, ANY, 0),
	IOCTL(SYS, KVM_GET_VCPU_MMAP_SIZE, gen_zero, NONE, ANY, 0),
	IOCTL(SYS, KVM_GET_MSR_INDEX_LIST, gen_msr_list, NONE, ANY, 0),
	IOCTL(SYS, KVM_GET_MSR_FEATURE_INDEX_LIST, gen_msr_list, NONE, ANY, 0),
	IOCTL(SYS, KVM_GET_SUPPORTED_CPUID, gen_cpuid_out, NONE, ANY, 0),
	IOCTL(SYS, KVM_GET_MSRS, gen_feature_msrs, NONE, ANY, 0),
	ACTION(SYS, act_open, CHAOS),
	ACTION(SYS, act_new_vm, CHAOS),
	/* VM fds */
	IOCTL(VM, KVM_CREATE_VCPU, gen_small, VCPU, CHAOS, 0),
	IOCTL(VM, KVM_SET_USER_MEMORY_REGION, gen_memory_region, NONE, MEMORY, 0),
	IOCTL(VM, KVM_GET_DIRTY_LOG, gen_dirty_log, NONE, MEMORY, 0),
	IOCTL(VM, KVM_ENABLE_CAP, gen_enable_cap, NONE, ANY, 0),
	IOCTL(VM, KVM_CREATE_DEVICE, gen_create_device, DEV, CHAOS, 0),
	IOCTL(VM, KVM_GET_STATS_FD, gen_zero, STATS, CHAOS, 0),
	IOCTL(VM, KVM_SET_TSS_ADDR, gen_tss, NONE, ANY, 0),
	IOCTL(VM, KVM_SET_IDENTITY_MAP_ADDR, gen_u64, NONE, ANY, 0),
	IOCTL(VM, KVM_CHECK_EXTENSION, gen_cap, NONE, ANY, 0),
	IOCTL(VM, KVM_CREATE_IRQCHIP, gen_zero, NONE, ANY, 0),
	IOCTL(VM, KVM_IRQ_LINE, gen_random_bytes, NONE, ANY, 0),
	IOCTL(VM, KVM_IRQFD, gen_random_bytes, NONE, ANY, 0),
	IOCTL(VM, KVM_SET_GSI_ROUTING, gen_routing, NONE, ANY, 0),
	IOCTL(VM, KVM_GET_CLOCK, gen_random_bytes, NONE, ANY, 0),
	/* vCPU fds */
	ACTION(VCPU, act_run, RUNNER),
	ACTION(VCPU, act_mmap, RUNNER),
	IOCTL(VCPU, KVM_GET_REGS, gen_random_bytes, NONE, STATE, 0),
	IOCTL(VCPU, KVM_SET_REGS, gen_regs, NONE, STATE, 1),
	IOCTL(VCPU, KVM_GET_SREGS, gen_random_bytes, NONE, STATE, 0),
	IOCTL(VCPU, KVM_SET_SREGS, gen_sregs, NONE, STATE, 1),
	IOCTL(VCPU, KVM_GET_SREGS2, gen_random_bytes, NONE, STATE, 0),
	IOCTL(VCPU, KVM_SET_SREGS2, gen_sregs2, NONE, STATE, 1),
	IOCTL(VCPU, KVM_GET_FPU, gen_random_bytes, NONE, STATE, 0),
	IOCTL(VCPU, KVM_SET_FPU, gen_fpu, NONE, STATE, 1),
	IOCTL(VCPU, KVM_GET_XSAVE, gen_random_bytes, NONE, STATE, 0),
	IOCTL(VCPU, KVM_GET_XSAVE2, gen_random_bytes, NONE, STATE, 0),
	IOCTL(VCPU, KVM_SET_XSAVE, gen_xsave, NONE, STATE, 1),
	IOCTL(VCPU, KVM_GET_XCRS, gen_random_bytes, NONE, STATE, 0),
	IOCTL(VCPU, KVM_SET_XCRS, gen_xcrs, NONE, STATE, 1),
	IOCTL(VCPU, KVM_GET_MSRS, gen_vcpu_msrs, NONE, STATE, 0),
	IOCTL(VCPU, KVM_SET_MSRS, gen_vcpu_msrs, NONE, STATE, 1),
	IOCTL(VCPU, KVM_GET_CPUID2, gen_cpuid_out, NONE, STATE, 0),
	IOCTL(VCPU, KVM_SET_CPUID2, gen_set_cpuid, NONE, STATE, 1),
	IOCTL(VCPU, KVM_GET_VCPU_EVENTS, gen_random_bytes, NONE, STATE, 0),
	IOCTL(VCPU, KVM_SET_VCPU_EVENTS, gen_events, NONE, STATE, 1),
	IOCTL(VCPU, KVM_GET_DEBUGREGS, gen_random_bytes, NONE, STATE, 0),
	IOCTL(VCPU, KVM_SET_DEBUGREGS, gen_debugregs, NONE, STATE, 1),
	IOCTL(VCPU, KVM_GET_MP_STATE, gen_random_bytes, NONE, STATE, 0),
	IOCTL(VCPU, KVM_SET_MP_STATE, gen_mp_state, NONE, STATE, 1),
	IOCTL(VCPU, KVM_INTERRUPT, gen_interrupt, NONE, STATE, 1),
	IOCTL(VCPU, KVM_ENABLE_CAP, gen_enable_cap, NONE, STATE, 0),
	IOCTL(VCPU, KVM_NMI, gen_zero, NONE, STATE, 1),
	IOCTL(VCPU, KVM_SMI, gen_zero, NONE, STATE, 1),
	IOCTL(VCPU, KVM_TRANSLATE, gen_translate, NONE, STATE, 0),
	IOCTL(VCPU, KVM_SET_SIGNAL_MASK, gen_signal_mask, NONE, STATE, 0),
	IOCTL(VCPU, KVM_GET_STATS_FD, gen_zero, STATS, CHAOS, 0),
	IOCTL(VCPU, KVM_SET_GUEST_DEBUG, gen_random_bytes, NONE, ANY, 0),
	IOCTL(VCPU, KVM_GET_LAPIC, gen_random_bytes, NONE, ANY, 0),
	/* device fds */
	IOCTL(DEV, KVM_SET_DEVICE_ATTR, gen_device_attr, NONE, STATE, 0),
	IOCTL(DEV, KVM_GET_DEVICE_ATTR, gen_device_attr, NONE, STATE, 0),
	IOCTL(DEV, KVM_HAS_DEVICE_ATTR, gen_device_attr, NONE, STATE, 0),
	/* stats fds */
	ACTION(STATS, act_stats_read, CHAOS),
	/* any fd */
	ACTION(VCPU, act_guest_memory, MEMORY),
	ACTION(VCPU, act_churn, MEMORY),
	ACTION(VM, act_close, CHAOS),
	ACTION(VM, act_dup, CHAOS),
	ACTION(VM, act_fork_use, ANY),
};

/* The request: the table's, or a random number, or a random one in KVM's ioctl space. */
static unsigned long random_request(const struct op *op)
{
	if (!one_in(10))
		return op->req;
	if (one_in(2))
		return (unsigned long)(one_in(2) ? rnd() : (uint32_t)rnd());
	return _IOC(rnd() % 4, KVMIO, rnd() % 256, rnd() % 8192);
}

/* The signal that ends KVM_RUN must stay deliverable whatever mask the fuzzer sets. */
static void keep_wakeup(unsigned long req, unsigned long arg)
{
	uint8_t *b = (uint8_t *)arg + offsetof(struct kvm_signal_mask, sigset) + (SIGUSR1 - 1) / 8;

	if (req == KVM_SET_SIGNAL_MASK && b >= buf && b < buf + BUF_RW)
		*b &= (uint8_t) ~(1u << ((SIGUSR1 - 1) % 8));
}

static void record(const struct op *op, int fd, unsigned long arg)
{
	unsigned int k = history_n++ % ARRAY_SIZE(history);

	history[k].fd = fd;
	history[k].name = op->name;
	memset(history[k].arg, 0, sizeof(history[k].arg));
	if (arg >= (unsigned long)buf && arg - (unsigned long)buf <= BUF_RW + PAGE - 64)
		memcpy(history[k].arg, (void *)arg, 64); /* the buffer or its read-only page */
}

static long trace_from = -1; /* KVM_FUZZ_TRACE=N: print every call from the Nth on */
static long ncalls;

static void one_call(const struct op *op)
{
	int fd = pool_pick(op->on);
	unsigned long req, arg;
	long r;

	doing = op->name;
	if (trace_from >= 0 && __atomic_add_fetch(&ncalls, 1, __ATOMIC_RELAXED) >= trace_from) {
		printf("kvm_fuzz: call %ld: %s on fd %d\n", ncalls, op->name, fd);
		fflush(stdout);
	}
	if (op->act) {
		r = op->act(fd);
	} else {
		req = random_request(op);
		arg = one_in(8) ? bad_pointer() : op->gen(fd);
		if (one_in(12)) /* the old shape: anything at all */
			arg = one_in(2) ? gen_random_bytes(fd) : rval();
		keep_wakeup(req, arg);
		r = ioctl(fd, req, arg);
		if (r >= 0 && sequential && op->sets && req == op->req)
			record(op, fd, arg);
		if (r >= 0 && op->makes != NONE && req == op->req) {
			if (req != KVM_CREATE_DEVICE)
				pool_add(op->makes, (int)r);
			else if (arg == (unsigned long)buf &&
				 !(((struct kvm_create_device *)buf)->flags &
				   KVM_CREATE_DEVICE_TEST))
				pool_add(DEV, (int)((struct kvm_create_device *)buf)->fd);
		}
	}
	__atomic_add_fetch(r < 0 ? &calls_err : &calls_ok, 1, __ATOMIC_RELAXED);
}

static const struct op *find_op(unsigned long req, act_fn act)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++)
		if (ops[i].req == req && ops[i].act == act)
			return &ops[i];
	abort();
}

/* An op for a thread of that role: mostly its own; alone, guests run one call in six. */
static const struct op *pick_op(enum role role)
{
	if (role == ANY && one_in(6))
		return find_op(0, act_run);
	for (;;) {
		const struct op *op = &ops[rnd() % ARRAY_SIZE(ops)];

		if (role == ANY || op->role == role || one_in(4))
			return op;
	}
}

/* ---- time, threads and the wake-up signal ---- */

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void on_wakeup(int sig)
{
	(void)sig;
}

/* A crash of the fuzzer itself says where it was. */
static void on_crash(int sig, siginfo_t *si, void *uc)
{
	const greg_t *g = ((ucontext_t *)uc)->uc_mcontext.gregs;
	char line[200];
	int n = snprintf(line, sizeof(line),
			 "kvm_fuzz: signal %d at %p during %s (rip %llx rsp %llx, seed %llu)\n",
			 sig, si->si_addr, doing, (unsigned long long)g[REG_RIP],
			 (unsigned long long)g[REG_RSP], (unsigned long long)seed);

	if (write(1, line, (size_t)n) < 0)
		_exit(3);
	_exit(3);
}

/* The threads that get SIGUSR1 whenever the ticker runs, while they are there. */
static pthread_mutex_t workers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t workers[THREADS + 1];
static int working[THREADS + 1], ticking;

static void *ticker(void *unused)
{
	(void)unused;
	while (__atomic_load_n(&ticking, __ATOMIC_RELAXED)) {
		pthread_mutex_lock(&workers_lock);
		for (int i = 0; i <= THREADS; i++)
			if (working[i])
				pthread_kill(workers[i], SIGUSR1);
		pthread_mutex_unlock(&workers_lock);
		sched_yield(); /* not usleep(): dom0's clock crawls in Bochs */
	}
	return NULL;
}

static void start_working(int slot)
{
	pthread_mutex_lock(&workers_lock);
	workers[slot] = pthread_self();
	working[slot] = 1;
	pthread_mutex_unlock(&workers_lock);
}

static void stop_working(int slot)
{
	pthread_mutex_lock(&workers_lock);
	working[slot] = 0;
	pthread_mutex_unlock(&workers_lock);
}

struct worker {
	int slot;
	enum role role;
	double until;
	long calls; /* at most */
	pthread_t thread;
};

static void *work(void *p)
{
	struct worker *w = p;

	rng = seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(w->slot + 1));
	buf = map_buffer();
	start_working(w->slot);
	for (long n = 0; n < w->calls && now() < w->until; n += 16) {
		if (w->slot <= 1 && n % 512 == 0) { /* progress, in case something hangs */
			printf("kvm_fuzz: %.1f s left, %ld calls\n", w->until - now(), n);
			fflush(stdout);
		}
		for (int i = 0; i < 16; i++)
			one_call(pick_op(w->role));
		if (w->role == CHAOS && one_in(8)) { /* a VM fd closed, maybe mid-run */
			int fd = pool_take(VM);

			if (fd >= 0)
				close(fd);
		}
	}
	stop_working(w->slot);
	munmap(buf, BUF_RW + PAGE);
	return NULL;
}

static void frames_note(const char *when)
{
	printf("kvm_fuzz: %s: %ld calls succeeded, %ld failed, %ld VM entries failed; hypervisor "
	       "free frames %ld\n",
	       when, calls_ok, calls_err, entry_failures, hv_free_frames());
	fflush(stdout);
}

static void seed_pools(int kvm)
{
	pool_add(SYS, dup(kvm));
	for (int i = 0; i < 3; i++)
		act_new_vm(kvm);
	for (int i = 0; i < 3; i++) {
		int vm = pool_pick(VM), fd;
		struct kvm_create_device d = {.type = KVM_DEV_TYPE_HV_UART16550};

		if (ioctl(vm, KVM_CREATE_DEVICE, &d) == 0)
			pool_add(DEV, (int)d.fd);
		pool_add(STATS, (int)ioctl(vm, KVM_GET_STATS_FD, 0));
		fd = pool_pick(VCPU);
		pool_add(STATS, (int)ioctl(fd, KVM_GET_STATS_FD, 0));
	}
}

/* Phase 1: this thread alone. */
static void phase_sequential(int kvm, double secs)
{
	struct worker w = {.slot = 0, .role = ANY, .until = now() + secs, .calls = CALLS};

	sequential = 1;
	seed_pools(kvm);
	work(&w);
	sequential = 0;
	close_all();
}

/* Phase 2: racing threads with a role each, on the same fds. */
static void phase_racing(int kvm, double secs)
{
	static const enum role roles[THREADS] = {RUNNER, RUNNER, MEMORY, STATE, CHAOS};
	struct worker w[THREADS];

	seed_pools(kvm);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){
			.slot = 1 + i, .role = roles[i], .until = now() + secs, .calls = CALLS / 3};
		pthread_create(&w[i].thread, NULL, work, &w[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(w[i].thread, NULL);
	close_all();
}

/* The child of phase 3: a guest spinning at 0, run forever, while a second thread changes
 * memory slots, the dirty log and device state. */
static int spin_vm, spin_vcpu, spin_dev;

static void *child_churn(void *unused)
{
	(void)unused;
	rng = seed ^ 0x5bd1e995;
	buf = map_buffer();
	for (;;) {
		one_call(find_op(KVM_SET_USER_MEMORY_REGION, NULL));
		one_call(find_op(KVM_GET_DIRTY_LOG, NULL));
		ioctl(spin_dev, KVM_SET_DEVICE_ATTR, gen_device_attr(spin_dev));
		pool_add(STATS, (int)ioctl(spin_vcpu, KVM_GET_STATS_FD, 0));
		act_stats_read(pool_pick(STATS));
	}
	return NULL;
}

static void child_spin(int kvm, int ready)
{
	struct kvm_userspace_memory_region low = {0, KVM_MEM_LOG_DIRTY_PAGES, 0, 0x10000,
						  (uintptr_t)guest};
	struct kvm_create_device d = {.type = KVM_DEV_TYPE_HV_UART16550};
	struct kvm_sregs s;
	struct kvm_regs r = {.rip = 0, .rflags = 2};
	pthread_t t;

	memcpy(guest, "\xeb\xfe", 2);
	spin_vm = (int)ioctl(kvm, KVM_CREATE_VM, 0);
	ioctl(spin_vm, KVM_SET_USER_MEMORY_REGION, &low);
	spin_vcpu = (int)ioctl(spin_vm, KVM_CREATE_VCPU, 0);
	ioctl(spin_vm, KVM_CREATE_DEVICE, &d);
	spin_dev = (int)d.fd;
	ioctl(spin_vcpu, KVM_GET_SREGS, &s);
	s.cs.base = 0;
	s.cs.selector = 0;
	ioctl(spin_vcpu, KVM_SET_SREGS, &s);
	ioctl(spin_vcpu, KVM_SET_REGS, &r);
	pool_add(VM, spin_vm);
	if (write(ready, "x", 1) != 1)
		_exit(1);
	pthread_create(&t, NULL, child_churn, NULL);
	for (;;)
		ioctl(spin_vcpu, KVM_RUN, 0);
}

/* Phase 3: children killed in the middle of KVM_RUN; returns how many died of SIGKILL. */
static int phase_kill(int kvm)
{
	int killed = 0;

	for (int i = 0; i < KILLS; i++) {
		int p[2], status = 0;
		char c;
		pid_t pid;

		if (pipe(p) < 0)
			return -1;
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			child_spin(kvm, p[1]);
		}
		close(p[1]);
		if (pid > 0 && read(p[0], &c, 1) == 1) {
			for (int k = 50 + (int)(rnd() % 500); k > 0; k--)
				sched_yield(); /* the child runs its guest meanwhile */
			kill(pid, SIGKILL);
		}
		close(p[0]);
		if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGKILL)
			killed++;
	}
	return killed;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_wakeup}; /* no SA_RESTART: KVM_RUN returns */
	double secs = argc > 2 ? atof(argv[2]) : DEFAULT_SECS, t0 = now();
	long before, after;
	pthread_t tick;
	int kvm, killed;

	test_name = "kvm_fuzz";
	seed = argc > 1 ? strtoull(argv[1], NULL, 0) : DEFAULT_SEED;
	rng = seed | 1;
	printf("kvm_fuzz: seed %llu, %.1f s per phase, %d racing threads\n",
	       (unsigned long long)seed, secs, THREADS);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_sigaction = on_crash;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	guest = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	guest_ro = mmap(NULL, 0x10000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	hole = mmap(NULL, 0x10000, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	churn = mmap(NULL, CHURN_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole, 0x10000);
	scribble(guest, GUEST_SIZE);
	if (getenv("KVM_FUZZ_TRACE"))
		trace_from = atol(getenv("KVM_FUZZ_TRACE"));
	kvm = open("/dev/kvm", O_RDWR);
	if (kvm < 0) {
		perror("/dev/kvm");
		return 1;
	}
	learn_system(kvm);
	before = hv_free_frames();

	__atomic_store_n(&ticking, 1, __ATOMIC_RELAXED);
	pthread_create(&tick, NULL, ticker, NULL);
	phase_sequential(kvm = open("/dev/kvm", O_RDWR), secs);
	frames_note("sequential");
	phase_racing(kvm = open("/dev/kvm", O_RDWR), secs);
	frames_note("racing");
	__atomic_store_n(&ticking, 0, __ATOMIC_RELAXED);
	pthread_join(tick, NULL);
	killed = phase_kill(kvm = open("/dev/kvm", O_RDWR));
	close_all();
	while (wait(NULL) > 0)
		;
	frames_note("killed children");

	after = hv_free_frames();
	printf("kvm_fuzz: exits:");
	for (int i = 0; i < 64; i++)
		if (exits[i])
			printf(" %d:%ld", i, exits[i]);
	printf("; %.1f s\n", now() - t0);
	printf("kvm_fuzz: %ld calls succeeded, %ld failed; hypervisor free frames before %ld after "
	       "%ld\n",
	       calls_ok, calls_err, before, after);
	check("hypervisor free frames back", after, before > 0 ? before : -2);
	check("VM entries failed", entry_failures, 0);
	check("children killed in KVM_RUN", killed, KILLS);
	return summary();
}
