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
static cs_out_t out, back;
static const cs_pages_t pager = { pages_map, pages_unmap, 0 };
static uint64_t parked[(SLOT_PARK_LAST + 1) / 64];
static uint64_t parked_full;            /* bit w: parked[w] has no free slot */
_Static_assert(sizeof parked / sizeof parked[0] <= 64, "one summary word");

/* A free slot to park a reply in, or 0: the first word with room, found
 * through the summary word, whatever number of replies are parked. */
static uint32_t park_slot(void)
{
	uint64_t room = ~parked_full & ~((1ull << (SLOT_PARK_FIRST / 64)) - 1);

	if (!room)
		return 0;
	uint32_t w = (uint32_t)__builtin_ctzll(room);
	uint32_t b = (uint32_t)__builtin_ctzll(~parked[w]);
	parked[w] |= 1ull << b;
	if (!~parked[w])
		parked_full |= 1ull << w;
	return w * 64 + b;
}

static void unpark(uint32_t slot)
{
	parked[slot / 64] &= ~(1ull << (slot % 64));
	parked_full &= ~(1ull << (slot / 64));
}

static bool minted[2];                  /* the last reply's handles became capabilities */

/* Builds the reply message for r, minting its handle capabilities. */
static void build_reply(const cs_reply_t *r, sl_msg_t *m)
{
	uint32_t slots[2] = { SLOT_MINT0, SLOT_MINT1 }, ncaps = 0;

	*m = (sl_msg_t){ .tag = SL_TAG((uint32_t)r->status, 8, 0) };
	memcpy(m->w, r->words.w, sizeof m->w);
	for (uint32_t i = 0; i < r->nhandles; i++) {
		minted[i] = sl_cap_mint(SL_SLOT_SERVER, slots[i], SL_RIGHT_SEND | SL_RIGHT_GRANT,
					r->handles[i]) == 0;
		ncaps += minted[i];
	}
	m->tag = SL_TAG_CAPS(SL_TAG((uint32_t)r->status, 8, ncaps), SLOT_MINT0, SLOT_MINT1);
}

/*
 * What a reply could not hand over, kept until the loop is between
 * requests: messages whose receiver's silo was dying as the reply went out
 * (SL_EDEAD: cs_return gives each back, to the next receiver or the front
 * of its queue), and handles the client named no free slot for (closed at
 * once, cs_unclaimed). One request leaves at most one of the first and two
 * of the second; handing them on may add more, one at a time.
 */
#define LEFT_MAX 64
static cs_reply_t returns[LEFT_MAX];
static uint32_t returns_n;
static uint64_t unclaimed[LEFT_MAX];
static uint32_t unclaimed_n;

static void send_reply(const cs_reply_t *r);

/* After r's reply went out: a minted capability still in our slot was not
 * taken (or the mint failed), so the handle goes; a failed message
 * delivery goes back instead, handle and all. */
static void after_reply(const cs_reply_t *r, bool dead)
{
	const uint32_t slots[2] = { SLOT_MINT0, SLOT_MINT1 };
	sl_cap_info_t info;

	if (dead && r->has_msg) {
		if (returns_n < LEFT_MAX)
			returns[returns_n++] = *r;
		else
			printf("chanserv: %u undelivered messages at once; one is lost\n", LEFT_MAX);
		for (uint32_t i = 0; i < r->nhandles; i++)
			sl_cap_delete(slots[i]);
		return;
	}
	for (uint32_t i = 0; i < r->nhandles; i++) {
		if (minted[i] && sl_cap_identify(slots[i], &info) < 0 && !dead)
			continue;               /* handed over */
		sl_cap_delete(slots[i]);
		if (unclaimed_n < LEFT_MAX)
			unclaimed[unclaimed_n++] = r->handles[i];
	}
}

static void send_back(void)
{
	for (uint32_t i = 0; i < back.n; i++)
		send_reply(&back.r[i]);
}

static void finish_left_over(void)
{
	while (returns_n || unclaimed_n) {
		if (returns_n) {
			cs_reply_t failed = returns[--returns_n];
			cs_return(&state, &failed, &back);
		} else {
			cs_unclaimed(&state, unclaimed[--unclaimed_n], &back);
		}
		send_back();
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
		after_reply(r, err == SL_EDEAD);
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

/* Every silo in the kernel's table, however many the table holds. */
static void configure_silos(void)
{
	const sl_silo_table_t *t = sl_silo_table();

	for (uint32_t i = 0; i < t->count && i < SL_SILO_TABLE_MAX; i++) {
		const sl_silo_entry_t *e = &t->silos[i];
		cs_quota_t q = {
			.handles = arg_value(e->args, "chan.handles"),
			.pending = arg_value(e->args, "chan.pending"),
			.channels = arg_value(e->args, "chan.channels"),
			.names = arg_value(e->args, "chan.names"),
			.bytes = arg_value(e->args, "chan.bytes"),
		};

		if (e->id == (uint32_t)sl_silo_id() || e->id == 0 || e->id > CS_SILO_MAX)
			continue;
		if (!cs_silo_config(&state, (uint16_t)e->id, ns_rights(e->args), &q))
			printf("chanserv: no memory for silo %u\n", e->id);
	}
}

/* Answers the call in SLOT_REPLY_IN at once, with status. */
static void refuse(int32_t status)
{
	sl_msg_t m = { .tag = SL_TAG((uint32_t)status, 0, 0) };

	if (sl_reply(SLOT_REPLY_IN, &m) < 0)
		sl_cap_delete(SLOT_REPLY_IN);
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

	r = sl_events_bind(SL_SLOT_SILO_EVENTS, SL_SLOT_SERVER);
	cs_init(&state, &pager);
	if (!cs_out_attach(&state, &out) || !cs_out_attach(&state, &back))
		printf("chanserv: no memory for replies\n");
	configure_silos();
	printf("chanserv: serving %u silos (events: %ld, memory: %s)\n", sl_silo_table()->count - 1, r,
	       pages_from_kernel() ? "mapped" : "static arena");
	r = sl_recv(SL_SLOT_SERVER, &m);
	for (;;) {
		const cs_reply_t *mine = NULL;
		uint32_t token = 0;

		finish_left_over();

		if (r == 0 && m.badge == SL_BADGE_KERNEL) {
			cs_silo_exit(&state, (uint16_t)m.w[0], &out);
			send_replies(0);
		} else if (r == 0 && (m.tag & SL_TAG_CALL) && !(token = park_slot())) {
			refuse(CHAN_ELIMIT);            /* every parking slot holds a waiting reply */
		} else if (r == 0 && (m.tag & SL_TAG_CALL) &&
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
			build_reply(mine, &m);
			unpark(token);
			m.spec = SL_SPEC(token, SLOT_REPLY_IN, 0, 0);
			r = sl_reply_recv(SL_SLOT_SERVER, &m);
			after_reply(mine, (m.tag & SL_TAG_REPLY_DEAD) != 0);    /* `out` is untouched until the next request */
		} else {
			m.spec = SL_SPEC(0, SLOT_REPLY_IN, 0, 0);
			r = sl_recv(SL_SLOT_SERVER, &m);
		}
	}
}
