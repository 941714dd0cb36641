/*
 * chansem ROLE: the channel rules across silos.
 *
 *   dc-a, dc-b        disconnect (drain, then CHAN_EDISCONNECTED) and
 *                     reconnect in both directions, a handle passed back
 *   ds-owner, ds-send, ds-recv
 *                     destroy wakes blocked senders and receivers
 *   relay-a, relay-b, relay-c
 *                     a receive handle passed along three silos
 *   kill-victim, kill-peer
 *                     a silo killed inside a blocked send: the peer sees
 *                     CHAN_EDISCONNECTED after draining
 *   quota, pingpong-a, pingpong-b
 *                     per-silo quotas give CHAN_ENOSPC; the pair is untouched
 *   bad-input         every libchan call with bad handles, sides and names
 *   loss-source, loss-victim, loss-other
 *                     a silo exits while waiting in receives: nothing lost
 */
#include "common.h"

/* ---------------------------------------------------------- disconnect */

static int dc_a(void)
{
	chan_t tx, rx, ctl, tx2, rx3;
	chan_msg_t m;

	check(chan_create(4, &tx, &rx) == 0 && chan_create_sync(4, &ctl) == 0, "create", 0);
	check(chan_publish("dc.rx", rx) == 0 && chan_publish("dc.ctl", ctl) == 0, "publish", 0);
	for (uint64_t i = 0; i < 3; i++) {
		m = make_msg(1, i, 0);
		chan_send(tx, &m);
	}
	chan_close(tx);                         /* the only sender: B drains, then disconnects */
	check(chan_recv_handle(ctl, &m, &tx2) == 0 && tx2 != 0, "got B's new send handle", (long)tx2);
	m = make_msg(2, 42, 0);
	check(chan_send(tx2, &m) == 0, "send on the handle B made and passed", 0);
	chan_close(rx);                         /* our receive handle */
	check(chan_recv(ctl, &m) == 0 && m.type == 9, "B closed its receive handle", (long)m.type);
	m = make_msg(3, 0, 0);
	check(chan_send(tx2, &m) == CHAN_EDISCONNECTED, "no receivers left: send is CHAN_EDISCONNECTED", 0);
	check(chan_receiver(tx2, &rx3) == 0, "chan_receiver reconnects", 0);
	check(chan_send(tx2, &m) == 0 && chan_recv(rx3, &m) == 0 && m.type == 3, "and messages flow again", (long)m.type);
	chan_info_t info;
	check(chan_info(rx3, &info) == 0 && info.state == CHAN_STATE_CONNECTED && info.senders == 1 &&
	      info.receivers == 1, "info: connected, one of each", (long)info.state);
	m = make_msg(10, 0, 0);
	chan_send(ctl, &m);                     /* tell B we are done */
	sl_sleep_ms(50);
	return tap_done("chansem dc-a");
}

static int dc_b(void)
{
	chan_t rx, ctl, tx2;
	chan_msg_t m;
	long bad = 0;
	int r;

	check(lookup_wait("dc.rx", &rx) == 0 && lookup_wait("dc.ctl", &ctl) == 0, "look up", 0);
	for (uint64_t i = 0; i < 3; i++) {
		r = chan_recv(rx, &m);
		bad += r != 0 || msg_word(&m, 0) != i || m.sender == 0xdeadbeef;
	}
	check(bad == 0, "the 3 queued messages drain in order, stamped", bad);
	check(chan_recv(rx, &m) == CHAN_EDISCONNECTED, "then CHAN_EDISCONNECTED", 0);
	check(chan_sender(rx, &tx2) == 0, "chan_sender reconnects", 0);
	m = make_msg(7, 0, 0);
	check(chan_send_handle(ctl, &m, tx2) == 0, "pass the new send handle to A", 0);
	check(chan_send(tx2, &m) == CHAN_EBADHANDLE, "the passed handle is no longer ours", 0);
	check(chan_recv(rx, &m) == 0 && msg_word(&m, 0) == 42, "A's message over it arrives", (long)msg_word(&m, 0));
	chan_close(rx);
	m = make_msg(9, 0, 0);
	chan_send(ctl, &m);
	do
		r = chan_recv(ctl, &m);
	while (r == 0 && m.type != 10);         /* our own messages come back too: skip them */
	return tap_done("chansem dc-b");
}

/* ------------------------------------------------------------- destroy */

static volatile int results[4];

static int blocked_send(void *arg)
{
	chan_t h = (chan_t)(long)arg;
	chan_msg_t m = make_msg(1, 0, 0);

	return chan_send(h, &m);
}

static int blocked_recv(void *arg)
{
	chan_msg_t m;

	return chan_recv((chan_t)(long)arg, &m);
}

static int run_blocked(const char *name, int (*fn)(void *), bool fill)
{
	chan_t h;
	chan_msg_t m = make_msg(1, 0, 0);
	int tids[2], code, dis = 0;

	check(lookup_wait(name, &h) == 0, "look up", 0);
	if (fill)
		chan_send(h, &m);               /* capacity 1: now full */
	for (int i = 0; i < 2; i++)
		tids[i] = sl_thread_create(fn, (void *)(long)h);
	for (int i = 0; i < 2; i++)
		dis += sl_thread_join(tids[i], &code) == 0 && code == CHAN_EDISCONNECTED;
	check(dis == 2, "both blocked threads woke with CHAN_EDISCONNECTED", dis);
	check(chan_send(h, &m) == CHAN_EDISCONNECTED && chan_recv(h, &m) == CHAN_EDISCONNECTED,
	      "the destroyed channel refuses everything", 0);
	check(chan_close(h) == 0, "its handle still closes", 0);
	return tap_done(fill ? "chansem ds-send" : "chansem ds-recv");
}

static int ds_owner(void)
{
	chan_t full, empty, h;

	check(chan_create_sync(1, &full) == 0 && chan_create_sync(1, &empty) == 0, "create", 0);
	check(chan_publish("ds.full", full) == 0 && chan_publish("ds.empty", empty) == 0, "publish", 0);
	wait_senders(full, 2);                  /* both other silos have their handles */
	wait_senders(empty, 2);
	sl_sleep_ms(200);                       /* and their threads block meanwhile */
	check(chan_destroy(full) == 0 && chan_destroy(empty) == 0, "destroy both", 0);
	check(chan_lookup("ds.full", &h) == CHAN_ENOENT, "the names are gone", 0);
	chan_info_t info;
	check(chan_info(full, &info) == 0 && info.state == CHAN_STATE_DESTROYED, "info says destroyed", (long)info.state);
	return tap_done("chansem ds-owner");
}

/* --------------------------------------------------------------- relay */

/* Waits until the peer has taken what we queued on tx: leaving earlier
 * would close our handles and discard the message, handle and all. */
static void wait_drained(chan_t tx)
{
	chan_info_t info;

	while (chan_info(tx, &info) == 0 && info.length > 0)
		sl_sleep_ms(10);
}

static int relay(char who)
{
	chan_t in, out, h;
	chan_msg_t m = make_msg(0, 0, 0);

	if (who == 'a') {
		chan_t tx, rx, r1;
		check(chan_create(4, &tx, &rx) == 0 && chan_create(1, &out, &r1) == 0, "create", 0);
		check(chan_publish("relay.1", r1) == 0, "publish", 0);
		check(chan_send_handle(out, &m, rx) == 0, "send the receive handle to B", 0);
		m = make_msg(5, 555, 0);
		check(chan_send(tx, &m) == 0, "send on the channel whose receiver travels", 0);
		wait_drained(out);
		wait_drained(tx);
		return tap_done("chansem relay-a");
	}
	if (who == 'b') {
		chan_t r2;
		check(lookup_wait("relay.1", &in) == 0, "look up", 0);
		check(chan_create(1, &out, &r2) == 0 && chan_publish("relay.2", r2) == 0, "create, publish", 0);
		check(chan_recv_handle(in, &m, &h) == 0 && h && (m.flags & CHAN_MSG_FLAG_HANDLE), "got the handle from A", (long)h);
		check(chan_send_handle(out, &m, h) == 0, "pass it on to C", 0);
		check(chan_recv(h, &m) == CHAN_EBADHANDLE, "it is no longer ours", 0);
		wait_drained(out);
		return tap_done("chansem relay-b");
	}
	check(lookup_wait("relay.2", &in) == 0, "look up", 0);
	check(chan_recv_handle(in, &m, &h) == 0 && h, "got the handle from B", (long)h);
	check(chan_recv(h, &m) == 0 && msg_word(&m, 0) == 555 && m.sender == 2,
	      "A's message arrives at C, stamped with A's id", (long)m.sender);
	chan_info_t info;
	check(chan_info(h, &info) == 0 && info.rights == CHAN_RIGHT_RECV, "it is a receive handle", (long)info.rights);
	return tap_done("chansem relay-c");
}

/* ---------------------------------------------------------------- kill */

static volatile int *volatile nowhere = (int *)8;

static int fault_later(void *arg)
{
	(void)arg;
	sl_sleep_ms(150);
	*nowhere = 1;
	return 0;
}

static int kill_victim(void)
{
	chan_t tx;
	chan_msg_t m = make_msg(1, 0, 0);

	check(lookup_wait("kill.tx", &tx) == 0, "look up", 0);
	sl_thread_create(fault_later, NULL);
	for (uint64_t i = 0; i < 100; i++) {    /* capacity 2: the third send blocks */
		m = make_msg(1, i, 0);
		printf("kill-victim: sending %llu\n", (unsigned long long)i);
		chan_send(tx, &m);
	}
	return 1;                               /* not reached: the fault comes first */
}

static int kill_peer(void)
{
	chan_t tx, rx;
	chan_msg_t m;
	int r, got = 0;

	check(chan_create(2, &tx, &rx) == 0 && chan_publish("kill.tx", tx) == 0, "create, publish", 0);
	wait_senders(tx, 2);                    /* the victim has its own send handle now */
	chan_close(tx);
	wait_senders(rx, 0);                    /* it blocked in its third send and died */
	while ((r = chan_recv(rx, &m)) == 0)
		got++;
	check(got == 2 && r == CHAN_EDISCONNECTED,
	      "after the sender died: the 2 queued messages, then CHAN_EDISCONNECTED", got);
	return tap_done("chansem kill-peer");
}

/* --------------------------------------------------------------- quota */

static int quota(void)
{
	chan_t tx, rx, h, c1, c2, c3;
	int r;

	/* started with chan.handles=4 chan.pending=1 chan.channels=2 */
	check(chan_create(1, &tx, &rx) == 0, "first channel", 0);
	check(chan_create_sync(1, &h) == 0, "second channel", 0);
	r = chan_create_sync(1, &c1);
	check(r == CHAN_ENOSPC, "third channel: CHAN_ENOSPC", r);
	check(chan_clone(h, &c2) == 0, "fourth handle", 0);
	r = chan_clone(h, &c3);
	check(r == CHAN_ENOSPC, "fifth handle: CHAN_ENOSPC", r);
	int tid = sl_thread_create(blocked_recv, (void *)(long)rx);
	sl_sleep_ms(200);                       /* it waits: our one pending operation */
	chan_msg_t m;
	r = chan_recv(h, &m);
	check(r == CHAN_ENOSPC, "a second waiting receive: CHAN_ENOSPC", r);
	chan_close(c2);
	check(chan_clone(h, &c3) == 0, "after a close, a handle fits again", 0);
	m = make_msg(4, 0, 0);
	chan_send(tx, &m);
	int code;
	check(sl_thread_join(tid, &code) == 0 && code == 0, "the waiting receive completed", code);
	return tap_done("chansem quota");
}

static int pingpong(char who, long n)
{
	chan_t a, b;
	chan_msg_t m;
	long bad = 0;

	if (who == 'a') {
		chan_t arx, btx;
		check(chan_create(1, &a, &arx) == 0 && chan_publish("pp.a", arx) == 0, "create", 0);
		check(lookup_wait("pp.b", &btx) == 0, "look up", 0);
		for (long i = 0; i < n; i++) {
			m = make_msg(1, (uint64_t)i, 0);
			chan_send(a, &m);
			bad += chan_recv(btx, &m) != 0 || msg_word(&m, 0) != (uint64_t)i + 1;
		}
		check(bad == 0, "every ping answered", bad);
		return tap_done("chansem pingpong-a");
	}
	chan_t brx;
	check(chan_create(1, &b, &brx) == 0 && chan_publish("pp.b", brx) == 0, "create", 0);
	check(lookup_wait("pp.a", &a) == 0, "look up", 0);
	for (long i = 0; i < n; i++) {
		bad += chan_recv(a, &m) != 0;
		m = make_msg(1, msg_word(&m, 0) + 1, 0);
		chan_send(b, &m);
	}
	check(bad == 0, "every ping received", bad);
	sl_sleep_ms(50);
	return tap_done("chansem pingpong-b");
}

/* ------------------------------------------------------------ lossless */

/* A silo dies while its threads wait in chan_recv; messages sent right
 * after must reach the other receiver, none lost to the dying one. */
static int wait_recv(void *arg)
{
	chan_msg_t m;

	return chan_recv((chan_t)(long)arg, &m);
}

static int lossless(char who)
{
	chan_t tx, rx, bye;
	chan_msg_t m = make_msg(1, 0, 0);

	if (who == 's') {                       /* the source */
		check(chan_create(4, &tx, &rx) == 0 && chan_create_sync(1, &bye) == 0, "create", 0);
		check(chan_publish("loss.rx", rx) == 0 && chan_publish("loss.bye", bye) == 0, "publish", 0);
		chan_close(rx);
		chan_recv(bye, &m);             /* the victim is about to exit */
		for (uint64_t i = 1; i <= 3; i++) {
			m = make_msg(1, i, 0);
			chan_send(tx, &m);
		}
		chan_close(tx);
		sl_sleep_ms(100);
		return tap_done("chansem loss-source");
	}
	check(lookup_wait("loss.rx", &rx) == 0, "look up", 0);
	if (who == 'v') {                       /* the victim: two waiting receives, then exit */
		check(lookup_wait("loss.bye", &bye) == 0, "look up bye", 0);
		sl_thread_create(wait_recv, (void *)(long)rx);
		sl_thread_create(wait_recv, (void *)(long)rx);
		sl_sleep_ms(100);
		chan_send(bye, &m);
		sl_exit(0);
	}
	sl_sleep_ms(50);                        /* queue behind the victim's receivers */
	uint64_t next = 1;
	long bad = 0;
	int r;
	while ((r = chan_recv(rx, &m)) == 0)
		bad += msg_word(&m, 0) != next++;
	check(r == CHAN_EDISCONNECTED && next == 4 && bad == 0,
	      "all 3 messages arrived here, in order, none lost to the dying silo", (long)next - 1);
	return tap_done("chansem loss-other");
}

/* ------------------------------------------------------------ bad input */

/* Every libchan call with handles that are not handles, stale handles,
 * wrong sides, bad names and no name rights (this silo has no ns=). */
static int bad_input(void)
{
	chan_t tx, rx, h, s, own_ep = 200, empty = 300;
	chan_msg_t m = make_msg(1, 0, 0);
	chan_info_t info;
	char long_name[40];

	memset(long_name, 'x', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = 0;
	sl_ep_create(own_ep);                   /* a capability that is not chanserv's */
	check(chan_create(2, &tx, &rx) == 0 && chan_create_sync(2, &s) == 0, "create", 0);
	chan_t bad[] = { 0, empty, own_ep, 5000 };
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int e = CHAN_EBADHANDLE;
		long fails = (chan_send(bad[i], &m) != e) + (chan_try_send(bad[i], &m) != e) +
			     (chan_try_recv(bad[i], &m) != e) + (chan_clone(bad[i], &h) != e) +
			     (chan_info(bad[i], &info) != e) + (chan_receiver(bad[i], &h) != e) +
			     (chan_sender(bad[i], &h) != e) + (chan_destroy(bad[i]) != e) +
			     (chan_send_handle(bad[i], &m, s) != e) + (chan_send_handle(tx, &m, bad[i]) != e) +
			     (chan_recv(bad[i], &m) != e) + (chan_recv_handle(bad[i], &m, &h) != e) +
			     (chan_publish("n", bad[i]) != e) + (chan_close(bad[i]) != e);
		check(fails == 0, "every call on a non-handle is CHAN_EBADHANDLE", fails);
	}
	check(chan_send(rx, &m) == CHAN_EPERM && chan_try_recv(tx, &m) == CHAN_EPERM,
	      "sending on a receive handle, receiving on a send handle: CHAN_EPERM", 0);
	check(chan_receiver(rx, &h) == CHAN_EPERM && chan_sender(tx, &h) == CHAN_EPERM,
	      "the other side from the wrong side: CHAN_EPERM", 0);
	check(chan_receiver(s, &h) == CHAN_EINVAL && chan_destroy(tx) == CHAN_EINVAL,
	      "receiver of a symmetric channel, destroy of a directional one: CHAN_EINVAL", 0);
	check(chan_send_handle(tx, &m, tx) == CHAN_EINVAL, "a handle sent over itself: CHAN_EINVAL", 0);
	check(chan_publish("x", tx) == CHAN_EPERM && chan_lookup("x", &h) == CHAN_EPERM,
	      "names without ns= rights: CHAN_EPERM", 0);
	check(chan_publish("", tx) == CHAN_EINVAL && chan_publish(long_name, tx) == CHAN_EINVAL &&
	      chan_lookup(long_name, &h) == CHAN_EINVAL, "empty and 39-byte names: CHAN_EINVAL", 0);
	chan_t t2, r2;
	check(chan_create(1, &t2, &r2) == 0 && chan_send_handle(s, &m, r2) == 0 && chan_recv(s, &m) == 0 &&
	      (m.flags & CHAN_MSG_FLAG_HANDLE) && chan_send(t2, &m) == CHAN_EDISCONNECTED &&
	      chan_close(t2) == 0,
	      "a handle arriving through plain chan_recv is closed by chanserv at once", 0);
	check(chan_close(tx) == 0 && chan_send(tx, &m) == CHAN_EBADHANDLE && chan_close(tx) == CHAN_EBADHANDLE,
	      "a closed handle is stale", 0);
	check(chan_try_recv(rx, &m) == CHAN_EDISCONNECTED, "and its channel, senderless, disconnected", 0);
	check(strcmp(chan_strerror(CHAN_ENOSPC), "quota exceeded") == 0 &&
	      strcmp(chan_strerror(-99), "unknown error") == 0 && strcmp(chan_strerror(3), "unknown error") == 0,
	      "chan_strerror names codes and refuses others", 0);
	return tap_done("chansem bad-input");
}

/* ---- batches: chan_send_many / chan_recv_many ---- */

static chan_t batch_tx;

static int late_sender(void *arg)
{
	chan_msg_t m = make_msg(7, 4242, 0);

	(void)arg;
	sl_sleep_ms(50);
	return chan_send(batch_tx, &m);
}

/* Sends seq first..first+n-1 in one batch; returns how many went. */
static size_t send_seq(chan_t tx, uint64_t first, size_t n, int *status)
{
	chan_msg_t m[CHAN_BATCH_MAX];
	size_t sent = 0;

	for (size_t i = 0; i < n; i++)
		m[i] = make_msg(3, first + i, ~(first + i));
	*status = chan_send_many(tx, m, n, &sent);
	return sent;
}

/* Receives a batch; counts messages out of order or unstamped. */
static size_t recv_seq(chan_t rx, uint64_t first, size_t max, int *status, long *bad)
{
	chan_msg_t m[CHAN_BATCH_MAX];
	size_t got = 0;

	*status = chan_recv_many(rx, m, max, &got);
	for (size_t i = 0; i < got; i++)
		*bad += msg_word(&m[i], 0) != first + i || msg_word(&m[i], 1) != ~(first + i) ||
			m[i].sender != (uint64_t)sl_silo_id() || m[i].type != 3;
	return got;
}

/*
 * CS_OP_RECV_MANY by hand, naming a buffer of `words` words at buf (RBP)
 * and asking for up to max: returns the answer's label (or the kernel's
 * error), *flags the tag's SL_TAG_BUFFER.
 */
static __attribute__((noinline)) long raw_recv_many(chan_t h, uint64_t max, unsigned words, uint64_t *buf,
						   uint64_t *flags)
{
	uint64_t w[SL_MSG_WORDS] = { max }, tag = SL_TAG(CS_OP_RECV_MANY, 1, 0), badge;
	uint64_t spec = SL_SPEC_WITH_BUFFER(0ull, words);
	long rax = sl_ipc_words(SL_SYS_CALL, h, &tag, &spec, &badge, w, w, buf);

	*flags = tag & SL_TAG_BUFFER;
	return rax < 0 ? rax : (long)(int)SL_TAG_LABEL(tag);
}

static int batch(void)
{
	chan_t tx, rx, tx8, rx8;
	chan_msg_t m[CHAN_BATCH_MAX + 1];
	size_t n = 99;
	long bad = 0;
	int st = 0, code;
	size_t k;

	check(chan_create(64, &tx, &rx) == 0 && chan_create(8, &tx8, &rx8) == 0, "create", 0);
	check(chan_send_many(tx, m, 0, &n) == CHAN_EINVAL && n == 0 &&
	      chan_send_many(tx, m, CHAN_BATCH_MAX + 1, &n) == CHAN_EINVAL &&
	      chan_send_many(tx, NULL, 1, &n) == CHAN_EINVAL && chan_send_many(tx, m, 1, NULL) == CHAN_EINVAL,
	      "send_many: n = 0, n > 64, NULL messages, NULL count: CHAN_EINVAL", 0);
	check(chan_recv_many(rx, m, 0, &n) == CHAN_EINVAL && chan_recv_many(rx, m, 65, &n) == CHAN_EINVAL &&
	      chan_recv_many(rx, NULL, 1, &n) == CHAN_EINVAL && chan_recv_many(rx, m, 1, NULL) == CHAN_EINVAL,
	      "recv_many: max = 0, max > 64, NULL messages, NULL count: CHAN_EINVAL", 0);
	check(chan_send_many(300, m, 1, &n) == CHAN_EBADHANDLE && chan_recv_many(0, m, 1, &n) == CHAN_EBADHANDLE,
	      "batches on non-handles: CHAN_EBADHANDLE", 0);
	check(chan_send_many(rx, m, 1, &n) == CHAN_EPERM && chan_recv_many(tx, m, 1, &n) == CHAN_EPERM,
	      "batches on the wrong side: CHAN_EPERM", 0);
	check(chan_try_recv(rx, m) == CHAN_EWOULDBLOCK, "nothing was sent by the refused calls", 0);

	k = send_seq(tx, 100, 64, &st);
	check(k == 64 && st == 0, "64 messages in one batch", (long)k);
	k = recv_seq(rx, 100, 64, &st, &bad);
	check(k == 64 && st == 0 && bad == 0, "64 back in one batch, in order, each stamped with the sender",
	      (long)k);
	check(send_seq(tx, 200, 5, &st) == 5 && recv_seq(rx, 200, 2, &st, &bad) == 2 &&
	      recv_seq(rx, 202, 64, &st, &bad) == 3 && bad == 0, "a batch drained in parts (2, then 3)", bad);
	k = send_seq(tx8, 300, 20, &st);
	check(k == 8 && st == 0, "capacity 8: a batch of 20 sends 8", (long)k);
	check(recv_seq(rx8, 300, 64, &st, &bad) == 8 && bad == 0 && chan_try_recv(rx8, m) == CHAN_EWOULDBLOCK,
	      "and exactly those 8 arrive", bad);
	m[0] = make_msg(3, 400, ~400ull);
	check(chan_send(tx, &m[0]) == 0 && recv_seq(rx, 400, 64, &st, &bad) == 1 && bad == 0,
	      "a plain send, received by a batch", bad);

	/* An answer that does not fit the caller's buffer is refused by the
	 * kernel; chanserv puts the messages back and says CHAN_EINVAL. */
	static uint64_t small[1 + 2 * SL_MSG_WORDS];
	uint64_t flags = 0;
	k = send_seq(tx, 600, 6, &st);
	long r = raw_recv_many(rx, 6, 1 + 2 * SL_MSG_WORDS, small, &flags);
	check(k == 6 && r == CHAN_EINVAL && !flags, "a buffer too small for the answer: CHAN_EINVAL", r);
	k = recv_seq(rx, 600, 64, &st, &bad);
	check(k == 6 && bad == 0, "and none of the 6 messages is lost, nor out of order", (long)k);

	batch_tx = tx;
	int tid = sl_thread_create(late_sender, NULL);
	check(chan_recv_many(rx, m, 64, &n) == 0 && n == 1 && msg_word(&m[0], 0) == 4242,
	      "an empty channel: recv_many waits for a message", (long)n);
	sl_thread_join(tid, &code);

	k = send_seq(tx, 500, 3, &st);
	check(k == 3 && chan_close(tx) == 0, "3 sent, then the sender closed", (long)k);
	k = recv_seq(rx, 500, 64, &st, &bad);
	check(k == 3 && st == 0 && bad == 0, "the 3 arrive", (long)k);
	n = 99;
	check(chan_recv_many(rx, m, 64, &n) == CHAN_EDISCONNECTED && n == 0,
	      "then CHAN_EDISCONNECTED, nothing received", (long)n);
	n = 99;
	check(chan_close(rx8) == 0 && chan_send_many(tx8, m, 4, &n) == CHAN_EDISCONNECTED && n == 0,
	      "a batch to a channel with no receiver left: CHAN_EDISCONNECTED, none sent", (long)n);
	return tap_done("chansem batch");
}

int main(int argc, char **argv)
{
	const char *r = argc > 1 ? argv[1] : "";

	if (!strcmp(r, "dc-a")) return dc_a();
	if (!strcmp(r, "dc-b")) return dc_b();
	if (!strcmp(r, "ds-owner")) return ds_owner();
	if (!strcmp(r, "ds-send")) return run_blocked("ds.full", blocked_send, true);
	if (!strcmp(r, "ds-recv")) return run_blocked("ds.empty", blocked_recv, false);
	if (!strcmp(r, "relay-a")) return relay('a');
	if (!strcmp(r, "relay-b")) return relay('b');
	if (!strcmp(r, "relay-c")) return relay('c');
	if (!strcmp(r, "kill-victim")) return kill_victim();
	if (!strcmp(r, "kill-peer")) return kill_peer();
	if (!strcmp(r, "quota")) return quota();
	if (!strcmp(r, "bad-input")) return bad_input();
	if (!strcmp(r, "batch")) return batch();
	if (!strcmp(r, "loss-source")) return lossless('s');
	if (!strcmp(r, "loss-victim")) return lossless('v');
	if (!strcmp(r, "loss-other")) return lossless('o');
	if (!strcmp(r, "pingpong-a")) return pingpong('a', argc > 2 ? strtol_simple(argv[2]) : 1000);
	if (!strcmp(r, "pingpong-b")) return pingpong('b', argc > 2 ? strtol_simple(argv[2]) : 1000);
	printf("chansem: unknown role '%s'\n", r);
	return 2;
}
