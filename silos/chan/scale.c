/*
 * chanscale: chanserv with many channels, handles, silos and waiting
 * receivers.
 *
 *   many N      holds N symmetric channels open at once, moves a checked
 *               message through every one, closes them (needs quotas and
 *               a cspace of N + 64 from its module arguments)
 *   hold N      holds N channels open at once with a cspace of a few slots:
 *               each gets a checked message, then its only handle rides in
 *               one of a few parking channels (charged to this silo while
 *               in flight); then every handle is taken back, its message
 *               checked, and it is closed
 *   high        in a cspace of 4,300 slots (module argument cspace=4300):
 *               handles past slot 4095, which a message cannot name, come
 *               and go through libchan's landing pads; one that cannot be
 *               moved up (kmem= full) stays in its pad; every slot is
 *               used once and none is lost
 *   churn K     K rounds of: create, publish under its own name, look it
 *               up, send and receive 8 checked messages, close everything
 *   starve      with chanserv on a small mem=: creates channels until
 *               chanserv cannot map a page (CHAN_ENOMEM), checks they
 *               work, that closing one lets the next create succeed
 *
 * The benchmark (under -icount shift=0; ./sluice bench):
 *   a F         measures chan_create + 2 chan_close, chan_send + chan_recv
 *               and a ping-pong round trip with about 1, 100, 1,000 and
 *               10,000 channels open, then with 0, 16 and 64 receivers
 *               waiting in chan_recv on other channels; F filler silos
 *               hold the channels
 *   fill I      filler I: holds as many channels as it is told
 *   echo        answers every ping
 *   wait        parks as many threads in chan_recv as it is told
 */
#include "common.h"

#include <stdlib.h>

#define ITER 200      /* timed repetitions per figure */
#define FILL_MAX 4000 /* channels one filler holds */
#define STOP 0xffffffffu
#define WAITERS_MAX 64
#define STARVE_MAX 4000 /* channels starve tries before giving up */

/* ------------------------------------------------------------ many, churn */

static uint64_t mix(uint64_t i)
{
	return (i + 1) * 0x9e3779b97f4a7c15ull ^ 0x5eed;
}

static int many(long n)
{
	chan_t *many_h = n > 0 && n <= SL_CSPACE_MAX ? calloc((size_t)n, sizeof *many_h) : NULL;
	chan_msg_t m;
	long made = 0, bad = 0;
	int r = 0;

	if (!many_h)
		return 2;
	for (; made < n; made++)
		if ((r = chan_create_sync(1, &many_h[made])) != 0)
			break;
	check(made == n, "holds every channel open at once", made);
	if (made < n)
		printf("chanscale many: create %ld: %s\n", made, chan_strerror(r));
	for (long i = 0; i < made; i++) {
		m = make_msg(7, (uint64_t)i, mix((uint64_t)i));
		bad += chan_try_send(many_h[i], &m) != 0;
	}
	check(bad == 0, "a message into every channel", bad);
	for (long i = made - 1; i >= 0; i--) {
		bool ok = chan_try_recv(many_h[i], &m) == 0 && m.type == 7 &&
			m.sender == (uint64_t)sl_silo_id() && msg_word(&m, 0) == (uint64_t)i &&
			msg_word(&m, 1) == mix((uint64_t)i);
		bad += !ok;
	}
	check(bad == 0, "every message back, checked", bad);
	for (long i = 0; i < made; i++)
		bad += chan_close(many_h[i]) != 0;
	check(bad == 0, "every channel closed", bad);
	free(many_h);
	printf("chanscale many: %ld channels open at once\n", made);
	return tap_done("chanscale many");
}

/* ------------------------------------------------------------------ high */

#define HIGH_CSPACE 4300        /* the scenario's cspace=N */
#define HIGH_LOW_END 4032       /* libchan: slots 64..4031, pads 4032..4095 */
#define HIGH_HANDLES (HIGH_LOW_END - 64 + HIGH_CSPACE - 4096)
#define EP_FIRST 8              /* program slots 8..63 hold kmem eaters */
#define EP_END 64

static chan_t high_h[HIGH_HANDLES + 1];
static int high_n;

/* Creates symmetric channels until one lands in slot `last` (or fails). */
static int high_fill_to(chan_t last)
{
	int r;

	while ((r = chan_create_sync(1, &high_h[high_n])) == 0 && high_h[high_n++] != last)
		if (high_n > HIGH_HANDLES)
			return CHAN_EIPC;       /* more handles than slots */
	return r;
}

/* A handle in a slot past 4095 goes out in a message and comes back. */
static void high_carry(void)
{
	chan_t tx, rx, h2 = 0, h = high_h[high_n - 1];
	chan_msg_t m = make_msg(5, 55, 0), got;

	check(chan_create(4, &tx, &rx) == 0 && tx > 4096 && rx > 4096, "a pair of handles past slot 4095", rx);
	check(chan_try_send(h, &m) == 0, "a message into the channel of slot 4096", h);
	m = make_msg(6, 66, 0);
	check(chan_send_handle(tx, &m, h) == 0, "slot 4096's handle sent through a landing pad", 0);
	check(chan_info(h, &(chan_info_t){ 0 }) == CHAN_EBADHANDLE, "  ... and gone from slot 4096", h);
	check(chan_recv_handle(rx, &got, &h2) == 0 && h2 >= 4096 && msg_word(&got, 0) == 66,
	      "it comes back into a slot past 4095", h2);
	check(chan_try_recv(h2, &got) == 0 && msg_word(&got, 0) == 55, "  ... with its message", h2);
	high_h[high_n - 1] = h2;
	check(chan_close(tx) == 0 && chan_close(rx) == 0, "the pair closed", 0);
}

/* Leaves between 256 and 511 bytes of kmem=: enough for a call's reply
 * object, not for a page of cspace slots. Endpoints in slots 8..47 come
 * back later; page tables (one page mapped every 2 MiB) eat the rest. */
static int high_starve(void)
{
	uintptr_t base = SL_MEM_REGION_BASE + (64ull << 30);
	int e = EP_FIRST, r;

	for (; e < EP_FIRST + 40; e++)
		if (sl_ep_create((sl_slot_t)e) != 0)
			return -1;
	for (uint64_t i = 0; i < 512; i++) {
		void *a = (void *)(base + (i << 21));
		if ((r = sl_mem_map(&a, 1, SL_MEM_FIXED)) == SL_EQUOTA && i > 0)
			break;
		if (r != 0)
			return -1;
	}
	while (e < EP_END && sl_ep_create((sl_slot_t)e) == 0)
		e++;
	if (e == EP_END)
		return -1;
	sl_cap_delete((sl_slot_t)--e);
	return e;
}

static int high(void)
{
	chan_t p = 0, q = 0;
	chan_msg_t m = make_msg(3, 33, 0);
	int eps, bad = 0;

	check(high_fill_to(4096) == 0 && high_n == HIGH_LOW_END - 64 + 1, "slots 64..4031, then 4096", high_n);
	high_carry();
	check(high_fill_to(4287) == 0, "slots up to 4287 (every page of slots made but the last)", high_n);
	eps = high_starve();
	check(eps > 0, "kmem= full but for a few hundred bytes", eps);
	check(chan_create_sync(1, &p) == 0 && p >= HIGH_LOW_END && p < 4096,
	      "a handle that cannot be moved up stays in its landing pad", p);
	check(chan_try_send(p, &m) == 0 && chan_try_recv(p, &m) == 0 && msg_word(&m, 0) == 33,
	      "  ... and works there", p);
	for (int e = EP_FIRST; e < eps; e++)
		sl_cap_delete((sl_slot_t)e);
	check(chan_close(p) == 0 && chan_create_sync(1, &q) == 0 && q == 4288,
	      "with kmem back, the next handle lands past 4095 again", q);
	high_h[high_n++] = q;
	check(high_fill_to(0) == CHAN_ENOSPC && high_n == HIGH_HANDLES,
	      "every slot used once, then CHAN_ENOSPC", high_n);
	for (int i = 0; i < high_n; i++)
		bad += chan_close(high_h[i]) != 0;
	check(bad == 0, "every channel closed", bad);
	return tap_done("chanscale high");
}

#define PARK_CAP CHAN_CAPACITY_MAX

static int hold(long n)
{
	long nparks = (n + PARK_CAP - 1) / PARK_CAP, made = 0, bad = 0;
	chan_t park_tx[64], park_rx[64], h;
	chan_msg_t m;
	int r = 0;

	if (nparks > 64)
		return 2;
	for (long p = 0; p < nparks; p++)
		bad += chan_create(PARK_CAP, &park_tx[p], &park_rx[p]) != 0;
	for (; made < n; made++) {
		m = make_msg(9, (uint64_t)made, mix((uint64_t)made));
		if ((r = chan_create_sync(1, &h)) != 0 || (r = chan_send(h, &m)) != 0)
			break;
		m = make_msg(8, (uint64_t)made, 0);
		if ((r = chan_send_handle(park_tx[made / PARK_CAP], &m, h)) != 0)
			break;
	}
	check(bad == 0 && made == n, "holds every channel open at once, a message in each", made);
	if (made < n)
		printf("chanscale hold: channel %ld: %s\n", made, chan_strerror(r));
	printf("chanscale hold: %ld channels open at once\n", made + nparks);
	for (long i = 0; i < made; i++) {
		bool ok = chan_recv_handle(park_rx[i / PARK_CAP], &m, &h) == 0 && h != 0 &&
			m.type == 8 && msg_word(&m, 0) == (uint64_t)i;
		ok = ok && chan_try_recv(h, &m) == 0 && m.type == 9 &&
			m.sender == (uint64_t)sl_silo_id() && msg_word(&m, 0) == (uint64_t)i &&
			msg_word(&m, 1) == mix((uint64_t)i);
		bad += !ok;
		bad += h && chan_close(h) != 0;
	}
	check(bad == 0, "every handle back, every message checked, every channel closed", bad);
	for (long p = 0; p < nparks; p++)
		bad += chan_close(park_tx[p]) + chan_close(park_rx[p]) != 0;
	check(bad == 0, "parking channels closed", bad);
	return tap_done("chanscale hold");
}

/* Blocks only on channels of its own (never on another silo). */
static int churn(long rounds)
{
	char name[24];
	long bad = 0;

	snprintf(name, sizeof name, "churn.%d", sl_silo_id());
	for (long k = 0; k < rounds; k++) {
		chan_t tx, rx, rx2;
		chan_msg_t m;
		int r = chan_create(4, &tx, &rx);

		if (r != 0) {
			bad++;
			printf("chanscale churn: create: %s\n", chan_strerror(r));
			continue;
		}
		bad += chan_publish(name, rx) != 0;
		bad += chan_lookup(name, &rx2) != 0;
		for (uint64_t i = 0; i < 8; i++) {
			m = make_msg(3, i, mix(i + (uint64_t)k));
			bad += chan_send(tx, &m) != 0;
			bad += chan_recv(i % 2 ? rx : rx2, &m) != 0 || msg_word(&m, 0) != i ||
				msg_word(&m, 1) != mix(i + (uint64_t)k);
		}
		bad += chan_close(tx) != 0;
		bad += chan_recv(rx2, &m) != CHAN_EDISCONNECTED;
		bad += chan_close(rx) != 0;
		bad += chan_close(rx2) != 0;
	}
	check(bad == 0, "rounds of create, publish, look up, send, receive, close", bad);
	return tap_done("chanscale churn");
}

/* --------------------------------------------------------------- the bench */

/* A command: word 0 the target count. */
static chan_msg_t cmd(uint64_t n)
{
	return make_msg(1, n, 0);
}

static long fill_n; /* fillers */
static chan_t fill_tx[8], ack_rx, wait_tx, ab_tx, ba_rx, own_tx, own_rx;

/* Every filler holds its share of `open` channels (beside ours).
 * Blocks until every filler has acknowledged. */
static void fill_to(long open, long base)
{
	long want = open > base ? open - base : 0;
	chan_msg_t m;

	for (long i = 0; i < fill_n; i++) {
		m = cmd((uint64_t)(want / fill_n + (i < want % fill_n)));
		chan_send(fill_tx[i], &m);
	}
	for (long i = 0; i < fill_n; i++)
		chan_recv(ack_rx, &m);
}

/* The waiter parks n receivers. Blocks until it has acknowledged. */
static void wait_to(long n)
{
	chan_msg_t m = cmd((uint64_t)n);

	chan_send(wait_tx, &m);
	chan_recv(ack_rx, &m);
}

/* The three figures at the current load. Blocks in the echo's ping-pong. */
static void measure(uint64_t fig[3])
{
	chan_msg_t m = make_msg(1, 0, 0);
	chan_t t, r;

	uint64_t t0 = sl_rdtsc();
	for (int i = 0; i < ITER; i++) {
		chan_create(1, &t, &r);
		chan_close(t);
		chan_close(r);
	}
	fig[0] = (sl_rdtsc() - t0) / ITER;
	t0 = sl_rdtsc();
	for (int i = 0; i < ITER; i++) {
		chan_send(own_tx, &m);
		chan_recv(own_rx, &m);
	}
	fig[1] = (sl_rdtsc() - t0) / ITER;
	t0 = sl_rdtsc();
	for (int i = 0; i < ITER; i++) {
		chan_send(ab_tx, &m);
		chan_recv(ba_rx, &m);
	}
	fig[2] = (sl_rdtsc() - t0) / ITER;
}

static void report(const char *what, const char *cols, const long *col, int ncol, uint64_t fig[][3])
{
	static const char *const names[3] = { "chan_create + 2 chan_close", "chan_send + chan_recv",
					      "ping-pong round trip" };

	for (int f = 0; f < 3; f++) {
		uint64_t worst = 0;
		printf("chanscale: %-26s by %s:", names[f], what);
		for (int c = 0; c < ncol; c++) {
			printf(" %ld%s %llu;", col[c], cols, (unsigned long long)fig[c][f]);
			uint64_t d = fig[c][f] > fig[0][f] ? fig[c][f] - fig[0][f]
							   : fig[0][f] - fig[c][f];
			worst = d > worst ? d : worst;
		}
		printf(" widest gap %llu.%llu%% of the first\n",
		       (unsigned long long)(worst * 100 / fig[0][f]),
		       (unsigned long long)(worst * 1000 / fig[0][f] % 10));
	}
}

/* The measuring side. Blocks until its helpers are ready, and at every
 * step of the load until they have acknowledged. */
static int bench(long fillers)
{
	static const long opens[4] = { 1, 100, 1000, 10000 }, waits[3] = { 0, 16, 64 };
	uint64_t by_open[4][3], by_wait[3][3];
	chan_t rx, ab_rx, ba_tx, ack_tx, wait_rx;
	char name[16];
	chan_msg_t m;

	fill_n = fillers < 8 ? fillers : 8;
	for (long i = 0; i < fill_n; i++) {
		chan_create(4, &fill_tx[i], &rx);
		snprintf(name, sizeof name, "scale.f%ld", i);
		chan_publish(name, rx);
	}
	chan_create(16, &ack_tx, &ack_rx);
	chan_publish("scale.ack", ack_tx);
	chan_create(4, &wait_tx, &wait_rx);
	chan_publish("scale.w", wait_rx);
	chan_create(1, &ab_tx, &ab_rx);
	chan_create(1, &ba_tx, &ba_rx);
	chan_publish("scale.ab", ab_rx);
	chan_publish("scale.ba", ba_tx);
	chan_create(1, &own_tx, &own_rx);
	for (long i = 0; i < fill_n + 2; i++) /* fillers, the waiter, the echo are ready */
		chan_recv(ack_rx, &m);
	long base = fill_n + 5; /* our own channels */

	for (int c = 0; c < 4; c++) {
		fill_to(opens[c], base);
		measure(by_open[c]);
	}
	fill_to(1, base);
	for (int c = 0; c < 3; c++) {
		wait_to(waits[c]);
		measure(by_wait[c]);
	}
	wait_to(0);
	report("channels open", "", opens, 4, by_open);
	report("receivers waiting", "", waits, 3, by_wait);
	for (long i = 0; i < fill_n; i++) {
		m = cmd(STOP);
		chan_send(fill_tx[i], &m);
	}
	m = cmd(STOP);
	chan_send(wait_tx, &m);
	m = make_msg(2, 0, 0);
	chan_send(ab_tx, &m); /* the echo stops */
	printf("chanscale: done\n");
	return 0;
}

static chan_t fill_h[FILL_MAX];

/* Blocks on its command channel until told STOP. */
static int filler(long index)
{
	chan_t cmd_rx, ack;
	char name[16];
	chan_msg_t m = cmd(0);
	long n = 0, bad = 0;

	snprintf(name, sizeof name, "scale.f%ld", index);
	if (lookup_wait(name, &cmd_rx) != 0 || lookup_wait("scale.ack", &ack) != 0)
		return 1;
	chan_send(ack, &m);
	while (chan_recv(cmd_rx, &m) == 0 && msg_word(&m, 0) != STOP) {
		long want = (long)msg_word(&m, 0);
		while (n < want && n < FILL_MAX)
			bad += chan_create_sync(1, &fill_h[n++]) != 0;
		while (n > want)
			bad += chan_close(fill_h[--n]) != 0;
		chan_send(ack, &m);
	}
	while (n > 0)
		chan_close(fill_h[--n]);
	check(bad == 0, "held what it was told", bad);
	return tap_done("chanscale fill");
}

/* Blocks on its ping channel until a message of type 2. */
static int echo(void)
{
	chan_t ab, ba, ack;
	chan_msg_t m = cmd(0);

	if (lookup_wait("scale.ab", &ab) != 0 || lookup_wait("scale.ba", &ba) != 0 ||
	    lookup_wait("scale.ack", &ack) != 0)
		return 1;
	chan_send(ack, &m);
	while (chan_recv(ab, &m) == 0 && m.type == 1)
		chan_send(ba, &m);
	return 0;
}

static chan_t wait_rx[WAITERS_MAX], wait_txs[WAITERS_MAX];

/* Blocks in chan_recv until its channel gets a message. */
static int waiter_thread(void *arg)
{
	chan_msg_t m;

	return chan_recv(wait_rx[(long)arg], &m) == 0 ? 0 : 1;
}

/* Blocks on its command channel; joins the threads it releases. */
static int waiter(void)
{
	chan_t cmd_rx, ack;
	chan_msg_t m = cmd(0);
	int tids[WAITERS_MAX];
	long n = 0, bad = 0;

	if (lookup_wait("scale.w", &cmd_rx) != 0 || lookup_wait("scale.ack", &ack) != 0)
		return 1;
	for (long i = 0; i < WAITERS_MAX; i++)
		bad += chan_create(1, &wait_txs[i], &wait_rx[i]) != 0;
	chan_send(ack, &m);
	int r;
	while ((r = chan_recv(cmd_rx, &m)) == 0) {
		long want = msg_word(&m, 0) == STOP ? 0 : (long)msg_word(&m, 0);
		while (n < want && n < WAITERS_MAX) {
			tids[n] = sl_thread_create(waiter_thread, (void *)n);
			bad += tids[n] < 0;
			n++;
		}
		sl_sleep_ms(20); /* they are all in chan_recv by now */
		while (n > want) {
			int code = 1;
			n--;
			chan_send(wait_txs[n], &m);
			sl_thread_join(tids[n], &code);
			bad += code != 0;
		}
		if (msg_word(&m, 0) == STOP)
			break;
		chan_send(ack, &m);
	}
	if (r != 0)
		printf("chanscale wait: command: %s\n", chan_strerror(r));
	check(bad == 0, "parked and released its receivers", bad);
	return tap_done("chanscale wait");
}

/*
 * starve: chanserv runs on a small mem= of its own; channels of capacity
 * 1024 (19 pages of ring each) are created until chanserv cannot map
 * another page. That must be CHAN_ENOMEM, never a crash or a silent drop;
 * once one channel is closed, its memory serves the next create.
 */
static int starve(void)
{
	static chan_t tx[STARVE_MAX], rx[STARVE_MAX];
	long made = 0;
	int r = 0;

	while (made < STARVE_MAX && (r = chan_create(1024, &tx[made], &rx[made])) == 0)
		made++;
	check(r == CHAN_ENOMEM, "chanserv out of memory is CHAN_ENOMEM", r);
	check(made > 0 && made < STARVE_MAX, "  ... after a bounded number of channels", made);
	printf("chanscale starve: %ld channels of capacity 1024, then %s\n", made, chan_strerror(r));
	if (made > 0) {
		chan_msg_t m = make_msg(5, 1, 2);
		check(chan_send(tx[made - 1], &m) == 0 && chan_recv(rx[made - 1], &m) == 0 &&
			      msg_word(&m, 0) == 1, "  ... and the channels it made still work", 0);
		made--;
		check(chan_close(tx[made]) == 0 && chan_close(rx[made]) == 0, "close one", 0);
		r = chan_create(1024, &tx[made], &rx[made]);
		check(r == 0, "  ... and its memory serves the next create", r);
		made += r == 0;
	}
	long bad = 0;
	for (long i = 0; i < made; i++)
		bad += chan_close(tx[i]) != 0 || chan_close(rx[i]) != 0;
	check(bad == 0, "every channel closed", bad);
	return tap_done("chanscale starve");
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? strtol_simple(argv[2]) : 0;

	if (argc > 1 && !strcmp(argv[1], "many"))
		return many(n);
	if (argc > 1 && !strcmp(argv[1], "high"))
		return high();
	if (argc > 1 && !strcmp(argv[1], "hold"))
		return hold(n);
	if (argc > 1 && !strcmp(argv[1], "churn"))
		return churn(n);
	if (argc > 1 && !strcmp(argv[1], "a"))
		return bench(n);
	if (argc > 1 && !strcmp(argv[1], "fill"))
		return filler(n);
	if (argc > 1 && !strcmp(argv[1], "echo"))
		return echo();
	if (argc > 1 && !strcmp(argv[1], "wait"))
		return waiter();
	if (argc > 1 && !strcmp(argv[1], "starve"))
		return starve();
	return 2;
}
