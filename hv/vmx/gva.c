/* Guest page-table walks (no paging, 32-bit, PAE, 4-level) for emulated accesses. */
#include "../platform/x86.h"
#include "insn.h"
#include "vmx_vm.h"

#define PTE_P	  1ULL
#define PTE_W	  2ULL
#define PTE_U	  4ULL
#define PTE_PS	  0x80ULL
#define ADDR_MASK 0x000ffffffffff000ULL

int gva_to_gpa(struct vcpu *v, uint64_t gla, bool write, uint64_t *gpa, uint32_t *pf_error)
{
	uint64_t cr0 = vmread(VMCS_GUEST_CR0), cr4 = vmread(VMCS_GUEST_CR4);
	bool user = vcpu_cpl() == 3, lma = vmread(VMCS_GUEST_EFER) & EFER_LMA;
	uint32_t err = (write ? PF_W : 0) | (user ? PF_U : 0);
	unsigned levels = lma ? 4 : (cr4 & CR4_PAE) ? 3 : 2, esize = (cr4 & CR4_PAE) ? 8 : 4;
	uint64_t table = vmread(VMCS_GUEST_CR3); /* GPA of the current table */
	uint64_t pte, rsvd = ADDR_MASK & ~((1ULL << vcpu_maxphyaddr(v)) - 1);

	if (!(cr0 & CR0_PG)) {
		*gpa = lma ? gla : (uint32_t)gla;
		return 0;
	}
	if (levels == 3) { /* PAE: the PDPTEs come from the VMCS */
		pte = vmread(VMCS_GUEST_PDPTE0 + 2 * ((gla >> 30) & 3));
		if (!(pte & PTE_P))
			goto fault;
		table = pte & ADDR_MASK;
		levels = 2;
	} else {
		table &= levels == 4 ? ADDR_MASK : 0xfffff000;
	}
	for (unsigned l = levels; l >= 1; l--) {
		unsigned shift = 12 + (esize == 8 ? 9 : 10) * (l - 1);
		unsigned idx = (gla >> shift) & (esize == 8 ? 511 : 1023);
		pte = 0; /* a 4-byte entry fills the low half */
		if (vcpu_read(v, table + idx * esize, &pte, esize))
			return -1;
		if (!(pte & PTE_P))
			goto fault;
		if (esize == 8 && (pte & rsvd)) /* an address past MAXPHYADDR */
			goto reserved;
		if ((write && !(pte & PTE_W) && (user || (cr0 & CR0_WP))) ||
		    (user && !(pte & PTE_U)))
			goto protection;
		bool large = l > 1 && (pte & PTE_PS) && (esize == 8 || (cr4 & CR4_PSE));
		if (l == 1 || large) {
			uint64_t base = esize == 4 && large ? (pte & 0xffc00000) : pte & ADDR_MASK;
			*gpa = (base & ~((1ULL << shift) - 1)) | (gla & ((1ULL << shift) - 1));
			return 0;
		}
		table = pte & (esize == 8 ? ADDR_MASK : 0xfffff000);
	}
reserved: /* each label adds its bits to the next one's (the loop never falls through) */
	err |= PF_RSVD;
protection:
	err |= PF_P;
fault:
	*pf_error = err;
	return 1;
}

void vcpu_inject_pf(struct vcpu *v, uint64_t gla, uint32_t error)
{
	v->gprs.cr2 = gla;
	vcpu_queue_exception(v, 14, true, error);
}

int gva_to_gpa_or_pf(struct vcpu *v, uint64_t gla, bool write, uint64_t *gpa)
{
	uint32_t err;
	int rc = gva_to_gpa(v, gla, write, gpa, &err);

	if (rc == 1)
		vcpu_inject_pf(v, gla, err);
	return rc;
}
