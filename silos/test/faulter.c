/*
 * faulter KIND: faults on purpose. The kernel must kill this silo with a
 * one-line report and carry on with the others.
 */
#include <sys/sluice.h>

static volatile int zero;
static volatile int *volatile low_address = (int *)0x10;
static volatile int *volatile kernel_address = (int *)0xffffffff80100000ull;

static int recurse(int depth)
{
	volatile char pad[512];

	if (depth < 0)          /* never: keeps the recursion from looking endless */
		return 0;
	pad[0] = (char)depth;
	return recurse(depth + 1) + pad[0];
}

int main(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : "";

	printf("faulter %s: about to fault\n", kind);
	if (!strcmp(kind, "pagefault"))
		*low_address = 1;
	else if (!strcmp(kind, "invalid-opcode"))
		__asm__ volatile("ud2");
	else if (!strcmp(kind, "divide"))        /* in asm: the compiler may not divide */
		__asm__ volatile("xorl %%edx, %%edx; divl %0" : : "r"(zero), "a"(1) : "rdx");
	else if (!strcmp(kind, "gp"))
		__asm__ volatile("hlt");        /* privileged: #GP in ring 3 */
	else if (!strcmp(kind, "stack-overflow"))
		printf("%d\n", recurse(0));
	else if (!strcmp(kind, "kernel-write"))
		*kernel_address = 1;
	printf("faulter %s: no fault happened\n", kind);
	return 1;
}
