/*
 * The register frame isr.S builds on the stack for every interrupt and
 * exception, lowest address first.
 */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H

#include <stdint.h>

typedef struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;      /* pushed by the CPU */
} trap_frame_t;

#define IRQ_BASE 32
#define IRQ_TIMER (IRQ_BASE + 0)
#define VECTOR_SPURIOUS 255

void trap_dispatch(trap_frame_t *f);

void gdt_init(void);
void idt_init(void);
void pic_init(void);
void pic_eoi(unsigned irq);
void timer_init(uint32_t hz);
void timer_irq(void);

#endif
