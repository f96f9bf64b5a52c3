/* MMIO instruction decoder: prefixes, opcode, ModRM/SIB/displacement length, immediate. */
#include "x86dec.h"
#include "../lib/bytes.h"

struct dec {
	const uint8_t *b;
	size_t n, pos;
	enum x86_mode mode;
	bool opsize_override, addr_override, rep;
	uint8_t rex, seg;
};

static int next(struct dec *d, uint8_t *v)
{
	if (d->pos >= d->n || d->pos >= X86_MAX_INSN)
		return -1;
	*v = d->b[d->pos++];
	return 0;
}

static int skip(struct dec *d, size_t k)
{
	if (d->pos + k > d->n || d->pos + k > X86_MAX_INSN)
		return -1;
	d->pos += k;
	return 0;
}

/* The legacy prefixes: first the ES, CS, SS, DS, FS and GS overrides, in the hardware's order */
static const uint8_t legacy[] = {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3};

/* Legacy prefixes, then REX (64-bit mode only, and only right before the opcode). */
static int prefixes(struct dec *d, uint8_t *op)
{
	for (;;) {
		uint8_t i = 0;

		if (next(d, op))
			return -1;
		while (i < sizeof(legacy) && legacy[i] != *op)
			i++;
		if (i < sizeof(legacy)) {
			d->opsize_override |= *op == 0x66;
			d->addr_override |= *op == 0x67;
			d->rep |= *op == 0xf2 || *op == 0xf3;
			d->seg = i < 6 ? i : d->seg;
			d->rex = 0;
			continue;
		}
		if (d->mode == X86_MODE64 && (*op & 0xf0) == 0x40) {
			d->rex = *op;
			continue;
		}
		return 0;
	}
}

static unsigned operand_size(const struct dec *d)
{
	if (d->rex & 8)
		return 8;
	if (d->mode == X86_MODE16)
		return d->opsize_override ? 4 : 2;
	return d->opsize_override ? 2 : 4;
}

/* Skips SIB and displacement after a ModRM byte; the register field goes to *reg. */
static int modrm(struct dec *d, uint8_t *reg)
{
	uint8_t m, mod, rm;
	bool addr16 = d->mode == X86_MODE16 ? !d->addr_override
					    : (d->mode == X86_MODE32 && d->addr_override);

	if (next(d, &m))
		return -1;
	mod = m >> 6;
	rm = m & 7;
	*reg = ((m >> 3) & 7) | ((d->rex & 4) << 1);
	if (mod == 3)
		return -1; /* a register operand: not a memory access */
	if (addr16) {
		if (mod == 0 && rm == 6)
			return skip(d, 2);
		return skip(d, mod == 1 ? 1 : mod == 2 ? 2 : 0);
	}
	if (rm == 4) { /* SIB */
		uint8_t sib;
		if (next(d, &sib))
			return -1;
		if (mod == 0 && (sib & 7) == 5)
			return skip(d, 4);
	}
	if (mod == 0 && rm == 5)
		return skip(d, 4); /* disp32 (RIP-relative in 64-bit mode) */
	return skip(d, mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

static int immediate(struct dec *d, unsigned size, struct x86_insn *out)
{
	unsigned isz = size == 8 ? 4 : size; /* imm32 sign-extended for 64-bit operands */

	if (skip(d, isz))
		return -1;
	out->imm = get_le(d->b + d->pos - isz, isz);
	if (size == 8)
		out->imm = (uint64_t)(int64_t)(int32_t)out->imm;
	return 0;
}

/* ModRM with a register operand: byte registers 4-7 without REX are AH, CH, DH, BH. */
static int reg_operand(struct dec *d, struct x86_insn *out)
{
	if (modrm(d, &out->reg))
		return -1;
	out->high_byte = out->opsize == 1 && !d->rex && out->reg >= 4 && out->reg < 8;
	return 0;
}

static int two_byte(struct dec *d, struct x86_insn *out)
{
	uint8_t op, ext;

	if (next(d, &op))
		return -1;
	out->opsize = out->mem_size = (uint8_t)operand_size(d);
	if ((op & 0xe7) == 0xa3) { /* BT, BTS, BTR, BTC r/m, r */
		out->op = X86_RMW;
		out->alu = X86_BT + ((op >> 3) & 3);
		return modrm(d, &out->reg);
	}
	if (op == 0xba) { /* the same, r/m, imm8 (/4 to /7) */
		out->op = X86_RMW;
		out->src_imm = true;
		if (modrm(d, &ext) || (ext & 7) < 4)
			return -1;
		out->alu = X86_BT + (ext & 7) - 4;
		return immediate(d, 1, out);
	}
	if (op != 0xb6 && op != 0xb7 && op != 0xbe && op != 0xbf)
		return -1;
	out->op = op < 0xb8 ? X86_LOAD_ZX : X86_LOAD_SX;
	out->mem_size = (op & 1) ? 2 : 1;
	return modrm(d, &out->reg);
}

/* 00-3F's ALU r/m,r and r,r/m; 80, 81 and 83 /n r/m,imm; 84-85 TEST r/m,r; F6-F7 /0-1 TEST imm,
 * /2 NOT, /3 NEG; FE-FF /0 INC, /1 DEC */
static int alu_form(struct dec *d, uint8_t op, struct x86_insn *out)
{
	uint8_t ext;

	out->op = op < 0x40 && (op & 2) ? X86_ALU_LOAD : X86_RMW;
	if (op < 0x40 || op == 0x84 || op == 0x85) {
		out->alu = op < 0x40 ? op >> 3 : X86_TEST;
		return reg_operand(d, out);
	}
	out->src_imm = true;
	if (modrm(d, &ext) || (op >= 0xf6 && (ext & 7) > (op >= 0xfe ? 1 : 3)))
		return -1; /* F6-F7 /4-7 (MUL, DIV) and FE-FF /2-7 (CALL, JMP, PUSH) are not */
	ext &= 7;
	out->alu = op >= 0xfe  ? X86_INC + ext
		   : op < 0xf6 ? ext
		   : ext < 2   ? X86_TEST
			       : X86_NOT + ext - 2;
	if (out->alu >= X86_NOT)
		return 0;
	if (op != 0x80 && op != 0x83)
		return immediate(d, out->opsize, out);
	if (immediate(d, 1, out))
		return -1;
	out->imm = (uint64_t)(int64_t)(int8_t)out->imm; /* 83: imm8 sign-extended */
	return 0;
}

static uint8_t address_size(const struct dec *d)
{
	return d->mode == X86_MODE64   ? (d->addr_override ? 4 : 8)
	       : d->mode == X86_MODE32 ? (d->addr_override ? 2 : 4)
				       : (d->addr_override ? 4 : 2);
}

static int one_byte(struct dec *d, uint8_t op, struct x86_insn *out)
{
	uint8_t reg;

	/* the operand size of every form here (0F's own: two_byte): bit 0 clear is a byte */
	out->opsize = out->mem_size = (op & 1) ? (uint8_t)operand_size(d) : 1;
	switch (op) {
	case 0x86 ... 0x8b: /* XCHG, MOV r/m,r and r,r/m */
		out->op = op >= 0x88 ? ((op & 2) ? X86_LOAD : X86_STORE_REG) : X86_XCHG;
		return reg_operand(d, out);
	case 0xc6 ... 0xc7:
		out->op = X86_STORE_IMM;
		if (modrm(d, &reg) || (reg & 7) != 0)
			return -1; /* only /0 is MOV */
		return immediate(d, out->opsize, out);
	case 0xa0 ... 0xa3: /* moffs: the address is an immediate of the address size */
		out->op = op < 0xa2 ? X86_LOAD : X86_STORE_REG; /* reg 0: the accumulator */
		return skip(d, address_size(d));
	case 0xa4 ... 0xa5: /* MOVS */
	case 0xaa ... 0xab: /* STOS */
		out->op = op < 0xaa ? X86_MOVS : X86_STOS;
		out->rep = d->rep;
		out->addr_size = address_size(d);
		out->seg = d->seg; /* reg 0: STOS stores the accumulator */
		return 0;
	case 0x0f:
		return two_byte(d, out);
	case 0x80 ... 0x81:
	case 0x83 ... 0x85:
	case 0xf6 ... 0xf7:
	case 0xfe ... 0xff:
		return alu_form(d, op, out);
	default:
		return op < 0x40 && (op & 7) < 4 ? alu_form(d, op, out) : -1;
	}
}

int x86_decode(const uint8_t *bytes, size_t n, enum x86_mode mode, struct x86_insn *out)
{
	struct dec d = {.b = bytes, .n = n, .mode = mode, .seg = 3 /* DS */};
	uint8_t op;

	*out = (struct x86_insn){0};
	if (prefixes(&d, &op) || one_byte(&d, op, out))
		return -1;
	out->len = (uint8_t)d.pos;
	return 0;
}
