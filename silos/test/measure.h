/*
 * Instruction counting for the benchmark silos: under QEMU -icount
 * shift=0, rdtsc advances by one per guest instruction.
 */
#ifndef MEASURE_H
#define MEASURE_H

#include <sys/sluice.h>

/* Instructions of an empty loop of `rounds`, to subtract from a measured one. */
static inline uint64_t loop_overhead(int rounds)
{
	uint64_t t0 = sl_rdtsc();

	for (int i = 0; i < rounds; i++)
		__asm__ volatile("" ::: "memory");
	return sl_rdtsc() - t0;
}

/* Instructions per null system call, over `rounds` calls. */
static inline uint64_t null_syscall_cost(int rounds)
{
	uint64_t base = loop_overhead(rounds), t0 = sl_rdtsc();

	for (int i = 0; i < rounds; i++)
		sl_syscall(SL_SYS_NULL, 0, 0, 0, 0, 0, 0);
	return (sl_rdtsc() - t0 - base) / (uint64_t)rounds;
}

#endif
