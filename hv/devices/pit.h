/*
 * The 8254 PIT of a PC (ports 0x40-0x43) with port 0x61 (channel 2's gate, the speaker data
 * bit, the refresh toggle and channel 2's output), as a pure model (see irq.h). Channel 0's
 * output drives GSI 0 unless KVM_PIT_FLAGS_HPET_LEGACY is set. The save format is KVM's
 * struct kvm_pit_state2 (KVM_GET/SET_PIT2).
 */
#ifndef HV_PIT_H
#define HV_PIT_H

#include "irq.h"

#define PIT_HZ			      1193182u
#define KVM_PIT_FLAGS_HPET_LEGACY     1u
#define KVM_PIT_FLAGS_SPEAKER_DATA_ON 2u

/* struct kvm_pit_channel_state: RW states are 1 LSB, 2 MSB, 3 LSB-then-MSB (WORD0), 4 WORD1 */
struct pit_channel_kvm {
	uint32_t count; /* the reload value as a number (BCD decoded); 0 written: 0x10000 */
	uint16_t latched_count;
	uint8_t count_latched; /* RW state of the latched bytes still to read, 0: none */
	uint8_t status_latched;
	uint8_t status;
	uint8_t read_state;
	uint8_t write_state;
	uint8_t write_latch;
	uint8_t rw_mode;
	uint8_t mode;
	uint8_t bcd;
	uint8_t gate;
	int64_t count_load_time; /* ns of the VM clock */
};

/* struct kvm_pit_state2 */
struct pit_state_kvm {
	struct pit_channel_kvm channels[3];
	uint32_t flags; /* KVM_PIT_FLAGS_* */
	uint32_t reserved[9];
};

_Static_assert(sizeof(struct pit_channel_kvm) == 24, "kvm_pit_channel_state layout");
_Static_assert(sizeof(struct pit_state_kvm) == 112, "kvm_pit_state2 layout");

/* Its first 24 bytes are a struct pit_channel_kvm, load_ns as count_load_time. */
struct pit_channel {
	uint32_t count; /* as in the save format; 0: no count written since the control word */
	uint16_t latched_count;
	uint8_t count_latched, status_latched, status, read_state, write_state, write_latch;
	uint8_t rw_mode, mode, bcd, gate;
	int64_t load_ns; /* VM time at which the count was loaded, while counting */
	uint64_t frozen; /* ticks counted when counting stopped (gate, half-written mode 0 count) */
};

_Static_assert(offsetof(struct pit_channel, gate) == offsetof(struct pit_channel_kvm, gate) &&
		       offsetof(struct pit_channel, load_ns) ==
			       offsetof(struct pit_channel_kvm, count_load_time),
	       "struct pit_channel starts as struct pit_channel_kvm");

struct pit {
	struct pit_channel ch[3];
	uint32_t flags;	   /* KVM_PIT_FLAGS_*: SPEAKER_DATA_ON is port 0x61 bit 1 */
	uint8_t irq_level; /* GSI 0 as last passed to set_irq */
	uint64_t next_evt; /* channel 0's next output event, in ticks since its load_ns */
};

/* p must be zeroed before its first reset. */
void pit_reset(struct pit *p, const struct irq_env *env);
uint8_t pit_port_read(struct pit *p, uint16_t port, const struct irq_env *env);
void pit_port_write(struct pit *p, uint16_t port, uint8_t val, const struct irq_env *env);
uint64_t pit_next_ns(const struct pit *p);
void pit_tick(struct pit *p, const struct irq_env *env);
void pit_get_state(const struct pit *p, struct pit_state_kvm *s, const struct irq_env *env);
int pit_set_state(struct pit *p, const struct pit_state_kvm *s, const struct irq_env *env);

#endif
