/*
 * bench: instruction counts of a null system call and of a thread switch.
 * Under QEMU -icount shift=0 every guest instruction takes one tick of the
 * time-stamp counter, so rdtsc differences are instruction counts and
 * repeat exactly from run to run.
 */
#include "measure.h"

#define ROUNDS 20000

static volatile int stop;

static int yielder(void *arg)
{
	(void)arg;
	while (!stop)
		sl_yield();
	return 0;
}

int main(void)
{
	uint64_t t0, t1, base = loop_overhead(ROUNDS);

	printf("bench: null system call: %llu instructions per call\n",
	       (unsigned long long)null_syscall_cost(ROUNDS));

	/* Yield with nobody else ready: the system call plus the scheduler's
	 * decision to stay. */
	t0 = sl_rdtsc();
	for (int i = 0; i < ROUNDS; i++)
		sl_yield();
	t1 = sl_rdtsc();
	uint64_t lone = (t1 - t0 - base) / ROUNDS;
	printf("bench: yield, no other thread ready: %llu instructions\n", (unsigned long long)lone);

	/* Two threads yielding to each other: every yield is one switch. */
	int tid = sl_thread_create(yielder, NULL);
	sl_yield();
	t0 = sl_rdtsc();
	for (int i = 0; i < ROUNDS; i++)
		sl_yield();
	t1 = sl_rdtsc();
	stop = 1;
	int code;
	sl_thread_join(tid, &code);
	uint64_t pair = (t1 - t0 - base) / ROUNDS;     /* two yields, two switches */
	printf("bench: yield to another thread and back: %llu instructions, "
	       "%llu per thread switch (yield + switch)\n",
	       (unsigned long long)pair, (unsigned long long)(pair / 2));
	return 0;
}
