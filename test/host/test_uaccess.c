/*
 * Host tests of the user-range checks behind copy_to_user and
 * copy_from_user (kernel/silo/uaccess.c), over a fake page table.
 */
#include <kernel/uaccess.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define TOP 0x0000800000000000ull
#define R 0u
#define W 1u                    /* VM_WRITE */
#define U 4u                    /* VM_USER */

/* Pages 0x10000..0x13fff: user rw, user rw, user read-only, kernel rw.
 * 0x14000 and above, and below 0x10000: unmapped. The page just below
 * TOP: user rw. */
typedef struct fake {
	unsigned lookups;
} fake_t;

static bool fake_lookup(const void *ctx, uint64_t va, unsigned *rights)
{
	fake_t *f = (fake_t *)(uintptr_t)ctx;

	f->lookups++;
	assert_int_equal(va % UACCESS_PAGE, 0);
	if (va == TOP - UACCESS_PAGE) {
		*rights = U | W;
		return true;
	}
	switch (va) {
	case 0x10000: case 0x11000: *rights = U | W; return true;
	case 0x12000: *rights = U | R; return true;
	case 0x13000: *rights = W; return true;
	default: return false;
	}
}

static bool ok(uint64_t u, size_t n, unsigned need)
{
	fake_t f = { 0 };

	return uaccess_pages_ok(u, n, TOP, need, fake_lookup, &f);
}

static void test_inside_one_page(void **state)
{
	(void)state;
	assert_true(ok(0x10000, 16, U | W));
	assert_true(ok(0x10ff0, 16, U | W));            /* ends exactly at the page end */
	assert_true(ok(0x12000, 4096, U));              /* read-only is fine for reading */
}

static void test_straddling(void **state)
{
	(void)state;
	assert_true(ok(0x10ff8, 16, U | W));            /* rw into rw */
	assert_false(ok(0x11ff8, 16, U | W));           /* rw into read-only: no write */
	assert_true(ok(0x11ff8, 16, U));                /* but a read */
	assert_false(ok(0x12ff8, 16, U));               /* into a kernel page */
	assert_false(ok(0x13ff8, 16, U));               /* into an unmapped page */
	assert_false(ok(0xfff8, 16, U));                /* from an unmapped page */
	assert_false(ok(0x10000, 0x4001, U));           /* the last byte is unmapped */
}

static void test_every_page_looked_up(void **state)
{
	fake_t f = { 0 };

	(void)state;
	assert_true(uaccess_pages_ok(0x10001, 0x1fff, TOP, U, fake_lookup, &f));
	assert_int_equal(f.lookups, 2);
	f.lookups = 0;
	assert_true(uaccess_pages_ok(0x10000, 0x2001, TOP, U, fake_lookup, &f));
	assert_int_equal(f.lookups, 3);
}

static void test_range_limits(void **state)
{
	fake_t f = { 0 };

	(void)state;
	assert_true(ok(TOP - 16, 16, U | W));           /* ends at the top */
	assert_false(ok(TOP - 16, 17, U | W));          /* crosses it */
	assert_false(ok(TOP, 1, U));
	assert_false(ok(0xffffffff80100000ull, 8, U));  /* kernel half */
	assert_false(ok(0x10000, (size_t)-1, U));       /* wraps */
	assert_false(ok((uint64_t)-8, 16, U));          /* wraps */
	/* Nothing to copy: no page is looked up, only the range matters. */
	assert_true(uaccess_pages_ok(0x5000, 0, TOP, U | W, fake_lookup, &f));
	assert_false(uaccess_pages_ok(TOP + 1, 0, TOP, U, fake_lookup, &f));
	assert_int_equal(f.lookups, 0);
	assert_true(uaccess_range_ok(TOP, 0, TOP));
	assert_false(uaccess_range_ok(~0ull, 2, TOP));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inside_one_page),
		cmocka_unit_test(test_straddling),
		cmocka_unit_test(test_every_page_looked_up),
		cmocka_unit_test(test_range_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
