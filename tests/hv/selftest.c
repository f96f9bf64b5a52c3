/*
 * Guest self-tests (`selftest` on the command line): tiny guests in real, protected and long
 * mode, and hostile ones, each run through a script of the exits it must produce. Every CPU
 * runs the whole suite at once; the boot CPU prints TAP. Also the VM leak check and the
 * exit-cost benchmark (`bench`).
 */
#include "lib/errno.h"
#include "platform/lapic.h"
#include "lib/log.h"
#include "platform/mm.h"
#include "lib/panic.h"
#include "lib/printf.h"
#include "selftest.h"
#include "platform/smp.h"
#include "platform/trap.h"
#include "platform/tsc.h"
#include "vmx/vm.h"
#include "platform/x86.h"

#define GUEST_LOAD	0x1000
#define GUEST_STACK	0x8000
#define GUEST_PT	0x70000 /* long-mode page tables built by the test */
#define SELF_IPI_VECTOR 0xf0
#define MAX_STEPS	24
#define LEAK_ROUNDS	1000

#define GUEST(name)                                                     \
	extern const char guest_##name##_start[], guest_##name##_end[]; \
	static const struct blob blob_##name = {guest_##name##_start, guest_##name##_end}
struct blob {
	const char *start, *end;
};
GUEST(real);
GUEST(prot32);
GUEST(long64);
GUEST(hostile);
GUEST(bench);
GUEST(fpu);
GUEST(mmio);

enum step_kind { OUT, IN, HLT, MMIO, SHUTDOWN, TIMEOUT, EXC, INTR };
#define F_STRING 1u
#define F_REP	 2u

struct step {
	enum step_kind kind;
	uint16_t port; /* OUT/IN; EXC: vector */
	uint8_t size;
	uint8_t flags;
	uint64_t value;		       /* OUT: expected; IN: supplied; MMIO: GPA */
	bool (*after)(struct vcpu *v); /* runs once the step matched; false fails the test */
};

struct test {
	const char *name;
	const struct blob *blob;
	enum vcpu_mode mode;
	uint64_t entry;
	uint64_t ram; /* bytes of guest RAM at GPA 0 */
	void (*setup)(struct vcpu *v);
	bool (*check)(struct vm *vm, struct vcpu *v, char *why, size_t n); /* after the last step */
	struct step steps[MAX_STEPS];
};

static bool queue_irq_and_nmi(struct vcpu *v)
{
	vcpu_interrupt(v, 0x30); /* no irqchip: queued for IF=1 */
	vcpu_queue_nmi(v);
	return true;
}

static void intercept_bp(struct vcpu *v)
{
	vcpu_intercept_exceptions(v, 1u << 3);
}

static bool reflect_bp(struct vcpu *v)
{
	vcpu_intercept_exceptions(v, 0);
	vcpu_queue_exception(v, 3, false, 0);
	return true;
}

/* Leaves a self-IPI pending (interrupts are off here), so the guest exits at once. */
static void self_ipi(struct vcpu *v)
{
	struct vcpu_regs r;

	vcpu_get_regs(v, &r);
	r.rflags |= 1u << 9; /* IF=1: Bochs 2.7 only exits on interrupts for IF=1 guests */
	vcpu_set_regs(v, &r);
	vcpu_set_timeout(v, 2000000);
	lapic_send_ipi(0, ICR_FIXED | ICR_SELF | SELF_IPI_VECTOR);
}

/* The host takes the interrupt the guest exited for; its handler must have run. */
static bool take_interrupt(struct vcpu *v)
{
	uint64_t before = irq_counts[SELF_IPI_VECTOR];

	(void)v;
	__asm__ volatile("sti; nop; cli" ::: "memory");
	return irq_counts[SELF_IPI_VECTOR] > before;
}

static bool hv_image_intact(struct vm *vm, struct vcpu *v, char *why, size_t n)
{
	uint64_t hpa = 0, image = image_to_phys(__image_start);

	(void)v;
	if (*(volatile uint32_t *)phys_to_virt(image) != 0xe85250d6) {
		fmt_snprintf(why, n, "hypervisor memory at %#llx was changed",
			     (unsigned long long)image);
		return false;
	}
	if (vm_gpa_to_hpa(vm, image, &hpa) || hpa == image) {
		fmt_snprintf(why, n, "GPA %#llx is backed by HPA %#llx", (unsigned long long)image,
			     (unsigned long long)hpa);
		return false;
	}
	return true;
}

/* The #UD came from the hypervisor's VMLAUNCH exit handler, once. */
static bool vmlaunch_exited(struct vm *vm, struct vcpu *v, char *why, size_t n)
{
	uint64_t c = vcpu_exit_count(v, 20);

	(void)vm;
	fmt_snprintf(why, n, "%llu VMLAUNCH exits", (unsigned long long)c);
	return c == 1;
}

#define O(p, s, v)                    \
	{                             \
		OUT, p, s, 0, v, NULL \
	}
#define OA(p, s, v, a)             \
	{                          \
		OUT, p, s, 0, v, a \
	}
#define OS(p, v)                                     \
	{                                            \
		OUT, p, 1, F_STRING | F_REP, v, NULL \
	}

static const struct test tests[] = {
	{"real mode: CPUID leaf, port I/O of each size, REP OUTSB, hypercalls (and -EPERM), HLT, "
	 "MMIO",
	 &blob_real,
	 VCPU_REAL,
	 GUEST_LOAD,
	 KiB(64),
	 NULL,
	 NULL,
	 {O(0xe0, 4, 0x75564875),
	  O(0xe1, 1, 0x11),
	  {IN, 0xe2, 1, 0, 0x5a, NULL},
	  O(0xe1, 1, 0x5b),
	  O(0xe0, 2, 0x1234),
	  OS(0xe3, 'a'),
	  OS(0xe3, 'b'),
	  OS(0xe3, 'c'),
	  O(0xe0, 4, 0),
	  O(0xe0, 4, (uint32_t)-ENOSYS),
	  O(0xe0, 4, HV_ABI_VERSION),
	  O(0xe0, 4, (uint32_t)-EPERM),
	  {HLT, 0, 0, 0, 0, NULL},
	  O(0xe1, 1, 0x77),
	  {MMIO, 0, 0, 0, 0x20010, NULL}}},
	{"protected mode: #GP on unknown MSR, MSR, CR4, DR0, XSETBV, VMXON #UD, NMI and IRQ "
	 "injection",
	 &blob_prot32,
	 VCPU_PROT32,
	 GUEST_LOAD,
	 KiB(64),
	 NULL,
	 NULL,
	 {O(0xe1, 1, 13),
	  O(0xe0, 4, 0x10),
	  O(0xe0, 4, 0x200),
	  O(0xe1, 1, 13),
	  O(0xe1, 1, 6),
	  O(0xe0, 4, 0x5a5a5a5a),
	  O(0xe0, 4, 3),
	  O(0xe1, 1, 13),
	  {HLT, 0, 0, 0, 0, queue_irq_and_nmi},
	  O(0xe1, 1, 2),
	  O(0xe1, 1, 0x30),
	  {HLT, 0, 0, 0, 0, NULL},
	  O(0xe1, 1, 0xff),
	  {HLT, 0, 0, 0, 0, NULL}}},
	{"long mode: CPUID APIC id, intercepted #BP, REP INSB through guest paging, LSTAR, MMIO",
	 &blob_long64,
	 VCPU_LONG64,
	 GUEST_LOAD,
	 MiB(2),
	 intercept_bp,
	 NULL,
	 {O(0xe0, 4, 0),
	  {EXC, 3, 0, 0, 0, reflect_bp},
	  O(0xe1, 1, 3),
	  {IN, 0xe3, 1, F_STRING | F_REP, 0x41, NULL},
	  {IN, 0xe3, 1, F_STRING | F_REP, 0x42, NULL},
	  O(0xe0, 4, 0x4241),
	  O(0xe0, 4, 0x401000),
	  {MMIO, 0, 0, 0, 0x3fe00000, NULL}}},
	{"MMIO completed by the caller: write, read answered with 0xabcd, execution continues",
	 &blob_mmio,
	 VCPU_REAL,
	 GUEST_LOAD,
	 KiB(64),
	 NULL,
	 NULL,
	 {{MMIO, 0, 0, 0, 0x20010, NULL},
	  {MMIO, 0, 0, 0, 0x20020, NULL},
	  O(0xe0, 2, 0xabcd),
	  O(0xe0, 2, 0x5555),
	  {HLT, 0, 0, 0, 0, NULL}}},
	{"hostile: read of unmapped guest-physical memory ends in an MMIO exit",
	 &blob_hostile,
	 VCPU_PROT32,
	 GUEST_LOAD,
	 KiB(64),
	 NULL,
	 NULL,
	 {{MMIO, 0, 0, 0, 0x10000000, NULL}}},
	{"hostile: triple fault is contained (shutdown exit)",
	 &blob_hostile,
	 VCPU_PROT32,
	 GUEST_LOAD + 0x100,
	 KiB(64),
	 NULL,
	 NULL,
	 {{SHUTDOWN, 0, 0, 0, 0, NULL}}},
	{"hostile: endless loop stopped by the preemption timer; external interrupt exit",
	 &blob_hostile,
	 VCPU_PROT32,
	 GUEST_LOAD + 0x200,
	 KiB(64),
	 self_ipi,
	 NULL,
	 {{INTR, 0, 0, 0, 0, take_interrupt}, {TIMEOUT, 0, 0, 0, 0, NULL}}},
	{"hostile: write to GPA 0x200000 lands in guest RAM, never in the hypervisor",
	 &blob_hostile,
	 VCPU_PROT32,
	 GUEST_LOAD + 0x300,
	 MiB(4),
	 NULL,
	 hv_image_intact,
	 {O(0xe0, 4, 0xdeadbeef), {HLT, 0, 0, 0, 0, NULL}}},
	{"hostile: VMLAUNCH in a guest gets #UD (then triple faults without an IDT)",
	 &blob_hostile,
	 VCPU_PROT32,
	 GUEST_LOAD + 0x400,
	 KiB(64),
	 NULL,
	 vmlaunch_exited,
	 {{SHUTDOWN, 0, 0, 0, 0, NULL}}},
};

struct result {
	bool ok;
	char why[160];
};

static const char *const kind_names[] = {"OUT",	     "IN",	"HLT", "MMIO",
					 "SHUTDOWN", "TIMEOUT", "EXC", "INTR"};

static int exit_to_kind(const struct vm_exit *x)
{
	switch (x->kind) {
	case VMEXIT_IO:
		return x->io.in ? IN : OUT;
	case VMEXIT_HLT:
		return HLT;
	case VMEXIT_MMIO:
		return MMIO;
	case VMEXIT_SHUTDOWN:
		return SHUTDOWN;
	case VMEXIT_TIMEOUT:
		return TIMEOUT;
	case VMEXIT_EXCEPTION:
		return EXC;
	case VMEXIT_INTR:
		return INTR;
	default:
		return -1;
	}
}

/* Compares one exit with the step it should match; fills `why` on a mismatch. */
static bool match(const struct step *s, struct vm_exit *x, char *why, size_t n)
{
	int k = exit_to_kind(x);
	uint8_t flags = (x->io.string ? F_STRING : 0) | (x->io.rep ? F_REP : 0);

	if (k != (int)s->kind) {
		fmt_snprintf(why, n,
			     "expected %s, got exit kind %d (reason %u, qual %#llx, gpa %#llx)",
			     kind_names[s->kind], x->kind, x->reason & 0xffff,
			     (unsigned long long)x->qual,
			     (unsigned long long)(x->kind == VMEXIT_MMIO ? x->mem.gpa : 0));
		return false;
	}
	if ((k == OUT || k == IN) && (x->io.port != s->port || x->io.size != s->size ||
				      flags != s->flags || (k == OUT && x->io.data != s->value))) {
		fmt_snprintf(why, n,
			     "expected %s port %#x size %u value %#llx flags %u, got port %#x size "
			     "%u value %#llx flags %u",
			     kind_names[k], s->port, s->size, (unsigned long long)s->value,
			     s->flags, x->io.port, x->io.size, (unsigned long long)x->io.data,
			     flags);
		return false;
	}
	if (k == MMIO && x->mem.gpa != s->value) {
		fmt_snprintf(why, n, "expected MMIO at %#llx, got %#llx",
			     (unsigned long long)s->value, (unsigned long long)x->mem.gpa);
		return false;
	}
	if (k == EXC && x->exc.vector != s->port) {
		fmt_snprintf(why, n, "expected exception %u, got %u", s->port, x->exc.vector);
		return false;
	}
	if (k == IN)
		x->answer = s->value;
	if (k == MMIO)
		x->answer = 0xabcd; /* what a read returns */
	return true;
}

/* Identity map of the first 1 GiB with 2 MiB pages at GUEST_PT, for long-mode guests. */
static void build_guest_paging(struct vm *vm)
{
	uint64_t pml4[512] = {0}, pdpt[512] = {0}, pd[512];

	pml4[0] = (GUEST_PT + 0x1000) | 3;
	pdpt[0] = (GUEST_PT + 0x2000) | 3;
	for (unsigned i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;
	vm_write(vm, GUEST_PT, pml4, sizeof(pml4));
	vm_write(vm, GUEST_PT + 0x1000, pdpt, sizeof(pdpt));
	vm_write(vm, GUEST_PT + 0x2000, pd, sizeof(pd));
}

/* A VM with `ram` bytes at GPA 0 holding the blob at GUEST_LOAD, and vCPU `id`. */
static struct vm *make_vm(const struct blob *b, uint64_t ram, unsigned id, struct vcpu **vp,
			  uint64_t *ram_pa)
{
	struct vm *vm = vm_create(VM_GUEST);

	*ram_pa = frames_alloc_contig(&hv_frames, ram / PAGE_SIZE, 1);
	if (!vm || !*ram_pa)
		goto fail;
	__builtin_memset(phys_to_virt(*ram_pa), 0, ram);
	if (vm_map(vm, 0, *ram_pa, ram, VM_RWX))
		goto fail;
	vm_write(vm, GUEST_LOAD, b->start, (size_t)(b->end - b->start));
	*vp = vcpu_create(vm, id);
	if (*vp)
		return vm;
fail:
	if (vm)
		vm_destroy(vm);
	if (*ram_pa)
		frames_free_contig(&hv_frames, *ram_pa, ram / PAGE_SIZE);
	return NULL;
}

static void free_vm(struct vm *vm, uint64_t ram_pa, uint64_t ram)
{
	vm_destroy(vm);
	frames_free_contig(&hv_frames, ram_pa, ram / PAGE_SIZE);
}

static void run_test(const struct test *t, struct result *r)
{
	uint64_t ram_pa;
	struct vcpu *v;
	struct vm *vm = make_vm(t->blob, t->ram, 0, &v, &ram_pa);
	struct vm_exit x = {0};

	r->ok = false;
	if (!vm) {
		fmt_snprintf(r->why, sizeof(r->why), "could not create the VM");
		return;
	}
	if (t->mode == VCPU_LONG64)
		build_guest_paging(vm);
	if (vcpu_set_mode(v, t->mode, t->entry, GUEST_STACK, GUEST_PT)) {
		fmt_snprintf(r->why, sizeof(r->why), "vcpu_set_mode refused the mode");
		free_vm(vm, ram_pa, t->ram);
		return;
	}
	vcpu_set_timeout(v, 20000000); /* no test needs more; a hang becomes a TIMEOUT mismatch */
	if (t->setup)
		t->setup(v);
	r->ok = true;
	for (unsigned i = 0; i < MAX_STEPS && (i == 0 || t->steps[i].kind || t->steps[i].port);
	     i++) {
		int rc = vcpu_run(v, &x);
		char why[128];
		if (rc || !match(&t->steps[i], &x, why, sizeof(why))) {
			fmt_snprintf(r->why, sizeof(r->why), "step %u: %s", i + 1,
				     rc ? "vcpu_run failed" : why);
			r->ok = false;
			break;
		}
		if (t->steps[i].after && !t->steps[i].after(v)) {
			fmt_snprintf(r->why, sizeof(r->why), "step %u: the follow-up check failed",
				     i + 1);
			r->ok = false;
			break;
		}
	}
	if (r->ok && t->check)
		r->ok = t->check(vm, v, r->why, sizeof(r->why));
	free_vm(vm, ram_pa, t->ram);
}

/* INIT parks a vCPU until a SIPI; the SIPI starts it in real mode at vector * 4096. */
static void run_init_sipi(struct result *r)
{
	uint64_t ram_pa;
	struct vcpu *v;
	struct vm *vm = make_vm(&blob_real, KiB(64), 1, &v, &ram_pa);
	struct vm_exit x;
	uint32_t mp = HV_MP_RUNNABLE;
	int rc;

	if (!vm) {
		*r = (struct result){false, "could not create the VM"};
		return;
	}
	vcpu_init_signal(v);
	rc = vcpu_run(v, &x);
	vcpu_mp_state(v, &mp, false); /* KVM_GET_MP_STATE: waiting for a SIPI */
	if (rc != -EBUSY || mp != HV_MP_INIT_RECEIVED) {
		fmt_snprintf(r->why, sizeof(r->why), "run after INIT returned %d, not -EBUSY", rc);
		r->ok = false;
	} else {
		vcpu_sipi(v, GUEST_LOAD >> 12);
		rc = vcpu_run(v, &x);
		r->ok = !rc && x.kind == VMEXIT_IO && x.io.data == 0x75564875;
		if (!r->ok)
			fmt_snprintf(r->why, sizeof(r->why), "after SIPI: rc %d exit kind %d", rc,
				     x.kind);
	}
	free_vm(vm, ram_pa, KiB(64));
}

/* Runs the fpu guest of `vm` until its next exit; true when that exit is `kind`. */
static bool fpu_step(struct vcpu *v, enum vm_exit_kind kind, uint64_t *data)
{
	struct vm_exit x;

	if (vcpu_run(v, &x) || x.kind != kind)
		return false;
	if (data)
		*data = x.io.data;
	return true;
}

/* Guest A loads XMM0, guest B loads another value and halts, A must still see its own. */
static void run_fpu_isolation(struct result *r)
{
	static const uint32_t pat[2][4] = {{0x11111111, 0x22222222, 0x33333333, 0x44444444},
					   {0xdeadbeef, 0xcafef00d, 0x0badc0de, 0x5eed5eed}};
	uint64_t ram[2], word = 0;
	struct vcpu *v[2];
	struct vm *vm[2];
	bool ok = true;

	for (int i = 0; i < 2; i++) {
		vm[i] = make_vm(&blob_fpu, KiB(64), 0, &v[i], &ram[i]);
		if (!vm[i])
			panic("selftest: out of memory");
		vm_write(vm[i], 0x2000, pat[i], sizeof(pat[i]));
		vcpu_set_mode(v[i], VCPU_PROT32, GUEST_LOAD, GUEST_STACK, 0);
		vcpu_set_timeout(v[i], 20000000);
		ok &= fpu_step(v[i], VMEXIT_HLT, NULL);
	}
	for (int k = 0; ok && k < 4; k++) {
		ok = fpu_step(v[0], VMEXIT_IO, &word) && word == pat[0][k];
		if (!ok)
			fmt_snprintf(r->why, sizeof(r->why), "XMM0 word %d reads %#llx, not %#x", k,
				     (unsigned long long)word, pat[0][k]);
	}
	r->ok = ok;
	for (int i = 0; i < 2; i++)
		free_vm(vm[i], ram[i], KiB(64));
}

/* Creating and destroying VMs returns every frame: the free count ends where it started. */
static void run_leak_check(struct result *r, uint64_t *before, uint64_t *after)
{
	uint64_t big;

	*before = hv_frames.nfree;
	big = frames_alloc_contig(&hv_frames, 512, 512); /* shared 2 MiB: a large EPT page */
	for (unsigned i = 0; big && i < LEAK_ROUNDS; i++) {
		uint64_t ram_pa;
		struct vcpu *v;
		struct vm *vm = make_vm(&blob_real, KiB(64), i % VM_MAX_VCPUS, &v, &ram_pa);
		if (!vm || vm_map(vm, MiB(2), big, MiB(2), VM_RWX) ||
		    vm_unmap(vm, MiB(3), KiB(4))) {
			*r = (struct result){false, "VM creation or mapping failed"};
			return;
		}
		free_vm(vm, ram_pa, KiB(64));
	}
	if (big)
		frames_free_contig(&hv_frames, big, 512);
	*after = hv_frames.nfree;
	r->ok = *before == *after;
	fmt_snprintf(r->why, sizeof(r->why), "free frames %llu before, %llu after",
		     (unsigned long long)*before, (unsigned long long)*after);
}

#define NTESTS (ARRAY_SIZE(tests) + 2)

struct cpu_results {
	struct result r[NTESTS];
};

static struct cpu_results *results;

static void suite_on_cpu(void *arg)
{
	struct cpu_results *mine = &results[this_cpu()->index];

	(void)arg;
	for (unsigned i = 0; i < ARRAY_SIZE(tests); i++)
		run_test(&tests[i], &mine->r[i]);
	run_init_sipi(&mine->r[ARRAY_SIZE(tests)]);
	run_fpu_isolation(&mine->r[ARRAY_SIZE(tests) + 1]);
}

static unsigned tap_line(unsigned n, bool ok, const char *name, unsigned cpu, const char *why)
{
	log_emergency("%s %u - cpu%u: %s%s%s\n", ok ? "ok" : "not ok", n, cpu, name,
		      ok ? "" : " # ", ok ? "" : why);
	return ok ? 0 : 1;
}

/* The hypervisor owns this machine during the tests: keep the legacy PIC from interrupting. */
static void quiesce_pic(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void selftest_run(void)
{
	uint64_t pages = ALIGN_UP(sizeof(struct cpu_results) * ncpus_online, PAGE_SIZE) / PAGE_SIZE;
	uint64_t pa = frames_alloc_contig(&hv_frames, pages, 1), before = 0, after = 0;
	unsigned n = 0, failed = 0, total = (unsigned)(NTESTS * ncpus_online + 1);
	struct result leak;

	if (!pa)
		panic("selftest: out of memory");
	results = phys_to_virt(pa);
	quiesce_pic();
	pr_info("selftest: running %u guest tests on each of %u CPU(s) at once", (unsigned)NTESTS,
		ncpus_online);
	smp_call_all(suite_on_cpu, NULL);
	run_leak_check(&leak, &before, &after);
	log_emergency("TAP version 13\n1..%u\n", total);
	for (unsigned c = 0; c < ncpus_online; c++) {
		for (unsigned i = 0; i < ARRAY_SIZE(tests); i++)
			failed += tap_line(++n, results[c].r[i].ok, tests[i].name, c,
					   results[c].r[i].why);
		failed += tap_line(++n, results[c].r[ARRAY_SIZE(tests)].ok,
				   "INIT parks a vCPU, SIPI starts it at the vector", c,
				   results[c].r[ARRAY_SIZE(tests)].why);
		failed += tap_line(++n, results[c].r[ARRAY_SIZE(tests) + 1].ok,
				   "XMM0 survives another guest's run (extended state is per vCPU)",
				   c, results[c].r[ARRAY_SIZE(tests) + 1].why);
	}
	failed +=
		tap_line(++n, leak.ok, "1000 VMs created and destroyed leak no frame", 0, leak.why);
	log_emergency("selftest: free frames before %llu after %llu\n", (unsigned long long)before,
		      (unsigned long long)after);
	log_emergency("selftest: %u passed, %u failed\n", total - failed, failed);
	frames_free_contig(&hv_frames, pa, pages);
	hv_stop(failed == 0, failed ? "self-tests failed" : "self-tests passed");
}

/* Guest-measured exit costs: RDTSC deltas over 1000 iterations, minus an empty loop. */
void bench_run(void)
{
	uint64_t ram_pa, t[3];
	struct vcpu *v;
	struct vm *vm = make_vm(&blob_bench, KiB(64), 0, &v, &ram_pa);
	struct vm_exit x;

	quiesce_pic();
	if (!vm)
		panic("bench: could not create the VM");
	vcpu_set_mode(v, VCPU_PROT32, GUEST_LOAD, GUEST_STACK, 0);
	for (int i = 0; i < 3; i++) {
		if (vcpu_run(v, &x) || x.kind != VMEXIT_IO)
			panic("bench: unexpected exit %d", x.kind);
		t[i] = x.io.data;
	}
	log_emergency("bench cpuid_exit %llu cycles\n", (unsigned long long)((t[0] - t[2]) / 1000));
	log_emergency("bench vmcall_exit %llu cycles\n",
		      (unsigned long long)((t[1] - t[2]) / 1000));
	log_emergency("bench empty_loop %llu cycles\n", (unsigned long long)(t[2] / 1000));
	log_emergency("bench tsc_khz %llu kHz\n", (unsigned long long)tsc_khz);
	free_vm(vm, ram_pa, KiB(64));
	hv_stop(true, "benchmark done");
}
