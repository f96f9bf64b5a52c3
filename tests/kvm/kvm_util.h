/* Shared by the KVM API tests in dom0. */
#ifndef KVM_UTIL_H
#define KVM_UTIL_H

#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

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
	fflush(stdout); /* a program that hangs still shows how far it got */
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

	/* Linux KVM's AP that leaves KVM_MP_STATE_UNINITIALIZED returns -EAGAIN once: runs again */
	while ((t->rc = io(t->fd, KVM_RUN, 0)) == 0 || t->rc == -EAGAIN)
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

/* A real-mode vCPU at 0x1000 over 64 KiB of RAM at 0; #UD (IVT) goes to a HLT at 0x2000, #GP to
 * one at 0x2100. */
struct rm {
	int vm, vcpu;
	uint8_t *ram;
	struct kvm_run *run;
	long run_size;
};

static inline int rm_vm(int kvm, bool irqchip, uint64_t quirks_off, struct rm *x)
{
	struct kvm_userspace_memory_region mem = {.memory_size = 0x10000};
	struct kvm_enable_cap cap = {.cap = KVM_CAP_DISABLE_QUIRKS2, .args[0] = quirks_off};

	x->vm = io(kvm, KVM_CREATE_VM, 0);
	x->ram = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mem.userspace_addr = (uintptr_t)x->ram;
	x->ram[6 * 4 + 1] = 0x20;  /* IVT 6: 0000:2000 */
	x->ram[13 * 4 + 1] = 0x21; /* IVT 13: 0000:2100 */
	x->ram[0x2000] = x->ram[0x2100] = 0xf4;
	if ((irqchip && io(x->vm, KVM_CREATE_IRQCHIP, 0)) ||
	    (quirks_off && io(x->vm, KVM_ENABLE_CAP, (uintptr_t)&cap)) ||
	    io(x->vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&mem))
		return -1;
	x->vcpu = io(x->vm, KVM_CREATE_VCPU, 0);
	x->run_size = io(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	x->run = mmap(NULL, x->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, x->vcpu, 0);
	return x->run == MAP_FAILED ? -1 : 0;
}

/* Runs code at 0x1000 (RAX given) to its first exit: that exit's reason, or -1. */
static inline long rm_run(struct rm *x, const uint8_t *code, size_t len, uint64_t rax)
{
	struct kvm_regs r = {.rip = 0x1000, .rflags = 2, .rax = rax};
	struct kvm_sregs s;

	memcpy(x->ram + 0x1000, code, len);
	if (io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s))
		return -1;
	s.cs.base = s.cs.selector = 0;
	if (io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s) || io(x->vcpu, KVM_SET_REGS, (uintptr_t)&r) ||
	    io(x->vcpu, KVM_RUN, 0))
		return -1;
	return x->run->exit_reason;
}

static inline long rm_reg(struct rm *x, bool rip)
{
	struct kvm_regs r;

	return io(x->vcpu, KVM_GET_REGS, (uintptr_t)&r) ? -1 : (long)(rip ? r.rip : r.rax);
}

/* Runs code at 0x1000 (RAX given) to its HLT: RIP then (past the HLT), or -1. */
static inline long rm_hlt(struct rm *x, const uint8_t *code, size_t len, uint64_t rax)
{
	return rm_run(x, code, len, rax) == KVM_EXIT_HLT ? rm_reg(x, true) : -1;
}

/* Closes the VM for good (its run mapping, which holds the vCPU's file, goes too). */
static inline void rm_close(struct rm *x)
{
	munmap(x->run, x->run_size);
	close(x->vcpu);
	close(x->vm);
	munmap(x->ram, 0x10000);
}

#endif
