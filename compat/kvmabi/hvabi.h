/*
 * The hypercall ABI between the hypervisor and its guests (dom0's /dev/kvm module included).
 * Single source of truth: included by hv/ and by the dom0 module.
 *
 * VMCALL with RAX = hypercall number, arguments in RDI, RSI, RDX, R10, R8, R9; the result comes
 * back in RAX: 0 or more on success, a negative Linux errno on failure. Unknown numbers return
 * -ENOSYS; a call from CPL > 0 returns -EPERM; control hypercalls from a VM that is not dom0
 * return -EPERM. The guests of dom0's KVM get KVM's hypercall ABI instead, not this one.
 */
#ifndef HVABI_H
#define HVABI_H

#define HV_ABI_VERSION 12

/* CPUID leaf 0x40000000: EAX = highest hypervisor leaf, EBX:ECX:EDX = this signature. */
#define HV_CPUID_LEAF	   0x40000000
#define HV_CPUID_SIGNATURE "uHVuHVuHVuHV"

/*
 * Control hypercalls (dom0's kernel only). Guest-physical addresses given by dom0 must be in
 * dom0's own memory (-EFAULT otherwise); VM handles come from HC_VM_CREATE (-EBADF otherwise).
 */
enum hv_hypercall {
	HC_ABI_VERSION = 0,   /* () -> HV_ABI_VERSION */
	HC_NOP = 1,	      /* () -> 0; the cheapest round trip, for measurements */
	HC_VM_CREATE = 2,     /* (time of day in ns) -> handle >= 0, -ENOMEM, -ENOSPC */
	HC_VM_DESTROY = 3,    /* (vm) -> 0 */
	HC_VM_MAP = 4,	      /* (vm, gpa, list, nframes, prot): map the frames whose numbers (u64)
				 are in the page at `list`, at consecutive GPAs; prot HV_PROT_* */
	HC_VCPU_CREATE = 5,   /* (vm, id) -> 0, -EEXIST, -EINVAL */
	HC_VCPU_RUN = 6,      /* (vm, id, exit, in_data, flags) -> 0 and a struct hv_exit written at
				 `exit`, a page (HV_IO_DATA); in_data completes an IN the previous
				 run stopped at;
				 flags: HV_RUN_IRQ_WINDOW */
	HC_VCPU_GET_REGS = 7, /* (vm, id, regs) -> 0: struct hv_regs written at `regs` */
	HC_VCPU_SET_REGS = 8, /* (vm, id, regs) -> 0 */
	HC_VCPU_GET_SREGS = 9,	/* (vm, id, sregs) -> 0: struct hv_sregs written at `sregs` */
	HC_VCPU_SET_SREGS = 10, /* (vm, id, sregs) -> 0, -EINVAL for state the CPU refuses */
	HC_VM_UNMAP = 11,	/* (vm, gpa, nframes) -> 0: the VM no longer reaches those frames;
				 * (vm, 0, 0): every vCPU's TLB is flushed */
	HC_FREE_FRAMES = 12,	/* () -> the hypervisor's free frames (leak checks) */
	HC_MSR_LIST = 13,	/* (list, max) -> how many MSRs guests have; the first max of
				   their indices (u32) are written at `list` */
	HC_VCPU_GET = 14,	/* (vm, id, kind, buf, count) -> per kind (enum hv_state) */
	HC_VCPU_SET = 15,	/* (vm, id, kind, buf, count) -> per kind */
	HC_SYS_INFO = 16,	/* (kind, buf, count) -> entries needed (enum hv_info) */
	HC_DEV_CREATE = 17,	/* (vm, type, test) -> device handle >= 0; -ENODEV, -EEXIST */
	HC_DEV_ATTR = 18,	/* (vm, dev, op | group << 8, attr, buf) -> 0 or -errno */
	HC_VM_DIRTY = 19,	/* (vm, op, gpa, npages, bitmap): enum hv_dirty_op */
	HC_VCPU_STATS = 20,	/* (vm, id, buf, count) -> HV_STAT_COUNT; works while it runs */
	HC_VCPU_DEBUG = 21,	/* (vm, id, control, buf): HV_DBG_*, u64 DR0-7 at buf */
	HC_IRQCHIP = 22,	/* (vm, op, arg, arg2, buf) -> per op (enum hv_irqchip_op) */
	HC_VM_CLOCK = 23,	/* (vm, set, ns, arg): kvmclock; set: arg dom0's time of day (ns);
				 * get: u64 ns, host TSC at buf arg */
	HC_VM_MSR = 24,		/* (vm, op, arg, buf) -> 0, -EINVAL, -EFAULT (enum hv_msr_op) */
	HC_COUNT
};

/*
 * vCPU state moved by HC_VCPU_GET/SET. `buf` holds `count` elements of the kind's layout (KVM's
 * struct noted), in dom0's memory, at most HV_STATE_MAX_BYTES. GET returns the number of
 * elements the state has (and writes at most `count`); SET returns 0, or for MSRS the number of
 * entries accepted before the first refused one.
 */
enum hv_state {
	HV_STATE_CPUID = 1,	/* struct kvm_cpuid_entry2[] */
	HV_STATE_MSRS = 2,	/* struct kvm_msr_entry[]: GET fills data, returns entries read */
	HV_STATE_XSAVE = 3,	/* 4096 bytes, XSAVE standard format (struct kvm_xsave) */
	HV_STATE_XCR0 = 4,	/* u64 */
	HV_STATE_EVENTS = 5,	/* struct hv_events */
	HV_STATE_DEBUGREGS = 6, /* u64 db[4], dr6, dr7 (struct kvm_debugregs without flags) */
	HV_STATE_MP = 7,	/* u32 HV_MP_* (any but RUNNABLE needs the irqchip) */
	/* 8: unused (statistics come from HC_VCPU_STATS) */
	HV_STATE_IRQ = 9,	  /* SET only: u32 vector to inject (KVM_INTERRUPT) */
	HV_STATE_NMI = 10,	  /* SET only: count 0 (KVM_NMI) */
	HV_STATE_TRANSLATE = 11,  /* GET: struct hv_translate, linear_address in, the rest out */
	HV_STATE_LAPIC = 12,	  /* 1024 bytes: struct kvm_lapic_state (needs the irqchip) */
	HV_STATE_MCE_CAP = 13,	  /* set: u64 MCG_CAP (KVM_X86_SETUP_MCE) */
	HV_STATE_MCE = 14,	  /* set: 64 bytes, struct kvm_x86_mce (KVM_X86_SET_MCE) */
	HV_STATE_VAPIC = 15,	  /* set: u64 GPA (KVM_SET_VAPIC_ADDR) */
	HV_STATE_PV_ENFORCE = 16, /* set: u64 HV_PV_*: the guest ABI's switches */
	HV_STATE_TSC_OFFSET = 17, /* u64: guest TSC = host TSC + this (KVM_VCPU_TSC_OFFSET) */
	HV_STATE_COUNT
};
#define HV_STATE_MAX_BYTES 16384

/* System-wide lists for HC_SYS_INFO. */
enum hv_info {
	HV_INFO_CPUID = 1,	  /* struct kvm_cpuid_entry2[]: what guests can be given */
	HV_INFO_FEATURE_LIST = 2, /* u32[]: feature MSRs (KVM_GET_MSR_FEATURE_INDEX_LIST) */
	HV_INFO_FEATURE_MSRS = 3, /* struct kvm_msr_entry[]: their values; returns entries read */
	HV_INFO_COUNT
};

/* Dirty logging of the pages of a range: start, stop, or fetch-and-reset the bitmap (one bit
 * per page, ALIGN(npages, 64) / 8 bytes at `bitmap`). */
enum hv_dirty_op { HV_DIRTY_START = 0, HV_DIRTY_STOP = 1, HV_DIRTY_FETCH = 2 };

/*
 * HC_IRQCHIP operations on a VM's in-hypervisor interrupt controllers. Those that raise an
 * interrupt write at buf (u64) the halted vCPUs they made runnable (bit per id), for dom0 to
 * wake; state moves in KVM's layouts (kvm_pic_state, kvm_ioapic_state, kvm_pit_state2).
 */
enum hv_irqchip_op {
	HV_IRQCHIP_CREATE = 0,	  /* () -> 0, -EEXIST, -EINVAL after a vCPU */
	HV_IRQCHIP_LINE = 1,	  /* (gsi, level, wake) -> 1 */
	HV_IRQCHIP_MSI = 2,	  /* (address, data, wake) -> 1, -EINVAL for a bad address */
	HV_IRQCHIP_GET = 3,	  /* (chip 0-2, 0, buf) */
	HV_IRQCHIP_SET = 4,	  /* (chip 0-2, 0, buf) */
	HV_IRQCHIP_PIT = 5,	  /* () -> 0: create the PIT */
	HV_IRQCHIP_PIT_GET = 6,	  /* (0, 0, buf) */
	HV_IRQCHIP_PIT_SET = 7,	  /* (0, 0, buf) */
	HV_IRQCHIP_BOOT_CPU = 8,  /* (id) -> 0, -EBUSY once a vCPU exists (KVM_SET_BOOT_CPU_ID) */
	HV_IRQCHIP_ROUTING = 9,	  /* (n, 0, buf): n struct hv_irq_route (KVM_SET_GSI_ROUTING) */
	HV_IRQCHIP_RESAMPLE = 10, /* (gsi < 64, on): an EOI lowers it and reports it (resampled) */
	HV_IRQCHIP_SPLIT = 11,	  /* (pins) -> 0, -EINVAL, -EEXIST: local APICs only (split) */
	HV_IRQCHIP_OPS
};

#define HV_IRQCHIP_GSIS 24 /* IOAPIC pins; PIC lines are GSIs 0-15 by default */

/*
 * A GSI's route (KVM_SET_GSI_ROUTING replaces them all; until then GSI n goes to IOAPIC pin n and,
 * below 16, PIC pin n): to an irqchip pin (chip 0 and 1 the PICs, pins 0-7; 2 the IOAPIC, pins
 * 0-23) or an MSI. A GSI may have one route per chip, or one MSI.
 */
#define HV_MAX_ROUTES	 256 /* and GSIs below it */
#define HV_ROUTE_IRQCHIP 1
#define HV_ROUTE_MSI	 2
struct hv_irq_route {
	unsigned int gsi;
	unsigned char type, chip, pin, pad;
	unsigned int msi_data;
	unsigned long long msi_addr;
};

/* Multiprocessing states (HV_STATE_MP): KVM_MP_STATE_*'s values. */
#define HV_MP_RUNNABLE	    0
#define HV_MP_UNINITIALIZED 1
#define HV_MP_INIT_RECEIVED 2
#define HV_MP_HALTED	    3

/* HC_VCPU_DEBUG control bits: KVM_GUESTDBG_*'s values. */
#define HV_DBG_ENABLE	  0x1
#define HV_DBG_SINGLESTEP 0x2
#define HV_DBG_SW_BP	  0x10000
#define HV_DBG_HW_BP	  0x20000
#define HV_DBG_INJECT_DB  0x40000
#define HV_DBG_INJECT_BP  0x80000
#define HV_DBG_BLOCKIRQ	  0x100000 /* no interrupt is injected while debugging */
#define HV_DBG_ALL	  0x1f0003

/*
 * Device attribute operations (HC_DEV_ATTR): the value is at `buf` in dom0's memory, a u64 or,
 * for some groups (hv_devices.h), a struct. HV_DEV_HAS answers the value's size in bytes.
 */
enum hv_dev_op { HV_DEV_HAS = 0, HV_DEV_GET = 1, HV_DEV_SET = 2 };
#define HV_MAX_DEVICES 16 /* per VM */

/* Exception, interrupt and NMI state (the parts of struct kvm_vcpu_events the CPU has). */
struct hv_events {
	unsigned char exc_injected, exc_nr, exc_has_error, exc_pending;
	unsigned int exc_error;
	unsigned char irq_injected, irq_nr, irq_soft, interrupt_shadow;
	unsigned char nmi_injected, nmi_pending, nmi_masked, smm; /* smm: HV_SMM_* bits */
	unsigned long long exc_payload;
};
#define HV_PV_ENFORCE	    1	       /* KVM_CAP_ENFORCE_PV_FEATURE_CPUID */
#define HV_PV_HYPERV_CALLS  2	       /* VMCALL is Hyper-V's hypercall: HV_EXIT_HYPERCALL */
#define HV_PV_HYPERV_APIC   4	       /* Hyper-V's EOI, ICR, TPR MSRs reach the local APIC */
#define HV_MSR_EOI	    0x40000070 /* then ICR, TPR */
#define HV_SMM_IN	    1 /* in SMM: its own address space, RSM is dom0's (HV_EXIT_SMM) */
#define HV_SMM_PENDING	    2 /* an SMI waits: dom0 is asked to enter SMM (HV_EXIT_SMM) */
#define HV_SMM_LATCHED_INIT 4 /* an INIT that came in SMM, held until RSM */
#define HV_GPA_SMM	    (1ULL << 47) /* SMM's address space (KVM's 1) in HC_VM_MAP etc. */

struct hv_translate {
	unsigned long long linear_address, physical_address;
	unsigned char valid, writeable, usermode, pad[5];
};

/* HV_STATE_STATS counters, in this order. */
enum hv_stat {
	HV_STAT_EXITS,
	HV_STAT_IO_EXITS,
	HV_STAT_MMIO_EXITS,
	HV_STAT_HLT_EXITS,
	HV_STAT_CPUID_EXITS,
	HV_STAT_MSR_EXITS,
	HV_STAT_IRQ_EXITS,
	HV_STAT_EPT_EXITS,
	HV_STAT_COUNT
};

#define HV_PROT_R	  1
#define HV_PROT_W	  2
#define HV_PROT_X	  4
#define HV_MAX_VMS	  64
#define HV_MAP_MAX_FRAMES 512 /* one page of frame numbers */

enum hv_exit_kind {
	HV_EXIT_NONE,
	HV_EXIT_IO,
	HV_EXIT_MMIO,
	HV_EXIT_HLT,
	HV_EXIT_SHUTDOWN,
	HV_EXIT_EXCEPTION,
	HV_EXIT_INTR,
	HV_EXIT_TIMEOUT,
	HV_EXIT_INTR_WINDOW,
	HV_EXIT_WAIT_SIPI,
	HV_EXIT_FAIL_ENTRY,
	HV_EXIT_INTERNAL,
	HV_EXIT_DEBUG, /* data: DR6, gpa: linear PC, qual: DR7, port: the exception (1 or 3) */
	HV_EXIT_MSR,   /* qual: the MSR, write, data: WRMSR's value, size: HV_MSR_EXIT_* reason */
	HV_EXIT_IOAPIC_EOI, /* port: the vector (split irqchip: for user space's IOAPIC) */
	HV_EXIT_SMM,	    /* qual 0: take the pending SMI; 1: RSM in SMM; dom0 moves the state */
	HV_EXIT_HYPERCALL,  /* a VMCALL under HV_PV_HYPERV_CALLS: dom0 answers, RIP at the VMCALL */
	HV_EXIT_NEED_PAGE,  /* gpa (the hypervisor's, HV_GPA_SMM in SMM), write: dom0 maps it */
};

/* General registers, in the order of struct kvm_regs. */
struct hv_regs {
	unsigned long long rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	unsigned long long r8, r9, r10, r11, r12, r13, r14, r15;
	unsigned long long rip, rflags;
};

/* A segment register, laid out as struct kvm_segment. */
struct hv_segment {
	unsigned long long base;
	unsigned int limit;
	unsigned short selector;
	unsigned char type, present, dpl, db, s, l, g, avl, unusable, pad;
};

struct hv_dtable {
	unsigned long long base;
	unsigned short limit, pad[3];
};

/* Segment and control registers, laid out as struct kvm_sregs. */
struct hv_sregs {
	struct hv_segment cs, ds, es, fs, gs, ss, tr, ldt;
	struct hv_dtable gdt, idt;
	unsigned long long cr0, cr2, cr3, cr4, cr8, efer, apic_base;
	unsigned long long interrupt_bitmap[4];
};

/* HC_VCPU_RUN flags: exit with HV_EXIT_INTR_WINDOW as soon as the guest can take an IRQ. */
#define HV_RUN_IRQ_WINDOW    1
#define HV_RUN_COMPLETE_ONLY 2 /* finish the last exit's I/O; the exit page gets the state only */
#define HV_RUN_MSR_ERROR     4 /* the MSR access HV_EXIT_MSR handed out fails: #GP */
#define HV_RUN_CR8	     8 /* CR8 is bits 7:4 (user space's local APIC has the TPR) */
#define HV_RUN_RETRY	     0x100 /* the last MMIO exit was RAM dom0 has mapped: it runs again */
#define HV_RUN_NO_PAGE	     0x200 /* HV_EXIT_NEED_PAGE's GPA is no RAM: the access fails */

/*
 * HC_VM_MSR: which guest RDMSR/WRMSR go to dom0's user space (KVM_CAP_X86_USER_SPACE_MSR and
 * KVM_X86_SET_MSR_FILTER); those it takes come back as HV_EXIT_MSR, answered in_data (a read's
 * value) and HV_RUN_MSR_ERROR. Without them such an access gets #GP.
 */
enum hv_msr_op {
	HV_MSR_EXITS,  /* arg: the HV_MSR_EXIT_* reasons user space handles */
	HV_MSR_FILTER, /* buf: struct hv_msr_filter, checked as a whole */
	HV_MSR_QUIRKS, /* arg: the KVM_X86_QUIRK_* the VMM disabled (KVM_CAP_DISABLE_QUIRKS2) */
};
/* The quirks that can be disabled: LINT0_REENABLED, CD_NW_CLEARED, OUT_7E_INC_RIP,
 * MISC_ENABLE_NO_MWAIT, FIX_HYPERCALL_INSN, MWAIT_NEVER_UD_FAULTS (not LAPIC_MMIO_HOLE) */
#define HV_QUIRKS	    0x7b
#define HV_MSR_EXIT_INVAL   1 /* KVM_MSR_EXIT_REASON_*: the MSR refused the access */
#define HV_MSR_EXIT_UNKNOWN 2 /* there is no such MSR */
#define HV_MSR_EXIT_FILTER  4 /* the filter denied it */
#define HV_MSR_RANGES	    16
#define HV_MSR_BITMAP_MAX   0x600 /* bytes of one range's bitmap (KVM's limit) */

struct hv_msr_filter_head {
	unsigned int deny;    /* 1: an MSR no range covers is denied (else allowed) */
	unsigned int nranges; /* ranges in use, the first ones; 0 with deny is refused */
	struct {
		unsigned int flags; /* 1 reads, 2 writes, or both (KVM_MSR_FILTER_READ/WRITE) */
		unsigned int base, nmsrs; /* nmsrs 1 .. HV_MSR_BITMAP_MAX * 8 */
		unsigned int pad;
	} range[HV_MSR_RANGES];
};

struct hv_msr_filter {
	struct hv_msr_filter_head h;
	unsigned char bitmap[HV_MSR_RANGES][HV_MSR_BITMAP_MAX]; /* bit set: the access allowed */
};

/* What HC_VCPU_RUN reports: why the vCPU stopped. */
/*
 * HC_VCPU_RUN's page holds the exit record at 0 and a string I/O's elements at HV_IO_DATA: an
 * OUTS's for dom0 to take, an INS's from dom0 before the run that completes it. A REP string
 * exit moves up to HV_IO_DATA_MAX bytes, within one guest page, as KVM batches them.
 */
#define HV_IO_DATA     2048
#define HV_IO_DATA_MAX 2048

struct hv_exit {
	unsigned int kind;   /* enum hv_exit_kind */
	unsigned int reason; /* the architectural exit reason */
	unsigned long long qual;
	unsigned long long data; /* IO: the value an OUT wrote; MMIO: the value a write wrote */
	unsigned long long
		gpa; /* MMIO; size is the access's length, 0 when not decoded;
		      * INTERNAL for reason 48: the EPT violation's (delivering an event) */
	unsigned short port;
	unsigned char size, in, string, rep, write, pad;
	unsigned long long rflags; /* at the exit */
	unsigned char irq_ready;   /* an IRQ could be injected now (IF, no shadow, none queued) */
	unsigned char smm;	   /* in SMM at the exit */
	unsigned short count;	   /* IO: elements; a string form's are at HV_IO_DATA in the page */
	unsigned int pad3;
	unsigned long long wake;      /* halted vCPUs (bit per id) this run made runnable */
	unsigned long long wake_tsc;  /* HLT of a halted vCPU: the TSC at its next timer (~0) */
	unsigned long long resampled; /* GSIs (bit per GSI) of resampling irqfds EOIed */
	unsigned long long apic_base, cr8; /* at the exit (kvm_run's) */
};

#ifdef __KERNEL__
/* The calling convention above, for dom0's kernel (hypercalls from user space get -EPERM). */
static inline long hv_call(unsigned long nr, unsigned long a0, unsigned long a1, unsigned long a2,
			   unsigned long a3, unsigned long a4)
{
	register unsigned long r10 asm("r10") = a3;
	register unsigned long r8 asm("r8") = a4;
	long ret;

	asm volatile("vmcall"
		     : "=a"(ret)
		     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8)
		     : "memory");
	return ret;
}
#endif

#endif
