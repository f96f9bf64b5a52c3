/*
 * The I/O APIC (82093AA, 24 pins) as a pure model, and the MSI decoding that shares its
 * message format. Redirection entries keep the hardware layout; irr holds the asserted inputs.
 */
#ifndef HV_IOAPIC_H
#define HV_IOAPIC_H

#include "irq.h"

#define IOAPIC_PINS	    24
#define IOAPIC_DEFAULT_BASE 0xfec00000ULL
#define IOAPIC_MMIO_SIZE    0x100
#define IOAPIC_VERSION	    0x170011 /* version 0x11, max redirection entry 23 */

/* Redirection entry bits (82093AA section 3.2.4) */
#define IOAPIC_RTE_VECTOR   0xffULL
#define IOAPIC_RTE_DM_SHIFT 8
#define IOAPIC_RTE_LOGICAL  (1ULL << 11)
#define IOAPIC_RTE_RIRR	    (1ULL << 14) /* remote IRR (read-only) */
#define IOAPIC_RTE_LEVEL    (1ULL << 15) /* trigger mode */
#define IOAPIC_RTE_MASK	    (1ULL << 16)
#define IOAPIC_RTE_DEST_SH  56

struct ioapic {
	uint64_t base;
	uint32_t ioregsel;	     /* bits 7:0 */
	uint32_t id;		     /* the 4-bit IOAPIC id (register bits 27:24) */
	uint32_t irr;		     /* pins whose input is asserted */
	uint64_t redir[IOAPIC_PINS]; /* 82093AA layout */
};

/* KVM's struct kvm_ioapic_state (KVM_GET/SET_IRQCHIP, chip 2), byte for byte. */
struct ioapic_state_kvm {
	uint64_t base_address;
	uint32_t ioregsel;
	uint32_t id;
	uint32_t irr;
	uint32_t pad;
	uint64_t redirtbl[IOAPIC_PINS];
};
_Static_assert(sizeof(struct ioapic_state_kvm) == 216, "KVM's kvm_ioapic_state");

/* Power-on state: every pin masked, id 0, registers at base. */
void ioapic_reset(struct ioapic *io, uint64_t base);
/* Dword accesses at an offset from base: IOREGSEL 0x00, IOWIN 0x10; others read 0. */
uint32_t ioapic_mmio_read(struct ioapic *io, uint64_t offset);
void ioapic_mmio_write(struct ioapic *io, uint64_t offset, uint32_t val, const struct irq_env *env);
/* A pin's input: 1 asserted, 0 not, whatever its polarity (as KVM's). */
void ioapic_set_irq(struct ioapic *io, unsigned pin, int level, const struct irq_env *env);
/* A local APIC EOIed a level-triggered vector: clear remote IRR, re-deliver if still asserted. */
void ioapic_eoi(struct ioapic *io, uint8_t vector, const struct irq_env *env);

void ioapic_get_state(const struct ioapic *io, struct ioapic_state_kvm *s);
/* 0, or -EINVAL: id above 15, ioregsel above 0xff, irr above pin 23, an entry with reserved
 * bits or delivery status set. */
int ioapic_set_state(struct ioapic *io, const struct ioapic_state_kvm *s);

/* An MSI write (address 0xfee00000-0xfeefffff) as a message; false for another address. */
bool msi_to_msg(uint64_t addr, uint32_t data, struct apic_msg *m);

#endif
