/*
 * Wait queues, the kernel's blocking primitive.
 *
 * A waiter passes a condition that is evaluated with the queue's lock held,
 * and re-evaluated after every wakeup; a waker changes the state the
 * condition reads under the same lock before it wakes. So a wakeup is never
 * lost between the check and the sleep, and a spurious wakeup only costs a
 * re-check. Wakes skip waiters that already left (timed out or killed). A
 * thread is on at most one queue at a time, at most once.
 *
 * Lock order: waitq lock, then the scheduler. Never hold two waitq locks.
 */
#ifndef KERNEL_WAITQ_H
#define KERNEL_WAITQ_H

#include <kernel/spinlock.h>
#include <kernel/waitq_core.h>

typedef struct waitq {
	spinlock_t *lock;       /* own_lock, or one shared with other queues */
	spinlock_t own_lock;
	wq_list_t list;
} waitq_t;

/* Sets wq up with its own lock, or with `shared` when the state its
 * waiters test is guarded by a lock other queues use too (a bounded
 * buffer's "not full" and "not empty" queues share the buffer's lock). */
void waitq_init(waitq_t *wq, const char *name, spinlock_t *shared);

typedef bool (*waitq_cond_t)(void *arg);

/*
 * Blocks until cond(arg) is true. Entered and left with wq->lock held; the
 * lock is released only while the thread is switched away. timeout is in
 * ticks, 0 for none. Returns SL_OK when cond held, SL_ETIMEDOUT, or
 * SL_EKILLED if the thread was killed while waiting.
 */
int waitq_wait_locked(waitq_t *wq, waitq_cond_t cond, void *arg, uint64_t timeout);

/* Wake one blocked waiter / every blocked waiter; wq->lock must be held.
 * Return how many threads were woken. */
int waitq_wake_one_locked(waitq_t *wq);
int waitq_wake_all_locked(waitq_t *wq);

/* The same, taking and releasing wq->lock themselves. */
int waitq_wake_one(waitq_t *wq);
int waitq_wake_all(waitq_t *wq);

#endif
