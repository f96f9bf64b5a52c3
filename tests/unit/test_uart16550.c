/* The 16550A model (hv/devices/uart16550.c): guest ports through its hook, and its attributes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "vmx/vm.h"
#include "devices/device.h"
#include "../compat/kvmabi/hv_devices.h"

#define BASE 0x3f8
#define CFG  HV_UART_GRP_CONFIG
#define REGS HV_UART_GRP_REGS
#define LINE HV_UART_GRP_LINE

/* vm_add_hooks stub (one port hook): keeps the last hook; answers hook_rc. */
static struct io_hook hook;
static int hook_calls, hook_rc;
static char fake_vm;
#define VM ((struct vm *)&fake_vm)

int vm_add_hooks(struct vm *vm, const struct io_hook *h, unsigned np, const struct io_hook *mmio,
		 unsigned nm)
{
	assert_ptr_equal(vm, VM);
	assert_int_equal(np * 10 + nm + (mmio != NULL), 10);
	hook_calls++;
	if (hook_rc)
		return hook_rc;
	hook = *h;
	return 0;
}

static const struct dev_ops *ops = &uart16550_ops;
static void *dev, *dev2; /* dev2: a second device a test may create */

static void *new_dev(void)
{
	void *d = calloc(1, ops->size);

	assert_non_null(d);
	assert_null(ops->create); /* the zeroed state is the reset state */
	return d;
}

static void free_dev(void *d)
{
	free(d);
}

static int setup(void **state)
{
	(void)state;
	memset(&hook, 0, sizeof(hook));
	hook_calls = hook_rc = 0;
	dev = new_dev();
	assert_int_equal(ops->set_attr(dev, VM, CFG, HV_UART_CFG_BASE, BASE), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free_dev(dev);
	if (dev2)
		free_dev(dev2);
	dev2 = NULL;
	return 0;
}

static uint8_t in(unsigned off)
{
	uint64_t v = 0xdead;

	assert_true(hook.access(hook.ctx, NULL, BASE + off, 1, &v, false));
	assert_true(v <= 0xff);
	return (uint8_t)v;
}

static void out(unsigned off, uint8_t b)
{
	uint64_t v = b;

	assert_true(hook.access(hook.ctx, NULL, BASE + off, 1, &v, true));
}

static uint64_t get_on(void *d, uint32_t group, uint64_t attr)
{
	uint64_t v = 0xdead;

	assert_int_equal(ops->get_attr(d, group, attr, &v), 0);
	return v;
}

static uint64_t get(uint32_t group, uint64_t attr)
{
	return get_on(dev, group, attr);
}

static int set(uint32_t group, uint64_t attr, uint64_t val)
{
	return ops->set_attr(dev, VM, group, attr, val);
}

static uint64_t tx(void)
{
	return get(LINE, HV_UART_LINE_TX);
}

static uint64_t level(void)
{
	return get(CFG, HV_UART_CFG_LEVEL);
}

static void test_reset(void **state)
{
	static const uint8_t want[8] = {0, 0, 0x01, 0, 0, 0x60, 0xb0, 0};
	static const uint8_t regs[HV_UART_NR_REGS] = {0, 0, 0, 0, 0, 0, 0x60, 0xb0, 0, 0};

	(void)state;
	assert_int_equal(hook_calls, 1);
	assert_int_equal(hook.base, BASE);
	assert_int_equal(hook.len, 8);
	assert_ptr_equal(hook.ctx, dev);
	for (unsigned r = 0; r < HV_UART_NR_REGS; r++)
		assert_int_equal(get(REGS, r), regs[r]);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(in(i), want[i]);
	assert_int_equal(get(CFG, HV_UART_CFG_BASE), BASE);
	assert_int_equal(level(), 0);
	assert_int_equal(tx(), 0x100);
}

static void test_dlab(void **state)
{
	(void)state;
	out(3, 0x83);
	out(0, 0x0c);
	out(1, 0x01);
	assert_int_equal(in(0), 0x0c);
	assert_int_equal(in(1), 0x01);
	assert_int_equal(tx(), 0x100); /* a divisor write is no transmission */
	out(3, 0x03);
	assert_int_equal(in(1), 0); /* IER untouched */
	assert_int_equal(in(3), 0x03);
	assert_int_equal(get(REGS, HV_UART_REG_DLL), 0x0c);
	assert_int_equal(get(REGS, HV_UART_REG_DLM), 0x01);
	out(1, 0xff);
	assert_int_equal(in(1), 0x0f); /* IER keeps bits 0-3 */
	out(7, 0x5a);
	assert_int_equal(in(7), 0x5a);
}

static void test_tx_order(void **state)
{
	(void)state;
	out(0, 'a');
	out(0, 'b');
	out(0, 'c');
	assert_int_equal(in(5), 0x60);
	assert_int_equal(tx(), 'a');
	assert_int_equal(tx(), 'b');
	assert_int_equal(tx(), 'c');
	assert_int_equal(tx(), 0x100);
	assert_int_equal(tx(), 0x100);
}

static void test_tx_full(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 255; i++)
		out(0, (uint8_t)i);
	assert_int_equal(in(5), 0x60);
	out(0, 255);
	assert_int_equal(in(5), 0x00); /* busy: THRE and TEMT clear */
	out(1, 0x02);
	assert_int_equal(in(2), 0x01); /* no THRE interrupt while busy */
	out(0, 0xee);		       /* dropped */
	assert_int_equal(tx(), 0);
	assert_int_equal(in(5), 0x60);
	assert_int_equal(in(2), 0x02); /* empty again: THRE interrupt */
	assert_int_equal(in(2), 0x01);
	for (unsigned i = 1; i < 256; i++)
		assert_int_equal(tx(), i);
	assert_int_equal(tx(), 0x100);
}

static void test_rx(void **state)
{
	(void)state;
	assert_int_equal(set(LINE, HV_UART_LINE_RX, 'x'), 0);
	assert_int_equal(in(5), 0x61);
	assert_int_equal(in(0), 'x');
	assert_int_equal(in(5), 0x60);
	assert_int_equal(in(0), 0); /* empty */
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(set(LINE, HV_UART_LINE_RX, 0x30 + i), 0);
	assert_int_equal(set(LINE, HV_UART_LINE_RX, 'z'), -EBUSY);
	assert_int_equal(in(5), 0x61); /* no overrun from the attribute */
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(in(0), 0x30 + i);
	assert_int_equal(in(5), 0x60);
	assert_int_equal(set(LINE, HV_UART_LINE_RX, 0x100), -EINVAL);
}

static void test_iir_priority(void **state)
{
	(void)state;
	out(2, 0x01);
	out(4, 0x10); /* loopback: MSR deltas, and the receiver takes what we send */
	for (unsigned i = 0; i < 17; i++)
		out(0, (uint8_t)i);    /* the 17th overruns */
	assert_int_equal(in(2), 0xc1); /* nothing enabled */
	out(1, 0x0f);
	assert_int_equal(in(2), 0xc6); /* line status */
	assert_int_equal(in(5), 0x63);
	assert_int_equal(in(2), 0xc4); /* received data */
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(in(0), i);
	assert_int_equal(in(2), 0xc2); /* THR empty, cleared by this read */
	assert_int_equal(in(2), 0xc0); /* modem status */
	assert_int_equal(in(6), 0x0b);
	assert_int_equal(in(2), 0xc1);
}

static void test_thre_interrupt(void **state)
{
	(void)state;
	assert_int_equal(get(REGS, HV_UART_REG_THRI), 0);
	out(1, 0x02); /* enabling it with THR empty raises it */
	assert_int_equal(get(REGS, HV_UART_REG_THRI), 1);
	assert_int_equal(in(2), 0x02);
	assert_int_equal(get(REGS, HV_UART_REG_THRI), 0);
	assert_int_equal(in(2), 0x01);
	out(1, 0x02); /* already enabled: no new one */
	assert_int_equal(in(2), 0x01);
	out(0, 'q'); /* sent at once: empty again */
	assert_int_equal(in(2), 0x02);
	assert_int_equal(in(2), 0x01);
	out(1, 0x00);
	out(0, 'r');
	assert_int_equal(in(2), 0x01); /* pending but not enabled */
	out(1, 0x02);
	assert_int_equal(in(2), 0x02);
}

static void test_loopback(void **state)
{
	(void)state;
	out(4, 0x1f);
	assert_int_equal(in(4), 0x1f);
	assert_int_equal(in(6), 0xf0); /* all inputs on; only RI changed, and it came on: no TERI */
	out(0, 'L');
	assert_int_equal(in(5), 0x61);
	assert_int_equal(tx(), 0x100); /* nothing on the line */
	assert_int_equal(in(0), 'L');
	assert_int_equal(set(LINE, HV_UART_LINE_RX, 'x'), -EBUSY); /* receiver disconnected */
	out(4, 0x03);
	assert_int_equal(in(6), 0xb4); /* the line again: RI went off (TERI) */
	assert_int_equal(set(LINE, HV_UART_LINE_RX, 'x'), 0);
	out(4, 0xff);
	assert_int_equal(in(4), 0x1f); /* bits 5-7 read 0 */
}

static void test_overrun(void **state)
{
	(void)state;
	out(4, 0x10);
	for (unsigned i = 0; i < 18; i++)
		out(0, (uint8_t)(0x40 + i));
	assert_int_equal(in(5), 0x63);
	assert_int_equal(in(5), 0x61); /* OE cleared by the read */
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(in(0), 0x40 + i); /* the FIFO keeps the first 16 */
	assert_int_equal(in(5), 0x60);
}

static void test_msr_deltas(void **state)
{
	(void)state;
	out(4, 0x10); /* inputs from the line (CTS DSR DCD) to the outputs (none) */
	assert_int_equal(get(REGS, HV_UART_REG_MSR), 0x0b);
	assert_int_equal(in(6), 0x0b);
	assert_int_equal(in(6), 0x00);
	out(4, 0x14); /* OUT1 -> RI rising */
	assert_int_equal(in(6), 0x40);
	out(4, 0x10); /* RI falling: TERI */
	assert_int_equal(in(6), 0x04);
	out(4, 0x11); /* DTR -> DSR */
	assert_int_equal(in(6), 0x22);
	out(4, 0x12); /* DSR off, CTS on */
	assert_int_equal(in(6), 0x13);
	out(4, 0x18); /* CTS off, DCD on */
	assert_int_equal(in(6), 0x89);
	out(4, 0x18);
	assert_int_equal(in(6), 0x80);
}

static void test_fcr(void **state)
{
	(void)state;
	out(2, 0xc7);
	assert_int_equal(in(2), 0xc1);
	assert_int_equal(get(REGS, HV_UART_REG_FCR), 0xc1);
	out(0, 'a');
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(set(LINE, HV_UART_LINE_RX, 'x'), 0);
	assert_int_equal(in(5), 0x61);
	out(2, 0xc5); /* TX clear: nothing waits in the transmitter */
	assert_int_equal(in(5), 0x61);
	assert_int_equal(tx(), 'a'); /* already on the line */
	out(2, 0xc3);
	assert_int_equal(in(5), 0x60);
	assert_int_equal(in(0), 0);
	assert_int_equal(set(LINE, HV_UART_LINE_RX, 'y'), 0);
	out(2, 0x06); /* FIFO disable: clears them, other bits not kept */
	assert_int_equal(in(5), 0x60);
	assert_int_equal(in(2), 0x01);
	assert_int_equal(get(REGS, HV_UART_REG_FCR), 0);
	assert_int_equal(set(LINE, HV_UART_LINE_RX, 'y'), 0);
	out(2, 0x01); /* FIFO enable: clears them too */
	assert_int_equal(in(5), 0x60);
}

static void test_level(void **state)
{
	(void)state;
	out(1, 0x01);
	assert_int_equal(set(LINE, HV_UART_LINE_RX, 'x'), 0);
	assert_int_equal(in(2), 0x04);
	assert_int_equal(level(), 0); /* OUT2 off: no IRQ on a PC */
	out(4, 0x08);
	assert_int_equal(level(), 1);
	in(0);
	assert_int_equal(level(), 0);
	out(1, 0x02);
	assert_int_equal(level(), 1);
	in(2); /* takes the THRE interrupt */
	assert_int_equal(level(), 0);
	out(1, 0x0a);
	out(4, 0x18); /* loopback forces OUT2 inactive */
	assert_int_equal(in(2), 0x00);
	assert_int_equal(level(), 0);
	out(4, 0x08);
	assert_int_equal(level(), 1); /* deltas again */
	in(6);
	assert_int_equal(level(), 0);
	assert_int_equal(set(CFG, HV_UART_CFG_LEVEL, 1), -EPERM);
}

static void test_wide_access(void **state)
{
	uint64_t v;

	(void)state;
	out(1, 0x05);
	assert_int_equal(set(LINE, HV_UART_LINE_RX, 'x'), 0);
	assert_true(hook.access(hook.ctx, NULL, BASE, 2, &v, false)); /* RBR then IER */
	assert_int_equal(v, 0x0578);
	assert_true(
		hook.access(hook.ctx, NULL, BASE + 7, 2, &v, false)); /* SCR, then off the end */
	assert_int_equal(v, 0xff00);
	v = 0x44332211;
	assert_true(hook.access(hook.ctx, NULL, BASE + 6, 4, &v, true)); /* MSR ignored, SCR */
	assert_int_equal(in(7), 0x22);
	assert_int_equal(in(6), 0xb0);
	v = 0x0141;
	assert_true(hook.access(hook.ctx, NULL, BASE, 2, &v, true)); /* THR 'A', IER 1 */
	assert_int_equal(tx(), 'A');
	assert_int_equal(in(1), 0x01);
}

static void test_attr_errors(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(ops->has_attr(dev, CFG, HV_UART_CFG_LEVEL), 0);
	assert_int_equal(ops->has_attr(dev, REGS, HV_UART_REG_THRI), 0);
	assert_int_equal(ops->has_attr(dev, LINE, HV_UART_LINE_RX), 0);
	assert_int_equal(ops->has_attr(dev, CFG, 3), -ENXIO);
	assert_int_equal(ops->has_attr(dev, REGS, HV_UART_NR_REGS), -ENXIO);
	assert_int_equal(ops->has_attr(dev, LINE, 2), -ENXIO);
	assert_int_equal(ops->has_attr(dev, 0, 0), -ENXIO);
	assert_int_equal(ops->has_attr(dev, 4, 0), -ENXIO);
	assert_int_equal(ops->get_attr(dev, 9, 0, &v), -ENXIO);
	assert_int_equal(ops->get_attr(dev, CFG, 1ull << 32, &v), -ENXIO);
	assert_int_equal(ops->get_attr(dev, REGS, 10, &v), -ENXIO);
	assert_int_equal(set(9, 0, 0), -ENXIO);
	assert_int_equal(set(REGS, 10, 0), -ENXIO);
	assert_int_equal(set(LINE, 2, 0), -ENXIO);
	assert_int_equal(ops->get_attr(dev, LINE, HV_UART_LINE_RX, &v), -EPERM);
	assert_int_equal(set(LINE, HV_UART_LINE_TX, 'a'), -EPERM);
	/* IRQ */
	assert_int_equal(ops->get_attr(dev, CFG, HV_UART_CFG_IRQ, &v), -EPERM); /* not set */
	assert_int_equal(set(CFG, HV_UART_CFG_IRQ, 24), -EINVAL);
	assert_int_equal(set(CFG, HV_UART_CFG_IRQ, 4), 0);
	assert_int_equal(get(CFG, HV_UART_CFG_IRQ), 4);
	assert_int_equal(set(CFG, HV_UART_CFG_IRQ, 23), 0);
	assert_int_equal(get(CFG, HV_UART_CFG_IRQ), 23);
	/* BASE: once */
	assert_int_equal(set(CFG, HV_UART_CFG_BASE, 0x2f8), -EEXIST);
	assert_int_equal(get(CFG, HV_UART_CFG_BASE), BASE);
	assert_int_equal(hook_calls, 1);
	/* REGS values */
	assert_int_equal(set(REGS, HV_UART_REG_DLL, 0x100), -EINVAL);
	assert_int_equal(set(REGS, HV_UART_REG_IER, 0x10), -EINVAL);
	assert_int_equal(set(REGS, HV_UART_REG_FCR, 0x02), -EINVAL);
	assert_int_equal(set(REGS, HV_UART_REG_FCR, 0xc0), -EINVAL);
	assert_int_equal(set(REGS, HV_UART_REG_MCR, 0x20), -EINVAL);
	assert_int_equal(set(REGS, HV_UART_REG_LSR, 0x10), -EINVAL);
	assert_int_equal(set(REGS, HV_UART_REG_LSR, 0x80), -EINVAL);
	assert_int_equal(set(REGS, HV_UART_REG_MSR, 0x100), -EINVAL);
	assert_int_equal(set(REGS, HV_UART_REG_THRI, 2), -EINVAL);
	assert_int_equal(set(REGS, HV_UART_REG_LSR, 0x63), 0);
	assert_int_equal(get(REGS, HV_UART_REG_LSR), 0x62); /* DR follows the FIFO */
}

static void test_base_errors(void **state)
{
	void *d = dev2 = new_dev();
	uint64_t v;

	(void)state;
	hook_calls = 0;
	assert_int_equal(ops->get_attr(d, CFG, HV_UART_CFG_BASE, &v), -EPERM); /* not set */
	assert_int_equal(ops->set_attr(d, VM, CFG, HV_UART_CFG_BASE, 0xfff9), -EINVAL);
	hook_rc = -ENOSPC;
	assert_int_equal(ops->set_attr(d, VM, CFG, HV_UART_CFG_BASE, 0x2f8), -ENOSPC);
	assert_int_equal(ops->get_attr(d, CFG, HV_UART_CFG_BASE, &v), -EPERM);
	hook_rc = 0;
	assert_int_equal(ops->set_attr(d, VM, CFG, HV_UART_CFG_BASE, 0xfff8), 0);
	assert_int_equal(hook_calls, 2);
	assert_int_equal(hook.base, 0xfff8);
	assert_ptr_equal(hook.ctx, d);
	assert_int_equal(get_on(d, CFG, HV_UART_CFG_BASE), 0xfff8);
	assert_int_equal(ops->set_attr(d, VM, CFG, HV_UART_CFG_BASE, 0x2f8), -EEXIST);
}

/* The same guest reads (side effects included) on both devices give the same values. */
static void compare_guest_view(void *a, void *b)
{
	static const uint8_t seq[] = {1, 3, 4, 7, 2, 2, 5, 5, 6, 6, 2, 0, 2};
	uint64_t lcr = 0x03, t = 'T';

	assert_int_equal(get_on(a, CFG, HV_UART_CFG_LEVEL), 1);
	assert_int_equal(get_on(b, CFG, HV_UART_CFG_LEVEL), 1);
	for (unsigned i = 0; i < sizeof(seq); i++) {
		uint64_t va, vb;

		assert_true(hook.access(a, NULL, BASE + seq[i], 1, &va, false));
		assert_true(hook.access(b, NULL, BASE + seq[i], 1, &vb, false));
		assert_int_equal(va, vb);
	}
	assert_int_equal(get_on(a, CFG, HV_UART_CFG_LEVEL), get_on(b, CFG, HV_UART_CFG_LEVEL));
	/* a transmission and the interrupt it raises */
	assert_true(hook.access(a, NULL, BASE + 3, 1, &lcr, true));
	assert_true(hook.access(b, NULL, BASE + 3, 1, &lcr, true));
	assert_true(hook.access(a, NULL, BASE, 1, &t, true));
	assert_true(hook.access(b, NULL, BASE, 1, &t, true));
	assert_int_equal(get_on(a, CFG, HV_UART_CFG_LEVEL), 1);
	assert_int_equal(get_on(b, CFG, HV_UART_CFG_LEVEL), 1);
	assert_int_equal(get_on(a, LINE, HV_UART_LINE_TX), 'T');
	assert_int_equal(get_on(b, LINE, HV_UART_LINE_TX), 'T');
}

static void test_save_restore(void **state)
{
	uint64_t regs[HV_UART_NR_REGS];
	void *fresh = dev2 = new_dev();

	(void)state;
	assert_int_equal(set(CFG, HV_UART_CFG_IRQ, 4), 0);
	/* divisor, FIFOs, interrupts, modem outputs, an overrun, deltas, a pending THRE, DLAB */
	out(3, 0x80);
	out(0, 0x01);
	out(1, 0x02);
	out(3, 0x1b);
	out(2, 0x87);
	out(1, 0x0e);
	out(4, 0x1d); /* loopback: DSR RI DCD */
	for (unsigned i = 0; i < 17; i++)
		out(0, 'o');
	for (unsigned i = 0; i < 16; i++)
		in(0); /* REGS hold no FIFO contents: empty it */
	out(4, 0x0b);  /* the line: CTS DSR DCD, DCTS and TERI */
	out(7, 0x42);
	out(3, 0x9b);
	assert_int_equal(get(REGS, HV_UART_REG_LSR), 0x62);
	assert_int_equal(get(REGS, HV_UART_REG_THRI), 1);
	assert_int_equal(get(REGS, HV_UART_REG_MSR), 0xb5);
	for (unsigned r = 0; r < HV_UART_NR_REGS; r++)
		regs[r] = get(REGS, r);
	for (unsigned r = 0; r < HV_UART_NR_REGS; r++)
		assert_int_equal(get(REGS, r), regs[r]); /* reading changed nothing */
	/* restore: configuration, then registers */
	for (unsigned a = HV_UART_CFG_BASE; a <= HV_UART_CFG_IRQ; a++)
		assert_int_equal(ops->set_attr(fresh, VM, CFG, a, get(CFG, a)), 0);
	for (unsigned r = 0; r < HV_UART_NR_REGS; r++)
		assert_int_equal(ops->set_attr(fresh, VM, REGS, r, regs[r]), 0);
	for (unsigned r = 0; r < HV_UART_NR_REGS; r++)
		assert_int_equal(get_on(fresh, REGS, r), regs[r]);
	assert_int_equal(get_on(fresh, CFG, HV_UART_CFG_IRQ), 4);
	compare_guest_view(dev, fresh);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_reset),		T(test_dlab),	     T(test_tx_order),
		T(test_tx_full),	T(test_rx),	     T(test_iir_priority),
		T(test_thre_interrupt), T(test_loopback),    T(test_overrun),
		T(test_msr_deltas),	T(test_fcr),	     T(test_level),
		T(test_wide_access),	T(test_attr_errors), T(test_base_errors),
		T(test_save_restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
