/*
 * Prints every argument between brackets, so spaces and empty arguments
 * show, then exits with the number after "exit=" in its first argument
 * (0 otherwise): the driver's tests check both reach the user.
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	printf("args: %s got %d argument(s)\n", argv[0], argc - 1);
	for (int i = 1; i < argc; i++)
		printf("args: [%d] [%s]\n", i, argv[i]);
	if (argc > 1 && strncmp(argv[1], "exit=", 5) == 0) {
		int code = 0;

		for (const char *p = argv[1] + 5; *p >= '0' && *p <= '9'; p++)
			code = code * 10 + (*p - '0');
		return code;
	}
	return 0;
}
