/*
 * The QEMU conformance guest: a Multiboot kernel that unmodified QEMU boots (-kernel) on
 * /dev/kvm, in each irqchip mode, as a user's guest would be run. It checks, from the SDM and
 * KVM's documentation, what kvm_conform checks through its own runner, but on QEMU's paths: the
 * APs QEMU made started by INIT and SIPI (xAPIC ID, Linux's sequence, shorthand, x2APIC ICR),
 * the MSRs a Linux guest touches, read-modify-write instructions on QEMU's and the kernel's
 * device registers (local APIC, IOAPIC, HPET), #DB and #BP, CR and EFER writes that must #GP,
 * 32-bit task switches, interrupts (self-IPI, NMI, the LAPIC timer, HLT), instructions CPUID does
 * not offer, then a reset (the keyboard controller's) and a triple fault: the state after each,
 * the AP started again.
 * One line a check, "qconform: ok|FAIL MODE/NAME: got X, want Y"; "#N" is a fault on vector N.
 * Command line: mode=NAME (the irqchip mode, for the names), cpus=N.
 */
#include <stdbool.h>
#include <stdint.h>

#define LAPIC	  0xfee00000u
#define IOAPIC	  0xfec00000u
#define HPET	  0xfed00000u
#define NONE	  0xffu				/* no fault */
#define FAULT(v)  (0xfa11000000000000ull | (v)) /* a check's value: fault on vector v */
#define TF	  0x100u
#define NT	  0x4000u
#define RF	  0x10000u
#define ZF	  0x40u
#define CF	  0x1u
#define CMOS_MARK 0x51 /* CMOS byte: 0xa5 the reset, 0xa6 the triple fault was done (kept) */
#define AP_DATA	  ((volatile uint32_t *)0x6000) /* the trampoline's count, APIC ID, CS */

struct frame {
	uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax, vector, error, eip, cs, eflags;
};

struct tss {
	uint16_t link, r0;
	uint32_t esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp,
		esi, edi, es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap;
};

enum { T_MAIN, T_CALL, T_JMP, T_GATE, T_FAULT, NTASKS }; /* TSS selector 0x18 + 8 * index */

extern const char isr_table[], irq_stubs[], tramp[], tramp_end[];
extern char task_nested[], task_jmp[], task_fault[];

static uint64_t gdt[3 + NTASKS] = {0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull};
struct __attribute__((packed)) {
	uint16_t limit;
	uint32_t base;
} gdt_desc = {sizeof(gdt) - 1, (uint32_t)gdt};
static uint64_t idt[0x81];
static struct tss tss[NTASKS];
static uint8_t task_stack[NTASKS][4096] __attribute__((aligned(16)));
static uint64_t pdpt[4] __attribute__((aligned(32))), pdpt_bad[4] __attribute__((aligned(32)));
static uint64_t pd[4][512] __attribute__((aligned(4096)));

volatile uint32_t fault_vec = NONE, fault_err, fault_eflags, fault_eip, resume, dr6_seen, db_count,
		  bp_count, watched, irqs[3], /* irqs: 0x40, 0x41 and NMIs taken */
	hv_irqs[3];			      /* 0x43-0x45 (Hyper-V), each EOIed by its EOI MSR */
static unsigned passed, failed;
static char mode[16] = "?";
static const char *phase = "";
static unsigned cpus = 1;

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void putc(char c)
{
	while (!(inb(0x3fd) & 0x20))
		;
	outb(0x3f8, (uint8_t)c);
}

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

static void putnum(uint64_t v)
{
	int i = 60;

	if (v >> 48 == 0xfa11) {
		putc('#');
		putc((char)('0' + (v & 0xff) / 10));
		putc((char)('0' + (v & 0xff) % 10));
		return;
	}
	puts("0x");
	while (i > 0 && !(v >> i))
		i -= 4;
	for (; i >= 0; i -= 4)
		putc("0123456789abcdef"[(v >> i) & 0xf]);
}

static void putdec(unsigned v)
{
	if (v >= 10)
		putdec(v / 10);
	putc((char)('0' + v % 10));
}

static void check(const char *name, uint64_t got, uint64_t want)
{
	bool ok = got == want;

	ok ? passed++ : failed++;
	puts(ok ? "qconform: ok " : "qconform: FAIL ");
	puts(mode);
	putc('/');
	puts(phase);
	puts(name);
	puts(": got ");
	putnum(got);
	puts(", want ");
	putnum(want);
	putc('\n');
}

/* QEMU's isa-debug-exit device (port 0xf4) ends QEMU; a bare halt when there is none */
static void __attribute__((noreturn)) finish(unsigned code)
{
	asm volatile("outl %0, $0xf4" : : "a"(code));
	for (;;)
		asm volatile("cli; hlt");
}

void exception(struct frame *f)
{
	fault_vec = f->vector;
	fault_err = f->error;
	fault_eflags = f->eflags;
	fault_eip = f->eip;
	if (f->vector == 1) { /* read DR6, reset it, step over what was hit */
		asm volatile("mov %%dr6, %0" : "=r"(dr6_seen));
		asm volatile("mov %0, %%dr6" : : "r"(0xffff0ff0u));
		f->eflags = (f->eflags & ~TF) | RF;
		db_count++;
	} else if (f->vector == 3) {
		bp_count++;
	} else if (f->vector >= 0x43 && f->vector <= 0x45) {
		hv_irqs[f->vector - 0x43]++;
		asm volatile("wrmsr" : : "c"(0x40000070), "a"(0), "d"(0)); /* HV_X64_MSR_EOI */
	} else if (f->vector == 2 || f->vector >= 0x40) {
		irqs[f->vector & 3]++;
		if (f->vector >= 0x40)
			*(volatile uint32_t *)(LAPIC + 0xb0) = 0; /* EOI */
	} else if (resume) {
		f->eip = resume;
		resume = 0;
	} else {
		puts("qconform: unexpected exception ");
		putnum(f->vector);
		puts(" at ");
		putnum(f->eip);
		putc('\n');
		finish(2);
	}
}

/* Each *_safe runs one instruction; it returns the value, or FAULT(vector) when it faulted. */
static uint64_t rdmsr_safe(uint32_t msr)
{
	uint32_t lo = 0, hi = 0;

	fault_vec = NONE;
	asm volatile("movl $1f, resume\n\trdmsr\n1:\tmovl $0, resume"
		     : "+a"(lo), "+d"(hi)
		     : "c"(msr)
		     : "memory");
	return fault_vec != NONE ? FAULT(fault_vec) : (uint64_t)hi << 32 | lo;
}

static uint64_t wrmsr_safe(uint32_t msr, uint64_t v)
{
	fault_vec = NONE;
	asm volatile("movl $1f, resume\n\twrmsr\n1:\tmovl $0, resume"
		     :
		     : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
		     : "memory");
	return fault_vec != NONE ? FAULT(fault_vec) : 0;
}

#define WRITE_SAFE(insn, v)                                                      \
	({                                                                       \
		fault_vec = NONE;                                                \
		asm volatile("movl $1f, resume\n\t" insn "\n1:\tmovl $0, resume" \
			     :                                                   \
			     : "r"(v)                                            \
			     : "memory");                                        \
		fault_vec != NONE ? FAULT(fault_vec) : 0;                        \
	})
#define READ_CR(n)                                             \
	({                                                     \
		uint32_t v_;                                   \
		asm volatile("mov %%cr" #n ", %0" : "=r"(v_)); \
		v_;                                            \
	})
#define READ_DR(n)                                             \
	({                                                     \
		uint32_t v_;                                   \
		asm volatile("mov %%dr" #n ", %0" : "=r"(v_)); \
		v_;                                            \
	})
#define WRITE_DR(n, v) asm volatile("mov %0, %%dr" #n : : "r"((uint32_t)(v)) : "memory")

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static bool has(uint32_t leaf, int reg, int bit)
{
	uint32_t r[4];

	cpuid(leaf & 0x80000000u, r);
	if (r[0] < leaf)
		return false;
	cpuid(leaf, r);
	return r[reg] >> bit & 1;
}

#define ECX 2
#define EDX 3

static uint32_t mmio_rd(uint32_t a)
{
	return *(volatile uint32_t *)a;
}

static void mmio_wr(uint32_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

static uint8_t cmos(uint8_t index, int value)
{
	outb(0x70, index);
	if (value >= 0)
		outb(0x71, (uint8_t)value);
	return inb(0x71);
}

/* --- MSRs, CRs and EFER ------------------------------------------------------------------ */

static void check_msrs(void)
{
	bool rdtscp = has(0x80000001, EDX, 27), amd_ctrs_fault = false;
	uint64_t t0, t1;
	uint32_t aux;

	check("rdmsr of an MSR no CPU has", rdmsr_safe(0x12345678), FAULT(13));
	check("that #GP pushes EFLAGS.RF", fault_eflags & RF, RF);
	check("rdmsr IA32_APIC_BASE", rdmsr_safe(0x1b), 0xfee00900);
	check("rdmsr IA32_PAT", rdmsr_safe(0x277), 0x0007040600070406ull);
	check("wrmsr IA32_PAT with type 2", wrmsr_safe(0x277, 0x0007040600070402ull), FAULT(13));
	check("rdmsr IA32_PACKAGE_THERM_INTERRUPT (not KVM's)", rdmsr_safe(0x19b), FAULT(13));
	check("rdmsr IA32_DS_AREA", rdmsr_safe(0x600), has(1, EDX, 21) ? 0 : FAULT(13));
	for (uint32_t m = 0xc0010000; m <= 0xc0010007; m++)
		amd_ctrs_fault |= wrmsr_safe(m, 0) != 0;
	check("wrmsr 0 to the AMD counters 0xc0010000-7", amd_ctrs_fault, 0);
	/* SeaBIOS relocates SMBASE with an SMI where the VM has SMM (KVM_CAP_X86_SMM) */
	check("rdmsr MSR_SMI_COUNT: SMIs taken", rdmsr_safe(0x34) != 0, 1);
	check("rdmsr IA32_SMBASE (the host's only)", rdmsr_safe(0x9e), FAULT(13));
	check("wrmsr IA32_SYSENTER_CS", wrmsr_safe(0x174, 0x10), 0);
	check("rdmsr IA32_SYSENTER_CS", rdmsr_safe(0x174), 0x10);
	check("wrmsr EFER reserved bit 2", wrmsr_safe(0xc0000080, 4), FAULT(13));
	if (has(1, EDX, 12)) {
		check("rdmsr MTRRcap", rdmsr_safe(0xfe), 0x508);
		check("wrmsr MTRRdefType 0xc06", wrmsr_safe(0x2ff, 0xc06), 0);
		check("rdmsr MTRRdefType", rdmsr_safe(0x2ff), 0xc06);
		check("wrmsr MTRRdefType type 2", wrmsr_safe(0x2ff, 0xc02), FAULT(13));
	}
	t0 = rdmsr_safe(0x10);
	t1 = rdmsr_safe(0x10);
	check("IA32_TSC counts up", t1 > t0, 1);
	check("wrmsr TSC_AUX", wrmsr_safe(0xc0000103, 0x2a), rdtscp ? 0 : FAULT(13));
	if (rdtscp) {
		check("rdmsr TSC_AUX", rdmsr_safe(0xc0000103), 0x2a);
		asm volatile("rdtscp" : "=c"(aux) : : "eax", "edx");
		check("RDTSCP's ECX", aux, 0x2a);
		check("wrmsr TSC_AUX bit 32", wrmsr_safe(0xc0000103, 1ull << 32), FAULT(13));
	}
}

static uint64_t write_cr0(uint32_t v)
{
	return WRITE_SAFE("mov %0, %%cr0", v);
}

static uint64_t write_cr4(uint32_t v)
{
	return WRITE_SAFE("mov %0, %%cr4", v);
}

/* Identity maps of the 4 GiB: PAE (2 MiB pages) and a PDPT with a reserved bit set */
static void build_paging(void)
{
	for (int i = 0; i < 4; i++) {
		for (int j = 0; j < 512; j++)
			pd[i][j] = ((uint64_t)i << 30 | (uint64_t)j << 21) | 0x83 |
				   (i == 3 ? 0x18 : 0);
		pdpt[i] = (uint32_t)pd[i] | 1;
		pdpt_bad[i] = pdpt[i] | (i == 2 ? 0x2 : 0); /* bit 1 is reserved in a PDPTE */
	}
}

static void check_crs(void)
{
	uint32_t cr0 = READ_CR(0), cr4 = READ_CR(4);
	bool lm = has(0x80000001, EDX, 29);

	check("CR4 reserved bit 15", write_cr4(cr4 | 1u << 15), FAULT(13));
	check("CR4.PCIDE outside IA-32e mode", write_cr4(cr4 | 1u << 17), FAULT(13));
	if (!has(1, ECX, 5))
		check("CR4.VMXE without VMX in CPUID", write_cr4(cr4 | 1u << 13), FAULT(13));
	if (!has(1, ECX, 26))
		check("CR4.OSXSAVE without XSAVE in CPUID", write_cr4(cr4 | 1u << 18), FAULT(13));
	check("CR0.NW without CD", write_cr0(cr0 | 1u << 29), FAULT(13));
	check("CR0.PG without PE", write_cr0((cr0 & ~1u) | 1u << 31), FAULT(13));
	check("CR0 after those", READ_CR(0), cr0);
	check("CR4 after those", READ_CR(4), cr4);
	if (lm) {
		check("EFER.LME with paging off", wrmsr_safe(0xc0000080, 1u << 8), 0);
		check("CR0.PG with EFER.LME and no CR4.PAE", write_cr0(cr0 | 1u << 31), FAULT(13));
		check("EFER.LME off", wrmsr_safe(0xc0000080, 0), 0);
	}
	build_paging();
	asm volatile("mov %0, %%cr3" : : "r"((uint32_t)pdpt) : "memory");
	check("CR4.PAE", write_cr4(cr4 | 1u << 5), 0);
	check("CR0.PG with PAE", write_cr0(cr0 | 1u << 31), 0);
	check("MOV to CR3 with a reserved PDPTE bit",
	      WRITE_SAFE("mov %0, %%cr3", (uint32_t)pdpt_bad), FAULT(13));
	check("CR3 after that", READ_CR(3), (uint32_t)pdpt);
	check("paging off", write_cr0(cr0), 0);
	check("CR4.PAE off", write_cr4(cr4), 0);
}

/* --- #DB and #BP -------------------------------------------------------------------------- */

static void check_debug(void)
{
	uint32_t at, tmp = 0x2400, cr4 = READ_CR(4);

	asm volatile("movl $1f, %0\n\tint3\n1:" : "=r"(at) : : "memory");
	check("INT3: #BP once", bp_count, 1);
	check("INT3: saved EIP after it", fault_eip, at);

	db_count = 0;
	asm volatile("movl $1f, %0\n\tpushf\n\torl $0x100, (%%esp)\n\tpopf\n\tnop\n1:\tnop"
		     : "=r"(at)
		     :
		     : "memory", "cc");
	check("single-step: #DB once", db_count, 1);
	check("single-step: DR6 (BS)", dr6_seen, 0xffff4ff0);
	check("single-step: EIP after the first instruction", fault_eip, at);

	db_count = 0;
	asm volatile("movl $1f, %0\n\tmov %0, %%dr0\n\tmov %1, %%dr7\n\tnop\n1:\tnop"
		     : "=&r"(at)
		     : "r"(0x401u)
		     : "memory");
	WRITE_DR(7, 0x400);
	check("execute breakpoint DR0: #DB once", db_count, 1);
	check("execute breakpoint DR0: DR6 (B0)", dr6_seen, 0xffff0ff1);
	check("execute breakpoint DR0: a fault at it", fault_eip, at);
	check("execute breakpoint DR0: pushed RF clear", fault_eflags & RF, 0);

	db_count = 0;
	WRITE_DR(1, (uint32_t)&watched);
	asm volatile("movl $1f, %0\n\tmov %1, %%dr7\n\tmovl $1, watched\n1:"
		     : "=&r"(at)
		     : "r"(0xd00404u)
		     : "memory");
	WRITE_DR(7, 0x400);
	check("write watchpoint DR1: #DB once", db_count, 1);
	check("write watchpoint DR1: DR6 (B1)", dr6_seen, 0xffff0ff2);
	check("write watchpoint DR1: a trap after the write", fault_eip, at);

	db_count = 0;
	asm volatile("movl $1f, %0\n\tmov %1, %%dr7\n1:\tmov %%dr0, %1"
		     : "=&r"(at), "+r"(tmp)
		     :
		     : "memory");
	check("DR7.GD then MOV from DR0: #DB once", db_count, 1);
	check("DR7.GD: DR6 (BD)", dr6_seen, 0xffff2ff0);
	check("DR7.GD: a fault at the MOV", fault_eip, at);
	check("DR7.GD: cleared by the #DB", READ_DR(7), 0x400);

	check("MOV from DR4 with CR4.DE clear is DR6", READ_DR(4), READ_DR(6));
	write_cr4(cr4 | 1u << 3);
	fault_vec = NONE;
	asm volatile("movl $1f, resume\n\tmov %%dr4, %0\n1:\tmovl $0, resume"
		     : "=r"(tmp)
		     :
		     : "memory");
	check("MOV from DR4 with CR4.DE set", fault_vec, 6);
	write_cr4(cr4);
}

/* --- task switches ------------------------------------------------------------------------ */

static volatile uint32_t ran[NTASKS], seen_nt[NTASKS], seen_link[NTASKS], seen_main_type[NTASKS];
static volatile uint32_t fault_task_err;

static uint32_t desc_type(unsigned sel)
{
	return gdt[sel >> 3] >> 40 & 0xf;
}

static unsigned current_task(void)
{
	uint16_t tr;

	asm volatile("str %0" : "=r"(tr));
	return (tr >> 3) - 3;
}

static void task_ran(void)
{
	unsigned t = current_task();
	uint32_t fl;

	asm volatile("pushf; pop %0" : "=r"(fl));
	ran[t]++;
	seen_nt[t] = fl & NT;
	seen_link[t] = tss[t].link;
	seen_main_type[t] = desc_type(0x18);
}

void task_nested_body(void)
{
	task_ran();
}

void task_jmp_body(void)
{
	task_ran();
}

void task_fault_body(uint32_t err)
{
	task_ran();
	fault_task_err = err;
	tss[T_MAIN].eip += 2; /* past the faulting RDMSR */
}

static void set_gate(unsigned v, uint32_t off, uint16_t sel, uint8_t type)
{
	idt[v] = (off & 0xffff) | (uint64_t)sel << 16 | (uint64_t)(0x80 | type) << 40 |
		 (uint64_t)(off >> 16) << 48;
}

static void setup_tasks(void)
{
	static char *const entry[NTASKS] = {0, task_nested, task_jmp, task_nested, task_fault};

	for (unsigned t = 0; t < NTASKS; t++) {
		uint32_t base = (uint32_t)&tss[t];

		gdt[3 + t] = (sizeof(struct tss) - 1) | (uint64_t)(base & 0xffffff) << 16 |
			     0x89ull << 40 | (uint64_t)(base >> 24) << 56;
		tss[t] = (struct tss){.cr3 = READ_CR(3),
				      .eip = (uint32_t)entry[t],
				      .eflags = 2,
				      .esp = (uint32_t)task_stack[t] + sizeof(task_stack[t]),
				      .cs = 8,
				      .ss = 0x10,
				      .ds = 0x10,
				      .es = 0x10,
				      .fs = 0x10,
				      .gs = 0x10,
				      .iomap = sizeof(struct tss)};
	}
	asm volatile("ltr %w0" : : "r"(0x18));
	set_gate(0x80, 0, 0x18 + 8 * T_GATE, 0x5);
}

static void check_tasks(void)
{
	setup_tasks();
	check("LTR marks the TSS busy", desc_type(0x18), 0xb);
	asm volatile("lcall $0x20, $0" : : : "memory");
	check("CALL to a TSS: the task ran", ran[T_CALL], 1);
	check("CALL to a TSS: NT set in it", seen_nt[T_CALL], NT);
	check("CALL to a TSS: its back link", seen_link[T_CALL], 0x18);
	check("CALL to a TSS: the caller stays busy", seen_main_type[T_CALL], 0xb);
	check("IRET back: the task is no longer busy", desc_type(0x20), 0x9);
	asm volatile("lcall $0x20, $0" : : : "memory");
	check("CALL again resumes after its IRET", ran[T_CALL], 2);

	asm volatile("ljmp $0x28, $0" : : : "memory");
	check("JMP to a TSS: the task ran", ran[T_JMP], 1);
	check("JMP to a TSS: NT clear in it", seen_nt[T_JMP], 0);
	check("JMP to a TSS: the old task not busy", seen_main_type[T_JMP], 0x9);
	check("JMP back: the main task busy again", desc_type(0x18), 0xb);

	asm volatile("int $0x80" : : : "memory");
	check("INT 0x80 through a task gate: the task ran", ran[T_GATE], 1);
	check("INT 0x80 through a task gate: its back link", seen_link[T_GATE], 0x18);

	set_gate(13, 0, 0x18 + 8 * T_FAULT, 0x5);
	asm volatile("rdmsr" : : "c"(0x12345678) : "eax", "edx", "memory");
	set_gate(13, (uint32_t)isr_table + 13 * 16, 8, 0xe);
	check("#GP through a task gate: the task ran", ran[T_FAULT], 1);
	check("#GP through a task gate: error code on its stack", fault_task_err, 0);
	check("#GP through a task gate: its back link", seen_link[T_FAULT], 0x18);
}

/* --- read-modify-write instructions on device registers ----------------------------------- */

#define RMW(insn, addr, reg)                            \
	({                                              \
		uint32_t f_;                            \
		asm volatile(insn "\n\tpushf\n\tpop %0" \
			     : "=r"(f_), "+r"(reg)      \
			     : "r"(addr)                \
			     : "memory", "cc");         \
		f_;                                     \
	})

static void check_lapic(void)
{
	bool split = mode[0] == 's' && has(1, ECX, 21);
	uint32_t r = 0, f;

	check("LAPIC version", mmio_rd(LAPIC + 0x30), 0x50014 | (split ? 1u << 24 : 0));
	check("LAPIC ID", mmio_rd(LAPIC + 0x20), 0);
	mmio_wr(LAPIC + 0xf0, 0xff);
	RMW("orl $0x100, (%2)", LAPIC + 0xf0, r);
	check("orl $0x100 to LAPIC SVR", mmio_rd(LAPIC + 0xf0), 0x1ff);
	mmio_wr(LAPIC + 0x360, 0x400);
	f = RMW("btsl $16, (%2)", LAPIC + 0x360, r);
	check("btsl $16 to LAPIC LINT1: CF", f & CF, 0);
	check("btsl $16 to LAPIC LINT1", mmio_rd(LAPIC + 0x360), 0x10400);
	f = RMW("btrl $16, (%2)", LAPIC + 0x360, r);
	check("btrl $16 to LAPIC LINT1: CF", f & CF, CF);
	check("btrl $16 to LAPIC LINT1", mmio_rd(LAPIC + 0x360), 0x400);
	mmio_wr(LAPIC + 0x80, 0);
	r = 0x20;
	RMW("xchg %1, (%2)", LAPIC + 0x80, r);
	check("xchg with LAPIC TPR: old value", r, 0);
	check("xchg with LAPIC TPR: new value", mmio_rd(LAPIC + 0x80), 0x20);
	f = RMW("addl $0x10, (%2)", LAPIC + 0x80, r);
	check("addl $0x10 to LAPIC TPR", mmio_rd(LAPIC + 0x80), 0x30);
	check("addl $0x10 to LAPIC TPR: ZF", f & ZF, 0);
	mmio_wr(LAPIC + 0x80, 0);
	f = RMW("cmpl $0, (%2)", LAPIC + 0x20, r);
	check("cmpl $0 with LAPIC ID: ZF", f & ZF, ZF);
	f = RMW("testl $0x1000, (%2)", LAPIC + 0x300, r);
	check("testl delivery status in LAPIC ICR: ZF", f & ZF, ZF);
	if (mode[0] != 'o') { /* (QEMU's own LAPIC reads 0 for accesses of under 32 bits) */
		RMW("movzwl (%2), %1", LAPIC + 0x30, r);
		check("movzwl LAPIC version", r, 0x14);
	}
	RMW("lock orl $0x10000, (%2)", LAPIC + 0x320, r);
	check("lock orl to LAPIC LVT timer: masked", mmio_rd(LAPIC + 0x320) & 0x10000, 0x10000);
}

static void check_ioapic(void)
{
	uint32_t r = 0x12;

	mmio_wr(IOAPIC, 1);
	check("IOAPIC version", mmio_rd(IOAPIC + 0x10), mode[0] == 'k' ? 0x170011 : 0x170020);
	RMW("xchg %1, (%2)", IOAPIC, r);
	check("xchg with IOREGSEL: old index", r, 1);
	mmio_wr(IOAPIC + 0x10, 0x10030);
	RMW("orl $0x8000, (%2)", IOAPIC + 0x10, r);
	check("orl $0x8000 to IOWIN (pin 1)", mmio_rd(IOAPIC + 0x10), 0x18030);
	RMW("andl $0xffff7fff, (%2)", IOAPIC + 0x10, r);
	check("andl to IOWIN (pin 1)", mmio_rd(IOAPIC + 0x10), 0x10030);
	mmio_wr(IOAPIC + 0x10, 0x10000);
}

static void check_hpet(void)
{
	uint32_t r = 0, f, c0, c1;

	check("HPET capabilities", mmio_rd(HPET), 0x8086a201);
	RMW("orl $1, (%2)", HPET + 0x10, r);
	check("orl $1 to HPET configuration", mmio_rd(HPET + 0x10), 1);
	c0 = mmio_rd(HPET + 0xf0);
	for (volatile int i = 0; i < 10000; i++)
		;
	c1 = mmio_rd(HPET + 0xf0);
	check("HPET counter runs", c1 != c0, 1);
	f = RMW("btl $0, (%2)", HPET + 0x10, r);
	check("btl $0 of HPET configuration: CF", f & CF, CF);
	RMW("andl $0xfffffffe, (%2)", HPET + 0x10, r);
	check("andl to HPET configuration", mmio_rd(HPET + 0x10), 0);
}

/* --- interrupts and instructions ------------------------------------------------------------ */

/* A fixed self-IPI held in IRR while IF is clear and taken at STI; an NMI to self; the LAPIC
 * timer's one-shot interrupt, polled and then waking HLT. */
static void check_irqs(void)
{
	mmio_wr(LAPIC + 0x300, 0x40000 | 0x40);
	check("self-IPI 0x40 with IF clear: in IRR", mmio_rd(LAPIC + 0x220) & 1, 1);
	check("self-IPI 0x40 with IF clear: not taken", irqs[0], 0);
	asm volatile("sti; nop; cli" : : : "memory");
	check("self-IPI 0x40: taken after STI", irqs[0], 1);
	check("self-IPI 0x40: IRR clear after it", mmio_rd(LAPIC + 0x220) & 1, 0);
	mmio_wr(LAPIC + 0x300, 0x40000 | 0x400);
	for (volatile int i = 0; i < 100000 && !irqs[2]; i++)
		;
	check("NMI self-IPI: taken with IF clear", irqs[2], 1);
	mmio_wr(LAPIC + 0x3e0, 0xb); /* divide by 1 */
	mmio_wr(LAPIC + 0x320, 0x41);
	mmio_wr(LAPIC + 0x380, 100000);
	asm volatile("sti" : : : "memory");
	for (uint32_t i = 0; i < 50000000 && !irqs[1]; i++)
		asm volatile("" : : : "memory");
	asm volatile("cli" : : : "memory");
	check("LAPIC timer one-shot: its interrupt", irqs[1], 1);
	check("LAPIC timer one-shot: current count 0 after it", mmio_rd(LAPIC + 0x390), 0);
	mmio_wr(LAPIC + 0x380, 100000);
	asm volatile("sti; hlt; cli" : : : "memory");
	check("LAPIC timer one-shot: wakes HLT", irqs[1], 2);
	mmio_wr(LAPIC + 0x320, 0x10000);
}

#define TRY_INSN(insn)                                                           \
	({                                                                       \
		fault_vec = NONE;                                                \
		asm volatile("movl $1f, resume\n\t" insn "\n1:\tmovl $0, resume" \
			     :                                                   \
			     :                                                   \
			     : "eax", "ecx", "edx", "memory");                   \
		fault_vec != NONE ? FAULT(fault_vec) : 0;                        \
	})

/* KVM's CPUID signature, and instructions the guest's CPUID does not offer: #UD */
static void check_insns(void)
{
	uint32_t r[4];

	cpuid(1, r);
	check("CPUID.1:ECX.hypervisor", r[2] >> 31, 1);
	cpuid(0x40000000, r);
	check("CPUID 0x40000000: EBX (KVMK)", r[1], 0x4b4d564b);
	check("CPUID 0x40000000: ECX (VMKV)", r[2], 0x564b4d56);
	check("CPUID 0x40000000: EDX (M)", r[3], 0x4d);
	if (!has(0x80000001, EDX, 27))
		check("RDTSCP without it in CPUID", TRY_INSN("rdtscp"), FAULT(6));
	if (!has(7, ECX, 22))
		check("RDPID without it in CPUID", TRY_INSN(".byte 0xf3, 0x0f, 0xc7, 0xf8"),
		      FAULT(6));
	if (!has(7, 1, 10))
		check("INVPCID without it in CPUID",
		      TRY_INSN("mov $0x7000, %%eax\n\t.byte 0x66, 0x0f, 0x38, 0x82, 0x08"),
		      FAULT(6));
}

/* --- AP start-up -------------------------------------------------------------------------- */

static bool x2apic_on;

static void ipi(uint32_t dest, uint32_t low)
{
	if (x2apic_on) {
		wrmsr_safe(0x830, (uint64_t)dest << 32 | low);
		return;
	}
	mmio_wr(LAPIC + 0x310, dest << 24);
	mmio_wr(LAPIC + 0x300, low);
	for (int i = 0; i < 1000000 && mmio_rd(LAPIC + 0x300) & 0x1000; i++)
		;
}

/* AP_DATA[0] reaching n, or the last value after a while */
static uint32_t ap_count(uint32_t n)
{
	for (uint32_t i = 0; i < 50000000 && AP_DATA[0] < n; i++)
		asm volatile("" : : : "memory");
	return AP_DATA[0];
}

static void settle(void)
{
	for (volatile uint32_t i = 0; i < 5000000; i++)
		;
}

/* check() with the name "AP start by HOW: WHAT" */
static void check_ap(const char *how, const char *what, uint64_t got, uint64_t want)
{
	char name[96];
	unsigned i = 0;

	for (const char *s = "AP start by "; *s; s++)
		name[i++] = *s;
	for (const char *s = how; *s && i < 60; s++)
		name[i++] = *s;
	name[i++] = ':';
	name[i++] = ' ';
	for (const char *s = what; *s && i < sizeof(name) - 1; s++)
		name[i++] = *s;
	name[i] = 0;
	check(name, got, want);
}

/* INIT (then its de-assert, as Linux sends it), SIPI: the AP runs the trampoline at page vec
 * (the n-th start); then a second SIPI, which a running AP ignores */
static void start_ap(const char *how, uint32_t n, uint8_t vec, uint32_t dest, bool deassert)
{
	uint32_t shorthand = dest == ~0u ? 0xc0000 : 0;

	ipi(dest, 0x4500 | shorthand);
	if (deassert)
		ipi(dest, 0x8500);
	ipi(dest, 0x4600 | vec | shorthand);
	check_ap(how, "it starts", ap_count(n), n);
	check_ap(how, "its APIC ID", AP_DATA[1], 1);
	check_ap(how, "its CS", AP_DATA[2], (uint32_t)vec << 8);
	ipi(dest, 0x4600 | vec | shorthand);
	settle();
	check_ap(how, "a second SIPI is ignored", AP_DATA[0], n);
}

static void check_aps(void)
{
	for (uint32_t v = 8; v <= 0xb; v++)
		for (uint32_t i = 0; i < (uint32_t)(tramp_end - tramp); i++)
			((volatile char *)(v << 12))[i] = tramp[i];
	AP_DATA[0] = AP_DATA[1] = AP_DATA[2] = 0;
	start_ap("INIT, SIPI to APIC ID 1", 1, 8, 1, false);
	if (*phase)
		return;
	start_ap("INIT, INIT de-assert, SIPI, SIPI (Linux's)", 2, 9, 1, true);
	start_ap("all-excluding-self INIT, SIPI", 3, 0xa, ~0u, false);
	if (!has(1, ECX, 21))
		return;
	check("IA32_APIC_BASE to x2APIC", wrmsr_safe(0x1b, 0xfee00d00), 0);
	x2apic_on = true;
	check("x2APIC ID MSR", rdmsr_safe(0x802), 0);
	start_ap("INIT, SIPI through the x2APIC ICR", 4, 0xb, 1, false);
	check("IA32_APIC_BASE x2APIC to xAPIC", wrmsr_safe(0x1b, 0xfee00900), FAULT(13));
	check("IA32_APIC_BASE x2APIC to disabled", wrmsr_safe(0x1b, 0xfee00100), 0);
	x2apic_on = false;
	check("IA32_APIC_BASE disabled to xAPIC", wrmsr_safe(0x1b, 0xfee00900), 0);
	check("LAPIC version after that", mmio_rd(LAPIC + 0x30) & 0xff, 0x14);
}

/* --- reset ---------------------------------------------------------------------------------- */

/* State that a reset must undo */
static void dirty_state(void)
{
	if (has(1, ECX, 21))
		wrmsr_safe(0x1b, 0xfee00d00);
	if (has(0x80000001, EDX, 27))
		wrmsr_safe(0xc0000103, 7);
	wrmsr_safe(0x174, 0x10);
	WRITE_DR(0, 0x5000);
	WRITE_DR(7, 0x401);
}

/* The keyboard controller's reset line, or a triple fault (#BP with an empty IDT: #GP, #DF) */
static void __attribute__((noreturn)) reset(bool triple)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} none = {0, 0};

	dirty_state();
	cmos(CMOS_MARK, triple ? 0xa6 : 0xa5);
	if (triple)
		asm volatile("lidt %0; int3" : : "m"(none));
	outb(0x64, 0xfe);
	for (;;)
		asm volatile("hlt");
}

static void check_after_reset(void)
{
	check("IA32_APIC_BASE", rdmsr_safe(0x1b), 0xfee00900);
	if (has(0x80000001, EDX, 27))
		check("TSC_AUX", rdmsr_safe(0xc0000103), 0);
	check("IA32_SYSENTER_CS", rdmsr_safe(0x174), 0);
	check("DR0", READ_DR(0), 0);
	check("DR7", READ_DR(7), 0x400);
	check("LAPIC TPR", mmio_rd(LAPIC + 0x80), 0);
}

/* --- main ----------------------------------------------------------------------------------- */

/* --- Hyper-V (QEMU's hv-* flags): its MSRs, hypercalls, IPIs, synthetic timers ------------- */

static uint8_t hv_code[4096] __attribute__((aligned(4096))),
	hv_simp[4096] __attribute__((aligned(4096)));
static volatile uint32_t hv_tsc[1024] __attribute__((aligned(4096)));
uint32_t hv_call_addr;

static bool has_hyperv(void)
{
	uint32_t r[4];

	cpuid(0x40000001, r);
	return r[0] == 0x31237648; /* "Hv#1" */
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t a, d;

	asm volatile("rdmsr" : "=a"(a), "=d"(d) : "c"(msr));
	return (uint64_t)d << 32 | a;
}

/* Through the hypercall page, 32-bit: control EDX:EAX, input EBX:ECX, output EDI:ESI. */
static uint64_t hypercall(uint64_t control, uint64_t in, uint64_t out)
{
	uint32_t a = (uint32_t)control, d = (uint32_t)(control >> 32);

	asm volatile("call *hv_call_addr"
		     : "+a"(a), "+d"(d)
		     : "b"((uint32_t)(in >> 32)), "c"((uint32_t)in), "D"((uint32_t)(out >> 32)),
		       "S"((uint32_t)out)
		     : "memory");
	return (uint64_t)d << 32 | a;
}

/* (a * b) >> 64, for the TSC page's formula */
static uint64_t mul_shr64(uint64_t a, uint64_t b)
{
	uint64_t ll = (a & 0xffffffff) * (b & 0xffffffff), lh = (a & 0xffffffff) * (b >> 32);
	uint64_t hl = (a >> 32) * (b & 0xffffffff), hh = (a >> 32) * (b >> 32);
	uint64_t mid = (ll >> 32) + (lh & 0xffffffff) + (hl & 0xffffffff);

	return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/* Waits (IF set) for Hyper-V interrupt n, at most a few seconds of emulated time. */
static uint32_t hv_wait(unsigned n, uint32_t count)
{
	asm volatile("sti" : : : "memory");
	for (uint32_t i = 0; i < 50000000 && hv_irqs[n] < count; i++)
		asm volatile("" : : : "memory");
	asm volatile("cli" : : : "memory");
	return hv_irqs[n];
}

static void check_hyperv(void)
{
	volatile uint32_t *slot = (volatile uint32_t *)(hv_simp + 2 * 256); /* SINT 2's message */
	uint64_t t0, t1, tsc, ref;

	check("HV GUEST_OS_ID", wrmsr_safe(0x40000000, 0x8100ull << 48), 0);
	check("HV HYPERCALL page", wrmsr_safe(0x40000001, (uint32_t)hv_code | 1), 0);
	check("HV hypercall page: VMCALL; RET", *(volatile uint32_t *)hv_code, 0xc3c1010f);
	hv_call_addr = (uint32_t)hv_code;
	check("HV VP_INDEX", rdmsr_safe(0x40000002), 0);
	t0 = rdmsr(0x40000020);
	t1 = rdmsr(0x40000020);
	check("HV TIME_REF_COUNT counts up", t1 > t0, 1);
	check("HV TSC_FREQUENCY set", rdmsr_safe(0x40000022) != 0, 1);
	check("HV REFERENCE_TSC on", wrmsr_safe(0x40000021, (uint32_t)hv_tsc | 1), 0);
	check("HV TSC page valid", hv_tsc[0] != 0 && (hv_tsc[2] | hv_tsc[3]) != 0, 1);
	asm volatile("rdtsc" : "=A"(tsc));
	ref = mul_shr64(tsc, (uint64_t)hv_tsc[3] << 32 | hv_tsc[2]) +
	      ((uint64_t)hv_tsc[5] << 32 | hv_tsc[4]);
	t1 = rdmsr(0x40000020);
	check("HV TSC page: its time within 1 ms before TIME_REF_COUNT",
	      t1 >= ref && t1 - ref < 10000, 1);
	check("HV hypercall 0xbeef: invalid code", hypercall(0xbeef, 0, 0), 2);
	check("HV NotifyLongSpinWait (fast)", hypercall(0x0008 | 1 << 16, 0, 0), 0);
	check("HV FlushVirtualAddressSpace, all CPUs (fast)", hypercall(0x0002 | 1 << 16, 0, 1), 0);
	check("HV SendSyntheticClusterIpi 0x44 to VP 0 (fast)",
	      hypercall(0x000b | 1 << 16, 0x44, 1), 0);
	check("HV ... the IPI taken, EOIed by the EOI MSR", hv_wait(1, 1), 1);
	check("HV ... ISR clear after it", mmio_rd(LAPIC + 0x120) >> 4 & 1, 0);
	check("HV SendSyntheticClusterIpi vector 0x0f", hypercall(0x000b | 1 << 16, 0x0f, 1), 3);
	check("HV SINT2 vector 5 unmasked", wrmsr_safe(0x40000092, 5), FAULT(13));
	/* a one-shot direct-mode timer 1 ms ahead: its own vector */
	check("HV STIMER0 direct, vector 0x45", wrmsr_safe(0x400000b0, 1 | 1 << 12 | 0x45 << 4), 0);
	check("HV STIMER0 count", wrmsr_safe(0x400000b1, rdmsr(0x40000020) + 10000), 0);
	check("HV STIMER0 expired: its interrupt", hv_wait(2, 1), 1);
	check("HV STIMER0 one-shot: disabled after it", rdmsr_safe(0x400000b0) & 1, 0);
	/* a message timer: HVMSG_TIMER_EXPIRED in SINT 2's slot of the message page, then 0x43 */
	check("HV SIMP on", wrmsr_safe(0x40000083, (uint32_t)hv_simp | 1), 0);
	check("HV SINT2 vector 0x43", wrmsr_safe(0x40000092, 0x43), 0);
	t0 = rdmsr(0x40000020) + 10000;
	check("HV STIMER1 to SINT2", wrmsr_safe(0x400000b2, 1 | 2 << 16), 0);
	check("HV STIMER1 count", wrmsr_safe(0x400000b3, t0), 0);
	check("HV STIMER1 expired: SINT2's interrupt", hv_wait(0, 1), 1);
	check("HV ... message type TIMER_EXPIRED, 24 bytes",
	      slot[0] | (uint64_t)(slot[1] & 0xff) << 32, 0x1880000010ull);
	check("HV ... its timer and expiration time",
	      slot[4] | (uint64_t)(slot[6] == (uint32_t)t0) << 32, 0x100000001ull);
	slot[0] = 0;
	check("HV EOM", wrmsr_safe(0x40000084, 0), 0);
	/* periodic, 1 ms: each message taken and the slot freed gets the next */
	check("HV STIMER1 periodic", wrmsr_safe(0x400000b2, 3 | 2 << 16), 0);
	check("HV STIMER1 period", wrmsr_safe(0x400000b3, 10000), 0);
	check("HV STIMER1 periodic: first tick", hv_wait(0, 2), 2);
	slot[0] = 0;
	wrmsr_safe(0x40000084, 0);
	check("HV STIMER1 periodic: second tick", hv_wait(0, 3), 3);
	check("HV STIMER1 off", wrmsr_safe(0x400000b2, 0), 0);
}

static void parse_cmdline(const uint32_t *mbi)
{
	const char *s = (mbi[0] & 4) ? (const char *)mbi[4] : "";

	for (; *s; s++) {
		if (s[0] == 'm' && s[1] == 'o' && s[2] == 'd' && s[3] == 'e' && s[4] == '=')
			for (unsigned i = 0; s[5 + i] > ' ' && i < sizeof(mode) - 1; i++)
				mode[i] = s[5 + i], mode[i + 1] = 0;
		if (s[0] == 'c' && s[1] == 'p' && s[2] == 'u' && s[3] == 's' && s[4] == '=')
			cpus = (unsigned)(s[5] - '0');
	}
}

static void summary(const char *what)
{
	puts("qconform: ");
	puts(mode);
	puts(what);
	putdec(passed);
	puts(" passed, ");
	putdec(failed);
	puts(" failed\n");
}

void qconform_main(const uint32_t *mbi)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} idtr = {sizeof(idt) - 1, (uint32_t)idt};

	for (unsigned v = 0; v < 32; v++)
		set_gate(v, (uint32_t)isr_table + v * 16, 8, 0xe);
	set_gate(0x40, (uint32_t)irq_stubs, 8, 0xe);
	set_gate(0x41, (uint32_t)irq_stubs + 16, 8, 0xe);
	for (unsigned v = 0x43; v <= 0x45; v++)
		set_gate(v, (uint32_t)irq_stubs + (v - 0x41) * 16, 8, 0xe);
	asm volatile("lidt %0" : : "m"(idtr));
	parse_cmdline(mbi);
	putc('\n');	  /* (after the firmware's last words) */
	outb(0x21, 0xff); /* both PICs masked: the firmware's timer interrupts would be vector 8 */
	outb(0xa1, 0xff);
	if (cmos(CMOS_MARK, -1) == 0xa5 || cmos(CMOS_MARK, -1) == 0xa6) {
		bool triple = cmos(CMOS_MARK, -1) == 0xa6;
		phase = triple ? "triple fault: " : "reset: ";
		cmos(CMOS_MARK, 0);
		check_after_reset();
		if (cpus > 1)
			check_aps();
		summary(triple ? " after the triple fault: " : " after the reset: ");
		if (triple)
			finish(failed ? 1 : 0);
		reset(true);
	}
	if (has_hyperv()) { /* the Hyper-V mode: only its checks */
		check_hyperv();
		summary(" Hyper-V: ");
		finish(failed ? 1 : 0);
	}
	check_msrs();
	check_crs();
	check_debug();
	check_tasks();
	check_lapic();
	check_ioapic();
	check_hpet();
	check_irqs();
	check_insns();
	if (cpus > 1)
		check_aps();
	summary(" before the reset: ");
	reset(false);
}
