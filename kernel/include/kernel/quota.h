/*
 * Per-silo quotas: a limit and what is in use, in one unit (bytes, pages,
 * threads). Whoever causes a resource pays: the silo whose call makes an
 * object is charged at the moment it is made and uncharged when it goes.
 *
 * Charging is one compare-and-swap loop, so it needs no lock of its own and
 * stays correct when the callers hold different locks (or run on several
 * CPUs). Plain C over plain data: the host tests compile it natively.
 */
#ifndef KERNEL_QUOTA_H
#define KERNEL_QUOTA_H

#include <abi/errors.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct quota {
	uint64_t limit;
	uint64_t used;
} quota_t;

/* Takes n units, or returns SL_EQUOTA and takes nothing. */
static inline int quota_charge(quota_t *q, uint64_t n)
{
	uint64_t used = __atomic_load_n(&q->used, __ATOMIC_RELAXED);

	do {
		if (n > q->limit || used > q->limit - n)
			return SL_EQUOTA;
	} while (!__atomic_compare_exchange_n(&q->used, &used, used + n, false,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return SL_OK;
}

/* Gives back n units taken by quota_charge. */
static inline void quota_uncharge(quota_t *q, uint64_t n)
{
	__atomic_sub_fetch(&q->used, n, __ATOMIC_RELAXED);
}

static inline uint64_t quota_used(const quota_t *q)
{
	return __atomic_load_n(&q->used, __ATOMIC_RELAXED);
}

#endif
