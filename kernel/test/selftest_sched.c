/*
 * Self-tests of threads, the scheduler and wait queues, run as kernel
 * threads with the timer preempting them.
 */
#include <abi/errors.h>
#include <stddef.h>
#include <kernel/selftest.h>
#include <kernel/thread.h>
#include <kernel/waitq.h>

/* ---- bounded buffer stress: producers and consumers over two queues ---- */

#define PRODUCERS 2
#define CONSUMERS 2
#define ITEMS_PER_PRODUCER 50000
#define RING 8

static struct {
	spinlock_t lock;                /* guards everything below */
	waitq_t not_full, not_empty;
	uint64_t ring[RING];
	unsigned head, count;
	int producers_left;
	uint64_t consumed, duplicates, out_of_order, bad;
	uint8_t seen[PRODUCERS][ITEMS_PER_PRODUCER / 8 + 1];
	uint64_t wakes;
} pc;

static bool ring_has_room(void *arg)
{
	(void)arg;
	return pc.count < RING;
}

static bool ring_has_item_or_done(void *arg)
{
	(void)arg;
	return pc.count > 0 || pc.producers_left == 0;
}

static void producer(void *arg)
{
	uint64_t id = (uint64_t)(uintptr_t)arg;

	for (uint64_t seq = 0; seq < ITEMS_PER_PRODUCER; seq++) {
		spin_lock(&pc.lock);
		waitq_wait_locked(&pc.not_full, ring_has_room, NULL, 0);
		pc.ring[(pc.head + pc.count++) % RING] = id << 32 | seq;
		pc.wakes += waitq_wake_one_locked(&pc.not_empty);
		spin_unlock(&pc.lock);
	}
	spin_lock(&pc.lock);
	if (--pc.producers_left == 0)
		waitq_wake_all_locked(&pc.not_empty);
	spin_unlock(&pc.lock);
}

/* Checks one item: a known producer, a fresh sequence number, and for
 * this consumer, each producer's numbers increasing. */
static void consume(uint64_t item, int64_t *last)
{
	uint64_t id = item >> 32, seq = item & 0xffffffff;

	if (id >= PRODUCERS || seq >= ITEMS_PER_PRODUCER) {
		pc.bad++;
		return;
	}
	if (pc.seen[id][seq / 8] & 1 << (seq % 8))
		pc.duplicates++;
	pc.seen[id][seq / 8] |= (uint8_t)(1 << (seq % 8));
	if ((int64_t)seq <= last[id])
		pc.out_of_order++;
	last[id] = (int64_t)seq;
	pc.consumed++;
}

static void consumer(void *arg)
{
	int64_t last[PRODUCERS] = { -1, -1 };

	(void)arg;
	spin_lock(&pc.lock);
	for (;;) {
		waitq_wait_locked(&pc.not_empty, ring_has_item_or_done, NULL, 0);
		if (pc.count == 0)
			break;          /* producers done and ring drained */
		uint64_t item = pc.ring[pc.head];
		pc.head = (pc.head + 1) % RING;
		pc.count--;
		pc.wakes += waitq_wake_one_locked(&pc.not_full);
		consume(item, last);
	}
	spin_unlock(&pc.lock);
}

/* A thread that does not block: the timer must preempt it for the others
 * to run, so preemption lands in the middle of the hand-over traffic. It
 * stops after SPIN_PREEMPTIONS preemptions to keep the test short. */
#define SPIN_PREEMPTIONS 2000
static volatile bool stop_spinning;

static void spinner(void *arg)
{
	uint64_t until = sched_preemptions() + SPIN_PREEMPTIONS;

	(void)arg;
	while (!stop_spinning && sched_preemptions() < until)
		;
}

static uint64_t missing_items(void)
{
	uint64_t missing = 0;

	for (int p = 0; p < PRODUCERS; p++)
		for (uint32_t s = 0; s < ITEMS_PER_PRODUCER; s++)
			missing += !(pc.seen[p][s / 8] & 1 << (s % 8));
	return missing;
}

static void selftest_producer_consumer(tap_t *t)
{
	thread_t *th[PRODUCERS + CONSUMERS];
	uint64_t switches = sched_context_switches(), start = sched_ticks();
	uint64_t preempted = sched_preemptions();
	int code, joined = 0;

	pc.lock = (spinlock_t)SPINLOCK_INIT("ring");
	waitq_init(&pc.not_full, "not_full", &pc.lock);
	waitq_init(&pc.not_empty, "not_empty", &pc.lock);
	pc.producers_left = PRODUCERS;
	for (int i = 0; i < CONSUMERS; i++)
		th[i] = thread_create("consumer", consumer, NULL, PRIO_DEFAULT);
	for (int i = 0; i < PRODUCERS; i++)
		th[CONSUMERS + i] = thread_create("producer", producer, (void *)(uintptr_t)i, PRIO_DEFAULT);
	thread_t *spin = thread_create("spinner", spinner, NULL, PRIO_DEFAULT);
	for (int i = 0; i < PRODUCERS + CONSUMERS; i++)
		joined += th[i] && thread_join(th[i], &code) == SL_OK;
	stop_spinning = true;
	joined += spin && thread_join(spin, &code) == SL_OK;

	tap_check(t, joined == PRODUCERS + CONSUMERS + 1,
		  "waitq: %d producers, %d consumers and a spinner joined",
		  PRODUCERS, CONSUMERS);
	tap_check(t, pc.consumed == PRODUCERS * ITEMS_PER_PRODUCER && missing_items() == 0,
		  "waitq: %llu items handed over through a ring of %d, none lost",
		  (unsigned long long)pc.consumed, RING);
	tap_check(t, pc.duplicates == 0 && pc.bad == 0, "waitq: no item duplicated or corrupted");
	tap_check(t, pc.out_of_order == 0, "waitq: each producer's order kept");
	tap_check(t, sched_context_switches() - switches > 1000 && sched_preemptions() > preempted,
		  "waitq: %llu context switches, %llu by timer preemption, %llu wakeups, %llu ticks",
		  (unsigned long long)(sched_context_switches() - switches),
		  (unsigned long long)(sched_preemptions() - preempted),
		  (unsigned long long)pc.wakes, (unsigned long long)(sched_ticks() - start));
}

/* ---- wait-queue rules: timeout, kill while blocked, wake skips the dead ---- */

static waitq_t rules_wq;
static volatile bool never;
static volatile int woken_flag;

static bool is_never(void *arg)
{
	(void)arg;
	return never;
}

static bool flag_set(void *arg)
{
	return *(volatile int *)arg != 0;
}

static void wait_forever(void *arg)
{
	(void)arg;
	spin_lock(rules_wq.lock);
	int r = waitq_wait_locked(&rules_wq, is_never, NULL, 0);
	spin_unlock(rules_wq.lock);
	thread_exit(r);
}

static volatile int go;

static void wait_for_go(void *arg)
{
	(void)arg;
	spin_lock(rules_wq.lock);
	int r = waitq_wait_locked(&rules_wq, flag_set, (void *)&go, 0);
	woken_flag = 1;
	spin_unlock(rules_wq.lock);
	thread_exit(r);
}

static void selftest_waitq_rules(tap_t *t)
{
	int code = 1;

	waitq_init(&rules_wq, "rules", NULL);
	spin_lock(rules_wq.lock);
	uint64_t start = sched_ticks();
	int r = waitq_wait_locked(&rules_wq, is_never, NULL, 5);
	spin_unlock(rules_wq.lock);
	tap_check(t, r == SL_ETIMEDOUT && sched_ticks() - start >= 5 && !rules_wq.list.head,
		  "waitq: a 5-tick timeout gives SL_ETIMEDOUT after %llu ticks, queue empty",
		  (unsigned long long)(sched_ticks() - start));

	thread_t *first = thread_create("victim", wait_forever, NULL, PRIO_DEFAULT);
	thread_t *second = thread_create("waiter", wait_for_go, NULL, PRIO_DEFAULT);
	sched_sleep(3);                 /* both are now blocked, victim first */
	thread_kill(first);
	tap_check(t, thread_join(first, &code) == SL_OK && code == SL_EKILLED,
		  "waitq: a thread killed while blocked leaves with SL_EKILLED");
	spin_lock(rules_wq.lock);
	go = 1;
	int woke = waitq_wake_one_locked(&rules_wq);
	spin_unlock(rules_wq.lock);
	tap_check(t, woke == 1 && thread_join(second, &code) == SL_OK && code == SL_OK && woken_flag,
		  "waitq: wake_one after the kill reaches the next waiter");
	tap_check(t, rules_wq.list.head == NULL, "waitq: no stale entry left in the queue");
}

/* ---- threads: sleep, join, exit codes ---- */

static void exit_with(void *arg)
{
	thread_exit((int)(intptr_t)arg);
}

static void selftest_threads(tap_t *t)
{
	uint64_t start = sched_ticks();
	int code = 0, ok = 0;

	sched_sleep(10);
	tap_check(t, sched_ticks() - start >= 10, "sched: sleep(10) slept %llu ticks",
		  (unsigned long long)(sched_ticks() - start));

	thread_t *th[20];
	int records = thread_count_in_use();
	uint64_t slots = thread_stack_slots_in_use();
	for (int i = 0; i < 20; i++)
		th[i] = thread_create("exit", exit_with, (void *)(intptr_t)(100 + i), PRIO_DEFAULT);
	tap_check(t, th[19] && thread_join(th[19], &code) == SL_OK && code == 119 &&
		     th[0] && thread_join(th[0], &code) == SL_OK && code == 100,
		  "sched: joining threads in any order");
	for (int i = 1; i < 19; i++)
		ok += th[i] && thread_join(th[i], &code) == SL_OK && code == 100 + i;
	tap_check(t, ok == 18, "sched: 20 threads joined with their own exit codes");
	/* A joined thread's record is gone (records are not in a table any
	 * more), so what can be checked is that nothing is left over. */
	tap_check(t, thread_count_in_use() == records && thread_stack_slots_in_use() == slots,
		  "sched: every record and kernel-stack slot is back after the joins (%d, %llu)",
		  thread_count_in_use(), (unsigned long long)thread_stack_slots_in_use());
	tap_check(t, thread_join(thread_current(), &code) == SL_EINVAL,
		  "sched: joining oneself is SL_EINVAL");
}

void selftest_sched(tap_t *t)
{
	selftest_threads(t);
	selftest_waitq_rules(t);
	selftest_producer_consumer(t);
}
