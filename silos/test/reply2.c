/*
 * reply2 MODE: SL_SYS_REPLY2_RECV, the reply_recv that first answers a
 * second caller with a label alone. Booted as three modules:
 *
 *   server   the first module (SL_SLOT_SERVER is its endpoint): gathers
 *            the clients' calls in pairs and answers each pair with one
 *            reply2_recv (once with no second answer); before the first,
 *            tries every bad argument and checks that nothing happened;
 *            at the end answers the victim's call, whose caller is dead
 *            by then, as a second answer. Prints TAP lines.
 *   client   two threads x R2_ROUNDS calls, every answer checked (either
 *            the label alone or the full one), then one last call
 *   victim   one call left parked in the server, then the silo faults
 */
#include <sys/ipc.h>
#include <sys/sluice.h>

#define SRV SL_SLOT_SERVER
#define R2_ROUNDS 500
#define R2_CALL 1
#define R2_VICTIM 2
#define R2_LAST 3
#define R2_FIN 4
#define R2_SECOND 7000                  /* + n: the label of the n-th second answer */

#define SLOT_A 20                       /* where each call's reply capability lands */
#define SLOT_B 21                       /* the call waiting for a partner */
#define SLOT_VICTIM 22
#define SLOT_EMPTY 50

static int count, failed;

static void check(bool ok, const char *what, long got)
{
	count++;
	failed += !ok;
	printf("%s %d - %s (got %ld)\n", ok ? "ok" : "not ok", count, what, got);
}

static bool is_reply_cap(unsigned slot)
{
	sl_cap_info_t info;

	return sl_cap_identify(slot, &info) == 0 && info.type == SL_CAP_REPLY;
}

/* ------------------------------------------------------------------ client */

static volatile long c_bad[2], c_second[2];

static int client_thread(void *arg)
{
	long me = (long)arg;

	for (long i = 0; i < R2_ROUNDS; i++) {
		uint64_t w = (uint64_t)me << 32 | (uint64_t)i;
		sl_msg_t m = { .tag = SL_TAG(R2_CALL, 1, 0), .w = { w } };
		long r = sl_call(SRV, &m);
		bool second = SL_TAG_LABEL(m.tag) >= R2_SECOND && SL_TAG_LEN(m.tag) == 0;
		bool full = SL_TAG_LABEL(m.tag) == R2_CALL && SL_TAG_LEN(m.tag) == 1 && m.w[0] == w + 1;

		c_bad[me] += r != 0 || !(second || full) || SL_TAG_NCAPS(m.tag) != 0;
		c_second[me] += second;
	}
	return 0;
}

static int client(void)
{
	int tids[2], code, bad = 0;

	for (long i = 0; i < 2; i++)
		tids[i] = sl_thread_create(client_thread, (void *)i);
	for (int i = 0; i < 2; i++)
		bad += tids[i] < 0 || sl_thread_join(tids[i], &code) < 0 || code != 0;
	check(bad == 0 && c_bad[0] == 0 && c_bad[1] == 0,
	      "2 threads x 500 calls: each answered once, with the label alone or in full",
	      c_bad[0] + c_bad[1] + bad);
	check(c_second[0] + c_second[1] == R2_ROUNDS, "one of each pair came as a second answer",
	      c_second[0] + c_second[1]);
	sl_msg_t m = { .tag = SL_TAG(R2_LAST, 1, 0), .w = { c_second[0] + c_second[1] } };
	long r = sl_call(SRV, &m);
	check(r == 0 && SL_TAG_LABEL(m.tag) == R2_LAST, "the last call, answered after the victim's", r);
	m = (sl_msg_t){ .tag = SL_TAG(R2_FIN, 0, 0) };
	r = sl_call(SRV, &m);
	check(r == 0 && SL_TAG_LABEL(m.tag) == R2_FIN && SL_TAG_LEN(m.tag) == 1 && m.w[0] == 0,
	      "the server saw it all (answered by a reply2_recv with no second answer)", r);
	printf("reply2 client: %d of %d checks failed\n", failed, count);
	return failed ? 1 : 0;
}

/* ------------------------------------------------------------------ victim */

static int victim_call(void *arg)
{
	(void)arg;
	sl_msg_t m = { .tag = SL_TAG(R2_VICTIM, 0, 0) };

	sl_call(SRV, &m);               /* parked until the silo dies */
	return 0;
}

static volatile int *volatile low_address = (int *)0x10;

static int victim(void)
{
	sl_thread_create(victim_call, NULL);
	sl_sleep_ms(200);
	printf("reply2 victim: faulting with a call parked in the server\n");
	*low_address = 1;
	return 0;
}

/* ------------------------------------------------------------------ server */

static long reply2(unsigned ep, unsigned second, uint32_t label, sl_msg_t *m)
{
	return sl_reply2_recv(ep, second, label, m);
}

/* A full answer to the call in SLOT_A (its word plus one), for a pair. */
static sl_msg_t answer_a(uint64_t w)
{
	return (sl_msg_t){ .tag = SL_TAG(R2_CALL, 1, 0), .w = { w + 1 },
			   .spec = SL_SPEC(SLOT_A, SLOT_A, 0, 0) };
}

/* Every bad argument, with a pair waiting in SLOT_A and SLOT_B: each is
 * refused and both callers still wait. */
static void bad_arguments(uint64_t w)
{
	sl_msg_t m = answer_a(w);
	long r[6];

	r[0] = reply2(SRV, SLOT_A, 1, &m);
	m = answer_a(w);
	r[1] = reply2(SRV, SLOT_EMPTY, 1, &m);
	m = answer_a(w);
	r[2] = reply2(SRV, SRV, 1, &m);
	m = answer_a(w);
	r[3] = reply2(SRV, 0xffff, 1, &m);
	m = answer_a(w);
	r[4] = reply2(SLOT_EMPTY, SLOT_B, 1, &m);
	m = answer_a(w);
	m.tag = SL_TAG(R2_CALL, 9, 0);
	r[5] = reply2(SRV, SLOT_B, 1, &m);
	check(r[0] == SL_EINVAL, "the second answer in the slot the first uses: SL_EINVAL", r[0]);
	check(r[1] == SL_ECAP, "an empty slot as the second: SL_ECAP", r[1]);
	check(r[2] == SL_ECAP, "an endpoint as the second: SL_ECAP", r[2]);
	check(r[3] == SL_EINVAL, "a slot past the cspace as the second: SL_EINVAL", r[3]);
	check(r[4] == SL_ECAP, "an empty slot as the endpoint: SL_ECAP", r[4]);
	check(r[5] == SL_EINVAL, "a first answer of length 9: SL_EINVAL", r[5]);
	check(is_reply_cap(SLOT_A) && is_reply_cap(SLOT_B), "after all of them both calls still wait", 0);
}

/* Serves until the client's last call has been answered after the
 * victim's (dead) one. */
static int server(void)
{
	sl_msg_t m = { .spec = SL_SPEC(0, SLOT_A, 0, 0) };
	bool pending = false, victim_parked = false, victim_dead = false, checked = false;
	long seconds = 0, pairs = 0, r, last_w = -1;

	sl_events_bind(SL_SLOT_SILO_EVENTS, SRV);
	r = sl_recv(SRV, &m);
	for (;;) {
		if (r < 0) {
			check(false, "the server's receive", r);
			break;
		}
		uint64_t w = m.w[0];
		if (m.badge == SL_BADGE_KERNEL) {
			victim_dead = true;
		} else if (SL_TAG_LABEL(m.tag) == R2_VICTIM) {
			victim_parked = sl_cap_move(SLOT_A, SLOT_VICTIM) == 0;
		} else if (SL_TAG_LABEL(m.tag) == R2_LAST) {
			sl_cap_move(SLOT_A, SLOT_B);
			last_w = (long)w;
		} else if (SL_TAG_LABEL(m.tag) == R2_FIN) {
			check((m.tag & SL_TAG_REPLY2_DEAD) != 0,
			      "the dead victim's second answer: SL_TAG_REPLY2_DEAD with the next message", (long)m.tag);
			check(!is_reply_cap(SLOT_VICTIM), "and its capability was used up", 0);
			check(last_w == seconds, "the client counted every second answer", last_w);
			check(pairs == R2_ROUNDS, "pairs answered with one system call each", pairs);
			printf("reply2 server: %d of %d checks failed\n", failed, count);
			/* No second answer (slot 0): a plain reply_recv. Then wait
			 * until shutdown stops the server. */
			m = (sl_msg_t){ .tag = SL_TAG(R2_FIN, 1, 0), .spec = SL_SPEC(SLOT_A, SLOT_A, 0, 0) };
			for (;;) {
				reply2(SRV, 0, 0, &m);
				m = (sl_msg_t){ .spec = SL_SPEC(0, SLOT_A, 0, 0) };
			}
		} else if (!pending) {
			sl_cap_move(SLOT_A, SLOT_B);
			pending = true;
		} else {
			if (!checked) {
				bad_arguments(w);
				checked = true;
			}
			m = answer_a(w);
			r = reply2(SRV, SLOT_B, R2_SECOND + (uint32_t)seconds, &m);
			pairs++;
			seconds++;
			pending = false;
			continue;
		}
		if (last_w >= 0 && victim_parked && victim_dead) {
			/* The client's last call waits in SLOT_B: answer the dead
			 * victim as the second answer, the last call in full. */
			sl_cap_move(SLOT_B, SLOT_A);
			m = (sl_msg_t){ .tag = SL_TAG(R2_LAST, 0, 0), .spec = SL_SPEC(SLOT_A, SLOT_A, 0, 0) };
			r = reply2(SRV, SLOT_VICTIM, 1, &m);
			victim_parked = false;
			continue;
		}
		m = (sl_msg_t){ .spec = SL_SPEC(0, SLOT_A, 0, 0) };
		r = sl_recv(SRV, &m);
	}
	printf("reply2 server: %d of %d checks failed\n", failed, count);
	return 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	printf("TAP version 13\n# reply2 %s\n", mode);
	if (!strcmp(mode, "server"))
		return server();
	if (!strcmp(mode, "client"))
		return client();
	if (!strcmp(mode, "victim"))
		return victim();
	printf("reply2: unknown mode '%s'\n", mode);
	return 2;
}
