/* The 8254 PIT model (hv/devices/pit.c) on a fake VM clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/pit.h"

/* The first ns at which k ticks of 1193182 Hz have elapsed. */
#define T(k) (((uint64_t)(k)*1000000000u + 1193181u) / 1193182u)

static uint64_t clk;
static int irqs[64][2]; /* set_irq calls: gsi, level */
static int nirqs;
static struct pit pit;

static uint64_t fake_now(void *ctx)
{
	(void)ctx;
	return clk;
}

static void fake_set_irq(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	assert_true(nirqs < 64);
	irqs[nirqs][0] = (int)gsi;
	irqs[nirqs++][1] = level;
}

static const struct irq_env env = {.now_ns = fake_now, .set_irq = fake_set_irq};

static int setup(void **state)
{
	(void)state;
	clk = 0;
	nirqs = 0;
	memset(&pit, 0, sizeof(pit));
	pit_reset(&pit, &env);
	return 0;
}

static uint8_t in(uint16_t port)
{
	return pit_port_read(&pit, port, &env);
}

static void out(uint16_t port, uint8_t v)
{
	pit_port_write(&pit, port, v, &env);
}

/* A control word, then a 16-bit count LSB first. */
static void program(unsigned ch, uint8_t cw, uint16_t count)
{
	out(0x43, cw);
	out((uint16_t)(0x40 + ch), (uint8_t)count);
	out((uint16_t)(0x40 + ch), (uint8_t)(count >> 8));
}

static unsigned read16(unsigned ch)
{
	unsigned lo = in((uint16_t)(0x40 + ch));

	return lo | (unsigned)in((uint16_t)(0x40 + ch)) << 8;
}

static unsigned count_at(unsigned ch, uint64_t ns)
{
	clk = ns;
	return read16(ch);
}

static uint8_t status(unsigned ch)
{
	out(0x43, (uint8_t)(0xe0 | 2 << ch)); /* read-back, status only */
	return in((uint16_t)(0x40 + ch));
}

static void assert_irqs(int n, const int (*want)[2])
{
	assert_int_equal(nirqs, n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(irqs[i][0], want[i][0]);
		assert_int_equal(irqs[i][1], want[i][1]);
	}
	nirqs = 0;
}

static void tick_at(uint64_t ns)
{
	clk = ns;
	pit_tick(&pit, &env);
}

static void test_reset(void **state)
{
	(void)state;
	assert_int_equal(nirqs, 0);
	assert_true(pit_next_ns(&pit) == NO_DEADLINE);
	assert_int_equal(status(0), 0x70); /* output low, null count, LSB-MSB, mode 0 */
	assert_int_equal(status(2), 0x70);
	assert_int_equal(in(0x61) & 0x23, 0); /* gate 2 low, speaker off, output 2 low */
	assert_int_equal(in(0x43), 0xff);
}

static void test_rw_modes(void **state)
{
	(void)state;
	out(0x43, 0x50); /* channel 1, LSB only, mode 0 */
	out(0x41, 0x20);
	assert_int_equal(in(0x41), 0x20);
	assert_int_equal(in(0x41), 0x20);
	assert_int_equal(count_at(1, T(0x10)), 0x1010); /* two LSB reads: 0x10 twice */
	clk = 0;
	out(0x43, 0x60); /* MSB only */
	out(0x41, 0x12);
	assert_int_equal(in(0x41), 0x12);
	clk = T(1); /* 0x11ff */
	assert_int_equal(in(0x41), 0x11);
	program(1, 0x70, 0x1234);
	assert_int_equal(read16(1), 0x1234);
	assert_int_equal(status(1), 0x30);
}

static void test_mode0(void **state)
{
	static const int high[][2] = {{0, 1}};
	static const int low[][2] = {{0, 0}};

	(void)state;
	program(0, 0x30, 1000);
	assert_int_equal(nirqs, 0);
	assert_int_equal(pit_next_ns(&pit), T(1000));
	assert_int_equal(count_at(0, 838), 1000);
	assert_int_equal(count_at(0, 839), 999);
	assert_int_equal(count_at(0, T(500)), 500);
	assert_int_equal(status(0), 0x30);
	tick_at(T(1000) - 1);
	assert_int_equal(nirqs, 0);
	tick_at(T(1000));
	assert_irqs(1, high);
	assert_true(pit_next_ns(&pit) == NO_DEADLINE);
	tick_at(T(5000));
	assert_int_equal(nirqs, 0);
	assert_int_equal(status(0), 0xb0);
	assert_int_equal(count_at(0, 1000000), 65343); /* 1193 ticks: wrapped */
	program(0, 0x30, 10);			       /* the control word drops the output */
	assert_irqs(1, low);
}

/* A port access past the terminal count delivers the edge the caller did not tick yet. */
static void test_mode0_access_catches_up(void **state)
{
	static const int high[][2] = {{0, 1}};

	(void)state;
	program(0, 0x30, 100);
	clk = T(200);
	assert_int_equal(read16(0), 65436);
	assert_irqs(1, high);
}

static void test_mode2(void **state)
{
	static const int pulse[][2] = {{0, 1}, {0, 0}};

	(void)state;
	program(0, 0x34, 1193);
	assert_int_equal(nirqs, 0);
	assert_int_equal(pit_next_ns(&pit), T(1193));
	assert_int_equal(count_at(0, T(100)), 1093);
	assert_int_equal(status(0), 0xb4);
	assert_int_equal(count_at(0, T(1192)), 1);
	assert_int_equal(status(0), 0x34); /* output low for the last clock */
	tick_at(T(1193) - 1);
	assert_int_equal(nirqs, 0);
	tick_at(T(1193));
	assert_irqs(2, pulse);
	assert_int_equal(pit_next_ns(&pit), T(2386));
	assert_int_equal(count_at(0, T(1193)), 1193);
	assert_int_equal(count_at(0, T(1194)), 1192);
	tick_at(T(2386));
	assert_irqs(2, pulse);
	assert_int_equal(pit_next_ns(&pit), T(3579));
}

static void test_mode3(void **state)
{
	static const int high[][2] = {{0, 1}};
	static const int low[][2] = {{0, 0}};

	(void)state;
	out(0x43, 0x36);
	assert_irqs(1, high); /* the control word sets the output high */
	out(0x40, 1000 & 0xff);
	out(0x40, 1000 >> 8);
	assert_int_equal(nirqs, 0);
	assert_int_equal(pit_next_ns(&pit), T(500));
	assert_int_equal(count_at(0, 0), 1000);
	assert_int_equal(count_at(0, T(1)), 998);
	assert_int_equal(count_at(0, T(499)), 2);
	tick_at(T(500));
	assert_irqs(1, low);
	assert_int_equal(status(0), 0x36);
	assert_int_equal(count_at(0, T(500)), 1000);
	assert_int_equal(count_at(0, T(501)), 998);
	assert_int_equal(pit_next_ns(&pit), T(1000));
	tick_at(T(1000));
	assert_irqs(1, high);
	assert_int_equal(pit_next_ns(&pit), T(1500));
}

/* Odd count 5 on channel 2: high 3 clocks (5, 4, 2), low 2 (5, 2). */
static void test_mode3_odd(void **state)
{
	static const unsigned want[] = {5, 4, 2, 5, 2, 5, 4};
	static const uint8_t outs[] = {1, 1, 1, 0, 0, 1, 1};

	(void)state;
	out(0x61, 1);
	program(2, 0xb6, 5);
	for (unsigned k = 0; k < 7; k++) {
		assert_int_equal(count_at(2, T(k)), want[k]);
		assert_int_equal(in(0x61) >> 5 & 1, outs[k]);
	}
	assert_int_equal(nirqs, 0); /* channel 2 drives no IRQ */
}

static void test_count0(void **state)
{
	(void)state;
	program(0, 0x34, 0);
	assert_int_equal(pit_next_ns(&pit), T(65536));
	assert_int_equal(count_at(0, 0), 0);
	assert_int_equal(count_at(0, T(1)), 65535);
	assert_int_equal(count_at(0, T(65535)), 1);
}

static void test_bcd(void **state)
{
	(void)state;
	program(0, 0x31, 0x1000); /* 1000 decimal */
	assert_int_equal(pit_next_ns(&pit), T(1000));
	assert_int_equal(count_at(0, T(1)), 0x0999);
	assert_int_equal(count_at(0, T(1001)), 0x9999); /* wraps to 9999 */
	clk = 0;
	program(0, 0x31, 0); /* 10000 */
	assert_int_equal(pit_next_ns(&pit), T(10000));
	assert_int_equal(count_at(0, T(1)), 0x9999);
	assert_int_equal(count_at(0, T(9990)), 0x0010);
	assert_int_equal(status(0), 0x31);
}

static void test_latch(void **state)
{
	(void)state;
	program(0, 0x34, 1000);
	clk = T(10);
	out(0x43, 0x00);
	clk = T(20);
	out(0x43, 0x00); /* ignored: the first latch is unread */
	assert_int_equal(count_at(0, T(500)), 990);
	assert_int_equal(count_at(0, T(500)), 500); /* live again */
	out(0x43, 0x00);
	assert_int_equal(in(0x40), 500 & 0xff);
	clk = T(600);
	assert_int_equal(in(0x40), 500 >> 8); /* the latched MSB */
	assert_int_equal(read16(0), 400);
}

static void test_readback(void **state)
{
	(void)state;
	out(0x43, 0x34);
	assert_int_equal(status(0), 0xf4); /* output high, null count */
	out(0x40, 100);
	out(0x40, 0);
	clk = T(30);
	out(0x43, 0xc2); /* count and status of channel 0 */
	clk = T(60);
	assert_int_equal(in(0x40), 0xb4);
	assert_int_equal(read16(0), 70);
	assert_int_equal(read16(0), 40);
	out(0x43, 0xe2); /* status only, latched twice: the first wins */
	clk = T(99);
	out(0x43, 0xe2);
	assert_int_equal(in(0x40), 0xb4);
	assert_int_equal(read16(0), 1);
	out(0x43, 0xde); /* counts of all three */
	assert_int_equal(read16(0), 1);
	assert_int_equal(read16(1), 0);
}

static void test_gate_port61(void **state)
{
	(void)state;
	program(2, 0xb0, 100); /* mode 0 with the gate low: holds */
	assert_int_equal(count_at(2, T(50)), 100);
	out(0x61, 0x03); /* gate on, speaker data on */
	assert_int_equal(in(0x61) & 0x03, 0x03);
	assert_int_equal(count_at(2, T(50) + T(30)), 70); /* counting from the gate's edge */
	out(0x61, 0x02);
	assert_int_equal(count_at(2, T(200)), 70);
	assert_int_equal(in(0x61) & 0x23, 0x02);
	out(0x61, 0x01);
	assert_int_equal(count_at(2, T(200) + T(69)), 1);
	assert_int_equal(in(0x61) & 0x23, 0x01);
	clk = T(200) + T(70);
	assert_int_equal(in(0x61) & 0x23, 0x21); /* terminal count: output 2 high */
	/* mode 2: gate low forces the output high; raising it reloads */
	program(2, 0xb4, 10);
	assert_int_equal(count_at(2, clk + T(9)), 1);
	assert_int_equal(in(0x61) & 0x20, 0);
	out(0x61, 0);
	assert_int_equal(in(0x61) & 0x20, 0x20);
	assert_int_equal(count_at(2, clk + T(100)), 1);
	out(0x61, 1);
	assert_int_equal(count_at(2, clk + T(3)), 7);
	assert_int_equal(nirqs, 0);
}

static void test_refresh_toggle(void **state)
{
	(void)state;
	clk = 15084;
	assert_int_equal(in(0x61) & 0x10, 0);
	clk = 15085;
	assert_int_equal(in(0x61) & 0x10, 0x10);
	clk = 30170;
	assert_int_equal(in(0x61) & 0x10, 0);
}

static void test_late_tick(void **state)
{
	static const int pulse[][2] = {{0, 1}, {0, 0}};
	static const int edge[][2] = {{0, 0}, {0, 1}};

	(void)state;
	program(0, 0x34, 1000);
	tick_at(T(3500));
	assert_irqs(2, pulse); /* one pulse for three periods */
	assert_int_equal(pit_next_ns(&pit), T(4000));
	tick_at(T(3999));
	assert_int_equal(nirqs, 0);
	tick_at(T(4000));
	assert_irqs(2, pulse);
	assert_int_equal(pit_next_ns(&pit), T(5000));
	/* mode 3: a missed rising edge while the line is high again: lowered and raised */
	clk = 0;
	program(0, 0x36, 1000);
	nirqs = 0;
	tick_at(T(1200));
	assert_irqs(2, edge);
	assert_int_equal(pit_next_ns(&pit), T(1500));
}

static void test_hpet_legacy(void **state)
{
	struct pit_state_kvm s;

	(void)state;
	program(0, 0x34, 1000);
	pit_get_state(&pit, &s, &env);
	s.flags = KVM_PIT_FLAGS_HPET_LEGACY;
	assert_int_equal(pit_set_state(&pit, &s, &env), 0);
	assert_true(pit_next_ns(&pit) == NO_DEADLINE);
	tick_at(T(5000));
	assert_int_equal(count_at(0, T(5500)), 500);
	program(0, 0x30, 10);
	tick_at(T(6000));
	assert_int_equal(nirqs, 0);
	assert_int_equal(status(0), 0xb0);
}

static void test_state_roundtrip(void **state)
{
	struct pit_state_kvm s, s2;
	struct pit saved;

	(void)state;
	program(0, 0x30, 2000);
	program(1, 0x74, 300);
	out(0x43, 0x40);       /* channel 1 count latched */
	program(2, 0xb0, 100); /* gate low: holds */
	out(0x61, 1);
	clk = T(40);
	out(0x61, 2); /* stopped at 60, speaker data on */
	clk = T(1234);
	out(0x43, 0xe4); /* channel 1 status latched */
	out(0x40, 0x10); /* half a count: mode 0 stops */
	pit_get_state(&pit, &s, &env);
	assert_int_equal(s.channels[0].count, 2000);
	assert_int_equal(s.channels[0].write_state, 4);
	assert_int_equal(s.channels[1].count, 300);
	assert_int_equal(s.channels[1].count_latched, 3);
	assert_int_equal(s.channels[1].status_latched, 1);
	assert_int_equal(s.channels[2].gate, 0);
	assert_int_equal(s.flags, KVM_PIT_FLAGS_SPEAKER_DATA_ON);

	saved = pit;
	memset(&pit, 0, sizeof(pit));
	pit_reset(&pit, &env);
	assert_int_equal(pit_set_state(&pit, &s, &env), 0);
	pit_get_state(&pit, &s2, &env);
	assert_memory_equal(&s, &s2, sizeof(s));
	assert_int_equal(pit_next_ns(&pit), pit_next_ns(&saved));
	for (uint64_t at = T(1234); at < T(3000); at += T(400)) {
		uint8_t a[5], b[5];
		static const uint16_t ports[5] = {0x40, 0x41, 0x42, 0x61, 0x40};

		clk = at;
		for (int i = 0; i < 5; i++)
			a[i] = pit_port_read(&pit, ports[i], &env);
		for (int i = 0; i < 5; i++)
			b[i] = pit_port_read(&saved, ports[i], &env);
		assert_memory_equal(a, b, 5);
	}
	pit_port_write(&pit, 0x40, 0x20, &env); /* the rest of the count: runs again */
	pit_port_write(&saved, 0x40, 0x20, &env);
	assert_int_equal(pit_next_ns(&pit), clk + T(0x2010));
	assert_int_equal(pit_next_ns(&saved), clk + T(0x2010));
	s.channels[1].mode = 6;
	assert_int_equal(pit_set_state(&pit, &s, &env), -1);
	s.channels[1].mode = 2;
	s.flags = 4;
	assert_int_equal(pit_set_state(&pit, &s, &env), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset, setup),
		cmocka_unit_test_setup(test_rw_modes, setup),
		cmocka_unit_test_setup(test_mode0, setup),
		cmocka_unit_test_setup(test_mode0_access_catches_up, setup),
		cmocka_unit_test_setup(test_mode2, setup),
		cmocka_unit_test_setup(test_mode3, setup),
		cmocka_unit_test_setup(test_mode3_odd, setup),
		cmocka_unit_test_setup(test_count0, setup),
		cmocka_unit_test_setup(test_bcd, setup),
		cmocka_unit_test_setup(test_latch, setup),
		cmocka_unit_test_setup(test_readback, setup),
		cmocka_unit_test_setup(test_gate_port61, setup),
		cmocka_unit_test_setup(test_refresh_toggle, setup),
		cmocka_unit_test_setup(test_late_tick, setup),
		cmocka_unit_test_setup(test_hpet_legacy, setup),
		cmocka_unit_test_setup(test_state_roundtrip, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
