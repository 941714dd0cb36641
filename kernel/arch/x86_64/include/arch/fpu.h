/*
 * Per-thread x87/SSE/AVX register state (fpu.c). Only arch code calls
 * these; portable code sees arch_fpu_init and ARCH_FPU_AREA_SIZE. The
 * switch is inline: both thread switches (thread_arch.c, fastswitch.c)
 * run it, and the IPC fast path cannot afford a call for it.
 */
#ifndef ARCH_FPU_H
#define ARCH_FPU_H

#include <kernel/thread.h>
#include <stdint.h>

#define FPU_AREA_ALIGN 64       /* what XSAVE requires */

extern bool fpu_use_xsave;      /* else FXSAVE; fixed by arch_fpu_init */
extern int64_t fpu_loaded_id;   /* whose state the registers hold; ids are never reused */

/* Gives t the default state: FCW 0x37f, MXCSR 0x1f80, every register zero. */
void fpu_thread_init(thread_t *t);

/* The thread's area: fpu_area rounded up to 64 bytes (the thread record
 * itself need not be 64-byte aligned), set by fpu_thread_init. */
static inline uint8_t *fpu_area_of(thread_t *t)
{
	return t->fpu_state;
}

static inline void fpu_area_save(uint8_t *area)
{
	if (fpu_use_xsave)
		__asm__ volatile("xsave64 (%0)" : : "r"(area), "a"(~0u), "d"(~0u) : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

static inline void fpu_area_load(const uint8_t *area)
{
	if (fpu_use_xsave)
		__asm__ volatile("xrstor64 (%0)" : : "r"(area), "a"(~0u), "d"(~0u) : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

/* Moves the register state from prev's save area to next's: saves silo
 * threads, loads silo threads unless the registers still hold exactly
 * next's state, leaves kernel threads (which never touch the registers)
 * alone. Interrupts off. */
static inline void fpu_switch(thread_t *prev, thread_t *next)
{
	if (prev->silo)
		fpu_area_save(fpu_area_of(prev));
	if (next->silo && next->id != fpu_loaded_id) {
		fpu_area_load(fpu_area_of(next));
		fpu_loaded_id = next->id;
	}
}

#endif
