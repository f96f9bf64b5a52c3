/* GDT, TSS and IDT setup. */
#include "cpu.h"

struct idt_entry {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, rsvd;
} __packed;

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

extern const uint64_t isr_table[32];
extern const uint64_t irq_stub_base; /* 224 stubs of 16 bytes for vectors 32-255 */
static struct idt_entry idt[256] __aligned(16);

/* NMI, #DF and #MC switch to their own IST stacks; every other vector stays on its stack. */
static const uint8_t vector_ist[] = {[2] = IST_NMI, [8] = IST_DF, [18] = IST_MC};

void idt_init(void)
{
	for (unsigned v = 0; v < ARRAY_SIZE(idt); v++) {
		uint64_t h = v < 32 ? isr_table[v] : irq_stub_base + 16 * (v - 32);
		idt[v] = (struct idt_entry){
			.off_lo = (uint16_t)h,
			.sel = GDT_CODE,
			.ist = v < ARRAY_SIZE(vector_ist) ? vector_ist[v] : 0,
			.type = 0x8e, /* present, DPL 0, interrupt gate */
			.off_mid = (uint16_t)(h >> 16),
			.off_hi = (uint32_t)(h >> 32),
		};
	}
}

void cpu_tables_load(struct cpu_tables *t)
{
	struct desc_ptr gdtr = {sizeof(t->gdt) - 1, (uint64_t)(uintptr_t)t->gdt};
	struct desc_ptr idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
	uint64_t tss = (uint64_t)(uintptr_t)&t->tss, limit = sizeof(t->tss) - 1;

	t->gdt[0] = 0;
	t->gdt[1] = 0x00af9a000000ffffULL; /* 64-bit code, DPL 0 */
	t->gdt[2] = 0x00cf92000000ffffULL; /* data */
	/* GDT_TSS: a 64-bit available TSS, a 16-byte descriptor */
	t->gdt[3] = (limit & 0xffff) | ((tss & 0xffffff) << 16) | (0x89ULL << 40) |
		    (((limit >> 16) & 0xf) << 48) | (((tss >> 24) & 0xff) << 56);
	t->gdt[4] = tss >> 32;
	t->tss = (struct tss64){.iomap_base = sizeof(struct tss64)};
	for (unsigned i = 0; i < 3; i++)
		t->tss.ist[i] = (uint64_t)(uintptr_t)(t->ist_stacks[i] + IST_STACK_SIZE);
	__asm__ volatile("lgdt %0\n\t"
			 "mov %1, %%ds\n\tmov %1, %%es\n\tmov %1, %%ss\n\t"
			 "pushq %2\n\tleaq 1f(%%rip), %%rax\n\tpushq %%rax\n\tlretq\n"
			 "1:\n\t"
			 "ltr %w3\n\t"
			 "lidt %4"
			 :
			 : "m"(gdtr), "r"((uint64_t)GDT_DATA), "i"(GDT_CODE), "r"(GDT_TSS),
			   "m"(idtr)
			 : "rax", "memory");
}
