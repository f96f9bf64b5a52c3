/*
 * Hardware task switches (exit reason 9), as the CPU makes them (SDM Vol. 3, 7.3) and KVM emulates
 * them: CALL, JMP and IRET to a 32-bit or 16-bit TSS, and task gates in the IDT (Linux i386's #DF
 * handler). Checks that fail before the old task's state is saved fault in the old task; the new
 * task's segments are checked after, as the CPU does. A virtual-8086 task is an emulation failure.
 */
#include "../platform/x86.h"
#include "insn.h"
#include "vmx_vm.h"

enum { SRC_CALL, SRC_IRET, SRC_JMP, SRC_GATE };
enum { SEG_CS = 1, SEG_SS = 2, SEG_LDTR = 6, SEG_TR = 7 };
enum { VEC_TS = 10, VEC_NP, VEC_SS, VEC_GP };

#define RFLAGS_NT  (1ULL << 14)
#define DESC_BUSY  (1ULL << 41)
#define TSS32_SIZE 0x68

/* a 32-bit TSS's dwords; the switch saves EIP to the last selector */
enum { T_LINK = 0, T_CR3 = 7, T_EIP, T_EFLAGS, T_GPR, T_SEG = T_GPR + 8, T_LDT = T_SEG + 6 };

/* Guest linear memory as the CPU's own accesses see it: 0, 1 with #PF queued, -1 not RAM. */
static int lin_copy(struct vcpu *v, uint64_t lin, void *buf, size_t n, bool write)
{
	for (size_t done = 0, chunk; done < n; done += chunk) {
		uint64_t gpa;
		int rc = gva_to_gpa_or_pf(v, (uint32_t)(lin + done), write, &gpa);
		chunk = MIN(n - done, 4096 - ((lin + done) & 0xfff));
		if (rc || (write ? vcpu_write(v, gpa, (char *)buf + done, chunk)
				 : vcpu_read(v, gpa, (char *)buf + done, chunk)))
			return rc ? rc : -1;
	}
	return 0;
}

/* Word i of a 16-bit TSS as a 32-bit TSS's dword (it has no CR3, FS, GS; IP to DS: 7-20) */
static unsigned dword_of(unsigned i)
{
	return i == 21 ? T_LDT : i < 7 ? i : i + 1;
}

/* The new task's 16-bit TSS, read into t's words, widened in place into a 32-bit one's dwords */
static void widen16(uint32_t *t)
{
	for (int i = 21; i >= 0; i--)
		t[dword_of((unsigned)i)] = ((uint16_t *)t)[i];
	t[T_SEG + 4] = (uint32_t)vmread(VMCS_SEG_SEL(4)); /* FS and GS stay */
	t[T_SEG + 5] = (uint32_t)vmread(VMCS_SEG_SEL(5));
}

/* The old task's state into its TSS (o: in a 32-bit TSS's order) */
static int save_old(struct vcpu *v, uint32_t *o, bool is16)
{
	uint16_t w[14];

	if (!is16)
		return lin_copy(v, vmread(VMCS_SEG_BASE(SEG_TR)) + 4 * T_EIP, &o[T_EIP],
				4 * (T_LDT - T_EIP), true);
	for (unsigned i = 0; i < 14; i++)
		w[i] = (uint16_t)o[dword_of(7 + i)];
	return lin_copy(v, vmread(VMCS_SEG_BASE(SEG_TR)) + 14, w, sizeof(w), true);
}

/* The descriptor of `sel` in the GDT or LDT (*at: its address): 0, 1 (#PF), -1 outside. */
static int descriptor(struct vcpu *v, uint16_t sel, uint64_t *d, uint64_t *at)
{
	bool ldt = sel & 4;
	uint64_t limit = ldt ? vmread(VMCS_SEG_LIMIT(SEG_LDTR)) : vmread(VMCS_GUEST_GDTR_LIMIT);

	if ((ldt && (vmread(VMCS_SEG_AR(SEG_LDTR)) & 0x10000)) || (sel | 7u) > limit)
		return -1;
	*at = (ldt ? vmread(VMCS_SEG_BASE(SEG_LDTR)) : vmread(VMCS_GUEST_GDTR_BASE)) + (sel & ~7u);
	return lin_copy(v, *at, d, 8, false);
}

static uint64_t desc_base(uint64_t d)
{
	return ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
}

static uint32_t desc_limit(uint64_t d)
{
	uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));

	return (d >> 55) & 1 ? limit << 12 | 0xfff : limit;
}

static void load_seg(unsigned idx, uint16_t sel, uint64_t d)
{
	vmwrite(VMCS_SEG_SEL(idx), sel);
	vmwrite(VMCS_SEG_BASE(idx), desc_base(d));
	vmwrite(VMCS_SEG_LIMIT(idx), desc_limit(d));
	vmwrite(VMCS_SEG_AR(idx), d ? (d >> 40) & 0xf0ff : 0x10000); /* null: unusable */
}

/* The new task's LDTR, then segment registers: 0, or a fault's vector (*bad: its selector). */
static int load_segs(struct vcpu *v, const uint32_t *t, uint16_t *bad)
{
	unsigned cpl = t[T_SEG + SEG_CS] & 3;

	for (unsigned i = 0; i < 7; i++) {
		unsigned idx = (i + SEG_LDTR) % 7; /* LDTR first: the others may be in its table */
		uint16_t sel = (uint16_t)t[idx == SEG_LDTR ? T_LDT : T_SEG + idx];
		uint64_t d = 0, at, type, dpl;
		*bad = sel;
		if (!(sel & ~3)) {
			if (idx == SEG_CS || idx == SEG_SS)
				return VEC_TS;
			load_seg(idx, sel, 0);
			continue;
		}
		if ((idx == SEG_LDTR && (sel & 4)) || descriptor(v, sel, &d, &at))
			return VEC_TS;
		type = (d >> 40) & 0x1f; /* S and type */
		dpl = (d >> 45) & 3;
		if (idx == SEG_LDTR ? type != 2
		    : idx == SEG_CS ? (type & 0x18) != 0x18 || (type & 4 ? dpl > cpl : dpl != cpl)
		    : idx == SEG_SS ? (type & 0x1a) != 0x12 || dpl != cpl || (sel & 3) != cpl
				    : !(type & 0x10) || (type & 0x1a) == 0x18 ||
					      ((type & 0x1c) != 0x1c && dpl < MAX(cpl, sel & 3u)))
			return VEC_TS;
		if (!(d & (1ULL << 47)))
			return idx == SEG_SS ? VEC_SS : VEC_NP;
		if ((type & 0x11) == 0x10) { /* code and data: the CPU sets their accessed bit */
			d |= 1ULL << 40;
			lin_copy(v, at, &d, 8, true);
		}
		load_seg(idx, sel, d);
	}
	return 0;
}

/*
 * The switch proper, from the old TSS to `sel`'s, the old EIP `len` bytes on: 0, or -1 for an
 * emulation failure, or a fault's vector (*bad: the selector for its error code).
 */
static int switch_task(struct vcpu *v, unsigned src, uint16_t sel, unsigned len, int64_t err,
		       uint16_t *bad)
{
	uint16_t old_sel = (uint16_t)vmread(VMCS_SEG_SEL(SEG_TR));
	uint64_t d, at, old_d, old_at, rflags = vmread(VMCS_GUEST_RFLAGS), cr0 = guest_cr0();
	bool nested = src == SRC_CALL || src == SRC_GATE, is16;
	uint32_t o[T_LDT], t[TSS32_SIZE / 4];
	int rc;

	*bad = sel;
	if ((sel & 4) || descriptor(v, sel, &d, &at) || (d >> 44 & 1) || ((d >> 40) & 5) != 1)
		return VEC_GP;
	if ((src == SRC_IRET) != !!(d & DESC_BUSY))
		return src == SRC_IRET ? VEC_TS : VEC_GP;
	if (src != SRC_IRET && src != SRC_GATE && MAX(vcpu_cpl(), sel & 3u) > ((d >> 45) & 3))
		return VEC_GP;
	if (!(d >> 47 & 1))
		return VEC_NP;
	is16 = !(d >> 43 & 1);
	if (desc_limit(d) < (is16 ? 0x2b : TSS32_SIZE - 1))
		return VEC_TS;
	if (descriptor(v, old_sel, &old_d, &old_at) ||
	    lin_copy(v, desc_base(d), t, is16 ? 44 : sizeof(t), false))
		return -1;
	if (is16)
		widen16(t);
	if (t[T_EFLAGS] & RFLAGS_VM)
		return -1; /* a virtual-8086 task */
	/* saved: EIP (past the instruction), EFLAGS (NT cleared by IRET), GPRs, selectors */
	o[T_EIP] = (uint32_t)(vmread(VMCS_GUEST_RIP) + len);
	o[T_EFLAGS] = (uint32_t)(src == SRC_IRET ? rflags & ~RFLAGS_NT : rflags);
	for (unsigned i = 0; i < 8; i++)
		o[T_GPR + i] = (uint32_t)guest_gpr(v, i);
	for (unsigned i = 0; i < 6; i++)
		o[T_SEG + i] = (uint32_t)vmread(VMCS_SEG_SEL(i));
	old_d &= src == SRC_IRET || src == SRC_JMP ? ~DESC_BUSY : ~0ULL;
	t[T_LINK] = nested ? old_sel : t[T_LINK];
	d |= DESC_BUSY;
	if (save_old(v, o, !(old_d >> 43 & 1)) || lin_copy(v, old_at, &old_d, 8, true) ||
	    lin_copy(v, desc_base(d), t, is16 ? 2 : 4, true) || lin_copy(v, at, &d, 8, true))
		return -1;
	/* the new task: TR, CR0.TS, CR3 (and PAE's PDPTEs), EIP, EFLAGS, GPRs, segments */
	load_seg(SEG_TR, sel, d);
	vmwrite(VMCS_CR0_SHADOW, cr0 | CR0_TS);
	vmwrite(VMCS_GUEST_CR0, vmcs_cr0_guest_fixed(cr0 | CR0_TS));
	if ((cr0 & CR0_PG) && !is16) {
		vmwrite(VMCS_GUEST_CR3, t[T_CR3]);
		if ((guest_cr4() & CR4_PAE) && !vcpu_load_pdptes(v, t[T_CR3])) {
			*bad = 0; /* #GP as for MOV to CR3, not a failed entry */
			return VEC_GP;
		}
	}
	vmwrite(VMCS_GUEST_RIP, t[T_EIP]);
	vmwrite(VMCS_GUEST_RFLAGS, (t[T_EFLAGS] | 2 | (nested ? RFLAGS_NT : 0)) & 0x3f7fd7);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
		vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~(uint64_t)INTERRUPTIBILITY_SHADOW);
	for (unsigned i = 0; i < 8; i++)
		set_guest_gpr(v, i, t[T_GPR + i]);
	if ((rc = load_segs(v, t, bad)))
		return rc;
	if (err >= 0) { /* an exception's error code goes onto the new task's stack, 2 or 4 bytes */
		uint32_t esp = (uint32_t)vmread(VMCS_GUEST_RSP) - (is16 ? 2 : 4);
		uint64_t gpa;
		vmwrite(VMCS_GUEST_RSP, esp);
		*bad = 0;
		v->late.val = (uint32_t)err;
		if (gva_to_gpa_or_pf(v, (uint32_t)(vmread(VMCS_SEG_BASE(SEG_SS)) + esp), true,
				     &gpa))
			return VEC_SS;
		if (vcpu_write(v, gpa, &v->late.val, is16 ? 2 : 4))
			return v->need_page ? (v->late.gpa = gpa, v->late.len = is16 ? 2 : 4, 0)
					    : VEC_SS;
	}
	return 0;
}

/* The event that went through a task gate is delivered by the switch: it is not re-injected. */
static void event_taken(struct vcpu *v, uint32_t info)
{
	if ((info & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
		v->nmi_pending = false;
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
			vmread(VMCS_GUEST_INTERRUPTIBILITY) | INTERRUPTIBILITY_NMI);
	} else if ((info & INTR_TYPE_MASK) == INTR_TYPE_EXT_INTR &&
		   v->irq_pending == (int)(info & 0xff)) {
		v->irq_pending = -1;
	} else {
		v->exc.valid = false;
	}
}

int handle_task_switch(struct vcpu *v, struct vm_exit *x)
{
	uint32_t info = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO), type = info & INTR_TYPE_MASK;
	unsigned src = (x->qual >> 30) & 3;
	uint16_t sel = x->qual & 0xffff;
	bool event = src == SRC_GATE && (info & INTR_INFO_VALID);
	int64_t err = event && type == INTR_TYPE_HW_EXCEPTION && (info & INTR_INFO_ERROR_CODE)
			      ? (int64_t)vmread(VMCS_IDT_VECTORING_ERROR)
			      : -1;
	/* an instruction (CALL, JMP, IRET, INT n) completes; a hardware event has none */
	bool insn = !event || (type != INTR_TYPE_HW_EXCEPTION && type != INTR_TYPE_EXT_INTR &&
			       type != INTR_TYPE_NMI);
	uint16_t bad;
	int vec;

	if (event)
		event_taken(v, info);
	vec = switch_task(v, src, sel, insn ? (unsigned)vmread(VMCS_EXIT_INSN_LEN) : 0, err, &bad);
	if (vec < 0 && !v->exc.valid) {
		x->kind = VMEXIT_INTERNAL;
		x->fail.code = EXIT_REASON_TASK_SWITCH;
		return EXIT_TO_CALLER;
	}
	if (vec > 0)
		vcpu_queue_exception(v, (uint8_t)vec, true, bad & 0xfffc);
	return EXIT_RESUME;
}
