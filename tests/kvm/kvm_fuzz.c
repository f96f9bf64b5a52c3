/*
 * kvm_fuzz: hostile user space against /dev/kvm for a bounded number of calls. Random ioctl
 * numbers and arguments (bad, kernel and unmapped pointers, huge sizes), closed and foreign
 * fds, guests running random code stopped by a timer signal. Afterwards every fd is closed and
 * the hypervisor's free-frame count must be back where it started; dom0 and the hypervisor
 * must still be alive to print the result. The seed is printed, so a failure can be replayed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"

#define CALLS	4000
#define MAX_FDS 16

static const unsigned long requests[] = {
	KVM_GET_API_VERSION,
	KVM_CREATE_VM,
	KVM_CHECK_EXTENSION,
	KVM_GET_VCPU_MMAP_SIZE,
	KVM_CREATE_VCPU,
	KVM_SET_USER_MEMORY_REGION,
	KVM_RUN,
	KVM_GET_REGS,
	KVM_SET_REGS,
	KVM_GET_SREGS,
	KVM_SET_SREGS,
	KVM_CREATE_IRQCHIP,
	KVM_GET_SUPPORTED_CPUID,
	KVM_SET_TSS_ADDR,
	KVM_CREATE_DEVICE,
	KVM_IRQ_LINE,
};

static uint64_t rng_state;
static uint8_t *buf, *guest;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A pointer argument: valid memory with random bytes, or NULL, unmapped, kernel, misaligned. */
static unsigned long pointer_arg(void)
{
	static const unsigned long bad[] = {
		0, 0x1000, 0xffffffff81000000UL, 0xffff888000000000UL, 0x7ffffffff000UL, ~0UL};

	if (rnd() % 4 == 0)
		return bad[rnd() % (sizeof(bad) / sizeof(bad[0]))];
	for (int i = 0; i < 512; i++)
		buf[i] = (uint8_t)rnd();
	if (rnd() % 3 == 0) { /* a plausible memory region over the guest buffer */
		struct kvm_userspace_memory_region *r = (void *)buf;
		r->slot = rnd() % 40;
		r->flags = rnd() % 4 == 0 ? (uint32_t)rnd() : 0;
		r->guest_phys_addr = (rnd() % 64) << 12;
		r->memory_size = rnd() % 5 == 0 ? rnd() : ((rnd() % 16) << 12);
		r->userspace_addr = rnd() % 5 == 0 ? rnd() : (uintptr_t)guest;
	}
	return (unsigned long)(buf + (rnd() % 8 == 0 ? rnd() % 64 : 0));
}

static void on_alarm(int sig)
{
	(void)sig;
}

int main(void)
{
	int fds[MAX_FDS], nfds = 0, kvm = open("/dev/kvm", O_RDWR);
	long before = hv_free_frames(), after, ok = 0, errs = 0;
	struct sigaction sa = {.sa_handler = on_alarm};
	struct itimerval it = {{0, 20000}, {0, 20000}};

	rng_state = (uint64_t)time(NULL) | 1;
	printf("kvm_fuzz: seed %llu, %d calls\n", (unsigned long long)rng_state, CALLS);
	buf = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	guest = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < 65536; i++)
		guest[i] = (uint8_t)rnd(); /* random guest code and data */
	sigaction(SIGALRM, &sa, NULL);	   /* no SA_RESTART: KVM_RUN returns EINTR */
	setitimer(ITIMER_REAL, &it, NULL);
	fds[nfds++] = kvm;
	for (int i = 0; i < CALLS; i++) {
		int fd = rnd() % 10 == 0 ? (int)(rnd() % 64) - 2 : fds[rnd() % nfds];
		unsigned long req =
			rnd() % 8 == 0 ? (unsigned long)rnd()
				       : requests[rnd() % (sizeof(requests) / sizeof(requests[0]))];
		unsigned long arg = rnd() % 2 ? pointer_arg() : (rnd() % 4 ? rnd() % 80 : rnd());
		long r = ioctl(fd, req, arg);

		r < 0 ? errs++ : ok++;
		if (r >= 0 && (req == KVM_CREATE_VM || req == KVM_CREATE_VCPU) && nfds < MAX_FDS)
			fds[nfds++] = (int)r;
		if (rnd() % 200 == 0 && nfds > 1) { /* close a random fd */
			int k = 1 + (int)(rnd() % (nfds - 1));
			close(fds[k]);
			fds[k] = fds[--nfds];
		}
	}
	it = (struct itimerval){{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &it, NULL);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	after = hv_free_frames();
	printf("kvm_fuzz: %ld calls succeeded, %ld failed; hypervisor free frames before %ld after "
	       "%ld\n",
	       ok, errs, before, after);
	printf("%d passed, %d failed\n", before > 0 && before == after,
	       !(before > 0 && before == after));
	return before > 0 && before == after ? 0 : 1;
}
