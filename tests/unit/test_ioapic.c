/* The I/O APIC model (hv/devices/ioapic.c) and the MSI decoder, through a recording env. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "devices/ioapic.h"

#define BASE	IOAPIC_DEFAULT_BASE
#define MASKED	0x10000u
#define LEVEL	0x8000u
#define LOW	0x2000u
#define RIRR	0x4000u
#define LOGICAL 0x800u

static struct ioapic io;
static struct apic_msg msgs[16];
static unsigned nmsgs;

static uint64_t rec_now(void *ctx)
{
	(void)ctx;
	return 0;
}

static void rec_deliver(void *ctx, const struct apic_msg *m)
{
	assert_ptr_equal(ctx, &io);
	assert_true(nmsgs < 16);
	msgs[nmsgs++] = *m;
}

static const struct irq_env env = {.ctx = &io, .now_ns = rec_now, .deliver = rec_deliver};

static int setup(void **state)
{
	(void)state;
	memset(&io, 0xa5, sizeof(io)); /* reset sets everything */
	ioapic_reset(&io, BASE);
	nmsgs = 0;
	return 0;
}

static uint32_t rd(uint32_t reg)
{
	ioapic_mmio_write(&io, 0x00, reg, &env);
	return ioapic_mmio_read(&io, 0x10);
}

static void wr(uint32_t reg, uint32_t val)
{
	ioapic_mmio_write(&io, 0x00, reg, &env);
	ioapic_mmio_write(&io, 0x10, val, &env);
}

static void set_entry(unsigned pin, uint32_t low, uint8_t dest)
{
	wr(0x11 + 2 * pin, (uint32_t)dest << 24);
	wr(0x10 + 2 * pin, low);
}

static void check_msg(unsigned i, uint32_t dest, uint8_t vector, uint8_t dm, bool logical,
		      bool level)
{
	assert_true(i < nmsgs);
	assert_int_equal(msgs[i].dest, dest);
	assert_int_equal(msgs[i].vector, vector);
	assert_int_equal(msgs[i].delivery, dm);
	assert_int_equal(msgs[i].shorthand, SH_NONE);
	assert_int_equal(msgs[i].logical, logical);
	assert_int_equal(msgs[i].level, level);
	assert_true(msgs[i].assert);
}

static void test_reset(void **state)
{
	struct ioapic_state_kvm s;

	(void)state;
	assert_int_equal(ioapic_mmio_read(&io, 0x00), 0);
	assert_int_equal(rd(0x00), 0);
	assert_int_equal(rd(0x01), 0x170011);
	assert_int_equal(rd(0x02), 0);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		assert_int_equal(rd(0x10 + 2 * pin), MASKED);
		assert_int_equal(rd(0x11 + 2 * pin), 0);
	}
	assert_int_equal(rd(0x10 + 2 * IOAPIC_PINS), 0); /* past the last entry */
	ioapic_get_state(&io, &s);
	assert_int_equal(s.base_address, BASE);
	assert_int_equal(s.id, 0);
	assert_int_equal(s.irr, 0);
	assert_int_equal(s.pad, 0);
	assert_int_equal(nmsgs, 0);
}

static void test_registers(void **state)
{
	(void)state;
	wr(0x00, 0xffffffff);
	assert_int_equal(rd(0x00), 0x0f000000);
	assert_int_equal(rd(0x02), 0x0f000000); /* arbitration id follows the id */
	wr(0x00, 0x05000000);
	assert_int_equal(rd(0x00), 0x05000000);
	wr(0x01, 0);
	assert_int_equal(rd(0x01), 0x170011);
	wr(0x02, 0);
	assert_int_equal(rd(0x02), 0x05000000);
	ioapic_mmio_write(&io, 0x00, 0x1ff, &env);
	assert_int_equal(ioapic_mmio_read(&io, 0x00), 0xff);
	assert_int_equal(ioapic_mmio_read(&io, 0x10), 0);
	assert_int_equal(ioapic_mmio_read(&io, 0x20), 0);
	assert_int_equal(ioapic_mmio_read(&io, 0x40), 0);
	/* entry 5: reserved bits read 0, delivery status and remote IRR ignore writes */
	wr(0x1a, 0xffffffff);
	wr(0x1b, 0xffffffff);
	assert_int_equal(rd(0x1a), 0x1afff);
	assert_int_equal(rd(0x1b), 0xff000000);
	wr(0x1b, 0x12345678);
	assert_int_equal(rd(0x1b), 0x12000000);
	assert_int_equal(rd(0x1a), 0x1afff);
	assert_int_equal(io.redir[5], 0x120000000001afffULL);
	assert_int_equal(nmsgs, 0);
}

static void test_readonly_remote_irr(void **state)
{
	(void)state;
	set_entry(3, LEVEL | 0x40, 2);
	ioapic_set_irq(&io, 3, 1, &env);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(rd(0x16), LEVEL | RIRR | 0x40);
	wr(0x16, LEVEL | 0x41); /* remote IRR written as 0: kept */
	assert_int_equal(rd(0x16), LEVEL | RIRR | 0x41);
	assert_int_equal(nmsgs, 1);
	wr(0x16, 0x41); /* edge: remote IRR has no meaning and is cleared */
	assert_int_equal(rd(0x16), 0x41);
	assert_int_equal(nmsgs, 1);
}

static void test_edge(void **state)
{
	(void)state;
	set_entry(4, 0x31, 1);
	ioapic_set_irq(&io, 4, 1, &env);
	assert_int_equal(nmsgs, 1);
	check_msg(0, 1, 0x31, DM_FIXED, false, false);
	ioapic_set_irq(&io, 4, 1, &env); /* no new edge */
	assert_int_equal(nmsgs, 1);
	ioapic_eoi(&io, 0x31, &env); /* an edge pin has nothing to do with EOIs */
	assert_int_equal(nmsgs, 1);
	ioapic_set_irq(&io, 4, 0, &env);
	assert_int_equal(nmsgs, 1);
	ioapic_set_irq(&io, 4, 1, &env);
	assert_int_equal(nmsgs, 2);
	assert_int_equal(rd(0x18) & (RIRR | 0x1000), 0);
	/* a masked edge is lost: unmasking does not deliver it */
	set_entry(6, MASKED | 0x32, 0);
	ioapic_set_irq(&io, 6, 1, &env);
	ioapic_set_irq(&io, 6, 0, &env);
	ioapic_set_irq(&io, 6, 1, &env);
	set_entry(6, 0x32, 0);
	assert_int_equal(nmsgs, 2);
	ioapic_set_irq(&io, 24, 1, &env); /* no such pin */
	assert_int_equal(nmsgs, 2);
}

static void test_level_eoi(void **state)
{
	(void)state;
	set_entry(9, LEVEL | LOGICAL | (DM_LOWEST << 8) | 0x41, 0x0f);
	ioapic_set_irq(&io, 9, 1, &env);
	assert_int_equal(nmsgs, 1);
	check_msg(0, 0x0f, 0x41, DM_LOWEST, true, true);
	assert_int_equal(rd(0x22) & RIRR, RIRR);
	ioapic_set_irq(&io, 9, 1, &env); /* remote IRR set: waits for the EOI */
	assert_int_equal(nmsgs, 1);
	ioapic_eoi(&io, 0x42, &env); /* another vector */
	assert_int_equal(nmsgs, 1);
	ioapic_eoi(&io, 0x41, &env); /* still asserted: again */
	assert_int_equal(nmsgs, 2);
	check_msg(1, 0x0f, 0x41, DM_LOWEST, true, true);
	assert_int_equal(rd(0x22) & RIRR, RIRR);
	ioapic_set_irq(&io, 9, 0, &env);
	assert_int_equal(rd(0x22) & RIRR, RIRR); /* until the EOI */
	ioapic_eoi(&io, 0x41, &env);
	assert_int_equal(rd(0x22) & RIRR, 0);
	assert_int_equal(nmsgs, 2);
	/* two pins sharing a vector: one EOI serves both */
	set_entry(10, LEVEL | 0x41, 0);
	ioapic_set_irq(&io, 9, 1, &env);
	ioapic_set_irq(&io, 10, 1, &env);
	assert_int_equal(nmsgs, 4);
	ioapic_set_irq(&io, 9, 0, &env);
	ioapic_eoi(&io, 0x41, &env);
	assert_int_equal(nmsgs, 5); /* pin 10 again */
	check_msg(4, 0, 0x41, DM_FIXED, false, true);
	assert_int_equal(rd(0x22) & RIRR, 0);
	assert_int_equal(rd(0x24) & RIRR, RIRR);
}

static unsigned acked_pin = ~0u;

/* A resampler as irqchip.c has one: the EOIed pin's line drops before the pin is looked at. */
static void ack_lowers(void *ctx, unsigned pin)
{
	acked_pin = pin;
	ioapic_set_irq(ctx, pin, 0, &env);
}

static void test_ack_before_reservice(void **state)
{
	const struct irq_env with_ack = {
		.ctx = &io, .now_ns = rec_now, .deliver = rec_deliver, .ack = ack_lowers};

	(void)state;
	set_entry(11, LEVEL | 0x43, 0);
	ioapic_set_irq(&io, 11, 1, &with_ack);
	assert_int_equal(nmsgs, 1);
	ioapic_eoi(&io, 0x44, &with_ack); /* another vector: no ack */
	assert_int_equal(acked_pin, ~0u);
	ioapic_eoi(&io, 0x43, &with_ack);
	assert_int_equal(acked_pin, 11);
	assert_int_equal(nmsgs, 1); /* lowered by the ack: not delivered again */
	assert_int_equal(rd(0x26) & RIRR, 0);
}

static void test_masked_level(void **state)
{
	(void)state;
	set_entry(11, MASKED | LEVEL | 0x51, 3);
	ioapic_set_irq(&io, 11, 1, &env);
	assert_int_equal(nmsgs, 0);
	assert_int_equal(io.irr, 1u << 11);
	wr(0x27, 0x04000000); /* the high half: still masked */
	assert_int_equal(nmsgs, 0);
	wr(0x26, LEVEL | 0x51); /* unmask: the asserted input delivers */
	assert_int_equal(nmsgs, 1);
	check_msg(0, 4, 0x51, DM_FIXED, false, true);
	assert_int_equal(rd(0x26), LEVEL | RIRR | 0x51);
	/* masked again, the EOI clears remote IRR but nothing is sent */
	wr(0x26, MASKED | LEVEL | 0x51);
	ioapic_eoi(&io, 0x51, &env);
	assert_int_equal(rd(0x26), MASKED | LEVEL | 0x51);
	assert_int_equal(nmsgs, 1);
	/* deasserted while masked: unmasking sends nothing */
	ioapic_set_irq(&io, 11, 0, &env);
	wr(0x26, LEVEL | 0x51);
	assert_int_equal(nmsgs, 1);
}

static void test_polarity(void **state)
{
	(void)state;
	/* as KVM's: the polarity bit is kept, but 1 is asserted and 0 is not whatever it says */
	ioapic_set_irq(&io, 16, 1, &env);
	assert_int_equal(io.irr, 1u << 16);
	set_entry(16, LEVEL | LOW | 0x61, 0);
	assert_int_equal(io.irr, 1u << 16);
	assert_int_equal(nmsgs, 1); /* unmasked while asserted: delivers */
	check_msg(0, 0, 0x61, DM_FIXED, false, true);
	assert_int_equal((uint32_t)io.redir[16] & LOW, LOW);
	ioapic_set_irq(&io, 16, 0, &env);
	ioapic_eoi(&io, 0x61, &env);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(io.irr, 0);
	/* active-low edge pin: the rising edge of 1 delivers, the falling one does not */
	set_entry(17, LOW | 0x62, 0);
	assert_int_equal(nmsgs, 1);
	ioapic_set_irq(&io, 17, 1, &env);
	assert_int_equal(nmsgs, 2);
	check_msg(1, 0, 0x62, DM_FIXED, false, false);
	ioapic_set_irq(&io, 17, 0, &env);
	assert_int_equal(nmsgs, 2);
	/* an idle line on an active-low level pin is not asserted: unmasking sends nothing */
	set_entry(18, LEVEL | LOW | 0x63, 0);
	assert_int_equal(nmsgs, 2);
}

static void test_state(void **state)
{
	struct ioapic_state_kvm s, s2;
	struct ioapic fresh;
	const uint8_t *b = (const uint8_t *)&s;

	(void)state;
	assert_int_equal(sizeof(s), 216);
	assert_int_equal(offsetof(struct ioapic_state_kvm, irr), 16);
	assert_int_equal(offsetof(struct ioapic_state_kvm, redirtbl), 24);
	wr(0x00, 0x03000000);
	set_entry(2, 0x30, 0);
	set_entry(9, LEVEL | LOGICAL | 0x41, 0x0f);
	ioapic_set_irq(&io, 9, 1, &env);
	ioapic_set_irq(&io, 2, 1, &env);
	ioapic_mmio_write(&io, 0x00, 0x13, &env);
	ioapic_get_state(&io, &s);
	assert_int_equal(s.base_address, BASE);
	assert_int_equal(s.ioregsel, 0x13);
	assert_int_equal(s.id, 3);
	assert_int_equal(s.irr, 0x204);
	assert_int_equal(s.redirtbl[9], 0x0f0000000000c841ULL);
	assert_int_equal(s.redirtbl[2], 0x30);
	assert_int_equal(s.redirtbl[0], MASKED);
	/* KVM's bitfields: byte 24 + 8 * 9 is the vector, byte 31 + 8 * 9 the destination */
	assert_int_equal(b[24 + 72], 0x41);
	assert_int_equal(b[25 + 72], 0xc8);
	assert_int_equal(b[31 + 72], 0x0f);
	ioapic_reset(&fresh, 0);
	assert_int_equal(ioapic_set_state(&fresh, &s), 0);
	ioapic_get_state(&fresh, &s2);
	assert_memory_equal(&s, &s2, sizeof(s));
	assert_int_equal(nmsgs, 2); /* a restore sends nothing */
	/* the restored pin waits for its EOI, then is still asserted */
	ioapic_eoi(&fresh, 0x41, &env);
	assert_int_equal(nmsgs, 3);
	/* invalid states leave the model alone */
	s2 = s;
	s2.id = 16;
	assert_int_equal(ioapic_set_state(&fresh, &s2), -EINVAL);
	s2 = s;
	s2.ioregsel = 0x100;
	assert_int_equal(ioapic_set_state(&fresh, &s2), -EINVAL);
	s2 = s;
	s2.irr = 1u << 24;
	assert_int_equal(ioapic_set_state(&fresh, &s2), -EINVAL);
	s2 = s;
	s2.redirtbl[1] |= 1ULL << 20;
	assert_int_equal(ioapic_set_state(&fresh, &s2), -EINVAL);
	s2 = s;
	s2.redirtbl[1] |= 0x1000;
	assert_int_equal(ioapic_set_state(&fresh, &s2), -EINVAL);
	ioapic_get_state(&fresh, &s2);
	assert_int_equal(s2.redirtbl[9], s.redirtbl[9]);
}

static void test_msi(void **state)
{
	struct apic_msg m;

	(void)state;
	assert_true(msi_to_msg(0xfee01000, 0x0031, &m));
	assert_int_equal(m.dest, 1);
	assert_int_equal(m.vector, 0x31);
	assert_int_equal(m.delivery, DM_FIXED);
	assert_false(m.logical);
	assert_false(m.level);
	assert_true(m.assert);
	assert_true(msi_to_msg(0xfeeff00c, 0x0122, &m)); /* logical, redirection hint */
	assert_int_equal(m.dest, 0xff);
	assert_true(m.logical);
	assert_int_equal(m.delivery, DM_LOWEST);
	assert_int_equal(m.vector, 0x22);
	assert_true(msi_to_msg(0xfee00000, 0xc400, &m)); /* level, asserted, NMI */
	assert_int_equal(m.delivery, DM_NMI);
	assert_true(m.level);
	assert_true(m.assert);
	assert_true(msi_to_msg(0xfee00000, 0x8500, &m)); /* level, deasserted, INIT */
	assert_int_equal(m.delivery, DM_INIT);
	assert_true(m.level);
	assert_false(m.assert);
	assert_true(msi_to_msg(0xfeefffff, 0, &m));
	assert_false(msi_to_msg(0xfed00000, 0x31, &m));
	assert_false(msi_to_msg(0xfef00000, 0x31, &m));
	assert_false(msi_to_msg(0x1fee00000ULL, 0x31, &m));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
	const struct CMUnitTest tests[] = {
		T(test_reset),
		T(test_registers),
		T(test_readonly_remote_irr),
		T(test_edge),
		T(test_level_eoi),
		T(test_masked_level),
		T(test_polarity),
		T(test_state),
		T(test_msi),
		T(test_ack_before_reservice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
