/*
 * System-call dispatch. Each handler checks all of its arguments before it
 * changes anything (decode, then invoke); a bad argument is an error code.
 */
#include <abi/errors.h>
#include <abi/syscall.h>
#include <arch/arch.h>
#include <arch/trap.h>
#include <kernel/ipc.h>
#include <kernel/printk.h>
#include <kernel/silo.h>
#include <stdint.h>

void syscall_dispatch(trap_frame_t *f);

static int64_t sys_debug_write(uint64_t buf, uint64_t len)
{
	char text[SL_DEBUG_WRITE_MAX];

	if (len > SL_DEBUG_WRITE_MAX)
		return SL_EINVAL;
	if (copy_from_user(text, buf, len) < 0)
		return SL_EFAULT;
	kprintf("%.*s", (int)len, text);
	return (int64_t)len;
}

static int64_t sys_thread_join(silo_t *s, uint64_t tid, uint64_t code_ptr)
{
	if (tid > INT64_MAX)
		return SL_ESRCH;
	return silo_thread_join(s, (int64_t)tid, code_ptr);
}

static int64_t sys_sleep(uint64_t ms)
{
	uint64_t hz = arch_timer_hz();

	if (ms > SL_SLEEP_MAX_MS)
		return SL_EINVAL;
	return sched_sleep((ms * hz + 999) / 1000);
}

static int64_t dispatch(uint64_t nr, trap_frame_t *f)
{
	silo_t *s = thread_current()->silo;

	if ((nr >= SL_SYS_CAP_COPY && nr <= SL_SYS_EVENTS_BIND) || nr == SL_SYS_REPLY2_RECV)
		return ipc_syscall((unsigned)nr, f);
	switch (nr) {
	case SL_SYS_NULL:
		return 0;
	case SL_SYS_DEBUG_WRITE:
		return sys_debug_write(f->rdi, f->rsi);
	case SL_SYS_EXIT:
		silo_exit((int)f->rdi);
	case SL_SYS_THREAD_CREATE:
		return silo_thread_spawn(s, f->rdi, f->rsi, f->rdx);
	case SL_SYS_THREAD_EXIT:
		silo_thread_exit((int)f->rdi);
	case SL_SYS_THREAD_JOIN:
		return sys_thread_join(s, f->rdi, f->rsi);
	case SL_SYS_SLEEP:
		return sys_sleep(f->rdi);
	case SL_SYS_YIELD:
		sched_yield();
		return 0;
	case SL_SYS_SILO_ID:
		return s->id;
	case SL_SYS_CLOCK:
		return (int64_t)(sched_ticks() * 1000 / arch_timer_hz());
	case SL_SYS_MEM_MAP:
		return silo_mem_map(s, f->rdi, f->rsi, f->rdx);
	case SL_SYS_MEM_UNMAP:
		return silo_mem_unmap(s, f->rdi, f->rsi);
	default:
		return SL_ENOSYS;
	}
}

/* syscall.S tests this range before it calls ipc_fastpath_table. */
_Static_assert(SL_SYS_CALL == 20 && SL_SYS_REPLY2_RECV == 31, "syscall_entry's fast-path range");

/* Every system call the fast path did not finish (ipc_fastpath_table, called
 * from syscall_entry, already tried those it may take). Interrupts on. */
void syscall_dispatch(trap_frame_t *f)
{
	f->rax = (uint64_t)dispatch(f->rax, f);
	silo_return_to_user();
}

/* The end of a system call that owes a switch (syscall.S tests
 * sched_need_resched on the way out): the more urgent thread runs now,
 * and this one leaves when it is next picked, unless it was killed
 * meanwhile. Interrupts off, and still off on return. */
void syscall_preempt(void)
{
	sched_preempt_point();
	silo_return_to_user();
}
