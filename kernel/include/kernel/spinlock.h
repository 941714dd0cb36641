/*
 * Spinlocks. Sluice runs on one CPU, where a lock is "interrupts off" plus
 * a held flag that catches recursion and unbalanced unlocks. Code takes
 * and releases locks as it would on many CPUs, so the lock order written
 * next to each lock stays meaningful.
 */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <arch/arch.h>
#include <kernel/panic.h>

typedef struct spinlock {
	const char *name;
	volatile int held;
	irq_state_t saved;
} spinlock_t;

#define SPINLOCK_INIT(n) { .name = (n) }

static inline void spin_lock(spinlock_t *l)
{
	irq_state_t s = arch_irq_save();

	if (l->held)
		panic("spin_lock: %s already held (recursion)", l->name);
	l->held = 1;
	l->saved = s;
}

static inline void spin_unlock(spinlock_t *l)
{
	irq_state_t s = l->saved;

	if (!l->held)
		panic("spin_unlock: %s not held", l->name);
	l->held = 0;
	arch_irq_restore(s);
}

#endif
