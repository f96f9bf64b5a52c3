/* Per-CPU descriptor tables: GDT with a TSS whose IST stacks catch NMI, #DF and #MC. */
#ifndef HV_CPU_H
#define HV_CPU_H

#include "../lib/types.h"

#define GDT_CODE       0x08
#define GDT_DATA       0x10
#define GDT_TSS	       0x18
#define IST_NMI	       1
#define IST_DF	       2
#define IST_MC	       3
#define IST_STACK_SIZE 4096

struct tss64 {
	uint32_t rsvd0;
	uint64_t rsp[3];
	uint64_t rsvd1;
	uint64_t ist[7];
	uint64_t rsvd2;
	uint16_t rsvd3;
	uint16_t iomap_base;
} __packed;

struct cpu_tables {
	uint64_t gdt[5];
	struct tss64 tss;
	uint8_t ist_stacks[3][IST_STACK_SIZE] __aligned(16);
};

/* Fills and loads the GDT, segment registers, TSS and the shared IDT on this CPU. */
void cpu_tables_load(struct cpu_tables *t);
/* Builds the shared IDT (once, on the boot CPU). */
void idt_init(void);

#endif
