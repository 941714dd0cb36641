/*
 * fpuwork NAME THREADS SEED: THREADS threads (seeds SEED, SEED+1, ...)
 * each run the double, packed-float and x87 loops of fpuwork.h in 8
 * chunks, printing after each, and compare the final state bit for bit
 * with what the build host computed (fpuwork_expected.h). Several such
 * silos side by side only finish exactly right if every preemption
 * between their threads saves and restores the whole register state.
 */
#include <sys/sluice.h>

#include "fpuwork.h"
#include "fpuwork_expected.h"

#define CHUNKS 8
#define MAX_THREADS FPUWORK_SEEDS

typedef struct {
	const char *name;
	int index, seed;
} job_t;

static int work(void *arg)
{
	const job_t *job = arg;
	fpuwork_t w;
	uint64_t got[FPUWORK_WORDS];

	fpuwork_init(&w, job->seed);
	for (int c = 1; c <= CHUNKS; c++) {
		fpuwork_run(&w, FPUWORK_ITERS / CHUNKS);
		printf("fpuwork %s.%d: chunk %d/%d\n", job->name, job->index, c, CHUNKS);
	}
	fpuwork_words(&w, got);
	for (int i = 0; i < FPUWORK_WORDS; i++) {
		if (got[i] != fpuwork_expected[job->seed][i]) {
			printf("fpuwork %s.%d: seed %d word %d is %#llx, the host computed %#llx\n",
			       job->name, job->index, job->seed, i, (unsigned long long)got[i],
			       (unsigned long long)fpuwork_expected[job->seed][i]);
			return 1;
		}
	}
	printf("fpuwork %s.%d: seed %d bit-exact (s %.17g, y %.17g, b0 %.9g)\n", job->name,
	       job->index, job->seed, w.s, w.y, (double)w.b[0]);
	return 0;
}

int main(int argc, char **argv)
{
	job_t jobs[MAX_THREADS];
	int tids[MAX_THREADS], n, seed, bad = 0;

	if (argc < 4) {
		printf("usage: fpuwork NAME THREADS SEED\n");
		return 2;
	}
	n = (int)strtol_simple(argv[2]);
	seed = (int)strtol_simple(argv[3]);
	if (n < 1 || seed < 0 || seed + n > FPUWORK_SEEDS) {
		printf("fpuwork: need 1..%d threads with seeds below %d\n", MAX_THREADS, FPUWORK_SEEDS);
		return 2;
	}
	for (int t = 0; t < n; t++) {
		jobs[t] = (job_t){ argv[1], t, seed + t };
		tids[t] = sl_thread_create(work, &jobs[t]);
		if (tids[t] < 0) {
			printf("fpuwork %s: thread create failed: %d\n", argv[1], tids[t]);
			return 1;
		}
	}
	for (int t = 0; t < n; t++) {
		int code = -1;

		if (sl_thread_join(tids[t], &code) < 0 || code != 0)
			bad++;
	}
	if (bad)
		return 1;
	printf("fpuwork %s: %d threads, every result bit-exact: ok\n", argv[1], n);
	return 0;
}
