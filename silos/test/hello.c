/* Prints who it is and exits 0. */
#include <sys/sluice.h>

int main(int argc, char **argv)
{
	printf("hello from silo %s (id %d), %d argument(s)\n", argv[0], sl_silo_id(), argc - 1);
	for (int i = 1; i < argc; i++)
		printf("  argv[%d] = %s\n", i, argv[i]);
	return 0;
}
