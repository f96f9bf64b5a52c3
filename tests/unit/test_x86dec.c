/* Unit tests for hv/vmx/x86dec.c: lengths, operand sizes and registers of hand-assembled MMIO
 * accesses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmx/x86dec.h"

struct vec {
	const char *text;
	enum x86_mode mode;
	uint8_t bytes[15];
	size_t n;
	enum x86_op op;
	uint8_t len, opsize, mem_size, reg;
	bool high;
	uint64_t imm;
};

static const struct vec vecs[] = {
	{"mov %eax,(%rdx)", X86_MODE64, {0x89, 0x02}, 2, X86_STORE_REG, 2, 4, 4, 0, false, 0},
	{"mov %rax,0x300(%rsp)",
	 X86_MODE64,
	 {0x48, 0x89, 0x84, 0x24, 0x00, 0x03, 0, 0},
	 8,
	 X86_STORE_REG,
	 8,
	 8,
	 8,
	 0,
	 false,
	 0},
	{"mov 0x10(%rdi),%eax", X86_MODE64, {0x8b, 0x47, 0x10}, 3, X86_LOAD, 3, 4, 4, 0, false, 0},
	{"mov %r9d,(%rdi)", X86_MODE64, {0x44, 0x89, 0x0f}, 3, X86_STORE_REG, 3, 4, 4, 9, false, 0},
	{"movl $1,0xfee00300(%rip)",
	 X86_MODE64,
	 {0xc7, 0x05, 0x00, 0x03, 0xe0, 0xfe, 0x01, 0, 0, 0},
	 10,
	 X86_STORE_IMM,
	 10,
	 4,
	 4,
	 0,
	 false,
	 1},
	{"movq $-1,(%rax)",
	 X86_MODE64,
	 {0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff},
	 7,
	 X86_STORE_IMM,
	 7,
	 8,
	 8,
	 0,
	 false,
	 ~0ULL},
	{"movb $0x5a,(%ebx) 32-bit",
	 X86_MODE32,
	 {0xc6, 0x03, 0x5a},
	 3,
	 X86_STORE_IMM,
	 3,
	 1,
	 1,
	 0,
	 false,
	 0x5a},
	{"movzwl (%rsi),%eax",
	 X86_MODE64,
	 {0x0f, 0xb7, 0x06},
	 3,
	 X86_LOAD_ZX,
	 3,
	 4,
	 2,
	 0,
	 false,
	 0},
	{"movsbw (%rax),%ax",
	 X86_MODE64,
	 {0x66, 0x0f, 0xbe, 0x00},
	 4,
	 X86_LOAD_SX,
	 4,
	 2,
	 1,
	 0,
	 false,
	 0},
	{"mov 0xfee00020,%eax (moffs)",
	 X86_MODE64,
	 {0xa1, 0x20, 0, 0xe0, 0xfe, 0, 0, 0, 0},
	 9,
	 X86_LOAD,
	 9,
	 4,
	 4,
	 0,
	 false,
	 0},
	{"mov %ah,(%rsi)", X86_MODE64, {0x88, 0x26}, 2, X86_STORE_REG, 2, 1, 1, 4, true, 0},
	{"mov %spl,(%rsi) (REX: not AH)",
	 X86_MODE64,
	 {0x40, 0x88, 0x26},
	 3,
	 X86_STORE_REG,
	 3,
	 1,
	 1,
	 4,
	 false,
	 0},
	{"lock xchg %eax,(%rcx)",
	 X86_MODE64,
	 {0xf0, 0x87, 0x01},
	 3,
	 X86_XCHG,
	 3,
	 4,
	 4,
	 0,
	 false,
	 0},
	{"mov %ax,(%bx+%si+0x1234) 16-bit",
	 X86_MODE16,
	 {0x89, 0x80, 0x34, 0x12},
	 4,
	 X86_STORE_REG,
	 4,
	 2,
	 2,
	 0,
	 false,
	 0},
	{"mov %eax,(0x1234) 16-bit, 66",
	 X86_MODE16,
	 {0x66, 0x89, 0x06, 0x34, 0x12},
	 5,
	 X86_STORE_REG,
	 5,
	 4,
	 4,
	 0,
	 false,
	 0},
	{"mov %eax,(%ebp+%ebx*4+0) disp32 SIB",
	 X86_MODE32,
	 {0x89, 0x04, 0x9d, 1, 2, 3, 4},
	 7,
	 X86_STORE_REG,
	 7,
	 4,
	 4,
	 0,
	 false,
	 0},
	{"es mov (%edi),%cx 32-bit",
	 X86_MODE32,
	 {0x26, 0x66, 0x8b, 0x0f},
	 4,
	 X86_LOAD,
	 4,
	 2,
	 2,
	 1,
	 false,
	 0},
};

static void test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];
		struct x86_insn in;
		print_message("%s\n", v->text);
		assert_int_equal(x86_decode(v->bytes, v->n, v->mode, &in), 0);
		assert_int_equal(in.op, v->op);
		assert_int_equal(in.len, v->len);
		assert_int_equal(in.opsize, v->opsize);
		assert_int_equal(in.mem_size, v->mem_size);
		assert_int_equal(in.reg, v->reg);
		assert_int_equal(in.high_byte, v->high);
		assert_int_equal(in.imm, v->imm);
	}
}

static void test_truncated_everywhere(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		struct x86_insn in;
		for (size_t n = 0; n < vecs[i].n; n++)
			assert_int_equal(x86_decode(vecs[i].bytes, n, vecs[i].mode, &in), -1);
	}
}

static void test_rejected(void **state)
{
	static const uint8_t reg_operand[] = {0x89, 0xc0};	   /* mov %eax,%eax: no memory */
	static const uint8_t not_mov[] = {0xc7, 0x08, 0, 0, 0, 0}; /* C7 /1 is not MOV */
	static const uint8_t mull[] = {0xf7, 0x20};		   /* F7 /4 is MUL */
	static const uint8_t call[] = {0xff, 0x10};		   /* FF /2 is CALL */
	static const uint8_t bt_ext3[] = {0x0f, 0xba, 0x18, 0x01}; /* 0F BA /3 is undefined */
	uint8_t prefixes[16];
	struct x86_insn in;

	(void)state;
	assert_int_equal(x86_decode(reg_operand, 2, X86_MODE64, &in), -1);
	assert_int_equal(x86_decode(not_mov, 6, X86_MODE64, &in), -1);
	assert_int_equal(x86_decode(mull, 2, X86_MODE64, &in), -1);
	assert_int_equal(x86_decode(call, 2, X86_MODE64, &in), -1);
	assert_int_equal(x86_decode(bt_ext3, 4, X86_MODE64, &in), -1);
	for (int i = 0; i < 14; i++)
		prefixes[i] = 0x66;
	prefixes[14] = 0x89;
	prefixes[15] = 0x02; /* 16 bytes: over the architectural 15 */
	assert_int_equal(x86_decode(prefixes, 16, X86_MODE64, &in), -1);
}

/* STOS and MOVS: element size, REP, address size and the source's segment. */
static void test_strings(void **state)
{
	static const struct {
		enum x86_mode mode;
		uint8_t bytes[4], n;
		enum x86_op op;
		uint8_t len, size, asz, seg;
		bool rep;
	} t[] = {
		{X86_MODE16, {0x66, 0xf3, 0xab}, 3, X86_STOS, 3, 4, 2, 3, true}, /* rep stosl */
		{X86_MODE16, {0xaa}, 1, X86_STOS, 1, 1, 2, 3, false},		 /* stosb */
		{X86_MODE32, {0xf3, 0x67, 0xa5}, 3, X86_MOVS, 3, 4, 2, 3, true}, /* rep addr16 movsl
										  */
		{X86_MODE32, {0x26, 0x66, 0xa5}, 3, X86_MOVS, 3, 2, 4, 0, false}, /* es movsw */
		{X86_MODE64, {0xf3, 0x48, 0xab}, 3, X86_STOS, 3, 8, 8, 3, true},  /* rep stosq */
		{X86_MODE64, {0x65, 0xf2, 0xa4}, 3, X86_MOVS, 3, 1, 8, 5, true},  /* gs repne movsb
										   */
	};
	struct x86_insn in;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(x86_decode(t[i].bytes, t[i].n, t[i].mode, &in), 0);
		assert_int_equal(in.op, t[i].op);
		assert_int_equal(in.len, t[i].len);
		assert_int_equal(in.mem_size, t[i].size);
		assert_int_equal(in.addr_size, t[i].asz);
		assert_int_equal(in.seg, t[i].seg);
		assert_int_equal(in.rep, t[i].rep);
		assert_int_equal(in.reg, 0);
		assert_int_equal(x86_decode(t[i].bytes, t[i].n - 1u, t[i].mode, &in), -1);
	}
}

static void test_register_access(void **state)
{
	uint64_t g[16] = {0};
	struct x86_insn in = {.reg = 4, .high_byte = true, .opsize = 1};

	(void)state;
	g[0] = 0x1122334455667788ULL;
	x86_reg_write(g, &in, 0xab); /* AH */
	assert_int_equal(g[0], 0x112233445566ab88ULL);
	assert_int_equal(x86_reg_read(g, &in, 1), 0xab);
	in = (struct x86_insn){.reg = 0, .opsize = 4};
	x86_reg_write(g, &in, 0xdeadbeef); /* 32-bit writes clear bits 63:32 */
	assert_int_equal(g[0], 0xdeadbeefULL);
	in.opsize = 2;
	x86_reg_write(g, &in, 0x1234);
	assert_int_equal(g[0], 0xdead1234ULL);
	in = (struct x86_insn){.reg = 15, .opsize = 8};
	x86_reg_write(g, &in, ~0ULL);
	assert_int_equal(x86_reg_read(g, &in, 2), 0xffff);
}

/* The read-modify-write and compare forms: operation, source and lengths. */
static void test_alu_forms(void **state)
{
	static const struct {
		const char *text;
		uint8_t bytes[12], n;
		enum x86_op op;
		enum x86_alu alu;
		uint8_t len, size, reg;
		bool imm_src, high;
		uint64_t imm;
	} t[] = {
		{"or %eax,(%rdx)", {0x09, 0x02}, 2, X86_RMW, X86_OR, 2, 4, 0, false, false, 0},
		{"orl $0x100,0xf0(%rax)",
		 {0x81, 0x48, 0xf0, 0x00, 0x01, 0, 0},
		 7,
		 X86_RMW,
		 X86_OR,
		 7,
		 4,
		 1,
		 true,
		 false,
		 0x100},
		{"addq $-1,(%rbx)",
		 {0x48, 0x83, 0x03, 0xff},
		 4,
		 X86_RMW,
		 X86_ADD,
		 4,
		 8,
		 0,
		 true,
		 false,
		 ~0ULL},
		{"lock andb $0x7f,(%rax)",
		 {0xf0, 0x80, 0x20, 0x7f},
		 4,
		 X86_RMW,
		 X86_AND,
		 4,
		 1,
		 4,
		 true,
		 false,
		 0x7f},
		{"sub %ch,(%rsi)", {0x28, 0x2e}, 2, X86_RMW, X86_SUB, 2, 1, 5, false, true, 0},
		{"xor %r10w,(%rdi)",
		 {0x66, 0x44, 0x31, 0x17},
		 4,
		 X86_RMW,
		 X86_XOR,
		 4,
		 2,
		 10,
		 false,
		 false,
		 0},
		{"cmp (%rdi),%ecx",
		 {0x3b, 0x0f},
		 2,
		 X86_ALU_LOAD,
		 X86_CMP,
		 2,
		 4,
		 1,
		 false,
		 false,
		 0},
		{"add 8(%rbp),%rax",
		 {0x48, 0x03, 0x45, 0x08},
		 4,
		 X86_ALU_LOAD,
		 X86_ADD,
		 4,
		 8,
		 0,
		 false,
		 false,
		 0},
		{"sbb (%rax),%dl",
		 {0x1a, 0x10},
		 2,
		 X86_ALU_LOAD,
		 X86_SBB,
		 2,
		 1,
		 2,
		 false,
		 false,
		 0},
		{"adc %eax,(%rax)", {0x11, 0x00}, 2, X86_RMW, X86_ADC, 2, 4, 0, false, false, 0},
		{"test %eax,(%rcx)", {0x85, 0x01}, 2, X86_RMW, X86_TEST, 2, 4, 0, false, false, 0},
		{"testb $0x80,(%rsi)",
		 {0xf6, 0x06, 0x80},
		 3,
		 X86_RMW,
		 X86_TEST,
		 3,
		 1,
		 0,
		 true,
		 false,
		 0x80},
		{"testl $0x10000,(%rsi)",
		 {0xf7, 0x06, 0, 0, 1, 0},
		 6,
		 X86_RMW,
		 X86_TEST,
		 6,
		 4,
		 0,
		 true,
		 false,
		 0x10000},
		{"bt %eax,(%rdx)",
		 {0x0f, 0xa3, 0x02},
		 3,
		 X86_RMW,
		 X86_BT,
		 3,
		 4,
		 0,
		 false,
		 false,
		 0},
		{"bts %rcx,(%rdx)",
		 {0x48, 0x0f, 0xab, 0x0a},
		 4,
		 X86_RMW,
		 X86_BTS,
		 4,
		 8,
		 1,
		 false,
		 false,
		 0},
		{"btr %ax,(%rdx)",
		 {0x66, 0x0f, 0xb3, 0x02},
		 4,
		 X86_RMW,
		 X86_BTR,
		 4,
		 2,
		 0,
		 false,
		 false,
		 0},
		{"btc %eax,(%rdx)",
		 {0x0f, 0xbb, 0x02},
		 3,
		 X86_RMW,
		 X86_BTC,
		 3,
		 4,
		 0,
		 false,
		 false,
		 0},
		{"btsl $5,(%rdx)",
		 {0x0f, 0xba, 0x2a, 0x05},
		 4,
		 X86_RMW,
		 X86_BTS,
		 4,
		 4,
		 5,
		 true,
		 false,
		 5},
		{"btl $31,4(%rdx)",
		 {0x0f, 0xba, 0x62, 0x04, 0x1f},
		 5,
		 X86_RMW,
		 X86_BT,
		 5,
		 4,
		 4,
		 true,
		 false,
		 31},
		{"notl (%rdx)", {0xf7, 0x12}, 2, X86_RMW, X86_NOT, 2, 4, 0, true, false, 0},
		{"negb (%rdx)", {0xf6, 0x1a}, 2, X86_RMW, X86_NEG, 2, 1, 0, true, false, 0},
		{"incw (%rdx)", {0x66, 0xff, 0x02}, 3, X86_RMW, X86_INC, 3, 2, 0, true, false, 0},
		{"lock decq (%rdx)",
		 {0xf0, 0x48, 0xff, 0x0a},
		 4,
		 X86_RMW,
		 X86_DEC,
		 4,
		 8,
		 0,
		 true,
		 false,
		 0},
	};
	struct x86_insn in;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("%s\n", t[i].text);
		assert_int_equal(x86_decode(t[i].bytes, t[i].n, X86_MODE64, &in), 0);
		assert_int_equal(in.op, t[i].op);
		assert_int_equal(in.alu, t[i].alu);
		assert_int_equal(in.len, t[i].len);
		assert_int_equal(in.mem_size, t[i].size);
		assert_int_equal(in.opsize, t[i].size);
		assert_int_equal(in.src_imm, t[i].imm_src);
		if (!t[i].imm_src) {
			assert_int_equal(in.reg, t[i].reg);
			assert_int_equal(in.high_byte, t[i].high);
		}
		assert_int_equal(in.imm, t[i].imm);
		assert_int_equal(x86_decode(t[i].bytes, t[i].n - 1u, X86_MODE64, &in), -1);
	}
}

/* The host CPU's own result and flags for `d insn s`, for an operand of `size` bytes. */
#define HOST_ASM(insn, sfx, x, y, c)                                              \
	__asm__("lea -128(%%rsp),%%rsp; push %[f]; popf; " insn sfx " %[b],%[a];" \
		"pushf; pop %[f]; lea 128(%%rsp),%%rsp"                           \
		: [a] "+" c(x), [f] "+r"(f)                                       \
		: [b] c(y)                                                        \
		: "cc")
#define BYTE_CASE(insn)                                 \
	case 1: {                                       \
		uint8_t a = (uint8_t)d, b = (uint8_t)s; \
		HOST_ASM(insn, "b", a, b, "q");         \
		d = a;                                  \
		break;                                  \
	}
#define NO_BYTE(insn) /* BT* have no byte form */
#define HOST_OP(name, insn, BYTE)                                                        \
	static uint64_t host_##name(unsigned size, uint64_t d, uint64_t s, uint64_t *fl) \
	{                                                                                \
		uint64_t f = *fl;                                                        \
		switch (size) {                                                          \
			BYTE(insn)                                                       \
		case 2: {                                                                \
			uint16_t a = (uint16_t)d, b = (uint16_t)s;                       \
			HOST_ASM(insn, "w", a, b, "r");                                  \
			d = a;                                                           \
			break;                                                           \
		}                                                                        \
		case 4: {                                                                \
			uint32_t a = (uint32_t)d, b = (uint32_t)s;                       \
			HOST_ASM(insn, "l", a, b, "r");                                  \
			d = a;                                                           \
			break;                                                           \
		}                                                                        \
		default:                                                                 \
			HOST_ASM(insn, "q", d, s, "r");                                  \
		}                                                                        \
		*fl = f;                                                                 \
		return d;                                                                \
	}

HOST_OP(add, "add", BYTE_CASE)
HOST_OP(or, "or", BYTE_CASE)
HOST_OP(adc, "adc", BYTE_CASE)
HOST_OP(sbb, "sbb", BYTE_CASE)
HOST_OP(and, "and", BYTE_CASE)
HOST_OP(sub, "sub", BYTE_CASE)
HOST_OP(xor, "xor", BYTE_CASE)
HOST_OP(cmp, "cmp", BYTE_CASE)
HOST_OP(test, "test", BYTE_CASE)
HOST_OP(bt, "bt", NO_BYTE)
HOST_OP(bts, "bts", NO_BYTE)
HOST_OP(btr, "btr", NO_BYTE)
HOST_OP(btc, "btc", NO_BYTE)

/* The same for the unary NOT, NEG, INC and DEC (s unused) */
#define HOST_ASM1(insn, sfx, x, c)                                           \
	__asm__("lea -128(%%rsp),%%rsp; push %[f]; popf; " insn sfx " %[a];" \
		"pushf; pop %[f]; lea 128(%%rsp),%%rsp"                      \
		: [a] "+" c(x), [f] "+r"(f)                                  \
		:                                                            \
		: "cc")
#define HOST_UNARY(name, insn)                                                           \
	static uint64_t host_##name(unsigned size, uint64_t d, uint64_t s, uint64_t *fl) \
	{                                                                                \
		uint64_t f = *fl;                                                        \
		uint8_t b = (uint8_t)d;                                                  \
		uint16_t w = (uint16_t)d;                                                \
		uint32_t l = (uint32_t)d;                                                \
		(void)s;                                                                 \
		if (size == 1) {                                                         \
			HOST_ASM1(insn, "b", b, "q");                                    \
			d = b;                                                           \
		} else if (size == 2) {                                                  \
			HOST_ASM1(insn, "w", w, "r");                                    \
			d = w;                                                           \
		} else if (size == 4) {                                                  \
			HOST_ASM1(insn, "l", l, "r");                                    \
			d = l;                                                           \
		} else {                                                                 \
			HOST_ASM1(insn, "q", d, "r");                                    \
		}                                                                        \
		*fl = f;                                                                 \
		return d;                                                                \
	}

HOST_UNARY(not, "not")
HOST_UNARY(neg, "neg")
HOST_UNARY(inc, "inc")
HOST_UNARY(dec, "dec")

static uint64_t (*const host_ops[])(unsigned, uint64_t, uint64_t, uint64_t *) = {
	[X86_ADD] = host_add,	[X86_OR] = host_or,   [X86_ADC] = host_adc, [X86_SBB] = host_sbb,
	[X86_AND] = host_and,	[X86_SUB] = host_sub, [X86_XOR] = host_xor, [X86_CMP] = host_cmp,
	[X86_TEST] = host_test, [X86_BT] = host_bt,   [X86_BTS] = host_bts, [X86_BTR] = host_btr,
	[X86_BTC] = host_btc,	[X86_NOT] = host_not, [X86_NEG] = host_neg, [X86_INC] = host_inc,
	[X86_DEC] = host_dec,
};

static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Every operation and size on edge and random values: the result and the defined flags equal
 * the host CPU's (AF is undefined after logic operations, all but CF after BT*; NOT keeps all). */
static void test_alu_against_host(void **state)
{
	static const uint64_t edge[] = {0,
					1,
					0x7f,
					0x80,
					0xff,
					0x7fff,
					0x8000,
					0xffff,
					0x7fffffff,
					0x80000000,
					0xffffffff,
					0x7fffffffffffffffULL,
					0x8000000000000000ULL,
					~0ULL,
					0x0f,
					0x10};
	static const unsigned sizes[] = {1, 2, 4, 8};
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (unsigned alu = X86_ADD; alu <= X86_DEC; alu++)
		for (unsigned k = 0; k < 4; k++)
			for (unsigned i = 0; i < 4000; i++) {
				unsigned size = sizes[k];
				uint64_t d = i < 256 ? edge[i % 16] : next_rand(&x),
					 s = i < 256 ? edge[i / 16] : next_rand(&x),
					 fl = 0x202 | (next_rand(&x) & 0x8d5), want_fl = fl,
					 got_fl = fl,
					 mask = size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1,
					 bt = alu >= X86_BT && alu <= X86_BTC,
					 defined = bt ? 1
						   : alu == X86_OR || alu == X86_AND ||
								   alu == X86_XOR || alu == X86_TEST
							   ? 0x8c5
							   : 0x8d5;
				uint64_t want, got;
				if (bt && size == 1)
					continue; /* no byte form */
				want = host_ops[alu](size, d, s, &want_fl) & mask;
				got = x86_alu(alu, d, s, size, &got_fl);
				if (got != want || ((got_fl ^ want_fl) & defined) ||
				    ((got_fl ^ fl) & ~0x8d5ULL))
					fail_msg("alu %u size %u: %#lx op %#lx = %#lx flags %#lx, "
						 "host "
						 "%#lx flags %#lx",
						 alu, size, (unsigned long)d, (unsigned long)s,
						 (unsigned long)got, (unsigned long)got_fl,
						 (unsigned long)want, (unsigned long)want_fl);
			}
}

/* What the instruction leaves in registers and memory once its read is answered. */
static void test_finish_read(void **state)
{
	static const uint8_t or_imm[] = {0x81, 0x08, 0x00, 0x01, 0, 0}; /* orl $0x100,(%rax) */
	static const uint8_t cmp_load[] = {0x3b, 0x0f};			/* cmp (%rdi),%ecx */
	static const uint8_t xchg[] = {0x87, 0x0a};			/* xchg %ecx,(%rdx) */
	static const uint8_t bt[] = {0x0f, 0xa3, 0x02};			/* bt %eax,(%rdx) */
	static const uint8_t add_load[] = {0x02, 0x26};			/* add (%rsi),%ah */
	static const uint8_t movsx[] = {0x48, 0x0f, 0xbe, 0x00};	/* movsbq (%rax),%rax */
	uint64_t g[16] = {0}, fl = 0x2, wb = 0;
	struct x86_insn in;

	(void)state;
	assert_int_equal(x86_decode(or_imm, sizeof(or_imm), X86_MODE64, &in), 0);
	assert_true(x86_finish_read(&in, g, &fl, 0x80000001, &wb));
	assert_int_equal(wb, 0x80000101);
	assert_int_equal(fl, 0x2 | 0x80); /* SF; PF clear: 0x01 has odd parity */

	g[1] = 0xffffffff00000005ULL;
	assert_int_equal(x86_decode(cmp_load, 2, X86_MODE64, &in), 0);
	assert_false(x86_finish_read(&in, g, &fl, 5, &wb));
	assert_int_equal(g[1], 0xffffffff00000005ULL); /* CMP leaves the register */
	assert_int_equal(fl, 0x2 | 0x44);	       /* ZF, PF */

	assert_int_equal(x86_decode(xchg, 2, X86_MODE64, &in), 0);
	assert_true(x86_finish_read(&in, g, &fl, 0x1234, &wb));
	assert_int_equal(wb, 5);
	assert_int_equal(g[1], 0x1234);

	g[0] = 33; /* bit 33 of a 32-bit operand is bit 1 */
	fl = 0x2;
	assert_int_equal(x86_decode(bt, 3, X86_MODE64, &in), 0);
	assert_false(x86_finish_read(&in, g, &fl, 0x2, &wb));
	assert_int_equal(fl, 0x3);

	g[0] = 0x7f00;
	assert_int_equal(x86_decode(add_load, 2, X86_MODE64, &in), 0);
	assert_false(x86_finish_read(&in, g, &fl, 0x01, &wb));
	assert_int_equal(g[0], 0x8000); /* AH 0x7f + 1: OF, SF, AF */
	assert_int_equal(fl & 0x8d5, 0x800 | 0x80 | 0x10);

	assert_int_equal(x86_decode(movsx, 4, X86_MODE64, &in), 0);
	assert_false(x86_finish_read(&in, g, &fl, 0x80, &wb));
	assert_int_equal(g[0], 0xffffffffffffff80ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_register_access),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_alu_forms),
		cmocka_unit_test(test_alu_against_host),
		cmocka_unit_test(test_finish_read),
	};
	return cmocka_run_group_tests_name("x86dec", tests, NULL, NULL);
}
