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

/* A parked slot is free again: btr with the slot as bit offset into
 * `parked` (a bit string), and its word's summary bit (four instructions
 * in all; in C it took ten). */
static inline __attribute__((always_inline)) void unpark(uint32_t slot)
{
	__asm__("btrl %k1, %0" : "+m"(parked) : "r"(slot) : "cc");
	__asm__("btrq %1, %0" : "+m"(parked_full) : "r"((uint64_t)(slot / 64)) : "cc");
}

/* The registers of one IPC system call but the data words, which
 * cs_ipc takes from and puts wherever the caller keeps them. */
typedef struct cs_regs {
	uint64_t tag;                   /* RSI */
	uint64_t badge;                 /* RDI out */
	uint64_t spec;                  /* RBX: spec in, unwrapped badge 0 out */
} cs_regs_t;

/* chanserv's message buffer (<abi/ipc.h>): batches arrive and leave here.
 * Every receive names it, and every system call points RBP at it. */
static struct {
	uint64_t count;                 /* words that follow */
	cs_msg_t msg[CHAN_BATCH_MAX];
} batch __attribute__((aligned(64)));
#define BATCH_WORDS (1 + CHAN_BATCH_MAX * SL_MSG_WORDS)

/* Words for calls that send none, and a place for words nobody reads. */
static const uint64_t no_words[SL_MSG_WORDS];
static uint64_t ignored_words[SL_MSG_WORDS];

/* Where cs_ipc and cs_ipc_nowords put what comes back: the tag, badge and
 * spec registers in m, the eight data registers, in order, in out. */
static inline __attribute__((always_inline)) void cs_ipc_out(cs_regs_t *m, uint64_t *out, uint64_t rsi,
							     uint64_t rdi, uint64_t rbx, uint64_t rdx,
							     uint64_t r10, uint64_t r8, uint64_t r9,
							     uint64_t r12, uint64_t r13, uint64_t r14,
							     uint64_t r15)
{
	m->tag = rsi;
	m->badge = rdi;
	m->spec = rbx;
	SL_IPC_WORDS_STORE(out);
}

/*
 * System call nr on cap with the words loaded from in and the words that
 * come back stored in out, and RBP pointing at `batch`; RBP comes back
 * clobbered (unwrapped badge 1, never used here). Blocks as the call does (recv and reply_recv until a
 * message arrives; reply never). Inlined: as a call it saved and restored
 * six registers and went through `m` in memory on every request. It is
 * sl_ipc_words (<sys/ipc.h>, whose register declarations it uses) with
 * RBP loaded by leaq from `batch` itself:
 * the general form loads the pointer from memory, one store and load more
 * per request (measured: 4 instructions a ping-pong).
 */
static inline __attribute__((always_inline)) long cs_ipc(long nr, unsigned long cap, cs_regs_t *m, const uint64_t *in, uint64_t *out)
{
	SL_IPC_WORDS_IN(in);
	uint64_t rdi = cap, rsi = m->tag, rbx = m->spec;
	long rax = nr;

	__asm__ volatile("leaq %[buf], %%rbp\n\tsyscall"
			 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+b"(rbx), SL_IPC_WORDS_INOUT
			 : [buf] "m"(batch)
			 : "rcx", "r11", "rbp", "memory");
	cs_ipc_out(m, out, rsi, rdi, rbx, rdx, r10, r8, r9, r12, r13, r14, r15);
	return rax;
}

/*
 * cs_ipc for a call that sends no words: a recv, or a reply_recv whose
 * reply has length 0. The data registers are only outputs, so none is
 * loaded; those past the received length keep whatever chanserv had in
 * them (decode() zeroes them). Blocks until a message arrives.
 */
static inline __attribute__((always_inline)) long cs_ipc_nowords(long nr, unsigned long cap, cs_regs_t *m,
								  uint64_t *out)
{
	SL_IPC_WORDS_UNSET;
	uint64_t rdi = cap, rsi = m->tag, rbx = m->spec;
	long rax = nr;

	__asm__ volatile("leaq %[buf], %%rbp\n\tsyscall"
			 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+b"(rbx), SL_IPC_WORDS_OUT
			 : [buf] "m"(batch)
			 : "rcx", "r11", "rbp", "memory");
	cs_ipc_out(m, out, rsi, rdi, rbx, rdx, r10, r8, r9, r12, r13, r14, r15);
	return rax;
}

/*
 * SL_SYS_REPLY on token with tag and the words from in (as many as the
 * tag counts are read by the kernel); never blocks. Nothing comes back
 * but the result, so nothing is stored, and RBP is not set: this reply
 * carries no buffer part (only recv_many's does).
 */
static inline __attribute__((always_inline)) long cs_ipc_reply(uint32_t token, uint64_t tag, const uint64_t *in)
{
	SL_IPC_WORDS_IN(in);
	uint64_t rdi = token, rsi = tag, rbx = 0;
	long rax = SL_SYS_REPLY;

	__asm__ volatile("syscall"
			 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+b"(rbx), SL_IPC_WORDS_INOUT
			 :
			 : "rcx", "r11", "rbp", "memory");
	return rax;
}

static bool minted[2];                  /* the last reply's handles became capabilities */

/* The tag of the reply r, minting its handle capabilities (the words go
 * straight from r->words). */
static uint64_t reply_tag_minting(const cs_reply_t *r)
{
	uint32_t slots[2] = { SLOT_MINT0, SLOT_MINT1 }, ncaps = 0;

	for (uint32_t i = 0; i < r->nhandles; i++) {
		minted[i] = sl_cap_mint(SL_SLOT_SERVER, slots[i], SL_RIGHT_SEND | SL_RIGHT_GRANT,
					r->handles[i]) == 0;
		ncaps += minted[i];
	}
	return SL_TAG_CAPS(SL_TAG((uint32_t)r->status, r->nwords, ncaps), SLOT_MINT0, SLOT_MINT1);
}

/* Most replies carry no handle: their tag is the label and the length
 * (a bare status has none: the words are not sent). nwords is 0 or
 * CS_MSG_WORDS, so SL_TAG's mask of the length is left out: it was one
 * instruction more for each reply. */
static inline __attribute__((always_inline)) uint64_t reply_tag(const cs_reply_t *r)
{
	if (r->nhandles)
		return reply_tag_minting(r);
	return (uint32_t)r->status | (uint64_t)r->nwords << 32 | SL_TAG_CAPS(0, SLOT_MINT0, SLOT_MINT1);
}
_Static_assert(SL_TAG(0, CS_MSG_WORDS, 0) == (uint64_t)CS_MSG_WORDS << 32, "the length field");

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
 * delivery goes back instead (note: true), handle and all. */
static void after_reply(const cs_reply_t *r, bool dead, bool note)
{
	const uint32_t slots[2] = { SLOT_MINT0, SLOT_MINT1 };
	sl_cap_info_t info;

	if (dead && r->has_msg) {
		if (!note)
			;                       /* the caller gives it back itself */
		else if (returns_n < LEFT_MAX)
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
	if (r->drop) {
		sl_cap_delete(r->token);
	} else {
		long err = cs_ipc_reply(r->token, reply_tag(r), r->words.w);
		if (r->nhandles || (err == SL_EDEAD && r->has_msg))
			after_reply(r, err == SL_EDEAD, true);
	}
	unpark(r->token);
}

/* send_reply, with the usual reply (one to a caller still there, without
 * handles: a message to a waiting receiver, or a status) inline in the
 * loop, which has the registers to spare. */
static inline __attribute__((always_inline)) void send_reply_inline(const cs_reply_t *r)
{
	if (r->drop || r->nhandles) {
		send_reply(r);
		return;
	}
	long err = cs_ipc_reply(r->token, reply_tag(r), r->words.w);
	if (err == SL_EDEAD && r->has_msg)
		after_reply(r, true, true);
	unpark(r->token);
}

/* A plain reply (no handle, not dropped) that is a bare status. */
static inline bool is_bare_status(const cs_reply_t *r)
{
	return !r->drop && !r->nhandles && !r->nwords;
}

/*
 * Sends every reply but the one to `keep`; returns that one or NULL. A
 * send that handed its message to a waiting receiver is the exception
 * (*second set): then the receiver's reply is returned, to go out with
 * the next receive, and the caller's bare status goes with it as the
 * second answer of one reply2_recv (its token in *second).
 */
static inline __attribute__((always_inline)) const cs_reply_t *send_replies_pair(uint32_t keep,
									     const cs_reply_t **second)
{
	const cs_reply_t *kept = NULL;

	if (second)
		*second = NULL;
	if (out.n == 1 && out.r[0].token == keep && !out.r[0].drop)
		return &out.r[0];       /* the usual: only the caller's own */
	if (out.n == 2 && out.r[1].token == keep && !out.r[1].drop && out.r[0].token != keep) {
		if (second && is_bare_status(&out.r[1]) && !out.r[0].drop && !out.r[0].nhandles) {
			*second = &out.r[1];
			return &out.r[0];
		}
		send_reply_inline(&out.r[0]);
		return &out.r[1];
	}
	for (uint32_t i = 0; i < out.n; i++) {
		if (out.r[i].token == keep && !out.r[i].drop && !kept)
			kept = &out.r[i];
		else
			send_reply_inline(&out.r[i]);
	}
	return kept;
}

/* The same where the reply goes out on its own. */
static inline __attribute__((always_inline)) const cs_reply_t *send_replies(uint32_t keep)
{
	return send_replies_pair(keep, NULL);
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

/* Decodes one call, whose words cs_ipc already put in q->words, into a
 * request; false if it is malformed (answered). Inlined into each caller
 * (it runs on every request). */
static inline __attribute__((always_inline)) bool decode(const cs_regs_t *m, uint32_t token, cs_request_t *q)
{
	unsigned ncaps = SL_TAG_NCAPS(m->tag);

	/* Registers past the length still hold chanserv's own values (the
	 * last reply's words): never let them pass for the caller's. */
	switch (SL_TAG_LEN(m->tag)) {
	case 0: q->words.w[0] = 0; __attribute__((fallthrough));
	case 1: q->words.w[1] = 0; __attribute__((fallthrough));
	case 2: q->words.w[2] = 0; __attribute__((fallthrough));
	case 3: q->words.w[3] = 0; __attribute__((fallthrough));
	case 4: q->words.w[4] = 0; __attribute__((fallthrough));
	case 5: q->words.w[5] = 0; __attribute__((fallthrough));
	case 6: q->words.w[6] = 0; __attribute__((fallthrough));
	case 7: q->words.w[7] = 0; __attribute__((fallthrough));
	default: break;                 /* 8 and past: every word is the caller's */
	}
	q->op = SL_TAG_LABEL(m->tag);
	q->badge = m->badge;
	q->token = token;
	q->silo = 0;
	q->carries = false;
	q->carried_badge = 0;
	if (!(m->badge & CHAN_BADGE_HANDLE))
		q->silo = (uint16_t)m->badge;
	if (__builtin_expect(ncaps != 0, 0)) {
		/* Only a chanserv handle may ride along, and it arrives unwrapped. */
		if (ncaps > 1 || !(m->tag & SL_TAG_UNWRAPPED(0)))
			return false;
		q->carries = true;
		q->carried_badge = m->spec;     /* RBX: the unwrapped badge */
	}
	return true;
}

/*
 * CS_OP_SEND_MANY: the messages in `batch`, each a CS_OP_TRY_SEND of its
 * own (same stamping, capacity and disconnect rules), in order, until one
 * cannot go; the core takes the whole run in one step. The answer: CHAN_OK
 * and how many went, or the first one's error if none did (libchan then
 * waits with a plain send).
 */
static const cs_reply_t *send_many(cs_regs_t regs, uint32_t token, cs_request_t *q)
{
	const cs_regs_t *m = &regs;      /* a copy: the loop keeps its own in registers */
	uint64_t n = batch.count / SL_MSG_WORDS;

	if (!decode(m, token, q) || !(m->tag & SL_TAG_BUFFER) || batch.count % SL_MSG_WORDS ||
	    n > CHAN_BATCH_MAX)
		n = 0;                  /* the core answers CHAN_EINVAL */
	cs_send_many(&state, q, batch.msg, (uint32_t)n, &out);
	return send_replies(token);
}

/* Gives the messages of a receive batch that could not be delivered back
 * to their channel, the last first, so they stay in order at the front;
 * a handle rode only in the last. */
static void give_back_batch(const cs_reply_t *a, uint32_t n)
{
	int32_t carried = a->carried;

	while (n) {
		n--;
		cs_reply_t failed = { .has_msg = true, .chan = a->chan, .chan_id = a->chan_id,
				      .carried = carried, .words = batch.msg[n] };
		cs_return(&state, &failed, &back);
		send_back();
		carried = -1;
	}
}

/*
 * CS_OP_RECV_MANY: up to w0 messages, each a CS_OP_TRY_RECV of its own,
 * into `batch`, taken by the core in one step; a message carrying a handle
 * ends the batch and the handle goes with the answer. Answered here, with
 * reply (the answer's buffer must fit the caller's: if it does not, or the
 * caller is gone, the messages go back to their channel).
 */
static void recv_many(cs_regs_t regs, uint32_t token, cs_request_t *q)
{
	const cs_regs_t *m = &regs;      /* a copy: the loop keeps its own in registers */
	bool ok = decode(m, token, q);  /* words past the length read as 0 */
	uint64_t max = ok && q->words.w[0] <= CHAN_BATCH_MAX ? q->words.w[0] : 0;

	cs_recv_many(&state, q, batch.msg, (uint32_t)max, &out);
	const cs_reply_t *r = send_replies(token);
	cs_reply_t a = r ? *r : (cs_reply_t){ .token = token, .status = CHAN_EIPC, .carried = -1 };
	uint32_t got = (uint32_t)a.words.w[0];

	batch.count = (uint64_t)got * SL_MSG_WORDS;
	cs_regs_t rm = { .tag = reply_tag(&a) | (got ? SL_TAG_BUFFER : 0) };
	long err = cs_ipc(SL_SYS_REPLY, token, &rm, a.words.w, ignored_words);
	if (a.nhandles)                 /* the messages go back below, handle and all */
		after_reply(&a, err < 0, false);
	if (err < 0 && got)
		give_back_batch(&a, got);
	if (err == SL_EFAULT) {         /* refused: the caller's buffer was too small */
		cs_ipc_reply(token, SL_TAG((uint32_t)CHAN_EINVAL, 0, 0), no_words);
	}
	unpark(token);
}

/* Handles one request that arrived with its reply capability in token:
 * returns the reply to send with the next receive (token's own), if the
 * core answers it at once; the others go out now. */
static inline __attribute__((always_inline)) const cs_reply_t *handle_call(const cs_regs_t *m, uint32_t token,
									 cs_request_t *q,
									 const cs_reply_t **second)
{
	*second = NULL;
	if (__builtin_expect(SL_TAG_LABEL(m->tag) - CS_OP_SEND_MANY <= CS_OP_RECV_MANY - CS_OP_SEND_MANY, 0)) {
		if (SL_TAG_LABEL(m->tag) == CS_OP_SEND_MANY)
			return send_many(*m, token, q);
		recv_many(*m, token, q);
		return NULL;
	}
	if (decode(m, token, q)) {
		cs_request(&state, q, &out);
	} else {
		out.n = 1;
		out.r[0] = (cs_reply_t){ .token = token, .status = CHAN_EINVAL };
	}
	return send_replies_pair(token, second);
}

/* The spec of a receive whose call's reply capability lands in token. */
static inline uint64_t recv_spec(uint32_t token)
{
	return SL_SPEC_WITH_BUFFER(SL_SPEC(0, token, 0, 0), BATCH_WORDS);
}

int main(void)
{
	static cs_request_t q;
	uint32_t token = park_slot();   /* where the next call's reply capability lands */
	uint64_t spec = recv_spec(token);       /* kept with token: it changes only with it */
	cs_regs_t m = { .spec = spec };
	long r;

	cs_init(&state, &pager);
	if (!cs_out_attach(&state, &out) || !cs_out_attach(&state, &back))
		printf("chanserv: no memory for replies\n");
	configure_silos();
	r = sl_events_bind(SL_SLOT_SILO_EVENTS, SL_SLOT_SERVER);
	printf("chanserv: serving %u silos (events: %ld)\n", sl_silo_table()->count - 1, r);
	r = cs_ipc_nowords(SL_SYS_RECV, SL_SLOT_SERVER, &m, q.words.w);
	for (;;) {
		const cs_reply_t *mine = NULL, *second = NULL;

		if (returns_n || unclaimed_n)
			finish_left_over();
		if (r == 0 && m.badge == SL_BADGE_KERNEL) {
			cs_silo_exit(&state, (uint16_t)q.words.w[0], &out);
			send_replies(0);
		} else if (r == 0 && (m.tag & SL_TAG_CALL)) {
			mine = handle_call(&m, token, &q, &second);
			if (!mine)              /* parked (or answered): a new landing slot */
				token = 0;
		}                               /* else a send, or none to answer */
		if (!token) {                   /* none was free: calls fail at once meanwhile */
			token = park_slot();
			spec = recv_spec(token);
		}
		if (second) {
			/* A send that handed its message to a waiting receiver:
			 * the message goes to the receiver, which runs next, and
			 * the sender's status (second) with it in one system call.
			 * The next call lands where the receiver's capability was;
			 * the sender's slot, used up, is free again. */
			m = (cs_regs_t){ .tag = reply_tag(mine),
					 .spec = recv_spec(mine->token) | SL_SPEC(mine->token, 0, 0, 0) };
			r = cs_ipc(SL_SYS_REPLY2_RECV,
				   SL_REPLY2(SL_SLOT_SERVER, second->token, (uint32_t)second->status), &m,
				   mine->words.w, q.words.w);
			unpark(token);
			token = mine->token;
			spec = recv_spec(token);
			if ((m.tag & SL_TAG_REPLY_DEAD) && mine->has_msg)
				after_reply(mine, true, true);  /* the message goes back */
		} else if (mine) {
			/* The answer uses token up; the next call lands there again.
			 * A bare status loads no words (its length is 0). */
			m = (cs_regs_t){ .tag = reply_tag(mine), .spec = spec | SL_SPEC(token, 0, 0, 0) };
			if (mine->nwords)
				r = cs_ipc(SL_SYS_REPLY_RECV, SL_SLOT_SERVER, &m, mine->words.w, q.words.w);
			else
				r = cs_ipc_nowords(SL_SYS_REPLY_RECV, SL_SLOT_SERVER, &m, q.words.w);
			bool dead = (m.tag & SL_TAG_REPLY_DEAD) != 0;
			if (mine->nhandles || (dead && mine->has_msg))
				after_reply(mine, dead, true);  /* `out` is untouched until the next request */
		} else {
			m = (cs_regs_t){ .spec = spec };
			r = cs_ipc_nowords(SL_SYS_RECV, SL_SLOT_SERVER, &m, q.words.w);
		}
	}
}
