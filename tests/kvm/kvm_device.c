/*
 * kvm_device: KVM_CREATE_DEVICE and the device attribute ioctls (api.txt 4.79-4.81) with the
 * hypervisor's 16550 UART (hv_devices.h), end to end: a real-mode guest talks to the UART inside
 * the hypervisor (no exit reaches user space for its ports) while user space feeds and drains the
 * line through attributes; then its registers are saved and restored into another VM, whose
 * guest reads them. Ends with "N passed, N failed".
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../compat/kvmabi/hv_devices.h"
#include "kvm_util.h"

#define RAM_SIZE 0x10000

__asm__(".pushsection .rodata\n"
	".code16\n"
	/* LCR 8N1; wait for THRE; send "hi"; wait for a byte; OUT it to port 0x10; halt */
	"g_uart: mov $0x3fb, %dx; mov $0x03, %al; out %al, %dx\n"
	"  mov $0x3fd, %dx\n"
	"1: in %dx, %al; test $0x20, %al; jz 1b\n"
	"  mov $0x3f8, %dx; mov $0x68, %al; out %al, %dx; mov $0x69, %al; out %al, %dx\n"
	"  mov $0x3fd, %dx\n"
	"2: in %dx, %al; test $1, %al; jz 2b\n"
	"  mov $0x3f8, %dx; in %dx, %al; out %al, $0x10; hlt\n"
	"g_uart_end:\n"
	/* the restored UART at 0x2f8: OUT its LCR to port 0x10; halt */
	"g_lcr: mov $0x2fb, %dx; in %dx, %al; out %al, $0x10; hlt\n"
	"g_lcr_end:\n"
	".code64\n"
	".popsection\n");
extern const uint8_t g_uart[], g_uart_end[], g_lcr[], g_lcr_end[];

struct vmx {
	int vm, vcpu;
	uint8_t *ram;
	struct kvm_run *run;
};

static long attr(int dev, unsigned long req, uint32_t group, uint64_t a, uint64_t *val)
{
	struct kvm_device_attr da = {.group = group, .attr = a, .addr = (uintptr_t)val};

	return io(dev, req, (uintptr_t)&da);
}

static long get(int dev, uint32_t group, uint64_t a)
{
	uint64_t v = ~0ULL;
	long rc = attr(dev, KVM_GET_DEVICE_ATTR, group, a, &v);

	return rc ? rc : (long)v;
}

static long set(int dev, uint32_t group, uint64_t a, uint64_t v)
{
	return attr(dev, KVM_SET_DEVICE_ATTR, group, a, &v);
}

/* A VM with 64 KiB of RAM and a real-mode vCPU about to run `code` at 0x1000. */
static int vm_with_guest(int kvm, struct vmx *x, const uint8_t *code, const uint8_t *end)
{
	struct kvm_userspace_memory_region r = {.memory_size = RAM_SIZE};
	struct kvm_regs regs = {.rip = 0x1000, .rflags = 2};
	struct kvm_sregs s;

	x->vm = io(kvm, KVM_CREATE_VM, 0);
	x->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(x->ram + 0x1000, code, end - code);
	r.userspace_addr = (uintptr_t)x->ram;
	x->vcpu = -1;
	if (x->vm < 0 || io(x->vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r))
		return -1;
	x->vcpu = io(x->vm, KVM_CREATE_VCPU, 0);
	x->run = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, x->vcpu, 0);
	if (x->vcpu < 0 || x->run == MAP_FAILED || io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s))
		return -1;
	s.cs.base = 0, s.cs.selector = 0;
	return io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s) ||
	       io(x->vcpu, KVM_SET_REGS, (uintptr_t)&regs);
}

static void vm_close(struct vmx *x)
{
	munmap(x->run, 2 * 4096);
	munmap(x->ram, RAM_SIZE);
	close(x->vcpu);
	close(x->vm);
}

static int create(int vm, uint32_t type, uint32_t flags, long *rc)
{
	struct kvm_create_device cd = {.type = type, .fd = 12345, .flags = flags};

	*rc = io(vm, KVM_CREATE_DEVICE, (uintptr_t)&cd);
	return cd.fd;
}

static void create_rules(int kvm, int vm)
{
	long frames = hv_free_frames(), rc;
	int fd;

	check("KVM_CAP_DEVICE_CTRL", io(kvm, KVM_CHECK_EXTENSION, KVM_CAP_DEVICE_CTRL), 1);
	check("KVM_CAP_HV_DEVICES on the VM", io(vm, KVM_CHECK_EXTENSION, KVM_CAP_HV_DEVICES), 1);
	create(vm, 0x1234, 0, &rc);
	check("KVM_CREATE_DEVICE unknown type", rc, -ENODEV);
	create(vm, KVM_DEV_TYPE_FSL_MPIC_20, 0, &rc);
	check("KVM_CREATE_DEVICE a KVM type the hypervisor lacks", rc, -ENODEV);
	create(vm, 0x1234, KVM_CREATE_DEVICE_TEST, &rc);
	check("KVM_CREATE_DEVICE_TEST unknown type", rc, -ENODEV);
	fd = create(vm, KVM_DEV_TYPE_HV_UART16550, KVM_CREATE_DEVICE_TEST, &rc);
	check("KVM_CREATE_DEVICE_TEST of the UART", rc, 0);
	check("... gives no fd", fd, 12345);
	check("... and makes nothing in the hypervisor", hv_free_frames(), frames);
	check("KVM_CREATE_DEVICE bad pointer", io(vm, KVM_CREATE_DEVICE, 8), -EFAULT);
}

static void attr_rules(int dev)
{
	uint64_t v = 0;

	check("HAS config/base", attr(dev, KVM_HAS_DEVICE_ATTR, HV_UART_GRP_CONFIG, 0, NULL), 0);
	check("HAS unknown group", attr(dev, KVM_HAS_DEVICE_ATTR, 99, 0, NULL), -ENXIO);
	check("HAS unknown attribute", attr(dev, KVM_HAS_DEVICE_ATTR, HV_UART_GRP_CONFIG, 99, NULL),
	      -ENXIO);
	check("GET unknown attribute", get(dev, HV_UART_GRP_REGS, 99), -ENXIO);
	check("GET base before it is set", get(dev, HV_UART_GRP_CONFIG, HV_UART_CFG_BASE), -EPERM);
	check("SET base from a bad address",
	      attr(dev, KVM_SET_DEVICE_ATTR, HV_UART_GRP_CONFIG, HV_UART_CFG_BASE, (uint64_t *)8),
	      -EFAULT);
	check("GET into a bad address",
	      attr(dev, KVM_GET_DEVICE_ATTR, HV_UART_GRP_REGS, HV_UART_REG_LCR, (uint64_t *)8),
	      -EFAULT);
	check("KVM_SET_DEVICE_ATTR bad pointer", io(dev, KVM_SET_DEVICE_ATTR, 8), -EFAULT);
	check("SET base 0x3f8", set(dev, HV_UART_GRP_CONFIG, HV_UART_CFG_BASE, 0x3f8), 0);
	check("SET base again", set(dev, HV_UART_GRP_CONFIG, HV_UART_CFG_BASE, 0x2f8), -EEXIST);
	check("GET base", get(dev, HV_UART_GRP_CONFIG, HV_UART_CFG_BASE), 0x3f8);
	check("SET IRQ 99", set(dev, HV_UART_GRP_CONFIG, HV_UART_CFG_IRQ, 99), -EINVAL);
	check("SET IRQ 4", set(dev, HV_UART_GRP_CONFIG, HV_UART_CFG_IRQ, 4), 0);
	check("GET IRQ", get(dev, HV_UART_GRP_CONFIG, HV_UART_CFG_IRQ), 4);
	check("SET the read-only level", set(dev, HV_UART_GRP_CONFIG, HV_UART_CFG_LEVEL, 1),
	      -EPERM);
	check("GET the line's RX", get(dev, HV_UART_GRP_LINE, HV_UART_LINE_RX), -EPERM);
	check("SET the line's TX", set(dev, HV_UART_GRP_LINE, HV_UART_LINE_TX, 'x'), -EPERM);
	check("SET IER bit 4", set(dev, HV_UART_GRP_REGS, HV_UART_REG_IER, 0x10), -EINVAL);
	check("other ioctl on the device fd", io(dev, KVM_GET_API_VERSION, 0), -ENOTTY);
	check("KVM_SET_DEVICE_ATTR with a NULL value pointer",
	      attr(dev, KVM_SET_DEVICE_ATTR, HV_UART_GRP_REGS, HV_UART_REG_SCR, NULL), -EFAULT);
	(void)v;
}

static void other_process(int dev)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(get(dev, HV_UART_GRP_CONFIG, HV_UART_CFG_BASE) == -EIO ? 0 : 1);
	waitpid(pid, &status, 0);
	check("device ioctl from another process gives EIO",
	      WIFEXITED(status) && !WEXITSTATUS(status), 1);
}

/* The guest talks to the UART; only its OUT to port 0x10 and its HLT come out here. */
static void guest_io(struct vmx *x, int dev)
{
	check("queue 'Z' for the guest", set(dev, HV_UART_GRP_LINE, HV_UART_LINE_RX, 'Z'), 0);
	check("KVM_RUN", io(x->vcpu, KVM_RUN, 0), 0);
	check("first exit: the guest's OUT to port 0x10",
	      x->run->exit_reason == KVM_EXIT_IO ? x->run->io.port : -1, 0x10);
	check("the byte the guest received", ((uint8_t *)x->run)[x->run->io.data_offset], 'Z');
	check("KVM_RUN to HLT", io(x->vcpu, KVM_RUN, 0) * 100 + x->run->exit_reason, KVM_EXIT_HLT);
	check("line: 'h'", get(dev, HV_UART_GRP_LINE, HV_UART_LINE_TX), 'h');
	check("line: 'i'", get(dev, HV_UART_GRP_LINE, HV_UART_LINE_TX), 'i');
	check("line: empty", get(dev, HV_UART_GRP_LINE, HV_UART_LINE_TX), 0x100);
	check("LCR as the guest set it", get(dev, HV_UART_GRP_REGS, HV_UART_REG_LCR), 3);
}

/* Every register of one UART into a fresh one in another VM, whose guest sees them. */
static void save_restore(int kvm, int dev)
{
	uint64_t regs[HV_UART_NR_REGS];
	struct vmx y;
	int dev2, same = 1;
	long rc;

	check("SCR for the restore", set(dev, HV_UART_GRP_REGS, HV_UART_REG_SCR, 0x5a), 0);
	for (int i = 0; i < HV_UART_NR_REGS; i++)
		regs[i] = get(dev, HV_UART_GRP_REGS, i);
	check("second VM", vm_with_guest(kvm, &y, g_lcr, g_lcr_end), 0);
	dev2 = create(y.vm, KVM_DEV_TYPE_HV_UART16550, 0, &rc);
	check("second UART", rc, 0);
	check("its base 0x2f8", set(dev2, HV_UART_GRP_CONFIG, HV_UART_CFG_BASE, 0x2f8), 0);
	for (int i = 0; i < HV_UART_NR_REGS; i++)
		same &= set(dev2, HV_UART_GRP_REGS, i, regs[i]) == 0;
	check("every register restored", same, 1);
	for (int i = 0; i < HV_UART_NR_REGS; i++)
		same &= get(dev2, HV_UART_GRP_REGS, i) == (long)regs[i];
	check("every register reads back the same", same, 1);
	check("the second guest reads the restored LCR",
	      io(y.vcpu, KVM_RUN, 0) == 0 && y.run->exit_reason == KVM_EXIT_IO
		      ? ((uint8_t *)y.run)[y.run->io.data_offset]
		      : -1,
	      3);
	close(dev2);
	vm_close(&y);
}

/*
 * A VM whose port hooks are nearly all taken (15 UARTs of the hypervisor's 16 hooks): the irqchip
 * (3 PIC port ranges) does not fit, and its failure leaves nothing behind, not half an irqchip
 * that a second KVM_CREATE_IRQCHIP would find (-EEXIST).
 */
static void full_hooks(int kvm)
{
	long frames = hv_free_frames(), rc, made = 0;
	int vm = io(kvm, KVM_CREATE_VM, 0), dev[15];

	for (int i = 0; i < 15; i++) {
		dev[i] = create(vm, KVM_DEV_TYPE_HV_UART16550, 0, &rc);
		made += !rc && !set(dev[i], HV_UART_GRP_CONFIG, HV_UART_CFG_BASE, 0x1000 + 8 * i);
	}
	check("15 UARTs with their ports", made, 15);
	check("KVM_CREATE_IRQCHIP: no room for its hooks", io(vm, KVM_CREATE_IRQCHIP, 0), -ENOSPC);
	check("... again: still no room, no half irqchip", io(vm, KVM_CREATE_IRQCHIP, 0), -ENOSPC);
	for (int i = 0; i < 15; i++)
		close(dev[i]);
	close(vm);
	check("... every hypervisor frame back", hv_free_frames(), frames);
}

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR), dev;
	long frames = hv_free_frames(), rc;
	struct vmx x;

	test_name = "kvm_device";
	check("open /dev/kvm", kvm >= 0, 1);
	if (kvm < 0)
		return summary();
	check("VM with a guest", vm_with_guest(kvm, &x, g_uart, g_uart_end), 0);
	create_rules(kvm, x.vm);
	dev = create(x.vm, KVM_DEV_TYPE_HV_UART16550, 0, &rc);
	check("KVM_CREATE_DEVICE UART", rc, 0);
	check("the fd comes back in the struct", dev >= 0 && dev != 12345, 1);
	attr_rules(dev);
	other_process(dev);
	guest_io(&x, dev);
	save_restore(kvm, dev);
	vm_close(&x);
	check("the device fd keeps the VM: attributes still work",
	      get(dev, HV_UART_GRP_CONFIG, HV_UART_CFG_BASE), 0x3f8);
	close(dev);
	full_hooks(kvm);
	check("every hypervisor frame back after close", hv_free_frames(), frames);
	return summary();
}
