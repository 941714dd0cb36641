/*
 * sysfuzz: random system calls with random arguments from a seeded PRNG.
 *
 *   sysfuzz seed=N calls=N workers=N [abrupt=1]
 *
 * `workers` fuzzing threads (default 3) share `calls` calls (default
 * 100000); each has its own PRNG, seeded from `seed` and its index, so a
 * seed names the calls each thread makes (the interleaving under
 * preemption varies). Numbers run from -1 past SL_SYS_COUNT; arguments come
 * from a pool of interesting values: slots in a small window where the
 * silo really holds capabilities, slots out of range, pointers null, into
 * the kernel half, non-canonical, unmapped, misaligned, read-only and
 * straddling the end of a mapping, lengths huge and negative, well-formed
 * and random tags and specs. Besides the random calls it makes valid ones
 * on what it holds: endpoints and notifications in the window, copies,
 * mints, moves, deletes, revokes, IPC through an echo thread of its own,
 * calls to the server, requests to chanserv on channel handles it
 * created, short-lived threads to join, threads left blocked.
 *
 * The silo must live to the end and never block for ever, or the run
 * would prove nothing. What is filtered, and why (sanitize() and the
 * helpers it calls do it, one rule per line):
 *
 * - SL_SYS_EXIT and SL_SYS_THREAD_EXIT end the silo or the thread.
 * - Blocking forms on objects nobody answers: SL_SYS_RECV becomes NBRECV,
 *   SL_SYS_WAIT becomes POLL, SL_SYS_REPLY_RECV becomes REPLY, and
 *   SL_SYS_REPLY2_RECV a REPLY through its second reply slot. SEND and
 *   CALL block only on the two endpoints that always answer: the server
 *   (slot 1, which replies to every call) and the echo endpoint (slot 3,
 *   which the echo thread receives on for ever); elsewhere they become
 *   NBSEND.
 * - Protected slots (1, 3, each thread's private reply slot and its two
 *   channel-handle slots) are never a target of move, delete, create, copy
 *   or mint, never travel in a message and never receive one: if slot 1 or
 *   3 or a channel slot held something else, a CALL through it could wait
 *   for ever; a reply capability in a slot its thread does not know would
 *   leave its caller waiting for ever.
 * - Requests to chanserv on channel handles are never CS_OP_SEND or
 *   CS_OP_RECV, which wait for a peer that may never come.
 * - A thread left blocked in a receive or wait is joined only once it has
 *   ended; those still blocked at the end die with the silo.
 * - A call a fuzzing thread receives (NBRECV, with its private reply slot
 *   named) is answered at once, for the same reason.
 * - SL_SYS_SLEEP sleeps at most 2 ms (values past SL_SLEEP_MAX_MS, which
 *   fail, stay): a valid random length could sleep for a day.
 * - SL_SYS_THREAD_CREATE never gets an entry inside the user half: a
 *   random entry there would start a thread that faults and kills the
 *   silo. Valid threads run a function that returns at once.
 * - SL_SYS_THREAD_JOIN never names a fuzzing thread (two that joined each
 *   other would wait for ever), only this thread's short-lived ones or
 *   ids that name none.
 * - SL_SYS_DEBUG_WRITE with a readable buffer gets length 0: random bytes
 *   on the console could fake a scenario's marker and flood the log.
 * - SL_SYS_MEM_UNMAP never touches the image or the stacks.
 *
 * Prints progress, then the number of calls and calls per second; exits 0
 * if the silo's own invariants held (slots 1 and 3 unchanged, no failed
 * call wrote memory). With abrupt=1 it exits while its threads are still
 * making calls, so the kill of a silo lands in the middle of them.
 */
#include <abi/chanserv.h>
#include <sys/ipc.h>
#include <sys/sluice.h>

#include "stacks.h"

#define PAGE 4096ul
#define KERNEL_ADDR 0xffffffff80100000ul
#define KERNEL_DIRECT 0xffff800000000000ul
#define NONCANONICAL 0x0000900000000000ul
#define USER_TOP 0x0000800000000000ul
#define UNMAPPED 0x0000100000000000ul           /* nothing is ever placed here by the image */
#define IMAGE_END 0x0000000100000000ul          /* boot-info pages and the image lie below */
#define STACKS_LOW 0x00007fe000000000ul         /* thread stacks lie above */

#define SLOT_ECHO 3
#define WINDOW_FIRST 8                          /* where the capabilities live */
#define WINDOW_SLOTS 64
#define PRIVATE_FIRST 100                       /* a reply slot per thread */
#define CHAN_FIRST 112                          /* two channel handles per thread */
#define PROTECTED_END 132
#define MAX_THREADS 8
#define MAX_SPAWNED 20                          /* 4 threads of these reach SL_THREADS_MAX */
#define MAX_BLOCKERS 3
#define PROGRESS 20000

/* A thread that blocks in a receive or wait on whatever a window slot
 * holds, until a message, a signal, the object's death or the silo's exit
 * ends it. */
typedef struct blocker {
	volatile int done;
	int tid;
	uint32_t slot;
	bool wait;
} blocker_t;

typedef struct fuzzer {
	uint64_t rng;
	unsigned index;
	unsigned long calls, done;
	uintptr_t top;                          /* of its stack; the 16 bytes below are scratch */
	int spawned[MAX_SPAWNED];
	unsigned nspawned;
	blocker_t blockers[MAX_BLOCKERS];
	uint8_t scratch[64] __attribute__((aligned(16)));
	unsigned long results[SL_ERROR_COUNT + 1];     /* by -error; the last: other */
	unsigned long half_done;                /* failed calls that wrote memory */
} fuzzer_t;

static fuzzer_t fuzzers[MAX_THREADS + 1];       /* the last: the echo thread */
static uint64_t seed = 1;
static unsigned long total_calls = 100000;
static unsigned nthreads = 3;
static bool abrupt;
static unsigned cspace_slots;

/* ------------------------------------------------------------- randomness */

static uint64_t next(fuzzer_t *z)
{
	uint64_t x = z->rng;            /* xorshift64* */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	z->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint64_t below(fuzzer_t *z, uint64_t n)
{
	return next(z) % n;
}

static bool chance(fuzzer_t *z, unsigned percent)
{
	return below(z, 100) < percent;
}

static uint64_t window_slot(fuzzer_t *z)
{
	return WINDOW_FIRST + below(z, WINDOW_SLOTS);
}

static uint64_t any_slot(fuzzer_t *z)
{
	const uint64_t edges[] = { 0, 1, 2, SLOT_ECHO, 7, cspace_slots - 1, cspace_slots,
				   cspace_slots + 1, 0xfff, 0x1000, 0xffffffffu, 1ull << 32, ~0ull };

	if (chance(z, 75))
		return window_slot(z);
	return chance(z, 80) ? edges[below(z, sizeof edges / sizeof edges[0])] : next(z);
}

/* A pointer the kernel may be asked to read or write through. Every one is
 * either bad or harmless to write up to 16 bytes through. */
static uint64_t any_pointer(fuzzer_t *z)
{
	switch (below(z, 14)) {
	case 0: return 0;
	case 1: return KERNEL_ADDR + below(z, 64);
	case 2: return KERNEL_DIRECT;
	case 3: return NONCANONICAL;
	case 4: return UNMAPPED + below(z, 2 * PAGE);
	case 5: return USER_TOP - 1 - below(z, 16);
	case 6: return z->top - 1 - below(z, 16);              /* straddles into the page above */
	case 7: return (uint64_t)(uintptr_t)z->scratch + below(z, 32);  /* misaligned too */
	case 8: return SL_BOOTINFO_ADDR + PAGE - 1 - below(z, 16);    /* read-only */
	case 9: return (uint64_t)(uintptr_t)&next;              /* text: read-only */
	case 10: return (uint64_t)(uintptr_t)z->scratch;
	default: return next(z);
	}
}

static uint64_t any_length(fuzzer_t *z)
{
	const uint64_t lengths[] = { 0, 1, 7, 16, 64, SL_DEBUG_WRITE_MAX, SL_DEBUG_WRITE_MAX + 1,
				     PAGE, (uint64_t)-1, (uint64_t)-PAGE, 1ull << 63, 1ull << 32 };

	return chance(z, 85) ? lengths[below(z, sizeof lengths / sizeof lengths[0])] : next(z);
}

static uint64_t any_tag(fuzzer_t *z)
{
	if (chance(z, 20))
		return next(z);
	uint64_t tag = SL_TAG(chance(z, 50) ? below(z, 16) : next(z), below(z, 16), below(z, 4));

	return SL_TAG_CAPS(tag, any_slot(z), any_slot(z));
}

static uint64_t any_spec(fuzzer_t *z)
{
	if (chance(z, 20))
		return next(z);
	return SL_SPEC(any_slot(z), chance(z, 30) ? 0 : any_slot(z), any_slot(z), any_slot(z));
}

static uint64_t any_arg(fuzzer_t *z)
{
	switch (below(z, 6)) {
	case 0: case 1: return any_slot(z);
	case 2: return any_pointer(z);
	case 3: return any_length(z);
	case 4: return chance(z, 50) ? any_tag(z) : any_spec(z);
	default: return chance(z, 50) ? below(z, 32) : next(z);
	}
}

/* ---------------------------------------------------------------- filters */

static bool protected_slot(uint64_t s)
{
	return s == SL_SLOT_SERVER || s == SLOT_ECHO || (s >= PRIVATE_FIRST && s < PROTECTED_END);
}

static uint64_t unprotect(fuzzer_t *z, uint64_t s)
{
	return protected_slot(s) ? window_slot(z) : s;
}

static unsigned private_slot(const fuzzer_t *z)
{
	return PRIVATE_FIRST + z->index;
}

/* No protected slot travels in a message (a tag's capability slots). */
static uint64_t safe_tag(fuzzer_t *z, uint64_t tag)
{
	for (unsigned i = 0; i < SL_MSG_CAPS; i++) {
		unsigned s = SL_TAG_CAP_SLOT(tag, i);
		if (protected_slot(s)) {
			tag &= ~(0xfffull << (40 + 12 * i));
			tag |= (uint64_t)window_slot(z) << (40 + 12 * i);
		}
	}
	return tag;
}

/* Receives land in the window; a call's reply capability in mine. */
static uint64_t safe_spec(fuzzer_t *z, uint64_t spec)
{
	uint64_t c0 = unprotect(z, SL_SPEC_CAP_SLOT(spec, 0)), c1 = unprotect(z, SL_SPEC_CAP_SLOT(spec, 1));

	return SL_SPEC(SL_SPEC_REPLY(spec), private_slot(z), c0, c1) | (spec & ~0xffffffffffffull);
}

static bool readable_guess(uint64_t p, uint64_t n, const fuzzer_t *z)
{
	return p >= PAGE && p < USER_TOP && !(p <= z->top && p + n > z->top && p + n >= p);
}

static bool is_mine(const fuzzer_t *z, uint64_t tid)
{
	for (unsigned i = 0; i < z->nspawned; i++)
		if ((uint64_t)z->spawned[i] == tid)
			return true;
	return false;
}

/* Rewrites a call that could end or block the silo; see the top comment. */
static uint64_t sanitize(fuzzer_t *z, uint64_t nr, uint64_t a[7])
{
	switch (nr) {
	case SL_SYS_EXIT: case SL_SYS_THREAD_EXIT:
		return SL_SYS_NULL;
	case SL_SYS_RECV: nr = SL_SYS_NBRECV; break;
	case SL_SYS_WAIT: return SL_SYS_POLL;
	case SL_SYS_REPLY_RECV: nr = SL_SYS_REPLY; break;
	case SL_SYS_REPLY2_RECV:
		nr = SL_SYS_REPLY;
		a[0] = unprotect(z, SL_REPLY2_REPLY(a[0]));
		break;
	case SL_SYS_SEND:
		if (a[0] != SLOT_ECHO && a[0] != SL_SLOT_SERVER)
			nr = SL_SYS_NBSEND;
		break;
	case SL_SYS_CALL:
		if (a[0] != SLOT_ECHO && a[0] != SL_SLOT_SERVER)
			nr = SL_SYS_NBSEND;
		break;
	case SL_SYS_SLEEP:
		if (a[0] <= SL_SLEEP_MAX_MS)
			a[0] %= 3;
		return nr;
	case SL_SYS_THREAD_CREATE:
		if (a[0] < USER_TOP)
			a[0] = chance(z, 50) ? 0 : KERNEL_ADDR;
		return nr;
	case SL_SYS_THREAD_JOIN:
		if (a[0] > 0 && a[0] <= 0x7fffffff && !is_mine(z, a[0]))
			a[0] = z->nspawned && chance(z, 50) ? (uint64_t)z->spawned[0] : (uint64_t)-1;
		return nr;
	case SL_SYS_DEBUG_WRITE:
		if (a[1] && a[1] <= SL_DEBUG_WRITE_MAX && readable_guess(a[0], a[1], z))
			a[1] = 0;
		return nr;
	case SL_SYS_CAP_MOVE:
		a[0] = unprotect(z, a[0]);
		a[1] = unprotect(z, a[1]);
		return nr;
	case SL_SYS_CAP_COPY: case SL_SYS_CAP_MINT:
		a[1] = unprotect(z, a[1]);
		return nr;
	case SL_SYS_CAP_DELETE: case SL_SYS_EP_CREATE: case SL_SYS_NTFN_CREATE: case SL_SYS_REPLY:
		a[0] = unprotect(z, a[0]);
		break;
	case SL_SYS_MEM_UNMAP:
		if (a[0] < IMAGE_END || (a[0] < USER_TOP && a[0] + a[1] * PAGE > STACKS_LOW) ||
		    a[0] + a[1] * PAGE < a[0] || a[1] >= (1ull << 40))
			a[0] = KERNEL_ADDR & ~(PAGE - 1);
		return nr;
	default:
		break;
	}
	if (nr >= SL_SYS_SEND && nr <= SL_SYS_REPLY_RECV) {
		a[1] = safe_tag(z, a[1]);       /* RSI: the tag */
		a[6] = safe_spec(z, a[6]);      /* RBX: the spec */
	}
	return nr;
}

/* ------------------------------------------------------------- the calls */

static int returner(void *arg)
{
	return (int)(uintptr_t)arg;
}

/* An answer to a call this thread received: a random reply, or an empty
 * one if that was refused, or dropping the reply (the caller gets
 * SL_EDEAD): in every case the caller wakes. */
static void answer(fuzzer_t *z)
{
	sl_msg_t m = { .tag = safe_tag(z, any_tag(z)), .w = { next(z), next(z) } };

	if (sl_reply(private_slot(z), &m) == 0)
		return;
	m = (sl_msg_t){ 0 };
	if (sl_reply(private_slot(z), &m) != 0)
		sl_cap_delete(private_slot(z));
}

static long raw_call(fuzzer_t *z, uint64_t nr, const uint64_t a[7])
{
	sl_msg_t m = { .tag = a[1], .w = { a[2], a[3], a[4], a[5], next(z), next(z), next(z), next(z) },
		       .spec = a[6] };
	long r = sl_ipc((long)nr, a[0], &m);

	if (r == 0 && nr == SL_SYS_NBRECV && (m.tag & SL_TAG_CALL))
		answer(z);
	return r;
}

/* One random call: a random number, random arguments, then the filters. */
static long random_call(fuzzer_t *z)
{
	uint64_t a[7], nr = below(z, SL_SYS_COUNT + 8);

	if (chance(z, 2))
		nr = chance(z, 50) ? (uint64_t)-1 : next(z);
	for (int i = 0; i < 6; i++)
		a[i] = any_arg(z);
	a[6] = any_spec(z);
	nr = sanitize(z, nr, a);
	return raw_call(z, nr, a);
}

/* A spawned thread that returns at once, to join later (with good and bad
 * code pointers). */
static long spawn_or_join(fuzzer_t *z)
{
	int code;

	if (z->nspawned < MAX_SPAWNED && chance(z, 60)) {
		int tid = sl_thread_create(returner, (void *)(uintptr_t)below(z, 100));
		if (tid > 0)
			z->spawned[z->nspawned++] = tid;
		return tid;
	}
	if (!z->nspawned)
		return SL_ESRCH;
	unsigned i = (unsigned)below(z, z->nspawned);
	bool good = chance(z, 50);
	long r = sl_thread_join(z->spawned[i], good ? &code : (int *)(uintptr_t)any_pointer(z));
	if (r == 0)
		z->spawned[i] = z->spawned[--z->nspawned];
	return r;
}

/* Blocks until its receive or wait ends (possibly never: then the silo's
 * exit kills it). */
static int blocker(void *arg)
{
	blocker_t *b = arg;
	sl_msg_t m = { .spec = SL_SPEC(0, 0, 0, 0) };   /* a call it takes gets SL_EDEAD at once */
	uint64_t word;
	long r = b->wait ? sl_wait(b->slot, &word) : sl_recv(b->slot, &m);

	b->done = 1;
	return (int)r;
}

/* Starts a blocker, or joins one that has ended (only those: a join of a
 * blocked one could wait for ever). Left blocked at the end, they die with
 * the silo. */
static long blocker_step(fuzzer_t *z)
{
	blocker_t *b = &z->blockers[below(z, MAX_BLOCKERS)];
	int code;

	if (b->tid && b->done) {
		long r = sl_thread_join(b->tid, &code);
		if (r == 0)
			b->tid = 0;
		return r;
	}
	if (b->tid)
		return SL_EAGAIN;
	*b = (blocker_t){ .slot = (uint32_t)window_slot(z), .wait = chance(z, 40) };
	long tid = sl_thread_create(blocker, b);
	b->tid = tid > 0 ? (int)tid : 0;
	return tid;
}

/*
 * A request to chanserv on a channel handle this thread keeps in its
 * protected channel slots (only chanserv's replies fill them, so a call
 * there is always answered): never CS_OP_SEND or CS_OP_RECV, which may
 * wait for a peer that never comes.
 */
static long chan_call(fuzzer_t *z)     /* blocks until chanserv answers */
{
	static const uint32_t ops[] = { CS_OP_TRY_SEND, CS_OP_TRY_RECV, CS_OP_CLONE, CS_OP_CLOSE,
					CS_OP_INFO, CS_OP_RECEIVER, CS_OP_SENDER, CS_OP_DESTROY,
					CS_OP_PUBLISH, CS_OP_LOOKUP, CS_OP_CREATE, 0, 15, 0xffffffffu };
	unsigned c0 = CHAN_FIRST + 2 * z->index, c1 = c0 + 1;
	sl_cap_info_t info;
	sl_msg_t m = { .w = { next(z), next(z), next(z), next(z), next(z), next(z), next(z), next(z) } };

	if (sl_cap_identify(c0, &info) < 0 || chance(z, 2)) {
		for (unsigned c = c0; c <= c1; c++) {
			m.tag = SL_TAG(CS_OP_CLOSE, 0, 0);
			if (sl_cap_identify(c, &info) == 0)
				sl_call(c, &m);
			sl_cap_delete(c);
		}
		m.tag = SL_TAG(chance(z, 50) ? CS_OP_CREATE : CS_OP_CREATE_SYNC, 1, 0);
		m.w[0] = chance(z, 80) ? 1 + below(z, 16) : below(z, 2 * CHAN_CAPACITY_MAX);
		m.spec = SL_SPEC(0, 0, c0, c1);
		return sl_call(SL_SLOT_SERVER, &m);
	}
	unsigned target = sl_cap_identify(c1, &info) == 0 && chance(z, 50) ? c1 : c0;
	uint32_t op = ops[below(z, sizeof ops / sizeof ops[0])];
	uint64_t tag = SL_TAG(op, below(z, 9), 0);

	if (chance(z, 20))              /* a handle (or anything) riding along */
		tag = safe_tag(z, SL_TAG_CAPS(SL_TAG(op, below(z, 9), 1), window_slot(z), 0));
	m.tag = tag;
	m.spec = safe_spec(z, SL_SPEC(0, 0, window_slot(z), window_slot(z)));
	return sl_call(target, &m);
}

/* A well-formed message on a capability this silo holds. */
static long valid_ipc(fuzzer_t *z)
{
	uint64_t a[7] = { window_slot(z), safe_tag(z, SL_TAG_CAPS(SL_TAG(below(z, 16), below(z, 9), below(z, 3)),
						   window_slot(z), window_slot(z))),
			  next(z), next(z), next(z), next(z),
			  safe_spec(z, SL_SPEC(0, 0, window_slot(z), window_slot(z))) };
	static const uint64_t nrs[] = { SL_SYS_NBSEND, SL_SYS_NBRECV, SL_SYS_CALL, SL_SYS_SEND };
	uint64_t nr = nrs[below(z, 4)];

	if (nr == SL_SYS_CALL || nr == SL_SYS_SEND) {
		a[0] = chance(z, 70) ? SLOT_ECHO : SL_SLOT_SERVER;
		if (a[0] == SL_SLOT_SERVER)     /* the server's operations, any capability */
			a[1] = safe_tag(z, SL_TAG_CAPS(SL_TAG(1 + below(z, 15), below(z, 9), below(z, 2)),
						       window_slot(z), 0));
	}
	return raw_call(z, nr, a);
}

/* A valid call on capabilities this silo holds. */
static long valid_call(fuzzer_t *z)
{
	uint64_t word, s = window_slot(z), d = window_slot(z);
	sl_cap_info_t *info = (sl_cap_info_t *)(void *)z->scratch;

	switch (below(z, 14)) {
	case 0: return sl_ep_create((sl_slot_t)s);
	case 1: return sl_ntfn_create((sl_slot_t)s);
	case 2: return sl_cap_mint((sl_slot_t)s, (sl_slot_t)d, (unsigned)below(z, 16),
				   chance(z, 50) ? below(z, 1000) : next(z));
	case 3: return sl_cap_copy((sl_slot_t)(chance(z, 20) ? SLOT_ECHO : s), (sl_slot_t)d);
	case 4: return sl_cap_move((sl_slot_t)s, (sl_slot_t)d);
	case 5: return chance(z, 70) ? sl_cap_delete((sl_slot_t)s) : sl_cap_revoke((sl_slot_t)s);
	case 6: return sl_cap_identify((sl_slot_t)s, info);
	case 7: return sl_signal((sl_slot_t)s);
	case 8: return sl_poll((sl_slot_t)s, &word);
	case 9: return spawn_or_join(z);
	case 10: return chance(z, 10) ? blocker_step(z) : valid_ipc(z);
	case 11: return chan_call(z);
	default: return valid_ipc(z);
	}
}

static void count_result(fuzzer_t *z, long r)
{
	z->results[r >= 0 ? 0 : r > -SL_ERROR_COUNT ? -r : SL_ERROR_COUNT]++;
}

/* The oracle for "a failed call has no effect": before each call the
 * scratch buffer and the 16 bytes below the stack top (where every
 * pointer the kernel might write through lands, if anywhere in this
 * silo) get a pattern; after a failed call it must still be there. */
#define PATTERN 0x5a

static void fill(fuzzer_t *z)
{
	volatile uint8_t *edge = (volatile uint8_t *)(z->top - 16);

	memset(z->scratch, PATTERN, sizeof z->scratch);
	for (int i = 0; i < 16; i++)
		edge[i] = PATTERN;
}

static bool untouched(const fuzzer_t *z)
{
	const volatile uint8_t *edge = (const volatile uint8_t *)(z->top - 16);
	bool same = true;

	for (size_t i = 0; i < sizeof z->scratch; i++)
		same &= z->scratch[i] == PATTERN;
	for (int i = 0; i < 16; i++)
		same &= edge[i] == PATTERN;
	return same;
}

static int fuzz_thread(void *arg)
{
	fuzzer_t *z = arg;
	int code;

	z->top = thread_stack_top(0);
	if (!z->top) {
		printf("sysfuzz: thread %u: stack top not found\n", z->index);
		return 1;
	}
	for (z->done = 0; z->done < z->calls; z->done++) {
		uint64_t rng = z->rng;

		fill(z);
		long r = chance(z, 50) ? random_call(z) : valid_call(z);
		count_result(z, r);
		if (r < 0 && !untouched(z)) {
			printf("sysfuzz: thread %u: call %lu failed with %ld but wrote to memory "
			       "(PRNG state before it %#llx)\n", z->index, z->done, r, (unsigned long long)rng);
			z->half_done++;
		}
		if ((z->done + 1) % PROGRESS == 0)
			printf("sysfuzz: thread %u: %lu calls\n", z->index, z->done + 1);
	}
	while (z->nspawned)
		sl_thread_join(z->spawned[--z->nspawned], &code);
	return z->half_done ? 2 : 0;
}

/* Receives on the echo endpoint for ever and answers every call, so that
 * SEND and CALL on it always come back. */
__attribute__((noreturn)) static int echo_thread(void *arg)
{
	fuzzer_t *z = arg;

	z->top = thread_stack_top(0);
	for (;;) {
		sl_msg_t m = { .spec = safe_spec(z, SL_SPEC(0, 0, window_slot(z), window_slot(z))) };
		if (sl_recv(SLOT_ECHO, &m) == 0 && (m.tag & SL_TAG_CALL))
			answer(z);
		else
			sl_cap_delete(private_slot(z));    /* in case a reply capability was left */
	}
}

/* ------------------------------------------------------------------ main */

static uint64_t arg_value(int argc, char **argv, const char *key, uint64_t dflt)
{
	size_t n = strlen(key);

	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], key, n) && argv[i][n] == '=')
			return (uint64_t)strtol_simple(argv[i] + n + 1);
	return dflt;
}

/* The protected slots still hold what they held at the start. */
static bool slots_intact(const sl_cap_info_t *server)
{
	sl_cap_info_t now, echo;

	return sl_cap_identify(SL_SLOT_SERVER, &now) == 0 && now.type == server->type &&
	       now.rights == server->rights && now.badge == server->badge &&
	       sl_cap_identify(SLOT_ECHO, &echo) == 0 && echo.type == SL_CAP_ENDPOINT &&
	       echo.rights == SL_RIGHTS_ALL;
}

static void print_results(void)
{
	unsigned long sum[SL_ERROR_COUNT + 1] = { 0 };
	char line[256];
	int n = 0;

	for (unsigned t = 0; t < nthreads; t++)
		for (unsigned e = 0; e <= SL_ERROR_COUNT; e++)
			sum[e] += fuzzers[t].results[e];
	n += snprintf(line + n, sizeof line - (size_t)n, "sysfuzz: results: ok %lu", sum[0]);
	for (unsigned e = 1; e <= SL_ERROR_COUNT; e++)
		n += snprintf(line + n, sizeof line - (size_t)n, ", -%u %lu", e, sum[e]);
	printf("%s\n", line);
}

static unsigned long join_all(const int *tids, int *bad)
{
	unsigned long made = 0;
	int code;

	for (unsigned t = 0; t < nthreads; t++) {
		if (tids[t] <= 0 || sl_thread_join(tids[t], &code) < 0 || code != 0)
			++*bad;
		made += fuzzers[t].done;
	}
	return made;
}

/* abrupt=1: the fuzzing threads never stop; once they have made `calls`
 * calls between them, main returns and the silo's exit kills them in the
 * middle of whatever call each is in (a blocked call to chanserv or the
 * echo thread, a join, a sleep...). */
static unsigned long wait_for_calls(int *bad)
{
	unsigned long made = 0, half_done = 0;

	while (made < total_calls) {
		sl_sleep_ms(5);
		made = half_done = 0;
		for (unsigned t = 0; t < nthreads; t++) {
			made += fuzzers[t].done;
			half_done += fuzzers[t].half_done;
		}
	}
	*bad += half_done != 0;
	return made;
}

int main(int argc, char **argv)
{
	int tids[MAX_THREADS], bad = 0;
	sl_cap_info_t server;

	seed = arg_value(argc, argv, "seed", 1);
	total_calls = arg_value(argc, argv, "calls", 100000);
	nthreads = (unsigned)arg_value(argc, argv, "workers", 3);
	nthreads = nthreads < 1 ? 1 : nthreads > MAX_THREADS ? MAX_THREADS : nthreads;
	abrupt = arg_value(argc, argv, "abrupt", 0) != 0;
	cspace_slots = sl_bootinfo()->cspace_slots;
	if (cspace_slots < PROTECTED_END || sl_cap_identify(SL_SLOT_SERVER, &server) < 0 ||
	    sl_ep_create(SLOT_ECHO) < 0) {
		printf("sysfuzz: no server capability, no echo endpoint or cspace < %d\n", PROTECTED_END);
		return 1;
	}
	printf("sysfuzz: seed %llu, %lu calls, %u threads%s\n", (unsigned long long)seed, total_calls,
	       nthreads, abrupt ? ", then exit in the middle of them" : "");
	for (unsigned t = 0; t <= MAX_THREADS; t++) {
		fuzzers[t].index = t;
		fuzzers[t].rng = (seed + 1) * 0x9e3779b97f4a7c15ull ^ (t + 1) * 0xbf58476d1ce4e5b9ull;
		fuzzers[t].calls = abrupt ? ~0ul : total_calls / nthreads + (t < total_calls % nthreads);
	}
	int echo = sl_thread_create(echo_thread, &fuzzers[MAX_THREADS]);
	uint64_t t0 = sl_clock_ms();
	for (unsigned t = 0; t < nthreads; t++)
		tids[t] = sl_thread_create(fuzz_thread, &fuzzers[t]);
	unsigned long made = abrupt ? wait_for_calls(&bad) : join_all(tids, &bad);
	uint64_t ms = sl_clock_ms() - t0;
	print_results();
	printf("sysfuzz: %lu calls in %llu ms, %llu calls/s\n", made, (unsigned long long)ms,
	       (unsigned long long)(ms ? made * 1000 / ms : 0));
	if (echo <= 0 || bad || !slots_intact(&server)) {
		printf("sysfuzz: FAILED (echo thread %d, %d fuzzing threads failed, slots %s)\n", echo, bad,
		       slots_intact(&server) ? "intact" : "changed");
		return 1;
	}
	printf("sysfuzz: seed %llu done: %lu calls, kernel alive\n", (unsigned long long)seed, made);
	return 0;
}
