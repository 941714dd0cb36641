/*
 * fpuclean dirty MS | calls N SEED | check N
 *
 * dirty: loads junk into every x87, SSE and (where the CPU and kernel
 * enable it) AVX register, FCW, FSW, the x87 tags and MXCSR, then spins and
 * yields for MS milliseconds without touching them, and checks that
 * preemption and system calls gave every register back unchanged.
 *
 * calls: the same junk, its x87, SSE and AVX registers varied by SEED (so
 * that two silos hold different values), held through N calls to the
 * server (an echoserv ping of no words, made at register level): every
 * switch of the IPC paths, to the server and back, must give every
 * register back unchanged.
 *
 * check: starts N fresh threads one after another (its own main thread
 * dirties its registers before every other one) while the dirty silo runs.
 * Each new thread stores its registers before executing anything else and
 * must see the default state only: FCW 0x37f, MXCSR 0x1f80, FSW 0, x87
 * stack empty, last-instruction pointers 0, st0-7, xmm0-15 and the upper
 * halves of ymm0-15 zero.
 */
#include "echo_proto.h"
#include <sys/ipc.h>
#include <sys/sluice.h>

#define CAP_IMAGE 512
#define CAP_UPPER 256
#define FX_FCW 0
#define FX_FSW 2
#define FX_FTW 4
#define FX_FOP 6
#define FX_FIP 8
#define FX_FDP 16
#define FX_MXCSR 24
#define FX_MXCSR_MASK 28
#define FX_REGS 32              /* st0-7 (16 bytes each), then xmm0-15 */
#define FX_REGS_END 416
#define MXCSR_MASK_DEFAULT 0xffbf
#define MAX_THREADS 64

typedef struct {
	uint8_t image[CAP_IMAGE];
	uint8_t upper[CAP_UPPER];
	uint8_t avx;
} __attribute__((aligned(64))) fpu_cap_t;

void fpu_load(const fpu_cap_t *cap);
void fpu_store(fpu_cap_t *cap);
long fpu_dirty_run(const fpu_cap_t *junk, fpu_cap_t *out, uint64_t deadline_ms);
long fpu_dirty_calls(const fpu_cap_t *junk, fpu_cap_t *out, long n, uint64_t tag, unsigned long ep);
int fpu_fresh_thread(void *cap);
int fpu_fresh_check(fpu_cap_t *cap);

static fpu_cap_t junk, out, fresh[MAX_THREADS];
static volatile int fresh_bad;

/* AVX usable: the CPU has it and the kernel turned it on in XCR0. */
static bool avx_enabled(void)
{
	uint32_t a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(c & (1u << 27)) || !(c & (1u << 28)))     /* OSXSAVE, AVX */
		return false;
	__asm__ volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
	return (a & 6) == 6;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* A state no fresh thread may see: rounding toward zero, 53-bit x87
 * precision, flush-to-zero, TOP 5, condition codes set, every register
 * full of bytes that are not zero. Exceptions stay masked. */
static void junk_build(fpu_cap_t *j)
{
	fpu_cap_t probe = { .avx = 0 };
	uint32_t mask;

	fpu_store(&probe);
	mask = get32(probe.image + FX_MXCSR_MASK);
	if (!mask)
		mask = MXCSR_MASK_DEFAULT;
	for (int i = 0; i < CAP_IMAGE; i++)
		j->image[i] = (uint8_t)(0xa5 ^ i * 7);
	for (int i = 0; i < CAP_UPPER; i++)
		j->upper[i] = (uint8_t)(0x3c ^ i * 13);
	put16(j->image + FX_FCW, 0x0e7f);
	put16(j->image + FX_FSW, 0x6f00);
	j->image[FX_FTW] = 0xff;
	j->image[FX_FTW + 1] = 0;
	put32(j->image + FX_MXCSR, 0xffbf & mask);
	put32(j->image + FX_MXCSR_MASK, 0);
	for (int r = 0; r < 8; r++)     /* the 6 bytes after each 80-bit st are reserved */
		for (int i = 10; i < 16; i++)
			j->image[FX_REGS + 16 * r + i] = 0;
	j->avx = avx_enabled();
}

/* First offset where a and b differ in [from, to), or -1. */
static int diff_at(const uint8_t *a, const uint8_t *b, int from, int to)
{
	for (int i = from; i < to; i++)
		if (a[i] != b[i])
			return i;
	return -1;
}

/* The first byte of the captured state (out) that is not the junk
 * loaded, or -1. FOP, FIP and FDP are left out: CPUs may store them only
 * with an exception pending. */
static int junk_changed_at(void)
{
	int at = diff_at(junk.image, out.image, 0, FX_FOP);

	if (at < 0)
		at = diff_at(junk.image, out.image, FX_MXCSR, FX_MXCSR_MASK);
	if (at < 0)
		at = diff_at(junk.image, out.image, FX_REGS, FX_REGS_END);
	if (at < 0 && junk.avx && diff_at(junk.upper, out.upper, 0, CAP_UPPER) >= 0)
		at = CAP_IMAGE + diff_at(junk.upper, out.upper, 0, CAP_UPPER);
	return at;
}

static int run_dirty(uint64_t ms)
{
	junk_build(&junk);
	out.avx = junk.avx;
	printf("fpuclean dirty: holding junk registers%s for %llu ms\n", junk.avx ? " (avx too)" : "",
	       (unsigned long long)ms);
	long yields = fpu_dirty_run(&junk, &out, sl_clock_ms() + ms);
	int at = junk_changed_at();
	if (at >= 0) {
		printf("fpuclean dirty: register state changed at byte %d after %ld yields\n", at, yields);
		return 1;
	}
	printf("fpuclean dirty: %ld yields, registers intact: ok\n", yields);
	return 0;
}

static int run_calls(long n, unsigned seed)
{
	junk_build(&junk);
	for (int r = 0; r < 8; r++)     /* st0-7: their 10 bytes, not the reserved 6 */
		for (int i = 0; i < 10; i++)
			junk.image[FX_REGS + 16 * r + i] ^= (uint8_t)(seed * 41 + i);
	for (int i = FX_REGS + 128; i < FX_REGS_END; i++)  /* xmm0-15 */
		junk.image[i] ^= (uint8_t)(seed * 29 + i);
	for (int i = 0; i < CAP_UPPER; i++)
		junk.upper[i] ^= (uint8_t)(seed * 17 + i);
	out.avx = junk.avx;
	long failed = fpu_dirty_calls(&junk, &out, n, SL_TAG(ECHO_PING, 0, 0), SL_SLOT_SERVER);
	int at = junk_changed_at();
	if (at >= 0 || failed) {
		printf("fpuclean calls %u: %ld of %ld calls failed, register state changed at byte %d\n",
		       seed, failed, n, at);
		return 1;
	}
	printf("fpuclean calls %u: %ld calls answered, registers%s intact: ok\n", seed, n,
	       junk.avx ? " (avx too)" : "");
	return 0;
}

int fpu_fresh_check(fpu_cap_t *cap)
{
	static const uint8_t zero[CAP_IMAGE];
	uint8_t want[FX_REGS];
	int at;

	for (int i = 0; i < FX_REGS; i++)
		want[i] = 0;
	put16(want + FX_FCW, 0x037f);
	put32(want + FX_MXCSR, 0x1f80);
	at = diff_at(want, cap->image, 0, FX_MXCSR_MASK);
	if (at < 0)
		at = diff_at(zero, cap->image, FX_REGS, FX_REGS_END);
	if (at < 0 && cap->avx && diff_at(zero, cap->upper, 0, CAP_UPPER) >= 0)
		at = CAP_IMAGE + diff_at(zero, cap->upper, 0, CAP_UPPER);
	if (at >= 0) {
		fresh_bad++;
		printf("fpuclean check: a fresh thread saw FCW %#x FSW %#x FTW %#x MXCSR %#x, "
		       "first difference at byte %d\n", cap->image[FX_FCW] | cap->image[FX_FCW + 1] << 8,
		       cap->image[FX_FSW] | cap->image[FX_FSW + 1] << 8, cap->image[FX_FTW],
		       get32(cap->image + FX_MXCSR), at);
		return 1;
	}
	return 0;
}

static int run_check(int n)
{
	bool avx = avx_enabled();

	if (n < 1 || n > MAX_THREADS)
		n = MAX_THREADS;
	junk_build(&junk);
	sl_sleep_ms(200);               /* let the dirty silo load its junk */
	for (int i = 0; i < n; i++) {
		int code = -1;

		fresh[i].avx = avx;
		if (i % 2)
			fpu_load(&junk);        /* this thread's own values must not pass either */
		int tid = sl_thread_create(fpu_fresh_thread, &fresh[i]);
		if (tid < 0 || sl_thread_join(tid, &code) < 0) {
			printf("fpuclean check: thread %d could not run (%d)\n", i, tid);
			return 1;
		}
	}
	if (fresh_bad) {
		printf("fpuclean check: %d of %d fresh threads saw foreign state\n", fresh_bad, n);
		return 1;
	}
	printf("fpuclean check: %d fresh threads saw only the default state%s: ok\n", n,
	       avx ? " (x87 sse avx)" : " (x87 sse)");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "dirty") == 0)
		return run_dirty((uint64_t)strtol_simple(argv[2]));
	if (argc > 3 && strcmp(argv[1], "calls") == 0)
		return run_calls(strtol_simple(argv[2]), (unsigned)strtol_simple(argv[3]));
	if (argc > 2 && strcmp(argv[1], "check") == 0)
		return run_check((int)strtol_simple(argv[2]));
	printf("usage: fpuclean dirty MS | calls N SEED | check N\n");
	return 2;
}
