/*
 * Per-thread x87/SSE/AVX register state (fpu.c). Only arch code calls
 * these; portable code sees arch_fpu_init and ARCH_FPU_AREA_SIZE.
 */
#ifndef ARCH_FPU_H
#define ARCH_FPU_H

#include <kernel/thread.h>

/* Gives t the default state: FCW 0x37f, MXCSR 0x1f80, every register zero. */
void fpu_thread_init(thread_t *t);

/* Moves the register state from prev's save area to next's: saves silo
 * threads, loads silo threads, leaves kernel threads (which never touch
 * the registers) alone. Interrupts off. */
void fpu_switch(thread_t *prev, thread_t *next);

#endif
