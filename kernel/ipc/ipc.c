/*
 * Capability system calls, endpoints, notifications, reply objects and
 * silo events. See <kernel/ipc.h> for the locking and <abi/ipc.h> for the
 * message encoding.
 *
 * Every call decodes first: it looks up every capability and checks every
 * right, slot and length while holding ipc_lock, and returns an error
 * before anything has changed. Only then does it invoke. A thread that
 * blocks keeps its message in its saved user registers (t->uframe); the
 * partner that completes the transfer copies from them or into them.
 */
#include <abi/errors.h>
#include <abi/ipc.h>
#include <abi/syscall.h>
#include <kernel/heap.h>
#include <kernel/ipc.h>
#include <kernel/pmm.h>
#include <kernel/silo.h>
#include <kernel/string.h>
#include <kernel/thread.h>
#include <kernel/vm.h>
#include <stddef.h>

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

spinlock_t ipc_lock = SPINLOCK_INIT("ipc");
cap_mdb_t cap_mdb;

static slab_cache_t reply_cache;
static reply_t *reply_spares[16];       /* freed reply objects kept for reuse */
static unsigned reply_spare_count;

static void reply_release(reply_t *r);
static kobj_t silo_events_obj = { .type = SL_CAP_SILO_EVENTS, .refs = 1 };
static endpoint_t *events_ep;
static bool fastpath_on = true;
static uint64_t fastpaths;

void sched_wake_handoff(thread_t *t);

/* ---------------------------------------------------------------- objects */

/* A cspace chunk is a frame charged to the kmem quota of the silo whose
 * cspace it is (ctx; NULL charges nobody). */
static int chunk_alloc(void *ctx, void **chunk)
{
	silo_t *s = ctx;
	uint64_t pa;

	if (s && quota_charge(&s->kmem, FRAME_SIZE) < 0)
		return SL_EQUOTA;
	if (pmm_alloc(&pa) < 0) {
		if (s)
			quota_uncharge(&s->kmem, FRAME_SIZE);
		return SL_ENOMEM;
	}
	*chunk = phys_to_virt(pa);
	return SL_OK;
}

static void chunk_free(void *ctx, void *chunk)
{
	silo_t *s = ctx;

	pmm_free(virt_to_phys_direct(chunk));
	if (s)
		quota_uncharge(&s->kmem, FRAME_SIZE);
}

static void obj_get(void *obj, unsigned type)
{
	(void)type;
	((kobj_t *)obj)->refs++;
}

static void obj_destroy(kobj_t *o);

/* Takes o off its owner's list and gives the owner its quota back. */
static void owned_unlink(kobj_t *o)
{
	silo_t *s = o->owner;

	if (!s)
		return;
	if (o->owned_prev)
		o->owned_prev->owned_next = o->owned_next;
	else
		s->owned = o->owned_next;
	if (o->owned_next)
		o->owned_next->owned_prev = o->owned_prev;
	quota_uncharge(&s->kmem, o->charge);
	o->owner = NULL;
	o->owned_next = o->owned_prev = NULL;
}

static void obj_put(void *obj, unsigned type)
{
	kobj_t *o = obj;

	(void)type;
	if (--o->refs == 0)
		obj_destroy(o);
}

const cap_ops_t kernel_cap_ops = { chunk_alloc, chunk_free, obj_get, obj_put, NULL };

void ipc_cap_ops_for(struct silo *s, cap_ops_t *ops)
{
	*ops = kernel_cap_ops;
	ops->ctx = s;
}

/* Wakes t, which waits for IPC_DONE, with result. handoff: the caller
 * blocks next, so t runs straight after it (the fast path). */
static void ipc_finish(thread_t *t, int result, bool handoff)
{
	t->ipc_state = IPC_DONE;
	t->ipc_result = result;
	if (t->wait.queue)
		wq_remove(t->wait.queue, &t->wait);
	t->wait.blocked = false;
	if (handoff) {
		fastpaths++;
		sched_wake_handoff(t);
	} else {
		sched_wake(t);
	}
}

static void ipc_complete(thread_t *t, int result)
{
	ipc_finish(t, result, false);
}

static void fail_all(waitq_t *q, int result)
{
	wq_node_t *n;

	while ((n = wq_take_one(&q->list)))
		ipc_complete(container_of(n, thread_t, wait), result);
}

static void obj_destroy(kobj_t *o)
{
	switch (o->type) {
	case SL_CAP_ENDPOINT: {
		endpoint_t *ep = (endpoint_t *)o;
		fail_all(&ep->senders, SL_EDEAD);
		fail_all(&ep->receivers, SL_EDEAD);
		break;
	}
	case SL_CAP_NOTIFICATION:
		fail_all(&((notification_t *)o)->waiters, SL_EDEAD);
		break;
	case SL_CAP_REPLY: {
		reply_t *r = (reply_t *)o;
		if (r->caller) {                /* dropped without an answer */
			r->caller->ipc_reply = NULL;
			ipc_complete(r->caller, SL_EDEAD);
		}
		reply_release(r);
		return;
	}
	default:
		return;                         /* the silo-events object is static */
	}
	owned_unlink(o);
	kfree(o);
}

/* A zeroed object of size bytes charged to owner's quota, or NULL. */
static kobj_t *obj_new(silo_t *owner, size_t size, unsigned type, int *err)
{
	uint32_t charge = SLAB_MIN_OBJECT;

	while (charge < size)
		charge <<= 1;
	if ((*err = quota_charge(&owner->kmem, charge)) < 0)
		return NULL;
	kobj_t *o = kmalloc(size);
	if (!o) {
		quota_uncharge(&owner->kmem, charge);
		*err = SL_ENOMEM;
		return NULL;
	}
	*o = (kobj_t){ .type = type, .owner = owner, .charge = charge, .owned_next = owner->owned };
	if (owner->owned)
		owner->owned->owned_prev = o;
	owner->owned = o;
	return o;
}

static void endpoint_init(endpoint_t *ep)
{
	waitq_init(&ep->senders, "ep.send", &ipc_lock);
	waitq_init(&ep->receivers, "ep.recv", &ipc_lock);
}

/* A call needs a reply object every time, charged to the calling silo's
 * kmem quota until the object goes (SL_EQUOTA, SL_ENOMEM); keeping a few
 * freed ones spares the slab allocator a round trip per call. */
static int reply_new(silo_t *caller, reply_t **out)
{
	uint32_t charge = reply_cache.object_size;

	if (quota_charge(&caller->kmem, charge) < 0)
		return SL_EQUOTA;
	reply_t *r = reply_spare_count ? reply_spares[--reply_spare_count] : slab_alloc(&reply_cache);
	if (!r) {
		quota_uncharge(&caller->kmem, charge);
		return SL_ENOMEM;
	}
	*r = (reply_t){ .hdr = { .type = SL_CAP_REPLY, .owner = caller, .charge = charge } };
	*out = r;
	return SL_OK;
}

static void reply_release(reply_t *r)
{
	/* owner only names whom to give the charge back to: replies are not
	 * on the owner's list of objects. */
	if (r->hdr.owner)
		quota_uncharge(&r->hdr.owner->kmem, r->hdr.charge);
	r->hdr.owner = NULL;
	if (reply_spare_count < sizeof reply_spares / sizeof reply_spares[0])
		reply_spares[reply_spare_count++] = r;
	else
		slab_free(&reply_cache, r);
}

void ipc_init(void)
{
	cap_mdb_init(&cap_mdb);
	heap_cache_init(&reply_cache, "reply", sizeof(reply_t));
}

/* --------------------------------------------------------------- messages */

/* A slot number from a register: values past 32 bits stay out of range
 * (SL_EINVAL) rather than wrapping onto a small slot. */
static uint32_t slot_arg(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static cspace_t *cs_of(thread_t *t)
{
	return &t->silo->cspace;
}

static bool ipc_done(void *arg)
{
	return ((thread_t *)arg)->ipc_state == IPC_DONE;
}

static thread_t *take_thread(waitq_t *q)
{
	wq_node_t *n = wq_take_one(&q->list);

	return n ? container_of(n, thread_t, wait) : NULL;
}

/* The thread take_thread would return, left queued. */
static thread_t *peek_thread(waitq_t *q)
{
	wq_node_t *n;

	while ((n = q->list.head) && !n->blocked)
		wq_remove(&q->list, n);         /* gone already, as wq_take_one drops them */
	return n ? container_of(n, thread_t, wait) : NULL;
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

/* Moves (or unwraps) the sender's capability i; returns tag flags. */
static uint64_t transfer_cap(cspace_t *src_cs, unsigned src_slot, thread_t *dst,
			     unsigned dst_slot, const endpoint_t *dst_ep, unsigned i,
			     uint64_t *unwrapped_badge)
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
 * badge, tag, the words the tag counts (the rest zeroed, so nothing of the
 * sender's leaks) and the capabilities. src_cs is the sender's cspace, or
 * NULL for a message from the kernel.
 */
static void deliver(const trap_frame_t *src, cspace_t *src_cs, uint64_t badge,
		    thread_t *dst, uint64_t spec, const endpoint_t *dst_ep)
{
	trap_frame_t *f = dst->uframe;
	uint64_t tag = src->rsi;
	unsigned len = SL_TAG_LEN(tag), ncaps = SL_TAG_NCAPS(tag);
	const uint64_t in[SL_MSG_WORDS] = { src->rdx, src->r10, src->r8, src->r9,
					    src->r12, src->r13, src->r14, src->r15 };
	uint64_t *out[SL_MSG_WORDS] = { &f->rdx, &f->r10, &f->r8, &f->r9,
					&f->r12, &f->r13, &f->r14, &f->r15 };
	uint64_t tag_out = SL_TAG(SL_TAG_LABEL(tag), len, ncaps), xb[SL_MSG_CAPS] = { 0, 0 };

	for (unsigned i = 0; i < SL_MSG_WORDS; i++)
		*out[i] = i < len ? in[i] : 0;
	for (unsigned i = 0; i < ncaps; i++)
		tag_out |= transfer_cap(src_cs, SL_TAG_CAP_SLOT(tag, i), dst,
					SL_SPEC_CAP_SLOT(spec, i), dst_ep, i, &xb[i]);
	f->rbx = xb[0];
	f->rbp = xb[1];
	f->rsi = tag_out;
	f->rdi = badge;
}

/* Gives the receiver a reply capability for caller's call. Returns false
 * (and fails the call with SL_EDEAD) if the receiver has no room for it. */
static bool attach_reply(thread_t *caller, thread_t *receiver, uint64_t spec)
{
	reply_t *r = caller->ipc_reply;
	unsigned rights = SL_RIGHT_SEND | (caller->ipc_grant ? SL_RIGHT_GRANT : 0);

	if (cap_insert_root(cs_of(receiver), SL_SPEC_REPLY_SLOT(spec), r, SL_CAP_REPLY, rights, 0) < 0) {
		caller->ipc_reply = NULL;
		reply_release(r);
		return false;
	}
	r->caller = caller;
	receiver->uframe->rsi |= SL_TAG_CALL;
	caller->ipc_state = IPC_WAIT_REPLY;
	return true;
}

/* The caller's side of a kill: leave whatever IPC it was in. */
static void ipc_abandon(thread_t *self)
{
	if (self->ipc_reply) {
		if (self->ipc_reply->hdr.refs)                  /* a reply capability names it */
			self->ipc_reply->caller = NULL;
		else
			reply_release(self->ipc_reply);       /* never delivered */
		self->ipc_reply = NULL;
	}
	self->ipc_state = IPC_IDLE;
}

void ipc_detach_reply(thread_t *t)
{
	spin_lock(&ipc_lock);
	if (t->ipc_reply && t->ipc_reply->caller == t) {
		t->ipc_reply->caller = NULL;    /* a reply from now on gets SL_EDEAD */
		t->ipc_reply = NULL;            /* and the object is the capability's alone */
	}
	spin_unlock(&ipc_lock);
}

void ipc_thread_cleanup(thread_t *t)
{
	spin_lock(&ipc_lock);
	if (t->ipc_state != IPC_IDLE && t->ipc_state != IPC_DONE)
		ipc_abandon(t);
	spin_unlock(&ipc_lock);
}

/*
 * Blocks the caller until a partner sets IPC_DONE. Entered and left with
 * ipc_lock held. Returns the partner's result, or SL_EKILLED.
 */
static int ipc_block(thread_t *self, waitq_t *q)
{
	int r = waitq_wait_locked(q, ipc_done, self, 0);

	if (r < 0) {
		ipc_abandon(self);
		return r;
	}
	/* A call that failed before any receiver took it (its endpoint was
	 * destroyed) still owns its unused reply object. */
	if (self->ipc_reply && self->ipc_reply->hdr.refs == 0) {
		reply_release(self->ipc_reply);
		self->ipc_reply = NULL;
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
static int decode_tag(cspace_t *cs, uint64_t tag, bool may_grant, unsigned reply)
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
static int decode_spec(cspace_t *cs, uint64_t spec, bool reply_slot, unsigned reply_handle)
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
	if ((err = decode_tag(cs, f->rsi, a->grant, 0)) < 0)
		return err;
	return call ? decode_spec(cs, f->rbx, false, 0) : SL_OK;
}

/* send, nbsend and call, after decoding. */
static int invoke_send(thread_t *self, trap_frame_t *f, const send_args_t *a, bool call, bool block)
{
	if (!block && !a->ep->receivers.list.head)
		return SL_EWOULDBLOCK;
	thread_t *first = call ? peek_thread(&a->ep->receivers) : NULL;
	if (first && !can_take_reply(first, first->ipc_spec))
		return SL_EDEAD;        /* it stays waiting; nothing was delivered */
	if (call) {             /* the only allocation: before anything changes */
		int err = reply_new(self->silo, &self->ipc_reply);
		if (err < 0)
			return err;
	}
	self->ipc_spec = f->rbx;
	self->ipc_grant = a->grant;
	thread_t *r = take_thread(&a->ep->receivers);
	if (!r && !block) {     /* every queued receiver had already gone */
		ipc_abandon(self);
		return SL_EWOULDBLOCK;
	}
	if (!r) {
		self->ipc_state = call ? IPC_CALLING : IPC_SENDING;
		self->ipc_badge = a->badge;
		return ipc_block(self, &a->ep->senders);
	}
	deliver(f, cs_of(self), a->badge, r, r->ipc_spec, a->ep);
	r->uframe->rax = SL_OK;
	if (!call) {
		ipc_complete(r, SL_OK);
		return SL_OK;
	}
	if (!attach_reply(self, r, r->ipc_spec)) {
		ipc_complete(r, SL_OK);
		return SL_EDEAD;
	}
	ipc_finish(r, SL_OK, fastpath_on && SL_TAG_NCAPS(f->rsi) == 0);
	return ipc_block(self, &self->ipc_wq);  /* we block next: the server runs now */
}

/* ---------------------------------------------------------------- receive */

typedef struct {
	endpoint_t *ep;
	cap_t *reply;           /* reply_recv: the capability to answer, or NULL */
} recv_args_t;

static int decode_recv(thread_t *self, const trap_frame_t *f, bool with_reply, recv_args_t *a)
{
	cspace_t *cs = cs_of(self);
	cap_t *c;
	unsigned reply_handle = with_reply ? SL_SPEC_REPLY(f->rbx) : 0;
	int err = cspace_lookup(cs, slot_arg(f->rdi), SL_CAP_ENDPOINT, SL_RIGHT_RECV, &c);

	if (err < 0)
		return err;
	*a = (recv_args_t){ c->obj, NULL };
	if (a->ep->hdr.dead)
		return SL_EDEAD;
	if (reply_handle) {
		if ((err = cspace_lookup(cs, reply_handle, SL_CAP_REPLY, SL_RIGHT_SEND, &a->reply)) < 0)
			return err;
		if ((err = decode_tag(cs, f->rsi, a->reply->rights & SL_RIGHT_GRANT, reply_handle)) < 0)
			return err;
	}
	return decode_spec(cs, f->rbx, true, reply_handle);
}

/* Takes a silo event queued on ep, if any. */
static bool receive_event(thread_t *self, endpoint_t *ep, uint64_t spec)
{
	silo_event_t *e = ep->events_head;

	if (!e)
		return false;
	const uint64_t *w = e->words;
	trap_frame_t ev = { .rsi = SL_TAG(SL_EVENT_SILO_EXIT, 5, 0),
			    .rdx = w[0], .r10 = w[1], .r8 = w[2], .r9 = w[3], .r12 = w[4] };

	ep->events_head = e->next;
	if (!ep->events_head)
		ep->events_tail = NULL;
	e->next = NULL;
	deliver(&ev, NULL, SL_BADGE_KERNEL, self, spec, ep);
	return true;
}

/* Takes the message of a queued sender; a caller then waits for a reply. */
static void receive_from(thread_t *self, thread_t *s, endpoint_t *ep, uint64_t spec)
{
	deliver(s->uframe, cs_of(s), s->ipc_badge, self, spec, ep);
	if (s->ipc_state == IPC_CALLING && attach_reply(s, self, spec))
		return;                 /* still blocked; the reply wakes it */
	ipc_complete(s, s->ipc_state == IPC_CALLING ? SL_EDEAD : SL_OK);
}

static int invoke_recv(thread_t *self, trap_frame_t *f, endpoint_t *ep, bool block)
{
	uint64_t spec = f->rbx;

	if (receive_event(self, ep, spec))
		return SL_OK;
	thread_t *s;
	while ((s = take_thread(&ep->senders)) && s->ipc_state == IPC_CALLING &&
	       !can_take_reply(self, spec))
		ipc_complete(s, SL_EDEAD);      /* a call we cannot answer fails whole */
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

/* ------------------------------------------------------------------ reply */

/* Answers the call behind reply capability c; the capability is used up
 * either way. handoff: switch straight to the caller when we block next. */
static int invoke_reply(thread_t *self, const trap_frame_t *f, cap_t *c, bool handoff)
{
	reply_t *r = c->obj;
	thread_t *caller = r->caller;

	if (!caller) {
		cap_delete_entry(cs_of(self), c);
		return SL_EDEAD;
	}
	deliver(f, cs_of(self), 0, caller, caller->ipc_spec, NULL);
	caller->uframe->rax = SL_OK;
	r->caller = NULL;
	caller->ipc_reply = NULL;
	cap_delete_entry(cs_of(self), c);
	ipc_finish(caller, SL_OK, handoff);
	return SL_OK;
}

static int decode_reply(thread_t *self, const trap_frame_t *f, cap_t **c)
{
	cspace_t *cs = cs_of(self);
	int err = cspace_lookup(cs, slot_arg(f->rdi), SL_CAP_REPLY, SL_RIGHT_SEND, c);

	if (err < 0)
		return err;
	return decode_tag(cs, f->rsi, (*c)->rights & SL_RIGHT_GRANT, slot_arg(f->rdi));
}

/* reply_recv: the answer goes out, then we wait for the next message. When
 * nothing is waiting to be received, the switch goes straight to the
 * caller we answered (the fast path). */
static int invoke_reply_recv(thread_t *self, trap_frame_t *f, const recv_args_t *a)
{
	bool reply_dead = false;

	if (a->reply) {
		bool idle_next = !a->ep->events_head && !a->ep->senders.list.head;
		bool handoff = fastpath_on && idle_next && SL_TAG_NCAPS(f->rsi) == 0;

		reply_dead = invoke_reply(self, f, a->reply, handoff) == SL_EDEAD;
	}
	int r = invoke_recv(self, f, a->ep, true);
	if (reply_dead)                 /* told with the next message, not lost */
		f->rsi |= SL_TAG_REPLY_DEAD;
	return r;
}

/* ---------------------------------------------------------- notifications */

static int sys_signal(thread_t *self, const trap_frame_t *f)
{
	cap_t *c;
	int err = cspace_lookup(cs_of(self), slot_arg(f->rdi), SL_CAP_NOTIFICATION, SL_RIGHT_SEND, &c);

	if (err < 0)
		return err;
	notification_t *n = c->obj;
	if (n->hdr.dead)
		return SL_EDEAD;
	n->word |= c->badge;
	if (n->word == 0)
		return SL_OK;           /* an unbadged signal carries nothing */
	thread_t *w = take_thread(&n->waiters);
	if (w) {
		w->uframe->rdi = n->word;
		n->word = 0;
		ipc_complete(w, SL_OK);
	}
	return SL_OK;
}

/* wait (block) and poll (never block): the word comes back in RDI. */
static int sys_wait(thread_t *self, trap_frame_t *f, bool block)
{
	cap_t *c;
	int err = cspace_lookup(cs_of(self), slot_arg(f->rdi), SL_CAP_NOTIFICATION, SL_RIGHT_RECV, &c);

	if (err < 0)
		return err;
	notification_t *n = c->obj;
	if (n->hdr.dead)
		return SL_EDEAD;
	f->rdi = n->word;
	n->word = 0;
	if (f->rdi || !block)
		return SL_OK;
	self->ipc_state = IPC_RECEIVING;
	return ipc_block(self, &n->waiters);
}

/* ------------------------------------------------------------ silo events */

static int sys_events_bind(thread_t *self, const trap_frame_t *f)
{
	cspace_t *cs = cs_of(self);
	cap_t *ev, *c;
	int err = cspace_lookup(cs, slot_arg(f->rdi), SL_CAP_SILO_EVENTS, 0, &ev);

	if (err < 0 || (err = cspace_lookup(cs, slot_arg(f->rsi), SL_CAP_ENDPOINT, SL_RIGHT_SEND, &c)) < 0)
		return err;
	endpoint_t *ep = c->obj;
	if (ep == events_ep)
		return SL_OK;
	ep->hdr.refs++;         /* the kernel's hold, dropped on rebind or shutdown */
	if (events_ep)
		obj_put(events_ep, SL_CAP_ENDPOINT);
	events_ep = ep;
	return SL_OK;
}

void ipc_orphan_objects(silo_t *s)
{
	while (s->owned) {
		kobj_t *o = s->owned;

		owned_unlink(o);
		o->dead = true;
		if (o->type == SL_CAP_ENDPOINT) {
			fail_all(&((endpoint_t *)o)->senders, SL_EDEAD);
			fail_all(&((endpoint_t *)o)->receivers, SL_EDEAD);
		} else if (o->type == SL_CAP_NOTIFICATION) {
			fail_all(&((notification_t *)o)->waiters, SL_EDEAD);
		}
	}
}

void ipc_post_silo_event(silo_event_t *ev)
{
	spin_lock(&ipc_lock);
	endpoint_t *ep = events_ep;
	if (ep && !ep->hdr.dead) {
		thread_t *r = take_thread(&ep->receivers);

		/* A silo ends once, so its one event is on no list yet. */
		ev->next = NULL;
		if (ep->events_tail)
			ep->events_tail->next = ev;
		else
			ep->events_head = ev;
		ep->events_tail = ev;
		if (r) {
			receive_event(r, ep, r->ipc_spec);
			r->uframe->rax = SL_OK;
			ipc_complete(r, SL_OK);
		}
	}
	spin_unlock(&ipc_lock);
}

void ipc_release_all(void)
{
	spin_lock(&ipc_lock);
	if (events_ep)
		obj_put(events_ep, SL_CAP_ENDPOINT);
	events_ep = NULL;
	while (reply_spare_count)
		slab_free(&reply_cache, reply_spares[--reply_spare_count]);
	spin_unlock(&ipc_lock);
}

/* ------------------------------------------------------- capability calls */

static int sys_create(thread_t *self, const trap_frame_t *f, unsigned type)
{
	cspace_t *cs = cs_of(self);
	cap_t *dst;
	int err = cspace_prepare_empty(cs, slot_arg(f->rdi), &dst);
	size_t size = type == SL_CAP_ENDPOINT ? sizeof(endpoint_t) : sizeof(notification_t);

	if (err < 0)
		return err;
	kobj_t *o = obj_new(self->silo, size, type, &err);
	if (!o)
		return err;
	if (type == SL_CAP_ENDPOINT)
		endpoint_init((endpoint_t *)o);
	else
		waitq_init(&((notification_t *)o)->waiters, "ntfn", &ipc_lock);
	cap_insert_root(cs, slot_arg(f->rdi), o, type, SL_RIGHTS_ALL, 0);    /* cannot fail now */
	return SL_OK;
}

static int sys_identify(thread_t *self, const trap_frame_t *f)
{
	cap_t *c;
	int err = cspace_lookup(cs_of(self), slot_arg(f->rdi), SL_CAP_NULL, 0, &c);

	if (err < 0)
		return err;
	sl_cap_info_t info = { c->type, c->rights, c->badge };
	/* Copying to user memory cannot sleep or take locks: it may run here. */
	return copy_to_user(f->rsi, &info, sizeof info);
}

static int64_t cap_call(unsigned nr, thread_t *self, trap_frame_t *f)
{
	cspace_t *cs = cs_of(self);

	switch (nr) {
	case SL_SYS_CAP_COPY:
		return cap_copy(cs, slot_arg(f->rdi), cs, slot_arg(f->rsi));
	case SL_SYS_CAP_MINT:
		if (f->rdx & ~(uint64_t)SL_RIGHTS_ALL)
			return SL_EINVAL;
		return cap_mint(cs, slot_arg(f->rdi), slot_arg(f->rsi), (unsigned)f->rdx, f->r10);
	case SL_SYS_CAP_MOVE:
		return cap_move(cs, slot_arg(f->rdi), cs, slot_arg(f->rsi));
	case SL_SYS_CAP_DELETE:
		return cap_delete(cs, slot_arg(f->rdi));
	case SL_SYS_CAP_REVOKE:
		return cap_revoke(cs, slot_arg(f->rdi));
	case SL_SYS_CAP_IDENTIFY:
		return sys_identify(self, f);
	case SL_SYS_EP_CREATE:
		return sys_create(self, f, SL_CAP_ENDPOINT);
	case SL_SYS_NTFN_CREATE:
		return sys_create(self, f, SL_CAP_NOTIFICATION);
	case SL_SYS_EVENTS_BIND:
		return sys_events_bind(self, f);
	case SL_SYS_SIGNAL:
		return sys_signal(self, f);
	case SL_SYS_WAIT:
		return sys_wait(self, f, true);
	case SL_SYS_POLL:
		return sys_wait(self, f, false);
	default:
		return SL_ENOSYS;
	}
}

static int64_t ipc_call(unsigned nr, thread_t *self, trap_frame_t *f)
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
		if ((err = decode_recv(self, f, false, &r)) < 0)
			return err;
		return invoke_recv(self, f, r.ep, block);
	case SL_SYS_REPLY:
		if ((err = decode_reply(self, f, &reply)) < 0)
			return err;
		return invoke_reply(self, f, reply, false);
	case SL_SYS_REPLY_RECV:
		if ((err = decode_recv(self, f, true, &r)) < 0)
			return err;
		return invoke_reply_recv(self, f, &r);
	default:
		return cap_call(nr, self, f);
	}
}

/* Every capability and IPC call, under ipc_lock. */
int64_t ipc_syscall(unsigned nr, trap_frame_t *f)
{
	thread_t *self = thread_current();

	spin_lock(&ipc_lock);
	int64_t r = ipc_call(nr, self, f);
	spin_unlock(&ipc_lock);
	return r;
}

/* -------------------------------------------------------------- boot wiring */

int ipc_setup_server(silo_t *server)
{
	int err = SL_OK;

	spin_lock(&ipc_lock);
	kobj_t *ep = obj_new(server, sizeof(endpoint_t), SL_CAP_ENDPOINT, &err);
	if (ep) {
		endpoint_init((endpoint_t *)ep);
		err = cap_insert_root(&server->cspace, SL_SLOT_SERVER, ep, SL_CAP_ENDPOINT, SL_RIGHTS_ALL, 0);
	}
	if (err == SL_OK)
		err = cap_insert_root(&server->cspace, SL_SLOT_SILO_EVENTS, &silo_events_obj,
				      SL_CAP_SILO_EVENTS, SL_RIGHTS_ALL, 0);
	spin_unlock(&ipc_lock);
	return err;
}

int ipc_setup_client(silo_t *client, silo_t *server)
{
	spin_lock(&ipc_lock);
	int err = cap_derive(&server->cspace, SL_SLOT_SERVER, &client->cspace, SL_SLOT_SERVER,
			     SL_RIGHT_SEND | SL_RIGHT_GRANT, (uint64_t)client->id);
	spin_unlock(&ipc_lock);
	return err;
}

uint64_t ipc_fastpath_count(void)
{
	return fastpaths;
}

void ipc_set_fastpath(bool on)
{
	fastpath_on = on;
}
