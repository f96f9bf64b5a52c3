/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm_hv: /dev/kvm in dom0, forwarded to the hypervisor (hvabi.h). Shared between the module's
 * files: hvk_main.c (/dev/kvm and the VM fd), hvk_mem.c (memory slots), hvk_vcpu.c (vCPU fd
 * and KVM_RUN), hvk_state.c (register families), hvk_dev.c (device fds), hvk_stats.c (stats),
 * hvk_ioeventfd.c and hvk_coalesced.c (writes that do not reach user space at once).
 */
#ifndef HVK_H
#define HVK_H

#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/io.h>
#include <linux/kref.h>
#include <linux/kvm.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/signal.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "hvabi.h"

#define HVK_MAX_VCPUS 64
#define HVK_MAX_SLOTS 32
#define HVK_RUN_PAGES 2 /* struct kvm_run, then the port I/O data page */
#define HVK_MAX_CPUID 256
#define HVK_MAX_MSRS  256

struct hvk_slot {
	u64 gpa, size, uaddr; /* gpa: the hypervisor's, HV_GPA_SMM set in address space 1 */
	u32 flags;
	/* by page index: each mapped page's frame number << 1, bit 0 writable */
	struct xarray pages;
	unsigned long npages;	    /* 0: no slot */
	unsigned long *module_bits; /* logged: the pages this module wrote (hvk_mark_dirty) */
};

/* The synthetic debugger's MSRs (hvk_synic.c): CONTROL, STATUS, SEND, RECV, PENDING, OPTIONS. */
struct hvk_syndbg {
	u64 control[5], options;
};

/* A VM's partition-wide Hyper-V state (hvk_hyperv.c), under its lock. */
struct hvk_hv {
	struct mutex lock;
	struct hvk_syndbg syndbg;
	u64 guest_os_id, hypercall, tsc_page, reenlightenment;
	u64 tsc_emulation_control, tsc_emulation_status;
	u64 crash[5], crash_ctl;
	struct {
		u32 tsc_sequence; /* 0: not valid, the guest reads the counter MSR */
		u64 tsc_scale;
		s64 tsc_offset;
	} tsc_ref; /* the reference TSC page as last written */
};

/* A vCPU's SynIC and synthetic timers (hvk_synic.c). */
struct hvk_synic {
	bool active, keep_pages; /* KVM_CAP_HYPERV_SYNIC(2); keep: SYNIC2, pages not cleared */
	u64 control, version, evt_page, msg_page, sint[16];
};

#define HV_STIMER_COUNT 4
struct hvk_stimer {
	struct hrtimer timer;
	struct hvk_vcpu *vc;
	u64 config, count, exp_time; /* exp_time: of the reference counter, 0 when not armed */
	bool msg_pending;	     /* expired, its message or interrupt not delivered yet */
};

/* A vCPU's: whether its CPUID is Hyper-V's, the feature bits that gate it, its VP index. */
struct hvk_hv_vcpu {
	bool enabled, enforce; /* enforce: KVM_CAP_HYPERV_ENFORCE_CPUID */
	u32 features_eax, features_ebx, features_edx, recommend_eax, recommend_ebx, syndbg_eax;
	u32 vp_index;
	s64 runtime_offset; /* HV_X64_MSR_VP_RUNTIME minus the thread's run time (100 ns) */
	u64 vp_assist;	    /* HV_X64_MSR_VP_ASSIST_PAGE */
	struct hvk_synic synic;
	struct hvk_stimer stimer[HV_STIMER_COUNT];
	unsigned long stimer_pending; /* timers to look at before the next entry */
	u8 hcall_done;		      /* a hypercall user space has: 1 32-bit, 2 64-bit result */
	bool syndbg_done;	      /* user space answers the debugger's CONTROL with a status */
};

struct hvk_vm {
	struct kref ref;
	long handle;
	struct mm_struct *mm;
	struct mutex lock;			  /* vCPU and device creation, capabilities */
	struct rw_semaphore slots_lock;		  /* KVM_RUN reads, slot changes write */
	struct hvk_slot slots[2 * HVK_MAX_SLOTS]; /* address space 0, then SMM's */
	unsigned int slots_hi[2];		  /* per space: 1 + its highest slot in use */
	struct hvk_vcpu *vcpus[HVK_MAX_VCPUS];
	unsigned int nvcpus;
	u32 max_vcpu_ids; /* KVM_CAP_MAX_VCPU_ID as enabled; 0: the default */
	/*
	 * Where KVM may keep its real-mode TSS and identity page table. Unrestricted guest needs
	 * neither, but the ioctls keep KVM's checks and answers.
	 */
	u64 tss_addr, identity_map_addr;
	unsigned long nr_mmu_pages; /* KVM_SET_NR_MMU_PAGES's; 0: never set */
	bool irqchip, pit;	    /* KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2 done */
	bool split;		    /* the irqchip is KVM_CAP_SPLIT_IRQCHIP's: local APICs only */
	spinlock_t ioevent_lock;    /* KVM_IOEVENTFD's list, read on the exits */
	struct list_head ioeventfds;
	struct list_head zones; /* KVM_REGISTER_COALESCED_MMIO's, under ioevent_lock too */
	unsigned int nzones;
	struct page *ring; /* their struct kvm_coalesced_mmio_ring, mmap()ed with every vCPU */
	struct list_head irqfds; /* KVM_IRQFD's, under ioevent_lock too */
	u8 user_msr_exits;	 /* KVM_CAP_X86_USER_SPACE_MSR's reasons */
	bool platform_info_ok;	 /* KVM_CAP_MSR_PLATFORM_INFO: guests may read it */
	struct hvk_hv hv;
	struct mutex fault_lock; /* maps and unmaps of slot pages, one at a time (hvk_mem.c) */
	struct page *fault_page; /* its frame number for HC_VM_MAP */
	struct mmu_notifier mn;	 /* the host mapping's changes */
	unsigned long mn_seq;	 /* moved by each: a fault that saw another maps nothing */
	int mn_active;		 /* changes under way (or the memory gone) */
};

struct hvk_vcpu {
	struct hvk_vm *vm;
	u32 id;
	struct mutex lock;
	struct page *run_page[HVK_RUN_PAGES]; /* mmap()ed by user space */
	struct page *hv_page; /* exit records and register files exchanged with the hypervisor */
	/* the last exit was an IN or an MMIO read: its data comes back on the next KVM_RUN */
	enum { NOTHING, IO_IN, MMIO_READ, MSR } pending;
	u8 pending_size;
	bool retry;	   /* the last MMIO exit was a slot page now mapped: it runs again */
	bool ran;	   /* the guest ran since its last exit was completed */
	u64 pf[2];	   /* KVM's pf_taken (slot pages faulted in), pf_fixed (of those, mapped) */
	bool no_page;	   /* the last HV_EXIT_NEED_PAGE's GPA is no slot's */
	u16 pending_count; /* elements of a string IN */
	bool has_sigmask;  /* KVM_SET_SIGNAL_MASK: blocked while KVM_RUN runs */
	u32 tsc_khz;	   /* KVM_SET_TSC_KHZ's; 0: the host's */
	wait_queue_head_t wq; /* halted (irqchip): woken by whoever made it runnable */
	bool kicked;
	sigset_t sigmask;
	bool pv_enforce;	   /* KVM_CAP_ENFORCE_PV_FEATURE_CPUID */
	u64 platform_info;	   /* MSR_PLATFORM_INFO, as the host set it */
	u64 feat_ctl;		   /* IA32_FEAT_CTL */
	u64 steal_msr, steal_last; /* MSR_KVM_STEAL_TIME; run delay (ns) at the last update */
	bool steal_update;	   /* update before the next entry */
	u64 smbase;		   /* MSR_IA32_SMBASE (hvk_smm.c) */
	bool smm_inside_nmi;	   /* NMIs were blocked when SMM was entered */
	u64 smi_count;		   /* MSR_SMI_COUNT */
	struct hvk_hv_vcpu hv;
	struct task_struct *task; /* the thread in KVM_RUN, for hvk_kick() */
	/* the exit a Hyper-V MSR asked for, once its WRMSR completed (0: none) */
	u32 deferred_exit;
	union {
		u32 system_event;
		struct kvm_hyperv_exit hyperv;
	} deferred;
};

/* A physically contiguous bounce buffer the hypervisor can read and write. */
void *hvk_buf_alloc(size_t size);
void hvk_buf_free(void *buf, size_t size);

/* hvk_main.c */
long hvk_check_extension(struct hvk_vm *vm, unsigned long cap);
void hvk_vm_put(struct hvk_vm *vm);

/* hvk_mem.c */
long hvk_set_memory_region(struct hvk_vm *vm, void __user *argp);
long hvk_get_dirty_log(struct hvk_vm *vm, void __user *argp);
void hvk_slots_release(struct hvk_vm *vm);
void __user *hvk_gpa_to_user(struct hvk_vm *vm, u64 gpa, u64 len, bool write);
void hvk_mark_dirty(struct hvk_vm *vm, u64 gpa);
long hvk_fault_in(struct hvk_vm *vm, u64 gpa, bool write);
long hvk_mem_init(struct hvk_vm *vm);
void hvk_mem_fini(struct hvk_vm *vm);

/* hvk_msr.c */
unsigned int hvk_msr_list(u32 *out, unsigned int max);
bool hvk_msr_guest(struct hvk_vcpu *vc, u32 msr, bool write, u64 *value, u8 *error);
long hvk_msrs(struct hvk_vcpu *vc, struct kvm_msr_entry *e, unsigned int n, bool set);
void hvk_steal_update(struct hvk_vcpu *vc);

/* hvk_hyperv.c */
long hvk_hv_supported_cpuid(struct hvk_vcpu *vc, struct kvm_cpuid2 __user *user);
void hvk_hv_set_cpuid(struct hvk_vcpu *vc);
long hvk_hv_update_calls(struct hvk_vcpu *vc);
void hvk_hv_clock_set(struct hvk_vm *vm);
bool hvk_hv_has_msr(u32 msr);
unsigned int hvk_hv_msr_list(u32 *out, unsigned int max);
int hvk_hv_msr(struct hvk_vcpu *vc, u32 msr, u64 *data, bool write, bool host);
long hvk_hv_hypercall(struct hvk_vcpu *vc, struct kvm_run *run);
void hvk_hv_enforce(struct hvk_vcpu *vc, bool on);
void hvk_hv_vcpu_init(struct hvk_vcpu *vc);
u64 hvk_hv_ref_counter(struct hvk_vcpu *vc);
void hvk_hv_hcall_done(struct hvk_vcpu *vc, struct kvm_run *run);

/* hvk_synic.c */
bool hvk_synic_has_msr(u32 msr);
bool hvk_synic_msr_allowed(struct hvk_hv_vcpu *h, u32 msr);
int hvk_synic_msr(struct hvk_vcpu *vc, u32 msr, u64 *data, bool write, bool host);
long hvk_synic_activate(struct hvk_vcpu *vc, bool synic2);
void hvk_stimers_process(struct hvk_vcpu *vc);
void hvk_stimers_init(struct hvk_vcpu *vc);
void hvk_stimers_stop(struct hvk_vcpu *vc);

/* hvk_smm.c */
long hvk_smm_exit(struct hvk_vcpu *vc, bool rsm, struct kvm_run *run);

/* hvk_vcpu.c */
long hvk_create_vcpu(struct hvk_vm *vm, unsigned long id);
long hvk_regs(struct hvk_vcpu *vc, unsigned int nr, void *regs, size_t len, bool set);
void hvk_kick(struct hvk_vcpu *vc);
void hvk_vcpu_free(struct hvk_vcpu *vc);

/* hvk_state.c: -ENOIOCTLCMD for an ioctl that is not a register family */
long hvk_state_ioctl(struct hvk_vcpu *vc, unsigned int ioctl, void __user *argp);
long hvk_vcpu_get(struct hvk_vcpu *vc, unsigned int kind, void *buf, unsigned int n);
u32 hvk_cpuid(struct hvk_vcpu *vc, u32 function, unsigned int reg);
void hvk_cpuid_regs(struct hvk_vcpu *vc, const u32 *fn, const unsigned int *reg, u32 *out,
		    unsigned int n);
long hvk_vcpu_set(struct hvk_vcpu *vc, unsigned int kind, void *buf, unsigned int n);
long hvk_dev_state_ioctl(unsigned int ioctl, void __user *argp);
long hvk_get_events(struct hvk_vcpu *vc, struct kvm_vcpu_events *ev);
long hvk_set_events(struct hvk_vcpu *vc, const struct kvm_vcpu_events *ev);

/* hvk_dev.c */
long hvk_create_device(struct hvk_vm *vm, void __user *argp);

/* hvk_irqchip.c */
long hvk_irqchip_vm_ioctl(struct hvk_vm *vm, unsigned int ioctl, void __user *argp);
long hvk_irqchip_split(struct hvk_vm *vm, u64 ioapic_pins);
void hvk_wake(struct hvk_vm *vm, u64 mask);
long hvk_msi(struct hvk_vm *vm, u64 address, u32 data);
void hvk_irq_level(struct hvk_vm *vm, u32 gsi, int level);

/* hvk_irqfd.c */
long hvk_irqfd(struct hvk_vm *vm, void __user *argp);
void hvk_irqfd_resampled(struct hvk_vm *vm, u64 gsis);
void hvk_irqfd_release(struct hvk_vm *vm);

/* hvk_ioeventfd.c */
long hvk_ioeventfd(struct hvk_vm *vm, void __user *argp);
bool hvk_ioeventfd_write(struct hvk_vm *vm, bool pio, u64 addr, u32 len, u64 val);
void hvk_ioeventfd_release(struct hvk_vm *vm);

/* hvk_coalesced.c */
long hvk_coalesced_ioctl(struct hvk_vm *vm, unsigned int ioctl, void __user *argp);
bool hvk_coalesced_write(struct hvk_vm *vm, bool pio, u64 addr, u32 len, u64 val);
void hvk_coalesced_release(struct hvk_vm *vm);

/* hvk_stats.c */
long hvk_vm_stats_fd(struct hvk_vm *vm);
long hvk_vcpu_stats_fd(struct hvk_vcpu *vc);

#endif
