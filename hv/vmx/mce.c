/*
 * Machine-check MSRs as KVM keeps them for a guest: MCG_CAP (set up by KVM_X86_SETUP_MCE),
 * MCG_STATUS, MCG_CTL, up to 32 banks of CTL/STATUS/ADDR/MISC and, with MCG_CMCI_P, their
 * CTL2. Errors come only from the VMM (KVM_X86_SET_MCE); they hold what the guest and its VMM
 * write, with KVM's rules.
 */
#include "../platform/x86.h"
#include "../lib/errno.h"
#include "vmx_vm.h"

#define MSR_MCG_CAP    0x179
#define MSR_MCG_STATUS 0x17a
#define MSR_MCG_CTL    0x17b
#define MSR_MC0_CTL    0x400
#define MSR_MC0_CTL2   0x280
#define MCG_CTL_P      (1ULL << 8)
#define MCG_CMCI_P     (1ULL << 10)
#define MCG_SER_P      (1ULL << 24)
#define MCE_CAP_OK     (MCG_CTL_P | MCG_CMCI_P | MCG_SER_P | 0xffULL | 0xff0000ULL)
#define CTL2_CMCI_EN   (1ULL << 30)
#define CTL2_OK	       (CTL2_CMCI_EN | 0x7fff) /* and the threshold */

/* KVM_X86_SETUP_MCE: banks 1-32 and only the capabilities offered; CTLs start all ones. */
int vcpu_setup_mce(struct vcpu *v, uint64_t cap)
{
	unsigned banks = cap & 0xff;

	if (!banks || banks > VCPU_MCE_BANKS || (cap & ~MCE_CAP_OK))
		return -EINVAL;
	v->mcg_cap = cap;
	irqchip_lapic_version(v);
	v->mcg_ctl = (cap & MCG_CTL_P) ? ~0ULL : 0;
	for (unsigned i = 0; i < banks; i++)
		v->mce_banks[4 * i] = ~0ULL, v->mci_ctl2[i] = 0;
	return 0;
}

/* KVM's struct kvm_x86_mce */
struct x86_mce {
	uint64_t status, addr, misc, mcg_status;
	uint8_t bank, pad1[7];
	uint64_t pad2[3];
};

_Static_assert(sizeof(struct x86_mce) == 64, "struct kvm_x86_mce");

#define MCI_STATUS_VAL	   (1ULL << 63)
#define MCI_STATUS_OVER	   (1ULL << 62)
#define MCI_STATUS_UC	   (1ULL << 61)
#define MCI_STATUS_NO_UCNA (1ULL << 57 | 1ULL << 56 | 1ULL << 55) /* PCC, S, AR */
#define MCG_STATUS_MCIP	   (1ULL << 2)

/*
 * KVM_X86_SET_MCE: an error reported into a bank as KVM does: ignored where the guest disabled
 * it; an uncorrected one raises #MC, or shuts the VM down while one is in progress or CR4.MCE
 * is clear; a corrected one only fills the bank (OVER when one is there already). An
 * uncorrected one that needs no action (UCNA) fills the bank and raises the CMCI the guest
 * enabled in the bank's CTL2.
 */
int vcpu_set_mce(struct vcpu *v, void *buf, bool set __unused)
{
	struct x86_mce m;
	uint64_t *bank;

	__builtin_memcpy(&m, buf, sizeof(m));
	if (m.bank >= (v->mcg_cap & 0xff) || !(m.status & MCI_STATUS_VAL))
		return -EINVAL;
	bank = &v->mce_banks[4 * m.bank];
	if (!m.mcg_status && (m.status & (MCI_STATUS_UC | MCI_STATUS_NO_UCNA)) == MCI_STATUS_UC) {
		bank[1] = m.status, bank[2] = m.addr, bank[3] = m.misc;
		v->mcg_status = 0;
		if ((v->mcg_cap & MCG_CMCI_P) && (v->mci_ctl2[m.bank] & CTL2_CMCI_EN))
			irqchip_cmci(v);
		return 0;
	}
	if (((v->mcg_cap & MCG_CTL_P) && v->mcg_ctl != ~0ULL) || bank[0] != ~0ULL)
		return 0;
	if (m.status & MCI_STATUS_UC) {
		vcpu_load(v);
		if ((v->mcg_status & MCG_STATUS_MCIP) || !(guest_cr4() & CR4_MCE))
			v->req_shutdown = true;
		else
			vcpu_queue_exception(v, VEC_MC, false, 0);
		vcpu_put(v);
		if (v->req_shutdown)
			return 0;
		v->mcg_status = m.mcg_status;
	}
	bank[1] = m.status | ((bank[1] & MCI_STATUS_VAL) ? MCI_STATUS_OVER : 0);
	bank[2] = m.addr, bank[3] = m.misc;
	return 0;
}

/* Handled (true, *ok the result) or not a machine-check MSR. */
bool mce_msr(struct vcpu *v, uint32_t msr, uint64_t *val, bool write, bool host, bool *ok)
{
	unsigned off = msr - MSR_MC0_CTL;

	if (!v->vm->kvm_rules)
		return false;
	*ok = true;
	if (msr == MSR_MCG_CAP && !write)
		*val = v->mcg_cap;
	else if (msr == MSR_MCG_STATUS && write)
		v->mcg_status = *val;
	else if (msr == MSR_MCG_STATUS)
		*val = v->mcg_status;
	else if (msr == MSR_MCG_CTL && !(v->mcg_cap & MCG_CTL_P) && (!host || (write && *val)))
		*ok = false; /* as KVM: absent unless MCG_CTL_P, but to user space's 0 */
	else if (msr == MSR_MCG_CTL && write)
		*ok = !*val || *val == ~0ULL, v->mcg_ctl = *ok ? *val : v->mcg_ctl;
	else if (msr == MSR_MCG_CTL)
		*val = v->mcg_ctl;
	else if (msr - MSR_MC0_CTL2 < (v->mcg_cap & 0xff) && !(v->mcg_cap & MCG_CMCI_P) &&
		 (!host || (write && *val)))
		*ok = false; /* CTL2 as MCG_CTL: absent unless MCG_CMCI_P, but to user space's 0 */
	else if (msr - MSR_MC0_CTL2 < (v->mcg_cap & 0xff) && write)
		*ok = !(*val & ~CTL2_OK),
		v->mci_ctl2[msr - MSR_MC0_CTL2] = *ok ? *val : v->mci_ctl2[msr - MSR_MC0_CTL2];
	else if (msr - MSR_MC0_CTL2 < (v->mcg_cap & 0xff))
		*val = v->mci_ctl2[msr - MSR_MC0_CTL2];
	else if (msr < MSR_MC0_CTL || off >= 4 * (v->mcg_cap & 0xff))
		return msr == MSR_MCG_CAP ? (*ok = false, true) : false;
	else if (!write)
		*val = v->mce_banks[off];
	else if (off % 4 == 0 && *val && (*val | 1ULL << 10 | 1) != ~0ULL)
		*ok = false; /* a bank's CTL: 0 or all ones (bit 10 and 0 may be clear, as KVM) */
	else if (off % 4 == 1 && *val && !host)
		*ok = false; /* the guest may only clear a bank's STATUS */
	else
		v->mce_banks[off] = *val;
	return true;
}
