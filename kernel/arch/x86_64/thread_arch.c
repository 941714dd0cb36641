/*
 * Thread switching for x86_64: the initial stack of a new thread, and the
 * per-switch work (CR3, TSS.rsp0, the system-call stack, FPU state).
 */
#include <arch/switch.h>
#include <kernel/sched_arch.h>

void arch_switch(uint64_t *save_rsp, uint64_t next_rsp);
void arch_switch_to_fast_blocked(uint64_t *save_rsp, trap_frame_t *frame); /* fastswitch.S */
extern const char thread_entry_stub[];

void arch_thread_setup(thread_t *t)
{
	uint64_t *sp = (uint64_t *)t->kstack_top;

	*--sp = (uint64_t)thread_entry_stub;    /* arch_switch's ret */
	*--sp = RFLAGS_KERNEL;                  /* interrupts off until thread_start */
	for (int i = 0; i < 6; i++)             /* rbp rbx r12 r13 r14 r15 */
		*--sp = 0;
	t->ctx_rsp = (uint64_t)sp;
	/* Where system calls and traps from user mode put the user's
	 * registers: the kernel stack is empty whenever the thread runs in
	 * user mode, so the frame is always at its top. */
	t->uframe = (trap_frame_t *)t->kstack_top - 1;
	fpu_thread_init(t);
}

void arch_switch_to(thread_t *prev, thread_t *next)
{
	arch_switch_machine(prev, next);
	if (next->ipc_fast_blocked)     /* no saved context: see fastswitch.S */
		arch_switch_to_fast_blocked(&prev->ctx_rsp, next->uframe);
	else
		arch_switch(&prev->ctx_rsp, next->ctx_rsp);
}
