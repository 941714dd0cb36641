/*
 * Per-CPU data reached through GS while in the kernel. The system-call
 * entry uses the first two fields before it has a stack, so their offsets
 * are fixed here and in syscall.S.
 */
#ifndef ARCH_PERCPU_H
#define ARCH_PERCPU_H

#define PERCPU_KERNEL_RSP 0
#define PERCPU_USER_RSP 8
#define PERCPU_TSS_RSP0 16

#ifndef __ASSEMBLER__
#include <stdint.h>

/* The TSS's 64-bit fields sit at 4-byte boundaries. */
typedef uint64_t tss_word_t __attribute__((aligned(4)));

typedef struct percpu {
	uint64_t kernel_rsp;    /* top of the running thread's kernel stack */
	uint64_t user_rsp;      /* scratch for the system-call entry */
	tss_word_t *tss_rsp0;   /* where interrupts from user mode find the stack */
} percpu_t;

void percpu_init(void);

/* Sets the stack that traps and system calls from user mode land on.
 * Inline for the thread switches; GS holds the kernel's per-CPU base. */
static inline void percpu_set_kernel_stack(uint64_t top)
{
	tss_word_t *rsp0;

	__asm__ volatile("movq %1, %%gs:%c2\n\tmovq %%gs:%c3, %0"
			 : "=&r"(rsp0)
			 : "r"(top), "i"(PERCPU_KERNEL_RSP), "i"(PERCPU_TSS_RSP0)
			 : "memory");
	*rsp0 = top;
}
#endif

#endif
