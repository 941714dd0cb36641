/*
 * copyout: a call that fails writes nothing. Every call that copies out to
 * user memory (SL_SYS_CAP_IDENTIFY's info, SL_SYS_THREAD_JOIN's exit code)
 * is given a destination that runs from mapped memory into an unmapped
 * page; the mapped bytes are filled with a pattern first and must still
 * hold it after the SL_EFAULT. Prints TAP; exits 0 if all passed.
 *
 * The unmapped neighbour: a thread's user stack is the 64 KiB below a
 * page-aligned top, and the page just above the top of thread slot i > 0
 * is the guard page of slot i - 1 (never mapped). A thread started with
 * __sl_thread_start leaves the 16 bytes below its top unused, so they are
 * free to scribble on.
 */
#include <sys/ipc.h>
#include <sys/sluice.h>

#include "stacks.h"

#define PAGE 4096ul
#define PATTERN 0xa5
#define KERNEL_ADDR 0xffffffff80100000ul

static int count, failed;

static void check(int ok, const char *what, long got)
{
	count++;
	failed += !ok;
	printf("%s %d - %s (got %ld)\n", ok ? "ok" : "not ok", count, what, got);
}

static void fill(volatile uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = PATTERN;
}

static bool untouched(const volatile uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != PATTERN)
			return false;
	return true;
}

static int return_42(void *arg)
{
	(void)arg;
	return 42;
}

/* identify into [top - 16, top) shifted up by `over` bytes past the top. */
static void identify_straddling(uintptr_t top, size_t over)
{
	volatile uint8_t *mapped = (volatile uint8_t *)(top - 16);
	char what[96];

	fill(mapped, 16);
	long r = sl_cap_identify(SL_SLOT_SERVER, (sl_cap_info_t *)(top - 16 + over));
	snprintf(what, sizeof what, "identify %zu bytes past the end of a mapping is SL_EFAULT", over);
	check(r == SL_EFAULT, what, r);
	snprintf(what, sizeof what, "identify %zu bytes past the end wrote nothing", over);
	check(untouched(mapped, 16), what, (long)mapped[15]);
}

static void identify_edges(uintptr_t top)
{
	sl_cap_info_t good;

	identify_straddling(top, 8);
	identify_straddling(top, 1);
	identify_straddling(top, 15);
	/* Exactly up to the end fits: the page is writable and the address right. */
	long r = sl_cap_identify(SL_SLOT_SERVER, (sl_cap_info_t *)(top - 16));
	sl_cap_identify(SL_SLOT_SERVER, &good);
	const sl_cap_info_t *edge = (const sl_cap_info_t *)(top - 16);
	check(r == 0 && edge->type == SL_CAP_ENDPOINT && edge->badge == good.badge &&
	      edge->rights == good.rights, "identify into the last 16 bytes of the mapping works", r);
}

static void join_edges(uintptr_t top)
{
	volatile uint8_t *mapped = (volatile uint8_t *)(top - 16);
	int tid = sl_thread_create(return_42, NULL);
	long r;

	check(tid > 0, "thread_create for the join checks", tid);
	sl_sleep_ms(20);        /* let it end first: the join then has a code to write */
	for (size_t over = 1; over < sizeof(int); over++) {
		fill(mapped, 16);
		r = sl_thread_join(tid, (int *)(top - sizeof(int) + over));
		check(r == SL_EFAULT, "join with a code pointer straddling the end is SL_EFAULT", r);
		check(untouched(mapped, 16), "that join wrote nothing", (long)mapped[15]);
	}
	fill(mapped, 16);
	r = sl_thread_join(tid, (int *)KERNEL_ADDR);
	check(r == SL_EFAULT && untouched(mapped, 16), "join with a kernel pointer is SL_EFAULT", r);
	r = sl_thread_join(tid, (int *)(top - sizeof(int)));
	check(r == 0 && *(volatile int *)(top - sizeof(int)) == 42,
	      "the thread is still joinable: code 42 in the last 4 bytes of the mapping", r);
	r = sl_thread_join(tid, (int *)(top - sizeof(int)));
	check(r == SL_ESRCH, "and joined once only", r);
}

static int edge_thread(void *arg)
{
	(void)arg;
	uintptr_t top = thread_stack_top(1);

	check(top != 0, "the thread's stack top is where the layout puts it", (long)top);
	if (!top)
		return 1;
	identify_edges(top);
	join_edges(top);
	return 0;
}

/*
 * The destination goes away while the join waits: A joins X with a code
 * pointer into the stack of B, an ended thread; while A waits, main joins
 * B, which unmaps that stack; then X ends. A's join must fail with
 * SL_EFAULT and leave X joinable.
 */
static volatile uintptr_t b_top;
static volatile long a_first, a_second, a_waited;
static volatile int a_code = -1;
static int x_tid;

static int thread_b(void *arg)
{
	(void)arg;
	b_top = thread_stack_top(1);
	return 0;
}

static int thread_x(void *arg)
{
	(void)arg;
	sl_sleep_ms(200);
	return 42;
}

static int thread_a(void *arg)
{
	int code = -1;

	(void)arg;
	uint64_t t0 = sl_clock_ms();
	a_first = sl_thread_join(x_tid, (int *)(b_top - sizeof(int)));
	a_waited = (long)(sl_clock_ms() - t0);
	a_second = sl_thread_join(x_tid, &code);
	a_code = code;
	return 0;
}

static void join_target_unmapped(void)
{
	int code, b = sl_thread_create(thread_b, NULL);

	sl_sleep_ms(20);                        /* B has ended; its stack stays until joined */
	check(b > 0 && b_top != 0, "thread B ran and found its stack top", (long)b_top);
	x_tid = sl_thread_create(thread_x, NULL);
	int a = sl_thread_create(thread_a, NULL);
	sl_sleep_ms(50);                        /* A is waiting for X now */
	check(sl_thread_join(b, &code) == 0, "joining B unmaps its stack", code);
	check(a > 0 && sl_thread_join(a, &code) == 0, "A ended", code);
	check(a_first == SL_EFAULT && a_waited >= 100,
	      "a join whose code pointer was unmapped while it waited is SL_EFAULT", a_first);
	check(a_second == 0 && a_code == 42, "and X stayed joinable: code 42", a_second);
}

/*
 * A call that nobody can answer (the receiver named no reply slot) fails
 * whole: SL_EDEAD, the message not delivered, the capability it carried
 * still the caller's; the receiver goes on waiting for a message it can
 * take. Both ways round: the receiver waiting first, the caller first.
 */
#define EP 20
#define CARRIED 21
#define LANDING 22

static volatile long recv_result = 1;
static volatile uint64_t recv_label;

static int plain_receiver(void *arg)
{
	sl_msg_t m = { .spec = SL_SPEC(0, 0, LANDING, 0) };

	(void)arg;
	recv_result = sl_recv(EP, &m);
	recv_label = SL_TAG_LABEL(m.tag);
	return 0;
}

static int caller(void *arg)
{
	sl_msg_t m = { .tag = SL_TAG_CAPS(SL_TAG(7, 1, 1), CARRIED, 0), .w = { 0x1234 } };

	(void)arg;
	return (int)sl_call(EP, &m);
}

static bool slot_holds(sl_slot_t s)
{
	sl_cap_info_t info;

	return sl_cap_identify(s, &info) == 0;
}

static void call_without_reply_slot(void)
{
	sl_msg_t m = { .tag = SL_TAG_CAPS(SL_TAG(7, 1, 1), CARRIED, 0), .w = { 0x1234 } };
	int code, r_tid, c_tid;

	check(sl_ep_create(EP) == 0 && sl_ntfn_create(CARRIED) == 0, "endpoint and a capability to carry", 0);
	r_tid = sl_thread_create(plain_receiver, NULL);
	sl_sleep_ms(20);                        /* the receiver waits, with no reply slot */
	long r = sl_call(EP, &m);
	check(r == SL_EDEAD, "a call to a receiver with no reply slot is SL_EDEAD", r);
	check(slot_holds(CARRIED) && !slot_holds(LANDING) && recv_result == 1,
	      "and delivered nothing: the capability stayed, the receiver still waits", recv_result);
	m = (sl_msg_t){ .tag = SL_TAG(9, 0, 0) };
	r = sl_nbsend(EP, &m);
	sl_thread_join(r_tid, &code);
	check(r == 0 && recv_result == 0 && recv_label == 9, "the receiver then takes a plain send",
	      (long)recv_label);

	c_tid = sl_thread_create(caller, NULL);
	sl_sleep_ms(20);                        /* the caller waits for a receiver */
	m = (sl_msg_t){ .spec = SL_SPEC(0, 0, LANDING, 0) };
	r = sl_nbrecv(EP, &m);
	check(r == SL_EWOULDBLOCK && !slot_holds(LANDING),
	      "a receive with no reply slot does not take a waiting call", r);
	code = 0;
	r = sl_thread_join(c_tid, &code);
	check(r == 0 && code == SL_EDEAD && slot_holds(CARRIED),
	      "that call failed whole: SL_EDEAD, capability kept", code);
}

int main(void)
{
	int code = -1;
	sl_cap_info_t info;

	printf("TAP version 13\n");
	long r = sl_cap_identify(SL_SLOT_SERVER, &info);
	check(r == 0 && info.type == SL_CAP_ENDPOINT, "identify into a good buffer works", r);
	int tid = sl_thread_create(edge_thread, NULL);
	r = tid > 0 ? sl_thread_join(tid, &code) : tid;
	check(r == 0 && code == 0, "the edge checks ran", r < 0 ? r : code);
	join_target_unmapped();
	call_without_reply_slot();
	printf("1..%d\n", count);
	printf("copyout: %d of %d checks failed\n", failed, count);
	return failed ? 1 : 0;
}
