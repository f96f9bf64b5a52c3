// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU fds: KVM_RUN (the hypervisor's exits turned into struct kvm_run), the general and
 * segment registers, the mmap()ed run pages. The other register families are in hvk_state.c.
 */
#include <asm/tsc.h>
#include <linux/anon_inodes.h>
#include <linux/math64.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hvk.h"


/* Pages still mapped by user space live on until it unmaps them (they hold a reference). */
void hvk_vcpu_free(struct hvk_vcpu *vc)
{
	int i;

	hvk_stimers_stop(vc);
	for (i = 0; i < HVK_RUN_PAGES; i++)
		if (vc->run_page[i])
			put_page(vc->run_page[i]);
	if (vc->hv_page)
		__free_page(vc->hv_page);
	kfree(vc);
}

static struct hv_exit *hv_exit_of(struct hvk_vcpu *vc)
{
	return page_address(vc->hv_page);
}

static struct kvm_run *run_of(struct hvk_vcpu *vc)
{
	return page_address(vc->run_page[0]);
}

/* A string I/O's elements, between the hypervisor and the pio page */
static u8 *hv_data_of(struct hvk_vcpu *vc)
{
	return (u8 *)page_address(vc->hv_page) + HV_IO_DATA;
}

static u8 *pio_of(struct hvk_vcpu *vc)
{
	return page_address(vc->run_page[1]);
}

/*
 * What the hypervisor could not handle, as KVM reports an emulation failure: flags, then the
 * instruction's bytes where it had them, then the exit's kind, reason, qualification and GPA.
 */
static long internal_error(struct hvk_vcpu *vc, const struct hv_exit *e)
{
	struct kvm_run *run = run_of(vc);
	u64 info[4] = {e->kind, e->reason, e->qual, e->gpa};
	unsigned int n = 1;

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run->emulation_failure.flags = 0;
	if (e->kind == HV_EXIT_MMIO && e->count && e->count <= sizeof(run->emulation_failure.insn_bytes)) {
		run->emulation_failure.flags = KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
		run->emulation_failure.insn_size = e->count;
		memset(run->emulation_failure.insn_bytes, 0, sizeof(run->emulation_failure.insn_bytes));
		memcpy(run->emulation_failure.insn_bytes, hv_data_of(vc), e->count);
		n = 3;
	}
	memcpy(&run->internal.data[n], info, sizeof(info));
	run->internal.ndata = n + ARRAY_SIZE(info);
	return 0;
}

static void fill_io(struct hvk_vcpu *vc, const struct hv_exit *e)
{
	struct kvm_run *run = run_of(vc);

	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = e->in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = e->size;
	run->io.port = e->port;
	run->io.count = e->count; /* a REP string form's several, as KVM batches them */
	run->io.data_offset = PAGE_SIZE;
	if (!e->in)
		memcpy(pio_of(vc), e->string ? hv_data_of(vc) : (void *)&e->data,
		       e->count * e->size);
	vc->pending = e->in ? IO_IN : NOTHING;
	vc->pending_size = e->size;
	vc->pending_count = e->count;
}

/* A decoded access to memory the VM has no RAM at: user space performs it. */
static long fill_mmio(struct hvk_vcpu *vc, const struct hv_exit *e)
{
	struct kvm_run *run = run_of(vc);

	if (!e->size || e->size > sizeof(run->mmio.data))
		return internal_error(vc, e);
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = e->gpa;
	run->mmio.len = e->size;
	run->mmio.is_write = e->write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (e->write)
		memcpy(run->mmio.data, &e->data, e->size);
	vc->pending = e->write ? NOTHING : MMIO_READ;
	vc->pending_size = e->size;
	return 0;
}

/* Sleeps until woken (an interrupt for this vCPU), its next timer (TSC wake), or a signal. */
static long vcpu_halt(struct hvk_vcpu *vc, u64 wake_tsc)
{
	ktime_t timeout = KTIME_MAX;
	u64 now = rdtsc();

	if (wake_tsc != ~0ULL)
		timeout = wake_tsc > now ? ns_to_ktime(mul_u64_u32_div(wake_tsc - now, 1000000,
								       tsc_khz)) : 0;
	if (timeout)
		wait_event_interruptible_hrtimeout(vc->wq, READ_ONCE(vc->kicked), timeout);
	WRITE_ONCE(vc->kicked, false);
	return 1; /* run again: the loop sees a signal first */
}

/*
 * An MSR the hypervisor does not have: this module's (hvk_msr.c), else #GP as in KVM. false:
 * answered in run->msr for the next entry; true: user space asked for this reason, it answers.
 */
static bool kernel_msr(struct hvk_vcpu *vc, const struct hv_exit *e, struct kvm_run *run)
{
	u8 user = vc->vm->user_msr_exits;

	run->msr.error = 1;
	if (!hvk_msr_guest(vc, e->qual, e->write, &run->msr.data, &run->msr.error)) {
		if (!(user & HV_MSR_EXIT_UNKNOWN))
			return false;
		run->msr.error = 0;
		return true;
	}
	if (!run->msr.error || !(user & HV_MSR_EXIT_INVAL))
		return false;
	run->msr = (typeof(run->msr)){.data = e->data, .reason = HV_MSR_EXIT_INVAL};
	return true;
}

/* A vCPU spins on PAUSE: the VM's other vCPUs get this CPU first, as KVM's kvm_vcpu_on_spin(). */
static void on_spin(struct hvk_vcpu *vc)
{
	unsigned int i;
	int yielded = 0;

	for (i = 1; i < HVK_MAX_VCPUS && yielded <= 0; i++) {
		struct hvk_vcpu *o = READ_ONCE(vc->vm->vcpus[(vc->id + i) % HVK_MAX_VCPUS]);
		struct task_struct *t;

		rcu_read_lock(); /* (a thread clears task before it leaves KVM_RUN) */
		t = o ? READ_ONCE(o->task) : NULL;
		if (t)
			get_task_struct(t);
		rcu_read_unlock();
		if (t) {
			yielded = t == current ? 0 : yield_to(t, true);
			put_task_struct(t);
		}
	}
}

/* A slot page the guest or the hypervisor touched first (hvk_fault_in, but 1 for 2), counted
 * as KVM's pf_taken and pf_fixed. */
static long fault_in(struct hvk_vcpu *vc, u64 gpa, bool write)
{
	long rc = hvk_fault_in(vc->vm, gpa, write);

	vc->pf[0] += rc > 0;
	vc->pf[1] += rc == 1;
	return min(rc, 1L);
}

/* Turns the hypervisor's exit into struct kvm_run; 1 means run again, else the ioctl result. */
static long translate_exit(struct hvk_vcpu *vc, const struct hv_exit *e)
{
	struct kvm_run *run = run_of(vc);
	long rc;

	switch (e->kind) {
	case HV_EXIT_IO:
		if (!e->in && !e->string && (hvk_ioeventfd_write(vc->vm, true, e->port, e->size, e->data) ||
					     hvk_coalesced_write(vc->vm, true, e->port, e->size, e->data)))
			return 1; /* signalled or queued: the OUT completes on the way back in */
		fill_io(vc, e);
		return 0;
	case HV_EXIT_HLT:
		if (vc->vm->irqchip)
			return vcpu_halt(vc, e->wake_tsc); /* KVM keeps a halted vCPU in the kernel */
		run->exit_reason = KVM_EXIT_HLT;
		return 0;
	case HV_EXIT_SHUTDOWN:
		run->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	case HV_EXIT_FAIL_ENTRY:
		run->exit_reason = KVM_EXIT_FAIL_ENTRY;
		run->fail_entry.hardware_entry_failure_reason = e->reason;
		return 0;
	case HV_EXIT_MMIO:
		/* (the EPT violation's write bit: a read-modify-write decodes as a read first) */
		rc = fault_in(vc, e->gpa | (e->smm ? HV_GPA_SMM : 0), e->write || (e->qual & 2));
		if (rc) /* a slot's page, now mapped: the access runs again */
			return vc->retry = rc > 0, rc;
		if (e->write && e->size && (hvk_ioeventfd_write(vc->vm, false, e->gpa, e->size, e->data) ||
					    hvk_coalesced_write(vc->vm, false, e->gpa, e->size, e->data)))
			return 1;
		return fill_mmio(vc, e);
	case HV_EXIT_DEBUG:
		run->exit_reason = KVM_EXIT_DEBUG;
		run->debug.arch.exception = e->port;
		run->debug.arch.pc = e->gpa;
		run->debug.arch.dr6 = e->data;
		run->debug.arch.dr7 = e->qual;
		return 0;
	case HV_EXIT_INTR_WINDOW:
		run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
		return 0;
	case HV_EXIT_IOAPIC_EOI:
		run->exit_reason = KVM_EXIT_IOAPIC_EOI;
		run->eoi.vector = e->port;
		return 0;
	case HV_EXIT_MSR: /* answered in msr.data and msr.error before the next run */
		memset(&run->msr, 0, sizeof(run->msr));
		run->msr.data = e->data;
		run->msr.reason = e->size;
		vc->pending = MSR;
		if (e->size == HV_MSR_EXIT_UNKNOWN && !kernel_msr(vc, e, run))
			return 1;
		run->exit_reason = e->write ? KVM_EXIT_X86_WRMSR : KVM_EXIT_X86_RDMSR;
		run->msr.index = e->qual;
		return 0;
	case HV_EXIT_SMM:
		return hvk_smm_exit(vc, e->qual, run);
	case HV_EXIT_HYPERCALL:
		return hvk_hv_hypercall(vc, run);
	case HV_EXIT_INTR:
		if (e->reason == 40) /* PAUSE loop: the lock's holder may wait for this CPU */
			on_spin(vc);
		return 1;
	case HV_EXIT_TIMEOUT:
		return 1;
	case HV_EXIT_NEED_PAGE: /* the hypervisor's own access: a slot page, or none (it fails) */
		rc = fault_in(vc, e->gpa, e->write);
		vc->no_page = !rc;
		return rc < 0 ? rc : 1;
	case HV_EXIT_INTERNAL: /* delivering an event touched a slot page not mapped yet? */
		rc = e->reason == 48 ? fault_in(vc, e->gpa | (e->smm ? HV_GPA_SMM : 0),
						    e->qual & 2) : 0;
		return rc ?: internal_error(vc, e);
	default:
		return internal_error(vc, e);
	}
}

/*
 * What every return from KVM_RUN reports in kvm_run, as KVM's post_kvm_run_save (QEMU with its
 * own local APIC takes its APIC base from there, even after -EINTR), from the hypervisor's exit.
 */
static void post_run(struct hvk_vcpu *vc)
{
	struct kvm_run *run = run_of(vc);

	if (hv_exit_of(vc)->wake)
		hvk_wake(vc->vm, hv_exit_of(vc)->wake);
	if (hv_exit_of(vc)->resampled)
		hvk_irqfd_resampled(vc->vm, hv_exit_of(vc)->resampled);
	if (hv_exit_of(vc)->kind != HV_EXIT_NEED_PAGE) /* (a string IN may wait for its page) */
		vc->pending = NOTHING; /* the access completed: its data went in */
	run->if_flag = !!(hv_exit_of(vc)->rflags & X86_EFLAGS_IF);
	run->ready_for_interrupt_injection = hv_exit_of(vc)->irq_ready;
	run->apic_base = hv_exit_of(vc)->apic_base;
	run->cr8 = hv_exit_of(vc)->cr8;
	run->flags = hv_exit_of(vc)->smm ? KVM_RUN_X86_SMM : 0;
}

/*
 * A signal or immediate_exit: -EINTR once the I/O the last exit left open is finished (as KVM,
 * whose exit reason stays as it was after immediate_exit). When the guest has not run since
 * that was done and there is nothing to pass (a CR8, a retry), there is nothing to ask the
 * hypervisor, as KVM without a complete_userspace_io.
 */
static long complete_io(struct hvk_vcpu *vc, unsigned long in_data, unsigned long flags)
{
	long rc;

	if (!vc->ran && !flags)
		return -EINTR;
	rc = hv_call(HC_VCPU_RUN, vc->vm->handle, vc->id, page_to_phys(vc->hv_page), in_data,
		     flags | HV_RUN_COMPLETE_ONLY);
	if (rc)
		return rc;
	vc->ran = false;
	post_run(vc);
	return -EINTR;
}

/*
 * An exit a Hyper-V MSR asked for (a system event for reset or crash, the SynIC's or the
 * debugger's): its WRMSR completes, then user space.
 */
static long deferred_exit(struct hvk_vcpu *vc, unsigned long in_data, unsigned long flags)
{
	struct kvm_run *run = run_of(vc);
	long rc = hv_call(HC_VCPU_RUN, vc->vm->handle, vc->id, page_to_phys(vc->hv_page), in_data,
			  flags | HV_RUN_COMPLETE_ONLY);

	if (rc)
		return rc;
	post_run(vc);
	run->exit_reason = vc->deferred_exit;
	if (vc->deferred_exit == KVM_EXIT_SYSTEM_EVENT) {
		memset(&run->system_event, 0, sizeof(run->system_event));
		run->system_event.type = vc->deferred.system_event;
	} else {
		run->hyperv = vc->deferred.hyperv;
		vc->hv.syndbg_done = run->hyperv.type == KVM_EXIT_HYPERV_SYNDBG &&
				     run->hyperv.u.syndbg.msr == 0x400000f1; /* CONTROL */
	}
	vc->deferred_exit = 0;
	return 0;
}

/* Out of the guest or of its halt, to look at what changed (a Hyper-V timer fired). */
void hvk_kick(struct hvk_vcpu *vc)
{
	struct task_struct *t;

	WRITE_ONCE(vc->kicked, true);
	wake_up_interruptible(&vc->wq);
	rcu_read_lock(); /* the thread leaves KVM_RUN, clearing task, before it can be freed */
	t = READ_ONCE(vc->task);
	if (t)
		kick_process(t);
	rcu_read_unlock();
}

/* What completes the access the last exit stopped at: an IN's or MMIO read's data, an MSR's. */
static void answer_of(struct hvk_vcpu *vc, unsigned long *in_data, unsigned long *done)
{
	struct kvm_run *run = run_of(vc);

	*in_data = *done = 0;
	if (vc->pending == IO_IN)
		memcpy(in_data, pio_of(vc), vc->pending_size);
	if (vc->pending == IO_IN && vc->pending_count > 1)
		memcpy(hv_data_of(vc), pio_of(vc), vc->pending_count * vc->pending_size);
	else if (vc->pending == MMIO_READ)
		memcpy(in_data, run->mmio.data, vc->pending_size);
	if (vc->pending == MSR) {
		*in_data = READ_ONCE(run->msr.data);
		*done = READ_ONCE(run->msr.error) ? HV_RUN_MSR_ERROR : 0;
	}
}

static long vcpu_run(struct hvk_vcpu *vc)
{
	struct kvm_run *run = run_of(vc);
	unsigned long in_data, done, cr8 = READ_ONCE(run->cr8); /* answer_of()'s; user space's */
	long rc;

	if (!vc->vm->irqchip && cr8 > 15)
		return -EINVAL;
	if (vc->hv.hcall_done || vc->hv.syndbg_done)
		hvk_hv_hcall_done(vc, run);
	/* as KVM: without its local APIC in the kernel, user space's TPR is CR8, once a KVM_RUN */
	cr8 = vc->vm->irqchip ? 0 : HV_RUN_CR8 | cr8 << 4;
	do {
		answer_of(vc, &in_data, &done);
		done |= cr8 | (vc->retry ? HV_RUN_RETRY : 0) | (vc->no_page ? HV_RUN_NO_PAGE : 0);
		cr8 = 0;
		vc->retry = vc->no_page = false;
		if (signal_pending(current))
			run->exit_reason = KVM_EXIT_INTR;
		if (vc->deferred_exit)
			return deferred_exit(vc, in_data, done);
		if (signal_pending(current) || READ_ONCE(run->immediate_exit))
			return complete_io(vc, in_data, done);
		down_read(&vc->vm->slots_lock);
		hvk_steal_update(vc);
		if (READ_ONCE(vc->hv.stimer_pending))
			hvk_stimers_process(vc);
		rc = hv_call(HC_VCPU_RUN, vc->vm->handle, vc->id, page_to_phys(vc->hv_page), in_data,
			     done | (READ_ONCE(run->request_interrupt_window) ? HV_RUN_IRQ_WINDOW : 0));
		up_read(&vc->vm->slots_lock);
		vc->ran = true;
		if (rc == -EBUSY && vc->vm->irqchip) { /* waiting for a SIPI: as halted */
			vcpu_halt(vc, ~0ULL);
			rc = 1;
			continue;
		}
		if (rc)
			return rc;
		post_run(vc);
		rc = translate_exit(vc, hv_exit_of(vc));
		cond_resched();
	} while (rc == 1);
	return rc;
}

/* One register file between a kernel buffer and the hypervisor, in KVM's layout. */
long hvk_regs(struct hvk_vcpu *vc, unsigned int nr, void *regs, size_t len, bool set)
{
	void *buf = page_address(vc->hv_page);
	struct kvm_sregs *s = regs;
	long rc;

	/* PAE paging takes its PDPTEs from guest memory: their page faulted in first */
	if (nr == HC_VCPU_SET_SREGS && (s->cr0 & X86_CR0_PG) && (s->cr4 & X86_CR4_PAE) &&
	    !(s->efer & EFER_LMA))
		fault_in(vc, s->cr3 & PAGE_MASK, false);
	if (set)
		memcpy(buf, regs, len);
	rc = hv_call(nr, vc->vm->handle, vc->id, page_to_phys(vc->hv_page), 0, 0);
	if (!rc && !set)
		memcpy(regs, buf, len);
	return rc;
}

#define SYNC_ALL (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS)

/* KVM_CAP_SYNC_REGS: the sets marked dirty in kvm_run go in before the run, as KVM does. */
static long sync_in(struct hvk_vcpu *vc, struct kvm_run *run)
{
	u64 dirty = READ_ONCE(run->kvm_dirty_regs);
	long rc = 0;

	if ((dirty | READ_ONCE(run->kvm_valid_regs)) & ~SYNC_ALL)
		return -EINVAL;
	if (dirty & KVM_SYNC_X86_REGS)
		rc = hvk_regs(vc, HC_VCPU_SET_REGS, &run->s.regs.regs, sizeof(run->s.regs.regs), true);
	if (!rc && (dirty & KVM_SYNC_X86_SREGS))
		rc = hvk_regs(vc, HC_VCPU_SET_SREGS, &run->s.regs.sregs, sizeof(run->s.regs.sregs),
			    true);
	if (!rc && (dirty & KVM_SYNC_X86_EVENTS))
		rc = hvk_set_events(vc, &run->s.regs.events);
	if (!rc)
		run->kvm_dirty_regs = 0;
	return rc ? -EINVAL : 0;
}

/* ...and the sets asked for in kvm_valid_regs come back after it. */
static void sync_out(struct hvk_vcpu *vc, struct kvm_run *run)
{
	u64 valid = READ_ONCE(run->kvm_valid_regs);

	if (valid & KVM_SYNC_X86_REGS)
		hvk_regs(vc, HC_VCPU_GET_REGS, &run->s.regs.regs, sizeof(run->s.regs.regs), false);
	if (valid & KVM_SYNC_X86_SREGS)
		hvk_regs(vc, HC_VCPU_GET_SREGS, &run->s.regs.sregs, sizeof(run->s.regs.sregs), false);
	if (valid & KVM_SYNC_X86_EVENTS)
		hvk_get_events(vc, &run->s.regs.events);
}

/* KVM_SET_SIGNAL_MASK's mask is in force only while KVM_RUN runs. */
static long vcpu_run_masked(struct hvk_vcpu *vc)
{
	sigset_t old;
	long rc;

	rc = sync_in(vc, run_of(vc));
	if (rc)
		return rc;
	if (vc->has_sigmask)
		sigprocmask(SIG_SETMASK, &vc->sigmask, &old);
	WRITE_ONCE(vc->task, current); /* hvk_kick()'s, while KVM_RUN runs */
	rc = vcpu_run(vc);
	WRITE_ONCE(vc->task, NULL);
	if (vc->has_sigmask)
		sigprocmask(SIG_SETMASK, &old, NULL);
	sync_out(vc, run_of(vc));
	return rc;
}

/* Register files go through the hypervisor page; their layouts are KVM's. */
static long vcpu_regs(struct hvk_vcpu *vc, unsigned int nr, void __user *argp, size_t len,
		      bool set)
{
	union {
		struct kvm_regs r;
		struct kvm_sregs s;
	} buf;
	long rc;

	if (set && copy_from_user(&buf, argp, len))
		return -EFAULT;
	rc = hvk_regs(vc, nr, &buf, len, set);
	if (!rc && !set && copy_to_user(argp, &buf, len))
		return -EFAULT;
	return rc;
}

/*
 * KVM_SET_TSC_KHZ. The guest's TSC runs at the host's rate (no TSC scaling): as KVM without it,
 * a rate within 250 ppm of the host's is kept as asked; others are refused (KVM would emulate a
 * faster one by catching up in software, which this does not do).
 */
static long set_tsc_khz(struct hvk_vcpu *vc, u32 khz)
{
	u32 slack = (u32)div_u64((u64)tsc_khz * 250, 1000000);

	if (!khz)
		khz = tsc_khz;
	if (khz < tsc_khz - slack || khz > tsc_khz + slack)
		return -EINVAL;
	vc->tsc_khz = khz;
	return 0;
}

static long vcpu_ioctl(struct file *f, unsigned int ioctl, unsigned long arg)
{
	struct hvk_vcpu *vc = f->private_data;
	void __user *argp = (void __user *)arg;
	long rc;

	if (vc->vm->mm != current->mm)
		return -EIO;
	mutex_lock(&vc->lock);
	switch (ioctl) {
	case KVM_RUN:
		rc = arg ? -EINVAL : vcpu_run_masked(vc);
		break;
	case KVM_GET_REGS:
		rc = vcpu_regs(vc, HC_VCPU_GET_REGS, argp, sizeof(struct kvm_regs), false);
		break;
	case KVM_SET_REGS:
		rc = vcpu_regs(vc, HC_VCPU_SET_REGS, argp, sizeof(struct kvm_regs), true);
		break;
	case KVM_GET_SREGS:
		rc = vcpu_regs(vc, HC_VCPU_GET_SREGS, argp, sizeof(struct kvm_sregs), false);
		break;
	case KVM_SET_SREGS:
		rc = vcpu_regs(vc, HC_VCPU_SET_SREGS, argp, sizeof(struct kvm_sregs), true);
		break;
	case KVM_GET_STATS_FD:
		rc = hvk_vcpu_stats_fd(vc);
		break;
	case KVM_GET_TSC_KHZ:
		rc = vc->tsc_khz ? vc->tsc_khz : tsc_khz;
		break;
	case KVM_SET_TSC_KHZ:
		rc = set_tsc_khz(vc, (u32)arg);
		break;
	default:
		rc = hvk_state_ioctl(vc, ioctl, argp);
		if (rc == -ENOIOCTLCMD)
			rc = -EINVAL; /* as KVM answers an unknown vCPU ioctl */
	}
	mutex_unlock(&vc->lock);
	return rc;
}

static vm_fault_t vcpu_fault(struct vm_fault *vmf)
{
	struct hvk_vcpu *vc = vmf->vma->vm_file->private_data;

	if (vmf->pgoff == KVM_COALESCED_MMIO_PAGE_OFFSET)
		vmf->page = vc->vm->ring; /* one ring for the VM, as KVM's */
	else if (vmf->pgoff < HVK_RUN_PAGES)
		vmf->page = vc->run_page[vmf->pgoff];
	else
		return VM_FAULT_SIGBUS;
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct vcpu_vm_ops = {
	.fault = vcpu_fault,
};

static int vcpu_mmap(struct file *f, struct vm_area_struct *vma)
{
	vma->vm_ops = &vcpu_vm_ops;
	return 0;
}

static int vcpu_release(struct inode *inode, struct file *f)
{
	struct hvk_vcpu *vc = f->private_data;

	hvk_vm_put(vc->vm);
	return 0;
}

static const struct file_operations vcpu_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vcpu_ioctl,
	.mmap = vcpu_mmap,
	.release = vcpu_release,
	.llseek = noop_llseek,
};

/* The hypervisor's vCPU lives as long as its VM; the pages here as long as this module's VM. */
long hvk_create_vcpu(struct hvk_vm *vm, unsigned long id)
{
	struct hvk_vcpu *vc;
	long rc;
	int fd;

	mutex_lock(&vm->lock);
	rc = -EINVAL;
	if (id >= (vm->max_vcpu_ids ? vm->max_vcpu_ids : HVK_MAX_VCPUS))
		goto out;
	rc = -EEXIST;
	if (vm->vcpus[id])
		goto out;
	rc = -ENOMEM;
	vc = kzalloc(sizeof(*vc), GFP_KERNEL);
	if (!vc)
		goto out;
	vc->run_page[0] = alloc_page(GFP_KERNEL | __GFP_ZERO);
	vc->run_page[1] = alloc_page(GFP_KERNEL | __GFP_ZERO);
	vc->hv_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	rc = vc->run_page[0] && vc->run_page[1] && vc->hv_page ?
		     hv_call(HC_VCPU_CREATE, vm->handle, id, 0, 0, 0) : -ENOMEM;
	if (rc)
		goto free;
	vc->vm = vm;
	vc->id = id;
	mutex_init(&vc->lock);
	init_waitqueue_head(&vc->wq);
	vc->smbase = 0x30000; /* as at reset */
	hvk_hv_vcpu_init(vc);
	kref_get(&vm->ref);
	fd = anon_inode_getfd("kvm-vcpu", &vcpu_fops, vc, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		hvk_vm_put(vm); /* the hypervisor's vCPU goes with the VM */
		rc = fd;
		goto out_kept;
	}
	vm->vcpus[id] = vc;
	vm->nvcpus++;
	mutex_unlock(&vm->lock);
	return fd;
free:
	hvk_vcpu_free(vc);
out:
	mutex_unlock(&vm->lock);
	return rc;
out_kept:
	vm->vcpus[id] = vc; /* the id stays taken, as the hypervisor's vCPU does */
	mutex_unlock(&vm->lock);
	return rc;
}

