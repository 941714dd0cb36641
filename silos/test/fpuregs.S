/*
 * Register-level routines for fpuclean: loading, holding and capturing the
 * whole x87/SSE/AVX state with no compiled code in between (compiled C
 * may use XMM registers at any point).
 *
 * Capture layout: a 512-byte FXSAVE image (16-byte aligned), then the
 * upper halves of ymm0..15 (256 bytes), then the AVX flag (a byte).
 */
#define CAP_UPPER 512
#define CAP_AVX 768
#define SYS_YIELD 7
#define SYS_CLOCK 9
#define SYS_CALL 20

	.text

/* void fpu_load(const void *cap): loads every register from cap. */
	.globl fpu_load
fpu_load:
	fxrstor64 (%rdi)
	cmpb $0, CAP_AVX(%rdi)
	je 1f
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vinsertf128 $1, CAP_UPPER+16*\r(%rdi), %ymm\r, %ymm\r
	.endr
1:	ret

/* void fpu_store(void *cap): stores every register into cap. */
	.globl fpu_store
fpu_store:
	fxsave64 (%rdi)
	cmpb $0, CAP_AVX(%rdi)
	je 1f
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vextractf128 $1, %ymm\r, CAP_UPPER+16*\r(%rdi)
	.endr
1:	ret

/*
 * long fpu_dirty_run(const void *junk, void *out, uint64_t deadline_ms)
 * Loads junk, then spins and yields (raw system calls, which clobber only
 * RAX, RCX and R11) until the clock reaches deadline_ms, stores the
 * registers into out and returns the number of yields.
 */
	.globl fpu_dirty_run
fpu_dirty_run:
	pushq %rbx
	pushq %r12
	pushq %r13
	movq %rsi, %r12
	movq %rdx, %r13
	xorl %ebx, %ebx
	call fpu_load
2:	movl $20000, %ecx
3:	decl %ecx
	jnz 3b
	movl $SYS_YIELD, %eax
	syscall
	incq %rbx
	movl $SYS_CLOCK, %eax
	syscall
	cmpq %r13, %rax
	jb 2b
	movq %r12, %rdi
	call fpu_store
	movq %rbx, %rax
	popq %r13
	popq %r12
	popq %rbx
	ret

/*
 * long fpu_dirty_calls(const void *junk, void *out, long n, uint64_t tag,
 *                      unsigned long ep)
 * Loads junk, then makes n calls on ep with tag (which must ask for an
 * answer of no words) from raw system calls: an answer of no words leaves
 * RDX, R8-R10 and R12-R15 as they were, and touches no FPU register.
 * Stores the registers into out and returns how many calls failed.
 */
	.globl fpu_dirty_calls
fpu_dirty_calls:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %r8                       /* ep, at (%rsp) */
	movq %rsi, %r12                 /* out */
	movq %rdx, %r13                 /* calls left */
	movq %rcx, %r15                 /* tag */
	xorl %r14d, %r14d               /* calls failed */
	call fpu_load
	testq %r13, %r13
	jle 3f
1:	movl $SYS_CALL, %eax
	movq (%rsp), %rdi
	movq %r15, %rsi
	xorl %ebx, %ebx                 /* spec: no slots */
	xorl %ebp, %ebp                 /* no message buffer */
	syscall
	testq %rax, %rax
	jz 2f
	incq %r14
2:	decq %r13
	jnz 1b
3:	movq %r12, %rdi
	call fpu_store
	movq %r14, %rax
	popq %r8
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/*
 * int fpu_fresh_thread(void *cap): a thread entry that stores the
 * registers it was started with before any other instruction can touch
 * them, then checks them in C (fpu_fresh_check(cap)).
 */
	.globl fpu_fresh_thread
fpu_fresh_thread:
	call fpu_store
	jmp fpu_fresh_check
