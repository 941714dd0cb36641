/*
 * void arch_switch(uint64_t *save_rsp, uint64_t next_rsp)
 *
 * Saves the callee-saved registers and RFLAGS on the current stack, stores
 * the stack pointer in *save_rsp, loads next_rsp and pops the next
 * thread's registers and RFLAGS. RFLAGS is per thread so that no flag one
 * thread's kernel path holds (IF aside, always clear here; DF, AC, NT
 * should never be set, but a switch is not where that would be caught)
 * can reach another thread and its iretq. A new thread's stack is laid out
 * by arch_thread_setup so that the final ret lands in thread_entry_stub.
 */
#include <arch/regs.h>

	.text
	.globl arch_switch, thread_entry_stub
arch_switch:
	push_switch_context (%rdi)
	movq %rsi, %rsp
	pop_switch_context

thread_entry_stub:
	xorl %ebp, %ebp         /* ends backtraces */
	call thread_start
	ud2
