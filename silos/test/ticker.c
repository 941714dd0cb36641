/*
 * ticker LABEL [STEPS]: prints STEPS lines with a stretch of computation
 * between them, never yielding, so only timer preemption interleaves it
 * with other silos.
 */
#include <sys/sluice.h>

#define WORK 3000000

int main(int argc, char **argv)
{
	const char *label = argc > 1 ? argv[1] : "?";
	int steps = argc > 2 ? (int)strtol_simple(argv[2]) : 10;
	volatile uint64_t sink = 0;

	for (int i = 0; i < steps; i++) {
		printf("ticker %s: step %d\n", label, i);
		for (int w = 0; w < WORK; w++)
			sink += (uint64_t)w;
	}
	printf("ticker %s: done\n", label);
	return 0;
}
