/*
 * ipcclient MODE [N]: exercises endpoints, capabilities and notifications
 * against echoserv (the first module). Prints TAP lines; exits 0 when
 * every check passed.
 *
 *   roundtrip N   N calls with every payload checked
 *   defer         64 callers parked by the server, answered last-first
 *   capmove       a capability moved in a message, and one unwrapped
 *   revoke        revoking a derived capability the server holds
 *   ntfnlock      8 threads x 10,000 increments under a notification lock
 *   park          leave a call parked in the server, then fault
 *   answerparked  later, ask the server to answer that call: SL_EDEAD
 *   parkwait      leave a call parked in the server and wait for its answer
 *   answerlive    later, ask the server to answer that call: it succeeds
 *   serverdead    (with a server that faults) calls get SL_EDEAD, not stuck
 *   fastfall      calls the fast path must hand to the generic path (bad
 *                 slots, long tags, taken spec slots, capabilities, a busy
 *                 server) give the generic path's results, and the fast
 *                 path copies exactly the counted words
 */
#include "echo_proto.h"
#include <sys/ipc.h>
#include <sys/sluice.h>

#define SRV SL_SLOT_SERVER

static int count, failed;

static void check(bool ok, const char *what, long got)
{
	count++;
	failed += !ok;
	printf("%s %d - %s (got %ld)\n", ok ? "ok" : "not ok", count, what, got);
}

static int roundtrip(long n)
{
	long bad = 0, errors = 0;

	for (long i = 0; i < n; i++) {
		sl_msg_t m = { .tag = SL_TAG(ECHO_PING, 8, 0) };

		for (unsigned k = 0; k < 8; k++)
			m.w[k] = (uint64_t)i * 8 + k;
		if (sl_call(SRV, &m) < 0) {
			errors++;
			continue;
		}
		bool ok = SL_TAG_LEN(m.tag) == 8 && m.badge == 0;
		for (unsigned k = 0; k < 8; k++)
			ok &= m.w[k] == (uint64_t)i * 8 + k + 1;
		bad += !ok;
	}
	check(errors == 0, "every call returned 0", errors);
	check(bad == 0, "every reply carried the right 8 words", bad);
	return 0;
}

/* ---- defer: 64 callers, answered last-first ---- */

#define CALLERS ECHO_DEFER_MAX
static volatile uint64_t answer_order[CALLERS], arrival[CALLERS];
static volatile long call_result[CALLERS];

static int deferred_caller(void *arg)
{
	uint64_t me = (uint64_t)(long)arg;
	sl_msg_t m = { .tag = SL_TAG(ECHO_DEFER, 2, 0), .w = { me, CALLERS } };

	call_result[me] = sl_call(SRV, &m);
	if (m.w[0] != me)
		call_result[me] = -100;
	arrival[me] = m.w[1];
	answer_order[me] = m.w[2];
	return 0;
}

static int defer(void)
{
	int tids[CALLERS], code, made = 0, bad = 0, order_ok = 1;

	for (long i = 0; i < CALLERS; i++)
		made += (tids[i] = sl_thread_create(deferred_caller, (void *)i)) > 0;
	check(made == CALLERS, "64 caller threads started", made);
	for (int i = 0; i < CALLERS; i++)
		if (tids[i] > 0)
			sl_thread_join(tids[i], &code);
	for (int i = 0; i < CALLERS; i++) {
		bad += call_result[i] != 0;
		/* the k-th answer went to the caller that arrived (63 - k)-th */
		order_ok &= answer_order[i] == CALLERS - 1 - arrival[i];
	}
	check(bad == 0, "all 64 deferred calls answered, each to its own caller", bad);
	check(order_ok, "answers went out in reverse order of arrival", order_ok);
	return 0;
}

/* ---- capmove: one capability moved, one unwrapped ---- */

static int capmove(void)
{
	sl_cap_info_t info;
	int r = sl_ep_create(20);

	check(r == 0 && sl_cap_mint(20, 21, SL_RIGHT_SEND, 42) == 0, "made an endpoint and a badged copy", r);
	sl_msg_t m = { .tag = SL_TAG_CAPS(SL_TAG(ECHO_HOLD, 0, 1), 21, 0) };
	r = (int)sl_call(SRV, &m);
	check(r == 0 && (m.w[4] & 1) && m.w[0] == 0, "the capability arrived moved in the server", (long)m.w[4]);
	check(m.w[1] == SL_CAP_ENDPOINT && m.w[2] == SL_RIGHT_SEND && m.w[3] == 42,
	      "the server sees an endpoint, send only, badge 42", (long)m.w[3]);
	check(sl_cap_identify(21, &info) == SL_ECAP, "and it left our slot", 0);

	/* Our capability to the server's own endpoint, badged with our id,
	 * comes back to it as that badge, and stays with us. */
	m = (sl_msg_t){ .tag = SL_TAG_CAPS(SL_TAG(ECHO_HOLD, 0, 1), SRV, 0) };
	r = (int)sl_call(SRV, &m);
	check(r == 0 && (m.w[4] & 4) && m.w[5] == (uint64_t)sl_silo_id(),
	      "a capability to the server's endpoint is unwrapped into our badge", (long)m.w[5]);
	check(sl_cap_identify(SRV, &info) == 0 && info.badge == (uint64_t)sl_silo_id(),
	      "and stays in our slot", (long)info.badge);
	return 0;
}

/* ---- revoke: the server's derived copy goes, its next use fails ---- */

static int revoke(void)
{
	sl_cap_info_t info;

	sl_ep_create(30);
	sl_cap_mint(30, 31, SL_RIGHT_SEND | SL_RIGHT_COPY, 7);
	sl_msg_t m = { .tag = SL_TAG_CAPS(SL_TAG(ECHO_HOLD, 0, 1), 31, 0) };
	sl_call(SRV, &m);
	check(m.w[0] == 0 && m.w[3] == 7, "the server holds a derived capability, badge 7", (long)m.w[3]);
	m = (sl_msg_t){ .tag = SL_TAG(ECHO_PROBE, 0, 0) };
	sl_call(SRV, &m);
	check(m.w[0] == 0 && (long)m.w[1] == SL_EWOULDBLOCK,
	      "before revoke the server can use it (nbsend: nobody listening)", (long)m.w[1]);
	int n = sl_cap_revoke(30);
	check(n == 1, "revoke deleted one derived capability", n);
	m = (sl_msg_t){ .tag = SL_TAG(ECHO_PROBE, 0, 0) };
	sl_call(SRV, &m);
	check((long)m.w[0] == SL_ECAP && (long)m.w[1] == SL_ECAP,
	      "after revoke the server's identify and send fail with SL_ECAP", (long)m.w[0]);
	check(sl_cap_identify(30, &info) == 0 && info.type == SL_CAP_ENDPOINT,
	      "the original capability is untouched", (long)info.type);
	return 0;
}

/* ---- ntfnlock: a lock built on a notification ---- */

#define LOCKERS 8
#define INCREMENTS 10000
#define LOCK_WAIT 40
#define LOCK_SIGNAL 41
static volatile uint64_t counter;

static int locker(void *arg)
{
	(void)arg;
	for (int i = 0; i < INCREMENTS; i++) {
		uint64_t word;

		if (sl_wait(LOCK_WAIT, &word) < 0)
			return 1;
		uint64_t v = counter;           /* a racy read-modify-write, made safe */
		if (i % 1000 == 0)
			sl_yield();             /* hand the CPU over while holding it */
		counter = v + 1;
		sl_signal(LOCK_SIGNAL);
	}
	return 0;
}

static int ntfnlock(void)
{
	int tids[LOCKERS], code, bad = 0;

	check(sl_ntfn_create(LOCK_WAIT) == 0 &&
	      sl_cap_mint(LOCK_WAIT, LOCK_SIGNAL, SL_RIGHT_SEND, 1) == 0,
	      "a notification and a badge-1 signalling copy", 0);
	sl_signal(LOCK_SIGNAL);                 /* the lock starts free */
	for (int i = 0; i < LOCKERS; i++)
		tids[i] = sl_thread_create(locker, NULL);
	for (int i = 0; i < LOCKERS; i++)
		bad += tids[i] < 0 || sl_thread_join(tids[i], &code) < 0 || code != 0;
	check(bad == 0, "8 threads finished", bad);
	check(counter == LOCKERS * INCREMENTS, "8 x 10,000 increments, exact total", (long)counter);
	return 0;
}

/* ---- park: a call the server holds, then this silo faults ---- */

static int parked_caller(void *arg)
{
	sl_msg_t m = { .tag = SL_TAG(ECHO_PARK, 0, 0) };

	(void)arg;
	return (int)sl_call(SRV, &m);   /* never answered while we live */
}

static int park(void)
{
	sl_thread_create(parked_caller, NULL);
	sl_sleep_ms(30);
	printf("ipcclient park: faulting with a call parked in the server\n");
	*(volatile int *)(uintptr_t)sl_clock_ms() = 0;  /* an address near 0: faults */
	return 1;
}

/* ---- answerparked: the caller the server parked has died ---- */

static int answer_parked(void)
{
	sl_msg_t m = { .tag = SL_TAG(ECHO_ANSWER_PARKED, 0, 0) };

	sl_sleep_ms(300);               /* long after "park" has faulted */
	long r = sl_call(SRV, &m);
	check(r == 0 && (long)m.w[0] == SL_EDEAD,
	      "answering a call whose caller died gives SL_EDEAD", (long)m.w[0]);
	return 0;
}

/* ---- parkwait, answerlive: a parked call answered while its caller lives ---- */

static int park_wait(void)
{
	sl_msg_t m = { .tag = SL_TAG(ECHO_PARK, 0, 0) };
	long r = sl_call(SRV, &m);

	printf("ipcclient parkwait: the parked call was answered: %ld\n", r);
	check(r == 0 && SL_TAG_LEN(m.tag) == 0, "the parked call is answered", r);
	return 0;
}

static int answer_live(void)
{
	sl_msg_t m = { .tag = SL_TAG(ECHO_ANSWER_PARKED, 0, 0) };

	sl_sleep_ms(100);               /* long after "parkwait" has called */
	long r = sl_call(SRV, &m);
	check(r == 0 && m.w[0] == 0, "the server answered the parked call", (long)m.w[0]);
	return 0;
}

/* ---- serverdead: the server dies; its clients are told, not stranded ---- */

static int early_call(void *arg)
{
	sl_msg_t m = { .tag = SL_TAG(ECHO_PING, 0, 0) };

	(void)arg;
	return (int)sl_call(SRV, &m);
}

static int server_dead(void)
{
	int code = 0, tid = sl_thread_create(early_call, NULL);
	sl_msg_t m = { .tag = SL_TAG(ECHO_PING, 0, 0) };

	sl_sleep_ms(300);                       /* the server has died meanwhile */
	sl_thread_join(tid, &code);
	check(code == SL_EDEAD, "a call waiting when the server died gets SL_EDEAD", code);
	long r = sl_call(SRV, &m);
	check(r == SL_EDEAD, "a call after it died gets SL_EDEAD at once", r);
	return 0;
}

/* ---- fastfall: what the fast path must leave to the generic path ---- */

#define FF_THREADS 4
#define FF_CALLS 2000
static volatile long ff_bad[FF_THREADS];

/* One ping with len words; true if the answer is exactly right: the len
 * words incremented, and the registers past len still ours. */
static bool ping_exact(unsigned len, uint64_t seed)
{
	sl_msg_t m = { .tag = SL_TAG(ECHO_PING, len, 0) };
	bool ok;

	for (unsigned k = 0; k < SL_MSG_WORDS; k++)
		m.w[k] = seed + k;
	ok = sl_call(SRV, &m) == 0 && SL_TAG_LEN(m.tag) == len && SL_TAG_NCAPS(m.tag) == 0 && m.badge == 0;
	for (unsigned k = 0; k < SL_MSG_WORDS; k++)
		ok &= m.w[k] == seed + k + (k < len);
	return ok;
}

/* One ping of one word through slot: the call's result, checked words. */
static long ping_via(unsigned slot, uint64_t w)
{
	sl_msg_t m = { .tag = SL_TAG(ECHO_PING, 1, 0), .w = { w } };
	long r = sl_call(slot, &m);

	return r == 0 && m.w[0] != w + 1 ? SL_EINVAL : r < 0 && m.w[0] != w ? SL_EINVAL : r;
}

static int ff_caller(void *arg)
{
	long me = (long)arg, bad = 0;

	for (long i = 0; i < FF_CALLS; i++)
		bad += !ping_exact((unsigned)(i % 9), (uint64_t)me << 32 | (uint64_t)i << 4);
	ff_bad[me] = bad;
	return 0;
}

/* A ping with SL_TAG_BUFFER and RBP = buf: the kernel's result, and the
 * first word back in *w0. */
static __attribute__((noinline)) long buffer_ping(const void *buf, uint64_t *w0)
{
	uint64_t w[SL_MSG_WORDS] = { 41 }, tag = SL_TAG(ECHO_PING, 1, 0) | SL_TAG_BUFFER, spec = 0, badge;
	long rax = sl_ipc_words(SL_SYS_CALL, SRV, &tag, &spec, &badge, w, w, buf);

	*w0 = w[0];
	return rax;
}

static int fastfall(void)
{
	sl_cap_info_t info;
	int bad = 0, tids[FF_THREADS], code;

	for (unsigned len = 0; len <= SL_MSG_WORDS; len++)
		bad += !ping_exact(len, 1000 * len);
	check(bad == 0, "lengths 0..8: exactly the counted words come back, the rest stay ours", bad);

	sl_msg_t m = { .tag = SL_TAG(ECHO_PING, 9, 0), .w = { 5 } };
	long r = sl_call(SRV, &m);
	check(r == SL_EINVAL && m.w[0] == 5, "a tag of length 9 is SL_EINVAL and nothing is sent", r);
	m = (sl_msg_t){ .tag = SL_TAG(ECHO_PING, 15, 0), .w = { 5 } };
	check(sl_call(SRV, &m) == SL_EINVAL, "length 15 as well", 0);

	check(sl_call(40, &m) == SL_ECAP, "an empty endpoint slot is SL_ECAP", 0);
	check(sl_call(0, &m) == SL_EINVAL && sl_call(1u << 20, &m) == SL_EINVAL,
	      "slot 0 and a slot past the cspace are SL_EINVAL", 0);
	sl_ntfn_create(41);
	m = (sl_msg_t){ .tag = SL_TAG(ECHO_PING, 1, 0) };
	check(sl_call(41, &m) == SL_ECAP, "a notification is no endpoint: SL_ECAP", 0);

	/* A spec naming a taken slot for an incoming capability: refused
	 * before the server sees the call. */
	m = (sl_msg_t){ .tag = SL_TAG(ECHO_PING, 1, 0), .w = { 7 }, .spec = SL_SPEC(0, 0, 41, 0) };
	r = sl_call(SRV, &m);
	check(r == SL_EEXIST && m.w[0] == 7, "a spec naming a taken slot is SL_EEXIST, nothing sent", r);
	m.spec = SL_SPEC(0, 0, 4095, 0);
	check(sl_call(SRV, &m) == 0 && m.w[0] == 8, "a spec naming a free (untouched) slot works", (long)m.w[0]);

	/* The fast path keeps the slot entries a thread names; what the slot
	 * holds is read on every call. A kept slot emptied, refilled with
	 * something else or with fewer rights is refused like any other. */
	bad = sl_cap_move(SRV, 50) != 0;
	for (int i = 0; i < 3; i++)
		bad += ping_via(50, (uint64_t)i) != 0;
	sl_cap_move(50, 54);            /* 54: the same kept place as 50 */
	bad += ping_via(54, 5) != 0 || ping_via(50, 5) != SL_ECAP;
	sl_cap_move(54, 50);
	bad += ping_via(50, 6) != 0 || ping_via(54, 6) != SL_ECAP || ping_via(50, 7) != 0;
	sl_cap_move(50, SRV);
	check(bad == 0, "the server capability moved between slots 50 and 54 (one kept place): "
	      "each call answered or refused right", bad);
	r = ping_via(50, 3);
	check(r == SL_ECAP, "slot 50 emptied: SL_ECAP, nothing sent", r);
	sl_ntfn_create(50);
	check(ping_via(50, 3) == SL_ECAP, "slot 50 now a notification: SL_ECAP", 0);
	sl_cap_delete(50);
	sl_ep_create(51);
	sl_cap_mint(51, 50, SL_RIGHT_RECV, 0);
	r = ping_via(50, 3);
	check(r == SL_EPERM, "slot 50 now an endpoint without the send right: SL_EPERM", r);
	sl_cap_delete(50);
	sl_cap_delete(51);
	uint64_t spec = SL_SPEC(0, 0, 60, 61);
	m = (sl_msg_t){ .tag = SL_TAG(ECHO_PING, 1, 0), .w = { 7 }, .spec = spec };
	r = sl_call(SRV, &m);
	sl_ntfn_create(61);
	m = (sl_msg_t){ .tag = SL_TAG(ECHO_PING, 1, 0), .w = { 7 }, .spec = spec };
	long r3 = sl_call(SRV, &m);
	sl_cap_delete(61);
	m = (sl_msg_t){ .tag = SL_TAG(ECHO_PING, 1, 0), .w = { 7 }, .spec = spec };
	long r4 = sl_call(SRV, &m);
	check(r == 0 && r3 == SL_EEXIST && r4 == 0 && m.w[0] == 8,
	      "a kept spec slot taken meanwhile: SL_EEXIST; freed again: answered", r3);

	/* A capability in the message: the generic path moves it. */
	sl_ep_create(42);
	m = (sl_msg_t){ .tag = SL_TAG_CAPS(SL_TAG(ECHO_HOLD, 0, 1), 42, 0) };
	r = sl_call(SRV, &m);
	check(r == 0 && (m.w[4] & 1) && m.w[1] == SL_CAP_ENDPOINT, "a call carrying a capability moves it", r);
	check(sl_cap_identify(42, &info) == SL_ECAP, "and it left our slot", 0);
	check(ping_exact(3, 77), "the next plain call is answered exactly", 0);

	/* Message buffers (the generic path): checked before anything moves. */
	static uint64_t buf[1 + SL_MSG_BUFFER_WORDS + 1];
	uint64_t w0 = 0;
	buf[0] = SL_MSG_BUFFER_WORDS + 1;
	r = buffer_ping(buf, &w0);
	check(r == SL_EINVAL && w0 == 41, "a buffer counting more than 512 words: SL_EINVAL, nothing sent", r);
	r = buffer_ping((void *)16, &w0);
	long r2 = buffer_ping((char *)buf + 4, &w0);
	check(r == SL_EFAULT && r2 == SL_EFAULT, "an unmapped or misaligned buffer: SL_EFAULT", r);
	buf[0] = 3;
	r = buffer_ping(buf, &w0);
	check(r == 0 && w0 == 42, "a receiver naming no buffer still gets the registers", r);

	/* A busy server: callers queue (the generic path) and every answer
	 * still goes to its own caller with its own words. */
	for (long i = 0; i < FF_THREADS; i++)
		tids[i] = sl_thread_create(ff_caller, (void *)i);
	bad = 0;
	for (int i = 0; i < FF_THREADS; i++) {
		bad += tids[i] < 0 || sl_thread_join(tids[i], &code) < 0;
		bad += (int)ff_bad[i];
	}
	check(bad == 0, "4 threads x 2000 calls at once: every answer exact", bad);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	long n = argc > 2 ? strtol_simple(argv[2]) : 1000;

	printf("TAP version 13\n# ipcclient %s\n", mode);
	if (!strcmp(mode, "roundtrip"))
		roundtrip(n);
	else if (!strcmp(mode, "defer"))
		defer();
	else if (!strcmp(mode, "capmove"))
		capmove();
	else if (!strcmp(mode, "revoke"))
		revoke();
	else if (!strcmp(mode, "ntfnlock"))
		ntfnlock();
	else if (!strcmp(mode, "park"))
		park();
	else if (!strcmp(mode, "answerparked"))
		answer_parked();
	else if (!strcmp(mode, "parkwait"))
		park_wait();
	else if (!strcmp(mode, "answerlive"))
		answer_live();
	else if (!strcmp(mode, "serverdead"))
		server_dead();
	else if (!strcmp(mode, "fastfall"))
		fastfall();
	else
		check(false, "known mode", 0);
	printf("1..%d\n", count);
	printf("ipcclient %s: %d of %d checks failed\n", mode, failed, count);
	return failed ? 1 : 0;
}
