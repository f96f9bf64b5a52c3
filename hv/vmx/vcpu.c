/* vCPU objects: creation, register access, and the run loop (load, inject, enter, dispatch). */
#include "../lib/errno.h"
#include "../lib/log.h"
#include "../platform/mm.h"
#include "../lib/panic.h"
#include "../platform/percpu.h"
#include "../platform/tsc.h"
#include "insn.h"
#include "vmx.h"
#include "vmx_vm.h"

uint16_t vpid_alloc(void);
void vpid_free(uint16_t id);

#define MAX_HANDLED_EXITS 4096
#define RUN_SLICE_US	  4000
#define VCPU_PAGES	  (ALIGN_UP(sizeof(struct vcpu), PAGE_SIZE) / PAGE_SIZE)

/* Makes v's VMCS current on this CPU (its host state matching this CPU). */
void vcpu_load(struct vcpu *v)
{
	struct percpu *c = this_cpu();

	v->loads++;

	if (c->vmx->current_vmcs != v->vmcs) {
		if (vmptrld(v->vmcs))
			panic("vmx: VMPTRLD of vCPU %u failed", v->id);
		c->vmx->current_vmcs = v->vmcs;
	}
	if (v->last_cpu != (int)c->index) {
		vmcs_load_host_state();
		vm_invept(v->vm); /* nothing cached here may be stale */
		invvpid(INVVPID_SINGLE, v->vpid, 0);
		v->flushed_gen = v->vm->ept_gen;
		v->last_cpu = (int)c->index;
	}
}

/*
 * Clears the VMCS so that the vCPU may next run on any CPU (DESIGN: clear on every return).
 * last_cpu stays: host state and TLBs need no refresh when it comes back to the same CPU.
 */
void vcpu_put(struct vcpu *v)
{
	if (--v->loads || v->pinned)
		return; /* still in use by an outer load (a run loading state mid-exit) */
	vmclear(v->vmcs);
	this_cpu()->vmx->current_vmcs = 0;
	v->launched = false;
}

static struct vcpu *vcpu_new(struct vm *vm, unsigned id)
{
	uint64_t pa = frames_alloc_contig(&hv_frames, VCPU_PAGES, 1);
	struct vcpu *v;

	if (!pa)
		return NULL;
	v = phys_to_virt(pa);
	__builtin_memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = id;
	v->last_cpu = v->guest_cpu = -1;
	v->irq_pending = v->ext_vector = -1;
	v->xcr0 = 1;
	v->mcg_cap = VCPU_MCE_BANKS; /* as KVM's before KVM_X86_SETUP_MCE */
	v->apic_base = 0xfee00000 | (1u << 11) | (id == vm->bsp_id ? 1u << 8 : 0);
	v->misc_enable = 1; /* fast strings */
	v->ucode_rev = UCODE_REV_DEFAULT;
	v->dr6 = 0xffff0ff0;
	v->exc_intercept = EXC_ALWAYS(vm);
	fpu_init_area(v->fpu);
	v->vpid = vpid_alloc();
	v->vmcs = frame_alloc(&hv_frames);
	if (!v->vpid || !v->vmcs || vmcs_init(v) || irqchip_vcpu_init(v)) {
		vcpu_destroy(v);
		return NULL;
	}
	vm->vcpus[id] = v;
	vm->nvcpus++;
	v->loads = 1; /* vmcs_init made it current */
	vcpu_put(v);
	return v;
}

struct vcpu *vcpu_create(struct vm *vm, unsigned id)
{
	struct vcpu *v = NULL;

	spin_lock(&vm->create_lock);
	if (id < VM_MAX_VCPUS && !vm->vcpus[id])
		v = vcpu_new(vm, id);
	spin_unlock(&vm->create_lock);
	return v;
}

void vcpu_destroy(struct vcpu *v)
{
	vcpu_cpuid_free(v);
	irqchip_vcpu_free(v);
	if (v->vmcs) {
		vmclear(v->vmcs);
		if (this_cpu()->vmx->current_vmcs == v->vmcs)
			this_cpu()->vmx->current_vmcs = 0;
		frame_free(&hv_frames, v->vmcs);
	}
	if (v->vpid) {
		invvpid(INVVPID_SINGLE, v->vpid, 0);
		vpid_free(v->vpid);
	}
	if (v->vm->vcpus[v->id] == v) {
		v->vm->vcpus[v->id] = NULL;
		v->vm->nvcpus--;
	}
	frames_free_contig(&hv_frames, (uint64_t)(uintptr_t)v - HV_DIRECT_MAP, VCPU_PAGES);
}

static uint64_t preempt_value(uint64_t tsc)
{
	uint64_t v = tsc >> vmx_caps.preempt_shift;

	return v > 0xffffffff ? 0xffffffff : v ? v : 1;
}

/*
 * The run budget: the preemption timer is loaded once per vcpu_run and saved on every exit,
 * so exits handled inside the hypervisor do not renew it. Both controls go together.
 */
/*
 * A run of a KVM guest (dom0's) hands back at least every RUN_SLICE_US, whatever the guest
 * does: dom0 schedules and takes signals then, even where its own timer cannot end the run
 * (Bochs times the TSC-deadline timer on the guest's offset TSC while a guest runs).
 */
uint64_t vcpu_slice_left(struct vcpu *v)
{
	uint64_t used = rdtsc() - v->run_start, slice = tsc_khz * RUN_SLICE_US / 1000;

	if (!v->vm->kvm_rules || v->timeout)
		return ~0ULL;
	return used < slice ? slice - used : 0;
}

static void arm_timer(struct vcpu *v)
{
	uint32_t pin = (uint32_t)vmread(VMCS_PIN_CTLS), exit = (uint32_t)vmread(VMCS_EXIT_CTLS);
	uint64_t budget = v->timeout ? v->timeout : vcpu_slice_left(v), now = rdtsc();
	bool on;

	if (v->irq_quiet && v->preempt_due > now) /* a quiet irqchip's deadline still stands */
		budget = MIN(budget, v->preempt_due - now);
	else
		v->irq_quiet = false;
	on = budget != ~0ULL && vmx_caps.preempt_timer;

	vmwrite(VMCS_PIN_CTLS, on ? pin | PIN_PREEMPT_TIMER : pin & ~PIN_PREEMPT_TIMER);
	if (vmx_caps.exit.may1 & EXIT_SAVE_PREEMPT)
		vmwrite(VMCS_EXIT_CTLS, on ? exit | EXIT_SAVE_PREEMPT : exit & ~EXIT_SAVE_PREEMPT);
	if (on)
		vmwrite(VMCS_PREEMPT_TIMER, preempt_value(budget));
}

/* NMIs and machine checks the hypervisor took on this CPU are dom0's (it owns their sources). */
static void dom0_take_host_events(struct vcpu *v)
{
	struct percpu *c = this_cpu();

	if (c->nmi_for_dom0)
		c->nmi_for_dom0 = false, v->nmi_pending = true;
	if (c->mce_for_dom0) {
		c->mce_for_dom0 = false;
		vcpu_queue_exception(v, VEC_MC, false, 0);
	}
}

/* Before each entry: a pending flush after unmaps, then events; false: a page is needed first. */
static bool prepare_entry(struct vcpu *v)
{
	if (v->state_changed)
		vcpu_fix_entry_state(v);
	if (v->vm->kind == VM_DOM0)
		dom0_take_host_events(v);
	if (v->flushed_gen != v->vm->ept_gen) { /* vm_shootdown() waits for this */
		uint64_t gen = v->vm->ept_gen;

		vm_invept(v->vm);
		__atomic_store_n(&v->flushed_gen, gen, __ATOMIC_RELEASE);
	}
	irqchip_prepare_entry(v);
	kvmclock_prepare_entry(v);
	if (v->need_page)
		return false; /* (before events_inject consumes the event to inject) */
	events_inject(v);
	debug_prepare_entry(v);
	return true;
}

/*
 * The preemption timer for this entry (an irqchip's next timer, or a kick to look). True: armed,
 * and saved at each exit, so it runs on through the entries that follow without re-arming.
 */
bool vcpu_arm_preempt(struct vcpu *v, uint64_t tsc_cycles)
{
	uint32_t pin = (uint32_t)vmread(VMCS_PIN_CTLS);

	if (!vmx_caps.preempt_timer || v->timeout)
		return false; /* the run budget of vcpu_set_timeout owns the timer */
	v->preempt_due = rdtsc() + tsc_cycles;
	vmwrite(VMCS_PIN_CTLS, pin | PIN_PREEMPT_TIMER);
	vmwrite(VMCS_PREEMPT_TIMER, preempt_value(MIN(tsc_cycles, vcpu_slice_left(v))));
	return vmx_caps.exit.may1 & EXIT_SAVE_PREEMPT;
}

static void entry_failed(struct vcpu *v, struct vm_exit *x)
{
	if (v->pv_eoi_set)
		irqchip_pv_eoi_sync(v); /* the guest did not run: takes the offer back */
	x->kind = VMEXIT_FAIL_ENTRY;
	x->reason = ~0u;
	x->fail.code = vmread(VMCS_INSN_ERROR);
	pr_err("vmx: VM entry of vCPU %u failed: VM-instruction error %llu", v->id,
	       (unsigned long long)x->fail.code);
	if (!v->failure_dumped)
		vmcs_dump_guest();
	v->failure_dumped = true;
}

/* The port or MMIO access the last exit handed to the caller, completed (VMCS loaded). */
static void finish_io(struct vcpu *v, struct vm_exit *x)
{
	if (v->io_pending)
		io_complete(v, x);
	if (v->mmio_pending)
		mmio_complete(v, x);
	if (v->msr_pending)
		msr_complete(v, x);
}

/* What every return to the caller reports of the vCPU, as kvm_run does after each KVM_RUN. */
static void exit_state(struct vcpu *v, struct vm_exit *x)
{
	x->rflags = vmread(VMCS_GUEST_RFLAGS);
	x->smm = v->smm;
	x->irq_ready = v->irq_pending < 0 && guest_irq_open();
	if (v->lapic)
		x->irq_ready = irqchip_dm_ready(v, x->irq_ready);
	vcpu_exit_apic(v, x);
	irqchip_take_wake(v->vm, x);
}

void vcpu_retry(struct vcpu *v, uint64_t flags)
{
	if (flags & HV_RUN_RETRY)
		v->mmio_pending = false; /* its RIP is still at the access */
	v->no_page = flags & HV_RUN_NO_PAGE ? v->asked : ~0ULL;
}

/* An access found a page dom0 has not mapped yet: the exit asks for it (VMCS loaded). */
static bool need_page(struct vcpu *v, struct vm_exit *x)
{
	if (!v->need_page)
		return false;
	*x = (struct vm_exit){.kind = VMEXIT_NEED_PAGE, .strdata = x->strdata};
	x->mem.gpa = v->asked = v->need_page & ~0xfffULL;
	x->mem.write = v->need_page & 2;
	v->need_page = 0;
	return true;
}

/*
 * The exit's handler. One whose access found a page unmapped is undone (RIP, the exception it
 * queued, its pending I/O): it comes again once dom0 has mapped the page. A task switch is done
 * but for its late write, which waits for the page.
 */
static int handle_exit(struct vcpu *v, struct vm_exit *x)
{
	uint64_t rip = vmread(VMCS_GUEST_RIP);
	struct pending_exc exc = v->exc;
	int action = vmx_handle_exit(v, x);

	if (v->need_page && !v->late.len) {
		vmwrite(VMCS_GUEST_RIP, rip);
		v->exc = exc;
		v->io_pending = v->mmio_pending = false;
	}
	return need_page(v, x) ? EXIT_TO_CALLER : action;
}

void vcpu_complete_io(struct vcpu *v, struct vm_exit *x)
{
	vcpu_load(v);
	finish_io(v, x);
	exit_state(v, x);
	vcpu_put(v);
}

int vcpu_run(struct vcpu *v, struct vm_exit *x)
{
	int action = EXIT_RESUME;
	unsigned handled = 0; /* exits handled here in a row: bounded, so the caller runs too */
	uint64_t host_xcr0;

	vcpu_load(v);
	v->run_start = rdtsc();
	v->need_page = 0; /* (a dom0 call's miss is not this run's) */
	if (v->lapic)
		irqchip_requests(v);
	if (v->wait_sipi) {
		vcpu_put(v);
		return -EBUSY;
	}
	if (v->req_shutdown) { /* as a triple fault */
		*x = (struct vm_exit){.kind = VMEXIT_SHUTDOWN, .strdata = x->strdata};
		v->req_shutdown = false;
		vcpu_put(v);
		return 0;
	}
	if (v->halted && irqchip_halted(v, &x->wake_tsc)) { /* still nothing to wake it */
		*x = (struct vm_exit){
			.kind = VMEXIT_HLT, .wake_tsc = x->wake_tsc, .strdata = x->strdata};
		exit_state(v, x);
		vcpu_put(v);
		return 0;
	}
	finish_io(v, x);
	if (v->late.len &&
	    (!vcpu_write(v, v->late.gpa, &v->late.val, v->late.len) || !v->need_page))
		v->late.len = 0; /* written, or no RAM there after all */
	if (need_page(v, x)) {	 /* a string IN's destination, a late write's */
		exit_state(v, x);
		vcpu_put(v);
		return 0;
	}
	*x = (struct vm_exit){.strdata = x->strdata}; /* the caller's buffer stays */
	vmwrite(VMCS_EPTP, vcpu_eptp(v));
	guest_msrs_load(v);
	debug_enter(v);
	host_xcr0 = fpu_enter(v);
	arm_timer(v);
	__atomic_store_n(&v->guest_cpu, (int)this_cpu()->index, __ATOMIC_SEQ_CST);
	while (action == EXIT_RESUME) {
		if (v->eoi_exit) { /* split irqchip: user space's IOAPIC takes the EOI first */
			*x = (struct vm_exit){.kind = VMEXIT_IOAPIC_EOI,
					      .vector = (uint8_t)v->eoi_exit,
					      .strdata = x->strdata};
			v->eoi_exit = 0;
			break;
		}
		if (v->mmio_wb_len) {
			mmio_writeback(v, x);
			break;
		}
		if (v->smi_pending && !v->smm && !v->exc.valid && v->irq_pending < 0) {
			x->kind = VMEXIT_SMM; /* before NMIs and IRQs, as KVM takes SMIs */
			break;
		}
		if (!prepare_entry(v)) {
			need_page(v, x);
			break;
		}
		if (vmx_enter(&v->gprs, v->launched)) {
			entry_failed(v, x);
			break;
		}
		v->launched = v->ran = true;
		if (v->pv_eoi_set)
			irqchip_pv_eoi_sync(v);
		debug_after_exit(v);
		events_save_idt_vectoring(v);
		action = handle_exit(v, x);
		/* as if the host had an interrupt: it runs (and wakes the vCPUs this one made
		 * runnable at once), then us */
		if (action == EXIT_RESUME &&
		    (++handled == MAX_HANDLED_EXITS || irqchip_wake_pending(v->vm))) {
			x->kind = VMEXIT_INTR;
			action = EXIT_TO_CALLER;
		}
	}
	__atomic_store_n(&v->guest_cpu, -1, __ATOMIC_RELEASE);
	exit_state(v, x);
	fpu_leave(v, host_xcr0);
	debug_leave(v);
	guest_msrs_put(v);
	vcpu_put(v);
	return 0;
}

/* Register access: the vCPU's VMCS is made current for the duration. */
static const uint8_t regs_order[16] = {
	GPR_RAX, GPR_RBX, GPR_RCX, GPR_RDX, GPR_RSI, GPR_RDI, GPR_RSP, GPR_RBP,
	GPR_R8,	 GPR_R9,  GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
};

int vcpu_get_regs(struct vcpu *v, struct vcpu_regs *r)
{
	uint64_t *out = &r->rax;

	vcpu_load(v);
	for (unsigned i = 0; i < 16; i++)
		out[i] = v->gprs.r[regs_order[i]];
	r->rsp = vmread(VMCS_GUEST_RSP);
	r->rip = vmread(VMCS_GUEST_RIP);
	r->rflags = vmread(VMCS_GUEST_RFLAGS);
	vcpu_put(v);
	return 0;
}

int vcpu_set_regs(struct vcpu *v, const struct vcpu_regs *r)
{
	const uint64_t *in = &r->rax;

	vcpu_load(v);
	if (vmread(VMCS_GUEST_RIP) != r->rip) /* the caller moved on: drop the I/O it left open */
		v->io_pending = v->mmio_pending = false, v->msr_pending = v->mmio_wb_len = 0;
	for (unsigned i = 0; i < 16; i++)
		v->gprs.r[regs_order[i]] = in[i];
	vmwrite(VMCS_GUEST_RSP, r->rsp);
	vmwrite(VMCS_GUEST_RIP, r->rip);
	vmwrite(VMCS_GUEST_RFLAGS, (r->rflags & 0x3f7fd7) | 0x2); /* reserved bits as hardware */
	v->state_changed = true;
	vcpu_put(v);
	return 0;
}

void vcpu_queue_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	v->exc = (struct pending_exc){
		.valid = true,
		.fresh = true,
		.info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | vector |
			(has_error ? INTR_INFO_ERROR_CODE : 0),
		.error = error,
	};
}

void vcpu_queue_nmi(struct vcpu *v)
{
	v->nmi_pending = true;
}

int vcpu_interrupt(struct vcpu *v, uint8_t vector)
{
	if (v->lapic)
		return vcpu_ext_interrupt(v, vector);
	v->irq_pending = vector; /* as KVM: it replaces one that still waits */
	return 0;
}

void vcpu_request_irq_window(struct vcpu *v, bool on)
{
	v->irq_quiet &= on == v->want_irq_window;
	v->want_irq_window = on;
}

void vcpu_intercept_exceptions(struct vcpu *v, uint32_t bitmap)
{
	v->exc_intercept = bitmap | EXC_ALWAYS(v->vm);
	vcpu_load(v);
	vmwrite(VMCS_EXCEPTION_BITMAP, bitmap | debug_exceptions(v));
	vcpu_put(v);
}

void vcpu_set_timeout(struct vcpu *v, uint64_t tsc_cycles)
{
	v->timeout = tsc_cycles;
}

uint64_t vcpu_exit_count(struct vcpu *v, uint32_t reason)
{
	return reason <= EXIT_REASON_MAX ? v->exits[reason] : 0;
}

/* dom0's call on the vCPU; any but a run may change what it takes: its next entry looks. */
bool vcpu_try_claim(struct vcpu *v, bool run)
{
	if (__atomic_exchange_n(&v->claimed, true, __ATOMIC_ACQUIRE))
		return false;
	v->irq_quiet &= run;
	return true;
}

void vcpu_release(struct vcpu *v)
{
	__atomic_store_n(&v->claimed, false, __ATOMIC_RELEASE);
}

void vcpu_pin(struct vcpu *v)
{
	v->pinned = true;
}

void vcpu_report(struct vcpu *v)
{
	struct vcpu_regs r;

	vcpu_get_regs(v, &r);
	log_emergency("vCPU %u: RIP %016llx RSP %016llx RFLAGS %08llx\n", v->id,
		      (unsigned long long)r.rip, (unsigned long long)r.rsp,
		      (unsigned long long)r.rflags);
	log_emergency("  RAX %016llx RBX %016llx RCX %016llx RDX %016llx\n",
		      (unsigned long long)r.rax, (unsigned long long)r.rbx,
		      (unsigned long long)r.rcx, (unsigned long long)r.rdx);
	log_emergency("  RSI %016llx RDI %016llx RBP %016llx CR2 %016llx\n",
		      (unsigned long long)r.rsi, (unsigned long long)r.rdi,
		      (unsigned long long)r.rbp, (unsigned long long)v->gprs.cr2);
	vcpu_load(v);
	vmcs_dump_guest();
	vcpu_put(v);
	log_emergency("  last exits (oldest first):\n");
	for (unsigned i = 0; i < ARRAY_SIZE(v->recent); i++) {
		unsigned k = (v->nrecent + i) % ARRAY_SIZE(v->recent);
		if (v->recent[k].reason || v->recent[k].rip)
			log_emergency("    reason %u at RIP %016llx qualification %#llx\n",
				      v->recent[k].reason, (unsigned long long)v->recent[k].rip,
				      (unsigned long long)v->recent[k].qual);
	}
}

void vcpu_set_cr2(struct vcpu *v, uint64_t cr2)
{
	v->gprs.cr2 = cr2;
}

int vcpu_read_gva(struct vcpu *v, uint64_t gva, void *buf, size_t len)
{
	uint8_t *p = buf;
	int rc = 0;

	vcpu_load(v);
	while (len && !rc) {
		size_t chunk = MIN(len, PAGE_SIZE - (gva & 0xfff));
		uint64_t gpa;
		uint32_t pf;
		rc = gva_to_gpa(v, gva, false, &gpa, &pf) || vcpu_read(v, gpa, p, chunk) ? -EFAULT
											 : 0;
		gva += chunk;
		p += chunk;
		len -= chunk;
	}
	vcpu_put(v);
	return rc;
}
