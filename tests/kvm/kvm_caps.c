/*
 * Capabilities a VMM checks at start-up, each with what it promises: KVM_CAP_HLT (KVM_EXIT_HLT),
 * KVM_CAP_COALESCED_MMIO and _PIO (writes queued in the ring page of the vCPU mmap instead of
 * exiting), KVM_CAP_GET_TSC_KHZ (KVM_GET/SET_TSC_KHZ), KVM_CAP_MSR_PLATFORM_INFO, PV steal time
 * (KVM_FEATURE_STEAL_TIME). Written from KVM's API documentation.
 */
#include <asm/kvm_para.h>
#include <fcntl.h>
#include <stdbool.h>
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

static long lvt0(int vcpu)
{
	struct kvm_lapic_state l;

	return io(vcpu, KVM_GET_LAPIC, (uintptr_t)&l) ? -1 : *(int32_t *)&l.regs[0x350];
}

/* MISC_ENABLE.MWAIT with KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT off: CPUID follows it, with SSE3. */
static void misc_enable_mwait(struct rm *x)
{
	struct {
		struct kvm_cpuid2 head;
		struct kvm_cpuid_entry2 e[2];
	} c = {.head.nent = 2, .e = {{.function = 0, .eax = 1}, {.function = 1}}};
	uint64_t v = 1 << 18;

	io(x->vcpu, KVM_SET_CPUID2, (uintptr_t)&c);
	check("MISC_ENABLE.MWAIT without SSE3", msr_io(x->vcpu, KVM_SET_MSRS, 0x1a0, &v), 0);
	c.e[1].ecx = 1; /* SSE3 */
	io(x->vcpu, KVM_SET_CPUID2, (uintptr_t)&c);
	check("MISC_ENABLE.MWAIT with SSE3", msr_io(x->vcpu, KVM_SET_MSRS, 0x1a0, &v), 1);
	c.head.nent = 2;
	check("... CPUID.1:ECX has MONITOR",
	      io(x->vcpu, KVM_GET_CPUID2, (uintptr_t)&c) ? -1 : (long)(c.e[1].ecx >> 3 & 1), 1);
}

/* RDTSCP and TSC_AUX: only where CPUID offers RDTSCP (#UD and #GP without it, as in KVM). */
static void rdtscp(int kvm)
{
	static const uint8_t rd[] = {0x0f, 0x01, 0xf9, 0xf4}; /* rdtscp; hlt */
	/* mov $0xc0000103,%ecx; rdmsr; hlt */
	static const uint8_t rdaux[] = {0x66, 0xb9, 0x03, 0x01, 0x00, 0xc0, 0x0f, 0x32, 0xf4};
	/* mov $0xc0000103,%ecx; mov $1,%edx; wrmsr; hlt */
	static const uint8_t wraux[] = {0x66, 0xb9, 0x03, 0x01, 0x00, 0xc0, 0x66, 0xba,
					0x01, 0x00, 0x00, 0x00, 0x0f, 0x30, 0xf4};
	struct {
		struct kvm_cpuid2 head;
		struct kvm_cpuid_entry2 e[2];
	} c = {.head.nent = 2,
	       .e = {{.function = 0x80000000, .eax = 0x80000001},
		     {.function = 0x80000001, .edx = 1u << 27}}};
	uint64_t aux = 0x1234;
	struct kvm_regs r;
	struct rm x, y;

	if (rm_vm(kvm, false, 0, &x) || rm_vm(kvm, false, 0, &y)) {
		check("RDTSCP: VMs", 0, 1);
		return;
	}
	check("RDTSCP without it in CPUID: #UD", rm_hlt(&x, rd, sizeof(rd), 0), 0x2001);
	check("... TSC_AUX: #GP", rm_hlt(&x, rdaux, sizeof(rdaux), 0), 0x2101);
	check("... but the host's", msr_io(x.vcpu, KVM_SET_MSRS, 0xc0000103, &aux), 1);
	check("KVM_SET_CPUID2 with RDTSCP", io(y.vcpu, KVM_SET_CPUID2, (uintptr_t)&c), 0);
	check("TSC_AUX set by the host", msr_io(y.vcpu, KVM_SET_MSRS, 0xc0000103, &aux), 1);
	check("RDTSCP runs", rm_hlt(&y, rd, sizeof(rd), 0), 0x1004);
	check("... and reads the guest's TSC_AUX",
	      io(y.vcpu, KVM_GET_REGS, (uintptr_t)&r) ? -1 : (long)r.rcx, 0x1234);
	check("the guest's TSC_AUX with bit 32: #GP", rm_hlt(&y, wraux, sizeof(wraux), 0), 0x2101);
	rm_close(&x);
	rm_close(&y);
}

/* The host's IA32_APIC_BASE may go from x2APIC back to xAPIC (a VMM's vCPU reset), as in KVM. */
static void host_apic_base(int vcpu)
{
	struct {
		struct kvm_cpuid2 head;
		struct kvm_cpuid_entry2 e[2];
	} c = {.head.nent = 2, .e = {{.function = 0, .eax = 1}, {.function = 1, .ecx = 1u << 21}}};
	struct kvm_lapic_state l;
	uint64_t v = 0xfee00000 | 3 << 10; /* enabled, x2APIC */

	check("x2APIC in CPUID", io(vcpu, KVM_SET_CPUID2, (uintptr_t)&c), 0);
	check("the host's APIC_BASE: x2APIC", msr_io(vcpu, KVM_SET_MSRS, 0x1b, &v), 1);
	v = 0xfee00000 | 1 << 11;
	check("... back to xAPIC (a VMM's reset)", msr_io(vcpu, KVM_SET_MSRS, 0x1b, &v), 1);
	check("... the APIC ID in xAPIC form",
	      io(vcpu, KVM_GET_LAPIC, (uintptr_t)&l) ? -1 : *(int32_t *)&l.regs[0x20], 1 << 24);
}

/* KVM_CAP_DISABLE_QUIRKS2: each quirk on by default, and what disabling it changes. */
static void quirks(int kvm)
{
	static const uint8_t mwait[] = {0x0f, 0x01, 0xc8, 0x0f, 0x01, 0xc9, 0xf4};
	static const uint8_t vmmcall[] = {0x0f, 0x01, 0xd9, 0xf4}, out7e[] = {0xe6, 0x7e, 0xf4};
	struct kvm_enable_cap cap = {.cap = KVM_CAP_DISABLE_QUIRKS2, .args[0] = 4};
	struct rm x, y;
	int ap;

	check("KVM_CAP_DISABLE_QUIRKS2: all of KVM 6.1's but LAPIC_MMIO_HOLE",
	      io(kvm, KVM_CHECK_EXTENSION, KVM_CAP_DISABLE_QUIRKS2), 0x7b);
	check("KVM_CAP_DISABLE_QUIRKS", io(kvm, KVM_CHECK_EXTENSION, KVM_CAP_DISABLE_QUIRKS), 1);
	if (rm_vm(kvm, true, 0, &x) || rm_vm(kvm, true, 0x7b, &y)) {
		check("quirks: VMs with an irqchip", 0, 1);
		return;
	}
	check("disabling LAPIC_MMIO_HOLE", io(x.vm, KVM_ENABLE_CAP, (uintptr_t)&cap), -EINVAL);
	check("LINT0_REENABLED: the BSP's LINT0 is ExtINT", lvt0(x.vcpu), 0x700);
	ap = io(x.vm, KVM_CREATE_VCPU, 1);
	check("... an AP's is masked", lvt0(ap), 0x10000);
	host_apic_base(ap);
	check("LINT0_REENABLED off: the BSP's LINT0 is masked", lvt0(y.vcpu), 0x10000);
	rm_close(&x);
	rm_close(&y);
	if (rm_vm(kvm, false, 0, &x) || rm_vm(kvm, false, 0x7b, &y)) {
		check("quirks: VMs", 0, 1);
		return;
	}
	check("MWAIT_NEVER_UD_FAULTS: MONITOR and MWAIT are NOPs",
	      rm_hlt(&x, mwait, sizeof(mwait), 0), 0x1007);
	check("FIX_HYPERCALL_INSN: VMMCALL runs (SCHED_YIELD)",
	      rm_hlt(&x, vmmcall, sizeof(vmmcall), 11), 0x1004);
	check("... returns 0", rm_reg(&x, false), 0);
	check("... and became VMCALL", x.ram[0x1002], 0xc1);
	check("OUT_7E_INC_RIP: RIP past the OUT at its exit",
	      rm_run(&x, out7e, sizeof(out7e), 0) == KVM_EXIT_IO ? rm_reg(&x, true) : -1, 0x1002);
	misc_enable_mwait(&y);
	check("MISC_ENABLE_NO_MWAIT off, MISC_ENABLE.MWAIT set: MWAIT runs",
	      rm_hlt(&y, mwait, sizeof(mwait), 0), 0x1007);
	check("MISC_ENABLE.MWAIT clear", msr_io(y.vcpu, KVM_SET_MSRS, 0x1a0, &(uint64_t){1}), 1);
	check("MWAIT_NEVER_UD_FAULTS off, CPUID without MONITOR: MONITOR is #UD",
	      rm_hlt(&y, mwait, sizeof(mwait), 0), 0x2001);
	check("FIX_HYPERCALL_INSN off: VMMCALL is #UD", rm_hlt(&y, vmmcall, sizeof(vmmcall), 11),
	      0x2001);
	check("... and stays VMMCALL", y.ram[0x1002], 0xd9);
	check("OUT_7E_INC_RIP off: RIP at the OUT at its exit",
	      rm_run(&y, out7e, sizeof(out7e), 0) == KVM_EXIT_IO ? rm_reg(&y, true) : -1, 0x1000);
	check("... past it once done",
	      io(y.vcpu, KVM_RUN, 0) == 0 && y.run->exit_reason == KVM_EXIT_HLT ? rm_reg(&y, true)
										: -1,
	      0x1003);
	rm_close(&x);
	rm_close(&y);
}

/* The guest's RDMSR of an MSR: RAX at its HLT, or -1 (another exit). */
static long guest_rdmsr(struct rm *x, uint32_t msr)
{
	/* mov $msr,%ecx; rdmsr; hlt */
	const uint8_t code[] = {0x66, 0xb9, msr, msr >> 8, msr >> 16, msr >> 24, 0x0f, 0x32, 0xf4};

	return rm_run(x, code, sizeof(code), 0) == KVM_EXIT_HLT ? rm_reg(x, false) : -1;
}

/* The guest's RDMSR that ends in a KVM_EXIT_X86_RDMSR: index * 10 + reason, or -1. */
static long rdmsr_exit(struct rm *x, uint32_t msr)
{
	return guest_rdmsr(x, msr) == -1 && x->run->exit_reason == KVM_EXIT_X86_RDMSR
		       ? (long)x->run->msr.index * 10 + x->run->msr.reason
		       : -1;
}

/* MSRs KVM keeps in its kernel: MSR_PLATFORM_INFO, MSR_KVM_STEAL_TIME (and their exits). */
static void kernel_msrs(int kvm)
{
	struct kvm_enable_cap cap = {.cap = KVM_CAP_X86_USER_SPACE_MSR,
				     .args[0] = KVM_MSR_EXIT_REASON_INVAL |
						KVM_MSR_EXIT_REASON_UNKNOWN};
	struct kvm_dirty_log log = {.slot = 0};
	uint64_t v = 0xff00, bits[2] = {0};
	struct kvm_steal_time *st;
	struct rm x;
	int vcpu;

	if (rm_vm(kvm, false, 0, &x)) {
		check("kernel MSRs: a VM", 0, 1);
		return;
	}
	vcpu = x.vcpu;
	check("KVM_CAP_MSR_PLATFORM_INFO", io(x.vm, KVM_CHECK_EXTENSION, KVM_CAP_MSR_PLATFORM_INFO),
	      1);
	check("PLATFORM_INFO: the host sets the turbo ratios", msr_io(vcpu, KVM_SET_MSRS, 0xce, &v),
	      1);
	check("... the guest reads them", guest_rdmsr(&x, 0xce), 0xff00);
	v = 0x2000 | 0x3e;
	check("STEAL_TIME with reserved bits", msr_io(vcpu, KVM_SET_MSRS, 0x4b564d03, &v), 0);
	v = 0x2000 | 1;
	check("STEAL_TIME at 0x2000", msr_io(vcpu, KVM_SET_MSRS, 0x4b564d03, &v), 1);
	check("dirty logging",
	      io(x.vm, KVM_SET_USER_MEMORY_REGION,
		 (uintptr_t) &
			 (struct kvm_userspace_memory_region){.flags = KVM_MEM_LOG_DIRTY_PAGES,
							      .memory_size = 0x10000,
							      .userspace_addr = (uintptr_t)x.ram}),
	      0);
	check("... the guest reads STEAL_TIME", guest_rdmsr(&x, 0x4b564d03), 0x2001);
	st = (struct kvm_steal_time *)(x.ram + 0x2000);
	check("... its struct was written (version even, not 0)", st->version && !(st->version & 1),
	      1);
	log.dirty_bitmap = bits;
	check("KVM_GET_DIRTY_LOG", io(x.vm, KVM_GET_DIRTY_LOG, (uintptr_t)&log), 0);
	check("... has the steal-time page, which the guest did not write", (long)bits[0], 0x4);
	check("IA32_PERF_STATUS reads as KVM's (its low half)", guest_rdmsr(&x, 0x198), 1000);
	v = 5;
	check("IA32_FEAT_CTL with VMX on: not offered", msr_io(vcpu, KVM_SET_MSRS, 0x3a, &v), 0);
	v = 1;
	check("IA32_FEAT_CTL locked by the host", msr_io(vcpu, KVM_SET_MSRS, 0x3a, &v), 1);
	check("... the guest reads it", guest_rdmsr(&x, 0x3a), 1);
	check("MISC_FEATURES_ENABLES reads 0 (no CPUID faulting)", guest_rdmsr(&x, 0x140), 0);
	check("a K7 performance counter reads 0, as KVM's without a PMU",
	      guest_rdmsr(&x, 0xc0010004), 0);
	check("KVM_CAP_X86_USER_SPACE_MSR", io(x.vm, KVM_ENABLE_CAP, (uintptr_t)&cap), 0);
	check("an unknown MSR goes to user space", rdmsr_exit(&x, 0x12345),
	      0x12345 * 10 + KVM_MSR_EXIT_REASON_UNKNOWN);
	x.run->msr.data = 7;
	check("... and takes its answer",
	      !io(vcpu, KVM_RUN, 0) && x.run->exit_reason == KVM_EXIT_HLT ? rm_reg(&x, false) : -1,
	      7);
	check("STEAL_TIME stays in the kernel", guest_rdmsr(&x, 0x4b564d03), 0x2001);
	cap = (struct kvm_enable_cap){.cap = KVM_CAP_MSR_PLATFORM_INFO};
	check("KVM_CAP_MSR_PLATFORM_INFO off", io(x.vm, KVM_ENABLE_CAP, (uintptr_t)&cap), 0);
	check("the guest's PLATFORM_INFO read is refused (reason INVAL)", rdmsr_exit(&x, 0xce),
	      0xce * 10 + KVM_MSR_EXIT_REASON_INVAL);
	rm_close(&x);
}

/* /sys/module/kvm_hv/parameters/NAME's first character, or '?' */
static char param(const char *name)
{
	char path[128], c = '?';
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/kvm_hv/parameters/%s", name);
	f = fopen(path, "r");
	if (f && fread(&c, 1, 1, f) != 1)
		c = '?';
	if (f)
		fclose(f);
	return c;
}

/* kvm_intel's and kvm's parameters of the same names, as facts of the hypervisor */
static void params(void)
{
	check("parameter ept", param("ept"), 'Y');
	check("parameter unrestricted_guest", param("unrestricted_guest"), 'Y');
	check("parameter allow_smaller_maxphyaddr", param("allow_smaller_maxphyaddr"), 'Y');
	check("parameter nested", param("nested"), 'N');
	check("parameter enable_apicv", param("enable_apicv"), 'N');
	check("parameter enable_pmu", param("enable_pmu"), 'N');
	check("parameter halt_poll_ns", param("halt_poll_ns"), '0');
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
	kernel_msrs(kvm);
	quirks(kvm);
	rdtscp(kvm);
	params();
	return summary();
}
