/*
 * The floating-point work of fpuwork, shared by the silo and the host
 * program that computes its expected results at build time (fpuwork_gen).
 *
 * Only IEEE 754 basic operations are used (add, multiply, divide, square
 * root, integer conversion), on SSE2 doubles, packed SSE floats and x87
 * extended precision. Each is correctly rounded by definition, so the
 * same sequence gives the same bits on any conforming x86_64, compiled
 * with any optimisation level, provided nothing fuses or reorders them:
 * both sides build with -ffp-contract=off and no -ffast-math, and the
 * x87 part needs the default control word (64-bit precision, round to
 * nearest), which is what a fresh Sluice thread starts with and what a
 * Linux process has.
 */
#ifndef FPUWORK_H
#define FPUWORK_H

#include <stdint.h>

#define FPUWORK_SEEDS 8
#define FPUWORK_ITERS 240000
#define FPUWORK_WORDS 13

typedef float fpuwork_v4sf __attribute__((vector_size(16)));

/* Sums, square-root chains and logistic maps (chaotic: one flipped bit
 * anywhere changes every later value). */
typedef struct {
	double s, x, y;
	fpuwork_v4sf a, b;
	long double ls, lx, ly;
	uint64_t i;
} fpuwork_t;

static inline double fpuwork_sqrt(double v)
{
	__asm__("sqrtsd %1, %0" : "=x"(v) : "x"(v));
	return v;
}

static inline long double fpuwork_sqrtl(long double v)
{
	__asm__("fsqrt" : "+t"(v));
	return v;
}

static inline void fpuwork_init(fpuwork_t *w, int seed)
{
	w->s = 0;
	w->x = 1.0 + seed * 0.125;
	w->y = 0.1 + seed * 0.01;
	w->a = (fpuwork_v4sf){ 0.1f + seed * 0.01f, 0.2f, 0.3f + seed * 0.02f, 0.7f };
	w->b = (fpuwork_v4sf){ 0, 0, 0, 0 };
	w->ls = 0;
	w->lx = 2.0L + seed;
	w->ly = 0.3L + seed * 0.01L;
	w->i = 0;
}

/* Runs n more iterations. */
static inline void fpuwork_run(fpuwork_t *w, uint64_t n)
{
	const fpuwork_v4sf r = { 3.9f, 3.7f, 3.99f, 3.8f };
	const fpuwork_v4sf one = { 1.0f, 1.0f, 1.0f, 1.0f };

	for (uint64_t end = w->i + n; w->i < end; w->i++) {
		double di = (double)(w->i + 1);
		long double li = (long double)(w->i + 1);

		w->s += 1.0 / (di * di + w->x);
		w->x = fpuwork_sqrt(w->x + w->s) * 0.999 + 1.0 / di;
		w->y = 3.999 * w->y * (1.0 - w->y);
		w->a = r * w->a * (one - w->a);
		w->b += __builtin_ia32_sqrtps(w->a) / (w->a + one);
		w->ls += 1.0L / (li * li + w->lx);
		w->lx = fpuwork_sqrtl(w->lx + w->ls) * 0.999L + 1.0L / li;
		w->ly = 3.999L * w->ly * (1.0L - w->ly);
	}
}

/* The state as 64-bit words (long doubles: 64-bit significand, then the
 * 16-bit sign and exponent). */
static inline void fpuwork_words(const fpuwork_t *w, uint64_t out[FPUWORK_WORDS])
{
	const long double *ld[3] = { &w->ls, &w->lx, &w->ly };

	__builtin_memcpy(&out[0], &w->s, 8);
	__builtin_memcpy(&out[1], &w->x, 8);
	__builtin_memcpy(&out[2], &w->y, 8);
	__builtin_memcpy(&out[3], &w->a, 16);
	__builtin_memcpy(&out[5], &w->b, 16);
	for (int k = 0; k < 3; k++) {
		uint16_t se;

		__builtin_memcpy(&out[7 + 2 * k], ld[k], 8);
		__builtin_memcpy(&se, (const char *)ld[k] + 8, 2);
		out[8 + 2 * k] = se;
	}
}

#endif
