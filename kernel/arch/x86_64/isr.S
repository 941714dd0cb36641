/*
 * Interrupt and exception entry stubs. Every stub leaves the same frame
 * (struct trap_frame in <arch/trap.h>): the CPU's five words, an error code
 * (0 when the CPU pushes none), the vector, then the general registers.
 *
 * RFLAGS: the interrupt gate clears IF, TF, NT and RF; from ring 3 the
 * entry also loads RFLAGS_KERNEL, which clears AC, DF and the rest, so
 * the kernel never runs with a flag user code chose. The return to ring 3
 * keeps only the flags user code may set (<arch/rflags.h>).
 */
#include <arch/gdt.h>
#include <arch/regs.h>
#include <arch/rflags.h>

	.text

.macro stub vector, has_error
	.balign 16
isr_\vector:
	.if \has_error == 0
	pushq $0
	.endif
	pushq $\vector
	jmp isr_common
.endm

/* Exceptions that push an error code: #DF 8, #TS 10, #NP 11, #SS 12,
 * #GP 13, #PF 14, #AC 17, #CP 21, #VC 29, #SX 30. */
.irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
	stub \v, 0
.endr
.irp v, 8,10,11,12,13,14,17,21,29,30
	stub \v, 1
.endr
.irp v, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,255
	stub \v, 0
.endr

isr_common:
	testb $3, 24(%rsp)      /* CS of the interrupted code: from user mode? */
	jz 1f
	swapgs
	pushq $RFLAGS_KERNEL
	popfq
1:
	push_gprs
	cld
	mov %rsp, %rdi
	call trap_dispatch
	.globl trap_return
trap_return:
	pop_gprs
	add $16, %rsp           /* vector and error code */
	testb $3, 8(%rsp)       /* returning to user mode? */
	jz 2f
	andq $RFLAGS_USER_MASK, 16(%rsp)
	orq $RFLAGS_USER_SET, 16(%rsp)
	swapgs
2:	iretq

/* Stub addresses for vectors 0..47; idt.c installs them and isr_255. */
	.section .rodata
	.balign 8
	.globl isr_table, isr_255
isr_table:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23
	.quad isr_\v
.endr
.irp v, 24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.quad isr_\v
.endr
