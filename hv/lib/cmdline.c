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

bool cmdline_get_u64(const char *cl, const char *key, uint64_t *out)
{
	const char *p = find_value(cl, key);
	uint64_t v = 0;

	if (!p || !*p || is_space(*p))
		return false;
	for (; *p && !is_space(*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (*p < '0' || *p > '9' || v > (~0ULL - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}
