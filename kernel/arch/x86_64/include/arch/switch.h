/*
 * The machine half of a thread switch, shared by the scheduler's switch
 * (thread_arch.c) and the IPC fast path's (fastswitch.c): next's address
 * space, the kernel stack traps and system calls from user mode land on,
 * and the FPU state. Inline, with no call inside, because the fast path
 * runs it on every blocking IPC.
 */
#ifndef ARCH_SWITCH_H
#define ARCH_SWITCH_H

#include <arch/cpu.h>
#include <arch/fpu.h>
#include <arch/percpu.h>
#include <kernel/silo.h>
#include <kernel/vm.h>

static inline void arch_switch_machine(thread_t *prev, thread_t *next)
{
	uint64_t root = next->silo ? next->space_root : vm_kernel_space()->root;

	if (read_cr3() != root)
		write_cr3(root);
	percpu_set_kernel_stack(next->kstack_top);
	fpu_switch(prev, next);
}

#endif
