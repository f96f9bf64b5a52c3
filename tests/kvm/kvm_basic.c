/*
 * kvm_basic: the first KVM API test run in dom0 against /dev/kvm, written as any KVM program is
 * (<linux/kvm.h>). System, VM and vCPU ioctls with their error codes, then a real-mode guest:
 * OUT, IN (answered here), OUT of what came in, HLT. Ends with "N passed, N failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvm_util.h"

/* E2BIG with the count needed, then the list; it names the MSRs guests do have. */
static void msr_index_list(int kvm)
{
	struct {
		struct kvm_msr_list head;
		uint32_t indices[64];
	} l = {.head.nmsrs = 0};
	int tsc = 0, efer = 0;

	check("KVM_GET_MSR_INDEX_LIST with room for 0",
	      io(kvm, KVM_GET_MSR_INDEX_LIST, (uintptr_t)&l), -E2BIG);
	check("MSR count given back", l.head.nmsrs > 10 && l.head.nmsrs <= 64, 1);
	check("KVM_GET_MSR_INDEX_LIST", io(kvm, KVM_GET_MSR_INDEX_LIST, (uintptr_t)&l), 0);
	for (unsigned i = 0; i < l.head.nmsrs && i < 64; i++) {
		tsc |= l.indices[i] == 0x10;
		efer |= l.indices[i] == 0xc0000080;
	}
	check("the list has IA32_TSC and EFER", tsc && efer, 1);
	check("KVM_GET_MSR_INDEX_LIST bad pointer", io(kvm, KVM_GET_MSR_INDEX_LIST, 16), -EFAULT);
}

static void system_ioctls(int kvm)
{
	struct stat st;

	check("/dev/kvm is a character device, mode 0660",
	      !stat("/dev/kvm", &st) && S_ISCHR(st.st_mode) ? (long)(st.st_mode & 0777) : -1, 0660);
	check("/dev/kvm minor", (long)(st.st_rdev & 0xff), 232);
	check("KVM_GET_API_VERSION", io(kvm, KVM_GET_API_VERSION, 0), 12);
	check("KVM_CREATE_VM type 1", io(kvm, KVM_CREATE_VM, 1), -EINVAL);
	check("KVM_CHECK_EXTENSION user memory", io(kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY),
	      1);
	check("KVM_CHECK_EXTENSION irqchip", io(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP), 1);
	check("KVM_GET_VCPU_MMAP_SIZE", io(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), 3 * 4096);
	msr_index_list(kvm);
}

static void memory(int vm, uint8_t *ram)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = 0x10000,
		.userspace_addr = (uintptr_t)ram,
	};
	struct kvm_userspace_memory_region bad = r;

	bad.guest_phys_addr = 0x123;
	check("region at an unaligned GPA", io(vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&bad),
	      -EINVAL);
	bad = r;
	bad.slot = 1000;
	check("region in slot 1000", io(vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&bad), -EINVAL);
	check("region", io(vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r), 0);
	bad = r;
	bad.slot = 1;
	bad.guest_phys_addr = 0x8000;
	check("overlapping region", io(vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&bad), -EEXIST);
}

/* REP OUTSB of two bytes: one KVM_EXIT_IO with count 2 and both at data_offset, as KVM batches. */
static void string_io(int vcpu, struct kvm_run *run, struct kvm_sregs *s)
{
	s->ds.base = 0;
	s->ds.selector = 0;
	check("KVM_SET_SREGS with DS 0", io(vcpu, KVM_SET_SREGS, (uintptr_t)s), 0);
	check("KVM_RUN to the OUTSB", io(vcpu, KVM_RUN, 0), 0);
	check("OUTSB at port 0x13", run->exit_reason == KVM_EXIT_IO ? run->io.port : -1, 0x13);
	check("... both elements in one exit", run->io.count, 2);
	check("... \"xy\" at data_offset", !memcmp((uint8_t *)run + run->io.data_offset, "xy", 2),
	      1);
	check("KVM_RUN to the HLT after OUTSB", io(vcpu, KVM_RUN, 0), 0);
	check("exit reason HLT after OUTSB", run->exit_reason, KVM_EXIT_HLT);
}

static void run_guest(int vcpu, struct kvm_run *run)
{
	struct kvm_sregs s;
	struct kvm_regs r = {.rip = 0x1000, .rflags = 2};

	check("KVM_GET_SREGS", io(vcpu, KVM_GET_SREGS, (uintptr_t)&s), 0);
	s.cs.base = 0;
	s.cs.selector = 0;
	check("KVM_SET_SREGS", io(vcpu, KVM_SET_SREGS, (uintptr_t)&s), 0);
	check("KVM_SET_REGS", io(vcpu, KVM_SET_REGS, (uintptr_t)&r), 0);
	check("KVM_RUN to the OUT", io(vcpu, KVM_RUN, 0), 0);
	check("exit reason IO", run->exit_reason, KVM_EXIT_IO);
	check("OUT port", run->io.port, 0x10);
	check("OUT direction", run->io.direction, KVM_EXIT_IO_OUT);
	check("OUT size and count", run->io.size * 100 + run->io.count, 101);
	check("OUT data", ((uint8_t *)run)[run->io.data_offset], 0x42);
	check("KVM_RUN to the IN", io(vcpu, KVM_RUN, 0), 0);
	check("IN port",
	      run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_IN ? run->io.port
										     : -1,
	      0x11);
	((uint8_t *)run)[run->io.data_offset] = 0x77;
	check("KVM_RUN to the second OUT", io(vcpu, KVM_RUN, 0), 0);
	check("second OUT data",
	      run->exit_reason == KVM_EXIT_IO ? ((uint8_t *)run)[run->io.data_offset] : -1, 0x77);
	check("KVM_RUN to the HLT", io(vcpu, KVM_RUN, 0), 0);
	check("exit reason HLT", run->exit_reason, KVM_EXIT_HLT);
	check("KVM_GET_REGS", io(vcpu, KVM_GET_REGS, (uintptr_t)&r), 0);
	check("RIP after HLT", (long)r.rip, 0x1009);
	check("KVM_GET_SREGS again", io(vcpu, KVM_GET_SREGS, (uintptr_t)&s), 0);
	s.ds.base = 0x10000;
	s.ds.selector = 0x1000;
	check("KVM_SET_SREGS with DS 0x1000", io(vcpu, KVM_SET_SREGS, (uintptr_t)&s), 0);
	check("KVM_RUN to the MMIO write", io(vcpu, KVM_RUN, 0), 0);
	check("exit reason MMIO", run->exit_reason, KVM_EXIT_MMIO);
	check("MMIO write address", (long)run->mmio.phys_addr, 0x18000);
	check("MMIO write length", run->mmio.len * 10 + run->mmio.is_write, 21);
	check("MMIO write data", run->mmio.data[0] | run->mmio.data[1] << 8, 0x1234);
	check("KVM_RUN to the MMIO read", io(vcpu, KVM_RUN, 0), 0);
	check("MMIO read",
	      run->exit_reason == KVM_EXIT_MMIO && !run->mmio.is_write ? (long)run->mmio.phys_addr
								       : -1,
	      0x18000);
	run->mmio.data[0] = 0xcd;
	run->mmio.data[1] = 0xab;
	check("KVM_RUN to the last HLT", io(vcpu, KVM_RUN, 0), 0);
	check("KVM_GET_REGS after the read", io(vcpu, KVM_GET_REGS, (uintptr_t)&r), 0);
	check("BX holds what the read returned", (long)(r.rbx & 0xffff), 0xabcd);
	string_io(vcpu, run, &s);
	run->immediate_exit = 1;
	check("KVM_RUN with immediate_exit", io(vcpu, KVM_RUN, 0), -EINTR);
	check("the exit reason stays (KVM sets INTR only for a signal)", run->exit_reason,
	      KVM_EXIT_HLT);
}

/* KVM's checks on where it may keep a real-mode TSS and an identity page table. */
static void tss_and_identity_map(int vm, int before_vcpus)
{
	uint64_t addr = 0xfeffc000;

	if (before_vcpus) {
		check("KVM_SET_TSS_ADDR", io(vm, KVM_SET_TSS_ADDR, 0xfeffd000), 0);
		check("KVM_SET_TSS_ADDR past 4 GiB - 3 pages", io(vm, KVM_SET_TSS_ADDR, 0xffffe000),
		      -EINVAL);
		check("KVM_SET_IDENTITY_MAP_ADDR bad pointer", io(vm, KVM_SET_IDENTITY_MAP_ADDR, 8),
		      -EFAULT);
		check("KVM_SET_IDENTITY_MAP_ADDR",
		      io(vm, KVM_SET_IDENTITY_MAP_ADDR, (uintptr_t)&addr), 0);
	} else {
		check("KVM_SET_IDENTITY_MAP_ADDR after a vCPU",
		      io(vm, KVM_SET_IDENTITY_MAP_ADDR, (uintptr_t)&addr), -EEXIST);
	}
}

/* A VM's fds belong to the process that created the VM: others get EIO. */
static void other_process(int vm)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(io(vm, KVM_CREATE_VCPU, 5) == -EIO ? 0 : 1);
	waitpid(pid, &status, 0);
	check("VM ioctl from another process gives EIO", WIFEXITED(status) && !WEXITSTATUS(status),
	      1);
}

int main(void)
{
	/*
	 * mov $0x42,%al; out %al,$0x10; in $0x11,%al; out %al,$0x12; hlt;
	 * movw $0x1234,(0x8000) with DS=0x1000 (GPA 0x18000, no RAM); mov (0x8000),%bx; hlt
	 */
	static const uint8_t code[] = {0xb0, 0x42, 0xe6, 0x10, 0xe4, 0x11, 0xe6, 0x12, 0xf4, 0xc7,
				       0x06, 0x00, 0x80, 0x34, 0x12, 0x8b, 0x1e, 0x00, 0x80, 0xf4,
				       /* mov $0x2000,%si; mov $2,%cx; mov $0x13,%dx; cld;
					  rep outsb; hlt */
				       0xbe, 0x00, 0x20, 0xb9, 0x02, 0x00, 0xba, 0x13, 0x00, 0xfc,
				       0xf3, 0x6e, 0xf4};
	int kvm = open("/dev/kvm", O_RDWR), vm, vcpu;

	test_name = "kvm_basic";
	uint8_t *ram;
	struct kvm_run *run;

	if (kvm < 0) {
		perror("kvm_basic: /dev/kvm");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	long frames = hv_free_frames();

	check("hypervisor free frames readable", frames > 0, 1);
	system_ioctls(kvm);
	vm = io(kvm, KVM_CREATE_VM, 0);
	other_process(vm);
	check("KVM_CREATE_VM", vm >= 0, 1);
	check("unknown VM ioctl", io(vm, _IO(KVMIO, 0xfe), 0), -ENOTTY);
	ram = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(ram + 0x1000, code, sizeof(code));
	memcpy(ram + 0x2000, "xy", 2);
	memory(vm, ram);
	tss_and_identity_map(vm, 1);
	check("KVM_CREATE_VCPU 64", io(vm, KVM_CREATE_VCPU, 64), -EINVAL);
	vcpu = io(vm, KVM_CREATE_VCPU, 0);
	check("KVM_CREATE_VCPU 0", vcpu >= 0, 1);
	check("KVM_CREATE_VCPU 0 again", io(vm, KVM_CREATE_VCPU, 0), -EEXIST);
	tss_and_identity_map(vm, 0);
	run = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	check("mmap of kvm_run", run != MAP_FAILED, 1);
	if (run != MAP_FAILED)
		run_guest(vcpu, run);
	if (run != MAP_FAILED)
		munmap(run, 2 * 4096); /* the mapping holds the vCPU file, and so the VM */
	close(vcpu);
	close(vm);
	check("every hypervisor frame back after close", hv_free_frames(), frames);
	close(kvm);
	return summary();
}
