/*
 * chanserv: the IPC loop around core/. It receives every request on the
 * server endpoint, parks the caller's reply capability in a slot of its
 * own (the request's token), lets the core decide, and carries out the
 * replies: minting handle capabilities, answering parked callers, dropping
 * the replies of silos that died. It answers with reply/reply_recv only,
 * which never block, so no client can stall it.
 */
#include "arena.h"
#include "core/chanserv_core.h"

#include <sys/ipc.h>
#include <sys/sluice.h>

#define SLOT_REPLY_IN 8                 /* a new call's reply capability */
#define SLOT_MINT0 9                    /* handle capabilities on their way out */
#define SLOT_MINT1 10
#define SLOT_PARK_FIRST 64              /* parked replies: the tokens */
#define SLOT_PARK_LAST 4095

static cs_state_t state;
static cs_out_t out;
static const cs_alloc_t ring_alloc = { arena_alloc, arena_free, 0 };
static uint64_t parked[(SLOT_PARK_LAST + 1) / 64];

/* A free slot to park a reply in, or 0. */
static uint32_t park_slot(void)
{
	for (uint32_t w = SLOT_PARK_FIRST / 64; w < sizeof parked / sizeof parked[0]; w++) {
		if (~parked[w]) {
			uint32_t b = (uint32_t)__builtin_ctzll(~parked[w]);
			parked[w] |= 1ull << b;
			return w * 64 + b;
		}
	}
	return 0;
}

static void unpark(uint32_t slot)
{
	parked[slot / 64] &= ~(1ull << (slot % 64));
}

/* Builds the reply message for r, minting its handle capabilities. */
static void build_reply(const cs_reply_t *r, sl_msg_t *m)
{
	uint32_t slots[2] = { SLOT_MINT0, SLOT_MINT1 }, ncaps = 0;

	*m = (sl_msg_t){ .tag = SL_TAG((uint32_t)r->status, 8, 0) };
	memcpy(m->w, r->words.w, sizeof m->w);
	for (uint32_t i = 0; i < r->nhandles; i++)
		if (sl_cap_mint(SL_SLOT_SERVER, slots[i], SL_RIGHT_SEND | SL_RIGHT_GRANT, r->handles[i]) == 0)
			ncaps++;
	m->tag = SL_TAG_CAPS(SL_TAG((uint32_t)r->status, 8, ncaps), SLOT_MINT0, SLOT_MINT1);
}

/* Minted capabilities that did not go out (the client named no slot). */
static void clear_mint_slots(void)
{
	sl_cap_delete(SLOT_MINT0);
	sl_cap_delete(SLOT_MINT1);
}

/*
 * Messages handed to receivers whose silo was dying as the reply went out
 * (SL_EDEAD): each goes back to its channel, to the next receiver or the
 * front of the queue (cs_return); handing it on may fail again.
 */
#define RETURNS_MAX 64
static cs_reply_t returns[RETURNS_MAX];
static uint32_t returns_n;
static cs_out_t back;

static void send_reply(const cs_reply_t *r);

static void note_undelivered(const cs_reply_t *r)
{
	if (returns_n < RETURNS_MAX)
		returns[returns_n++] = *r;
	else
		printf("chanserv: %u undelivered messages at once; one is lost\n", RETURNS_MAX);
}

static void give_back_undelivered(void)
{
	while (returns_n) {
		cs_reply_t failed = returns[--returns_n];

		cs_return(&state, &failed, &back);
		for (uint32_t i = 0; i < back.n; i++)
			send_reply(&back.r[i]);
	}
}

static void send_reply(const cs_reply_t *r)
{
	sl_msg_t m;

	if (r->drop) {
		sl_cap_delete(r->token);
	} else {
		build_reply(r, &m);
		long err = sl_reply(r->token, &m);
		if (r->nhandles)
			clear_mint_slots();
		if (err == SL_EDEAD && r->has_msg)
			note_undelivered(r);
	}
	unpark(r->token);
}

/* Sends every reply but the one to `keep`; returns that one or NULL. */
static const cs_reply_t *send_replies(uint32_t keep)
{
	const cs_reply_t *kept = NULL;

	for (uint32_t i = 0; i < out.n; i++) {
		if (out.r[i].token == keep && !out.r[i].drop && !kept)
			kept = &out.r[i];
		else
			send_reply(&out.r[i]);
	}
	return kept;
}

static uint32_t arg_value(const char *args, const char *key)
{
	const char *p = args;
	size_t klen = strlen(key);

	while ((p = strchr(p, key[0]))) {
		if (!strncmp(p, key, klen) && p[klen] == '=' && (p == args || p[-1] == ' '))
			return (uint32_t)strtol_simple(p + klen + 1);
		p++;
	}
	return 0;
}

/* ns=publish,lookup in a silo's arguments. */
static uint8_t ns_rights(const char *args)
{
	const char *p = args;
	uint8_t ns = 0;

	while ((p = strchr(p, 'n'))) {
		if (!strncmp(p, "ns=", 3) && (p == args || p[-1] == ' ')) {
			for (p += 3; *p && *p != ' ';) {
				if (!strncmp(p, "publish", 7))
					ns |= CS_NS_PUBLISH;
				if (!strncmp(p, "lookup", 6))
					ns |= CS_NS_LOOKUP;
				while (*p && *p != ',' && *p != ' ')
					p++;
				if (*p == ',')
					p++;
			}
		} else {
			p++;
		}
	}
	return ns;
}

static void configure_silos(void)
{
	const sl_silo_table_t *t = sl_silo_table();

	for (uint32_t i = 0; i < t->count && i < SL_SILO_TABLE_MAX; i++) {
		const sl_silo_entry_t *e = &t->silos[i];

		if (e->id == (uint32_t)sl_silo_id())
			continue;
		cs_silo_config(&state, (uint16_t)e->id, ns_rights(e->args),
			       arg_value(e->args, "chan.handles"), arg_value(e->args, "chan.pending"),
			       arg_value(e->args, "chan.channels"));
	}
}

/* Decodes one call into a request; false if it is malformed (answered). */
static bool decode(const sl_msg_t *m, uint32_t token, cs_request_t *q)
{
	unsigned ncaps = SL_TAG_NCAPS(m->tag);

	*q = (cs_request_t){ .op = SL_TAG_LABEL(m->tag), .badge = m->badge, .token = token };
	memcpy(q->words.w, m->w, sizeof q->words.w);
	if (!(m->badge & CHAN_BADGE_HANDLE))
		q->silo = (uint16_t)m->badge;
	/* Only a chanserv handle may ride along, and it arrives unwrapped. */
	if (ncaps > 1 || (ncaps == 1 && !(m->tag & SL_TAG_UNWRAPPED(0))))
		return false;
	q->carries = ncaps == 1;
	q->carried_badge = m->spec;             /* RBX: the unwrapped badge */
	return true;
}

int main(void)
{
	sl_msg_t m = { .spec = SL_SPEC(0, SLOT_REPLY_IN, 0, 0) };
	cs_request_t q;
	long r;

	cs_init(&state, &ring_alloc);
	configure_silos();
	r = sl_events_bind(SL_SLOT_SILO_EVENTS, SL_SLOT_SERVER);
	printf("chanserv: serving %u silos (events: %ld)\n", sl_silo_table()->count - 1, r);
	r = sl_recv(SL_SLOT_SERVER, &m);
	for (;;) {
		const cs_reply_t *mine = NULL;
		uint32_t token = 0;

		give_back_undelivered();

		if (r == 0 && m.badge == SL_BADGE_KERNEL) {
			cs_silo_exit(&state, (uint16_t)m.w[0], &out);
			send_replies(0);
		} else if (r == 0 && (m.tag & SL_TAG_CALL) && (token = park_slot()) &&
			   (sl_cap_move(SLOT_REPLY_IN, token) == 0 || (unpark(token), false))) {
			if (decode(&m, token, &q)) {
				cs_request(&state, &q, &out);
			} else {
				out.n = 1;
				out.r[0] = (cs_reply_t){ .token = token, .status = CHAN_EINVAL };
			}
			mine = send_replies(token);
		} else {
			sl_cap_delete(SLOT_REPLY_IN);   /* a send, or no room: nobody to answer */
		}
		if (mine) {
			bool minted = mine->nhandles > 0;

			build_reply(mine, &m);
			unpark(token);
			m.spec = SL_SPEC(token, SLOT_REPLY_IN, 0, 0);
			r = sl_reply_recv(SL_SLOT_SERVER, &m);
			if (minted)
				clear_mint_slots();
			if ((m.tag & SL_TAG_REPLY_DEAD) && mine->has_msg)
				note_undelivered(mine);         /* `out` is untouched until the next request */
		} else {
			m.spec = SL_SPEC(0, SLOT_REPLY_IN, 0, 0);
			r = sl_recv(SL_SLOT_SERVER, &m);
		}
	}
}
