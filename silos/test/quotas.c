/*
 * quotas MODE: a silo that runs into its own quotas; each limit must be
 * SL_EQUOTA on the call that needed it, change nothing, and come back
 * when the silo frees what it holds. Prints TAP lines; exits 0 when every
 * check passed. Run it beside a silo that must not notice.
 *
 *   kmem  (with threads=5 kmem=196608) threads= stops the 6th thread; then
 *         kernel memory filled with notifications: endpoint create,
 *         thread create, a capability copy into a fresh cspace chunk and
 *         a call (its reply object) are SL_EQUOTA
 *   mem   (with mem=N small) threads until the user stacks use up mem=
 */
#include <sys/ipc.h>
#include <sys/sluice.h>

#define EP 11
#define FIRST 12                /* notifications fill slots FIRST.. */
#define TOUCHED 1024            /* slots below this have their chunks made */
#define FRESH 2000              /* a slot in a chunk never made */
#define REPLY (TOUCHED - 3)     /* where received calls' reply capabilities go */
#define CALLERS 3

static int count, failed;

static void check(long got, long want, const char *what)
{
	count++;
	failed += got != want;
	printf("%s %d - %s (got %ld, want %ld)\n", got == want ? "ok" : "not ok", count, what, got, want);
}

static volatile int go[CALLERS], calling[CALLERS];
static volatile long result[CALLERS] = { 1, 1, 1 };

static int caller(void *arg)
{
	int i = (int)(long)arg;
	sl_msg_t m = { .tag = SL_TAG(1, 0, 0) };

	while (!go[i])
		sl_sleep_ms(2);
	calling[i] = 1;
	result[i] = sl_call(EP, &m);
	return 0;
}

static int nothing(void *arg)
{
	(void)arg;
	return 0;
}

/* threads=5: main, three callers and one more; the next is SL_EQUOTA. */
static void thread_quota(int tids[CALLERS])
{
	int code = -1, made = 0;

	for (long i = 0; i < CALLERS; i++)
		made += (tids[i] = sl_thread_create(caller, (void *)i)) > 0;
	check(made, CALLERS, "three caller threads");
	int t = sl_thread_create(nothing, 0);
	check(sl_thread_create(nothing, 0), SL_EQUOTA, "a 6th thread is past threads=5");
	check(t > 0 && sl_thread_join(t, &code) == 0 && code == 0, 1, "  ... the 5th ran and joined");
}

/* Makes every chunk below TOUCHED, so filling only charges objects. */
static void touch_chunks(void)
{
	int ok = 0;

	for (sl_slot_t s = 64; s < TOUCHED; s += 64)
		ok += sl_ntfn_create(s) == 0 && sl_cap_delete(s) == 0;
	check(ok, TOUCHED / 64 - 1, "cspace chunks below slot 1024 made");
}

/* Notifications (128 bytes) until the quota says no: under 128 bytes left. */
static int fill(void)
{
	int made = 0;
	long r = 0;

	for (sl_slot_t s = FIRST; s < TOUCHED && (s % 64 == 0 || (r = sl_ntfn_create(s)) == 0); s++)
		made += s % 64 != 0;
	check(r, SL_EQUOTA, "notifications until the kmem quota is used up");
	printf("# %d notifications filled the quota\n", made);
	return made;
}

static void unfill(int made)
{
	int freed = 0;

	for (sl_slot_t s = FIRST; freed < made && s < TOUCHED; s++)
		freed += s % 64 != 0 && sl_cap_delete(s) == 0;
	check(freed, made, "delete every notification");
}

/* Three calls with nobody receiving: a queued call holds its reply
 * object (48 bytes), so with under 128 bytes left at most two can wait
 * and at least one is refused, whatever order the callers run in. */
static void calls_past_quota(int tids[CALLERS])
{
	sl_msg_t m = { .spec = SL_SPEC(0, REPLY, 0, 0) };
	int code, answered = 0, refused = 0, done = 0, pending = CALLERS;

	for (int i = 0; i < CALLERS; i++) {
		go[i] = 1;
		while (!calling[i])
			sl_sleep_ms(1);
		sl_sleep_ms(20);
	}
	for (int i = 0; i < CALLERS; i++)
		refused += result[i] == SL_EQUOTA;
	check(refused >= 1, 1, "a call whose reply object is past the quota is SL_EQUOTA");
	for (int k = 0; k < 500 && pending; k++) {
		while (sl_nbrecv(EP, &m) == 0) {
			sl_msg_t a = { .tag = SL_TAG(0, 0, 0) };
			answered += sl_reply(REPLY, &a) == 0;
			m.spec = SL_SPEC(0, REPLY, 0, 0);
		}
		pending = 0;
		for (int i = 0; i < CALLERS; i++)
			pending += result[i] == 1;
		sl_sleep_ms(2);
	}
	for (int i = 0; i < CALLERS; i++) {
		sl_thread_join(tids[i], &code);
		done += result[i] == 0;
	}
	check(answered == CALLERS - refused && done == answered, 1,
	      "  ... the others waited for and got their answers");
}

static int kmem_mode(void)
{
	int tids[CALLERS], code;

	check(sl_ep_create(EP), 0, "an endpoint to call");
	thread_quota(tids);
	touch_chunks();
	int made = fill();
	check(sl_ep_create(TOUCHED - 1), SL_EQUOTA, "endpoint create past kmem=");
	check(sl_thread_create(nothing, 0), SL_EQUOTA, "thread create past kmem=");
	check(sl_cap_copy(EP, FRESH), SL_EQUOTA, "a copy into a fresh cspace chunk past kmem=");
	check(sl_cap_copy(EP, TOUCHED - 2), 0, "  ... into a made chunk it works");
	check(sl_cap_delete(TOUCHED - 2), 0, "  ... and goes");
	calls_past_quota(tids);
	unfill(made);
	check(sl_cap_copy(EP, FRESH), 0, "then a fresh chunk can be made");
	int t = sl_thread_create(nothing, 0);
	check(t > 0 && sl_thread_join(t, &code) == 0, 1, "  ... and a thread");
	return 0;
}

/* Threads until the quota stops them: with a small mem= that is the user
 * stacks (16 pages each), long before threads= (72) or kmem= (2 MiB). */
static int mem_mode(void)
{
	static int tids[SL_THREADS_MAX];
	int made = 0, joined = 0, code;
	long r = 0;

	while (made < SL_THREADS_MAX && (r = sl_thread_create(nothing, 0)) > 0)
		tids[made++] = (int)r;
	check(r, SL_EQUOTA, "thread create past mem= (its stack)");
	check(made > 0 && made < 20, 1, "  ... after a few threads");
	printf("# %d threads fitted\n", made);
	for (int i = 0; i < made; i++)
		joined += sl_thread_join(tids[i], &code) == 0;
	check(joined, made, "join them");
	r = sl_thread_create(nothing, 0);
	check(r > 0 && sl_thread_join((int)r, &code) == 0, 1, "and the stack pages are back");
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	printf("TAP version 13\n");
	if (!strcmp(mode, "kmem"))
		kmem_mode();
	else if (!strcmp(mode, "mem"))
		mem_mode();
	else
		check(0, 1, "a known mode");
	printf("1..%d\nquotas %s: %d of %d checks failed\n", count, mode, failed, count);
	return failed ? 1 : 0;
}
