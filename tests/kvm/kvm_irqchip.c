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
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../../compat/kvmabi/hv_devices.h"
#include "kvm_util.h"

#define RAM_SIZE   0x10000
#define CODE	   0x1000
#define GDT	   0x3000
#define IDT	   0x5000
#define STACK	   0x8000
#define MSR_PV_EOI 0x4b564d04 /* MSR_KVM_PV_EOI_EN */

__asm__(".pushsection .rodata\n"
	".code32\n"
	"g_apic: movl $0x1ff, 0xfee000f0\n" /* SVR: APIC on, spurious vector 0xff */
	/* LINT0 masked: the BSP's is ExtINT after reset (KVM_X86_QUIRK_LINT0_REENABLED) and the
	 * PICs, never initialized, would pass KVM_IRQ_LINE's GSI 5 on as vector 5 */
	"  movl $0x10000, 0xfee00350\n"
	"  movl $0x0b, 0xfee003e0\n"   /* timer divide by 1 */
	"  movl $0x40, 0xfee00320\n"   /* LVT timer: vector 0x40, one-shot */
	"  movl $200000, 0xfee00380\n" /* initial count: 200 us of the 1 GHz bus */
	"  sti\n"
	/* each wait: the flag looked at with IF clear, then STI; HLT (the interrupt that comes
	 * in between wakes the HLT: STI's shadow), so no interrupt is missed however early */
	"1: cli; cmpb $0, 0x600; jne 6f; sti; hlt; jmp 1b\n"
	"6: sti; mov $0x51, %al; out %al, $0x51\n"
	/* pin 5 low: vector 0x45, edge, active low (KVM_IRQ_LINE's 1 asserts it all the same) */
	"  movl $0x1a, 0xfec00000; movl $0x2045, 0xfec00010\n"
	"  movl $0x1b, 0xfec00000; movl $0, 0xfec00010\n" /* pin 5 high: APIC id 0 */
	"  mov $0x52, %al; out %al, $0x52\n"
	"2: cli; cmpb $0, 0x601; jne 7f; sti; hlt; jmp 2b\n"
	"7: sti; movb $0, 0x601\n" /* cleared before user space starts the irqfd's thread */
	"  mov $0x53, %al; out %al, $0x53\n"
	"3: cli; cmpb $0, 0x601; jne 8f; sti; hlt; jmp 3b\n"
	"8: sti; mov $0x54, %al; out %al, $0x54\n"
	"  cli; hlt\n"
	"g_h40: movb $1, 0x600; mov $0x50, %al; out %al, $0x50; movl $0, 0xfee000b0; iret\n"
	"g_h45: movb $1, 0x601; mov $0x55, %al; out %al, $0x55; movl $0, 0xfee000b0; iret\n"
	/* periodic APIC timer and IOAPIC pin 6, programmed once; OUT the tick count after each */
	"g_tick: movl $0x1ff, 0xfee000f0\n"
	"  movl $0x10000, 0xfee00350\n" /* LINT0 masked, as above */
	"  movl $0x0b, 0xfee003e0\n"
	"  movl $0x20041, 0xfee00320\n"			     /* LVT timer: vector 0x41, periodic */
	"  movl $500000, 0xfee00380\n"			     /* every 500 us */
	"  movl $0x1c, 0xfec00000; movl $0x46, 0xfec00010\n" /* pin 6 low: vector 0x46, edge */
	"  movl $0x1d, 0xfec00000; movl $0, 0xfec00010\n"
	"  sti\n"
	"4: hlt; mov 0x610, %eax; out %eax, $0x56; jmp 4b\n"
	"g_h41: incl 0x610; movl $0, 0xfee000b0; iret\n"
	"g_h46: mov $0x57, %al; out %al, $0x57; movl $0, 0xfee000b0; iret\n"
	/* the tick's handler as Linux's with KVM's PV EOI: a set flag at 0x720 stands for the EOI
	 */
	"g_h41pv: incl 0x610; btrl $0, 0x720; jc 5f; movl $0, 0xfee000b0; iret\n"
	"5: incl 0x614; iret\n"
	/* split irqchip: a level MSI of user space's IOAPIC (0x47), then its PIC's ExtINT (0x48) */
	"g_split: movl $0x1ff, 0xfee000f0\n"
	"  movl $0x700, 0xfee00350\n" /* LVT LINT0: ExtINT, unmasked */
	"  sti\n"
	"1: cli; cmpb $0, 0x602; jne 6f; sti; hlt; jmp 1b\n"
	"6: sti; mov $0x58, %al; out %al, $0x58\n"
	"2: cli; cmpb $0, 0x603; jne 3f; sti; hlt; jmp 2b\n"
	"3: sti; mov $0x59, %al; out %al, $0x59\n"
	"  movl $1, 0xfec00000\n" /* the IOAPIC's page is user space's */
	"  cli; hlt\n"
	"g_h47: movb $1, 0x602; movl $0, 0xfee000b0; iret\n"
	"g_h48: movb $1, 0x603; iret\n"
	/* IOAPIC pin 7 to vector 0x46 (g_h46), then rounds of 10 CPUID exits and an OUT */
	"g_busy: movl $0x1ff, 0xfee000f0\n"
	"  movl $0x10000, 0xfee00350\n" /* LINT0 masked, as above */
	"  movl $0x1e, 0xfec00000; movl $0x46, 0xfec00010\n"
	"  movl $0x1f, 0xfec00000; movl $0, 0xfec00010\n"
	"  sti\n"
	"1: mov $10, %esi\n"
	"2: xor %eax, %eax; cpuid; dec %esi; jnz 2b\n"
	"  mov $0x5b, %al; out %al, $0x5b; jmp 1b\n"
	"g_apic_end:\n"
	".code64\n"
	".popsection\n");
extern const uint8_t g_apic[], g_apic_end[], g_h40[], g_h45[], g_tick[], g_h41[], g_h46[];
extern const uint8_t g_h41pv[], g_split[], g_h47[], g_h48[], g_busy[];

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

static uint32_t at(const uint8_t *label)
{
	return CODE + (uint32_t)(label - g_apic);
}

/* The guest in flat protected mode, starting at `start` (a label in g_apic). */
static int protected_mode(struct vmx *x, const uint8_t *start)
{
	static const struct {
		unsigned vec;
		const uint8_t *handler;
	} gates[] = {{0x40, g_h40}, {0x45, g_h45}, {0x41, g_h41}, {0x46, g_h46}};

	memcpy(x->ram + CODE, g_apic, g_apic_end - g_apic);
	for (unsigned i = 0; i < 4; i++)
		idt_gate32(x->ram, IDT, gates[i].vec, at(gates[i].handler));
	return flat32(x->vcpu, x->ram, GDT, IDT, at(start), STACK);
}

static void rules(int kvm)
{
	int vm = io(kvm, KVM_CREATE_VM, 0), vcpu;
	struct kvm_irq_level line = {.irq = 5, .level = 1};
	struct kvm_irqchip chip = {.chip_id = KVM_IRQCHIP_IOAPIC};

	check("KVM_CAP_IRQCHIP", io(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP), 1);
	check("KVM_CAP_IOAPIC_POLARITY_IGNORED",
	      io(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IOAPIC_POLARITY_IGNORED), 1);
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
	check("KVM_IRQ_LINE GSI 24 (no route: nothing)", io(vm, KVM_IRQ_LINE, (uintptr_t)&line), 0);
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
	/* KVM_CAP_IOAPIC_POLARITY_IGNORED: 1 is asserted, though the pin is active low */
	check("... delivered", l.status, 1);
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
	f.resamplefd = 12345;
	check("KVM_IRQFD resampling with a bad resamplefd", io(x->vm, KVM_IRQFD, (uintptr_t)&f),
	      -EBADF);
	f.flags = 0;
	f.gsi = 256; /* as KVM: taken, though no route reaches it (its signals do nothing) */
	check("KVM_IRQFD GSI 256, no route", io(x->vm, KVM_IRQFD, (uintptr_t)&f), 0);
	f.flags = KVM_IRQFD_FLAG_DEASSIGN;
	check("KVM_IRQFD deassign of GSI 256", io(x->vm, KVM_IRQFD, (uintptr_t)&f), 0);
	f.flags = 0;
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
	check("protected mode", protected_mode(x, g_apic), 0);
	check("the APIC timer's handler runs (the vCPU slept in dom0)", run_out(x), 0x50);
	check("back from the handler", run_out(x), 0x51);
	check("IOAPIC pin 5 routed", run_out(x), 0x52);
	check("KVM_GET_IRQCHIP", io(x->vm, KVM_GET_IRQCHIP, (uintptr_t)&chip), 0);
	check("pin 5: vector 0x45, active low, unmasked",
	      (long)(chip.chip.ioapic.redirtbl[5].bits & 0x1ffff), 0x2045);
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

/* ---- the same controllers as device types (hv_devices.h) ---- */

static int chip_dev(int vm, uint32_t type, uint32_t flags, long *rc)
{
	struct kvm_create_device cd = {.type = type, .fd = 12345, .flags = flags};

	*rc = io(vm, KVM_CREATE_DEVICE, (uintptr_t)&cd);
	return (int)cd.fd;
}

static long dev_attr(int dev, unsigned long req, uint32_t group, uint64_t attr, void *val)
{
	struct kvm_device_attr a = {.group = group, .attr = attr, .addr = (uintptr_t)val};

	return io(dev, req, (uintptr_t)&a);
}

static long config(int dev, uint64_t attr)
{
	uint64_t v = 0;
	long rc = dev_attr(dev, KVM_GET_DEVICE_ATTR, HV_IRQ_GRP_CONFIG, attr, &v);

	return rc ? rc : (long)v;
}

/* RAM (a copy of `from`, if given) and vCPU 0 in x->vm. */
static int add_ram_vcpu(struct vmx *x, const uint8_t *from)
{
	struct kvm_userspace_memory_region r = {.memory_size = RAM_SIZE};

	x->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (from)
		memcpy(x->ram, from, RAM_SIZE);
	r.userspace_addr = (uintptr_t)x->ram;
	if (io(x->vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r))
		return -1;
	x->vcpu = io(x->vm, KVM_CREATE_VCPU, 0);
	x->run = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, x->vcpu, 0);
	return x->vcpu < 0 || x->run == MAP_FAILED ? -1 : 0;
}

static void drop_vm(struct vmx *x)
{
	munmap(x->run, 2 * 4096);
	munmap(x->ram, RAM_SIZE);
	close(x->vcpu);
	close(x->vm);
}

/*
 * A line raised while the vCPU is out of guest mode reaches it at its very next entry, though its
 * entries before found nothing to take (the hypervisor skips its irqchip work for such a quiet
 * vCPU): the handler's OUT comes before the next round of 10 CPUID exits ends. (Short rounds:
 * the vCPU stays quiet from one KVM_RUN to the next, within the 1 ms it looks at the latest.)
 */
static void busy(int kvm)
{
	struct vmx x = {.kvm = kvm, .vm = io(kvm, KVM_CREATE_VM, 0)};
	struct kvm_irq_level l = {.irq = 7, .level = 1};

	check("busy: KVM_CREATE_IRQCHIP", io(x.vm, KVM_CREATE_IRQCHIP, 0), 0);
	check("busy: RAM, vCPU, protected mode",
	      !add_ram_vcpu(&x, NULL) && !protected_mode(&x, g_busy), 1);
	check("busy: 10 CPUID exits, no interrupt", run_out(&x), 0x5b);
	check("busy: 10 more", run_out(&x), 0x5b);
	for (int i = 0; i < 2; i++) {
		l.level = 1;
		check("busy: KVM_IRQ_LINE 7 high", io(x.vm, KVM_IRQ_LINE, (uintptr_t)&l), 0);
		check("busy: the handler runs first", run_out(&x), 0x57);
		check("busy: then the round goes on", run_out(&x), 0x5b);
		l.level = 0;
		check("busy: KVM_IRQ_LINE 7 low", io(x.vm, KVM_IRQ_LINE, (uintptr_t)&l), 0);
		check("busy: a round without", run_out(&x), 0x5b);
	}
	drop_vm(&x);
}

static void device_rules(int kvm)
{
	int vm = io(kvm, KVM_CREATE_VM, 0), ioapic, pit, lapic, vcpu;
	uint8_t state[1024];
	long rc;

	chip_dev(vm, KVM_DEV_TYPE_HV_PIT, 0, &rc);
	check("PIT device without the irqchip", rc, -ENXIO);
	chip_dev(vm, KVM_DEV_TYPE_HV_LAPIC, KVM_CREATE_DEVICE_TEST, &rc);
	check("KVM_CREATE_DEVICE_TEST LAPIC", rc, 0);
	check("... made no irqchip", io(vm, KVM_CREATE_IRQCHIP, 0), 0);
	close(vm);
	vm = io(kvm, KVM_CREATE_VM, 0);
	ioapic = chip_dev(vm, KVM_DEV_TYPE_HV_IOAPIC, 0, &rc);
	check("IOAPIC device", rc, 0);
	chip_dev(vm, KVM_DEV_TYPE_HV_IOAPIC, 0, &rc);
	check("a second IOAPIC device", rc, -EEXIST);
	check("KVM_CREATE_IRQCHIP after it", io(vm, KVM_CREATE_IRQCHIP, 0), -EEXIST);
	check("IOAPIC base", config(ioapic, HV_IRQ_CFG_BASE), 0xfec00000L);
	check("IOAPIC pins", config(ioapic, HV_IRQ_CFG_PINS), 24);
	check("IOAPIC has no GSI attribute", config(ioapic, HV_IRQ_CFG_GSI), -ENXIO);
	check("setting the base", dev_attr(ioapic, KVM_SET_DEVICE_ATTR, 1, 0, state), -EPERM);
	check("HAS group 9", dev_attr(ioapic, KVM_HAS_DEVICE_ATTR, 9, 0, NULL), -ENXIO);
	check("HAS state 0", dev_attr(ioapic, KVM_HAS_DEVICE_ATTR, 2, 0, NULL), 0);
	check("HAS state 1", dev_attr(ioapic, KVM_HAS_DEVICE_ATTR, 2, 1, NULL), -ENXIO);
	check("state to a bad address", dev_attr(ioapic, KVM_GET_DEVICE_ATTR, 2, 0, (void *)8),
	      -EFAULT);
	pit = chip_dev(vm, KVM_DEV_TYPE_HV_PIT, 0, &rc);
	check("PIT device", rc, 0);
	check("KVM_CREATE_PIT2 after it", io(vm, KVM_CREATE_PIT2, (uintptr_t)state), -EEXIST);
	check("PIT GSI", config(pit, HV_IRQ_CFG_GSI), 0);
	check("PIT state", dev_attr(pit, KVM_GET_DEVICE_ATTR, 2, 0, state), 0);
	check("PIT state back", dev_attr(pit, KVM_SET_DEVICE_ATTR, 2, 0, state), 0);
	lapic = chip_dev(vm, KVM_DEV_TYPE_HV_LAPIC, 0, &rc);
	check("LAPIC device", rc, 0);
	check("LAPIC state of a vCPU not there", dev_attr(lapic, KVM_HAS_DEVICE_ATTR, 2, 0, NULL),
	      -ENXIO);
	vcpu = io(vm, KVM_CREATE_VCPU, 0);
	check("LAPIC state of vCPU 0", dev_attr(lapic, KVM_GET_DEVICE_ATTR, 2, 0, state), 0);
	check("... its id", state[0x23], 0);
	close(vcpu);
	close(vm);
	vm = io(kvm, KVM_CREATE_VM, 0);
	vcpu = io(vm, KVM_CREATE_VCPU, 0);
	chip_dev(vm, KVM_DEV_TYPE_HV_PIC, 0, &rc);
	check("PIC device after a vCPU", rc, -EBUSY);
	close(vcpu);
	close(vm);
	close(lapic);
	close(pit);
	close(ioapic);
}

static struct {
	struct kvm_irq_routing head;
	struct kvm_irq_routing_entry e[4];
} rt;

static long set_routes(int vm, unsigned n)
{
	rt.head.nr = n;
	return io(vm, KVM_SET_GSI_ROUTING, (uintptr_t)&rt);
}

static struct kvm_irq_routing_entry pin_route(uint32_t gsi, uint32_t chip, uint32_t pin)
{
	return (struct kvm_irq_routing_entry){
		.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = {chip, pin}};
}

static void vapic(struct vmx *x);
static void cr8_tpr(struct vmx *x);
static void pv_eoi(struct vmx *x);
static long next_tick(struct vmx *x);

/*
 * A resampling irqfd on a level-triggered pin: its signal holds GSI 7 high until the guest's
 * EOI, which lowers it (no second interrupt) and signals the resamplefd.
 */
static void resample(struct vmx *x)
{
	int efd = eventfd(0, 0), rfd = eventfd(0, EFD_NONBLOCK);
	struct kvm_irqfd f = {
		.fd = efd, .gsi = 7, .flags = KVM_IRQFD_FLAG_RESAMPLE, .resamplefd = rfd};
	struct kvm_irqchip chip = {.chip_id = KVM_IRQCHIP_IOAPIC};
	uint64_t one = 1, got = 0;
	long rc;

	check("KVM_CAP_IRQFD_RESAMPLE", io(x->vm, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD_RESAMPLE), 1);
	rt.e[0] = pin_route(7, 2, 7);
	check("GSI 7 to IOAPIC pin 7", set_routes(x->vm, 1), 0);
	io(x->vm, KVM_GET_IRQCHIP, (uintptr_t)&chip);
	chip.chip.ioapic.redirtbl[7].bits = 0x8046; /* level, vector 0x46, APIC 0 */
	check("pin 7 level-triggered (KVM_SET_IRQCHIP)",
	      io(x->vm, KVM_SET_IRQCHIP, (uintptr_t)&chip), 0);
	check("KVM_IRQFD with resampling", io(x->vm, KVM_IRQFD, (uintptr_t)&f), 0);
	check("eventfd signalled", write(efd, &one, 8), 8);
	for (int i = 0; i < 10 && (rc = run_out(x)) == 0x56; i++)
		;
	check("the level interrupt reaches the guest's handler", rc, 0x57);
	check("after its EOI no second one: the next exit is a tick", run_out(x), 0x56);
	check("the resamplefd was signalled", read(rfd, &got, 8), 8);
	check("... once", (long)got, 1);
	io(x->vm, KVM_GET_IRQCHIP, (uintptr_t)&chip);
	check("pin 7: remote IRR clear", chip.chip.ioapic.redirtbl[7].fields.remote_irr, 0);
	f.flags = KVM_IRQFD_FLAG_DEASSIGN;
	check("KVM_IRQFD deassign", io(x->vm, KVM_IRQFD, (uintptr_t)&f), 0);
	close(efd);
	close(rfd);
	vapic(x);
}

/* KVM_SET_VAPIC_ADDR: the guest's TPR is taken from there around runs, and mirrored back. */
static void vapic(struct vmx *x)
{
	struct kvm_vapic_addr va = {.vapic_addr = 0x100000};
	struct kvm_lapic_state lapic;

	check("KVM_SET_VAPIC_ADDR outside RAM", io(x->vcpu, KVM_SET_VAPIC_ADDR, (uintptr_t)&va),
	      -EINVAL);
	va.vapic_addr = 0x700;
	check("KVM_SET_VAPIC_ADDR", io(x->vcpu, KVM_SET_VAPIC_ADDR, (uintptr_t)&va), 0);
	x->ram[0x700] = 0x20;
	check("a run", run_out(x), 0x56);
	check("KVM_GET_LAPIC", io(x->vcpu, KVM_GET_LAPIC, (uintptr_t)&lapic), 0);
	check("TPR from the VAPIC page", lapic.regs[0x80], 0x20);
	check("... and back there", x->ram[0x700], 0x20);
	x->ram[0x700] = 0;
	check("a run", run_out(x), 0x56);
	va.vapic_addr = 0;
	check("KVM_SET_VAPIC_ADDR 0: off", io(x->vcpu, KVM_SET_VAPIC_ADDR, (uintptr_t)&va), 0);
	cr8_tpr(x);
	pv_eoi(x);
}

/* CR8 is TPR bits 7:4 (KVM_GET/SET_SREGS), and kvm_run reports it and the APIC base. */
static void cr8_tpr(struct vmx *x)
{
	struct kvm_lapic_state lapic;
	struct kvm_sregs s;

	check("kvm_run's apic_base after an exit", (long)x->run->apic_base, 0xfee00900L);
	check("kvm_run's cr8: TPR 0", (long)x->run->cr8, 0);
	check("KVM_GET_LAPIC", io(x->vcpu, KVM_GET_LAPIC, (uintptr_t)&lapic), 0);
	lapic.regs[0x80] = 0x30;
	check("KVM_SET_LAPIC with TPR 0x30", io(x->vcpu, KVM_SET_LAPIC, (uintptr_t)&lapic), 0);
	check("KVM_GET_SREGS", io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s), 0);
	check("its cr8", (long)s.cr8, 3);
	s.cr8 = 0x15; /* as KVM: bits 3:0 taken */
	check("KVM_SET_SREGS with cr8 0x15", io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s), 0);
	check("KVM_GET_LAPIC", io(x->vcpu, KVM_GET_LAPIC, (uintptr_t)&lapic), 0);
	check("TPR from cr8", lapic.regs[0x80], 0x50);
	/* as KVM: registers refused change nothing, the APIC base included (it was disabled,
	 * its registers reset, then enabled again) */
	s.apic_base = 0, s.cr0 = (s.cr0 | 0x80000000) & ~1ULL; /* PG without PE */
	check("KVM_SET_SREGS: APIC off, PG without PE", io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s),
	      -EINVAL);
	check("KVM_GET_SREGS", io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s), 0);
	check("... the APIC base stays", (long)s.apic_base, 0xfee00900L);
	check("... and its TPR", (long)s.cr8, 5);
	s.cr8 = 0;
	check("KVM_SET_SREGS with cr8 0", io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s), 0);
}

/*
 * KVM's PV EOI (MSR_KVM_PV_EOI_EN): the ticking guest's handler skips the EOI where the flag
 * is set; the hypervisor ends the vector at the next exit, and ticks go on.
 */
static void pv_eoi(struct vmx *x)
{
	uint32_t *ticks = (uint32_t *)(x->ram + 0x610), *skipped = ticks + 1, before;
	struct kvm_lapic_state lapic;
	uint64_t v = 0x722 | 1;
	int flag_clear = 1;

	check("MSR_KVM_PV_EOI_EN at an address not 4-byte aligned",
	      msr_io(x->vcpu, KVM_SET_MSRS, MSR_PV_EOI, &v), 0);
	v = 0x100000 | 1;
	check("... outside RAM", msr_io(x->vcpu, KVM_SET_MSRS, MSR_PV_EOI, &v), 0);
	v = 0x720 | 1;
	check("MSR_KVM_PV_EOI_EN at 0x720", msr_io(x->vcpu, KVM_SET_MSRS, MSR_PV_EOI, &v), 1);
	v = 0;
	check("... reads back", msr_io(x->vcpu, KVM_GET_MSRS, MSR_PV_EOI, &v) == 1 ? (long)v : -1,
	      0x721);
	idt_gate32(x->ram, IDT, 0x41, at(g_h41pv));
	before = *ticks, *skipped = 0;
	for (int i = 0; i < 5; i++) {
		check("a tick", next_tick(x) > 0, 1);
		flag_clear &= x->ram[0x720] == 0;
	}
	check("five wake-ups, at least five ticks on", *ticks - before >= 5, 1);
	check("... EOIs through the flag (not offered where the next tick was already waiting)",
	      *skipped >= 1 && *skipped <= *ticks - before, 1);
	before = *skipped;
	check("... which is clear whenever the vCPU is out", flag_clear, 1);
	check("KVM_GET_LAPIC", io(x->vcpu, KVM_GET_LAPIC, (uintptr_t)&lapic), 0);
	check("... ISR empty: the hypervisor ended each", lapic.regs[0x120] & 2, 0);
	v = 0;
	check("MSR_KVM_PV_EOI_EN off", msr_io(x->vcpu, KVM_SET_MSRS, MSR_PV_EOI, &v), 1);
	idt_gate32(x->ram, IDT, 0x41, at(g_h41));
	check("a tick after", next_tick(x) > 0, 1);
	check("... no flag offered", (long)(*skipped - before), 0);
}

/* Lines of the running guest through KVM_SET_GSI_ROUTING: an irqchip pin and an MSI. */
static void routing(struct vmx *x)
{
	struct kvm_irq_level l = {.irq = 30, .level = 1};
	long rc;

	check("KVM_CAP_IRQ_ROUTING", io(x->vm, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING), 256);
	rt.e[0] = pin_route(30, 3, 0);
	check("routing to chip 3", set_routes(x->vm, 1), -EINVAL);
	rt.e[0] = pin_route(30, 0, 8);
	check("routing to PIC pin 8", set_routes(x->vm, 1), -EINVAL);
	rt.e[0] = pin_route(30, 2, 6);
	rt.e[1] = pin_route(30, 2, 7);
	check("GSI 30 to two IOAPIC pins", set_routes(x->vm, 2), -EINVAL);
	rt.e[1] = (struct kvm_irq_routing_entry){.gsi = 31,
						 .type = KVM_IRQ_ROUTING_MSI,
						 .u.msi = {.address_lo = 0xfee00000, .data = 0x46}};
	rt.e[1].flags = KVM_MSI_VALID_DEVID;
	check("an MSI route with a device id", set_routes(x->vm, 2), -EINVAL);
	rt.e[1].flags = 0;
	rt.e[2] = rt.e[1];
	check("GSI 31 to two MSIs", set_routes(x->vm, 3), -EINVAL);
	rt.e[2] = pin_route(256, 2, 6);
	check("GSI 256", set_routes(x->vm, 3), -EINVAL);
	check("GSI 30 to IOAPIC pin 6, GSI 31 to an MSI", set_routes(x->vm, 2), 0);
	check("KVM_IRQ_LINE 30 high", io(x->vm, KVM_IRQ_LINE, (uintptr_t)&l), 0);
	l.level = 0;
	io(x->vm, KVM_IRQ_LINE, (uintptr_t)&l);
	for (int i = 0; i < 10 && (rc = run_out(x)) == 0x56; i++)
		;
	check("GSI 30 reaches the guest's handler through pin 6", rc, 0x57);
	l = (struct kvm_irq_level){.irq = 31, .level = 1};
	check("KVM_IRQ_LINE 31 high", io(x->vm, KVM_IRQ_LINE, (uintptr_t)&l), 0);
	for (int i = 0; i < 10 && (rc = run_out(x)) == 0x56; i++)
		;
	check("GSI 31's MSI reaches it", rc, 0x57);
	l = (struct kvm_irq_level){.irq = 6, .level = 1};
	io(x->vm, KVM_IRQ_LINE, (uintptr_t)&l); /* GSI 6 has no route now */
	l.level = 0;
	io(x->vm, KVM_IRQ_LINE, (uintptr_t)&l);
	check("GSI 6 without a route raises nothing: the next exit is a tick", run_out(x), 0x56);
	check("no routes at all", set_routes(x->vm, 0), 0);
	resample(x);
}

static long next_tick(struct vmx *x)
{
	long port = run_out(x);

	return port == 0x56 ? *(uint32_t *)((uint8_t *)x->run + x->run->io.data_offset) : -port;
}

/* KVM_CAP_SPLIT_IRQCHIP's rules: (pins), before vCPUs, once; then no PIC or IOAPIC here. */
static void split_rules(int kvm)
{
	struct kvm_enable_cap cap = {.cap = KVM_CAP_SPLIT_IRQCHIP, .args = {4097}};
	struct kvm_create_device cd = {.type = KVM_DEV_TYPE_HV_IOAPIC};
	struct kvm_irqchip chip = {.chip_id = KVM_IRQCHIP_IOAPIC};
	struct kvm_irqfd f = {.gsi = 5, .flags = KVM_IRQFD_FLAG_RESAMPLE};
	int vm = io(kvm, KVM_CREATE_VM, 0), vcpu;

	check("KVM_CAP_SPLIT_IRQCHIP", io(kvm, KVM_CHECK_EXTENSION, KVM_CAP_SPLIT_IRQCHIP), 1);
	check("split with 4097 pins", io(vm, KVM_ENABLE_CAP, (uintptr_t)&cap), -EINVAL);
	cap.args[0] = 24;
	vcpu = io(vm, KVM_CREATE_VCPU, 0);
	check("split after a vCPU", io(vm, KVM_ENABLE_CAP, (uintptr_t)&cap), -EEXIST);
	close(vcpu);
	close(vm);
	vm = io(kvm, KVM_CREATE_VM, 0);
	check("split with 24 pins", io(vm, KVM_ENABLE_CAP, (uintptr_t)&cap), 0);
	check("... again", io(vm, KVM_ENABLE_CAP, (uintptr_t)&cap), -EEXIST);
	check("KVM_CREATE_IRQCHIP then", io(vm, KVM_CREATE_IRQCHIP, 0), -EEXIST);
	check("KVM_GET_IRQCHIP", io(vm, KVM_GET_IRQCHIP, (uintptr_t)&chip), -ENXIO);
	rt.e[0] = pin_route(5, KVM_IRQCHIP_IOAPIC, 5);
	check("a route to an IOAPIC pin", set_routes(vm, 1), -EINVAL);
	f.fd = eventfd(0, 0), f.resamplefd = eventfd(0, 0);
	check("a resampling irqfd", io(vm, KVM_IRQFD, (uintptr_t)&f), -EINVAL);
	close(f.fd), close(f.resamplefd);
	check("KVM_CREATE_DEVICE IOAPIC", io(vm, KVM_CREATE_DEVICE, (uintptr_t)&cd), -EBUSY);
	close(vm);
}

static void *signal_later(void *arg)
{
	struct timespec ts = {0, 50 * 1000 * 1000};

	nanosleep(&ts, NULL); /* the vCPU is halted in KVM_RUN by now */
	pthread_kill(*(pthread_t *)arg, SIGUSR1);
	return NULL;
}

/*
 * A split irqchip at work: the local APIC here, PIC and IOAPIC as user space's. A level MSI
 * from "its IOAPIC" (GSI 5) wakes the halted vCPU and its EOI comes out as KVM_EXIT_IOAPIC_EOI;
 * "its PIC" waits for the interrupt window, and (as QEMU does) injects with KVM_INTERRUPT into
 * the halted vCPU after a signal ended its KVM_RUN.
 */
static void split_irqchip(int kvm)
{
	struct kvm_enable_cap cap = {.cap = KVM_CAP_SPLIT_IRQCHIP, .args = {24}};
	struct kvm_interrupt irq = {0x48};
	struct vmx x = {.kvm = kvm, .vm = io(kvm, KVM_CREATE_VM, 0)};
	struct sigaction sa = {.sa_handler = interrupt_only};
	pthread_t t, self = pthread_self();

	check("a split irqchip", io(x.vm, KVM_ENABLE_CAP, (uintptr_t)&cap), 0);
	check("RAM and vCPU", add_ram_vcpu(&x, NULL), 0);
	rt.e[0] = (struct kvm_irq_routing_entry){
		.gsi = 5,
		.type = KVM_IRQ_ROUTING_MSI,
		.u.msi = {.address_lo = 0xfee00000, .data = 0x8047}}; /* level, vector 0x47 */
	check("GSI 5 as the level MSI of IOAPIC pin 5", set_routes(x.vm, 1), 0);
	idt_gate32(x.ram, IDT, 0x47, CODE + (uint32_t)(g_h47 - g_apic));
	idt_gate32(x.ram, IDT, 0x48, CODE + (uint32_t)(g_h48 - g_apic));
	check("protected mode", protected_mode(&x, g_split), 0);
	pthread_create(&t, NULL, raise_line, &x);
	check("KVM_RUN: the MSI wakes the halted vCPU, whose EOI exits",
	      io(x.vcpu, KVM_RUN, 0) ?: (long)x.run->exit_reason, KVM_EXIT_IOAPIC_EOI);
	pthread_join(t, NULL);
	check("... for vector 0x47", x.run->eoi.vector, 0x47);
	check("the guest goes on", run_out(&x), 0x58);
	check("ready for KVM_INTERRUPT (IF, LINT0 ExtINT)", x.run->ready_for_interrupt_injection,
	      1);
	x.run->request_interrupt_window = 1;
	check("with the window requested", io(x.vcpu, KVM_RUN, 0) ?: (long)x.run->exit_reason,
	      KVM_EXIT_IRQ_WINDOW_OPEN);
	x.run->request_interrupt_window = 0;
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < 2; i++) { /* the second time the vCPU is halted from the start */
		pthread_create(&t, NULL, signal_later, &self);
		check("KVM_RUN: the vCPU halts; a signal ends it", io(x.vcpu, KVM_RUN, 0), -EINTR);
		pthread_join(t, NULL);
		check("... if_flag and ready_for_interrupt_injection",
		      x.run->if_flag * 10 + x.run->ready_for_interrupt_injection, 11);
	}
	check("KVM_INTERRUPT 0x48 (the PIC's ExtINT)", io(x.vcpu, KVM_INTERRUPT, (uintptr_t)&irq),
	      0);
	check("... another before it is taken", io(x.vcpu, KVM_INTERRUPT, (uintptr_t)&irq),
	      -EEXIST);
	check("the guest's handler took it", run_out(&x), 0x59);
	check("the IOAPIC's page: an MMIO exit",
	      io(x.vcpu, KVM_RUN, 0) ?: (long)x.run->mmio.phys_addr, 0xfec00000L);
	drop_vm(&x);
}

/*
 * A guest whose APIC timer ticks and whose IOAPIC routes pin 6 is saved through the device
 * attributes, restored into a fresh VM whose controllers are devices, and carries on there.
 */
static void save_restore(int kvm)
{
	struct vmx a = {.vm = io(kvm, KVM_CREATE_VM, 0)}, b = {0};
	uint8_t lapic[1024], ioapic[216], pic[2][16];
	struct kvm_irq_level line = {.irq = 6, .level = 1};
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	int dev[3], devb[3];
	long rc, n = 0, saved;

	check("KVM_CREATE_IRQCHIP", io(a.vm, KVM_CREATE_IRQCHIP, 0), 0);
	if (add_ram_vcpu(&a, NULL) || protected_mode(&a, g_tick)) {
		check("VM A", -1, 0);
		return;
	}
	for (int i = 0; i < 100 && n < 3; i++)
		n = next_tick(&a);
	check("the guest counts its APIC timer ticks", n >= 3, 1);
	a.run->immediate_exit = 1; /* as a VMM before saving: the OUT completes */
	check("KVM_RUN with immediate_exit", io(a.vcpu, KVM_RUN, 0), -EINTR);
	dev[0] = chip_dev(a.vm, KVM_DEV_TYPE_HV_LAPIC, 0, &rc);
	check("LAPIC device on KVM_CREATE_IRQCHIP's", rc, 0);
	dev[1] = chip_dev(a.vm, KVM_DEV_TYPE_HV_IOAPIC, 0, &rc);
	dev[2] = chip_dev(a.vm, KVM_DEV_TYPE_HV_PIC, 0, &rc);
	check("LAPIC saved", dev_attr(dev[0], KVM_GET_DEVICE_ATTR, 2, 0, lapic), 0);
	check("... its LVT timer as the guest set it", *(uint32_t *)(lapic + 0x320), 0x20041);
	check("IOAPIC saved", dev_attr(dev[1], KVM_GET_DEVICE_ATTR, 2, 0, ioapic), 0);
	check("... pin 6", ((struct kvm_ioapic_state *)ioapic)->redirtbl[6].bits & 0x1ffff, 0x46);
	check("PICs saved",
	      dev_attr(dev[2], KVM_GET_DEVICE_ATTR, 2, 0, pic[0]) +
		      dev_attr(dev[2], KVM_GET_DEVICE_ATTR, 2, 1, pic[1]),
	      0);
	check("registers saved",
	      io(a.vcpu, KVM_GET_REGS, (uintptr_t)&regs) +
		      io(a.vcpu, KVM_GET_SREGS, (uintptr_t)&sregs),
	      0);
	saved = *(uint32_t *)(a.ram + 0x610);
	b.vm = io(kvm, KVM_CREATE_VM, 0);
	devb[0] = chip_dev(b.vm, KVM_DEV_TYPE_HV_LAPIC, 0, &rc);
	check("a fresh VM: LAPIC device", rc, 0);
	devb[1] = chip_dev(b.vm, KVM_DEV_TYPE_HV_IOAPIC, 0, &rc);
	check("IOAPIC device", rc, 0);
	devb[2] = chip_dev(b.vm, KVM_DEV_TYPE_HV_PIC, 0, &rc);
	check("PIC device", rc, 0);
	rc = add_ram_vcpu(&b, a.ram);
	for (int i = 0; i < 3; i++)
		close(dev[i]);
	drop_vm(&a); /* the restored guest runs alone */
	if (rc) {
		check("VM B", -1, 0);
		return;
	}
	check("LAPIC restored", dev_attr(devb[0], KVM_SET_DEVICE_ATTR, 2, 0, lapic), 0);
	check("IOAPIC restored", dev_attr(devb[1], KVM_SET_DEVICE_ATTR, 2, 0, ioapic), 0);
	check("PICs restored",
	      dev_attr(devb[2], KVM_SET_DEVICE_ATTR, 2, 0, pic[0]) +
		      dev_attr(devb[2], KVM_SET_DEVICE_ATTR, 2, 1, pic[1]),
	      0);
	check("registers restored",
	      io(b.vcpu, KVM_SET_SREGS, (uintptr_t)&sregs) +
		      io(b.vcpu, KVM_SET_REGS, (uintptr_t)&regs),
	      0);
	n = next_tick(&b);
	printf("kvm_irqchip: ticks %ld when saved, %ld at the first exit after restore\n", saved,
	       n);
	check("the restored guest carries on: its timer ticks on", n > saved, 1);
	check("KVM_IRQ_LINE 6 high", io(b.vm, KVM_IRQ_LINE, (uintptr_t)&line), 0);
	line.level = 0;
	check("KVM_IRQ_LINE 6 low", io(b.vm, KVM_IRQ_LINE, (uintptr_t)&line), 0);
	for (int i = 0; i < 10 && (rc = run_out(&b)) == 0x56; i++)
		;
	check("pin 6 reaches the handler the guest routed it to", rc, 0x57);
	routing(&b);
	for (int i = 0; i < 3; i++)
		close(devb[i]);
	drop_vm(&b);
}

int main(void)
{
	struct vmx x = {.kvm = open("/dev/kvm", O_RDWR)};
	long frames = hv_free_frames();

	test_name = "kvm_irqchip";
	check("open /dev/kvm", x.kvm >= 0, 1);
	if (x.kvm < 0)
		return summary();
	rules(x.kvm);
	device_rules(x.kvm);
	x.vm = io(x.kvm, KVM_CREATE_VM, 0);
	check("KVM_CREATE_IRQCHIP", io(x.vm, KVM_CREATE_IRQCHIP, 0), 0);
	check("RAM and vCPU", add_ram_vcpu(&x, NULL), 0);
	if (x.vcpu >= 0 && x.run != MAP_FAILED)
		guest(&x);
	drop_vm(&x);
	busy(x.kvm);
	save_restore(x.kvm);
	split_rules(x.kvm);
	split_irqchip(x.kvm);
	check("every hypervisor frame back after close", hv_free_frames(), frames);
	return summary();
}
