/* Guest page-table walks (no paging, 32-bit, PAE, 4-level) for emulated accesses. */
#include "../platform/x86.h"
#include "insn.h"
#include "vmx_vm.h"

#define PTE_P	  1ULL
#define PTE_W	  2ULL
#define PTE_U	  4ULL
#define PTE_PS	  0x80ULL
#define ADDR_MASK 0x000ffffffffff000ULL

struct walk {
	unsigned levels, entry_size;
	uint64_t table; /* GPA of the current table */
};

int gva_to_gpa(struct vcpu *v, uint64_t gla, bool write, uint64_t *gpa, uint32_t *pf_error)
{
	uint64_t cr0 = vmread(VMCS_GUEST_CR0), cr4 = vmread(VMCS_GUEST_CR4);
	bool user = vcpu_cpl() == 3, lma = vmread(VMCS_GUEST_EFER) & EFER_LMA;
	uint32_t err = (write ? PF_W : 0) | (user ? PF_U : 0);
	struct walk w = {lma		   ? 4
			 : (cr4 & CR4_PAE) ? 3
					   : 2,
			 (cr4 & CR4_PAE) ? 8 : 4, vmread(VMCS_GUEST_CR3)};
	uint64_t pte, rsvd = ADDR_MASK & ~((1ULL << vcpu_maxphyaddr(v)) - 1);

	if (!(cr0 & CR0_PG)) {
		*gpa = lma ? gla : (uint32_t)gla;
		return 0;
	}
	if (w.levels == 3) { /* PAE: the PDPTEs come from the VMCS */
		pte = vmread(VMCS_GUEST_PDPTE0 + 2 * ((gla >> 30) & 3));
		if (!(pte & PTE_P))
			goto fault;
		w.table = pte & ADDR_MASK;
		w.levels = 2;
	} else {
		w.table &= w.levels == 4 ? ADDR_MASK : 0xfffff000;
	}
	for (unsigned l = w.levels; l >= 1; l--) {
		unsigned shift = 12 + (w.entry_size == 8 ? 9 : 10) * (l - 1);
		unsigned idx = (gla >> shift) & (w.entry_size == 8 ? 511 : 1023);
		pte = 0; /* a 4-byte entry fills the low half */
		if (vcpu_read(v, w.table + idx * w.entry_size, &pte, w.entry_size))
			return -1;
		if (!(pte & PTE_P))
			goto fault;
		if (w.entry_size == 8 && (pte & rsvd)) /* an address past MAXPHYADDR */
			goto reserved;
		if ((write && !(pte & PTE_W) && (user || (cr0 & CR0_WP))) ||
		    (user && !(pte & PTE_U)))
			goto protection;
		bool large = l > 1 && (pte & PTE_PS) && (w.entry_size == 8 || (cr4 & CR4_PSE));
		if (l == 1 || large) {
			uint64_t base =
				w.entry_size == 4 && large ? (pte & 0xffc00000) : pte & ADDR_MASK;
			*gpa = (base & ~((1ULL << shift) - 1)) | (gla & ((1ULL << shift) - 1));
			return 0;
		}
		w.table = pte & (w.entry_size == 8 ? ADDR_MASK : 0xfffff000);
	}
fault:
	*pf_error = err;
	return 1;
protection:
	*pf_error = err | PF_P;
	return 1;
reserved:
	*pf_error = err | PF_P | PF_RSVD;
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
