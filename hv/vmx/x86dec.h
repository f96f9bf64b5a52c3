/*
 * A small x86 decoder for the instructions that touch MMIO: the MOV family, MOVZX/MOVSX, XCHG
 * and the string stores and moves (STOS, MOVS) firmware clears and copies with. The EPT violation
 * already gives the address; this finds the length, the operand size, the direction and the
 * register or immediate. Pure code; fuzzed on the host.
 */
#ifndef HV_X86DEC_H
#define HV_X86DEC_H

#include "../lib/types.h"

#define X86_MAX_INSN 15

enum x86_mode { X86_MODE16 = 2, X86_MODE32 = 4, X86_MODE64 = 8 };

enum x86_op {
	X86_STORE_REG, /* memory <- register */
	X86_STORE_IMM, /* memory <- immediate */
	X86_LOAD,      /* register <- memory (zero-extended to the operand size) */
	X86_LOAD_ZX,   /* register <- memory, zero-extended from mem_size to opsize */
	X86_LOAD_SX,   /* register <- memory, sign-extended from mem_size to opsize */
	X86_XCHG,      /* both */
	X86_STOS,      /* ES:[rDI] <- accumulator, then rDI steps */
	X86_MOVS,      /* ES:[rDI] <- seg:[rSI], then both step */
};

struct x86_insn {
	enum x86_op op;
	uint8_t len;	   /* bytes, prefixes included */
	uint8_t opsize;	   /* register operand size: 1, 2, 4 or 8 */
	uint8_t mem_size;  /* bytes read or written in memory */
	uint8_t reg;	   /* register number 0-15 (hardware order) */
	bool high_byte;	   /* AH, CH, DH or BH: bits 15:8 of register reg - 4 */
	bool rep;	   /* STOS, MOVS: REP (F2 or F3) */
	uint8_t addr_size; /* STOS, MOVS: 2, 4 or 8 */
	uint8_t seg;	   /* MOVS: the source's segment (ES 0, CS 1, SS 2, DS 3, FS 4, GS 5) */
	uint64_t imm;
};

/* Decodes bytes[0..n). Returns 0, or -1 for an instruction outside the set or a truncated one. */
int x86_decode(const uint8_t *bytes, size_t n, enum x86_mode mode, struct x86_insn *out);

/* Value of a register operand of `size` bytes from the 16 GPRs (high-byte forms included). */
uint64_t x86_reg_read(const uint64_t *gprs, const struct x86_insn *in, unsigned size);
/* Writes a register operand the way the CPU does (32-bit writes clear the upper half). */
void x86_reg_write(uint64_t *gprs, const struct x86_insn *in, uint64_t val);

#endif
