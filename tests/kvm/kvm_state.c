/*
 * kvm_state: the vCPU register families and the lists of /dev/kvm, each with KVM's results and
 * error codes, and a real-mode guest that shows the state set from here is the state it runs
 * with: CPUID from KVM_SET_CPUID2, MSRs, XMM0 from KVM_SET_FPU, an interrupt from
 * KVM_INTERRUPT, the interrupt window, dirty logging, the signal mask. Ends with "N passed,
 * N failed".
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"

#define RAM_SIZE   0x10000
#define LOG_GPA	   0x20000 /* a 4-page slot with dirty logging */
#define LOG_PAGES  4
#define MAX_CPUID  256
#define PORT_DATA  0x20
#define PORT_IRQ   0x31
#define VECTOR_IRQ 0x31

/* The guests, real mode, each at GPA 0x1000 when used. */
__asm__(".pushsection .rodata\n"
	".code16\n"
	/* CPUID(0).EBX, the low half of LSTAR, XMM0's low dword: each OUT to PORT_DATA */
	"g_state: xor %eax, %eax; cpuid; mov %ebx, %eax; mov $0x20, %dx; out %eax, %dx\n"
	"  mov $0xc0000082, %ecx; rdmsr; mov $0x20, %dx; out %eax, %dx\n"
	"  movd %xmm0, %eax; out %eax, %dx; hlt\n"
	"g_state_end:\n"
	"g_cpuid: cpuid; outb %al, $0x10\n"
	"g_cpuid_end:\n"
	/* interrupts on after two instructions, then halt */
	"g_irq: sti; nop; nop; hlt\n"
	"g_irq_end:\n"
	/* the handler of VECTOR_IRQ */
	"g_handler: mov $0x31, %al; out %al, $0x31; hlt\n"
	"g_handler_end:\n"
	/* writes to pages 1 and 3 of the logged slot (DS base LOG_GPA), halt, page 1 again */
	"g_dirty: movb $1, 0x1000; movb $2, 0x3000; hlt; movb $3, 0x1000; hlt\n"
	"g_dirty_end:\n"
	/* the byte at DS:0 to PORT_DATA */
	"g_read: mov 0x0, %al; out %al, $0x20; hlt\n"
	"g_read_end:\n"
	/* a breakpoint instruction, and three NOPs for single steps and breakpoints */
	"g_int3: nop; int3; hlt\n"
	"g_int3_end:\n"
	"g_nops: nop; nop; nop; hlt\n"
	"g_nops_end:\n"
	/* the guest's own instruction breakpoint on its HLT: its #DB handler is g_handler */
	"g_hwbp: mov $(0x1000 + g_hwbp_hlt - g_hwbp), %eax; mov %eax, %db0\n"
	"  mov $1, %eax; mov %eax, %db7; nop\n"
	"g_hwbp_hlt: hlt\n"
	"g_hwbp_end:\n"
	".code64\n"
	".popsection\n");
extern const uint8_t g_state[], g_state_end[], g_irq[], g_irq_end[], g_handler[], g_handler_end[],
	g_dirty[], g_dirty_end[], g_int3[], g_int3_end[], g_nops[], g_nops_end[], g_hwbp[],
	g_hwbp_end[], g_hwbp_hlt[], g_read[], g_read_end[], g_cpuid[], g_cpuid_end[];

struct vmx {
	int kvm, vm, vcpu;
	uint8_t *ram, *log;
	struct kvm_run *run;
};

static struct {
	struct kvm_cpuid2 head;
	struct kvm_cpuid_entry2 e[MAX_CPUID];
} cpuid;

static struct kvm_cpuid_entry2 *find_leaf(uint32_t function)
{
	for (uint32_t i = 0; i < cpuid.head.nent && i < MAX_CPUID; i++)
		if (cpuid.e[i].function == function)
			return &cpuid.e[i];
	return NULL;
}

/* Real mode at 0x1000 with `code` there. */
static void load(struct vmx *x, const uint8_t *code, const uint8_t *end)
{
	struct kvm_regs r = {.rip = 0x1000, .rflags = 2};
	struct kvm_sregs s;

	memcpy(x->ram + 0x1000, code, end - code);
	io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s);
	s.cs.base = 0, s.cs.selector = 0;
	s.ds.base = 0, s.ds.selector = 0;
	s.cr4 |= 0x200; /* OSFXSR: SSE in the guest */
	check("KVM_SET_SREGS (real mode at 0)", io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s), 0);
	check("KVM_SET_REGS (RIP 0x1000)", io(x->vcpu, KVM_SET_REGS, (uintptr_t)&r), 0);
}

static long run_to_out(struct vmx *x, unsigned port)
{
	long rc = io(x->vcpu, KVM_RUN, 0);

	if (rc || x->run->exit_reason != KVM_EXIT_IO || x->run->io.port != port)
		return -1000 - (long)x->run->exit_reason;
	return x->run->io.size == 4 ? *(uint32_t *)((uint8_t *)x->run + x->run->io.data_offset)
				    : ((uint8_t *)x->run)[x->run->io.data_offset];
}

static void supported_cpuid(struct vmx *x)
{
	struct kvm_cpuid_entry2 *e;
	char sig[13] = {0};

	cpuid.head.nent = 1;
	check("KVM_GET_SUPPORTED_CPUID with room for 1",
	      io(x->kvm, KVM_GET_SUPPORTED_CPUID, (uintptr_t)&cpuid), -E2BIG);
	check("the count it needs comes back", cpuid.head.nent > 10 && cpuid.head.nent < MAX_CPUID,
	      1);
	cpuid.head.nent = MAX_CPUID;
	check("KVM_GET_SUPPORTED_CPUID", io(x->kvm, KVM_GET_SUPPORTED_CPUID, (uintptr_t)&cpuid), 0);
	check("entry 0 is leaf 0", cpuid.e[0].function, 0);
	e = find_leaf(0x40000000);
	if (e) {
		memcpy(sig, &e->ebx, 4), memcpy(sig + 4, &e->ecx, 4), memcpy(sig + 8, &e->edx, 4);
	}
	check("leaf 0x40000000 has KVM's signature", !strcmp(sig, "KVMKVMKVM"), 1);
	check("... and names 0x40000001 its last", e ? (long)e->eax : -1, 0x40000001);
	e = find_leaf(0x40000001);
	check("KVM's PV features: CLOCKSOURCE, NOP_IO_DELAY, CLOCKSOURCE2, STEAL_TIME, PV_EOI, "
	      "CLOCKSOURCE_STABLE_BIT",
	      e ? (long)e->eax : -1, 0x100006b);
	e = find_leaf(1);
	check("leaf 1: hypervisor bit on, VMX off",
	      e ? (long)(e->ecx >> 31) * 10 + (e->ecx >> 5 & 1) : -1, 10);
	check("leaf 1: what KVM leaves out too (DS, ACPI, HTT, TM, PBE; DTES64, DS-CPL, EST, TM2, "
	      "CNXT-ID, xTPR, DCA)",
	      e ? (long)((e->edx & 0xb0600000u) | (e->ecx & 0x44594u)) : -1, 0);
	e = find_leaf(7);
	check("leaf 7 is indexed", e ? (long)e->flags : -1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
	check("KVM_GET_SUPPORTED_CPUID bad pointer", io(x->kvm, KVM_GET_SUPPORTED_CPUID, 16),
	      -EFAULT);
}

static void vcpu_cpuid(struct vmx *x)
{
	static struct {
		struct kvm_cpuid2 head;
		struct kvm_cpuid_entry2 e[MAX_CPUID];
	} got;
	uint32_t n = cpuid.head.nent;
	struct kvm_cpuid_entry2 *e = find_leaf(0x80000008);

	cpuid.head.nent = MAX_CPUID + 1;
	check("KVM_SET_CPUID2 with 257 entries", io(x->vcpu, KVM_SET_CPUID2, (uintptr_t)&cpuid),
	      -E2BIG);
	cpuid.head.nent = n;
	if (e) {
		uint32_t eax = e->eax;
		e->eax = (eax & ~0xff00u) | (40 << 8);
		check("KVM_SET_CPUID2 with 40 linear-address bits",
		      io(x->vcpu, KVM_SET_CPUID2, (uintptr_t)&cpuid), -EINVAL);
		e->eax = eax;
	}
	cpuid.e[0].ebx = 0x12345678; /* the guest reads it back */
	check("KVM_SET_CPUID2", io(x->vcpu, KVM_SET_CPUID2, (uintptr_t)&cpuid), 0);
	got.head.nent = 1;
	check("KVM_GET_CPUID2 with room for 1", io(x->vcpu, KVM_GET_CPUID2, (uintptr_t)&got),
	      -E2BIG);
	check("KVM_GET_CPUID2 count", got.head.nent, n);
	got.head.nent = MAX_CPUID;
	check("KVM_GET_CPUID2", io(x->vcpu, KVM_GET_CPUID2, (uintptr_t)&got), 0);
	for (uint32_t i = 0; i < got.head.nent && i < MAX_CPUID; i++) {
		if (got.e[i].function != 0xd || got.e[i].index > 1)
			continue;
		if (got.e[i].index == 0)
			check("leaf 0xd.0 EBX: the XSAVE size for XCR0 now (x87: 576)",
			      got.e[i].ebx, 576);
		got.e[i].ebx = cpuid.e[i].ebx; /* it follows XCR0 and IA32_XSS, as in KVM */
	}
	check("KVM_GET_CPUID2 gives back what was set",
	      got.head.nent == n && !memcmp(got.e, cpuid.e, n * sizeof(got.e[0])), 1);
}

/* The guest's CPUID answers each entry of its table as the table says (as cpuid_test checks). */
static void guest_cpuid(struct vmx *x)
{
	static struct {
		struct kvm_cpuid2 head;
		struct kvm_cpuid_entry2 e[MAX_CPUID];
	} t = {.head.nent = MAX_CPUID};
	struct kvm_regs r;
	long wrong = 0;

	check("KVM_GET_CPUID2", io(x->vcpu, KVM_GET_CPUID2, (uintptr_t)&t), 0);
	load(x, g_cpuid, g_cpuid_end);
	for (uint32_t i = 0; i < t.head.nent; i++) {
		const struct kvm_cpuid_entry2 *e = &t.e[i];

		memset(&r, 0, sizeof(r));
		r.rip = 0x1000, r.rflags = 2, r.rax = e->function, r.rcx = e->index;
		if (io(x->vcpu, KVM_SET_REGS, (uintptr_t)&r) || io(x->vcpu, KVM_RUN, 0) ||
		    x->run->exit_reason != KVM_EXIT_IO ||
		    io(x->vcpu, KVM_GET_REGS, (uintptr_t)&r)) {
			check("CPUID guest runs", -1, 0);
			return;
		}
		if (r.rax != e->eax || r.rbx != e->ebx || r.rcx != e->ecx || r.rdx != e->edx) {
			printf("kvm_state: CPUID %#x.%u: guest %#llx %#llx %#llx %#llx, table %#x "
			       "%#x "
			       "%#x %#x\n",
			       e->function, e->index, r.rax, r.rbx, r.rcx, r.rdx, e->eax, e->ebx,
			       e->ecx, e->edx);
			wrong++;
		}
	}
	check("the guest's CPUID answers as KVM_GET_CPUID2 says, for every entry", wrong, 0);
}

/* MSR_KVM_WALL_CLOCK_NEW: the time of day at which kvmclock read 0, written where the guest asks.
 */
static void wall_clock(struct vmx *x)
{
	struct kvm_clock_data d = {.clock = 5000000000ULL};
	uint32_t *w = (uint32_t *)(x->ram + 0x6000);
	struct timespec t;
	int64_t before, wall;
	uint64_t v = 0x6000;

	clock_gettime(CLOCK_REALTIME, &t);
	before = t.tv_sec * 1000000000LL + t.tv_nsec;
	check("KVM_SET_CLOCK to 5 s", io(x->vm, KVM_SET_CLOCK, (uintptr_t)&d), 0);
	check("MSR_KVM_WALL_CLOCK_NEW at 0x6000", msr_io(x->vcpu, KVM_SET_MSRS, 0x4b564d00, &v), 1);
	check("... its version even, not 0", w[0] && !(w[0] & 1), 1);
	check("... nanoseconds below a second", w[2] < 1000000000u, 1);
	wall = w[1] * 1000000000LL + w[2];
	check("... the time of day 5 s before KVM_SET_CLOCK, to a second",
	      wall + 5000000000LL - before < 1000000000LL &&
		      before - wall - 5000000000LL < 1000000000LL,
	      1);
	v = 0;
	check("... and the MSR reads back its address",
	      msr_io(x->vcpu, KVM_GET_MSRS, 0x11, &v) == 1 ? (long)v : -1, 0x6000);
}

/* As QEMU saves and restores a vCPU: every MSR KVM_GET_MSR_INDEX_LIST names reads, and takes
 * back what it read. */
static void listed_msrs(struct vmx *x)
{
	struct {
		struct kvm_msr_list head;
		uint32_t idx[64];
	} l = {.head.nmsrs = 64};
	int unread = 0, unset = 0, kvmclock = 0, deadline = 0, module = 0;

	check("KVM_GET_MSR_INDEX_LIST", io(x->kvm, KVM_GET_MSR_INDEX_LIST, (uintptr_t)&l), 0);
	for (unsigned i = 0; i < l.head.nmsrs && i < 64; i++) {
		uint64_t v = 0;

		kvmclock += l.idx[i] == 0x11 || l.idx[i] == 0x12 || l.idx[i] == 0x4b564d00 ||
			    l.idx[i] == 0x4b564d01;
		deadline += l.idx[i] == 0x6e0;
		module += l.idx[i] == 0xce || l.idx[i] == 0x4b564d03;
		if (msr_io(x->vcpu, KVM_GET_MSRS, l.idx[i], &v) != 1)
			unread++, printf("kvm_state: MSR %#x not read\n", l.idx[i]);
		else if (msr_io(x->vcpu, KVM_SET_MSRS, l.idx[i], &v) != 1)
			unset++, printf("kvm_state: MSR %#x not set to %#llx\n", l.idx[i],
					(unsigned long long)v);
	}
	check("every listed MSR reads", unread, 0);
	check("... and takes back what it read", unset, 0);
	check("the four kvmclock MSRs are listed", kvmclock, 4);
	check("TSC_DEADLINE too (reads 0 without an irqchip, as in KVM)", deadline, 1);
	check("PLATFORM_INFO and KVM_STEAL_TIME too (kept by the module)", module, 2);
}

/* KVM_CAP_ENFORCE_PV_FEATURE_CPUID: kvmclock's MSRs exist only where CPUID offers them (a
 * second vCPU: the first has run, its CPUID is fixed). */
static void pv_enforce(struct vmx *x)
{
	struct kvm_enable_cap cap = {.cap = KVM_CAP_ENFORCE_PV_FEATURE_CPUID, .args = {1}};
	struct kvm_cpuid_entry2 *e = find_leaf(0x40000001);
	uint32_t features = e ? e->eax : 0;
	struct vmx y = *x;
	uint64_t v = 0;

	check("KVM_CAP_ENFORCE_PV_FEATURE_CPUID", io(x->kvm, KVM_CHECK_EXTENSION, cap.cap), 1);
	check("KVM_CAP_ENABLE_CAP (on vCPUs)", io(x->kvm, KVM_CHECK_EXTENSION, KVM_CAP_ENABLE_CAP),
	      1);
	cap.flags = 1;
	check("KVM_ENABLE_CAP with flags", io(x->vcpu, KVM_ENABLE_CAP, (uintptr_t)&cap), -EINVAL);
	cap.flags = 0, cap.cap = KVM_CAP_X86_DISABLE_EXITS;
	check("KVM_ENABLE_CAP of a VM's cap on the vCPU",
	      io(x->vcpu, KVM_ENABLE_CAP, (uintptr_t)&cap), -EINVAL);
	cap.cap = KVM_CAP_ENFORCE_PV_FEATURE_CPUID;
	check("enforce on the vCPU", io(x->vcpu, KVM_ENABLE_CAP, (uintptr_t)&cap), 0);
	check("MSR_KVM_SYSTEM_TIME_NEW with CLOCKSOURCE2 in CPUID",
	      msr_io(x->vcpu, KVM_GET_MSRS, 0x4b564d01, &v), 1);
	y.vcpu = io(x->vm, KVM_CREATE_VCPU, 5);
	if (e)
		e->eax = features & ~(1u << 3);
	check("vCPU 5 without CLOCKSOURCE2", io(y.vcpu, KVM_SET_CPUID2, (uintptr_t)&cpuid), 0);
	check("... enforcing", io(y.vcpu, KVM_ENABLE_CAP, (uintptr_t)&cap), 0);
	check("... MSR_KVM_SYSTEM_TIME_NEW is gone", msr_io(y.vcpu, KVM_GET_MSRS, 0x4b564d01, &v),
	      0);
	check("... MSR_KVM_WALL_CLOCK_NEW too", msr_io(y.vcpu, KVM_SET_MSRS, 0x4b564d00, &v), 0);
	check("... the first kvmclock's stay (CLOCKSOURCE)", msr_io(y.vcpu, KVM_GET_MSRS, 0x12, &v),
	      1);
	cap.args[0] = 0;
	check("enforcement off", io(y.vcpu, KVM_ENABLE_CAP, (uintptr_t)&cap), 0);
	check("... MSR_KVM_SYSTEM_TIME_NEW is back", msr_io(y.vcpu, KVM_GET_MSRS, 0x4b564d01, &v),
	      1);
	io(x->vcpu, KVM_ENABLE_CAP, (uintptr_t)&cap);
	if (e)
		e->eax = features;
	close(y.vcpu);
}

/* MTRRs, machine-check MSRs and KVM_X86_SETUP_MCE, the kvmclock MSRs: as KVM keeps them. */
/* A #MC waiting for the guest (KVM_GET_VCPU_EVENTS): 1, 0, or -1 */
static long mce_pending(struct vmx *x)
{
	struct kvm_vcpu_events ev;

	if (io(x->vcpu, KVM_GET_VCPU_EVENTS, (uintptr_t)&ev))
		return -1;
	return (ev.exception.injected || ev.exception.pending) && ev.exception.nr == 18;
}

static void platform_msrs(struct vmx *x)
{
	uint64_t v = 0, cap = 0;
	struct kvm_x86_mce mce = {.status = 1ULL << 63, .bank = 12};

	check("MTRRcap: 8 variable, fixed, WC",
	      msr_io(x->vcpu, KVM_GET_MSRS, 0xfe, &v) == 1 ? (long)v : -1, 0x508);
	v = 0x0606060606060606ULL;
	check("MTRRfix64K_00000 write-back", msr_io(x->vcpu, KVM_SET_MSRS, 0x250, &v), 1);
	v = 0;
	msr_io(x->vcpu, KVM_GET_MSRS, 0x250, &v);
	check("... reads back", v == 0x0606060606060606ULL, 1);
	v = 2; /* a reserved memory type */
	check("MTRRphysBase0 of type 2", msr_io(x->vcpu, KVM_SET_MSRS, 0x200, &v), 0);
	/* the syscall MSRs reach the CPU in root mode: what hardware refuses must be refused here
	 * (IA32_FMASK bits 63:32 are reserved; Bochs would truncate them, real CPUs #GP) */
	v = 1ULL << 32 | 0x47700;
	check("FMASK with bit 32", msr_io(x->vcpu, KVM_SET_MSRS, 0xc0000084, &v), 0);
	v = 0x47700;
	check("FMASK 0x47700", msr_io(x->vcpu, KVM_SET_MSRS, 0xc0000084, &v), 1);
	v = 0;
	msr_io(x->vcpu, KVM_GET_MSRS, 0xc0000084, &v);
	check("... reads back", (long)v, 0x47700);
	v = 0x0023001000000000ULL;
	check("STAR (Linux's)", msr_io(x->vcpu, KVM_SET_MSRS, 0xc0000081, &v), 1);
	v = 1ULL << 47;
	check("LSTAR not canonical", msr_io(x->vcpu, KVM_SET_MSRS, 0xc0000082, &v), 0);
	check("KVM_CAP_MCE: 32 banks", io(x->kvm, KVM_CHECK_EXTENSION, KVM_CAP_MCE), 32);
	check("KVM_X86_GET_MCE_CAP_SUPPORTED",
	      io(x->kvm, KVM_X86_GET_MCE_CAP_SUPPORTED, (uintptr_t)&cap) ?: (long)cap, 0x1000500);
	v = 0;
	check("MCG_CAP before KVM_X86_SETUP_MCE: 32 banks",
	      msr_io(x->vcpu, KVM_GET_MSRS, 0x179, &v) == 1 ? (long)v : -1, 32);
	cap = 0x100;
	check("KVM_X86_SETUP_MCE with no bank", io(x->vcpu, KVM_X86_SETUP_MCE, (uintptr_t)&cap),
	      -EINVAL);
	cap = 0x10a; /* MCG_CTL_P, 10 banks */
	check("KVM_X86_SETUP_MCE", io(x->vcpu, KVM_X86_SETUP_MCE, (uintptr_t)&cap), 0);
	check("MCG_CAP as set", msr_io(x->vcpu, KVM_GET_MSRS, 0x179, &v) == 1 ? (long)v : -1,
	      0x10a);
	check("MCG_CTL all ones", msr_io(x->vcpu, KVM_GET_MSRS, 0x17b, &v) == 1 ? (long)v : 0, -1);
	v = 1;
	check("MC0_CTL of 1", msr_io(x->vcpu, KVM_SET_MSRS, 0x400, &v), 0);
	check("MC10_CTL (no such bank)", msr_io(x->vcpu, KVM_GET_MSRS, 0x428, &v), 0);
	check("KVM_X86_SET_MCE to bank 12", io(x->vcpu, KVM_X86_SET_MCE, (uintptr_t)&mce), -EINVAL);
	mce.bank = 1, mce.addr = 0x1234; /* a corrected error: only the bank records it */
	check("KVM_X86_SET_MCE", io(x->vcpu, KVM_X86_SET_MCE, (uintptr_t)&mce), 0);
	check("MC1_ADDR", msr_io(x->vcpu, KVM_GET_MSRS, 0x406, &v) == 1 ? (long)v : -1, 0x1234);
	v = 1ULL << 30;
	check("MC1_CTL2 without MCG_CMCI_P", msr_io(x->vcpu, KVM_SET_MSRS, 0x281, &v), 0);
	cap = 0x50a; /* MCG_CTL_P, MCG_CMCI_P, 10 banks */
	check("KVM_X86_SETUP_MCE with CMCI", io(x->vcpu, KVM_X86_SETUP_MCE, (uintptr_t)&cap), 0);
	v = 1ULL << 29;
	check("MC1_CTL2 with a reserved bit", msr_io(x->vcpu, KVM_SET_MSRS, 0x281, &v), 0);
	v = 1ULL << 30 | 5;
	check("MC1_CTL2: CMCI_EN, threshold 5", msr_io(x->vcpu, KVM_SET_MSRS, 0x281, &v), 1);
	mce.status = 0xbc00000000010090ULL, mce.addr = 0xdeadbeef; /* a UCNA, as the selftest's */
	check("KVM_X86_SET_MCE of a UCNA", io(x->vcpu, KVM_X86_SET_MCE, (uintptr_t)&mce), 0);
	check("... recorded in MC1_STATUS",
	      msr_io(x->vcpu, KVM_GET_MSRS, 0x405, &v) == 1 ? (long)(v >> 32) : -1, 0xbc000000);
	check("... with no #MC pending (KVM_GET_VCPU_EVENTS)", mce_pending(x), 0);
	v = 0x5001; /* MSR_KVM_SYSTEM_TIME_NEW: enabled at a page of RAM */
	check("MSR_KVM_SYSTEM_TIME_NEW", msr_io(x->vcpu, KVM_SET_MSRS, 0x4b564d01, &v), 1);
	check("... the pvclock page's system time is set",
	      *(uint64_t *)(x->ram + 0x5010) != 0 || *(uint32_t *)(x->ram + 0x5018) != 0, 1);
	v = 0;
	msr_io(x->vcpu, KVM_SET_MSRS, 0x4b564d01, &v);
	v = 0x7000;
	check("KVM_SET_VAPIC_ADDR without an irqchip",
	      io(x->vcpu, KVM_SET_VAPIC_ADDR, (uintptr_t)&v), -EINVAL);
	wall_clock(x);
	listed_msrs(x);
	pv_enforce(x);
}

static void msrs(struct vmx *x)
{
	struct {
		struct kvm_msrs head;
		struct kvm_msr_entry e[4];
	} m = {.head.nmsrs = 4,
	       .e = {{.index = 0x174, .data = 0x10},
		     {.index = 0xc0000082, .data = 0xffffffff81000000ULL},
		     {.index = 0x12345, .data = 1},
		     {.index = 0x175}}};
	struct {
		struct kvm_msr_list head;
		uint32_t indices[8];
	} l = {.head.nmsrs = 0};
	struct {
		struct kvm_msrs head;
		struct kvm_msr_entry e[1];
	} f = {.head.nmsrs = 1, .e = {{.index = 0x8b}}};
	static struct {
		struct kvm_msrs head;
		struct kvm_msr_entry e[256];
	} big = {.head.nmsrs = 256};

	check("KVM_GET_MSR_FEATURE_INDEX_LIST with room for 0",
	      io(x->kvm, KVM_GET_MSR_FEATURE_INDEX_LIST, (uintptr_t)&l), -E2BIG);
	check("feature MSR count", l.head.nmsrs, 2);
	check("KVM_GET_MSR_FEATURE_INDEX_LIST",
	      io(x->kvm, KVM_GET_MSR_FEATURE_INDEX_LIST, (uintptr_t)&l), 0);
	check("the feature MSRs are IA32_UCODE_REV, IA32_PERF_CAPABILITIES",
	      l.indices[0] * 0x1000L + l.indices[1], 0x8b345L);
	check("KVM_GET_MSRS on /dev/kvm", io(x->kvm, KVM_GET_MSRS, (uintptr_t)&f), 1);
	check("microcode revision", (long)f.e[0].data, 0x100000000L);
	check("KVM_SET_MSRS stops at the unknown MSR", io(x->vcpu, KVM_SET_MSRS, (uintptr_t)&m), 2);
	m.e[0].data = m.e[1].data = 0;
	check("KVM_GET_MSRS stops at the unknown MSR", io(x->vcpu, KVM_GET_MSRS, (uintptr_t)&m), 2);
	check("SYSENTER_CS read back", (long)m.e[0].data, 0x10);
	check("LSTAR read back", m.e[1].data == 0xffffffff81000000ULL, 1);
	check("KVM_GET_MSRS with 256 entries", io(x->vcpu, KVM_GET_MSRS, (uintptr_t)&big), -E2BIG);
	m.head.nmsrs = 1;
	m.e[0] =
		(struct kvm_msr_entry){.index = 0x1b, .data = 0xfee00c00}; /* x2APIC: not offered */
	check("KVM_SET_MSRS x2APIC mode", io(x->vcpu, KVM_SET_MSRS, (uintptr_t)&m), 0);
	m.e[0] = (struct kvm_msr_entry){.index = 0x3b, .data = 1ULL << 40};
	check("KVM_SET_MSRS TSC_ADJUST", io(x->vcpu, KVM_SET_MSRS, (uintptr_t)&m), 1);
	m.e[0] = (struct kvm_msr_entry){.index = 0x10};
	check("KVM_GET_MSRS TSC", io(x->vcpu, KVM_GET_MSRS, (uintptr_t)&m), 1);
	check("the host's TSC_ADJUST leaves the TSC alone", m.e[0].data < 1ULL << 40, 1);
	m.e[0] = (struct kvm_msr_entry){.index = 0x3b};
	check("KVM_GET_MSRS TSC_ADJUST", io(x->vcpu, KVM_GET_MSRS, (uintptr_t)&m), 1);
	check("... as set", m.e[0].data == 1ULL << 40, 1);
}

/* XMM0 through KVM_SET_FPU, then the XSAVE image and XCR0 with their checks. */
static void extended_state(struct vmx *x)
{
	static struct kvm_xsave xs;
	struct kvm_fpu fpu;
	struct kvm_xcrs xcrs = {0};
	uint64_t bv;

	check("KVM_GET_FPU", io(x->vcpu, KVM_GET_FPU, (uintptr_t)&fpu), 0);
	check("FCW and MXCSR at reset", fpu.fcw * 0x10000L + fpu.mxcsr, 0x37f * 0x10000L + 0x1f80);
	memcpy(fpu.xmm[0], "\x78\x56\x34\x12", 4);
	check("KVM_SET_FPU", io(x->vcpu, KVM_SET_FPU, (uintptr_t)&fpu), 0);
	check("KVM_GET_XSAVE", io(x->vcpu, KVM_GET_XSAVE, (uintptr_t)&xs), 0);
	check("XMM0 in the XSAVE image", xs.region[160 / 4], 0x12345678);
	memcpy(&bv, (uint8_t *)xs.region + 512, 8);
	check("XSTATE_BV has x87 and SSE", (long)(bv & 3), 3);
	xs.region[512 / 4] |= 1u << 9; /* PKRU: not offered */
	check("KVM_SET_XSAVE with PKRU state", io(x->vcpu, KVM_SET_XSAVE, (uintptr_t)&xs), -EINVAL);
	xs.region[512 / 4] &= ~(1u << 9);
	xs.region[520 / 4 + 1] = 0x80000000; /* compacted format */
	check("KVM_SET_XSAVE compacted", io(x->vcpu, KVM_SET_XSAVE, (uintptr_t)&xs), -EINVAL);
	xs.region[520 / 4 + 1] = 0;
	xs.region[6] = 0xffffffff; /* MXCSR reserved bits */
	check("KVM_SET_XSAVE bad MXCSR", io(x->vcpu, KVM_SET_XSAVE, (uintptr_t)&xs), -EINVAL);
	xs.region[6] = 0x1f80;
	check("KVM_SET_XSAVE", io(x->vcpu, KVM_SET_XSAVE, (uintptr_t)&xs), 0);
	check("KVM_GET_XCRS", io(x->vcpu, KVM_GET_XCRS, (uintptr_t)&xcrs), 0);
	check("XCR0 at reset", xcrs.nr_xcrs * 100 + xcrs.xcrs[0].xcr + (long)xcrs.xcrs[0].value,
	      101);
	xcrs.xcrs[0].value = 2; /* SSE without x87 */
	check("KVM_SET_XCRS SSE alone", io(x->vcpu, KVM_SET_XCRS, (uintptr_t)&xcrs), -EINVAL);
	xcrs.xcrs[0].value = 3;
	xcrs.xcrs[0].xcr = 1;
	check("KVM_SET_XCRS XCR1", io(x->vcpu, KVM_SET_XCRS, (uintptr_t)&xcrs), -EINVAL);
	xcrs.xcrs[0].xcr = 0;
	check("KVM_SET_XCRS x87|SSE", io(x->vcpu, KVM_SET_XCRS, (uintptr_t)&xcrs), 0);
	xcrs.xcrs[0].value = 0;
	check("KVM_GET_XCRS after", io(x->vcpu, KVM_GET_XCRS, (uintptr_t)&xcrs), 0);
	check("XCR0 now", (long)xcrs.xcrs[0].value, 3);
}

static void debug_and_mp(struct vmx *x)
{
	struct kvm_debugregs d = {.db = {0x1000}, .dr6 = 0xffff0ff0, .dr7 = 0x401};
	struct kvm_mp_state mp = {99};
	struct kvm_translation t = {.linear_address = 0x1234};

	check("KVM_SET_DEBUGREGS", io(x->vcpu, KVM_SET_DEBUGREGS, (uintptr_t)&d), 0);
	memset(&d, 0, sizeof(d));
	check("KVM_GET_DEBUGREGS", io(x->vcpu, KVM_GET_DEBUGREGS, (uintptr_t)&d), 0);
	check("DR0 and DR7 back", (long)d.db[0] * 0x10000 + (long)d.dr7, 0x1000L * 0x10000 + 0x401);
	d.dr7 = 1ULL << 32;
	check("KVM_SET_DEBUGREGS DR7 above 32 bits", io(x->vcpu, KVM_SET_DEBUGREGS, (uintptr_t)&d),
	      -EINVAL);
	d.dr7 = 0x400;
	d.flags = 1;
	check("KVM_SET_DEBUGREGS flags", io(x->vcpu, KVM_SET_DEBUGREGS, (uintptr_t)&d), -EINVAL);
	d = (struct kvm_debugregs){.dr6 = 0xffff0ff0, .dr7 = 0x400};
	check("KVM_SET_DEBUGREGS: no breakpoint", io(x->vcpu, KVM_SET_DEBUGREGS, (uintptr_t)&d), 0);
	check("KVM_GET_MP_STATE", io(x->vcpu, KVM_GET_MP_STATE, (uintptr_t)&mp), 0);
	check("runnable without an in-kernel LAPIC", mp.mp_state, KVM_MP_STATE_RUNNABLE);
	mp.mp_state = KVM_MP_STATE_HALTED;
	check("KVM_SET_MP_STATE halted", io(x->vcpu, KVM_SET_MP_STATE, (uintptr_t)&mp), -EINVAL);
	mp.mp_state = KVM_MP_STATE_RUNNABLE;
	check("KVM_SET_MP_STATE runnable", io(x->vcpu, KVM_SET_MP_STATE, (uintptr_t)&mp), 0);
	check("KVM_TRANSLATE", io(x->vcpu, KVM_TRANSLATE, (uintptr_t)&t), 0);
	check("real mode: linear is physical",
	      (long)t.physical_address * 1000 + t.valid * 100 + t.writeable * 10 + t.usermode,
	      0x1234L * 1000 + 110);
}

static void sregs2(struct vmx *x)
{
	struct kvm_sregs2 s2;
	struct kvm_sregs s;

	check("KVM_GET_SREGS2", io(x->vcpu, KVM_GET_SREGS2, (uintptr_t)&s2), 0);
	io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s);
	check("SREGS2 agrees with SREGS", !memcmp(&s2, &s, offsetof(struct kvm_sregs2, flags)), 1);
	check("no PDPTEs kept apart", (long)s2.flags, 0);
	s2.flags = KVM_SREGS2_FLAGS_PDPTRS_VALID;
	check("KVM_SET_SREGS2 with PDPTEs", io(x->vcpu, KVM_SET_SREGS2, (uintptr_t)&s2), -EINVAL);
	s2.flags = 0;
	check("KVM_SET_SREGS2", io(x->vcpu, KVM_SET_SREGS2, (uintptr_t)&s2), 0);
	s.apic_base = 1 << 10; /* x2APIC without xAPIC enabled: invalid */
	check("KVM_SET_SREGS bad APIC base", io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s), -EINVAL);
	io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s);
	s.es.s = 0; /* what no mode can enter with: refused, not a failed entry */
	check("KVM_SET_SREGS with ES a system segment", io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s),
	      -EINVAL);
	s.es.s = 2; /* written as its bit 0, as KVM: a system segment too (kvm_fuzz found it) */
	check("... S = 2", io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s), -EINVAL);
	s.es.s = 1, s.ss.type = 0xb;
	check("... SS a code segment", io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s), -EINVAL);
	s.ss.type = 3, s.ds.type = 9;
	check("... DS code that cannot be read", io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s),
	      -EINVAL);
}

/* What KVM_SET_CPUID2, KVM_SET_MSRS and KVM_SET_FPU set is what the guest runs with. */
static void guest_sees_state(struct vmx *x)
{
	load(x, g_state, g_state_end);
	check("guest CPUID(0).EBX from the table", run_to_out(x, PORT_DATA), 0x12345678);
	check("guest RDMSR LSTAR", run_to_out(x, PORT_DATA), 0x81000000);
	check("guest XMM0", run_to_out(x, PORT_DATA), 0x12345678);
	check("KVM_RUN to HLT", io(x->vcpu, KVM_RUN, 0), 0);
	check("exit HLT", x->run->exit_reason, KVM_EXIT_HLT);
	check("KVM_SET_CPUID2 after KVM_RUN, the same",
	      io(x->vcpu, KVM_SET_CPUID2, (uintptr_t)&cpuid), 0);
	cpuid.e[0].ebx ^= 1;
	check("KVM_SET_CPUID2 after KVM_RUN, another",
	      io(x->vcpu, KVM_SET_CPUID2, (uintptr_t)&cpuid), -EINVAL);
}

static void events(struct vmx *x)
{
	struct kvm_vcpu_events ev;
	struct kvm_interrupt irq = {VECTOR_IRQ};
	struct kvm_sregs s;

	check("KVM_GET_VCPU_EVENTS", io(x->vcpu, KVM_GET_VCPU_EVENTS, (uintptr_t)&ev), 0);
	check("flags: shadow and SMM valid", ev.flags,
	      KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM);
	ev.flags |= KVM_VCPUEVENT_VALID_PAYLOAD;
	check("KVM_SET_VCPU_EVENTS payload without the cap",
	      io(x->vcpu, KVM_SET_VCPU_EVENTS, (uintptr_t)&ev), -EINVAL);
	ev.flags &= ~KVM_VCPUEVENT_VALID_PAYLOAD;
	ev.exception.injected = 1, ev.exception.nr = 2;
	check("KVM_SET_VCPU_EVENTS exception 2 (NMI)",
	      io(x->vcpu, KVM_SET_VCPU_EVENTS, (uintptr_t)&ev), -EINVAL);
	ev.exception.injected = 0;
	ev.smi.smm = 1;
	check("KVM_SET_VCPU_EVENTS into SMM", io(x->vcpu, KVM_SET_VCPU_EVENTS, (uintptr_t)&ev), 0);
	ev.smi.smm = 0;
	check("...in SMM then", io(x->vcpu, KVM_GET_VCPU_EVENTS, (uintptr_t)&ev) ? -1 : ev.smi.smm,
	      1);
	ev.smi.smm = 0;
	check("KVM_SET_VCPU_EVENTS", io(x->vcpu, KVM_SET_VCPU_EVENTS, (uintptr_t)&ev), 0);
	irq.irq = 256;
	check("KVM_INTERRUPT 256", io(x->vcpu, KVM_INTERRUPT, (uintptr_t)&irq), -EINVAL);
	irq.irq = VECTOR_IRQ + 1;
	check("KVM_INTERRUPT", io(x->vcpu, KVM_INTERRUPT, (uintptr_t)&irq), 0);
	/* as Linux KVM without an irqchip (the referee): the second replaces the first */
	irq.irq = VECTOR_IRQ;
	check("KVM_INTERRUPT again", io(x->vcpu, KVM_INTERRUPT, (uintptr_t)&irq), 0);
	io(x->vcpu, KVM_GET_VCPU_EVENTS, (uintptr_t)&ev);
	check("the interrupt is in the events", ev.interrupt.injected * 256 + ev.interrupt.nr,
	      256 + VECTOR_IRQ);
	io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s);
	check("and in the sregs bitmap", (long)(s.interrupt_bitmap[0] >> VECTOR_IRQ & 1), 1);
	ev.interrupt.injected = 0;
	check("KVM_SET_VCPU_EVENTS clears it", io(x->vcpu, KVM_SET_VCPU_EVENTS, (uintptr_t)&ev), 0);
	check("KVM_NMI", io(x->vcpu, KVM_NMI, 0), 0);
	io(x->vcpu, KVM_GET_VCPU_EVENTS, (uintptr_t)&ev);
	check("the NMI is pending", ev.nmi.pending, 1);
	ev.nmi.pending = 0;
	ev.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	check("KVM_SET_VCPU_EVENTS drops it", io(x->vcpu, KVM_SET_VCPU_EVENTS, (uintptr_t)&ev), 0);
}

/* The interrupt window opens after STI; the interrupt then goes through the real-mode IVT. */
static void interrupt_window(struct vmx *x)
{
	struct kvm_interrupt irq = {VECTOR_IRQ};
	uint16_t ivt[2] = {0x1100, 0};

	memcpy(x->ram + VECTOR_IRQ * 4, ivt, 4);
	memcpy(x->ram + 0x1100, g_handler, g_handler_end - g_handler);
	load(x, g_irq, g_irq_end);
	x->run->request_interrupt_window = 1;
	check("KVM_RUN with request_interrupt_window", io(x->vcpu, KVM_RUN, 0), 0);
	check("exit IRQ_WINDOW_OPEN", x->run->exit_reason, KVM_EXIT_IRQ_WINDOW_OPEN);
	check("ready_for_interrupt_injection and if_flag",
	      x->run->ready_for_interrupt_injection * 10 + x->run->if_flag, 11);
	x->run->request_interrupt_window = 0;
	check("KVM_INTERRUPT when ready", io(x->vcpu, KVM_INTERRUPT, (uintptr_t)&irq), 0);
	check("the guest's handler runs", run_to_out(x, PORT_IRQ), VECTOR_IRQ);
	check("no longer ready inside the handler (IF off)",
	      x->run->ready_for_interrupt_injection * 10 + x->run->if_flag, 0);
}

/* KVM_SET_SIGNAL_MASK applies during KVM_RUN only: a pending SIGUSR1 stops the run or not. */
static void signal_mask(struct vmx *x)
{
	struct {
		struct kvm_signal_mask head;
		uint8_t set[8]; /* the kernel's sigset_t, right after len */
	} m = {.head.len = 4};
	uint64_t bits = 1ULL << (SIGUSR1 - 1);
	sigset_t block;

	check("KVM_SET_SIGNAL_MASK len 4", io(x->vcpu, KVM_SET_SIGNAL_MASK, (uintptr_t)&m),
	      -EINVAL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	raise(SIGUSR1); /* pending, blocked in the process */
	m.head.len = 8;
	check("KVM_SET_SIGNAL_MASK empty", io(x->vcpu, KVM_SET_SIGNAL_MASK, (uintptr_t)&m), 0);
	load(x, g_irq + 3, g_irq_end); /* hlt */
	check("KVM_RUN with SIGUSR1 unblocked", io(x->vcpu, KVM_RUN, 0), -EINTR);
	check("exit INTR", x->run->exit_reason, KVM_EXIT_INTR);
	memcpy(m.set, &bits, 8);
	check("KVM_SET_SIGNAL_MASK SIGUSR1", io(x->vcpu, KVM_SET_SIGNAL_MASK, (uintptr_t)&m), 0);
	check("KVM_RUN with SIGUSR1 blocked", io(x->vcpu, KVM_RUN, 0), 0);
	check("exit HLT", x->run->exit_reason, KVM_EXIT_HLT);
	check("KVM_SET_SIGNAL_MASK none", io(x->vcpu, KVM_SET_SIGNAL_MASK, 0), 0);
	signal(SIGUSR1, SIG_IGN); /* drop it */
	sigprocmask(SIG_UNBLOCK, &block, NULL);
}

static long debug_exit(struct vmx *x, unsigned exception)
{
	long rc = io(x->vcpu, KVM_RUN, 0);

	if (rc || x->run->exit_reason != KVM_EXIT_DEBUG ||
	    x->run->debug.arch.exception != exception)
		return rc ? rc : -1000 - (long)x->run->exit_reason;
	return (long)x->run->debug.arch.pc;
}

static long set_debug(struct vmx *x, uint32_t control, uint64_t dr0, uint64_t dr7)
{
	struct kvm_guest_debug d = {.control = control,
				    .arch.debugreg = {dr0, 0, 0, 0, 0, 0, 0, dr7}};

	return io(x->vcpu, KVM_SET_GUEST_DEBUG, (uintptr_t)&d);
}

/* KVM_SET_GUEST_DEBUG: software breakpoints, single steps, the debugger's hardware breakpoints;
 * and the guest's own hardware breakpoint reaching its own #DB handler. */
static void guest_debug(struct vmx *x)
{
	struct kvm_debugregs off = {.dr6 = 0xffff0ff0, .dr7 = 0x400};
	struct kvm_vcpu_events ev;
	uint16_t ivt[2] = {0x1100, 0};

	check("KVM_CAP_SET_GUEST_DEBUG", io(x->kvm, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG),
	      1);
	check("KVM_SET_GUEST_DEBUG unknown flag", set_debug(x, KVM_GUESTDBG_ENABLE | 0x100, 0, 0),
	      -EINVAL);
	load(x, g_int3, g_int3_end);
	check("enable software breakpoints",
	      set_debug(x, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP, 0, 0), 0);
	check("KVM_EXIT_DEBUG #BP at the INT3", debug_exit(x, 3), 0x1001);
	load(x, g_nops, g_nops_end);
	check("single step", set_debug(x, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP, 0, 0), 0);
	check("first step", debug_exit(x, 1), 0x1001);
	check("DR6 says single step", (long)(x->run->debug.arch.dr6 >> 14 & 1), 1);
	check("second step", debug_exit(x, 1), 0x1002);
	check("single step with interrupts blocked",
	      set_debug(x, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP | KVM_GUESTDBG_BLOCKIRQ, 0,
			0),
	      0);
	check("third step", debug_exit(x, 1), 0x1003);
	load(x, g_nops, g_nops_end);
	check("the debugger's breakpoint at 0x1002",
	      set_debug(x, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, 0x1002, 0x401), 0);
	check("KVM_EXIT_DEBUG #DB at it", debug_exit(x, 1), 0x1002);
	check("DR6 says breakpoint 0", (long)(x->run->debug.arch.dr6 & 0xf), 1);
	check("debugging off", set_debug(x, 0, 0, 0), 0);
	check("the guest runs on to HLT", io(x->vcpu, KVM_RUN, 0) * 100 + x->run->exit_reason,
	      KVM_EXIT_HLT);
	memcpy(x->ram + 1 * 4, ivt, 4); /* the guest's #DB handler */
	memcpy(x->ram + 0x1100, g_handler, g_handler_end - g_handler);
	load(x, g_hwbp, g_hwbp_end);
	check("the guest's own breakpoint reaches its #DB handler", run_to_out(x, PORT_IRQ),
	      VECTOR_IRQ);
	check("the guest's DR0 as it set it",
	      io(x->vcpu, KVM_GET_DEBUGREGS, (uintptr_t)&off) ? -1 : (long)off.db[0],
	      0x1000 + (g_hwbp_hlt - g_hwbp));
	off = (struct kvm_debugregs){.dr6 = 0xffff0ff0, .dr7 = 0x400};
	check("breakpoints off", io(x->vcpu, KVM_SET_DEBUGREGS, (uintptr_t)&off), 0);
	io(x->vcpu, KVM_GET_VCPU_EVENTS, (uintptr_t)&ev);
	ev.exception.injected = 1, ev.exception.nr = 6;
	io(x->vcpu, KVM_SET_VCPU_EVENTS, (uintptr_t)&ev);
	check("inject #BP while #UD waits", set_debug(x, KVM_GUESTDBG_INJECT_BP, 0, 0), -EBUSY);
	ev.exception.injected = 0;
	io(x->vcpu, KVM_SET_VCPU_EVENTS, (uintptr_t)&ev);
}

static long dirty_bits(struct vmx *x, unsigned slot)
{
	uint64_t bitmap = ~0ULL;
	struct kvm_dirty_log log = {.slot = slot, .dirty_bitmap = &bitmap};
	long rc = io(x->vm, KVM_GET_DIRTY_LOG, (uintptr_t)&log);

	return rc ? rc : (long)bitmap;
}

static void dirty_log(struct vmx *x)
{
	struct kvm_userspace_memory_region r = {
		.slot = 1,
		.flags = KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = LOG_GPA,
		.memory_size = LOG_PAGES * 4096,
		.userspace_addr = (uintptr_t)x->log,
	};
	struct kvm_sregs s;

	check("slot with KVM_MEM_LOG_DIRTY_PAGES",
	      io(x->vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r), 0);
	check("KVM_GET_DIRTY_LOG of a slot without logging", dirty_bits(x, 0), -ENOENT);
	/* as Linux KVM (the referee): a slot id it could have but that was not made is ENOENT */
	check("KVM_GET_DIRTY_LOG of slot 32", dirty_bits(x, 32), -ENOENT);
	check("KVM_GET_DIRTY_LOG of slot 32764", dirty_bits(x, 32764), -EINVAL);
	check("KVM_GET_DIRTY_LOG of address space 2", dirty_bits(x, 2 << 16), -EINVAL);
	check("nothing written yet", dirty_bits(x, 1), 0);
	load(x, g_dirty, g_dirty_end);
	io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s);
	s.ds.base = LOG_GPA, s.ds.selector = LOG_GPA >> 4;
	io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s);
	check("KVM_RUN to the first HLT", io(x->vcpu, KVM_RUN, 0) * 100 + x->run->exit_reason,
	      KVM_EXIT_HLT);
	check("pages 1 and 3 dirty", dirty_bits(x, 1), 0xa);
	check("the writes landed", x->log[0x1000] * 10 + x->log[0x3000], 12);
	check("the log was reset", dirty_bits(x, 1), 0);
	check("KVM_RUN to the second HLT", io(x->vcpu, KVM_RUN, 0) * 100 + x->run->exit_reason,
	      KVM_EXIT_HLT);
	check("page 1 dirty again", dirty_bits(x, 1), 0x2);
	check("the write landed", x->log[0x1000], 3);
}

static long slot(struct vmx *x, uint32_t id, uint32_t flags, uint64_t gpa, uint64_t size, void *mem)
{
	struct kvm_userspace_memory_region r = {id, flags, gpa, size, (uintptr_t)mem};

	return io(x->vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r);
}

/* The byte the guest reads at gpa (DS base there), or -1000 - the exit reason. */
static long guest_reads(struct vmx *x, uint64_t gpa)
{
	struct kvm_sregs s;
	long rc;

	load(x, g_read, g_read_end);
	io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s);
	s.ds.base = gpa, s.ds.selector = gpa >> 4;
	io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s);
	rc = run_to_out(x, PORT_DATA);
	if (rc == -1000 - KVM_EXIT_MMIO) { /* complete the read, as a VMM must, to the HLT */
		x->run->mmio.data[0] = 0xee;
		check("the MMIO read completes", run_to_out(x, PORT_DATA), 0xee);
		check("then HLT", io(x->vcpu, KVM_RUN, 0) * 100 + x->run->exit_reason,
		      KVM_EXIT_HLT);
	}
	return rc;
}

/* As KVM: a slot must end below the guest physical address width (CPUID 0x80000008 EAX[7:0]);
 * one across 2^48 was half mapped, then its frames freed under the VM. */
static void slot_width(struct vmx *x, uint8_t *mem)
{
	uint32_t a, b, c, d, bits;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000008), "c"(0));
	bits = (a & 0xff) < 48 ? (a & 0xff) : 48; /* and the EPT's 48 */
	check("a slot across 2^48", slot(x, 3, 0, (1ULL << 48) - 0x1000, 0x2000, mem), -EINVAL);
	check("a slot past the width", slot(x, 3, 0, (1ULL << bits) - 0x1000, 0x2000, mem),
	      -EINVAL);
	check("a slot at its end", slot(x, 3, 0, (1ULL << bits) - 0x2000, 0x2000, mem), 0);
	check("... deleted", slot(x, 3, 0, (1ULL << bits) - 0x2000, 0, mem), 0);
}

/* KVM's slot changes: create, move, flags only, delete; never resize or rebind. */
static void memory_rules(struct vmx *x)
{
	uint8_t *mem =
		mmap(NULL, 0x3000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	mem[0] = 0x5a;
	check("delete an empty slot", slot(x, 5, 0, 0, 0, NULL), -EINVAL);
	check("create slot 2 at 0x40000", slot(x, 2, 0, 0x40000, 0x2000, mem), 0);
	check("the guest reads it", guest_reads(x, 0x40000), 0x5a);
	check("resize", slot(x, 2, 0, 0x40000, 0x3000, mem), -EINVAL);
	check("other user memory", slot(x, 2, 0, 0x40000, 0x2000, mem + 0x1000), -EINVAL);
	check("READONLY on", slot(x, 2, KVM_MEM_READONLY, 0x40000, 0x2000, mem), -EINVAL);
	check("the same again", slot(x, 2, 0, 0x40000, 0x2000, mem), 0);
	check("flags only: dirty logging on",
	      slot(x, 2, KVM_MEM_LOG_DIRTY_PAGES, 0x40000, 0x2000, mem), 0);
	check("its log", dirty_bits(x, 2), 0);
	check("move onto slot 0", slot(x, 2, 0, 0x8000, 0x2000, mem), -EEXIST);
	check("move to 0x50000", slot(x, 2, 0, 0x50000, 0x2000, mem), 0);
	check("the guest reads it there", guest_reads(x, 0x50000), 0x5a);
	check("and not at 0x40000", guest_reads(x, 0x40000), -1000 - KVM_EXIT_MMIO);
	check("delete", slot(x, 2, 0, 0x50000, 0, mem), 0);
	check("deleted: MMIO there", guest_reads(x, 0x50000), -1000 - KVM_EXIT_MMIO);
	slot_width(x, mem);
	munmap(mem, 0x3000);
}

static void stats(struct vmx *x)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	char id[48], desc[(sizeof(*d) + 48) * 8];
	uint64_t data[8];
	int fd = io(x->vcpu, KVM_GET_STATS_FD, 0), vfd = io(x->vm, KVM_GET_STATS_FD, 0);

	check("KVM_GET_STATS_FD on the vCPU", fd >= 0, 1);
	check("KVM_GET_STATS_FD on the VM", vfd >= 0, 1);
	check("header read", read(fd, &h, sizeof(h)), sizeof(h));
	check("name size and count (8 exit counters, pf_taken, pf_fixed)",
	      h.name_size * 100 + h.num_desc, 48 * 100 + 10);
	check("id read", read(fd, id, sizeof(id)), sizeof(id));
	check("vCPU id string", !strncmp(id, "kvm-", 4) && strstr(id, "/vcpu-0") != NULL, 1);
	check("descriptors", pread(fd, desc, sizeof(desc), h.desc_offset), sizeof(desc));
	d = (struct kvm_stats_desc *)(desc + sizeof(*d) + 48); /* the second: io_exits */
	check("io_exits is cumulative",
	      !strcmp(d->name, "io_exits") && d->flags == KVM_STATS_TYPE_CUMULATIVE, 1);
	check("data", pread(fd, data, sizeof(data), h.data_offset), sizeof(data));
	check("io_exits: the guests' five OUTs", (long)data[1], 5);
	check("exits: more than those", data[0] > data[1], 1);
	check("VM header", pread(vfd, &h, sizeof(h), 0), sizeof(h));
	check("VM data", pread(vfd, data + 4, 8, h.data_offset + 8), 8);
	check("the VM sums its vCPUs' io_exits", data[4] >= data[1], 1);
	close(fd);
	close(vfd);
}

static void max_vcpu_id(int kvm)
{
	struct kvm_enable_cap cap = {.cap = KVM_CAP_MAX_VCPU_ID, .args = {4}};
	int vm = io(kvm, KVM_CREATE_VM, 0);

	cap.args[0] = 65;
	check("KVM_ENABLE_CAP MAX_VCPU_ID 65", io(vm, KVM_ENABLE_CAP, (uintptr_t)&cap), -EINVAL);
	cap.args[0] = 4;
	cap.flags = 1;
	check("KVM_ENABLE_CAP with flags", io(vm, KVM_ENABLE_CAP, (uintptr_t)&cap), -EINVAL);
	cap.flags = 0;
	check("KVM_ENABLE_CAP MAX_VCPU_ID 4", io(vm, KVM_ENABLE_CAP, (uintptr_t)&cap), 0);
	check("KVM_CHECK_EXTENSION on the VM", io(vm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID), 4);
	cap.args[0] = 5;
	check("KVM_ENABLE_CAP MAX_VCPU_ID again", io(vm, KVM_ENABLE_CAP, (uintptr_t)&cap), -EINVAL);
	check("KVM_CREATE_VCPU 4", io(vm, KVM_CREATE_VCPU, 4), -EINVAL);
	close(vm);
}

int main(void)
{
	struct vmx x = {.kvm = open("/dev/kvm", O_RDWR)};
	struct kvm_userspace_memory_region r = {.memory_size = RAM_SIZE};
	long frames = hv_free_frames();

	test_name = "kvm_state";
	check("open /dev/kvm", x.kvm >= 0, 1);
	if (x.kvm < 0)
		return summary();
	x.vm = io(x.kvm, KVM_CREATE_VM, 0);
	x.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	x.log = mmap(NULL, LOG_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	r.userspace_addr = (uintptr_t)x.ram;
	check("RAM slot", io(x.vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r), 0);
	x.vcpu = io(x.vm, KVM_CREATE_VCPU, 0);
	x.run = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, x.vcpu, 0);
	if (x.vm < 0 || x.vcpu < 0 || x.run == MAP_FAILED) {
		check("VM, vCPU and run page", 0, 1);
		return summary();
	}
	supported_cpuid(&x);
	vcpu_cpuid(&x);
	msrs(&x);
	extended_state(&x);
	debug_and_mp(&x);
	sregs2(&x);
	guest_sees_state(&x);
	events(&x);
	interrupt_window(&x);
	signal_mask(&x);
	guest_debug(&x);
	stats(&x);
	dirty_log(&x);
	memory_rules(&x);
	guest_cpuid(&x); /* after stats: its exits are not counted there */
	platform_msrs(&x);
	max_vcpu_id(x.kvm);
	munmap(x.run, 2 * 4096);
	close(x.vcpu);
	close(x.vm);
	check("every hypervisor frame back after close", hv_free_frames(), frames);
	return summary();
}
