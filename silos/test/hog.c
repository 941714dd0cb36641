/*
 * hog: thread hunger, and a victim beside it.
 *
 *   hog LABEL HOLD_MS [MIN_PAGES]
 *                       creates threads until the kernel says no, which
 *                       must be SL_EQUOTA (its own threads= or kmem=
 *                       quota), then maps memory until its mem= quota is
 *                       used up, then endpoints until its kmem= quota is;
 *                       holds them HOLD_MS, then joins the threads; fails
 *                       if it got fewer than MIN_PAGES pages (default 0:
 *                       a hog whose kmem= is gone cannot map at all, as
 *                       page tables are kernel memory)
 *   victim WAIT_MS N    waits WAIT_MS (while the hogs hold everything they
 *                       could get), then must still create N threads, each
 *                       summing its share of a series, 64 endpoints, and
 *                       map, fill and check VICTIM_PAGES pages
 *
 * Exits 0 when every check passed.
 */
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/sluice.h>

#define FIRST_EP 100
#define MAP_CHUNK 64                    /* pages per sl_mem_map */
#define VICTIM_PAGES 1024               /* 4 MiB */
#define PAGE 4096

static uint64_t hold_ms;
static long min_pages;

static int hold(void *arg)
{
	(void)arg;
	sl_sleep_ms(hold_ms);
	return 7;
}

static int hog(const char *label)
{
	static int tids[SL_THREADS_MAX];
	int made = 0, joined = 0, code;
	long r = 0;

	while (made < SL_THREADS_MAX && (r = sl_thread_create(hold, 0)) > 0)
		tids[made++] = (int)r;
	printf("hog %s: holding %d threads, then %ld (%s)\n", label, made + 1, r,
	       r == SL_EQUOTA ? "SL_EQUOTA" : "not SL_EQUOTA");
	long pages = 0, m;
	size_t n = MAP_CHUNK;
	void *at;
	/* Chunks first, then single pages, so the hog ends with its quota full
	 * to the last page. Memory before endpoints: its page tables are
	 * kernel memory too. */
	while (n > 0) {
		at = NULL;
		if ((m = sl_mem_map(&at, n, 0)) == 0)
			pages += (long)n;
		else
			n /= 2;
	}
	printf("hog %s: memory: %ld pages held, then %ld (%s)\n", label, pages, m,
	       m == SL_EQUOTA ? "SL_EQUOTA" : "not SL_EQUOTA");
	int eps = 0;
	long e = 0;
	for (sl_slot_t s = FIRST_EP; s < SL_CSPACE_DEFAULT && (e = sl_ep_create(s)) == 0; s++)
		eps++;
	printf("hog %s: holding %d endpoints, then %ld (%s)\n", label, eps, e,
	       e == SL_EQUOTA ? "SL_EQUOTA" : "not SL_EQUOTA");
	for (int i = 0; i < made; i++)
		joined += sl_thread_join(tids[i], &code) == 0 && code == 7;
	printf("hog %s: released %d of %d threads\n", label, joined, made);
	return r == SL_EQUOTA && e == SL_EQUOTA && m == SL_EQUOTA && pages >= min_pages && made > 0 &&
	       joined == made ? 0 : 1;
}

typedef struct {
	uint64_t from, to, sum;
} share_t;

static int sum_share(void *arg)
{
	share_t *s = arg;

	for (uint64_t i = s->from; i <= s->to; i++)
		s->sum += i;
	return 0;
}

/* Maps VICTIM_PAGES pages with sl_mem_map and a malloc'd buffer beside
 * them, writes each page's number into it and reads it back: the number
 * of pages that came back right. */
static int map_and_check(void)
{
	void *at = NULL;
	uint64_t *copy = malloc(VICTIM_PAGES * sizeof *copy);
	int good = 0;

	if (!copy || sl_mem_map(&at, VICTIM_PAGES, 0) < 0) {
		free(copy);
		return 0;
	}
	for (int i = 0; i < VICTIM_PAGES; i++) {
		((volatile uint64_t *)((char *)at + (size_t)i * PAGE))[0] = (uint64_t)i * 0x9e3779b97f4a7c15ull;
		copy[i] = (uint64_t)i * 0x9e3779b97f4a7c15ull;
	}
	for (int i = 0; i < VICTIM_PAGES; i++)
		good += ((volatile uint64_t *)((char *)at + (size_t)i * PAGE))[0] == copy[i];
	free(copy);
	return sl_mem_unmap(at, VICTIM_PAGES) == 0 ? good : 0;
}

static int victim(uint64_t wait_ms, int n)
{
	static share_t shares[SL_THREADS_MAX];
	static int tids[SL_THREADS_MAX];
	const uint64_t total = 100000;
	uint64_t sum = 0;
	int made = 0, code;

	if (n < 1 || n >= SL_THREADS_MAX)
		return 1;
	sl_sleep_ms(wait_ms);
	for (int i = 0; i < n; i++) {
		shares[i] = (share_t){ total * i / n + 1, total * (i + 1) / n, 0 };
		long r = sl_thread_create(sum_share, &shares[i]);
		if (r < 0) {
			printf("victim: thread %d of %d: %ld\n", i, n, r);
			break;
		}
		tids[made++] = (int)r;
	}
	printf("victim: %d of %d threads created\n", made, n);
	int eps = 0;
	for (sl_slot_t s = FIRST_EP; s < FIRST_EP + 64; s++)
		eps += sl_ep_create(s) == 0;
	printf("victim: %d of 64 endpoints created\n", eps);
	int pages_ok = map_and_check();
	printf("victim: %d of %d pages mapped, written and read back\n", pages_ok, VICTIM_PAGES);
	for (int i = 0; i < made; i++)
		if (sl_thread_join(tids[i], &code) == 0 && code == 0)
			sum += shares[i].sum;
	bool ok = made == n && eps == 64 && pages_ok == VICTIM_PAGES && sum == total * (total + 1) / 2;
	printf("victim: sum %llu, %s\n", (unsigned long long)sum, ok ? "exact" : "WRONG");
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "victim"))
		return victim((uint64_t)strtol_simple(argv[2]), argc > 3 ? (int)strtol_simple(argv[3]) : 16);
	if (argc >= 4 && !strcmp(argv[1], "hog")) {
		hold_ms = (uint64_t)strtol_simple(argv[3]);
		min_pages = argc > 4 ? strtol_simple(argv[4]) : 0;
		return hog(argv[2]);
	}
	printf("usage: hog hog LABEL HOLD_MS [MIN_PAGES] | hog victim WAIT_MS N\n");
	return 1;
}
