/*
 * Silo events: the kernel's messages about silos that ended, queued on the
 * one endpoint bound to the silo-events object and received like any
 * message (badge SL_BADGE_KERNEL).
 */
#include <abi/errors.h>
#include <abi/ipc.h>
#include <abi/syscall.h>
#include "ipc_internal.h"
#include <kernel/pmm.h>
#include <kernel/string.h>
#include <kernel/vm.h>

kobj_t silo_events_obj = { .type = SL_CAP_SILO_EVENTS, .refs = 1 };
static endpoint_t *events_ep;

int events_bind(thread_t *self, const trap_frame_t *f)
{
	cspace_t *cs = cs_of(self);
	cap_t *ev, *c;
	int err = cspace_lookup(cs, slot_arg(f->rdi), SL_CAP_SILO_EVENTS, 0, &ev);

	if (err < 0 ||
	    (err = cspace_lookup(cs, slot_arg(f->rsi), SL_CAP_ENDPOINT, SL_RIGHT_SEND, &c)) < 0)
		return err;
	endpoint_t *ep = c->obj;
	if (ep == events_ep)
		return SL_OK;
	ep->hdr.refs++; /* the kernel's hold, dropped on rebind or shutdown */
	if (events_ep)
		obj_put(events_ep, SL_CAP_ENDPOINT);
	events_ep = ep;
	return SL_OK;
}

/* Takes a silo event queued on ep, if any. */
bool events_receive(thread_t *self, endpoint_t *ep, uint64_t spec)
{
	silo_event_t *e = ep->events_head;

	if (!e)
		return false;
	const uint64_t *w = e->words;
	trap_frame_t ev = { .rsi = SL_TAG(SL_EVENT_SILO_EXIT, 5, 0),
			    .rdx = w[0],
			    .r10 = w[1],
			    .r8 = w[2],
			    .r9 = w[3],
			    .r12 = w[4] };

	ep->events_head = e->next;
	if (!ep->events_head)
		ep->events_tail = NULL;
	e->next = NULL;
	ipc_deliver(&ev, NULL, SL_BADGE_KERNEL, self, spec, ep);
	return true;
}

void ipc_post_silo_event(silo_event_t *ev)
{
	spin_lock(&ipc_lock);
	endpoint_t *ep = events_ep;
	if (ep && !ep->hdr.dead) {
		thread_t *r = ipc_take_thread(&ep->receivers);

		/* A silo ends once, so its one event is on no list yet. */
		ev->next = NULL;
		if (ep->events_tail)
			ep->events_tail->next = ev;
		else
			ep->events_head = ev;
		ep->events_tail = ev;
		if (r) {
			events_receive(r, ep, r->ipc_spec);
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
	spin_unlock(&ipc_lock);
}
