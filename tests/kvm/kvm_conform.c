/*
 * Guest conformance: small flat guests that check the vCPU behaves as the CPU, written from the
 * SDM and KVM's API documentation, run the same way on Linux KVM (make conform prints the two
 * columns side by side). Read-modify-write and compare instructions on MMIO (user space's, with
 * KVM's read exit then write exit, and the in-kernel local APIC's), faults that push RF, #DB
 * and #BP, CR and EFER writes that must #GP, the MSRs a Linux guest touches, and hardware task
 * switches (CALL, JMP, IRET, task gates for exceptions and INT n), AP start-up, and SMM.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>

#include "kvm_util.h"

#define ARITH 0x8d5 /* OF SF ZF AF PF CF */
#define LOGIC 0x8c5 /* ...AF is undefined after AND, OR, XOR, TEST */
#define CF    0x1

/* Real mode, DS = 0x1000 (push $0x1000; pop %ds first): offset 0x8000 is GPA 0x18000, no RAM. */
static const struct rmw {
	const char *name;
	uint8_t code[10], len;
	uint64_t rax, answer; /* RAX before, the MMIO read's answer */
	uint64_t addr;	      /* of the access */
	uint8_t size;
	bool writes;
	uint64_t data, want_rax, flags, flag_mask; /* written back; RAX and RFLAGS after */
} rmw[] = {
	/* clang-format off */
	{"orl $0x100,m32", {0x66, 0x81, 0x0e, 0x00, 0x80, 0x00, 0x01, 0, 0}, 9, 0, 0x80000001,
	 0x18000, 4, true, 0x80000101, 0, 0x80, LOGIC},
	{"addw $-1,m16 (83)", {0x83, 0x06, 0x00, 0x80, 0xff}, 5, 0, 1, 0x18000, 2, true, 0, 0, 0x55,
	 ARITH},
	{"sub %al,m8", {0x28, 0x06, 0x00, 0x80}, 4, 1, 0, 0x18000, 1, true, 0xff, 1, 0x95, ARITH},
	{"and %eax,m32", {0x66, 0x21, 0x06, 0x00, 0x80}, 5, 0xff00ff00, 0x12345678, 0x18000, 4,
	 true, 0x12005600, 0xff00ff00, 0x04, LOGIC},
	{"xor %ax,m16", {0x31, 0x06, 0x00, 0x80}, 4, 0xffff, 0xffff, 0x18000, 2, true, 0, 0xffff,
	 0x44, LOGIC},
	{"stc; adc %eax,m32", {0xf9, 0x66, 0x11, 0x06, 0x00, 0x80}, 6, 1, 0xfffffffe, 0x18000, 4,
	 true, 0, 1, 0x55, ARITH},
	{"cmp m32,%eax (3b)", {0x66, 0x3b, 0x06, 0x00, 0x80}, 5, 5, 5, 0x18000, 4, false, 0, 5, 0x44,
	 ARITH},
	{"cmpb $0x10,m8", {0x80, 0x3e, 0x00, 0x80, 0x10}, 5, 0, 0x0f, 0x18000, 1, false, 0, 0, 0x85,
	 ARITH},
	{"testw $0x8000,m16", {0xf7, 0x06, 0x00, 0x80, 0x00, 0x80}, 6, 0, 0x8001, 0x18000, 2, false,
	 0, 0, 0x84, LOGIC},
	{"test %ah,m8", {0x84, 0x26, 0x00, 0x80}, 4, 0x100, 0x02, 0x18000, 1, false, 0, 0x100, 0x44,
	 LOGIC},
	{"add m32,%eax (03)", {0x66, 0x03, 0x06, 0x00, 0x80}, 5, 0x7fffffff, 1, 0x18000, 4, false, 0,
	 0x80000000, 0x894, ARITH},
	{"xchg %eax,m32", {0x66, 0x87, 0x06, 0x00, 0x80}, 5, 0x11111111, 0x22222222, 0x18000, 4,
	 true, 0x11111111, 0x22222222, 0, ARITH},
	{"bts %eax,m32 (bit 33)", {0x66, 0x0f, 0xab, 0x06, 0x00, 0x80}, 6, 33, 1, 0x18004, 4, true,
	 3, 33, 0, CF},
	{"btrw $15,m16", {0x0f, 0xba, 0x36, 0x00, 0x80, 0x0f}, 6, 0, 0x8000, 0x18000, 2, true, 0, 0,
	 CF, CF},
	{"btl $3,m32", {0x66, 0x0f, 0xba, 0x26, 0x00, 0x80, 0x03}, 7, 0, 0x8, 0x18000, 4, false, 0,
	 0, CF, CF},
	{"movzbl m8,%eax", {0x66, 0x0f, 0xb6, 0x06, 0x00, 0x80}, 6, ~0u, 0xfe, 0x18000, 1, false, 0,
	 0xfe, 0, ARITH},
	{"lock or %eax,m32", {0xf0, 0x66, 0x09, 0x06, 0x00, 0x80}, 6, 0x10, 0x01, 0x18000, 4, true,
	 0x11, 0x10, 0x04, LOGIC},
	{"notl m32", {0x66, 0xf7, 0x16, 0x00, 0x80}, 5, 0, 0x0f0f0f0f, 0x18000, 4, true, 0xf0f0f0f0,
	 0, 0, ARITH},
	{"negw m16", {0xf7, 0x1e, 0x00, 0x80}, 4, 0, 1, 0x18000, 2, true, 0xffff, 0, 0x95, ARITH},
	{"stc; incb m8 (CF kept)", {0xf9, 0xfe, 0x06, 0x00, 0x80}, 5, 0, 0x7f, 0x18000, 1, true, 0x80,
	 0, 0x891, ARITH},
	{"decl m32", {0x66, 0xff, 0x0e, 0x00, 0x80}, 5, 0, 0, 0x18000, 4, true, 0xffffffff, 0, 0x94,
	 ARITH},
	/* clang-format on */
};

static void name_of(char *buf, size_t n, const char *test, const char *what)
{
	snprintf(buf, n, "%s: %s", test, what);
}

/* The MMIO exit the run ended with: its address, or -1 when it was another exit or direction. */
static long mmio_exit(struct rm *x, bool write, uint8_t len)
{
	struct kvm_run *r = x->run;

	if (r->exit_reason != KVM_EXIT_MMIO || r->mmio.is_write != write || r->mmio.len != len)
		return -1;
	return (long)r->mmio.phys_addr;
}

static void mmio_rmw(struct rm *x, const struct rmw *t)
{
	uint8_t code[16] = {0x68, 0x00, 0x10, 0x1f}; /* push $0x1000; pop %ds */
	struct kvm_regs r;
	uint64_t data = 0;
	char what[96];

	memcpy(code + 4, t->code, t->len);
	code[4 + t->len] = 0xf4;
	name_of(what, sizeof(what), t->name, "read");
	check(what, rm_run(x, code, t->len + 5u, t->rax) < 0 ? -1 : mmio_exit(x, false, t->size),
	      (long)t->addr);
	memcpy(x->run->mmio.data, &t->answer, 8);
	if (t->writes) {
		name_of(what, sizeof(what), t->name, "write-back");
		check(what, io(x->vcpu, KVM_RUN, 0) ? -1 : mmio_exit(x, true, t->size),
		      (long)t->addr);
		memcpy(&data, x->run->mmio.data, t->size);
		name_of(what, sizeof(what), t->name, "data written");
		check(what, (long)data, (long)t->data);
	}
	name_of(what, sizeof(what), t->name, "then HLT");
	check(what, io(x->vcpu, KVM_RUN, 0) ? -1 : (long)x->run->exit_reason, KVM_EXIT_HLT);
	if (io(x->vcpu, KVM_GET_REGS, (uintptr_t)&r))
		r = (struct kvm_regs){0};
	name_of(what, sizeof(what), t->name, "RAX");
	check(what, (long)r.rax, (long)t->want_rax);
	name_of(what, sizeof(what), t->name, "flags");
	check(what, (long)(r.rflags & t->flag_mask), (long)t->flags);
}

/* Flat 32-bit guest with the in-kernel local APIC: its registers changed in place. */
static void lapic_rmw(int kvm)
{
	/*
	 * orl $0x100,0xfee000f0; mov 0xfee000f0,%eax; btsl $4,0xfee00080;
	 * cmpl $0,0xfee00030; pushf; pop %ebx; out %al,$0x10 (HLT would wait in the kernel)
	 */
	static const uint8_t code[] = {0x81, 0x0d, 0xf0, 0x00, 0xe0, 0xfe, 0x00, 0x01, 0x00,
				       0x00, 0xa1, 0xf0, 0x00, 0xe0, 0xfe, 0x0f, 0xba, 0x2d,
				       0x80, 0x00, 0xe0, 0xfe, 0x04, 0x83, 0x3d, 0x30, 0x00,
				       0xe0, 0xfe, 0x00, 0x9c, 0x5b, 0xe6, 0x10};
	struct kvm_lapic_state l;
	struct kvm_regs r = {0};
	struct rm x;

	if (rm_vm(kvm, true, 0, &x) || flat32(x.vcpu, x.ram, 0x500, 0x3000, 0x1000, 0x8000)) {
		check("LAPIC read-modify-write: VM", -1, 0);
		return;
	}
	memcpy(x.ram + 0x1000, code, sizeof(code));
	io(x.vcpu, KVM_GET_REGS, (uintptr_t)&r);
	r.rdi = r.rcx = 0x5a5a; /* a string instruction's registers: not for these to step */
	io(x.vcpu, KVM_SET_REGS, (uintptr_t)&r);
	check("LAPIC read-modify-write: runs to the OUT",
	      io(x.vcpu, KVM_RUN, 0) ? -1 : (long)x.run->exit_reason, KVM_EXIT_IO);
	io(x.vcpu, KVM_GET_REGS, (uintptr_t)&r);
	check("LAPIC orl $0x100,SVR: SVR read back", (long)r.rax, 0x1ff);
	check("LAPIC cmpl $0,VERSION: ZF CF", (long)(r.rbx & 0x41), 0);
	check("LAPIC read-modify-write: RDI and RCX as they were", (long)(r.rdi ^ r.rcx), 0);
	check("LAPIC read-modify-write: RDI", (long)r.rdi, 0x5a5a);
	check("LAPIC btsl $4,TPR: TPR",
	      io(x.vcpu, KVM_GET_LAPIC, (uintptr_t)&l) ? -1 : *(int32_t *)&l.regs[0x80], 0x10);
	rm_close(&x);
}

/* Flat 32-bit faults and traps: what the handler finds (EAX, EBX, ECX) as the CPU leaves it. */
static const struct handler_case {
	const char *name;
	uint8_t vec, code[24], len;
	uint8_t handler[16], hlen;
	uint32_t eax_mask, eax, ebx, ecx; /* EBX ~0u: not checked */
} handlers[] = {
	/* mov %cr0,%eax; or $0x20000000,%eax (NW without CD); mov %eax,%cr0 -> #GP(0) */
	{"#GP from MOV to CR0 pushes RF",
	 13,
	 {0x0f, 0x20, 0xc0, 0x0d, 0x00, 0x00, 0x00, 0x20, 0x0f, 0x22, 0xc0},
	 11,
	 {0x8b, 0x44, 0x24, 0x0c, 0x8b, 0x1c, 0x24, 0x8b, 0x4c, 0x24, 0x04, 0xf4}, /* EFLAGS, error,
										     EIP */
	 12,
	 0x10000,
	 0x10000,
	 0,
	 0x1008},
	/* ud2 -> #UD: EFLAGS.RF pushed, EIP of the ud2 */
	{"#UD pushes RF",
	 6,
	 {0x0f, 0x0b},
	 2,
	 {0x8b, 0x44, 0x24, 0x08, 0x8b, 0x0c, 0x24, 0xf4},
	 8,
	 0x10000,
	 0x10000,
	 ~0u,
	 0x1000},
	/* int3 -> #BP, a trap: EIP after it, RF clear */
	{"#BP is a trap",
	 3,
	 {0xcc},
	 1,
	 {0x8b, 0x44, 0x24, 0x08, 0x8b, 0x0c, 0x24, 0xf4},
	 8,
	 0x10000,
	 0,
	 ~0u,
	 0x1001},
	/* pushf; orl $0x100,(%esp); popf; nop -> #DB after the NOP: DR6.BS, EIP after the NOP */
	{"single step: DR6.BS",
	 1,
	 {0x9c, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d, 0x90},
	 10,
	 {0x0f, 0x21, 0xf0, 0x8b, 0x0c, 0x24, 0xf4}, /* mov %dr6,%eax; EIP */
	 7,
	 ~0u,
	 0xffff4ff0,
	 ~0u,
	 0x100a},
	/* mov $0x1014,%eax; mov %eax,%dr0; mov $1,%eax; mov %eax,%dr7; nop; nop: #DB before 0x1014
	 */
	{"instruction breakpoint: DR6.B0, a fault",
	 1,
	 {0xb8, 0x14, 0x10, 0x00, 0x00, 0x0f, 0x23, 0xc0, 0xb8, 0x01, 0x00,
	  0x00, 0x00, 0x0f, 0x23, 0xf8, 0x90, 0x90, 0x90, 0x90, 0x90},
	 21,
	 {0x0f, 0x21, 0xf0, 0x8b, 0x0c, 0x24, 0xf4},
	 7,
	 ~0u,
	 0xffff0ff1,
	 ~0u,
	 0x1014},
};

static void handler_run(int kvm, const struct handler_case *t)
{
	struct kvm_regs r = {0};
	char what[96];
	struct rm x;

	if (rm_vm(kvm, false, 0, &x) || flat32(x.vcpu, x.ram, 0x500, 0x3000, 0x1000, 0x8000)) {
		check(t->name, -1, 0);
		return;
	}
	memcpy(x.ram + 0x1000, t->code, t->len);
	x.ram[0x1000 + t->len] = 0xf4;
	memcpy(x.ram + 0x2000, t->handler, t->hlen);
	idt_gate32(x.ram, 0x3000, t->vec, 0x2000);
	name_of(what, sizeof(what), t->name, "handler reached");
	check(what,
	      io(x.vcpu, KVM_RUN, 0) || io(x.vcpu, KVM_GET_REGS, (uintptr_t)&r) ||
			      x.run->exit_reason != KVM_EXIT_HLT
		      ? -1
		      : (long)r.rip,
	      0x2000 + t->hlen);
	name_of(what, sizeof(what), t->name, "EAX");
	check(what, (long)(r.rax & t->eax_mask), t->eax);
	if (t->ebx != ~0u) {
		name_of(what, sizeof(what), t->name, "EBX");
		check(what, (long)r.rbx, t->ebx);
	}
	name_of(what, sizeof(what), t->name, "ECX");
	check(what, (long)r.rcx, t->ecx);
	rm_close(&x);
}

/* Real mode, then HLT; #GP goes to the HLT at 0x2100 (RIP 0x2101 after it). */
static const struct gp_case {
	const char *name;
	uint8_t code[24], len;
	bool gp;
} gps[] = {
	{"CR0.PG without PE",
	 {0x0f, 0x20, 0xc0, 0x66, 0x0d, 0, 0, 0, 0x80, 0x0f, 0x22, 0xc0},
	 12,
	 true},
	{"CR0.NW without CD",
	 {0x0f, 0x20, 0xc0, 0x66, 0x25, 0xff, 0xff, 0xff, 0xbf, 0x66, 0x0d, 0, 0, 0, 0x20, 0x0f,
	  0x22, 0xc0},
	 18,
	 true},
	{"CR0.CD and NW cleared (valid)",
	 {0x0f, 0x20, 0xc0, 0x66, 0x25, 0xff, 0xff, 0xff, 0x9f, 0x0f, 0x22, 0xc0},
	 12,
	 false},
	{"CR4 reserved bit 31",
	 {0x0f, 0x20, 0xe0, 0x66, 0x0d, 0, 0, 0, 0x80, 0x0f, 0x22, 0xe0},
	 12,
	 true},
	{"CR4.PCIDE outside long mode",
	 {0x0f, 0x20, 0xe0, 0x66, 0x0d, 0, 0, 2, 0, 0x0f, 0x22, 0xe0},
	 12,
	 true},
	/* mov $0xc0000080,%ecx; rdmsr; or $2,%eax; wrmsr */
	{"EFER reserved bit 1",
	 {0x66, 0xb9, 0x80, 0, 0, 0xc0, 0x0f, 0x32, 0x66, 0x83, 0xc8, 0x02, 0x0f, 0x30},
	 14,
	 true},
};

static void gp_run(int kvm)
{
	uint8_t code[32];
	struct rm x;

	if (rm_vm(kvm, false, 0, &x)) {
		check("#GP cases: VM", -1, 0);
		return;
	}
	for (size_t i = 0; i < sizeof(gps) / sizeof(gps[0]); i++) {
		memcpy(code, gps[i].code, gps[i].len);
		code[gps[i].len] = 0xf4;
		check(gps[i].name, rm_hlt(&x, code, gps[i].len + 1u, 0),
		      gps[i].gp ? 0x2101 : 0x1001 + gps[i].len);
	}
	rm_close(&x);
}

/* RDMSR (or WRMSR of EAX) by a real-mode guest as Linux's boot touches them: #GP, or the value. */
static const struct msr_case {
	uint32_t index;
	bool write, value; /* value: compare what was read, not only whether it faulted */
	uint32_t eax;	   /* written */
	long want;	   /* -1: #GP */
} msrs[] = {
	{0x19b, false, true, 0, -1},	     /* IA32_PACKAGE_THERM_INTERRUPT: not KVM's */
	{0x600, false, true, 0, -1},	     /* IA32_DS_AREA: DS not offered */
	{0x3a, false, true, 0, 0},	     /* IA32_FEAT_CTL */
	{0x140, false, true, 0, 0},	     /* MISC_FEATURES_ENABLES */
	{0x1d9, false, true, 0, 0},	     /* IA32_DEBUGCTL */
	{0x8b, false, true, 0, 0x100000000}, /* IA32_UCODE_REV, as KVM's default */
	{0x606, false, true, 0, 0},	     /* RAPL power unit: 0, as KVM */
	{0xc0000103, false, true, 0, -1},    /* TSC_AUX: RDTSCP not offered (no CPUID set) */
	{0x10, false, false, 0, 0},	     /* TSC */
	{0xc0010000, true, false, 0, 0},     /* AMD PERF_CTL0: writes of 0 ignored */
	{0xc0010004, true, false, 0, 0},     /* AMD PERF_CTR0 */
	{0x79, true, false, 0, 0},	     /* microcode update trigger: ignored */
	{0x1d9, true, false, 0, 0},	     /* DEBUGCTL */
	{0x1d9, true, false, 2, 0},	     /* DEBUGCTL.BTF: dropped */
	{0x1d9, true, false, 0x1000, -1},    /* DEBUGCTL.FREEZE_PERFMON_ON_PMI: #GP */
	{0x4b564d01, false, true, 0, 0},     /* KVM_SYSTEM_TIME_NEW */
	{0x9e, false, true, 0, -1},	     /* IA32_SMBASE: the host's only */
	{0x34, false, true, 0, 0},	     /* MSR_SMI_COUNT: the guest reads it */
	{0x34, true, false, 0, -1},	     /* ...but does not write it */
	{0x40000000, false, true, 0, -1},    /* HV_X64_MSR_GUEST_OS_ID: no Hyper-V CPUID */
};

static void msr_run(int kvm)
{
	/* mov $index,%ecx; mov $eax,%eax; xor %edx,%edx; rdmsr or wrmsr; hlt */
	uint8_t code[] = {0x66, 0xb9, 0, 0,    0,    0,	   0x66, 0xb8, 0,
			  0,	0,    0, 0x66, 0x31, 0xd2, 0x0f, 0x32, 0xf4};
	struct kvm_regs r;
	char what[64];
	struct rm x;

	if (rm_vm(kvm, false, 0, &x)) {
		check("MSR cases: VM", -1, 0);
		return;
	}
	for (size_t i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
		long rip, got;
		memcpy(code + 2, &msrs[i].index, 4);
		memcpy(code + 8, &msrs[i].eax, 4);
		code[16] = msrs[i].write ? 0x30 : 0x32;
		rip = rm_hlt(&x, code, sizeof(code), 0);
		if (io(x.vcpu, KVM_GET_REGS, (uintptr_t)&r))
			rip = -2;
		got = rip == 0x2101 ? -1 : rip != 0x1000 + (long)sizeof(code) ? -2 : 0;
		if (!got && msrs[i].value)
			got = (long)((r.rdx << 32) | (uint32_t)r.rax);
		if (msrs[i].write)
			snprintf(what, sizeof(what), "WRMSR %#x of %#x", msrs[i].index,
				 msrs[i].eax);
		else
			snprintf(what, sizeof(what), "RDMSR %#x", msrs[i].index);
		check(what, got, msrs[i].want);
	}
	rm_close(&x);
}

/*
 * Hardware task switches in flat 32-bit mode: task A (TR 0x18, TSS at 0x4000) runs at 0x1000;
 * TSS B (0x20, at 0x4100) and C (0x28, at 0x4200) start at `eip_b` and 0x1300 on their own
 * stacks with EAX 0xb0 and 0xc0. IDT 13 (#GP) is a task gate to C, IDT 0x40 one to B.
 */
static uint64_t tss_desc(uint32_t base, unsigned type)
{
	return 0x67 | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)type << 40 | 1ULL << 47 |
	       (uint64_t)(base >> 24) << 56;
}

enum { T_DS = 21 }; /* DS's dword in a 32-bit TSS */

static void tss_fill(uint8_t *ram, uint32_t base, uint32_t eip, uint32_t esp, uint32_t eax)
{
	uint32_t *t = (uint32_t *)(ram + base);

	memset(t, 0, 0x68);
	t[8] = eip, t[9] = 2, t[10] = eax, t[14] = esp;
	t[18] = t[20] = t[21] = t[22] = t[23] = 0x10; /* ES, SS, DS, FS, GS */
	t[19] = 8;				      /* CS */
}

static int ts_vm(int kvm, struct rm *x, const uint8_t *code, size_t len, uint32_t eip_b)
{
	uint64_t *gdt;
	struct kvm_sregs s;

	if (rm_vm(kvm, false, 0, x) || flat32(x->vcpu, x->ram, 0x500, 0x3000, 0x1000, 0x8000) ||
	    io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s))
		return -1;
	gdt = (uint64_t *)(x->ram + 0x500);
	gdt[3] = tss_desc(0x4000, 0xb);
	gdt[4] = tss_desc(0x4100, 0x9);
	gdt[5] = tss_desc(0x4200, 0x9);
	gdt[6] = 0x00cf92000000ffffULL; /* data, not yet accessed: B's DS */
	tss_fill(x->ram, 0x4100, eip_b, 0x7000, 0xb0);
	((uint32_t *)(x->ram + 0x4100))[T_DS] = 0x30;
	tss_fill(x->ram, 0x4200, 0x1300, 0x6000, 0xc0);
	((uint32_t *)(x->ram + 0x3000))[13 * 2] = 0x28 << 16; /* task gates */
	((uint32_t *)(x->ram + 0x3000))[13 * 2 + 1] = 0x8500;
	((uint32_t *)(x->ram + 0x3000))[0x40 * 2] = 0x20 << 16;
	((uint32_t *)(x->ram + 0x3000))[0x40 * 2 + 1] = 0x8500;
	memcpy(x->ram + 0x1000, code, len);
	x->ram[0x1200] = x->ram[0x1300] = 0xf4; /* B's code for JMP and INT, C's */
	s.gdt.limit = 55;
	s.tr = (struct kvm_segment){
		.base = 0x4000, .limit = 0x67, .selector = 0x18, .type = 0xb, .present = 1};
	return io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s) ? -1 : 0;
}

/* What a task switch left: HLT reached at `rip`, TR, EAX, NT, TS, the TSS descriptors' types */
static void ts_check(struct rm *x, const char *name, long rip, long tr, long eax, long nt,
		     long types)
{
	uint64_t *gdt = (uint64_t *)(x->ram + 0x500);
	struct kvm_sregs s = {0};
	struct kvm_regs r = {0};
	char what[96];

	name_of(what, sizeof(what), name, "HLT reached at");
	check(what,
	      io(x->vcpu, KVM_RUN, 0) || io(x->vcpu, KVM_GET_REGS, (uintptr_t)&r) ||
			      io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s) ||
			      x->run->exit_reason != KVM_EXIT_HLT
		      ? -1
		      : (long)r.rip,
	      rip);
	name_of(what, sizeof(what), name, "TR");
	check(what, s.tr.selector, tr);
	name_of(what, sizeof(what), name, "EAX");
	check(what, (long)r.rax, eax);
	name_of(what, sizeof(what), name, "EFLAGS.NT");
	check(what, (long)(r.rflags & 0x4000), nt);
	name_of(what, sizeof(what), name, "CR0.TS");
	check(what, (long)(s.cr0 & 8), 8);
	name_of(what, sizeof(what), name, "TSS types A B C");
	check(what,
	      (long)((gdt[3] >> 40 & 0xf) << 8 | (gdt[4] >> 40 & 0xf) << 4 | (gdt[5] >> 40 & 0xf)),
	      types);
}

/* Task A's TSS a 16-bit one (busy, in TR) */
static int tss16_a(struct rm *x)
{
	struct kvm_sregs s;

	((uint64_t *)(x->ram + 0x500))[3] = tss_desc(0x4000, 0x3) - 0x67 + 0x2b;
	if (io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s))
		return -1;
	s.tr.type = 3, s.tr.limit = 0x2b;
	return io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s) ? -1 : 0;
}

/* PAE paging for vCPU 0 by KVM_SET_SREGS: CR3 0x9000, PDPTE 0 to a PD whose 2 MiB page 0 is
 * identity */
static int pae_on(struct rm *x)
{
	struct kvm_sregs s;

	*(uint64_t *)(x->ram + 0x9000) = 0xa001;
	*(uint64_t *)(x->ram + 0xa000) = 0x83;
	if (io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s))
		return -1;
	s.cr3 = 0x9000, s.cr4 |= 0x20, s.cr0 |= 0x80000000u;
	return io(x->vcpu, KVM_SET_SREGS, (uintptr_t)&s) ? -1 : 0;
}

static void task_switches(int kvm)
{
	/* lcall $0x20,$0; hlt -- B: mov 0x4100,%ecx (its link); pushf; pop %edx; iret */
	static const uint8_t call[] = {0x9a, 0, 0, 0, 0, 0x20, 0, 0xf4};
	static const uint8_t b_iret[] = {0x8b, 0x0d, 0x00, 0x41, 0, 0, 0x9c, 0x5a, 0xcf};
	static const uint8_t jmp[] = {0xea, 0, 0, 0, 0, 0x20, 0};	     /* ljmp $0x20,$0 */
	static const uint8_t fault[] = {0x66, 0xb8, 0x30, 0x12, 0x8e, 0xd8}; /* mov $0x1230,%ds */
	static const uint8_t intn[] = {0xcd, 0x40};			     /* int $0x40 */
	const uint32_t *a = NULL, *b = NULL, *c = NULL;
	struct rm x;

	if (ts_vm(kvm, &x, (const uint8_t[]){0xf4}, 1, 0x1200) == 0 && pae_on(&x) == 0) {
		check("PAE paging set by KVM_SET_SREGS: the guest runs to its HLT",
		      io(x.vcpu, KVM_RUN, 0) ? -1 : (long)x.run->exit_reason, KVM_EXIT_HLT);
		rm_close(&x);
	}
	if (ts_vm(kvm, &x, call, sizeof(call), 0x1100) == 0) {
		memcpy(x.ram + 0x1100, b_iret, sizeof(b_iret));
		b = (const uint32_t *)(x.ram + 0x4100);
		ts_check(&x, "task switch: CALL to a TSS, IRET back", 0x1008, 0x18, 0, 0, 0xb99);
		check("task switch: CALL: B's link (its ECX)", b[11], 0x18);
		check("task switch: CALL: B's NT (its EDX)", b[12] & 0x4000, 0x4000);
		check("task switch: IRET: B's EIP saved", b[8], 0x1109);
		rm_close(&x);
	}
	/* A and B 16-bit TSSs (both: Linux KVM saves the old task's state in the new TSS's format)
	 */
	if (ts_vm(kvm, &x, call, sizeof(call), 0x1200) == 0 && tss16_a(&x) == 0) {
		uint16_t *w = (uint16_t *)(x.ram + 0x4100);
		memset(w, 0, 0x68);
		w[7] = 0x1200, w[8] = 2, w[9] = 0xb0, w[13] = 0x7000; /* IP, FLAGS, AX, SP */
		w[17] = w[19] = w[20] = 0x10, w[18] = 8;	      /* ES, SS, DS; CS */
		((uint64_t *)(x.ram + 0x500))[4] = tss_desc(0x4100, 0x1) - 0x67 + 0x2b;
		x.ram[0x1200] = 0xcf; /* B: iret */
		ts_check(&x, "task switch: CALL to a 16-bit TSS, IRET back", 0x1008, 0x18, 0, 0,
			 0x319);
		check("task switch: 16-bit TSS: its link", w[0], 0x18);
		check("task switch: 16-bit TSS: its IP saved (past IRET)", w[7], 0x1201);
		check("task switch: 16-bit TSS: its FLAGS saved (NT clear)", w[8] & 0x4002, 2);
		check("task switch: 16-bit TSS: A's IP saved", ((uint16_t *)(x.ram + 0x4000))[7],
		      0x1007);
		rm_close(&x);
	}
	if (ts_vm(kvm, &x, jmp, sizeof(jmp), 0x1200) == 0) {
		a = (const uint32_t *)(x.ram + 0x4000);
		ts_check(&x, "task switch: JMP to a TSS", 0x1201, 0x20, 0xb0, 0, 0x9b9);
		check("task switch: JMP: A's EIP saved", a[8], 0x1007);
		check("task switch: JMP: A's ESP saved", a[14], 0x8000);
		check("task switch: JMP: B's DS descriptor accessed",
		      (long)(x.ram[0x500 + 6 * 8 + 5]), 0x93);
		rm_close(&x);
	}
	if (ts_vm(kvm, &x, fault, sizeof(fault), 0x1200) == 0) {
		c = (const uint32_t *)(x.ram + 0x4200);
		ts_check(&x, "task switch: #GP through a task gate", 0x1301, 0x28, 0xc0, 0x4000,
			 0xb9b);
		check("task switch: #GP: error code on C's stack", *(uint32_t *)(x.ram + 0x5ffc),
		      0x1230);
		check("task switch: #GP: C's link", c[0], 0x18);
		check("task switch: #GP: A's EIP saved (the fault's)",
		      ((const uint32_t *)(x.ram + 0x4000))[8], 0x1004);
		rm_close(&x);
	}
	if (ts_vm(kvm, &x, intn, sizeof(intn), 0x1200) == 0) {
		ts_check(&x, "task switch: INT n through a task gate", 0x1201, 0x20, 0xb0, 0x4000,
			 0xbb9);
		check("task switch: INT: A's EIP saved (past INT)",
		      ((const uint32_t *)(x.ram + 0x4000))[8], 0x1002);
		rm_close(&x);
	}
}

/*
 * AP start-up as a guest's BSP makes it (INIT, then SIPI vector 8: xAPIC physical, the
 * all-but-self shorthand, x2APIC physical) or a VMM does (the AP's registers,
 * then KVM_SET_MP_STATE runnable): vCPU 1, a thread here, writes 0xbeef at 0x7000 from its
 * real-mode trampoline at 0x8000 and halts; vCPU 0 sends the IPIs and exits to user space.
 */
static const struct ap_case {
	const char *name;
	int x2apic;	     /* 1: ICR by WRMSR 0x830; -1: no IPI, the VMM starts the AP */
	uint32_t dest, init; /* xAPIC: ICR bits 63:32; x2APIC: the destination; INIT's low half */
} aps[] = {
	{"AP start: INIT, SIPI to its xAPIC ID", 0, 1u << 24, 0x4500},
	{"AP start: INIT, SIPI to all but self", 0, 0, 0xc4500},
	{"AP start: INIT, SIPI by the x2APIC ICR", 1, 1, 0x4500},
	{"AP start: by the VMM (registers, KVM_SET_MP_STATE)", -1, 0, 0},
};

static uint8_t *emit(uint8_t *p, const void *bytes, size_t n, uint32_t imm)
{
	memcpy(p, bytes, n);
	memcpy(p + n, &imm, 4);
	return p + n + 4;
}

/* vCPU 0's code for case t at 0x1000 (flat 32-bit): APIC on, INIT, SIPI, OUT */
static void bsp_code(uint8_t *p, const struct ap_case *t)
{
	/* mov $0x1b,%ecx; rdmsr; or $0xc00,%eax; wrmsr (x2APIC on); the same for 0x80f (SVR) */
	static const uint8_t x2on[] = {0xb9, 0x1b, 0,	 0,    0,    0x0f, 0x32, 0x0d, 0x00, 0x0c,
				       0,    0,	   0x0f, 0x30, 0xb9, 0x0f, 0x08, 0,    0,    0xb8,
				       0xff, 1,	   0,	 0,    0x31, 0xd2, 0x0f, 0x30};
	static const uint8_t movl[][6] = {
		/* movl $imm32 to SVR, ICR high, ICR low */ {0xc7, 0x05, 0xf0, 0, 0xe0, 0xfe},
		{0xc7, 0x05, 0x10, 3, 0xe0, 0xfe},
		{0xc7, 0x05, 0x00, 3, 0xe0, 0xfe}};
	static const uint8_t ecx_icr[] = {0xb9, 0x30, 8, 0, 0, 0xba}, eax[] = {0xb8},
			     wrmsr[] = {0x0f, 0x30};

	for (unsigned k = 0; k < 2; k++) { /* INIT, then SIPI */
		uint32_t low = k ? (t->init & ~0x7ffu) | 0x608 : t->init;
		if (t->x2apic > 0) {
			if (!k)
				p = (uint8_t *)memcpy(p, x2on, sizeof(x2on)) + sizeof(x2on);
			p = emit(p, ecx_icr, sizeof(ecx_icr), t->dest);
			p = emit(p, eax, 1, low);
			p = (uint8_t *)memcpy(p, wrmsr, 2) + 2;
			continue;
		}
		if (!k)
			p = emit(p, movl[0], 6, 0x1ff);
		p = emit(p, movl[1], 6, t->dest);
		p = emit(p, movl[2], 6, low);
	}
	p[0] = 0xe6, p[1] = 0x10; /* out %al,$0x10 */
}

static void ap_start(int kvm, const struct ap_case *t)
{
	static const uint8_t tramp[] = {0xc7, 0x06, 0x00, 0x70, 0xef, 0xbe, 0xf4, 0xeb, 0xfd};
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[100];
	} cpuid = {.h.nent = 100};
	struct kvm_mp_state mp = {KVM_MP_STATE_RUNNABLE};
	struct sigaction sa = {.sa_handler = interrupt_only};
	struct vcpu_thread ap = {0};
	struct kvm_regs r = {.rflags = 2};
	struct kvm_sregs s;
	struct rm x;
	pthread_t th;
	int waited = 0;
	char what[96];

	if (rm_vm(kvm, true, 0, &x) || (ap.fd = io(x.vm, KVM_CREATE_VCPU, 1)) < 0 ||
	    io(kvm, KVM_GET_SUPPORTED_CPUID, (uintptr_t)&cpuid) ||
	    io(x.vcpu, KVM_SET_CPUID2, (uintptr_t)&cpuid) ||
	    io(ap.fd, KVM_SET_CPUID2, (uintptr_t)&cpuid) ||
	    flat32(x.vcpu, x.ram, 0x500, 0x3000, 0x1000, 0x6000)) {
		check(t->name, -1, 0xbeef);
		return;
	}
	memcpy(x.ram + 0x8000, tramp, sizeof(tramp));
	bsp_code(x.ram + 0x1000, t);
	if (t->x2apic < 0 && !io(ap.fd, KVM_GET_SREGS, (uintptr_t)&s)) {
		s.cs.selector = 0x800, s.cs.base = 0x8000;
		io(ap.fd, KVM_SET_SREGS, (uintptr_t)&s);
		io(ap.fd, KVM_SET_REGS, (uintptr_t)&r);
		io(ap.fd, KVM_SET_MP_STATE, (uintptr_t)&mp);
	}
	sigaction(SIGUSR1, &sa, NULL);
	pthread_create(&th, NULL, vcpu_thread_run, &ap);
	name_of(what, sizeof(what), t->name, "vCPU 0's IPIs sent (OUT exit)");
	if (t->x2apic >= 0)
		check(what, io(x.vcpu, KVM_RUN, 0) ? -1 : (long)x.run->exit_reason, KVM_EXIT_IO);
	while (*(volatile uint16_t *)(x.ram + 0x7000) != 0xbeef && waited++ < 500)
		usleep(10000);
	check(t->name, *(volatile uint16_t *)(x.ram + 0x7000), 0xbeef);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	close(ap.fd);
	rm_close(&x);
}

/*
 * One RDMSR or WRMSR (EDX:EAX = value) in real mode, then HLT: the value read (or 0 for a
 * write), -1 for #GP (the HLT at 0x2100), else -2 - the exit reason.
 */
static long msr_op(struct rm *x, uint32_t index, bool write, uint64_t value)
{
	/* mov $index,%ecx; mov $lo,%eax; mov $hi,%edx; rdmsr or wrmsr; hlt */
	uint8_t code[] = {0x66, 0xb9, 0,    0, 0, 0, 0x66, 0xb8, 0,    0,   0,
			  0,	0x66, 0xba, 0, 0, 0, 0,	   0x0f, 0x32, 0xf4};
	uint32_t lo = (uint32_t)value, hi = (uint32_t)(value >> 32);
	long rc;

	memcpy(code + 2, &index, 4);
	memcpy(code + 8, &lo, 4);
	memcpy(code + 14, &hi, 4);
	code[19] = write ? 0x30 : 0x32;
	rc = rm_run(x, code, sizeof(code), 0);
	if (rc != KVM_EXIT_HLT)
		return -2 - rc;
	if (rm_reg(x, true) == 0x2101)
		return -1;
	if (write)
		return 0;
	{
		struct kvm_regs r;

		io(x->vcpu, KVM_GET_REGS, (uintptr_t)&r);
		return (long)(r.rdx << 32 | (uint32_t)r.rax);
	}
}

/* The vCPU made Hyper-V's: KVM_GET_SUPPORTED_CPUID with the KVM leaves moved to 0x40000100 (as
 * QEMU moves them) and KVM_GET_SUPPORTED_HV_CPUID's at 0x40000000. */
static int hv_cpuid(int kvm, int vcpu)
{
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[120];
	} c = {.h.nent = 100}, hv = {.h.nent = 20};

	if (io(kvm, KVM_GET_SUPPORTED_CPUID, (uintptr_t)&c) ||
	    io(vcpu, KVM_GET_SUPPORTED_HV_CPUID, (uintptr_t)&hv) || c.h.nent + hv.h.nent > 120)
		return -1;
	for (unsigned i = 0; i < c.h.nent; i++)
		if ((c.e[i].function & 0xffffff00) == 0x40000000)
			c.e[i].function += 0x100;
	memcpy(c.e + c.h.nent, hv.e, hv.h.nent * sizeof(hv.e[0]));
	c.h.nent += hv.h.nent;
	return io(vcpu, KVM_SET_CPUID2, (uintptr_t)&c) ? -1 : 0;
}

/*
 * Hyper-V's MSRs (KVM_CAP_HYPERV) from a real-mode guest whose CPUID is Hyper-V's: identity,
 * hypercall page, VP index, frequencies, reference counter and TSC page, crash and reset
 * (KVM_EXIT_SYSTEM_EVENT after the WRMSR), the rules for host and guest writes, and
 * KVM_CAP_HYPERV_ENFORCE_CPUID's gating.
 */
static void hyperv(int kvm)
{
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[10];
	} hv = {.h.nent = 9};
	struct kvm_enable_cap enforce = {.cap = KVM_CAP_HYPERV_ENFORCE_CPUID, .args[0] = 1};
	uint64_t v = 3;
	long t0, t1;
	struct rm x;

	check("KVM_GET_SUPPORTED_HV_CPUID with 9 entries",
	      io(kvm, KVM_GET_SUPPORTED_HV_CPUID, (uintptr_t)&hv), -E2BIG);
	hv.h.nent = 10;
	check("KVM_GET_SUPPORTED_HV_CPUID: entries, max leaf",
	      io(kvm, KVM_GET_SUPPORTED_HV_CPUID, (uintptr_t)&hv)
		      ? -1
		      : (long)(hv.h.nent << 24 | hv.e[0].eax),
	      10 << 24 | 0x40000082);
	if (rm_vm(kvm, false, 0, &x) || hv_cpuid(kvm, x.vcpu)) {
		check("Hyper-V: VM", -1, 0);
		return;
	}
	check("HV GUEST_OS_ID written", msr_op(&x, 0x40000000, true, 0x8100ULL << 48), 0);
	check("HV GUEST_OS_ID read", msr_op(&x, 0x40000000, false, 0), (long)(0x8100ULL << 48));
	check("HV HYPERCALL page enabled at 0x3000", msr_op(&x, 0x40000001, true, 0x3001), 0);
	check("HV hypercall page: VMCALL; RET", *(uint32_t *)(x.ram + 0x3000), 0xc3c1010f);
	check("HV HYPERCALL read", msr_op(&x, 0x40000001, false, 0), 0x3001);
	check("HV VP_INDEX", msr_op(&x, 0x40000002, false, 0), 0);
	check("HV VP_INDEX guest write", msr_op(&x, 0x40000002, true, 1), -1);
	check("HV VP_INDEX host write", msr_io(x.vcpu, KVM_SET_MSRS, 0x40000002, &v), 1);
	check("HV VP_INDEX after the host's", msr_op(&x, 0x40000002, false, 0), 3);
	check("HV TSC_FREQUENCY is KVM_GET_TSC_KHZ's",
	      msr_op(&x, 0x40000022, false, 0) == io(x.vcpu, KVM_GET_TSC_KHZ, 0) * 1000, 1);
	check("HV APIC_FREQUENCY", msr_op(&x, 0x40000023, false, 0), 1000000000);
	check("HV TSC_FREQUENCY guest write", msr_op(&x, 0x40000022, true, 1), -1);
	t0 = msr_op(&x, 0x40000020, false, 0);
	t1 = msr_op(&x, 0x40000020, false, 0);
	check("HV TIME_REF_COUNT counts up", t0 >= 0 && t1 > t0, 1);
	check("HV TIME_REF_COUNT guest write", msr_op(&x, 0x40000020, true, 0), -1);
	check("HV REFERENCE_TSC enabled at 0x4000", msr_op(&x, 0x40000021, true, 0x4001), 0);
	check("HV TSC page: sequence and scale set",
	      *(uint32_t *)(x.ram + 0x4000) != 0 && *(uint64_t *)(x.ram + 0x4008) != 0, 1);
	check("HV CRASH_P0 written", msr_op(&x, 0x40000100, true, 0x1234), 0);
	check("HV CRASH_P0 read", msr_op(&x, 0x40000100, false, 0), 0x1234);
	check("HV TSC_EMULATION_STATUS guest write of 1", msr_op(&x, 0x40000108, true, 1), -1);
	check("HV TSC_EMULATION_STATUS guest write of 0", msr_op(&x, 0x40000108, true, 0), 0);
	check("HV RESET of 1: system event", msr_op(&x, 0x40000003, true, 1),
	      -2 - KVM_EXIT_SYSTEM_EVENT);
	check("...reset (no data), after the WRMSR",
	      (long)x.run->system_event.ndata << 32 | x.run->system_event.type << 16 |
		      rm_reg(&x, true),
	      KVM_SYSTEM_EVENT_RESET << 16 | 0x1014);
	check("KVM_CAP_SYSTEM_EVENT_DATA", io(kvm, KVM_CHECK_EXTENSION, KVM_CAP_SYSTEM_EVENT_DATA),
	      1);
	check("HV CRASH_CTL notify: system event", msr_op(&x, 0x40000105, true, 1ULL << 63),
	      -2 - KVM_EXIT_SYSTEM_EVENT);
	check("...crash", x.run->system_event.type, KVM_SYSTEM_EVENT_CRASH);
	check("KVM_CAP_HYPERV_ENFORCE_CPUID", io(x.vcpu, KVM_ENABLE_CAP, (uintptr_t)&enforce), 0);
	check("HV GUEST_OS_ID with the CPUID enforced (HYPERCALL_AVAILABLE)",
	      msr_op(&x, 0x40000000, false, 0), (long)(0x8100ULL << 48));
	check("HV REFERENCE_TSC with the CPUID enforced", msr_op(&x, 0x40000021, false, 0), 0x4001);
	check("HV CRASH_P0 enforced (CRASH_MSR_AVAILABLE)", msr_op(&x, 0x40000100, false, 0),
	      0x1234);
	rm_close(&x);
}

/*
 * System management mode (KVM_CAP_X86_SMM): SMRAM is a slot of address space 1 at GPA 0 over
 * the VM's RAM, SMBASE 0. The real-mode code at 0x1000 sets BX and stops; KVM_SMI; the handler
 * at 0x8000 reads SMRAM, stops, rewrites the saved RBX in the state-save map and executes RSM;
 * the code then shows BX. With long mode in CPUID the map has KVM's 64-bit layout, else 32-bit.
 */
static void smm_state(struct rm *x, const char *mode, uint8_t *smram, uint32_t rbx_at,
		      uint32_t rip_at)
{
	struct kvm_vcpu_events ev;
	struct kvm_sregs s;
	struct kvm_regs r;
	uint64_t count = 0;
	char what[96];

	snprintf(what, sizeof(what), "SMM %s: handler reads SMRAM (OUT exit)", mode);
	check(what,
	      io(x->vcpu, KVM_RUN, 0) || x->run->io.port != 0x11 ? -1 : rm_reg(x, false) & 0xff,
	      0x5a);
	snprintf(what, sizeof(what), "SMM %s: kvm_run flags", mode);
	check(what, x->run->flags & KVM_RUN_X86_SMM, KVM_RUN_X86_SMM);
	io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s);
	io(x->vcpu, KVM_GET_REGS, (uintptr_t)&r);
	snprintf(what, sizeof(what), "SMM %s: CS base, limit, type", mode);
	check(what, (long)(s.cs.base << 40 | (uint64_t)s.cs.limit << 8 | s.cs.type), 0xffffffff03);
	snprintf(what, sizeof(what), "SMM %s: CR0.PE, CR4, IDT limit", mode);
	check(what, (long)((s.cr0 & 1) << 32 | s.cr4 << 16 | s.idt.limit), 0);
	snprintf(what, sizeof(what), "SMM %s: RFLAGS", mode);
	check(what, (long)r.rflags, 2);
	io(x->vcpu, KVM_GET_VCPU_EVENTS, (uintptr_t)&ev);
	/* (not whether NMIs were blocked before or after: Bochs's virtual-NMI blocking leaks into
	 * other guests, measured on Linux KVM as here) */
	snprintf(what, sizeof(what), "SMM %s: events smm, pending, NMI masked", mode);
	check(what, ev.smi.smm << 8 | ev.smi.pending << 4 | ev.nmi.masked, 0x101);
	snprintf(what, sizeof(what), "SMM %s: KVM_SET_VCPU_EVENTS in SMM", mode);
	check(what, io(x->vcpu, KVM_SET_VCPU_EVENTS, (uintptr_t)&ev), 0);
	snprintf(what, sizeof(what), "SMM %s: map revision", mode);
	check(what, *(uint32_t *)(smram + 0xfefc), rip_at == 0xff78 ? 0x20064 : 0x20000);
	snprintf(what, sizeof(what), "SMM %s: map RIP, RBX", mode);
	check(what, (long)(*(uint32_t *)(smram + rip_at) << 16 | *(uint16_t *)(smram + rbx_at)),
	      0x10051111);
	snprintf(what, sizeof(what), "SMM %s: MSR_SMI_COUNT", mode);
	check(what, msr_io(x->vcpu, KVM_GET_MSRS, 0x34, &count) == 1 ? (long)count : -1, 1);
	snprintf(what, sizeof(what), "SMM %s: after RSM, BX as the map had it", mode);
	check(what,
	      io(x->vcpu, KVM_RUN, 0) || x->run->io.port != 0x12 ? -1 : rm_reg(x, false) & 0xff,
	      0x77);
	io(x->vcpu, KVM_GET_VCPU_EVENTS, (uintptr_t)&ev);
	io(x->vcpu, KVM_GET_SREGS, (uintptr_t)&s);
	snprintf(what, sizeof(what), "SMM %s: after RSM, flags, smm, CS limit", mode);
	check(what, (long)(x->run->flags << 24 | ev.smi.smm << 20 | s.cs.limit), 0xffff);
}

static void smm(int kvm, bool lm)
{
	/* mov $0x1111,%bx; out %al,$0x10; mov %bl,%al; out %al,$0x12; hlt */
	static const uint8_t code[] = {0xbb, 0x11, 0x11, 0xe6, 0x10, 0x88, 0xd8, 0xe6, 0x12, 0xf4};
	/* mov 0x100,%al; out %al,$0x11; movb $0x77,RBX's place; rsm */
	uint8_t handler[] = {0xa0, 0, 1, 0xe6, 0x11, 0xc6, 0x06, 0, 0, 0x77, 0x0f, 0xaa};
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[100];
	} cpuid = {.h.nent = 100};
	struct kvm_userspace_memory_region mem = {
		.slot = 1 << 16, .memory_size = 0x10000, .flags = KVM_MEM_LOG_DIRTY_PAGES};
	const char *mode = lm ? "64-bit map" : "32-bit map";
	uint16_t rbx_at = lm ? 0xffe0 : 0xffdc;
	uint64_t smbase = 0, bits[2] = {0};
	struct kvm_dirty_log log = {.slot = 1 << 16, .dirty_bitmap = bits};
	uint8_t *smram =
		mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char what[96];
	struct rm x;

	memcpy(handler + 7, &rbx_at, 2);
	memcpy(smram + 0x8000, handler, sizeof(handler));
	smram[0x100] = 0x5a;
	mem.userspace_addr = (uintptr_t)smram;
	if (rm_vm(kvm, false, 0, &x) || io(x.vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&mem) ||
	    msr_io(x.vcpu, KVM_SET_MSRS, 0x9e, &smbase) != 1 ||
	    (lm && (io(kvm, KVM_GET_SUPPORTED_CPUID, (uintptr_t)&cpuid) ||
		    io(x.vcpu, KVM_SET_CPUID2, (uintptr_t)&cpuid)))) {
		check(mode, -1, 0);
		return;
	}
	x.ram[0x100] = 0xa5;
	snprintf(what, sizeof(what), "SMM %s: code runs to its OUT", mode);
	check(what, rm_run(&x, code, sizeof(code), 0), KVM_EXIT_IO);
	snprintf(what, sizeof(what), "SMM %s: KVM_SMI", mode);
	check(what, io(x.vcpu, KVM_SMI, 0), 0);
	smm_state(&x, mode, smram, rbx_at, lm ? 0xff78 : 0xfff0);
	snprintf(what, sizeof(what), "SMM %s: RAM and SMRAM kept apart", mode);
	check(what, x.ram[0x100] << 8 | smram[0x100], 0xa55a);
	/* the page the handler wrote (Linux KVM in Bochs also logs pages it only read) */
	snprintf(what, sizeof(what), "SMM %s: SMRAM's dirty log has the map's page", mode);
	check(what, io(x.vm, KVM_GET_DIRTY_LOG, (uintptr_t)&log) ? -1 : (long)(bits[0] >> 15 & 1),
	      1);
	munmap(smram, 0x10000);
	rm_close(&x);
}

/* Outside SMM: RSM is #UD (the HLT at 0x2000); a third address space does not exist. */
static void smm_limits(int kvm)
{
	static const uint8_t rsm[] = {0x0f, 0xaa, 0xf4};
	struct kvm_userspace_memory_region mem = {.slot = 2 << 16, .memory_size = 0x1000};
	struct rm x;

	check("KVM_CAP_X86_SMM", io(kvm, KVM_CHECK_EXTENSION, KVM_CAP_X86_SMM), 1);
	check("KVM_CAP_MULTI_ADDRESS_SPACE",
	      io(kvm, KVM_CHECK_EXTENSION, KVM_CAP_MULTI_ADDRESS_SPACE), 2);
	if (rm_vm(kvm, false, 0, &x)) {
		check("SMM limits: VM", -1, 0);
		return;
	}
	mem.userspace_addr = (uintptr_t)x.ram;
	check("RSM outside SMM: #UD", rm_hlt(&x, rsm, sizeof(rsm), 0), 0x2001);
	check("a slot in address space 2", io(x.vm, KVM_SET_USER_MEMORY_REGION, (uintptr_t)&mem),
	      -EINVAL);
	rm_close(&x);
}

/*
 * Without an in-kernel local APIC, every return from KVM_RUN reports the APIC base (QEMU's own
 * APIC takes it from there, -EINTR too) and each KVM_RUN takes user space's TPR as CR8.
 */
static void run_state(int kvm)
{
	struct kvm_sregs s;
	struct rm x;

	if (rm_vm(kvm, false, 0, &x)) {
		check("run state: VM", -1, 0);
		return;
	}
	x.run->immediate_exit = 1;
	x.run->cr8 = 5;
	check("immediate_exit: KVM_RUN", io(x.vcpu, KVM_RUN, 0), -EINTR);
	check("immediate_exit: kvm_run's apic_base", (long)x.run->apic_base, 0xfee00900);
	check("immediate_exit: user space's cr8 taken",
	      io(x.vcpu, KVM_GET_SREGS, (uintptr_t)&s) ? -1 : (long)s.cr8, 5);
	x.run->cr8 = 16;
	check("KVM_RUN with cr8 16", io(x.vcpu, KVM_RUN, 0), -EINVAL);
	rm_close(&x);
}

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR);
	struct rm x;

	test_name = "kvm_conform";
	if (kvm < 0) {
		perror("kvm_conform: /dev/kvm");
		return summary() + 1;
	}
	if (rm_vm(kvm, false, 0, &x) == 0) {
		for (size_t i = 0; i < sizeof(rmw) / sizeof(rmw[0]); i++)
			mmio_rmw(&x, &rmw[i]);
		rm_close(&x);
	}
	lapic_rmw(kvm);
	run_state(kvm);
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		handler_run(kvm, &handlers[i]);
	gp_run(kvm);
	msr_run(kvm);
	task_switches(kvm);
	hyperv(kvm);
	smm_limits(kvm);
	smm(kvm, true);
	smm(kvm, false);
	for (size_t i = 0; i < sizeof(aps) / sizeof(aps[0]); i++)
		ap_start(kvm, &aps[i]);
	return summary();
}
