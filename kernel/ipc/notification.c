/*
 * Notifications: a word of badge bits that signal ORs in and wait/poll
 * take out, waking one waiter at a time.
 */
#include <abi/errors.h>
#include <abi/ipc.h>
#include <abi/syscall.h>
#include "ipc_internal.h"

/* The notification capability in the slot RDI names, with `right`, whose
 * object is still alive: SL_ECAP, SL_EPERM, SL_EDEAD otherwise. */
static int ntfn_decode(thread_t *self, const trap_frame_t *f, unsigned right, cap_t **c)
{
	int err = cspace_lookup(cs_of(self), slot_arg(f->rdi), SL_CAP_NOTIFICATION, right, c);

	if (err < 0)
		return err;
	return ((notification_t *)(*c)->obj)->hdr.dead ? SL_EDEAD : SL_OK;
}

int ntfn_signal(thread_t *self, const trap_frame_t *f)
{
	cap_t *c;
	int err = ntfn_decode(self, f, SL_RIGHT_SEND, &c);

	if (err < 0)
		return err;
	notification_t *n = c->obj;
	n->word |= c->badge;
	if (n->word == 0)
		return SL_OK; /* an unbadged signal carries nothing */
	thread_t *w = ipc_take_thread(&n->waiters);
	if (w) {
		w->uframe->rdi = n->word;
		n->word = 0;
		ipc_complete(w, SL_OK);
	}
	return SL_OK;
}

/* wait (block) and poll (never block): the word comes back in RDI. */
int ntfn_wait(thread_t *self, trap_frame_t *f, bool block)
{
	cap_t *c;
	int err = ntfn_decode(self, f, SL_RIGHT_RECV, &c);

	if (err < 0)
		return err;
	notification_t *n = c->obj;
	f->rdi = n->word;
	n->word = 0;
	if (f->rdi || !block)
		return SL_OK;
	self->ipc_state = IPC_RECEIVING;
	return ipc_block(self, &n->waiters);
}
