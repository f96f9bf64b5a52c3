/*
 * Local APIC model (Intel SDM vol. 3, "Advanced Programmable Interrupt Controller"): the
 * register page of KVM_GET_LAPIC is the state; PPR is kept up to date in it, the current count
 * is computed from the VM clock. Version 0x14, six LVTs by default (the caller sets the
 * version: seven with CMCI, directed EOI); SVR's EOI-broadcast suppression bit is only stored
 * (where the version offers it), no focus processor checking beyond storing SVR bit 9.
 * IPIs leave at once through env->deliver (delivery status always idle); a self-IPI too.
 * Errors accumulate until an ESR write latches them; each raises the LVT error interrupt.
 * Simplifications: the timer keeps counting with a new divider from its current count; timer
 * mode 3 (reserved) counts as one-shot; APR and RRD read 0.
 */
#include "vlapic_priv.h"

#define VERSION	     0x00050014u /* version 0x14, max LVT entry 5 */
#define DIRECTED_EOI (1u << 24)
#define SVR_ENABLE   (1u << 8)
#define LVT_STATUS   (1u << 12) /* delivery status: read-only, always idle here */
#define LINT_RIRR    (1u << 14) /* remote IRR: read-only */
enum { ESR_SEND_ILLEGAL = 1 << 5, ESR_RECV_ILLEGAL = 1 << 6, ESR_ILLEGAL_REG = 1 << 7 };

/* Register attributes: readable, writable, writable in xAPIC mode only, xAPIC/x2APIC only. */
enum { RD = 1, WR = 2, WR1 = 4, X1 = 8, X2 = 16 };
#define ICR_BUSY	0x1000u	    /* delivery status: reads 0 here, ignored when written */
#define X2_ICR_RESERVED 0xfff32000u /* x2APIC ICR bits 31:20, 17:16 and 13: #GP when set */

struct reg_info {
	uint8_t flags;
	uint32_t mask; /* writable bits (xAPIC); in x2APIC other bits but `ro` are #GP */
	uint32_t ro;
};

/* By offset / 16; ISR, TMR and IRR (0x10-0x27) are read-only, absent entries reserved. */
static const struct reg_info reg_table[64] = {
	[0x02] = {RD | WR1, 0xff000000, 0},
	[0x03] = {RD, 0, 0},
	[0x08] = {RD | WR, 0xff, 0},
	[0x09] = {RD | X1, 0, 0}, /* APR */
	[0x0a] = {RD, 0, 0},
	[0x0b] = {WR, 0, 0},
	[0x0c] = {RD | X1, 0, 0}, /* RRD */
	[0x0d] = {RD | WR1, 0xff000000, 0},
	[0x0e] = {RD | WR | X1, 0xf0000000, 0},
	[0x0f] = {RD | WR, 0x13ff, 0},
	[0x28] = {RD | WR, 0xff, 0}, /* ESR: a write latches, its value is ignored */
	[0x2f] = {RD | WR, 0x107ff, LVT_STATUS},
	[0x30] = {RD | WR, ~ICR_BUSY, 0}, /* kept as written, as KVM keeps it */
	[0x31] = {RD | WR | X1, 0xff000000, 0},
	[0x32] = {RD | WR, 0x700ff, LVT_STATUS},
	[0x33] = {RD | WR, 0x107ff, LVT_STATUS},
	[0x34] = {RD | WR, 0x107ff, LVT_STATUS},
	[0x35] = {RD | WR, 0x1a7ff, LVT_STATUS | LINT_RIRR},
	[0x36] = {RD | WR, 0x1a7ff, LVT_STATUS | LINT_RIRR},
	[0x37] = {RD | WR, 0x100ff, LVT_STATUS},
	[0x38] = {RD | WR, 0xffffffff, 0},
	[0x39] = {RD, 0, 0},
	[0x3e] = {RD | WR, 0xb, 0},
	[0x3f] = {WR | X2, 0xff, 0},
};

static const uint16_t lvts[] = {REG_CMCI, REG_LVTT, 0x330, 0x340, REG_LINT0, REG_LINT1, REG_LVTE};

static struct reg_info reg_info(unsigned idx)
{
	if (idx >= 0x10 && idx < 0x28)
		return (struct reg_info){RD, 0, 0};
	return idx < ARRAY_SIZE(reg_table) ? reg_table[idx] : (struct reg_info){0, 0, 0};
}

static bool reg_exists(struct reg_info r, bool x2)
{
	return r.flags && !(r.flags & (x2 ? X1 : X2));
}

/* 256-bit registers: eight words 16 bytes apart. */
static bool vec_test(const struct vlapic *l, unsigned base, unsigned v)
{
	return vlapic_reg(l, base + (v >> 5) * 16) >> (v & 31) & 1;
}

static void vec_set(struct vlapic *l, unsigned base, unsigned v, bool on)
{
	unsigned off = base + (v >> 5) * 16;
	uint32_t bit = 1u << (v & 31);

	vlapic_set_reg(l, off, on ? vlapic_reg(l, off) | bit : vlapic_reg(l, off) & ~bit);
}

static int vec_highest(const struct vlapic *l, unsigned base)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w = vlapic_reg(l, base + (unsigned)i * 16);

		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

enum vlapic_mode vlapic_mode(const struct vlapic *l)
{
	if (!(l->apic_base & VLAPIC_BASE_EN))
		return VLAPIC_DISABLED;
	return (l->apic_base & VLAPIC_BASE_EXTD) ? VLAPIC_X2APIC : VLAPIC_XAPIC;
}

static bool is_x2(const struct vlapic *l)
{
	return vlapic_mode(l) == VLAPIC_X2APIC;
}

static bool sw_enabled(const struct vlapic *l)
{
	return vlapic_reg(l, REG_SVR) & SVR_ENABLE;
}

/* x2APIC logical id: cluster (id[19:4]) in bits 31:16, one bit of id[3:0] in bits 15:0 */
static uint32_t x2_ldr(uint32_t id)
{
	return (id >> 4) << 16 | 1u << (id & 0xf);
}

uint32_t vlapic_id(const struct vlapic *l)
{
	return is_x2(l) ? vlapic_reg(l, REG_ID) : vlapic_reg(l, REG_ID) >> 24;
}

uint32_t vlapic_vapic_word(const struct vlapic *l)
{
	int isr = vec_highest(l, REG_ISR), irr = vec_highest(l, REG_IRR);

	return (vlapic_reg(l, REG_TPR) & 0xff) | (uint32_t)((isr < 0 ? 0 : isr) & 0xf0) << 8 |
	       (uint32_t)(irr < 0 ? 0 : irr) << 24;
}

static void update_ppr(struct vlapic *l)
{
	uint32_t tpr = vlapic_reg(l, REG_TPR);
	int isrv = vec_highest(l, REG_ISR);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	vlapic_set_reg(l, REG_PPR, (tpr & 0xf0) >= isr_class ? tpr : isr_class);
}

/* The TPR whatever the mode (CR8 and KVM's VAPIC page reach it too). */
uint8_t vlapic_tpr(const struct vlapic *l)
{
	return (uint8_t)vlapic_reg(l, REG_TPR);
}

void vlapic_set_tpr(struct vlapic *l, uint8_t tpr)
{
	vlapic_set_reg(l, REG_TPR, tpr);
	update_ppr(l);
}

static void raise_error(struct vlapic *l, uint32_t bit)
{
	uint32_t lvt = vlapic_reg(l, REG_LVTE);

	l->esr_pending |= bit;
	if (!(lvt & LVT_MASKED) && (lvt & 0xff) >= 16) /* no error loop on an illegal vector */
		vlapic_set_irr(l, (uint8_t)lvt, false);
}

bool vlapic_set_irr(struct vlapic *l, uint8_t vector, bool level)
{
	if (vlapic_mode(l) == VLAPIC_DISABLED || !sw_enabled(l))
		return false;
	if (vector < 16) {
		raise_error(l, ESR_RECV_ILLEGAL);
		return false;
	}
	vec_set(l, REG_IRR, vector, true);
	vec_set(l, REG_TMR, vector, level);
	return true;
}

int vlapic_pending(const struct vlapic *l)
{
	int v = vec_highest(l, REG_IRR);

	if (vlapic_mode(l) == VLAPIC_DISABLED || !sw_enabled(l) || v < 0)
		return -1;
	return ((unsigned)v & 0xf0) > (vlapic_reg(l, REG_PPR) & 0xf0) ? v : -1;
}

void vlapic_ack(struct vlapic *l, uint8_t vector)
{
	vec_set(l, REG_IRR, vector, false);
	vec_set(l, REG_ISR, vector, true);
	update_ppr(l);
}

void vlapic_eoi(struct vlapic *l, const struct irq_env *env)
{
	int v = vec_highest(l, REG_ISR);

	if (v < 0)
		return;
	vec_set(l, REG_ISR, (unsigned)v, false);
	update_ppr(l);
	if (vec_test(l, REG_TMR, (unsigned)v))
		env->eoi(env->ctx, (uint8_t)v);
}

bool vlapic_eoi_deferrable(const struct vlapic *l)
{
	int v = vec_highest(l, REG_ISR);

	return v >= 0 && vec_highest(l, REG_IRR) < 0 && !vec_test(l, REG_TMR, (unsigned)v);
}

static bool logical_match(const struct vlapic *l, uint32_t dest)
{
	uint32_t ldr = vlapic_reg(l, REG_LDR);

	if (is_x2(l))
		return dest >> 16 == ldr >> 16 && (dest & ldr & 0xffff);
	ldr >>= 24;
	if (vlapic_reg(l, REG_DFR) >> 28 == 0xf) /* flat: a bit mask of eight APICs */
		return dest & ldr;
	return dest >> 4 == ldr >> 4 && (dest & ldr & 0xf); /* cluster: id in 7:4, mask 3:0 */
}

bool vlapic_matches(const struct vlapic *l, const struct apic_msg *m)
{
	uint32_t id = vlapic_id(l);

	if (vlapic_mode(l) == VLAPIC_DISABLED)
		return false;
	if (m->shorthand == SH_SELF)
		return m->source == id;
	if (m->shorthand == SH_ALL)
		return true;
	if (m->shorthand == SH_OTHERS)
		return m->source != id;
	if (m->dest == (is_x2(l) ? 0xffffffffu : 0xffu)) /* broadcast, physical or logical */
		return true;
	return m->logical ? logical_match(l, m->dest) : m->dest == id;
}

bool vlapic_accepts_extint(const struct vlapic *l)
{
	uint32_t lvt = vlapic_reg(l, REG_LINT0);

	return vlapic_mode(l) == VLAPIC_DISABLED ||
	       (!(lvt & LVT_MASKED) && (lvt >> 8 & 7) == DM_EXTINT);
}

/* IPIs: ICR low bits and the destination (ICR high 31:24 in xAPIC, 32 bits in x2APIC). */
static void send_ipi(struct vlapic *l, uint32_t icr, uint32_t dest, const struct irq_env *env)
{
	struct apic_msg m = {.dest = dest,
			     .source = vlapic_id(l),
			     .vector = (uint8_t)icr,
			     .delivery = icr >> 8 & 7,
			     .shorthand = icr >> 18 & 3,
			     .logical = icr >> 11 & 1,
			     .level = icr >> 15 & 1,
			     .assert = icr >> 14 & 1};

	if ((m.delivery == DM_FIXED || m.delivery == DM_LOWEST) && m.vector < 16) {
		raise_error(l, ESR_SEND_ILLEGAL); /* not sent */
		return;
	}
	env->deliver(env->ctx, &m);
}

/* A local source fires through its LVT (CMCI): its vector or NMI to this APIC alone. */
void vlapic_local_irq(struct vlapic *l, unsigned lvt_off, const struct irq_env *env)
{
	uint32_t lvt = vlapic_reg(l, lvt_off);

	if (vlapic_mode(l) != VLAPIC_DISABLED && !(lvt & LVT_MASKED)) /* self, edge, asserted */
		send_ipi(l, (lvt & 0x7ff) | 1u << 14 | 1u << 18, 0, env);
}

/* Register accesses common to MMIO and MSRs */
static bool is_lvt(unsigned off)
{
	return off == REG_CMCI || (off >= REG_LVTT && off <= REG_LVTE);
}

static uint32_t reg_read(const struct vlapic *l, unsigned off, const struct irq_env *env)
{
	return off == REG_TMCCT ? vtimer_count(l, vlapic_now(env)) : vlapic_reg(l, off);
}

static void mask_lvts(struct vlapic *l)
{
	for (unsigned i = 0; i < ARRAY_SIZE(lvts); i++)
		vlapic_set_reg(l, lvts[i], vlapic_reg(l, lvts[i]) | LVT_MASKED);
}

/* `val` has only writable bits. */
static void reg_write(struct vlapic *l, unsigned off, uint32_t val, const struct irq_env *env)
{
	if (is_lvt(off) && !sw_enabled(l))
		val |= LVT_MASKED; /* software-disabled: LVTs stay masked */
	switch (off) {
	case REG_EOI:
		vlapic_eoi(l, env);
		return;
	case REG_ESR:
		vlapic_set_reg(l, REG_ESR, l->esr_pending);
		l->esr_pending = 0;
		return;
	case REG_LVTT:
	case REG_TMICT:
	case REG_TDCR:
		vtimer_write(l, off, val, vlapic_now(env));
		return;
	case REG_SELF:
		send_ipi(l, val | 1u << 14 | SH_SELF << 18, vlapic_id(l), env);
		return;
	case REG_DFR:
		val |= 0x0fffffff; /* bits 27:0 read as ones */
		break;
	case REG_SVR:
		val &= (l->version & DIRECTED_EOI) ? ~0u : ~(1u << 12);
		break;
	}
	vlapic_set_reg(l, off, val);
	if (off == REG_TPR)
		update_ppr(l);
	else if (off == REG_SVR && !(val & SVR_ENABLE))
		mask_lvts(l);
	else if (off == REG_ICR)
		send_ipi(l, val, vlapic_reg(l, REG_ICR2) >> (is_x2(l) ? 0 : 24), env);
}

/* A reserved offset in xAPIC mode: the access does nothing but set ESR bit 7. */
uint32_t vlapic_read(struct vlapic *l, uint32_t offset, const struct irq_env *env)
{
	struct reg_info r = reg_info(offset >> 4);

	if (vlapic_mode(l) != VLAPIC_XAPIC) /* all ones, as KVM (its LAPIC_MMIO_HOLE quirk) */
		return ~0u;
	if (offset >= 0x400 || offset & 0xf)
		return 0;
	if (!reg_exists(r, false))
		raise_error(l, ESR_ILLEGAL_REG);
	return r.flags & RD && reg_exists(r, false) ? reg_read(l, offset, env) : 0;
}

void vlapic_write(struct vlapic *l, uint32_t offset, uint32_t val, const struct irq_env *env)
{
	struct reg_info r = reg_info(offset >> 4);

	if (vlapic_mode(l) != VLAPIC_XAPIC || offset >= 0x400 || offset & 0xf)
		return;
	if (!reg_exists(r, false))
		raise_error(l, ESR_ILLEGAL_REG);
	else if (r.flags & (WR | WR1))
		reg_write(l, offset, val & r.mask, env);
}

/* Whether an x2APIC MSR access with `need` (RD or WR) reaches a register (else #GP). */
static bool x2_reg(const struct vlapic *l, uint32_t msr, unsigned need, struct reg_info *r)
{
	*r = reg_info(msr - VLAPIC_MSR_FIRST);
	return is_x2(l) && msr >= VLAPIC_MSR_FIRST && msr <= VLAPIC_MSR_LAST &&
	       reg_exists(*r, true) && (r->flags & need);
}

int vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *val, const struct irq_env *env)
{
	struct reg_info r;

	if (!x2_reg(l, msr, RD, &r))
		return -1;
	/* as Hyper-V's MSRs read: ICR2:ICR as one */
	return vlapic_hv_msr(l, (msr - VLAPIC_MSR_FIRST) << 4, val, false, env);
}

int vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val, const struct irq_env *env)
{
	unsigned off = (msr - VLAPIC_MSR_FIRST) << 4;
	struct reg_info r;

	if (!x2_reg(l, msr, WR, &r))
		return -1;
	/* ICR: one 64-bit register (destination in 63:32), written as Hyper-V's MSR writes it */
	if (off == REG_ICR)
		return (uint32_t)val & X2_ICR_RESERVED ? -1
						       : vlapic_hv_msr(l, off, &val, true, env);
	if (val & ~(uint64_t)(r.mask | r.ro) || ((off == REG_EOI || off == REG_ESR) && val))
		return -1; /* reserved bits set; EOI and ESR take only 0 */
	reg_write(l, off, (uint32_t)val & r.mask, env);
	return 0;
}

/* Hyper-V's APIC access MSRs, in either mode: EOI (write only) and TPR, and ICR2:ICR as one. */
int vlapic_hv_msr(struct vlapic *l, unsigned off, uint64_t *val, bool write,
		  const struct irq_env *env)
{
	if (!write && off != REG_EOI)
		*val = reg_read(l, off, env) |
		       (off == REG_ICR ? (uint64_t)vlapic_reg(l, REG_ICR2) << 32 : 0);
	if (!write)
		return off == REG_EOI ? -1 : 0;
	if (off != REG_ICR && *val >> 32)
		return -1; /* bits 63:32 are reserved, but in ICR */
	if (off == REG_ICR)
		vlapic_set_reg(l, REG_ICR2, (uint32_t)(*val >> 32));
	reg_write(l, off, (uint32_t)*val, env);
	return 0;
}

/* The power-on register state; the ID from initial_id in the current mode's format. */
static void reset_regs(struct vlapic *l, bool lint0_extint)
{
	__builtin_memset(l->regs, 0, sizeof(l->regs));
	vlapic_set_reg(l, REG_ID, is_x2(l) ? l->initial_id : l->initial_id << 24);
	if (is_x2(l))
		vlapic_set_reg(l, REG_LDR, x2_ldr(l->initial_id));
	vlapic_set_reg(l, REG_VER, l->version);
	vlapic_set_reg(l, REG_DFR, 0xffffffff);
	vlapic_set_reg(l, REG_SVR, 0xff);
	mask_lvts(l);
	if (lint0_extint)
		vlapic_set_reg(l, REG_LINT0, DM_EXTINT << 8);
	l->esr_pending = 0;
	l->tsc_deadline = 0;
	vtimer_disarm(l);
}

void vlapic_reset(struct vlapic *l, uint32_t apic_id, bool bsp, bool lint0_extint)
{
	l->initial_id = apic_id;
	l->version = VERSION;
	l->apic_base = VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | (bsp ? VLAPIC_BASE_BSP : 0);
	reset_regs(l, lint0_extint);
}

void vlapic_set_version(struct vlapic *l, uint32_t version)
{
	l->version = version;
	vlapic_set_reg(l, REG_VER, version);
}

void vlapic_init_signal(struct vlapic *l, bool lint0_extint)
{
	uint32_t id = vlapic_reg(l, REG_ID); /* INIT leaves the APIC ID alone */

	reset_regs(l, lint0_extint);
	vlapic_set_reg(l, REG_ID, id);
}

int vlapic_set_base(struct vlapic *l, uint64_t val, bool x2apic_allowed, bool host)
{
	uint64_t rsvd = 0x2ffULL | ~0ULL << 52 | (x2apic_allowed ? 0 : VLAPIC_BASE_EXTD);
	enum vlapic_mode old = vlapic_mode(l), mode;

	if (val & rsvd || (val & (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD)) == VLAPIC_BASE_EXTD)
		return -1; /* reserved bits, or the invalid state EXTD without EN */
	mode = !(val & VLAPIC_BASE_EN)	  ? VLAPIC_DISABLED
	       : (val & VLAPIC_BASE_EXTD) ? VLAPIC_X2APIC
					  : VLAPIC_XAPIC;
	if (!host && ((old == VLAPIC_X2APIC && mode == VLAPIC_XAPIC) ||
		      (old == VLAPIC_DISABLED && mode == VLAPIC_X2APIC)))
		return -1; /* x2APIC is left through disabled, and entered from xAPIC */
	l->apic_base = val;
	if (mode == VLAPIC_DISABLED && old != VLAPIC_DISABLED) {
		reset_regs(l, false);
	} else if (mode == VLAPIC_X2APIC && old != VLAPIC_X2APIC) {
		vlapic_set_reg(l, REG_ID, l->initial_id);
		vlapic_set_reg(l, REG_LDR, x2_ldr(l->initial_id));
	} else if (mode == VLAPIC_XAPIC && old == VLAPIC_X2APIC) { /* the host's reset */
		vlapic_set_reg(l, REG_ID, l->initial_id << 24);
	}
	return 0;
}

void vlapic_get_state(const struct vlapic *l, uint8_t out[1024], const struct irq_env *env)
{
	uint32_t cur = vtimer_count(l, vlapic_now(env));

	__builtin_memcpy(out, l->regs, sizeof(l->regs));
	__builtin_memcpy(&out[REG_TMCCT], &cur, 4);
}

/* Registers a restore takes as they are: the writable ones, ISR, TMR, IRR and ESR. */
static void sanitize(struct vlapic *l)
{
	bool x2 = is_x2(l);

	for (unsigned i = 0; i < ARRAY_SIZE(reg_table); i++) {
		struct reg_info r = reg_info(i);
		bool full = x2 && (i << 4 == REG_ID || i << 4 == REG_ICR2); /* 32-bit in x2APIC */

		if (!(r.flags & RD) || !(r.flags & (WR | WR1)))
			r.mask = i >= 0x10 && i < 0x28 ? ~0u : 0; /* read-only: recomputed */
		vlapic_set_reg(l, i << 4, vlapic_reg(l, i << 4) & (full ? ~0u : r.mask));
	}
	vlapic_set_reg(l, REG_VER, l->version);
	vlapic_set_reg(l, REG_DFR, vlapic_reg(l, REG_DFR) | 0x0fffffff);
	if (x2)
		vlapic_set_reg(l, REG_LDR, x2_ldr(l->initial_id));
	if (!sw_enabled(l))
		mask_lvts(l);
	update_ppr(l);
}

int vlapic_set_state(struct vlapic *l, const uint8_t in[1024], const struct irq_env *env)
{
	uint32_t id, cur;

	__builtin_memcpy(&id, &in[REG_ID], 4);
	__builtin_memcpy(&cur, &in[REG_TMCCT], 4);
	if (is_x2(l) && id != l->initial_id)
		return -1;
	__builtin_memcpy(l->regs, in, sizeof(l->regs));
	sanitize(l);
	l->esr_pending = 0;
	if (vtimer_mode(l) != TIMER_TSC) {
		l->tsc_deadline = 0;
		vtimer_start(l, cur, vlapic_now(env));
	} else if (!l->tsc_deadline) {
		vtimer_disarm(l);
	}
	return 0;
}
