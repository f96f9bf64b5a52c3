/*
 * 16550A UART: eight guest ports at a base, a 16-byte receive FIFO user space fills (LINE/RX)
 * and a 256-byte line buffer user space drains (LINE/TX). Transmission is instant: a byte the
 * guest writes to THR is on the line (in loopback: in the receiver) at once, so the transmit
 * FIFO is always empty and FCR bit 2 has nothing to clear. While the line buffer is full the
 * transmitter is busy (THRE and TEMT clear) and THR writes are dropped. In loopback the line
 * is disconnected: LINE/RX answers -EBUSY, and the IRQ output is off (OUT2 forced inactive).
 * Simplifications: the receive interrupt is pending whenever data is ready (no trigger level,
 * no character timeout), the receive FIFO holds 16 bytes even with FIFOs disabled, and no
 * parity, framing or break errors happen. Outside loopback the modem inputs show a connected
 * line: CTS, DSR and DCD on, RI off.
 * Accesses wider than a byte act as consecutive byte accesses (low byte first), as an ISA bus
 * splits them; bytes past the eight ports read 0xff and ignore writes.
 */
#include "device.h"
#include "../lib/errno.h"
#include "../lib/spinlock.h"
#include "../vmx/vm.h"
#include "../../compat/kvmabi/hv_devices.h"

enum { IER_RDI = 0x01, IER_THRI = 0x02, IER_RLSI = 0x04, IER_MSI = 0x08, IER_MASK = 0x0f };
enum { IIR_MSI = 0, IIR_NONE = 1, IIR_THRI = 2, IIR_RDI = 4, IIR_RLSI = 6, IIR_FIFO = 0xc0 };
enum { FCR_ENABLE = 0x01, FCR_CLR_RX = 0x02, FCR_STATE = 0xc9 /* kept */, LCR_DLAB = 0x80 };
enum { MCR_DTR = 1, MCR_RTS = 2, MCR_OUT1 = 4, MCR_OUT2 = 8, MCR_LOOP = 0x10, MCR_MASK = 0x1f };
enum { LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40 };
enum { MSR_DELTAS = 0x0f, MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80 };
#define MSR_LINE (MSR_CTS | MSR_DSR | MSR_DCD) /* the modem inputs outside loopback */
#define RX_SIZE	 16
#define TX_SIZE	 256

struct uart {
	spinlock_t lock;
	uint16_t base;
	uint8_t irq;
	bool base_set, irq_set;
	/* LSR keeps only OE and MSR only the deltas: the other bits are derived */
	uint8_t dll, dlm, ier, fcr, lcr, mcr, lsr, msr, scr;
	uint8_t thri; /* the transmitter-empty interrupt is pending */
	uint8_t rx[RX_SIZE];
	unsigned rx_head, rx_len;
	uint8_t tx[TX_SIZE];
	unsigned tx_head, tx_len;
};

static bool tx_busy(const struct uart *u)
{
	return !(u->mcr & MCR_LOOP) && u->tx_len == TX_SIZE;
}

/* Modem inputs: the line, or in loopback the outputs RTS, DTR, OUT1, OUT2. */
static uint8_t modem_inputs(uint8_t mcr)
{
	if (!(mcr & MCR_LOOP))
		return MSR_LINE;
	return (mcr & MCR_RTS ? MSR_CTS : 0) | (mcr & MCR_DTR ? MSR_DSR : 0) |
	       (mcr & MCR_OUT1 ? MSR_RI : 0) | (mcr & MCR_OUT2 ? MSR_DCD : 0);
}

static uint8_t lsr_value(const struct uart *u)
{
	return u->lsr | (u->rx_len ? LSR_DR : 0) | (tx_busy(u) ? 0 : LSR_THRE | LSR_TEMT);
}

static uint8_t msr_value(const struct uart *u)
{
	return modem_inputs(u->mcr) | u->msr;
}

/* The highest-priority enabled interrupt, as IIR bits 0-3. */
static uint8_t iir_id(const struct uart *u)
{
	if ((u->ier & IER_RLSI) && (u->lsr & LSR_OE))
		return IIR_RLSI;
	if ((u->ier & IER_RDI) && u->rx_len)
		return IIR_RDI;
	if ((u->ier & IER_THRI) && u->thri && !tx_busy(u))
		return IIR_THRI;
	if ((u->ier & IER_MSI) && (u->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NONE;
}

/* The IRQ pin: OUT2 enables the PC's IRQ driver; loopback forces OUT2 inactive. */
static bool irq_level(const struct uart *u)
{
	return iir_id(u) != IIR_NONE && (u->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
}

static bool rx_push(struct uart *u, uint8_t b)
{
	if (u->rx_len == RX_SIZE)
		return false;
	u->rx[(u->rx_head + u->rx_len++) % RX_SIZE] = b;
	return true;
}

static uint8_t rx_pop(struct uart *u)
{
	uint8_t b = u->rx[u->rx_head];

	if (!u->rx_len)
		return 0;
	u->rx_head = (u->rx_head + 1) % RX_SIZE;
	u->rx_len--;
	return b;
}

static void transmit(struct uart *u, uint8_t b)
{
	if (u->mcr & MCR_LOOP) {
		if (!rx_push(u, b))
			u->lsr |= LSR_OE; /* overrun: the new byte is lost */
	} else if (u->tx_len < TX_SIZE) {
		u->tx[(u->tx_head + u->tx_len++) % TX_SIZE] = b;
	}
	u->thri = !tx_busy(u); /* the THR write cleared it; empty again at once unless busy */
}

static void write_fcr(struct uart *u, uint8_t val)
{
	uint8_t fcr = val & FCR_ENABLE ? val & FCR_STATE : 0; /* bit 0 gates the others */

	if ((fcr ^ u->fcr) & FCR_ENABLE || (fcr & FCR_ENABLE && val & FCR_CLR_RX))
		u->rx_head = u->rx_len = 0;
	u->fcr = fcr;
}

static void write_mcr(struct uart *u, uint8_t val)
{
	uint8_t old = modem_inputs(u->mcr), now;
	bool was_busy = tx_busy(u);

	u->mcr = val & MCR_MASK;
	now = modem_inputs(u->mcr);
	/* DCTS, DDSR, DDCD on any change; TERI when RI turns off */
	u->msr |= (uint8_t)((((old ^ now) & ~MSR_RI) | (old & ~now & MSR_RI)) >> 4);
	if (was_busy && !tx_busy(u))
		u->thri = 1;
}

static uint8_t port_read(struct uart *u, unsigned off)
{
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t v;

	switch (off) {
	case 0: /* RBR, DLL */
		return dlab ? u->dll : rx_pop(u);
	case 1: /* IER, DLM */
		return dlab ? u->dlm : u->ier;
	case 2: /* IIR */
		v = iir_id(u);
		if (v == IIR_THRI)
			u->thri = 0;
		return v | (u->fcr & FCR_ENABLE ? IIR_FIFO : 0);
	case 3:
		return u->lcr;
	case 4:
		return u->mcr;
	case 5:
		v = lsr_value(u);
		u->lsr &= ~LSR_OE;
		return v;
	case 6:
		v = msr_value(u);
		u->msr = 0;
		return v;
	default:
		return u->scr;
	}
}

static void port_write(struct uart *u, unsigned off, uint8_t val)
{
	if (off < 2 && (u->lcr & LCR_DLAB))
		*(off ? &u->dlm : &u->dll) = val; /* the divisor latch */
	else if (off == 0)
		transmit(u, val);
	else if (off == 1) {
		/* enabling the THRE interrupt while THR is empty raises it */
		if ((val & ~u->ier & IER_THRI) && !tx_busy(u))
			u->thri = 1;
		u->ier = val & IER_MASK;
	} else if (off == 2)
		write_fcr(u, val);
	else if (off == 3)
		u->lcr = val;
	else if (off == 4)
		write_mcr(u, val);
	else if (off == 7)
		u->scr = val; /* LSR and MSR writes are for factory test only: ignored */
}

/* Wider accesses are consecutive byte accesses, low byte first, as an ISA bus splits them. */
static bool pio(void *ctx, struct vcpu *v __unused, uint64_t port, unsigned size, uint64_t *val,
		bool write)
{
	struct uart *u = ctx;
	uint64_t in = 0;

	if (size > 8)
		return false;
	spin_lock(&u->lock);
	for (unsigned i = 0; i < size; i++) {
		uint64_t off = port + i - u->base; /* past the eight ports: 0xff, writes ignored */

		if (write && off < 8)
			port_write(u, off, (uint8_t)(*val >> (8 * i)));
		else if (!write)
			in |= (uint64_t)(off < 8 ? port_read(u, off) : 0xff) << (8 * i);
	}
	spin_unlock(&u->lock);
	if (!write)
		*val = in;
	return true;
}

static int uart_has_attr(void *dev __unused, uint32_t group, uint64_t attr)
{
	static const uint64_t nr_attrs[] = {[HV_UART_GRP_CONFIG] = HV_UART_CFG_LEVEL + 1,
					    [HV_UART_GRP_REGS] = HV_UART_NR_REGS,
					    [HV_UART_GRP_LINE] = HV_UART_LINE_RX + 1};

	return group < ARRAY_SIZE(nr_attrs) && attr < nr_attrs[group] ? 0 : -ENXIO;
}

static uint8_t *reg_field(struct uart *u, uint64_t reg)
{
#define F(x) offsetof(struct uart, x)
	static const uint8_t offset[HV_UART_NR_REGS] = {F(dll), F(dlm), F(ier), F(fcr), F(lcr),
							F(mcr), F(lsr), F(msr), F(scr), F(thri)};
#undef F

	return (uint8_t *)u + offset[reg];
}

static uint8_t tx_pop(struct uart *u)
{
	uint8_t b = u->tx[u->tx_head];

	if (tx_busy(u))
		u->thri = 1; /* the transmitter is free again: THR empty */
	u->tx_head = (u->tx_head + 1) % TX_SIZE;
	u->tx_len--;
	return b;
}

static int uart_get_attr(void *dev, uint32_t group, uint64_t attr, uint64_t *val)
{
	struct uart *u = dev;
	int rc = 0;

	if (uart_has_attr(dev, group, attr))
		return -ENXIO;
	if (group == HV_UART_GRP_LINE && attr == HV_UART_LINE_RX)
		return -EPERM;
	spin_lock(&u->lock);
	if (group == HV_UART_GRP_LINE)
		*val = u->tx_len ? tx_pop(u) : 0x100;
	else if (group == HV_UART_GRP_REGS)
		*val = attr == HV_UART_REG_LSR	 ? lsr_value(u)
		       : attr == HV_UART_REG_MSR ? msr_value(u)
						 : *reg_field(u, attr);
	else if (attr == HV_UART_CFG_LEVEL)
		*val = irq_level(u);
	else if (attr == HV_UART_CFG_BASE && u->base_set)
		*val = u->base;
	else if (attr == HV_UART_CFG_IRQ && u->irq_set)
		*val = u->irq;
	else
		rc = -EPERM; /* BASE or IRQ not set yet */
	spin_unlock(&u->lock);
	return rc;
}

static int set_base(struct uart *u, struct vm *vm, uint64_t val)
{
	struct io_hook h = {.base = val, .len = 8, .access = pio, .ctx = u};
	int rc;

	spin_lock(&u->lock); /* not held while adding the hook: hook dispatch may hold a VM lock */
	rc = u->base_set ? -EEXIST : val > 0xfff8 ? -EINVAL : 0;
	if (!rc) {
		u->base_set = true;
		u->base = (uint16_t)val;
	}
	spin_unlock(&u->lock);
	if (!rc && (rc = vm_add_hooks(vm, &h, 1, NULL, 0)) != 0) {
		spin_lock(&u->lock);
		u->base_set = false;
		spin_unlock(&u->lock);
	}
	return rc;
}

/* Bits a restore accepts, per register; LSR's DR, THRE, TEMT and MSR's inputs are ignored. */
static const uint8_t reg_valid[HV_UART_NR_REGS] = {
	0xff, 0xff, IER_MASK, FCR_STATE, 0xff, MCR_MASK, LSR_DR | LSR_OE | LSR_THRE | LSR_TEMT,
	0xff, 0xff, 1};

static int set_reg(struct uart *u, uint64_t reg, uint64_t val)
{
	if (val & ~(uint64_t)reg_valid[reg])
		return -EINVAL;
	if (reg == HV_UART_REG_FCR && val && !(val & FCR_ENABLE))
		return -EINVAL; /* FCR keeps nothing while FIFOs are off */
	if (reg == HV_UART_REG_LSR)
		val &= LSR_OE;
	if (reg == HV_UART_REG_MSR)
		val &= MSR_DELTAS;
	*reg_field(u, reg) = (uint8_t)val;
	return 0;
}

static int uart_set_attr(void *dev, struct vm *vm, uint32_t group, uint64_t attr, uint64_t val)
{
	struct uart *u = dev;
	int rc = 0;

	if (uart_has_attr(dev, group, attr))
		return -ENXIO;
	if (group == HV_UART_GRP_CONFIG && attr == HV_UART_CFG_BASE)
		return set_base(u, vm, val);
	if ((group == HV_UART_GRP_CONFIG && attr == HV_UART_CFG_LEVEL) ||
	    (group == HV_UART_GRP_LINE && attr == HV_UART_LINE_TX))
		return -EPERM;
	if (val > (group == HV_UART_GRP_CONFIG ? 23 : 0xff))
		return -EINVAL;
	spin_lock(&u->lock);
	if (group == HV_UART_GRP_CONFIG) {
		u->irq = (uint8_t)val;
		u->irq_set = true;
	} else if (group == HV_UART_GRP_REGS) {
		rc = set_reg(u, attr, val);
	} else if (u->mcr & MCR_LOOP || !rx_push(u, (uint8_t)val)) {
		rc = -EBUSY; /* full, or the receiver listens to the transmitter (loopback) */
	}
	spin_unlock(&u->lock);
	return rc;
}

const struct dev_ops uart16550_ops = {
	.type = KVM_DEV_TYPE_HV_UART16550,
	.size = sizeof(struct uart), /* zeroed, the reset state: no create */
	.has_attr = uart_has_attr,
	.get_attr = uart_get_attr,
	.set_attr = uart_set_attr,
};
