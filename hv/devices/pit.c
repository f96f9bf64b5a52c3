/*
 * 8254 PIT with the PC's port 0x61 (see pit.h). A counter's state is its reload value N, its
 * load time and the ticks t counted since; count and output derive from (mode, N, t), so a
 * periodic schedule never drifts. Counting stops (t frozen) while a gate-sensitive mode has
 * its gate low, and in mode 0 between the two bytes of a count. Modes 0, 2 and 3 follow the
 * datasheet, with these simplifications for all modes: a count is loaded at the write (not on
 * the next clock), so null count is set only from the control word to the count; a new count
 * in modes 2 and 3 restarts the period at once; modes 1 and 5 start at the count write as
 * well as on a gate rising edge; N = 1 in modes 2 and 3 is taken as it comes (in mode 3 the
 * output stays high); invalid BCD digits count as 9. Port 0x61 keeps bits 0 and 1 only (bits
 * 2 and 3, parity and channel check enables on a PC, read 0; bits 6 and 7 read 0).
 * GSI 0 follows channel 0's output in modes 0, 1 and 3; in modes 2, 4 and 5 it stays low and
 * each output pulse is a raise then a lower. A late pit_tick delivers one rising edge for all
 * the edges it missed (the PIC latches one anyway) and the next event stays on the grid.
 */
#include "pit.h"

#define NS_PER_S     1000000000u
#define NONE	     NO_DEADLINE
#define REFRESH_NS   15085 /* port 0x61 bit 4: half a DRAM refresh period (18 ticks) */
#define GATE_LEVEL   0x1d  /* modes 0, 2, 3, 4: counting only while the gate is high */
#define GATE_EDGE    0x2e  /* modes 1, 2, 3, 5: a gate rising edge restarts the count */
#define SPEAKER_DATA KVM_PIT_FLAGS_SPEAKER_DATA_ON

enum { RW_LSB = 1, RW_MSB = 2, RW_WORD0 = 3, RW_WORD1 = 4 };

static uint64_t ns_to_ticks(uint64_t ns)
{
	return ns / NS_PER_S * PIT_HZ + ns % NS_PER_S * PIT_HZ / NS_PER_S;
}

/* The first ns at which ns_to_ticks reaches t. */
static uint64_t ticks_to_ns(uint64_t t)
{
	return t / PIT_HZ * NS_PER_S + (t % PIT_HZ * NS_PER_S + PIT_HZ - 1) / PIT_HZ;
}

static int64_t now_ns(const struct irq_env *env)
{
	return (int64_t)env->now_ns(env->ctx);
}

static uint32_t period(const struct pit_channel *c)
{
	return c->bcd && c->count == 0x10000 ? 10000 : c->count;
}

static bool counting(const struct pit_channel *c)
{
	if (!c->count || (!c->gate && (GATE_LEVEL >> c->mode & 1)))
		return false;
	return !(c->mode == 0 && c->rw_mode == RW_WORD0 && c->write_state == RW_WORD1);
}

static uint64_t elapsed_since(const struct pit_channel *c, int64_t now)
{
	return now > c->load_ns ? ns_to_ticks((uint64_t)(now - c->load_ns)) : 0;
}

static uint64_t elapsed(const struct pit_channel *c, int64_t now)
{
	return counting(c) ? elapsed_since(c, now) : c->frozen;
}

/* The counting element after t ticks, 1..N (0 stands for N = 65536 or BCD 10000). */
static uint32_t value(const struct pit_channel *c, uint64_t t)
{
	uint32_t n = period(c), wrap = c->bcd ? 10000 : 0x10000, p, x, v;

	if (!n)
		return 0;
	p = (uint32_t)(t % n);
	if (c->mode == 2) {
		v = n - p;
	} else if (c->mode == 3) {
		/* by twos; an odd N loses 1 at the first clock while high and 3 while low */
		x = p < (n + 1) / 2 ? p : p - (n + 1) / 2;
		if (!x || !(n & 1))
			v = n - 2 * x;
		else
			v = p < (n + 1) / 2 ? n + 1 - 2 * x : n - 1 - 2 * x;
	} else {
		v = (uint32_t)(n + wrap - t % wrap); /* modes 0, 1, 4, 5 wrap around */
	}
	return v % wrap;
}

static bool out(const struct pit_channel *c, uint64_t t)
{
	uint32_t n = period(c);

	if (!n)
		return c->mode != 0; /* the level the control word set */
	if (!c->gate && (c->mode == 2 || c->mode == 3))
		return true;
	if (c->mode <= 1)
		return t >= n;
	if (c->mode == 2)
		return n == 1 || t % n != n - 1;
	if (c->mode == 3)
		return t % n < (n + 1) / 2;
	return t != n; /* modes 4, 5: low for the clock of the terminal count */
}

/* GSI 0's level: the output, except the pulse modes, whose pulses are events. */
static int line(const struct pit_channel *c, uint64_t t)
{
	return (c->mode <= 1 || c->mode == 3) && out(c, t);
}

/* The first tick after t at which GSI 0 changes or pulses. */
static uint64_t event_after(const struct pit_channel *c, uint64_t t)
{
	uint64_t n = period(c), h = (n + 1) / 2, p = n ? t % n : 0;

	if (!counting(c))
		return NONE;
	if (c->mode <= 1)
		return t < n ? n : NONE;
	if (c->mode == 2)
		return t - p + n;
	if (c->mode == 3)
		return h == n ? NONE : t - p + (p < h ? h : n);
	return t <= n ? n + 1 : NONE; /* modes 4, 5: the rising edge ending the strobe */
}

static uint16_t to_bcd(uint32_t v)
{
	return (uint16_t)(v / 1000 << 12 | v / 100 % 10 << 8 | v / 10 % 10 << 4 | v % 10);
}

static uint32_t from_bcd(uint32_t raw)
{
	uint32_t v = 0;

	for (int shift = 12; shift >= 0; shift -= 4)
		v = v * 10 + MIN(raw >> shift & 0xf, 9u);
	return v;
}

static uint16_t read_value(const struct pit_channel *c, int64_t now)
{
	uint32_t v = value(c, elapsed(c, now));

	return c->bcd ? to_bcd(v) : (uint16_t)v;
}

static uint8_t status_byte(const struct pit_channel *c, int64_t now)
{
	return (uint8_t)(out(c, elapsed(c, now)) << 7 | !c->count << 6 | c->rw_mode << 4 |
			 c->mode << 1 | c->bcd);
}

static void restart(struct pit_channel *c, int64_t now)
{
	c->load_ns = now;
	c->frozen = 0;
}

/* After a change that may stop or resume counting; t: the ticks counted before it. */
static void stop_or_resume(struct pit_channel *c, bool was, uint64_t t, int64_t now)
{
	bool is = counting(c);

	if (was && !is)
		c->frozen = t;
	else if (!was && is)
		c->load_ns = now - (int64_t)ticks_to_ns(c->frozen);
}

static void set_gate(struct pit_channel *c, uint8_t gate, int64_t now)
{
	bool was = counting(c);
	uint64_t t = elapsed(c, now);

	if (gate == c->gate)
		return;
	c->gate = gate;
	if (gate && (GATE_EDGE >> c->mode & 1))
		restart(c, now);
	else
		stop_or_resume(c, was, t, now);
}

static void write_count(struct pit_channel *c, uint8_t val, int64_t now)
{
	bool was = counting(c);
	uint64_t t = elapsed(c, now);
	uint32_t raw;

	switch (c->write_state) {
	case RW_WORD0:
		c->write_latch = val;
		c->write_state = RW_WORD1;
		stop_or_resume(c, was, t, now);
		return;
	case RW_WORD1:
		raw = c->write_latch | (uint32_t)val << 8;
		c->write_state = RW_WORD0;
		break;
	case RW_MSB:
		raw = (uint32_t)val << 8;
		break;
	default:
		raw = val;
		break;
	}
	raw = c->bcd ? from_bcd(raw) : raw;
	c->count = raw ? raw : 0x10000;
	restart(c, now);
}

/* Reads the status latch, the count latch or the counter, a byte in the RW state's order. */
static uint8_t read_data(struct pit_channel *c, int64_t now)
{
	uint8_t s;
	uint16_t v;

	if (c->status_latched) {
		c->status_latched = 0;
		return c->status;
	}
	if (c->count_latched) {
		s = c->count_latched;
		v = c->latched_count;
		c->count_latched = s == RW_WORD0 ? RW_MSB : 0;
	} else {
		s = c->read_state;
		v = read_value(c, now);
		c->read_state = s == RW_WORD0 ? RW_WORD1 : s == RW_WORD1 ? RW_WORD0 : s;
	}
	return (uint8_t)(s == RW_MSB || s == RW_WORD1 ? v >> 8 : v);
}

/* A second latch command before the first latch is read is ignored. */
static void latch(struct pit_channel *c, bool count, bool status, int64_t now)
{
	if (count && !c->count_latched) {
		c->latched_count = read_value(c, now);
		c->count_latched = c->rw_mode ? c->rw_mode : RW_LSB;
	}
	if (status && !c->status_latched) {
		c->status = status_byte(c, now);
		c->status_latched = 1;
	}
}

static void write_control(struct pit *p, uint8_t val, int64_t now)
{
	struct pit_channel *c;
	uint8_t rw = val >> 4 & 3, mode = val >> 1 & 7;

	if (val >> 6 == 3) { /* read-back: bits 1-3 select counters, 5 and 4 are active low */
		for (int i = 0; i < 3; i++)
			if (val & 2 << i)
				latch(&p->ch[i], !(val & 0x20), !(val & 0x10), now);
		return;
	}
	c = &p->ch[val >> 6];
	if (!rw) {
		latch(c, true, false, now);
		return;
	}
	c->rw_mode = c->read_state = c->write_state = rw;
	c->mode = mode > 5 ? mode - 4 : mode;
	c->bcd = val & 1;
	c->count = 0; /* waits for a count; output low in mode 0, high in the others */
	c->count_latched = c->status_latched = 0;
	restart(c, now);
}

static void set_line(struct pit *p, const struct irq_env *env, int level)
{
	p->irq_level = (uint8_t)level;
	env->set_irq(env->ctx, 0, level);
}

/* After a change to channel 0 or the flags: GSI 0 takes its level, the next event is set. */
static void resched(struct pit *p, const struct irq_env *env)
{
	const struct pit_channel *c = &p->ch[0];
	uint64_t t = elapsed(c, now_ns(env));
	bool on = !(p->flags & KVM_PIT_FLAGS_HPET_LEGACY);
	int level = on && line(c, t);

	if (level != p->irq_level)
		set_line(p, env, level);
	p->next_evt = on ? event_after(c, t) : NONE;
}

void pit_tick(struct pit *p, const struct irq_env *env)
{
	const struct pit_channel *c = &p->ch[0];
	uint64_t t = elapsed(c, now_ns(env)), n = period(c);

	if (p->next_evt == NONE || t < p->next_evt)
		return;
	/* every event is a rising edge but mode 3's falling one (mid-period) */
	if (c->mode != 3 || t / n * n >= p->next_evt) {
		if (p->irq_level)
			set_line(p, env, 0);
		set_line(p, env, 1);
	}
	if (line(c, t) != p->irq_level)
		set_line(p, env, line(c, t));
	p->next_evt = event_after(c, t);
}

uint64_t pit_next_ns(const struct pit *p)
{
	int64_t at;

	if (p->next_evt == NONE)
		return NO_DEADLINE;
	at = p->ch[0].load_ns + (int64_t)ticks_to_ns(p->next_evt);
	return at > 0 ? (uint64_t)at : 0;
}

uint8_t pit_port_read(struct pit *p, uint16_t port, const struct irq_env *env)
{
	int64_t now = now_ns(env);
	const struct pit_channel *c2 = &p->ch[2];

	pit_tick(p, env);
	if (port >= 0x40 && port <= 0x42)
		return read_data(&p->ch[port - 0x40], now);
	if (port != 0x61)
		return 0xff; /* 0x43 is write-only */
	return (uint8_t)(c2->gate | (p->flags & SPEAKER_DATA ? 2 : 0) |
			 (now / REFRESH_NS & 1) << 4 | out(c2, elapsed(c2, now)) << 5);
}

void pit_port_write(struct pit *p, uint16_t port, uint8_t val, const struct irq_env *env)
{
	int64_t now = now_ns(env);

	pit_tick(p, env);
	if (port >= 0x40 && port <= 0x42)
		write_count(&p->ch[port - 0x40], val, now);
	else if (port == 0x43)
		write_control(p, val, now);
	else if (port == 0x61) {
		p->flags = (p->flags & ~SPEAKER_DATA) | (val & 2 ? SPEAKER_DATA : 0);
		set_gate(&p->ch[2], val & 1, now);
	}
	resched(p, env);
}

void pit_reset(struct pit *p, const struct irq_env *env)
{
	int64_t now = now_ns(env);

	for (int i = 0; i < 3; i++) {
		struct pit_channel *c = &p->ch[i];

		*c = (struct pit_channel){.gate = i != 2, .load_ns = now};
		c->rw_mode = c->read_state = c->write_state = RW_WORD0;
	}
	p->flags = 0;
	resched(p, env);
}

void pit_get_state(const struct pit *p, struct pit_state_kvm *s, const struct irq_env *env)
{
	int64_t now = now_ns(env);

	*s = (struct pit_state_kvm){.flags = p->flags};
	for (int i = 0; i < 3; i++) {
		const struct pit_channel *c = &p->ch[i];

		__builtin_memcpy(&s->channels[i], c, sizeof(s->channels[i]));
		if (!counting(c)) /* the load time that gives the ticks it holds */
			s->channels[i].count_load_time = now - (int64_t)ticks_to_ns(c->frozen);
	}
}

static bool valid(const struct pit_channel_kvm *k)
{
	return k->mode <= 5 && k->bcd <= 1 && k->gate <= 1 && k->rw_mode <= RW_WORD0 &&
	       k->read_state <= RW_WORD1 && k->write_state <= RW_WORD1 &&
	       k->count_latched <= RW_WORD1 && k->status_latched <= 1 &&
	       (k->count == 0x10000 || k->count <= (k->bcd ? 10000u : 0x10000u));
}

int pit_set_state(struct pit *p, const struct pit_state_kvm *s, const struct irq_env *env)
{
	int64_t now = now_ns(env);

	if (s->flags & ~(KVM_PIT_FLAGS_HPET_LEGACY | SPEAKER_DATA))
		return -1;
	for (int i = 0; i < 3; i++)
		if (!valid(&s->channels[i]))
			return -1;
	for (int i = 0; i < 3; i++) {
		const struct pit_channel_kvm *k = &s->channels[i];
		struct pit_channel *c = &p->ch[i];

		__builtin_memcpy(c, k, sizeof(*k));
		c->frozen = counting(c) ? 0 : elapsed_since(c, now); /* what a stopped one holds */
	}
	p->flags = s->flags;
	resched(p, env);
	return 0;
}
