/*
 * spinner [forever | ROUNDS]: computes without a single system call. As
 * the first module (the server) with "forever", it never ends by itself:
 * the other silos can only finish if the scheduler preempts it, and the
 * kernel stops it at shutdown.
 */
#include <sys/sluice.h>

int main(int argc, char **argv)
{
	bool forever = argc > 1 && !strcmp(argv[1], "forever");
	uint64_t rounds = argc > 1 && !forever ? (uint64_t)strtol_simple(argv[1]) : 400000000;
	volatile uint64_t sink = 0;

	printf("spinner: spinning%s\n", forever ? " forever" : "");
	for (uint64_t i = 0; forever || i < rounds; i++)
		sink += i;
	printf("spinner: done\n");
	return 0;
}
