/*
 * Per-CPU data reached through GS while in the kernel, the CPU's TSS
 * included. The system-call entry uses two fields before it has a stack,
 * so their offsets are fixed here (and checked in fastswitch.c).
 */
#ifndef ARCH_PERCPU_H
#define ARCH_PERCPU_H

#define PERCPU_USER_RSP 0
#define PERCPU_KERNEL_RSP 16    /* the TSS's rsp[0] */

#ifndef __ASSEMBLER__
#include <stdint.h>

typedef struct __attribute__((packed)) tss {
	uint32_t reserved0;
	uint64_t rsp[3];        /* rsp[0]: where interrupts from user mode land */
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} tss_t;

typedef struct percpu {
	uint64_t user_rsp;      /* scratch for the system-call entry */
	uint32_t pad;           /* puts tss.rsp[0] at an 8-byte boundary */
	/* Its rsp[0] is the top of the running thread's kernel stack: one
	 * word for both traps (the CPU reads it) and system calls (the
	 * entry reads it at PERCPU_KERNEL_RSP). */
	tss_t tss;
} percpu_t;

void percpu_init(void);

/* Sets the stack that traps and system calls from user mode land on.
 * Inline for the thread switches; GS holds the kernel's per-CPU base. */
static inline void percpu_set_kernel_stack(uint64_t top)
{
	__asm__ volatile("movq %0, %%gs:%c1" : : "r"(top), "i"(PERCPU_KERNEL_RSP) : "memory");
}
#endif

#endif
