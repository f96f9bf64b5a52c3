/* The VMX-side layout of VMs and vCPUs, shared by the files of hv/vmx. */
#ifndef HV_VMX_VM_H
#define HV_VMX_VM_H

#include "../lib/spinlock.h"
#include "vm.h"
#include "x86dec.h"
#include "bits.h"
#include "ept.h"

#define FPU_AREA_SIZE	  4096
#define UCODE_REV_DEFAULT 0x100000000ULL /* the microcode revision a vCPU reports, as KVM's */

/* Guest GPRs in the hardware's register-number order (exit qualifications use it). */
enum gpr {
	GPR_RAX,
	GPR_RCX,
	GPR_RDX,
	GPR_RBX,
	GPR_RSP,
	GPR_RBP,
	GPR_RSI,
	GPR_RDI,
	GPR_R8,
	GPR_R9,
	GPR_R10,
	GPR_R11,
	GPR_R12,
	GPR_R13,
	GPR_R14,
	GPR_R15,
};

/* What vmx_enter() loads and saves; RSP lives in the VMCS, the slot is a placeholder. */
struct guest_gprs {
	uint64_t r[16];
	uint64_t cr2;
};

#define VM_MAX_DIRTY 32

struct irqchip;
struct vlapic;

/* A range of guest-physical pages whose writes are logged (dirty.c). */
struct dirty_range {
	uint64_t gpa, npages;
	uint64_t *bits; /* NULL: the entry is free */
};

struct vm {
	enum vm_kind kind;
	struct io_hook pio[VM_MAX_HOOKS], mmio[VM_MAX_HOOKS];
	unsigned npio, nmmio;
	struct ept ept;
	uint64_t eptp;
	uint64_t low_root, smm_root; /* a guest's EPT roots (vcpu_eptp), 0 for dom0 */
	uint64_t top_synced;	     /* ept.top_adds when they were last copied */
	uint64_t io_bitmap;	     /* two pages: ports 0-0x7fff, 0x8000-0xffff */
	uint64_t msr_bitmap;
	volatile uint64_t ept_gen; /* bumped when mappings shrink: vCPUs flush before entry */
	spinlock_t lock;
	spinlock_t create_lock; /* vCPUs, irqchip, PIT, boot CPU: made one at a time, whatever dom0
				   does */
	struct vcpu *vcpus[VM_MAX_VCPUS];
	unsigned nvcpus;
	unsigned bsp_id;      /* KVM_SET_BOOT_CPU_ID's, before any vCPU; 0 by default */
	int64_t clock_offset; /* kvmclock: the VM clock minus the host TSC's nanoseconds */
	uint32_t clock_gen;   /* bumped by KVM_SET_CLOCK: pvclock pages are rewritten */
	uint64_t wall_zero;   /* kvmclock: the time of day (ns) at which the VM clock read 0 */
	uint64_t wall_clock;  /* MSR_KVM_WALL_CLOCK(_NEW): where the guest wants it */
	bool kvm_rules;	      /* dom0's KVM made it: CPUID from the vCPU's table only */
	struct dirty_range dirty[VM_MAX_DIRTY];
	struct irqchip *irqchip;	  /* KVM_CREATE_IRQCHIP's models, or NULL */
	uint64_t tsc_offset;		  /* guest TSC - host TSC for new vCPUs */
	uint8_t msr_exits;		  /* HV_MSR_EXIT_* reasons user space takes (msr_user.c) */
	uint8_t quirks_off;		  /* KVM_X86_QUIRK_* bits the VMM disabled */
	struct hv_msr_filter *msr_filter; /* KVM_X86_SET_MSR_FILTER's, under msr_lock, or NULL */
	spinlock_t msr_lock;
};

/* KVM's quirks: KVM_X86_QUIRK_* bit numbers; each is on until the VMM disables it. */
#define QUIRK_LINT0_REENABLED	   0
#define QUIRK_OUT_7E_INC_RIP	   3
#define QUIRK_MISC_ENABLE_NO_MWAIT 4
#define QUIRK_FIX_HYPERCALL_INSN   5
#define QUIRK_MWAIT_NEVER_UD	   6
#define vm_quirk(vm, q)		   (!(((vm)->quirks_off >> (q)) & 1))

#define VEC_DB 1
#define VEC_UD 6
#define VEC_MC 18
/* Exceptions a guest VM's vCPU always intercepts: a machine check is the machine's, for dom0;
 * in KVM's VMs #UD (KVM_X86_QUIRK_FIX_HYPERCALL_INSN) and #DB (DR6 kept, as KVM keeps it). */
#define EXC_ALWAYS(vm)                                                                \
	((vm)->kind == VM_GUEST                                                       \
		 ? 1u << VEC_MC | ((vm)->kvm_rules ? 1u << VEC_UD | 1u << VEC_DB : 0) \
		 : 0)

/* The vector that kicks a vCPU out of guest mode (Linux's POSTED_INTR_VECTOR, as KVM's kicks):
 * dom0's kernel, which gets it once the vCPU has left, only acknowledges it. */
#define KICK_VECTOR 0xf2

/* TLB shootdown after a guest VM's mappings shrank (vm.c). */
void vm_shootdown(struct vm *vm);

struct dr_save {
	bool loaded;
	uint64_t dr[5]; /* DR0-3, DR6 of whoever had the CPU */
};

struct pending_exc {
	bool valid, fresh; /* fresh: raised now, not an interrupted delivery (RF for a fault) */
	uint32_t info;	   /* VM-entry interruption information */
	uint32_t error;
	uint32_t insn_len;
};

/* MSRs that VMX does not switch: kept here, loaded around guest runs when the guest set them. */
enum {
	MSR_IDX_STAR,
	MSR_IDX_LSTAR,
	MSR_IDX_CSTAR,
	MSR_IDX_SFMASK,
	MSR_IDX_KGSBASE,
	MSR_IDX_TSC_AUX,
	MSR_IDX_COUNT
};

struct guest_msrs {
	uint64_t val[MSR_IDX_COUNT];
	bool loaded;
};

#define VCPU_MCE_BANKS 32 /* KVM_MAX_MCE_BANKS */

struct vcpu {
	struct guest_gprs gprs; /* first: the entry code addresses it */
	struct vm *vm;
	unsigned id;
	uint16_t vpid;
	uint64_t vmcs;
	bool launched;
	unsigned loads;		   /* vcpu_load nesting: the VMCS is cleared at the outermost put */
	bool failure_dumped;	   /* an entry failure's state was printed (only the first is) */
	uint64_t run_start;	   /* TSC when the current vcpu_run began */
	uint64_t preempt_due;	   /* TSC when vcpu_arm_preempt's timer is due */
	bool state_changed;	   /* the caller set registers: vcpu_fix_entry_state before entry */
	bool ran;		   /* has entered the guest at least once */
	volatile bool claimed;	   /* a hypercall is using it (vcpu_try_claim) */
	struct cpuid_table *cpuid; /* KVM_SET_CPUID2's table, or NULL */
	bool pinned;		   /* never moves: the VMCS stays loaded on its CPU */
	int last_cpu;		   /* CPU that last ran it, -1 never */
	uint64_t pvclock;	   /* MSR_KVM_SYSTEM_TIME_NEW: the page's GPA, bit 0 enabled */
	bool pv_enforce, hv_calls, hv_apic; /* HV_PV_ENFORCE, _HYPERV_CALLS, _HYPERV_APIC */
	uint32_t clock_gen;		    /* the VM clock generation its page was written for */
	int guest_cpu; /* CPU it is in guest mode on (or about to be), -1 none */
	uint64_t flushed_gen;
	uint64_t xcr0;
	struct guest_msrs msrs;
	uint64_t dr[4], dr6;
	uint32_t dbg_ctl;	/* KVM_SET_GUEST_DEBUG's HV_DBG_* */
	bool dbg_tf;		/* RFLAGS.TF is the hypervisor's, for a single step */
	struct dr_save host_dr; /* while the vCPU's DR0-3/DR6 are in the CPU */
	/* with an irqchip: its local APIC, and what other vCPUs asked of it (irqchip.c) */
	struct vlapic *lapic;
	bool halted, irq_window_internal;
	bool irq_quiet; /* nothing to take while the chip's gen is irq_gen (irqchip_run.c) */
	uint32_t irq_gen;
	bool mp_uninit; /* waiting for INIT as well as SIPI (an AP never started) */
	volatile bool req_init, req_nmi;
	volatile uint16_t req_sipi;    /* 0x100 | vector */
	uint64_t dbg_dr[4], guest_dr7; /* the debugger's DR0-3; the guest's DR7 meanwhile */
	uint64_t apic_base, misc_enable, mtrr_def_type, ucode_rev, power_ctl, tsc_adjust;
	uint64_t mtrr[27]; /* the 11 fixed-range MTRRs, then 8 variable base/mask pairs */
	uint64_t mcg_cap, mcg_status, mcg_ctl, mce_banks[4 * VCPU_MCE_BANKS]; /* mce.c */
	uint64_t mci_ctl2[VCPU_MCE_BANKS];
	uint64_t vapic;	     /* KVM_SET_VAPIC_ADDR's GPA, or 0 */
	uint64_t pv_eoi;     /* MSR_KVM_PV_EOI_EN */
	bool pv_eoi_set;     /* the guest's PV EOI flag was set for this run (irqchip.c) */
	bool req_shutdown;   /* KVM_X86_SET_MCE could not deliver: the next run shuts down */
	uint8_t tpr;	     /* CR8 */
	uint8_t msr_pending; /* 1 RDMSR, 2 WRMSR handed to the caller (msr_user.c) */
	/* event state */
	struct pending_exc exc;
	bool nmi_pending;
	bool smm, smi_pending;		    /* HV_SMM_IN, HV_SMM_PENDING */
	uint64_t need_page, asked, no_page; /* a GPA dom0 must map (bit 0, 1 write), the last
					       asked for, one dom0 said has no page */
	struct {
		uint64_t gpa, val;
		unsigned len; /* a task switch's error code, written once its page is mapped */
	} late;
	int irq_pending; /* vector, -1 none */
	bool want_irq_window;
	uint32_t windows;   /* the window exits set in the VMCS (events.c) */
	bool dm_window;	    /* split irqchip: user space's window request stands this entry */
	int16_t ext_vector; /* split irqchip: KVM_INTERRUPT's ExtINT, -1 none */
	uint16_t eoi_exit;  /* split irqchip: 0x100 | a vector whose EOI user space must see */
	uint32_t exc_intercept;
	uint64_t timeout; /* TSC cycles per run, 0: none */
	bool wait_sipi;
	/* an I/O exit waiting for the caller's answer (IN data, or completion of OUT/OUTS) */
	bool io_pending;
	uint64_t io_qual;
	uint32_t io_insn_info, io_insn_len;
	uint16_t io_count; /* elements the open string I/O moves */
	/* an MMIO access handed to the caller, decoded (x86dec.h), completed on the next run */
	bool mmio_pending, mmio_write; /* mmio_write: MOVS's destination is the MMIO side */
	uint8_t mmio_insn[24];	       /* struct x86_insn, kept opaque here */
	uint8_t mmio_wb_len;	       /* a read-modify-write's write of mmio_wb to come */
	uint64_t mmio_gpa, mmio_wb;
	/* x87/SSE/AVX state while the vCPU is not running (XSAVE standard format) */
	uint8_t fpu[FPU_AREA_SIZE] __aligned(64);
	/* statistics, and the last exits for crash reports */
	uint64_t exits[EXIT_REASON_MAX + 1], mmio_exits;
	struct recent_exit {
		uint32_t reason;
		uint64_t rip, qual;
	} recent[8];
	unsigned nrecent;
};

/* Handler results: go back into the guest, or return the exit to vcpu_run's caller. */
enum { EXIT_RESUME = 0, EXIT_TO_CALLER = 1 };

/* entry.S: 0 after a VM exit, 1 when VMLAUNCH/VMRESUME itself failed. */
int vmx_enter(struct guest_gprs *g, int launched);

/* vmcs.c */
int vmcs_init(struct vcpu *v);
void vmcs_load_host_state(void);
void vmcs_dump_guest(void);
void vmcs_set_entry_ia32e(struct vcpu *v, bool on);
uint64_t vmcs_cr0_guest_fixed(uint64_t cr0);
uint64_t vmcs_cr4_guest_fixed(uint64_t cr4);
uint64_t guest_cr0(void);
uint64_t guest_cr4(void);

/* vcpu_state.c */
void vcpu_fix_entry_state(struct vcpu *v);

/* events.c */
void events_inject(struct vcpu *v);
void events_save_idt_vectoring(struct vcpu *v);
bool guest_irq_open(void);
/* #GP(0) and #UD queued for the guest; EXIT_RESUME, for an exit handler to return */
int vcpu_inject_gp(struct vcpu *v);
int vcpu_inject_ud(struct vcpu *v);

/* vm.c: guest memory as the vCPU sees it (SMM has its own); both EPT roots flushed here */
int vcpu_read(struct vcpu *v, uint64_t gpa, void *buf, size_t len);
int vcpu_write(struct vcpu *v, uint64_t gpa, const void *buf, size_t len);
void vm_invept(struct vm *vm);
uint64_t vcpu_eptp(struct vcpu *v);

/* vcpu.c: make the VMCS current on this CPU / clear it (every register access is bracketed) */
void vcpu_load(struct vcpu *v);
void vcpu_put(struct vcpu *v);
void vcpu_destroy(struct vcpu *v); /* its VM's vm_destroy, or a failed vcpu_create */

/* mmio.c: MMIO and port hooks */
const struct io_hook *find_hook(const struct io_hook *h, const unsigned *count, uint64_t addr,
				unsigned size);
int emulate_mmio(struct vcpu *v, const struct io_hook *h, uint64_t gpa, struct vm_exit *x);
size_t vcpu_fetch(struct vcpu *v, uint8_t *buf); /* up to X86_MAX_INSN bytes at CS:RIP */
int mmio_to_caller(struct vcpu *v, struct vm_exit *x);
int mmio_reserved_gpa(struct vcpu *v, struct vm_exit *x);
void mmio_complete(struct vcpu *v, const struct vm_exit *x);
void mmio_writeback(struct vcpu *v, struct vm_exit *x);

/* debug.c: hardware debug registers around runs, and the debugger's exits */
void debug_enter(struct vcpu *v);
void debug_prepare_entry(struct vcpu *v);
void debug_after_exit(struct vcpu *v);
void debug_leave(struct vcpu *v);
uint32_t debug_exceptions(struct vcpu *v);
bool debug_exception(struct vcpu *v, unsigned vector, struct vm_exit *x);
int debug_guest_db(struct vcpu *v, uint64_t qual, uint32_t info);
int handle_mtf(struct vcpu *v, struct vm_exit *x);
int debug_general_detect(struct vcpu *v, struct vm_exit *x); /* MOV DR under DR7.GD */
/* mce.c */
bool mce_msr(struct vcpu *v, uint32_t msr, uint64_t *val, bool write, bool host, bool *ok);
/* kvmclock.c */
void kvmclock_prepare_entry(struct vcpu *v);
bool kvmclock_msr(struct vcpu *v, uint32_t msr, uint64_t *val, bool write, bool *ok);
#define DR7_GD (1ULL << 13)

/* irqchip.c */
int irqchip_vcpu_init(struct vcpu *v);
void irqchip_vcpu_free(struct vcpu *v);
void irqchip_prepare_entry(struct vcpu *v);
void irqchip_requests(struct vcpu *v);
bool irqchip_halted(struct vcpu *v, uint64_t *wake_tsc);
void irqchip_take_wake(struct vm *vm, struct vm_exit *x);
bool irqchip_wake_pending(struct vm *vm); /* halted vCPUs wait for dom0 to wake them */
bool irqchip_msr(struct vcpu *v, uint32_t msr, uint64_t *val, bool write, bool host, bool *ok);
void irqchip_cmci(struct vcpu *v);	    /* the local APIC's CMCI LVT fires */
void irqchip_lapic_version(struct vcpu *v); /* after MCG_CAP or CPUID changed */
uint8_t vcpu_cr8(struct vcpu *v);
void vcpu_exit_apic(struct vcpu *v, struct vm_exit *x);
void irqchip_pv_eoi_sync(struct vcpu *v); /* after an exit, if pv_eoi_set */
int vcpu_ext_interrupt(struct vcpu *v, uint8_t vector);
bool irqchip_dm_ready(struct vcpu *v, bool cpu_ready);
/* msr_user.c */
bool msr_allowed(struct vm *vm, uint32_t msr, bool write);
int msr_refused(struct vcpu *v, struct vm_exit *x, bool write, uint64_t val, unsigned reason);
void msr_complete(struct vcpu *v, const struct vm_exit *x);
void vm_msr_filter_free(struct vm *vm);
void vm_irqchip_free(struct vm *vm);
bool vcpu_arm_preempt(struct vcpu *v, uint64_t tsc_cycles);
uint64_t vcpu_slice_left(struct vcpu *v);
bool vcpu_cpuid_has(struct vcpu *v, uint32_t leaf, unsigned reg, uint32_t bit);
bool vcpu_has_mwait(struct vcpu *v); /* CPUID.1:ECX.MONITOR as the guest reads it */
/* KVM's PV features (bit numbers in CPUID 0x40000001 EAX) */
#define KVM_FEATURE_CLOCKSOURCE		   0
#define KVM_FEATURE_NOP_IO_DELAY	   1
#define KVM_FEATURE_CLOCKSOURCE2	   3
#define KVM_FEATURE_STEAL_TIME		   5
#define KVM_FEATURE_PV_EOI		   6
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT 24
bool vcpu_pv_has(struct vcpu *v, unsigned feature);
unsigned host_maxphyaddr(void); /* the machine's physical-address width */
unsigned vcpu_maxphyaddr(struct vcpu *v);

/* dirty.c */
bool dirty_write_fault(struct vm *vm, uint64_t gpa);
void dirty_protect_mapped(struct vm *vm, uint64_t gpa, uint64_t size); /* vm->lock held */
void vm_dirty_free(struct vm *vm);

/* exits.c */
int vmx_handle_exit(struct vcpu *v, struct vm_exit *x);
/* The exit goes to the caller as `kind`: EXIT_TO_CALLER */
int exit_to_caller(struct vm_exit *x, enum vm_exit_kind kind);
/* RIP past the instruction that exited; EXIT_RESUME, for an exit handler to return */
int vcpu_skip_insn(struct vcpu *v);
/* RIP past the len bytes of an instruction that completed (VMCS loaded). */
void vcpu_advance_rip(uint64_t len);
unsigned vcpu_cpl(void);
enum x86_mode vcpu_mode(void);

/* exit_*.c handlers */
int handle_io(struct vcpu *v, struct vm_exit *x);
void io_complete(struct vcpu *v, const struct vm_exit *x);
int handle_cr(struct vcpu *v, struct vm_exit *x);
int handle_task_switch(struct vcpu *v, struct vm_exit *x);
/* PAE paging's PDPTEs from the table at cr3 into the VMCS, as MOV to CR3 loads them; false
 * (none loaded) where the table is not RAM or an entry sets reserved bits */
bool vcpu_load_pdptes(struct vcpu *v, uint64_t cr3);
int handle_dr(struct vcpu *v, struct vm_exit *x);
uint64_t guest_dr7(struct vcpu *v);
void set_guest_dr7(struct vcpu *v, uint64_t val);
uint64_t guest_gpr(struct vcpu *v, unsigned reg);
void set_guest_gpr(struct vcpu *v, unsigned reg, uint64_t val);
int handle_msr(struct vcpu *v, struct vm_exit *x); /* RDMSR and WRMSR */
int handle_cpuid(struct vcpu *v, struct vm_exit *x);
int handle_xsetbv(struct vcpu *v, struct vm_exit *x);
int handle_ept_violation(struct vcpu *v, struct vm_exit *x);
int handle_ept_misconfig(struct vcpu *v, struct vm_exit *x);

/*
 * gva.c: guest linear to guest physical through the guest's own page tables. Returns 0,
 * 1 with *pf_error set when the guest would take a #PF, or -EFAULT when its tables are not RAM.
 */
int gva_to_gpa(struct vcpu *v, uint64_t gla, bool write, uint64_t *gpa, uint32_t *pf_error);
/* #PF error code bits */
#define PF_P	 1u
#define PF_W	 2u
#define PF_U	 4u
#define PF_RSVD	 8u
#define PF_FETCH 16u
/* A #PF for the guest at gla (CR2), as the CPU raises it. */
void vcpu_inject_pf(struct vcpu *v, uint64_t gla, uint32_t error);
/* gva_to_gpa with the #PF the access takes queued for the guest (returns 1 then). */
int gva_to_gpa_or_pf(struct vcpu *v, uint64_t gla, bool write, uint64_t *gpa);

/* exit_xsetbv.c: XCR0 switch around runs (returns the previous value, 0 without XSAVE) */
uint64_t xcr0_switch(uint64_t to);
bool xcr0_valid(struct vcpu *v, uint64_t val);

/* cpuid.c */
uint64_t guest_xcr0_supported(void);
uint64_t vcpu_xcr0_allowed(struct vcpu *v);
uint64_t vcpu_cr4_allowed(struct vcpu *v);
void vcpu_cpuid_free(struct vcpu *v);

/* fpu.c: extended state around runs (fpu_enter returns the host's XCR0 for fpu_leave) */
void fpu_init_area(uint8_t *area);
uint64_t fpu_enter(struct vcpu *v);
void fpu_leave(struct vcpu *v, uint64_t host_xcr0);

/* exit_msr.c: MSR access with the VMCS loaded; host: a KVM_SET_MSRS write */
bool vcpu_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
bool vcpu_msr_write(struct vcpu *v, uint32_t msr, uint64_t val, bool host);

/* msrs around runs */
void guest_msrs_load(struct vcpu *v);
void guest_msrs_put(struct vcpu *v);

#endif
