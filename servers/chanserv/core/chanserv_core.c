/*
 * chanserv's channel logic. See chanserv_core.h for the shape and
 * docs/chanserv.md for the semantics (after strat9's channel<T> and
 * SyncChan).
 *
 * Every request is checked completely (quotas, then memory) before it
 * changes anything. Effects that spread (a close that disconnects a
 * channel, whose discarded queue closes more handles) go through two work
 * lists drained by settle(), never through recursion, so no client can
 * make chanserv's stack as deep as the chains of handles it builds.
 */
#include "chanserv_core.h"

#include <string.h>

#define CHUNK_BYTES (16u * CS_PAGE)     /* a table chunk, at most */
#define DIR_FIRST_PAGES 1

/* log2 of the records of `size` bytes a chunk holds (as many as fit in
 * CHUNK_BYTES, a power of two): a constant for every record type. */
#define TAB_SHIFT(size) ((uint32_t)(31 - __builtin_clz((uint32_t)(CHUNK_BYTES / (size)))))

/* Record i of table t, whose records are `size` bytes: cs_table_at with
 * the shift and size constants, so the hot paths load neither (every
 * request looks up several records). */
#define tab_at(t, i, size)                                                              \
	((void *)((uint8_t *)(t)->dir[(uint32_t)(i) >> TAB_SHIFT(size)] +              \
		  (size_t)((uint32_t)(i) & ((1u << TAB_SHIFT(size)) - 1)) * (size)))

_Static_assert(sizeof(cs_chan_t) <= CHUNK_BYTES && sizeof(cs_handle_t) <= CHUNK_BYTES &&
		       sizeof(cs_pending_t) <= CHUNK_BYTES && sizeof(cs_name_t) <= CHUNK_BYTES &&
		       sizeof(cs_silo_t) <= CHUNK_BYTES, "a chunk holds one record at least");

#define H(s, i) ((cs_handle_t *)tab_at(&(s)->handles, i, sizeof(cs_handle_t)))
#define C(s, i) ((cs_chan_t *)tab_at(&(s)->chans, i, sizeof(cs_chan_t)))
#define P(s, i) ((cs_pending_t *)tab_at(&(s)->pending, i, sizeof(cs_pending_t)))
#define N(s, i) ((cs_name_t *)tab_at(&(s)->names, i, sizeof(cs_name_t)))

/* --------------------------------------------------------------- memory */

static void *pages_map(cs_state_t *s, size_t pages)
{
	void *p = s->pager.map(s->pager.ctx, pages);

	if (p)
		s->pages += pages;
	return p;
}

static void pages_unmap(cs_state_t *s, void *p, size_t pages)
{
	if (!p)
		return;
	s->pager.unmap(s->pager.ctx, p, pages);
	s->pages -= pages;
}

static size_t bytes_to_pages(size_t bytes)
{
	return (bytes + CS_PAGE - 1) / CS_PAGE;
}

void *cs_table_at(const cs_table_t *t, uint32_t i)
{
	return (uint8_t *)t->dir[i >> t->shift] + (size_t)(i & ((1u << t->shift) - 1)) * t->size;
}

static void tab_init(cs_table_t *t, uint32_t size, uint32_t limit)
{
	*t = (cs_table_t){ .free = -1, .size = size, .shift = TAB_SHIFT(size), .limit = limit };
}

static size_t chunk_pages(const cs_table_t *t)
{
	return bytes_to_pages((size_t)t->size << t->shift);
}

/* One more chunk (and a bigger directory when it is full). */
static bool tab_grow(cs_state_t *s, cs_table_t *t)
{
	if (t->nchunks == t->dir_cap) {
		size_t pages = t->dir_cap ? bytes_to_pages(t->dir_cap * sizeof(void *)) * 2 : DIR_FIRST_PAGES;
		void **dir = pages_map(s, pages);

		if (!dir)
			return false;
		if (t->dir)
			memcpy(dir, t->dir, t->nchunks * sizeof(void *));
		pages_unmap(s, t->dir, bytes_to_pages(t->dir_cap * sizeof(void *)));
		t->dir = dir;
		t->dir_cap = (uint32_t)(pages * CS_PAGE / sizeof(void *));
	}
	void *chunk = pages_map(s, chunk_pages(t));
	if (!chunk)
		return false;
	t->dir[t->nchunks++] = chunk;
	return true;
}

/* Room for n more records: CHAN_OK, CHAN_ELIMIT past the table's own
 * limit, CHAN_ENOMEM if the pages cannot be had. */
static int tab_reserve(cs_state_t *s, cs_table_t *t, uint32_t n)
{
	if (t->used + n > t->limit)
		return CHAN_ELIMIT;
	while (t->used + n > (uint64_t)t->nchunks << t->shift)
		if (!tab_grow(s, t))
			return CHAN_ENOMEM;
	return CHAN_OK;
}

/* A record index; the caller reserved room. The free list first, so
 * `made` is the most records ever in use at once. */
static inline __attribute__((always_inline)) int32_t tab_alloc(cs_table_t *t, uint32_t size)
{
	int32_t i = t->free;

	if (i >= 0)
		t->free = *(int32_t *)tab_at(t, i, size);
	else
		i = (int32_t)t->made++;
	t->used++;
	return i;
}

static inline __attribute__((always_inline)) void tab_free(cs_table_t *t, int32_t i, uint32_t size)
{
	*(int32_t *)tab_at(t, i, size) = t->free;
	t->free = i;
	t->used--;
}

static void tab_fini(cs_state_t *s, cs_table_t *t)
{
	for (uint32_t k = 0; k < t->nchunks; k++)
		pages_unmap(s, t->dir[k], chunk_pages(t));
	if (t->dir)
		pages_unmap(s, t->dir, bytes_to_pages(t->dir_cap * sizeof(void *)));
	t->dir = NULL;
	t->nchunks = t->dir_cap = 0;
}

/* ---- rings: small ones cut from runs by 128-byte class, big ones in pages */

uint32_t cs_ring_charge(uint32_t capacity)
{
	size_t b = (size_t)(capacity + 1) * sizeof(cs_item_t);

	return (uint32_t)(b <= CS_RING_SMALL ? (b + CS_RING_GRAIN - 1) / CS_RING_GRAIN * CS_RING_GRAIN
					     : bytes_to_pages(b) * CS_PAGE);
}

static cs_item_t *ring_alloc(cs_state_t *s, uint32_t bytes)
{
	if (bytes > CS_RING_SMALL)
		return pages_map(s, bytes / CS_PAGE);
	uint32_t k = bytes / CS_RING_GRAIN - 1;
	void *p = s->ring_free[k];
	if (p) {
		s->ring_free[k] = *(void **)p;
		memset(p, 0, bytes);
		return p;
	}
	if (s->run_left < bytes) {
		uint8_t *run = pages_map(s, CS_RING_RUN / CS_PAGE);
		if (!run)
			return NULL;
		*(void **)run = s->runs;        /* the first grain chains the runs */
		s->runs = run;
		s->run = run + CS_RING_GRAIN;
		s->run_left = CS_RING_RUN - CS_RING_GRAIN;
	}
	p = s->run;
	s->run += bytes;
	s->run_left -= bytes;
	return p;
}

static void ring_release(cs_state_t *s, cs_item_t *ring, uint32_t bytes)
{
	if (bytes > CS_RING_SMALL) {
		pages_unmap(s, ring, bytes / CS_PAGE);
		return;
	}
	uint32_t k = bytes / CS_RING_GRAIN - 1;
	*(void **)ring = s->ring_free[k];
	s->ring_free[k] = ring;
}

/* ------------------------------------------------------------- replies */

static bool out_fit(cs_state_t *s, cs_out_t *out, uint32_t need)
{
	if (out->cap >= need)
		return true;
	uint32_t want = need > out->cap * 2 ? need : out->cap * 2;
	size_t pages = bytes_to_pages((size_t)want * sizeof(cs_reply_t));
	cs_reply_t *r = pages_map(s, pages);

	if (!r)
		return false;
	if (out->r)
		memcpy(r, out->r, out->n * sizeof *r);
	pages_unmap(s, out->r, out->pages);
	out->r = r;
	out->pages = pages;
	out->cap = (uint32_t)(pages * CS_PAGE / sizeof(cs_reply_t));
	return true;
}

/* Notes the smallest capacity of the attached buffers (UINT32_MAX with
 * none), so the common check below is one comparison. */
static void outs_note(cs_state_t *s)
{
	uint32_t room = UINT32_MAX;

	for (int k = 0; k < CS_OUTS; k++)
		if (s->outs[k] && s->outs[k]->cap < room)
			room = s->outs[k]->cap;
	s->out_room = room;
}

/* Grows every attached buffer that is short of need. */
static bool outs_grow(cs_state_t *s, uint32_t need)
{
	bool ok = true;

	for (int k = 0; k < CS_OUTS && ok; k++)
		if (s->outs[k] && s->outs[k]->cap < need)
			ok = out_fit(s, s->outs[k], need);
	outs_note(s);
	return ok;
}

/* Every attached buffer holds a reply per pending operation plus a few
 * (inline: they almost always do already). */
static inline __attribute__((always_inline)) bool outs_fit(cs_state_t *s, uint32_t pending)
{
	return pending + CS_OUT_EXTRA <= s->out_room || outs_grow(s, pending + CS_OUT_EXTRA);
}

bool cs_out_attach(cs_state_t *s, cs_out_t *out)
{
	*out = (cs_out_t){ 0 };
	for (int k = 0; k < CS_OUTS; k++) {
		if (!s->outs[k]) {
			if (!out_fit(s, out, s->pending.used + CS_OUT_EXTRA))
				return false;
			s->outs[k] = out;
			outs_note(s);
			return true;
		}
	}
	return false;
}

/* A reply with words (zeroed: the caller fills what it answers). */
static cs_reply_t *reply_to(cs_out_t *out, uint32_t token, int32_t status)
{
	cs_reply_t *r = &out->r[out->n++];

	*r = (cs_reply_t){ .token = token, .nwords = CS_MSG_WORDS, .status = status, .carried = -1 };
	return r;
}

/* A reply that is only a status, the most common kind: it carries no
 * words (length 0), so they are neither zeroed here nor sent, and only
 * the fields a reply without words is read for are written. */
static inline void reply_status(cs_out_t *out, uint32_t token, int32_t status)
{
	cs_reply_t *r = &out->r[out->n++];

	r->token = token;
	r->drop = false;
	r->nwords = 0;
	r->status = status;
	r->nhandles = 0;
	r->has_msg = false;
	r->carried = -1;
}

/* ---------------------------------------------------------------- silos */

cs_silo_t *cs_silo_at(const cs_state_t *s, uint16_t silo)
{
	return silo < s->silos.made ? cs_table_at(&s->silos, silo) : NULL;
}

/* The record for silo id `silo`, made (zeroed) on demand. */
static cs_silo_t *silo_make(cs_state_t *s, uint16_t silo)
{
	cs_table_t *t = &s->silos;

	while ((uint32_t)silo >= (uint64_t)t->nchunks << t->shift)
		if (!tab_grow(s, t))
			return NULL;
	if (silo >= t->made)
		t->made = (uint32_t)silo + 1;
	return cs_table_at(t, silo);
}

/* A silo that holds or is charged for something has a record. */
static inline __attribute__((always_inline)) cs_silo_t *silo_of(const cs_state_t *s, uint16_t silo)
{
	return tab_at(&s->silos, silo, sizeof(cs_silo_t));
}

bool cs_silo_config(cs_state_t *s, uint16_t silo, uint8_t ns, const cs_quota_t *q)
{
	static const cs_quota_t none;
	cs_silo_t *si = silo ? silo_make(s, silo) : NULL;

	if (!si)
		return false;
	if (!q)
		q = &none;
	if (!si->known)
		si->hlist = -1;
	si->known = true;
	si->ns = ns;
	si->max_handles = q->handles ? q->handles : CHAN_QUOTA_HANDLES;
	si->max_pending = q->pending ? q->pending : CHAN_QUOTA_PENDING;
	si->max_channels = q->channels ? q->channels : CHAN_QUOTA_CHANNELS;
	si->max_names = q->names ? q->names : CHAN_QUOTA_NAMES;
	si->max_bytes = q->bytes ? q->bytes : CHAN_QUOTA_BYTES;
	return true;
}

/* ------------------------------------------------------------- handles */

/* A live record for badge, or -1 (on every request: inlined). */
static inline __attribute__((always_inline)) int32_t handle_find(const cs_state_t *s, uint64_t badge)
{
	uint32_t i = CHAN_BADGE_INDEX(badge);

	if (!(badge & CHAN_BADGE_HANDLE) || i >= s->handles.made)
		return -1;
	const cs_handle_t *h = H(s, i);
	return h->state == CS_H_LIVE && h->gen == CHAN_BADGE_GEN(badge) ? (int32_t)i : -1;
}

uint16_t cs_badge_silo(const cs_state_t *s, uint64_t badge)
{
	int32_t i = handle_find(s, badge);

	return i < 0 ? 0 : cs_handle_at(s, (uint32_t)i)->owner;
}

static uint64_t badge_of(cs_state_t *s, int32_t i)
{
	return CHAN_BADGE((uint32_t)i, H(s, i)->gen);
}

/* The caller's quota, then room in the table, for n new handles. */
static int handles_room(cs_state_t *s, uint16_t silo, uint32_t n)
{
	cs_silo_t *si = silo_of(s, silo);

	if (si->handles + n > si->max_handles)
		return CHAN_ENOSPC;
	return tab_reserve(s, &s->handles, n);
}

static void count_sides(cs_chan_t *c, uint8_t rights, int delta)
{
	if (rights & CHAN_RIGHT_SEND)
		c->senders += (uint32_t)delta;
	if (rights & CHAN_RIGHT_RECV)
		c->receivers += (uint32_t)delta;
}

/* Handle lists (a silo's live handles, a channel's flying ones). */
static void hl_push(cs_state_t *s, int32_t *head, int32_t i)
{
	cs_handle_t *h = H(s, i);

	h->prev = -1;
	h->next = *head;
	if (*head >= 0)
		H(s, *head)->prev = i;
	*head = i;
}

static void hl_del(cs_state_t *s, int32_t *head, int32_t i)
{
	cs_handle_t *h = H(s, i);

	if (h->prev >= 0)
		H(s, h->prev)->next = h->next;
	else
		*head = h->next;
	if (h->next >= 0)
		H(s, h->next)->prev = h->prev;
}

static void note_check(cs_state_t *s, int32_t chan)
{
	cs_chan_t *c = C(s, chan);

	if (!c->on_check) {
		c->on_check = true;
		c->check_next = s->check;
		s->check = chan;
	}
}

/* A channel whose handles all ride in other channels' queues may be
 * unreachable: settle() finds out. */
static void note_cand(cs_state_t *s, int32_t chan)
{
	cs_chan_t *c = C(s, chan);

	if (!c->on_cand && c->live == 0 && c->pinned == 0 && c->senders + c->receivers > 0) {
		c->on_cand = true;
		c->cand_next = s->cand;
		s->cand = chan;
	}
}

/* A new live record; the caller made room. */
static int32_t handle_new(cs_state_t *s, uint16_t owner, int32_t chan, uint8_t rights)
{
	int32_t i = tab_alloc(&s->handles, sizeof(cs_handle_t));
	cs_handle_t *h = H(s, i);
	cs_silo_t *si = silo_of(s, owner);

	*h = (cs_handle_t){ .link = -1, .gen = h->gen, .state = CS_H_LIVE, .rights = rights,
			    .owner = owner, .chan = chan, .where = -1, .ops = -1 };
	hl_push(s, &si->hlist, i);
	si->handles++;
	C(s, chan)->live++;
	count_sides(C(s, chan), rights, +1);
	return i;
}

/* A live handle goes into a message: still charged to its sender. `where`
 * is the channel whose ring will hold it, or -1 for a waiting send. */
static void handle_to_flight(cs_state_t *s, int32_t i, int32_t where)
{
	cs_handle_t *h = H(s, i);
	cs_chan_t *c = C(s, h->chan);

	hl_del(s, &silo_of(s, h->owner)->hlist, i);
	hl_push(s, &c->flying, i);
	h->state = CS_H_INFLIGHT;
	h->where = where;
	c->live--;
	c->pinned += where < 0;
	s->inflight++;
	note_cand(s, h->chan);
}

/* A waiting send's handle moves into a ring. */
static void handle_to_ring(cs_state_t *s, int32_t i, int32_t where)
{
	cs_handle_t *h = H(s, i);
	cs_chan_t *c = C(s, h->chan);

	h->where = where;
	c->pinned--;
	note_cand(s, h->chan);
}

/* An in-flight handle lands with silo under a new generation: the charge
 * moves from its sender to it (past its quota if need be). */
static void handle_land(cs_state_t *s, int32_t i, uint16_t silo)
{
	cs_handle_t *h = H(s, i);
	cs_chan_t *c = C(s, h->chan);

	silo_of(s, h->owner)->handles--;
	hl_del(s, &c->flying, i);
	c->pinned -= h->where < 0;
	h->gen++;
	h->state = CS_H_LIVE;
	h->owner = silo;
	h->where = -1;
	hl_push(s, &silo_of(s, silo)->hlist, i);
	silo_of(s, silo)->handles++;
	c->live++;
	s->inflight--;
}

/* A waiting send failed: its handle goes back to the sender under the same
 * generation, so the capability it still holds works again. */
static void handle_return(cs_state_t *s, int32_t i)
{
	cs_handle_t *h = H(s, i);
	cs_chan_t *c = C(s, h->chan);

	hl_del(s, &c->flying, i);
	c->pinned--;
	h->state = CS_H_LIVE;
	h->where = -1;
	hl_push(s, &silo_of(s, h->owner)->hlist, i);
	c->live++;
	s->inflight--;
}

/* Closes a record, live (without waiting operations) or in flight. Its
 * channel's reaction waits for settle(). */
static void handle_close(cs_state_t *s, int32_t i)
{
	cs_handle_t *h = H(s, i);
	int32_t chan = h->chan;
	cs_chan_t *c = C(s, chan);
	cs_silo_t *si = silo_of(s, h->owner);

	si->handles--;
	if (h->state == CS_H_LIVE) {
		hl_del(s, &si->hlist, i);
		c->live--;
	} else {
		hl_del(s, &c->flying, i);
		c->pinned -= h->where < 0;
		s->inflight--;
	}
	count_sides(c, h->rights, -1);
	*h = (cs_handle_t){ .gen = h->gen + 1, .state = CS_H_FREE, .chan = -1, .where = -1, .ops = -1 };
	tab_free(&s->handles, i, sizeof(cs_handle_t));
	note_check(s, chan);
	note_cand(s, chan);
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
static void ring_discard(cs_state_t *s, int32_t chan)
{
	cs_chan_t *c = C(s, chan);

	while (c->count) {
		cs_item_t it = ring_pop(c);
		if (it.carried >= 0)
			handle_close(s, it.carried);
	}
}

/* Waiting operations: a channel's queue (oldest first) and a handle's list. */
static inline __attribute__((always_inline)) void q_push(cs_state_t *s, int32_t *head, int32_t *tail, int32_t p)
{
	cs_pending_t *op = P(s, p);

	op->next = -1;
	op->prev = *tail;
	if (*tail >= 0)
		P(s, *tail)->next = p;
	else
		*head = p;
	*tail = p;
}

static inline __attribute__((always_inline)) void q_del(cs_state_t *s, int32_t *head, int32_t *tail,
							int32_t p)
{
	cs_pending_t *op = P(s, p);

	if (op->prev >= 0)
		P(s, op->prev)->next = op->next;
	else
		*head = op->next;
	if (op->next >= 0)
		P(s, op->next)->prev = op->prev;
	else
		*tail = op->prev;
}

static inline __attribute__((always_inline)) int32_t q_pop(cs_state_t *s, int32_t *head, int32_t *tail)
{
	int32_t p = *head;

	if (p >= 0)
		q_del(s, head, tail, p);
	return p;
}

/* Takes a waiting operation off its channel's queue. */
static void op_unqueue(cs_state_t *s, int32_t p)
{
	cs_pending_t *op = P(s, p);
	cs_chan_t *c = C(s, H(s, op->handle)->chan);

	if (op->is_send)
		q_del(s, &c->sendq, &c->sendq_tail, p);
	else
		q_del(s, &c->recvq, &c->recvq_tail, p);
}

/* A new operation of silo on handle h; the caller queues it. Returns its
 * index, or CHAN_ENOSPC (the silo's quota) or CHAN_ENOMEM. */
static inline __attribute__((always_inline)) int32_t pending_new(cs_state_t *s, uint16_t silo, int32_t h,
									  bool is_send, uint32_t token)
{
	cs_silo_t *si = silo_of(s, silo);
	int err;

	if (si->pending >= si->max_pending)
		return CHAN_ENOSPC;
	/* A record on the free list is room already (the usual case). */
	if (s->pending.free < 0 && (err = tab_reserve(s, &s->pending, 1)) != CHAN_OK)
		return err;
	if (!outs_fit(s, s->pending.used + 1))
		return CHAN_ENOMEM;
	int32_t p = tab_alloc(&s->pending, sizeof(cs_pending_t));
	cs_pending_t *op = P(s, p);
	cs_handle_t *hd = H(s, h);

	/* Field by field: a send writes its item itself, a receive has none
	 * (only `carried` is ever read of it), so its 64 bytes of words are left as they are. */
	op->link = -1;
	op->used = true;
	op->is_send = is_send;
	op->silo = silo;
	op->token = token;
	op->handle = h;
	op->prev = op->next = -1;
	op->hprev = -1;
	op->hnext = hd->ops;
	op->item.carried = -1;
	if (hd->ops >= 0)
		P(s, hd->ops)->hprev = p;
	hd->ops = p;
	si->pending++;
	return p;
}

/* Frees an operation already off its channel's queue. */
static inline __attribute__((always_inline)) void pending_free(cs_state_t *s, int32_t p)
{
	cs_pending_t *op = P(s, p);

	if (op->hprev >= 0)
		P(s, op->hprev)->hnext = op->hnext;
	else
		H(s, op->handle)->ops = op->hnext;
	if (op->hnext >= 0)
		P(s, op->hnext)->hprev = op->hprev;
	silo_of(s, op->silo)->pending--;
	op->used = false;
	tab_free(&s->pending, p, sizeof(cs_pending_t));
}

/* Answers every operation waiting in a queue with status; a send's
 * carried handle goes back to its sender. */
static void fail_queue(cs_state_t *s, int32_t *head, int32_t *tail, int32_t status, cs_out_t *out)
{
	int32_t p;

	while ((p = q_pop(s, head, tail)) >= 0) {
		cs_pending_t *op = P(s, p);

		if (op->is_send && op->item.carried >= 0)
			handle_return(s, op->item.carried);
		reply_status(out, op->token, status);
		pending_free(s, p);
	}
}

/* ---------------------------------------------------------------- names */

static uint32_t name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	while (*name)
		h = (h ^ (uint8_t)*name++) * 16777619u;
	return h;
}

static void name_unlink(cs_state_t *s, int32_t n)
{
	cs_name_t *nm = N(s, n);
	int32_t *p = &s->buckets[nm->hash & (s->nbuckets - 1)];

	while (*p != n)
		p = &N(s, *p)->hnext;
	*p = nm->hnext;
}

/* Removes every name of channel chan (freed or destroyed). */
static void names_drop(cs_state_t *s, int32_t chan)
{
	cs_chan_t *c = C(s, chan);

	while (c->names >= 0) {
		int32_t n = c->names;
		cs_name_t *nm = N(s, n);

		c->names = nm->cnext;
		name_unlink(s, n);
		silo_of(s, nm->owner)->names--;
		nm->used = false;
		tab_free(&s->names, n, sizeof(cs_name_t));
	}
}

static int32_t name_find(cs_state_t *s, const char *name)
{
	if (!s->nbuckets)
		return -1;
	for (int32_t n = s->buckets[name_hash(name) & (s->nbuckets - 1)]; n >= 0; n = N(s, n)->hnext)
		if (!strcmp(N(s, n)->name, name))
			return n;
	return -1;
}

/* Buckets for one more name: as many buckets as names, doubled when short. */
static int names_reserve(cs_state_t *s)
{
	int err = tab_reserve(s, &s->names, 1);

	if (err != CHAN_OK || s->names.used + 1 <= s->nbuckets)
		return err;
	uint32_t nb = s->nbuckets ? s->nbuckets * 2 : CS_PAGE / sizeof(int32_t);
	int32_t *b = pages_map(s, bytes_to_pages(nb * sizeof(int32_t)));
	if (!b)
		return CHAN_ENOMEM;
	memset(b, 0xff, nb * sizeof(int32_t));
	for (uint32_t i = 0; i < s->names.made; i++) {
		cs_name_t *nm = N(s, i);
		if (nm->used) {
			nm->hnext = b[nm->hash & (nb - 1)];
			b[nm->hash & (nb - 1)] = (int32_t)i;
		}
	}
	if (s->buckets)
		pages_unmap(s, s->buckets, bytes_to_pages(s->nbuckets * sizeof(int32_t)));
	s->buckets = b;
	s->nbuckets = nb;
	return CHAN_OK;
}

/* ------------------------------------------------------------ channels */

static void channel_free(cs_state_t *s, int32_t chan)
{
	cs_chan_t *c = C(s, chan);
	cs_silo_t *si = silo_of(s, c->creator);

	names_drop(s, chan);
	ring_release(s, c->ring, c->ring_bytes);
	si->channels--;
	si->bytes -= c->ring_bytes;
	s->ring_bytes -= c->ring_bytes;
	c->used = false;
	c->ring = NULL;
	tab_free(&s->chans, chan, sizeof(cs_chan_t));
}

/*
 * After handles went: wake what can no longer complete, and free the
 * channel when nothing refers to it. A directional channel without
 * senders fails its waiting receivers (the ring is empty when any wait);
 * without receivers it fails its waiting senders and drops its messages.
 */
static void check_channel(cs_state_t *s, int32_t chan, cs_out_t *out)
{
	cs_chan_t *c = C(s, chan);

	if (c->kind == CHAN_KIND_DIRECTIONAL && !c->destroyed) {
		if (c->senders == 0)
			fail_queue(s, &c->recvq, &c->recvq_tail, CHAN_EDISCONNECTED, out);
		if (c->receivers == 0) {
			fail_queue(s, &c->sendq, &c->sendq_tail, CHAN_EDISCONNECTED, out);
			ring_discard(s, chan);
		}
	}
	if (c->senders == 0 && c->receivers == 0) {
		fail_queue(s, &c->sendq, &c->sendq_tail, CHAN_EDISCONNECTED, out);
		fail_queue(s, &c->recvq, &c->recvq_tail, CHAN_EDISCONNECTED, out);
		ring_discard(s, chan);
		channel_free(s, chan);
	}
}

/*
 * Is channel chan (no live handle, none in a waiting send) still reachable?
 * Walk backwards: the channels whose rings hold its handles, theirs, and
 * so on. Meeting a channel some silo holds a handle of (or one riding in
 * a waiting send) means yes; if the walk ends first, every channel it met
 * can never be received from again, and their queues are discarded (which
 * closes the handles in them, and so frees them). The walk visits only
 * channels that are themselves held by nothing but messages.
 */
static void collect_from(cs_state_t *s, int32_t chan)
{
	uint32_t e = ++s->epoch ? s->epoch : ++s->epoch;
	int32_t tail = chan;
	cs_chan_t *c = C(s, chan);

	c->walk_epoch = e;
	c->walk_next = -1;
	for (int32_t x = chan; x >= 0; x = C(s, x)->walk_next) {
		cs_chan_t *cx = C(s, x);
		if (cx->live || cx->pinned)
			return;
		for (int32_t f = cx->flying; f >= 0; f = H(s, f)->next) {
			cs_chan_t *w = C(s, H(s, f)->where);
			if (w->walk_epoch != e) {
				w->walk_epoch = e;
				w->walk_next = -1;
				C(s, tail)->walk_next = H(s, f)->where;
				tail = H(s, f)->where;
			}
		}
	}
	for (int32_t x = chan; x >= 0; x = C(s, x)->walk_next)
		ring_discard(s, x);
}

/* Carries out what closes and discards set off, until nothing is left. */
static void settle_work(cs_state_t *s, cs_out_t *out)
{
	for (;;) {
		int32_t chan;

		if ((chan = s->check) >= 0) {
			s->check = C(s, chan)->check_next;
			C(s, chan)->on_check = false;
			if (C(s, chan)->used)
				check_channel(s, chan, out);
		} else if ((chan = s->cand) >= 0) {
			s->cand = C(s, chan)->cand_next;
			C(s, chan)->on_cand = false;
			if (C(s, chan)->used && C(s, chan)->live == 0 && C(s, chan)->pinned == 0)
				collect_from(s, chan);
		} else {
			return;
		}
	}
}

/* Most requests set nothing off: that check stays inline. */
static inline __attribute__((always_inline)) void settle(cs_state_t *s, cs_out_t *out)
{
	if (s->check >= 0 || s->cand >= 0)
		settle_work(s, out);
}

static uint32_t clamp_capacity(uint64_t cap)
{
	return cap < CHAN_CAPACITY_MIN ? CHAN_CAPACITY_MIN
	       : cap > CHAN_CAPACITY_MAX ? CHAN_CAPACITY_MAX : (uint32_t)cap;
}

/* ------------------------------------------------------------ requests */

/* The reply that hands a message from channel chan to a receiver, all
 * but its words, with the handle that rode along (carried, or -1). */
static inline __attribute__((always_inline)) cs_reply_t *reply_msg(cs_state_t *s, cs_out_t *out, uint32_t token,
								uint16_t silo, int32_t chan, int32_t carried)
{
	cs_reply_t *r = &out->r[out->n++];

	/* Field by field: the words are the message's, so they are not
	 * zeroed first (handles[] is read only below nhandles). */
	r->token = token;
	r->drop = false;
	r->nwords = CS_MSG_WORDS;
	r->status = CHAN_OK;
	r->nhandles = 0;
	r->has_msg = true;
	r->chan = chan;
	r->chan_id = C(s, chan)->id;
	r->carried = carried;
	if (carried >= 0) {
		handle_land(s, carried, silo);
		r->handles[r->nhandles++] = badge_of(s, carried);
	}
	return r;
}

/* Copies a message 16 bytes at a time: as a struct copy, inlined into
 * chanserv's loop (built without SLP vectorising), it became rep movsl,
 * seventeen instructions counted. */
static inline __attribute__((always_inline)) void copy_msg(cs_msg_t *to, const cs_msg_t *from)
{
	typedef uint64_t pair_t __attribute__((vector_size(16), aligned(8), may_alias));

	for (int i = 0; i < CS_MSG_WORDS; i += 2)
		*(pair_t *)&to->w[i] = *(const pair_t *)&from->w[i];
}

/* Hands a queued message from channel chan to a receiver. */
static inline __attribute__((always_inline)) void deliver(cs_state_t *s, cs_out_t *out, uint32_t token,
							  uint16_t silo, int32_t chan, const cs_item_t *it)
{
	copy_msg(&reply_msg(s, out, token, silo, chan, it->carried)->words, &it->msg);
}

/* The words of a message as it is queued or delivered: stamped with the
 * sender, the flag set only when a handle rides along. */
static inline __attribute__((always_inline)) void stamp_words(cs_msg_t *to, const cs_msg_t *msg, uint16_t sender,
							      bool carries)
{
	uint64_t w1 = msg->w[1] & ~((uint64_t)CHAN_MSG_FLAG_HANDLE << 32);

	to->w[0] = sender;
	to->w[1] = carries ? w1 | (uint64_t)CHAN_MSG_FLAG_HANDLE << 32 : w1;
	/* Written out: as a loop gcc kept a loop (twelve instructions more). */
	to->w[2] = msg->w[2];
	to->w[3] = msg->w[3];
	to->w[4] = msg->w[4];
	to->w[5] = msg->w[5];
	to->w[6] = msg->w[6];
	to->w[7] = msg->w[7];
}

/* Hands a message being sent straight to a waiting receiver: stamped into
 * the reply itself, with no copy on the way. */
static inline __attribute__((always_inline)) void deliver_sent(cs_state_t *s, cs_out_t *out, uint32_t token,
							       uint16_t silo, int32_t chan, const cs_msg_t *msg,
							       uint16_t sender, int32_t carried)
{
	stamp_words(&reply_msg(s, out, token, silo, chan, carried)->words, msg, sender, carried >= 0);
}

static void do_create(cs_state_t *s, const cs_request_t *q, bool sync, cs_out_t *out)
{
	cs_silo_t *si = silo_of(s, q->silo);
	uint32_t n = sync ? 1 : 2, capacity = clamp_capacity(q->words.w[0]);
	uint32_t bytes = cs_ring_charge(capacity);
	int err = si->channels >= si->max_channels ? CHAN_ENOSPC
		  : si->bytes + bytes > si->max_bytes ? CHAN_ENOSPC
		  : handles_room(s, q->silo, n);
	cs_item_t *ring = NULL;

	if (err == CHAN_OK)
		err = tab_reserve(s, &s->chans, 1);
	if (err == CHAN_OK && !(ring = ring_alloc(s, bytes)))
		err = CHAN_ENOMEM;
	if (err != CHAN_OK) {
		reply_status(out, q->token, err);
		return;
	}
	int32_t c = tab_alloc(&s->chans, sizeof(cs_chan_t));
	*C(s, c) = (cs_chan_t){ .link = -1, .used = true, .kind = sync ? CHAN_KIND_SYNC : CHAN_KIND_DIRECTIONAL,
				.creator = q->silo, .id = s->next_id++, .capacity = capacity,
				.slots = capacity + 1, .ring_bytes = bytes, .ring = ring,
				.sendq = -1, .sendq_tail = -1, .recvq = -1, .recvq_tail = -1,
				.flying = -1, .names = -1, .check_next = -1, .cand_next = -1,
				.walk_next = -1 };
	si->channels++;
	si->bytes += bytes;
	s->ring_bytes += bytes;
	cs_reply_t *r = reply_to(out, q->token, CHAN_OK);
	if (sync) {
		r->handles[r->nhandles++] = badge_of(s, handle_new(s, q->silo, c, CHAN_RIGHT_SEND | CHAN_RIGHT_RECV));
	} else {
		r->handles[r->nhandles++] = badge_of(s, handle_new(s, q->silo, c, CHAN_RIGHT_SEND));
		r->handles[r->nhandles++] = badge_of(s, handle_new(s, q->silo, c, CHAN_RIGHT_RECV));
	}
}

/* The handle a send carries: live, the sender's, not the one sent on.
 * (Called only when one rides along: most sends carry none.) */
static int32_t carried_handle(cs_state_t *s, const cs_request_t *q, int32_t h, int *err)
{
	int32_t c = handle_find(s, q->carried_badge);
	if (c < 0 || H(s, c)->owner != H(s, h)->owner)
		*err = CHAN_EBADHANDLE;
	else if (c == h)
		*err = CHAN_EINVAL;
	return c;
}

static void cancel_ops_on(cs_state_t *s, int32_t h, cs_out_t *out);

/* Writes the message a send queues into it: stamped with the sender, the
 * flag set only when a handle rides along (in place: no copy of the
 * record on the way). */
static inline void send_item(cs_item_t *it, const cs_msg_t *msg, uint16_t sender, int32_t carried)
{
	stamp_words(&it->msg, msg, sender, carried >= 0);
	it->carried = carried;
}

static inline __attribute__((always_inline)) void do_send(cs_state_t *s, const cs_request_t *q, int32_t h, bool try,
						    cs_out_t *out)
{
	cs_handle_t *hd = H(s, h);
	int32_t chan = hd->chan;
	cs_chan_t *c = C(s, chan);
	int err = CHAN_OK;
	int32_t carried = q->carries ? carried_handle(s, q, h, &err) : -1;

	if (!(hd->rights & CHAN_RIGHT_SEND))
		err = CHAN_EPERM;
	else if (err == CHAN_OK && (c->destroyed || c->receivers == 0))
		err = CHAN_EDISCONNECTED;
	else if (err == CHAN_OK && c->recvq < 0 && c->count >= c->capacity && try)
		err = CHAN_EWOULDBLOCK;
	int32_t p = -1;
	if (err == CHAN_OK && c->recvq < 0 && c->count >= c->capacity)
		err = (p = pending_new(s, hd->owner, h, true, q->token)) < 0 ? p : CHAN_OK;
	if (err != CHAN_OK) {
		reply_status(out, q->token, err);
		return;
	}
	if (carried >= 0) {             /* given away: what we wait for on it ends */
		cancel_ops_on(s, carried, out);
		handle_to_flight(s, carried, p >= 0 ? -1 : chan);
	}
	if (p >= 0) {                                   /* full: wait */
		send_item(&P(s, p)->item, &q->words, hd->owner, carried);
		q_push(s, &c->sendq, &c->sendq_tail, p);
		return;
	}
	int32_t r = q_pop(s, &c->recvq, &c->recvq_tail);
	if (r >= 0) {                                   /* a receiver waits: straight to it */
		cs_pending_t *op = P(s, r);
		deliver_sent(s, out, op->token, op->silo, chan, &q->words, hd->owner, carried);
		pending_free(s, r);
	} else {
		send_item(ring_at(c, c->count++), &q->words, hd->owner, carried);
	}
	reply_status(out, q->token, CHAN_OK);
}

/* Takes the oldest waiting send of channel chan into its ring, which has
 * room, and answers it. */
static void admit_send(cs_state_t *s, int32_t chan, cs_out_t *out)
{
	cs_chan_t *c = C(s, chan);
	int32_t p = q_pop(s, &c->sendq, &c->sendq_tail);
	cs_pending_t *op = P(s, p);

	if (op->item.carried >= 0)
		handle_to_ring(s, op->item.carried, chan);
	ring_push(c, &op->item);
	reply_status(out, op->token, CHAN_OK);
	pending_free(s, p);
}

/* After a message left channel c's ring: the oldest waiting send, if
 * there is room now, goes in (the check is inline: usually none waits). */
static inline __attribute__((always_inline)) void admit_waiting_send(cs_state_t *s, int32_t chan,
								    cs_out_t *out)
{
	cs_chan_t *c = C(s, chan);

	if (c->sendq >= 0 && c->count < c->capacity)
		admit_send(s, chan, out);
}

static inline __attribute__((always_inline)) void do_recv(cs_state_t *s, const cs_request_t *q, int32_t h, bool try,
						    cs_out_t *out)
{
	cs_handle_t *hd = H(s, h);
	int32_t chan = hd->chan;
	cs_chan_t *c = C(s, chan);

	if (!(hd->rights & CHAN_RIGHT_RECV)) {
		reply_status(out, q->token, CHAN_EPERM);
		return;
	}
	if (c->destroyed || (c->count == 0 && c->senders == 0)) {
		reply_status(out, q->token, CHAN_EDISCONNECTED);
		return;
	}
	if (c->count == 0) {
		int32_t p = try ? CHAN_EWOULDBLOCK : pending_new(s, hd->owner, h, false, q->token);
		if (p < 0)
			reply_status(out, q->token, p);
		else
			q_push(s, &c->recvq, &c->recvq_tail, p);
		return;
	}
	/* Straight from the ring into the reply; its slot is not reused
	 * before the head moves past it. */
	deliver(s, out, q->token, hd->owner, chan, &c->ring[c->head]);
	c->head = c->head + 1 == c->slots ? 0 : c->head + 1;
	c->count--;
	admit_waiting_send(s, chan, out);               /* room now */
}

/* clone, receiver, sender: a new handle on the same channel. */
static void do_new_handle(cs_state_t *s, const cs_request_t *q, int32_t h, uint8_t rights, cs_out_t *out)
{
	cs_handle_t *hd = H(s, h);
	cs_chan_t *c = C(s, hd->chan);
	int err = CHAN_OK;

	if (q->op != CS_OP_CLONE && c->kind != CHAN_KIND_DIRECTIONAL)
		err = CHAN_EINVAL;
	else if (q->op == CS_OP_RECEIVER && !(hd->rights & CHAN_RIGHT_SEND))
		err = CHAN_EPERM;
	else if (q->op == CS_OP_SENDER && !(hd->rights & CHAN_RIGHT_RECV))
		err = CHAN_EPERM;
	else if (c->destroyed)
		err = CHAN_EDISCONNECTED;
	else
		err = handles_room(s, hd->owner, 1);
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
static void cancel_ops_on(cs_state_t *s, int32_t h, cs_out_t *out)
{
	int32_t p;

	while ((p = H(s, h)->ops) >= 0) {
		cs_pending_t *op = P(s, p);

		op_unqueue(s, p);
		if (op->is_send && op->item.carried >= 0)
			handle_return(s, op->item.carried);
		reply_status(out, op->token, CHAN_EBADHANDLE);
		pending_free(s, p);
	}
}

/* A handle closed by its owner: its own waiting operations end first. */
static void do_close(cs_state_t *s, const cs_request_t *q, int32_t h, cs_out_t *out)
{
	cancel_ops_on(s, h, out);
	reply_status(out, q->token, CHAN_OK);
	handle_close(s, h);
}

static void do_info(cs_state_t *s, const cs_request_t *q, int32_t h, cs_out_t *out)
{
	cs_handle_t *hd = H(s, h);
	cs_chan_t *c = C(s, hd->chan);
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
	int32_t chan = H(s, h)->chan;
	cs_chan_t *c = C(s, chan);

	if (c->kind != CHAN_KIND_SYNC) {
		reply_status(out, q->token, CHAN_EINVAL);
		return;
	}
	if (c->destroyed) {
		reply_status(out, q->token, CHAN_EDISCONNECTED);
		return;
	}
	c->destroyed = true;
	names_drop(s, chan);
	fail_queue(s, &c->sendq, &c->sendq_tail, CHAN_EDISCONNECTED, out);
	fail_queue(s, &c->recvq, &c->recvq_tail, CHAN_EDISCONNECTED, out);
	ring_discard(s, chan);
	reply_status(out, q->token, CHAN_OK);
}

/* The name in words 0-3: 1..31 bytes, NUL-terminated within 32. */
static bool read_name(const cs_msg_t *w, char name[CHAN_NAME_MAX + 1])
{
	memcpy(name, w->w, CHAN_NAME_MAX + 1);
	size_t n = strnlen(name, CHAN_NAME_MAX + 1);
	return n >= 1 && n <= CHAN_NAME_MAX;
}

static void do_publish(cs_state_t *s, const cs_request_t *q, int32_t h, cs_out_t *out)
{
	cs_handle_t *hd = H(s, h);
	cs_silo_t *si = silo_of(s, hd->owner);
	cs_chan_t *c = C(s, hd->chan);
	char name[CHAN_NAME_MAX + 1];
	int err = !(si->ns & CS_NS_PUBLISH) ? CHAN_EPERM
		  : !read_name(&q->words, name) ? CHAN_EINVAL
		  : c->destroyed ? CHAN_EDISCONNECTED
		  : name_find(s, name) >= 0 ? CHAN_EEXIST
		  : si->names >= si->max_names ? CHAN_ENOSPC : names_reserve(s);

	if (err == CHAN_OK) {
		int32_t n = tab_alloc(&s->names, sizeof(cs_name_t));
		cs_name_t *nm = N(s, n);
		uint32_t hash = name_hash(name);
		int32_t *b = &s->buckets[hash & (s->nbuckets - 1)];

		*nm = (cs_name_t){ .link = -1, .used = true, .rights = hd->rights, .owner = hd->owner,
				   .hash = hash, .chan = hd->chan, .chan_id = c->id, .hnext = *b,
				   .cprev = -1, .cnext = c->names };
		memcpy(nm->name, name, sizeof nm->name);
		*b = n;
		if (c->names >= 0)
			N(s, c->names)->cprev = n;
		c->names = n;
		si->names++;
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
		  : handles_room(s, q->silo, 1);

	if (err != CHAN_OK) {
		reply_status(out, q->token, err);
		return;
	}
	int32_t h = handle_new(s, q->silo, N(s, n)->chan, N(s, n)->rights);
	cs_reply_t *r = reply_to(out, q->token, CHAN_OK);
	r->handles[r->nhandles++] = badge_of(s, h);
}

/* Requests made on a handle capability. */
static void handle_request(cs_state_t *s, const cs_request_t *q, int32_t h, cs_out_t *out)
{
	uint8_t rights = H(s, h)->rights;

	switch (q->op) {
	case CS_OP_SEND: do_send(s, q, h, false, out); return;
	case CS_OP_TRY_SEND: do_send(s, q, h, true, out); return;
	case CS_OP_RECV: do_recv(s, q, h, false, out); return;
	case CS_OP_TRY_RECV: do_recv(s, q, h, true, out); return;
	case CS_OP_CLONE: do_new_handle(s, q, h, rights, out); return;
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
		settle(s, out);
		return;
	}
	const cs_silo_t *si = cs_silo_at(s, q->silo);
	if (q->silo == 0 || !si || !si->known) {
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

/* ------------------------------------------------------------- batches */

/* The error a request on a badge that names no live handle gets, as
 * cs_request would answer it. */
static int32_t badge_error(const cs_state_t *s, const cs_request_t *q)
{
	const cs_silo_t *si = cs_silo_at(s, q->silo);

	if (!(q->badge & CHAN_BADGE_HANDLE) && (q->silo == 0 || !si || !si->known))
		return CHAN_EPERM;
	return CHAN_EBADHANDLE;
}

/* Why a try_send on handle h cannot go now, or CHAN_OK. */
static int32_t send_refusal(const cs_handle_t *hd, const cs_chan_t *c)
{
	if (!(hd->rights & CHAN_RIGHT_SEND))
		return CHAN_EPERM;
	if (c->destroyed || c->receivers == 0)
		return CHAN_EDISCONNECTED;
	return c->recvq < 0 && c->count >= c->capacity ? CHAN_EWOULDBLOCK : CHAN_OK;
}

void cs_send_many(cs_state_t *s, const cs_request_t *q, const cs_msg_t *msgs, uint32_t n, cs_out_t *out)
{
	int32_t h = handle_find(s, q->badge), status = CHAN_OK;
	uint32_t sent = 0;

	out->n = 0;
	if (n == 0 || n > CHAN_BATCH_MAX || q->carries)
		status = CHAN_EINVAL;
	else if (h < 0)
		status = badge_error(s, q);
	else
		status = send_refusal(H(s, h), C(s, H(s, h)->chan));
	if (status == CHAN_OK) {
		cs_handle_t *hd = H(s, h);
		int32_t chan = hd->chan;
		cs_chan_t *c = C(s, chan);
		uint16_t sender = hd->owner;

		for (; sent < n; sent++) {
			int32_t r = c->recvq;
			if (r >= 0) {                   /* a receiver waits: straight to it */
				q_del(s, &c->recvq, &c->recvq_tail, r);
				deliver_sent(s, out, P(s, r)->token, P(s, r)->silo, chan, &msgs[sent], sender, -1);
				pending_free(s, r);
			} else if (c->count < c->capacity) {
				send_item(ring_at(c, c->count++), &msgs[sent], sender, -1);
			} else {
				break;
			}
		}
	}
	reply_to(out, q->token, sent ? CHAN_OK : status)->words.w[0] = sent;
	settle(s, out);
}

/* Why a try_recv on handle h cannot take a message now, or CHAN_OK. */
static int32_t recv_refusal(const cs_handle_t *hd, const cs_chan_t *c)
{
	if (!(hd->rights & CHAN_RIGHT_RECV))
		return CHAN_EPERM;
	if (c->destroyed || (c->count == 0 && c->senders == 0))
		return CHAN_EDISCONNECTED;
	return c->count == 0 ? CHAN_EWOULDBLOCK : CHAN_OK;
}

void cs_recv_many(cs_state_t *s, const cs_request_t *q, cs_msg_t *msgs, uint32_t max, cs_out_t *out)
{
	int32_t h = handle_find(s, q->badge), status = CHAN_OK;
	int32_t chan = -1, carried = -1;
	uint32_t got = 0;

	out->n = 0;
	if (max == 0 || max > CHAN_BATCH_MAX || q->carries)
		status = CHAN_EINVAL;
	else if (h < 0)
		status = badge_error(s, q);
	else
		status = recv_refusal(H(s, h), C(s, H(s, h)->chan));
	if (status == CHAN_OK) {
		chan = H(s, h)->chan;
		cs_chan_t *c = C(s, chan);
		while (got < max && c->count && carried < 0) {
			cs_item_t *it = &c->ring[c->head];
			msgs[got++] = it->msg;
			carried = it->carried;
			c->head = c->head + 1 == c->slots ? 0 : c->head + 1;
			c->count--;
			if (carried >= 0)       /* a handle rides: it ends the batch */
				handle_land(s, carried, H(s, h)->owner);
			admit_waiting_send(s, chan, out);
		}
	}
	cs_reply_t *r = reply_to(out, q->token, got ? CHAN_OK : status);
	r->words.w[0] = got;
	if (got) {
		r->has_msg = true;
		r->chan = chan;
		r->chan_id = C(s, chan)->id;
		r->carried = carried;
	}
	if (carried >= 0)
		r->handles[r->nhandles++] = badge_of(s, carried);
	settle(s, out);
}

void cs_silo_exit(cs_state_t *s, uint16_t silo, cs_out_t *out)
{
	cs_silo_t *si = cs_silo_at(s, silo);

	out->n = 0;
	if (silo == 0 || !si || !si->known)
		return;
	/* Its waiting operations (all made on its own handles) go first, so
	 * the closes below never answer them; then the handles they carried
	 * and the ones it held. Every effect waits for settle(). */
	for (int32_t h = si->hlist; h >= 0; h = H(s, h)->next) {
		int32_t p;
		while ((p = H(s, h)->ops) >= 0) {
			cs_pending_t *op = P(s, p);
			int32_t carried = op->is_send ? op->item.carried : -1;

			op_unqueue(s, p);
			reply_to(out, op->token, CHAN_EDISCONNECTED)->drop = true;
			pending_free(s, p);
			if (carried >= 0)
				handle_close(s, carried);
		}
	}
	while (si->hlist >= 0)
		handle_close(s, si->hlist);
	si->known = false;
	settle(s, out);
}

/* Puts an item back at the front of the queue: the ring keeps one slot
 * past the capacity for it (senders keep waiting until it is below). */
static bool ring_push_front(cs_chan_t *c, const cs_item_t *it)
{
	if (c->count == c->slots)
		return false;
	c->head = (c->head + c->slots - 1) % c->slots;
	c->ring[c->head] = *it;
	c->count++;
	return true;
}

void cs_return(cs_state_t *s, const cs_reply_t *failed, cs_out_t *out)
{
	cs_item_t it = { .msg = failed->words, .carried = -1 };

	out->n = 0;
	if (!failed->has_msg || failed->chan < 0 || (uint32_t)failed->chan >= s->chans.made)
		return;
	int32_t chan = failed->chan;
	cs_chan_t *c = C(s, chan);
	int32_t h = failed->nhandles ? handle_find(s, failed->handles[0]) : -1;
	if (h >= 0 && h == failed->carried) {
		/* It landed with the dying receiver: back in flight, charged to
		 * the sender again (the stamp in word 0). */
		cs_handle_t *hd = H(s, h);
		uint16_t sender = (uint16_t)it.msg.w[0];
		handle_to_flight(s, h, chan);
		silo_of(s, hd->owner)->handles--;
		hd->owner = cs_silo_at(s, sender) ? sender : hd->owner;
		silo_of(s, hd->owner)->handles++;
		it.carried = h;
	} else {
		it.msg.w[1] &= ~((uint64_t)CHAN_MSG_FLAG_HANDLE << 32);
	}
	bool alive = c->used && c->id == failed->chan_id && !c->destroyed && c->receivers > 0;
	int32_t r = alive ? q_pop(s, &c->recvq, &c->recvq_tail) : -1;
	if (r >= 0) {
		deliver(s, out, P(s, r)->token, P(s, r)->silo, chan, &it);
		pending_free(s, r);
	} else if (!alive || !ring_push_front(c, &it)) {
		if (it.carried >= 0)    /* nowhere to go: discarded, as a dropped queue would be */
			handle_close(s, it.carried);
	}
	settle(s, out);
}

void cs_unclaimed(cs_state_t *s, uint64_t badge, cs_out_t *out)
{
	int32_t h = handle_find(s, badge);

	out->n = 0;
	if (h < 0)
		return;
	cancel_ops_on(s, h, out);
	handle_close(s, h);
	settle(s, out);
}

void cs_init(cs_state_t *s, const cs_pages_t *pages)
{
	memset(s, 0, sizeof *s);
	s->pager = *pages;
	s->next_id = 1;
	s->check = s->cand = -1;
	s->out_room = UINT32_MAX;
	tab_init(&s->chans, sizeof(cs_chan_t), INT32_MAX);
	tab_init(&s->handles, sizeof(cs_handle_t), CS_HANDLE_LIMIT);
	tab_init(&s->pending, sizeof(cs_pending_t), INT32_MAX);
	tab_init(&s->names, sizeof(cs_name_t), INT32_MAX);
	tab_init(&s->silos, sizeof(cs_silo_t), CS_SILO_MAX + 1);
}

void cs_fini(cs_state_t *s)
{
	for (uint32_t i = 0; i < s->chans.made; i++)
		if (C(s, i)->used && C(s, i)->ring_bytes > CS_RING_SMALL)
			pages_unmap(s, C(s, i)->ring, C(s, i)->ring_bytes / CS_PAGE);
	while (s->runs) {
		void *next = *(void **)s->runs;
		pages_unmap(s, s->runs, CS_RING_RUN / CS_PAGE);
		s->runs = next;
	}
	tab_fini(s, &s->chans);
	tab_fini(s, &s->handles);
	tab_fini(s, &s->pending);
	tab_fini(s, &s->names);
	tab_fini(s, &s->silos);
	if (s->buckets)
		pages_unmap(s, s->buckets, bytes_to_pages(s->nbuckets * sizeof(int32_t)));
	for (int k = 0; k < CS_OUTS; k++) {
		if (s->outs[k]) {
			pages_unmap(s, s->outs[k]->r, s->outs[k]->pages);
			*s->outs[k] = (cs_out_t){ 0 };
		}
	}
	outs_note(s);
}
