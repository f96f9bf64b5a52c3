/* Shared by the KVM API tests in dom0. */
#ifndef KVM_UTIL_H
#define KVM_UTIL_H

#include <errno.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>

/* KVM_GET_MSRS or KVM_SET_MSRS of one MSR of a vCPU (the value in, and back out): 1, 0 or -errno.
 */
static inline long msr_io(int vcpu, unsigned long req, uint32_t index, uint64_t *data)
{
	struct {
		struct kvm_msrs head;
		struct kvm_msr_entry e;
	} m = {.head.nmsrs = 1, .e = {.index = index, .data = *data}};
	long r = ioctl(vcpu, req, &m);

	*data = m.e.data;
	return r < 0 ? -errno : r;
}

/* Each test program sets its name; check() counts, and main ends with the summary line. */
static const char *test_name;
static int passed, failed;

static inline void check(const char *what, long got, long want)
{
	int ok = got == want;

	printf("%s: %s %s: got %ld, want %ld\n", test_name, ok ? "ok" : "FAIL", what, got, want);
	ok ? passed++ : failed++;
}

/* An ioctl's result: its return value, or -errno. */
static inline long io(int fd, unsigned long req, unsigned long arg)
{
	long r = ioctl(fd, req, arg);

	return r < 0 ? -errno : r;
}

static inline int summary(void)
{
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

/*
 * Flat 32-bit protected mode for a vCPU, as a VMM sets it up: a GDT at `gdt` in guest RAM (code
 * selector 8, data 16, base 0, 4 GiB), an IDT at `idt` (gates from idt_gate32), CR0.PE.
 */
static inline int flat32(int vcpu, uint8_t *ram, uint32_t gdt, uint32_t idt, uint32_t rip,
			 uint32_t rsp)
{
	struct kvm_regs r = {.rip = rip, .rsp = rsp, .rflags = 2};
	uint64_t *g = (uint64_t *)(ram + gdt);
	struct kvm_sregs s;

	g[1] = 0x00cf9b000000ffffULL;
	g[2] = 0x00cf93000000ffffULL;
	if (ioctl(vcpu, KVM_GET_SREGS, &s))
		return -1;
	s.cs = (struct kvm_segment){0, 0xffffffff, 8, 0xb, 1, 0, 1, 1, 0, 1, 0, 0, 0};
	s.ds = (struct kvm_segment){0, 0xffffffff, 16, 0x3, 1, 0, 1, 1, 0, 1, 0, 0, 0};
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.gdt = (struct kvm_dtable){.base = gdt, .limit = 23};
	s.idt = (struct kvm_dtable){.base = idt, .limit = 0x7ff};
	s.cr0 = 0x11;
	return ioctl(vcpu, KVM_SET_SREGS, &s) || ioctl(vcpu, KVM_SET_REGS, &r) ? -1 : 0;
}

/* A 32-bit interrupt gate for `vec` to `handler` (code selector 8). */
static inline void idt_gate32(uint8_t *ram, uint32_t idt, unsigned vec, uint32_t handler)
{
	uint32_t *g = (uint32_t *)(ram + idt + vec * 8);

	g[0] = (handler & 0xffff) | (8u << 16);
	g[1] = (handler & 0xffff0000) | 0x8e00;
}

/* A vCPU run by a thread of its own: KVM_RUN until it fails (a signal ends it with EINTR). */
struct vcpu_thread {
	int fd;
	long rc;
};

static inline void *vcpu_thread_run(void *arg)
{
	struct vcpu_thread *t = arg;

	while ((t->rc = io(t->fd, KVM_RUN, 0)) == 0)
		;
	return NULL;
}

/* A handler that does nothing: the signal only interrupts KVM_RUN. */
static inline void interrupt_only(int sig)
{
	(void)sig;
}

/* The hypervisor's free frames, through the kvm_hv module (for leak checks); -1 if unknown. */
static inline long hv_free_frames(void)
{
	FILE *f = fopen("/sys/module/kvm_hv/parameters/hv_free_frames", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

#endif
