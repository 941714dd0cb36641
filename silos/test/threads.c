/*
 * threads [N]: eight threads each sum their share of 1..N; the joined total
 * must equal N(N+1)/2 exactly.
 */
#include <sys/sluice.h>

#define THREADS 8

typedef struct {
	uint64_t from, to, sum;
} share_t;

static int sum_share(void *arg)
{
	share_t *s = arg;

	for (uint64_t i = s->from; i <= s->to; i++)
		s->sum += i;
	return (int)(s->to - s->from + 1 == 0);         /* 0 unless the share was empty */
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? (uint64_t)strtol_simple(argv[1]) : 4000000;
	share_t shares[THREADS];
	int tids[THREADS], failures = 0;
	uint64_t total = 0;

	for (int i = 0; i < THREADS; i++) {
		shares[i] = (share_t){ n * i / THREADS + 1, n * (i + 1) / THREADS, 0 };
		tids[i] = sl_thread_create(sum_share, &shares[i]);
		if (tids[i] < 0) {
			printf("threads: create %d failed: %d\n", i, tids[i]);
			return 1;
		}
	}
	for (int i = 0; i < THREADS; i++) {
		int code = -1;

		if (sl_thread_join(tids[i], &code) < 0 || code != 0)
			failures++;
		total += shares[i].sum;
	}
	uint64_t expect = n * (n + 1) / 2;
	printf("threads: %d threads, total %llu, expected %llu: %s\n", THREADS,
	       (unsigned long long)total, (unsigned long long)expect,
	       total == expect && !failures ? "exact" : "WRONG");
	return total == expect && !failures ? 0 : 1;
}
