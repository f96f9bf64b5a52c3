// SPDX-License-Identifier: GPL-2.0
/*
 * hvcall_test: drives the hypervisor's VM hypercalls from dom0's kernel when loaded. A one-page
 * guest at the reset vector writes 0x42 to port 0x10 and halts; the results go to the kernel
 * log as "hvcall: ..." lines, ending with PASS or FAIL.
 */
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>

#include "hvabi.h"

static int check(const char *what, long got, long want)
{
	pr_info("hvcall: %s: %ld (want %ld) %s\n", what, got, want, got == want ? "ok" : "FAIL");
	return got != want;
}

/* Runs the vCPU until an exit other than a host interrupt; in_data answers a pending IN. */
static long run_in(long vm, struct hv_exit *e, phys_addr_t e_pa, unsigned long in_data)
{
	long rc;

	do {
		rc = hv_call(HC_VCPU_RUN, vm, 0, e_pa, in_data, 0);
	} while (!rc && e->kind == HV_EXIT_INTR);
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
