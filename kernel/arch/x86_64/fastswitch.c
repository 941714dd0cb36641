/*
 * The architecture half of the IPC fast path's switch: address space and
 * kernel stack of the next thread, then fastswitch.S.
 */
#include <arch/fpu.h>
#include <arch/percpu.h>
#include <arch/trap.h>
#include <kernel/sched_arch.h>
#include <kernel/silo.h>
#include <kernel/vm.h>

void arch_fastpath_leave(uint64_t *save_rsp, trap_frame_t *my_frame, uint64_t next_rsp,
			 trap_frame_t *next_frame) __attribute__((noreturn));

void arch_fast_switch(thread_t *prev, thread_t *next, bool next_in_user)
{
	vm_activate(next->silo ? next->silo->space : vm_kernel_space());
	percpu_set_kernel_stack(next->kstack_top);
	fpu_switch(prev, next);
	arch_fastpath_leave(&prev->ctx_rsp, prev->uframe, next->ctx_rsp,
			    next_in_user ? next->uframe : NULL);
}
