/*
 * Threads and the scheduler.
 *
 * Thread records come from a slab cache; each thread has a 16 KiB kernel
 * stack mapped in the kernel-mappings area with an unmapped guard page
 * below it. There is no thread table: a silo's threads are limited by its
 * own quotas (threads=, kmem=), kernel threads by memory. Scheduling is preemptive priority round-robin:
 * PRIO_COUNT levels, 0 highest; a thread runs for SCHED_QUANTUM ticks before
 * the next ready thread of the same level; a higher-priority thread that
 * wakes preempts at the next interrupt return or scheduling point.
 *
 * Locking: the scheduler's state (run queues, timeouts, thread states) is
 * protected by the CPU's interrupt flag, since Sluice runs on one CPU.
 * Lock order: a wait queue's lock, then the scheduler (interrupts off).
 */
#ifndef KERNEL_THREAD_H
#define KERNEL_THREAD_H

#include <kernel/quota.h>
#include <kernel/spinlock.h>
#include <kernel/waitq.h>
#include <stdbool.h>
#include <stdint.h>

#define THREAD_NAME_MAX 24
#define KSTACK_SIZE (16 * 1024)
#define PRIO_COUNT 8
#define PRIO_HIGH 0
#define PRIO_DEFAULT 4
#define PRIO_IDLE (PRIO_COUNT - 1)
#define SCHED_QUANTUM 2         /* ticks */

typedef enum thread_state {
	THREAD_FREE,
	THREAD_READY,
	THREAD_RUNNING,
	THREAD_BLOCKED,
	THREAD_ZOMBIE,          /* exited; waiting to be joined or reaped */
} thread_state_t;

struct silo;

typedef struct thread {
	/* The fields the architecture's switch code reads from assembly, at
	 * offsets fixed by <arch/asm_offsets.h> (checked when it builds). */
	uint64_t ctx_rsp;               /* saved by arch_switch */
	uint64_t kstack_top;
	int64_t id;                     /* unique, never reused (64 bits do not wrap) */
	struct silo *silo;              /* NULL for kernel threads */
	struct trap_frame *uframe;      /* user registers of the current system call
					 * (fixed: the top of its kernel stack) */
	void *fpu_state;                /* fpu_area aligned as the architecture needs */
	uint64_t space_root;            /* a silo thread's: its silo's page-table root */
	bool ipc_fast_blocked;          /* blocked in the IPC fast path: nothing on its
					 * kernel stack but its user frame, and no
					 * saved context (written under ipc_lock; the
					 * switches read it with interrupts off) */

	uint64_t slot;                  /* kernel-stack slot, while kstack_mapped */
	thread_state_t state;
	int prio;
	int ticks_left;
	struct thread *rq_next;
	wq_node_t wait;                 /* on a wait queue while blocked there */
	tq_node_t timeout;              /* armed while a blocking call has a deadline */
	bool timed_out;
	bool killed;                    /* dies at its next return to user space */
	bool kstack_mapped;
	int exit_code;
	void (*entry)(void *);
	void *arg;
	int user_slot;                  /* user stack slot in its silo */
	uint64_t user_rip, user_arg[2]; /* where a silo thread enters ring 3 */
	bool detached;                  /* nobody will join: reap at exit */
	bool joined;                    /* a join has claimed it */
	struct waitq *joiners;          /* woken when this thread exits */
	waitq_t join_wq;                /* what joiners points at */
	quota_t *kmem;                  /* charged THREAD_KMEM_CHARGE; NULL for kernel threads */
	char name[THREAD_NAME_MAX];

	/* IPC, guarded by ipc_lock (see <kernel/ipc.h>); uframe above. */
	int ipc_state;                  /* enum ipc_state */
	int ipc_result;
	uint64_t ipc_badge;             /* badge of the capability a queued sender used */
	bool ipc_grant;                 /* ... and whether it carried the grant right */
	uint64_t ipc_spec;              /* where received capabilities go */
	struct endpoint *ipc_ep;        /* the endpoint a receiver waits on */
	struct reply *ipc_reply;        /* a caller's reply object */
	waitq_t ipc_wq;                 /* a caller waits for its reply here */
	/* The IPC fast path's slot lookups in the thread's own cspace, kept
	 * for the next call (kernel/ipc/fastpath.c): the entries of the
	 * capability slots and the reply slot it named last, and of the
	 * endpoint slots it named last, one per value of the slot's low two
	 * bits (a client of chanserv alternates between handles). Zero:
	 * nothing kept. */
	uint64_t fp_caps_key;
	struct cap *fp_cap_slots[2];
	struct fp_kept {
		uint64_t slot;
		struct cap *cap;
	} fp_reply, fp_ep[4];

	/* x87/SSE/AVX registers of a silo thread while it is switched out;
	 * the default state from its creation on (arch_fpu_init). */
	unsigned char fpu_area[ARCH_FPU_AREA_SIZE];
} thread_t;

/* What a thread costs the kernel-memory quota of the silo it is made for:
 * its record and its kernel stack. */
#define THREAD_KMEM_CHARGE ((uint64_t)KSTACK_SIZE + ((sizeof(thread_t) + 15) & ~(uint64_t)15))

/* Turns the boot flow into thread 0 and makes the idle thread. */
void sched_init(void);

extern thread_t *sched_current;         /* the running thread; sched.c owns it */

static inline thread_t *thread_current(void)
{
	return sched_current;
}

/* A thread with a kernel stack, not yet runnable; NULL if memory is out.
 * thread_create then makes it run fn(arg). */
thread_t *thread_alloc(const char *name, int prio);

/* The same, charging THREAD_KMEM_CHARGE bytes to kmem (if not NULL) until
 * the record is freed; *err is SL_EQUOTA or SL_ENOMEM when NULL. */
thread_t *thread_alloc_charged(const char *name, int prio, quota_t *kmem, int *err);
void thread_launch(thread_t *t, void (*fn)(void *), void *arg);

/* Creates a ready kernel thread, or returns NULL (memory full). */
thread_t *thread_create(const char *name, void (*fn)(void *), void *arg, int prio);

/* Frees t's kernel stack (t is a zombie that is not running). */
void thread_reap_stack(thread_t *t);

/* Ends the calling thread with code. */
__attribute__((noreturn)) void thread_exit(int code);

/*
 * Waits until t has exited, stores its exit code and frees its slot.
 * May block; takes no lock on entry. Returns SL_EINVAL if t is detached or
 * already joined, SL_EKILLED if the caller is killed while waiting.
 */
int thread_join(thread_t *t, int *code);

/* The two halves of a join, for callers that claim the thread themselves
 * (t->joined) under their own lock: wait until t has exited and been
 * reaped (may block; SL_EKILLED), then free its record. */
int thread_wait_exit(thread_t *t, int *code);
void thread_free_if_reaped(thread_t *t);

/* Marks t killed and wakes it if blocked; it exits at its next chance. */
void thread_kill(thread_t *t);

/* Gives up the CPU to another ready thread of the same or higher priority. */
void sched_yield(void);

/* Blocks for ticks timer ticks; returns early only if killed. */
int sched_sleep(uint64_t ticks);

/*
 * Blocks the current thread, whose wait node the caller has queued with
 * wait.blocked set. Entered with `held` locked (interrupts off); releases it
 * while switching away and holds it again on return. deadline 0 = none;
 * on expiry the thread is woken with timed_out set.
 */
void sched_block(spinlock_t *held, uint64_t deadline);

/* Makes a blocked thread ready. Interrupts must be off. */
void sched_wake(thread_t *t);


/* For a fast-path block with no partner: takes the thread to run next
 * from the run queues (as schedule() would), for sched_fast_switch. */
thread_t *sched_fast_pick(void);

/* First thing a thread that blocked in the fast path does when a switch
 * resumes it (the scheduler's end of the switch). */
void sched_resumed(void);

/* Timer interrupt: expire timeouts, charge the running thread. */
void sched_tick(void);

/* Called on the way out of an interrupt, and of a system call that left
 * sched_need_resched set (a wakeup of a more urgent thread, an expired
 * quantum): switches if a switch is due. Interrupts off. */
void sched_preempt_point(void);
extern bool sched_need_resched;

/* Ends the boot thread once it has started everything. */
__attribute__((noreturn)) void sched_boot_done(void);

/* Thread records not free: running, ready, blocked or not yet reaped. */
int thread_count_in_use(void);

/* Kernel-stack slots in use (a zombie's is freed when it is reaped). */
uint64_t thread_stack_slots_in_use(void);

/* Slab pages holding thread records (for the shutdown frame count). */
uint64_t thread_record_pages(void);

uint64_t sched_ticks(void);
uint64_t sched_context_switches(void);
uint64_t sched_preemptions(void);     /* switches forced by the timer */

#endif
