// SPDX-License-Identifier: GPL-2.0
/*
 * hvhostile_test: dom0's kernel turned hostile. A thread on each CPU calls every hypercall with
 * random and half-valid arguments while a third rewrites the frame lists and buffers those calls
 * read; then every VM made is destroyed, and the hypervisor must still answer and have the free
 * frames it had. Buffers given are always this module's block or memory dom0 does not own, so
 * dom0 survives what the hypervisor accepts. Lines "hvhostile: ..." end with PASS or FAIL.
 */
#include <linux/completion.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/prandom.h>

#include "hvabi.h"

#define ORDER 6	       /* 256 KiB: room for the largest buffer a call may write (a bitmap) */
#define USED 16	       /* the pages whose addresses calls are given */
#define CALLS 2500     /* per calling thread */

static unsigned long calls = CALLS, seed = 1;
module_param(calls, ulong, 0444);
module_param(seed, ulong, 0444);

/* A thread's work: its own random stream (seed + thread), and how to say it is done. */
struct worker {
	struct rnd_state rnd;
	struct completion done;
};

static struct page *block;
static bool stop;
static atomic_long_t succeeded, failed;
static DECLARE_BITMAP(made, HV_MAX_VMS);
static DEFINE_SPINLOCK(made_lock);

/* Which arguments of each call are dom0 addresses (bit n: argument n). */
static const u8 addr_args[HC_COUNT] = {
	[HC_VM_MAP] = 1 << 2,	  [HC_VCPU_RUN] = 1 << 2,   [HC_VCPU_GET_REGS] = 1 << 2,
	[HC_VCPU_SET_REGS] = 1 << 2, [HC_VCPU_GET_SREGS] = 1 << 2, [HC_VCPU_SET_SREGS] = 1 << 2,
	[HC_MSR_LIST] = 1 << 0,	  [HC_VCPU_GET] = 1 << 3,   [HC_VCPU_SET] = 1 << 3,
	[HC_SYS_INFO] = 1 << 1,	  [HC_DEV_ATTR] = 1 << 4,   [HC_VM_DIRTY] = 1 << 4,
	[HC_VCPU_STATS] = 1 << 2, [HC_VCPU_DEBUG] = 1 << 3, [HC_IRQCHIP] = 1 << 4,
	[HC_VM_CLOCK] = 1 << 3,	  [HC_VM_MSR] = 1 << 3,
};

static unsigned long block_pa(void)
{
	return page_to_phys(block);
}

/* A buffer: in the block (often page-aligned, sometimes not), or memory dom0 does not own. */
static u32 below(struct worker *w, u32 n)
{
	return prandom_u32_state(&w->rnd) % n;
}

static u64 rnd64(struct worker *w)
{
	return (u64)prandom_u32_state(&w->rnd) << 32 | prandom_u32_state(&w->rnd);
}

static unsigned long any_addr(struct worker *w)
{
	switch (below(w, 8)) {
	case 0:
		return 0x200000; /* the hypervisor's image */
	case 1:
		return ~0UL - 7;
	case 2:
		return 1UL << 52;
	default:
		return block_pa() + below(w, USED) * PAGE_SIZE + (below(w, 4) ? 0 : 4 * below(w, 1024));
	}
}

static unsigned long any_val(struct worker *w)
{
	static const unsigned long edge[] = {0,	      1,	  2,	     3,	       7,
					     512,     513,	  4096,	     65536,    0xfffff000,
					     1UL << 32, 1UL << 47, 1UL << 48, ~0UL >> 1, ~0UL};

	switch (below(w, 4)) {
	case 0:
		return edge[below(w, ARRAY_SIZE(edge))];
	case 1:
		return rnd64(w);
	default:
		return below(w, 8);
	}
}

/* A frame number for a list: one of the block's, the hypervisor's, or nothing real. */
static u64 any_frame(struct worker *w)
{
	switch (below(w, 4)) {
	case 0:
		return 0x200;
	case 1:
		return rnd64(w) | 1ULL << 40;
	default:
		return page_to_pfn(block) + below(w, 1 << ORDER);
	}
}

static void one_call(struct worker *w)
{
	unsigned long nr = below(w, HC_COUNT + 2), a[5];
	long rc;
	int i;

	for (i = 0; i < 5; i++)
		a[i] = nr < HC_COUNT && (addr_args[nr] >> i & 1) ? any_addr(w) : any_val(w);
	if (nr == HC_VM_DESTROY || nr == HC_VM_CREATE)
		a[0] = below(w, 4);
	rc = hv_call(nr, a[0], a[1], a[2], a[3], a[4]);
	if (nr == HC_VM_CREATE && rc >= 0 && rc < HV_MAX_VMS) {
		spin_lock(&made_lock);
		set_bit(rc, made);
		spin_unlock(&made_lock);
	}
	atomic_long_inc(rc < 0 ? &failed : &succeeded);
}

static int caller(void *arg)
{
	struct worker *w = arg;
	unsigned long i;

	for (i = 0; i < calls; i++) {
		one_call(w);
		cond_resched();
	}
	complete(&w->done);
	return 0;
}

/* Rewrites what the callers pass (frame lists, state) while their calls read it. */
static int scribbler(void *arg)
{
	struct worker *w = arg;
	u64 *p = page_address(block);

	while (!READ_ONCE(stop)) {
		unsigned long i = below(w, USED * PAGE_SIZE / 8);

		p[i] = below(w, 2) ? any_frame(w) : any_val(w);
		if (!(i & 63))
			cond_resched();
	}
	complete(&w->done);
	return 0;
}

static int __init hvhostile_init(void)
{
	static struct worker w[3];
	long before, after;
	int i, destroyed = 0;

	block = alloc_pages(GFP_KERNEL | __GFP_ZERO, ORDER);
	if (!block) {
		pr_info("hvhostile: FAIL (no memory)\n");
		return 0;
	}
	before = hv_call(HC_FREE_FRAMES, 0, 0, 0, 0, 0);
	for (i = 0; i < 3; i++) {
		prandom_seed_state(&w[i].rnd, seed + i);
		init_completion(&w[i].done);
	}
	for (i = 0; i < 3; i++) {
		struct task_struct *t =
			kthread_create(i < 2 ? caller : scribbler, &w[i], "hvhostile/%d", i);
		if (IS_ERR(t)) {
			pr_info("hvhostile: FAIL (no thread)\n");
			return 0;
		}
		if (i < 2)
			kthread_bind(t, i % num_online_cpus());
		wake_up_process(t);
	}
	wait_for_completion(&w[0].done);
	wait_for_completion(&w[1].done);
	WRITE_ONCE(stop, true);
	wait_for_completion(&w[2].done);
	for_each_set_bit(i, made, HV_MAX_VMS)
		destroyed += !hv_call(HC_VM_DESTROY, i, 0, 0, 0, 0);
	after = hv_call(HC_FREE_FRAMES, 0, 0, 0, 0, 0);
	pr_info("hvhostile: seed %lu: %ld calls succeeded, %ld failed, on %u CPUs; %d VMs destroyed\n",
		seed, atomic_long_read(&succeeded), atomic_long_read(&failed), num_online_cpus(),
		destroyed);
	pr_info("hvhostile: hypervisor free frames before %ld after %ld\n", before, after);
	pr_info("hvhostile: ABI version after: %ld\n", hv_call(HC_ABI_VERSION, 0, 0, 0, 0, 0));
	pr_info("hvhostile: %s\n", before == after && before > 0 ? "PASS" : "FAIL");
	__free_pages(block, ORDER);
	return 0;
}

static void __exit hvhostile_exit(void)
{
}

module_init(hvhostile_init);
module_exit(hvhostile_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("A hostile dom0 kernel against the hypervisor's hypercalls");
