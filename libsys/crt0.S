/*
 * Silo entry points. The kernel enters _start with argc in RDI and argv in
 * RSI, and a new thread at __sl_thread_start with fn in RDI and arg in RSI.
 */
	.text
	.globl _start, __sl_thread_start
_start:
	xorl %ebp, %ebp
	andq $-16, %rsp
	call main
	movl %eax, %edi
	call sl_exit
	ud2

__sl_thread_start:
	xorl %ebp, %ebp
	andq $-16, %rsp
	movq %rdi, %rax
	movq %rsi, %rdi
	call *%rax
	movl %eax, %edi
	call sl_thread_exit
	ud2
