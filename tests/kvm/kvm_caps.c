/*
 * Capabilities a VMM checks at start-up, each with what it promises: KVM_CAP_HLT (KVM_EXIT_HLT),
 * KVM_CAP_COALESCED_MMIO and _PIO (writes queued in the ring page of the vCPU mmap instead of
 * exiting), KVM_CAP_GET_TSC_KHZ (KVM_GET/SET_TSC_KHZ). Written from KVM's API documentation.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"

#define RING_MAX \
	((4096 - sizeof(struct kvm_coalesced_mmio_ring)) / sizeof(struct kvm_coalesced_mmio))

static long zone(int vm, unsigned long req, uint64_t addr, uint32_t size, uint32_t pio)
{
	struct kvm_coalesced_mmio_zone z = {.addr = addr, .size = size, .pio = pio};

	return io(vm, req, (uintptr_t)&z);
}

static unsigned queued(const struct kvm_coalesced_mmio_ring *r)
{
	return (r->last + RING_MAX - r->first) % RING_MAX;
}

static void caps(int kvm, int vm)
{
	check("KVM_CAP_HLT", io(kvm, KVM_CHECK_EXTENSION, KVM_CAP_HLT), 1);
	check("KVM_CAP_COALESCED_MMIO: the ring's page in the vCPU mmap",
	      io(kvm, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO), KVM_COALESCED_MMIO_PAGE_OFFSET);
	check("KVM_CAP_COALESCED_PIO (1, as Linux KVM answers)",
	      io(vm, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO), 1);
	check("KVM_CAP_GET_TSC_KHZ", io(vm, KVM_CHECK_EXTENSION, KVM_CAP_GET_TSC_KHZ), 1);
	/* these three promise what other tests show: the VM fd answers this very ioctl,
	 * kvmclock (kvm_state) and KVM_FEATURE_NOP_IO_DELAY in CPUID 0x40000001 (kvm_state) */
	check("KVM_CAP_CHECK_EXTENSION_VM",
	      io(kvm, KVM_CHECK_EXTENSION, KVM_CAP_CHECK_EXTENSION_VM), 1);
	check("KVM_CAP_CLOCKSOURCE", io(vm, KVM_CHECK_EXTENSION, KVM_CAP_CLOCKSOURCE), 1);
	check("KVM_CAP_NOP_IO_DELAY", io(vm, KVM_CHECK_EXTENSION, KVM_CAP_NOP_IO_DELAY), 1);
	check("KVM_GET_VCPU_MMAP_SIZE covers the ring", io(kvm, KVM_GET_VCPU_MMAP_SIZE, 0),
	      (KVM_COALESCED_MMIO_PAGE_OFFSET + 1) * 4096);
	check("a zone's pio must be 0 or 1",
	      zone(vm, KVM_REGISTER_COALESCED_MMIO, 0x18000, 0x1000, 2), -EINVAL);
}

/* The TSC rate: the host's, which a set of the same rate (or 0) keeps. */
static void tsc_khz(int vcpu)
{
	long khz = io(vcpu, KVM_GET_TSC_KHZ, 0);

	printf("kvm_caps: KVM_GET_TSC_KHZ %ld\n", khz);
	check("KVM_GET_TSC_KHZ is a rate", khz > 1000, 1);
	check("KVM_SET_TSC_KHZ of that rate", io(vcpu, KVM_SET_TSC_KHZ, khz), 0);
	check("KVM_SET_TSC_KHZ 0 (the host's)", io(vcpu, KVM_SET_TSC_KHZ, 0), 0);
	check("... the rate stays", io(vcpu, KVM_GET_TSC_KHZ, 0), khz);
}

static long tsc_attr(int vcpu, unsigned long req, uint32_t group, uint64_t attr, uint64_t *val)
{
	struct kvm_device_attr a = {.group = group, .attr = attr, .addr = (uintptr_t)val};

	return io(vcpu, req, (uintptr_t)&a);
}

/* KVM_VCPU_TSC_OFFSET (KVM_CAP_VCPU_ATTRIBUTES): guest TSC = host TSC + offset, exactly. */
static void tsc_offset(int vm, int vcpu)
{
	uint64_t off = 0, want = 1ULL << 40, t0, t1, guest = 0;

	check("KVM_CAP_VCPU_ATTRIBUTES", io(vm, KVM_CHECK_EXTENSION, KVM_CAP_VCPU_ATTRIBUTES), 1);
	check("KVM_HAS_DEVICE_ATTR TSC offset",
	      tsc_attr(vcpu, KVM_HAS_DEVICE_ATTR, KVM_VCPU_TSC_CTRL, KVM_VCPU_TSC_OFFSET, NULL), 0);
	check("KVM_HAS_DEVICE_ATTR another attribute",
	      tsc_attr(vcpu, KVM_HAS_DEVICE_ATTR, KVM_VCPU_TSC_CTRL, 1, NULL), -ENXIO);
	check("KVM_HAS_DEVICE_ATTR another group", tsc_attr(vcpu, KVM_HAS_DEVICE_ATTR, 1, 0, NULL),
	      -ENXIO);
	check("KVM_GET_DEVICE_ATTR TSC offset",
	      tsc_attr(vcpu, KVM_GET_DEVICE_ATTR, KVM_VCPU_TSC_CTRL, KVM_VCPU_TSC_OFFSET, &off), 0);
	check("KVM_GET_DEVICE_ATTR to a bad address",
	      tsc_attr(vcpu, KVM_GET_DEVICE_ATTR, KVM_VCPU_TSC_CTRL, KVM_VCPU_TSC_OFFSET,
		       (uint64_t *)8),
	      -EFAULT);
	check("KVM_SET_DEVICE_ATTR TSC offset 2^40",
	      tsc_attr(vcpu, KVM_SET_DEVICE_ATTR, KVM_VCPU_TSC_CTRL, KVM_VCPU_TSC_OFFSET, &want),
	      0);
	check("... read back",
	      tsc_attr(vcpu, KVM_GET_DEVICE_ATTR, KVM_VCPU_TSC_CTRL, KVM_VCPU_TSC_OFFSET, &off), 0);
	check("... is 2^40", off == want, 1);
	t0 = __builtin_ia32_rdtsc();
	check("KVM_GET_MSRS IA32_TSC", msr_io(vcpu, KVM_GET_MSRS, 0x10, &guest), 1);
	t1 = __builtin_ia32_rdtsc();
	check("IA32_TSC is the host's plus the offset", t0 + want <= guest && guest <= t1 + want,
	      1);
}

static void coalesced(int vm, int vcpu, struct kvm_run *run)
{
	struct kvm_coalesced_mmio_ring *ring =
		(void *)((char *)run + 4096 * KVM_COALESCED_MMIO_PAGE_OFFSET);
	struct kvm_coalesced_mmio *e = ring->coalesced_mmio;
	struct kvm_regs r;

	check("register MMIO zone", zone(vm, KVM_REGISTER_COALESCED_MMIO, 0x18000, 0x1000, 0), 0);
	check("register port zone", zone(vm, KVM_REGISTER_COALESCED_MMIO, 0x70, 1, 1), 0);
	check("KVM_RUN to the OUT", io(vcpu, KVM_RUN, 0), 0);
	check("the three writes did not exit: OUT to 0x10",
	      run->exit_reason == KVM_EXIT_IO ? run->io.port : -1, 0x10);
	check("queued", queued(ring), 3);
	/* address << 8 | length << 4 | pio */
	check("first: MMIO byte", (long)(e[0].phys_addr << 8 | e[0].len << 4 | e[0].pio),
	      0x1800010);
	check("first: its data", e[0].data[0], 0x11);
	check("second: MMIO word", (long)(e[1].phys_addr << 8 | e[1].len << 4 | e[1].pio),
	      0x1800220);
	check("second: its data", e[1].data[0] | e[1].data[1] << 8, 0x2233);
	check("third: port 0x70", (long)(e[2].phys_addr << 8 | e[2].len << 4 | e[2].pio), 0x7011);
	ring->first = ring->last; /* drained */
	check("KVM_RUN to the write outside the zone", io(vcpu, KVM_RUN, 0), 0);
	check("... is an MMIO exit",
	      run->exit_reason == KVM_EXIT_MMIO && run->mmio.is_write ? (long)run->mmio.phys_addr
								      : -1,
	      0x19000);
	/* as KVM: unregistering a range inside a zone removes the whole zone */
	check("unregister part of it", zone(vm, KVM_UNREGISTER_COALESCED_MMIO, 0x18100, 0x10, 0),
	      0);
	check("KVM_RUN: the zone's write exits now", io(vcpu, KVM_RUN, 0), 0);
	check("... at 0x18000", run->exit_reason == KVM_EXIT_MMIO ? (long)run->mmio.phys_addr : -1,
	      0x18000);
	check("register it again", zone(vm, KVM_REGISTER_COALESCED_MMIO, 0x18000, 0x1000, 0), 0);
	check("KVM_RUN: 200 writes fill the ring", io(vcpu, KVM_RUN, 0), 0);
	check("the write that does not fit exits",
	      run->exit_reason == KVM_EXIT_MMIO ? (long)run->mmio.phys_addr : -1, 0x18000);
	check("the ring holds all it can", queued(ring), RING_MAX - 1);
	check("KVM_GET_REGS", io(vcpu, KVM_GET_REGS, (uintptr_t)&r), 0);
	check("... at the iteration that did not fit", (long)(r.rcx & 0xffff),
	      200 - (RING_MAX - 1));
	ring->first = ring->last;
	check("KVM_RUN to the HLT once drained", io(vcpu, KVM_RUN, 0), 0);
	check("exit reason HLT", run->exit_reason, KVM_EXIT_HLT);
	check("the rest of the writes queued", queued(ring), 200 - RING_MAX);
}

/* KVM_MEM_READONLY (KVM_CAP_READONLY_MEM): reads see the slot, a write is an MMIO exit. */
static void readonly_slot(int kvm)
{
	/* mov (0),%al; mov %al,%bl; movb $0x77,(0); hlt (DS = 0x1000: the read-only slot) */
	static const uint8_t code[] = {0xa0, 0x00, 0x00, 0x88, 0xc3, 0xc6,
				       0x06, 0x00, 0x00, 0x77, 0xf4};
	uint8_t *ram =
		mmap(NULL, 0x11000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region code_slot = {
		.slot = 0, .memory_size = 0x10000, .userspace_addr = (uintptr_t)ram};
	struct kvm_userspace_memory_region rom = {.slot = 1,
						  .flags = KVM_MEM_READONLY,
						  .guest_phys_addr = 0x10000,
						  .memory_size = 0x1000,
						  .userspace_addr = (uintptr_t)ram + 0x10000};
	struct kvm_regs r = {.rip = 0x1000, .rflags = 2};
	int vm = io(kvm, KVM_CREATE_VM, 0), vcpu;
	struct kvm_sregs s;
	struct kvm_run *run;

	check("KVM_CAP_READONLY_MEM", io(vm, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM), 1);
	memcpy(ram + 0x1000, code, sizeof(code));
	ram[0x10000] = 0x5a;
	check("code slot", io(vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&code_slot), 0);
	check("read-only slot", io(vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&rom), 0);
	vcpu = io(vm, KVM_CREATE_VCPU, 0);
	run = mmap(NULL, io(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu, 0);
	if (run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &s)) {
		check("read-only: a vCPU", 0, 1);
		return;
	}
	s.cs.base = s.cs.selector = 0;
	s.ds.base = 0x10000, s.ds.selector = 0x1000;
	check("read-only: KVM_SET_SREGS", io(vcpu, KVM_SET_SREGS, (uintptr_t)&s), 0);
	check("read-only: KVM_SET_REGS", io(vcpu, KVM_SET_REGS, (uintptr_t)&r), 0);
	check("read-only: KVM_RUN to the write", io(vcpu, KVM_RUN, 0), 0);
	check("read-only: the write is an MMIO exit",
	      run->exit_reason == KVM_EXIT_MMIO && run->mmio.is_write ? (long)run->mmio.phys_addr
								      : -1,
	      0x10000);
	check("read-only: ... with its data", run->mmio.data[0], 0x77);
	check("read-only: KVM_RUN to the HLT", io(vcpu, KVM_RUN, 0), 0);
	check("read-only: exit reason HLT", run->exit_reason, KVM_EXIT_HLT);
	check("read-only: KVM_GET_REGS", io(vcpu, KVM_GET_REGS, (uintptr_t)&r), 0);
	check("read-only: the read saw the slot", (long)(r.rbx & 0xff), 0x5a);
	check("read-only: the slot is unchanged", ram[0x10000], 0x5a);
	close(vcpu);
	close(vm);
}

int main(void)
{
	/*
	 * mov $0x11,%al; mov %al,(0x8000); movw $0x2233,(0x8002); out %al,$0x70; out %al,$0x10;
	 * movb $0x44,(0x9000); mov %al,(0x8000); mov $200,%cx; 1: mov %al,(0x8000); loop 1b; hlt
	 * (real mode, DS = 0x1000: 0x8000 is GPA 0x18000; no RAM there)
	 */
	static const uint8_t code[] = {0xb0, 0x11, 0xa2, 0x00, 0x80, 0xc7, 0x06, 0x02,
				       0x80, 0x33, 0x22, 0xe6, 0x70, 0xe6, 0x10, 0xc6,
				       0x06, 0x00, 0x90, 0x44, 0xa2, 0x00, 0x80, 0xb9,
				       0xc8, 0x00, 0xa2, 0x00, 0x80, 0xe2, 0xfb, 0xf4};
	struct kvm_userspace_memory_region mem = {.memory_size = 0x10000};
	struct kvm_regs r = {.rip = 0x1000, .rflags = 2};
	int kvm = open("/dev/kvm", O_RDWR), vm, vcpu;
	struct kvm_sregs s;
	struct kvm_run *run;
	uint8_t *ram;
	long size;

	test_name = "kvm_caps";
	if (kvm < 0) {
		perror("kvm_caps: /dev/kvm");
		return summary() + 1;
	}
	vm = io(kvm, KVM_CREATE_VM, 0);
	caps(kvm, vm);
	ram = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(ram + 0x1000, code, sizeof(code));
	mem.userspace_addr = (uintptr_t)ram;
	check("KVM_SET_USER_MEMORY_REGION", io(vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&mem), 0);
	vcpu = io(vm, KVM_CREATE_VCPU, 0);
	size = io(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	check("mmap of the vCPU", run != MAP_FAILED, 1);
	if (run == MAP_FAILED)
		return summary();
	tsc_khz(vcpu);
	tsc_offset(vm, vcpu);
	check("KVM_GET_SREGS", io(vcpu, KVM_GET_SREGS, (uintptr_t)&s), 0);
	s.cs.base = s.cs.selector = 0;
	s.ds.base = 0x10000, s.ds.selector = 0x1000;
	check("KVM_SET_SREGS", io(vcpu, KVM_SET_SREGS, (uintptr_t)&s), 0);
	check("KVM_SET_REGS", io(vcpu, KVM_SET_REGS, (uintptr_t)&r), 0);
	coalesced(vm, vcpu, run);
	readonly_slot(kvm);
	return summary();
}
