/*
 * chanserv's channel logic. See chanserv_core.h for the shape and
 * docs/chanserv.md for the semantics (after strat9's channel<T> and
 * SyncChan).
 *
 * Every request is checked completely before it changes anything.
 */
#include "chanserv_core.h"

#include <string.h>

/* ------------------------------------------------------------- replies */

static cs_reply_t *reply_to(cs_out_t *out, uint32_t token, int32_t status)
{
	cs_reply_t *r = &out->r[out->n++];

	*r = (cs_reply_t){ .token = token, .status = status };
	return r;
}

static void reply_status(cs_out_t *out, uint32_t token, int32_t status)
{
	reply_to(out, token, status);
}

/* ------------------------------------------------------------- handles */

static cs_silo_t *silo_of(cs_state_t *s, uint16_t silo)
{
	return silo < CS_MAX_SILOS ? &s->silos[silo] : &s->silos[0];
}

/* A live record for badge, or -1. */
static int32_t handle_find(const cs_state_t *s, uint64_t badge)
{
	uint32_t i = CHAN_BADGE_INDEX(badge);

	if (!(badge & CHAN_BADGE_HANDLE) || i >= CS_MAX_HANDLES)
		return -1;
	const cs_handle_t *h = &s->handles[i];
	return h->state == CS_H_LIVE && h->gen == CHAN_BADGE_GEN(badge) ? (int32_t)i : -1;
}

uint16_t cs_badge_silo(const cs_state_t *s, uint64_t badge)
{
	int32_t i = handle_find(s, badge);

	return i < 0 ? 0 : s->handles[i].owner;
}

static uint64_t badge_of(const cs_state_t *s, int32_t i)
{
	return CHAN_BADGE((uint32_t)i, s->handles[i].gen);
}

static bool has_room_for_handles(cs_state_t *s, uint16_t silo, uint32_t n)
{
	cs_silo_t *si = silo_of(s, silo);
	uint32_t free = 0;

	if (si->handles + n > si->max_handles)
		return false;
	for (uint32_t i = 0; i < CS_MAX_HANDLES && free < n; i++)
		free += s->handles[i].state == CS_H_FREE;
	return free >= n;
}

static void count_sides(cs_chan_t *c, uint8_t rights, int delta)
{
	if (rights & CHAN_RIGHT_SEND)
		c->senders += (uint32_t)delta;
	if (rights & CHAN_RIGHT_RECV)
		c->receivers += (uint32_t)delta;
}

/* A new live record; the caller has checked there is room. */
static int32_t handle_new(cs_state_t *s, uint16_t owner, int32_t chan, uint8_t rights)
{
	for (int32_t i = 0; i < CS_MAX_HANDLES; i++) {
		cs_handle_t *h = &s->handles[i];

		if (h->state != CS_H_FREE)
			continue;
		h->state = CS_H_LIVE;
		h->owner = owner;
		h->chan = chan;
		h->rights = rights;
		silo_of(s, owner)->handles++;
		count_sides(&s->chans[chan], rights, +1);
		return i;
	}
	return -1;
}

/* Takes a live handle out of its owner's hands into a message. */
static void handle_to_flight(cs_state_t *s, int32_t i)
{
	cs_handle_t *h = &s->handles[i];

	silo_of(s, h->owner)->handles--;
	h->state = CS_H_INFLIGHT;
	h->owner = 0;
	s->inflight++;
}

/* Gives an in-flight handle to silo under a new generation. */
static void handle_land(cs_state_t *s, int32_t i, uint16_t silo)
{
	cs_handle_t *h = &s->handles[i];

	h->gen++;
	h->state = CS_H_LIVE;
	h->owner = silo;
	silo_of(s, silo)->handles++;
	s->inflight--;
}

/* Gives an in-flight handle back to the silo that tried to send it: same
 * generation, so the capability it still holds works again. */
static void handle_return(cs_state_t *s, int32_t i, uint16_t silo)
{
	cs_handle_t *h = &s->handles[i];

	h->state = CS_H_LIVE;
	h->owner = silo;
	silo_of(s, silo)->handles++;
	s->inflight--;
}

static void check_channel(cs_state_t *s, int32_t chan, cs_out_t *out);
static void cancel_ops_on(cs_state_t *s, int32_t h, cs_out_t *out);

/* Closes a record, live or in flight, with every effect on its channel. */
static void handle_close(cs_state_t *s, int32_t i, cs_out_t *out)
{
	cs_handle_t *h = &s->handles[i];
	int32_t chan = h->chan;

	if (h->state == CS_H_LIVE)
		silo_of(s, h->owner)->handles--;
	else
		s->inflight--;
	count_sides(&s->chans[chan], h->rights, -1);
	*h = (cs_handle_t){ .gen = h->gen + 1, .state = CS_H_FREE, .chan = -1 };
	check_channel(s, chan, out);
}

/* ------------------------------------------------------------ channels */

static cs_item_t *ring_at(cs_chan_t *c, uint32_t k)
{
	return &c->ring[(c->head + k) % c->slots];
}

static void ring_push(cs_chan_t *c, const cs_item_t *it)
{
	*ring_at(c, c->count++) = *it;
}

static cs_item_t ring_pop(cs_chan_t *c)
{
	cs_item_t it = c->ring[c->head];

	c->head = (c->head + 1) % c->slots;
	c->count--;
	return it;
}

/* Discards every queued message; the handles riding in them are closed. */
static void ring_discard(cs_state_t *s, int32_t chan, cs_out_t *out)
{
	cs_chan_t *c = &s->chans[chan];

	while (c->count) {
		cs_item_t it = ring_pop(c);
		if (it.carried >= 0)
			handle_close(s, it.carried, out);
	}
}

static void pending_free(cs_state_t *s, int32_t p)
{
	cs_pending_t *op = &s->pending[p];

	silo_of(s, op->silo)->pending--;
	op->used = false;
}

static int32_t queue_pop(cs_state_t *s, int32_t *q)
{
	int32_t p = *q;

	if (p >= 0)
		*q = s->pending[p].next;
	return p;
}

static void queue_push(cs_state_t *s, int32_t *q, int32_t p)
{
	s->pending[p].next = -1;
	while (*q >= 0)
		q = &s->pending[*q].next;
	*q = p;
}

/* Answers every operation waiting in q with status; a send's carried
 * handle goes back to its sender. */
static void fail_queue(cs_state_t *s, int32_t *q, int32_t status, cs_out_t *out)
{
	int32_t p;

	while ((p = queue_pop(s, q)) >= 0) {
		cs_pending_t *op = &s->pending[p];

		if (op->is_send && op->item.carried >= 0)
			handle_return(s, op->item.carried, op->silo);
		reply_status(out, op->token, status);
		pending_free(s, p);
	}
}

static void channel_free(cs_state_t *s, int32_t chan)
{
	cs_chan_t *c = &s->chans[chan];

	for (uint32_t i = 0; i < CS_MAX_NAMES; i++)
		if (s->names[i].used && s->names[i].chan == chan)
			s->names[i].used = false;
	s->alloc->free(s->alloc->ctx, c->ring, c->slots * sizeof(cs_item_t));
	silo_of(s, c->creator)->channels--;
	*c = (cs_chan_t){ .sendq = -1, .recvq = -1 };
}

/*
 * After handles went: wake what can no longer complete, and free the
 * channel when nothing refers to it. A directional channel without
 * senders fails its waiting receivers (the ring is empty when any wait);
 * without receivers it fails its waiting senders and drops its messages.
 */
static void check_channel(cs_state_t *s, int32_t chan, cs_out_t *out)
{
	cs_chan_t *c = &s->chans[chan];

	if (c->kind == CHAN_KIND_DIRECTIONAL && !c->destroyed) {
		if (c->senders == 0)
			fail_queue(s, &c->recvq, CHAN_EDISCONNECTED, out);
		if (c->receivers == 0) {
			fail_queue(s, &c->sendq, CHAN_EDISCONNECTED, out);
			ring_discard(s, chan, out);
		}
	}
	if (c->used && c->senders == 0 && c->receivers == 0) {
		fail_queue(s, &c->sendq, CHAN_EDISCONNECTED, out);
		fail_queue(s, &c->recvq, CHAN_EDISCONNECTED, out);
		ring_discard(s, chan, out);
		channel_free(s, chan);
	}
}

static int32_t channel_new(cs_state_t *s, uint16_t creator, uint8_t kind, uint32_t capacity)
{
	for (int32_t i = 0; i < CS_MAX_CHANNELS; i++) {
		cs_chan_t *c = &s->chans[i];

		if (c->used)
			continue;
		cs_item_t *ring = s->alloc->alloc(s->alloc->ctx, capacity * sizeof(cs_item_t));
		if (!ring)
			return -1;
		*c = (cs_chan_t){ .used = true, .kind = kind, .creator = creator,
				  .id = s->next_id++, .capacity = capacity, .slots = capacity, .ring = ring,
				  .sendq = -1, .recvq = -1 };
		silo_of(s, creator)->channels++;
		return i;
	}
	return -1;
}

static uint32_t clamp_capacity(uint64_t cap)
{
	return cap < CHAN_CAPACITY_MIN ? CHAN_CAPACITY_MIN
	       : cap > CHAN_CAPACITY_MAX ? CHAN_CAPACITY_MAX : (uint32_t)cap;
}

/* ------------------------------------------------------------ requests */

static int32_t pending_new(cs_state_t *s, uint16_t silo)
{
	cs_silo_t *si = silo_of(s, silo);

	if (si->pending >= si->max_pending)
		return -1;
	for (int32_t i = 0; i < CS_MAX_PENDING; i++) {
		if (!s->pending[i].used) {
			s->pending[i] = (cs_pending_t){ .used = true, .silo = silo, .next = -1 };
			si->pending++;
			return i;
		}
	}
	return -1;
}

/* Hands a message from channel chan to a receiver: its words, and a
 * handle that rode along. */
static void deliver(cs_state_t *s, cs_out_t *out, uint32_t token, uint16_t silo, int32_t chan,
		    const cs_item_t *it)
{
	cs_reply_t *r = reply_to(out, token, CHAN_OK);

	r->words = it->msg;
	r->has_msg = true;
	r->chan = chan;
	r->chan_id = s->chans[chan].id;
	r->carried = it->carried;
	if (it->carried >= 0) {
		handle_land(s, it->carried, silo);
		r->handles[r->nhandles++] = badge_of(s, it->carried);
	}
}

static void do_create(cs_state_t *s, const cs_request_t *q, bool sync, cs_out_t *out)
{
	cs_silo_t *si = silo_of(s, q->silo);
	uint32_t n = sync ? 1 : 2;

	if (si->channels >= si->max_channels || !has_room_for_handles(s, q->silo, n)) {
		reply_status(out, q->token, CHAN_ENOSPC);
		return;
	}
	int32_t c = channel_new(s, q->silo, sync ? CHAN_KIND_SYNC : CHAN_KIND_DIRECTIONAL,
				clamp_capacity(q->words.w[0]));
	if (c < 0) {
		reply_status(out, q->token, CHAN_ENOMEM);
		return;
	}
	cs_reply_t *r = reply_to(out, q->token, CHAN_OK);
	if (sync) {
		r->handles[r->nhandles++] = badge_of(s, handle_new(s, q->silo, c, CHAN_RIGHT_SEND | CHAN_RIGHT_RECV));
	} else {
		r->handles[r->nhandles++] = badge_of(s, handle_new(s, q->silo, c, CHAN_RIGHT_SEND));
		r->handles[r->nhandles++] = badge_of(s, handle_new(s, q->silo, c, CHAN_RIGHT_RECV));
	}
}

/* The handle a send carries: live, the sender's, not the one sent on. */
static int32_t carried_handle(const cs_state_t *s, const cs_request_t *q, int32_t h, int *err)
{
	if (!q->carries)
		return -1;
	int32_t c = handle_find(s, q->carried_badge);
	if (c < 0 || s->handles[c].owner != s->handles[h].owner)
		*err = CHAN_EBADHANDLE;
	else if (c == h)
		*err = CHAN_EINVAL;
	return c;
}

static void do_send(cs_state_t *s, const cs_request_t *q, int32_t h, bool try, cs_out_t *out)
{
	cs_handle_t *hd = &s->handles[h];
	cs_chan_t *c = &s->chans[hd->chan];
	int err = CHAN_OK;
	int32_t carried = carried_handle(s, q, h, &err);

	if (!(hd->rights & CHAN_RIGHT_SEND))
		err = CHAN_EPERM;
	else if (err == CHAN_OK && (c->destroyed || c->receivers == 0))
		err = CHAN_EDISCONNECTED;
	else if (err == CHAN_OK && c->recvq < 0 && c->count >= c->capacity && try)
		err = CHAN_EWOULDBLOCK;
	if (err != CHAN_OK) {
		reply_status(out, q->token, err);
		return;
	}
	cs_item_t it = { .msg = q->words, .carried = carried };
	it.msg.w[0] = hd->owner;                        /* the sender, stamped */
	it.msg.w[1] &= ~((uint64_t)CHAN_MSG_FLAG_HANDLE << 32);
	if (carried >= 0)
		it.msg.w[1] |= (uint64_t)CHAN_MSG_FLAG_HANDLE << 32;

	int32_t p = -1;
	if (c->recvq < 0 && c->count >= c->capacity && (p = pending_new(s, hd->owner)) < 0) {
		reply_status(out, q->token, CHAN_ENOSPC);
		return;
	}
	if (carried >= 0) {             /* given away: what we wait for on it ends */
		cancel_ops_on(s, carried, out);
		handle_to_flight(s, carried);
	}
	if (p >= 0) {                                   /* full: wait */
		s->pending[p].is_send = true;
		s->pending[p].token = q->token;
		s->pending[p].handle = h;
		s->pending[p].item = it;
		queue_push(s, &c->sendq, p);
		return;
	}
	int32_t r = queue_pop(s, &c->recvq);
	if (r >= 0) {                                   /* a receiver waits: straight to it */
		deliver(s, out, s->pending[r].token, s->pending[r].silo, hd->chan, &it);
		pending_free(s, r);
	} else {
		ring_push(c, &it);
	}
	reply_status(out, q->token, CHAN_OK);
}

static void do_recv(cs_state_t *s, const cs_request_t *q, int32_t h, bool try, cs_out_t *out)
{
	cs_handle_t *hd = &s->handles[h];
	cs_chan_t *c = &s->chans[hd->chan];

	if (!(hd->rights & CHAN_RIGHT_RECV)) {
		reply_status(out, q->token, CHAN_EPERM);
		return;
	}
	if (c->destroyed || (c->count == 0 && c->senders == 0)) {
		reply_status(out, q->token, CHAN_EDISCONNECTED);
		return;
	}
	if (c->count == 0) {
		int32_t p = try ? -1 : pending_new(s, hd->owner);
		if (p < 0) {
			reply_status(out, q->token, try ? CHAN_EWOULDBLOCK : CHAN_ENOSPC);
			return;
		}
		s->pending[p].token = q->token;
		s->pending[p].handle = h;
		queue_push(s, &c->recvq, p);
		return;
	}
	cs_item_t it = ring_pop(c);
	deliver(s, out, q->token, hd->owner, hd->chan, &it);
	int32_t p = c->count < c->capacity ? queue_pop(s, &c->sendq) : -1;
	if (p >= 0) {                                   /* room now: a waiting send goes in */
		ring_push(c, &s->pending[p].item);
		reply_status(out, s->pending[p].token, CHAN_OK);
		pending_free(s, p);
	}
}

/* clone, receiver, sender: a new handle on the same channel. */
static void do_new_handle(cs_state_t *s, const cs_request_t *q, int32_t h, uint8_t rights, cs_out_t *out)
{
	cs_handle_t *hd = &s->handles[h];
	cs_chan_t *c = &s->chans[hd->chan];
	int err = CHAN_OK;

	if (q->op != CS_OP_CLONE && c->kind != CHAN_KIND_DIRECTIONAL)
		err = CHAN_EINVAL;
	else if (q->op == CS_OP_RECEIVER && !(hd->rights & CHAN_RIGHT_SEND))
		err = CHAN_EPERM;
	else if (q->op == CS_OP_SENDER && !(hd->rights & CHAN_RIGHT_RECV))
		err = CHAN_EPERM;
	else if (c->destroyed)
		err = CHAN_EDISCONNECTED;
	else if (!has_room_for_handles(s, hd->owner, 1))
		err = CHAN_ENOSPC;
	if (err != CHAN_OK) {
		reply_status(out, q->token, err);
		return;
	}
	int32_t n = handle_new(s, hd->owner, hd->chan, rights);
	cs_reply_t *r = reply_to(out, q->token, CHAN_OK);
	r->handles[r->nhandles++] = badge_of(s, n);
}

/* Ends the waiting operations made on handle h with CHAN_EBADHANDLE: h is
 * being closed or given away. A send's carried handle goes back. */
/* Unlinks from channel chan's queues every waiting operation made on
 * handle `handle` (or, if handle < 0, by silo `silo`), with no other
 * effect; appends them to dead[] and returns the new count. */
static uint32_t unlink_ops(cs_state_t *s, int32_t chan, int32_t handle, uint16_t silo,
			   int32_t *dead, uint32_t n)
{
	int32_t *queues[2] = { &s->chans[chan].sendq, &s->chans[chan].recvq };

	for (int k = 0; k < 2; k++) {
		for (int32_t *p = queues[k]; *p >= 0;) {
			const cs_pending_t *op = &s->pending[*p];
			if (handle >= 0 ? op->handle != handle : op->silo != silo) {
				p = &s->pending[*p].next;
				continue;
			}
			dead[n++] = *p;
			*p = op->next;
		}
	}
	return n;
}

static void cancel_ops_on(cs_state_t *s, int32_t h, cs_out_t *out)
{
	static int32_t dead[CS_MAX_PENDING];
	uint32_t n = unlink_ops(s, s->handles[h].chan, h, 0, dead, 0);

	for (uint32_t i = 0; i < n; i++) {
		cs_pending_t *op = &s->pending[dead[i]];

		if (op->is_send && op->item.carried >= 0)
			handle_return(s, op->item.carried, op->silo);
		reply_status(out, op->token, CHAN_EBADHANDLE);
		pending_free(s, dead[i]);
	}
}

static void collect_cycles(cs_state_t *s, cs_out_t *out);

/* A handle closed by its owner: its own waiting operations end first. */
static void do_close(cs_state_t *s, const cs_request_t *q, int32_t h, cs_out_t *out)
{
	cancel_ops_on(s, h, out);
	reply_status(out, q->token, CHAN_OK);
	handle_close(s, h, out);
	collect_cycles(s, out);
}

static void do_info(cs_state_t *s, const cs_request_t *q, int32_t h, cs_out_t *out)
{
	cs_handle_t *hd = &s->handles[h];
	cs_chan_t *c = &s->chans[hd->chan];
	uint32_t state = c->destroyed ? CHAN_STATE_DESTROYED
			 : c->kind == CHAN_KIND_DIRECTIONAL && c->senders == 0 ? CHAN_STATE_NO_SENDERS
			 : c->kind == CHAN_KIND_DIRECTIONAL && c->receivers == 0 ? CHAN_STATE_NO_RECEIVERS
			 : CHAN_STATE_CONNECTED;
	chan_info_t info = { .id = c->id, .kind = c->kind, .rights = hd->rights, .length = c->count,
			     .capacity = c->capacity, .senders = c->senders,
			     .receivers = c->receivers, .state = state };
	cs_reply_t *r = reply_to(out, q->token, CHAN_OK);

	memcpy(r->words.w, &info, sizeof info);
}

static void do_destroy(cs_state_t *s, const cs_request_t *q, int32_t h, cs_out_t *out)
{
	int32_t chan = s->handles[h].chan;
	cs_chan_t *c = &s->chans[chan];

	if (c->kind != CHAN_KIND_SYNC) {
		reply_status(out, q->token, CHAN_EINVAL);
		return;
	}
	if (c->destroyed) {
		reply_status(out, q->token, CHAN_EDISCONNECTED);
		return;
	}
	c->destroyed = true;
	for (uint32_t i = 0; i < CS_MAX_NAMES; i++)
		if (s->names[i].used && s->names[i].chan == chan)
			s->names[i].used = false;
	fail_queue(s, &c->sendq, CHAN_EDISCONNECTED, out);
	fail_queue(s, &c->recvq, CHAN_EDISCONNECTED, out);
	ring_discard(s, chan, out);
	reply_status(out, q->token, CHAN_OK);
}

/* The name in words 0-3: 1..31 bytes, NUL-terminated within 32. */
static bool read_name(const cs_msg_t *w, char name[CHAN_NAME_MAX + 1])
{
	memcpy(name, w->w, CHAN_NAME_MAX + 1);
	size_t n = strnlen(name, CHAN_NAME_MAX + 1);
	return n >= 1 && n <= CHAN_NAME_MAX;
}

static int32_t name_find(const cs_state_t *s, const char *name)
{
	for (int32_t i = 0; i < CS_MAX_NAMES; i++)
		if (s->names[i].used && !strcmp(s->names[i].name, name))
			return i;
	return -1;
}

static void do_publish(cs_state_t *s, const cs_request_t *q, int32_t h, cs_out_t *out)
{
	cs_handle_t *hd = &s->handles[h];
	char name[CHAN_NAME_MAX + 1];
	int32_t slot = -1;

	for (int32_t i = 0; i < CS_MAX_NAMES && slot < 0; i++)
		if (!s->names[i].used)
			slot = i;
	int err = !(silo_of(s, hd->owner)->ns & CS_NS_PUBLISH) ? CHAN_EPERM
		  : !read_name(&q->words, name) ? CHAN_EINVAL
		  : s->chans[hd->chan].destroyed ? CHAN_EDISCONNECTED
		  : name_find(s, name) >= 0 ? CHAN_EEXIST
		  : slot < 0 ? CHAN_ENOSPC : CHAN_OK;
	if (err == CHAN_OK) {
		cs_name_t *n = &s->names[slot];
		*n = (cs_name_t){ .used = true, .chan = hd->chan, .chan_id = s->chans[hd->chan].id,
				  .rights = hd->rights };
		memcpy(n->name, name, sizeof n->name);
	}
	reply_status(out, q->token, err);
}

static void do_lookup(cs_state_t *s, const cs_request_t *q, cs_out_t *out)
{
	char name[CHAN_NAME_MAX + 1];
	int32_t n = -1;
	int err = !(silo_of(s, q->silo)->ns & CS_NS_LOOKUP) ? CHAN_EPERM
		  : !read_name(&q->words, name) ? CHAN_EINVAL
		  : (n = name_find(s, name)) < 0 ? CHAN_ENOENT
		  : !has_room_for_handles(s, q->silo, 1) ? CHAN_ENOSPC : CHAN_OK;

	if (err != CHAN_OK) {
		reply_status(out, q->token, err);
		return;
	}
	int32_t h = handle_new(s, q->silo, s->names[n].chan, s->names[n].rights);
	cs_reply_t *r = reply_to(out, q->token, CHAN_OK);
	r->handles[r->nhandles++] = badge_of(s, h);
}

/* Requests made on a handle capability. */
static void handle_request(cs_state_t *s, const cs_request_t *q, int32_t h, cs_out_t *out)
{
	cs_handle_t *hd = &s->handles[h];

	switch (q->op) {
	case CS_OP_SEND: do_send(s, q, h, false, out); return;
	case CS_OP_TRY_SEND: do_send(s, q, h, true, out); return;
	case CS_OP_RECV: do_recv(s, q, h, false, out); return;
	case CS_OP_TRY_RECV: do_recv(s, q, h, true, out); return;
	case CS_OP_CLONE: do_new_handle(s, q, h, hd->rights, out); return;
	case CS_OP_RECEIVER: do_new_handle(s, q, h, CHAN_RIGHT_RECV, out); return;
	case CS_OP_SENDER: do_new_handle(s, q, h, CHAN_RIGHT_SEND, out); return;
	case CS_OP_CLOSE: do_close(s, q, h, out); return;
	case CS_OP_INFO: do_info(s, q, h, out); return;
	case CS_OP_DESTROY: do_destroy(s, q, h, out); return;
	case CS_OP_PUBLISH: do_publish(s, q, h, out); return;
	default: reply_status(out, q->token, CHAN_EINVAL); return;
	}
}

void cs_request(cs_state_t *s, const cs_request_t *q, cs_out_t *out)
{
	out->n = 0;
	if (q->badge & CHAN_BADGE_HANDLE) {
		int32_t h = handle_find(s, q->badge);
		if (h < 0)
			reply_status(out, q->token, CHAN_EBADHANDLE);
		else
			handle_request(s, q, h, out);
		return;
	}
	if (q->silo == 0 || q->silo >= CS_MAX_SILOS || !s->silos[q->silo].known) {
		reply_status(out, q->token, CHAN_EPERM);
		return;
	}
	switch (q->op) {
	case CS_OP_CREATE: do_create(s, q, false, out); return;
	case CS_OP_CREATE_SYNC: do_create(s, q, true, out); return;
	case CS_OP_LOOKUP: do_lookup(s, q, out); return;
	default: reply_status(out, q->token, CHAN_EBADHANDLE); return;
	}
}

/* Unlinks every waiting operation of silo from its queue, with no other
 * effect; returns how many went into dead[]. */
static uint32_t unlink_silo_ops(cs_state_t *s, uint16_t silo, int32_t *dead)
{
	uint32_t n = 0;

	for (int32_t c = 0; c < CS_MAX_CHANNELS; c++)
		n = unlink_ops(s, c, -1, silo, dead, n);
	return n;
}

void cs_silo_exit(cs_state_t *s, uint16_t silo, cs_out_t *out)
{
	static int32_t dead[CS_MAX_PENDING];

	out->n = 0;
	if (silo == 0 || silo >= CS_MAX_SILOS)
		return;
	/* First take all of its waiting operations out of every queue, so
	 * the closes below (which fail queues) never see them; then drop
	 * them, then close the handles they carried and the ones it held. */
	uint32_t n = unlink_silo_ops(s, silo, dead);
	for (uint32_t i = 0; i < n; i++)
		reply_to(out, s->pending[dead[i]].token, CHAN_EDISCONNECTED)->drop = true;
	for (uint32_t i = 0; i < n; i++) {
		cs_pending_t *op = &s->pending[dead[i]];
		int32_t carried = op->is_send ? op->item.carried : -1;

		pending_free(s, dead[i]);
		if (carried >= 0)
			handle_close(s, carried, out);
	}
	for (int32_t i = 0; i < CS_MAX_HANDLES; i++)
		if (s->handles[i].state == CS_H_LIVE && s->handles[i].owner == silo)
			handle_close(s, i, out);
	s->silos[silo].known = false;
	collect_cycles(s, out);
}

/*
 * Channels that only handles riding in other such channels refer to (A's
 * receiver queued in B, B's in A) can never be reached again. When handles
 * are in flight, mark every channel reachable from a live handle or a
 * waiting operation, following the handles queued in marked channels, and
 * discard the queues of the rest: closing what they carry frees them.
 */
static void collect_cycles(cs_state_t *s, cs_out_t *out)
{
	static bool mark[CS_MAX_CHANNELS];
	bool grew = true;

	if (s->inflight == 0)
		return;
	memset(mark, 0, sizeof mark);
	for (int32_t i = 0; i < CS_MAX_HANDLES; i++)
		if (s->handles[i].state == CS_H_LIVE)
			mark[s->handles[i].chan] = true;
	for (int32_t i = 0; i < CS_MAX_PENDING; i++) {
		const cs_pending_t *op = &s->pending[i];
		if (op->used && op->is_send && op->item.carried >= 0)
			mark[s->handles[op->item.carried].chan] = true;
	}
	while (grew) {
		grew = false;
		for (int32_t c = 0; c < CS_MAX_CHANNELS; c++) {
			cs_chan_t *ch = &s->chans[c];
			for (uint32_t k = 0; mark[c] && ch->used && k < ch->count; k++) {
				int32_t h = ring_at(ch, k)->carried;
				if (h >= 0 && !mark[s->handles[h].chan])
					grew = mark[s->handles[h].chan] = true;
			}
		}
	}
	for (int32_t c = 0; c < CS_MAX_CHANNELS; c++)
		if (s->chans[c].used && !mark[c])
			ring_discard(s, c, out);
}

/* Puts an item back at the front of the queue, past capacity if need be
 * (the storage grows; senders keep waiting until it is below capacity). */
static bool ring_push_front(cs_state_t *s, cs_chan_t *c, const cs_item_t *it)
{
	if (c->count == c->slots) {
		uint32_t slots = c->slots * 2;
		cs_item_t *ring = s->alloc->alloc(s->alloc->ctx, slots * sizeof(cs_item_t));

		if (!ring)
			return false;
		for (uint32_t k = 0; k < c->count; k++)
			ring[k] = *ring_at(c, k);
		s->alloc->free(s->alloc->ctx, c->ring, c->slots * sizeof(cs_item_t));
		c->ring = ring;
		c->head = 0;
		c->slots = slots;
	}
	c->head = (c->head + c->slots - 1) % c->slots;
	c->ring[c->head] = *it;
	c->count++;
	return true;
}

void cs_return(cs_state_t *s, const cs_reply_t *failed, cs_out_t *out)
{
	cs_item_t it = { .msg = failed->words, .carried = failed->carried };
	cs_chan_t *c = &s->chans[failed->chan];

	out->n = 0;
	if (!failed->has_msg || failed->chan < 0 || failed->chan >= CS_MAX_CHANNELS)
		return;
	if (it.carried >= 0) {          /* landed with the dead receiver: back in flight */
		cs_handle_t *h = &s->handles[it.carried];
		silo_of(s, h->owner)->handles--;
		h->state = CS_H_INFLIGHT;
		h->owner = 0;
		s->inflight++;
	}
	bool alive = c->used && c->id == failed->chan_id && !c->destroyed && c->receivers > 0;
	int32_t r = alive ? queue_pop(s, &c->recvq) : -1;
	if (r >= 0) {
		deliver(s, out, s->pending[r].token, s->pending[r].silo, failed->chan, &it);
		pending_free(s, r);
	} else if (!alive || !ring_push_front(s, c, &it)) {
		if (it.carried >= 0)    /* nowhere to go: discarded, as a dropped queue would be */
			handle_close(s, it.carried, out);
	}
}

void cs_silo_config(cs_state_t *s, uint16_t silo, uint8_t ns, uint32_t max_handles,
		    uint32_t max_pending, uint32_t max_channels)
{
	if (silo == 0 || silo >= CS_MAX_SILOS)
		return;
	s->silos[silo] = (cs_silo_t){
		.known = true, .ns = ns,
		.max_handles = max_handles ? max_handles : CHAN_QUOTA_HANDLES,
		.max_pending = max_pending ? max_pending : CHAN_QUOTA_PENDING,
		.max_channels = max_channels ? max_channels : CHAN_QUOTA_CHANNELS,
	};
}

void cs_init(cs_state_t *s, const cs_alloc_t *alloc)
{
	memset(s, 0, sizeof *s);
	s->alloc = alloc;
	s->next_id = 1;
	for (int32_t i = 0; i < CS_MAX_CHANNELS; i++)
		s->chans[i].sendq = s->chans[i].recvq = -1;
	for (int32_t i = 0; i < CS_MAX_HANDLES; i++)
		s->handles[i].chan = -1;
}
