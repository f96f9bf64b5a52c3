/*
 * Virtual machines and vCPUs as the architecture-independent core sees them. A VM owns its
 * second-level page tables; a vCPU runs synchronously on the calling CPU until an exit that
 * the caller must handle (the KVM_RUN model).
 */
#ifndef HV_VM_H
#define HV_VM_H

#include "../../compat/kvmabi/hvabi.h"
#include "../lib/types.h"

#define VM_MAX_VCPUS 64
#define VM_R	     1u
#define VM_W	     2u
#define VM_X	     4u
#define VM_RWX	     7u
#define VM_GPA_LIMIT (1ULL << 48) /* what a VM can map (4-level EPT) */

struct vm;
struct vcpu;

/* A guest VM traps everything; dom0 owns the machine's devices and interrupts. */
enum vm_kind { VM_GUEST, VM_DOM0 };

/*
 * An in-hypervisor handler for a port or MMIO range of one VM: accesses are completed inside
 * the hypervisor and never reach the caller of vcpu_run. Returns false to fault the access.
 */
struct io_hook {
	uint64_t base, len;
	bool (*access)(void *ctx, struct vcpu *v, uint64_t addr, unsigned size, uint64_t *val,
		       bool write);
	void *ctx;
};
#define VM_MAX_HOOKS 16

enum vm_exit_kind {
	VMEXIT_NONE,
	VMEXIT_IO,	    /* port access for the caller: io */
	VMEXIT_MMIO,	    /* access to guest-physical memory that is not mapped that way: mem */
	VMEXIT_HLT,	    /* HLT executed (RIP is past it) */
	VMEXIT_SHUTDOWN,    /* triple fault: the VM cannot continue */
	VMEXIT_EXCEPTION,   /* an exception the caller asked to intercept: exc */
	VMEXIT_INTR,	    /* a physical interrupt is pending for the host */
	VMEXIT_TIMEOUT,	    /* the run budget set by vcpu_set_timeout() is used up */
	VMEXIT_INTR_WINDOW, /* the guest can take an interrupt now */
	VMEXIT_WAIT_SIPI,   /* INIT received: vcpu_run answers -EBUSY until vcpu_sipi() */
	VMEXIT_FAIL_ENTRY,  /* VM entry failed: fail */
	VMEXIT_INTERNAL,    /* an exit the hypervisor does not handle: fail */
	VMEXIT_DEBUG,	    /* a debug event for the caller (vcpu_set_guest_debug): dbg */
	VMEXIT_MSR,	    /* an RDMSR/WRMSR for the caller (vm_msr_exits): msr */
	VMEXIT_IOAPIC_EOI,  /* split irqchip: user space's IOAPIC must see an EOI: vector */
	VMEXIT_SMM,	    /* the caller enters SMM (qual 0, an SMI) or leaves it (1, RSM) */
	VMEXIT_HYPERCALL,   /* a VMCALL for the caller's Hyper-V ABI (RIP stays at it) */
	VMEXIT_NEED_PAGE,   /* the hypervisor's access found mem.gpa unmapped: map it, run again */
};

struct vm_exit {
	enum vm_exit_kind kind;
	uint64_t answer;    /* set by the caller before the next run: the IN, MMIO or MSR read */
	bool msr_error;	    /* ...and for an MSR exit: the access fails (#GP) */
	uint8_t *strdata;   /* HV_IO_DATA_MAX bytes of the caller's for string I/O elements */
	uint32_t reason;    /* architectural exit reason */
	uint64_t qual;	    /* architectural exit qualification */
	uint64_t rflags;    /* at the exit */
	bool irq_ready;	    /* the guest could take an interrupt now */
	uint64_t wake;	    /* halted vCPUs (bit per id) this run made runnable: wake them */
	uint64_t resampled; /* resampling GSIs (bit per GSI) EOIed: signal their irqfds */
	uint64_t wake_tsc;  /* VMEXIT_HLT of a halted vCPU: when its next timer fires (~0) */
	uint64_t apic_base; /* at the exit, for kvm_run's apic_base and cr8 */
	uint8_t cr8;
	bool smm;
	uint8_t vector; /* VMEXIT_IOAPIC_EOI */
	union {
		struct {
			uint16_t port;
			uint8_t size; /* 1, 2 or 4 */
			bool in, string, rep;
			uint16_t count; /* elements: a string form's are at strdata */
			uint64_t data;	/* OUT: the value; IN: the caller stores the value here */
		} io;
		struct {
			uint64_t gpa, gla;
			uint64_t data;	  /* a write\'s value */
			uint8_t len;	  /* bytes accessed; 0 when the access was not decoded */
			uint8_t insn_len; /* ...and then its bytes at strdata (up to 15) */
			bool read, write, fetch, gla_valid;
		} mem;
		struct {
			uint8_t vector;
			bool has_error;
			uint32_t error;
		} exc;
		struct {
			uint32_t index, reason; /* reason: HV_MSR_EXIT_* */
			uint64_t data;		/* a write's value */
			bool write;
		} msr;
		struct {
			uint64_t code; /* hardware entry-failure reason or instruction error */
		} fail;
		struct {
			unsigned exception; /* 1 (#DB, single step) or 3 (#BP) */
			uint64_t pc, dr6, dr7;
		} dbg;
	};
};

struct vcpu_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
};

enum vcpu_mode { VCPU_REAL, VCPU_PROT32, VCPU_LONG64 };

/* VMs. vm_create returns NULL when memory is short. Destroying frees every frame it used. */
struct vm *vm_create(enum vm_kind kind);
/* Port hooks pio[np] and MMIO hooks mmio[nm], all or none: 0, -EINVAL, -EEXIST (a range
 * overlaps one the VM has, or another given), -ENOSPC (past VM_MAX_HOOKS). Never removed. */
int vm_add_hooks(struct vm *vm, const struct io_hook *pio, unsigned np, const struct io_hook *mmio,
		 unsigned nm);
/* Every MTRR a CPU may have (dom0's writes to them are dropped: the firmware's stay). */
bool msr_is_mtrr(uint32_t msr);
/* dom0 only: let dom0 read and write these MSRs directly (0), or trap them (1). */
void vm_msr_intercept(struct vm *vm, uint32_t msr, bool read, bool write);
void vm_destroy(struct vm *vm);
/* Second-level mappings (4K-aligned); 0 or -EINVAL / -ENOMEM. Memory is write-back. */
int vm_map(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned prot);
/* The same for device memory: uncached. */
int vm_map_mmio(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned prot);
int vm_unmap(struct vm *vm, uint64_t gpa, uint64_t size);
/* Dirty logging of a range: start (-EEXIST when it overlaps a logged one), fetch-and-reset the
 * bitmap (one bit per page, bytes = ALIGN(npages, 64) / 8), stop. */
int vm_dirty_start(struct vm *vm, uint64_t gpa, uint64_t npages);
int vm_dirty_fetch(struct vm *vm, uint64_t gpa, uint64_t *out, uint64_t bytes);
int vm_dirty_stop(struct vm *vm, uint64_t gpa);
/* Host-physical address backing gpa, or -ENOENT. */
int vm_gpa_to_hpa(struct vm *vm, uint64_t gpa, uint64_t *hpa);
/* Copies between a buffer and guest-physical memory; -EFAULT where it is not mapped. */
int vm_read(struct vm *vm, uint64_t gpa, void *buf, size_t len);
int vm_write(struct vm *vm, uint64_t gpa, const void *buf, size_t len);

/* A VMCALL in the hypervisor's own ABI: RAX = nr, arguments in RDI, RSI, RDX, R10, R8, R9. */
struct vmcall {
	bool from_dom0;
	unsigned cpl;
	uint64_t nr, arg[6];
};
/* The hypercall floor registers its table at boot (the VMCALL exit must not include an upper
 * floor); the value goes to the caller's RAX. Until then every call gets -ENOSYS. */
void vm_set_hypercall_handler(int64_t (*handler)(const struct vmcall *call));

/* One user of a vCPU at a time (hypercalls from several CPUs): false when it is taken. */
bool vcpu_try_claim(struct vcpu *v, bool run);
void vcpu_release(struct vcpu *v);

/* The vCPU with that id, or NULL. */
struct vcpu *vm_get_vcpu(struct vm *vm, uint64_t id);

/* vCPUs. vcpu_create returns NULL when memory is short or `id` is taken or too large. */
struct vcpu *vcpu_create(struct vm *vm, unsigned id);
int vcpu_get_regs(struct vcpu *v, struct vcpu_regs *r);
int vcpu_set_regs(struct vcpu *v, const struct vcpu_regs *r);
/* Segment and control registers in the ABI's struct (KVM's kvm_sregs); get leaves apic_base and
 * interrupt_bitmap alone, set and valid do not read them. */
int vcpu_get_sregs(struct vcpu *v, struct hv_sregs *s);
int vcpu_set_sregs(struct vcpu *v, const struct hv_sregs *s);
bool vcpu_sregs_valid(struct vcpu *v, const struct hv_sregs *s); /* what set would refuse */
/* Flat segments for a mode; for VCPU_LONG64, cr3 must point at the guest's page tables. */
int vcpu_set_mode(struct vcpu *v, enum vcpu_mode mode, uint64_t rip, uint64_t rsp, uint64_t cr3);
/* Completes the port or MMIO access the last exit left open (x->answer: its data), no more. */
void vcpu_complete_io(struct vcpu *v, struct vm_exit *x);
void vcpu_retry(struct vcpu *v, uint64_t flags); /* HV_RUN_RETRY, _NO_PAGE */
/* Runs until an exit for the caller. Returns 0 (see *x), or -EBUSY while waiting for a SIPI. */
int vcpu_run(struct vcpu *v, struct vm_exit *x);

/* Events delivered at the next entry, with the architectural priorities and blocking. */
void vcpu_queue_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
void vcpu_queue_nmi(struct vcpu *v);
/* KVM_INTERRUPT: injected when RFLAGS.IF allows, until then waiting with interrupt-window
 * exiting (replacing one that waits, as KVM); or with a split irqchip its ExtINT (-EEXIST while
 * one waits there); -ENXIO. */
int vcpu_interrupt(struct vcpu *v, uint8_t vector);
/* Exit with VMEXIT_INTR_WINDOW as soon as the guest can take an interrupt. */
void vcpu_request_irq_window(struct vcpu *v, bool on);
/* Exceptions (bitmap of vectors) that exit with VMEXIT_EXCEPTION instead of reaching the guest. */
void vcpu_intercept_exceptions(struct vcpu *v, uint32_t bitmap);
/* Reads guest-virtual memory through the guest's page tables; 0 or -EFAULT. */
int vcpu_read_gva(struct vcpu *v, uint64_t gva, void *buf, size_t len);
/* CR2 as the guest will see it (a #PF the caller reflects sets it first). */
void vcpu_set_cr2(struct vcpu *v, uint64_t cr2);
void vcpu_set_cr8(struct vcpu *v, uint64_t cr8); /* bits 3:0 */
/* Run budget in TSC cycles for the following runs (0: none), via the preemption timer. */
void vcpu_set_timeout(struct vcpu *v, uint64_t tsc_cycles);
/* INIT and SIPI as the local APIC delivers them (vcpu_mp_state: whether a SIPI is awaited). */
void vcpu_init_signal(struct vcpu *v);
void vcpu_sipi(struct vcpu *v, uint8_t vector);

/* CPUID entries, laid out as struct kvm_cpuid_entry2. */
#define VM_CPUID_MAX	 256
#define VM_CPUID_INDEXED 1 /* the entry is for one subleaf (KVM_CPUID_FLAG_SIGNIFCANT_INDEX) */
struct vm_cpuid_entry {
	uint32_t function, index, flags, eax, ebx, ecx, edx, pad[3];
};
/* What guests can be given (KVM_GET_SUPPORTED_CPUID): writes up to max, returns how many. */
unsigned vm_cpuid_supported(struct vm_cpuid_entry *out, unsigned max);
/* A vCPU's CPUID model; -E2BIG, -ENOMEM, or -EINVAL for one KVM refuses. */
int vcpu_set_cpuid(struct vcpu *v, const struct vm_cpuid_entry *e, unsigned n);
unsigned vcpu_get_cpuid(struct vcpu *v, struct vm_cpuid_entry *out, unsigned max);
/* From now on the VM follows KVM's rules where they differ from the hypervisor's own guests. */
void vm_set_kvm_rules(struct vm *vm, uint64_t realtime);

/* The MSRs a guest can read and write (KVM_GET_MSR_INDEX_LIST): writes up to max, returns all. */
unsigned vm_msr_index_list(uint32_t *out, unsigned max);

/*
 * The in-hypervisor irqchip (irqchip.c): PICs, IOAPIC, a local APIC per vCPU, and the PIT.
 * Lines and MSIs report in *wake the halted vCPUs they made runnable (bit per id).
 */
enum irqchip_kind { IRQCHIP_FULL, IRQCHIP_SPLIT, IRQCHIP_PIT };
/* KVM_CREATE_IRQCHIP, KVM_CAP_SPLIT_IRQCHIP (pins of user space's IOAPIC) or KVM_CREATE_PIT2 */
int vm_irqchip_create(struct vm *vm, enum irqchip_kind kind, uint64_t ioapic_pins);
/* KVM_CAP_X86_USER_SPACE_MSR's reasons, KVM_X86_SET_MSR_FILTER (dom0's copy): 0, -EINVAL */
int vm_msr_exits(struct vm *vm, uint64_t reasons);
int vm_quirks(struct vm *vm, uint64_t disabled); /* KVM_CAP_DISABLE_QUIRKS2: -EINVAL or 0 */
int vm_msr_filter(struct vm *vm, const struct hv_msr_filter *in);
int vm_set_boot_cpu(struct vm *vm, uint64_t id);
/* kvmclock: the VM clock in ns when the host TSC reads tsc; set it to read ns now, when the time
 * of day (ns since 1970, dom0's) is realtime */
uint64_t vm_clock_ns(struct vm *vm, uint64_t tsc);
void vm_set_clock(struct vm *vm, uint64_t ns, uint64_t realtime);
int vm_irq_resample(struct vm *vm, uint64_t gsi, bool on);
struct hv_irq_route;
int vm_irq_routing(struct vm *vm, const struct hv_irq_route *r, unsigned n);
int vm_irq_line(struct vm *vm, unsigned gsi, int level, uint64_t *wake);
int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data, uint64_t *wake);
int vm_irqchip_state(struct vm *vm, unsigned chip, void *buf, bool set); /* KVM_GET/SET_IRQCHIP */
int vm_pit_state(struct vm *vm, void *buf, bool set);			 /* kvm_pit_state2 */
int vcpu_lapic_state(struct vcpu *v, void *buf, bool set);		 /* kvm_lapic_state */
int vcpu_mp_state(struct vcpu *v, void *buf, bool set);			 /* u32 HV_MP_* */
int vcpu_setup_mce(struct vcpu *v, uint64_t cap);			 /* KVM_X86_SETUP_MCE */
int vcpu_set_mce(struct vcpu *v, void *kvm_x86_mce, bool set);		 /* KVM_X86_SET_MCE */
int vcpu_set_vapic(struct vcpu *v, uint64_t gpa);			 /* KVM_SET_VAPIC_ADDR */
int vcpu_pv_enforce(struct vcpu *v, uint64_t flags);			 /* HV_PV_* */

/* Feature MSRs (KVM_GET_MSR_FEATURE_INDEX_LIST) and their values; false: no such MSR. */
unsigned vm_feature_msr_list(uint32_t *out, unsigned max);
bool vm_feature_msr(uint32_t msr, uint64_t *val);
/* MSR access for the caller while the vCPU does not run (set: *val written); false where the
 * guest gets #GP. */
bool vcpu_msr(struct vcpu *v, uint32_t msr, uint64_t *val, bool set);

/* Register families for the caller while the vCPU does not run (-EINVAL: refused value);
 * those with a set flag get into buf, or set from it. */
int vcpu_xsave(struct vcpu *v, void *area, bool set);	  /* XSAVE standard format, 4096 bytes */
int vcpu_xcr0(struct vcpu *v, void *buf, bool set);	  /* u64 */
int vcpu_tsc_offset(struct vcpu *v, void *buf, bool set); /* u64 */
int vcpu_events(struct vcpu *v, void *buf, bool set);	  /* struct hv_events */
int vcpu_debugregs(struct vcpu *v, void *buf, bool set);  /* u64 DR0-3, DR6, DR7 */
int vcpu_translate(struct vcpu *v, void *buf, bool set);  /* struct hv_translate */
/* KVM_SET_GUEST_DEBUG: control HV_DBG_*, dr[0-3] and dr[7]; -EINVAL, -EBUSY (injection). */
int vcpu_set_guest_debug(struct vcpu *v, uint32_t control, const uint64_t dr[8]);
void vcpu_get_stats(struct vcpu *v, uint64_t out[HV_STAT_COUNT]);

/* Counters kept for every VM exit reason on this vCPU. */
uint64_t vcpu_exit_count(struct vcpu *v, uint32_t reason);
/* Prints registers, control state and the last exits (crash reports). */
void vcpu_report(struct vcpu *v);
/* A vCPU that never changes CPU keeps its VMCS loaded between runs (dom0's). */
void vcpu_pin(struct vcpu *v);

#endif
