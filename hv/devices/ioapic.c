/*
 * I/O APIC (Intel 82093AA): 24 redirection entries reached through IOREGSEL/IOWIN.
 * Delivery is instant, so the delivery status bit always reads idle. irr is the asserted
 * state of each input; as KVM's (KVM_CAP_IOAPIC_POLARITY_IGNORED), a level of 1 is asserted
 * whatever the polarity bit says, which is kept but ignored. A 0 to 1 change of an
 * edge pin's bit is the edge that sends one message, unless the pin is masked (then the edge
 * is lost, as the datasheet says). A level pin sends while asserted, unmasked and remote IRR
 * clear, and sets remote IRR; the EOI of its vector clears it. Unlike the datasheet, a masked
 * level pin keeps its asserted state, so unmasking it delivers (guests rely on that).
 * Remote IRR is cleared when an entry becomes edge-triggered (it is undefined for edge).
 */
#include "ioapic.h"
#include "../lib/errno.h"

enum { REG_ID = 0x00, REG_VERSION = 0x01, REG_ARB = 0x02, REG_REDIR = 0x10 };
enum { MMIO_IOREGSEL = 0x00, MMIO_IOWIN = 0x10 };

#define ID_SHIFT 24
/* writable entry bits per half (reserved bits read 0) */
#define RTE_LOW_RW  0x1afffULL /* all but delivery status and remote IRR */
#define RTE_HIGH_RW 0xff000000ULL
#define RTE_VALID   (RTE_LOW_RW | IOAPIC_RTE_RIRR | (RTE_HIGH_RW << 32)) /* in a saved state */

void ioapic_reset(struct ioapic *io, uint64_t base)
{
	*io = (struct ioapic){.base = base};
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		io->redir[i] = IOAPIC_RTE_MASK;
}

static void send(struct ioapic *io, unsigned pin, const struct irq_env *env)
{
	uint64_t e = io->redir[pin];
	struct apic_msg m = {
		.dest = (uint32_t)(e >> IOAPIC_RTE_DEST_SH),
		.vector = (uint8_t)(e & IOAPIC_RTE_VECTOR),
		.delivery = (uint8_t)((e >> IOAPIC_RTE_DM_SHIFT) & 7),
		.shorthand = SH_NONE,
		.logical = e & IOAPIC_RTE_LOGICAL,
		.level = e & IOAPIC_RTE_LEVEL,
		.assert = true,
	};

	env->deliver(env->ctx, &m);
}

/* A level pin delivers while asserted, unmasked and not awaiting its EOI. */
static void service_level(struct ioapic *io, unsigned pin, const struct irq_env *env)
{
	uint64_t *e = &io->redir[pin];

	if (!(*e & IOAPIC_RTE_LEVEL) || (*e & (IOAPIC_RTE_MASK | IOAPIC_RTE_RIRR)) ||
	    !(io->irr & (1u << pin)))
		return;
	*e |= IOAPIC_RTE_RIRR;
	send(io, pin, env);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, int level, const struct irq_env *env)
{
	uint32_t bit = 1u << pin;
	bool asserted = level != 0, was = io->irr & bit;

	if (pin >= IOAPIC_PINS)
		return;
	io->irr = asserted ? io->irr | bit : io->irr & ~bit;
	if (io->redir[pin] & IOAPIC_RTE_LEVEL)
		service_level(io, pin, env);
	else if (asserted && !was && !(io->redir[pin] & IOAPIC_RTE_MASK))
		send(io, pin, env);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector, const struct irq_env *env)
{
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t *e = &io->redir[pin];

		if ((*e & IOAPIC_RTE_VECTOR) != vector || !(*e & IOAPIC_RTE_LEVEL) ||
		    !(*e & IOAPIC_RTE_RIRR))
			continue;
		*e &= ~IOAPIC_RTE_RIRR;
		if (env->ack)
			env->ack(env->ctx, pin);
		service_level(io, pin, env);
	}
}

static uint32_t reg_read(const struct ioapic *io, uint32_t reg)
{
	unsigned pin = (reg - REG_REDIR) / 2;

	if (reg == REG_ID || reg == REG_ARB) /* arbitration id: loaded from the id */
		return io->id << ID_SHIFT;
	if (reg == REG_VERSION)
		return IOAPIC_VERSION;
	if (reg < REG_REDIR || pin >= IOAPIC_PINS)
		return 0;
	return (uint32_t)(io->redir[pin] >> (reg & 1 ? 32 : 0));
}

static void entry_write(struct ioapic *io, unsigned pin, bool high, uint32_t val,
			const struct irq_env *env)
{
	uint64_t *e = &io->redir[pin];
	uint64_t rw = high ? RTE_HIGH_RW << 32 : RTE_LOW_RW; /* this half's writable bits */

	*e = (*e & ~rw) | (((uint64_t)val << (high ? 32 : 0)) & rw);
	if (!(*e & IOAPIC_RTE_LEVEL))
		*e &= ~IOAPIC_RTE_RIRR;
	service_level(io, pin, env); /* e.g. unmasking an asserted level pin */
}

static void reg_write(struct ioapic *io, uint32_t reg, uint32_t val, const struct irq_env *env)
{
	unsigned pin = (reg - REG_REDIR) / 2;

	if (reg == REG_ID)
		io->id = (val >> ID_SHIFT) & 0xf;
	else if (reg >= REG_REDIR && pin < IOAPIC_PINS)
		entry_write(io, pin, reg & 1, val, env);
}

uint32_t ioapic_mmio_read(struct ioapic *io, uint64_t offset)
{
	if (offset == MMIO_IOREGSEL)
		return io->ioregsel;
	if (offset == MMIO_IOWIN)
		return reg_read(io, io->ioregsel);
	return 0;
}

void ioapic_mmio_write(struct ioapic *io, uint64_t offset, uint32_t val, const struct irq_env *env)
{
	if (offset == MMIO_IOREGSEL)
		io->ioregsel = val & 0xff;
	else if (offset == MMIO_IOWIN)
		reg_write(io, io->ioregsel, val, env);
}

void ioapic_get_state(const struct ioapic *io, struct ioapic_state_kvm *s)
{
	*s = (struct ioapic_state_kvm){
		.base_address = io->base, .ioregsel = io->ioregsel, .id = io->id, .irr = io->irr};
	__builtin_memcpy(s->redirtbl, io->redir, sizeof(s->redirtbl));
}

int ioapic_set_state(struct ioapic *io, const struct ioapic_state_kvm *s)
{
	if (s->id > 0xf || s->ioregsel > 0xff || s->irr >> IOAPIC_PINS)
		return -EINVAL;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		if (s->redirtbl[i] & ~RTE_VALID)
			return -EINVAL;
	*io = (struct ioapic){
		.base = s->base_address, .ioregsel = s->ioregsel, .id = s->id, .irr = s->irr};
	__builtin_memcpy(io->redir, s->redirtbl, sizeof(io->redir));
	return 0;
}

/* MSI address: 0xfee, destination 19:12, destination mode bit 2. Data: vector 7:0, delivery
 * mode 10:8, level (assert) bit 14, trigger mode bit 15; an edge MSI always asserts. */
bool msi_to_msg(uint64_t addr, uint32_t data, struct apic_msg *m)
{
	bool level = data & (1u << 15);

	if ((addr >> 20) != 0xfee)
		return false;
	*m = (struct apic_msg){
		.dest = (uint32_t)(addr >> 12) & 0xff,
		.vector = (uint8_t)data,
		.delivery = (uint8_t)((data >> 8) & 7),
		.shorthand = SH_NONE,
		.logical = addr & (1u << 2),
		.level = level,
		.assert = !level || (data & (1u << 14)),
	};
	return true;
}
