/* SMP bring-up: INIT-SIPI-SIPI with the low trampoline, per-CPU blocks, a simple work mailbox. */
#include "smp.h"
#include "lapic.h"
#include "../lib/log.h"
#include "mm.h"
#include "../lib/panic.h"
#include "tsc.h"
#include "x86.h"

#define AP_WAIT_US 200000 /* how long an AP gets to report in */

struct tr_data {
	uint64_t cr3, stack, percpu, entry;
};

extern const char trampoline_start[], trampoline_end[], trampoline_data[];

struct percpu *cpus[MAX_CPUS];
unsigned ncpus_online;

static struct percpu *percpu_alloc(uint32_t index, uint32_t apic_id)
{
	struct percpu *c = mem_alloc(sizeof(*c));
	uint64_t stack = frames_alloc_contig(&hv_frames, CPU_STACK_SIZE / PAGE_SIZE, 1);

	if (!c || !stack)
		panic("smp: out of memory for CPU %u", index);
	c->self = c;
	c->index = index;
	c->apic_id = apic_id;
	c->stack_top = (uint64_t)(uintptr_t)phys_to_virt(stack) + CPU_STACK_SIZE;
	cpus[index] = c;
	return c;
}

static void percpu_load(struct percpu *c)
{
	cpu_tables_load(&c->tables);
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)c);
}

void smp_init_bsp(uint32_t apic_id)
{
	struct percpu *c = percpu_alloc(0, apic_id);

	percpu_load(c);
	c->online = true;
	ncpus_online = 1;
}

/* Idle loop of an AP: waits for work from smp_call_all(). */
static __noreturn void ap_idle(struct percpu *c)
{
	for (;;) {
		while (!c->work)
			cpu_relax();
		c->work(c->work_arg);
		c->work = NULL;
		__atomic_store_n(&c->work_done, true, __ATOMIC_RELEASE);
	}
}

void ap_entry(struct percpu *c);
void ap_entry(struct percpu *c)
{
	/* leave the trampoline's low tables; the stack is in the direct map */
	write_cr3(paging_root());
	percpu_load(c);
	lapic_init();
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	ap_idle(c);
}

/* Low page tables for the trampoline (t[0..2]): the image's high half plus identity-mapped 2 MiB.
 */
static void trampoline_tables(uint64_t t[3])
{
	uint64_t *pml4;

	for (int i = 0; i < 3; i++)
		t[i] = frame_alloc_zeroed();
	if (t[0] >= GiB(4))
		panic("smp: trampoline page table above 4 GiB");
	pml4 = phys_to_virt(t[0]);
	__builtin_memcpy(pml4 + 256, (uint64_t *)phys_to_virt(paging_root()) + 256, 256 * 8);
	pml4[0] = t[1] | 3;
	((uint64_t *)phys_to_virt(t[1]))[0] = t[2] | 3;
	((uint64_t *)phys_to_virt(t[2]))[0] = 0x83; /* 2 MiB page at 0, RW */
}

static bool start_ap(struct percpu *c, struct tr_data *d, uint64_t page)
{
	d->stack = c->stack_top;
	d->percpu = (uint64_t)(uintptr_t)c;
	lapic_send_ipi(c->apic_id, ICR_INIT | ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL);
	udelay(10000);
	for (int sipi = 0; sipi < 2; sipi++) {
		lapic_send_ipi(c->apic_id, ICR_STARTUP | (uint32_t)(page >> 12));
		for (uint64_t t = 0; t < AP_WAIT_US; t += 100) {
			if (__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
				return true;
			udelay(100);
		}
	}
	return false;
}

void smp_start_aps(const struct madt_info *mi, uint64_t page)
{
	size_t len = (uintptr_t)trampoline_end - (uintptr_t)trampoline_start;
	struct tr_data *d =
		phys_to_virt(page + (uintptr_t)trampoline_data - (uintptr_t)trampoline_start);
	uint32_t self = this_cpu()->apic_id;
	uint64_t pt[3];

	if (!page && mi->ncpus > 1)
		panic("smp: no free page below 1 MiB in the memory map for the AP start code");
	if (!page)
		return; /* one CPU and no free low page: nothing to start, nowhere to copy to */
	pr_info("smp: AP start code at %#lx", page);
	trampoline_tables(pt);
	__builtin_memcpy(phys_to_virt(page), trampoline_start, len);
	*d = (struct tr_data){.cr3 = pt[0], .entry = (uint64_t)(uintptr_t)ap_entry};
	for (unsigned i = 0; i < mi->ncpus && ncpus_online < MAX_CPUS; i++) {
		if (mi->cpus[i].apic_id == self)
			continue;
		struct percpu *c = percpu_alloc(ncpus_online, mi->cpus[i].apic_id);
		if (!start_ap(c, d, page))
			panic("smp: CPU with APIC id %u did not start", c->apic_id);
		ncpus_online++;
	}
	for (int i = 0; i < 3; i++)
		frame_free(&hv_frames, pt[i]);
	pr_info("smp: %u CPU(s) online", ncpus_online);
}

void smp_call_all(void (*fn)(void *arg), void *arg)
{
	smp_start_all(fn, arg);
	fn(arg);
	for (unsigned i = 1; i < ncpus_online; i++)
		while (!__atomic_load_n(&cpus[i]->work_done, __ATOMIC_ACQUIRE))
			cpu_relax();
}

void smp_start_all(void (*fn)(void *arg), void *arg)
{
	for (unsigned i = 1; i < ncpus_online; i++) {
		cpus[i]->work_arg = arg;
		cpus[i]->work_done = false;
		__atomic_store_n(&cpus[i]->work, fn, __ATOMIC_RELEASE);
	}
}
