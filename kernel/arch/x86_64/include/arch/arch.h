/*
 * The hooks portable kernel code uses to reach the machine. Nothing else
 * under <arch/> may be included outside kernel/arch/.
 */
#ifndef ARCH_ARCH_H
#define ARCH_ARCH_H

#include <stdbool.h>
#include <stdint.h>

void arch_console_init(void);
void arch_console_putc(char c);

/* Interrupt state: save-and-disable, then restore what was saved. */
typedef uint64_t irq_state_t;
irq_state_t arch_irq_save(void);
void arch_irq_restore(irq_state_t s);
void arch_irq_enable(void);
void arch_wait_for_interrupt(void);     /* enable interrupts and halt once */

/* Leaves QEMU through isa-debug-exit: status 33 on success, 35 on failure. */
__attribute__((noreturn)) void arch_poweroff(bool success);

/* Prints a frame-pointer backtrace starting at the given frame. */
void arch_backtrace(uint64_t rip, uint64_t rbp);
void arch_backtrace_here(void);

void arch_syscall_init(void);

/* Turns on x87/SSE (and AVX where present) for silo threads; each thread
 * keeps its register state in a save area of ARCH_FPU_AREA_SIZE bytes in
 * its thread_t: the largest state Sluice enables (x87 + SSE + AVX in the
 * XSAVE layout, ARCH_FPU_STATE_MAX) plus room to align it to 64 bytes. */
void arch_fpu_init(void);
#define ARCH_FPU_STATE_MAX 832
#define ARCH_FPU_AREA_SIZE (ARCH_FPU_STATE_MAX + 64)

uint64_t arch_timer_ticks(void);
uint32_t arch_timer_hz(void);

/* The CPU's cycle counter: guest instructions under QEMU -icount shift=0. */
uint64_t arch_cycles(void);

#endif
