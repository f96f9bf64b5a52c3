/* Command-line lookup; pure and unit-tested. */
#include "cmdline.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/*
 * The value of the last `key` or `key=value` word: a pointer to its first character (the end
 * of the word for a bare key), or NULL when the key is absent.
 */
static const char *find_value(const char *cl, const char *key)
{
	const char *found = NULL;

	while (cl && *cl) {
		const char *k = key, *w;

		while (is_space(*cl))
			cl++;
		w = cl;
		while (*k && *w == *k)
			w++, k++;
		if (!*k && (*w == '=' || is_space(*w) || !*w))
			found = *w == '=' ? w + 1 : w;
		while (*cl && !is_space(*cl))
			cl++;
	}
	return found;
}

bool cmdline_get(const char *cl, const char *key, char *val, size_t n)
{
	const char *v = find_value(cl, key);
	size_t i = 0;

	if (!v)
		return false;
	for (; *v && !is_space(*v); v++)
		if (n && i + 1 < n)
			val[i++] = *v;
	if (n)
		val[i] = '\0';
	return true;
}

bool cmdline_has(const char *cl, const char *key)
{
	return find_value(cl, key) != NULL;
}

static unsigned digit(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	return c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 99;
}

/* One number at *p, decimal or 0x-hexadecimal, that fits in 64 bits; advances *p past it. */
static bool parse_num(const char **p, uint64_t *out)
{
	const char *s = *p;
	unsigned base = 10, d;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	for (*p = s; (d = digit(*s)) < base; s++) {
		if (v > (~0ULL - d) / base)
			return false;
		v = v * base + d;
	}
	if (s == *p)
		return false;
	*p = s;
	*out = v;
	return true;
}

unsigned cmdline_get_nums(const char *cl, const char *key, uint64_t *out, unsigned n)
{
	const char *p = find_value(cl, key);
	uint64_t v[CMDLINE_MAX_NUMS];
	unsigned i = 0;

	if (!p || n > CMDLINE_MAX_NUMS)
		return 0;
	for (;; p++) { /* past each comma */
		if (i == n || !parse_num(&p, &v[i++]))
			return 0;
		if (*p != ',')
			break;
	}
	if (*p && !is_space(*p))
		return 0;
	__builtin_memcpy(out, v, i * sizeof(v[0]));
	return i;
}

bool cmdline_get_u64(const char *cl, const char *key, uint64_t *out)
{
	return cmdline_get_nums(cl, key, out, 1) == 1;
}
