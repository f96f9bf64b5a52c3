/*
 * kvm_modes: guests in protected and long mode, set up from user space as a VMM does (GDT,
 * page tables, KVM_SET_SREGS), doing port I/O, MMIO writes and reads of each width, string
 * stores and moves to and from MMIO, and HLT; MSR accesses for user space (and their filter);
 * then KVM_IOEVENTFD on a port and on an MMIO address, with its rules. Ends with "N passed,
 * N failed".
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"

#define RAM_SIZE 0x10000
#define CODE	 0x1000
#define GDT	 0x3000
#define PML4	 0x4000 /* then the PDPT and PD: the first 2 MiB identity-mapped */
#define STACK	 0x8000
#define MMIO	 0x100000 /* no RAM there */

__asm__(".pushsection .rodata\n"
	".code32\n"
	"g_pm: mov $0x55, %al; out %al, $0x10\n"
	"  movl $0x12345678, 0x100000\n"
	"  movw 0x100004, %bx; movzwl %bx, %eax; out %eax, $0x12\n"
	"  cld; mov $0xa5a5a5a5, %eax; mov $0x100020, %edi; mov $3, %ecx; rep stosl\n"
	"  mov %edi, %eax; out %eax, $0x12\n"
	"  mov $0x100040, %esi; mov $0x2000, %edi; mov $2, %ecx; rep movsw\n" /* MMIO to RAM */
	"  mov $0x2000, %esi; mov $0x100050, %edi; movsl\n"		      /* RAM to MMIO */
	"  std; mov $0x100060, %edi; mov $0x77, %al; stosb; cld\n"
	"  lea (%esi,%edi), %eax; add %ecx, %eax; out %eax, $0x12\n"
	"  mov 0x400000 + 700 * 4096, %eax; out %eax, $0x12\n" /* page 700 of a 4 MiB slot */
	"  mov 0x400000 + 1023 * 4096 + 8, %eax; out %eax, $0x12\n"
	"  hlt\n"
	"g_pm_end:\n"
	"g_msr: mov $0x474f4f00, %ecx; mov $2, %eax; xor %edx, %edx; wrmsr\n" /* no such MSR */
	"  rdmsr; out %eax, $0x10; mov %edx, %eax; out %eax, $0x10\n"
	"  mov $0x174, %ecx; mov $0x33, %eax; wrmsr; rdmsr; out %eax, $0x10\n" /* filtered read */
	"  mov $0x474f4f00, %ecx; rdmsr; hlt\n" /* answered with an error: #GP, no IDT */
	"g_msr_end:\n"
	".code64\n"
	"g_lm: movabs $0x0123456789abcdef, %rdi; mov $0x1000, %dx; in %dx, %al\n"
	"  mov $0x66, %al; out %al, $0x10\n"
	"  movabs $0x1122334455667788, %rax; movq %rax, 0x100000\n"
	"  movq 0x100008, %rbx; mov %ebx, %eax; out %eax, $0x12\n"
	"  shr $32, %rbx; mov %ebx, %eax; out %eax, $0x12\n"
	"  movb $1, 0x100010; movw $2, 0x100010; movl $3, 0x100010; movl $4, 0x100010\n"
	"  outb %al, $0x14; outb %al, $0x14\n"
	"  outb %al, $0x7e\n"
	"g_lm_hlt: hlt\n"
	"g_lm_end:\n"
	"g_pg_off: mov %cr0, %rax; btr $31, %eax; mov %rax, %cr0; hlt\n" /* PG off, PCIDE on */
	"g_pg_off_end:\n"
	/* over a 36-bit MAXPHYADDR: an instruction not decoded, then a #PF with RSVD */
	"g_rsv: flds 0x200000; mov 0x200000, %eax; hlt\n"
	"g_rsv_movs: mov $0x100040, %esi; mov $0x200000, %edi; mov $1, %ecx; rep movsw; hlt\n"
	"g_rsv_pf: pop %rax; out %eax, $0x10; mov %cr2, %rax; out %eax, $0x12; hlt\n"
	"g_rsv_end:\n"
	/* KVM's hypercall ABI: VAPIC_POLL_IRQ, a number past 32 bits, the hypervisor's own 0 */
	"g_hc: mov $1, %eax; vmcall; mov %rax, %rbx\n"
	"  movabs $0x100000001, %rax; vmcall; mov %rax, %rcx\n"
	"  xor %eax, %eax; vmcall; mov %rax, %rdx; hlt\n"
	"g_hc3: vmcall; movb %al, 0x100000\n" /* at CPL 3: an MMIO write to stop at */
	"g_hc_end:\n"
	".code32\n"
	"g_hc32: vmcall; mov %eax, %ebx; mov $2, %eax; vmcall; hlt\n"
	"g_hc32_end:\n"
	/* a single step (TF from POPF, then a NOP), then an RDMSR of an MSR no one has (#GP) */
	"g_db: pushf; orl $0x100, (%esp); popf; nop\n"
	"  mov $0x474f4f00, %ecx; rdmsr; hlt\n"
	"g_db_h: mov %dr6, %eax; out %eax, $0x10; andl $~0x100, 8(%esp); iret\n" /* TF off */
	"g_gp_h: mov 12(%esp), %eax; out %eax, $0x11; add $4, %esp; addl $2, (%esp); iret\n"
	"g_db_end:\n"
	".code64\n"
	".popsection\n");
extern const uint8_t g_pm[], g_pm_end[], g_lm[], g_lm_end[], g_msr[], g_msr_end[], g_lm_hlt[];
extern const uint8_t g_rsv[], g_rsv_movs[], g_rsv_pf[], g_rsv_end[];
extern const uint8_t g_hc[], g_hc3[], g_hc_end[], g_hc32[], g_hc32_end[];
extern const uint8_t g_pg_off[], g_pg_off_end[], g_db[], g_db_h[], g_gp_h[], g_db_end[];

struct vmx {
	int kvm, vm, vcpu;
	uint8_t *ram;
	struct kvm_run *run;
};

static int vm_open(struct vmx *x)
{
	struct kvm_userspace_memory_region r = {.memory_size = RAM_SIZE};

	x->vm = io(x->kvm, KVM_CREATE_VM, 0);
	x->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r.userspace_addr = (uintptr_t)x->ram;
	if (x->vm < 0 || io(x->vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r))
		return -1;
	x->vcpu = io(x->vm, KVM_CREATE_VCPU, 0);
	x->run = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, x->vcpu, 0);
	return x->vcpu < 0 || x->run == MAP_FAILED ? -1 : 0;
}

static void vm_close(struct vmx *x)
{
	munmap(x->run, 2 * 4096);
	munmap(x->ram, RAM_SIZE);
	close(x->vcpu);
	close(x->vm);
}

static struct kvm_segment flat(uint16_t sel, uint8_t type, int l)
{
	return (struct kvm_segment){.base = 0,
				    .limit = 0xffffffff,
				    .selector = sel,
				    .type = type,
				    .present = 1,
				    .s = 1,
				    .db = !l,
				    .l = l,
				    .g = 1};
}

/* Flat segments described in a GDT too (as a guest reloading them would find them). */
static int enter_mode(struct vmx *x, int long_mode, const uint8_t *code, const uint8_t *end)
{
	uint64_t *gdt = (uint64_t *)(x->ram + GDT), *pt = (uint64_t *)(x->ram + PML4);
	struct kvm_regs r = {.rip = CODE, .rsp = STACK, .rflags = 2};
	struct kvm_sregs s;

	memcpy(x->ram + CODE, code, end - code);
	gdt[1] = long_mode ? 0x00af9b000000ffffULL : 0x00cf9b000000ffffULL;
	gdt[2] = 0x00cf93000000ffffULL;
	pt[0] = (PML4 + 0x1000) | 3;   /* PML4[0] -> PDPT */
	pt[512] = (PML4 + 0x2000) | 3; /* PDPT[0] -> PD */
	pt[1024] = 0x83;	       /* PD[0]: 2 MiB at 0, present, writable, large */
	if (io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s))
		return -1;
	s.cs = flat(8, 0xb, long_mode);
	s.ds = s.es = s.fs = s.gs = s.ss = flat(16, 0x3, 0);
	s.gdt = (struct kvm_dtable){.base = GDT, .limit = 23};
	s.cr0 = 0x11 | (long_mode ? 0x80000000 : 0); /* PE, ET, and PG for long mode */
	s.cr3 = long_mode ? PML4 : 0;
	s.cr4 = long_mode ? 0x20 : 0;	/* PAE */
	s.efer = long_mode ? 0x500 : 0; /* LME, LMA */
	return io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s) ||
	       io(x->vcpu, KVM_SET_REGS, (uintptr_t)&r);
}

static long run(struct vmx *x)
{
	long rc = io(x->vcpu, KVM_RUN, 0);

	return rc ? rc : x->run->exit_reason;
}

static long out_value(struct vmx *x)
{
	uint8_t *d = (uint8_t *)x->run + x->run->io.data_offset;
	uint32_t v = 0;

	memcpy(&v, d, x->run->io.size);
	return x->run->io.direction == KVM_EXIT_IO_OUT ? (long)v : -1;
}

static void mmio_read(struct vmx *x, const char *what, uint64_t gpa, unsigned len, uint64_t val)
{
	check(what, run(x), KVM_EXIT_MMIO);
	check("... its address, length, direction",
	      (long)(x->run->mmio.phys_addr - gpa) * 100 + x->run->mmio.len * 10 +
		      x->run->mmio.is_write,
	      len * 10);
	memcpy(x->run->mmio.data, &val, len);
}

static void mmio_write(struct vmx *x, const char *what, uint64_t gpa, unsigned len, uint64_t val)
{
	uint64_t w = 0;

	check(what, run(x), KVM_EXIT_MMIO);
	memcpy(&w, x->run->mmio.data, len);
	check("... its address, length, direction",
	      (long)(x->run->mmio.phys_addr - gpa) * 100 + x->run->mmio.len * 10 +
		      x->run->mmio.is_write,
	      len * 10 + 1);
	check("... its value", (long)w, (long)val);
}

/* String instructions on MMIO: one exit per element, pointers and counts stepped as the CPU does.
 */
static void strings(struct vmx *x)
{
	for (unsigned i = 0; i < 3; i++)
		mmio_write(x, "rep stosl: an MMIO write per element", MMIO + 0x20 + 4 * i, 4,
			   0xa5a5a5a5);
	check("EDI past the three", run(x) == KVM_EXIT_IO ? out_value(x) : -1, MMIO + 0x2c);
	mmio_read(x, "rep movsw from MMIO", MMIO + 0x40, 2, 0x1111);
	mmio_read(x, "... its second element", MMIO + 0x42, 2, 0x2222);
	mmio_write(x, "movsl of them to MMIO", MMIO + 0x50, 4, 0x22221111);
	mmio_write(x, "stosb with DF set", MMIO + 0x60, 1, 0x77);
	check("ESI + EDI + ECX after", run(x) == KVM_EXIT_IO ? out_value(x) : -1,
	      0x2004 + MMIO + 0x5f);
}

/* A slot of more than one mapping hypercall (512 frames): every page where the host has it. */
static void big_slot(struct vmx *x)
{
	uint32_t *mem =
		mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region r = {1, 0, 0x400000, 4 << 20, (uintptr_t)mem};

	for (unsigned p = 0; p < 1024; p++)
		mem[p * 1024] = p, mem[p * 1024 + 2] = p + 0x10000;
	check("a 4 MiB slot", io(x->vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&r), 0);
	check("page 700 as the host wrote it", run(x) == KVM_EXIT_IO ? out_value(x) : -1, 700);
	check("page 1023 too", run(x) == KVM_EXIT_IO ? out_value(x) : -1, 1023 + 0x10000);
}

static void protected_mode(struct vmx *x)
{
	uint32_t w;

	check("protected mode set up", enter_mode(x, 0, g_pm, g_pm_end), 0);
	check("port OUT", run(x), KVM_EXIT_IO);
	check("its port and value", x->run->io.port * 1000L + out_value(x), 0x10 * 1000L + 0x55);
	check("MMIO write", run(x), KVM_EXIT_MMIO);
	memcpy(&w, x->run->mmio.data, 4);
	check("... 4 bytes at 1 MiB", (long)x->run->mmio.phys_addr * 10 + x->run->mmio.len,
	      MMIO * 10L + 4);
	check("... its value", w, 0x12345678);
	mmio_read(x, "MMIO read of 2 bytes", MMIO + 4, 2, 0xbeef);
	check("the guest got it", run(x) == KVM_EXIT_IO ? out_value(x) : -1, 0xbeef);
	strings(x);
	big_slot(x);
	check("HLT", run(x), KVM_EXIT_HLT);
}

static void long_mode(struct vmx *x)
{
	struct kvm_regs r;
	uint64_t q;

	check("long mode set up", enter_mode(x, 1, g_lm, g_lm_end), 0);
	check("IN from port 0x1000 (a selftests ucall)", run(x) * 100000 + x->run->io.port,
	      KVM_EXIT_IO * 100000 + 0x1000);
	check("KVM_GET_REGS at it", io(x->vcpu, KVM_GET_REGS, (uintptr_t)&r), 0);
	check("RDI as the guest set it", r.rdi == 0x0123456789abcdefULL, 1);
	/* as Linux KVM 6.1 (the referee): at the IN until it completes (only an OUT to 0x7e is
	 * stepped over first) */
	check("RIP at the IN while user space has it", (long)r.rip, CODE + 14);
	x->run->immediate_exit = 1;
	check("KVM_RUN with immediate_exit completes it", io(x->vcpu, KVM_RUN, 0), -EINTR);
	x->run->immediate_exit = 0;
	check("the exit stays as it was", x->run->exit_reason, KVM_EXIT_IO);
	q = r.rip;
	io(x->vcpu, KVM_GET_REGS, (uintptr_t)&r);
	check("RIP past the IN once it completed", (long)(r.rip - q), 1);
	check("port OUT", run(x), KVM_EXIT_IO);
	check("its value", out_value(x), 0x66);
	check("MMIO write of 8 bytes", run(x), KVM_EXIT_MMIO);
	memcpy(&q, x->run->mmio.data, 8);
	check("... its length", x->run->mmio.len, 8);
	check("... its value", q == 0x1122334455667788ULL, 1);
	mmio_read(x, "MMIO read of 8 bytes", MMIO + 8, 8, 0xa1b2c3d4e5f60718ULL);
	check("low half", run(x) == KVM_EXIT_IO ? out_value(x) : -1, 0xe5f60718);
	check("high half", run(x) == KVM_EXIT_IO ? out_value(x) : -1, 0xa1b2c3d4);
}

static long ioeventfd(int vm, uint64_t addr, uint32_t len, int fd, uint32_t flags, uint64_t data)
{
	struct kvm_ioeventfd e = {
		.datamatch = data, .addr = addr, .len = len, .fd = fd, .flags = flags};

	return io(vm, KVM_IOEVENTFD, (uintptr_t)&e);
}

static uint64_t drain(int fd)
{
	uint64_t n = 0;

	return read(fd, &n, 8) == 8 ? n : 0;
}

/*
 * The long-mode guest goes on: byte, word and two dword writes to MMIO+0x10, then two OUTs to
 * port 0x14 and one to 0x7e. An MMIO ioeventfd for dword 4 takes only the last write; a port
 * one takes both OUTs to 0x14.
 */
static long rip(struct vmx *x)
{
	struct kvm_regs r;

	return io(x->vcpu, KVM_GET_REGS, (uintptr_t)&r) ?: (long)r.rip;
}

static void ioeventfds(struct vmx *x)
{
	int efd = eventfd(0, EFD_NONBLOCK), pfd = eventfd(0, EFD_NONBLOCK);
	uint32_t match = KVM_IOEVENTFD_FLAG_DATAMATCH;

	check("KVM_CAP_IOEVENTFD", io(x->kvm, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD), 1);
	check("length 3", ioeventfd(x->vm, MMIO + 0x10, 3, efd, 0, 0), -EINVAL);
	check("unknown flag", ioeventfd(x->vm, MMIO + 0x10, 4, efd, 1 << 7, 0), -EINVAL);
	check("datamatch with length 0", ioeventfd(x->vm, MMIO + 0x10, 0, efd, match, 0), -EINVAL);
	check("not an eventfd", ioeventfd(x->vm, MMIO + 0x10, 4, 0, 0, 0), -EINVAL);
	check("closed fd", ioeventfd(x->vm, MMIO + 0x10, 4, 999, 0, 0), -EBADF);
	check("MMIO dword == 4", ioeventfd(x->vm, MMIO + 0x10, 4, efd, match, 4), 0);
	check("the same again", ioeventfd(x->vm, MMIO + 0x10, 4, efd, match, 4), -EEXIST);
	check("port 0x14, any byte", ioeventfd(x->vm, 0x14, 1, pfd, KVM_IOEVENTFD_FLAG_PIO, 0), 0);
	check("deassign one never assigned",
	      ioeventfd(x->vm, 0x15, 1, pfd, KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DEASSIGN,
			0),
	      -ENOENT);
	check("byte write reaches user space", run(x), KVM_EXIT_MMIO);
	check("word write reaches user space", run(x) * 10 + x->run->mmio.len,
	      KVM_EXIT_MMIO * 10 + 2);
	check("dword 3 reaches user space", run(x) * 10 + x->run->mmio.data[0],
	      KVM_EXIT_MMIO * 10 + 3);
	check("dword 4 and both OUTs are taken: next exit the OUT to 0x7e",
	      run(x) == KVM_EXIT_IO ? x->run->io.port : -1, 0x7e);
	check("... RIP already past it (KVM_X86_QUIRK_OUT_7E_INC_RIP)", rip(x),
	      CODE + (g_lm_hlt - g_lm));
	check("then HLT", run(x), KVM_EXIT_HLT);
	check("the MMIO eventfd fired once", (long)drain(efd), 1);
	check("the port eventfd twice", (long)drain(pfd), 2);
	check("deassign",
	      ioeventfd(x->vm, 0x14, 1, pfd, KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DEASSIGN,
			0),
	      0);
	close(efd);
	close(pfd);
}

static long msr_filter(int vm, uint32_t flags, uint32_t rflags, uint32_t base, uint32_t n,
		       uint8_t *bitmap)
{
	struct kvm_msr_filter f = {.flags = flags, .ranges = {{rflags, n, base, bitmap}}};

	return io(vm, KVM_X86_SET_MSR_FILTER, (uintptr_t)&f);
}

static void msr_exit(struct vmx *x, const char *what, uint32_t reason, uint32_t index, uint32_t why)
{
	check(what, run(x), reason);
	check("... its MSR and reason", (long)x->run->msr.index * 10 + x->run->msr.reason,
	      (long)index * 10 + why);
}

/*
 * KVM_CAP_X86_USER_SPACE_MSR and KVM_X86_SET_MSR_FILTER: the accesses the hypervisor refuses
 * and those the filter denies come to user space, whose answer (a value, or an error: #GP)
 * completes them.
 */
static void msr_exits(struct vmx *x)
{
	struct kvm_enable_cap cap = {.cap = KVM_CAP_X86_USER_SPACE_MSR, .args = {8}};
	uint8_t deny = 0;

	check("KVM_CAP_X86_USER_SPACE_MSR", io(x->kvm, KVM_CHECK_EXTENSION, cap.cap), 1);
	check("KVM_CAP_X86_MSR_FILTER", io(x->kvm, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER), 1);
	check("enable with an unknown reason", io(x->vm, KVM_ENABLE_CAP, (uintptr_t)&cap), -EINVAL);
	cap.args[0] = KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_FILTER;
	check("enable unknown and filter", io(x->vm, KVM_ENABLE_CAP, (uintptr_t)&cap), 0);
	check("filter flag 2", msr_filter(x->vm, 2, 1, 0x174, 1, &deny), -EINVAL);
	check("deny all, no range", msr_filter(x->vm, 1, 0, 0, 0, NULL), -EINVAL);
	check("range without flags", msr_filter(x->vm, 0, 0, 0x174, 1, &deny), -EINVAL);
	check("range flag 4", msr_filter(x->vm, 0, 4, 0x174, 1, &deny), -EINVAL);
	check("bitmap over 0x600 bytes", msr_filter(x->vm, 0, 1, 0, 0x600 * 8 + 1, &deny), -EINVAL);
	check("bitmap not readable", msr_filter(x->vm, 0, 1, 0x174, 1, (uint8_t *)8), -EFAULT);
	check("deny reads of 0x174", msr_filter(x->vm, 0, 1, 0x174, 1, &deny), 0);
	check("protected mode set up", enter_mode(x, 0, g_msr, g_msr_end), 0);
	msr_exit(x, "WRMSR of no MSR", KVM_EXIT_X86_WRMSR, 0x474f4f00, KVM_MSR_EXIT_REASON_UNKNOWN);
	check("... its value", (long)x->run->msr.data, 2);
	msr_exit(x, "RDMSR of it", KVM_EXIT_X86_RDMSR, 0x474f4f00, KVM_MSR_EXIT_REASON_UNKNOWN);
	x->run->msr.data = 0x1122334455667788ULL;
	check("EAX from the answer", run(x) == KVM_EXIT_IO ? out_value(x) : -1, 0x55667788);
	check("EDX from the answer", run(x) == KVM_EXIT_IO ? out_value(x) : -1, 0x11223344);
	msr_exit(x, "filtered RDMSR of 0x174 (its write was not)", KVM_EXIT_X86_RDMSR, 0x174,
		 KVM_MSR_EXIT_REASON_FILTER);
	x->run->msr.data = 7;
	check("the answer", run(x) == KVM_EXIT_IO ? out_value(x) : -1, 7);
	msr_exit(x, "RDMSR again", KVM_EXIT_X86_RDMSR, 0x474f4f00, KVM_MSR_EXIT_REASON_UNKNOWN);
	x->run->msr.error = 1;
	check("answered with an error: #GP, and without an IDT a shutdown", run(x),
	      KVM_EXIT_SHUTDOWN);
	check("no filter again", msr_filter(x->vm, 0, 0, 0, 0, NULL), 0);
}

/*
 * KVM_CAP_SMALLER_MAXPHYADDR: with CPUID's 36-bit width, a guest PDE with bit 36 set maps
 * reserved bits. An access through it takes #PF with P and RSVD; an instruction the hypervisor
 * does not decode is an emulation failure with its bytes (KVM_CAP_EXIT_ON_EMULATION_FAILURE).
 */
static void smaller_maxphyaddr(struct vmx *x)
{
	struct {
		struct kvm_cpuid2 head;
		struct kvm_cpuid_entry2 e[3];
	} c = {.head.nent = 3,
	       .e = {{.function = 0x80000000, .eax = 0x80000008},
		     {.function = 0x80000001, .edx = 1u << 29},
		     {.function = 0x80000008, .eax = 36 | 48 << 8}}};
	struct kvm_enable_cap cap = {.cap = KVM_CAP_EXIT_ON_EMULATION_FAILURE, .args = {1}};
	uint64_t pf = CODE + (g_rsv_pf - g_rsv), *idt = (uint64_t *)(x->ram + 0x9000);
	struct kvm_sregs s;
	struct kvm_regs r;

	check("KVM_CAP_SMALLER_MAXPHYADDR",
	      io(x->kvm, KVM_CHECK_EXTENSION, KVM_CAP_SMALLER_MAXPHYADDR), 1);
	check("KVM_CAP_EXIT_ON_EMULATION_FAILURE", io(x->kvm, KVM_CHECK_EXTENSION, cap.cap), 1);
	check("enable it", io(x->vm, KVM_ENABLE_CAP, (uintptr_t)&cap), 0);
	cap.args[0] = 2;
	check("enable it with 2", io(x->vm, KVM_ENABLE_CAP, (uintptr_t)&cap), -EINVAL);
	check("KVM_SET_CPUID2: 36-bit MAXPHYADDR", io(x->vcpu, KVM_SET_CPUID2, (uintptr_t)&c), 0);
	check("long mode set up", enter_mode(x, 1, g_rsv, g_rsv_end), 0);
	((uint64_t *)(x->ram + PML4))[1025] = 1ULL << 36 | 0x200083; /* PD[1] */
	idt[28] = (pf & 0xffff) | 8 << 16 | 0x8e00ULL << 32 | (pf >> 16 & 0xffff) << 48;
	idt[29] = pf >> 32; /* the 64-bit gate of #PF */
	io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s);
	s.idt = (struct kvm_dtable){.base = 0x9000, .limit = 0xfff};
	check("an IDT", io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s), 0);
	check("FLDS there: emulation failure", run(x), KVM_EXIT_INTERNAL_ERROR);
	check("... its flags: the instruction's bytes", (long)x->run->emulation_failure.flags,
	      KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES);
	check("... FLDS m32 with SIB and disp32: d9 04 25, 7 bytes",
	      x->run->emulation_failure.insn_size * 0x1000000L +
		      x->run->emulation_failure.insn_bytes[0] * 0x10000L +
		      x->run->emulation_failure.insn_bytes[1] * 0x100L +
		      x->run->emulation_failure.insn_bytes[2],
	      0x0fd90425L); /* 15 fetched: the instruction and what follows it */
	io(x->vcpu, KVM_GET_REGS, (uintptr_t)&r);
	r.rip += 7;
	io(x->vcpu, KVM_SET_REGS, (uintptr_t)&r);
	check("MOV there: #PF, error code P|RSVD", run(x) == KVM_EXIT_IO ? out_value(x) : -1, 9);
	check("... CR2 the linear address", run(x) == KVM_EXIT_IO ? out_value(x) : -1, 0x200000);
	/* MOVS from MMIO: the hypervisor walks the guest's tables for the RAM side itself */
	io(x->vcpu, KVM_GET_REGS, (uintptr_t)&r);
	r.rip = CODE + (g_rsv_movs - g_rsv), r.rsp = STACK;
	io(x->vcpu, KVM_SET_REGS, (uintptr_t)&r);
	mmio_read(x, "MOVSW from MMIO to there", MMIO + 0x40, 2, 0x1234);
	check("... the write: #PF, error code P|W|RSVD", run(x) == KVM_EXIT_IO ? out_value(x) : -1,
	      11);
	check("... CR2 the linear address", run(x) == KVM_EXIT_IO ? out_value(x) : -1, 0x200000);
}

/* VMCALL in a guest of /dev/kvm follows KVM's ABI: -KVM_ENOSYS (-1000) for what it does not
 * know, -KVM_EPERM (-1) above CPL 0, the number and result 32-bit outside 64-bit mode. */
static void hypercalls(struct vmx *x)
{
	uint64_t *pt = (uint64_t *)(x->ram + PML4);
	struct kvm_sregs s;
	struct kvm_regs r;

	check("long mode set up", enter_mode(x, 1, g_hc, g_hc_end), 0);
	check("three VMCALLs, then HLT", run(x), KVM_EXIT_HLT);
	io(x->vcpu, KVM_GET_REGS, (uintptr_t)&r);
	check("KVM_HC_VAPIC_POLL_IRQ: 0", (long)r.rbx, 0);
	check("number 0x100000001: -KVM_ENOSYS", (long)r.rcx, -1000);
	check("number 0 (the hypervisor's ABI version for its own guests): -KVM_ENOSYS",
	      (long)r.rdx, -1000);
	pt[0] |= 4, pt[512] |= 4, pt[1024] |= 4; /* user pages */
	io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s);
	s.cs.selector |= 3, s.cs.dpl = 3, s.ss.selector |= 3, s.ss.dpl = 3;
	r.rip = CODE + (g_hc3 - g_hc), r.rax = 1;
	check("CPL 3",
	      io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s) || io(x->vcpu, KVM_SET_REGS, (uintptr_t)&r),
	      0);
	check("VMCALL there, then an MMIO write", run(x), KVM_EXIT_MMIO);
	io(x->vcpu, KVM_GET_REGS, (uintptr_t)&r);
	check("... RAX: -KVM_EPERM", (long)r.rax, -1);
	check("protected mode set up", enter_mode(x, 0, g_hc32, g_hc32_end), 0);
	r = (struct kvm_regs){.rip = CODE, .rsp = STACK, .rflags = 2, .rax = 0xffffffff00000001};
	io(x->vcpu, KVM_SET_REGS, (uintptr_t)&r);
	check("two VMCALLs in 32-bit code, then HLT", run(x), KVM_EXIT_HLT);
	io(x->vcpu, KVM_GET_REGS, (uintptr_t)&r);
	check("EAX 1 (RAX's high half ignored): VAPIC_POLL_IRQ, 0", (long)r.rbx, 0);
	check("EAX 2: -KVM_ENOSYS in 32 bits", (long)r.rax, 0xfffffc18);
}

/*
 * #DB as the CPU raises it: the handler's MOV from DR6 sees BS after a single step; a fault the
 * hypervisor injects (#GP of an RDMSR) pushes RFLAGS with RF set, as the CPU's faults do.
 */
static void debug_and_rf(struct vmx *x)
{
	memcpy(x->ram + CODE, g_db, g_db_end - g_db);
	idt_gate32(x->ram, 0x5000, 1, CODE + (g_db_h - g_db));
	idt_gate32(x->ram, 0x5000, 13, CODE + (g_gp_h - g_db));
	check("protected mode with an IDT", flat32(x->vcpu, x->ram, GDT, 0x5000, CODE, STACK), 0);
	check("single step: the #DB handler's DR6 has BS",
	      run(x) == KVM_EXIT_IO ? out_value(x) : -1, 0xffff4ff0);
	check("#GP of an RDMSR: the pushed RFLAGS has RF",
	      run(x) == KVM_EXIT_IO ? out_value(x) >> 16 & 1 : -1, 1);
	check("... and the guest goes on to its HLT", run(x), KVM_EXIT_HLT);
}

/* MOV to CR0 that clears PG while CR4.PCIDE is set: #GP (SDM), a shutdown without an IDT. */
static void cr0_pcide(struct vmx *x)
{
	struct {
		struct kvm_cpuid2 head;
		struct kvm_cpuid_entry2 e[2];
	} c = {.head.nent = 2, .e = {{.function = 0, .eax = 1}, {.function = 1, .ecx = 1u << 17}}};
	struct kvm_sregs s;

	check("CPUID with PCID", io(x->vcpu, KVM_SET_CPUID2, (uintptr_t)&c), 0);
	check("long mode again", enter_mode(x, 1, g_pg_off, g_pg_off_end), 0);
	check("KVM_GET_SREGS", io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s), 0);
	s.cr4 |= 1u << 17;
	check("CR4.PCIDE", io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s), 0);
	check("clearing CR0.PG with PCIDE: #GP (a shutdown here: no IDT)", run(x),
	      KVM_EXIT_SHUTDOWN);
}

int main(void)
{
	struct vmx x = {.kvm = open("/dev/kvm", O_RDWR)};
	long frames = hv_free_frames();

	test_name = "kvm_modes";
	check("open /dev/kvm", x.kvm >= 0, 1);
	if (x.kvm < 0)
		return summary();
	check("VM", vm_open(&x), 0);
	protected_mode(&x);
	vm_close(&x);
	check("another VM", vm_open(&x), 0);
	long_mode(&x);
	ioeventfds(&x);
	vm_close(&x);
	check("a third VM", vm_open(&x), 0);
	msr_exits(&x);
	vm_close(&x);
	check("a fourth VM", vm_open(&x), 0);
	smaller_maxphyaddr(&x);
	vm_close(&x);
	check("a fifth VM", vm_open(&x), 0);
	hypercalls(&x);
	vm_close(&x);
	check("a sixth VM", vm_open(&x), 0);
	cr0_pcide(&x);
	vm_close(&x);
	check("a seventh VM", vm_open(&x), 0);
	debug_and_rf(&x);
	vm_close(&x);
	check("every hypervisor frame back after close", hv_free_frames(), frames);
	return summary();
}
