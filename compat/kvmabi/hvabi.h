/*
 * The hypercall ABI between the hypervisor and its guests (dom0's /dev/kvm module included).
 * Single source of truth: included by hv/ and by the dom0 module.
 *
 * VMCALL with RAX = hypercall number, arguments in RDI, RSI, RDX, R10, R8, R9; the result comes
 * back in RAX: 0 or more on success, a negative Linux errno on failure. Unknown numbers return
 * -ENOSYS; a call from CPL > 0 returns -EPERM; control hypercalls from a VM that is not dom0
 * return -EPERM.
 */
#ifndef HVABI_H
#define HVABI_H

#define HV_ABI_VERSION 1

/* CPUID leaf 0x40000000: EAX = highest hypervisor leaf, EBX:ECX:EDX = this signature. */
#define HV_CPUID_LEAF	   0x40000000
#define HV_CPUID_SIGNATURE "uHVuHVuHVuHV"

/*
 * Control hypercalls (dom0's kernel only). Guest-physical addresses given by dom0 must be in
 * dom0's own memory (-EFAULT otherwise); VM handles come from HC_VM_CREATE (-EBADF otherwise).
 */
enum hv_hypercall {
	HC_ABI_VERSION = 0, /* () -> HV_ABI_VERSION */
	HC_NOP = 1,	    /* () -> 0; the cheapest round trip, for measurements */
	HC_VM_CREATE = 2,   /* () -> handle >= 0, -ENOMEM, -ENOSPC */
	HC_VM_DESTROY = 3,  /* (vm) -> 0 */
	HC_VM_MAP = 4,	    /* (vm, gpa, list, nframes, prot): map the frames whose numbers (u64)
			       are in the page at `list`, at consecutive GPAs; prot HV_PROT_* */
	HC_VCPU_CREATE = 5, /* (vm, id) -> 0, -EEXIST, -EINVAL */
	HC_VCPU_RUN = 6,    /* (vm, id, exit, in_data) -> 0 and a struct hv_exit written at `exit`;
			       in_data completes an IN the previous run stopped at */
	HC_VCPU_GET_REGS = 7,	/* (vm, id, regs) -> 0: struct hv_regs written at `regs` */
	HC_VCPU_SET_REGS = 8,	/* (vm, id, regs) -> 0 */
	HC_VCPU_GET_SREGS = 9,	/* (vm, id, sregs) -> 0: struct hv_sregs written at `sregs` */
	HC_VCPU_SET_SREGS = 10, /* (vm, id, sregs) -> 0, -EINVAL for state the CPU refuses */
	HC_VM_UNMAP = 11,	/* (vm, gpa, nframes) -> 0: the VM no longer reaches those frames */
	HC_FREE_FRAMES = 12,	/* () -> the hypervisor's free frames (leak checks) */
	HC_MSR_LIST = 13,	/* (list, max) -> how many MSRs guests have; the first max of
				   their indices (u32) are written at `list` */
	HC_COUNT
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

/* What HC_VCPU_RUN reports: why the vCPU stopped. */
struct hv_exit {
	unsigned int kind;   /* enum hv_exit_kind */
	unsigned int reason; /* the architectural exit reason */
	unsigned long long qual;
	unsigned long long data; /* IO: the value an OUT wrote; MMIO: the value a write wrote */
	unsigned long long gpa;	 /* MMIO; size is the access's length, 0 when not decoded */
	unsigned short port;
	unsigned char size, in, string, rep, write, pad;
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
