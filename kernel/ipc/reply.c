/*
 * Reply objects. Each thread that calls has one (seL4's per-thread reply
 * slot): made on its first call, reused by every later call, freed when
 * the thread exits and no capability names it any more. A call puts a
 * reply capability naming the caller's object in the receiver's cspace,
 * outside the derivation list (it can never be copied), so a call costs
 * no allocation and no list work. Answering (reply, or the reply half of
 * reply_recv) uses the capability up; dropping it unanswered fails the
 * call with SL_EDEAD. A server may keep the capability, move it to any
 * slot and answer later: the object stays the caller's, and the caller
 * cannot call again before it is answered.
 */
#include <abi/errors.h>
#include <abi/ipc.h>
#include <abi/syscall.h>
#include "ipc_internal.h"
#include <kernel/heap.h>

static slab_cache_t reply_cache;

void reply_init(void)
{
	heap_cache_init(&reply_cache, "reply", sizeof(reply_t));
}

/* Frees r and gives its charge back to the silo that paid for it (silo
 * records outlive their threads, so hdr.owner is still there). */
static void reply_free(reply_t *r)
{
	if (r->hdr.owner)
		quota_uncharge(&r->hdr.owner->kmem, r->hdr.charge);
	slab_free(&reply_cache, r);
}

/* The caller's reply object, made on its first call and charged to its
 * silo's kmem quota until it is freed. A capability still naming the old
 * one (never the case: a thread calls again only once answered) would
 * leave it to that capability. SL_EQUOTA or SL_ENOMEM, before any change,
 * if it cannot be made. */
int reply_prepare(thread_t *caller)
{
	reply_t *r = caller->ipc_reply;
	uint32_t charge = reply_cache.object_size;

	if (r && r->hdr.refs == 0)
		return SL_OK;
	if (quota_charge(&caller->silo->kmem, charge) < 0)
		return SL_EQUOTA;
	reply_t *fresh = slab_alloc(&reply_cache);
	if (!fresh) {
		quota_uncharge(&caller->silo->kmem, charge);
		return SL_ENOMEM;
	}
	if (r)
		r->owner = NULL;
	*fresh = (reply_t){
		.hdr = { .type = SL_CAP_REPLY, .owner = caller->silo, .charge = charge },
		.owner = caller
	};
	caller->ipc_reply = fresh;
	return SL_OK;
}

/* The last capability to r went (see obj_destroy). */
void reply_destroy(reply_t *r)
{
	if (r->caller) { /* dropped without an answer */
		thread_t *caller = r->caller;

		r->caller = NULL;
		ipc_complete(caller, SL_EDEAD);
	}
	if (!r->owner)
		reply_free(r);
}

/* The thread is leaving for good: its object goes with it, or with the
 * capability that still names it. */
void reply_thread_exit(thread_t *t)
{
	reply_t *r = t->ipc_reply;

	if (!r)
		return;
	t->ipc_reply = NULL;
	if (r->caller == t)
		r->caller = NULL;
	r->owner = NULL;
	if (r->hdr.refs == 0)
		reply_free(r);
}

/* Gives the receiver a reply capability for caller's call. Returns false
 * (and the call fails with SL_EDEAD) if the receiver has no room for it. */
bool reply_attach(thread_t *caller, thread_t *receiver, uint64_t spec)
{
	reply_t *r = caller->ipc_reply;
	unsigned rights = SL_RIGHT_SEND | (caller->ipc_grant ? SL_RIGHT_GRANT : 0);

	if (cap_insert_leaf(cs_of(receiver), SL_SPEC_REPLY_SLOT(spec), r, SL_CAP_REPLY, rights) < 0)
		return false;
	r->caller = caller;
	receiver->uframe->rsi |= SL_TAG_CALL;
	caller->ipc_state = IPC_WAIT_REPLY;
	return true;
}

void ipc_detach_reply(thread_t *t)
{
	spin_lock(&ipc_lock);
	if (t->ipc_reply && t->ipc_reply->caller == t)
		t->ipc_reply->caller = NULL; /* a reply from now on gets SL_EDEAD */
	spin_unlock(&ipc_lock);
}

/* Answers the call behind reply capability c; the capability is used up
 * either way. handoff: switch straight to the caller when we block next. */
int reply_invoke(thread_t *self, const trap_frame_t *f, cap_t *c, bool handoff)
{
	reply_t *r = c->obj;
	thread_t *caller = r->caller;

	if (!caller) {
		cap_delete_entry(cs_of(self), c);
		return SL_EDEAD;
	}
	ipc_deliver(f, self, 0, caller, caller->ipc_spec, NULL);
	caller->uframe->rax = SL_OK;
	r->caller = NULL;
	cap_delete_entry(cs_of(self), c);
	ipc_finish(caller, SL_OK, handoff);
	return SL_OK;
}

int reply_decode(thread_t *self, const trap_frame_t *f, cap_t **c)
{
	cspace_t *cs = cs_of(self);
	int err = cspace_lookup(cs, slot_arg(f->rdi), SL_CAP_REPLY, SL_RIGHT_SEND, c);

	if (err < 0 ||
	    (err = ipc_decode_tag(cs, f->rsi, (*c)->rights & SL_RIGHT_GRANT, slot_arg(f->rdi))) <
		    0 ||
	    (err = msgbuf_decode(self, f)) < 0)
		return err;
	return msgbuf_check_reply(self, f, ((reply_t *)(*c)->obj)->caller);
}
