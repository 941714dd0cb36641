/*
 * The scheduler: run queues per priority, round-robin within a level, a
 * timeout list for sleeps and timed waits, and the idle thread (the boot
 * flow, once it has finished starting the system).
 *
 * All state here is guarded by the interrupt flag (one CPU): every entry
 * point disables interrupts or is called with them disabled.
 */
#include <abi/errors.h>
#include <arch/arch.h>
#include <kernel/sched_arch.h>
#include <kernel/thread.h>
#include <stddef.h>

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

typedef struct run_queue {
	thread_t *head, *tail;
} run_queue_t;

static run_queue_t run_queues[PRIO_COUNT];
static unsigned ready_levels;           /* bit p: run_queues[p] is not empty */
static tq_list_t timeouts;
thread_t *sched_current;                /* thread_current() */
static thread_t *idle;
thread_t *sched_switched_from;          /* for the thread that resumes */
bool sched_need_resched;              /* a switch is owed: at the next interrupt or system-call exit */
static uint64_t ticks;
static uint64_t sched_switches;         /* by schedule() */
uint64_t sched_fast_switches;           /* by sched_fast_switch (<kernel/sched_fast.h>) */
static uint64_t preemptions;
static thread_t *handoff;               /* runs next, skipping the run queues */

thread_t *thread_boot_init(void);       /* thread.c */

uint64_t sched_ticks(void)
{
	return ticks;
}

uint64_t sched_context_switches(void)
{
	return sched_switches + sched_fast_switches;
}

static void rq_push(thread_t *t)
{
	run_queue_t *q = &run_queues[t->prio];

	t->rq_next = NULL;
	if (q->tail)
		q->tail->rq_next = t;
	else
		q->head = t;
	q->tail = t;
	ready_levels |= 1u << t->prio;
}

static thread_t *rq_pop(void)
{
	if (!ready_levels)
		return NULL;
	int p = __builtin_ctz(ready_levels);   /* the highest level with a thread */
	run_queue_t *q = &run_queues[p];
	thread_t *t = q->head;

	q->head = t->rq_next;
	if (!q->head) {
		q->tail = NULL;
		ready_levels &= ~(1u << p);
	}
	t->rq_next = NULL;
	return t;
}

static bool rq_has_at_or_above(int prio)
{
	return ready_levels & ((2u << prio) - 1);
}

/* Runs in every thread right after a switch lands in it. */
static void finish_switch(void)
{
	thread_t *prev = sched_switched_from;

	if (prev && prev->state == THREAD_ZOMBIE)
		thread_reap_stack(prev);
}

/* The thread to run next, with a fresh quantum: the handoff partner if
 * there is one, else the first ready thread, else idle. Interrupts off. */
static inline thread_t *pick_next(void)
{
	thread_t *next = handoff ? handoff : rq_pop();

	handoff = NULL;
	if (!next)
		next = idle;
	sched_need_resched = false;
	next->ticks_left = SCHED_QUANTUM;
	return next;
}

/* Picks the next thread and switches to it. Interrupts must be off. */
static void schedule(void)
{
	thread_t *prev = sched_current;

	if (prev->state == THREAD_RUNNING && prev != idle) {
		prev->state = THREAD_READY;
		rq_push(prev);
	}
	thread_t *next = pick_next();
	next->state = THREAD_RUNNING;
	if (next == prev)
		return;
	sched_switches++;
	sched_current = next;
	sched_switched_from = prev;
	arch_switch_to(prev, next);
	finish_switch();
}

void thread_start(void)
{
	thread_t *self = sched_current;

	finish_switch();
	arch_irq_enable();
	self->entry(self->arg);
	thread_exit(0);
}

static void idle_main(void *arg)
{
	(void)arg;
	for (;;)
		arch_wait_for_interrupt();      /* switches happen on the way out */
}

void sched_init(void)
{
	sched_current = thread_boot_init();
	sched_current->state = THREAD_RUNNING;
	sched_current->ticks_left = SCHED_QUANTUM;
	idle = thread_alloc("idle", PRIO_IDLE);
	if (!idle)
		panic("sched_init: no memory for the idle thread");
	idle->prio = PRIO_IDLE;
	idle->detached = true;
	idle->entry = idle_main;
	arch_thread_setup(idle);
}

void sched_make_ready(thread_t *t)
{
	irq_state_t s = arch_irq_save();

	t->state = THREAD_READY;
	rq_push(t);
	if (t->prio < sched_current->prio)
		sched_need_resched = true;
	arch_irq_restore(s);
}

/* Every waker clears t->wait.blocked first (wq_take_one, timeouts,
 * thread_kill, ipc_finish, the IPC fast path): a node still marked
 * blocked is a blocked thread, which the fast path relies on. */
static void wake_check(const thread_t *t)
{
	if (t->wait.blocked)
		panic("sched: %s woken while still marked blocked on a wait queue", t->name);
}

void sched_wake(thread_t *t)
{
	if (t->state != THREAD_BLOCKED)
		return;
	wake_check(t);
	if (t->timeout.armed)           /* a timed wait; IPC's are not */
		tq_disarm(&timeouts, &t->timeout);
	t->state = THREAD_READY;
	rq_push(t);
	if (t->prio < sched_current->prio || sched_current == idle)
		sched_need_resched = true;
}

/*
 * Like sched_wake, for a caller that is about to block: t runs next
 * without going through the run queues (the IPC fast path). Falls back to
 * sched_wake when t would not run next anyway.
 */
void sched_wake_handoff(thread_t *t)
{
	if (t->state != THREAD_BLOCKED)
		return;
	wake_check(t);
	if (handoff || t->prio > sched_current->prio) {
		sched_wake(t);
		return;
	}
	tq_disarm(&timeouts, &t->timeout);
	t->state = THREAD_READY;
	handoff = t;
	sched_need_resched = true;    /* never stranded, even if the caller runs on */
}


/* When the current thread blocks in the fast path with no partner to
 * run, the next thread comes from the run queues, as in schedule(). */
thread_t *sched_fast_pick(void)
{
	return pick_next();
}

/* A thread that blocked in the fast path runs again after a switch. */
void sched_resumed(void)
{
	finish_switch();
}

void sched_block(spinlock_t *held, uint64_t deadline)
{
	irq_state_t saved = held->saved;        /* held => interrupts are off */

	held->held = 0;
	sched_current->state = THREAD_BLOCKED;
	if (deadline)
		tq_arm(&timeouts, &sched_current->timeout, deadline);
	schedule();
	tq_disarm(&timeouts, &sched_current->timeout);
	if (held->held)
		panic("sched_block: %s taken while its owner slept", held->name);
	held->held = 1;
	held->saved = saved;
}

void sched_yield(void)
{
	irq_state_t s = arch_irq_save();

	schedule();
	arch_irq_restore(s);
}

int sched_sleep(uint64_t n)
{
	spinlock_t none = SPINLOCK_INIT("sleep");

	if (n == 0) {
		sched_yield();
		return SL_OK;
	}
	spin_lock(&none);
	sched_current->timed_out = false;
	while (!sched_current->timed_out && !sched_current->killed)
		sched_block(&none, ticks + n);
	spin_unlock(&none);
	return sched_current->killed ? SL_EKILLED : SL_OK;
}

void sched_tick(void)
{
	tq_node_t *n;

	ticks++;
	while ((n = tq_expire_one(&timeouts, ticks))) {
		thread_t *t = container_of(n, thread_t, timeout);

		t->timed_out = true;
		t->wait.blocked = false;        /* wakes now skip it */
		sched_wake(t);
	}
	if (sched_current != idle && --sched_current->ticks_left <= 0 &&
	    rq_has_at_or_above(sched_current->prio))
		sched_need_resched = true;
	if (sched_current == idle && rq_has_at_or_above(PRIO_IDLE))
		sched_need_resched = true;
}

void sched_preempt_point(void)
{
	if (sched_need_resched) {
		preemptions += sched_current->state == THREAD_RUNNING && sched_current != idle;
		schedule();
	}
}

uint64_t sched_preemptions(void)
{
	return preemptions;
}

/* Removes a thread from whatever it waits on and lets it run to its end. */
void thread_kill(thread_t *t)
{
	irq_state_t s = arch_irq_save();

	t->killed = true;
	if (t->state == THREAD_BLOCKED) {
		if (t->wait.queue)
			wq_remove(t->wait.queue, &t->wait);
		t->wait.blocked = false;
		sched_wake(t);
	}
	arch_irq_restore(s);
}

/* The current thread stops for good; interrupts must be off. */
__attribute__((noreturn)) void sched_exit_current(void)
{
	sched_current->state = THREAD_ZOMBIE;
	schedule();
	panic("sched_exit_current: a zombie ran again");
}

void sched_boot_done(void)
{
	thread_exit(0);
}
