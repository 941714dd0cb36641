/*
 * What the scheduler asks of the architecture.
 */
#ifndef KERNEL_SCHED_ARCH_H
#define KERNEL_SCHED_ARCH_H

#include <kernel/thread.h>

/* Lays out t's kernel stack so that the first switch to it calls
 * thread_start(). */
void arch_thread_setup(thread_t *t);

/* Switches from prev to next: address space, kernel stack for traps and
 * system calls, then registers. Returns when prev runs again. */
void arch_switch_to(thread_t *prev, thread_t *next);

/* Where a new thread begins, with interrupts off. */
__attribute__((noreturn)) void thread_start(void);

#endif
