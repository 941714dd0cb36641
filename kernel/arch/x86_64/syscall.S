/*
 * SYSCALL entry and SYSRET exit.
 *
 * SYSCALL arrives with interrupts masked (FMASK), the user's RIP in RCX and
 * RFLAGS in R11, and the user stack still loaded. FMASK has cleared every
 * flag (<arch/rflags.h>), so nothing user code set in RFLAGS reaches the
 * kernel; on the way out R11 keeps only the flags user code may set. The entry switches to the
 * thread's kernel stack (per-CPU data through GS) and builds the same
 * trap_frame_t an interrupt would, so the C side sees one frame shape.
 * Number in RAX, arguments in RDI RSI RDX R10 R8 R9, result in RAX.
 *
 * SYSRET to a non-canonical RIP would fault in ring 0. It cannot happen:
 * RCX is the address after a SYSCALL instruction in a user page, and no
 * user page is mapped in the last 64 GiB below the canonical hole.
 */
#include <arch/gdt.h>
#include <arch/regs.h>
#include <arch/percpu.h>
#include <arch/rflags.h>

#define SYSCALL_VECTOR 256

	.text
	.globl syscall_entry
syscall_entry:
	swapgs
	movq %rsp, %gs:PERCPU_USER_RSP
	movq %gs:PERCPU_KERNEL_RSP, %rsp
	pushq $SEL_USER_DATA
	pushq %gs:PERCPU_USER_RSP
	pushq %r11
	pushq $SEL_USER_CODE
	pushq %rcx
	pushq $0
	pushq $SYSCALL_VECTOR
	push_gprs
	xorl %ebp, %ebp         /* backtraces stop at the user boundary */
	movq %rsp, %rdi
	/* SL_SYS_CALL (20) to SL_SYS_REPLY2_RECV (31), pinned in syscall.c:
	 * the IPC fast path's entry for the number (one that returns false
	 * at once for those between that it does not take), still with
	 * interrupts off; it either finishes the call (or blocks and never
	 * comes back) or changes nothing. */
	leaq -20(%rax), %rcx
	cmpq $11, %rcx
	ja 1f
	call *ipc_fastpath_table(,%rcx,8)      /* all "no" with ipc.slowpath */
	testb %al, %al
	jnz 2f                  /* a reply done: it may have woken a more urgent thread */
	movq %rsp, %rdi
1:	sti
	call syscall_dispatch
	.globl syscall_exit, syscall_exit_irqs_off
syscall_exit:
	cli
2:	cmpb $0, sched_need_resched(%rip)
	jne 3f
syscall_exit_irqs_off:          /* also the IPC fast path's way out (fastswitch.S) */
	pop_gprs
	addq $16, %rsp          /* vector, error */
	popq %rcx               /* user RIP */
	addq $8, %rsp           /* CS */
	popq %r11               /* user RFLAGS */
	andq $RFLAGS_USER_MASK, %r11
	orq $RFLAGS_USER_SET, %r11
	popq %rsp               /* user RSP; SS is implied by SYSRET */
	swapgs
	sysretq
3:	call syscall_preempt    /* a switch is owed; back with interrupts off */
	jmp syscall_exit_irqs_off

/*
 * void arch_enter_user(uint64_t rip, uint64_t rsp, uint64_t a0, uint64_t a1)
 * First entry of a thread into ring 3, with a0/a1 in RDI/RSI and every
 * other register zero.
 */
	.globl arch_enter_user
arch_enter_user:
	cli
	pushq $SEL_USER_DATA
	pushq %rsi
	pushq $RFLAGS_USER_SET  /* IF set, every other flag clear */
	pushq $SEL_USER_CODE
	pushq %rdi
	movq %rdx, %rdi
	movq %rcx, %rsi
	xorl %eax, %eax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %ebp, %ebp
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	xorl %r12d, %r12d
	xorl %r13d, %r13d
	xorl %r14d, %r14d
	xorl %r15d, %r15d
	swapgs
	iretq

/*
 * int arch_user_copy(void *dst, const void *src, size_t n)
 * Copies n bytes; returns 0, or SL_EFAULT (-5) if a page fault hit the
 * copy: the page-fault handler moves RIP from user_copy_insn to
 * user_copy_fault. Callers have checked, with interrupts off, that every
 * page of the user side is mapped with the rights the copy needs, so the
 * fault is a second line that should never fire: a copy it stops has
 * written a part.
 */
	.globl arch_user_copy, user_copy_insn, user_copy_fault
arch_user_copy:
	movq %rdx, %rcx
user_copy_insn:
	rep movsb
	xorl %eax, %eax
	ret
user_copy_fault:
	movl $-5, %eax
	ret
