/* Boot command-line lookup (hv/lib/cmdline.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/cmdline.h"

/* Looks `key` up with a generous buffer; returns the value or NULL when absent. */
static const char *get(const char *cl, const char *key)
{
	static char val[64];

	memset(val, 'X', sizeof(val));
	if (!cmdline_get(cl, key, val, sizeof(val)))
		return NULL;
	return val;
}

static void test_bare_keys(void **state)
{
	(void)state;
	assert_true(cmdline_has("poweroff", "poweroff"));
	assert_true(cmdline_has("a b c", "a"));
	assert_true(cmdline_has("a b c", "b"));
	assert_true(cmdline_has("a b c", "c"));
	assert_false(cmdline_has("a b c", "d"));
	assert_string_equal(get("poweroff", "poweroff"), "");
	assert_string_equal(get("x poweroff y", "poweroff"), "");
	assert_true(cmdline_has("loglevel=debug", "loglevel"));
}

static void test_values(void **state)
{
	(void)state;
	assert_string_equal(get("loglevel=debug", "loglevel"), "debug");
	assert_string_equal(get("a=1 b=2 c=3", "b"), "2");
	assert_string_equal(get("a=1 b=2 c=3", "c"), "3");
	assert_string_equal(get("a= b", "a"), "");
	assert_string_equal(get("a=x=y", "a"), "x=y");
	assert_string_equal(get("console=ttyS0,115200n8", "console"), "ttyS0,115200n8");
	assert_null(get("a=1 b=2", "1"));
	assert_null(get("a=1 b=2", "=1"));
}

static void test_last_wins(void **state)
{
	(void)state;
	assert_string_equal(get("loglevel=info loglevel=debug", "loglevel"), "debug");
	assert_string_equal(get("loglevel=info x loglevel=err y", "loglevel"), "err");
	assert_string_equal(get("loglevel=info loglevel", "loglevel"), "");
	assert_string_equal(get("loglevel loglevel=warn", "loglevel"), "warn");
	/* a longer value followed by a shorter one leaves no trace of the first */
	assert_string_equal(get("k=abcdef k=xy", "k"), "xy");
}

static void test_no_prefix_match(void **state)
{
	(void)state;
	assert_false(cmdline_has("poweroff", "pow"));
	assert_false(cmdline_has("poweroff", "poweroffx"));
	assert_false(cmdline_has("xpoweroff", "poweroff"));
	assert_false(cmdline_has("poweroff_now", "poweroff"));
	assert_null(get("loglevel2=debug", "loglevel"));
	assert_null(get("loglevel=debug", "log"));
	assert_null(get("loglevel=debug", "level"));
	assert_null(get("loglevel=debug", "debug"));
	assert_string_equal(get("pow=1 poweroff", "pow"), "1");
	assert_string_equal(get("poweroff=no pow", "pow"), "");
}

static void test_truncation(void **state)
{
	char val[8];

	(void)state;
	memset(val, 'X', sizeof(val));
	assert_true(cmdline_get("k=abcdefghij", "k", val, 4));
	assert_memory_equal(val, "abc\0XXXX", 8);

	memset(val, 'X', sizeof(val));
	assert_true(cmdline_get("k=abcdefghij", "k", val, 1));
	assert_memory_equal(val, "\0XXXXXXX", 8);

	memset(val, 'X', sizeof(val));
	assert_true(cmdline_get("k=abc", "k", val, 4));
	assert_memory_equal(val, "abc\0XXXX", 8);

	memset(val, 'X', sizeof(val));
	assert_true(cmdline_get("k=abcd", "k", val, 4));
	assert_memory_equal(val, "abc\0XXXX", 8);

	memset(val, 'X', sizeof(val));
	assert_true(cmdline_get("k=abc", "k", val, 0)); /* n == 0: nothing written */
	assert_memory_equal(val, "XXXXXXXX", 8);
	assert_true(cmdline_get("k=abc", "k", NULL, 0));

	memset(val, 'X', sizeof(val));
	assert_false(cmdline_get("j=abc", "k", val, sizeof(val)));
	assert_memory_equal(val, "XXXXXXXX", 8); /* untouched when absent */
}

static void test_spaces(void **state)
{
	(void)state;
	assert_string_equal(get("   loglevel=warn", "loglevel"), "warn");
	assert_string_equal(get("loglevel=warn   ", "loglevel"), "warn");
	assert_string_equal(get("  a=1    b=2   ", "b"), "2");
	assert_string_equal(get("a=1\tb=2\nc=3", "b"), "2");
	assert_string_equal(get("a=1\tb=2\nc=3", "c"), "3");
	assert_true(cmdline_has("   poweroff   ", "poweroff"));
	assert_true(cmdline_has("x\tpoweroff\n", "poweroff"));
	assert_false(cmdline_has("   ", "poweroff"));
	assert_false(cmdline_has("", "poweroff"));
	/* around a spaced '=' every word is a bare key */
	assert_string_equal(get("a = 1", "a"), "");
	assert_string_equal(get("a = 1", "1"), "");
	assert_null(get("a = 1", "a=1"));
}

static void test_null(void **state)
{
	char val[4] = "XXX";

	(void)state;
	assert_false(cmdline_has(NULL, "poweroff"));
	assert_false(cmdline_get(NULL, "k", val, sizeof(val)));
	assert_string_equal(val, "XXX");
}

/* Parses `key` with cmdline_get_u64; *ok tells whether it succeeded (then the value). */
static uint64_t get_u64(const char *cl, const char *key, bool *ok)
{
	uint64_t v = 0x5a5a5a5a5a5a5a5aULL;

	*ok = cmdline_get_u64(cl, key, &v);
	if (!*ok)
		assert_int_equal(v, 0x5a5a5a5a5a5a5a5aULL); /* untouched on failure */
	return v;
}

#define EXPECT_U64(cl, want)                                     \
	do {                                                     \
		bool ok_;                                        \
		uint64_t v_ = get_u64((cl), "hvmem", &ok_);      \
		if (!ok_)                                        \
			print_error("\"%s\": no value\n", (cl)); \
		assert_true(ok_);                                \
		assert_int_equal(v_, (want));                    \
	} while (0)

#define EXPECT_NO_U64(cl)                                                                \
	do {                                                                             \
		bool ok_;                                                                \
		uint64_t v_ = get_u64((cl), "hvmem", &ok_);                              \
		if (ok_)                                                                 \
			print_error("\"%s\": got %llu\n", (cl), (unsigned long long)v_); \
		assert_false(ok_);                                                       \
	} while (0)

static void test_get_u64(void **state)
{
	(void)state;
	EXPECT_U64("hvmem=64", 64);
	EXPECT_U64("hvmem=0", 0);
	EXPECT_U64("a=1 hvmem=4096 b", 4096);
	EXPECT_U64("hvmem=1 2", 1);
	EXPECT_U64("hvmem=18446744073709551609", 18446744073709551609ULL);
	EXPECT_U64("hvmem=9999999999999999999", 9999999999999999999ULL);
	EXPECT_U64("hvmem=0x10", 16);
	EXPECT_U64("hvmem=0XaBcD", 0xabcd);
	EXPECT_U64("hvmem=0xffffffffffffffff", UINT64_MAX);
	EXPECT_U64("hvmem=010", 10); /* decimal: no octal */
	/* absent or empty */
	EXPECT_NO_U64("");
	EXPECT_NO_U64("a=1 b=64");
	EXPECT_NO_U64("hvmemx=64");
	EXPECT_NO_U64("xhvmem=64");
	EXPECT_NO_U64("hvmem=");
	EXPECT_NO_U64("hvmem");
	EXPECT_NO_U64("hvmem= 64");
	assert_false(cmdline_get_u64(NULL, "hvmem", &(uint64_t){0}));
	/* not a decimal number */
	EXPECT_NO_U64("hvmem=12x");
	EXPECT_NO_U64("hvmem=x12");
	EXPECT_NO_U64("hvmem=-1");
	EXPECT_NO_U64("hvmem=+1");
	EXPECT_NO_U64("hvmem=0x");
	EXPECT_NO_U64("hvmem=0x10g");
	EXPECT_NO_U64("hvmem=10a");
	EXPECT_NO_U64("hvmem=1.5");
	EXPECT_NO_U64("hvmem=64M");
	EXPECT_NO_U64("hvmem=1,2");
	/* too large */
	EXPECT_NO_U64("hvmem=18446744073709551616");
	EXPECT_NO_U64("hvmem=18446744073709551620");
	EXPECT_NO_U64("hvmem=18446744073709551700");
	EXPECT_NO_U64("hvmem=99999999999999999999");
	EXPECT_NO_U64("hvmem=184467440737095516150");
	EXPECT_NO_U64("hvmem=100000000000000000000000000000");
	EXPECT_NO_U64("hvmem=0x10000000000000000");
}

/* cmdline_get_nums: com1=PORT,BAUD and the like; out is untouched unless it succeeds. */
static void test_get_nums(void **state)
{
	uint64_t v[3] = {7, 7, 7};

	(void)state;
	assert_int_equal(cmdline_get_nums("com1=0x2f8,115200", "com1", v, 2), 2);
	assert_int_equal(v[0], 0x2f8);
	assert_int_equal(v[1], 115200);
	assert_int_equal(v[2], 7);
	assert_int_equal(cmdline_get_nums("a com1=0x3e8 b", "com1", v, 2), 1);
	assert_int_equal(v[0], 0x3e8);
	assert_int_equal(v[1], 115200);
	assert_int_equal(cmdline_get_nums("com1=1,2,3", "com1", v, 3), 3);
	assert_int_equal(v[2], 3);
	v[0] = v[1] = v[2] = 7;
	static const char *const bad[] = {
		"com1=1,2,3",
		"com1=0x2f8,",
		"com1=,9600",
		"com1=0x2f8,,9600",
		"com1=0x2f8;9600",
		"com1=",
		"com1",
		"com2=1",
		"com1=0x,1",
		"com1=1,0x10000000000000000",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cmdline_get_nums(bad[i], "com1", v, 2), 0);
	assert_int_equal(cmdline_get_nums(NULL, "com1", v, 2), 0);
	assert_int_equal(cmdline_get_nums("com1=1", "com1", v, CMDLINE_MAX_NUMS + 1), 0);
	assert_int_equal(v[0], 7);
	assert_int_equal(v[1], 7);
	assert_int_equal(v[2], 7);
}

static void test_get_u64_last_wins(void **state)
{
	(void)state;
	EXPECT_U64("hvmem=1 hvmem=2", 2);
	EXPECT_U64("hvmem=x hvmem=5", 5);
	EXPECT_U64("hvmem=1 hvmem=18446744073709551616 hvmem=3", 3);
	/* the last one decides, even when it is not a number */
	EXPECT_NO_U64("hvmem=1 hvmem=x");
	EXPECT_NO_U64("hvmem=1 hvmem=");
	EXPECT_NO_U64("hvmem=1 hvmem");
}

static void test_get_u64_leading_zeros(void **state)
{
	(void)state;
	EXPECT_U64("hvmem=0064", 64);
	EXPECT_U64("hvmem=00", 0);
	EXPECT_U64("hvmem=000000000000000000064", 64);			    /* 21 digits */
	EXPECT_U64("hvmem=018446744073709551609", 18446744073709551609ULL); /* 21 digits */
}

#define ZEROS22 "0000000000000000000000"

/* The largest values, and long values (they are parsed in place, never cut short). */
static void test_get_u64_limits(void **state)
{
	(void)state;
	EXPECT_U64("hvmem=18446744073709551615", UINT64_MAX);
	EXPECT_U64("hvmem=18446744073709551610", 18446744073709551610ULL);
	EXPECT_U64("hvmem=0018446744073709551615", UINT64_MAX);
	EXPECT_U64("hvmem=" ZEROS22 "64", 64);
	EXPECT_U64("hvmem=00000000000000000000000000000000000000000000000000000001", 1);
	EXPECT_NO_U64("hvmem=" ZEROS22 "1x");
	EXPECT_NO_U64("hvmem=00000000000000000000000000000000000000000000000000000000x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bare_keys),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_last_wins),
		cmocka_unit_test(test_no_prefix_match),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_spaces),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_get_u64),
		cmocka_unit_test(test_get_nums),
		cmocka_unit_test(test_get_u64_last_wins),
		cmocka_unit_test(test_get_u64_leading_zeros),
		cmocka_unit_test(test_get_u64_limits),
	};

	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
