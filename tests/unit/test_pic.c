/* The 8259A pair model (hv/devices/pic.c): ports, the INT output and the INTA cycle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "devices/pic.h"

static struct pic pic;

static void out(uint16_t port, uint8_t val)
{
	pic_port_write(&pic, port, val);
}

static uint8_t in(uint16_t port)
{
	return pic_port_read(&pic, port);
}

/* Linux's sequence: edge, cascade, ICW4; vectors 0x20 and 0x28; slave on IR2; 8086 mode. */
static void init_linux(uint8_t icw4)
{
	out(0x20, 0x11);
	out(0x21, 0x20);
	out(0x21, 0x04);
	out(0x21, icw4);
	out(0xa0, 0x11);
	out(0xa1, 0x28);
	out(0xa1, 0x02);
	out(0xa1, icw4);
}

static uint8_t read_isr(uint16_t cmd)
{
	out(cmd, 0x0b);
	return in(cmd);
}

static uint8_t read_irr(uint16_t cmd)
{
	out(cmd, 0x0a);
	return in(cmd);
}

static int setup(void **state)
{
	(void)state;
	memset(&pic, 0xa5, sizeof(pic)); /* reset sets everything */
	pic_reset(&pic);
	return 0;
}

/* An edge on a line: up, and down again as devices pulse them. */
static void pulse(unsigned irq)
{
	pic_set_irq(&pic, irq, 1);
	pic_set_irq(&pic, irq, 0);
}

static void test_reset(void **state)
{
	struct pic_state_kvm s;
	const uint8_t zero[14] = {0};

	(void)state;
	for (unsigned chip = 0; chip < 2; chip++) {
		pic_get_state(&pic, chip, &s);
		assert_memory_equal(&s, zero, sizeof(zero));
		assert_int_equal(s.elcr, 0);
		assert_int_equal(s.elcr_mask, chip ? 0xde : 0xf8);
	}
	assert_false(pic_intr(&pic));
	assert_int_equal(in(0x21), 0);
	assert_int_equal(in(0xa1), 0);
	assert_int_equal(in(0x20), 0);
	assert_int_equal(in(0x4d0), 0);
	assert_int_equal(in(0x22), 0xff);
}

static void test_init_sequence(void **state)
{
	struct pic_state_kvm s;

	(void)state;
	out(0x21, 0xff); /* masks before initialization: ICW1 clears them */
	out(0x20, 0x11);
	pic_get_state(&pic, PIC_MASTER, &s);
	assert_int_equal(s.init_state, 1);
	assert_int_equal(s.init4, 1);
	assert_int_equal(s.imr, 0);
	out(0x21, 0x20);
	pic_get_state(&pic, PIC_MASTER, &s);
	assert_int_equal(s.init_state, 2);
	out(0x21, 0x04);
	pic_get_state(&pic, PIC_MASTER, &s);
	assert_int_equal(s.init_state, 3);
	out(0x21, 0x01);
	pic_get_state(&pic, PIC_MASTER, &s);
	assert_int_equal(s.init_state, 0);
	assert_int_equal(s.irq_base, 0x20);
	assert_int_equal(s.auto_eoi, 0);
	out(0xa0, 0x11);
	out(0xa1, 0x2f); /* the low three bits are the IR number */
	out(0xa1, 0x02);
	out(0xa1, 0x01);
	pic_get_state(&pic, PIC_SLAVE, &s);
	assert_int_equal(s.irq_base, 0x28);
	assert_int_equal(s.init_state, 0);

	pic_set_irq(&pic, 0, 1);
	assert_true(pic_intr(&pic));
	assert_int_equal(pic_ack(&pic), 0x20);
	assert_false(pic_intr(&pic));
	assert_int_equal(read_isr(0x20), 0x01);
	assert_int_equal(read_irr(0x20), 0x00);
	out(0x20, 0x20); /* non-specific EOI */
	assert_int_equal(read_isr(0x20), 0);
	assert_false(pic_intr(&pic));
	pic_set_irq(&pic, 0, 1); /* still high: no new edge */
	assert_false(pic_intr(&pic));
	pulse(0);
	pic_set_irq(&pic, 0, 1);
	assert_true(pic_intr(&pic));
}

static void test_without_icw4(void **state)
{
	struct pic_state_kvm s;

	(void)state;
	init_linux(0x03); /* AEOI */
	out(0x20, 0x10);  /* no ICW4: its functions are off */
	out(0x21, 0x40);
	out(0x21, 0x04);
	pic_get_state(&pic, PIC_MASTER, &s);
	assert_int_equal(s.init_state, 0);
	assert_int_equal(s.auto_eoi, 0);
	assert_int_equal(s.irq_base, 0x40);
	out(0x21, 0xfe); /* OCW1 */
	assert_int_equal(in(0x21), 0xfe);
	/* single mode: no ICW3 */
	out(0x20, 0x13);
	out(0x21, 0x60);
	out(0x21, 0x03);
	pic_get_state(&pic, PIC_MASTER, &s);
	assert_int_equal(s.init_state, 0);
	assert_int_equal(s.auto_eoi, 1);
	assert_int_equal(s.irq_base, 0x60);
	pulse(10); /* no cascade: IR2 is the master's own */
	assert_int_equal(pic_ack(&pic), 0x62);
}

static void test_priority(void **state)
{
	(void)state;
	init_linux(0x01);
	pulse(3);
	pulse(1);
	assert_int_equal(read_irr(0x20), 0x0a);
	assert_int_equal(pic_ack(&pic), 0x21);
	assert_false(pic_intr(&pic)); /* IR3 is lower than IR1 in service */
	pulse(0);
	assert_true(pic_intr(&pic)); /* IR0 is higher: nested */
	assert_int_equal(pic_ack(&pic), 0x20);
	assert_int_equal(read_isr(0x20), 0x03);
	out(0x20, 0x20); /* ends IR0, the highest in service */
	assert_int_equal(read_isr(0x20), 0x02);
	assert_false(pic_intr(&pic));
	out(0x20, 0x20);
	assert_true(pic_intr(&pic));
	assert_int_equal(pic_ack(&pic), 0x23);
	out(0x20, 0x63); /* specific EOI of IR3 */
	assert_int_equal(read_isr(0x20), 0);
}

static void test_cascade(void **state)
{
	(void)state;
	init_linux(0x01);
	pulse(10);
	assert_int_equal(read_irr(0xa0), 0x04);
	assert_int_equal(read_irr(0x20), 0x04); /* the slave's INT on IR2 */
	assert_true(pic_intr(&pic));
	assert_int_equal(pic_ack(&pic), 0x2a);
	assert_int_equal(read_isr(0x20), 0x04);
	assert_int_equal(read_isr(0xa0), 0x04);
	assert_false(pic_intr(&pic));
	pulse(1); /* higher than IR2 at the master */
	pulse(15);
	assert_int_equal(pic_ack(&pic), 0x21);
	out(0x20, 0x20);	      /* IR1 */
	assert_false(pic_intr(&pic)); /* IRQ 15 waits behind IR2 in service */
	out(0xa0, 0x20);
	out(0x20, 0x20);
	assert_true(pic_intr(&pic));
	assert_int_equal(pic_ack(&pic), 0x2f);
	assert_int_equal(read_isr(0x20), 0x04);
	assert_int_equal(read_isr(0xa0), 0x80);
}

static void test_fully_nested(void **state)
{
	(void)state;
	init_linux(0x11); /* special fully nested mode */
	pulse(12);
	assert_int_equal(pic_ack(&pic), 0x2c);
	pulse(9); /* higher at the slave: passes the master's IR2 in service */
	assert_true(pic_intr(&pic));
	assert_int_equal(pic_ack(&pic), 0x29);
	assert_int_equal(read_isr(0xa0), 0x12);
	/* without it the master blocks the slave */
	setup(NULL);
	init_linux(0x01);
	pulse(12);
	assert_int_equal(pic_ack(&pic), 0x2c);
	pulse(9);
	assert_false(pic_intr(&pic));
}

static void test_masks(void **state)
{
	(void)state;
	init_linux(0x01);
	out(0x21, 0x01);
	out(0xa1, 0x04);
	assert_int_equal(in(0x21), 0x01);
	assert_int_equal(in(0xa1), 0x04);
	pulse(0);
	pulse(10);
	assert_false(pic_intr(&pic));
	assert_int_equal(read_irr(0x20), 0x01); /* the request is kept */
	assert_int_equal(read_irr(0xa0), 0x04);
	out(0xa1, 0);
	assert_true(pic_intr(&pic));
	assert_int_equal(pic_ack(&pic), 0x2a);
	out(0xa0, 0x20);
	out(0x20, 0x20);
	out(0x21, 0x04); /* the cascade masked: the slave cannot interrupt */
	pulse(11);
	assert_true(pic_intr(&pic)); /* IR0 unmasked */
	assert_int_equal(pic_ack(&pic), 0x20);
	out(0x20, 0x20);
	assert_false(pic_intr(&pic));
	out(0x21, 0);
	assert_int_equal(pic_ack(&pic), 0x2b);
}

static void test_rotation(void **state)
{
	struct pic_state_kvm s;

	(void)state;
	init_linux(0x01);
	pulse(1);
	assert_int_equal(pic_ack(&pic), 0x21);
	out(0x20, 0xa0); /* rotate on non-specific EOI: IR1 becomes the lowest */
	pic_get_state(&pic, PIC_MASTER, &s);
	assert_int_equal(s.priority_add, 2);
	assert_int_equal(s.isr, 0);
	pulse(1);
	pulse(3);
	assert_int_equal(pic_ack(&pic), 0x23);
	out(0x20, 0xe3); /* rotate on specific EOI */
	pic_get_state(&pic, PIC_MASTER, &s);
	assert_int_equal(s.priority_add, 4);
	assert_int_equal(pic_ack(&pic), 0x21);
	out(0x20, 0x20);
	out(0x20, 0xc7); /* set priority: IR7 the lowest, IR0 the highest */
	pic_get_state(&pic, PIC_MASTER, &s);
	assert_int_equal(s.priority_add, 0);
	out(0x20, 0xc4); /* IR4 lowest: IR5 highest */
	pulse(4);
	pulse(6);
	assert_int_equal(pic_ack(&pic), 0x26);
	out(0x20, 0x40); /* no operation */
	assert_int_equal(read_isr(0x20), 0x40);
}

static void test_auto_eoi(void **state)
{
	struct pic_state_kvm s;

	(void)state;
	init_linux(0x03);
	pulse(3);
	pulse(5);
	assert_int_equal(pic_ack(&pic), 0x23);
	assert_int_equal(read_isr(0x20), 0); /* nothing stays in service */
	assert_true(pic_intr(&pic));
	out(0x20, 0x80); /* rotate in AEOI mode */
	pic_get_state(&pic, PIC_MASTER, &s);
	assert_int_equal(s.rotate_on_auto_eoi, 1);
	assert_int_equal(pic_ack(&pic), 0x25);
	pic_get_state(&pic, PIC_MASTER, &s);
	assert_int_equal(s.priority_add, 6);
	out(0x20, 0x00);
	pic_get_state(&pic, PIC_MASTER, &s);
	assert_int_equal(s.rotate_on_auto_eoi, 0);
	pulse(10); /* the slave in AEOI, the master too */
	assert_int_equal(pic_ack(&pic), 0x2a);
	assert_int_equal(read_isr(0xa0), 0);
	assert_int_equal(read_isr(0x20), 0);
}

static void test_read_select(void **state)
{
	(void)state;
	init_linux(0x01);
	pulse(4);
	pulse(6);
	assert_int_equal(pic_ack(&pic), 0x24);
	assert_int_equal(read_irr(0x20), 0x40);
	assert_int_equal(in(0x20), 0x40); /* the selection stays */
	assert_int_equal(read_isr(0x20), 0x10);
	assert_int_equal(in(0x20), 0x10);
	out(0x20, 0x08); /* OCW3 without RR: no change */
	assert_int_equal(in(0x20), 0x10);
	assert_int_equal(in(0x21), 0x00); /* the data port reads IMR */
}

static void test_poll(void **state)
{
	(void)state;
	init_linux(0x01);
	out(0x20, 0x0c);
	assert_int_equal(in(0x20), 0x00); /* nothing requested */
	assert_int_equal(in(0x20), 0x00); /* IRR: the poll is over */
	pulse(5);
	pulse(3);
	out(0x20, 0x0c);
	assert_int_equal(in(0x21), 0x83); /* the next read of either port */
	assert_int_equal(read_isr(0x20), 0x08);
	assert_int_equal(read_irr(0x20), 0x20);
	assert_int_equal(in(0x21), 0); /* IMR again */
	/* the slave polled alone */
	pulse(13);
	out(0xa0, 0x0c);
	assert_int_equal(in(0xa0), 0x85);
	assert_int_equal(read_isr(0xa0), 0x20);
}

static void test_special_mask(void **state)
{
	struct pic_state_kvm s;

	(void)state;
	init_linux(0x01);
	pulse(3);
	assert_int_equal(pic_ack(&pic), 0x23);
	out(0x21, 0x08); /* the routine masks its own level */
	pulse(5);
	assert_false(pic_intr(&pic)); /* blocked by IR3 in service */
	out(0x20, 0x68);	      /* set special mask mode */
	pic_get_state(&pic, PIC_MASTER, &s);
	assert_int_equal(s.special_mask, 1);
	assert_true(pic_intr(&pic));
	assert_int_equal(pic_ack(&pic), 0x25);
	assert_int_equal(read_isr(0x20), 0x28);
	out(0x20, 0x20); /* non-specific EOI: IR5, the masked IR3 is passed over */
	assert_int_equal(read_isr(0x20), 0x08);
	out(0x20, 0x48); /* reset special mask mode */
	pic_get_state(&pic, PIC_MASTER, &s);
	assert_int_equal(s.special_mask, 0);
	pulse(5);
	assert_false(pic_intr(&pic));
	out(0x20, 0x20);
	assert_true(pic_intr(&pic));
}

static void test_elcr(void **state)
{
	(void)state;
	init_linux(0x01);
	out(0x4d0, 0xff);
	out(0x4d1, 0xff);
	assert_int_equal(in(0x4d0), 0xf8);
	assert_int_equal(in(0x4d1), 0xde);
	out(0x4d0, 0x20);
	out(0x4d1, 0x04);
	pic_set_irq(&pic, 5, 1);
	assert_int_equal(pic_ack(&pic), 0x25);
	assert_int_equal(read_irr(0x20), 0x20); /* level: still requested */
	out(0x20, 0x20);
	assert_true(pic_intr(&pic));
	assert_int_equal(pic_ack(&pic), 0x25);
	out(0x20, 0x20);
	pic_set_irq(&pic, 5, 0);
	assert_int_equal(read_irr(0x20), 0);
	assert_false(pic_intr(&pic));
	pic_set_irq(&pic, 10, 1);
	assert_int_equal(pic_ack(&pic), 0x2a);
	out(0xa0, 0x20);
	out(0x20, 0x20);
	assert_int_equal(pic_ack(&pic), 0x2a);
	/* an edge line pulsed stays requested */
	pulse(4);
	assert_int_equal(read_irr(0x20), 0x10);
	/* a line made level-triggered while high requests at once */
	pic_set_irq(&pic, 10, 0);
	pic_set_irq(&pic, 6, 1);
	out(0xa0, 0x20);
	out(0x20, 0x20);
	assert_int_equal(pic_ack(&pic), 0x24);
	out(0x20, 0x20);
	assert_int_equal(pic_ack(&pic), 0x26);
	out(0x20, 0x20);
	assert_int_equal(read_irr(0x20), 0);
	out(0x4d0, 0x60);
	assert_int_equal(in(0x4d0), 0x60);
	assert_int_equal(read_irr(0x20), 0x40);
	assert_true(pic_intr(&pic));
}

static void test_spurious(void **state)
{
	(void)state;
	init_linux(0x01);
	out(0x4d0, 0x20);
	out(0x4d1, 0x04);
	pic_set_irq(&pic, 5, 1);
	assert_true(pic_intr(&pic));
	pic_set_irq(&pic, 5, 0); /* gone before the INTA */
	assert_int_equal(pic_ack(&pic), 0x27);
	assert_int_equal(read_isr(0x20), 0);
	/* through the cascade: the master has latched IR2, the slave has nothing */
	pic_set_irq(&pic, 10, 1);
	assert_true(pic_intr(&pic));
	pic_set_irq(&pic, 10, 0);
	assert_true(pic_intr(&pic));
	assert_int_equal(pic_ack(&pic), 0x2f);
	assert_int_equal(read_isr(0x20), 0x04);
	assert_int_equal(read_isr(0xa0), 0);
	out(0x20, 0x20);
	/* an edge request masked after INT */
	pulse(6);
	out(0x21, 0x40);
	assert_int_equal(pic_ack(&pic), 0x27);
	assert_int_equal(read_isr(0x20), 0);
}

static void test_ignored_lines(void **state)
{
	(void)state;
	init_linux(0x01);
	pic_set_irq(&pic, 2, 1); /* the cascade is not an input */
	pic_set_irq(&pic, 16, 1);
	assert_false(pic_intr(&pic));
	assert_int_equal(read_irr(0x20), 0);
	assert_int_equal(read_irr(0xa0), 0);
}

/* test_state's snapshot: IR2 then slave IR7 in service, master IR1 and IR5 requested */
static const struct pic_state_kvm want_master = {.last_irr = 0x02,
						 .irr = 0x22,
						 .isr = 0x04,
						 .priority_add = 2,
						 .irq_base = 0x20,
						 .read_reg_select = 1,
						 .poll = 1,
						 .special_mask = 1,
						 .init4 = 1,
						 .elcr_mask = 0xf8};
static const struct pic_state_kvm want_slave = {.last_irr = 0x80,
						.irr = 0x80,
						.imr = 0x40,
						.isr = 0x80,
						.irq_base = 0x28,
						.init4 = 1,
						.elcr = 0x80,
						.elcr_mask = 0xde};

static void test_state(void **state)
{
	struct pic_state_kvm s[2], t[2];
	struct pic fresh;

	(void)state;
	assert_int_equal(sizeof(struct pic_state_kvm), 16);
	assert_int_equal(offsetof(struct pic_state_kvm, irq_base), 5);
	assert_int_equal(offsetof(struct pic_state_kvm, elcr_mask), 15);
	init_linux(0x01);
	out(0x4d1, 0x80);
	out(0xa1, 0x40);
	out(0x20, 0xc1); /* IR2 the highest */
	pic_set_irq(&pic, 15, 1);
	pulse(5);
	pic_set_irq(&pic, 1, 1);
	assert_int_equal(pic_ack(&pic), 0x2f);
	out(0x20, 0x0b);
	out(0x20, 0x6c);
	pic_get_state(&pic, PIC_MASTER, &s[0]);
	pic_get_state(&pic, PIC_SLAVE, &s[1]);
	assert_memory_equal(&s[0], &want_master, 16);
	assert_memory_equal(&s[1], &want_slave, 16);
	assert_int_equal(((const uint8_t *)&s[1])[5], 0x28); /* irq_base, KVM's sixth byte */
	pic_reset(&fresh);
	assert_int_equal(pic_set_state(&fresh, PIC_MASTER, &s[0]), 0);
	assert_int_equal(pic_set_state(&fresh, PIC_SLAVE, &s[1]), 0);
	pic_get_state(&fresh, PIC_MASTER, &t[0]);
	pic_get_state(&fresh, PIC_SLAVE, &t[1]);
	assert_memory_equal(s, t, sizeof(s));
	assert_memory_equal(&fresh, &pic, sizeof(pic));
	/* invalid states */
	t[0] = s[0];
	t[0].init_state = 4;
	assert_int_equal(pic_set_state(&fresh, PIC_MASTER, &t[0]), -EINVAL);
	t[0] = s[0];
	t[0].priority_add = 8;
	assert_int_equal(pic_set_state(&fresh, PIC_MASTER, &t[0]), -EINVAL);
	t[0] = s[0];
	t[0].auto_eoi = 2;
	assert_int_equal(pic_set_state(&fresh, PIC_MASTER, &t[0]), -EINVAL);
	t[0] = s[0];
	t[0].irq_base = 0x21;
	assert_int_equal(pic_set_state(&fresh, PIC_MASTER, &t[0]), -EINVAL);
	assert_int_equal(pic_set_state(&fresh, 2, &s[0]), -EINVAL);
	pic_get_state(&fresh, PIC_MASTER, &t[0]);
	assert_memory_equal(&t[0], &s[0], 16);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
	const struct CMUnitTest tests[] = {
		T(test_reset),	     T(test_init_sequence), T(test_without_icw4),
		T(test_priority),    T(test_cascade),	    T(test_fully_nested),
		T(test_masks),	     T(test_rotation),	    T(test_auto_eoi),
		T(test_read_select), T(test_poll),	    T(test_special_mask),
		T(test_elcr),	     T(test_spurious),	    T(test_ignored_lines),
		T(test_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
