/*
 * libchan: every call is one IPC call to chanserv, on the handle's own
 * capability (or the boot capability for create and lookup). Handles that
 * come back arrive as capabilities in slots this library picks.
 *
 * chan_send and chan_recv, the hot pair, load the message straight from
 * the caller's chan_msg_t into the registers and store the answer straight
 * back (chan_call_send, chan_call_recv), with no sl_msg_t in between; a
 * receive that asks for a handle names one landing slot for it, kept
 * between calls.
 */
#include <chan.h>
#include <sys/ipc.h>
#include <sys/sluice.h>

#define SLOT_FIRST 64                   /* below: left to the program */
#define MSG_SLOTS 4096                  /* a message names slots below this (<abi/ipc.h>) */
#define PAD_BASE (MSG_SLOTS - 64)       /* landing pads when the cspace is larger */

/*
 * Slot bitmaps, lock-free: bit i of used is slot base + i; bit w of full
 * says word w looked full (a hint, may be stale). The summary words
 * point at the first word with room, so a slot costs the same with 10 or
 * 10,000 taken; only when every word looks full is the hint dropped and
 * each word tried once more (a free may have raced with it).
 *
 * Slots SLOT_FIRST..4095 are a static bitmap. A cspace larger than
 * MSG_SLOTS (module argument cspace=N) adds a bitmap for slots 4096..N-1,
 * mapped the first time the low slots run out, sized from the boot
 * information, so a silo pays for what its cspace can hold. Since a
 * message names slots in 12 bits, a handle for a slot >= 4096 arrives in
 * (or leaves from) a landing pad, one of the 64 slots below 4096 kept back
 * for this, and is moved to (from) its slot by sl_cap_move.
 */
typedef struct bitmap {
	uint64_t *used, *full;
	unsigned base;                  /* slot of bit 0 */
	unsigned first_word;            /* words below are not ours */
} bitmap_t;

static uint64_t low_used[MSG_SLOTS / 64], low_full[1];
static bitmap_t low = { low_used, low_full, 0, SLOT_FIRST / 64 };
static bitmap_t high = { NULL, NULL, MSG_SLOTS, 0 };
static int high_state;                  /* 0: not mapped, 1: being mapped, 2: ready */
static uint64_t pads;                   /* bit i: slot PAD_BASE + i taken */

static unsigned cspace_end(void)
{
	unsigned n = sl_bootinfo()->cspace_slots;

	return n < SL_CSPACE_MAX ? n : SL_CSPACE_MAX;
}

static bool cspace_big(void)
{
	return cspace_end() > MSG_SLOTS;
}

/* Where the low bitmap ends: below the pads when there are any. */
static unsigned low_end(void)
{
	return cspace_big() ? PAD_BASE : cspace_end();
}

/* Takes a free bit of *word below bit `limit` (0..64); -1 if none. */
static int bit_take(uint64_t *word, unsigned limit)
{
	uint64_t beyond = limit >= 64 ? 0 : ~0ull << limit;
	uint64_t old = __atomic_load_n(word, __ATOMIC_RELAXED);

	while (~(old | beyond)) {
		uint64_t bit = 1ull << __builtin_ctzll(~(old | beyond));
		if (__atomic_compare_exchange_n(word, &old, old | bit, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return __builtin_ctzll(bit);
	}
	return -1;
}

/* Words of summary word k that exist below `end` (bits) and are ours. */
static uint64_t summary_valid(const bitmap_t *b, unsigned k, unsigned nbits)
{
	unsigned nw = (nbits + 63) / 64, lo = k * 64;
	uint64_t v = nw >= lo + 64 ? ~0ull : nw > lo ? (1ull << (nw - lo)) - 1 : 0;

	if (lo < b->first_word)
		v &= b->first_word - lo >= 64 ? 0 : ~((1ull << (b->first_word - lo)) - 1);
	return v;
}

/* A free slot of b below slot `end`, or 0. */
static chan_t bitmap_take(bitmap_t *b, unsigned end)
{
	unsigned nbits = end > b->base ? end - b->base : 0, nsum = (nbits + 64 * 64 - 1) / (64 * 64);

	for (int pass = 0; pass < 2; pass++) {
		for (unsigned k = 0; k < nsum; k++) {
			uint64_t cand = summary_valid(b, k, nbits) & ~__atomic_load_n(&b->full[k], __ATOMIC_RELAXED);

			for (; cand; cand &= cand - 1) {
				unsigned w = k * 64 + (unsigned)__builtin_ctzll(cand);
				int bit = bit_take(&b->used[w], nbits - w * 64);
				if (bit >= 0)
					return b->base + w * 64 + (unsigned)bit;
				__atomic_fetch_or(&b->full[k], 1ull << (w % 64), __ATOMIC_RELAXED);
			}
		}
		for (unsigned k = 0; k < nsum; k++)
			__atomic_store_n(&b->full[k], 0, __ATOMIC_RELAXED);
	}
	return 0;
}

static void bitmap_put(bitmap_t *b, chan_t s)
{
	unsigned i = s - b->base;

	__atomic_fetch_and(&b->used[i / 64], ~(1ull << (i % 64)), __ATOMIC_RELEASE);
	uint64_t *f = &b->full[i / 64 / 64];
	if (__atomic_load_n(f, __ATOMIC_RELAXED) >> (i / 64 % 64) & 1)
		__atomic_fetch_and(f, ~(1ull << (i / 64 % 64)), __ATOMIC_RELAXED);
}

static bool bitmap_has(const bitmap_t *b, chan_t s)
{
	unsigned i = s - b->base;

	return __atomic_load_n(&b->used[i / 64], __ATOMIC_RELAXED) >> (i % 64) & 1;
}

/* Maps the bitmap of slots MSG_SLOTS..end (zeroed pages, charged to our
 * mem= quota). */
static bool high_alloc(void)
{
	unsigned words = (cspace_end() - MSG_SLOTS + 63) / 64, sums = (words + 63) / 64;
	size_t pages = ((words + sums) * sizeof(uint64_t) + 4095) / 4096;
	void *addr = NULL;

	if (sl_mem_map(&addr, pages, 0) < 0)
		return false;
	high.used = addr;
	high.full = high.used + words;
	return true;
}

static bool high_ready(void)
{
	return __atomic_load_n(&high_state, __ATOMIC_ACQUIRE) == 2;
}

/* The high bitmap, mapped by the first thread that needs it; NULL if it
 * cannot be (a later call tries again). Waits, yielding, while another
 * thread maps it. */
static bitmap_t *high_map(void)
{
	int st;

	while ((st = __atomic_load_n(&high_state, __ATOMIC_ACQUIRE)) != 2) {
		int none = 0;

		if (st == 1) {
			sl_yield();
		} else if (__atomic_compare_exchange_n(&high_state, &none, 1, false,
						       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			bool ok = high_alloc();

			__atomic_store_n(&high_state, ok ? 2 : 0, __ATOMIC_RELEASE);
			return ok ? &high : NULL;
		}
	}
	return &high;
}

/* A free slot of ours (below the size of our cspace), or 0. */
static chan_t slot_alloc(void)
{
	chan_t s = bitmap_take(&low, low_end());
	bitmap_t *b;

	if (s || !cspace_big() || !(b = high_map()))
		return s;
	return bitmap_take(b, cspace_end());
}

static bool is_pad(chan_t s)
{
	return cspace_big() && s >= PAD_BASE && s < MSG_SLOTS;
}

/* A landing pad for a handle of a slot >= MSG_SLOTS, or 0 if all are in use. */
static chan_t pad_take(void)
{
	int bit = bit_take(&pads, 64);

	return bit < 0 ? 0 : PAD_BASE + (unsigned)bit;
}

static void slot_free(chan_t s)
{
	if (s >= SLOT_FIRST && s < low_end())
		bitmap_put(&low, s);
	else if (is_pad(s))
		__atomic_fetch_and(&pads, ~(1ull << (s - PAD_BASE)), __ATOMIC_RELEASE);
	else if (s >= MSG_SLOTS && s < cspace_end() && high_ready())
		bitmap_put(&high, s);
}

/* Only slots this library filled hold handles: anything else (0, the boot
 * capability, a silo's own endpoint) is refused before a call that could
 * otherwise wait for ever on a stranger's endpoint. A pad counts while it
 * is taken (it may keep a handle whose move up failed). */
static bool is_handle_any(chan_t h)
{
	if (h >= SLOT_FIRST && h < low_end())
		return bitmap_has(&low, h);
	if (is_pad(h))
		return __atomic_load_n(&pads, __ATOMIC_RELAXED) >> (h - PAD_BASE) & 1;
	return h >= MSG_SLOTS && h < cspace_end() && high_ready() && bitmap_has(&high, h);
}

/* is_handle_any, with the usual case inline: a slot below the pads is a
 * handle exactly when its bit in the low bitmap is set (bitmap_take never
 * sets one at or past low_end()), whatever the size of the cspace. The
 * bit is tested with one bt on the bitmap in memory (a relaxed read, as
 * bitmap_has's): in C it took six instructions more. */
static inline __attribute__((always_inline)) bool is_handle(chan_t h)
{
	if (__builtin_expect(h - SLOT_FIRST < PAD_BASE - SLOT_FIRST, 1)) {
		/* A jump rather than a flag output: the caller's test then
		 * folds into it (the flag became a setb and a test). */
		__asm__ goto("btl %k0, %1\n\tjnc %l[clear]" : : "r"(h), "m"(low_used) : "cc" : clear);
		return true;
clear:
		return false;
	}
	return is_handle_any(h);
}

/* Drops a handle capability we hold and its slot. */
static void slot_release(chan_t s)
{
	sl_cap_delete(s);
	slot_free(s);
}

/* A handle landed in pad `land` for slot `final`: moves it up. If the move
 * fails (no memory for that part of the cspace), the handle stays in the
 * pad, which becomes its slot: nothing is lost. */
static chan_t slot_settle(chan_t land, chan_t final)
{
	if (land == final)
		return final;
	if (sl_cap_move(land, final) < 0) {
		slot_free(final);
		return land;
	}
	slot_free(land);
	return final;
}

/* A kernel error means the request never reached chanserv: the slot held
 * no handle we may use, or the call itself failed. */
static int ipc_error(long err)
{
	return err == SL_ECAP || err == SL_EINVAL || err == SL_EPERM ? CHAN_EBADHANDLE : CHAN_EIPC;
}

/*
 * One request: op on capability cap, words in/out through m, up to
 * `nslots` handles back into *got (slots picked here, 0 where none came).
 * Only the slots a handle may come back in are named: a handle chanserv
 * has no slot for is closed by chanserv at once.
 */
static int request(unsigned cap, unsigned op, sl_msg_t *m, unsigned ncaps_out, chan_t got[2],
		   unsigned nslots)
{
	chan_t final[2] = { 0, 0 }, in[2] = { 0, 0 };

	if (got)
		got[0] = got[1] = 0;
	for (unsigned i = 0; i < nslots && got; i++) {
		if (!(final[i] = slot_alloc()))
			goto out_of_slots;
		in[i] = final[i] < MSG_SLOTS ? final[i] : pad_take();
		if (!in[i])
			goto out_of_slots;
	}
	m->tag = SL_TAG_CAPS(SL_TAG(op, 8, ncaps_out), SL_TAG_CAP_SLOT(m->tag, 0), 0);
	m->spec = SL_SPEC(0, 0, in[0], in[1]);
	long r = sl_call(cap, m);
	int status = r < 0 ? ipc_error(r) : (int)SL_TAG_LABEL(m->tag);
	for (unsigned i = 0; i < nslots && got; i++) {
		if (r == 0 && (m->tag & SL_TAG_MOVED(i))) {
			got[i] = slot_settle(in[i], final[i]);
		} else {
			slot_free(final[i]);
			if (in[i] != final[i])
				slot_free(in[i]);
		}
	}
	return status;
out_of_slots:
	for (unsigned i = 0; i < 2; i++) {
		if (in[i] && in[i] != final[i])
			slot_free(in[i]);
		if (final[i])
			slot_free(final[i]);
	}
	return CHAN_ENOSPC;
}

/* The landing slot for a handle arriving with a receive, kept between
 * receives (0: none kept). Taken and given back atomically, so threads
 * receiving at once each get their own. */
static chan_t landing;

static chan_t landing_take(void)
{
	chan_t s = __atomic_exchange_n(&landing, 0, __ATOMIC_ACQ_REL);

	if (s)
		return s;
	s = bitmap_take(&low, low_end());       /* a message names slots below MSG_SLOTS */
	return s ? s : pad_take();
}

/* A handle arrived in landing slot s and is the caller's now: one that
 * landed in a pad moves up to a slot of its own where there is one. */
static chan_t landing_keep(chan_t s)
{
	chan_t final;

	if (!is_pad(s) || !(final = slot_alloc()))
		return s;
	return slot_settle(s, final);
}

static void landing_give_back(chan_t s)
{
	chan_t none = 0;

	if (!__atomic_compare_exchange_n(&landing, &none, s, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		slot_free(s);
}

/* Words read and written straight from a caller's chan_msg_t (or a
 * word array): 64-byte aligned, and stored through no other type here. */
typedef uint64_t __attribute__((may_alias)) msg_word_t;

/* Stores a successful answer's words (the call worked, label CHAN_OK). */
#define CALL_STORE_WORDS(msg_out)                                               \
	do {                                                                    \
		if ((msg_out) && rax == 0 && SL_TAG_LABEL(rsi) == CHAN_OK)    \
			SL_IPC_WORDS_STORE((msg_word_t *)(msg_out));            \
	} while (0)

/*
 * One call on cap: tag in, words from in (a chan_msg_t's 8 words), spec
 * in. On return *tag is the answer's tag, and the answer's words are
 * stored into out only if the call worked and its label is CHAN_OK (so a
 * failed receive leaves the caller's message alone); RBP points at buf,
 * the message buffer of batches (<abi/ipc.h>). The same register moves as
 * sl_ipc, minus the sl_msg_t. Blocks until chanserv answers. An asm
 * statement of its own around the registers <sys/ipc.h> declares
 * (SL_IPC_WORDS_IN), not a call of sl_ipc_words: built on that, the
 * output words go through the stack, 21 instructions more per message
 * and 46 a ping-pong (measured). Inlined, and the words loaded one by
 * one: through a local copy they went through the stack (30 instructions
 * a call, measured).
 */
static inline __attribute__((always_inline)) long chan_call_buf(unsigned cap, uint64_t *tag, const void *msg_in,
								 uint64_t spec, void *msg_out, void *buf)
{
	const msg_word_t *in = msg_in;
	SL_IPC_WORDS_IN(in);
	uint64_t rdi = cap, rsi = *tag, rbx = spec;
	long rax = SL_SYS_CALL;

	__asm__ volatile("movq %[buf], %%rbp\n\tsyscall"
			 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+b"(rbx), SL_IPC_WORDS_INOUT
			 : [buf] "m"(buf)
			 : "rcx", "r11", "rbp", "memory");
	*tag = rsi;
	CALL_STORE_WORDS(msg_out);
	return rax;
}

/*
 * chan_call_buf for the plain send: no message buffer, so RBP is left
 * alone (the kernel reads it only with SL_TAG_BUFFER in the tag or a
 * buffer size in the spec), and no words come back. Blocks until chanserv
 * answers.
 */
static inline __attribute__((always_inline)) long chan_call_send(unsigned cap, uint64_t *tag, const chan_msg_t *msg)
{
	const msg_word_t *in = (const msg_word_t *)msg;
	SL_IPC_WORDS_IN(in);
	uint64_t rdi = cap, rsi = *tag, rbx = 0;
	long rax = SL_SYS_CALL;

	__asm__ volatile("syscall"
			 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+b"(rbx), SL_IPC_WORDS_INOUT
			 :
			 : "rcx", "r11", "rbp", "memory");
	*tag = rsi;
	return rax;
}

/*
 * The same for the plain receive: it sends length 0, and the kernel reads
 * no register past the length, so none of the words is loaded; the
 * answer's are stored into msg_out as chan_call_buf does. Blocks until
 * chanserv answers.
 */
static inline __attribute__((always_inline)) long chan_call_recv(unsigned cap, uint64_t *tag, uint64_t spec,
								  chan_msg_t *msg_out)
{
	SL_IPC_WORDS_UNSET;
	uint64_t rdi = cap, rsi = *tag, rbx = spec;
	long rax = SL_SYS_CALL;

	__asm__ volatile("syscall"
			 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+b"(rbx), SL_IPC_WORDS_OUT
			 :
			 : "rcx", "r11", "rbp", "memory");
	*tag = rsi;
	CALL_STORE_WORDS(msg_out);
	return rax;
}

static void msg_to_words(const chan_msg_t *msg, sl_msg_t *m)
{
	memcpy(m->w, msg, sizeof *msg);
}

int chan_create(size_t capacity, chan_t *tx, chan_t *rx)
{
	sl_msg_t m = { .w = { capacity } };
	chan_t got[2];
	int r = request(SL_SLOT_SERVER, CS_OP_CREATE, &m, 0, got, 2);

	if (r == CHAN_OK && (!got[0] || !got[1]))
		r = CHAN_EIPC;
	if (r != CHAN_OK) {
		for (int i = 0; i < 2; i++)
			if (got[i])
				slot_release(got[i]);
		return r;
	}
	*tx = got[0];
	*rx = got[1];
	return CHAN_OK;
}

/* Requests that return one new handle. */
static int new_handle(unsigned cap, unsigned op, sl_msg_t *m, chan_t *h)
{
	chan_t got[2];
	int r = request(cap, op, m, 0, got, 1);

	if (r == CHAN_OK && !got[0])
		r = CHAN_EIPC;
	if (r != CHAN_OK) {
		if (got[0])
			slot_release(got[0]);
		return r;
	}
	*h = got[0];
	return CHAN_OK;
}

int chan_create_sync(size_t capacity, chan_t *h)
{
	sl_msg_t m = { .w = { capacity } };

	return new_handle(SL_SLOT_SERVER, CS_OP_CREATE_SYNC, &m, h);
}

/* Moves a handle to be carried down into a landing pad when a message
 * cannot name its slot: the slot to name, or 0 (CHAN_ENOSPC). */
static chan_t carry_from(chan_t carried)
{
	chan_t pad;

	if (carried < MSG_SLOTS)
		return carried;
	if (!(pad = pad_take()))
		return 0;
	if (sl_cap_move(carried, pad) < 0) {
		slot_free(pad);
		return 0;
	}
	return pad;
}

/* After a send that named pad for carried: a handle that stayed with us
 * goes back up to its slot (still ours, its part of the cspace made, so
 * the move fails only if the program filled that slot itself; then the
 * pad keeps the handle). */
static void carry_back(chan_t pad, chan_t carried, bool gone)
{
	sl_cap_info_t info;

	if (pad == carried)
		return;
	if (gone)
		sl_cap_delete(pad);
	else if (sl_cap_move(pad, carried) < 0 && sl_cap_identify(pad, &info) == SL_OK)
		return;
	slot_free(pad);
}

static int send_op(chan_t h, unsigned op, const chan_msg_t *msg, chan_t carried)
{
	chan_t named = 0;

	if (!is_handle(h) || (carried && !is_handle(carried)))
		return CHAN_EBADHANDLE;
	if (carried && !(named = carry_from(carried)))
		return CHAN_ENOSPC;
	sl_msg_t m = { .tag = SL_TAG_CAPS(0, named, 0) };
	msg_to_words(msg, &m);
	int r = request(h, op, &m, carried ? 1 : 0, NULL, 0);
	if (carried)
		carry_back(named, carried, r == CHAN_OK);
	if (r == CHAN_OK && carried)
		slot_release(carried);          /* it lives on with the receiver */
	return r;
}

/* send and try_send without a handle: one call, the words straight from msg. */
static inline __attribute__((always_inline)) int send_plain(chan_t h, unsigned op, const chan_msg_t *msg)
{
	uint64_t tag = SL_TAG(op, SL_MSG_WORDS, 0);

	if (!is_handle(h))
		return CHAN_EBADHANDLE;
	long r = chan_call_send(h, &tag, msg);
	return r < 0 ? ipc_error(r) : (int)SL_TAG_LABEL(tag);
}

int chan_send(chan_t h, const chan_msg_t *msg)
{
	return send_plain(h, CS_OP_SEND, msg);
}

int chan_try_send(chan_t h, const chan_msg_t *msg)
{
	return send_plain(h, CS_OP_TRY_SEND, msg);
}

int chan_send_handle(chan_t tx, const chan_msg_t *msg, chan_t h)
{
	if (!is_handle(h) || !is_handle(tx))
		return CHAN_EBADHANDLE;
	if (h == tx)
		return CHAN_EINVAL;
	return send_op(tx, CS_OP_SEND, msg, h);
}

/*
 * recv and try_recv: one call, the words straight into msg (only on
 * success). A plain receive names no slot: a handle riding along stays
 * with chanserv, which closes it, so a receive needs no free slot at all.
 */
static inline __attribute__((always_inline)) int recv_plain(chan_t h, unsigned op, chan_msg_t *msg)
{
	uint64_t tag = SL_TAG(op, 0, 0);

	if (!is_handle(h))
		return CHAN_EBADHANDLE;
	long r = chan_call_recv(h, &tag, SL_SPEC(0, 0, 0, 0), msg);
	return r < 0 ? ipc_error(r) : (int)SL_TAG_LABEL(tag);
}

/* A receive whose handle, if one rides along, lands in the kept landing
 * slot and goes to *handle. */
static int recv_op(chan_t h, unsigned op, chan_msg_t *msg, chan_t *handle)
{
	uint64_t tag = SL_TAG(op, 0, 0);
	chan_t in;

	if (!is_handle(h))
		return CHAN_EBADHANDLE;
	if (!(in = landing_take()))
		return CHAN_ENOSPC;
	long r = chan_call_recv(h, &tag, SL_SPEC(0, 0, in, 0), msg);
	bool got = r == 0 && (tag & SL_TAG_MOVED(0));
	if (!got)
		landing_give_back(in);
	*handle = got ? landing_keep(in) : 0;
	return r < 0 ? ipc_error(r) : (int)SL_TAG_LABEL(tag);
}

int chan_recv(chan_t h, chan_msg_t *msg)
{
	return recv_plain(h, CS_OP_RECV, msg);
}

int chan_try_recv(chan_t h, chan_msg_t *msg)
{
	return recv_plain(h, CS_OP_TRY_RECV, msg);
}

int chan_recv_handle(chan_t rx, chan_msg_t *msg, chan_t *h)
{
	*h = 0;
	return recv_op(rx, CS_OP_RECV, msg, h);
}

/* A batch's message buffer: the count word, then the messages' words
 * (chan_msg_t is 64-byte aligned, so no struct: the words must follow the
 * count with no gap). */
typedef uint64_t batch_buf_t[1 + CHAN_BATCH_MAX * SL_MSG_WORDS];

int chan_send_many(chan_t h, const chan_msg_t *msgs, size_t n, size_t *sent)
{
	static const uint64_t none[SL_MSG_WORDS];
	uint64_t tag = SL_TAG(CS_OP_SEND_MANY, 0, 0) | SL_TAG_BUFFER, w[SL_MSG_WORDS] = { 0 };
	batch_buf_t buf;

	if (sent)
		*sent = 0;
	if (!is_handle(h))
		return CHAN_EBADHANDLE;
	if (!msgs || !sent || n == 0 || n > CHAN_BATCH_MAX)
		return CHAN_EINVAL;
	buf[0] = n * SL_MSG_WORDS;
	__builtin_memcpy(&buf[1], msgs, n * sizeof *msgs);
	long r = chan_call_buf(h, &tag, none, 0, w, buf);
	int status = r < 0 ? ipc_error(r) : (int)SL_TAG_LABEL(tag);
	if (status == CHAN_OK)
		*sent = w[0] <= n ? w[0] : n;
	else if (status == CHAN_EWOULDBLOCK && (status = chan_send(h, &msgs[0])) == CHAN_OK)
		*sent = 1;                      /* none fitted: waited for room for one */
	return status;
}

int chan_recv_many(chan_t h, chan_msg_t *msgs, size_t max, size_t *got)
{
	uint64_t tag = SL_TAG(CS_OP_RECV_MANY, 1, 0), in[SL_MSG_WORDS] = { max }, w[SL_MSG_WORDS] = { 0 };
	batch_buf_t buf;
	if (got)
		*got = 0;
	if (!is_handle(h))
		return CHAN_EBADHANDLE;
	if (!msgs || !got || max == 0 || max > CHAN_BATCH_MAX)
		return CHAN_EINVAL;
	/* No slot named: a handle riding along stays with chanserv, which
	 * closes it (a batch carries no handles to the caller). */
	uint64_t spec = SL_SPEC_WITH_BUFFER(SL_SPEC(0, 0, 0, 0), 1 + max * SL_MSG_WORDS);
	long r = chan_call_buf(h, &tag, in, spec, w, buf);
	int status = r < 0 ? ipc_error(r) : (int)SL_TAG_LABEL(tag);
	if (status == CHAN_OK) {
		size_t n = (tag & SL_TAG_BUFFER) && buf[0] / SL_MSG_WORDS == w[0] && w[0] <= max ? w[0] : 0;
		__builtin_memcpy(msgs, &buf[1], n * sizeof *msgs);
		*got = n;
		if (!n)
			status = CHAN_EIPC;     /* chanserv answered without the messages */
	} else if (status == CHAN_EWOULDBLOCK && (status = chan_recv(h, &msgs[0])) == CHAN_OK) {
		*got = 1;                       /* none there: waited for one */
	}
	return status;
}

static int simple_op(chan_t h, unsigned op, sl_msg_t *m)
{
	return is_handle(h) ? request(h, op, m, 0, NULL, 0) : CHAN_EBADHANDLE;
}

int chan_clone(chan_t h, chan_t *h2)
{
	sl_msg_t m = { 0 };

	return is_handle(h) ? new_handle(h, CS_OP_CLONE, &m, h2) : CHAN_EBADHANDLE;
}

int chan_receiver(chan_t tx, chan_t *rx)
{
	sl_msg_t m = { 0 };

	return is_handle(tx) ? new_handle(tx, CS_OP_RECEIVER, &m, rx) : CHAN_EBADHANDLE;
}

int chan_sender(chan_t rx, chan_t *tx)
{
	sl_msg_t m = { 0 };

	return is_handle(rx) ? new_handle(rx, CS_OP_SENDER, &m, tx) : CHAN_EBADHANDLE;
}

int chan_close(chan_t h)
{
	sl_msg_t m = { 0 };
	int r = simple_op(h, CS_OP_CLOSE, &m);

	if (is_handle(h) && r != CHAN_EIPC)
		slot_release(h);                /* closed, or stale: the capability goes */
	return r;
}

int chan_info(chan_t h, chan_info_t *info)
{
	sl_msg_t m = { 0 };
	int r = simple_op(h, CS_OP_INFO, &m);

	if (r == CHAN_OK)
		memcpy(info, m.w, sizeof *info);
	return r;
}

int chan_destroy(chan_t h)
{
	sl_msg_t m = { 0 };

	return simple_op(h, CS_OP_DESTROY, &m);
}

static int name_words(const char *name, sl_msg_t *m)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > CHAN_NAME_MAX)
		return CHAN_EINVAL;
	memcpy(m->w, name, n + 1);
	return CHAN_OK;
}

int chan_publish(const char *name, chan_t h)
{
	sl_msg_t m = { 0 };
	int r = name_words(name, &m);

	return r != CHAN_OK ? r : simple_op(h, CS_OP_PUBLISH, &m);
}

int chan_lookup(const char *name, chan_t *h)
{
	sl_msg_t m = { 0 };
	int r = name_words(name, &m);

	return r != CHAN_OK ? r : new_handle(SL_SLOT_SERVER, CS_OP_LOOKUP, &m, h);
}

const char *chan_strerror(int err)
{
	static const char *const names[CHAN_ERROR_COUNT] = {
		[0] = "success",
		[-CHAN_EWOULDBLOCK] = "would block",
		[-CHAN_EDISCONNECTED] = "disconnected",
		[-CHAN_EBADHANDLE] = "bad handle",
		[-CHAN_EPERM] = "not permitted",
		[-CHAN_ENOSPC] = "quota exceeded",
		[-CHAN_EINVAL] = "invalid argument",
		[-CHAN_ENOENT] = "no such name",
		[-CHAN_EEXIST] = "name taken",
		[-CHAN_ENOMEM] = "chanserv out of memory",
		[-CHAN_EIPC] = "chanserv unreachable",
		[-CHAN_ELIMIT] = "chanserv limit reached",
	};

	return err <= 0 && err > -CHAN_ERROR_COUNT ? names[-err] : "unknown error";
}
