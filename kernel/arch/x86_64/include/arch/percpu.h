/*
 * Per-CPU data reached through GS while in the kernel. The system-call
 * entry uses the first two fields before it has a stack, so their offsets
 * are fixed here and in syscall.S.
 */
#ifndef ARCH_PERCPU_H
#define ARCH_PERCPU_H

#define PERCPU_KERNEL_RSP 0
#define PERCPU_USER_RSP 8

#ifndef __ASSEMBLER__
#include <stdint.h>

typedef struct percpu {
	uint64_t kernel_rsp;    /* top of the running thread's kernel stack */
	uint64_t user_rsp;      /* scratch for the system-call entry */
} percpu_t;

void percpu_init(void);

/* Sets the stack that traps and system calls from user mode land on. */
void percpu_set_kernel_stack(uint64_t top);
#endif

#endif
