/* A small C99 vsnprintf: flags -+ #0, width, precision, hh/h/l/ll/z/j/t, d i u o x X c s p %. */
#include "printf.h"

struct out {
	char *buf;
	size_t size;
	size_t len; /* characters produced so far, written or not */
};

struct spec {
	bool left, plus, space, alt, zero;
	int width;
	int prec;   /* -1: none */
	int lenmod; /* 'H' hh, 'h', 'l', 'L' ll/j/z/t, 0 */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

/* n characters of str, padded to the width. */
static void put_chars(struct out *o, const struct spec *s, const char *str, int n)
{
	if (!s->left)
		pad(o, ' ', s->width - n);
	for (int i = 0; i < n; i++)
		put(o, str[i]);
	if (s->left)
		pad(o, ' ', s->width - n);
}

static void put_str(struct out *o, const struct spec *s, const char *str)
{
	int n = 0;

	if (!str)
		str = "(null)";
	while (str[n] && (s->prec < 0 || n < s->prec))
		n++;
	put_chars(o, s, str, n);
}

/* Converts v in base to digits (reversed into tmp), then lays out sign, prefix and padding. */
static void put_num(struct out *o, const struct spec *s, uint64_t v, bool neg, unsigned base,
		    bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;
	const char *prefix = "";

	for (; v != 0; v /= base)
		tmp[n++] = digits[v % base];
	int zeros = s->prec > n ? s->prec - n : 0;
	if ((s->prec < 0 && n == 0) || (base == 8 && s->alt && zeros == 0))
		zeros = 1; /* a plain "0", or octal's # leading one */
	if (neg)
		prefix = "-";
	else if (s->plus && base == 10)
		prefix = "+";
	else if (s->space && base == 10)
		prefix = " ";
	else if (s->alt && base == 16 && n > 0)
		prefix = upper ? "0X" : "0x";
	int plen = (int)__builtin_strlen(prefix);
	int total = plen + zeros + n;
	if (s->zero && !s->left && s->prec < 0 && s->width > total) {
		zeros += s->width - total;
		total = s->width;
	}
	if (!s->left)
		pad(o, ' ', s->width - total);
	for (int i = 0; i < plen; i++)
		put(o, prefix[i]);
	pad(o, '0', zeros);
	while (n)
		put(o, tmp[--n]);
	if (s->left)
		pad(o, ' ', s->width - total);
}

static const char *parse_spec(const char *f, struct spec *s, va_list *ap)
{
	*s = (struct spec){.prec = -1};
	for (;; f++) {
		if (*f == '-')
			s->left = true;
		else if (*f == '+')
			s->plus = true;
		else if (*f == ' ')
			s->space = true;
		else if (*f == '#')
			s->alt = true;
		else if (*f == '0')
			s->zero = true;
		else
			break;
	}
	if (*f == '*') {
		s->width = va_arg(*ap, int);
		if (s->width < 0) {
			s->left = true;
			s->width = -s->width;
		}
		f++;
	}
	while (*f >= '0' && *f <= '9')
		s->width = s->width * 10 + (*f++ - '0');
	if (*f == '.') {
		f++;
		s->prec = 0;
		if (*f == '*') {
			s->prec = va_arg(*ap, int);
			if (s->prec < 0)
				s->prec = -1;
			f++;
		}
		while (*f >= '0' && *f <= '9')
			s->prec = s->prec * 10 + (*f++ - '0');
	}
	if ((f[0] == 'h' || f[0] == 'l') && f[1] == f[0]) { /* hh, ll */
		s->lenmod = f[0] == 'h' ? 'H' : 'L';
		f += 2;
	} else if (*f == 'h' || *f == 'l') {
		s->lenmod = *f++;
	} else if (*f == 'z' || *f == 'j' || *f == 't') {
		s->lenmod = 'L';
		f++;
	}
	return f;
}

/* The argument as its length modifier reads it (hh, h, none, l/ll/j/z/t), sign-extended or not. */
static uint64_t arg(const struct spec *s, va_list *ap, bool sign)
{
	unsigned drop = s->lenmod == 'H' ? 56 : s->lenmod == 'h' ? 48 : s->lenmod ? 0 : 32;
	uint64_t v = drop ? va_arg(*ap, unsigned) : va_arg(*ap, unsigned long long);

	return sign ? (uint64_t)((int64_t)(v << drop) >> drop) : v << drop >> drop;
}

static void convert(struct out *o, struct spec *s, char c, va_list *ap)
{
	switch (c) {
	case 'd':
	case 'i': {
		int64_t v = (int64_t)arg(s, ap, true);
		put_num(o, s, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, 10, false);
		break;
	}
	case 'u':
	case 'o':
	case 'x':
	case 'X': {
		unsigned base = c == 'u' ? 10 : c == 'o' ? 8 : 16;
		s->plus = s->space = false; /* signs are for signed conversions only */
		put_num(o, s, arg(s, ap, false), false, base, c == 'X');
		break;
	}
	case 'p': {
		void *p = va_arg(*ap, void *);
		if (!p) {
			put_chars(o, s, "(nil)", 5);
			break;
		}
		s->alt = true;
		put_num(o, s, (uintptr_t)p, false, 16, false);
		break;
	}
	case 'c': {
		char ch = (char)va_arg(*ap, int); /* a NUL character still counts */
		put_chars(o, s, &ch, 1);
		break;
	}
	case 's':
		put_str(o, s, va_arg(*ap, const char *));
		break;
	default: /* %%, or an unknown conversion printed literally */
		put(o, '%');
		if (c && c != '%')
			put(o, c);
		break;
	}
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {.buf = buf, .size = size};
	struct spec s;
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &s, &args);
		convert(&o, &s, *fmt, &args);
		if (*fmt)
			fmt++;
	}
	va_end(args);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int fmt_error(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return -1;
}
