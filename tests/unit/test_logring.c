/* The log ring (hv/lib/logring.c): overwrite-oldest, sequence-addressed reads, tail by lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/logring.h"

static char buf[16];
static struct logring ring;

static int setup(void **state)
{
	(void)state;
	memset(buf, 0, sizeof(buf));
	logring_init(&ring, buf, sizeof(buf));
	return 0;
}

static void wr(const char *s)
{
	logring_write(&ring, s, strlen(s));
}

/* Reads everything from seq on into a string. */
static const char *read_from(uint64_t seq, uint64_t *end)
{
	static char out[64];
	size_t n = logring_read(&ring, &seq, out, sizeof(out) - 1);

	out[n] = '\0';
	if (end)
		*end = seq;
	return out;
}

static void test_empty(void **state)
{
	uint64_t seq = 0;
	char out[4];

	(void)state;
	assert_int_equal(logring_first(&ring), 0);
	assert_int_equal(logring_read(&ring, &seq, out, sizeof(out)), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(logring_tail(&ring, 5), 0);
}

static void test_simple(void **state)
{
	uint64_t end;

	(void)state;
	wr("hello\n");
	assert_int_equal(ring.head, 6);
	assert_int_equal(logring_first(&ring), 0);
	assert_string_equal(read_from(0, &end), "hello\n");
	assert_int_equal(end, 6);
	assert_string_equal(read_from(2, NULL), "llo\n");
	assert_string_equal(read_from(6, &end), "");
	assert_int_equal(end, 6);
	assert_string_equal(read_from(100, &end), ""); /* from the future: nothing */
	assert_int_equal(end, 100);
}

static void test_partial_reads(void **state)
{
	uint64_t seq = 0;
	char out[4];

	(void)state;
	wr("abcdefgh");
	assert_int_equal(logring_read(&ring, &seq, out, 3), 3);
	assert_memory_equal(out, "abc", 3);
	assert_int_equal(seq, 3);
	assert_int_equal(logring_read(&ring, &seq, out, 3), 3);
	assert_memory_equal(out, "def", 3);
	assert_int_equal(logring_read(&ring, &seq, out, 3), 2);
	assert_memory_equal(out, "gh", 2);
	assert_int_equal(seq, 8);
	assert_int_equal(logring_read(&ring, &seq, out, 0), 0);
}

static void test_wrap(void **state)
{
	uint64_t end;

	(void)state;
	wr("0123456789"); /* 10 bytes */
	wr("abcdefghij"); /* 20 bytes written, 16 kept */
	assert_int_equal(ring.head, 20);
	assert_int_equal(logring_first(&ring), 4);
	assert_string_equal(read_from(4, &end), "456789abcdefghij");
	assert_int_equal(end, 20);
	assert_string_equal(read_from(10, NULL), "abcdefghij");
	/* a reader whose position was overwritten resumes at the oldest byte */
	assert_string_equal(read_from(0, &end), "456789abcdefghij");
	assert_int_equal(end, 20);
	assert_string_equal(read_from(3, NULL), "456789abcdefghij");

	/* exactly one buffer full */
	setup(NULL);
	wr("0123456789abcdef");
	assert_int_equal(logring_first(&ring), 0);
	assert_string_equal(read_from(0, NULL), "0123456789abcdef");
	wr("X");
	assert_int_equal(logring_first(&ring), 1);
	assert_string_equal(read_from(0, NULL), "123456789abcdefX");
}

static void test_big_write(void **state)
{
	uint64_t end;

	(void)state;
	wr("this write is longer than the ring\n");
	assert_int_equal(ring.head, 35);
	assert_int_equal(logring_first(&ring), 19);
	assert_string_equal(read_from(0, &end), "r than the ring\n");
	assert_int_equal(end, 35);
	for (int i = 0; i < 1000; i++)
		wr("xyz");
	assert_int_equal(ring.head, 3035);
	assert_int_equal(logring_first(&ring), 3019);
	assert_string_equal(read_from(0, NULL), "zxyzxyzxyzxyzxyz");
}

static void test_tail(void **state)
{
	(void)state;
	wr("a\nbb\nccc\n"); /* seq: a=0, bb=2, ccc=5, head=9 */
	assert_int_equal(logring_tail(&ring, 1), 5);
	assert_int_equal(logring_tail(&ring, 2), 2);
	assert_int_equal(logring_tail(&ring, 3), 0);
	assert_int_equal(logring_tail(&ring, 4), 0);
	assert_int_equal(logring_tail(&ring, 100), 0);
	assert_string_equal(read_from(logring_tail(&ring, 2), NULL), "bb\nccc\n");
	/* asking for no lines gives none */
	assert_int_equal(logring_tail(&ring, 0), 9);

	/* an unfinished last line counts as a line */
	wr("dd");
	assert_int_equal(logring_tail(&ring, 1), 9);
	assert_int_equal(logring_tail(&ring, 2), 5);
	assert_string_equal(read_from(logring_tail(&ring, 2), NULL), "ccc\ndd");
}

static void test_tail_wrapped(void **state)
{
	(void)state;
	wr("line one\n"); /* 0..9 */
	wr("line two\n"); /* 9..18 */
	wr("line 3\n");	  /* 18..25: oldest kept is 9 */
	assert_int_equal(logring_first(&ring), 9);
	assert_int_equal(logring_tail(&ring, 1), 18);
	assert_string_equal(read_from(logring_tail(&ring, 1), NULL), "line 3\n");
	assert_int_equal(logring_tail(&ring, 2), 9);
	assert_string_equal(read_from(logring_tail(&ring, 2), NULL), "line two\nline 3\n");
	assert_int_equal(logring_tail(&ring, 3), 9); /* no more than what is kept */

	/* the oldest kept bytes are the end of a cut-off line */
	wr("ab\n"); /* 25..28: oldest kept 12 = "e two\n" */
	assert_int_equal(logring_first(&ring), 12);
	assert_int_equal(logring_tail(&ring, 2), 18);
	assert_int_equal(logring_tail(&ring, 3), 12);
	assert_string_equal(read_from(logring_tail(&ring, 3), NULL), "e two\nline 3\nab\n");

	/* a ring full of one line without newlines */
	setup(NULL);
	for (int i = 0; i < 10; i++)
		wr("abc");
	assert_int_equal(logring_tail(&ring, 1), logring_first(&ring));
	assert_int_equal(logring_first(&ring), 14);

	/* a ring of newlines only */
	setup(NULL);
	for (int i = 0; i < 40; i++)
		wr("\n");
	assert_int_equal(logring_tail(&ring, 1), 39);
	assert_int_equal(logring_tail(&ring, 5), 35);
	assert_int_equal(logring_tail(&ring, 15), 25);
	assert_int_equal(logring_tail(&ring, 16), 24);
	assert_int_equal(logring_tail(&ring, 17), 24);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, NULL)
	const struct CMUnitTest tests[] = {
		T(test_empty),	   T(test_simple), T(test_partial_reads), T(test_wrap),
		T(test_big_write), T(test_tail),   T(test_tail_wrapped),
	};

	return cmocka_run_group_tests_name("logring", tests, NULL, NULL);
}
