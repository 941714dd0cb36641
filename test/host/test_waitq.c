/*
 * Host tests of the wait-queue and timeout lists (kernel/sched/waitq_core.c):
 * the list rules one by one, the way the kernel combines them (a waiter on
 * a wait list and the timeout list at once, see waitq_wait_locked and
 * sched_tick), and a randomized run checked against a model made of arrays.
 */
#include <kernel/waitq_core.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define NODES 16

/* Two wait lists, a timeout list, and NODES nodes of each kind. */
static struct {
	wq_list_t q[2];
	wq_node_t n[NODES];
	tq_list_t tq;
	tq_node_t t[NODES];
} w;

static int reset(void **state)
{
	(void)state;
	memset(&w, 0, sizeof w);
	return 0;
}

/* Checks that q holds exactly nodes idx[0..count) in that order, with
 * consistent next/prev/queue links and head/tail. */
static void expect_wq(const wq_list_t *q, const int *idx, int count)
{
	const wq_node_t *prev = NULL, *p = q->head;

	for (int k = 0; k < count; k++) {
		assert_non_null(p);
		assert_ptr_equal(p, &w.n[idx[k]]);
		assert_ptr_equal(p->queue, q);
		assert_ptr_equal(p->prev, prev);
		prev = p;
		p = p->next;
	}
	assert_null(p);
	assert_ptr_equal(q->tail, prev);
}

#define EXPECT_WQ(q, ...)                                                    \
	expect_wq((q), (int[]){ __VA_ARGS__ },                               \
		  (int)(sizeof((int[]){ __VA_ARGS__ }) / sizeof(int)))
#define EXPECT_WQ_EMPTY(q) expect_wq((q), NULL, 0)

/* Checks that the timeout list holds exactly idx[0..count), in order,
 * all armed, with non-decreasing deadlines. */
static void expect_tq(const int *idx, int count)
{
	const tq_node_t *p = w.tq.head;

	for (int k = 0; k < count; k++) {
		assert_non_null(p);
		assert_ptr_equal(p, &w.t[idx[k]]);
		assert_true(p->armed);
		if (p->next)
			assert_true(p->deadline <= p->next->deadline);
		p = p->next;
	}
	assert_null(p);
}

#define EXPECT_TQ(...)                                                       \
	expect_tq((int[]){ __VA_ARGS__ },                                    \
		  (int)(sizeof((int[]){ __VA_ARGS__ }) / sizeof(int)))
#define EXPECT_TQ_EMPTY() expect_tq(NULL, 0)

/* Inserts node i on q as a blocked waiter. */
static void wait_on(wq_list_t *q, int i)
{
	w.n[i].blocked = true;
	assert_true(wq_insert(q, &w.n[i]));
}

static int idx_of(const wq_node_t *n)
{
	assert_non_null(n);
	return (int)(n - w.n);
}

/* ---- wait lists ---------------------------------------------------------- */

/* Inserting appends at the tail and records the list in the node. */
static void test_insert_appends(void **state)
{
	(void)state;
	EXPECT_WQ_EMPTY(&w.q[0]);
	for (int i = 0; i < 4; i++)
		assert_true(wq_insert(&w.q[0], &w.n[i]));
	EXPECT_WQ(&w.q[0], 0, 1, 2, 3);
	assert_null(w.n[4].queue);
}

/* No double enqueue: inserting a node already on the same list changes
 * nothing, wherever it is in the list. */
static void test_no_double_enqueue_same_list(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		assert_true(wq_insert(&w.q[0], &w.n[i]));
	for (int i = 0; i < 3; i++)
		assert_false(wq_insert(&w.q[0], &w.n[i]));
	EXPECT_WQ(&w.q[0], 0, 1, 2);
}

/* A node is on at most one list: inserting it on another list fails and
 * leaves both lists unchanged. */
static void test_no_insert_on_second_list(void **state)
{
	(void)state;
	assert_true(wq_insert(&w.q[0], &w.n[0]));
	assert_true(wq_insert(&w.q[0], &w.n[1]));
	assert_true(wq_insert(&w.q[1], &w.n[2]));
	assert_false(wq_insert(&w.q[1], &w.n[0]));
	assert_false(wq_insert(&w.q[1], &w.n[1]));
	assert_false(wq_insert(&w.q[0], &w.n[2]));
	EXPECT_WQ(&w.q[0], 0, 1);
	EXPECT_WQ(&w.q[1], 2);
}

/* Removing from the head, the middle and the tail keeps the links right. */
static void test_remove_head_middle_tail(void **state)
{
	(void)state;
	for (int i = 0; i < 5; i++)
		assert_true(wq_insert(&w.q[0], &w.n[i]));
	assert_true(wq_remove(&w.q[0], &w.n[2]));       /* middle */
	EXPECT_WQ(&w.q[0], 0, 1, 3, 4);
	assert_true(wq_remove(&w.q[0], &w.n[0]));       /* head */
	EXPECT_WQ(&w.q[0], 1, 3, 4);
	assert_true(wq_remove(&w.q[0], &w.n[4]));       /* tail */
	EXPECT_WQ(&w.q[0], 1, 3);
	assert_true(wq_remove(&w.q[0], &w.n[3]));
	assert_true(wq_remove(&w.q[0], &w.n[1]));       /* only node */
	EXPECT_WQ_EMPTY(&w.q[0]);
	for (int i = 0; i < 5; i++) {
		assert_null(w.n[i].queue);
		assert_null(w.n[i].next);
		assert_null(w.n[i].prev);
	}
}

/* The fast path's forms: removing the head (of several, then of one)
 * and appending a node on no list leave the list and the node as the
 * general forms would. */
static void test_fast_forms(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		assert_true(wq_insert(&w.q[0], &w.n[i]));
	wq_remove_head(&w.q[0]);
	EXPECT_WQ(&w.q[0], 1, 2);
	assert_null(w.n[0].queue);
	assert_null(w.n[0].next);
	assert_null(w.n[1].prev);
	wq_remove_head(&w.q[0]);
	wq_remove_head(&w.q[0]);
	EXPECT_WQ_EMPTY(&w.q[0]);
	assert_null(w.n[2].queue);
	assert_true(wq_insert(&w.q[0], &w.n[1]));   /* the general form works after */
	EXPECT_WQ(&w.q[0], 1);
	assert_true(wq_remove(&w.q[0], &w.n[1]));

	wq_append(&w.q[1], &w.n[3]);                /* to an empty list, then behind */
	wq_append(&w.q[1], &w.n[4]);
	EXPECT_WQ(&w.q[1], 3, 4);
	assert_false(wq_insert(&w.q[0], &w.n[4]));  /* on a list, as wq_insert sees it */
	assert_true(wq_remove(&w.q[1], &w.n[3]));
	assert_true(wq_remove(&w.q[1], &w.n[4]));
	EXPECT_WQ_EMPTY(&w.q[1]);
}

/* Removing a node that is not on that list returns false and changes
 * nothing: never queued, queued elsewhere, or already removed. */
static void test_remove_not_on_list(void **state)
{
	(void)state;
	assert_true(wq_insert(&w.q[0], &w.n[0]));
	assert_true(wq_insert(&w.q[0], &w.n[1]));
	assert_true(wq_insert(&w.q[1], &w.n[2]));
	assert_false(wq_remove(&w.q[0], &w.n[5]));
	assert_false(wq_remove(&w.q[0], &w.n[2]));
	assert_false(wq_remove(&w.q[1], &w.n[0]));
	assert_true(wq_remove(&w.q[0], &w.n[1]));
	assert_false(wq_remove(&w.q[0], &w.n[1]));
	EXPECT_WQ(&w.q[0], 0);
	EXPECT_WQ(&w.q[1], 2);
}

/* A removed node can be inserted again, on any list. */
static void test_reinsert_after_remove(void **state)
{
	(void)state;
	assert_true(wq_insert(&w.q[0], &w.n[0]));
	assert_true(wq_insert(&w.q[0], &w.n[1]));
	assert_true(wq_remove(&w.q[0], &w.n[0]));
	assert_true(wq_insert(&w.q[1], &w.n[0]));
	assert_true(wq_remove(&w.q[0], &w.n[1]));
	assert_true(wq_insert(&w.q[0], &w.n[1]));
	EXPECT_WQ(&w.q[0], 1);
	EXPECT_WQ(&w.q[1], 0);
}

/* take_one wakes blocked waiters in FIFO order, clearing each flag, and
 * returns NULL once the list is empty. */
static void test_take_one_fifo(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++)
		wait_on(&w.q[0], i);
	for (int i = 0; i < 4; i++) {
		wq_node_t *n = wq_take_one(&w.q[0]);

		assert_int_equal(idx_of(n), i);
		assert_false(n->blocked);
		assert_null(n->queue);
	}
	EXPECT_WQ_EMPTY(&w.q[0]);
	assert_null(wq_take_one(&w.q[0]));
}

/* Dead waiter skipped: take_one drops the non-blocked nodes before the
 * first blocked one and leaves everything after it in place. */
static void test_take_one_dead_waiter_skipped(void **state)
{
	(void)state;
	for (int i = 0; i < 6; i++)
		wait_on(&w.q[0], i);
	w.n[0].blocked = false;
	w.n[1].blocked = false;
	w.n[3].blocked = false;         /* dead, but after the live node 2 */

	assert_int_equal(idx_of(wq_take_one(&w.q[0])), 2);
	EXPECT_WQ(&w.q[0], 3, 4, 5);
	assert_null(w.n[0].queue);
	assert_null(w.n[1].queue);
	assert_false(w.n[0].blocked);   /* dropped nodes keep their flag */

	assert_int_equal(idx_of(wq_take_one(&w.q[0])), 4);
	EXPECT_WQ(&w.q[0], 5);
	assert_null(w.n[3].queue);
}

/* take_one over only dead waiters returns NULL and empties the list. */
static void test_take_one_all_dead(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		assert_true(wq_insert(&w.q[0], &w.n[i]));      /* blocked clear */
	assert_null(wq_take_one(&w.q[0]));
	EXPECT_WQ_EMPTY(&w.q[0]);
	for (int i = 0; i < 3; i++)
		assert_null(w.n[i].queue);
	assert_null(wq_take_one(&w.q[1]));              /* never used */
}

/* take_one works on its own list only. */
static void test_take_one_other_list_untouched(void **state)
{
	(void)state;
	wait_on(&w.q[0], 0);
	wait_on(&w.q[1], 1);
	w.n[2].blocked = false;
	assert_true(wq_insert(&w.q[1], &w.n[2]));
	assert_int_equal(idx_of(wq_take_one(&w.q[0])), 0);
	assert_null(wq_take_one(&w.q[0]));
	EXPECT_WQ(&w.q[1], 1, 2);
	assert_true(w.n[1].blocked);
}

/* ---- timeout list -------------------------------------------------------- */

/* tq_arm keeps the list sorted by deadline; equal deadlines stay in
 * arming order. */
static void test_tq_sorted_and_stable(void **state)
{
	(void)state;
	tq_arm(&w.tq, &w.t[0], 30);
	tq_arm(&w.tq, &w.t[1], 10);
	tq_arm(&w.tq, &w.t[2], 20);
	tq_arm(&w.tq, &w.t[3], 10);
	tq_arm(&w.tq, &w.t[4], 40);
	tq_arm(&w.tq, &w.t[5], 20);
	tq_arm(&w.tq, &w.t[6], 0);
	EXPECT_TQ(6, 1, 3, 2, 5, 0, 4);
	assert_int_equal(w.t[2].deadline, 20);
}

/* Re-arming moves a node (it is never on the list twice); re-arming with
 * the same deadline puts it after the others with that deadline. */
static void test_tq_rearm_moves(void **state)
{
	(void)state;
	tq_arm(&w.tq, &w.t[0], 10);
	tq_arm(&w.tq, &w.t[1], 20);
	tq_arm(&w.tq, &w.t[2], 30);
	tq_arm(&w.tq, &w.t[0], 25);     /* head to the middle */
	EXPECT_TQ(1, 0, 2);
	tq_arm(&w.tq, &w.t[2], 5);      /* tail to the head */
	EXPECT_TQ(2, 1, 0);
	tq_arm(&w.tq, &w.t[1], 99);     /* middle to the tail */
	EXPECT_TQ(2, 0, 1);
	tq_arm(&w.tq, &w.t[3], 25);
	tq_arm(&w.tq, &w.t[0], 25);     /* same deadline: now after 3 */
	EXPECT_TQ(2, 3, 0, 1);
	assert_int_equal(w.t[0].deadline, 25);
	assert_int_equal(w.t[1].deadline, 99);
}

/* tq_disarm removes an armed node from anywhere and reports whether it
 * was armed. */
static void test_tq_disarm(void **state)
{
	(void)state;
	for (int i = 0; i < 5; i++)
		tq_arm(&w.tq, &w.t[i], 10 * (uint64_t)i);
	assert_true(tq_disarm(&w.tq, &w.t[2]));
	EXPECT_TQ(0, 1, 3, 4);
	assert_true(tq_disarm(&w.tq, &w.t[0]));
	EXPECT_TQ(1, 3, 4);
	assert_true(tq_disarm(&w.tq, &w.t[4]));
	EXPECT_TQ(1, 3);
	assert_false(tq_disarm(&w.tq, &w.t[4]));        /* already disarmed */
	assert_false(tq_disarm(&w.tq, &w.t[7]));        /* never armed */
	EXPECT_TQ(1, 3);
	assert_false(w.t[2].armed);
	assert_true(tq_disarm(&w.tq, &w.t[1]));
	assert_true(tq_disarm(&w.tq, &w.t[3]));
	EXPECT_TQ_EMPTY();
}

/* tq_expire_one pops in deadline order, only while deadline <= now. */
static void test_tq_expire_order(void **state)
{
	(void)state;
	tq_arm(&w.tq, &w.t[0], 7);
	tq_arm(&w.tq, &w.t[1], 5);
	tq_arm(&w.tq, &w.t[2], 5);
	tq_arm(&w.tq, &w.t[3], 9);
	assert_null(tq_expire_one(&w.tq, 4));
	EXPECT_TQ(1, 2, 0, 3);
	assert_ptr_equal(tq_expire_one(&w.tq, 5), &w.t[1]);     /* deadline == now */
	assert_false(w.t[1].armed);
	assert_ptr_equal(tq_expire_one(&w.tq, 5), &w.t[2]);
	assert_null(tq_expire_one(&w.tq, 5));
	assert_ptr_equal(tq_expire_one(&w.tq, 100), &w.t[0]);
	assert_ptr_equal(tq_expire_one(&w.tq, 100), &w.t[3]);
	assert_null(tq_expire_one(&w.tq, 100));
	assert_null(tq_expire_one(&w.tq, UINT64_MAX));
	EXPECT_TQ_EMPTY();
	assert_false(tq_disarm(&w.tq, &w.t[3]));        /* expired = disarmed */
}

/* ---- the kernel's combination (waitq_wait_locked + sched_tick) ----------- */

/* A waiter i starts waiting on q, with a timeout if deadline != 0, the way
 * waitq_wait_locked + sched_block do it. Returns wq_insert's answer. */
static bool k_wait(wq_list_t *q, int i, uint64_t deadline)
{
	bool inserted;

	w.n[i].blocked = true;
	inserted = wq_insert(q, &w.n[i]);
	if (deadline)
		tq_arm(&w.tq, &w.t[i], deadline);
	return inserted;
}

/* sched_tick: each expired waiter loses its flag but stays queued. */
static int k_tick(uint64_t now, bool timed_out[NODES])
{
	tq_node_t *t;
	int expired = 0;

	while ((t = tq_expire_one(&w.tq, now))) {
		int i = (int)(t - w.t);

		timed_out[i] = true;
		w.n[i].blocked = false;
		expired++;
	}
	return expired;
}

/* waitq_wake_one + sched_wake: the woken waiter's timeout is disarmed.
 * Returns the waiter's index, or -1. */
static int k_wake_one(wq_list_t *q)
{
	wq_node_t *n = wq_take_one(q);

	if (!n)
		return -1;
	tq_disarm(&w.tq, &w.t[idx_of(n)]);
	return idx_of(n);
}

/* The end of waitq_wait_locked (after sched_block's disarm). */
static void k_wait_done(wq_list_t *q, int i)
{
	tq_disarm(&w.tq, &w.t[i]);
	wq_remove(q, &w.n[i]);
	w.n[i].blocked = false;
}

/* Timeout: a timed-out waiter stays queued but a wake skips it and goes
 * to the next live waiter, so the wake is not lost. */
static void test_timeout_dead_waiter_skipped(void **state)
{
	(void)state;
	bool timed_out[NODES] = { 0 };

	assert_true(k_wait(&w.q[0], 0, 5));
	assert_true(k_wait(&w.q[0], 1, 0));
	assert_true(k_wait(&w.q[0], 2, 50));
	assert_int_equal(k_tick(4, timed_out), 0);
	assert_int_equal(k_tick(5, timed_out), 1);
	assert_true(timed_out[0]);
	EXPECT_WQ(&w.q[0], 0, 1, 2);    /* still queued, flag clear */
	assert_false(w.n[0].blocked);

	assert_int_equal(k_wake_one(&w.q[0]), 1);
	EXPECT_WQ(&w.q[0], 2);
	assert_null(w.n[0].queue);
	k_wait_done(&w.q[0], 0);        /* the timed-out waiter leaves: no-op */
	EXPECT_WQ(&w.q[0], 2);

	assert_int_equal(k_wake_one(&w.q[0]), 2);
	EXPECT_TQ_EMPTY();              /* the wake disarmed its timeout */
	assert_int_equal(k_tick(50, timed_out), 0);
	assert_false(timed_out[2]);
	assert_int_equal(k_wake_one(&w.q[0]), -1);
}

/* Timeout: a timed-out waiter that leaves before any wake removes itself,
 * and a later waiter gets the next wake. */
static void test_timeout_waiter_leaves_then_new_waiter_woken(void **state)
{
	(void)state;
	bool timed_out[NODES] = { 0 };

	assert_true(k_wait(&w.q[0], 0, 3));
	assert_int_equal(k_tick(3, timed_out), 1);
	k_wait_done(&w.q[0], 0);
	EXPECT_WQ_EMPTY(&w.q[0]);
	assert_true(k_wait(&w.q[0], 1, 0));
	assert_true(k_wait(&w.q[1], 0, 9));     /* waits again elsewhere */
	assert_int_equal(k_wake_one(&w.q[0]), 1);
	assert_int_equal(k_wake_one(&w.q[1]), 0);
	EXPECT_TQ_EMPTY();
}

/* Timeout: when every waiter has timed out, a wake finds no one and the
 * list is left empty; a waiter arriving later is woken by the next wake. */
static void test_timeout_all_dead_then_new_waiter(void **state)
{
	(void)state;
	bool timed_out[NODES] = { 0 };

	for (int i = 0; i < 4; i++)
		assert_true(k_wait(&w.q[0], i, 10 + (uint64_t)i));
	assert_int_equal(k_tick(20, timed_out), 4);
	EXPECT_WQ(&w.q[0], 0, 1, 2, 3);
	assert_int_equal(k_wake_one(&w.q[0]), -1);
	EXPECT_WQ_EMPTY(&w.q[0]);
	assert_true(k_wait(&w.q[0], 5, 0));
	assert_int_equal(k_wake_one(&w.q[0]), 5);
}

/* Dead waiter skipped: wake-all wakes every live waiter exactly once and
 * none of the timed-out or killed ones. */
static void test_dead_waiter_skipped_wake_all(void **state)
{
	(void)state;
	bool timed_out[NODES] = { 0 }, woken[NODES] = { 0 };
	int i, count = 0;

	for (i = 0; i < NODES; i++)
		assert_true(k_wait(&w.q[0], i, i % 3 == 0 ? 7 : 0));
	assert_int_equal(k_tick(7, timed_out), 6);      /* 0, 3, ..., 15 */
	w.n[4].blocked = false;                         /* killed, left queued */
	assert_true(wq_remove(&w.q[0], &w.n[5]));       /* killed, removed */
	w.n[5].blocked = false;

	while ((i = k_wake_one(&w.q[0])) >= 0) {
		assert_false(woken[i]);
		woken[i] = true;
		count++;
	}
	assert_int_equal(count, NODES - 6 - 2);
	for (i = 0; i < NODES; i++)
		assert_int_equal(woken[i], i % 3 != 0 && i != 4 && i != 5);
	EXPECT_WQ_EMPTY(&w.q[0]);
}

/* No double enqueue: a waiter that re-waits after a spurious wakeup while
 * still queued keeps its one place, and is woken once. */
static void test_no_double_enqueue_on_rewait(void **state)
{
	(void)state;
	assert_true(k_wait(&w.q[0], 0, 0));
	assert_true(k_wait(&w.q[0], 1, 0));
	assert_true(k_wait(&w.q[0], 2, 0));
	/* 1 wakes spuriously (not through the list) and waits again. */
	assert_false(k_wait(&w.q[0], 1, 0));
	assert_false(k_wait(&w.q[0], 1, 0));
	EXPECT_WQ(&w.q[0], 0, 1, 2);
	assert_int_equal(k_wake_one(&w.q[0]), 0);
	assert_int_equal(k_wake_one(&w.q[0]), 1);
	assert_int_equal(k_wake_one(&w.q[0]), 2);
	assert_int_equal(k_wake_one(&w.q[0]), -1);
}

/* No double enqueue: re-waiting with a timeout moves the timeout rather
 * than adding a second one, and it expires once. */
static void test_no_double_enqueue_rewait_with_timeout(void **state)
{
	(void)state;
	bool timed_out[NODES] = { 0 };

	assert_true(k_wait(&w.q[0], 0, 10));
	assert_true(k_wait(&w.q[0], 1, 12));
	assert_false(k_wait(&w.q[0], 0, 10));   /* spurious wakeup, re-wait */
	EXPECT_WQ(&w.q[0], 0, 1);
	EXPECT_TQ(0, 1);
	assert_false(k_wait(&w.q[0], 0, 15));   /* and again, later deadline */
	EXPECT_TQ(1, 0);
	assert_int_equal(k_tick(12, timed_out), 1);
	assert_true(timed_out[1]);
	assert_int_equal(k_tick(15, timed_out), 1);
	assert_true(timed_out[0]);
	assert_null(tq_expire_one(&w.tq, UINT64_MAX));
	assert_int_equal(k_wake_one(&w.q[0]), -1);
	EXPECT_WQ_EMPTY(&w.q[0]);
}

/* Timeout: a waiter woken before its deadline does not time out later. */
static void test_timeout_disarmed_by_wake(void **state)
{
	(void)state;
	bool timed_out[NODES] = { 0 };

	assert_true(k_wait(&w.q[0], 0, 10));
	assert_true(k_wait(&w.q[0], 1, 10));
	assert_int_equal(k_wake_one(&w.q[0]), 0);
	k_wait_done(&w.q[0], 0);
	assert_int_equal(k_tick(10, timed_out), 1);
	assert_false(timed_out[0]);
	assert_true(timed_out[1]);
	assert_int_equal(k_wake_one(&w.q[0]), -1);
}

/* ---- randomized model ---------------------------------------------------- */

/* The reference: arrays of indices, searched linearly. */
static struct {
	int list[2][NODES], len[2];
	int on[NODES];                  /* list index, or -1 */
	bool blocked[NODES];
	int tq[NODES], tqlen;
	bool armed[NODES];
	uint64_t deadline[NODES];
} m;

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)((rng_state >> 11) % n);
}

static void m_del(int *a, int *len, int pos)
{
	memmove(&a[pos], &a[pos + 1], (size_t)(*len - pos - 1) * sizeof *a);
	(*len)--;
}

static int m_find(const int *a, int len, int x)
{
	for (int k = 0; k < len; k++)
		if (a[k] == x)
			return k;
	return -1;
}

static bool m_insert(int l, int i)
{
	if (m.on[i] >= 0)
		return false;
	m.list[l][m.len[l]++] = i;
	m.on[i] = l;
	return true;
}

static bool m_remove(int l, int i)
{
	if (m.on[i] != l)
		return false;
	m_del(m.list[l], &m.len[l], m_find(m.list[l], m.len[l], i));
	m.on[i] = -1;
	return true;
}

static int m_take_one(int l)
{
	while (m.len[l]) {
		int i = m.list[l][0];

		m_remove(l, i);
		if (m.blocked[i]) {
			m.blocked[i] = false;
			return i;
		}
	}
	return -1;
}

static bool m_disarm(int i)
{
	int pos = m_find(m.tq, m.tqlen, i);

	if (pos < 0)
		return false;
	m_del(m.tq, &m.tqlen, pos);
	m.armed[i] = false;
	return true;
}

static void m_arm(int i, uint64_t deadline)
{
	int pos = 0;

	m_disarm(i);
	while (pos < m.tqlen && m.deadline[m.tq[pos]] <= deadline)
		pos++;
	memmove(&m.tq[pos + 1], &m.tq[pos], (size_t)(m.tqlen - pos) * sizeof *m.tq);
	m.tq[pos] = i;
	m.tqlen++;
	m.deadline[i] = deadline;
	m.armed[i] = true;
}

static int m_expire_one(uint64_t now)
{
	int i;

	if (!m.tqlen || m.deadline[m.tq[0]] > now)
		return -1;
	i = m.tq[0];
	m_del(m.tq, &m.tqlen, 0);
	m.armed[i] = false;
	return i;
}

/* Compares every list, link and flag with the model. */
static void expect_model(void)
{
	for (int l = 0; l < 2; l++)
		expect_wq(&w.q[l], m.list[l], m.len[l]);
	expect_tq(m.tq, m.tqlen);
	for (int i = 0; i < NODES; i++) {
		assert_int_equal(w.n[i].blocked, m.blocked[i]);
		assert_ptr_equal(w.n[i].queue, m.on[i] < 0 ? NULL : &w.q[m.on[i]]);
		assert_int_equal(w.t[i].armed, m.armed[i]);
		if (m.armed[i])
			assert_int_equal(w.t[i].deadline, m.deadline[i]);
	}
}

/* Thousands of random operations on both kinds of list, expiry clearing
 * the waiter's flag as sched_tick does, agree with the model after each. */
static void test_random_against_model(void **state)
{
	(void)state;
	uint64_t now = 0;
	int hits[7] = { 0 };

	rng_state = 0x5eed5eed12345678ull;
	memset(&m, 0, sizeof m);
	for (int i = 0; i < NODES; i++)
		m.on[i] = -1;

	for (int step = 0; step < 6000; step++) {
		int op = (int)rnd(100), i = (int)rnd(NODES), l = (int)rnd(2);
		int got, want;

		if (op < 25) {                          /* insert */
			want = m_insert(l, i);
			got = wq_insert(&w.q[l], &w.n[i]);
			assert_int_equal(got, want);
			hits[0] += got;
		} else if (op < 37) {                   /* remove */
			want = m_remove(l, i);
			got = wq_remove(&w.q[l], &w.n[i]);
			assert_int_equal(got, want);
			hits[1] += got;
		} else if (op < 55) {                   /* set / clear blocked */
			bool b = rnd(4) != 0;

			m.blocked[i] = b;
			w.n[i].blocked = b;
			hits[2]++;
		} else if (op < 70) {                   /* take one */
			wq_node_t *n = wq_take_one(&w.q[l]);

			want = m_take_one(l);
			got = n ? idx_of(n) : -1;
			assert_int_equal(got, want);
			hits[3] += got >= 0;
		} else if (op < 82) {                   /* arm */
			uint64_t d = now + rnd(24);

			m_arm(i, d);
			tq_arm(&w.tq, &w.t[i], d);
			hits[4]++;
		} else if (op < 88) {                   /* disarm */
			want = m_disarm(i);
			got = tq_disarm(&w.tq, &w.t[i]);
			assert_int_equal(got, want);
			hits[5] += got;
		} else {                                /* tick: expire one */
			tq_node_t *t;

			now += rnd(4);
			t = tq_expire_one(&w.tq, now);
			want = m_expire_one(now);
			got = t ? (int)(t - w.t) : -1;
			assert_int_equal(got, want);
			if (got >= 0) {
				m.blocked[got] = false;
				w.n[got].blocked = false;
				hits[6]++;
			}
		}
		expect_model();
	}
	for (int k = 0; k < 7; k++)
		assert_true(hits[k] > 50);      /* every operation really ran */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_insert_appends, reset),
		cmocka_unit_test_setup(test_no_double_enqueue_same_list, reset),
		cmocka_unit_test_setup(test_no_insert_on_second_list, reset),
		cmocka_unit_test_setup(test_remove_head_middle_tail, reset),
		cmocka_unit_test_setup(test_fast_forms, reset),
		cmocka_unit_test_setup(test_remove_not_on_list, reset),
		cmocka_unit_test_setup(test_reinsert_after_remove, reset),
		cmocka_unit_test_setup(test_take_one_fifo, reset),
		cmocka_unit_test_setup(test_take_one_dead_waiter_skipped, reset),
		cmocka_unit_test_setup(test_take_one_all_dead, reset),
		cmocka_unit_test_setup(test_take_one_other_list_untouched, reset),
		cmocka_unit_test_setup(test_tq_sorted_and_stable, reset),
		cmocka_unit_test_setup(test_tq_rearm_moves, reset),
		cmocka_unit_test_setup(test_tq_disarm, reset),
		cmocka_unit_test_setup(test_tq_expire_order, reset),
		cmocka_unit_test_setup(test_timeout_dead_waiter_skipped, reset),
		cmocka_unit_test_setup(test_timeout_waiter_leaves_then_new_waiter_woken, reset),
		cmocka_unit_test_setup(test_timeout_all_dead_then_new_waiter, reset),
		cmocka_unit_test_setup(test_dead_waiter_skipped_wake_all, reset),
		cmocka_unit_test_setup(test_no_double_enqueue_on_rewait, reset),
		cmocka_unit_test_setup(test_no_double_enqueue_rewait_with_timeout, reset),
		cmocka_unit_test_setup(test_timeout_disarmed_by_wake, reset),
		cmocka_unit_test_setup(test_random_against_model, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
