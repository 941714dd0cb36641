/*
 * The IPC fast path's switch (see kernel/ipc/fastpath.c), all of it here:
 * it runs on every blocking IPC, so it makes no call.
 *
 * A thread that blocks in the fast path keeps nothing on its kernel stack
 * but its user frame (the trap_frame_t the system-call entry built). Its
 * saved context is made up so that any switch to it (arch_switch: six
 * pops, popfq, then ret) lands in fastpath_resume_stub with RSP at that
 * frame and RFLAGS at the kernel's own value (0x2: interrupts off, as
 * every switch runs), which finishes the system call in C and leaves
 * through syscall_exit. A thread blocked that way can also be resumed
 * without touching its kernel stack at all: its frame is loaded and
 * SYSRET taken at once.
 *
 * void arch_fast_switch(thread_t *prev, thread_t *next, bool next_in_user)
 *   The machine half of the switch, as arch_switch_machine (<arch/switch.h>)
 *   does it for the scheduler's switch: the FPU state (prev is a silo
 *   thread: its state is saved; next's is loaded unless it is a kernel
 *   thread or its state is still loaded), next's address space and the
 *   kernel stack traps and system calls land on. Then prev blocks as above and
 *   next goes on: into user mode from its frame if next_in_user, else by
 *   popping its context as arch_switch does. Interrupts are off; never
 *   returns.
 */
#include <arch/asm_offsets.h>
#include <arch/percpu.h>
#include <arch/regs.h>
#include <arch/rflags.h>

	.text
	.globl arch_fast_switch, fastpath_resume_stub
arch_fast_switch:
	movl %edx, %r8d                 /* next_in_user; EDX goes to XSAVE */
	/* FPU: prev, a silo thread blocking in a system call, is saved;
	 * next is loaded unless it is a kernel thread or still loaded. One
	 * mask (EDX:EAX, every component) serves both. */
	movl $-1, %eax
	movl $-1, %edx
	movq THREAD_FPU_STATE(%rdi), %rcx
	cmpb $0, fpu_use_xsave(%rip)
	je 6f
	xsave64 (%rcx)
3:	cmpq $0, THREAD_SILO(%rsi)
	je 2f
	movq THREAD_ID(%rsi), %rcx
	cmpq fpu_loaded_id(%rip), %rcx
	je 1f
	movq %rcx, fpu_loaded_id(%rip)
	movq THREAD_FPU_STATE(%rsi), %rcx
	cmpb $0, fpu_use_xsave(%rip)
	je 7f
	xrstor64 (%rcx)
1:	/* Address space: the silo's, or the kernel's for a kernel thread. */
	movq THREAD_SILO(%rsi), %rax
	movq SILO_SPACE(%rax), %rax
	movq VM_SPACE_ROOT(%rax), %rax
5:	movq %cr3, %rcx
	cmpq %rax, %rcx
	je 9f
	movq %rax, %cr3
9:	/* The stack interrupts and system calls from user mode land on. */
	movq THREAD_KSTACK_TOP(%rsi), %rax
	movq %rax, %gs:PERCPU_KERNEL_RSP
	movq %gs:PERCPU_TSS_RSP0, %rcx
	movq %rax, (%rcx)
	/* prev's context, made up to resume in fastpath_resume_stub. */
	movq THREAD_UFRAME(%rdi), %rax
	leaq -64(%rax), %rcx
	movq %rcx, THREAD_CTX_RSP(%rdi)
	leaq fastpath_resume_stub(%rip), %rcx
	movq %rcx, -8(%rax)
	movq $RFLAGS_KERNEL, -16(%rax)
	testl %r8d, %r8d
	jz 8f
	movq THREAD_UFRAME(%rsi), %rsp
	jmp syscall_exit_irqs_off
8:	movq THREAD_CTX_RSP(%rsi), %rsp
	pop_switch_context

2:	leaq vm_kernel_space_rec(%rip), %rax    /* a kernel thread */
	movq VM_SPACE_ROOT(%rax), %rax
	jmp 5b
6:	fxsave64 (%rcx)
	jmp 3b
7:	fxrstor64 (%rcx)
	jmp 1b

fastpath_resume_stub:
	xorl %ebp, %ebp         /* the popped registers were never saved */
	movq %rsp, %rdi
	call ipc_fastpath_resume
	jmp syscall_exit
