/*
 * The formatting engine behind kprintf and ksnprintf. Portable: it is
 * compiled into the kernel and into the host tests, which compare it with
 * the C library's snprintf.
 *
 * libsys (silos' printf) and the host tests also build it with
 * FORMAT_FLOAT, which adds %f %F %e %E %g %G for double. The kernel does
 * not: it is built without FPU/SSE code, and for it those conversions are
 * unknown ones, printed as written. The float code itself is integer
 * arithmetic on the bits of the double: the value is converted exactly to
 * decimal (a double is m * 2^e, so it has at most 767 significant decimal
 * digits) and rounded half to even at the requested digit, which is what
 * glibc prints in the default rounding mode.
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

static bool is_signed_conv(char c)
{
#ifdef FORMAT_FLOAT
	if (c == 'f' || c == 'F' || c == 'e' || c == 'E' || c == 'g' || c == 'G')
		return true;
#endif
	return c == 'd' || c == 'i';
}

#ifdef FORMAT_FLOAT
#define DEC_LIMBS 90            /* base 1e9: 810 digits; the longest double needs 767 */
#define DEC_DIGITS (DEC_LIMBS * 9)
#define LIMB_BASE 1000000000u
#define DOUBLE_FRAC_BITS 52
#define DOUBLE_EXP_MASK 0x7ff
#define DOUBLE_EXP_BIAS 1075    /* 1023 + 52: the value is m * 2^(E - 1075) */

/* An exact decimal: 0.d[0]d[1]...d[n-1] x 10^dp, d[0] != '0' and
 * d[n-1] != '0'; n == 0 (and dp == 1) for zero. */
typedef struct {
	char d[DEC_DIGITS];
	int n;
	int dp;
} decimal_t;

typedef struct {
	uint32_t limb[DEC_LIMBS];       /* least significant first */
	int len;
} big_t;

static void big_mul(big_t *b, uint32_t m)
{
	uint64_t carry = 0;

	for (int i = 0; i < b->len; i++) {
		uint64_t v = (uint64_t)b->limb[i] * m + carry;

		b->limb[i] = (uint32_t)(v % LIMB_BASE);
		carry = v / LIMB_BASE;
	}
	for (; carry; carry /= LIMB_BASE)
		b->limb[b->len++] = (uint32_t)(carry % LIMB_BASE);
}

/* Writes b's decimal digits, most significant first; returns how many. */
static int big_digits(const big_t *b, char *out)
{
	char tmp[9];
	int n = 0, k = to_digits(tmp, b->limb[b->len - 1], 10, false);

	while (k > 0)
		out[n++] = tmp[--k];
	for (int i = b->len - 2; i >= 0; i--) {
		uint32_t v = b->limb[i];

		for (int j = 8; j >= 0; j--, v /= 10)
			out[n + j] = (char)('0' + v % 10);
		n += 9;
	}
	return n;
}

/* m * 2^e exactly: times 2^e, or times 5^-e with the point -e places in. */
static void decimal_from(decimal_t *x, uint64_t m, int e)
{
	big_t b = { .limb = { (uint32_t)(m % LIMB_BASE), (uint32_t)(m / LIMB_BASE % LIMB_BASE),
			      (uint32_t)(m / LIMB_BASE / LIMB_BASE) }, .len = 3 };
	int frac = e < 0 ? -e : 0;

	while (b.len > 1 && b.limb[b.len - 1] == 0)
		b.len--;
	for (; e > 0; e -= 29)
		big_mul(&b, 1u << (e < 29 ? e : 29));
	for (int left = frac; left > 0; left -= 13) {
		uint32_t p = 1;

		for (int i = 0; i < (left < 13 ? left : 13); i++)
			p *= 5;
		big_mul(&b, p);
	}
	x->n = big_digits(&b, x->d);
	x->dp = x->n - frac;
	while (x->n > 0 && x->d[x->n - 1] == '0')
		x->n--;
	if (x->n == 0)
		x->dp = 1;              /* zero prints as one '0' before the point */
}

/* Keeps the first keep digits (none if keep <= 0), rounding half to even. */
static void decimal_round(decimal_t *x, int keep)
{
	if (keep >= x->n)
		return;
	if (keep < 0) {                 /* below half the last unit kept */
		x->n = 0;
		return;
	}
	char next = x->d[keep];
	bool odd = keep > 0 && (x->d[keep - 1] - '0') % 2;
	bool up = next > '5' || (next == '5' && (x->n > keep + 1 || odd));
	int i = keep - 1;

	x->n = keep;
	if (up) {
		while (i >= 0 && x->d[i] == '9')
			i--;
		if (i < 0) {            /* 999.. -> 1000..: one digit, one place up */
			x->d[0] = '1';
			x->n = 1;
			x->dp++;
		} else {
			x->d[i]++;
			x->n = i + 1;
		}
	}
	while (x->n > 0 && x->d[x->n - 1] == '0')
		x->n--;
}

static char decimal_digit(const decimal_t *x, int i)
{
	return i >= 0 && i < x->n ? x->d[i] : '0';
}

typedef struct {
	char conv;              /* 'f' or 'e': %g has chosen one */
	bool upper;
	int prec;
	bool point;             /* print the decimal point */
	int exp10;              /* %e: the exponent */
} float_form_t;

static int float_body_len(const decimal_t *x, const float_form_t *ff)
{
	int frac = ff->point ? 1 + ff->prec : 0;

	if (ff->conv == 'f')
		return (x->dp > 0 ? x->dp : 1) + frac;
	int e = ff->exp10 < 0 ? -ff->exp10 : ff->exp10;
	return 1 + frac + 2 + (e >= 100 ? 3 : 2);
}

static void float_body(out_t *o, const decimal_t *x, const float_form_t *ff)
{
	if (ff->conv == 'f') {
		if (x->dp <= 0)
			out_char(o, '0');
		for (int i = 0; i < x->dp; i++)
			out_char(o, decimal_digit(x, i));
		if (ff->point)
			out_char(o, '.');
		for (int i = 0; i < ff->prec; i++)
			out_char(o, decimal_digit(x, x->dp + i));
		return;
	}
	int e = ff->exp10 < 0 ? -ff->exp10 : ff->exp10;
	char digits[4];
	int n = to_digits(digits, (uintmax_t)e, 10, false);

	out_char(o, decimal_digit(x, 0));
	if (ff->point)
		out_char(o, '.');
	for (int i = 1; i <= ff->prec; i++)
		out_char(o, decimal_digit(x, i));
	out_char(o, ff->upper ? 'E' : 'e');
	out_char(o, ff->exp10 < 0 ? '-' : '+');
	if (n < 2)
		out_char(o, '0');
	while (n > 0)
		out_char(o, digits[--n]);
}

/* Rounds x for conversion conv ('f' 'e' 'g') at precision prec and picks
 * the form it prints in. %g follows C: precision P (0 means 1), X the
 * exponent after rounding to P digits; %f style if P > X >= -4, else %e;
 * without '#' no trailing zeros. */
static void float_choose(decimal_t *x, char conv, int prec, bool alt, float_form_t *ff)
{
	if (prec < 0)
		prec = 6;
	if (conv == 'f') {
		decimal_round(x, x->dp + prec);
		*ff = (float_form_t){ .conv = 'f', .prec = prec, .point = prec > 0 || alt };
		return;
	}
	int sig = conv == 'e' ? prec + 1 : prec == 0 ? 1 : prec;

	decimal_round(x, sig);
	int exp10 = x->n ? x->dp - 1 : 0;
	if (conv == 'e' || exp10 < -4 || exp10 >= sig) {
		*ff = (float_form_t){ .conv = 'e', .prec = sig - 1, .exp10 = exp10 };
		if (conv == 'g' && !alt && x->n - 1 < ff->prec)
			ff->prec = x->n > 1 ? x->n - 1 : 0;
	} else {
		*ff = (float_form_t){ .conv = 'f', .prec = sig - 1 - exp10 };
		int have = x->n - x->dp;        /* fraction digits up to the last nonzero */
		if (!alt && have < ff->prec)
			ff->prec = have > 0 ? have : 0;
	}
	ff->point = ff->prec > 0 || alt;
}

static void out_float_text(out_t *o, const spec_t *sp, const char *sign, const char *text)
{
	int len = 0, slen = 0;

	while (text[len])
		len++;
	while (sign[slen])
		slen++;
	int pad = sp->width - len - slen;
	if (!(sp->flags & FL_LEFT))
		out_repeat(o, ' ', pad);
	for (int i = 0; i < slen; i++)
		out_char(o, sign[i]);
	for (int i = 0; i < len; i++)
		out_char(o, text[i]);
	if (sp->flags & FL_LEFT)
		out_repeat(o, ' ', pad);
}

/* %f %F %e %E %g %G of v. */
static void out_float(out_t *o, const spec_t *sp, double v, char conv)
{
	uint64_t bits;
	decimal_t x;
	float_form_t ff;
	bool upper = conv >= 'A' && conv <= 'Z';

	__builtin_memcpy(&bits, &v, sizeof bits);
	const char *sign = bits >> 63 ? "-" : (sp->flags & FL_PLUS) ? "+" :
			   (sp->flags & FL_SPACE) ? " " : "";
	int exp = (int)(bits >> DOUBLE_FRAC_BITS) & DOUBLE_EXP_MASK;
	uint64_t m = bits & ((1ull << DOUBLE_FRAC_BITS) - 1);

	if (exp == DOUBLE_EXP_MASK) {   /* infinities and NaNs: no zero padding */
		out_float_text(o, sp, sign, m ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf"));
		return;
	}
	if (exp)
		m |= 1ull << DOUBLE_FRAC_BITS;
	decimal_from(&x, m, (exp ? exp : 1) - DOUBLE_EXP_BIAS);
	float_choose(&x, (char)(conv | 0x20), sp->precision, sp->flags & FL_ALT, &ff);
	ff.upper = upper;

	int slen = sign[0] ? 1 : 0;
	int pad = sp->width - slen - float_body_len(&x, &ff);
	bool zeros = (sp->flags & FL_ZERO) && !(sp->flags & FL_LEFT);

	if (!(sp->flags & FL_LEFT) && !zeros)
		out_repeat(o, ' ', pad);
	if (slen)
		out_char(o, sign[0]);
	if (zeros)
		out_repeat(o, '0', pad);
	float_body(o, &x, &ff);
	if (sp->flags & FL_LEFT)
		out_repeat(o, ' ', pad);
}
#endif

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
	if (!is_signed_conv(*f))        /* signs belong to signed numbers only */
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
#ifdef FORMAT_FLOAT
	case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
		out_float(o, &sp, va_arg(*ap, double), *f);
		break;
#endif
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
