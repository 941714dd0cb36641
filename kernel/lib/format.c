/*
 * The formatting engine behind kprintf and ksnprintf. Portable: it is
 * compiled into the kernel and into the host tests, which compare it with
 * the C library's snprintf.
 */
#include <kernel/format.h>
#include <stdbool.h>
#include <stdint.h>

enum {
	FL_LEFT = 1 << 0,
	FL_ZERO = 1 << 1,
	FL_PLUS = 1 << 2,
	FL_SPACE = 1 << 3,
	FL_ALT = 1 << 4,
	FL_PTR = 1 << 5,        /* %p: "0x" even for a null pointer */
};

/* Widths and precisions are capped here: C leaves huge ones undefined,
 * and a kernel must not spend minutes printing padding. */
#define FMT_MAX_FIELD 4096

typedef struct {
	fmt_sink_t sink;
	void *ctx;
	int count;
} out_t;

typedef struct {
	unsigned flags;
	int width;
	int precision;          /* -1 when absent */
} spec_t;

static void out_char(out_t *o, char c)
{
	o->sink(c, o->ctx);
	o->count++;
}

static void out_repeat(out_t *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

static void out_string(out_t *o, const spec_t *sp, const char *s)
{
	int len = 0;

	if (!s)
		s = "(null)";
	/* Test the precision first: with one, s need not be NUL-terminated. */
	while ((sp->precision < 0 || len < sp->precision) && s[len])
		len++;
	if (!(sp->flags & FL_LEFT))
		out_repeat(o, ' ', sp->width - len);
	for (int i = 0; i < len; i++)
		out_char(o, s[i]);
	if (sp->flags & FL_LEFT)
		out_repeat(o, ' ', sp->width - len);
}

/* Writes the digits of v in base, least significant first; returns count. */
static int to_digits(char *buf, uintmax_t v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;

	do {
		buf[n++] = digits[v % base];
		v /= base;
	} while (v);
	return n;
}

static void out_number(out_t *o, const spec_t *sp, uintmax_t v, bool negative,
		       unsigned base, bool upper)
{
	char digits[24];
	const char *prefix = "";
	int ndigits = 0, zeros = 0, pad;

	if (!(sp->precision == 0 && v == 0))
		ndigits = to_digits(digits, v, base, upper);
	if (sp->precision > ndigits)
		zeros = sp->precision - ndigits;

	if (negative)
		prefix = "-";
	else if (sp->flags & FL_PLUS)
		prefix = "+";
	else if (sp->flags & FL_SPACE)
		prefix = " ";
	else if ((sp->flags & FL_ALT) && base == 16 && (v != 0 || (sp->flags & FL_PTR)))
		prefix = upper ? "0X" : "0x";
	else if ((sp->flags & FL_ALT) && base == 8 && zeros == 0 &&
		 (ndigits == 0 || digits[ndigits - 1] != '0'))
		zeros = 1;

	int prefix_len = 0;
	while (prefix[prefix_len])
		prefix_len++;
	pad = sp->width - prefix_len - zeros - ndigits;

	/* '0' pads between the sign and the digits, unless precision is set. */
	if ((sp->flags & FL_ZERO) && !(sp->flags & FL_LEFT) && sp->precision < 0) {
		zeros += pad > 0 ? pad : 0;
		pad = 0;
	}
	if (!(sp->flags & FL_LEFT))
		out_repeat(o, ' ', pad);
	for (int i = 0; i < prefix_len; i++)
		out_char(o, prefix[i]);
	out_repeat(o, '0', zeros);
	while (ndigits > 0)
		out_char(o, digits[--ndigits]);
	if (sp->flags & FL_LEFT)
		out_repeat(o, ' ', pad);
}

static const char *parse_flags(const char *f, spec_t *sp)
{
	for (;; f++) {
		switch (*f) {
		case '-': sp->flags |= FL_LEFT; break;
		case '0': sp->flags |= FL_ZERO; break;
		case '+': sp->flags |= FL_PLUS; break;
		case ' ': sp->flags |= FL_SPACE; break;
		case '#': sp->flags |= FL_ALT; break;
		default: return f;
		}
	}
}

static const char *parse_int(const char *f, int *value)
{
	int v = 0;

	while (*f >= '0' && *f <= '9') {
		v = v * 10 + (*f++ - '0');
		if (v > FMT_MAX_FIELD)
			v = FMT_MAX_FIELD;
	}
	*value = v;
	return f;
}

/* Length modifiers, counted as the size of the argument in bytes. */
static const char *parse_length(const char *f, int *size)
{
	*size = sizeof(int);
	switch (*f) {
	case 'h':
		f++;
		*size = sizeof(short);
		if (*f == 'h') {
			f++;
			*size = sizeof(char);
		}
		break;
	case 'l':
		f++;
		*size = sizeof(long);
		if (*f == 'l') {
			f++;
			*size = sizeof(long long);
		}
		break;
	case 'z': f++; *size = sizeof(size_t); break;
	case 't': f++; *size = sizeof(ptrdiff_t); break;
	case 'j': f++; *size = sizeof(intmax_t); break;
	}
	return f;
}

static intmax_t fetch_signed(va_list *ap, int size)
{
	switch (size) {
	case sizeof(char): return (signed char)va_arg(*ap, int);
	case sizeof(short): return (short)va_arg(*ap, int);
	case sizeof(int): return va_arg(*ap, int);
	default: return va_arg(*ap, long long);
	}
}

static uintmax_t fetch_unsigned(va_list *ap, int size)
{
	switch (size) {
	case sizeof(char): return (unsigned char)va_arg(*ap, unsigned);
	case sizeof(short): return (unsigned short)va_arg(*ap, unsigned);
	case sizeof(int): return va_arg(*ap, unsigned);
	default: return va_arg(*ap, unsigned long long);
	}
}

/* Parses flags, width, precision and length of a conversion; returns the
 * conversion character's position. */
static const char *parse_spec(const char *f, va_list *ap, spec_t *spec, int *size)
{
	spec_t sp = { .precision = -1 };

	f = parse_flags(f, &sp);
	if (*f == '*') {
		sp.width = va_arg(*ap, int);
		if (sp.width < 0) {
			sp.flags |= FL_LEFT;
			sp.width = sp.width < -FMT_MAX_FIELD ? FMT_MAX_FIELD : -sp.width;
		}
		if (sp.width > FMT_MAX_FIELD)
			sp.width = FMT_MAX_FIELD;
		f++;
	} else {
		f = parse_int(f, &sp.width);
	}
	if (*f == '.') {
		f++;
		if (*f == '*') {
			sp.precision = va_arg(*ap, int);
			if (sp.precision > FMT_MAX_FIELD)
				sp.precision = FMT_MAX_FIELD;
			f++;
		} else {
			f = parse_int(f, &sp.precision);
		}
		if (sp.precision < 0)
			sp.precision = -1;
	}
	f = parse_length(f, size);
	if (*f != 'd' && *f != 'i')     /* signs belong to signed numbers only */
		sp.flags &= ~(FL_PLUS | FL_SPACE);
	*spec = sp;
	return f;
}

/* Formats one conversion after '%'; returns where the next text starts. */
static const char *format_one(out_t *o, const char *f, va_list *ap)
{
	spec_t sp;
	int size;

	f = parse_spec(f, ap, &sp, &size);
	switch (*f) {
	case 'd':
	case 'i': {
		intmax_t v = fetch_signed(ap, size);
		uintmax_t mag = v < 0 ? -(uintmax_t)v : (uintmax_t)v;
		out_number(o, &sp, mag, v < 0, 10, false);
		break;
	}
	case 'u': out_number(o, &sp, fetch_unsigned(ap, size), false, 10, false); break;
	case 'x': out_number(o, &sp, fetch_unsigned(ap, size), false, 16, false); break;
	case 'X': out_number(o, &sp, fetch_unsigned(ap, size), false, 16, true); break;
	case 'o': out_number(o, &sp, fetch_unsigned(ap, size), false, 8, false); break;
	case 'p':
		sp.flags |= FL_ALT | FL_PTR;
		out_number(o, &sp, (uintptr_t)va_arg(*ap, void *), false, 16, false);
		break;
	case 'c': {
		char s[2] = { (char)va_arg(*ap, int), 0 };
		sp.precision = 1;
		if (s[0] == 0) {        /* a NUL character is still one character */
			out_repeat(o, ' ', (sp.flags & FL_LEFT) ? 0 : sp.width - 1);
			out_char(o, 0);
			out_repeat(o, ' ', (sp.flags & FL_LEFT) ? sp.width - 1 : 0);
		} else {
			out_string(o, &sp, s);
		}
		break;
	}
	case 's': out_string(o, &sp, va_arg(*ap, const char *)); break;
	case '%': out_char(o, '%'); break;
	case '\0': return f;    /* a lone '%' at the end prints nothing */
	default:                /* unknown conversion: show it as written */
		out_char(o, '%');
		out_char(o, *f);
		break;
	}
	return f + 1;
}

int fmt_vformat(fmt_sink_t sink, void *ctx, const char *fmt, va_list ap)
{
	out_t o = { .sink = sink, .ctx = ctx };
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%')
			out_char(&o, *fmt++);
		else
			fmt = format_one(&o, fmt + 1, &args);
	}
	va_end(args);
	return o.count;
}

typedef struct {
	char *buf;
	size_t size;
	size_t pos;
} buf_sink_t;

static void buf_put(char c, void *ctx)
{
	buf_sink_t *b = ctx;

	if (b->pos + 1 < b->size)
		b->buf[b->pos] = c;
	b->pos++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	buf_sink_t b = { .buf = buf, .size = size };
	int n = fmt_vformat(buf_put, &b, fmt, ap);

	if (size > 0)
		buf[b.pos < size ? b.pos : size - 1] = '\0';
	return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
