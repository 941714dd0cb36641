/*
 * faulter KIND: faults on purpose. The kernel must kill this silo with a
 * one-line report and carry on with the others.
 */
#include <sys/sluice.h>

static volatile int zero;
static volatile int *volatile low_address = (int *)0x10;
/* Present in every address space (the direct map), but supervisor-only. */
static volatile int *volatile kernel_address = (int *)0xffff800000100000ull;

static int recurse(int depth)
{
	volatile char pad[512];

	if (depth < 0)          /* never: keeps the recursion from looking endless */
		return 0;
	pad[0] = (char)depth;
	return recurse(depth + 1) + pad[0];
}

static int sleep_long(void *arg)
{
	(void)arg;
	sl_sleep_ms(3600 * 1000);
	return 0;
}

static int join_first(void *arg)
{
	int code;

	return sl_thread_join((int)(long)arg, &code);
}

/* Leaves threads blocked in sleep and in join, then faults: they must be
 * killed and freed with the rest of the silo. */
static void fault_with_threads(void)
{
	int first = sl_thread_create(sleep_long, NULL);

	for (int i = 0; i < 3; i++)
		sl_thread_create(sleep_long, NULL);
	sl_thread_create(join_first, (void *)(long)first);
	sl_sleep_ms(20);
	*low_address = 2;
}

/* Anonymous memory that was unmapped, or that is executed, faults: the
 * first proves the TLB was flushed (the page was just written, so a stale
 * entry would let the read through), the second that it is not executable. */
static void fault_on_anon(bool exec)
{
	void *p = NULL;

	if (sl_mem_map(&p, 1, 0) < 0)
		return;
	volatile unsigned char *b = p;
	b[0] = 0xc3;                    /* ret */
	if (exec)
		((void (*)(void))p)();
	else if (sl_mem_unmap(p, 1) == 0)
		printf("faulter: read %d after unmap\n", b[0]);
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
	else if (!strcmp(kind, "with-threads"))
		fault_with_threads();
	else if (!strcmp(kind, "kernel-write"))
		*kernel_address = 1;
	else if (!strcmp(kind, "x87"))          /* divide-by-zero unmasked in FCW: #MF at the fwait */
		__asm__ volatile("fldcw %0; fld1; fldz; fdivrp; fwait"
				 : : "m"((uint16_t){ 0x37f & ~0x4 }) : "st", "st(1)");
	else if (!strcmp(kind, "mem-unmapped"))
		fault_on_anon(false);
	else if (!strcmp(kind, "mem-exec"))
		fault_on_anon(true);
	printf("faulter %s: no fault happened\n", kind);
	return 1;
}
