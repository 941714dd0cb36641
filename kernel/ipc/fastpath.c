/*
 * The IPC fast path, in the manner of seL4's fastpath.c: call and
 * reply_recv in the common case of a client/server round trip (and the
 * simple cases of recv and reply, which a server that parks calls uses),
 * entered straight from the system-call entry (syscall.S), with
 * interrupts still off, before the generic dispatch and decoding.
 *
 * It is taken only when
 *  - the message fits in registers (length <= 8) and carries neither
 *    capabilities nor a buffer part;
 *  - call: a receiver waits on the endpoint, may run at once (priority at
 *    least the caller's), and has an empty reply slot ready;
 *  - reply_recv: the reply capability names a caller that waits, may run
 *    at once, and nothing is queued on the endpoint to receive;
 *  - reply2_recv: as reply_recv, and the second caller waits too, may run
 *    at once and is not less urgent than the first (it runs; the first is
 *    woken);
 *  - recv: nothing is queued on the endpoint (the thread blocks and the
 *    scheduler picks who runs); reply: the caller waits (it is woken);
 *  - every slot the spec names is one the generic decoding would accept.
 * It then checks one capability lookup per object (a thread keeps the
 * slot entries it looked up last: see fp_kept_slot), the tag and the
 * partner's state, copies only the words the tag counts, puts (or takes)
 * the caller's per-thread reply object in the receiver's slot without
 * touching the derivation list, and switches directly to the partner.
 * Anything else returns before changing anything, and the generic
 * path handles the call with the same semantics (errors included).
 *
 * ipc.slowpath on the kernel command line turns it off (and the generic
 * path's direct switch with it), to measure the difference.
 */
#include <abi/errors.h>
#include <abi/ipc.h>
#include <abi/syscall.h>
#include <kernel/sched_fast.h>
#include "ipc_internal.h"

/* Every check of the fast path fails rarely: keep the taken path straight. */
#define fp_bail(cond) __builtin_expect(!!(cond), 0)

bool ipc_fastpath_on = true;

/* The entry of slot in cs, or NULL where the generic path has to decide
 * (slot 0, out of range, no chunk of slots yet). */
static inline cap_t *fp_slot(const cspace_t *cs, uint64_t slot)
{
	if (slot - 1 >= (uint64_t)cs->size - 1)
		return NULL;
	/* slot < size <= SL_CSPACE_MAX, so the directory index is in range. */
	const cap_dir_t *dir = cs->dirs[slot / CAP_DIR_SPAN];
	cap_t *chunk = dir ? dir->chunks[slot / CAP_CHUNK % CAP_DIR_CHUNKS] : NULL;
	return chunk ? &chunk[slot % CAP_CHUNK] : NULL;
}

/*
 * Lookups kept in the thread (t->fp_*) for its next call: a slot's entry
 * never moves while its cspace lives (chunks are freed only with the
 * cspace, when the silo's last thread has gone), so a kept entry saves
 * the lookup and nothing else; every use reads the entry itself. Only a
 * thread's own cspace is kept.
 */
#define FP_CAPS_KEPT (1ull << 24)       /* marks fp_caps_key as filled */

/* What a capability slot of 0 (none) points at: always empty, and
 * read-only, as nothing may ever be put there. */
static const cap_t fp_no_slot;

/* Looks up the two capability slots spec names into t's keeping; false
 * if one of them has no entry yet (the generic path makes it). */
static __attribute__((noinline)) bool fp_caps_fill(thread_t *t, uint64_t spec, uint64_t key)
{
	cap_t *c[2];

	for (int i = 0; i < 2; i++) {
		unsigned slot = SL_SPEC_CAP_SLOT(spec, i);

		c[i] = slot ? fp_slot(cs_of(t), slot) : (cap_t *)&fp_no_slot;
		if (!c[i])
			return false;
	}
	t->fp_cap_slots[0] = c[0];
	t->fp_cap_slots[1] = c[1];
	t->fp_caps_key = key;
	return true;
}

/* Whether both capability slots spec names in t's own cspace are none or
 * empty (false also where the generic path has to decide). */
static inline bool fp_cap_slots_free(thread_t *t, uint64_t spec)
{
	uint64_t key = (spec >> 24 & 0xffffff) | FP_CAPS_KEPT;

	if (key == FP_CAPS_KEPT)
		return true;            /* names none, as most calls do */
	if (fp_bail(t->fp_caps_key != key && !fp_caps_fill(t, spec, key)))
		return false;
	return !t->fp_cap_slots[0]->obj && !t->fp_cap_slots[1]->obj;
}

/* The entry of slot in t's own cspace, kept in *kept; NULL for slot 0 or
 * a slot with no entry yet (kept only when there is one). */
static inline cap_t *fp_kept_slot(thread_t *t, struct fp_kept *kept, uint64_t slot)
{
	cap_t *c;

	if (kept->slot == slot)
		return kept->cap;
	c = fp_slot(cs_of(t), slot);
	if (c) {
		kept->slot = slot;
		kept->cap = c;
	}
	return c;
}

/* The entry of a reply slot t names. */
static inline cap_t *fp_reply_entry(thread_t *t, uint64_t slot)
{
	return fp_kept_slot(t, &t->fp_reply, slot);
}

/* The entry of an endpoint slot t names: one kept per value of the
 * slot's low two bits. */
static inline cap_t *fp_ep_slot(thread_t *t, uint64_t slot)
{
	return fp_kept_slot(t, &t->fp_ep[slot & 3], slot);
}

/* No capabilities, no buffer part, at most 8 words: bits 32-38 of the tag
 * (length, number of capabilities, SL_TAG_BUFFER) read as a number no
 * greater than the length limit, in one comparison. */
_Static_assert(SL_TAG_LEN(1ull << 32) == 1 && SL_TAG_NCAPS(1ull << 36) == 1 &&
	       SL_TAG_BUFFER == 1ull << 38, "the tag bits fp_tag_ok reads");
static inline bool fp_tag_ok(uint64_t tag)
{
	return (tag >> 32 & 0x7f) <= SL_MSG_WORDS;
}

/* Writes an incoming message without capabilities into dst's registers;
 * the caller marks dst answered (fp_done), unless dst runs next and goes
 * straight to user mode (fp_block_switch). */
static inline void fp_deliver(thread_t *dst, const trap_frame_t *src, uint64_t badge,
			      uint64_t flags)
{
	trap_frame_t *d = dst->uframe;
	uint64_t tag = src->rsi;

	msg_copy(d, src, SL_TAG_LEN(tag));
	d->rsi = SL_TAG(SL_TAG_LABEL(tag), SL_TAG_LEN(tag), 0) | flags;
	d->rdi = badge;
	d->rbx = 0;
	d->rbp = 0;
	d->rax = SL_OK;
}

/* Marks t's call answered, for it to find when it resumes. */
static inline void fp_done(thread_t *t)
{
	t->ipc_state = IPC_DONE;
	t->ipc_result = SL_OK;
}

/*
 * Blocks self on q (NULL: on no queue, as a caller waits for its answer:
 * only its reply capability leads to it), in the state the caller set, with nothing on its
 * kernel stack but its user frame, and runs `to` at once, or (to NULL)
 * the next thread of the run queues. Entered with ipc_lock held, which
 * passes to the next thread as in sched_block. If that thread blocked in
 * the fast path too and its call is answered, it goes straight back to
 * user mode with the result in its frame; otherwise it wakes where it
 * blocked and finds IPC_DONE (or, killed, dies on its way out); a `to`
 * given is answered and marked here. self,
 * when something switches back to it, finishes its call in
 * ipc_fastpath_resume().
 */
static inline __attribute__((always_inline, noreturn)) void fp_block_switch(thread_t *self, waitq_t *q, thread_t *to)
{
	bool to_user;

	self->wait.blocked = true;      /* no timeout: timed_out is not read */
	if (q)
		wq_append(&q->list, &self->wait);       /* running: on no list */
	self->ipc_fast_blocked = true;
	ipc_lock.held = 0;
	if (to) {       /* answered (fp_deliver), not yet marked */
		to_user = to->ipc_fast_blocked && !to->killed;
		if (!to_user)
			fp_done(to);
	} else {
		to = sched_fast_pick();
		to_user = to->ipc_fast_blocked && to->ipc_state == IPC_DONE && !to->killed;
		if (to_user)    /* answered by either path: the result is in ipc_result */
			to->uframe->rax = (uint64_t)(int64_t)to->ipc_result;
	}
	if (to_user) {
		to->ipc_fast_blocked = false;
		to->ipc_state = IPC_IDLE; /* its call is over */
	}
	sched_fast_switch(to, to_user);
}

/* A thread that blocked in fp_block_switch runs again, resumed by a
 * switch (woken by the generic path, killed, or its endpoint gone): it
 * finishes its system call as ipc_block would and returns to user mode
 * through syscall_exit. Entered with interrupts off and no lock held;
 * takes ipc_lock, and may block again (a wakeup that was not the answer). */
void ipc_fastpath_resume(trap_frame_t *f)
{
	thread_t *self = thread_current();
	int r;

	sched_resumed();
	spin_lock(&ipc_lock);
	self->ipc_fast_blocked = false;
	if (self->ipc_state == IPC_DONE) {
		self->ipc_state = IPC_IDLE;
		r = self->ipc_result;
	} else {
		r = ipc_block(self,
			      self->ipc_state == IPC_WAIT_REPLY ? &self->ipc_wq
								: &self->ipc_ep->receivers);
	}
	f->rax = (uint64_t)(int64_t)r;
	spin_unlock(&ipc_lock);
	silo_return_to_user();
}

/* call. ipc_lock held; when it goes on, the caller blocks until answered
 * and this does not return. */
static inline __attribute__((always_inline)) void fastpath_call(thread_t *self, trap_frame_t *f)
{
	cap_t *c = fp_ep_slot(self, f->rdi);
	uint64_t spec = f->rbx;

	if (fp_bail(!fp_tag_ok(f->rsi) || !c || c->type != SL_CAP_ENDPOINT ||
		    !(c->rights & SL_RIGHT_SEND)))
		return;
	endpoint_t *ep = c->obj;
	wq_node_t *n = ep->receivers.list.head;
	/* A node still blocked is a blocked thread: every wakeup clears the
	 * flag before the thread leaves THREAD_BLOCKED (wq_take_one, timeouts,
	 * thread_kill, ipc_finish, fp_use_reply). */
	if (fp_bail(ep->hdr.dead || !n || !n->blocked))
		return;
	thread_t *dst = container_of(n, thread_t, wait);
	reply_t *r = self->ipc_reply;
	if (fp_bail(dst->prio > self->prio || !r || r->hdr.refs ||
		    !fp_cap_slots_free(self, spec)))
		return;
	cap_t *rc = fp_reply_entry(dst, SL_SPEC_REPLY_SLOT(dst->ipc_spec));
	if (fp_bail(!rc || rc->obj))
		return;

	wq_remove_head(&ep->receivers.list); /* what wq_take_one does to a blocked head */
	n->blocked = false;
	fp_deliver(dst, f, c->badge, SL_TAG_CALL);
	unsigned grant = c->rights & SL_RIGHT_GRANT; /* read after the copy: fewer registers live */

	/* The reply capability carries the grant right of the capability
	 * called (self->ipc_grant serves only a call queued for a receiver,
	 * which this is not). An empty slot is all zeros: a leaf needs only
	 * these three. */
	rc->obj = r;
	rc->type = SL_CAP_REPLY;
	rc->rights = SL_RIGHT_SEND | grant;
	r->hdr.refs = 1;
	r->caller = self;
	self->ipc_spec = spec;
	self->ipc_state = IPC_WAIT_REPLY;
	fp_block_switch(self, NULL, dst);
}

/* rc if it holds a reply capability answering a caller that waits, and
 * the answer (tag) carries no capabilities; or NULL. */
static inline cap_t *fp_reply_cap(cap_t *rc, uint64_t tag)
{
	thread_t *caller;

	if (!fp_tag_ok(tag) || !rc || rc->type != SL_CAP_REPLY || !(rc->rights & SL_RIGHT_SEND))
		return NULL;
	caller = ((reply_t *)rc->obj)->caller;
	return caller && caller->state == THREAD_BLOCKED ? rc : NULL;
}

/* Takes the caller behind rc off its queue (its answer written) and uses
 * the capability up. */
static inline void fp_use_reply(cap_t *rc)
{
	reply_t *r = rc->obj;
	thread_t *caller = r->caller;

	/* A caller that blocked in the fast path waits on no queue, nor
	 * does one whose queued call a receiver took; one that blocked in
	 * the generic path waits on its own reply queue. */
	if (caller->wait.queue)
		wq_remove(caller->wait.queue, &caller->wait);
	caller->wait.blocked = false;
	r->caller = NULL;
	r->hdr.refs--;  /* to 0: the caller still owns it */
	rc->obj = NULL; /* a leaf: the rest is zero already */
	rc->type = SL_CAP_NULL;
	rc->rights = 0;
}

/* Answers the caller behind rc (checked by fp_reply_cap) and uses the
 * capability up; returns the caller, taken off its queue, not yet run. */
static inline thread_t *fp_answer(cap_t *rc, const trap_frame_t *f)
{
	reply_t *r = rc->obj;
	thread_t *caller = r->caller;

	fp_deliver(caller, f, 0, 0);
	fp_use_reply(rc);
	return caller;
}

/* The same for an answer of a label alone (reply2_recv's second). */
static inline thread_t *fp_answer_label(cap_t *rc, uint32_t label)
{
	thread_t *caller = ((reply_t *)rc->obj)->caller;
	trap_frame_t *d = caller->uframe;

	d->rsi = SL_TAG(label, 0, 0);
	d->rdi = 0;
	d->rbx = 0;
	d->rbp = 0;
	d->rax = SL_OK;
	fp_use_reply(rc);
	return caller;
}

/* reply: answer and go on running; the caller is woken. ipc_lock held;
 * never blocks. */
static inline __attribute__((always_inline)) bool fastpath_reply(thread_t *self, trap_frame_t *f)
{
	cap_t *rc = fp_reply_cap(fp_slot(cs_of(self), f->rdi), f->rsi);

	if (fp_bail(!rc))
		return false;
	thread_t *caller = fp_answer(rc, f);

	fp_done(caller);
	sched_wake(caller);
	f->rax = SL_OK;
	return true;
}

/* recv with nothing queued: block; the scheduler picks who runs.
 * ipc_lock held; when it goes on, this does not return. */
static inline __attribute__((always_inline)) void fastpath_recv(thread_t *self, trap_frame_t *f)
{
	cap_t *c = fp_ep_slot(self, f->rdi);
	uint64_t spec = f->rbx;

	if (fp_bail(!c || c->type != SL_CAP_ENDPOINT || !(c->rights & SL_RIGHT_RECV)))
		return;
	endpoint_t *ep = c->obj;
	if (fp_bail(ep->hdr.dead || ep->events_head || ep->senders.list.head ||
		    !fp_cap_slots_free(self, spec)))
		return;
	cap_t *kept = SL_SPEC_REPLY_SLOT(spec) ? fp_reply_entry(self, SL_SPEC_REPLY_SLOT(spec)) : NULL;
	if (fp_bail(SL_SPEC_REPLY_SLOT(spec) && (!kept || kept->obj)))
		return;
	self->ipc_state = IPC_RECEIVING;
	self->ipc_spec = spec;
	self->ipc_ep = ep;
	fp_block_switch(self, &ep->receivers, NULL);
}

/* reply_recv, and reply2_recv with its second answer (label) to the
 * caller behind c2 (checked by fp_reply_cap; NULL: none): answer, then
 * block receiving on the endpoint in ep_slot; the caller runs at once, or
 * with a second answer, the second caller does and the first is woken.
 * ipc_lock held; when it goes on, this does not return. */
static inline __attribute__((always_inline)) void fastpath_reply_recv(thread_t *self, trap_frame_t *f,
								      uint64_t ep_slot, cap_t *c2,
								      uint32_t label)
{
	uint64_t spec = f->rbx;
	cap_t *c = fp_ep_slot(self, ep_slot);

	if (fp_bail(!c || c->type != SL_CAP_ENDPOINT || !(c->rights & SL_RIGHT_RECV)))
		return;
	/* A server that answers the reply capability in the slot where the
	 * next one lands (echoserv) finds it kept; one that parks replies in
	 * many slots (chanserv) names the next slot, kept, and looks the one
	 * it answers up. */
	unsigned slot = SL_SPEC_REPLY_SLOT(spec);
	cap_t *kept = slot ? fp_reply_entry(self, slot) : NULL;
	bool same = SL_SPEC_REPLY(spec) == slot;
	cap_t *rc = fp_reply_cap(same ? kept : fp_slot(cs_of(self), SL_SPEC_REPLY(spec)), f->rsi);
	endpoint_t *ep = c->obj;
	if (fp_bail(!rc || ep->hdr.dead || ep->events_head || ep->senders.list.head ||
		    ((reply_t *)rc->obj)->caller->prio > self->prio ||
		    (slot && !same && (!kept || kept->obj)) || !fp_cap_slots_free(self, spec)))
		return;
	/* With a second answer, its caller runs and the first is woken:
	 * the first may not be more urgent, nor the second less than us. */
	if (c2) {
		thread_t *runs = ((reply_t *)c2->obj)->caller;

		if (fp_bail(c2 == rc || runs->prio > self->prio ||
			    ((reply_t *)rc->obj)->caller->prio < runs->prio))
			return;
	}

	thread_t *caller = fp_answer(rc, f);
	if (c2) {
		fp_done(caller);
		sched_wake(caller);
		caller = fp_answer_label(c2, label);
	}
	self->ipc_state = IPC_RECEIVING;
	self->ipc_spec = spec;
	self->ipc_ep = ep;
	fp_block_switch(self, &ep->receivers, caller);
}

/* spin_lock(&ipc_lock) for a caller that runs with interrupts off
 * already: nothing to save or clear. Every way out lets go with held = 0
 * (fp_leave, or the switch, which passes the lock as sched_block does),
 * so `saved` is never read. On one CPU the lock is always free here:
 * every holder keeps interrupts off until it lets go, and only user mode
 * makes system calls, so no holder can be interrupted by this entry;
 * spin_lock's recursion check would never fire. */
static inline void fp_lock(void)
{
	ipc_lock.held = 1;
}

/* The start of each entry below: the caller is a silo thread (only user
 * mode makes system calls), its frame is f, which is its uframe (a
 * system call's frame is always at the top of the thread's kernel stack:
 * see arch_thread_setup). */
static inline thread_t *fp_enter(trap_frame_t *f)
{
	(void)f;
	fp_lock();
	return thread_current();
}

/* fp_lock's pair for a call the generic path takes: interrupts stay off. */
static inline bool fp_leave(void)
{
	ipc_lock.held = 0;
	return false;
}

/*
 * The entries syscall_entry (syscall.S) calls through ipc_fastpath_table
 * for numbers 20 to 31 (call, recv, reply, reply_recv, reply2_recv take
 * the fast path; the others between return at once), with
 * interrupts still off and no lock held; each takes ipc_lock. One entry
 * per call, so each is compiled for its own case. Those that block do not
 * return when they go on; every one returns false, having changed
 * nothing, when the generic path must take the call, and a reply done
 * returns true with the result in f->rax (a thread killed meanwhile dies
 * on its way out instead).
 */
static bool ipc_fast_call(trap_frame_t *f)
{
	fastpath_call(fp_enter(f), f);
	return fp_leave();
}

static bool ipc_fast_recv(trap_frame_t *f)
{
	fastpath_recv(fp_enter(f), f);
	return fp_leave();
}

bool ipc_fast_none(trap_frame_t *f)
{
	(void)f;
	return false;
}

static bool ipc_fast_reply(trap_frame_t *f)
{
	thread_t *self = fp_enter(f);
	bool done = fastpath_reply(self, f);

	fp_leave();
	if (done && self->killed)
		silo_return_to_user();  /* does not return */
	return done;
}

static bool ipc_fast_reply_recv(trap_frame_t *f)
{
	fastpath_reply_recv(fp_enter(f), f, f->rdi, NULL, 0);
	return fp_leave();
}

static bool ipc_fast_reply2_recv(trap_frame_t *f)
{
	thread_t *self = fp_enter(f);
	unsigned slot2 = SL_REPLY2_REPLY(f->rdi);
	cap_t *c2 = slot2 ? fp_reply_cap(fp_slot(cs_of(self), slot2), 0) : NULL;

	if (!slot2 || c2)       /* a bad or dead second one: the generic path */
		fastpath_reply_recv(self, f, SL_REPLY2_EP(f->rdi), c2, SL_REPLY2_LABEL(f->rdi));
	return fp_leave();
}

bool (*const ipc_fast_table[])(trap_frame_t *) = {
	[SL_SYS_CALL - SL_SYS_CALL] = ipc_fast_call,
	[SL_SYS_RECV - SL_SYS_CALL] = ipc_fast_recv,
	[SL_SYS_NBRECV - SL_SYS_CALL] = ipc_fast_none,
	[SL_SYS_REPLY - SL_SYS_CALL] = ipc_fast_reply,
	[SL_SYS_REPLY_RECV - SL_SYS_CALL] = ipc_fast_reply_recv,
	[SL_SYS_SIGNAL - SL_SYS_CALL] = ipc_fast_none,
	[SL_SYS_WAIT - SL_SYS_CALL] = ipc_fast_none,
	[SL_SYS_POLL - SL_SYS_CALL] = ipc_fast_none,
	[SL_SYS_EVENTS_BIND - SL_SYS_CALL] = ipc_fast_none,
	[SL_SYS_MEM_MAP - SL_SYS_CALL] = ipc_fast_none,
	[SL_SYS_MEM_UNMAP - SL_SYS_CALL] = ipc_fast_none,
	[SL_SYS_REPLY2_RECV - SL_SYS_CALL] = ipc_fast_reply2_recv,
};
_Static_assert(sizeof ipc_fast_table / sizeof ipc_fast_table[0] == IPC_FASTPATH_CALLS,
	       "one entry per number syscall.S sends here");

/* What syscall_entry calls, filled by ipc_set_fastpath at boot, before
 * any silo runs: ipc_fast_table's entries, or ipc_fast_none for every
 * number with ipc.slowpath. The entry reads the function straight from it. */
bool (*ipc_fastpath_table[IPC_FASTPATH_CALLS])(trap_frame_t *);
