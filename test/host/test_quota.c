/*
 * Host tests of the quota arithmetic (kernel/include/kernel/quota.h): a
 * charge past the limit takes nothing, no sum wraps, and what is given back
 * can be taken again.
 */
#include <kernel/quota.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void test_charge_up_to_the_limit(void **state)
{
	quota_t q = { .limit = 100 };

	(void)state;
	assert_int_equal(quota_charge(&q, 60), SL_OK);
	assert_int_equal(quota_charge(&q, 40), SL_OK);
	assert_int_equal(quota_used(&q), 100);
	assert_int_equal(quota_charge(&q, 1), SL_EQUOTA);
	assert_int_equal(quota_used(&q), 100);          /* nothing taken */
	assert_int_equal(quota_charge(&q, 0), SL_OK);   /* a full quota still takes 0 */
}

static void test_failed_charge_takes_nothing(void **state)
{
	quota_t q = { .limit = 100 };

	(void)state;
	assert_int_equal(quota_charge(&q, 30), SL_OK);
	assert_int_equal(quota_charge(&q, 71), SL_EQUOTA);
	assert_int_equal(quota_used(&q), 30);
	assert_int_equal(quota_charge(&q, 70), SL_OK);
}

/* Sums that would wrap 64 bits are refused, not wrapped into range. */
static void test_no_wraparound(void **state)
{
	quota_t q = { .limit = UINT64_MAX - 5 };

	(void)state;
	assert_int_equal(quota_charge(&q, UINT64_MAX), SL_EQUOTA);
	assert_int_equal(quota_charge(&q, 10), SL_OK);
	assert_int_equal(quota_charge(&q, UINT64_MAX - 10), SL_EQUOTA);
	assert_int_equal(quota_charge(&q, UINT64_MAX - 15), SL_OK);
	assert_int_equal(quota_used(&q), UINT64_MAX - 5);
	assert_int_equal(quota_charge(&q, 1), SL_EQUOTA);
}

static void test_zero_limit_takes_nothing(void **state)
{
	quota_t q = { .limit = 0 };

	(void)state;
	assert_int_equal(quota_charge(&q, 1), SL_EQUOTA);
	assert_int_equal(quota_charge(&q, 0), SL_OK);
	assert_int_equal(quota_used(&q), 0);
}

static void test_uncharge_gives_back(void **state)
{
	quota_t q = { .limit = 4 };

	(void)state;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 4; i++)
			assert_int_equal(quota_charge(&q, 1), SL_OK);
		assert_int_equal(quota_charge(&q, 1), SL_EQUOTA);
		quota_uncharge(&q, 4);
		assert_int_equal(quota_used(&q), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_charge_up_to_the_limit),
		cmocka_unit_test(test_failed_charge_takes_nothing),
		cmocka_unit_test(test_no_wraparound),
		cmocka_unit_test(test_zero_limit_takes_nothing),
		cmocka_unit_test(test_uncharge_gives_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
