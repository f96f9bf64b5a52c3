/*
 * kvm_bench: what exits cost a KVM guest, measured by the guest with RDTSC. The same program runs
 * on Linux KVM (make bench prints both side by side); in Bochs both count emulated instructions.
 *
 *   kvm_run_roundtrip  OUT to a port nothing in the kernel claims: KVM_EXIT_IO to this
 *                      program, which calls KVM_RUN again at once (guest -> hypervisor -> dom0
 *                      kernel -> user space -> back);
 *   mmio_write_roundtrip  the same for a byte write to guest-physical memory no slot backs
 *                      (KVM_EXIT_MMIO);
 *   cpuid_exit         CPUID leaf 0, handled in the hypervisor (in the kernel on KVM);
 *   pic_mask_write     OUT to the in-kernel PIC's mask register (KVM_CREATE_IRQCHIP);
 *   hv_handled_exit    OUT to the scratch register of the hypervisor's UART (KVM_CREATE_DEVICE):
 *                      the exit is handled inside the hypervisor (here only);
 *   rdtsc_baseline     the same loop with no OUT (what RDTSC and the loop's own instructions cost).
 * and, timed by this program with RDTSC (the TSC the guest reads):
 *   kvm_run_immediate_exit  KVM_RUN with kvm_run->immediate_exit set (it returns EINTR at once);
 *   dirty_log_fetch_64m     KVM_GET_DIRTY_LOG of a 64 MiB slot whose guest wrote every 10th page.
 *
 * and with the in-hypervisor irqchip (KVM_CREATE_IRQCHIP), in a protected-mode guest:
 *   lapic_timer_roundtrip  arm the APIC timer one-shot with a count of 1 and wait until its
 *                          interrupt's handler has run and sent EOI;
 *   lapic_timer_roundtrip_pv_eoi  the same with KVM's PV EOI (MSR_KVM_PV_EOI_EN): the handler
 *                          clears a flag in memory instead of writing the EOI register;
 *   ipi_roundtrip          vCPU 0 sends a fixed IPI to vCPU 1 (another dom0 thread, halted) whose
 *                          handler sends one back; vCPU 0 halts until its handler has run;
 *   ipi_roundtrip_spinning the same with vCPU 0 spinning in guest mode while it waits: the IPI
 *                          back reaches it by a kick (a host IPI to its CPU) when it runs on
 *                          another CPU than vCPU 1.
 * Neither involves user space: the guest's APIC accesses are handled in the hypervisor, and a
 * halted vCPU sleeps in dom0's kernel until an interrupt wakes it.
 *
 * Usage: kvm_bench [ITERATIONS] (default 200, at least 2), or kvm_bench fault (first-touch
 * faults, below; on Linux KVM too). Prints "kvm_bench: NAME VALUE UNIT"
 * lines, then "N passed, N failed"; the checks are only about correctness (every exit as
 * expected, figures above 0), never about how fast anything is.
 */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "../../compat/kvmabi/hv_devices.h"
#include "kvm_util.h"

#define RAM_SIZE  0x10000
#define CODE	  0x1000
#define ITERS	  0x500 /* u32: the guest's loop count, set here */
#define RESULTS	  0x510 /* per case: u32 sum low, u32 sum high, u32 minimum */
#define HAS_UART  0x50c /* u8: the host made the UART: the guest measures it */
#define EXIT_PORT 0x10	/* claimed by nothing in the hypervisor */
#define UART_BASE 0x3f8 /* the UART's scratch register is at base + 7 */
#define MMIO_GPA  0x20000
#define DONE_PORT 0x11

/*
 * Real mode with 32-bit operands. First one unmeasured OUT to EXIT_PORT and one MMIO write (the
 * first trip through any path warms it up). Then each case: ITERS times RDTSC; the case's
 * operation; RDTSC, and the delta (low 32 bits: one iteration is far below 2^32 cycles) goes into
 * a 64-bit sum in EBP:ESI and a minimum in EDI, stored at RESULTS + 12 * case. Then HLT.
 * Operations (`kind`): 0 none (the baseline: only DX = EXIT_PORT), 1 OUT to `port`, 2 CPUID leaf
 * 0 (it takes EBX and ECX: the start and the count wait at 0x60c and 0x608), 3 a byte write to
 * MMIO_GPA (ES), which no slot backs. The UART case runs only where the host put 1 at HAS_UART.
 * The guest ends with an OUT to DONE_PORT.
 */
__asm__(".pushsection .rodata\n"
	".code16\n"
	".macro measure res, kind, port=0x10\n"
	"	movl 0x500, %ecx\n"
	"	movl $0xffffffff, %edi\n"
	"	xorl %esi, %esi\n"
	"	xorl %ebp, %ebp\n"
	"1:	rdtsc\n"
	"	movl %eax, %ebx\n"
	"	.if \\kind < 2\n"
	"	movw $\\port, %dx\n"
	"	.endif\n"
	"	.if \\kind == 1\n"
	"	outb %al, %dx\n"
	"	.elseif \\kind == 2\n"
	"	movl %ecx, 0x608\n"
	"	movl %eax, 0x60c\n"
	"	xorl %eax, %eax\n"
	"	cpuid\n"
	"	.elseif \\kind == 3\n"
	"	movb %al, %es:0\n"
	"	.endif\n"
	"	rdtsc\n"
	"	.if \\kind == 2\n"
	"	movl 0x60c, %ebx\n"
	"	movl 0x608, %ecx\n"
	"	.endif\n"
	"	subl %ebx, %eax\n"
	"	addl %eax, %esi\n"
	"	adcl $0, %ebp\n"
	"	cmpl %edi, %eax\n"
	"	jae 2f\n"
	"	movl %eax, %edi\n"
	"2:	decl %ecx\n"
	"	jnz 1b\n"
	"	movl %esi, \\res\n"
	"	movl %ebp, \\res+4\n"
	"	movl %edi, \\res+8\n"
	".endm\n"
	"g_bench:\n"
	"	movw $0x2000, %ax\n" /* ES: MMIO_GPA */
	"	movw %ax, %es\n"
	"	outb %al, $0x10\n"
	"	movb %al, %es:0\n"
	"	measure 0x510, 0\n" /* the baseline: DX = EXIT_PORT, no OUT */
	"	cmpb $0, 0x50c\n"
	"	je 3f\n"
	"	movw $0x3ff, %dx\n"
	"	outb %al, %dx\n"
	"	measure 0x51c, 1, 0x3ff\n" /* the UART's SCR */
	"3:	measure 0x528, 1\n"	   /* EXIT_PORT: to user space */
	"	measure 0x534, 2\n"	   /* CPUID */
	"	measure 0x540, 1, 0x21\n"  /* the PIC's mask register (in-kernel irqchip) */
	"	measure 0x54c, 3\n"	   /* MMIO write: to user space */
	"	outb %al, $0x11\n"	   /* done (with the in-kernel irqchip HLT would sleep) */
	"	hlt\n"
	"g_bench_end:\n"
	".purgem measure\n"
	".code64\n"
	".popsection\n");
extern const uint8_t g_bench[], g_bench_end[];

/*
 * The irqchip cases, in flat 32-bit protected mode (code at IRQ_CODE, results from 0x540 on,
 * 12 bytes each as above, the handlers' flag at 0x600, the PV EOI flag at 0x700). vCPU 1 runs
 * g_ap: it turns its APIC on, says so at 0x604, and answers each IPI 0x41 with an IPI 0x42;
 * vCPU 0's handler for 0x40, 0x42 and 0x43 (with PV EOI) sets the flag. Each measured wait
 * halts, so a vCPU waiting sleeps in dom0.
 */
__asm__(".pushsection .rodata\n"
	".code32\n"
	".macro acc res\n" /* EAX = RDTSC - EBX into the sum EBP:ESI and the minimum EDI */
	"	subl %ebx, %eax\n"
	"	addl %eax, %esi\n"
	"	adcl $0, %ebp\n"
	"	cmpl %edi, %eax\n"
	"	jae 1f\n"
	"	movl %eax, %edi\n"
	"1:\n"
	".endm\n"
	".macro start\n"
	"	movl 0x500, %ecx\n"
	"	movl $0xffffffff, %edi\n"
	"	xorl %esi, %esi\n"
	"	xorl %ebp, %ebp\n"
	".endm\n"
	".macro store res\n"
	"	movl %esi, \\res\n"
	"	movl %ebp, \\res+4\n"
	"	movl %edi, \\res+8\n"
	".endm\n"
	".macro wait_flag\n" /* halt until a handler set the flag (STI's shadow: no wake missed) */
	"2:	cli\n"
	"	cmpb $0, 0x600\n"
	"	jne 3f\n"
	"	sti\n"
	"	hlt\n"
	"	jmp 2b\n"
	"3:	sti\n"
	".endm\n"
	"g_irq:\n"
	"	movl $0x1ff, 0xfee000f0\n" /* SVR: APIC on */
	"	movl $0x0b, 0xfee003e0\n"  /* timer divide by 1 */
	"	movl $0x40, 0xfee00320\n"  /* LVT timer: vector 0x40, one-shot */
	"	sti\n"
	"	start\n"
	"4:	movb $0, 0x600\n"
	"	rdtsc\n"
	"	movl %eax, %ebx\n"
	"	movl $1, 0xfee00380\n" /* initial count 1: due at once */
	"	wait_flag\n"
	"	rdtsc\n"
	"	acc\n"
	"	decl %ecx\n"
	"	jnz 4b\n"
	"	store 0x540\n"
	"	movl $0x4b564d04, %ecx\n" /* MSR_KVM_PV_EOI_EN: the flag at 0x700 */
	"	movl $0x701, %eax\n"
	"	xorl %edx, %edx\n"
	"	wrmsr\n"
	"	movl $0x43, 0xfee00320\n" /* LVT timer: vector 0x43, its handler takes the PV EOI */
	"	start\n"
	"10:	movb $0, 0x600\n"
	"	rdtsc\n"
	"	movl %eax, %ebx\n"
	"	movl $1, 0xfee00380\n"
	"	wait_flag\n"
	"	rdtsc\n"
	"	acc\n"
	"	decl %ecx\n"
	"	jnz 10b\n"
	"	store 0x564\n"
	"	movl $0x4b564d04, %ecx\n" /* PV EOI off again */
	"	xorl %eax, %eax\n"
	"	wrmsr\n"
	"7:	pause\n" /* until vCPU 1's APIC is on (a disabled APIC drops fixed IPIs) */
	"	cmpb $0, 0x604\n"
	"	je 7b\n"
	"	start\n"
	"5:	movb $0, 0x600\n"
	"	rdtsc\n"
	"	movl %eax, %ebx\n"
	"	movl $0x01000000, 0xfee00310\n" /* ICR: APIC 1, fixed, vector 0x41 */
	"	movl $0x41, 0xfee00300\n"
	"	wait_flag\n"
	"	rdtsc\n"
	"	acc\n"
	"	decl %ecx\n"
	"	jnz 5b\n"
	"	store 0x54c\n"
	"	start\n"
	"8:	movb $0, 0x600\n" /* the same, vCPU 0 spinning (in guest mode) while it waits */
	"	rdtsc\n"
	"	movl %eax, %ebx\n"
	"	movl $0x01000000, 0xfee00310\n"
	"	movl $0x41, 0xfee00300\n"
	"9:	pause\n"
	"	cmpb $0, 0x600\n"
	"	je 9b\n"
	"	rdtsc\n"
	"	acc\n"
	"	decl %ecx\n"
	"	jnz 8b\n"
	"	store 0x558\n"
	"	outb %al, $0x10\n"
	"	hlt\n"
	"g_flag: movb $1, 0x600; movl $0, 0xfee000b0; iret\n"
	"g_flag_pv: movb $1, 0x600; btrl $0, 0x700; jc 1f; movl $0, 0xfee000b0\n"
	"1:	iret\n"
	"g_ap: movl $0x1ff, 0xfee000f0\n"
	"	sti\n"
	"	movb $1, 0x604\n"
	"6:	hlt\n"
	"	jmp 6b\n"
	"g_pong: movl $0, 0xfee000b0; movl $0, 0xfee00310; movl $0x42, 0xfee00300; iret\n"
	"g_irq_end:\n"
	".code16\n" /* kvm_bench fault's guest (below): the page in ES (RDTSC takes EDX) */
	".macro sweep res\n"
	"	movw $0x2000, %ax\n"
	"	movw %ax, %es\n"
	"	start\n"
	"4:	rdtsc\n"
	"	movl %eax, %ebx\n"
	"	movb $0x5a, %es:0\n"
	"	rdtsc\n"
	"	acc 0\n"
	"	movw %es, %ax\n"
	"	addw $0x100, %ax\n"
	"	movw %ax, %es\n"
	"	decl %ecx\n"
	"	jnz 4b\n"
	"	store \\res\n"
	".endm\n"
	"g_fault:\n"
	"	sweep 0x510\n"
	"	sweep 0x51c\n"
	"	hlt\n"
	"g_fault_end:\n"
	".purgem sweep\n"
	".purgem acc\n"
	".purgem start\n"
	".purgem store\n"
	".purgem wait_flag\n"
	".code64\n"
	".popsection\n");
extern const uint8_t g_irq[], g_irq_end[], g_flag[], g_flag_pv[], g_ap[], g_pong[];
extern const uint8_t g_fault[], g_fault_end[];
#define IRQ_CODE      0x2000
#define GDT	      0x3000
#define IDT	      0x5000
#define IRQ_AT(label) (IRQ_CODE + (uint32_t)((label)-g_irq))

/*
 * `kvm_bench fault`: the first touch of a guest page (the host page allocated and mapped on the
 * guest's write), in real mode: FAULT_PAGES writes of 0x5a, one to the start of each page of a
 * fresh slot at FAULT_GPA, each between two RDTSCs (sum and minimum at 0x510), then the same
 * writes again, now to mapped pages (at 0x51c); the guest (g_fault) is with the irqchip cases,
 * whose macros it shares. It needs nothing but memory slots, so it runs on Linux KVM too (make
 * bench runs it on both).
 */
#define FAULT_GPA   0x20000
#define FAULT_PAGES 128

/*
 * The dirty-log fetch: a flat 32-bit guest writes a byte to every 10th page of a 64 MiB slot at
 * DIRTY_GPA, then OUTs to EXIT_PORT, and again on every KVM_RUN; this program times the
 * KVM_GET_DIRTY_LOG after each round (the first round's fetch is not counted).
 */
#define DIRTY_GPA    0x1000000
#define DIRTY_SIZE   (64 << 20)
#define DIRTY_STRIDE (10 * 4096)
#define DIRTY_PAGES  ((DIRTY_SIZE + DIRTY_STRIDE - 1) / DIRTY_STRIDE)
#define DIRTY_ROUNDS 9
__asm__(".pushsection .rodata\n"
	".code32\n"
	"g_dirty:\n"
	"1:	movl $0x1000000, %eax\n"
	"2:	movb $1, (%eax)\n"
	"	addl $0xa000, %eax\n"
	"	cmpl $0x5000000, %eax\n"
	"	jb 2b\n"
	"	outb %al, $0x10\n"
	"	jmp 1b\n"
	"g_dirty_end:\n"
	".code64\n"
	".popsection\n");
extern const uint8_t g_dirty[], g_dirty_end[];

enum { BASELINE, HV_EXIT, ROUNDTRIP, CPUID_EXIT, PIC_MASK, MMIO_ROUNDTRIP, CASES };

struct figures {
	uint64_t sum;
	uint32_t min;
};

static int vcpu_setup(int kvm, bool irqchip, int *vm, int *vcpu, uint8_t **ram,
		      struct kvm_run **run)
{
	struct kvm_userspace_memory_region r = {.memory_size = RAM_SIZE};
	struct kvm_regs regs = {.rip = CODE, .rflags = 2};
	struct kvm_sregs s;

	*vm = io(kvm, KVM_CREATE_VM, 0);
	*ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*vm < 0 || *ram == MAP_FAILED)
		return -1;
	memcpy(*ram + CODE, g_bench, g_bench_end - g_bench);
	r.userspace_addr = (uintptr_t)*ram;
	if (io(*vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r) ||
	    (irqchip && io(*vm, KVM_CREATE_IRQCHIP, 0)))
		return -1;
	*vcpu = io(*vm, KVM_CREATE_VCPU, 0);
	if (*vcpu < 0)
		return -1;
	*run = mmap(NULL, io(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE, MAP_SHARED,
		    *vcpu, 0);
	if (*run == MAP_FAILED || io(*vcpu, KVM_GET_SREGS, (uintptr_t)&s))
		return -1;
	s.cs.base = 0, s.cs.selector = 0;
	s.ds.base = 0, s.ds.selector = 0;
	return io(*vcpu, KVM_SET_SREGS, (uintptr_t)&s) || io(*vcpu, KVM_SET_REGS, (uintptr_t)&regs);
}

/*
 * Lets what this program printed leave the console first: under the hypervisor each byte to the
 * serial port is an exit and an interrupt in dom0, which would land inside the next measurement.
 */
static void settle(void)
{
	fflush(stdout);
	tcdrain(STDOUT_FILENO);
}

/* One vCPU running g_bench to its OUT to DONE_PORT, answering each exit at once. */
struct guest_run {
	int vcpu;
	struct kvm_run *run;
	long iters, exits, mmio, wrong, rc;
	struct timespec t[2]; /* at the first and the last measured port exits */
	uint64_t tsc[2];
	long preempted; /* times the thread was switched out while runnable (run_guest) */
};

static void run_loop(struct guest_run *g)
{
	struct kvm_run *run = g->run;

	for (;;) {
		g->rc = io(g->vcpu, KVM_RUN, 0);
		if (!g->rc && run->exit_reason == KVM_EXIT_MMIO) {
			g->wrong += run->mmio.phys_addr != MMIO_GPA || !run->mmio.is_write ||
				    run->mmio.len != 1;
			g->mmio++;
			continue;
		}
		if (g->rc || run->exit_reason != KVM_EXIT_IO || run->io.port == DONE_PORT)
			return;
		if (g->exits == 1 || g->exits == g->iters) {
			clock_gettime(CLOCK_MONOTONIC, &g->t[g->exits == g->iters]);
			g->tsc[g->exits == g->iters] = __rdtsc();
		}
		g->wrong += run->io.port != EXIT_PORT || run->io.direction != KVM_EXIT_IO_OUT ||
			    run->io.size != 1 || run->io.count != 1;
		g->exits++;
	}
}

static void *run_guest(void *arg)
{
	struct guest_run *g = arg;
	struct rusage u[2];

	getrusage(RUSAGE_THREAD, &u[0]);
	run_loop(g);
	getrusage(RUSAGE_THREAD, &u[1]);
	g->preempted = u[1].ru_nivcsw - u[0].ru_nivcsw;
	return NULL;
}

/* Every exit as expected, and the run ended at the guest's last OUT. */
static bool guest_ok(const struct guest_run *g)
{
	return !g->rc && g->run->exit_reason == KVM_EXIT_IO && g->run->io.port == DONE_PORT &&
	       g->exits == g->iters + 1 && g->mmio == g->iters + 1 && !g->wrong;
}

static void read_figures(const uint8_t *area, struct figures f[CASES])
{
	for (int c = 0; c < CASES; c++) {
		uint32_t w[3];

		memcpy(w, area + RESULTS + 12 * c, sizeof(w));
		f[c].sum = w[0] | (uint64_t)w[1] << 32;
		f[c].min = w[2];
	}
}

static int uart_at(int vm, uint64_t base)
{
	struct kvm_create_device cd = {.type = KVM_DEV_TYPE_HV_UART16550};
	struct kvm_device_attr da = {.group = HV_UART_GRP_CONFIG, .attr = HV_UART_CFG_BASE};

	if (io(vm, KVM_CREATE_DEVICE, (uintptr_t)&cd))
		return -1;
	da.addr = (uintptr_t)&base;
	return io(cd.fd, KVM_SET_DEVICE_ATTR, (uintptr_t)&da) ? -1 : (int)cd.fd;
}

/* A guest-measured case at RESULTS-like `off`: average and minimum cycles. */
static struct figures figures_at(const uint8_t *ram, unsigned off)
{
	uint32_t w[3];

	memcpy(w, ram + off, sizeof(w));
	return (struct figures){w[0] | (uint64_t)w[1] << 32, w[2]};
}

/* The irqchip cases: a VM with the in-hypervisor irqchip and two vCPUs. */
static void irq_bench(int kvm, long iters, long base)
{
	struct kvm_userspace_memory_region r = {.memory_size = RAM_SIZE};
	struct kvm_mp_state runnable = {KVM_MP_STATE_RUNNABLE};
	int vm = io(kvm, KVM_CREATE_VM, 0), bsp;
	long mmap_size = io(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct sigaction sa = {.sa_handler = interrupt_only};
	struct kvm_run *run;
	struct vcpu_thread ap = {0};
	struct figures t, pv, i, sp;
	struct kvm_regs regs;
	uint8_t *ram;
	long rc;
	pthread_t th;

	check("KVM_CREATE_IRQCHIP", io(vm, KVM_CREATE_IRQCHIP, 0), 0);
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(ram + IRQ_CODE, g_irq, g_irq_end - g_irq);
	memcpy(ram + ITERS, &(uint32_t){iters}, 4);
	idt_gate32(ram, IDT, 0x40, IRQ_AT(g_flag));
	idt_gate32(ram, IDT, 0x42, IRQ_AT(g_flag));
	idt_gate32(ram, IDT, 0x43, IRQ_AT(g_flag_pv));
	idt_gate32(ram, IDT, 0x41, IRQ_AT(g_pong));
	r.userspace_addr = (uintptr_t)ram;
	check("RAM", io(vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r), 0);
	bsp = io(vm, KVM_CREATE_VCPU, 0);
	ap.fd = io(vm, KVM_CREATE_VCPU, 1);
	run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, bsp, 0);
	check("vCPU 0 in protected mode", flat32(bsp, ram, GDT, IDT, IRQ_AT(g_irq), 0x8000), 0);
	check("vCPU 1 in protected mode", flat32(ap.fd, ram, GDT, IDT, IRQ_AT(g_ap), 0x7000), 0);
	check("vCPU 1 runnable", io(ap.fd, KVM_SET_MP_STATE, (uintptr_t)&runnable), 0);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	settle();
	pthread_create(&th, NULL, vcpu_thread_run, &ap);
	alarm(120); /* a hang becomes a failure that says where */
	rc = io(bsp, KVM_RUN, 0);
	alarm(0);
	check("vCPU 0 runs both cases to its OUT", rc, 0);
	if (rc && !io(bsp, KVM_GET_REGS, (uintptr_t)&regs))
		printf("kvm_bench: vCPU 0 stopped at rip %#llx ecx %#llx flag %u\n", regs.rip,
		       regs.rcx, ram[0x600]);
	check("... port 0x10", run->exit_reason == KVM_EXIT_IO ? run->io.port : -1, EXIT_PORT);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	check("a signal ends vCPU 1's KVM_RUN with EINTR", ap.rc, -EINTR);
	t = figures_at(ram, 0x540);
	pv = figures_at(ram, 0x564);
	i = figures_at(ram, 0x54c);
	sp = figures_at(ram, 0x558);
	check("timer round trips above the baseline",
	      t.sum / iters > (uint64_t)base && pv.sum / iters > (uint64_t)base, 1);
	check("IPI round trips above the baseline",
	      i.sum / iters > (uint64_t)base && sp.sum / iters > (uint64_t)base, 1);
	printf("kvm_bench: lapic_timer_roundtrip %llu cycles\n",
	       (unsigned long long)(t.sum / iters - base));
	printf("kvm_bench: lapic_timer_roundtrip_pv_eoi %llu cycles\n",
	       (unsigned long long)(pv.sum / iters - base));
	printf("kvm_bench: ipi_roundtrip %llu cycles\n",
	       (unsigned long long)(i.sum / iters - base));
	printf("kvm_bench: ipi_roundtrip_spinning %llu cycles\n",
	       (unsigned long long)(sp.sum / iters - base));
	munmap(run, mmap_size);
	munmap(ram, RAM_SIZE);
	close(ap.fd);
	close(bsp);
	close(vm);
}

/* `kvm_bench fault`: the first-touch fault's cost, the mapped write's subtracted. */
static int fault_bench(int kvm)
{
	const size_t size = FAULT_PAGES * 4096;
	uint8_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region r = {.slot = 1,
						.guest_phys_addr = FAULT_GPA,
						.memory_size = size,
						.userspace_addr = (uintptr_t)mem};
	struct figures first, mapped;
	struct kvm_run *run;
	int vm, vcpu, written = 0;
	uint8_t *ram;

	/* (4 KiB host pages: a huge page would make one fault map them all) */
	check("a VM with a fresh slot",
	      mem == MAP_FAILED || madvise(mem, size, MADV_NOHUGEPAGE) ||
		      vcpu_setup(kvm, false, &vm, &vcpu, &ram, &run) ||
		      io(vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r),
	      0);
	if (failed)
		return summary();
	memcpy(ram + CODE, g_fault, g_fault_end - g_fault);
	memcpy(ram + ITERS, &(uint32_t){FAULT_PAGES}, 4);
	settle();
	check("KVM_RUN", io(vcpu, KVM_RUN, 0), 0);
	check("the guest ends in HLT", run->exit_reason, KVM_EXIT_HLT);
	for (size_t i = 0; i < size; i += 4096)
		written += mem[i] == 0x5a;
	check("the host sees each page's write", written, FAULT_PAGES);
	first = figures_at(ram, 0x510);
	mapped = figures_at(ram, 0x51c);
	printf("kvm_bench: %d pages; cycles are the guest's RDTSC deltas per write\n", FAULT_PAGES);
	printf("kvm_bench: first_touch_fault %llu cycles\n",
	       (unsigned long long)((first.sum - mapped.sum) / FAULT_PAGES));
	printf("kvm_bench: first_touch_fault_min %llu cycles\n",
	       (unsigned long long)(first.min - mapped.min));
	printf("kvm_bench: mapped_page_write %llu cycles\n",
	       (unsigned long long)(mapped.sum / FAULT_PAGES));
	return summary();
}

/* KVM_GET_DIRTY_LOG of a 64 MiB slot with 10% of its pages dirty, in host TSC cycles. */
static void dirty_bench(int kvm)
{
	uint8_t *mem =
		mmap(NULL, DIRTY_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region r = {.slot = 1,
						.flags = KVM_MEM_LOG_DIRTY_PAGES,
						.guest_phys_addr = DIRTY_GPA,
						.memory_size = DIRTY_SIZE,
						.userspace_addr = (uintptr_t)mem};
	static uint64_t bitmap[DIRTY_SIZE / 4096 / 64];
	struct kvm_dirty_log log = {.slot = 1, .dirty_bitmap = bitmap};
	uint64_t sum = 0, t0;
	int vm, vcpu, wrong = 0;
	struct kvm_run *run;
	uint8_t *ram;

	check("a VM with a 64 MiB dirty-logged slot",
	      mem == MAP_FAILED || vcpu_setup(kvm, false, &vm, &vcpu, &ram, &run) ||
		      io(vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r) ||
		      flat32(vcpu, ram, 0x3000, 0x5000, CODE, 0x8000),
	      0);
	if (failed)
		return;
	memcpy(ram + CODE, g_dirty, g_dirty_end - g_dirty);
	settle();
	for (int round = 0; round < DIRTY_ROUNDS; round++) {
		unsigned dirty = 0;

		wrong += io(vcpu, KVM_RUN, 0) || run->exit_reason != KVM_EXIT_IO;
		t0 = __rdtsc();
		wrong += io(vm, KVM_GET_DIRTY_LOG, (uintptr_t)&log) != 0;
		if (round)
			sum += __rdtsc() - t0;
		for (unsigned i = 0; i < sizeof(bitmap) / 8; i++)
			dirty += __builtin_popcountll(bitmap[i]);
		wrong += dirty != DIRTY_PAGES;
	}
	check("each round: KVM_RUN to the OUT, the fetch, 1639 dirty pages", wrong, 0);
	printf("kvm_bench: dirty_log_fetch_64m %llu cycles\n",
	       (unsigned long long)(sum / (DIRTY_ROUNDS - 1)));
	munmap(run, io(kvm, KVM_GET_VCPU_MMAP_SIZE, 0));
	munmap(ram, RAM_SIZE);
	munmap(mem, DIRTY_SIZE);
	close(vcpu);
	close(vm);
}

/* KVM_RUN with immediate_exit: the ioctl's own path, in host TSC cycles per call. */
static void immediate_exit_bench(int vcpu, struct kvm_run *run, long iters)
{
	uint64_t t0;
	long wrong = 0;

	run->immediate_exit = 1;
	settle();
	t0 = __rdtsc();
	for (long i = 0; i < iters; i++)
		wrong += io(vcpu, KVM_RUN, 0) != -EINTR;
	t0 = (__rdtsc() - t0) / iters;
	run->immediate_exit = 0;
	check("KVM_RUN with immediate_exit returns EINTR each time", wrong, 0);
	printf("kvm_bench: kvm_run_immediate_exit %llu cycles\n", (unsigned long long)t0);
}

/*
 * `kvm_bench scale`: how the costs grow. g_bench (SCALE_ITERS iterations) on N vCPUs at once,
 * each in its own thread, either N VMs of one vCPU or one VM of N vCPUs (vCPU i's data segment
 * at SCALE_AREA(i), so that their loop counts and results do not meet); printed per N: the
 * average over the vCPUs of the CPUID exit's and the port round trip's cost and the smallest
 * single one (a vCPU that waits for a CPU is in the average, not in the minimum), and how often
 * each vCPU's thread was switched out while runnable during its run (getrusage's ru_nivcsw, on
 * average: a switch puts the other threads' time into that thread's figures). Then the host
 * cycles of KVM_SET_USER_MEMORY_REGION making and deleting a slot of 16 MiB, 256 MiB and 1 GiB,
 * and the memory a VM and a vCPU take: the hypervisor's frames (here only) and the host's
 * MemFree (dom0's kernel here, all of it on Linux KVM), per VM over 8 VMs, per vCPU over the 7
 * added to one.
 */
#define SCALE_MAX     8
#define SCALE_ITERS   100
#define SCALE_AREA(i) (0x8000 + (i)*0x1000)

static long mem_free_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* A vCPU made after the first: real mode at CODE, its data segment at `area`. */
static int ap_setup(int vcpu, uint32_t area)
{
	struct kvm_mp_state runnable = {KVM_MP_STATE_RUNNABLE};
	struct kvm_regs regs = {.rip = CODE, .rflags = 2};
	struct kvm_sregs s;

	if (io(vcpu, KVM_GET_SREGS, (uintptr_t)&s))
		return -1;
	s.cs.base = 0, s.cs.selector = 0;
	s.ds.base = area, s.ds.selector = area >> 4;
	return io(vcpu, KVM_SET_SREGS, (uintptr_t)&s) || io(vcpu, KVM_SET_REGS, (uintptr_t)&regs) ||
	       io(vcpu, KVM_SET_MP_STATE, (uintptr_t)&runnable);
}

/* vCPU `id` of `vm` into g, its kvm_run mapped; -1 when either fails. */
static int add_vcpu(int kvm, int vm, int id, struct guest_run *g)
{
	g->vcpu = io(vm, KVM_CREATE_VCPU, id);
	g->run = mmap(NULL, io(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->vcpu, 0);
	return g->vcpu < 0 || g->run == MAP_FAILED ? -1 : 0;
}

/* N vCPUs (in N VMs, or in one) run g_bench at once; prints what each costs and their memory. */
static void scale_run(int kvm, bool one_vm, int n, long frames0, long kib0)
{
	struct guest_run g[SCALE_MAX] = {0};
	uint64_t sum[2] = {0, 0}, min[2] = {~0ULL, ~0ULL}, preempted = 0;
	int vm[SCALE_MAX], bad = 0;
	uint8_t *ram[SCALE_MAX];
	pthread_t th[SCALE_MAX];
	struct figures f[CASES];
	const char *what = one_vm ? "vcpus" : "vms";

	for (int i = 0; i < n; i++) {
		uint32_t area = one_vm ? SCALE_AREA(i) : 0;
		uint8_t *r;

		g[i].iters = SCALE_ITERS;
		if (!one_vm || i == 0) {
			bad += vcpu_setup(kvm, true, &vm[i], &g[i].vcpu, &ram[i], &g[i].run) != 0;
		} else {
			vm[i] = vm[0], ram[i] = ram[0];
			bad += add_vcpu(kvm, vm[0], i, &g[i]) != 0;
		}
		if (!bad && one_vm)
			bad += ap_setup(g[i].vcpu, area) != 0;
		if (bad)
			break;
		r = ram[i] + area;
		memcpy(r + ITERS, &(uint32_t){SCALE_ITERS}, 4);
		r[HAS_UART] = 0;
	}
	check(one_vm ? "one VM of N vCPUs" : "N VMs of one vCPU", bad, 0);
	if (bad)
		return;
	if (n == SCALE_MAX) { /* all made: what they take */
		long frames = hv_free_frames(), kib = mem_free_kib();

		if (frames0 >= 0 && frames >= 0)
			printf("kvm_bench: scale_hv_mem_per_%s_kib %ld kib\n",
			       one_vm ? "vcpu" : "vm",
			       (frames0 - frames) * 4 / (one_vm ? n - 1 : n));
		printf("kvm_bench: scale_host_mem_per_%s_kib %ld kib\n", one_vm ? "vcpu" : "vm",
		       (kib0 - kib) / (one_vm ? n - 1 : n));
	}
	settle();
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, run_guest, &g[i]);
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		bad += !guest_ok(&g[i]);
		preempted += g[i].preempted;
		read_figures(ram[i] + (one_vm ? SCALE_AREA(i) : 0), f);
		for (int c = 0; c < 2; c++) {
			const struct figures *x = &f[c ? ROUNDTRIP : CPUID_EXIT];

			sum[c] += (x->sum - f[BASELINE].sum) / SCALE_ITERS;
			uint64_t m = x->min - f[BASELINE].min;

			min[c] = m < min[c] ? m : min[c];
		}
	}
	check("every vCPU's exits as expected", bad, 0);
	printf("kvm_bench: scale_%s_%d_cpuid_exit %llu cycles\n", what, n,
	       (unsigned long long)(sum[0] / n));
	printf("kvm_bench: scale_%s_%d_cpuid_exit_min %llu cycles\n", what, n,
	       (unsigned long long)min[0]);
	printf("kvm_bench: scale_%s_%d_kvm_run_roundtrip %llu cycles\n", what, n,
	       (unsigned long long)(sum[1] / n));
	printf("kvm_bench: scale_%s_%d_kvm_run_roundtrip_min %llu cycles\n", what, n,
	       (unsigned long long)min[1]);
	printf("kvm_bench: scale_%s_%d_preempted %llu times\n", what, n,
	       (unsigned long long)(preempted / n));
	for (int i = n - 1; i >= 0; i--) {
		munmap(g[i].run, io(kvm, KVM_GET_VCPU_MMAP_SIZE, 0));
		close(g[i].vcpu);
		if (!one_vm || i == 0) {
			munmap(ram[i], RAM_SIZE);
			close(vm[i]);
		}
	}
}

/* A slot of `mib` MiB made and deleted (host TSC cycles of each ioctl). */
static void slot_bench(int kvm, long mib)
{
	size_t size = (size_t)mib << 20;
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct kvm_userspace_memory_region r = {.slot = 1,
						.guest_phys_addr = 1ULL << 32,
						.memory_size = size,
						.userspace_addr = (uintptr_t)mem};
	int vm = io(kvm, KVM_CREATE_VM, 0);
	uint64_t t0, t1, t2;

	settle();
	t0 = __rdtsc();
	long made = io(vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r);
	t1 = __rdtsc();
	r.memory_size = 0;
	long gone = io(vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r);
	t2 = __rdtsc();
	check("a slot made and deleted", mem == MAP_FAILED || vm < 0 || made || gone, 0);
	printf("kvm_bench: slot_create_%ldm %llu cycles\n", mib, (unsigned long long)(t1 - t0));
	printf("kvm_bench: slot_delete_%ldm %llu cycles\n", mib, (unsigned long long)(t2 - t1));
	munmap(mem, size);
	close(vm);
}

static int scale(int kvm)
{
	for (int one_vm = 0; one_vm < 2; one_vm++)
		for (int n = 1; n <= SCALE_MAX; n *= 2)
			scale_run(kvm, one_vm, n, hv_free_frames(), mem_free_kib());
	slot_bench(kvm, 16);
	slot_bench(kvm, 256);
	slot_bench(kvm, 1024);
	return summary();
}

/*
 * `kvm_bench stages`: g_bench (100 iterations) on vCPU 0 of a VM without an in-kernel irqchip,
 * then with one, then on its vCPU 1: the guest-measured CPUID exit and port round trip of each
 * (scripts/stages.sh sets these beside the hypervisor's own per-stage counts).
 */
static int stages(int kvm)
{
	static const char *const configs[] = {"no irqchip, vCPU 0", "irqchip, vCPU 0",
					      "irqchip, vCPU 1"};

	for (int c = 0; c < 3; c++) {
		struct guest_run g = {.iters = 100};
		uint32_t area = c == 2 ? SCALE_AREA(1) : 0;
		struct figures f[CASES];
		uint8_t *ram;
		int vm;

		check("a VM", vcpu_setup(kvm, c > 0, &vm, &g.vcpu, &ram, &g.run), 0);
		int bsp = g.vcpu;
		struct kvm_run *bsp_run = g.run;

		if (c == 2)
			check("vCPU 1", add_vcpu(kvm, vm, 1, &g) || ap_setup(g.vcpu, area), 0);
		memcpy(ram + area + ITERS, &(uint32_t){100}, 4);
		printf("kvm_bench: stages: %s\n", configs[c]);
		settle();
		run_guest(&g);
		read_figures(ram + area, f);
		/* (without the irqchip its PIC writes come here too: port exits are not counted) */
		check("to the guest's last OUT",
		      !g.rc && g.run->io.port == DONE_PORT && g.mmio == 101, 1);
		printf("kvm_bench: stages: %s: cpuid_exit %llu, kvm_run_roundtrip %llu cycles\n",
		       configs[c],
		       (unsigned long long)((f[CPUID_EXIT].sum - f[BASELINE].sum) / 100),
		       (unsigned long long)((f[ROUNDTRIP].sum - f[BASELINE].sum) / 100));
		if (c == 2) { /* (the VM goes with its last fd: the stage counters print then) */
			munmap(g.run, io(kvm, KVM_GET_VCPU_MMAP_SIZE, 0));
			close(g.vcpu);
		}
		munmap(bsp_run, io(kvm, KVM_GET_VCPU_MMAP_SIZE, 0));
		close(bsp);
		munmap(ram, RAM_SIZE);
		close(vm);
		settle();
	}
	return summary();
}

static double ns_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e9 + (b->tv_nsec - a->tv_nsec);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 0) : 200;
	int kvm = open("/dev/kvm", O_RDWR), vm = -1, uart;
	struct guest_run g = {.iters = iters};
	struct figures f[CASES];
	uint8_t *ram = NULL;

	test_name = "kvm_bench";
	if (argc > 1 && !strcmp(argv[1], "fault"))
		return kvm < 0 ? 1 : fault_bench(kvm);
	if (argc > 1 && !strcmp(argv[1], "stages"))
		return kvm < 0 ? 1 : stages(kvm);
	if (argc > 1 && !strcmp(argv[1], "scale"))
		return kvm < 0 ? 1 : scale(kvm);
	if (iters < 2 || iters > 1000000) {
		fprintf(stderr, "usage: kvm_bench [ITERATIONS (2 to 1000000)]\n");
		return 2;
	}
	check("open /dev/kvm", kvm >= 0, 1);
	if (kvm < 0)
		return summary();
	check("VM with the guest and an in-kernel irqchip",
	      vcpu_setup(kvm, true, &vm, &g.vcpu, &ram, &g.run), 0);
	if (failed)
		return summary();
	uart = uart_at(vm, UART_BASE); /* the hypervisor's device: not on Linux KVM */
	memcpy(ram + ITERS, &(uint32_t){iters}, 4);
	ram[HAS_UART] = uart >= 0;

	/*
	 * After the warm-up OUT to EXIT_PORT and MMIO write, the baseline and the UART loops run
	 * inside one KVM_RUN; then every measured OUT to EXIT_PORT comes here and goes straight
	 * back, and later every MMIO write. The host-side figures are taken between the first and
	 * the last measured port exits: iters - 1 round trips.
	 */
	settle();
	run_guest(&g);
	check("KVM_RUN returns 0 throughout", g.rc, 0);
	check("the guest ends at its OUT to port 0x11",
	      g.run->exit_reason == KVM_EXIT_IO ? g.run->io.port : -1, DONE_PORT);
	check("a KVM_EXIT_IO for the warm-up and each round trip (none for the UART or PIC)",
	      g.exits, iters + 1);
	check("a KVM_EXIT_MMIO for the warm-up and each MMIO round trip", g.mmio, iters + 1);
	check("every exit an OUT of a byte to port 0x10 or a byte write to 0x20000", g.wrong, 0);
	read_figures(ram, f);

	/* Cycles per iteration, averaged over iters and the minimum; both with the baseline's
	 * average (respectively minimum) already subtracted, which itself is printed as is. */
	uint64_t base = f[BASELINE].sum / iters;
	static const char *const names[CASES] = {
		[ROUNDTRIP] = "kvm_run_roundtrip", [MMIO_ROUNDTRIP] = "mmio_write_roundtrip",
		[CPUID_EXIT] = "cpuid_exit",	   [PIC_MASK] = "pic_mask_write",
		[HV_EXIT] = "hv_handled_exit",
	};
	double wall = ns_between(&g.t[0], &g.t[1]) / (iters - 1);
	uint64_t host_tsc = (g.tsc[1] - g.tsc[0]) / (iters - 1);

	check("baseline above 0", base > 0, 1);
	check("host-side time per round trip above 0", wall > 0 && host_tsc > 0, 1);
	printf("kvm_bench: %ld iterations per case; cycles are the guest's RDTSC deltas per "
	       "iteration, rdtsc_baseline subtracted from the others\n",
	       iters);
	for (int c = HV_EXIT; c < CASES; c++) {
		if (c == HV_EXIT && uart < 0)
			continue;
		check(names[c], f[c].sum / iters > base && f[c].min > f[BASELINE].min, 1);
		printf("kvm_bench: %s %llu cycles\n", names[c],
		       (unsigned long long)(f[c].sum / iters - base));
		printf("kvm_bench: %s_min %llu cycles\n", names[c],
		       (unsigned long long)(f[c].min - f[BASELINE].min));
	}
	printf("kvm_bench: rdtsc_baseline %llu cycles\n", (unsigned long long)base);
	printf("kvm_bench: rdtsc_baseline_min %u cycles\n", f[BASELINE].min);
	/*
	 * The host side: per round trip as this program sees it, from one KVM_RUN's return to the
	 * next, in dom0's CLOCK_MONOTONIC and in RDTSC cycles (the TSC the guest reads). In Bochs
	 * dom0's kernel finds a 3.5 GHz TSC ("tsc: Detected 3499.912 MHz TSC") where the hypervisor
	 * measures 50 MHz (make bench's tsc_khz), so there its nanoseconds are about 70 times too
	 * few; the cycles are the figure to compare.
	 */
	printf("kvm_bench: kvm_run_roundtrip_host_wallclock %.0f ns\n", wall);
	printf("kvm_bench: kvm_run_roundtrip_host_tsc %llu cycles\n", (unsigned long long)host_tsc);
	immediate_exit_bench(g.vcpu, g.run, iters);
	irq_bench(kvm, iters, (long)base);
	dirty_bench(kvm);
	if (uart >= 0)
		close(uart);
	munmap(g.run, io(kvm, KVM_GET_VCPU_MMAP_SIZE, 0));
	munmap(ram, RAM_SIZE);
	close(g.vcpu);
	close(vm);
	close(kvm);
	return summary();
}
