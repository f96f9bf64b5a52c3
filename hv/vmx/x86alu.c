/* The decoded MMIO instructions carried out on registers and RFLAGS: pure code, tested on the host
 * against the host CPU's own results. */
#include "x86dec.h"

#define RFLAGS_ARITH 0x8d5ULL /* OF, SF, ZF, AF, PF, CF */

uint64_t x86_reg_read(const uint64_t *gprs, const struct x86_insn *in, unsigned size)
{
	if (in->high_byte)
		return (gprs[in->reg - 4] >> 8) & 0xff;
	return gprs[in->reg & 15] & x86_size_mask(size);
}

void x86_reg_write(uint64_t *gprs, const struct x86_insn *in, uint64_t val)
{
	if (in->high_byte)
		gprs[in->reg - 4] = (gprs[in->reg - 4] & ~0xff00ULL) | ((val & 0xff) << 8);
	else
		x86_write_sized(&gprs[in->reg & 15], in->opsize, val);
}

/* BT, BTS, BTR, BTC: CF is the bit (its offset taken modulo the operand's width); the rest stay */
static uint64_t bit_op(unsigned alu, uint64_t d, uint64_t s, unsigned size, uint64_t *rflags)
{
	uint64_t bit = 1ULL << (s & (8 * size - 1));

	*rflags = (*rflags & ~1ULL) | ((d & bit) >> (s & (8 * size - 1)));
	return alu == X86_BTS ? d | bit : alu == X86_BTR ? d & ~bit : alu == X86_BTC ? d ^ bit : d;
}

/* CF (the carry or borrow out of the top bit), AF and OF of an addition or subtraction */
static uint64_t arith_flags(uint64_t carries, uint64_t af_bits, uint64_t overflows, unsigned top)
{
	return ((carries >> top) & 1) | (af_bits & 0x10) | ((overflows >> top) & 1) << 11;
}

/* NOT leaves the flags, NEG sets them as 0 - d, INC and DEC as adding or subtracting 1 but CF */
static uint64_t unary(unsigned alu, uint64_t d, unsigned size, uint64_t *rflags)
{
	uint64_t cf = *rflags & 1;

	if (alu == X86_NOT)
		return ~d & x86_size_mask(size);
	if (alu == X86_NEG)
		return x86_alu(X86_SUB, 0, d, size, rflags);
	d = x86_alu(alu == X86_INC ? X86_ADD : X86_SUB, d, 1, size, rflags);
	*rflags = (*rflags & ~1ULL) | cf;
	return d;
}

uint64_t x86_alu(unsigned alu, uint64_t d, uint64_t s, unsigned size, uint64_t *rflags)
{
	/* flags: CF, AF and OF stay 0 for the logic operations */
	uint64_t mask = x86_size_mask(size), cf = *rflags & 1, r, flags = 0;
	unsigned top = 8 * size - 1;

	d &= mask;
	s &= mask;
	if (alu >= X86_NOT)
		return unary(alu, d, size, rflags);
	if (alu >= X86_BT)
		return bit_op(alu, d, s, size, rflags);
	if (alu == X86_ADD || alu == X86_ADC) {
		r = d + s + (alu == X86_ADC ? cf : 0);
		flags = arith_flags((d & s) | ((d | s) & ~r), d ^ s ^ r, (d ^ r) & (s ^ r), top);
	} else if (alu == X86_SUB || alu == X86_SBB || alu == X86_CMP) {
		r = d - s - (alu == X86_SBB ? cf : 0);
		flags = arith_flags((~d & s) | ((~d | s) & r), d ^ s ^ r, (d ^ s) & (d ^ r), top);
	} else {
		r = alu == X86_OR ? d | s : alu == X86_XOR ? d ^ s : d & s;
	}
	r &= mask;
	/* PF: an even number of ones in the low byte */
	flags |= (uint64_t)!__builtin_parity((unsigned)(r & 0xff)) << 2 | (uint64_t)(r == 0) << 6 |
		 ((r >> top) & 1) << 7;
	*rflags = (*rflags & ~RFLAGS_ARITH) | flags;
	return alu == X86_CMP || alu == X86_TEST ? d : r;
}

static uint64_t sign_extend(uint64_t v, unsigned size)
{
	unsigned shift = 64 - 8 * size;

	return (uint64_t)((int64_t)(v << shift) >> shift);
}

bool x86_finish_read(const struct x86_insn *in, uint64_t *gprs, uint64_t *rflags, uint64_t mem,
		     uint64_t *wb)
{
	uint64_t m = mem & x86_size_mask(in->mem_size), reg = x86_reg_read(gprs, in, in->opsize);

	switch (in->op) {
	case X86_XCHG:
		*wb = reg;
		x86_reg_write(gprs, in, m);
		return true;
	case X86_RMW:
		*wb = x86_alu(in->alu, m, in->src_imm ? in->imm : reg, in->opsize, rflags);
		return in->alu != X86_CMP && in->alu != X86_TEST && in->alu != X86_BT;
	case X86_ALU_LOAD:
		m = x86_alu(in->alu, reg, m, in->opsize, rflags);
		if (in->alu != X86_CMP)
			x86_reg_write(gprs, in, m);
		return false;
	default: /* the loads */
		x86_reg_write(gprs, in, in->op == X86_LOAD_SX ? sign_extend(m, in->mem_size) : m);
		return false;
	}
}
