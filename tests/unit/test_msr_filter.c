/* The MSR filter (hv/vmx/msr_filter.c): KVM_X86_SET_MSR_FILTER's checks and its lookup rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "vmx/msr_filter.h"

static struct hv_msr_filter f;

static void range(unsigned i, unsigned flags, uint32_t base, uint32_t n)
{
	f.h.range[i].flags = flags;
	f.h.range[i].base = base;
	f.h.range[i].nmsrs = n;
	if (i >= f.h.nranges)
		f.h.nranges = i + 1;
}

static void test_check(void **state)
{
	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(msr_filter_check(&f.h), 0); /* allow, no ranges: no filter at all */
	f.h.deny = 1;
	assert_int_equal(msr_filter_check(&f.h), -EINVAL); /* deny alone */
	range(0, 3, 0, 8);
	assert_int_equal(msr_filter_check(&f.h), 0);
	f.h.deny = 2;
	assert_int_equal(msr_filter_check(&f.h), -EINVAL);
	f.h.deny = 0;
	range(1, 0, 0x10, 1);
	assert_int_equal(msr_filter_check(&f.h), -EINVAL); /* a range without flags */
	range(1, 4, 0x10, 1);
	assert_int_equal(msr_filter_check(&f.h), -EINVAL);
	range(1, 2, 0x10, 0);
	assert_int_equal(msr_filter_check(&f.h), -EINVAL); /* empty: dom0 drops those */
	range(1, 2, 0x10, HV_MSR_BITMAP_MAX * 8 + 1);
	assert_int_equal(msr_filter_check(&f.h), -EINVAL);
	range(1, 2, 0x10, HV_MSR_BITMAP_MAX * 8);
	assert_int_equal(msr_filter_check(&f.h), 0);
	f.h.nranges = HV_MSR_RANGES + 1;
	assert_int_equal(msr_filter_check(&f.h), -EINVAL);
}

static void test_lookup(void **state)
{
	(void)state;
	memset(&f, 0, sizeof(f));
	range(0, 1, 0xc0000080, 16); /* reads: only 0xc0000081 allowed */
	f.bitmap[0][0] = 0x02;
	range(1, 3, 0xc0000000, 0x200); /* then reads and writes of the whole page: all allowed */
	memset(f.bitmap[1], 0xff, 0x40);
	range(2, 2, 0x100, 0x10); /* writes of 0x100-0x10f: only 0x10b denied */
	memset(f.bitmap[2], 0xff, 2);
	f.bitmap[2][1] = 0xf7;
	assert_false(msr_filter_allows(&f, 0xc0000080, false)); /* the first range decides */
	assert_true(msr_filter_allows(&f, 0xc0000081, false));
	assert_true(msr_filter_allows(&f, 0xc0000080, true)); /* writes: the second range */
	assert_true(msr_filter_allows(&f, 0xc0000090, false));
	assert_false(msr_filter_allows(&f, 0x10b, true));
	assert_true(msr_filter_allows(&f, 0x10b, false)); /* no read range: the default */
	assert_true(msr_filter_allows(&f, 0x10a, true));
	f.h.deny = 1;
	assert_false(msr_filter_allows(&f, 0x10b, false));
	assert_false(msr_filter_allows(&f, 0xc0000200, false)); /* one past the page */
	assert_true(msr_filter_allows(&f, 0x808, false));	/* x2APIC: never filtered */
	range(3, 1, 0xfffffff0, 0x20); /* wraps past 4G: covers nothing, as in KVM */
	memset(f.bitmap[3], 0xff, 4);
	assert_false(msr_filter_allows(&f, 0xfffffff8, false));
	assert_false(msr_filter_allows(&f, 0x4, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
