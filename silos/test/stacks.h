/*
 * Where a silo's thread stacks are (docs/abi.md, "Address space"): slot i's
 * 64 KiB stack ends at SL_STACK_TOP0 - i * SL_STACK_STRIDE, over an
 * unmapped guard page. Tests that aim at the unmapped page above or below
 * a stack find their own this way.
 */
#ifndef SILOS_TEST_STACKS_H
#define SILOS_TEST_STACKS_H

#include <stdint.h>
#include <sys/sluice.h>

#define SL_PAGE 4096ul
#define SL_STACK_TOP0 0x00007ff000000000ul          /* thread slot 0 (main) */
#define SL_STACK_STRIDE (64 * 1024ul + SL_PAGE)

/* The top of the calling thread's stack (this frame is in its top page),
 * or 0 if it is not where the layout puts it for slots first.. (then the
 * checks that use it would prove nothing). */
static inline uintptr_t thread_stack_top(unsigned first)
{
	volatile int here = 0;
	uintptr_t top = ((uintptr_t)&here + SL_PAGE) & ~(SL_PAGE - 1);

	for (unsigned slot = first; slot < SL_THREADS_MAX; slot++)
		if (top == SL_STACK_TOP0 - slot * SL_STACK_STRIDE)
			return top;
	return 0;
}

#endif
