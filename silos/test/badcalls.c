/*
 * badcalls: gives every system call bad pointers, bad lengths and bad
 * numbers and checks the documented error each time, then checks the
 * calls still work with good arguments. Prints TAP; exits 0 if all passed.
 */
#include <sys/sluice.h>

#define KERNEL_ADDR 0xffffffff80100000l
#define NONCANONICAL 0x0000900000000000l
#define NEAR_USER_TOP (0x0000800000000000l - 16)

static int count, failed;

static void check(int ok, const char *what, long got)
{
	count++;
	failed += !ok;
	printf("%s %d - %s (got %ld)\n", ok ? "ok" : "not ok", count, what, got);
}

static int return_code(void *arg)
{
	return (int)(long)arg;
}

static void bad_debug_write(void)
{
	long r;

	r = sl_debug_write(NULL, 8);
	check(r == SL_EFAULT, "debug_write(NULL) is SL_EFAULT", r);
	r = sl_debug_write((const char *)KERNEL_ADDR, 8);
	check(r == SL_EFAULT, "debug_write(kernel address) is SL_EFAULT", r);
	r = sl_debug_write((const char *)NONCANONICAL, 8);
	check(r == SL_EFAULT, "debug_write(non-canonical) is SL_EFAULT", r);
	r = sl_debug_write((const char *)NEAR_USER_TOP, 64);
	check(r == SL_EFAULT, "debug_write crossing the top of user space is SL_EFAULT", r);
	r = sl_debug_write("x", SL_DEBUG_WRITE_MAX + 1);
	check(r == SL_EINVAL, "debug_write longer than SL_DEBUG_WRITE_MAX is SL_EINVAL", r);
	r = sl_debug_write("x", (size_t)-1);
	check(r == SL_EINVAL, "debug_write with length -1 is SL_EINVAL", r);
	r = sl_debug_write("", 0);
	check(r == 0, "debug_write of 0 bytes is 0", r);
}

static void bad_numbers(void)
{
	long r;

	r = sl_syscall(SL_SYS_COUNT, 0, 0, 0, 0, 0, 0);
	check(r == SL_ENOSYS, "syscall SL_SYS_COUNT is SL_ENOSYS", r);
	r = sl_syscall(9999, 1, 2, 3, 4, 5, 6);
	check(r == SL_ENOSYS, "syscall 9999 is SL_ENOSYS", r);
	r = sl_syscall(-1, 0, 0, 0, 0, 0, 0);
	check(r == SL_ENOSYS, "syscall -1 is SL_ENOSYS", r);
	r = sl_syscall(SL_SYS_NULL, 0, 0, 0, 0, 0, 0);
	check(r == 0, "syscall SL_SYS_NULL is 0", r);
}

static void bad_threads(void)
{
	long r;
	int code = 7;

	r = sl_syscall(SL_SYS_THREAD_CREATE, 0, 0, 0, 0, 0, 0);
	check(r == SL_EINVAL, "thread_create(entry 0) is SL_EINVAL", r);
	r = sl_syscall(SL_SYS_THREAD_CREATE, KERNEL_ADDR, 0, 0, 0, 0, 0);
	check(r == SL_EINVAL, "thread_create(kernel entry) is SL_EINVAL", r);
	r = sl_thread_join(123456, &code);
	check(r == SL_ESRCH, "thread_join(unknown id) is SL_ESRCH", r);
	r = sl_thread_join(-5, &code);
	check(r == SL_ESRCH, "thread_join(-5) is SL_ESRCH", r);

	int tid = sl_thread_create(return_code, (void *)42);
	check(tid > 0, "thread_create works", tid);
	r = sl_thread_join(tid, NULL);
	check(r == SL_EFAULT, "thread_join(tid, NULL) is SL_EFAULT", r);
	r = sl_thread_join(tid, (int *)KERNEL_ADDR);
	check(r == SL_EFAULT, "thread_join(tid, kernel pointer) is SL_EFAULT", r);
	r = sl_thread_join(tid, &code);
	check(r == 0 && code == 42, "the thread is still joinable after the bad joins, code 42", code);
	r = sl_thread_join(tid, &code);
	check(r == SL_ESRCH, "joining it twice is SL_ESRCH", r);
}

static void thread_slots_run_out(void)
{
	int tids[SL_THREADS_MAX + 1], made = 0, code, joined = 0;
	long r = 0;

	while (made <= SL_THREADS_MAX && (r = sl_thread_create(return_code, (void *)0)) > 0)
		tids[made++] = (int)r;
	check(r == SL_EQUOTA && made == SL_THREADS_DEFAULT - 1,
	      "thread SL_THREADS_DEFAULT of a silo (main included) is SL_EQUOTA", r);
	for (int i = 0; i < made; i++)
		joined += sl_thread_join(tids[i], &code) == 0 && code == 0;
	check(joined == made, "every thread made before the limit joins", joined);
	r = sl_thread_create(return_code, (void *)3);
	check(r > 0 && sl_thread_join((int)r, &code) == 0 && code == 3,
	      "after joining, threads can be made again", r);
}

static void bad_sleep(void)
{
	long r = sl_sleep_ms(SL_SLEEP_MAX_MS + 1);

	check(r == SL_EINVAL, "sleep past SL_SLEEP_MAX_MS is SL_EINVAL", r);
	uint64_t t0 = sl_clock_ms();
	r = sl_sleep_ms(30);
	check(r == 0 && sl_clock_ms() - t0 >= 30, "sleep(30 ms) sleeps at least 30 ms",
	      (long)(sl_clock_ms() - t0));
}

int main(void)
{
	printf("TAP version 13\n");
	bad_debug_write();
	bad_numbers();
	bad_threads();
	thread_slots_run_out();
	bad_sleep();
	printf("1..%d\n", count);
	printf("badcalls: %d of %d checks failed\n", failed, count);
	return failed ? 1 : 0;
}
