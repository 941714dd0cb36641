/*
 * ntflag: a silo that enters the kernel with RFLAGS.NT, AC, DF and ID set
 * (flags user code may set with popf) while a sibling thread spins, so
 * every yield and sleep switches to a thread that was preempted and goes
 * back to ring 3 through iretq. The kernel must not run with those flags
 * (NT makes its iretq fault, DF reverses its string copies), must hand them
 * back to this thread exactly as they were (docs/abi.md: RFLAGS is
 * preserved across system calls and interrupts), and must not let them
 * reach the sibling.
 *
 * ntflag tf: sets TF as well before a system call. The kernel must not
 * single-step itself (FMASK clears TF); the trap belongs to the silo,
 * after the first instruction back in ring 3, and kills it.
 */
#include <sys/sluice.h>

#define RFLAGS_CF (1ull << 0)
#define RFLAGS_ZF (1ull << 6)
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_DF (1ull << 10)
#define RFLAGS_OF (1ull << 11)
#define RFLAGS_IOPL (3ull << 12)
#define RFLAGS_NT (1ull << 14)
#define RFLAGS_RF (1ull << 16)
#define RFLAGS_AC (1ull << 18)
#define RFLAGS_ID (1ull << 21)
/* What this test sets before each call; it expects the same value back. */
#define RFLAGS_TEST (RFLAGS_NT | RFLAGS_AC | RFLAGS_DF | RFLAGS_CF | RFLAGS_OF | 2 | RFLAGS_IF)
/* Flags the sibling must never see. */
#define RFLAGS_FOREIGN (RFLAGS_NT | RFLAGS_AC | RFLAGS_DF | RFLAGS_TF | RFLAGS_IOPL | RFLAGS_RF)
#define ROUNDS 200

static volatile int stop;
static volatile uint64_t sibling_bad, sibling_spins, sibling_flags;

static uint64_t flags_read(void)
{
	uint64_t f;

	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

/*
 * Makes system call nr with RFLAGS = flags (ID kept as it was, so the CPU
 * need not support toggling it) and returns RFLAGS as the call left them.
 * All in one block: compiled C code assumes DF clear. The 128 bytes below
 * RSP are the red zone, so the pushes go below it.
 */
static uint64_t syscall_flags(long nr, long a0, uint64_t flags, long *ret)
{
	uint64_t after;
	long rax = nr;

	__asm__ volatile(
		"leaq -128(%%rsp), %%rsp\n\t"
		"pushfq\n\t"                    /* the caller's flags */
		"pushq %[f]\n\t"
		"popfq\n\t"
		"syscall\n\t"
		"pushfq\n\t"
		"popq %[after]\n\t"
		"popfq\n\t"
		"leaq 128(%%rsp), %%rsp"
		: "+a"(rax), [after] "=&r"(after)
		: [f] "r"(flags), "D"(a0)
		: "rcx", "r11", "memory", "cc");
	*ret = rax;
	return after;
}

/*
 * Spins with RFLAGS = flags for n iterations, long enough for timer
 * interrupts (and switches to the sibling) to land in the loop, and
 * returns RFLAGS at the end. dec changes the arithmetic flags but CF and
 * the system flags must come back as set.
 */
static uint64_t spin_flags(uint64_t flags, uint64_t n)
{
	uint64_t after;

	__asm__ volatile(
		"leaq -128(%%rsp), %%rsp\n\t"
		"pushfq\n\t"
		"pushq %[f]\n\t"
		"popfq\n\t"
		"1: decq %[n]\n\t"
		"jnz 1b\n\t"
		"pushfq\n\t"
		"popq %[after]\n\t"
		"popfq\n\t"
		"leaq 128(%%rsp), %%rsp"
		: [after] "=&r"(after), [n] "+r"(n)
		: [f] "r"(flags)
		: "memory", "cc");
	return after;
}

static int sibling(void *arg)
{
	(void)arg;
	while (!stop) {
		uint64_t f = flags_read();

		if ((f & RFLAGS_FOREIGN) || !(f & RFLAGS_IF)) {
			sibling_bad++;
			sibling_flags = f;
		}
		sibling_spins++;
	}
	return 0;
}

/* One call with the test flags; counts a mismatch and reports the first. */
static int check_call(const char *what, long nr, long a0, uint64_t want)
{
	long ret;
	uint64_t got = syscall_flags(nr, a0, want, &ret);

	got &= ~RFLAGS_ID;
	if (ret < 0 || got != (want & ~RFLAGS_ID)) {
		printf("ntflag: %s returned %ld with RFLAGS %#llx, expected %#llx\n", what, ret,
		       (unsigned long long)got, (unsigned long long)(want & ~RFLAGS_ID));
		return 1;
	}
	return 0;
}

/* Returns only if the kernel lost TF: the single-step trap must kill us. */
static int run_tf(void)
{
	long ret;

	printf("ntflag tf: calling with TF set\n");
	syscall_flags(SL_SYS_NULL, 0, RFLAGS_TF | RFLAGS_IF | 2, &ret);
	printf("ntflag tf: no single-step trap after the call (returned %ld)\n", ret);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "tf") == 0)
		return run_tf();

	uint64_t want = RFLAGS_TEST | (flags_read() & RFLAGS_ID);
	int tid = sl_thread_create(sibling, NULL), bad = 0, code = -1;

	if (tid < 0) {
		printf("ntflag: thread create failed: %d\n", tid);
		return 1;
	}
	printf("ntflag: sibling %d spinning; calling with RFLAGS %#llx\n", tid,
	       (unsigned long long)want);
	for (int i = 0; i < ROUNDS && bad < 5; i++) {
		bad += check_call("yield", SL_SYS_YIELD, 0, want);
		bad += check_call("null", SL_SYS_NULL, 0, want);
		if (i % 20 == 0)
			bad += check_call("sleep", SL_SYS_SLEEP, 3, want);
	}
	uint64_t kept = RFLAGS_NT | RFLAGS_AC | RFLAGS_DF | RFLAGS_CF | RFLAGS_IF;
	uint64_t t0 = sl_clock_ms();
	for (int i = 0; i < 5; i++) {
		uint64_t got = spin_flags(want, 5000000);

		if ((got & kept) != (want & kept)) {
			printf("ntflag: after a preempted spin RFLAGS is %#llx, expected %#llx in %#llx\n",
			       (unsigned long long)got, (unsigned long long)(want & kept),
			       (unsigned long long)kept);
			bad++;
		}
	}
	printf("ntflag: 5 spins with NT|AC|DF set over %llu ms of timer interrupts\n",
	       (unsigned long long)(sl_clock_ms() - t0));
	stop = 1;
	if (sl_thread_join(tid, &code) < 0 || code != 0)
		bad++;
	if (sibling_bad) {
		printf("ntflag: the sibling saw foreign RFLAGS %#llx %llu times\n",
		       (unsigned long long)sibling_flags, (unsigned long long)sibling_bad);
		bad++;
	}
	if (sibling_spins == 0) {
		printf("ntflag: the sibling never ran\n");
		bad++;
	}
	if (bad)
		return 1;
	printf("ntflag: %d rounds of yield, null and sleep and 5 preempted spins with NT|AC|DF "
	       "set: flags kept, sibling clean: ok\n", ROUNDS);
	return 0;
}
