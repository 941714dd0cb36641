/*
 * Kernel objects reached through capabilities: endpoints, notifications,
 * reply objects and the silo-events object; and the IPC operations.
 *
 * Locking: one lock, ipc_lock, guards every capability space, every
 * object's state and every thread's IPC fields (seL4 itself runs its
 * kernel under one lock). Every wait queue here shares it. Lock order:
 * silo lock, then ipc_lock, then the heap and frames, then the scheduler.
 */
#ifndef KERNEL_IPC_H
#define KERNEL_IPC_H

#include <abi/syscall.h>
#include <arch/trap.h>
#include <kernel/cspace.h>
#include <kernel/waitq.h>

struct silo;
struct thread;

typedef struct kobj {
	uint32_t type;                  /* enum sl_cap_type */
	uint32_t refs;                  /* capabilities naming it, plus kernel holds */
	struct silo *owner;             /* charged for it; NULL if nobody */
	uint32_t charge;                /* bytes charged to owner */
	bool dead;                      /* its silo ended: every use is SL_EDEAD */
	struct kobj *owned_next, *owned_prev;   /* the owner's objects */
} kobj_t;

/* A silo's exit event. Each silo has one, inside its record, so queueing
 * every silo's exit needs no memory and cannot overflow. */
typedef struct silo_event {
	struct silo_event *next;
	uint64_t words[5];
} silo_event_t;

typedef struct endpoint {
	kobj_t hdr;
	waitq_t senders, receivers;
	silo_event_t *events_head, *events_tail;        /* silo events not yet received */
} endpoint_t;

typedef struct notification {
	kobj_t hdr;
	uint64_t word;
	waitq_t waiters;
} notification_t;

/* A thread's reply object: made on its first call and used by every call
 * it makes (a thread has one call outstanding at most). The capability a
 * call puts in the receiver's cspace names it; refs counts those (0 or 1). */
typedef struct reply {
	kobj_t hdr;
	struct thread *caller;          /* waiting for the answer; NULL otherwise */
	struct thread *owner;           /* the thread it serves; NULL once that exits */
} reply_t;

/* A thread's IPC state. */
enum ipc_state {
	IPC_IDLE,
	IPC_SENDING,            /* queued on an endpoint, message in its frame */
	IPC_CALLING,            /* the same, then waiting for the reply */
	IPC_RECEIVING,          /* queued on an endpoint's receivers */
	IPC_WAIT_REPLY,         /* delivered a call; waiting for the answer */
	IPC_DONE,               /* the partner finished the transfer */
};

extern spinlock_t ipc_lock;
extern cap_mdb_t cap_mdb;
extern const cap_ops_t kernel_cap_ops;

/* kernel_cap_ops with s as the context: cspace chunks charged to s. */
void ipc_cap_ops_for(struct silo *s, cap_ops_t *ops);

void ipc_init(void);

/* Every capability and IPC system call, by number; each decodes all of its
 * arguments first. f is the caller's saved user registers, where results
 * other than the return value are written. */
int64_t ipc_syscall(unsigned nr, trap_frame_t *f);

/* A thread of a dying silo leaves any IPC it was in. */
void ipc_thread_cleanup(struct thread *t);

/* A thread is being killed: whoever holds its call's reply capability
 * gets SL_EDEAD when answering, from now on. */
void ipc_detach_reply(struct thread *t);

/* Boot wiring: the server's endpoint and every other silo's badged cap. */
int ipc_setup_server(struct silo *server);
int ipc_setup_client(struct silo *client, struct silo *server);

/* A silo ended: the endpoints and notifications it made die with it (their
 * waiters get SL_EDEAD, and so does every later use), even where other
 * silos still hold capabilities to them. So a server's clients are not
 * left waiting for ever. ipc_lock held. */
void ipc_orphan_objects(struct silo *s);

/* Called when a silo has ended: queues its event (ev->words filled in) on
 * the bound events endpoint. */
void ipc_post_silo_event(silo_event_t *ev);

/* At shutdown: drops the kernel's hold on the events endpoint, so every
 * frame can be counted back. */
void ipc_release_all(void);

/* The fast path of call, recv, reply, reply_recv and reply2_recv, indexed
 * by f->rax - SL_SYS_CALL (the numbers between return false at once; so
 * does every entry with ipc.slowpath). When a call that blocks can be carried out the
 * entry does not return: the thread blocks and the partner (or the
 * scheduler's pick) runs; a reply done returns true with the result in
 * f->rax (the system-call entry goes to its exit, which switches first
 * if the reply woke a more urgent thread). It
 * returns false, having changed nothing, when the generic path must handle
 * the call. Called from the system-call entry (syscall.S) with interrupts
 * off and no lock held; takes ipc_lock. */
#define IPC_FASTPATH_CALLS (SL_SYS_REPLY2_RECV - SL_SYS_CALL + 1)
extern bool (*ipc_fastpath_table[IPC_FASTPATH_CALLS])(trap_frame_t *f);

/* Off with ipc.slowpath (ipc_set_fastpath). */
extern bool ipc_fastpath_on;

uint64_t ipc_fastpath_count(void);
void ipc_set_fastpath(bool on);

#endif
