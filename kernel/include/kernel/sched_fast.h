/*
 * The scheduler's half of the IPC fast path's switch, inline because it
 * runs on every blocking IPC (kernel/ipc/fastpath.c is its only user).
 */
#ifndef KERNEL_SCHED_FAST_H
#define KERNEL_SCHED_FAST_H

#include <kernel/sched_arch.h>
#include <kernel/thread.h>

extern uint64_t sched_fast_switches;  /* sched.c: switches made here */

/*
 * The current thread blocks (no timeout) with nothing on its kernel stack
 * but its user frame, and `next`, a blocked thread that may run at once
 * (the caller checked its priority), runs straight away without passing
 * the run queues, keeping the rest of its quantum: into user mode at once
 * if it blocked in the fast path too (next_in_user), else where it
 * blocked. Interrupts off; the caller has let go of its lock as
 * sched_block does. Never returns.
 */
static inline __attribute__((always_inline, noreturn)) void sched_fast_switch(thread_t *next,
									       bool next_in_user)
{
	thread_t *prev = sched_current;

	prev->state = THREAD_BLOCKED;
	next->state = THREAD_RUNNING;
	sched_fast_switches++;
	sched_current = next;
	/* sched_switched_from is set only if next resumes in the kernel,
	 * where finish_switch reads it (arch_fast_switch). */
	arch_fast_switch(prev, next, next_in_user);
}

#endif
