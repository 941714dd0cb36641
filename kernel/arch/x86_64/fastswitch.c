/*
 * The architecture half of the IPC fast path's switch: address space and
 * kernel stack of the next thread, then fastswitch.S.
 */
#include <arch/switch.h>
#include <arch/trap.h>
#include <kernel/sched_arch.h>

void arch_fastpath_leave(uint64_t *save_rsp, trap_frame_t *my_frame, uint64_t next_rsp,
			 trap_frame_t *next_frame) __attribute__((noreturn));

void arch_fast_switch(thread_t *prev, thread_t *next, bool next_in_user)
{
	arch_switch_machine(prev, next);
	arch_fastpath_leave(&prev->ctx_rsp, prev->uframe, next->ctx_rsp,
			    next_in_user ? next->uframe : NULL);
}
