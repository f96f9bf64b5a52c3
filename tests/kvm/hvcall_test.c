// SPDX-License-Identifier: GPL-2.0
/*
 * hvcall_test: drives the hypervisor's VM hypercalls from dom0's kernel when loaded. A one-page
 * guest at the reset vector writes 0x42 to port 0x10 and halts; the results go to the kernel
 * log as "hvcall: ..." lines, ending with PASS or FAIL.
 */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <asm/apic.h>
#include <asm/msr.h>
#include <asm/mtrr.h>
#include <asm/nmi.h>

#include "hvabi.h"

static int check(const char *what, long got, long want)
{
	pr_info("hvcall: %s: %ld (want %ld) %s\n", what, got, want, got == want ? "ok" : "FAIL");
	return got != want;
}

/*
 * Runs the vCPU until an exit other than a host interrupt or the end of a run slice; in_data
 * answers a pending IN.
 */
static long run_in(long vm, struct hv_exit *e, phys_addr_t e_pa, unsigned long in_data)
{
	long rc;

	do {
		rc = hv_call(HC_VCPU_RUN, vm, 0, e_pa, in_data, 0);
	} while (!rc && (e->kind == HV_EXIT_INTR || e->kind == HV_EXIT_TIMEOUT));
	return rc;
}

static long run(long vm, struct hv_exit *e, phys_addr_t e_pa)
{
	return run_in(vm, e, e_pa, 0);
}

/* Real mode at 0x1000 set through the register hypercalls: IN, OUT of what came in, HLT. */
static int registers(struct page *ram, struct page *list, struct page *ex, struct page *scratch)
{
	static const u8 code[] = {0xe4, 0x11, 0xe6, 0x10, 0xf4}; /* in $0x11; out $0x10; hlt */
	struct hv_sregs *s = page_address(scratch);
	struct hv_regs *r = page_address(scratch);
	struct hv_exit *e = page_address(ex);
	phys_addr_t sp = page_to_phys(scratch), ep = page_to_phys(ex);
	u64 *pfn = page_address(list);
	int fails = 0;
	long vm = hv_call(HC_VM_CREATE, 0, 0, 0, 0, 0);

	memcpy(page_address(ram), code, sizeof(code));
	pfn[0] = page_to_pfn(ram);
	fails += check("regs: map", hv_call(HC_VM_MAP, vm, 0x1000, page_to_phys(list), 1, 7), 0);
	fails += check("regs: vcpu", hv_call(HC_VCPU_CREATE, vm, 0, 0, 0, 0), 0);
	fails += check("get sregs", hv_call(HC_VCPU_GET_SREGS, vm, 0, sp, 0, 0), 0);
	fails += check("reset CS base", s->cs.base, 0xffff0000);
	s->cr0 |= 0x80000000; /* PG without PE: refused */
	fails += check("set bad sregs", hv_call(HC_VCPU_SET_SREGS, vm, 0, sp, 0, 0), -EINVAL);
	s->cr0 &= ~0x80000000ull;
	s->cs.base = 0;
	s->cs.selector = 0;
	fails += check("set sregs", hv_call(HC_VCPU_SET_SREGS, vm, 0, sp, 0, 0), 0);
	memset(r, 0, sizeof(*r));
	r->rip = 0x1000;
	r->rflags = 2;
	fails += check("set regs", hv_call(HC_VCPU_SET_REGS, vm, 0, sp, 0, 0), 0);
	fails += check("run to the IN", run(vm, e, ep), 0);
	fails += check("IN port", e->kind == HV_EXIT_IO && e->in ? e->port : -1, 0x11);
	fails += check("run with the IN's data", run_in(vm, e, ep, 0x5a), 0);
	fails += check("OUT value", e->kind == HV_EXIT_IO && !e->in ? e->data : -1, 0x5a);
	fails += check("run to the HLT", run(vm, e, ep), 0);
	fails += check("get regs", hv_call(HC_VCPU_GET_REGS, vm, 0, sp, 0, 0), 0);
	fails += check("RIP after HLT", r->rip, 0x1005);
	fails += check("AL", r->rax & 0xff, 0x5a);
	fails += check("regs: destroy", hv_call(HC_VM_DESTROY, vm, 0, 0, 0, 0), 0);
	return fails;
}

static int exercise(struct page *ram, struct page *list, struct page *ex)
{
	static const u8 code[] = {0xb0, 0x42, 0xe6, 0x10, 0xf4}; /* mov $0x42,%al; out; hlt */
	struct hv_exit *e = page_address(ex);
	u64 *pfn = page_address(list);
	int fails = 0;
	long vm;

	memcpy(page_address(ram) + 0xff0, code, sizeof(code));
	pfn[0] = page_to_pfn(ram);
	fails += check("abi version", hv_call(HC_ABI_VERSION, 0, 0, 0, 0, 0), HV_ABI_VERSION);
	vm = hv_call(HC_VM_CREATE, 0, 0, 0, 0, 0);
	fails += check("vm create", vm >= 0, 1);
	fails += check("map a list in the hypervisor's memory",
		       hv_call(HC_VM_MAP, vm, 0xfffff000, 0x200000, 1, 7), -EFAULT);
	pfn[1] = 0x200; /* the hypervisor's first image page */
	fails += check("map a frame dom0 does not own",
		       hv_call(HC_VM_MAP, vm, 0xfffff000, page_to_phys(list) + 8, 1, 7), -EFAULT);
	fails += check("map", hv_call(HC_VM_MAP, vm, 0xfffff000, page_to_phys(list), 1, 7), 0);
	fails += check("vcpu create", hv_call(HC_VCPU_CREATE, vm, 0, 0, 0, 0), 0);
	fails += check("vcpu create again", hv_call(HC_VCPU_CREATE, vm, 0, 0, 0, 0), -EEXIST);
	fails += check("run to the OUT", run(vm, e, page_to_phys(ex)), 0);
	fails += check("exit kind IO", e->kind, HV_EXIT_IO);
	fails += check("port", e->port, 0x10);
	fails += check("value", e->data, 0x42);
	fails += check("run to the HLT", run(vm, e, page_to_phys(ex)), 0);
	fails += check("exit kind HLT", e->kind, HV_EXIT_HLT);
	fails += check("vm destroy", hv_call(HC_VM_DESTROY, vm, 0, 0, 0, 0), 0);
	fails += check("vm destroy again", hv_call(HC_VM_DESTROY, vm, 0, 0, 0, 0), -EBADF);
	return fails;
}

/* A map across 2^48 maps nothing, and the unmap of that range succeeds (issue 14, finding 1). */
static int map_edge(struct page *list)
{
	const unsigned long top = (1ULL << 48) - PAGE_SIZE;
	long vm = hv_call(HC_VM_CREATE, 0, 0, 0, 0, 0);
	int fails = 0;

	fails += check("edge: map across 2^48",
		       hv_call(HC_VM_MAP, vm, top, page_to_phys(list), 2, 7), -EINVAL);
	fails += check("edge: unmap across 2^48", hv_call(HC_VM_UNMAP, vm, top, 2, 0, 0), 0);
	fails += check("edge: destroy", hv_call(HC_VM_DESTROY, vm, 0, 0, 0, 0), 0);
	return fails;
}

/* A list whose 65th frame is refused changes nothing: not on an empty range, not over a mapping. */
static int map_all_or_nothing(struct page *ram, struct page *list, struct page *ex)
{
	static const u8 code[] = {0xb0, 0x42, 0xe6, 0x10, 0xf4}; /* mov $0x42,%al; out; hlt */
	struct hv_exit *e = page_address(ex);
	u64 *pfn = page_address(list);
	long vm = hv_call(HC_VM_CREATE, 0, 0, 0, 0, 0);
	int fails = 0, i;

	memcpy(page_address(ram) + 0xff0, code, sizeof(code));
	for (i = 0; i < 64; i++)
		pfn[i] = page_to_pfn(ram);
	pfn[64] = 0x200; /* the hypervisor's first image page */
	fails += check("all or nothing: map",
		       hv_call(HC_VM_MAP, vm, 0xfffff000, page_to_phys(list), 65, 7), -EFAULT);
	fails += check("all or nothing: vcpu", hv_call(HC_VCPU_CREATE, vm, 0, 0, 0, 0), 0);
	fails += check("all or nothing: run", run(vm, e, page_to_phys(ex)), 0);
	fails += check("all or nothing: the reset vector is not mapped", e->kind, HV_EXIT_MMIO);
	fails += check("all or nothing: map one page",
		       hv_call(HC_VM_MAP, vm, 0xfffff000, page_to_phys(list), 1, 7), 0);
	fails += check("all or nothing: the long list over it",
		       hv_call(HC_VM_MAP, vm, 0xfffff000, page_to_phys(list), 65, 7), -EFAULT);
	fails += check("all or nothing: run again", run(vm, e, page_to_phys(ex)), 0);
	fails += check("all or nothing: the page mapped before is still there",
		       e->kind == HV_EXIT_IO ? (long)e->data : -1, 0x42);
	fails += check("all or nothing: destroy", hv_call(HC_VM_DESTROY, vm, 0, 0, 0, 0), 0);
	return fails;
}

/* A count whose size in bytes wraps (n * 40 = 2^64 + 24) is refused; nothing is written. */
static int sys_info_overflow(void)
{
	struct page *p = alloc_pages(GFP_KERNEL, 1);
	u8 *next;
	int fails = 0, i, touched = 0;

	if (!p)
		return check("overflow: memory", 0, 1);
	next = page_address(p) + PAGE_SIZE;
	memset(next, 0xaa, PAGE_SIZE);
	fails += check("overflow: SYS_INFO count",
		       hv_call(HC_SYS_INFO, HV_INFO_CPUID, page_to_phys(p) + PAGE_SIZE - 24,
			       461168601842738791UL, 0, 0), -EINVAL);
	for (i = 0; i < PAGE_SIZE; i++)
		touched += next[i] != 0xaa;
	fails += check("overflow: bytes written past the buffer", touched, 0);
	__free_pages(p, 1);
	return fails;
}

/* Dirty logging of a page mapped read-only: a write stays refused (issue 14, finding 8). */
static int dirty_readonly(struct page *ram, struct page *list, struct page *ex)
{
	/* mov $0x42,%al; mov %al,%cs:0xff80; mov %al,%cs:0xff81; out %al,$0x10; hlt */
	static const u8 code[] = {0xb0, 0x42, 0x2e, 0xa2, 0x80, 0xff, 0x2e,
				  0xa2, 0x81, 0xff, 0xe6, 0x10, 0xf4};
	struct hv_exit *e = page_address(ex);
	u64 *pfn = page_address(list);
	long vm = hv_call(HC_VM_CREATE, 0, 0, 0, 0, 0);
	int fails = 0;

	memcpy(page_address(ram) + 0xff0, code, sizeof(code));
	pfn[0] = page_to_pfn(ram);
	fails += check("read-only: map", hv_call(HC_VM_MAP, vm, 0xfffff000, page_to_phys(list), 1,
						 HV_PROT_R | HV_PROT_X), 0);
	fails += check("read-only: log it",
		       hv_call(HC_VM_DIRTY, vm, HV_DIRTY_START, 0xfffff000, 1, 0), 0);
	fails += check("read-only: vcpu", hv_call(HC_VCPU_CREATE, vm, 0, 0, 0, 0), 0);
	fails += check("read-only: run", run(vm, e, page_to_phys(ex)), 0);
	fails += check("read-only: the write exits", e->kind == HV_EXIT_MMIO && e->write, 1);
	fails += check("read-only: the first at", e->gpa, 0xffffff80);
	fails += check("read-only: stop logging",
		       hv_call(HC_VM_DIRTY, vm, HV_DIRTY_STOP, 0xfffff000, 0, 0), 0);
	fails += check("read-only: run again", run(vm, e, page_to_phys(ex)), 0);
	fails += check("read-only: the next write exits too", e->kind == HV_EXIT_MMIO && e->write, 1);
	fails += check("read-only: the second at", e->gpa, 0xffffff81);
	fails += check("read-only: destroy", hv_call(HC_VM_DESTROY, vm, 0, 0, 0, 0), 0);
	return fails;
}

/*
 * What the hypervisor writes for a guest is logged like the guest's own writes: REP INSB into a
 * logged page (completed by the hypervisor, no EPT violation) reports the page dirty.
 */
static int dirty_ins(struct page *ram, struct page *list, struct page *ex)
{
	/* mov $0x1000,%di; mov $0x10,%dx; mov $1,%cx; rep insb; hlt */
	static const u8 code[] = {0xbf, 0x00, 0x10, 0xba, 0x10, 0x00, 0xb9, 0x01, 0x00, 0xf3, 0x6c, 0xf4};
	struct page *data = alloc_page(GFP_KERNEL | __GFP_ZERO);
	struct hv_exit *e = page_address(ex);
	u64 *pfn = page_address(list), *bits = pfn + 256; /* the bitmap at byte 2048 */
	long vm = hv_call(HC_VM_CREATE, 0, 0, 0, 0, 0);
	int fails = 0;

	if (!data)
		return check("ins: memory", 0, 1);
	memcpy(page_address(ram) + 0xff0, code, sizeof(code));
	pfn[0] = page_to_pfn(ram);
	fails += check("ins: map the code",
		       hv_call(HC_VM_MAP, vm, 0xfffff000, page_to_phys(list), 1, 7), 0);
	pfn[0] = page_to_pfn(data);
	fails += check("ins: map the data", hv_call(HC_VM_MAP, vm, 0x1000, page_to_phys(list), 1, 7),
		       0);
	fails += check("ins: log it", hv_call(HC_VM_DIRTY, vm, HV_DIRTY_START, 0x1000, 1, 0), 0);
	fails += check("ins: vcpu", hv_call(HC_VCPU_CREATE, vm, 0, 0, 0, 0), 0);
	fails += check("ins: run to the IN", run(vm, e, page_to_phys(ex)), 0);
	fails += check("ins: REP INSB", e->kind == HV_EXIT_IO && e->in && e->string, 1);
	fails += check("ins: complete it", run_in(vm, e, page_to_phys(ex), 0x77), 0);
	fails += check("ins: then HLT", e->kind, HV_EXIT_HLT);
	fails += check("ins: the byte written", *(u8 *)page_address(data), 0x77);
	*bits = 0;
	fails += check("ins: fetch the log", hv_call(HC_VM_DIRTY, vm, HV_DIRTY_FETCH, 0x1000, 1,
						     page_to_phys(list) + 2048), 0);
	fails += check("ins: the page is dirty", *bits, 1);
	fails += check("ins: destroy", hv_call(HC_VM_DESTROY, vm, 0, 0, 0, 0), 0);
	__free_page(data);
	return fails;
}

struct spin_run {
	long vm, rc;
	struct hv_exit *e;
	phys_addr_t ep;
	struct completion done;
};

static atomic_t nmi_hits;
static bool nmi_armed;

static int nmi_counter(unsigned int type, struct pt_regs *regs)
{
	if (!READ_ONCE(nmi_armed) || smp_processor_id() != 1)
		return NMI_DONE;
	atomic_inc(&nmi_hits);
	return NMI_HANDLED;
}

/* An NMI IPI to CPU 1 while its guest runs reaches dom0's handler there (finding 6). */
static int nmi_to_guest_cpu(void)
{
	int i, hits;

	if (register_nmi_handler(NMI_LOCAL, nmi_counter, 0, "hvcall"))
		return check("nmi: handler", 0, 1);
	WRITE_ONCE(nmi_armed, true);
	apic->send_IPI(1, NMI_VECTOR);
	for (i = 0; i < 10 && !atomic_read(&nmi_hits); i++)
		msleep(20);
	WRITE_ONCE(nmi_armed, false);
	hits = atomic_read(&nmi_hits);
	unregister_nmi_handler(NMI_LOCAL, "hvcall");
	return check("nmi: dom0 takes the NMI sent to a CPU that runs a guest", hits, 1);
}

/* run(), letting RCU and the scheduler in between the runs (the guest spins for long) */
static int spin_runner(void *arg)
{
	struct spin_run *r = arg;

	do {
		r->rc = hv_call(HC_VCPU_RUN, r->vm, 0, r->ep, 0, 0);
		cond_resched();
	} while (!r->rc && (r->e->kind == HV_EXIT_INTR || r->e->kind == HV_EXIT_TIMEOUT));
	complete(&r->done);
	return 0;
}

/*
 * A vCPU spins on a page in guest mode on CPU 1: an NMI sent there reaches dom0; then CPU 0
 * unmaps the page and writes the frame: once HC_VM_UNMAP has returned the guest must not see
 * that write (TLB shootdown, finding 5).
 */
static int tlb_shootdown(struct page *ram, struct page *list, struct page *ex)
{
	/* 1: mov 0x1000,%ax; cmp $0x1111,%ax; je 1b; out %ax,$0x10; hlt */
	static const u8 code[] = {0xa1, 0x00, 0x10, 0x3d, 0x11, 0x11, 0x74, 0xf8, 0xe7, 0x10, 0xf4};
	struct page *data = alloc_page(GFP_KERNEL | __GFP_ZERO);
	struct spin_run r = {.e = page_address(ex), .ep = page_to_phys(ex)};
	u64 *pfn = page_address(list);
	struct task_struct *t;
	int fails = 0;

	if (num_online_cpus() < 2 || !data) {
		pr_info("hvcall: shootdown: skipped (one CPU)\n");
		if (data)
			__free_page(data);
		return 0;
	}
	memcpy(page_address(ram) + 0xff0, code, sizeof(code));
	*(u16 *)page_address(data) = 0x1111;
	r.vm = hv_call(HC_VM_CREATE, 0, 0, 0, 0, 0);
	pfn[0] = page_to_pfn(ram);
	fails += check("shootdown: map the code",
		       hv_call(HC_VM_MAP, r.vm, 0xfffff000, page_to_phys(list), 1, 7), 0);
	pfn[0] = page_to_pfn(data);
	fails += check("shootdown: map the data",
		       hv_call(HC_VM_MAP, r.vm, 0x1000, page_to_phys(list), 1, 7), 0);
	fails += check("shootdown: vcpu", hv_call(HC_VCPU_CREATE, r.vm, 0, 0, 0, 0), 0);
	init_completion(&r.done);
	t = kthread_create(spin_runner, &r, "hvcall-spin");
	if (IS_ERR(t))
		return fails + check("shootdown: thread", PTR_ERR(t), 0);
	kthread_bind(t, 1);
	wake_up_process(t);
	msleep(20); /* the guest spins on CPU 1 */
	fails += nmi_to_guest_cpu();
	fails += check("shootdown: unmap", hv_call(HC_VM_UNMAP, r.vm, 0x1000, 1, 0, 0), 0);
	WRITE_ONCE(*(u16 *)page_address(data), 0x2222);
	fails += check("shootdown: the run ends",
		       wait_for_completion_timeout(&r.done, 30 * HZ) > 0, 1);
	fails += check("shootdown: ... in", r.rc, 0);
	pr_info("hvcall: shootdown: exit kind %u port %#x data %#llx gpa %#llx\n", r.e->kind,
		r.e->port, r.e->data, r.e->gpa);
	fails += check("shootdown: the guest reads unmapped memory, not the old frame",
		       r.e->kind == HV_EXIT_MMIO ? (long)r.e->gpa : -(long)r.e->data, 0x1000);
	fails += check("shootdown: destroy", hv_call(HC_VM_DESTROY, r.vm, 0, 0, 0, 0), 0);
	__free_page(data);
	return fails;
}

struct racer {
	long vm, op, rc;
	atomic_t go;
	struct completion done;
};

/* Creates the irqchip (op 0) or the PIT (op 5) of r->vm once told to go: CPU 1's half. */
static int create_racer(void *arg)
{
	struct racer *r = arg;

	while (!atomic_read(&r->go))
		cpu_relax();
	r->rc = hv_call(HC_IRQCHIP, r->vm, r->op, 0, 0, 0);
	complete(&r->done);
	return 0;
}

/* Both CPUs create a VM's irqchip, then its PIT, at once: one wins, the other gets -EEXIST. */
static int create_race(void)
{
	long before = hv_call(HC_FREE_FRAMES, 0, 0, 0, 0, 0), rc, both = 0, lost = 0;
	struct racer r;
	int i, op;

	if (num_online_cpus() < 2)
		return 0;
	/* this half runs on CPU 0: on CPU 1 it would wait behind its own spinning racer */
	set_cpus_allowed_ptr(current, cpumask_of(0));
	for (i = 0; i < 40; i++) {
		r.vm = hv_call(HC_VM_CREATE, 0, 0, 0, 0, 0);
		for (op = 0; op <= HV_IRQCHIP_PIT; op += HV_IRQCHIP_PIT) {
			struct task_struct *t = kthread_create(create_racer, &r, "hvcall-race");

			if (IS_ERR(t))
				return check("race: thread", PTR_ERR(t), 0);
			r.op = op;
			atomic_set(&r.go, 0);
			init_completion(&r.done);
			kthread_bind(t, 1);
			wake_up_process(t);
			msleep(20);
			atomic_set(&r.go, 1);
			rc = hv_call(HC_IRQCHIP, r.vm, op, 0, 0, 0);
			wait_for_completion(&r.done);
			both += !rc && !r.rc;
			lost += (rc ? rc : r.rc) != -EEXIST;
		}
		hv_call(HC_VM_DESTROY, r.vm, 0, 0, 0, 0);
	}
	set_cpus_allowed_ptr(current, cpu_possible_mask);
	return check("race: both CPUs made the same irqchip or PIT", both, 0) +
	       check("race: the loser's answer was not -EEXIST", lost, 0) +
	       check("race: every frame back",
		     hv_call(HC_FREE_FRAMES, 0, 0, 0, 0, 0) == before, 1);
}

/*
 * Microcode and MTRRs stay the firmware's: dom0's writes are dropped, without a fault (README,
 * finding 6). The write goes to an unused variable MTRR, harmless were it applied.
 */
static int firmware_msrs(void)
{
	u64 cap, mask = 0, base, after;
	int i, fails = 0;

	fails += check("microcode: a load is dropped", wrmsrl_safe(MSR_IA32_UCODE_WRITE, 0), 0);
	rdmsrl(MSR_MTRRcap, cap);
	for (i = 0; i < (cap & 0xff); i++) {
		rdmsrl(MTRRphysMask_MSR(i), mask);
		if (!(mask & BIT(11)))
			break;
	}
	if (i == (cap & 0xff))
		return fails + check("mtrr: an unused pair", 0, 1);
	rdmsrl(MTRRphysBase_MSR(i), base);
	fails += check("mtrr: dom0 writes an unused base",
		       wrmsrl_safe(MTRRphysBase_MSR(i), base ^ BIT(12)), 0);
	rdmsrl(MTRRphysBase_MSR(i), after);
	fails += check("mtrr: the firmware's value stays", after == base, 1);
	/* the local APIC's mode is dom0's, its page and BSP flag are not (finding 6) */
	rdmsrl(MSR_IA32_APICBASE, base);
	pr_info("hvcall: local APIC in %s mode\n", base & BIT(10) ? "x2APIC" : "xAPIC");
	fails += check("apic base: moving the page is refused",
		       wrmsrl_safe(MSR_IA32_APICBASE, base ^ BIT(20)) != 0, 1);
	fails += check("apic base: flipping the BSP flag is refused",
		       wrmsrl_safe(MSR_IA32_APICBASE, base ^ BIT(8)) != 0, 1);
	fails += check("apic base: writing it unchanged works",
		       wrmsrl_safe(MSR_IA32_APICBASE, base), 0);
	rdmsrl(MSR_IA32_APICBASE, after);
	fails += check("apic base: unchanged", after == base, 1);
	return fails;
}

static int __init hvcall_init(void)
{
	struct page *ram = alloc_page(GFP_KERNEL | __GFP_ZERO);
	struct page *list = alloc_page(GFP_KERNEL | __GFP_ZERO);
	struct page *ex = alloc_page(GFP_KERNEL | __GFP_ZERO);
	struct page *scratch = alloc_page(GFP_KERNEL | __GFP_ZERO);
	int fails;

	if (!ram || !list || !ex || !scratch) {
		pr_info("hvcall: FAIL (no memory)\n");
	} else {
		fails = exercise(ram, list, ex);
		memset(page_address(ram), 0, PAGE_SIZE);
		fails += registers(ram, list, ex, scratch);
		fails += map_edge(list);
		memset(page_address(ram), 0, PAGE_SIZE);
		fails += map_all_or_nothing(ram, list, ex);
		fails += sys_info_overflow();
		memset(page_address(ram), 0, PAGE_SIZE);
		fails += dirty_readonly(ram, list, ex);
		memset(page_address(ram), 0, PAGE_SIZE);
		fails += dirty_ins(ram, list, ex);
		memset(page_address(ram), 0, PAGE_SIZE);
		fails += tlb_shootdown(ram, list, ex);
		fails += firmware_msrs();
		fails += create_race();
		pr_info("hvcall: %s\n", fails ? "FAIL" : "PASS");
	}
	if (scratch)
		__free_page(scratch);
	if (ram)
		__free_page(ram);
	if (list)
		__free_page(list);
	if (ex)
		__free_page(ex);
	return 0;
}

static void __exit hvcall_exit(void)
{
}

module_init(hvcall_init);
module_exit(hvcall_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Exercises the hypervisor's VM hypercalls");
