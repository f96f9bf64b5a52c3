/* fmt_vsnprintf/fmt_snprintf from hv/lib/printf.c, checked against the host's C library. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/printf.h"

#define BIG 512

/* Hidden from the compiler so that it does not warn about a NULL %s argument. */
static const char *volatile null_str;

/*
 * Formats with both implementations into a large buffer and into every buffer size from 0 to
 * the full length + 2; return values, the bytes written and the untouched tail must all agree.
 */
static void vcheck(const char *file, int line, const char *fmt, va_list ap)
{
	char want[BIG], got[BIG];
	va_list a1, a2;
	int nw, ng;

	memset(want, 0x5a, sizeof(want));
	memset(got, 0x5a, sizeof(got));
	va_copy(a1, ap);
	nw = vsnprintf(want, sizeof(want), fmt, a1);
	va_end(a1);
	va_copy(a2, ap);
	ng = fmt_vsnprintf(got, sizeof(got), fmt, a2);
	va_end(a2);
	if (nw < 0 || nw >= BIG - 4 || ng != nw || memcmp(want, got, (size_t)nw + 1) != 0) {
		print_error("%s:%d: format \"%s\": hv \"%s\" (%d), libc \"%s\" (%d)\n", file, line,
			    fmt, got, ng, want, nw);
		_fail(file, line);
	}
	for (size_t size = 0; size <= (size_t)nw + 2; size++) {
		char w2[BIG], g2[BIG];

		memset(w2, 0x5a, sizeof(w2));
		memset(g2, 0x5a, sizeof(g2));
		va_copy(a1, ap);
		nw = vsnprintf(size ? w2 : NULL, size, fmt, a1);
		va_end(a1);
		va_copy(a2, ap);
		ng = fmt_vsnprintf(size ? g2 : NULL, size, fmt, a2);
		va_end(a2);
		if (ng != nw || memcmp(w2, g2, sizeof(w2)) != 0) {
			print_error(
				"%s:%d: format \"%s\" into %zu bytes: hv (%d) \"%.*s\" libc (%d) "
				"\"%.*s\"\n",
				file, line, fmt, size, ng, (int)size, g2, nw, (int)size, w2);
			_fail(file, line);
		}
	}
}

static void check_(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcheck(file, line, fmt, ap);
	va_end(ap);
}

#define CHECK(...) check_(__FILE__, __LINE__, __VA_ARGS__)

/* An exact expected result (also for cases where libc behaviour is not what we define). */
#define EXPECT(want, ...)                                               \
	do {                                                            \
		char buf_[BIG];                                         \
		int n_ = fmt_snprintf(buf_, sizeof(buf_), __VA_ARGS__); \
		assert_string_equal(buf_, want);                        \
		assert_int_equal(n_, (int)strlen(want));                \
	} while (0)

static void test_plain(void **state)
{
	(void)state;
	CHECK("");
	CHECK("hello, world");
	CHECK("%%");
	CHECK("100%% sure %%%%");
	EXPECT("", "%s", "");
	EXPECT("abc", "abc");
}

static void test_signed(void **state)
{
	(void)state;
	static const int vals[] = {0, 1, -1, 7, -7, 42, -42, 12345, -12345, INT_MAX, INT_MIN};
	static const char *const fmts[] = {
		"%d",	 "%i",	    "%5d",     "%-5d|", "%05d",	 "%+d",	  "% d",
		"%+5d",	 "% 5d",    "%-+6d|",  "%+05d", "% 05d", "%.3d",  "%.0d",
		"%8.3d", "%-8.3d|", "%08.3d",  "%+.3d", "%1d",	 "%.10d", "%-1d|",
		"%+ d",	 "%012d",   "%-012d|", "%.1d",	"%3.0d", "%+.0d",
	};

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		for (size_t j = 0; j < sizeof(fmts) / sizeof(fmts[0]); j++)
			CHECK(fmts[j], vals[i]);
}

static void test_unsigned(void **state)
{
	(void)state;
	static const unsigned vals[] = {0,  1,	 7,   8,	  9,	      10,      15,
					16, 255, 256, 0x7fffffff, 0x80000000, UINT_MAX};
	static const char *const fmts[] = {
		"%u",	 "%o",	  "%x",	   "%X",     "%#o",   "%#x",	"%#X",	"%8u",	   "%-8u|",
		"%08x",	 "%#08x", "%#8x",  "%-#8x|", "%.5x",  "%#.5x",	"%.0x", "%#.0x",   "%.0o",
		"%#.0o", "%#5o",  "%#.3o", "%08.3u", "%010X", "%#010X", "%.0u", "%-#10o|", "%3.1x",
	};

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		for (size_t j = 0; j < sizeof(fmts) / sizeof(fmts[0]); j++)
			CHECK(fmts[j], vals[i]);
}

/* '+' and ' ' only apply to signed conversions: %+u must not print a sign. */
static void test_sign_flags_on_unsigned(void **state)
{
	(void)state;
	static const char *const fmts[] = {"%+u", "% u", "%+5u", "% 05u", "%+x", "% X", "%+o"};

	for (size_t j = 0; j < sizeof(fmts) / sizeof(fmts[0]); j++) {
		CHECK(fmts[j], 0u);
		CHECK(fmts[j], 42u);
	}
	const char *plus = "%+u", *space = "% u"; /* not literals: keeps -Wformat quiet */
	EXPECT("42", plus, 42u);
	EXPECT("42", space, 42u);
}

static void test_length_modifiers(void **state)
{
	(void)state;
	CHECK("%hhd %hhd %hhd %hhd", 127, 128, 200, -129);
	CHECK("%hhu %hhx %hho", 300, 0x1ff, 0777);
	CHECK("%hd %hd %hd", 32767, 32768, -32769);
	CHECK("%hu %hx %hX", 70000, 0x12345, 0xabcde);
	CHECK("%ld %ld %lu %lx", LONG_MAX, LONG_MIN, ULONG_MAX, 0xdeadbeefcafef00dUL);
	CHECK("%lld %lld %llu %llx %llo", LLONG_MAX, LLONG_MIN, ULLONG_MAX, 0x123456789abcdefULL,
	      01777777777777777777777ULL);
	CHECK("%lli %+lli % lli", (long long)INT64_MIN, 5LL, -5LL);
	CHECK("%zu %zx %zd", (size_t)-1, (size_t)0x1000, (ptrdiff_t)-3);
	CHECK("%jd %ju %jx", (intmax_t)INT64_MIN, (uintmax_t)UINT64_MAX, (uintmax_t)0xabc);
	CHECK("%td %tx", (ptrdiff_t)-100, (ptrdiff_t)0x100);
	CHECK("%#llx %#llo %#llX", 0ULL, 0ULL, 0xffULL);
	CHECK("%20lld|%-20lld|%020lld", (long long)INT64_MIN, (long long)INT64_MIN, -1LL);
	EXPECT("-9223372036854775808", "%lld", (long long)INT64_MIN);
	EXPECT("-9223372036854775808", "%jd", (intmax_t)INT64_MIN);
	EXPECT("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
	EXPECT("1777777777777777777777", "%llo", (unsigned long long)UINT64_MAX);
	EXPECT("-128 255", "%hhd %hhu", 128, 255);
}

static void test_zero_precision(void **state)
{
	(void)state;
	EXPECT("", "%.0d", 0);
	EXPECT("", "%.0u", 0u);
	EXPECT("", "%.0x", 0u);
	EXPECT("", "%#.0x", 0u);
	EXPECT("0", "%#.0o", 0u);
	EXPECT("   ", "%3.0d", 0);
	EXPECT("+", "%+.0d", 0);
	EXPECT("0", "%d", 0);
	EXPECT("0", "%#x", 0u);
	EXPECT("1", "%.0d", 1);
}

static void test_chars_and_strings(void **state)
{
	(void)state;
	CHECK("%c%c%c", 'a', 'b', 'c');
	CHECK("[%5c] [%-5c] [%1c]", 'x', 'y', 'z');
	CHECK("%c", 0);
	CHECK("[%3c] [%-3c]", 0, 0);
	CHECK("a%cb", 0);
	CHECK("%s", "string");
	CHECK("[%10s] [%-10s] [%.3s] [%10.3s] [%-10.3s] [%.0s] [%.20s]", "abcdef", "abcdef",
	      "abcdef", "abcdef", "abcdef", "abcdef", "abcdef");
	CHECK("[%2s] [%-2s]", "toolong", "toolong");
	CHECK("%s=%s", "", "");
	CHECK("%s", "a much longer string that goes on and on to exercise truncation of output");
	EXPECT("(null)", "%s", null_str);
	EXPECT("  (null)", "%8s", null_str);
	EXPECT("(null)  |", "%-8s|", null_str);
}

static void test_star(void **state)
{
	(void)state;
	CHECK("[%*d]", 6, 42);
	CHECK("[%*d]", -6, 42);
	CHECK("[%-*d]", 6, 42);
	CHECK("[%-*d]", -6, 42);
	CHECK("[%.*d]", 5, 42);
	CHECK("[%.*d]", -1, 42);
	CHECK("[%.*d]", 0, 0);
	CHECK("[%*.*d]", 8, 4, -42);
	CHECK("[%*.*s]", 8, 2, "abcdef");
	CHECK("[%-*.*s]", 8, 2, "abcdef");
	CHECK("[%.*s]", -3, "abcdef");
	CHECK("[%0*x]", 10, 0xbeefu);
	CHECK("[%*c]", 4, 'q');
	CHECK("[%*s]", 0, "x");
}

static void test_pointers(void **state)
{
	(void)state;
	CHECK("%p", (void *)0x1234);
	CHECK("%p", (void *)0xffffffffffffffffULL);
	CHECK("%p", (void *)&state);
	CHECK("[%20p] [%-20p] [%3p]", (void *)0xabc, (void *)0xabc, (void *)0xabcdef);
	CHECK("%p", (void *)NULL);
	CHECK("[%10p] [%-10p]", (void *)NULL, (void *)NULL);
	EXPECT("(nil)", "%p", (void *)NULL);
	EXPECT("   (nil)", "%8p", (void *)NULL);
	EXPECT("0x1", "%p", (void *)1);
	EXPECT("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
}

static void test_mixed(void **state)
{
	(void)state;
	CHECK("mb2: module %u [%#llx-%#llx) is not in usable RAM", 3u, 0x100000ULL, 0x200000ULL);
	CHECK("%s:%d: %c%c %5.2s|%-6x|%+lld|%%|%p", "file.c", 12, 'o', 'k', "xyz", 0xabu, -1LL,
	      (void *)0x10);
	CHECK("%08x:%08x %s", 0xdeadu, 0xbeefu, "tail");
	CHECK("%d%d%d%d%d%d%d%d%d%d", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
}

/* Conversions C does not define are printed literally, and a lone '%' at the end is kept. */
static void test_unknown_conversion(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(fmt_snprintf(buf, sizeof(buf), "%s", "x"), 1);
	const char *fmt = "a%qb"; /* not a literal: keeps -Wformat quiet */
	assert_int_equal(fmt_snprintf(buf, sizeof(buf), fmt, 0), 4);
	assert_string_equal(buf, "a%qb");
	fmt = "end%";
	assert_int_equal(fmt_snprintf(buf, sizeof(buf), fmt, 0), 4);
	assert_string_equal(buf, "end%");
}

static void test_truncation(void **state)
{
	char buf[16];

	(void)state;
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 0, "hello %d", 123), 9);
	assert_int_equal(buf[0], 'X'); /* size 0 writes nothing */
	assert_int_equal(fmt_snprintf(NULL, 0, "%s%s", "abc", "def"), 6);

	assert_int_equal(fmt_snprintf(buf, 1, "hello"), 5);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'X');

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 4, "hello"), 5);
	assert_memory_equal(buf, "hel\0XXXX", 8);

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 6, "hello"), 5);
	assert_memory_equal(buf, "hello\0XX", 8);

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 5, "hello"), 5);
	assert_memory_equal(buf, "hell\0XXX", 8);

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 8, "%20d", -5), 20);
	assert_memory_equal(buf, "       \0XXXX", 12);

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 3, "%c%c%c", 'a', 0, 'b'), 3);
	assert_memory_equal(buf, "a\0\0X", 4);
}

static int call_v(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* fmt_vsnprintf must leave the caller's va_list usable (it works on a copy). */
static void test_vsnprintf(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(call_v(buf, sizeof(buf), "%d-%s-%llx", 5, "five", 0x55ULL), 9);
	assert_string_equal(buf, "5-five-55");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_signed),
		cmocka_unit_test(test_unsigned),
		cmocka_unit_test(test_sign_flags_on_unsigned),
		cmocka_unit_test(test_length_modifiers),
		cmocka_unit_test(test_zero_precision),
		cmocka_unit_test(test_chars_and_strings),
		cmocka_unit_test(test_star),
		cmocka_unit_test(test_pointers),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_unknown_conversion),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_vsnprintf),
	};

	return cmocka_run_group_tests_name("printf", tests, NULL, NULL);
}
