/* libFuzzer target: hv/vmx/x86dec.c on arbitrary bytes in all three modes, and x86alu.c on what
 * it decodes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmx/x86dec.h"

#define CHECK(c)                          \
	do {                              \
		if (!(c))                 \
			__builtin_trap(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum x86_mode modes[] = {X86_MODE16, X86_MODE32, X86_MODE64};
	uint8_t *copy = malloc(size ? size : 1); /* exact size: ASan sees any overread */
	uint64_t gprs[16] = {0}, rflags = 2, wb = 0;

	memcpy(copy, data, size);
	for (unsigned m = 0; m < 3; m++) {
		struct x86_insn in;
		if (x86_decode(copy, size, modes[m], &in))
			continue;
		/* what a decode promises: a length within the input and the architectural limit */
		CHECK(in.len >= 1 && in.len <= size && in.len <= X86_MAX_INSN);
		CHECK(in.opsize == 1 || in.opsize == 2 || in.opsize == 4 || in.opsize == 8);
		CHECK(in.mem_size >= 1 && in.mem_size <= in.opsize);
		CHECK(in.reg < 16 && (!in.high_byte || (in.reg >= 4 && in.reg < 8)));
		CHECK(in.alu <= X86_DEC);
		x86_reg_write(gprs, &in, x86_reg_read(gprs, &in, in.opsize) + 1);
		if (x86_finish_read(&in, gprs, &rflags, size ? copy[0] * 0x0101010101010101ULL : 0,
				    &wb))
			CHECK(in.op == X86_XCHG || in.op == X86_RMW);
		CHECK((rflags & ~0x8d5ULL) == 2); /* only the arithmetic flags change */
	}
	free(copy);
	return 0;
}
