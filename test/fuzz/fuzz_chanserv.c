/*
 * libFuzzer harness for chanserv's core (servers/chanserv/core): the input
 * is a program of steps, each played by one of a few simulated silos:
 * requests of every kind (valid and invalid operations) on handles they
 * hold, stale or made-up badges and the boot capability, with arbitrary
 * capacities, names, carried handles and quotas; silo deaths; replies whose
 * receiver died (cs_return); handles a reply could not hand over
 * (cs_unclaimed); chanserv running out of pages.
 *
 * After every step it checks (aborting on the first failure):
 * - every reply answers a token that waits for one, once; drop exactly when
 *   its silo is dead; its status is 0 or an error documented for that
 *   operation; handles are minted only to the caller;
 * - messages are conserved: accepted = delivered + queued + discarded, and
 *   the discarded count grows only in steps that may discard (a close, a
 *   destroy, a silo death, a returned or unclaimed reply, a send giving a
 *   handle away);
 * - the whole state (chanserv_invariants.inc): lists, counts, per-silo
 *   charges against the tables, reachability;
 * and at the end, after every silo exited: no record, charge or token is
 * left, and cs_fini gives every page back.
 *
 * ./sluice fuzz chanserv [SECONDS] runs it; ctest runs it over
 * test/fuzz/corpus/chanserv for a fixed number of inputs.
 */
#include <abi/chanserv.h>
#include <chanserv_core.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SILOS 64
#define NSIM 4  /* silos alive at once */
#define HELD 48 /* badges a simulated silo remembers */
#define MAX_TOKENS 8192
#define PAGE_CAP 8192 /* never more than 32 MiB */

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz_chanserv: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

#define INV(cond, ...)                     \
	do {                               \
		if (!(cond))               \
			fail(__VA_ARGS__); \
	} while (0)
#define SEND CHAN_RIGHT_SEND
#define RECV CHAN_RIGHT_RECV

/* ---- pages ---------------------------------------------------------------- */

static size_t mapped, budget;

static void *fz_map(void *ctx, size_t pages)
{
	(void)ctx;
	if (mapped + pages > budget || mapped + pages > PAGE_CAP)
		return NULL;
	void *p = aligned_alloc(CS_PAGE, pages * CS_PAGE);
	INV(p, "host out of memory");
	memset(p, 0, pages * CS_PAGE);
	mapped += pages;
	return p;
}

static void fz_unmap(void *ctx, void *p, size_t pages)
{
	(void)ctx;
	INV(p && mapped >= pages, "unmap of %zu pages, %zu mapped", pages, mapped);
	mapped -= pages;
	free(p);
}

static const cs_pages_t pager = { fz_map, fz_unmap, NULL };

/* ---- the state and its invariants ----------------------------------------- */

static cs_state_t state, *S = &state;
static cs_out_t out;
static bool dead[SILOS];
#define MAPPED_PAGES (mapped)

#include "../host/chanserv_invariants.inc"

/* ---- the input ------------------------------------------------------------- */

static const uint8_t *in_p;
static size_t in_n;

static uint8_t u8(void)
{
	if (!in_n)
		return 0;
	in_n--;
	return *in_p++;
}

/* ---- the simulated silos --------------------------------------------------- */

static struct sim {
	uint16_t id;
	uint64_t held[HELD];
	unsigned n;
} sim[NSIM];
static uint16_t next_silo;
static uint64_t stale[16];
static unsigned nstale;

static uint32_t next_token;
static uint16_t tok_silo[MAX_TOKENS];
static uint8_t tok_op[MAX_TOKENS];
static bool tok_open[MAX_TOKENS];
static uint64_t tok_carried[MAX_TOKENS];
static uint64_t tok_badge[MAX_TOKENS];

static uint64_t accepted, delivered, discarded;
static cs_out_t last; /* the previous step's replies, for returns */
static cs_reply_t last_r[64];

static struct sim *sim_of(uint16_t silo)
{
	for (int k = 0; k < NSIM; k++)
		if (sim[k].id == silo && !dead[silo])
			return &sim[k];
	return NULL;
}

static void hold(uint16_t silo, uint64_t badge)
{
	struct sim *m = sim_of(silo);

	if (m && m->n < HELD)
		m->held[m->n++] = badge; /* past HELD: forgotten, closed at its silo's death */
}

static void forget(uint16_t silo, uint64_t badge)
{
	struct sim *m = sim_of(silo);

	for (unsigned i = 0; m && i < m->n; i++) {
		if (m->held[i] == badge) {
			m->held[i] = m->held[--m->n];
			stale[nstale++ % 16] = badge;
			return;
		}
	}
}

/* Errors each operation may give (bit -status), besides 0. */
#define E(x) (1u << -(x))
static uint32_t allowed(uint32_t op, bool on_handle)
{
	uint32_t common = on_handle ? E(CHAN_EBADHANDLE) : E(CHAN_EPERM);
	uint32_t mem = E(CHAN_ENOSPC) | E(CHAN_ENOMEM) | E(CHAN_ELIMIT);

	if (!on_handle) {
		switch (op) {
		case CS_OP_CREATE:
		case CS_OP_CREATE_SYNC: return common | mem;
		case CS_OP_LOOKUP: return common | mem | E(CHAN_EINVAL) | E(CHAN_ENOENT);
		case CS_OP_SEND_MANY:           /* a bad count is refused first */
		case CS_OP_RECV_MANY: return common | E(CHAN_EBADHANDLE) | E(CHAN_EINVAL);
		default: return common | E(CHAN_EBADHANDLE);
		}
	}
	switch (op) {
	case CS_OP_SEND:
	case CS_OP_TRY_SEND:
		return common | E(CHAN_EPERM) | E(CHAN_EDISCONNECTED) | E(CHAN_EWOULDBLOCK) |
			E(CHAN_ENOSPC) | E(CHAN_ENOMEM) | E(CHAN_EINVAL);
	case CS_OP_RECV:
	case CS_OP_TRY_RECV:
		return common | E(CHAN_EPERM) | E(CHAN_EDISCONNECTED) | E(CHAN_EWOULDBLOCK) |
			E(CHAN_ENOSPC) | E(CHAN_ENOMEM);
	case CS_OP_SEND_MANY:
	case CS_OP_RECV_MANY:
		return common | E(CHAN_EPERM) | E(CHAN_EDISCONNECTED) | E(CHAN_EWOULDBLOCK) |
			E(CHAN_EINVAL);
	case CS_OP_CLONE:
	case CS_OP_RECEIVER:
	case CS_OP_SENDER:
		return common | mem | E(CHAN_EINVAL) | E(CHAN_EPERM) | E(CHAN_EDISCONNECTED);
	case CS_OP_CLOSE:
	case CS_OP_INFO: return common;
	case CS_OP_DESTROY: return common | E(CHAN_EINVAL) | E(CHAN_EDISCONNECTED);
	case CS_OP_PUBLISH:
		return common | E(CHAN_EPERM) | E(CHAN_EINVAL) | E(CHAN_EDISCONNECTED) |
			E(CHAN_EEXIST) | E(CHAN_ENOSPC) | E(CHAN_ENOMEM);
	default: return common | E(CHAN_EINVAL);
	}
}

static void absorb(void)
{
	INV(out.n <= out.cap && out.cap >= S->pending.used + CS_OUT_EXTRA, "reply buffer %u/%u",
	    out.n, out.cap);
	for (uint32_t i = 0; i < out.n; i++) {
		const cs_reply_t *r = &out.r[i];
		uint32_t t = r->token;

		INV(t > 0 && t < next_token && tok_open[t], "reply to token %u, not waiting", t);
		tok_open[t] = false;
		uint16_t silo = tok_silo[t];
		INV(r->drop == dead[silo], "token %u: drop %d, silo %u dead %d", t, r->drop, silo,
		    dead[silo]);
		INV(r->status == 0 ||
			    (r->status < 0 &&
			     (allowed(tok_op[t], tok_badge[t] & CHAN_BADGE_HANDLE) & E(r->status))),
		    "token %u (op %u): status %d is not documented for it", t, tok_op[t],
		    r->status);
		INV(r->nhandles <= 2 && (r->status == 0 || r->nhandles == 0) &&
			    (!r->drop || r->nhandles == 0),
		    "token %u: %u handles with status %d", t, r->nhandles, r->status);
		/* Words go out only with nwords: every answer that has any
		 * (a message, a batch count, chan_info_t) must say so. */
		INV((r->nwords == 0 || r->nwords == CS_MSG_WORDS) &&
			    (!r->has_msg || r->nwords == CS_MSG_WORDS) &&
			    (r->status != 0 || r->drop || r->nwords == CS_MSG_WORDS ||
			     (tok_op[t] != CS_OP_INFO && tok_op[t] != CS_OP_SEND_MANY &&
			      tok_op[t] != CS_OP_RECV_MANY)),
		    "token %u (op %u): %u words with status %d", t, tok_op[t], r->nwords, r->status);
		for (uint32_t k = 0; k < r->nhandles; k++) {
			INV(cs_badge_silo(S, r->handles[k]) == silo,
			    "token %u mints a handle not of silo %u", t, silo);
			hold(silo, r->handles[k]);
		}
		if (r->drop || r->status != 0)
			continue;
		if (tok_op[t] == CS_OP_SEND || tok_op[t] == CS_OP_TRY_SEND) {
			accepted++;
			if (tok_carried[t])
				forget(silo, tok_carried[t]);
		}
		if (tok_op[t] == CS_OP_SEND_MANY) {
			INV(r->words.w[0] > 0 && r->words.w[0] <= CHAN_BATCH_MAX && !r->has_msg,
			    "token %u: send batch of %llu", t, (unsigned long long)r->words.w[0]);
			accepted += r->words.w[0];
		}
		if (tok_op[t] == CS_OP_RECV_MANY) {
			INV(r->has_msg && r->words.w[0] > 0 && r->words.w[0] <= CHAN_BATCH_MAX,
			    "token %u: receive batch of %llu", t, (unsigned long long)r->words.w[0]);
			delivered += r->words.w[0];
		} else if (r->has_msg) {
			delivered++;
		}
		if (tok_op[t] == CS_OP_CLOSE)
			forget(silo, tok_badge[t]);
	}
	check_invariants();
}

/* Conservation; `may_discard`: this step is one that can drop messages. */
static void check_messages(bool may_discard)
{
	uint64_t queued = 0;

	for (uint32_t ci = 0; ci < S->chans.made; ci++)
		if (cs_chan_at(S, ci)->used)
			queued += cs_chan_at(S, ci)->count;
	INV(accepted >= delivered + queued,
	    "messages from nowhere: %llu accepted, %llu delivered, %llu queued",
	    (unsigned long long)accepted, (unsigned long long)delivered,
	    (unsigned long long)queued);
	uint64_t d = accepted - delivered - queued;
	INV(d >= discarded, "discarded count went down");
	INV(d == discarded || may_discard, "%llu messages lost in a step that may not discard",
	    (unsigned long long)(d - discarded));
	discarded = d;
}

static void keep_last(void)
{
	last.n = 0;
	for (uint32_t i = 0; i < out.n && last.n < 64; i++)
		last_r[last.n++] = out.r[i];
}

static uint32_t new_token(uint16_t silo, uint32_t op, uint64_t badge, uint64_t carried)
{
	uint32_t t = next_token++;

	tok_silo[t] = silo;
	tok_op[t] = (uint8_t)op;
	tok_badge[t] = badge;
	tok_carried[t] = carried;
	tok_open[t] = true;
	return t;
}

/* A value from one byte: small ones mostly, the rest spread wide. */
static uint64_t wide(uint8_t v, uint8_t salt)
{
	static const uint64_t small[] = { 0, 1, 2, 3, 4, 8, 1024, 5000 };

	return v < 0xc0 ? small[v % 8] : (uint64_t)v * 0x9e3779b97f4a7c15ull ^ (uint64_t)salt << 40;
}

/* A badge: one the silo holds (most often), a stale one, a made-up one, or
 * the boot capability. */
static uint64_t pick_badge(struct sim *m, uint8_t sel, uint8_t salt)
{
	unsigned idx = sel >> 3;

	switch (sel & 7) {
	case 5: return nstale ? stale[idx % 16] : wide(salt, sel);
	case 6: return CHAN_BADGE(idx % 64, salt % 4);
	case 7: return m->id;
	default: return m->n ? m->held[idx % m->n] : m->id;
	}
}

/* A request step: op, badge, words, carried handle; 6 bytes. */
static void do_request(struct sim *m, uint8_t opsel)
{
	static const uint32_t common[] = { CS_OP_SEND,     CS_OP_RECV,       CS_OP_TRY_SEND,
					   CS_OP_TRY_RECV, CS_OP_CREATE,     CS_OP_CLOSE,
					   CS_OP_CLONE,    CS_OP_CREATE_SYNC };
	static const char *const names[] = { "a", "b", "chan.c",
					     "0123456789012345678901234567890" };
	uint8_t bsel = u8(), wsel = u8(), val = u8(), csel = u8(), extra = u8();
	uint32_t op = opsel < 0x80 ? common[opsel % 8] : opsel % 16;
	if (op == CS_OP_SEND_MANY && (csel & 0x80))
		op = CS_OP_RECV_MANY;
	uint64_t badge = op == CS_OP_CREATE || op == CS_OP_CREATE_SYNC || op == CS_OP_LOOKUP
		? ((bsel & 7) == 6 ? pick_badge(m, bsel, extra) : m->id)
		: pick_badge(m, bsel, extra);
	cs_request_t q = { .op = op, .badge = badge };

	switch (wsel % 4) {
	case 0: q.words.w[0] = wide(val, extra); break;
	case 1: memcpy(q.words.w, names[val % 4], strlen(names[val % 4]) + 1); break;
	case 2:
		for (int i = 0; i < 8; i++)
			q.words.w[i] = wide((uint8_t)(val + i * 37), extra);
		break;
	default:
		q.words.w[1] = val;
		q.words.w[0] = extra;
		break;
	}
	if (!(badge & CHAN_BADGE_HANDLE))
		q.silo = (wsel & 0xf0) == 0xf0 ? (uint16_t)(extra % SILOS) : m->id;
	if ((op == CS_OP_SEND || op == CS_OP_TRY_SEND) && (csel & 3) == 0) {
		q.carries = true;
		q.carried_badge = pick_badge(m, csel >> 2, extra);
	}
	/* Who gets the answer: a handle's owner; the silo named on the boot
	 * capability, or nobody the core knows (0) for a dead one. */
	uint16_t caller = badge & CHAN_BADGE_HANDLE ? cs_badge_silo(S, badge) : q.silo;
	if (badge & CHAN_BADGE_HANDLE && caller == 0)
		caller = m->id;
	if (dead[caller])
		caller = 0;
	if (next_token >= MAX_TOKENS)
		return;
	if (op == CS_OP_SEND_MANY || op == CS_OP_RECV_MANY)
		q.carries = (csel & 3) == 0;    /* refused: no handle rides in a batch */
	q.token = new_token(caller, op, badge, q.carries ? q.carried_badge : 0);
	if (op == CS_OP_SEND_MANY || op == CS_OP_RECV_MANY) {
		static cs_msg_t batch[CHAN_BATCH_MAX + 1];
		uint32_t n = val % (CHAN_BATCH_MAX + 2);
		for (uint32_t i = 0; i < n; i++) {
			batch[i] = q.words;
			batch[i].w[2] = i;
		}
		if (op == CS_OP_SEND_MANY)
			cs_send_many(S, &q, batch, n, &out);
		else
			cs_recv_many(S, &q, batch, n, &out);
	} else {
		cs_request(S, &q, &out);
	}
	absorb();
	check_messages(op == CS_OP_CLOSE || op == CS_OP_DESTROY || q.carries);
}

static cs_quota_t quota_from_input(void)
{
	uint8_t b = u8();
	cs_quota_t q = { 0 };

	if (b & 1) {
		q.handles = 1 + u8() % 24;
		q.pending = 1 + u8() % 6;
		q.channels = 1 + u8() % 6;
		q.names = 1 + u8() % 4;
		q.bytes = 64 + (uint64_t)u8() * 512;
	}
	return q;
}

static void new_silo(int k)
{
	cs_quota_t q = quota_from_input();

	sim[k] = (struct sim){ .id = next_silo++ };
	INV(cs_silo_config(S, sim[k].id, (uint8_t)(u8() % 4), &q) || mapped >= budget,
	    "config failed");
	if (!cs_silo_at(S, sim[k].id) || !cs_silo_at(S, sim[k].id)->known)
		dead[sim[k].id] = true; /* no memory for it: it never existed for chanserv */
}

static void kill(int k)
{
	uint16_t id = sim[k].id;

	if (dead[id])
		return;
	dead[id] = true;
	sim[k].n = 0;
	cs_silo_exit(S, id, &out);
	absorb();
	check_messages(true);
}

/* A delivery of the previous step failed: the receiver was dying. */
static void do_return(void)
{
	if (!last.n)
		return;
	cs_reply_t r;
	uint32_t i = 0;
	/* (a receive batch goes back message by message: not modelled here) */
	while (i < last.n && !(last_r[i].has_msg && !last_r[i].drop && last_r[i].status == 0 &&
			       tok_op[last_r[i].token] != CS_OP_RECV_MANY))
		i++;
	if (i == last.n)
		return;
	r = last_r[i];
	uint16_t silo = tok_silo[r.token];
	last.n = 0; /* main.c returns before the next request */
	delivered--;
	for (uint32_t k = 0; k < r.nhandles; k++)
		forget(silo, r.handles[k]);
	cs_return(S, &r, &out);
	absorb();
	check_messages(true);
	for (int k = 0; k < NSIM; k++)
		if (sim[k].id == silo && next_silo < SILOS) {
			kill(k);
			new_silo(k);
		}
}

/* A handle the previous step minted found no slot. */
static void do_unclaimed(void)
{
	if (!last.n)
		return;
	uint32_t i = 0;
	while (i < last.n && !last_r[i].nhandles)
		i++;
	if (i == last.n)
		return;
	cs_reply_t r = last_r[i];
	uint64_t b = r.handles[r.nhandles - 1];
	uint16_t silo = cs_badge_silo(S, b);
	last.n = 0;
	if (!silo)
		return;
	forget(silo, b);
	cs_unclaimed(S, b, &out);
	absorb();
	check_messages(true);
}

static void reset(void)
{
	memset(dead, 0, sizeof dead);
	memset(tok_open, 0, sizeof tok_open);
	next_token = 1;
	nstale = 0;
	accepted = delivered = discarded = 0;
	last.n = 0;
	mapped = 0;
	budget = PAGE_CAP;
	cs_init(S, &pager);
	INV(cs_out_attach(S, &out), "attach");
	next_silo = 1;
	for (int k = 0; k < NSIM; k++)
		new_silo(k);
}

static void finish(void)
{
	budget = PAGE_CAP;
	for (int k = 0; k < NSIM; k++)
		kill(k);
	for (uint32_t t = 1; t < next_token; t++)
		INV(!tok_open[t], "token %u (silo %u, op %u) never answered", t, tok_silo[t],
		    tok_op[t]);
	INV(S->chans.used == 0 && S->handles.used == 0 && S->pending.used == 0 &&
		    S->names.used == 0 && S->inflight == 0 && S->ring_bytes == 0,
	    "records left after every silo exited");
	for (uint16_t s = 1; s < SILOS; s++) {
		const cs_silo_t *si = cs_silo_at(S, s);
		INV(!si ||
			    (!si->handles && !si->pending && !si->channels && !si->names &&
			     !si->bytes),
		    "silo %u still charged", s);
	}
	INV(accepted == delivered + discarded, "messages unaccounted for");
	cs_fini(S);
	INV(mapped == 0, "%zu pages not given back", mapped);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	in_p = data;
	in_n = size;
	reset();
	while (in_n) {
		uint8_t step = u8();
		int k = u8() % NSIM;
		struct sim *m = &sim[k];

		if (dead[m->id]) {
			if (next_silo < SILOS)
				new_silo(k);
			continue;
		}
		switch (step % 32) {
		case 28:
			if (next_silo < SILOS) {
				kill(k);
				new_silo(k);
			}
			break;
		case 29: do_return(); break;
		case 30: do_unclaimed(); break;
		case 31: budget = (u8() & 1) ? mapped + u8() % 8 : PAGE_CAP; break;
		case 27: last.n = 0; break; /* between requests: nothing to return */
		default:
			do_request(m, u8());
			keep_last();
			break;
		}
	}
	finish();
	return 0;
}
