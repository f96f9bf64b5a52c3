/*
 * kvm_irqchip: KVM_CREATE_IRQCHIP and the controllers in the hypervisor. A protected-mode guest
 * enables its local APIC, arms the APIC timer and halts: the vCPU sleeps in dom0 until the timer
 * fires and the guest's handler runs. It then routes IOAPIC pin 5 to a vector and halts again;
 * another thread raises the line with KVM_IRQ_LINE and the halted vCPU wakes. State through
 * KVM_GET_IRQCHIP and KVM_GET_LAPIC, and the rules of each ioctl. Ends with "N passed, N failed".
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"

#define RAM_SIZE 0x10000
#define CODE	 0x1000
#define GDT	 0x3000
#define IDT	 0x5000
#define STACK	 0x8000

__asm__(".pushsection .rodata\n"
	".code32\n"
	"g_apic: movl $0x1ff, 0xfee000f0\n" /* SVR: APIC on, spurious vector 0xff */
	"  movl $0x0b, 0xfee003e0\n"	    /* timer divide by 1 */
	"  movl $0x40, 0xfee00320\n"	    /* LVT timer: vector 0x40, one-shot */
	"  movl $200000, 0xfee00380\n"	    /* initial count: 200 us of the 1 GHz bus */
	"  sti\n"
	"1: hlt; cmpb $0, 0x600; je 1b\n"
	"  mov $0x51, %al; out %al, $0x51\n"
	"  movl $0x1a, 0xfec00000; movl $0x45, 0xfec00010\n" /* pin 5 low: vector 0x45, edge */
	"  movl $0x1b, 0xfec00000; movl $0, 0xfec00010\n"    /* pin 5 high: APIC id 0 */
	"  mov $0x52, %al; out %al, $0x52\n"
	"2: hlt; cmpb $0, 0x601; je 2b\n"
	"  mov $0x53, %al; out %al, $0x53\n"
	"  movb $0, 0x601\n"
	"3: hlt; cmpb $0, 0x601; je 3b\n"
	"  mov $0x54, %al; out %al, $0x54\n"
	"  cli; hlt\n"
	"g_h40: movb $1, 0x600; mov $0x50, %al; out %al, $0x50; movl $0, 0xfee000b0; iret\n"
	"g_h45: movb $1, 0x601; mov $0x55, %al; out %al, $0x55; movl $0, 0xfee000b0; iret\n"
	"g_apic_end:\n"
	".code64\n"
	".popsection\n");
extern const uint8_t g_apic[], g_apic_end[], g_h40[], g_h45[];

struct vmx {
	int kvm, vm, vcpu;
	uint8_t *ram;
	struct kvm_run *run;
};

static long run_out(struct vmx *x)
{
	long rc = io(x->vcpu, KVM_RUN, 0);

	if (rc)
		return rc;
	return x->run->exit_reason == KVM_EXIT_IO ? x->run->io.port
						  : -1000 - (long)x->run->exit_reason;
}

static void idt_gate(struct vmx *x, unsigned vec, const uint8_t *handler)
{
	uint32_t off = CODE + (uint32_t)(handler - g_apic);
	uint32_t *g = (uint32_t *)(x->ram + IDT + vec * 8);

	g[0] = (off & 0xffff) | (8u << 16);
	g[1] = (off & 0xffff0000) | 0x8e00; /* present, 32-bit interrupt gate */
}

static int protected_mode(struct vmx *x)
{
	struct kvm_regs r = {.rip = CODE, .rsp = STACK, .rflags = 2};
	uint64_t *gdt = (uint64_t *)(x->ram + GDT);
	struct kvm_sregs s;

	memcpy(x->ram + CODE, g_apic, g_apic_end - g_apic);
	gdt[1] = 0x00cf9b000000ffffULL;
	gdt[2] = 0x00cf93000000ffffULL;
	idt_gate(x, 0x40, g_h40);
	idt_gate(x, 0x45, g_h45);
	if (io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s))
		return -1;
	s.cs = (struct kvm_segment){0, 0xffffffff, 8, 0xb, 1, 0, 1, 1, 0, 1, 0, 0, 0};
	s.ds = (struct kvm_segment){0, 0xffffffff, 16, 0x3, 1, 0, 1, 1, 0, 1, 0, 0, 0};
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.gdt = (struct kvm_dtable){.base = GDT, .limit = 23};
	s.idt = (struct kvm_dtable){.base = IDT, .limit = 0x7ff};
	s.cr0 = 0x11;
	return io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s) ||
	       io(x->vcpu, KVM_SET_REGS, (uintptr_t)&r);
}

static void rules(int kvm)
{
	int vm = io(kvm, KVM_CREATE_VM, 0), vcpu;
	struct kvm_irq_level line = {.irq = 5, .level = 1};
	struct kvm_irqchip chip = {.chip_id = KVM_IRQCHIP_IOAPIC};

	check("KVM_CAP_IRQCHIP", io(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP), 1);
	check("KVM_IRQ_LINE without an irqchip", io(vm, KVM_IRQ_LINE, (uintptr_t)&line), -ENXIO);
	check("KVM_GET_IRQCHIP without one", io(vm, KVM_GET_IRQCHIP, (uintptr_t)&chip), -ENXIO);
	vcpu = io(vm, KVM_CREATE_VCPU, 0);
	check("KVM_CREATE_IRQCHIP after a vCPU", io(vm, KVM_CREATE_IRQCHIP, 0), -EINVAL);
	close(vcpu);
	close(vm);
	vm = io(kvm, KVM_CREATE_VM, 0);
	check("KVM_CREATE_IRQCHIP", io(vm, KVM_CREATE_IRQCHIP, 0), 0);
	check("KVM_CREATE_IRQCHIP again", io(vm, KVM_CREATE_IRQCHIP, 0), -EEXIST);
	chip.chip_id = 3;
	check("KVM_GET_IRQCHIP chip 3", io(vm, KVM_GET_IRQCHIP, (uintptr_t)&chip), -EINVAL);
	chip.chip_id = KVM_IRQCHIP_IOAPIC;
	check("KVM_GET_IRQCHIP IOAPIC", io(vm, KVM_GET_IRQCHIP, (uintptr_t)&chip), 0);
	check("IOAPIC base", (long)chip.chip.ioapic.base_address, 0xfec00000L);
	check("pin 5 masked at reset", chip.chip.ioapic.redirtbl[5].fields.mask, 1);
	line.irq = 24;
	check("KVM_IRQ_LINE GSI 24", io(vm, KVM_IRQ_LINE, (uintptr_t)&line), -EINVAL);
	check("KVM_GET_PIT2 without a PIT", io(vm, KVM_GET_PIT2, (uintptr_t)&chip), -ENXIO);
	close(vm);
}

static void *raise_line(void *arg)
{
	struct vmx *x = arg;
	struct kvm_irq_level l = {.irq = 5, .level = 1};
	struct timespec ts = {0, 50 * 1000 * 1000};

	nanosleep(&ts, NULL); /* the vCPU is halted in KVM_RUN by now */
	check("KVM_IRQ_LINE_STATUS pin 5 high", io(x->vm, KVM_IRQ_LINE_STATUS, (uintptr_t)&l), 0);
	l.irq = 5; /* KVM_IRQ_LINE_STATUS wrote its status over it */
	l.level = 0;
	check("KVM_IRQ_LINE pin 5 low", io(x->vm, KVM_IRQ_LINE, (uintptr_t)&l), 0);
	return NULL;
}

static void *signal_eventfd(void *arg)
{
	struct timespec ts = {0, 50 * 1000 * 1000};
	uint64_t one = 1;

	nanosleep(&ts, NULL);
	check("eventfd signalled", write(*(int *)arg, &one, 8), 8);
	return NULL;
}

/* An irqfd on GSI 5: the eventfd's signal is the pin's edge. */
static void irqfd(struct vmx *x)
{
	int efd = eventfd(0, 0);
	struct kvm_irqfd f = {.fd = efd, .gsi = 5};
	pthread_t t;

	f.flags = KVM_IRQFD_FLAG_RESAMPLE;
	check("KVM_IRQFD with resampling", io(x->vm, KVM_IRQFD, (uintptr_t)&f), -EINVAL);
	f.flags = 0;
	f.gsi = 24;
	check("KVM_IRQFD GSI 24", io(x->vm, KVM_IRQFD, (uintptr_t)&f), -EINVAL);
	f.gsi = 5;
	check("KVM_IRQFD GSI 5", io(x->vm, KVM_IRQFD, (uintptr_t)&f), 0);
	check("the same eventfd again", io(x->vm, KVM_IRQFD, (uintptr_t)&f), -EBUSY);
	pthread_create(&t, NULL, signal_eventfd, &efd);
	check("the irqfd wakes the halted vCPU into its handler", run_out(x), 0x55);
	pthread_join(t, NULL);
	check("and the guest goes on", run_out(x), 0x54);
	f.flags = KVM_IRQFD_FLAG_DEASSIGN;
	check("KVM_IRQFD deassign", io(x->vm, KVM_IRQFD, (uintptr_t)&f), 0);
	close(efd);
}

static void guest(struct vmx *x)
{
	struct kvm_lapic_state lapic;
	struct kvm_interrupt irq = {0x30};
	struct kvm_irqchip chip = {.chip_id = KVM_IRQCHIP_IOAPIC};
	pthread_t t;

	check("KVM_INTERRUPT with the irqchip", io(x->vcpu, KVM_INTERRUPT, (uintptr_t)&irq),
	      -ENXIO);
	check("protected mode", protected_mode(x), 0);
	check("the APIC timer's handler runs (the vCPU slept in dom0)", run_out(x), 0x50);
	check("back from the handler", run_out(x), 0x51);
	check("IOAPIC pin 5 routed", run_out(x), 0x52);
	check("KVM_GET_IRQCHIP", io(x->vm, KVM_GET_IRQCHIP, (uintptr_t)&chip), 0);
	check("pin 5: vector 0x45, unmasked", (long)(chip.chip.ioapic.redirtbl[5].bits & 0x1ffff),
	      0x45);
	check("KVM_GET_LAPIC", io(x->vcpu, KVM_GET_LAPIC, (uintptr_t)&lapic), 0);
	check("SVR as the guest set it", *(uint32_t *)(lapic.regs + 0xf0), 0x1ff);
	check("LVT timer", *(uint32_t *)(lapic.regs + 0x320), 0x40);
	pthread_create(&t, NULL, raise_line, x);
	check("KVM_IRQ_LINE wakes the halted vCPU into its handler", run_out(x), 0x55);
	pthread_join(t, NULL);
	check("and the guest goes on", run_out(x), 0x53);
	irqfd(x);
	check("KVM_SET_LAPIC", io(x->vcpu, KVM_SET_LAPIC, (uintptr_t)&lapic), 0);
}

int main(void)
{
	struct vmx x = {.kvm = open("/dev/kvm", O_RDWR)};
	struct kvm_userspace_memory_region r = {.memory_size = RAM_SIZE};
	long frames = hv_free_frames();

	test_name = "kvm_irqchip";
	check("open /dev/kvm", x.kvm >= 0, 1);
	if (x.kvm < 0)
		return summary();
	rules(x.kvm);
	x.vm = io(x.kvm, KVM_CREATE_VM, 0);
	check("KVM_CREATE_IRQCHIP", io(x.vm, KVM_CREATE_IRQCHIP, 0), 0);
	x.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r.userspace_addr = (uintptr_t)x.ram;
	check("RAM", io(x.vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r), 0);
	x.vcpu = io(x.vm, KVM_CREATE_VCPU, 0);
	x.run = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, x.vcpu, 0);
	if (x.vcpu >= 0 && x.run != MAP_FAILED)
		guest(&x);
	munmap(x.run, 2 * 4096);
	close(x.vcpu);
	close(x.vm);
	check("every hypervisor frame back after close", hv_free_frames(), frames);
	return summary();
}
