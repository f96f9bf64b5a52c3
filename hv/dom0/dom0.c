/*
 * dom0, the control domain: loads the kernel GRUB gave as module 0, a PVH vmlinux or a bzImage
 * (module 1 is its initrd), gives it every frame the hypervisor does not keep (dom0_mem.c),
 * traps the few devices the hypervisor must (dom0_io.c) and runs it on every CPU (here).
 */
#include "dom0.h"
#include "dom0_priv.h"
#include "../lib/cmdline.h"
#include "../platform/lapic.h"
#include "../lib/log.h"
#include "../platform/mm.h"
#include "../lib/panic.h"
#include "../platform/smp.h"
#include "../platform/tsc.h"
#include "../vmx/vm.h"
#include "../platform/x86.h"

#define POOL_DEFAULT_MIB 32

struct dom0_state d0;

static uint64_t sample_ms;     /* dom0sample=MS: log where each dom0 CPU is every MS ms */
static uint32_t trace_vectors; /* dom0trap=N: log exceptions of vector N (debugging) */

/* Logs an intercepted exception and delivers it to dom0 as if nothing had happened. */
static void trace_exception(struct vcpu *v, const struct vm_exit *x)
{
	struct vcpu_regs r;

	vcpu_get_regs(v, &r);
	pr_info("dom0: exception %u error %#x at RIP %#lx CR2 %#lx", x->exc.vector, x->exc.error,
		r.rip, x->qual);
	if (x->exc.vector == 14)
		vcpu_set_cr2(v, x->qual);
	for (int i = 0; i < 8; i++) {
		uint64_t q = 0;
		vcpu_read_gva(v, r.rsp + 8 * i, &q, 8);
		pr_info("dom0:   stack +%02x: %016lx", 8 * i, q);
	}
	vcpu_queue_exception(v, x->exc.vector, x->exc.has_error, x->exc.error);
}

/* A dom0 exit that reaches here means dom0 is beyond help: report it and end the run. */
static __noreturn void dom0_failed(struct vcpu *v, const struct vm_exit *x, const char *what)
{
	log_emergency("\n*** dom0 %s (exit kind %d, reason %u, qualification %#lx)\n", what,
		      x->kind, x->reason & 0xffff, x->qual);
	vcpu_report(v);
	hv_stop(false, what);
}

static __noreturn void dom0_cpu_loop(struct vcpu *v)
{
	struct vm_exit x;

	vcpu_intercept_exceptions(v, (1u << 8) | trace_vectors);
	vcpu_pin(v);
	if (sample_ms)
		vcpu_set_timeout(v, tsc_khz * sample_ms);
	for (;;) {
		if (vcpu_run(v, &x))
			continue;
		if (x.kind == VMEXIT_TIMEOUT && sample_ms) {
			struct vcpu_regs r;
			vcpu_get_regs(v, &r);
			pr_info("dom0: CPU %u at RIP %#lx RFLAGS %#lx", this_cpu()->index, r.rip,
				r.rflags);
		}
		switch (x.kind) {
		case VMEXIT_SHUTDOWN:
			dom0_failed(v, &x, "triple fault");
		case VMEXIT_EXCEPTION:
			if (x.exc.vector == 8) /* dom0's kernel is lost */
				dom0_failed(v, &x, "double fault");
			trace_exception(v, &x);
			continue;
		case VMEXIT_FAIL_ENTRY:
			dom0_failed(v, &x, "VM entry failure");
		case VMEXIT_INTR:
		case VMEXIT_TIMEOUT:
			continue;
		case VMEXIT_IO: /* a wide access that overlaps a hooked port: do it for dom0 */
			if (x.io.string)
				dom0_failed(v, &x, "string I/O on a trapped port");
			dom0_port_passthrough(&x);
			continue;
		case VMEXIT_MSR:
			dom0_msr(&x);
			continue;
		default:
			dom0_failed(v, &x, "exit the hypervisor cannot handle");
		}
	}
}

/* An AP waits for dom0's INIT and SIPI, then runs its dom0 vCPU. */
static void dom0_ap_main(void *arg __unused)
{
	unsigned i = this_cpu()->index;
	struct vcpu *v = d0.vcpus[i];

	while (d0.mbox[i].sipi < 0)
		cpu_relax();
	vcpu_init_signal(v);
	vcpu_sipi(v, (uint8_t)d0.mbox[i].sipi);
	pr_debug("dom0: CPU %u starts at %#x", i, d0.mbox[i].sipi << 12);
	dom0_cpu_loop(v);
}

void dom0_boot(struct boot_info *bi)
{
	uint64_t pool = MiB(POOL_DEFAULT_MIB), info, mib;
	uint32_t entry;
	struct vcpu_regs r;

	if (!bi->nmods)
		hv_stop(true, "boot complete; no dom0 module given");
	cmdline_get_u64(bi->cmdline, "dom0sample", &sample_ms); /* written only when valid */
	if (cmdline_get_u64(bi->cmdline, "dom0trap", &mib) && mib < 32 && mib != 8)
		trace_vectors = 1u << mib;
	if (cmdline_get_u64(bi->cmdline, "hvmem", &mib))
		pool = MiB(MAX(8, MIN(mib, 1u << 20)));
	dom0_mem_init();
	d0.lapic = lapic_base_pa();
	entry = dom0_load_kernel(bi);
	for (unsigned i = 1; i < bi->nmods; i++)
		dom0_own(bi->mods[i].start, bi->mods[i].end);
	info = frames_alloc_contig(&hv_frames, BOOTINFO_PAGES, 1);
	if (!info)
		panic("dom0: out of memory");
	dom0_own(info, info + BOOTINFO_PAGES * PAGE_SIZE);
	dom0_split_memory(bi, pool);
	info = dom0_build_bootinfo(bi, info);
	dom0_setup_vm();
	dom0_build_ept(bi);
	for (unsigned i = 0; i < ncpus_online; i++) {
		d0.vcpus[i] = vcpu_create(d0.vm, i);
		d0.mbox[i].sipi = -1;
		if (!d0.vcpus[i])
			panic("dom0: cannot create vCPU %u", i);
	}
	dom0_must(vcpu_set_mode(d0.vcpus[0], VCPU_PROT32, entry, 0, 0), "setting the entry state");
	vcpu_get_regs(d0.vcpus[0], &r);
	if (dom0_kernel.setup_len)
		r.rsi = info; /* the 32-bit boot protocol: ESI holds boot_params, EBX is 0 */
	else
		r.rbx = info; /* the PVH ABI: EBX holds the hvm_start_info */
	vcpu_set_regs(d0.vcpus[0], &r);
	pr_info("dom0: starting on %u CPU(s); free frames left to the hypervisor: %lu",
		ncpus_online, hv_frames.nfree);
	smp_start_all(dom0_ap_main, NULL);
	dom0_cpu_loop(d0.vcpus[0]);
}
