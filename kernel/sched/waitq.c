/*
 * Wait queues over the scheduler. See <kernel/waitq.h> for the rules.
 */
#include <abi/errors.h>
#include <kernel/thread.h>
#include <kernel/waitq.h>
#include <stddef.h>

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

void waitq_init(waitq_t *wq, const char *name, spinlock_t *shared)
{
	*wq = (waitq_t){ .own_lock = SPINLOCK_INIT(name) };
	wq->lock = shared ? shared : &wq->own_lock;
}

int waitq_wait_locked(waitq_t *wq, waitq_cond_t cond, void *arg, uint64_t timeout)
{
	thread_t *self = thread_current();
	uint64_t deadline = timeout ? sched_ticks() + timeout : 0;
	int result = SL_OK;

	self->timed_out = false;
	while (!cond(arg)) {
		if (self->killed) {
			result = SL_EKILLED;
			break;
		}
		if (self->timed_out) {
			result = SL_ETIMEDOUT;
			break;
		}
		self->wait.blocked = true;
		wq_insert(&wq->list, &self->wait);      /* no-op if still queued */
		sched_block(wq->lock, deadline);
	}
	wq_remove(&wq->list, &self->wait);
	self->wait.blocked = false;
	return result;
}

int waitq_wake_one_locked(waitq_t *wq)
{
	wq_node_t *n = wq_take_one(&wq->list);

	if (!n)
		return 0;
	sched_wake(container_of(n, thread_t, wait));
	return 1;
}

int waitq_wake_all_locked(waitq_t *wq)
{
	int woken = 0;

	while (waitq_wake_one_locked(wq))
		woken++;
	return woken;
}

int waitq_wake_one(waitq_t *wq)
{
	spin_lock(wq->lock);
	int n = waitq_wake_one_locked(wq);
	spin_unlock(wq->lock);
	return n;
}

int waitq_wake_all(waitq_t *wq)
{
	spin_lock(wq->lock);
	int n = waitq_wake_all_locked(wq);
	spin_unlock(wq->lock);
	return n;
}
