/*
 * The data-structure half of wait queues and timeouts, with no scheduler
 * in it, so its rules are tested on the host:
 *
 *  - a node is on at most one queue, at most once: inserting a node that is
 *    already queued changes nothing;
 *  - a waiter is "blocked" from the moment it queues until something wakes
 *    it (wake, timeout or kill clears the flag); taking one waiter skips and
 *    drops nodes that are no longer blocked, so a wake is never spent on a
 *    waiter that has already gone;
 *  - the timeout list is ordered by deadline; expiring it hands back, in
 *    order, every node whose deadline has passed.
 *
 * Callers hold the lock that protects the queue (see waitq.h).
 */
#ifndef KERNEL_WAITQ_CORE_H
#define KERNEL_WAITQ_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wq_node {
	struct wq_node *next, *prev;
	struct wq_list *queue;  /* the list this node is on, or NULL */
	bool blocked;           /* waiting and not yet woken */
} wq_node_t;

typedef struct wq_list {
	wq_node_t *head, *tail;
} wq_list_t;

/* Appends n, which is on no list: the IPC fast path's thread, running
 * until now (a running thread's node is on no list). */
static inline void wq_append(wq_list_t *q, wq_node_t *n)
{
	n->queue = q;
	n->next = NULL;
	n->prev = q->tail;
	if (q->tail)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
}

/* Appends n; returns false (and does nothing) if n is already on a list.
 * Inline, with wq_remove: both sit on the IPC fast path. */
static inline bool wq_insert(wq_list_t *q, wq_node_t *n)
{
	if (n->queue)
		return false;
	wq_append(q, n);
	return true;
}

/* Removes n if it is on q; returns whether it was. */
static inline bool wq_remove(wq_list_t *q, wq_node_t *n)
{
	if (n->queue != q)
		return false;
	if (n->prev)
		n->prev->next = n->next;
	else
		q->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		q->tail = n->prev;
	n->next = n->prev = NULL;
	n->queue = NULL;
	return true;
}

/* wq_remove for the head of q (q not empty), with what the general form
 * tests known: the IPC fast path's receiver. */
static inline void wq_remove_head(wq_list_t *q)
{
	wq_node_t *n = q->head;

	q->head = n->next;
	if (n->next)
		n->next->prev = NULL;
	else
		q->tail = NULL;
	n->next = NULL;
	n->queue = NULL;
}

/* Takes the first blocked node off q, clears its flag and returns it.
 * Nodes before it that are no longer blocked are dropped from q. */
wq_node_t *wq_take_one(wq_list_t *q);

/* Timeouts: the same node shape, kept sorted by deadline. */
typedef struct tq_node {
	struct tq_node *next;
	uint64_t deadline;
	bool armed;
} tq_node_t;

typedef struct tq_list {
	tq_node_t *head;
} tq_list_t;

/* Arms n for deadline (re-arming moves it). */
void tq_arm(tq_list_t *q, tq_node_t *n, uint64_t deadline);

/* Disarms n if armed; returns whether it was. */
bool tq_disarm(tq_list_t *q, tq_node_t *n);

/* Pops the first node whose deadline is <= now, or NULL. */
tq_node_t *tq_expire_one(tq_list_t *q, uint64_t now);

#endif
