/*
 * RFLAGS bits and the three values the kernel enforces. Assembler-safe:
 * syscall.S, isr.S and switch.S use them too.
 *
 * - RFLAGS_KERNEL: the kernel runs with every flag clear (IF aside, which
 *   the code sets when it wants interrupts). SYSCALL gets there through
 *   FMASK = RFLAGS_SYSCALL_MASK; an interrupt or exception from ring 3
 *   through the gate (IF, TF, NT, RF cleared) plus an explicit popfq (AC,
 *   DF and the arithmetic flags). NT matters because iretq with NT set
 *   faults in 64-bit mode; DF because compiled code and rep movsb assume
 *   it clear; AC because with SMAP it would open user memory to the kernel.
 * - RFLAGS_USER_MASK: the flags a return to ring 3 keeps from the saved
 *   user value, i.e. those user code can set itself with popf at CPL 3
 *   (arithmetic flags, TF, DF, NT, AC, ID). Everything else is forced:
 *   IF = 1, IOPL = 0, RF = VM = VIF = VIP = 0. NT and TF are kept on
 *   purpose: in ring 3 they only hurt the thread that set them (its own
 *   iretq, its own single-step trap), and keeping them makes the kernel
 *   invisible to user code, which sees the same flags after a system call
 *   or an interrupt as before.
 */
#ifndef ARCH_RFLAGS_H
#define ARCH_RFLAGS_H

#define RFLAGS_CF    0x000001
#define RFLAGS_FIXED 0x000002           /* reserved, always 1 */
#define RFLAGS_PF    0x000004
#define RFLAGS_AF    0x000010
#define RFLAGS_ZF    0x000040
#define RFLAGS_SF    0x000080
#define RFLAGS_TF    0x000100
#define RFLAGS_IF    0x000200
#define RFLAGS_DF    0x000400
#define RFLAGS_OF    0x000800
#define RFLAGS_IOPL  0x003000
#define RFLAGS_NT    0x004000
#define RFLAGS_RF    0x010000
#define RFLAGS_VM    0x020000
#define RFLAGS_AC    0x040000
#define RFLAGS_VIF   0x080000
#define RFLAGS_VIP   0x100000
#define RFLAGS_ID    0x200000

#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

/* Every defined flag: SYSCALL clears them all. */
#define RFLAGS_SYSCALL_MASK (RFLAGS_ARITH | RFLAGS_TF | RFLAGS_IF | RFLAGS_DF | \
			     RFLAGS_IOPL | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM | \
			     RFLAGS_AC | RFLAGS_VIF | RFLAGS_VIP | RFLAGS_ID)

#define RFLAGS_KERNEL RFLAGS_FIXED

#define RFLAGS_USER_MASK (RFLAGS_ARITH | RFLAGS_TF | RFLAGS_DF | RFLAGS_NT | \
			  RFLAGS_AC | RFLAGS_ID)
#define RFLAGS_USER_SET (RFLAGS_FIXED | RFLAGS_IF)

#endif
