/*
 * Endpoints: send, call, receive and reply_recv, the message transfer and
 * the blocking they share. Every call decodes first: it looks up every
 * capability and checks every right, slot and length while holding
 * ipc_lock, and returns an error before anything has changed. Only then
 * does it invoke. A thread that blocks keeps its message in its saved
 * user registers (t->uframe); the partner that completes the transfer
 * copies from them or into them.
 */
#include <abi/errors.h>
#include <abi/ipc.h>
#include <abi/syscall.h>
#include "ipc_internal.h"

/* Wakes t, which waits for IPC_DONE, with result. handoff: the caller
 * blocks next, so t runs straight after it, if its priority allows. */
void ipc_finish(thread_t *t, int result, bool handoff)
{
	t->ipc_state = IPC_DONE;
	t->ipc_result = result;
	if (t->wait.queue)
		wq_remove(t->wait.queue, &t->wait);
	t->wait.blocked = false;
	if (handoff) {
		sched_wake_handoff(t);
	} else {
		sched_wake(t);
	}
}

void ipc_complete(thread_t *t, int result)
{
	ipc_finish(t, result, false);
}

void ipc_fail_all(waitq_t *q, int result)
{
	wq_node_t *n;

	while ((n = wq_take_one(&q->list)))
		ipc_complete(container_of(n, thread_t, wait), result);
}

void endpoint_init(endpoint_t *ep)
{
	waitq_init(&ep->senders, "ep.send", &ipc_lock);
	waitq_init(&ep->receivers, "ep.recv", &ipc_lock);
}

/* Moves (or unwraps) the sender's capability i; returns tag flags. */
static uint64_t transfer_cap(cspace_t *src_cs, unsigned src_slot, thread_t *dst, unsigned dst_slot,
			     const endpoint_t *dst_ep, unsigned i, uint64_t *unwrapped_badge)
{
	cap_t *c;

	if (!src_cs || cspace_lookup(src_cs, src_slot, SL_CAP_NULL, 0, &c) < 0)
		return 0;
	if (c->type == SL_CAP_ENDPOINT && dst_ep && c->obj == dst_ep) {
		*unwrapped_badge = c->badge;
		return SL_TAG_UNWRAPPED(i);
	}
	if (dst_slot == 0 || cap_move(src_cs, src_slot, cs_of(dst), dst_slot) < 0)
		return 0;
	return SL_TAG_MOVED(i);
}

/*
 * Copies a message from the registers in src into dst's registers:
 * badge, tag, the words the tag counts (decoding has checked the length;
 * the receiver's other registers stay its own) and the capabilities.
 * sender is the sending thread, or NULL for a message from the kernel;
 * its buffer part (msgbuf.c) goes to dst's buffer.
 */
void ipc_deliver(const trap_frame_t *src, thread_t *sender, uint64_t badge, thread_t *dst,
		 uint64_t spec, const endpoint_t *dst_ep)
{
	trap_frame_t *f = dst->uframe;
	cspace_t *src_cs = sender ? cs_of(sender) : NULL;
	uint64_t tag = src->rsi;
	unsigned len = SL_TAG_LEN(tag), ncaps = SL_TAG_NCAPS(tag);
	uint64_t tag_out = SL_TAG(SL_TAG_LABEL(tag), len, ncaps), xb[SL_MSG_CAPS] = { 0, 0 };

	if (sender && (tag & SL_TAG_BUFFER))
		tag_out |= msgbuf_deliver(sender, src, dst, spec);
	msg_copy(f, src, len);
	for (unsigned i = 0; i < ncaps; i++)
		tag_out |= transfer_cap(src_cs, SL_TAG_CAP_SLOT(tag, i), dst,
					SL_SPEC_CAP_SLOT(spec, i), dst_ep, i, &xb[i]);
	f->rbx = xb[0];
	f->rbp = xb[1];
	f->rsi = tag_out;
	f->rdi = badge;
}

/* The caller's side of a kill: leave whatever IPC it was in. */
void ipc_abandon(thread_t *self)
{
	if (self->ipc_reply && self->ipc_reply->caller == self)
		self->ipc_reply->caller = NULL; /* its answer now gets SL_EDEAD */
	self->ipc_state = IPC_IDLE;
}

void ipc_thread_cleanup(thread_t *t)
{
	spin_lock(&ipc_lock);
	if (t->ipc_state != IPC_IDLE && t->ipc_state != IPC_DONE)
		ipc_abandon(t);
	reply_thread_exit(t);
	spin_unlock(&ipc_lock);
}

static bool ipc_done(void *arg)
{
	return ((thread_t *)arg)->ipc_state == IPC_DONE;
}

/*
 * Blocks the caller until a partner sets IPC_DONE. Entered and left with
 * ipc_lock held. Returns the partner's result, or SL_EKILLED.
 */
int ipc_block(thread_t *self, waitq_t *q)
{
	int r = waitq_wait_locked(q, ipc_done, self, 0);

	if (r < 0) {
		ipc_abandon(self);
		return r;
	}
	self->ipc_state = IPC_IDLE;
	return self->ipc_result;
}

/* ----------------------------------------------------------------- decode */

/* A slot the kernel may fill: 0 (none) or an empty slot in range. */
static int check_target_slot(cspace_t *cs, unsigned slot, unsigned may_be_taken_by)
{
	cap_t *c;

	if (slot == 0 || slot == may_be_taken_by)
		return SL_OK;
	return cspace_prepare_empty(cs, slot, &c);
}

/* The tag of an outgoing message: length, count and the capabilities.
 * `reply` is the reply capability the message answers (0 if none): it is
 * used up by the answer, so it cannot also travel in it. */
int ipc_decode_tag(cspace_t *cs, uint64_t tag, bool may_grant, unsigned reply)
{
	cap_t *c;

	if (SL_TAG_LEN(tag) > SL_MSG_WORDS || SL_TAG_NCAPS(tag) > SL_MSG_CAPS)
		return SL_EINVAL;
	for (unsigned i = 0; reply && i < SL_TAG_NCAPS(tag); i++)
		if (SL_TAG_CAP_SLOT(tag, i) == reply)
			return SL_EINVAL;
	if (SL_TAG_NCAPS(tag) && !may_grant)
		return SL_EPERM;
	for (unsigned i = 0; i < SL_TAG_NCAPS(tag); i++) {
		int err = cspace_lookup(cs, SL_TAG_CAP_SLOT(tag, i), SL_CAP_NULL, 0, &c);
		if (err < 0)
			return err;
	}
	return SL_OK;
}

/* Where incoming things go (spec): every named slot empty and in range. */
int ipc_decode_spec(cspace_t *cs, uint64_t spec, bool reply_slot, unsigned reply_handle)
{
	int err = SL_OK;

	if (reply_slot)
		err = check_target_slot(cs, SL_SPEC_REPLY_SLOT(spec), reply_handle);
	for (unsigned i = 0; i < SL_MSG_CAPS && err == SL_OK; i++)
		err = check_target_slot(cs, SL_SPEC_CAP_SLOT(spec, i), 0);
	return err;
}

/* ------------------------------------------------------------------- send */

typedef struct {
	endpoint_t *ep;
	uint64_t badge;
	bool grant;
} send_args_t;

static int decode_send(thread_t *self, const trap_frame_t *f, bool call, send_args_t *a)
{
	cspace_t *cs = cs_of(self);
	cap_t *c;
	int err = cspace_lookup(cs, slot_arg(f->rdi), SL_CAP_ENDPOINT, SL_RIGHT_SEND, &c);

	if (err < 0)
		return err;
	*a = (send_args_t){ c->obj, c->badge, (c->rights & SL_RIGHT_GRANT) != 0 };
	if (a->ep->hdr.dead)
		return SL_EDEAD;
	if ((err = ipc_decode_tag(cs, f->rsi, a->grant, 0)) < 0 ||
	    (err = msgbuf_decode(self, f)) < 0)
		return err;
	return call ? ipc_decode_spec(cs, f->rbx, false, 0) : SL_OK;
}

/* Whether a call's reply capability can go where the receiver's spec
 * says. Checked before anything is delivered: a call that nobody could
 * answer fails whole (SL_EDEAD), its message and capabilities unmoved. */
static bool can_take_reply(thread_t *receiver, uint64_t spec)
{
	cap_t *c;

	return SL_SPEC_REPLY_SLOT(spec) &&
		cspace_prepare_empty(cs_of(receiver), SL_SPEC_REPLY_SLOT(spec), &c) == SL_OK;
}

/* send, nbsend and call, after decoding. */
static int invoke_send(thread_t *self, trap_frame_t *f, const send_args_t *a, bool call, bool block)
{
	if (!block && !a->ep->receivers.list.head)
		return SL_EWOULDBLOCK;
	thread_t *first = call ? ipc_peek_thread(&a->ep->receivers) : NULL;
	if (first && !can_take_reply(first, first->ipc_spec))
		return SL_EDEAD; /* it stays waiting; nothing was delivered */
	if (call) {              /* the only allocation (a first call): before anything changes */
		int err = reply_prepare(self);
		if (err < 0)
			return err;
	}
	self->ipc_spec = f->rbx;
	self->ipc_grant = a->grant;
	thread_t *r = ipc_take_thread(&a->ep->receivers);
	if (!r && !block) { /* every queued receiver had already gone */
		ipc_abandon(self);
		return SL_EWOULDBLOCK;
	}
	if (!r) {
		self->ipc_state = call ? IPC_CALLING : IPC_SENDING;
		self->ipc_badge = a->badge;
		return ipc_block(self, &a->ep->senders);
	}
	ipc_deliver(f, self, a->badge, r, r->ipc_spec, a->ep);
	r->uframe->rax = SL_OK;
	if (!call) {
		ipc_complete(r, SL_OK);
		return SL_OK;
	}
	if (!reply_attach(self, r, r->ipc_spec)) {
		ipc_complete(r, SL_OK);
		return SL_EDEAD;
	}
	ipc_finish(r, SL_OK, ipc_fastpath_on && SL_TAG_NCAPS(f->rsi) == 0);
	return ipc_block(self, &self->ipc_wq); /* we block next: the server runs now */
}

/* ---------------------------------------------------------------- receive */

typedef struct {
	endpoint_t *ep;
	cap_t *reply; /* reply_recv: the capability to answer, or NULL */
} recv_args_t;

static int decode_recv(thread_t *self, const trap_frame_t *f, uint32_t ep_slot, bool with_reply,
		       recv_args_t *a)
{
	cspace_t *cs = cs_of(self);
	cap_t *c;
	unsigned reply_handle = with_reply ? SL_SPEC_REPLY(f->rbx) : 0;
	int err = cspace_lookup(cs, ep_slot, SL_CAP_ENDPOINT, SL_RIGHT_RECV, &c);

	if (err < 0)
		return err;
	*a = (recv_args_t){ c->obj, NULL };
	if (a->ep->hdr.dead)
		return SL_EDEAD;
	if (reply_handle) {
		if ((err = cspace_lookup(cs, reply_handle, SL_CAP_REPLY, SL_RIGHT_SEND,
					 &a->reply)) < 0)
			return err;
		if ((err = ipc_decode_tag(cs, f->rsi, a->reply->rights & SL_RIGHT_GRANT,
					  reply_handle)) < 0 ||
		    (err = msgbuf_decode(self, f)) < 0 ||
		    (err = msgbuf_check_reply(self, f, ((reply_t *)a->reply->obj)->caller)) < 0)
			return err;
	}
	return ipc_decode_spec(cs, f->rbx, true, reply_handle);
}

/* Takes the message of a queued sender; a caller then waits for a reply. */
static void receive_from(thread_t *self, thread_t *s, endpoint_t *ep, uint64_t spec)
{
	ipc_deliver(s->uframe, s, s->ipc_badge, self, spec, ep);
	if (s->ipc_state == IPC_CALLING && reply_attach(s, self, spec))
		return; /* still blocked; the reply wakes it */
	ipc_complete(s, s->ipc_state == IPC_CALLING ? SL_EDEAD : SL_OK);
}

static int invoke_recv(thread_t *self, trap_frame_t *f, endpoint_t *ep, bool block)
{
	uint64_t spec = f->rbx;

	if (events_receive(self, ep, spec))
		return SL_OK;
	thread_t *s;
	while ((s = ipc_take_thread(&ep->senders)) && s->ipc_state == IPC_CALLING &&
	       !can_take_reply(self, spec))
		ipc_complete(s, SL_EDEAD); /* a call we cannot answer fails whole */
	if (s) {
		receive_from(self, s, ep, spec);
		return SL_OK;
	}
	if (!block)
		return SL_EWOULDBLOCK;
	self->ipc_state = IPC_RECEIVING;
	self->ipc_spec = spec;
	self->ipc_ep = ep;
	return ipc_block(self, &ep->receivers);
}

/* reply2_recv's second answer: the reply capability in slot (not the one
 * the spec answers), found before anything happens; *c stays NULL for
 * slot 0 (none). */
static int decode_reply2(thread_t *self, const trap_frame_t *f, cap_t **c)
{
	unsigned slot = SL_REPLY2_REPLY(f->rdi);

	*c = NULL;
	if (!slot)
		return SL_OK;
	if (slot == SL_SPEC_REPLY(f->rbx))
		return SL_EINVAL;       /* one capability cannot answer twice */
	return cspace_lookup(cs_of(self), slot, SL_CAP_REPLY, SL_RIGHT_SEND, c);
}

/*
 * reply2_recv with a second answer: the message in the registers goes to
 * the caller behind the spec's reply capability (if any), which is woken;
 * the label alone to the second caller, which runs next (the fast path
 * switches straight to it); then the receive. Dead callers are told with
 * the next message.
 */
static int invoke_reply2_recv(thread_t *self, trap_frame_t *f, const recv_args_t *a, cap_t *second)
{
	trap_frame_t answer = { .rsi = SL_TAG(SL_REPLY2_LABEL(f->rdi), 0, 0) };
	bool handoff = ipc_fastpath_on && !a->ep->events_head && !a->ep->senders.list.head;
	bool reply_dead = a->reply && reply_invoke(self, f, a->reply, false) == SL_EDEAD;
	bool second_dead = reply_invoke(self, &answer, second, handoff) == SL_EDEAD;
	int r = invoke_recv(self, f, a->ep, true);

	if (reply_dead)
		f->rsi |= SL_TAG_REPLY_DEAD;
	if (second_dead)
		f->rsi |= SL_TAG_REPLY2_DEAD;
	return r;
}

/* reply_recv: the answer goes out, then we wait for the next message. When
 * nothing is waiting to be received, the switch goes straight to the
 * caller we answered (the fast path). */
static int invoke_reply_recv(thread_t *self, trap_frame_t *f, const recv_args_t *a)
{
	bool reply_dead = false;

	if (a->reply) {
		bool idle_next = !a->ep->events_head && !a->ep->senders.list.head;
		bool handoff = ipc_fastpath_on && idle_next && SL_TAG_NCAPS(f->rsi) == 0;

		reply_dead = reply_invoke(self, f, a->reply, handoff) == SL_EDEAD;
	}
	int r = invoke_recv(self, f, a->ep, true);
	if (reply_dead) /* told with the next message, not lost */
		f->rsi |= SL_TAG_REPLY_DEAD;
	return r;
}

int64_t ep_syscall(unsigned nr, thread_t *self, trap_frame_t *f)
{
	bool call = nr == SL_SYS_CALL, block = nr != SL_SYS_NBSEND && nr != SL_SYS_NBRECV;
	send_args_t s;
	recv_args_t r;
	cap_t *reply;
	int err;

	switch (nr) {
	case SL_SYS_SEND:
	case SL_SYS_NBSEND:
	case SL_SYS_CALL:
		if ((err = decode_send(self, f, call, &s)) < 0)
			return err;
		return invoke_send(self, f, &s, call, block);
	case SL_SYS_RECV:
	case SL_SYS_NBRECV:
		if ((err = decode_recv(self, f, slot_arg(f->rdi), false, &r)) < 0)
			return err;
		return invoke_recv(self, f, r.ep, block);
	case SL_SYS_REPLY:
		if ((err = reply_decode(self, f, &reply)) < 0)
			return err;
		return reply_invoke(self, f, reply, false);
	case SL_SYS_REPLY_RECV:
		if ((err = decode_recv(self, f, slot_arg(f->rdi), true, &r)) < 0)
			return err;
		return invoke_reply_recv(self, f, &r);
	case SL_SYS_REPLY2_RECV: {
		cap_t *second;

		if ((err = decode_recv(self, f, SL_REPLY2_EP(f->rdi), true, &r)) < 0 ||
		    (err = decode_reply2(self, f, &second)) < 0)
			return err;
		return second ? invoke_reply2_recv(self, f, &r, second) : invoke_reply_recv(self, f, &r);
	}
	default: return SL_ENOSYS;
	}
}
