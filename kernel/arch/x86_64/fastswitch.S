/*
 * The IPC fast path's switch (see kernel/ipc/fastpath.c).
 *
 * A thread that blocks in the fast path keeps nothing on its kernel stack
 * but its user frame (the trap_frame_t the system-call entry built). Its
 * saved context is made up so that any switch to it (arch_switch: six
 * pops, popfq, then ret) lands in fastpath_resume_stub with RSP at that
 * frame and RFLAGS at the kernel's own value (0x2: interrupts off, as
 * every switch runs),
 * which finishes the system call in C and leaves through syscall_exit.
 * A thread blocked that way can also be resumed without touching its
 * kernel stack at all: its frame is loaded and SYSRET taken at once.
 *
 * void arch_fastpath_leave(uint64_t *save_rsp, trap_frame_t *my_frame,
 *                          uint64_t next_rsp, trap_frame_t *next_frame)
 *   Blocks the current thread as above (*save_rsp, below my_frame), then
 *   goes on as the next thread: into user mode from next_frame if that is
 *   not NULL, else by popping next_rsp's context as arch_switch does.
 *   Interrupts are off; never returns.
 */
#include <arch/regs.h>
#include <arch/rflags.h>

	.text
	.globl arch_fastpath_leave, fastpath_resume_stub
arch_fastpath_leave:
	leaq -64(%rsi), %rax
	movq %rax, (%rdi)
	leaq fastpath_resume_stub(%rip), %rax
	movq %rax, -8(%rsi)
	movq $RFLAGS_KERNEL, -16(%rsi)
	testq %rcx, %rcx
	jz 1f
	movq %rcx, %rsp
	jmp syscall_exit
1:	movq %rdx, %rsp
	pop_switch_context

fastpath_resume_stub:
	xorl %ebp, %ebp         /* the popped registers were never saved */
	movq %rsp, %rdi
	call ipc_fastpath_resume
	jmp syscall_exit
