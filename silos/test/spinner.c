/*
 * spinner [ROUNDS]: computes without a single system call for far longer
 * than the tickers need; they must finish first, which they can only do if
 * the scheduler preempts the spinner.
 */
#include <sys/sluice.h>

int main(int argc, char **argv)
{
	uint64_t rounds = argc > 1 ? (uint64_t)strtol_simple(argv[1]) : 400000000;
	volatile uint64_t sink = 0;

	printf("spinner: spinning\n");
	for (uint64_t i = 0; i < rounds; i++)
		sink += i;
	printf("spinner: done\n");
	return 0;
}
