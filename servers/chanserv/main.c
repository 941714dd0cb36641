/*
 * chanserv: the IPC loop around core/. It receives every request on the
 * server endpoint with the caller's reply capability landing straight in
 * a free parking slot (the request's token), lets the core decide, and
 * carries out the replies: minting handle capabilities, answering parked
 * callers, dropping the replies of silos that died. It answers with
 * reply/reply_recv only, which never block, so no client can stall it.
 *
 * A message's words go from the registers straight into the request (and
 * out of the core's reply straight into the registers), so the core's is
 * the only copy a message makes inside chanserv. A request answered at
 * once costs one reply_recv, which also receives the next request.
 */
#include "arena.h"
#include "core/chanserv_core.h"

#include <sys/ipc.h>
#include <sys/sluice.h>

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

/* The registers of one IPC system call but the data words, which
 * cs_ipc takes from and puts wherever the caller keeps them. */
typedef struct cs_regs {
	uint64_t tag;                   /* RSI */
	uint64_t badge;                 /* RDI out */
	uint64_t spec;                  /* RBX: spec in, unwrapped badge 0 out */
} cs_regs_t;

/* Words for calls that send none, and a place for words nobody reads. */
static const uint64_t no_words[SL_MSG_WORDS];
static uint64_t ignored_words[SL_MSG_WORDS];

/*
 * System call nr on cap with the words loaded from in and the words that
 * come back stored in out; RBP comes back clobbered (unwrapped badge 1,
 * never used here). Blocks as the call does (recv and reply_recv until a
 * message arrives; reply never).
 */
static long cs_ipc(long nr, unsigned long cap, cs_regs_t *m, const uint64_t *in, uint64_t *out)
{
	register uint64_t r10 __asm__("r10") = in[1];
	register uint64_t r8 __asm__("r8") = in[2];
	register uint64_t r9 __asm__("r9") = in[3];
	register uint64_t r12 __asm__("r12") = in[4];
	register uint64_t r13 __asm__("r13") = in[5];
	register uint64_t r14 __asm__("r14") = in[6];
	register uint64_t r15 __asm__("r15") = in[7];
	uint64_t rdx = in[0], rdi = cap, rsi = m->tag, rbx = m->spec;
	long rax = nr;

	__asm__ volatile("syscall"
			 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+b"(rbx), "+r"(r10), "+r"(r8),
			   "+r"(r9), "+r"(r12), "+r"(r13), "+r"(r14), "+r"(r15)
			 :
			 : "rcx", "r11", "rbp", "memory");
	m->tag = rsi;
	m->badge = rdi;
	m->spec = rbx;
	out[0] = rdx;
	out[1] = r10;
	out[2] = r8;
	out[3] = r9;
	out[4] = r12;
	out[5] = r13;
	out[6] = r14;
	out[7] = r15;
	return rax;
}

/* The tag of the reply r, minting its handle capabilities (the words go
 * straight from r->words). */
static uint64_t reply_tag(const cs_reply_t *r)
{
	uint32_t slots[2] = { SLOT_MINT0, SLOT_MINT1 }, ncaps = 0;

	for (uint32_t i = 0; i < r->nhandles; i++)
		if (sl_cap_mint(SL_SLOT_SERVER, slots[i], SL_RIGHT_SEND | SL_RIGHT_GRANT, r->handles[i]) == 0)
			ncaps++;
	return SL_TAG_CAPS(SL_TAG((uint32_t)r->status, 8, ncaps), SLOT_MINT0, SLOT_MINT1);
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
	if (r->drop) {
		sl_cap_delete(r->token);
	} else {
		cs_regs_t m = { .tag = reply_tag(r) };
		long err = cs_ipc(SL_SYS_REPLY, r->token, &m, r->words.w, ignored_words);
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

/* Decodes one call, whose words cs_ipc already put in q->words, into a
 * request; false if it is malformed (answered). */
static bool decode(const cs_regs_t *m, uint32_t token, cs_request_t *q)
{
	unsigned ncaps = SL_TAG_NCAPS(m->tag);

	/* Registers past the length still hold chanserv's own values (the
	 * last reply's words): never let them pass for the caller's. */
	for (unsigned i = SL_TAG_LEN(m->tag); i < SL_MSG_WORDS; i++)
		q->words.w[i] = 0;
	q->op = SL_TAG_LABEL(m->tag);
	q->badge = m->badge;
	q->token = token;
	q->silo = 0;
	q->carries = false;
	q->carried_badge = 0;
	if (!(m->badge & CHAN_BADGE_HANDLE))
		q->silo = (uint16_t)m->badge;
	/* Only a chanserv handle may ride along, and it arrives unwrapped. */
	if (ncaps > 1 || (ncaps == 1 && !(m->tag & SL_TAG_UNWRAPPED(0))))
		return false;
	q->carries = ncaps == 1;
	q->carried_badge = m->spec;             /* RBX: the unwrapped badge */
	return true;
}

/* Handles one request that arrived with its reply capability in token:
 * returns the reply to send with the next receive (token's own), if the
 * core answers it at once; the others go out now. */
static const cs_reply_t *handle_call(const cs_regs_t *m, uint32_t token, cs_request_t *q)
{
	if (decode(m, token, q)) {
		cs_request(&state, q, &out);
	} else {
		out.n = 1;
		out.r[0] = (cs_reply_t){ .token = token, .status = CHAN_EINVAL };
	}
	return send_replies(token);
}

int main(void)
{
	static cs_request_t q;
	uint32_t token = park_slot();   /* where the next call's reply capability lands */
	cs_regs_t m = { .spec = SL_SPEC(0, token, 0, 0) };
	long r;

	cs_init(&state, &ring_alloc);
	configure_silos();
	r = sl_events_bind(SL_SLOT_SILO_EVENTS, SL_SLOT_SERVER);
	printf("chanserv: serving %u silos (events: %ld)\n", sl_silo_table()->count - 1, r);
	r = cs_ipc(SL_SYS_RECV, SL_SLOT_SERVER, &m, no_words, q.words.w);
	for (;;) {
		const cs_reply_t *mine = NULL;

		if (returns_n)
			give_back_undelivered();
		if (r == 0 && m.badge == SL_BADGE_KERNEL) {
			cs_silo_exit(&state, (uint16_t)q.words.w[0], &out);
			send_replies(0);
		} else if (r == 0 && (m.tag & SL_TAG_CALL)) {
			mine = handle_call(&m, token, &q);
			if (!mine)              /* parked (or answered): a new landing slot */
				token = 0;
		}                               /* else a send, or none to answer */
		if (!token)                     /* none was free: calls fail at once meanwhile */
			token = park_slot();
		if (mine) {
			bool minted = mine->nhandles > 0;

			/* The answer uses token up; the next call lands there again. */
			m = (cs_regs_t){ .tag = reply_tag(mine), .spec = SL_SPEC(token, token, 0, 0) };
			r = cs_ipc(SL_SYS_REPLY_RECV, SL_SLOT_SERVER, &m, mine->words.w, q.words.w);
			if (minted)
				clear_mint_slots();
			if ((m.tag & SL_TAG_REPLY_DEAD) && mine->has_msg)
				note_undelivered(mine);         /* `out` is untouched until the next request */
		} else {
			m = (cs_regs_t){ .spec = SL_SPEC(0, token, 0, 0) };
			r = cs_ipc(SL_SYS_RECV, SL_SLOT_SERVER, &m, no_words, q.words.w);
		}
	}
}
