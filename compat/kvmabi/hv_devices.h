/* SPDX-License-Identifier: GPL-2.0 */
/*
 * This project's KVM device types (KVM_CREATE_DEVICE) and their attributes: the user-space ABI
 * of the in-hypervisor device models. Type numbers are private (KVM's own stop far below) and
 * present when KVM_CHECK_EXTENSION(KVM_CAP_HV_DEVICES) returns 1.
 *
 * Every attribute's value is a __u64 at kvm_device_attr.addr.
 */
#ifndef HV_DEVICES_H
#define HV_DEVICES_H

#define KVM_CAP_HV_DEVICES 0x4856 /* "HV": this project's device types exist */

#define KVM_DEV_TYPE_HV_BASE	  0x48560000u
#define KVM_DEV_TYPE_HV_UART16550 (KVM_DEV_TYPE_HV_BASE + 1)
#define KVM_DEV_TYPE_HV_PIC	  (KVM_DEV_TYPE_HV_BASE + 2)
#define KVM_DEV_TYPE_HV_IOAPIC	  (KVM_DEV_TYPE_HV_BASE + 3)
#define KVM_DEV_TYPE_HV_LAPIC	  (KVM_DEV_TYPE_HV_BASE + 4)
#define KVM_DEV_TYPE_HV_PIT	  (KVM_DEV_TYPE_HV_BASE + 5)

/*
 * 16550A UART. Several per VM. It answers guest port I/O at its base (8 ports) once that is set.
 * Bytes the guest transmits wait in a 256-byte line buffer user space drains; while it is full
 * the transmitter stays busy (LSR.THRE clear).
 */
#define HV_UART_GRP_CONFIG 1
#define HV_UART_CFG_BASE   0 /* port base (8 ports, at most 0xfff8); set once: -EEXIST after */
#define HV_UART_CFG_IRQ	   1 /* interrupt line (GSI, 0-23) */
#define HV_UART_CFG_LEVEL  2 /* read-only: the interrupt output now (0 or 1), gated by MCR.OUT2 */
/* BASE and IRQ read -EPERM until set. */

/*
 * Register state for save and restore; reading has none of the guest's side effects. Values
 * are bytes. LSR reads DR, THRE and TEMT from the FIFOs and MSR its bits 4-7 from the modem
 * inputs: a restore ignores those bits, and refuses LSR bits other than DR, OE, THRE, TEMT.
 * FCR holds bits 0, 3, 6, 7 (all 0 while bit 0 is clear). Not saved: the FIFO contents; drain
 * LINE/TX before saving (bytes still in the receive FIFO are lost). Restore BASE and IRQ too.
 */
#define HV_UART_GRP_REGS 2
#define HV_UART_REG_DLL	 0
#define HV_UART_REG_DLM	 1
#define HV_UART_REG_IER	 2
#define HV_UART_REG_FCR	 3
#define HV_UART_REG_LCR	 4
#define HV_UART_REG_MCR	 5
#define HV_UART_REG_LSR	 6
#define HV_UART_REG_MSR	 7
#define HV_UART_REG_SCR	 8
#define HV_UART_REG_THRI 9 /* the transmitter-empty interrupt is pending (0 or 1) */
#define HV_UART_NR_REGS	 10

/* The line: TX (get only) takes the oldest byte the guest sent, 0x100 when there is none;
 * RX (set only) queues a byte for the guest (-EBUSY when its 16-byte FIFO is full, and in
 * loopback, where the receiver is not connected to the line). */
#define HV_UART_GRP_LINE 3
#define HV_UART_LINE_TX	 0
#define HV_UART_LINE_RX	 1

/*
 * The interrupt controllers and the PIT of KVM_CREATE_IRQCHIP and KVM_CREATE_PIT2 as device
 * types: the 8259 pair (GSIs 0-15), the IOAPIC (GSIs 0-23), the local APICs of all vCPUs and the
 * 8254 (on GSI 0). One of each per VM (-EEXIST for a second). A device is a handle on the VM's
 * model: the first PIC, IOAPIC or LAPIC device creates all three as KVM_CREATE_IRQCHIP does
 * (-EBUSY once a vCPU exists), or finds those KVM_CREATE_IRQCHIP made, which then answers
 * -EEXIST. The PIT device creates or finds the 8254; it needs the others (-ENXIO).
 */
#define HV_IRQ_GRP_CONFIG 1 /* u64, read-only (-EPERM to set) */
#define HV_IRQ_CFG_BASE	  0 /* port (PIC 0x20, with 0xa0 and ELCR 0x4d0; PIT 0x40) or address */
#define HV_IRQ_CFG_PINS	  1 /* input lines: PIC 16, IOAPIC 24 (pin n is GSI n); LAPIC 2 (LINT0/1) */
#define HV_IRQ_CFG_GSI	  2 /* PIT only: the GSI its channel 0 drives */

/*
 * Register state for save and restore, in KVM's layouts; the value at addr is the whole struct
 * (not a u64). PIC: attr 0 (master) or 1 (slave), struct kvm_pic_state, 16 bytes. IOAPIC: attr
 * 0, struct kvm_ioapic_state, 216 bytes. LAPIC: attr the vCPU id, struct kvm_lapic_state, 1024
 * bytes. PIT: attr 0, struct kvm_pit_state2, 112 bytes. -ENXIO for another attr; setting a
 * state the model refuses is -EINVAL. Restore the vCPUs' own state (KVM_SET_REGS...) as well.
 */
#define HV_IRQ_GRP_STATE 2

#endif
