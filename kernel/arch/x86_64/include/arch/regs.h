/*
 * Assembler macros that save and restore the general registers in the
 * order of trap_frame_t (<arch/trap.h>): rax is pushed first, r15 last, so
 * r15 ends up at the lowest address. Used by every kernel entry path; and
 * the one way back into a switched-out thread's saved context.
 */
#ifndef ARCH_REGS_H
#define ARCH_REGS_H

#ifdef __ASSEMBLER__
.macro push_gprs
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro pop_gprs
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
.endm

/* Saves the running thread's context on its kernel stack (RFLAGS, then
 * the callee-saved registers; the return address is already there) and
 * its stack pointer in *save (an address operand): arch_switch, and
 * arch_switch_to_fast_blocked (fastswitch.S). */
.macro push_switch_context save
	pushfq
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, \save
.endm

/* Resumes a thread from the context arch_switch saved on its kernel stack
 * (switch.S): callee-saved registers, RFLAGS, then the return address.
 * The IPC fast path's switch (fastswitch.S) resumes threads the same way. */
.macro pop_switch_context
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	popfq
	ret
.endm
#endif

#endif
