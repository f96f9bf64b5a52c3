/* Command-line lookup; pure and unit-tested. */
#include "cmdline.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

bool cmdline_get(const char *cl, const char *key, char *val, size_t n)
{
	bool found = false;

	while (cl && *cl) {
		const char *k = key, *w;

		while (is_space(*cl))
			cl++;
		w = cl;
		while (*k && *w == *k)
			w++, k++;
		if (!*k && (*w == '=' || is_space(*w) || !*w)) {
			size_t i = 0;
			found = true;
			if (*w == '=')
				for (w++; *w && !is_space(*w); w++)
					if (n && i + 1 < n)
						val[i++] = *w;
			if (n)
				val[i] = '\0';
		}
		while (*cl && !is_space(*cl))
			cl++;
	}
	return found;
}

bool cmdline_has(const char *cl, const char *key)
{
	return cmdline_get(cl, key, NULL, 0);
}

bool cmdline_get_u64(const char *cl, const char *key, uint64_t *out)
{
	char val[24];
	uint64_t v = 0;

	if (!cmdline_get(cl, key, val, sizeof(val)) || !val[0])
		return false;
	for (const char *p = val; *p; p++) {
		if (*p < '0' || *p > '9' || v > (~0ULL - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return true;
}
