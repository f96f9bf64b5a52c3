/* What the local APIC model's two files share (vlapic.c, vlapic_timer.c): registers and timer. */
#ifndef HV_DEVICES_VLAPIC_PRIV_H
#define HV_DEVICES_VLAPIC_PRIV_H

#include "vlapic.h"

/* Register offsets */
enum { REG_ID = 0x20, REG_VER = 0x30, REG_TPR = 0x80, REG_PPR = 0xa0, REG_EOI = 0xb0 };
enum { REG_LDR = 0xd0, REG_DFR = 0xe0, REG_SVR = 0xf0, REG_ISR = 0x100, REG_TMR = 0x180 };
enum { REG_IRR = 0x200, REG_ESR = 0x280, REG_CMCI = 0x2f0, REG_ICR = 0x300, REG_ICR2 = 0x310 };
enum { REG_LVTT = 0x320, REG_LINT0 = 0x350, REG_LINT1 = 0x360, REG_LVTE = 0x370 };
enum { REG_TMICT = 0x380, REG_TMCCT = 0x390, REG_TDCR = 0x3e0, REG_SELF = 0x3f0 };

#define LVT_MASKED (1u << 16)
enum { TIMER_ONESHOT = 0, TIMER_PERIODIC = 1, TIMER_TSC = 2 };

static inline uint32_t vlapic_reg(const struct vlapic *l, unsigned off)
{
	uint32_t v;

	__builtin_memcpy(&v, &l->regs[off], 4);
	return v;
}

static inline void vlapic_set_reg(struct vlapic *l, unsigned off, uint32_t v)
{
	__builtin_memcpy(&l->regs[off], &v, 4);
}

static inline uint64_t vlapic_now(const struct irq_env *env)
{
	return env->now_ns(env->ctx);
}

/* vlapic_timer.c */
unsigned vtimer_mode(const struct vlapic *l);
void vtimer_disarm(struct vlapic *l);
/* Counting modes: `count` ticks from `t`, periodic reloads with the initial count. */
void vtimer_start(struct vlapic *l, uint32_t count, uint64_t t);
uint32_t vtimer_count(const struct vlapic *l, uint64_t t); /* TMCCT at `t` */
void vtimer_write(struct vlapic *l, unsigned off, uint32_t val, uint64_t t);

#endif
