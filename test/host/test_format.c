/*
 * Host tests of the printf engine (kernel/lib/format.c): ksnprintf is
 * compared with the C library's snprintf, which serves as the reference for
 * every case whose output C defines. The few behaviours where the two differ
 * on purpose (NULL %p, unknown conversions, a trailing '%') are checked
 * against fixed strings.
 */
#include <kernel/format.h>

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#define OUT_MAX 512
#define FILL 0x5a

static int check_count;

/* Formats with both engines into a buffer of the given size and fails the
 * test at file:line if the return values, the bytes written or the untouched
 * tail of the buffer differ. */
static void compare_sized(const char *file, int line, size_t size,
			  const char *fmt, va_list ap)
{
	char want[OUT_MAX + 8], got[OUT_MAX + 8];
	va_list a1, a2;

	memset(want, FILL, sizeof want);
	memset(got, FILL, sizeof got);
	va_copy(a1, ap);
	va_copy(a2, ap);
	int want_n = vsnprintf(want, size, fmt, a1);
	int got_n = kvsnprintf(got, size, fmt, a2);
	va_end(a1);
	va_end(a2);
	check_count++;

	if (want_n != got_n || memcmp(want, got, sizeof want) != 0) {
		print_error("format \"%s\", buffer size %zu:\n"
			    "  libc   %d \"%.*s\"\n  kernel %d \"%.*s\"\n",
			    fmt, size, want_n, (int)(size ? size : 1) - 1, want,
			    got_n, (int)(size ? size : 1) - 1, got);
		_fail(file, line);
	}
}

/* Compares at full size, then at sizes that cut the output short. */
static void compare_v(const char *file, int line, const char *fmt, va_list ap)
{
	char probe[OUT_MAX];
	va_list a;

	va_copy(a, ap);
	int n = vsnprintf(probe, sizeof probe, fmt, a);
	va_end(a);
	assert_true(n >= 0 && n < OUT_MAX);

	size_t sizes[] = { OUT_MAX, 0, 1, 2, (size_t)n / 2, (size_t)n, (size_t)n + 1 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		compare_sized(file, line, sizes[i], fmt, ap);
}

/* Checked by gcc's format warnings: used for every literal format. */
static void __attribute__((format(printf, 3, 4)))
compare_checked(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	compare_v(file, line, fmt, ap);
	va_end(ap);
}

/* Not checked by gcc: for formats whose output glibc defines but that gcc's
 * format warnings flag anyway (an ignored flag such as '0' with '-', a NULL
 * %s argument). */
static void compare_unchecked(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	compare_v(file, line, fmt, ap);
	va_end(ap);
}

/* For formats built at run time (only at full size, for speed). */
static void compare_runtime(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	compare_sized(__FILE__, __LINE__, OUT_MAX, fmt, ap);
	va_end(ap);
}

#define CHECK(...) compare_checked(__FILE__, __LINE__, __VA_ARGS__)
#define CHECK_NOWARN(...) compare_unchecked(__FILE__, __LINE__, __VA_ARGS__)

/* Formats with ksnprintf and checks the exact output and return value. */
static void expect_exact(const char *file, int line, const char *want,
			 const char *fmt, ...)
{
	char got[OUT_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = kvsnprintf(got, sizeof got, fmt, ap);
	va_end(ap);
	_assert_string_equal(got, want, file, line);
	_assert_int_equal(n, strlen(want), file, line);
}

#define EXPECT(want, ...) expect_exact(__FILE__, __LINE__, want, __VA_ARGS__)

/* Plain text and %% pass through unchanged. */
static void test_text_and_percent(void **state)
{
	(void)state;
	CHECK("%s", "");
	CHECK("hello, world");
	CHECK("100%%");
	CHECK("%%%%%d%%", 5);
	CHECK("a%cb%sc%dd", 'x', "yz", 7);
}

/* %d and %i over signed values, including the extremes. */
static void test_signed_decimal(void **state)
{
	(void)state;
	int values[] = { 0, 1, -1, 9, 10, -10, 123456, -987654, INT_MAX, INT_MIN };

	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		CHECK("%d", values[i]);
		CHECK("%i", values[i]);
		CHECK("[%12d]", values[i]);
		CHECK("[%-12d]", values[i]);
		CHECK("[%012d]", values[i]);
		CHECK("[%+d]", values[i]);
		CHECK("[% d]", values[i]);
		CHECK_NOWARN("[%+ d]", values[i]);
		CHECK("[%.5d]", values[i]);
		CHECK_NOWARN("[%+08.3i]", values[i]);
		CHECK("[%-+8i]", values[i]);
	}
	CHECK("%lld %lld %lld", LLONG_MIN, LLONG_MAX, 0ll);
	CHECK("[%+25lld] [%-25lld] [%025lld]", LLONG_MIN, LLONG_MIN, LLONG_MIN);
	CHECK("%ld %ld", LONG_MIN, LONG_MAX);
}

/* %u %x %X %o over unsigned values, including the extremes. */
static void test_unsigned_conversions(void **state)
{
	(void)state;
	unsigned values[] = { 0, 1, 7, 8, 15, 16, 255, 4096, 0xdeadbeef, UINT_MAX };

	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		unsigned v = values[i];
		CHECK("%u %x %X %o", v, v, v, v);
		CHECK("[%10u] [%-10x] [%010X] [%10o]", v, v, v, v);
		CHECK("[%#x] [%#X] [%#o]", v, v, v);
		CHECK("[%#12x] [%-#12X] [%#012x] [%#12o] [%#012o]", v, v, v, v, v);
		CHECK("[%.6u] [%.6x] [%.6o] [%#.6x] [%#.6o]", v, v, v, v, v);
		CHECK("[%#.0x] [%#.0o] [%#.1o] [%#3.0o]", v, v, v, v);
	}
	CHECK("%llu %llx %llX %llo", ULLONG_MAX, ULLONG_MAX, ULLONG_MAX, ULLONG_MAX);
	CHECK("%#llo %#llx", ULLONG_MAX, ULLONG_MAX);
	CHECK("[%30llu] [%-30llo]", ULLONG_MAX, ULLONG_MAX);
}

/* '+' and ' ' apply to signed conversions only. */
static void test_sign_flags_ignored_for_unsigned(void **state)
{
	(void)state;
	CHECK_NOWARN("[%+u] [% u] [%+x] [% X] [%+o] [% o]", 5u, 5u, 5u, 5u, 5u, 5u);
	CHECK_NOWARN("[%+5u] [% -5x]", 0u, 0u);
	CHECK_NOWARN("[%+s] [% s] [%+c]", "s", "t", 'c');
}

/* Precision .0 with value 0 prints no digits (but keeps sign, padding, octal 0). */
static void test_zero_precision_zero_value(void **state)
{
	(void)state;
	CHECK("[%.0d] [%.0i] [%.0u] [%.0x] [%.0X] [%.0o]", 0, 0, 0u, 0u, 0u, 0u);
	CHECK("[%.d] [%5.0d] [%-5.0u] [%+.0d] [% .0d]", 0, 0, 0u, 0, 0);
	CHECK("[%#.0x] [%#.0o] [%#5.0o] [%#.0X]", 0u, 0u, 0u, 0u);
	CHECK_NOWARN("[%05.0d] [%.0d] [%.0x]", 0, 1, 1u);
}

/* '0' is ignored with '-' and with a precision; it pads after the sign. */
static void test_zero_flag_interactions(void **state)
{
	(void)state;
	CHECK_NOWARN("[%-05d] [%05.2d] [%08.3d] [%-08.3d]", 42, 42, -5, -5);
	CHECK("[%05d] [%+05d] [% 05d] [%05d]", -42, 42, 42, 0);
	CHECK_NOWARN("[%0-6x] [%-#08x] [%#08x]", 0xabu, 0xabu, 0xabu);
	CHECK_NOWARN("[%00005d] [%-0-5d]", 3, 3);
}

/* '*' takes the width and precision from the arguments; negative width
 * means left-justify, negative precision means none. */
static void test_star_width_precision(void **state)
{
	(void)state;
	CHECK("[%*d]", 6, 42);
	CHECK("[%*d]", -6, 42);
	CHECK("[%-*d]", 6, 42);
	CHECK("[%-*d]", -6, 42);
	CHECK("[%0*d]", 6, -42);
	CHECK("[%0*d]", -6, -42);
	CHECK("[%.*d]", 4, 42);
	CHECK("[%.*d]", -4, 42);
	CHECK_NOWARN("[%0.*d]", -1, 42);
	CHECK_NOWARN("[%08.*d]", -3, 42);
	CHECK("[%.*d]", 0, 0);
	CHECK("[%*.*x]", 10, 6, 0xbeefu);
	CHECK("[%*.*x]", -10, 6, 0xbeefu);
	CHECK("[%*s] [%-*s] [%.*s] [%.*s]", 8, "ab", 8, "ab", 1, "abc", -1, "abc");
	CHECK("[%*c] [%*c]", 4, 'x', -4, 'y');
	CHECK("[%*d]", 0, 7);
}

/* hh h l ll z t j size the argument and truncate it like libc. */
static void test_length_modifiers(void **state)
{
	(void)state;
	CHECK("%hhd %hhd %hhd %hhd", 127, -128, 200, -129);
	CHECK("%hhu %hhx %hho %hhX", 300, -1, 511, 0x1ab);
	CHECK("%hd %hd %hd %hd", 32767, -32768, 70000, -40000);
	CHECK("%hu %hx %ho", 70000, -1, 65537);
	CHECK("%ld %lu %lx %lo", LONG_MIN, ULONG_MAX, ULONG_MAX, 8ul);
	CHECK("%lld %llu %llx %lli", LLONG_MIN, ULLONG_MAX, 0x123456789abcdefull, -1ll);
	CHECK("%zu %zx %zd %zd", SIZE_MAX, (size_t)0xfeed, (ssize_t)-5, (ssize_t)SSIZE_MAX);
	CHECK("%td %tx %ti", PTRDIFF_MIN, (ptrdiff_t)0x7f, PTRDIFF_MAX);
	CHECK("%jd %ju %jx %jo", INTMAX_MIN, UINTMAX_MAX, UINTMAX_MAX, (uintmax_t)64);
	CHECK("[%-+20lld] [%#22llo] [%+.25jd]", -1ll, 1ull << 63, INTMAX_MIN);
	/* a wider argument followed by a narrower one stays in step */
	CHECK("%lld %d %hhd %llu %u", -2ll, 3, 4, 5ull, 6u);
}

/* %s: width, precision, left-justify, and NULL prints "(null)" as in glibc. */
static void test_strings(void **state)
{
	(void)state;
	const char *strs[] = { "", "a", "hello", "a considerably longer string" };

	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		const char *s = strs[i];
		CHECK("[%s] [%10s] [%-10s] [%.3s] [%10.2s] [%-10.0s] [%.40s]",
		      s, s, s, s, s, s, s);
	}
	CHECK_NOWARN("[%s]", (char *)NULL);
	CHECK_NOWARN("[%10s] [%-10s]", (char *)NULL, (char *)NULL);
	CHECK_NOWARN("[%.6s] [%.10s]", (char *)NULL, (char *)NULL);
}

/* %s with a precision reads at most that many bytes: the array need not be
 * NUL-terminated (C11 7.21.6.1p8). Last in the run: ASan aborts on failure. */
static void test_string_precision_bounds_reading(void **state)
{
	(void)state;
	static const char unterminated[3] = { 'x', 'y', 'z' };

	CHECK("[%.2s]", unterminated);
	CHECK("[%.3s]", unterminated);
}

/* %c, including a NUL character, which still counts as one character. */
static void test_chars(void **state)
{
	(void)state;
	CHECK("[%c] [%3c] [%-3c] [%c%c]", 'a', 'b', 'c', '%', 'd');
	CHECK("[%c]", 0);
	CHECK("[%4c] [%-4c]", 0, 0);
	CHECK("[%c]", 255);
	CHECK("[%c]", -1);
}

/* Non-NULL %p matches glibc ("0x" then lowercase hex). */
static void test_pointers(void **state)
{
	(void)state;
	int local;
	void *ptrs[] = { (void *)0x1, (void *)0x1234, &local, (void *)test_pointers,
			 (void *)UINTPTR_MAX, (void *)0xffff800000000000ull };

	for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++) {
		void *p = ptrs[i];
		CHECK("%p", p);
		CHECK("[%20p] [%-20p] [%3p]", p, p, p);
	}
}

/* NULL %p prints "0x0" (glibc would print "(nil)"), padded like any %p. */
static void test_null_pointer(void **state)
{
	(void)state;
	EXPECT("0x0", "%p", (void *)NULL);
	EXPECT("[  0x0] [0x0  ]", "[%5p] [%-5p]", (void *)NULL, (void *)NULL);
}

/* Unknown conversions print as written; a trailing '%' prints nothing. The
 * formats are built at run time so gcc does not reject them. */
static void test_odd_formats(void **state)
{
	(void)state;
	char fmt[32];

	strcpy(fmt, "a%qb");
	EXPECT("a%qb", fmt);
	strcpy(fmt, "%q%d");
	EXPECT("%q7", fmt, 7);
	strcpy(fmt, "%y %s");
	EXPECT("%y ok", fmt, "ok");
	strcpy(fmt, "abc%");
	EXPECT("abc", fmt);
	strcpy(fmt, "%");
	EXPECT("", fmt);
	strcpy(fmt, "%d%");
	EXPECT("12", fmt, 12);
}

/* Truncation: output is cut at size - 1, always NUL-terminated, nothing
 * written past size, and the return value is the full length. */
static void test_truncation(void **state)
{
	(void)state;
	char buf[16];

	memset(buf, FILL, sizeof buf);
	assert_int_equal(ksnprintf(buf, 5, "%s-%d", "abcdef", 12345), 12);
	assert_string_equal(buf, "abcd");
	for (size_t i = 5; i < sizeof buf; i++)
		assert_int_equal((unsigned char)buf[i], FILL);

	memset(buf, FILL, sizeof buf);
	assert_int_equal(ksnprintf(buf, 1, "%d", 123), 3);
	assert_int_equal(buf[0], '\0');
	assert_int_equal((unsigned char)buf[1], FILL);

	memset(buf, FILL, sizeof buf);
	assert_int_equal(ksnprintf(buf, 4, "abc"), 3);
	assert_string_equal(buf, "abc");

	memset(buf, FILL, sizeof buf);
	assert_int_equal(ksnprintf(buf, 3, "abc"), 3);
	assert_string_equal(buf, "ab");
	assert_int_equal((unsigned char)buf[3], FILL);
}

/* Size 0 writes nothing at all (buf may even be NULL) and returns the length. */
static void test_size_zero(void **state)
{
	(void)state;
	char buf[8];

	memset(buf, FILL, sizeof buf);
	assert_int_equal(ksnprintf(buf, 0, "%s %d", "hello", -1), 8);
	for (size_t i = 0; i < sizeof buf; i++)
		assert_int_equal((unsigned char)buf[i], FILL);
	assert_int_equal(ksnprintf(NULL, 0, "%08x", 1u), 8);
}

typedef struct {
	char text[64];
	int count;
} collected_t;

static void collect_sink(char c, void *ctx)
{
	collected_t *col = ctx;

	if (col->count < (int)sizeof col->text)
		col->text[col->count] = c;
	col->count++;
}

static int format_through_sink(collected_t *col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = fmt_vformat(collect_sink, col, fmt, ap);
	va_end(ap);
	return n;
}

/* fmt_vformat hands every character (a NUL from %c too) to the sink, in
 * order, and returns the count. */
static void test_vformat_sink(void **state)
{
	(void)state;
	collected_t col = { .count = 0 };
	static const char want[] = "ab    |   -3|\0x";

	assert_int_equal(format_through_sink(&col, "%-6s|%5d|%c%c", "ab", -3, 0, 'x'),
			 sizeof want - 1);
	assert_int_equal(col.count, sizeof want - 1);
	assert_memory_equal(col.text, want, sizeof want - 1);
}

/* Flag, width and precision combinations generated at run time. */
static const char *const gen_flags[] = {
	"", "-", "0", "+", " ", "#", "-0", "-+", "- ", "0+", "0 ", "+ ",
	"#0", "#-", "-0+ ", "#0+", "-# "
};
static const char *const gen_widths[] = { "", "1", "6", "25" };
static const char *const gen_precs[] = { "", ".", ".0", ".1", ".5", ".30" };

enum len { L_NONE, L_HH, L_H, L_L, L_LL, L_Z, L_T, L_J, L_COUNT };
static const char *const gen_lens[L_COUNT] = { "", "hh", "h", "l", "ll", "z", "t", "j" };

/* Passes v converted to the argument type the length and conversion expect. */
static void compare_integer(const char *fmt, enum len len, int is_signed, int64_t v)
{
	if (is_signed) {
		switch (len) {
		case L_NONE: compare_runtime(fmt, (int)v); break;
		case L_HH: compare_runtime(fmt, (int)(signed char)v); break;
		case L_H: compare_runtime(fmt, (int)(short)v); break;
		case L_L: compare_runtime(fmt, (long)v); break;
		case L_LL: compare_runtime(fmt, (long long)v); break;
		case L_Z: compare_runtime(fmt, (ssize_t)v); break;
		case L_T: compare_runtime(fmt, (ptrdiff_t)v); break;
		default: compare_runtime(fmt, (intmax_t)v); break;
		}
	} else {
		switch (len) {
		case L_NONE: compare_runtime(fmt, (unsigned)v); break;
		case L_HH: compare_runtime(fmt, (unsigned)(unsigned char)v); break;
		case L_H: compare_runtime(fmt, (unsigned)(unsigned short)v); break;
		case L_L: compare_runtime(fmt, (unsigned long)v); break;
		case L_LL: compare_runtime(fmt, (unsigned long long)v); break;
		case L_Z: compare_runtime(fmt, (size_t)v); break;
		case L_T: compare_runtime(fmt, (size_t)v); break;
		default: compare_runtime(fmt, (uintmax_t)v); break;
		}
	}
}

/* Every integer conversion under every flag/width/precision/length
 * combination in the tables matches libc. '#' is used only with o, x, X,
 * where C defines it. */
static void test_generated_integers(void **state)
{
	(void)state;
	static const int64_t values[] = {
		0, 1, -1, 7, 8, 42, -42, 127, -128, 255, 65535, -32768,
		INT32_MAX, INT32_MIN, UINT32_MAX, INT64_MAX, INT64_MIN,
		0x0123456789abcdefll,
	};
	static const char convs[] = "diuxXo";
	char fmt[32];
	int before = check_count;

	for (size_t c = 0; c < sizeof convs - 1; c++) {
		int is_signed = convs[c] == 'd' || convs[c] == 'i';
		int alt_ok = convs[c] == 'x' || convs[c] == 'X' || convs[c] == 'o';
		for (size_t f = 0; f < sizeof gen_flags / sizeof gen_flags[0]; f++) {
			if (strchr(gen_flags[f], '#') && !alt_ok)
				continue;
			for (size_t w = 0; w < sizeof gen_widths / sizeof gen_widths[0]; w++)
				for (size_t p = 0; p < sizeof gen_precs / sizeof gen_precs[0]; p++)
					for (int l = 0; l < L_COUNT; l++) {
						snprintf(fmt, sizeof fmt, "[%%%s%s%s%s%c]", gen_flags[f],
							 gen_widths[w], gen_precs[p], gen_lens[l], convs[c]);
						for (size_t v = 0; v < sizeof values / sizeof values[0]; v++)
							compare_integer(fmt, (enum len)l, is_signed, values[v]);
					}
		}
	}
	assert_true(check_count - before > 100000);
}

/* %s and %c under '-', widths and precisions generated at run time. */
static void test_generated_strings(void **state)
{
	(void)state;
	static const char *const strs[] = { "", "x", "four", "a string of 29 characters...." };
	static const char *const flags[] = { "", "-" };
	char fmt[32];

	for (size_t f = 0; f < 2; f++)
		for (size_t w = 0; w < sizeof gen_widths / sizeof gen_widths[0]; w++) {
			for (size_t p = 0; p < sizeof gen_precs / sizeof gen_precs[0]; p++) {
				snprintf(fmt, sizeof fmt, "<%%%s%s%ss>", flags[f], gen_widths[w],
					 gen_precs[p]);
				for (size_t s = 0; s < sizeof strs / sizeof strs[0]; s++)
					compare_runtime(fmt, strs[s]);
			}
			snprintf(fmt, sizeof fmt, "<%%%s%sc>", flags[f], gen_widths[w]);
			compare_runtime(fmt, 'Q');
			compare_runtime(fmt, 0);
		}
}

/* ---- floating point (built with FORMAT_FLOAT, as libsys is) ---- */

static const double float_values[] = {
	0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 3.5, 0.125, 0.0625,
	0.1, 0.2, 0.3, -0.7, 1.0 / 3, 2.0 / 3, -1.0 / 3, 3.14159265358979323846,
	2.71828182845904523536, 123.456, -987.654321, 9.5, 99.5, 999.5, 0.05, 0.15,
	0.25, 0.35, 0.45, 999.9999999, 9.9999995, 0.00001, 0.0001, 0.00009999,
	0.000099999999, 1e-7, 1e-10, 123456789.0, 1e15, 1e16, 1e17, 1e21, 1e22,
	1e23, 1e100, -1e100, 1e300, 1.7976931348623157e308, -1.7976931348623157e308,
	2.2250738585072014e-308, 4.9406564584124654e-324, 9007199254740992.0,
	9007199254740993.0, 18446744073709551616.0, 0.999999, 0.9999995, 9.999999e-5,
	1e6, 999999.5, 1e-4, 5e-5,
};

#define FLOAT_VALUES (sizeof float_values / sizeof float_values[0])

/* Doubles with odd bit patterns: inf, nan, -nan. */
static double float_special(int i)
{
	static const uint64_t bits[] = {
		0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull,
		0xfff8000000000000ull, 0x7ff0000000000001ull, 0x000fffffffffffffull,
		0x0000000000000001ull, 0x8000000000000001ull, 0x3ff0000000000001ull,
		0x3fefffffffffffffull,
	};
	double d;

	if (i >= (int)(sizeof bits / sizeof bits[0]))
		return 0;
	memcpy(&d, &bits[i], sizeof d);
	return d;
}

/*
 * glibc's %#g loses a digit when rounding carries into a new one: 99.5 as
 * %#.2g prints "1.e+02" where C asks for "1.0e+02" (precision P, exponent
 * X = 2 after rounding, so %e style with precision P - 1). So %#g is
 * checked against glibc's %#e or %#f at the precision C's rule picks.
 */
static void compare_alt_g(const char *flags, const char *width, int prec, char conv, double d)
{
	char probe[64], want_fmt[32], got_fmt[32], want[OUT_MAX], got[OUT_MAX];
	int p = prec < 0 ? 6 : prec == 0 ? 1 : prec;
	bool upper = conv == 'G';

	snprintf(probe, sizeof probe, "%.*e", p - 1, d);
	char *e = strchr(probe, 'e');
	int x = e ? atoi(e + 1) : 0;

	if (!e)                 /* inf, nan: no digits to lose */
		snprintf(want_fmt, sizeof want_fmt, "%%%s%s%c", flags, width, conv);
	else if (p > x && x >= -4)
		snprintf(want_fmt, sizeof want_fmt, "%%%s%s.%d%c", flags, width, p - 1 - x,
			 upper ? 'F' : 'f');
	else
		snprintf(want_fmt, sizeof want_fmt, "%%%s%s.%d%c", flags, width, p - 1,
			 upper ? 'E' : 'e');
	if (prec < 0)
		snprintf(got_fmt, sizeof got_fmt, "%%%s%s%c", flags, width, conv);
	else
		snprintf(got_fmt, sizeof got_fmt, "%%%s%s.%d%c", flags, width, prec, conv);
	int n1 = snprintf(want, sizeof want, want_fmt, d);
	int n2 = ksnprintf(got, sizeof got, got_fmt, d);
	check_count++;
	if (n1 != n2 || strcmp(want, got) != 0) {
		print_error("%s of %a: want \"%s\" (libc %s), got \"%s\"\n", got_fmt, d, want,
			    want_fmt, got);
		fail();
	}
}

/* Fixed formats: precision 0..9 of f, e, g, upper case too. */
static void test_float_precisions(void **state)
{
	(void)state;
	char fmt[16];
	static const char convs[] = "feEgGF";

	for (size_t v = 0; v < sizeof float_values / sizeof float_values[0]; v++) {
		double d = float_values[v];

		CHECK("%f %e %g", d, d, d);
		CHECK("%F %E %G", d, d, d);
		for (int p = 0; p <= 9; p++)
			for (size_t c = 0; c < sizeof convs - 1; c++) {
				snprintf(fmt, sizeof fmt, "%%.%d%c", p, convs[c]);
				compare_runtime(fmt, d);
				if (convs[c] == 'g' || convs[c] == 'G') {
					compare_alt_g("#", "", p, convs[c], d);
					continue;
				}
				snprintf(fmt, sizeof fmt, "%%#.%d%c", p, convs[c]);
				compare_runtime(fmt, d);
			}
	}
	for (int i = 0; i < 10; i++) {
		double d = float_special(i);

		CHECK("%f %e %g %F %E %G", d, d, d, d, d, d);
		CHECK("[%10f] [%-10e] [%010g] [%+F] [% E] [%+010G]", d, d, d, d, d, d);
	}
}

/* %g switches between %e and %f at the documented exponents (-4 and the
 * precision), after rounding. */
static void test_float_g_switch(void **state)
{
	(void)state;
	static const double v[] = {
		0.0001, 0.00009999, 0.000099999, 0.0000999995, 0.00001, 123456.0, 999999.0,
		999999.5, 1000000.0, 1234567.0, 99.99, 99.999, 9.99999e14, 1e-5,
	};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		CHECK("%g %G %.0g %.1g %.2g %.3g %.10g %.17g", v[i], v[i], v[i], v[i], v[i],
		      v[i], v[i], v[i]);
		compare_alt_g("#", "", -1, 'g', v[i]);
		compare_alt_g("#", "", 0, 'g', v[i]);
		compare_alt_g("#", "", 3, 'G', v[i]);
		compare_alt_g("#", "", 10, 'g', v[i]);
		CHECK("%g %g", -v[i], 1 / v[i]);
	}
	/* Where Sluice follows C and glibc does not. */
	EXPECT("1.0e+02", "%#.2g", 99.5);
	EXPECT("1.00000e+06", "%#g", 999999.5);
	EXPECT("10.0", "%#.3g", 9.9951);
}

/* Every flag, width and precision in the generator tables over the values. */
static void test_generated_floats(void **state)
{
	(void)state;
	static const char convs[] = "feEgG";
	char fmt[32];
	int before = check_count;

	for (size_t c = 0; c < sizeof convs - 1; c++)
		for (size_t f = 0; f < sizeof gen_flags / sizeof gen_flags[0]; f++)
			for (size_t w = 0; w < sizeof gen_widths / sizeof gen_widths[0]; w++)
				for (size_t p = 0; p < sizeof gen_precs / sizeof gen_precs[0]; p++) {
					snprintf(fmt, sizeof fmt, "[%%%s%s%s%c]", gen_flags[f],
						 gen_widths[w], gen_precs[p], convs[c]);
					bool alt_g = strchr(gen_flags[f], '#') && (convs[c] | 0x20) == 'g';
					int prec = gen_precs[p][0] ? atoi(gen_precs[p] + 1) : -1;

					for (size_t v = 0; v < FLOAT_VALUES + 10; v++) {
						double d = v < FLOAT_VALUES ? float_values[v] :
							   float_special((int)(v - FLOAT_VALUES));

						if (alt_g)
							compare_alt_g(gen_flags[f], gen_widths[w], prec, convs[c], d);
						else
							compare_runtime(fmt, d);
					}
				}
	assert_true(check_count - before > 100000);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random bit patterns over every exponent, at random precisions. */
static void test_random_floats(void **state)
{
	(void)state;
	static const char convs[] = "eg";
	char fmt[16];

	for (int i = 0; i < 40000; i++) {
		uint64_t bits = rng_next();
		double d;

		memcpy(&d, &bits, sizeof d);
		snprintf(fmt, sizeof fmt, "%%.%d%c", (int)(rng_next() % 25), convs[i & 1]);
		compare_runtime(fmt, d);
		compare_runtime("%.17g", d);
		if ((bits >> 52 & 0x7ff) < 0x43f)       /* below 2^64: short enough for %f */
			compare_runtime("%.12f", d);
	}
}

/* The exact expansion of the smallest and largest doubles: hundreds of
 * digits, compared in full. */
static void test_float_exact_expansion(void **state)
{
	(void)state;
	static char want[4096], got[4096];
	const double v[] = { float_special(6), float_special(5), 1.7976931348623157e308,
			     2.2250738585072014e-308, 0.1 };

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		int n1 = snprintf(want, sizeof want, "%.1100f|%.800e|%.800g", v[i], v[i], v[i]);
		int n2 = ksnprintf(got, sizeof got, "%.1100f|%.800e|%.800g", v[i], v[i], v[i]);

		assert_int_equal(n1, n2);
		assert_string_equal(want, got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_and_percent),
		cmocka_unit_test(test_signed_decimal),
		cmocka_unit_test(test_unsigned_conversions),
		cmocka_unit_test(test_sign_flags_ignored_for_unsigned),
		cmocka_unit_test(test_zero_precision_zero_value),
		cmocka_unit_test(test_zero_flag_interactions),
		cmocka_unit_test(test_star_width_precision),
		cmocka_unit_test(test_length_modifiers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_chars),
		cmocka_unit_test(test_pointers),
		cmocka_unit_test(test_null_pointer),
		cmocka_unit_test(test_odd_formats),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_size_zero),
		cmocka_unit_test(test_vformat_sink),
		cmocka_unit_test(test_generated_integers),
		cmocka_unit_test(test_generated_strings),
		cmocka_unit_test(test_float_precisions),
		cmocka_unit_test(test_float_g_switch),
		cmocka_unit_test(test_generated_floats),
		cmocka_unit_test(test_random_floats),
		cmocka_unit_test(test_float_exact_expansion),
		cmocka_unit_test(test_string_precision_bounds_reading),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
