/*
 * The local APIC timer (SDM vol. 3, "APIC Timer"): one-shot and periodic counting from the VM
 * clock's nanoseconds, and TSC-deadline mode. Nothing counts: the next expiry is kept, the current
 * count computed when read, and vlapic_tick() raises what has expired.
 */
#include "vlapic_priv.h"

unsigned vtimer_mode(const struct vlapic *l)
{
	return vlapic_reg(l, REG_LVTT) >> 17 & 3;
}

/* Divide configuration bits 3,1:0: 000 -> 2, 001 -> 4, ... 110 -> 128, 111 -> 1 */
static uint64_t divisor(const struct vlapic *l)
{
	uint32_t d = vlapic_reg(l, REG_TDCR);
	unsigned v = (d & 3) | (d >> 1 & 4);

	return v == 7 ? 1 : 2u << v;
}

void vtimer_disarm(struct vlapic *l)
{
	l->timer_next = NO_DEADLINE;
	l->timer_period = 0;
}

/* Counting modes: `count` ticks from `t`, periodic reloads with the initial count. */
void vtimer_start(struct vlapic *l, uint32_t count, uint64_t t)
{
	uint64_t d = divisor(l);

	vtimer_disarm(l);
	if (!count || vtimer_mode(l) == TIMER_TSC)
		return;
	l->timer_next = t + count * d;
	if (vtimer_mode(l) == TIMER_PERIODIC)
		l->timer_period = vlapic_reg(l, REG_TMICT) * d;
}

uint32_t vtimer_count(const struct vlapic *l, uint64_t t)
{
	uint64_t d = divisor(l), left;

	if (l->timer_next == NO_DEADLINE || vtimer_mode(l) == TIMER_TSC)
		return 0;
	if (t < l->timer_next)
		left = l->timer_next - t;
	else if (l->timer_period) /* expired, not ticked yet: the count reloaded */
		left = l->timer_period - (t - l->timer_next) % l->timer_period;
	else
		return 0;
	return (uint32_t)((left + d - 1) / d);
}

void vlapic_set_tsc_deadline(struct vlapic *l, uint64_t tsc, uint64_t deadline_ns)
{
	if (vtimer_mode(l) != TIMER_TSC)
		return;
	l->tsc_deadline = tsc;
	l->timer_period = 0;
	l->timer_next = tsc ? deadline_ns : NO_DEADLINE;
}

uint64_t vlapic_get_tsc_deadline(const struct vlapic *l)
{
	return vtimer_mode(l) == TIMER_TSC ? l->tsc_deadline : 0;
}

uint64_t vlapic_next_ns(const struct vlapic *l)
{
	return l->timer_next;
}

void vlapic_tick(struct vlapic *l, const struct irq_env *env)
{
	uint64_t t = vlapic_now(env), p = l->timer_period;
	uint32_t lvt = vlapic_reg(l, REG_LVTT);

	if (l->timer_next == NO_DEADLINE || t < l->timer_next)
		return;
	if (!(lvt & LVT_MASKED))
		vlapic_set_irr(l, (uint8_t)lvt, false);
	if (p) { /* the next period boundary after t; missed periods raise one interrupt */
		l->timer_next += ((t - l->timer_next) / p + 1) * p;
	} else {
		l->timer_next = NO_DEADLINE;
		l->tsc_deadline = 0;
	}
}

/* LVTT, TMICT or TDCR: `val` has only writable bits. */
void vtimer_write(struct vlapic *l, unsigned off, uint32_t val, uint64_t t)
{
	if (off == REG_TDCR) { /* a new divider: for the rest of the count and the next periods */
		uint32_t cur = vtimer_count(l, t);
		vlapic_set_reg(l, off, val);
		vtimer_start(l, cur, t);
	} else if (off == REG_TMICT && vtimer_mode(l) != TIMER_TSC) { /* else ignored */
		vlapic_set_reg(l, off, val);
		vtimer_start(l, val, t);
	} else if (off == REG_LVTT) {
		if ((val ^ vlapic_reg(l, REG_LVTT)) >> 17 & 3) {
			vtimer_disarm(l); /* a mode change disarms the timer */
			l->tsc_deadline = 0;
		}
		vlapic_set_reg(l, off, val);
	}
}
