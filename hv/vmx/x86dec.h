/*
 * A small x86 decoder for the instructions that touch MMIO: the MOV family, MOVZX/MOVSX, XCHG,
 * the string stores and moves (STOS, MOVS) firmware clears and copies with, and the
 * read-modify-write and compare forms compilers emit (ADD, OR, ADC, SBB, AND, SUB, XOR, CMP,
 * TEST, BT, BTS, BTR, BTC, NOT, NEG, INC, DEC). The EPT violation already gives the address; this
 * finds the length, the operand size, the direction and the register or immediate; x86alu.c does
 * the arithmetic. Pure code; fuzzed on the host.
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
	X86_RMW,       /* memory <- memory alu source (CMP, TEST, BT leave memory as it was) */
	X86_ALU_LOAD,  /* register <- register alu memory (CMP leaves the register) */
};

/* ALU operations, 0-7 in the encoding's order */
enum x86_alu {
	X86_ADD,
	X86_OR,
	X86_ADC,
	X86_SBB,
	X86_AND,
	X86_SUB,
	X86_XOR,
	X86_CMP,
	X86_TEST,
	X86_BT,
	X86_BTS,
	X86_BTR,
	X86_BTC,
	X86_NOT, /* the unary ones: F6-F7 /2 and /3, FE-FF /0 and /1 */
	X86_NEG,
	X86_INC,
	X86_DEC
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
	uint8_t alu;	   /* X86_RMW, X86_ALU_LOAD: enum x86_alu */
	bool src_imm;	   /* X86_RMW: the source is imm (else register reg) */
	uint64_t imm;
};

/* The low `size` bytes of a value (size 1, 2, 4 or 8). */
static inline uint64_t x86_size_mask(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* Writes the low `size` bytes of *r as the CPU does: a 32-bit write clears the upper half. */
static inline void x86_write_sized(uint64_t *r, unsigned size, uint64_t val)
{
	*r = size == 4 ? (uint32_t)val : (*r & ~x86_size_mask(size)) | (val & x86_size_mask(size));
}

/* Decodes bytes[0..n). Returns 0, or -1 for an instruction outside the set or a truncated one. */
int x86_decode(const uint8_t *bytes, size_t n, enum x86_mode mode, struct x86_insn *out);

/* Value of a register operand of `size` bytes from the 16 GPRs (high-byte forms included). */
uint64_t x86_reg_read(const uint64_t *gprs, const struct x86_insn *in, unsigned size);
/* Writes a register operand the way the CPU does (32-bit writes clear the upper half). */
void x86_reg_write(uint64_t *gprs, const struct x86_insn *in, uint64_t val);

/* x86alu.c: dst alu src in `size` bytes, RFLAGS' arithmetic flags updated; the result. */
uint64_t x86_alu(unsigned alu, uint64_t dst, uint64_t src, unsigned size, uint64_t *rflags);
/*
 * The rest of an instruction that reads memory (loads, XCHG, X86_RMW, X86_ALU_LOAD) once memory
 * gave `mem`: registers and RFLAGS as the CPU leaves them. True with *wb when it writes memory.
 */
bool x86_finish_read(const struct x86_insn *in, uint64_t *gprs, uint64_t *rflags, uint64_t mem,
		     uint64_t *wb);

#endif
