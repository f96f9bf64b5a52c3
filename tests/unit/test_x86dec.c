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
	static const uint8_t add[] = {0x01, 0x02};
	uint8_t prefixes[16];
	struct x86_insn in;

	(void)state;
	assert_int_equal(x86_decode(reg_operand, 2, X86_MODE64, &in), -1);
	assert_int_equal(x86_decode(not_mov, 6, X86_MODE64, &in), -1);
	assert_int_equal(x86_decode(add, 2, X86_MODE64, &in), -1);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),	 cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_rejected), cmocka_unit_test(test_register_access),
		cmocka_unit_test(test_strings),
	};
	return cmocka_run_group_tests_name("x86dec", tests, NULL, NULL);
}
