/*
 * memtest MODE: anonymous memory (SL_SYS_MEM_MAP / SL_SYS_MEM_UNMAP) and
 * malloc, as a hostile and as a hungry silo would use them.
 *
 *   map     every bad argument, zeroed and writable pages, FIXED and hints,
 *           unmaps that must change nothing, the quota, threads racing
 *   oom     more than the machine has: SL_ENOMEM, and nothing left behind
 *   malloc  threads doing malloc/calloc/realloc/free with content checks
 *   hog X   maps until its own quota says SL_EQUOTA, holds it, lets go
 *   victim  beside two hogs: still maps memory and runs the malloc load
 *   bench   instruction counts of the calls and of malloc
 *   double-free, foreign-free   must abort the silo
 */
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/sluice.h>

#define PG 4096ul
#define BASE SL_MEM_REGION_BASE
#define END SL_MEM_REGION_END
#define KERNEL_ADDR 0xffff800000000000ul

static int count, failed;
static const char *mode = "";

static void check(long got, long want, const char *what)
{
	count++;
	failed += got != want;
	printf("%s %d - memtest %s: %s (got %ld, want %ld)\n", got == want ? "ok" : "not ok",
		       count, mode, what, got, want);
}

static long map_raw(uint64_t hint, uint64_t pages, uint64_t flags)
{
	return sl_syscall(SL_SYS_MEM_MAP, (long)hint, (long)pages, (long)flags, 0, 0, 0);
}

static long unmap_raw(uint64_t addr, uint64_t pages)
{
	return sl_syscall(SL_SYS_MEM_UNMAP, (long)addr, (long)pages, 0, 0, 0, 0);
}

static bool in_region(long a, uint64_t pages)
{
	return a > 0 && (uint64_t)a % PG == 0 && (uint64_t)a >= BASE && (uint64_t)a + pages * PG <= END;
}

/* Every byte of the pages is `v`. */
static bool all_bytes(uint64_t a, uint64_t pages, unsigned char v)
{
	const unsigned char *p = (const unsigned char *)a;

	for (uint64_t i = 0; i < pages * PG; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void paint(uint64_t a, uint64_t pages, unsigned char v)
{
	memset((void *)a, v, pages * PG);
}

static void bad_maps(void)
{
	uint64_t quota = sl_bootinfo()->mem_quota;

	check(map_raw(0, 0, 0), SL_EINVAL, "map 0 pages");
	check(map_raw(0, SL_MEM_REGION_PAGES + 1, 0), SL_EINVAL, "map more pages than the region has");
	check(map_raw(0, ~0ul, 0), SL_EINVAL, "map ~0 pages");
	check(map_raw(0, 1ul << 52, 0), SL_EINVAL, "map 2^52 pages (the byte count overflows)");
	check(map_raw(0, quota + 1, 0), SL_EQUOTA, "map one page more than the quota");
	check(map_raw(0, SL_MEM_REGION_PAGES, 0), SL_EQUOTA, "map the whole region");
	check(map_raw(0, 1, 2), SL_EINVAL, "map with an unknown flag");
	check(map_raw(0, 1, ~0ul), SL_EINVAL, "map with every flag");
	check(map_raw(BASE + 8, 1, 0), SL_EINVAL, "map with an unaligned hint");
	check(map_raw(BASE + 8, 1, SL_MEM_FIXED), SL_EINVAL, "map FIXED at an unaligned address");
	check(map_raw(0, 1, SL_MEM_FIXED), SL_EINVAL, "map FIXED at 0");
	check(map_raw(KERNEL_ADDR, 1, SL_MEM_FIXED), SL_EINVAL, "map FIXED in the kernel half");
	check(map_raw(0x400000, 1, SL_MEM_FIXED), SL_EINVAL, "map FIXED over the program image");
	check(map_raw(SL_BOOTINFO_ADDR, 1, SL_MEM_FIXED), SL_EINVAL, "map FIXED over the boot-info page");
	check(map_raw(BASE - PG, 2, SL_MEM_FIXED), SL_EINVAL, "map FIXED across the region's start");
	check(map_raw(END - PG, 2, SL_MEM_FIXED), SL_EINVAL, "map FIXED across the region's end");
	check(map_raw(0x7fefffff0000ul, 1, SL_MEM_FIXED), SL_EINVAL, "map FIXED over the main stack");
	check(map_raw(1ul << 63, 1, SL_MEM_FIXED), SL_EINVAL, "map FIXED at 2^63");
}

/* Places a (4 pages) and f (FIXED, 2 pages, then 1 hinted page above),
 * checks they are fresh, zeroed and writable, and that overlaps fail. */
static void good_maps(uint64_t *a_out, uint64_t *f_out)
{
	long a = map_raw(0, 4, 0), f = (long)(BASE + 0x10000000ul), r;

	check(in_region(a, 4), true, "map 4 pages: an address in the region");
	check(all_bytes((uint64_t)a, 4, 0), true, "the new pages read as zero");
	paint((uint64_t)a, 4, 0xa5);
	check(all_bytes((uint64_t)a, 4, 0xa5), true, "and keep what is written");
	check(map_raw((uint64_t)a + 2 * PG, 4, SL_MEM_FIXED), SL_EEXIST, "map FIXED overlapping them");
	check(map_raw((uint64_t)a, 1, SL_MEM_FIXED), SL_EEXIST, "map FIXED on their first page");
	check(all_bytes((uint64_t)a, 4, 0xa5), true, "the refused maps changed nothing");
	r = map_raw((uint64_t)a, 2, 0);
	check(in_region(r, 2) && (r + 2 * (long)PG <= a || r >= a + 4 * (long)PG), true,
	      "a hint on taken pages: the kernel chooses other ones");
	check(unmap_raw((uint64_t)r, 2), 0, "unmap them");
	check(map_raw((uint64_t)f, 2, SL_MEM_FIXED), f, "map FIXED at a free address: exactly there");
	check(map_raw((uint64_t)f + 2 * PG, 1, 0), f + 2 * (long)PG, "a hint at free pages: exactly there");
	check(all_bytes((uint64_t)f, 3, 0), true, "zeroed");
	paint((uint64_t)f, 3, 0x5a);
	r = map_raw(KERNEL_ADDR, 1, 0);
	check(in_region(r, 1), true, "a hint in the kernel half is only a hint");
	check(unmap_raw((uint64_t)r, 1), 0, "unmap it");
	*a_out = (uint64_t)a;
	*f_out = (uint64_t)f;
}

static void bad_unmaps(uint64_t a, uint64_t f)
{
	check(unmap_raw(a, 0), SL_EINVAL, "unmap 0 pages");
	check(unmap_raw(a + 8, 1), SL_EINVAL, "unmap an unaligned address");
	check(unmap_raw(a, ~0ul), SL_EINVAL, "unmap ~0 pages");
	check(unmap_raw(0x400000, 1), SL_EINVAL, "unmap the program image");
	check(unmap_raw(SL_BOOTINFO_ADDR, 1), SL_EINVAL, "unmap the boot-info page");
	check(unmap_raw(0x7fefffff0000ul, 1), SL_EINVAL, "unmap the main stack");
	check(unmap_raw(KERNEL_ADDR, 1), SL_EINVAL, "unmap in the kernel half");
	check(unmap_raw(END - PG, 2), SL_EINVAL, "unmap across the region's end");
	check(unmap_raw(BASE + 0x20000000ul, 1), SL_ENOENT, "unmap a page never mapped");
	check(unmap_raw(f, 4), SL_ENOENT, "unmap 3 mapped pages and 1 unmapped");
	check(unmap_raw(f - PG, 2), SL_ENOENT, "unmap 1 unmapped page and 1 mapped");
	check(unmap_raw(f - PG, 1ul << 24), SL_ENOENT, "unmap 64 GiB starting unmapped");
	check(all_bytes(f, 3, 0x5a) && all_bytes(a, 4, 0xa5), true, "the refused unmaps unmapped nothing");
	check(unmap_raw(f, 3), 0, "unmap the 3 pages");
	check(unmap_raw(f, 1), SL_ENOENT, "unmap them again");
	check(unmap_raw(a + PG, 2), 0, "unmap the middle of the 4");
	check(all_bytes(a, 1, 0xa5) && all_bytes(a + 3 * PG, 1, 0xa5), true, "their neighbours stay");
	check(unmap_raw(a, 4), SL_ENOENT, "unmap across the hole");
	check(unmap_raw(a, 1) | unmap_raw(a + 3 * PG, 1), 0, "unmap the rest");
}

#define MAXQ 512

static uint64_t room;           /* pages this silo can map: its quota, less what else it is charged */

/* One page at a time until the quota stops it; then exactly that many in
 * one call, and not one more; back; again. */
static void quota(void)
{
	static uint64_t pages[MAXQ];
	uint64_t quota = sl_bootinfo()->mem_quota, n = 0;
	long r = 0;

	if (quota > MAXQ) {
		check(quota, MAXQ, "the scenario gives this silo a small quota");
		return;
	}
	while (n <= quota && (r = map_raw(0, 1, 0)) > 0)
		pages[n++] = (uint64_t)r;
	check(r, SL_EQUOTA, "map page by page until the quota ends it");
	check(n > 0 && n <= quota, true, "no more than the quota was mapped");
	room = n;
	check(map_raw(BASE + 0x30000000ul, 1, SL_MEM_FIXED), SL_EQUOTA, "a FIXED map is refused too");
	paint(pages[7], 1, 0xff);
	check(unmap_raw(pages[7], 1), 0, "unmap one page");
	r = map_raw(0, 1, 0);
	check(r > 0 && all_bytes((uint64_t)r, 1, 0), true, "its room is mapped again, zeroed");
	check(r, (long)pages[7], "the lowest free page is chosen: the same one");
	pages[7] = (uint64_t)r;
	check(map_raw(0, 1, 0), SL_EQUOTA, "and the quota is full again");
	for (uint64_t i = 0; i < n; i++)
		r |= unmap_raw(pages[i], 1);
	check(r > 0, true, "unmap everything");
	check(map_raw(0, room + 1, 0), SL_EQUOTA, "one page more than that in one map");
	r = map_raw(0, room, 0);
	check(in_region(r, room), true, "exactly that many in one map");
	check(unmap_raw((uint64_t)r, room), 0, "and back");
}

static int racer(void *arg)
{
	uint64_t tag = (uint64_t)arg, bad = 0;

	for (int i = 0; i < 200; i++) {
		uint64_t n = 1 + (tag + i) % 3;
		long a = map_raw(0, n, 0);

		if (a < 0)
			return 100 + (int)-a;
		bad += !all_bytes((uint64_t)a, n, 0);
		paint((uint64_t)a, n, (unsigned char)(tag + i));
		sl_yield();
		bad += !all_bytes((uint64_t)a, n, (unsigned char)(tag + i));
		bad += unmap_raw((uint64_t)a, n) != 0;
	}
	return (int)bad;
}

/* Threads map, fill, yield, check and unmap at once: no two get the same
 * pages, and every page comes back. */
static void race(void)
{
	int tid[4], code;

	for (long i = 0; i < 4; i++)
		tid[i] = sl_thread_create(racer, (void *)(i * 50));
	for (int i = 0; i < 4; i++) {
		code = -1;
		check(tid[i] > 0 ? sl_thread_join(tid[i], &code) : tid[i], 0, "join a racing thread");
		check(code, 0, "it saw only its own zeroed pages, and every call worked");
	}
	long r = map_raw(0, room, 0);
	check(in_region(r, room), true, "after the race all the room maps again");
	check(unmap_raw((uint64_t)r, room), 0, "and back");
}

static void run_map(void)
{
	uint64_t a, f;

	bad_maps();
	good_maps(&a, &f);
	bad_unmaps(a, f);
	quota();
	race();
}

/* More than the machine has, in one call: SL_ENOMEM, with every page of
 * that call undone and uncharged (or the next maps would hit the quota). */
static void run_oom(void)
{
	uint64_t quota = sl_bootinfo()->mem_quota, total = 0;
	static long chunk[1024];
	int n = 0;
	long r;

	check(map_raw(0, quota - 100, 0), SL_ENOMEM, "map more than the machine has");
	r = map_raw(0, 4096, 0);
	check(r, (long)BASE, "the failed map left nothing behind: the next one starts the region");
	check(unmap_raw((uint64_t)r, 4096), 0, "unmap it");
	while (n < 1024 && (r = map_raw(0, 1024, 0)) > 0) {
		chunk[n++] = r;
		total += 1024;
	}
	check(r, SL_ENOMEM, "1024 pages at a time: the kernel runs out before the quota");
	printf("# %llu pages mapped before the kernel ran out\n", (unsigned long long)total);
	r = 0;
	for (int i = 0; i < n; i++)
		r |= unmap_raw((uint64_t)chunk[i], 1024);
	check(r, 0, "unmap it all");
	r = map_raw(0, 2048, 0);
	check(in_region(r, 2048) && all_bytes((uint64_t)r, 2048, 0), true, "memory maps again, zeroed");
	check(unmap_raw((uint64_t)r, 2048), 0, "and back");
}

/* ---- malloc ---- */

#define SLOTS 24

typedef struct {
	unsigned id, ops;
	uint64_t rng;
} worker_t;

static unsigned char pattern(unsigned id, unsigned seed, size_t i)
{
	return (unsigned char)(id * 37 + seed * 11 + i);
}

static bool holds(const unsigned char *p, size_t n, unsigned id, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != pattern(id, seed, i))
			return false;
	return true;
}

static void put(unsigned char *p, size_t n, unsigned id, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = pattern(id, seed, i);
}

static size_t pick_size(uint64_t r)
{
	switch (r % 16) {
	case 0:
		return 16384 + (r >> 8) % 100000;        /* mapped alone */
	case 1: case 2: case 3:
		return 1 + (r >> 8) % 16000;
	default:
		return 1 + (r >> 8) % 300;
	}
}

/* Random malloc/realloc/free over SLOTS blocks; every block must hold what
 * this thread last wrote into it. Returns the number of bad blocks. */
static int malloc_worker(void *arg)
{
	worker_t *w = arg;
	unsigned char *blk[SLOTS] = { 0 };
	size_t len[SLOTS] = { 0 };
	unsigned seed[SLOTS] = { 0 };
	int bad = 0;

	for (unsigned op = 1; op <= w->ops; op++) {
		w->rng ^= w->rng << 13, w->rng ^= w->rng >> 7, w->rng ^= w->rng << 17;
		unsigned s = (unsigned)(w->rng % SLOTS);
		size_t n = pick_size(w->rng >> 5);

		if (blk[s] && !holds(blk[s], len[s], w->id, seed[s]))
			bad++;
		if (blk[s] && (w->rng & 0x100)) {
			free(blk[s]);
			blk[s] = NULL;
			continue;
		}
		bool grow = (w->rng & 0x200) || !blk[s];
		unsigned char *q = grow ? realloc(blk[s], n) : malloc(n);
		if (!q) {
			bad++;
			continue;
		}
		if (!grow)
			free(blk[s]);
		else if (blk[s] && !holds(q, len[s] < n ? len[s] : n, w->id, seed[s]))
			bad++;                          /* realloc lost the contents */
		blk[s] = q;
		len[s] = n;
		seed[s] = op;
		put(q, n, w->id, op);
		if (op % 64 == 0)
			sl_yield();
	}
	for (unsigned s = 0; s < SLOTS; s++) {
		bad += blk[s] && !holds(blk[s], len[s], w->id, seed[s]);
		free(blk[s]);
	}
	return bad;
}

/* Tight malloc/free of small blocks, so threads are often preempted inside
 * the allocator: each block carries its owner's tag, checked before free. */
static int churn_worker(void *arg)
{
	worker_t *w = arg;
	uint64_t *ring[16] = { 0 };
	int bad = 0;

	for (unsigned op = 0; op < w->ops * 20; op++) {
		unsigned s = op % 16;
		uint64_t tag = (uint64_t)w->id << 32 | op;

		if (ring[s]) {
			bad += ring[s][0] != ring[s][1] || ring[s][0] >> 32 != w->id;
			free(ring[s]);
		}
		ring[s] = malloc(16 + (op * 7 + w->id) % 200);
		if (!ring[s]) {
			bad++;
			continue;
		}
		ring[s][0] = ring[s][1] = tag;
	}
	for (unsigned s = 0; s < 16; s++) {
		bad += ring[s] && (ring[s][0] != ring[s][1] || ring[s][0] >> 32 != w->id);
		free(ring[s]);
	}
	return bad;
}

static void malloc_basics(void)
{
	unsigned char *z = calloc(100, 40);
	bool zero = z != NULL;

	for (int i = 0; zero && i < 4000; i++)
		zero = z[i] == 0;
	check(zero, true, "calloc gives zeroed memory");
	free(z);
	check((long)calloc(~0ul / 2, 3), 0, "calloc whose size overflows gives NULL");
	check((long)malloc(~0ul - 8), 0, "malloc of nearly 2^64 bytes gives NULL");
	check((long)malloc(1ul << 40), 0, "malloc past the quota gives NULL");
	free(NULL);
	void *p = malloc(0);
	check(p != NULL && (uint64_t)p % 16 == 0, true, "malloc(0) gives a unique aligned block");
	check((long)realloc(p, 0), 0, "realloc(p, 0) frees p");
}

static void run_malloc_load(int threads, unsigned ops, int (*fn)(void *))
{
	static worker_t w[8];
	int tid[8], code;

	for (int i = 0; i < threads; i++) {
		w[i] = (worker_t){ .id = (unsigned)i, .ops = ops, .rng = 0x9e3779b97f4a7c15ull * (i + 1) };
		tid[i] = sl_thread_create(fn, &w[i]);
	}
	for (int i = 0; i < threads; i++) {
		code = -1;
		check(tid[i] > 0 ? sl_thread_join(tid[i], &code) : tid[i], 0, "join a malloc thread");
		check(code, 0, "every block held what its thread wrote");
	}
}

/* ---- hogs and their victim ---- */

static void run_hog(const char *name)
{
	static long chunk[4096];
	uint64_t total = 0, quota = sl_bootinfo()->mem_quota;
	int n = 0;
	long r;

	while (n < 4096 && (r = map_raw(0, 64, 0)) > 0) {
		chunk[n++] = r;
		paint((uint64_t)r, 64, 0x11);
		total += 64;
	}
	check(r, SL_EQUOTA, "map 64 pages at a time until the own quota says no");
	while ((r = map_raw(0, 1, 0)) > 0)
		total++;
	check(r, SL_EQUOTA, "then page by page, to the last one");
	check(total <= quota && total + 64 > quota / 2, true, "most of the quota is held");
	printf("memtest hog %s: holding %llu pages\n", name, (unsigned long long)total);
	for (int i = 0; i < 50; i++) {
		r = map_raw(0, 1, 0);
		if (r != SL_EQUOTA)
			check(r, SL_EQUOTA, "still over the quota");
		sl_sleep_ms(100);
	}
	printf("memtest hog %s: releasing\n", name);
	r = 0;
	for (int i = 0; i < n; i++)
		r |= unmap_raw((uint64_t)chunk[i], 64);
	check(r, 0, "give the chunks back");
}

static void run_victim(void)
{
	sl_sleep_ms(500);                       /* the hogs fill their quotas first */
	long r = map_raw(0, 1024, 0);
	check(in_region(r, 1024) && all_bytes((uint64_t)r, 1024, 0), true, "the victim maps 4 MiB");
	paint((uint64_t)r, 1024, 0x77);
	check(unmap_raw((uint64_t)r, 1024), 0, "and gives it back");
	malloc_basics();
	run_malloc_load(4, 300, malloc_worker);
	printf("memtest victim: done\n");
}

/* free() of a block twice, or of a pointer malloc never gave: the silo
 * must abort with a line saying which, never corrupt its heap quietly. */
static void run_misuse(bool twice)
{
	_Alignas(16) char local[64] = { 0 };
	char *p = malloc(100);

	if (twice) {
		free(p);
		free(p);
	} else {
		free(local + 16);
	}
	printf("memtest misuse: free did not abort\n");
}

/* ---- instruction counts (under -icount shift=0, rdtsc counts them) ---- */

static uint64_t per_round(uint64_t t0, int rounds)
{
	return (sl_rdtsc() - t0) / (uint64_t)rounds;
}

static void run_bench(void)
{
	enum { ROUNDS = 2000 };
	uint64_t t0;
	void *p;

	t0 = sl_rdtsc();
	for (int i = 0; i < ROUNDS; i++)
		unmap_raw((uint64_t)map_raw(0, 1, 0), 1);
	printf("membench: map + unmap 1 page: %llu instructions\n", (unsigned long long)per_round(t0, ROUNDS));
	t0 = sl_rdtsc();
	for (int i = 0; i < ROUNDS / 10; i++)
		unmap_raw((uint64_t)map_raw(0, 16, 0), 16);
	printf("membench: map + unmap 16 pages: %llu instructions\n",
	       (unsigned long long)per_round(t0, ROUNDS / 10));
	free(malloc(64));                       /* the class's first chunk */
	t0 = sl_rdtsc();
	for (int i = 0; i < ROUNDS * 10; i++)
		free(malloc(64));
	printf("membench: malloc + free 64 bytes: %llu instructions\n",
	       (unsigned long long)per_round(t0, ROUNDS * 10));
	t0 = sl_rdtsc();
	for (int i = 0; i < ROUNDS / 10; i++) {
		p = malloc(100000);
		free(p);
	}
	printf("membench: malloc + free 100000 bytes (mapped alone): %llu instructions\n",
	       (unsigned long long)per_round(t0, ROUNDS / 10));
}

int main(int argc, char **argv)
{
	mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "map"))
		run_map();
	else if (!strcmp(mode, "oom"))
		run_oom();
	else if (!strcmp(mode, "malloc")) {
		malloc_basics();
		unsigned ops = argc > 2 ? (unsigned)strtol_simple(argv[2]) : 1000;

		run_malloc_load(8, ops, churn_worker);
		run_malloc_load(8, ops, malloc_worker);
	} else if (!strcmp(mode, "hog")) {
		static char name[32];

		snprintf(name, sizeof name, "hog %s", argc > 2 ? argv[2] : "?");
		mode = name;
		run_hog(argc > 2 ? argv[2] : "?");
	} else if (!strcmp(mode, "victim"))
		run_victim();
	else if (!strcmp(mode, "bench"))
		run_bench();
	else if (!strcmp(mode, "double-free") || !strcmp(mode, "foreign-free"))
		run_misuse(mode[0] == 'd');
	else
		check(0, 1, "a known mode");
	printf("memtest %s: %d of %d checks failed\n", mode, failed, count);
	return failed != 0;
}
