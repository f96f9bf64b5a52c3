/*
 * Two 8259A PICs in the PC wiring: the slave's INT output drives the master's IR2, and only
 * the master's INT reaches the CPU. 8086 mode only (ICW4 bit 0 is not looked at); ICW1's LTIM
 * is ignored, since the PIIX ELCR selects edge or level per line, as on a PC.
 * last_irr is the level of each input as last seen. An edge input latches its IRR bit on a
 * rising edge, and the bit stays until acknowledged even if the input drops first (devices
 * pulse their lines); a level input's IRR bit follows the input. The INTA cycle (pic_ack)
 * drops the acknowledged chip's INT, so the master sees a new edge on IR2 whenever the slave
 * raises INT again. A request gone before the INTA gives the chip's default IR7 vector with
 * nothing put in service (spurious IRQ 7, or 15 through the cascade).
 * Special mask mode follows the datasheet literally: only masked levels and the levels in
 * service are excluded; ISR bits block nothing else.
 */
#include "pic.h"
#include "../lib/errno.h"

enum { ICW1 = 0x10, ICW1_IC4 = 0x01, ICW1_SNGL = 0x02, OCW3 = 0x08 };
enum { ICW4_AEOI = 0x02, ICW4_SFNM = 0x10 };
enum { OCW2_R = 0x80, OCW2_SL = 0x40, OCW2_EOI = 0x20 };
enum { OCW3_RIS = 0x01, OCW3_RR = 0x02, OCW3_POLL = 0x04, OCW3_SMM = 0x20, OCW3_ESMM = 0x40 };
enum { INIT_READY, INIT_ICW2, INIT_ICW3, INIT_ICW4 };
enum { PORT_ELCR = 0x4d0, POLL_IRQ = 0x80 };

#define CASCADE_BIT (1u << PIC_CASCADE_IRQ)

/* the ELCR bits the PIIX implements: IRQ 0, 1, 2, 8 and 13 are always edge-triggered */
static const uint8_t elcr_masks[2] = {0xf8, 0xde};

_Static_assert(offsetof(struct pic_chip, elcr_mask) == sizeof(struct pic_state_kvm) - 1,
	       "a chip starts with KVM's fields");

/* Priority 0 is the highest; priority_add is the IR that has it. */
static unsigned prio(const struct pic_chip *c, unsigned ir)
{
	return (ir - c->priority_add) & 7;
}

/* The IR of the highest priority among bits, or -1. */
static int highest(const struct pic_chip *c, uint8_t bits)
{
	for (unsigned i = 0; bits && i < 8; i++) { /* (none: no scan) */
		unsigned ir = (c->priority_add + i) & 7;

		if (bits & (1u << ir))
			return (int)ir;
	}
	return -1;
}

/* The request the priority resolver signals INT for, or -1: unmasked and above everything in
 * service. In special fully nested mode the master's IR2 in service does not block IR2. */
static int resolve(const struct pic_chip *c, bool master)
{
	uint8_t req = c->irr & ~c->imr, busy = c->isr;
	int ir, in;

	if (c->special_mask)
		return highest(c, req & ~c->isr);
	if (master && c->special_fully_nested_mode)
		busy &= ~CASCADE_BIT;
	ir = highest(c, req);
	in = highest(c, busy);
	if (ir < 0 || (in >= 0 && prio(c, (unsigned)in) <= prio(c, (unsigned)ir)))
		return -1;
	return ir;
}

static void set_line(struct pic_chip *c, uint8_t bit, bool level)
{
	if (level && ((c->elcr & bit) || !(c->last_irr & bit)))
		c->irr |= bit;
	else if (!level && (c->elcr & bit))
		c->irr &= ~bit;
	c->last_irr = level ? c->last_irr | bit : c->last_irr & ~bit;
}

/* The slave's INT is the master's IR2 input; call after any change to the slave. */
static void cascade(struct pic *p)
{
	set_line(&p->chip[PIC_MASTER], CASCADE_BIT, resolve(&p->chip[PIC_SLAVE], false) >= 0);
}

/* An INTA (or poll) of ir: an edge request is consumed; ISR set unless in AEOI mode. */
static void intack(struct pic *p, unsigned chip, unsigned ir)
{
	struct pic_chip *c = &p->chip[chip];
	uint8_t bit = 1u << ir;

	if (!(c->elcr & bit))
		c->irr &= ~bit;
	if (!c->auto_eoi)
		c->isr |= bit;
	else if (c->rotate_on_auto_eoi)
		c->priority_add = (ir + 1) & 7;
	if (chip == PIC_SLAVE)
		p->chip[PIC_MASTER].last_irr &= ~CASCADE_BIT; /* the INTA dropped the slave's INT */
}

int pic_ack(struct pic *p)
{
	struct pic_chip *m = &p->chip[PIC_MASTER], *s = &p->chip[PIC_SLAVE];
	int ir = resolve(m, true), sir, vec;

	if (ir < 0)
		return m->irq_base + 7;
	intack(p, PIC_MASTER, (unsigned)ir);
	if (ir != PIC_CASCADE_IRQ || m->single) {
		vec = m->irq_base + ir;
	} else if ((sir = resolve(s, false)) < 0) {
		vec = s->irq_base + 7; /* IR2 is in service at the master: it needs the EOI */
	} else {
		intack(p, PIC_SLAVE, (unsigned)sir);
		vec = s->irq_base + sir;
	}
	cascade(p);
	return vec;
}

bool pic_intr(const struct pic *p)
{
	return resolve(&p->chip[PIC_MASTER], true) >= 0;
}

void pic_set_irq(struct pic *p, unsigned irq, int level)
{
	if (irq >= 16 || irq == PIC_CASCADE_IRQ)
		return;
	set_line(&p->chip[irq / 8], (uint8_t)(1u << (irq % 8)), level);
	cascade(p);
}

void pic_reset(struct pic *p)
{
	for (unsigned i = 0; i < 2; i++)
		p->chip[i] = (struct pic_chip){.elcr_mask = elcr_masks[i]};
}

/* ICW1 starts initialization: the edge sense is reset (a high input needs a new rising edge),
 * IMR and ISR are cleared, IR0 gets the highest priority, IRR is read, ICW4 functions are off. */
static void icw1(struct pic_chip *c, uint8_t val)
{
	c->irr &= c->elcr;
	c->imr = c->isr = c->priority_add = 0;
	c->read_reg_select = c->poll = c->special_mask = c->rotate_on_auto_eoi = 0;
	c->auto_eoi = c->special_fully_nested_mode = 0;
	c->init4 = val & ICW1_IC4;
	c->single = val & ICW1_SNGL;
	c->init_state = INIT_ICW2;
}

static void ocw2(struct pic_chip *c, uint8_t val)
{
	unsigned l = val & 7;
	int ir;

	if (!(val & OCW2_EOI)) {
		if ((val & OCW2_SL) && (val & OCW2_R))
			c->priority_add = (l + 1) & 7; /* set priority: IR l the lowest */
		else if (!(val & OCW2_SL))
			c->rotate_on_auto_eoi = !!(val & OCW2_R);
		return;
	}
	/* a non-specific EOI ends the highest level in service (in special mask mode, unmasked) */
	ir = val & OCW2_SL ? (int)l : highest(c, c->isr & ~(c->special_mask ? c->imr : 0));
	if (ir < 0)
		return;
	c->isr &= ~(1u << ir);
	if (val & OCW2_R)
		c->priority_add = (ir + 1) & 7; /* rotate: the ended level becomes the lowest */
}

static void ocw3(struct pic_chip *c, uint8_t val)
{
	if (val & OCW3_ESMM)
		c->special_mask = !!(val & OCW3_SMM);
	if (val & OCW3_POLL)
		c->poll = 1;
	if (val & OCW3_RR)
		c->read_reg_select = val & OCW3_RIS;
}

/* ICW2-ICW4 while initializing (ICW3 only in cascade mode, ICW4 only if ICW1 asked), else OCW1 */
static void write_data(struct pic_chip *c, uint8_t val)
{
	uint8_t last = c->init4 ? INIT_ICW4 : INIT_READY;

	switch (c->init_state) {
	case INIT_ICW2:
		c->irq_base = val & 0xf8;
		c->init_state = c->single ? last : INIT_ICW3;
		break;
	case INIT_ICW3: /* the cascade wiring is fixed: the master's IR2, slave id 2 */
		c->init_state = last;
		break;
	case INIT_ICW4:
		c->auto_eoi = !!(val & ICW4_AEOI);
		c->special_fully_nested_mode = !!(val & ICW4_SFNM);
		c->init_state = INIT_READY;
		break;
	default:
		c->imr = val;
	}
}

/* The chip at a port: 0x20/0x21 the master, 0xa0/0xa1 the slave, else -1. */
static int chip_at(uint16_t port)
{
	if ((port & ~1) == 0x20)
		return PIC_MASTER;
	return (port & ~1) == 0xa0 ? PIC_SLAVE : -1;
}

void pic_port_write(struct pic *p, uint16_t port, uint8_t val)
{
	int chip = chip_at(port);
	struct pic_chip *c;

	if ((port & ~1) == PORT_ELCR) {
		c = &p->chip[port & 1];
		c->elcr = val & c->elcr_mask;
		/* a level request is the input */
		c->irr = (c->irr & ~c->elcr) | (c->last_irr & c->elcr);
	} else if (chip >= 0) {
		c = &p->chip[chip];
		if (port & 1)
			write_data(c, val);
		else if (val & ICW1)
			icw1(c, val);
		else if (val & OCW3)
			ocw3(c, val);
		else
			ocw2(c, val);
	}
	cascade(p);
}

/* After a poll command the next read is an INTA: 0x80 | IR, or 0 with nothing requested. */
static uint8_t poll_read(struct pic *p, unsigned chip)
{
	struct pic_chip *c = &p->chip[chip];
	int ir = resolve(c, chip == PIC_MASTER);

	c->poll = 0;
	if (ir < 0)
		return 0;
	intack(p, chip, (unsigned)ir);
	cascade(p);
	return POLL_IRQ | (uint8_t)ir;
}

uint8_t pic_port_read(struct pic *p, uint16_t port)
{
	int chip = chip_at(port);
	const struct pic_chip *c;

	if ((port & ~1) == PORT_ELCR)
		return p->chip[port & 1].elcr;
	if (chip < 0)
		return 0xff;
	c = &p->chip[chip];
	if (c->poll)
		return poll_read(p, (unsigned)chip);
	if (port & 1)
		return c->imr;
	return c->read_reg_select ? c->isr : c->irr;
}

void pic_get_state(const struct pic *p, unsigned chip, struct pic_state_kvm *s)
{
	__builtin_memcpy(s, &p->chip[chip & 1], sizeof(*s));
}

int pic_set_state(struct pic *p, unsigned chip, const struct pic_state_kvm *s)
{
	/* the flags are 0 or 1 */
	unsigned flags = s->read_reg_select | s->poll | s->special_mask | s->auto_eoi |
			 s->rotate_on_auto_eoi | s->special_fully_nested_mode | s->init4;

	if (chip > PIC_SLAVE || s->init_state > INIT_ICW4 || s->priority_add > 7 || flags > 1 ||
	    (s->irq_base & 7))
		return -EINVAL;
	__builtin_memcpy(&p->chip[chip], s, sizeof(*s));
	p->chip[chip].single = false;
	if (chip == PIC_SLAVE)
		cascade(p); /* restored in KVM's order, master first: the slave's INT reaches IR2 */
	return 0;
}
