/* State shared by the dom0 files: dom0.c (boot, run), dom0_mem.c (memory), dom0_io.c (traps). */
#ifndef HV_DOM0_PRIV_H
#define HV_DOM0_PRIV_H

#include "../platform/mb2.h"
#include "../platform/percpu.h"
#include "../vmx/vm.h"
#include "pvh.h"

#define BOOTINFO_PAGES 3

/* What the boot CPU tells an AP about dom0's INIT and SIPI for it. */
struct ap_mailbox {
	volatile bool init;
	volatile int sipi; /* vector, -1 until one arrives */
};

struct dom0_state {
	struct vm *vm;
	struct vcpu *vcpus[MAX_CPUS];
	struct ap_mailbox mbox[MAX_CPUS];
	uint64_t *owned; /* bitmap of the frames that are dom0's */
	uint64_t nframes;
	uint64_t scratch; /* stands in for every hypervisor frame */
	uint64_t lapic;
};

extern struct dom0_state d0;

/* dom0_mem.c: which frames are dom0's, its kernel, boot information and EPT */
void dom0_own(uint64_t base, uint64_t end);
void dom0_mem_init(void);
uint32_t dom0_load_kernel(struct boot_info *bi);
void dom0_split_memory(const struct boot_info *bi, uint64_t pool);
/* Fills the boot information at pa; returns its hvm_start_info's address or, for a bzImage,
 * its boot_params'. */
uint64_t dom0_build_bootinfo(const struct boot_info *bi, uint64_t pa);
extern struct pvh_image dom0_kernel; /* dom0_load_kernel's */
void dom0_build_ept(const struct boot_info *bi);
void dom0_must(int rc, const char *what);

/* dom0_io.c: the few ports, MMIO and MSRs the hypervisor traps for dom0 */
void dom0_setup_vm(void);
void dom0_port_passthrough(struct vm_exit *x);
void dom0_msr(struct vm_exit *x);

#endif
