/*
 * The PC's two 8259A PICs as a pure model: the master at 0x20/0x21, the slave at 0xa0/0xa1
 * cascaded on the master's IR2, and the PIIX edge/level control registers at 0x4d0/0x4d1.
 */
#ifndef HV_PIC_H
#define HV_PIC_H

#include "irq.h"

enum { PIC_MASTER = 0, PIC_SLAVE = 1 };
#define PIC_CASCADE_IRQ 2

/* KVM's struct kvm_pic_state (KVM_GET/SET_IRQCHIP, chips 0 and 1), byte for byte. */
struct pic_state_kvm {
	uint8_t last_irr; /* the input levels last seen (edge detection) */
	uint8_t irr;
	uint8_t imr;
	uint8_t isr;
	uint8_t priority_add; /* the IR with the highest priority */
	uint8_t irq_base;
	uint8_t read_reg_select; /* 1: ISR at the command port, 0: IRR */
	uint8_t poll;
	uint8_t special_mask;
	uint8_t init_state; /* 0: ready, 1-3: ICW2-ICW4 expected next */
	uint8_t auto_eoi;
	uint8_t rotate_on_auto_eoi;
	uint8_t special_fully_nested_mode;
	uint8_t init4; /* ICW4 needed */
	uint8_t elcr;
	uint8_t elcr_mask;
};
_Static_assert(sizeof(struct pic_state_kvm) == 16, "KVM's kvm_pic_state");

/* One chip: KVM's fields in KVM's order, then what KVM does not save. */
struct pic_chip {
	uint8_t last_irr, irr, imr, isr, priority_add, irq_base, read_reg_select, poll;
	uint8_t special_mask, init_state, auto_eoi, rotate_on_auto_eoi;
	uint8_t special_fully_nested_mode, init4, elcr, elcr_mask;
	bool single; /* ICW1 SNGL: no cascade (not in KVM's state: a restore clears it) */
};

struct pic {
	struct pic_chip chip[2]; /* PIC_MASTER, PIC_SLAVE */
};

/* Power-on: everything 0 (unmasked, vectors from 0, not initializing), ELCR edge. */
void pic_reset(struct pic *p);
/* Ports 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1; other ports read 0xff. */
uint8_t pic_port_read(struct pic *p, uint16_t port);
void pic_port_write(struct pic *p, uint16_t port, uint8_t val);
/* ISA IRQ 0-15 input level (2 is the cascade and ignored); edge unless its ELCR bit is set. */
void pic_set_irq(struct pic *p, unsigned irq, int level);
/* The master's INT output. */
bool pic_intr(const struct pic *p);
/* The INTA cycle: the vector, IRR to ISR; irq_base + 7 of a chip for a spurious request. */
int pic_ack(struct pic *p);

void pic_get_state(const struct pic *p, unsigned chip, struct pic_state_kvm *s);
/* 0, or -EINVAL: no such chip, init_state above 3, priority_add above 7, irq_base not a
 * multiple of 8, a flag above 1. Restore the master first: the slave's INT then reaches IR2. */
int pic_set_state(struct pic *p, unsigned chip, const struct pic_state_kvm *s);

#endif
