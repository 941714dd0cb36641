/*
 * Reply objects: one per outstanding call, named by the reply capability
 * the receiver of the call holds. Answering (reply, or the reply half of
 * reply_recv) uses the capability up; dropping it unanswered fails the
 * call with SL_EDEAD.
 */
#include <abi/errors.h>
#include <abi/ipc.h>
#include <abi/syscall.h>
#include "ipc_internal.h"
#include <kernel/heap.h>

static slab_cache_t reply_cache;
static reply_t *reply_spares[16];       /* freed reply objects kept for reuse */
static unsigned reply_spare_count;

/* A call needs a reply object every time; keeping a few freed ones spares
 * the slab allocator a round trip per call. */
void reply_init(void)
{
	heap_cache_init(&reply_cache, "reply", sizeof(reply_t));
}

void reply_free_spares(void)
{
	while (reply_spare_count)
		slab_free(&reply_cache, reply_spares[--reply_spare_count]);
}

reply_t *reply_new(void)
{
	reply_t *r = reply_spare_count ? reply_spares[--reply_spare_count] : slab_alloc(&reply_cache);

	if (r)
		*r = (reply_t){ .hdr = { .type = SL_CAP_REPLY } };
	return r;
}

void reply_release(reply_t *r)
{
	if (reply_spare_count < sizeof reply_spares / sizeof reply_spares[0])
		reply_spares[reply_spare_count++] = r;
	else
		slab_free(&reply_cache, r);
}

/* Gives the receiver a reply capability for caller's call. Returns false
 * (and fails the call with SL_EDEAD) if the receiver has no room for it. */
bool reply_attach(thread_t *caller, thread_t *receiver, uint64_t spec)
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

void ipc_detach_reply(thread_t *t)
{
	spin_lock(&ipc_lock);
	if (t->ipc_reply && t->ipc_reply->caller == t) {
		t->ipc_reply->caller = NULL;    /* a reply from now on gets SL_EDEAD */
		t->ipc_reply = NULL;            /* and the object is the capability's alone */
	}
	spin_unlock(&ipc_lock);
}

/* ------------------------------------------------------------------ reply */

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
	ipc_deliver(f, cs_of(self), 0, caller, caller->ipc_spec, NULL);
	caller->uframe->rax = SL_OK;
	r->caller = NULL;
	caller->ipc_reply = NULL;
	cap_delete_entry(cs_of(self), c);
	ipc_finish(caller, SL_OK, handoff);
	return SL_OK;
}

int reply_decode(thread_t *self, const trap_frame_t *f, cap_t **c)
{
	cspace_t *cs = cs_of(self);
	int err = cspace_lookup(cs, slot_arg(f->rdi), SL_CAP_REPLY, SL_RIGHT_SEND, c);

	if (err < 0)
		return err;
	return ipc_decode_tag(cs, f->rsi, (*c)->rights & SL_RIGHT_GRANT, slot_arg(f->rdi));
}

