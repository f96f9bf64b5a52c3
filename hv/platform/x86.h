/* Thin wrappers around x86 instructions used outside VMX code. */
#ifndef HV_X86_H
#define HV_X86_H

#include "../lib/types.h"

/* inb/outb, inw/outw, inl/outl (one family, as Linux's BUILDIO) */
#define PORT_IO(sfx, type)                                                     \
	static inline type in##sfx(uint16_t port)                              \
	{                                                                      \
		type v;                                                        \
		__asm__ volatile("in" #sfx " %1, %0" : "=a"(v) : "Nd"(port));  \
		return v;                                                      \
	}                                                                      \
	static inline void out##sfx(uint16_t port, type v)                     \
	{                                                                      \
		__asm__ volatile("out" #sfx " %0, %1" : : "a"(v), "Nd"(port)); \
	}
PORT_IO(b, uint8_t)
PORT_IO(w, uint16_t)
PORT_IO(l, uint32_t)

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* WRMSR of a value from a guest or dom0: false where the CPU refused it (#GP), as KVM's
 * wrmsr_safe. In isr.S, its #GP caught by trap_handler. */
bool wrmsr_safe(uint32_t msr, uint64_t v);

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t sub)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(sub));
	return r;
}

#define DEFINE_CR(n)                                                       \
	static inline uint64_t read_cr##n(void)                            \
	{                                                                  \
		uint64_t v;                                                \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));          \
		return v;                                                  \
	}                                                                  \
	static inline void write_cr##n(uint64_t v)                         \
	{                                                                  \
		__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)

static inline uint64_t read_rflags(void)
{
	uint64_t v;
	__asm__ volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}

static inline __noreturn void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

/* Initial APIC id of the executing CPU (CPUID.1:EBX[31:24]). */
static inline uint32_t apic_id_self(void)
{
	return cpuid(1, 0).ebx >> 24;
}

/* Architectural bits of the control registers, EFER, RFLAGS and XCR0 */
#define CR0_PE	    (1ULL << 0)
#define CR0_TS	    (1ULL << 3)
#define CR0_ET	    (1ULL << 4)
#define CR0_NE	    (1ULL << 5)
#define CR0_WP	    (1ULL << 16)
#define CR0_NW	    (1ULL << 29)
#define CR0_CD	    (1ULL << 30)
#define CR0_PG	    (1ULL << 31)
#define CR4_DE	    (1ULL << 3)
#define CR4_PSE	    (1ULL << 4)
#define CR4_PAE	    (1ULL << 5)
#define CR4_MCE	    (1ULL << 6)
#define CR4_PGE	    (1ULL << 7)
#define CR4_VMXE    (1ULL << 13)
#define CR4_PCIDE   (1ULL << 17)
#define CR4_OSXSAVE (1ULL << 18)
#define EFER_SCE    (1ULL << 0)
#define EFER_LME    (1ULL << 8)
#define EFER_LMA    (1ULL << 10)
#define EFER_NXE    (1ULL << 11)
#define RFLAGS_TF   (1ULL << 8)
#define RFLAGS_IF   (1ULL << 9)
#define RFLAGS_DF   (1ULL << 10)
#define RFLAGS_RF   (1ULL << 16)
#define RFLAGS_VM   (1ULL << 17)
#define XCR0_X87    1ULL
#define XCR0_SSE    2ULL
#define XCR0_AVX    4ULL

#define MSR_EFER	0xC0000080
#define MSR_FS_BASE	0xC0000100
#define MSR_GS_BASE	0xC0000101
#define MSR_APIC_BASE	0x1b
#define MSR_PAT		0x277
#define MSR_UCODE_WRITE 0x79 /* a write asks for a microcode update */

#endif
