/*
 * Host tests of kernel command line parsing (kernel/lib/cmdline.c).
 */
#include <kernel/cmdline.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define UNTOUCHED "untouched"

/* cmdline_get into a 32-byte buffer; checks the result and the text. */
static void check_value(const char *file, int line, const char *cmdline,
			 const char *key, const char *want)
{
	char buf[32];

	memset(buf, 'Z', sizeof buf);
	_assert_int_equal(cmdline_get(cmdline, key, buf, sizeof buf),
			  (int)strlen(want), file, line);
	_assert_string_equal(buf, want, file, line);
}

/* cmdline_get returns -1 and leaves the buffer alone. */
static void check_no_value(const char *file, int line, const char *cmdline,
			    const char *key)
{
	char buf[32] = UNTOUCHED;

	_assert_int_equal(cmdline_get(cmdline, key, buf, sizeof buf), -1, file, line);
	_assert_string_equal(buf, UNTOUCHED, file, line);
}

#define EXPECT_VALUE(cl, key, want) check_value(__FILE__, __LINE__, cl, key, want)
#define EXPECT_NO_VALUE(cl, key) check_no_value(__FILE__, __LINE__, cl, key)

/* Flags are found as whole words anywhere on the line. */
static void test_flags(void **state)
{
	(void)state;
	const char *cl = "selftest quiet console=ttyS0 verbose";

	assert_true(cmdline_has(cl, "selftest"));
	assert_true(cmdline_has(cl, "quiet"));
	assert_true(cmdline_has(cl, "verbose"));
	assert_false(cmdline_has(cl, "loud"));
	assert_true(cmdline_has("x", "x"));
}

/* key=value pairs: cmdline_has sees the key, cmdline_get copies the value. */
static void test_key_value(void **state)
{
	(void)state;
	const char *cl = "quiet test.fault=pagefault console=ttyS0 n=42";

	assert_true(cmdline_has(cl, "test.fault"));
	assert_true(cmdline_has(cl, "console"));
	EXPECT_VALUE(cl, "test.fault", "pagefault");
	EXPECT_VALUE(cl, "console", "ttyS0");
	EXPECT_VALUE(cl, "n", "42");
	EXPECT_VALUE("a=b=c", "a", "b=c");              /* value runs to the space */
}

/* A key matches whole words (or the part before '='), never a prefix,
 * suffix or value of another word. */
static void test_no_partial_match(void **state)
{
	(void)state;
	assert_false(cmdline_has("selftestx", "selftest"));
	assert_false(cmdline_has("xselftest", "selftest"));
	assert_false(cmdline_has("self", "selftest"));
	assert_false(cmdline_has("test.fault=pagefault", "test"));
	assert_false(cmdline_has("test.fault=pagefault", "test.faul"));
	assert_false(cmdline_has("mode=selftest", "selftest"));
	assert_false(cmdline_has("selftest_all=1", "selftest"));
	EXPECT_NO_VALUE("test.fault=pagefault", "test");
	EXPECT_NO_VALUE("testx=1", "test");
	EXPECT_NO_VALUE("key=test=1", "test");
	/* the right word is found after near misses */
	EXPECT_VALUE("testx=1 xtest=2 test.a=3 test=4", "test", "4");
	assert_true(cmdline_has("selftestx selftest", "selftest"));
}

/* A value is truncated to size - 1 and NUL-terminated; the full length is
 * returned; size 0 writes nothing. */
static void test_value_truncation(void **state)
{
	(void)state;
	const char *cl = "a=1 test.fault=pagefault b=2";
	char buf[16];

	memset(buf, 'Z', sizeof buf);
	assert_int_equal(cmdline_get(cl, "test.fault", buf, 4), 9);
	assert_string_equal(buf, "pag");
	assert_int_equal(buf[4], 'Z');

	memset(buf, 'Z', sizeof buf);
	assert_int_equal(cmdline_get(cl, "test.fault", buf, 9), 9);
	assert_string_equal(buf, "pagefaul");
	assert_int_equal(cmdline_get(cl, "test.fault", buf, 10), 9);
	assert_string_equal(buf, "pagefault");

	memset(buf, 'Z', sizeof buf);
	assert_int_equal(cmdline_get(cl, "test.fault", buf, 1), 9);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'Z');

	memset(buf, 'Z', sizeof buf);
	assert_int_equal(cmdline_get(cl, "test.fault", buf, 0), 9);
	assert_int_equal(buf[0], 'Z');
	assert_int_equal(cmdline_get(cl, "test.fault", NULL, 0), 9);
}

/* An absent key gives -1 and false. */
static void test_absent_key(void **state)
{
	(void)state;
	const char *cl = "quiet a=1";

	EXPECT_NO_VALUE(cl, "b");
	EXPECT_NO_VALUE(cl, "loud");
	assert_false(cmdline_has(cl, "b"));
	assert_int_equal(cmdline_get(cl, "b", NULL, 0), -1);
}

/* Runs of spaces, leading and trailing, separate words like one space. */
static void test_multiple_spaces(void **state)
{
	(void)state;
	const char *cl = "   a=1    flag   b=two  ";

	EXPECT_VALUE(cl, "a", "1");
	EXPECT_VALUE(cl, "b", "two");
	assert_true(cmdline_has(cl, "flag"));
	assert_true(cmdline_has(cl, "a"));
	assert_false(cmdline_has(cl, ""));
	assert_false(cmdline_has("     ", "a"));
}

/* An empty command line holds nothing; an empty key matches nothing. */
static void test_empty(void **state)
{
	(void)state;
	assert_false(cmdline_has("", "selftest"));
	EXPECT_NO_VALUE("", "a");
	assert_false(cmdline_has("a =x", ""));
	EXPECT_NO_VALUE("=x", "");
}

/* A key with an empty value: present, length 0, buffer "". */
static void test_empty_value(void **state)
{
	(void)state;
	assert_true(cmdline_has("x key= y", "key"));
	EXPECT_VALUE("x key= y", "key", "");
	EXPECT_VALUE("key=", "key", "");
}

/* A NULL command line (no command line tag) is treated as empty. */
static void test_null_cmdline(void **state)
{
	(void)state;
	assert_false(cmdline_has(NULL, "selftest"));
	EXPECT_NO_VALUE(NULL, "a");
}

/* A flag has no value: cmdline_get returns -1 for it. */
static void test_flag_has_no_value(void **state)
{
	(void)state;
	EXPECT_NO_VALUE("selftest quiet", "selftest");
	EXPECT_NO_VALUE("quiet", "quiet");
}

/* A pair is found even when the same word appears earlier as a flag. */
static void test_pair_after_flag(void **state)
{
	(void)state;
	EXPECT_VALUE("debug debug=2", "debug", "2");
}

/* Splits a copy of text; checks the count and every argument. */
static void check_split(const char *file, int line, const char *text, int max,
			int want_argc, const char *const *want)
{
	char buf[256], *argv[16];

	strcpy(buf, text);
	_assert_int_equal(cmdline_split_args(buf, argv, max), want_argc, file, line);
	for (int i = 0; i < (want_argc < 0 ? max : want_argc); i++)
		_assert_string_equal(argv[i], want[i], file, line);
}

#define EXPECT_SPLIT(text, max, n, ...)                                          \
	check_split(__FILE__, __LINE__, text, max, n, (const char *const[]){ __VA_ARGS__ })

/* Module arguments as GRUB writes them: single spaces, "..." around an
 * argument with spaces, a backslash before \ ' and ". */
static void test_split_args(void **state)
{
	(void)state;
	EXPECT_SPLIT("a b", 15, 2, "a", "b");
	EXPECT_SPLIT("\"b c\" d", 15, 2, "b c", "d");
	EXPECT_SPLIT("\"j  k\"", 15, 1, "j  k");
	EXPECT_SPLIT("d\\\"e f\\\\g h\\'i", 15, 3, "d\"e", "f\\g", "h'i");
	EXPECT_SPLIT("x:y ns=publish,lookup", 15, 2, "x:y", "ns=publish,lookup");
	/* no argument is lost: "" is one empty argument, two spaces enclose one */
	EXPECT_SPLIT("", 15, 1, "");
	EXPECT_SPLIT("a  b", 15, 3, "a", "", "b");
	EXPECT_SPLIT(" ", 15, 2, "", "");
	EXPECT_SPLIT("a ", 15, 2, "a", "");
	/* past max: -1, the first max arguments split */
	EXPECT_SPLIT("1 2 3", 2, -1, "1", "2");
	EXPECT_SPLIT("1 2", 2, 2, "1", "2");
	/* a lone backslash at the end stays */
	EXPECT_SPLIT("a\\", 15, 1, "a\\");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_key_value),
		cmocka_unit_test(test_no_partial_match),
		cmocka_unit_test(test_value_truncation),
		cmocka_unit_test(test_absent_key),
		cmocka_unit_test(test_multiple_spaces),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_empty_value),
		cmocka_unit_test(test_null_cmdline),
		cmocka_unit_test(test_flag_has_no_value),
		cmocka_unit_test(test_pair_after_flag),
		cmocka_unit_test(test_split_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
