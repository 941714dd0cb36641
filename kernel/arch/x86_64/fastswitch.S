/*
 * The IPC fast path's switch (see kernel/ipc/fastpath.c), all of it here:
 * it runs on every blocking IPC, so it makes no call.
 *
 * A thread that blocks in the fast path keeps nothing on its kernel stack
 * but its user frame (the trap_frame_t the system-call entry built), and
 * no saved context: ipc_fast_blocked tells both switches so. The common
 * way back is its answer, straight into user mode: its frame is loaded
 * and SYSRET taken at once. Any other way (woken by the generic path,
 * killed, its endpoint gone) resumes it in fastpath_resume_stub on its
 * frame, which finishes the system call in C: arch_switch_to takes
 * arch_switch_to_fast_blocked for it, and this switch does the same.
 *
 * void arch_fast_switch(thread_t *prev, thread_t *next, bool next_in_user)
 *   The machine half of the switch, as arch_switch_machine (<arch/switch.h>)
 *   does it for the scheduler's switch: the FPU state (prev is a silo
 *   thread: its state is saved; next's is loaded unless it is a kernel
 *   thread or its state is still loaded), next's address space and the
 *   kernel stack traps and system calls land on. Then prev is left as it
 *   is (blocked as above) and next goes on: into user mode from its frame
 *   if next_in_user, else where it blocked. Interrupts are off; never
 *   returns.
 */
#include <arch/asm_offsets.h>
#include <arch/percpu.h>
#include <arch/regs.h>
#include <arch/rflags.h>

/*
 * The switch after the FPU save of prev (in %r8's area), for one pair of
 * save and load instructions: fpu_use_xsave is tested once, and each
 * kind of FPU has its own copy of the rest.
 */
.macro fast_switch_rest load
	/* FPU: next is loaded unless it is a kernel thread or its state is
	 * still in the registers. */
	cmpq $0, THREAD_SILO(%rsi)
	je 2f
	movq THREAD_ID(%rsi), %rcx
	cmpq fpu_loaded_id(%rip), %rcx
	je 1f
	movq %rcx, fpu_loaded_id(%rip)
	movq THREAD_FPU_STATE(%rsi), %rcx
	\load (%rcx)
1:	/* Address space: the silo's, or the kernel's for a kernel thread. */
	movq THREAD_SPACE_ROOT(%rsi), %rax
3:	movq %cr3, %rcx
	cmpq %rax, %rcx
	je 4f
	movq %rax, %cr3
4:	/* The stack interrupts and system calls from user mode land on. */
	movq THREAD_KSTACK_TOP(%rsi), %rax
	movq %rax, %gs:PERCPU_KERNEL_RSP        /* the TSS's rsp[0] */
	testb %r9b, %r9b                /* a bool: its low byte only */
	jz fast_switch_in_kernel
	movq THREAD_UFRAME(%rsi), %rsp
	jmp syscall_exit_irqs_off
2:	leaq vm_kernel_space_rec(%rip), %rax    /* a kernel thread */
	movq VM_SPACE_ROOT(%rax), %rax
	jmp 3b
.endm

	.text
	.globl arch_fast_switch, arch_switch_to_fast_blocked
arch_fast_switch:
	movl %edx, %r9d                 /* next_in_user; EDX goes to XSAVE */
	movq THREAD_FPU_STATE(%rdi), %r8
	cmpb $0, fpu_use_xsave(%rip)
	je .Lfxsave
	/* One mask (EDX:EAX, every component) serves save and load. */
	movl $-1, %eax
	movl $-1, %edx
	xsave64 (%r8)
	fast_switch_rest xrstor64
.Lfxsave:
	fxsave64 (%r8)
	fast_switch_rest fxrstor64

/* next goes on in the kernel: where it blocked, or, if it blocked in the
 * fast path, in fastpath_resume_stub on its frame. Either way it runs
 * finish_switch first, which reads sched_switched_from (prev, blocked:
 * nothing to reap). Going straight to user mode needs neither. */
fast_switch_in_kernel:
	movq %rdi, sched_switched_from(%rip)
	cmpb $0, THREAD_FAST_BLOCKED(%rsi)
	jne 1f
	movq THREAD_CTX_RSP(%rsi), %rsp
	pop_switch_context
1:	movq THREAD_UFRAME(%rsi), %rsp
	jmp fastpath_resume_stub

/*
 * void arch_switch_to_fast_blocked(uint64_t *save_rsp, trap_frame_t *frame)
 * arch_switch for a next thread that blocked in the fast path: prev's
 * context is saved as arch_switch saves it, and next resumes on its
 * frame in fastpath_resume_stub.
 */
arch_switch_to_fast_blocked:
	push_switch_context (%rdi)
	movq %rsi, %rsp
	/* fall through */

/* A thread that blocked in the fast path, resumed by anything but an
 * answer straight to user mode: RSP is at its frame. It finishes its
 * system call in C and leaves through syscall_exit. */
fastpath_resume_stub:
	pushq $RFLAGS_KERNEL    /* interrupts off; no flag of the thread before */
	popfq
	xorl %ebp, %ebp         /* no frame of the thread before */
	movq %rsp, %rdi
	call ipc_fastpath_resume
	jmp syscall_exit
