/*
 * Host tests of the slot allocator (kernel/lib/slotmap.c) that numbers the
 * kernel-stack slots. Bitmaps are heap blocks of exactly slotmap_bytes(n)
 * bytes, so ASan catches any access past the last word.
 */
#include <kernel/slotmap.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

static uint64_t *make(slotmap_t *m, uint64_t count)
{
	uint64_t *bits = malloc(slotmap_bytes(count) ? slotmap_bytes(count) : 1);

	assert_non_null(bits);
	slotmap_init(m, bits, count);
	return bits;
}

/* Slots come out lowest first, each once, and then the map is full. */
static void test_all_slots_once_then_full(void **state)
{
	(void)state;
	for (uint64_t count = 1; count <= 130; count++) {
		slotmap_t m;
		uint64_t *bits = make(&m, count), s;

		for (uint64_t i = 0; i < count; i++) {
			assert_int_equal(slotmap_get(&m, &s), 0);
			assert_int_equal(s, i);
		}
		assert_int_equal(m.used, count);
		s = 12345;
		assert_int_equal(slotmap_get(&m, &s), -1);
		assert_int_equal(s, 12345);             /* untouched on failure */
		free(bits);
	}
}

/* A freed slot is the next one handed out, also below the hint. */
static void test_put_then_reuse_lowest(void **state)
{
	slotmap_t m;
	uint64_t *bits = make(&m, 200), s;

	(void)state;
	for (int i = 0; i < 200; i++)
		assert_int_equal(slotmap_get(&m, &s), 0);
	assert_int_equal(slotmap_put(&m, 150), 0);
	assert_int_equal(slotmap_put(&m, 3), 0);
	assert_int_equal(slotmap_get(&m, &s), 0);
	assert_int_equal(s, 3);
	assert_int_equal(slotmap_get(&m, &s), 0);
	assert_int_equal(s, 150);
	assert_int_equal(slotmap_get(&m, &s), -1);
	free(bits);
}

/* Double frees and slots out of range are refused and change nothing. */
static void test_bad_put_changes_nothing(void **state)
{
	slotmap_t m;
	uint64_t *bits = make(&m, 70), s;

	(void)state;
	assert_int_equal(slotmap_put(&m, 0), -1);       /* never taken */
	assert_int_equal(slotmap_get(&m, &s), 0);
	assert_int_equal(slotmap_put(&m, 70), -1);      /* past the end */
	assert_int_equal(slotmap_put(&m, UINT64_MAX), -1);
	assert_int_equal(slotmap_put(&m, s), 0);
	assert_int_equal(slotmap_put(&m, s), -1);       /* twice */
	assert_int_equal(m.used, 0);
	for (int i = 0; i < 70; i++)
		assert_int_equal(slotmap_get(&m, &s), 0);
	assert_int_equal(slotmap_get(&m, &s), -1);      /* 70 and no more */
	free(bits);
}

/* An empty map hands out nothing. */
static void test_empty_map(void **state)
{
	slotmap_t m;
	uint64_t *bits = make(&m, 0), s;

	(void)state;
	assert_int_equal(slotmap_get(&m, &s), -1);
	assert_int_equal(slotmap_put(&m, 0), -1);
	free(bits);
}

/* Random gets and puts agree with a plain array model. */
static void test_random_against_model(void **state)
{
	enum { N = 300 };
	slotmap_t m;
	uint64_t *bits = make(&m, N), s;
	unsigned char taken[N] = { 0 };
	unsigned seed = 12345;

	(void)state;
	for (int step = 0; step < 20000; step++) {
		seed = seed * 1103515245u + 12345u;
		uint64_t pick = (seed >> 8) % N;
		if (seed & 0x10000) {
			int r = slotmap_get(&m, &s);
			uint64_t lowest = N;
			for (uint64_t i = 0; i < N && lowest == N; i++)
				if (!taken[i])
					lowest = i;
			if (lowest == N) {
				assert_int_equal(r, -1);
			} else {
				assert_int_equal(r, 0);
				assert_int_equal(s, lowest);
				taken[s] = 1;
			}
		} else {
			assert_int_equal(slotmap_put(&m, pick), taken[pick] ? 0 : -1);
			taken[pick] = 0;
		}
	}
	free(bits);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_slots_once_then_full),
		cmocka_unit_test(test_put_then_reuse_lowest),
		cmocka_unit_test(test_bad_put_changes_nothing),
		cmocka_unit_test(test_empty_map),
		cmocka_unit_test(test_random_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
