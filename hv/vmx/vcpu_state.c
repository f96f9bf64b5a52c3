/* Segment and control register state of a vCPU: get/set, mode presets, INIT and SIPI. */
#include "../lib/errno.h"
#include "../platform/x86.h"
#include "insn.h"
#include "vmx_vm.h"

#define AR_UNUSABLE (1u << 16)

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };
/* The segments of sregs s in that order, the VMCS's */
#define SEGS(s) &(s)->es, &(s)->cs, &(s)->ss, &(s)->ds, &(s)->fs, &(s)->gs, &(s)->ldt, &(s)->tr

static uint32_t seg_ar(const struct hv_segment *s)
{
	if (s->unusable || !(s->present & 1))
		return AR_UNUSABLE; /* as KVM: a segment not present is not usable */
	return (s->type & 0xf) | (s->s & 1) << 4 | (s->dpl & 3) << 5 | (s->present & 1) << 7 |
	       (s->avl & 1) << 12 | (s->l & 1) << 13 | (s->db & 1) << 14 | (s->g & 1) << 15;
}

static void write_seg(unsigned idx, const struct hv_segment *s)
{
	uint32_t ar = seg_ar(s);

	vmwrite(VMCS_SEG_SEL(idx), s->selector);
	vmwrite(VMCS_SEG_BASE(idx), s->base);
	vmwrite(VMCS_SEG_LIMIT(idx), s->limit);
	/* as KVM with unrestricted guest: the accessed bit set (older user space leaves it clear)
	 */
	vmwrite(VMCS_SEG_AR(idx), ar | (idx != SEG_LDTR && !(ar & AR_UNUSABLE)));
}

static void read_seg(unsigned idx, struct hv_segment *s)
{
	uint32_t ar = (uint32_t)vmread(VMCS_SEG_AR(idx));

	*s = (struct hv_segment){
		.selector = (uint16_t)vmread(VMCS_SEG_SEL(idx)),
		.base = vmread(VMCS_SEG_BASE(idx)),
		.limit = (uint32_t)vmread(VMCS_SEG_LIMIT(idx)),
		.type = ar & 0xf,
		.s = (ar >> 4) & 1,
		.dpl = (ar >> 5) & 3,
		.present = (ar >> 7) & 1,
		.avl = (ar >> 12) & 1,
		.l = (ar >> 13) & 1,
		.db = (ar >> 14) & 1,
		.g = (ar >> 15) & 1,
		.unusable = (ar >> 16) & 1,
	};
}

int vcpu_get_sregs(struct vcpu *v, struct hv_sregs *s)
{
	struct hv_segment *seg[] = {SEGS(s)};

	vcpu_load(v);
	for (unsigned i = 0; i < ARRAY_SIZE(seg); i++)
		read_seg(i, seg[i]);
	s->gdt = (struct hv_dtable){.base = vmread(VMCS_GUEST_GDTR_BASE),
				    .limit = (uint16_t)vmread(VMCS_GUEST_GDTR_LIMIT)};
	s->idt = (struct hv_dtable){.base = vmread(VMCS_GUEST_IDTR_BASE),
				    .limit = (uint16_t)vmread(VMCS_GUEST_IDTR_LIMIT)};
	s->cr0 = guest_cr0();
	s->cr2 = v->gprs.cr2;
	s->cr3 = vmread(VMCS_GUEST_CR3);
	s->cr4 = guest_cr4();
	s->cr8 = vcpu_cr8(v);
	s->efer = vmread(VMCS_GUEST_EFER);
	vcpu_put(v);
	return 0;
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static bool usable(const struct hv_segment *g)
{
	return !g->unusable && (g->present & 1);
}

/*
 * The segment checks of VM entry that no mode can satisfy (KVM lets them through to a failed
 * entry; here KVM_SET_SREGS refuses them): CS a usable code or data segment, the other usable
 * ones code or data too (SS read/write data, code readable), TR a usable TSS, an LDT a system
 * segment, 32-bit bases for CS, SS, DS and ES, limits that fit G. Bits are read as seg_ar()
 * writes them (bit 0 of each flag: S = 2 is a system segment).
 */
static bool segments_valid(const struct hv_sregs *s)
{
	const struct hv_segment *low[] = {&s->cs, &s->ss, &s->ds, &s->es};
	const struct hv_segment *all[] = {SEGS(s)};
	const struct hv_segment *data[] = {&s->ss, &s->ds, &s->es, &s->fs, &s->gs};

	for (unsigned i = 0; i < ARRAY_SIZE(data); i++)
		if (usable(data[i]) && (!(data[i]->s & 1) || (data[i]->type & 10) == 8))
			return false; /* a system segment, or code that cannot be read */
	if (usable(&s->ss) && (s->ss.type | 5) != 7)
		return false; /* SS: read/write data, accessed or not, expand-down or not */

	if (!usable(&s->cs) || !(s->cs.s & 1) || !usable(&s->tr) || (s->tr.s & 1) ||
	    (s->tr.type != 3 && s->tr.type != 11))
		return false;
	if (usable(&s->ldt) && ((s->ldt.s & 1) || s->ldt.type != 2))
		return false;
	for (unsigned i = 0; i < ARRAY_SIZE(low); i++)
		if (usable(low[i]) && (low[i]->base >> 32))
			return false;
	for (unsigned i = 0; i < ARRAY_SIZE(all); i++) /* a limit the granularity can express */
		if (usable(all[i]) && (((all[i]->g & 1) && (all[i]->limit & 0xfff) != 0xfff) ||
				       (!(all[i]->g & 1) && (all[i]->limit >> 20))))
			return false;
	return true;
}

/* Checks what hardware would refuse at entry, so that a bad value gets -EINVAL, not a failed entry.
 */
bool vcpu_sregs_valid(struct vcpu *v, const struct hv_sregs *s)
{
	bool lma = s->efer & EFER_LMA;

	/* EFER bits that exist; paging only with PE; LMA where PG and LME say; PAE in long mode */
	if ((s->efer & ~(EFER_LME | EFER_LMA | EFER_NXE | 1ULL)) ||
	    ((s->cr0 & CR0_PG) && !(s->cr0 & CR0_PE)) ||
	    lma != ((s->cr0 & CR0_PG) && (s->efer & EFER_LME)) || (lma && !(s->cr4 & CR4_PAE)))
		return false;
	if (s->cr4 & (~vcpu_cr4_allowed(v) | (1ULL << 13)))
		return false; /* a bit this vCPU lacks, or VMXE (no nested VMX) */
	if (!segments_valid(s))
		return false;
	if (!canonical(s->fs.base) || !canonical(s->gs.base) || !canonical(s->tr.base) ||
	    !canonical(s->ldt.base) || !canonical(s->gdt.base) || !canonical(s->idt.base))
		return false; /* VM entry checks these whatever the mode */
	return !((s->cr0 >> 32) || (s->cr4 >> 32) || (s->cr3 >> host_maxphyaddr()));
}

bool vcpu_load_pdptes(struct vcpu *v, uint64_t cr3)
{
	uint64_t p[4], rsvd = 0x1e6 | ~((1ULL << vcpu_maxphyaddr(v)) - 1);

	if (vcpu_read(v, cr3 & 0xffffffe0, p, sizeof(p)))
		return false;
	for (unsigned i = 0; i < 4; i++)
		if ((p[i] & 1) && (p[i] & rsvd))
			return false;
	for (unsigned i = 0; i < 4; i++)
		vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, p[i]);
	return true;
}

int vcpu_set_sregs(struct vcpu *v, const struct hv_sregs *s)
{
	const struct hv_segment *seg[] = {SEGS(s)};

	if (!vcpu_sregs_valid(v, s))
		return -EINVAL;
	vcpu_load(v);
	for (unsigned i = 0; i < ARRAY_SIZE(seg); i++)
		write_seg(i, seg[i]);
	vmwrite(VMCS_GUEST_GDTR_BASE, s->gdt.base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, s->gdt.limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, s->idt.base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, s->idt.limit);
	vmwrite(VMCS_CR0_SHADOW, s->cr0);
	vmwrite(VMCS_GUEST_CR0, vmcs_cr0_guest_fixed(s->cr0));
	vmwrite(VMCS_GUEST_CR3, s->cr3);
	vmwrite(VMCS_CR4_SHADOW, s->cr4);
	vmwrite(VMCS_GUEST_CR4, vmcs_cr4_guest_fixed(s->cr4));
	vmwrite(VMCS_GUEST_EFER, s->efer);
	vmcs_set_entry_ia32e(v, s->efer & EFER_LMA);
	if ((s->cr0 & CR0_PG) && (s->cr4 & CR4_PAE) && !(s->efer & EFER_LMA))
		vcpu_load_pdptes(v, s->cr3); /* as KVM: a bad table leaves them as they were */
	v->gprs.cr2 = s->cr2;
	vcpu_set_cr8(v, s->cr8); /* as KVM: its bits 3:0 */
	v->state_changed = true;
	vcpu_put(v);
	return 0;
}

/*
 * CS and SS as VM entry wants them (unrestricted guest): a data CS is read/write (type 3); both
 * DPLs 0 in real mode or with a data CS; else a non-conforming CS at SS's DPL (the CPL), a
 * conforming one not above.
 */
static void fix_cs_ss(bool pe)
{
	uint32_t cs = (uint32_t)vmread(VMCS_SEG_AR(SEG_CS)),
		 ss = (uint32_t)vmread(VMCS_SEG_AR(SEG_SS));
	uint32_t cs_dpl = cs >> 5 & 3, ss_dpl = ss >> 5 & 3, type = cs & 0xf;

	if (!(type & 8))
		type = 3;
	if (!pe || type == 3)
		cs_dpl = ss_dpl = 0;
	else if (type & 4)
		cs_dpl = MIN(cs_dpl, ss_dpl);
	else
		cs_dpl = ss_dpl;
	vmwrite(VMCS_SEG_AR(SEG_CS), (cs & ~0x6fu) | cs_dpl << 5 | type);
	vmwrite(VMCS_SEG_AR(SEG_SS), (ss & ~0x60u) | ss_dpl << 5);
}

/*
 * Before the first entry after the caller changed registers: what the CPU could never hold
 * itself, made as KVM makes it (a 32-bit RIP outside 64-bit code, no VM86 outside protected
 * mode, MOV SS blocking over STI's, no STI blocking with IF clear) rather than a failed entry;
 * in VM86 mode the segments are what the CPU loads there (base selector * 16, limit 0xffff),
 * elsewhere CS and SS as the CPU keeps them.
 */
void vcpu_fix_entry_state(struct vcpu *v)
{
	uint64_t efer = vmread(VMCS_GUEST_EFER), rflags = vmread(VMCS_GUEST_RFLAGS);
	uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);

	v->state_changed = false;
	if (vcpu_mode() != X86_MODE64)
		vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) & 0xffffffffULL);
	if ((rflags & RFLAGS_VM) && (!(guest_cr0() & CR0_PE) || (efer & EFER_LMA)))
		vmwrite(VMCS_GUEST_RFLAGS, rflags &= ~RFLAGS_VM);
	for (unsigned s = SEG_ES; s <= SEG_GS && (rflags & RFLAGS_VM); s++) {
		vmwrite(VMCS_SEG_BASE(s), (vmread(VMCS_SEG_SEL(s)) & 0xffff) << 4);
		vmwrite(VMCS_SEG_LIMIT(s), 0xffff);
		vmwrite(VMCS_SEG_AR(s), 0xf3); /* present, DPL 3, read/write data, accessed */
	}
	if (!(rflags & RFLAGS_VM))
		fix_cs_ss(guest_cr0() & CR0_PE);
	if ((intr & INTERRUPTIBILITY_MOV_SS) || !(rflags & RFLAGS_IF))
		intr &= ~(uint64_t)INTERRUPTIBILITY_STI;
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr);
	if (!(efer & EFER_LMA)) /* PCIDs exist only in IA-32e mode; the guest's shadow keeps it */
		vmwrite(VMCS_GUEST_CR4, vmread(VMCS_GUEST_CR4) & ~CR4_PCIDE);
}

static struct hv_segment flat(uint16_t sel, uint8_t type, bool code64, bool big)
{
	return (struct hv_segment){
		.selector = sel,
		.base = 0,
		.limit = big ? 0xffffffff : 0xffff,
		.type = type,
		.s = 1,
		.present = 1,
		.db = big && !code64,
		.l = code64,
		.g = big,
	};
}

/* A preset: the data segments all DS, a busy 16-bit TSS, 64 KiB GDT and IDT at 0; then r. */
static int set_preset(struct vcpu *v, struct hv_sregs *s, const struct vcpu_regs *r)
{
	s->es = s->fs = s->gs = s->ss = s->ds;
	s->tr = (struct hv_segment){.limit = 0xffff, .type = 0xb, .present = 1};
	s->gdt = s->idt = (struct hv_dtable){.limit = 0xffff};
	return vcpu_set_sregs(v, s) ?: vcpu_set_regs(v, r);
}

int vcpu_set_mode(struct vcpu *v, enum vcpu_mode mode, uint64_t rip, uint64_t rsp, uint64_t cr3)
{
	bool big = mode != VCPU_REAL, lm = mode == VCPU_LONG64;
	struct hv_sregs s = {
		.cs = flat(big ? 0x08 : 0, 0xb, lm, big),
		.ds = flat(big ? 0x10 : 0, 0x3, false, big),
		.ldt = {.unusable = 1},
		.cr0 = CR0_ET | (big ? CR0_PE : 0) | (lm ? CR0_PG : 0),
		.cr3 = lm ? cr3 : 0,
		.cr4 = lm ? CR4_PAE : 0,
		.efer = lm ? EFER_LME | EFER_LMA : 0,
	};

	return set_preset(v, &s, &(struct vcpu_regs){.rip = rip, .rsp = rsp, .rflags = 2});
}

/* INIT: the state of SDM vol. 3 table 10-1, then wait for a SIPI (vCPU 0 restarts at once). */
void vcpu_init_signal(struct vcpu *v)
{
	struct hv_sregs s = {
		.cs = flat(0xf000, 0xb, false, false),
		.ds = flat(0, 3, false, false),
		.ldt = {.limit = 0xffff, .type = 2, .present = 1},
		.cr0 = CR0_ET | CR0_CD | CR0_NW,
	};

	s.cs.base = 0xffff0000;
	set_preset(v, &s, &(struct vcpu_regs){.rip = 0xfff0, .rflags = 2, .rdx = 0x600});
	v->exc.valid = false;
	v->nmi_pending = v->smi_pending = false;
	v->irq_pending = -1;
	v->io_pending = v->mmio_pending = false;
	v->msr_pending = v->mmio_wb_len = 0;
	v->pvclock = v->pv_eoi = 0; /* as KVM: no page of the old OS written after INIT */
	v->halted = false; /* an AP the firmware parked in HLT waits for its SIPI instead */
	v->wait_sipi = v->id != v->vm->bsp_id;
}

void vcpu_sipi(struct vcpu *v, uint8_t vector)
{
	struct hv_sregs s;
	struct vcpu_regs r;

	if (!v->wait_sipi)
		return; /* SIPIs are ignored unless the vCPU waits for one */
	vcpu_get_sregs(v, &s);
	s.cs.selector = (uint16_t)(vector << 8);
	s.cs.base = (uint64_t)vector << 12;
	vcpu_set_sregs(v, &s);
	vcpu_get_regs(v, &r);
	r.rip = 0;
	vcpu_set_regs(v, &r);
	v->wait_sipi = false;
}
