/*
 * System-call stubs. See <abi/syscall.h> for the convention.
 */
#include <sys/sluice.h>

long sl_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

long sl_debug_write(const char *buf, size_t len)
{
	return sl_syscall(SL_SYS_DEBUG_WRITE, (long)buf, (long)len, 0, 0, 0, 0);
}

void sl_exit(int code)
{
	sl_syscall(SL_SYS_EXIT, code, 0, 0, 0, 0, 0);
	__builtin_unreachable();
}

extern char __sl_thread_start[];

int sl_thread_create(int (*fn)(void *), void *arg)
{
	return (int)sl_syscall(SL_SYS_THREAD_CREATE, (long)__sl_thread_start, (long)fn,
			       (long)arg, 0, 0, 0);
}

void sl_thread_exit(int code)
{
	sl_syscall(SL_SYS_THREAD_EXIT, code, 0, 0, 0, 0, 0);
	__builtin_unreachable();
}

int sl_thread_join(int tid, int *code)
{
	return (int)sl_syscall(SL_SYS_THREAD_JOIN, tid, (long)code, 0, 0, 0, 0);
}

int sl_sleep_ms(uint64_t ms)
{
	return (int)sl_syscall(SL_SYS_SLEEP, (long)ms, 0, 0, 0, 0, 0);
}

int sl_yield(void)
{
	return (int)sl_syscall(SL_SYS_YIELD, 0, 0, 0, 0, 0, 0);
}

int sl_silo_id(void)
{
	return (int)sl_syscall(SL_SYS_SILO_ID, 0, 0, 0, 0, 0, 0);
}

uint64_t sl_clock_ms(void)
{
	return (uint64_t)sl_syscall(SL_SYS_CLOCK, 0, 0, 0, 0, 0, 0);
}

int sl_mem_map(void **addr, size_t pages, unsigned flags)
{
	long r = sl_syscall(SL_SYS_MEM_MAP, (long)*addr, (long)pages, (long)flags, 0, 0, 0);

	if (r < 0)
		return (int)r;
	*addr = (void *)r;
	return SL_OK;
}

int sl_mem_unmap(void *addr, size_t pages)
{
	return (int)sl_syscall(SL_SYS_MEM_UNMAP, (long)addr, (long)pages, 0, 0, 0, 0);
}
