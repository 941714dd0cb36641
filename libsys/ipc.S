/*
 * long sl_ipc(long nr, unsigned long cap, sl_msg_t *msg)
 *
 * Loads the message registers from *msg (see <sys/ipc.h> for the layout),
 * makes the system call and stores the registers back. RBX, RBP and
 * R12-R15 are callee-saved in the C ABI, so they are saved around it.
 */
	.text
	.globl sl_ipc
sl_ipc:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx                      /* msg, for after the call */
	movq %rdi, %rax
	movq %rsi, %rdi
	movq 0(%rdx), %rsi
	movq 16(%rdx), %r10
	movq 24(%rdx), %r8
	movq 32(%rdx), %r9
	movq 40(%rdx), %r12
	movq 48(%rdx), %r13
	movq 56(%rdx), %r14
	movq 64(%rdx), %r15
	movq 80(%rdx), %rbx
	movq 8(%rdx), %rdx
	syscall
	popq %rcx                       /* msg */
	movq %rsi, 0(%rcx)
	movq %rdx, 8(%rcx)
	movq %r10, 16(%rcx)
	movq %r8, 24(%rcx)
	movq %r9, 32(%rcx)
	movq %r12, 40(%rcx)
	movq %r13, 48(%rcx)
	movq %r14, 56(%rcx)
	movq %r15, 64(%rcx)
	movq %rdi, 72(%rcx)
	movq %rbx, 80(%rcx)
	movq %rbp, 88(%rcx)
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
