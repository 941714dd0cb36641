/*
 * What the IPC files share and nobody else may use: the object, message,
 * endpoint, reply and silo-event functions each file provides to the
 * others. Everything here runs with ipc_lock held (see <kernel/ipc.h>).
 */
#ifndef KERNEL_IPC_INTERNAL_H
#define KERNEL_IPC_INTERNAL_H

#include <abi/errors.h>
#include <abi/ipc.h>
#include <kernel/ipc.h>
#include <kernel/silo.h>
#include <kernel/thread.h>
#include <stddef.h>

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

/* A slot number from a register: values past 32 bits stay out of range
 * (SL_EINVAL) rather than wrapping onto a small slot. */
static inline uint32_t slot_arg(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static inline cspace_t *cs_of(thread_t *t)
{
	return &t->silo->cspace;
}

static inline thread_t *ipc_take_thread(waitq_t *q)
{
	wq_node_t *n = wq_take_one(&q->list);

	return n ? container_of(n, thread_t, wait) : NULL;
}

/* The thread ipc_take_thread would return, left queued. */
static inline thread_t *ipc_peek_thread(waitq_t *q)
{
	wq_node_t *n;

	while ((n = q->list.head) && !n->blocked)
		wq_remove(&q->list, n); /* gone already, as wq_take_one drops them */
	return n ? container_of(n, thread_t, wait) : NULL;
}

/* Copies the first len data words of a message from src's registers to
 * dst's. Words past len are not touched: the receiver keeps what it had in
 * those registers, so nothing of the sender's (or the kernel's) shows. */
static inline void msg_copy(trap_frame_t *dst, const trap_frame_t *src, unsigned len)
{
	switch (len) {
	default: dst->r15 = src->r15; __attribute__((fallthrough));
	case 7: dst->r14 = src->r14; __attribute__((fallthrough));
	case 6: dst->r13 = src->r13; __attribute__((fallthrough));
	case 5: dst->r12 = src->r12; __attribute__((fallthrough));
	case 4: dst->r9 = src->r9; __attribute__((fallthrough));
	case 3: dst->r8 = src->r8; __attribute__((fallthrough));
	case 2: dst->r10 = src->r10; __attribute__((fallthrough));
	case 1: dst->rdx = src->rdx; __attribute__((fallthrough));
	case 0: break;
	}
}

/* object.c */
kobj_t *obj_new(silo_t *owner, size_t size, unsigned type, int *err);
void obj_put(void *obj, unsigned type);

/* endpoint.c */
void endpoint_init(endpoint_t *ep);
void ipc_finish(thread_t *t, int result, bool handoff);
void ipc_complete(thread_t *t, int result);
void ipc_fail_all(waitq_t *q, int result);
void ipc_deliver(const trap_frame_t *src, thread_t *sender, uint64_t badge, thread_t *dst,
		 uint64_t spec, const endpoint_t *dst_ep);
void ipc_abandon(thread_t *self);
int ipc_block(thread_t *self, waitq_t *q);
int ipc_decode_tag(cspace_t *cs, uint64_t tag, bool may_grant, unsigned reply);
int ipc_decode_spec(cspace_t *cs, uint64_t spec, bool reply_slot, unsigned reply_handle);
int64_t ep_syscall(unsigned nr, thread_t *self, trap_frame_t *f);

/* reply.c */
void reply_init(void);
int reply_prepare(thread_t *caller);
void reply_destroy(reply_t *r);
void reply_thread_exit(thread_t *t);
bool reply_attach(thread_t *caller, thread_t *receiver, uint64_t spec);
int reply_invoke(thread_t *self, const trap_frame_t *f, cap_t *c, bool handoff);
int reply_decode(thread_t *self, const trap_frame_t *f, cap_t **c);

/* notification.c */
int ntfn_signal(thread_t *self, const trap_frame_t *f);
int ntfn_wait(thread_t *self, trap_frame_t *f, bool block);

/* events.c */
extern kobj_t silo_events_obj;
int events_bind(thread_t *self, const trap_frame_t *f);
bool events_receive(thread_t *self, endpoint_t *ep, uint64_t spec);

/* msgbuf.c: a sender's buffer checked while decoding (SL_OK, SL_EFAULT,
 * SL_EINVAL); the buffer part copied to dst, returning SL_TAG_BUFFER if it
 * arrived (read dst's buffer address before its frame is rewritten). */
int msgbuf_check_sender(const thread_t *sender, const trap_frame_t *f);
uint64_t msgbuf_deliver(const thread_t *sender, const trap_frame_t *src, const thread_t *dst,
			uint64_t spec);
/* A reply's buffer part must fit the caller's buffer: SL_EFAULT (and no
 * effect) if it does not, so an answer never loses its part. */
int msgbuf_check_answer(const thread_t *sender, const trap_frame_t *f, const thread_t *caller);

/* The two checks, free for the messages without a buffer part. */
static inline int msgbuf_decode(const thread_t *sender, const trap_frame_t *f)
{
	return f->rsi & SL_TAG_BUFFER ? msgbuf_check_sender(sender, f) : SL_OK;
}

static inline int msgbuf_check_reply(const thread_t *sender, const trap_frame_t *f,
				     const thread_t *caller)
{
	return f->rsi & SL_TAG_BUFFER ? msgbuf_check_answer(sender, f, caller) : SL_OK;
}

/* fastpath.c */
void ipc_fastpath_resume(trap_frame_t *f);
extern uint64_t ipc_fastpaths;

/* The fast path's entries (fastpath.c), and the one that declines every
 * call (the generic path takes it). */
extern bool (*const ipc_fast_table[])(trap_frame_t *);
bool ipc_fast_none(trap_frame_t *f);

/* sched.c */
void sched_wake_handoff(thread_t *t);

#endif
