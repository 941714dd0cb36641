/*
 * Host tests of the anonymous-region search (kernel/silo/mem_range.c) over
 * a bitmap of mapped pages, counting how many pages each search looks at.
 */
#include <kernel/mem_range.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define BASE 0x100000000000ull
#define NPAGES 4096
#define VA(i) (BASE + (uint64_t)(i) * MEM_PAGE)
#define END VA(NPAGES)

typedef struct {
	bool mapped[NPAGES];
	uint64_t looks;
} region_t;

static bool used(void *ctx, uint64_t va)
{
	region_t *r = ctx;

	assert_true(va >= BASE && va < END && va % MEM_PAGE == 0);
	r->looks++;
	return r->mapped[(va - BASE) / MEM_PAGE];
}

static void set(region_t *r, uint64_t from, uint64_t n, bool v)
{
	for (uint64_t i = from; i < from + n; i++)
		r->mapped[i] = v;
}

static void test_empty_region_takes_the_start(void **state)
{
	static region_t r;
	uint64_t va = 0;

	(void)state;
	assert_true(mem_range_find(used, &r, BASE, END, 16, &va));
	assert_int_equal(va, BASE);
	assert_int_equal(r.looks, 16);
	assert_true(mem_range_find(used, &r, BASE, END, NPAGES, &va));
	assert_false(mem_range_find(used, &r, BASE, END, NPAGES + 1, &va));
	assert_false(mem_range_find(used, &r, BASE, END, 0, &va));
	assert_false(mem_range_find(used, &r, END, END, 1, &va));
	assert_false(mem_range_find(used, &r, END + MEM_PAGE, END, 1, &va));
}

static void test_finds_the_lowest_hole_that_fits(void **state)
{
	static region_t r;
	uint64_t va = 0;

	(void)state;
	set(&r, 0, 100, true);
	set(&r, 103, 10, true);         /* hole of 3 at 100 */
	set(&r, 120, 1, true);          /* hole of 7 at 113 */
	assert_true(mem_range_find(used, &r, BASE, END, 3, &va));
	assert_int_equal(va, VA(100));
	assert_true(mem_range_find(used, &r, BASE, END, 5, &va));
	assert_int_equal(va, VA(113));
	assert_true(mem_range_find(used, &r, BASE, END, 8, &va));
	assert_int_equal(va, VA(121));
	assert_true(mem_range_find(used, &r, VA(101), END, 2, &va));
	assert_int_equal(va, VA(101));
}

static void test_full_region_fails(void **state)
{
	static region_t r;
	uint64_t va = 0;

	(void)state;
	set(&r, 0, NPAGES, true);
	r.mapped[NPAGES - 1] = false;
	assert_false(mem_range_find(used, &r, BASE, END, 2, &va));
	assert_true(mem_range_find(used, &r, BASE, END, 1, &va));
	assert_int_equal(va, VA(NPAGES - 1));
}

/* Every page is looked at most once: a region of one mapped page in every
 * 64 costs about NPAGES looks for a run that does not fit, not 64 * NPAGES. */
static void test_each_page_looked_at_once(void **state)
{
	static region_t r;
	uint64_t va = 0;

	(void)state;
	for (int i = 63; i < NPAGES; i += 64)
		r.mapped[i] = true;
	assert_false(mem_range_find(used, &r, BASE, END, 64, &va));
	assert_true(r.looks <= NPAGES);
	r.looks = 0;
	assert_true(mem_range_find(used, &r, BASE, END, 63, &va));
	assert_int_equal(va, BASE);
	assert_int_equal(r.looks, 63);
}

static void test_all(void **state)
{
	static region_t r;

	(void)state;
	set(&r, 10, 5, true);
	assert_true(mem_range_all(used, &r, VA(10), 5, true));
	assert_false(mem_range_all(used, &r, VA(10), 6, true));
	assert_false(mem_range_all(used, &r, VA(9), 2, true));
	assert_true(mem_range_all(used, &r, VA(0), 10, false));
	assert_false(mem_range_all(used, &r, VA(0), 11, false));
	r.looks = 0;
	assert_false(mem_range_all(used, &r, VA(10), 1000, false));
	assert_int_equal(r.looks, 1);   /* stops at the first page that differs */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_region_takes_the_start),
		cmocka_unit_test(test_finds_the_lowest_hole_that_fits),
		cmocka_unit_test(test_full_region_fails),
		cmocka_unit_test(test_each_page_looked_at_once),
		cmocka_unit_test(test_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
