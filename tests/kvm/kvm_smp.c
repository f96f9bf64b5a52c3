/*
 * kvm_smp: a guest with two vCPUs, each a thread here, on the in-hypervisor irqchip. vCPU 0
 * starts vCPU 1 as an OS does (INIT, SIPI), then does a TLB shootdown: vCPU 1 keeps reading a
 * virtual page, vCPU 0 remaps it to another frame and sends vCPU 1 an IPI whose handler runs
 * INVLPG and answers; vCPU 1 must then read the new frame. vCPU 0 waits spinning (in guest
 * mode), so the answer reaches it while it runs. Ends with "N passed, N failed".
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"

#define RAM_SIZE 0x20000
#define CODE	 0x1000
#define TRAMP	 0x10000 /* vCPU 1's real-mode start (SIPI vector 0x10) */
#define PARK	 0x11000 /* where its first SIPI (0x11) parks it in HLT */
#define GDT	 0x3000
#define IDT	 0x5000
#define IDTR	 0x5800
#define PD	 0x9000 /* 4 MiB identity page, then a page table for 4-8 MiB */
#define PT	 0xa000
#define FRAME_A	 0xc000 /* what virtual 0x400000 maps to first ('A'), then ('B') */
#define FRAME_B	 0xd000
#define VPAGE	 0x400000

/*
 * vCPU 0 (flat protected mode, paging on): APIC on; INIT and SIPI to APIC 1, which parks in HLT
 * (0x610 set just before), as firmware parks its APs; INIT and SIPI again; wait for its
 * "ready" (0x604); OUT what it reads at VPAGE to port 0x10; point the PTE at FRAME_B; IPI 0x43
 * to APIC 1; spin until the handler's answer (0x60c); spin until vCPU 1 reads 'B' (0x608);
 * OUT that to port 0x11. vCPU 1 (real mode at TRAMP, then the same protected mode): APIC on,
 * reads VPAGE (its TLB now holds it), says ready, and loops reading VPAGE into 0x608.
 */
__asm__(".pushsection .rodata\n"
	".code32\n"
	"g_bsp: movl $0x1ff, 0xfee000f0\n"
	"  movl $0x01000000, 0xfee00310; movl $0x4500, 0xfee00300\n" /* INIT */
	"  movl $0x01000000, 0xfee00310; movl $0x4611, 0xfee00300\n" /* SIPI, vector 0x11 */
	"0: pause; cmpb $0, 0x610; je 0b\n"
	"  movl $100000, %ecx; 5: loop 5b\n"			     /* time for its HLT */
	"  movl $0x01000000, 0xfee00310; movl $0x4500, 0xfee00300\n" /* INIT */
	"  movl $0x01000000, 0xfee00310; movl $0x4610, 0xfee00300\n" /* SIPI, vector 0x10 */
	"1: pause; cmpb $0, 0x604; je 1b\n"
	"  movb 0x400000, %al; outb %al, $0x10\n"
	"  movl $0xd003, 0xa000\n" /* PTE 0: FRAME_B, present, writable */
	"  invlpg 0x400000\n"
	"  movl $0x01000000, 0xfee00310; movl $0x43, 0xfee00300\n"
	"2: pause; cmpb $0, 0x60c; je 2b\n"
	"3: pause; cmpb $0x42, 0x608; jne 3b\n"
	"  movb 0x608, %al; outb %al, $0x11\n"
	"  cli; hlt\n"
	"g_ap32: movw $16, %ax; movw %ax, %ds; movw %ax, %es; movw %ax, %ss\n"
	"  lidt 0x5800\n"
	"  movl $0x1ff, 0xfee000f0\n"
	"  movl $0x9000, %eax; movl %eax, %cr3\n"
	"  movl %cr4, %eax; orl $0x10, %eax; movl %eax, %cr4\n" /* PSE */
	"  movl %cr0, %eax; orl $0x80000000, %eax; movl %eax, %cr0\n"
	"  movl $0x7000, %esp\n"
	"  sti\n"
	"  movb 0x400000, %al\n"
	"  movb $1, 0x604\n"
	"4: movb 0x400000, %al; movb %al, 0x608; jmp 4b\n"
	"g_shoot: invlpg 0x400000; movb $1, 0x60c; movl $0, 0xfee000b0; iret\n"
	"g_smp_end:\n"
	/* vCPU 1's real-mode start: load the GDT, enter protected mode, jump to g_ap32 */
	".code16\n"
	"g_tramp: cli; lgdtl %cs:(g_gdtr - g_tramp)\n"
	"  movl %cr0, %eax; orl $1, %eax; movl %eax, %cr0\n"
	"  ljmpl $8, $0\n" /* offset patched in by main() */
	"g_tramp_jmp_end:\n"
	"g_gdtr: .word 23; .long 0x3000\n"
	"g_tramp_end:\n"
	"g_park: xorw %ax, %ax; movw %ax, %ds; movb $1, 0x610; cli; hlt\n" /* at PARK */
	"g_park_end:\n"
	".code64\n"
	".popsection\n");
extern const uint8_t g_bsp[], g_ap32[], g_shoot[], g_smp_end[], g_tramp[], g_tramp_jmp_end[],
	g_tramp_end[], g_park[], g_park_end[];

static uint32_t at(const uint8_t *label)
{
	return CODE + (uint32_t)(label - g_bsp);
}

static long out_port(int vcpu, struct kvm_run *run, uint8_t *data)
{
	long rc = io(vcpu, KVM_RUN, 0);

	if (rc)
		return rc;
	if (run->exit_reason != KVM_EXIT_IO)
		return -1000 - (long)run->exit_reason;
	*data = *((uint8_t *)run + run->io.data_offset);
	return run->io.port;
}

/* Where the vCPUs are, for a failure. */
static void where(int vcpu0, int vcpu1)
{
	struct kvm_mp_state mp = {0};
	struct kvm_regs r0 = {0}, r1 = {0};

	io(vcpu0, KVM_GET_REGS, (uintptr_t)&r0);
	io(vcpu1, KVM_GET_REGS, (uintptr_t)&r1);
	io(vcpu1, KVM_GET_MP_STATE, (uintptr_t)&mp);
	printf("kvm_smp: vCPU 0 at %#llx; vCPU 1 at %#llx, mp_state %u\n", r0.rip, r1.rip,
	       mp.mp_state);
}

/* Guest memory: code, the trampoline, the page tables, the two frames. */
static void setup_ram(uint8_t *ram)
{
	uint32_t *pd = (uint32_t *)(ram + PD), *pt = (uint32_t *)(ram + PT);
	uint32_t entry = at(g_ap32);

	memcpy(ram + CODE, g_bsp, g_smp_end - g_bsp);
	memcpy(ram + TRAMP, g_tramp, g_tramp_end - g_tramp);
	memcpy(ram + PARK, g_park, g_park_end - g_park);
	/* the ljmpl's 32-bit offset sits just before its selector, at the end of the insn */
	memcpy(ram + TRAMP + (g_tramp_jmp_end - g_tramp) - 6, &entry, 4);
	idt_gate32(ram, IDT, 0x43, at(g_shoot));
	memcpy(ram + IDTR, &(uint16_t){0x7ff}, 2); /* vCPU 1's LIDT operand */
	memcpy(ram + IDTR + 2, &(uint32_t){IDT}, 4);
	pd[0] = 0x83;			    /* 0-4 MiB identity, 4 MiB page, writable */
	pd[1] = PT | 3;			    /* 4-8 MiB through PT */
	pd[0xfee00000u >> 22] = 0xfec00083; /* the 4 MiB around the local APIC, identity */
	pt[0] = FRAME_A | 3;
	ram[FRAME_A] = 'A';
	ram[FRAME_B] = 'B';
}

/* MSR_KVM_SYSTEM_TIME_NEW and MSR_KVM_PV_EOI_EN of a vCPU: the number of them moved. */
static long pv_msrs(int vcpu, unsigned long req, uint64_t *val)
{
	struct {
		struct kvm_msrs head;
		struct kvm_msr_entry e[2];
	} m = {.head.nmsrs = 2,
	       .e = {{.index = 0x4b564d01, .data = val[0]}, {.index = 0x4b564d04, .data = val[1]}}};
	long rc = io(vcpu, req, (uintptr_t)&m);

	val[0] = m.e[0].data, val[1] = m.e[1].data;
	return rc;
}

int main(void)
{
	struct kvm_userspace_memory_region r = {.memory_size = RAM_SIZE};
	struct sigaction sa = {.sa_handler = interrupt_only};
	int kvm = open("/dev/kvm", O_RDWR), vm, vcpu0;
	long frames = hv_free_frames(), mmap_size;
	struct vcpu_thread v1 = {0};
	struct timespec t0, t1;
	struct kvm_run *run;
	struct kvm_sregs s;
	uint8_t *ram, data = 0;
	uint64_t pv[2] = {1, 1};
	long rc;
	pthread_t th;

	test_name = "kvm_smp";
	check("open /dev/kvm", kvm >= 0, 1);
	if (kvm < 0)
		return summary();
	mmap_size = io(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm = io(kvm, KVM_CREATE_VM, 0);
	check("KVM_CREATE_IRQCHIP", io(vm, KVM_CREATE_IRQCHIP, 0), 0);
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	setup_ram(ram);
	r.userspace_addr = (uintptr_t)ram;
	check("RAM", io(vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r), 0);
	vcpu0 = io(vm, KVM_CREATE_VCPU, 0);
	v1.fd = io(vm, KVM_CREATE_VCPU, 1);
	run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu0, 0);
	check("vCPU 0 in protected mode", flat32(vcpu0, ram, GDT, IDT, at(g_bsp), 0x8000), 0);
	check("KVM_GET_SREGS", io(vcpu0, KVM_GET_SREGS, (uintptr_t)&s), 0);
	s.cr3 = PD;
	s.cr4 |= 0x10;	      /* PSE */
	s.cr0 |= 0x80000000u; /* PG */
	check("vCPU 0 paging on", io(vcpu0, KVM_SET_SREGS, (uintptr_t)&s), 0);
	check("vCPU 1's kvmclock and PV EOI set before INIT",
	      pv_msrs(v1.fd, KVM_SET_MSRS, (uint64_t[]){0xe001, 0xeff1}), 2);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	pthread_create(&th, NULL, vcpu_thread_run, &v1); /* it waits for INIT and SIPI */
	alarm(60);					 /* a hang becomes a failure */
	rc = out_port(vcpu0, run, &data);
	check("vCPU 0 reads virtual 0x400000 (after vCPU 1 started)", rc, 0x10);
	check("... frame A", data, 'A');
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (rc == 0x10)
		check("after the shootdown vCPU 1 reads the new frame",
		      rc = out_port(vcpu0, run, &data), 0x11);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	alarm(0);
	check("... frame B", data, 'B');
	printf("kvm_smp: shootdown took %ld us of dom0 time\n",
	       (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	check("a signal ends vCPU 1's KVM_RUN (EINTR)", v1.rc, -EINTR);
	check("INIT turned vCPU 1's kvmclock and PV EOI off, as KVM",
	      pv_msrs(v1.fd, KVM_GET_MSRS, pv) == 2 && !pv[0] && !pv[1], 1);
	if (rc != 0x11)
		where(vcpu0, v1.fd);
	munmap(run, mmap_size);
	munmap(ram, RAM_SIZE);
	close(v1.fd);
	close(vcpu0);
	close(vm);
	check("every hypervisor frame back after close", hv_free_frames(), frames);
	return summary();
}
