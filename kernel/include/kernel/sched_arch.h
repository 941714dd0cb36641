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

/* The IPC fast path's switch (kernel/arch/x86_64/fastswitch.S): prev
 * blocks with only its user frame on its kernel stack, so that a switch to
 * it later finishes its system call in ipc_fastpath_resume(); next runs
 * at once, straight into user mode if next_in_user (it blocked that way
 * too), else where it blocked. Interrupts off; never returns. */
__attribute__((noreturn)) void arch_fast_switch(thread_t *prev, thread_t *next, bool next_in_user);

/* Where a new thread begins, with interrupts off. */
__attribute__((noreturn)) void thread_start(void);

#endif
