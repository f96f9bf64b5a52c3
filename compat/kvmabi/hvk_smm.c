// SPDX-License-Identifier: GPL-2.0
/*
 * System management mode, done here as KVM does it in the host kernel. The hypervisor keeps SMM's
 * address space (KVM's address space 1, HV_GPA_SMM) and stops the vCPU when it is to take an SMI
 * or executes RSM in SMM (HV_EXIT_SMM); this file moves the vCPU's state into or out of the
 * state-save map at SMBASE + 0xfe00 in SMM's memory, in KVM's layouts (64-bit when the vCPU's
 * CPUID has long mode, else 32-bit), and sets the state SMM starts in: real-address mode, CS
 * base SMBASE, RIP 0x8000.
 */
#include <linux/uaccess.h>

#include "hvk.h"

#define SMM_REVISION_64 0x00020064
#define SMM_REVISION_32 0x00020000

struct smm_seg {
	u16 selector, flags; /* flags: the descriptor's bits 23:8 */
	u32 limit;
	u64 base;
};

/* The 64-bit state-save map, at SMBASE + 0xfe00 (offsets from SMBASE + 0x8000). */
struct smm_map64 {
	struct smm_seg seg[6]; /* 0x7e00: ES, CS, SS, DS, FS, GS */
	u32 pad0, gdt_limit;   /* 0x7e60 */
	u64 gdt_base;
	struct smm_seg ldt;  /* 0x7e70 */
	u32 pad1, idt_limit; /* 0x7e80 */
	u64 idt_base;
	struct smm_seg tr; /* 0x7e90 */
	u8 pad2[0x30];
	u64 efer; /* 0x7ed0 */
	u8 pad3[0x24];
	u32 revision, smbase; /* 0x7efc */
	u8 pad4[0x44];
	u64 cr4, cr3, cr0, dr7, dr6; /* 0x7f48 */
	u32 rflags, pad5;	     /* 0x7f70 */
	u64 rip;
	u64 gpr[16]; /* 0x7f80: R15 first, RAX last */
} __packed;

struct smm_seg32 {
	u32 flags, limit, base; /* flags: the descriptor's bits 23:8, in place */
};

/* The 32-bit one, for a vCPU without long mode in its CPUID. */
struct smm_map32 {
	u8 pad0[0xf8];
	u32 smbase, revision; /* 0x7ef8 */
	u8 pad1[0x14];
	u32 cr4; /* 0x7f14 */
	u8 pad2[0x14];
	struct smm_seg32 seg_hi[3]; /* 0x7f2c: DS, FS, GS */
	u32 pad3, idt_limit, idt_base;
	struct smm_seg32 tr; /* 0x7f5c */
	u8 pad4[8];
	u32 gdt_limit, gdt_base;    /* 0x7f70 */
	struct smm_seg32 ldt;	    /* 0x7f78 */
	struct smm_seg32 seg_lo[3]; /* 0x7f84: ES, CS, SS */
	u32 selector[6];	    /* 0x7fa8 */
	u32 ldt_selector, tr_selector, dr7, dr6;
	u32 gpr[8]; /* 0x7fd0: EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI */
	u32 eip, eflags, cr3, cr0;
} __packed;

union smm_map {
	struct smm_map64 m64;
	struct smm_map32 m32;
};

static_assert(sizeof(struct smm_map64) == 512 && offsetof(struct smm_map64, efer) == 0xd0 &&
	      offsetof(struct smm_map64, cr4) == 0x148 && sizeof(struct smm_map32) == 512 &&
	      offsetof(struct smm_map32, seg_hi) == 0x12c && offsetof(struct smm_map32, dr7) == 0x1c8);

/* The CPU's number of each of struct kvm_regs' first 16 words (RAX, RCX, RDX, RBX, RSP...). */
static const u8 cpu_num[16] = {0, 3, 1, 2, 6, 7, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15};

struct smm_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	u64 dr[6]; /* HV_STATE_DEBUGREGS: DR0-3, DR6, DR7 */
	struct hv_events ev;
	bool lm; /* the vCPU's CPUID has long mode: the 64-bit map */
};

/* The maps' segment order (the CPU's register numbers) in struct kvm_sregs. */
static struct kvm_segment *sreg(struct kvm_sregs *s, int n)
{
	struct kvm_segment *order[6] = {&s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs};

	return order[n];
}

static u16 seg_flags(const struct kvm_segment *s)
{
	return s->type | s->s << 4 | s->dpl << 5 | s->present << 7 | s->avl << 12 | s->l << 13 |
	       s->db << 14 | s->g << 15;
}

static void save_seg(struct smm_seg *m, const struct kvm_segment *s)
{
	*m = (struct smm_seg){s->selector, seg_flags(s), s->limit, s->base};
}

static void save_seg32(struct smm_seg32 *m, u32 *selector, const struct kvm_segment *s)
{
	*m = (struct smm_seg32){seg_flags(s) << 8, s->limit, s->base};
	*selector = s->selector;
}

/* As KVM's RSM reads a segment back: a 20-bit limit scaled by G; not present is unusable. */
static void load_seg(struct kvm_segment *s, u16 selector, u16 flags, u32 limit, u64 base)
{
	limit &= 0xfffff;
	*s = (struct kvm_segment){
		.base = base,
		.limit = flags & 0x8000 ? limit << 12 | 0xfff : limit,
		.selector = selector,
		.type = flags & 15,
		.s = flags >> 4 & 1,
		.dpl = flags >> 5 & 3,
		.present = flags >> 7 & 1,
		.avl = flags >> 12 & 1,
		.l = flags >> 13 & 1,
		.db = flags >> 14 & 1,
		.g = flags >> 15 & 1,
		.unusable = !(flags >> 7 & 1),
	};
}

static void save_map64(struct smm_map64 *m, struct smm_state *st, u64 smbase)
{
	const u64 *r = &st->regs.rax;
	int i;

	for (i = 0; i < 16; i++)
		m->gpr[15 - cpu_num[i]] = r[i];
	m->rip = st->regs.rip;
	m->rflags = st->regs.rflags;
	m->dr6 = st->dr[4];
	m->dr7 = st->dr[5];
	m->cr0 = st->sregs.cr0;
	m->cr3 = st->sregs.cr3;
	m->cr4 = st->sregs.cr4;
	m->smbase = smbase;
	m->revision = SMM_REVISION_64;
	m->efer = st->sregs.efer;
	save_seg(&m->tr, &st->sregs.tr);
	save_seg(&m->ldt, &st->sregs.ldt);
	m->idt_limit = st->sregs.idt.limit;
	m->idt_base = st->sregs.idt.base;
	m->gdt_limit = st->sregs.gdt.limit;
	m->gdt_base = st->sregs.gdt.base;
	for (i = 0; i < 6; i++)
		save_seg(&m->seg[i], sreg(&st->sregs, i));
}

static void save_map32(struct smm_map32 *m, struct smm_state *st, u64 smbase)
{
	const u64 *r = &st->regs.rax;
	int i;

	for (i = 0; i < 8; i++)
		m->gpr[cpu_num[i]] = r[i];
	m->eip = st->regs.rip;
	m->eflags = st->regs.rflags;
	m->dr6 = st->dr[4];
	m->dr7 = st->dr[5];
	m->cr0 = st->sregs.cr0;
	m->cr3 = st->sregs.cr3;
	m->cr4 = st->sregs.cr4;
	m->smbase = smbase;
	m->revision = SMM_REVISION_32;
	save_seg32(&m->tr, &m->tr_selector, &st->sregs.tr);
	save_seg32(&m->ldt, &m->ldt_selector, &st->sregs.ldt);
	m->idt_limit = st->sregs.idt.limit;
	m->idt_base = st->sregs.idt.base;
	m->gdt_limit = st->sregs.gdt.limit;
	m->gdt_base = st->sregs.gdt.base;
	for (i = 0; i < 6; i++)
		save_seg32(i < 3 ? &m->seg_lo[i] : &m->seg_hi[i - 3], &m->selector[i],
			   sreg(&st->sregs, i));
}

/* The state RSM restores (and SMBASE); CR2, CR8, the APIC base and DR0-3 stay as SMM left them. */
static u64 load_map64(struct smm_state *st, const struct smm_map64 *m)
{
	u64 *r = &st->regs.rax;
	int i;

	for (i = 0; i < 16; i++)
		r[i] = m->gpr[15 - cpu_num[i]];
	st->regs.rip = m->rip;
	st->regs.rflags = m->rflags | X86_EFLAGS_FIXED;
	st->dr[4] = m->dr6;
	st->dr[5] = m->dr7;
	st->sregs.cr0 = m->cr0;
	st->sregs.cr3 = m->cr3;
	st->sregs.cr4 = m->cr4;
	st->sregs.efer = m->efer & ~EFER_LMA;
	if ((m->efer & EFER_LME) && (m->cr0 & X86_CR0_PG))
		st->sregs.efer |= EFER_LMA; /* as CR0.PG sets it under LME */
	load_seg(&st->sregs.tr, m->tr.selector, m->tr.flags, m->tr.limit, m->tr.base);
	load_seg(&st->sregs.ldt, m->ldt.selector, m->ldt.flags, m->ldt.limit, m->ldt.base);
	st->sregs.idt = (struct kvm_dtable){.base = m->idt_base, .limit = m->idt_limit};
	st->sregs.gdt = (struct kvm_dtable){.base = m->gdt_base, .limit = m->gdt_limit};
	for (i = 0; i < 6; i++)
		load_seg(sreg(&st->sregs, i), m->seg[i].selector, m->seg[i].flags, m->seg[i].limit,
			 m->seg[i].base);
	return m->smbase;
}

/* EFER and R8-R15 stay; the eight others are the map's, zero-extended. */
static u64 load_map32(struct smm_state *st, const struct smm_map32 *m)
{
	u64 *r = &st->regs.rax;
	int i;

	for (i = 0; i < 8; i++)
		r[i] = m->gpr[cpu_num[i]];
	st->regs.rip = m->eip;
	st->regs.rflags = m->eflags | X86_EFLAGS_FIXED;
	st->dr[4] = m->dr6;
	st->dr[5] = m->dr7;
	st->sregs.cr0 = m->cr0;
	st->sregs.cr3 = m->cr3;
	st->sregs.cr4 = m->cr4;
	load_seg(&st->sregs.tr, m->tr_selector, m->tr.flags >> 8, m->tr.limit, m->tr.base);
	load_seg(&st->sregs.ldt, m->ldt_selector, m->ldt.flags >> 8, m->ldt.limit, m->ldt.base);
	st->sregs.idt = (struct kvm_dtable){.base = m->idt_base, .limit = m->idt_limit};
	st->sregs.gdt = (struct kvm_dtable){.base = m->gdt_base, .limit = m->gdt_limit};
	for (i = 0; i < 6; i++) {
		const struct smm_seg32 *s = i < 3 ? &m->seg_lo[i] : &m->seg_hi[i - 3];

		load_seg(sreg(&st->sregs, i), m->selector[i], s->flags >> 8, s->limit, s->base);
	}
	return m->smbase;
}

/* The vCPU's state through one bounce page: regs, sregs, debug registers, events. */
static long state_move(struct hvk_vcpu *vc, struct smm_state *st, bool set)
{
	u64 *dr = hvk_buf_alloc(PAGE_SIZE);
	long rc;

	if (!dr)
		return -ENOMEM;
	if (set) { /* events first: the address space and NMI blocking, before CR3's PDPTEs */
		memcpy(dr, &st->ev, sizeof(st->ev));
		rc = hvk_vcpu_set(vc, HV_STATE_EVENTS, dr, 1);
		memcpy(dr, st->dr, sizeof(st->dr));
		rc = rc ?: hvk_vcpu_set(vc, HV_STATE_DEBUGREGS, dr, 1);
		rc = rc ?: hvk_regs(vc, HC_VCPU_SET_SREGS, &st->sregs, sizeof(st->sregs), true);
		rc = rc ?: hvk_regs(vc, HC_VCPU_SET_REGS, &st->regs, sizeof(st->regs), true);
	} else {
		rc = hvk_regs(vc, HC_VCPU_GET_REGS, &st->regs, sizeof(st->regs), false);
		rc = rc ?: hvk_regs(vc, HC_VCPU_GET_SREGS, &st->sregs, sizeof(st->sregs), false);
		if (!rc && (rc = hvk_vcpu_get(vc, HV_STATE_DEBUGREGS, dr, 1)) >= 0)
			memcpy(st->dr, dr, sizeof(st->dr));
		if (rc >= 0 && (rc = hvk_vcpu_get(vc, HV_STATE_EVENTS, dr, 1)) >= 0)
			memcpy(&st->ev, dr, sizeof(st->ev));
		rc = min(rc, 0L);
		st->lm = hvk_cpuid(vc, 0x80000001, 3) & BIT(29);
	}
	hvk_buf_free(dr, PAGE_SIZE);
	return rc;
}

/* The map in SMM's memory, read or written through user space's mapping of its slot. */
static long map_copy(struct hvk_vcpu *vc, union smm_map *m, bool write)
{
	u64 gpa = ((u64)vc->smbase + 0xfe00) | HV_GPA_SMM;
	void __user *p;
	long rc = -EFAULT;

	down_read(&vc->vm->slots_lock);
	p = hvk_gpa_to_user(vc->vm, gpa, sizeof(*m), write);
	if (p)
		rc = write ? copy_to_user(p, m, sizeof(*m)) : copy_from_user(m, p, sizeof(*m));
	if (p && write)
		hvk_mark_dirty(vc->vm, gpa);
	up_read(&vc->vm->slots_lock);
	return rc ? -EFAULT : 0;
}

/* KVM's enter_smm(): the state saved, then real-address mode at SMBASE:8000, NMIs blocked. */
static long enter_smm(struct hvk_vcpu *vc, struct smm_state *st, union smm_map *m)
{
	struct kvm_segment seg = {.limit = 0xffffffff, .type = 3, .s = 1, .present = 1, .g = 1};
	long rc = state_move(vc, st, false);
	int i;

	if (rc)
		return rc;
	if (st->lm)
		save_map64(&m->m64, st, vc->smbase);
	else
		save_map32(&m->m32, st, vc->smbase);
	map_copy(vc, m, true); /* as KVM, a map outside SMM's memory is not written */
	vc->smm_inside_nmi = st->ev.nmi_masked;
	vc->smi_count++;
	st->ev.smm = HV_SMM_IN | (st->ev.smm & HV_SMM_LATCHED_INIT);
	st->ev.nmi_masked = 1;
	st->regs.rip = 0x8000;
	st->regs.rflags = X86_EFLAGS_FIXED;
	st->dr[5] = 0x400; /* DR7's fixed bit alone */
	st->sregs.cr0 &= ~(u64)(X86_CR0_PE | X86_CR0_EM | X86_CR0_TS | X86_CR0_PG);
	st->sregs.cr4 = 0;
	if (st->lm)
		st->sregs.efer = 0;
	st->sregs.idt = (struct kvm_dtable){};
	for (i = 0; i < 6; i++)
		*sreg(&st->sregs, i) = seg;
	st->sregs.cs.selector = vc->smbase >> 4 & 0xffff;
	st->sregs.cs.base = vc->smbase;
	return state_move(vc, st, true);
}

/* KVM's RSM: the saved state back, NMIs unblocked unless they were blocked at the SMI. */
static long leave_smm(struct hvk_vcpu *vc, struct smm_state *st, union smm_map *m)
{
	long rc = state_move(vc, st, false);

	if (rc)
		return rc;
	if (map_copy(vc, m, false))
		return -EFAULT;
	vc->smbase = st->lm ? load_map64(st, &m->m64) : load_map32(st, &m->m32);
	st->ev.smm &= ~HV_SMM_IN;
	st->ev.nmi_masked = vc->smm_inside_nmi;
	vc->smm_inside_nmi = false;
	return state_move(vc, st, true) ? -EINVAL : 0;
}

/*
 * HV_EXIT_SMM: 1 to run on, or KVM_RUN's result with kvm_run filled. A state RSM cannot load
 * is a triple fault (KVM_EXIT_SHUTDOWN); a map it cannot read, an emulation failure.
 */
long hvk_smm_exit(struct hvk_vcpu *vc, bool rsm, struct kvm_run *run)
{
	struct {
		struct smm_state st;
		union smm_map m;
	} *b = kzalloc(sizeof(*b), GFP_KERNEL);
	long rc;

	if (!b)
		return -ENOMEM;
	rc = rsm ? leave_smm(vc, &b->st, &b->m) : enter_smm(vc, &b->st, &b->m);
	kfree(b);
	if (rc == -EINVAL) {
		run->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	}
	if (rc == -EFAULT) {
		run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
		run->internal = (typeof(run->internal)){.suberror = KVM_INTERNAL_ERROR_EMULATION};
		return 0;
	}
	return rc ?: 1;
}
