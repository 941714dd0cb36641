/*
 * Interrupt flag control, power-off and backtraces.
 */
#include <arch/arch.h>
#include <arch/cpu.h>
#include <arch/gdt.h>
#include <kernel/printk.h>
#include <kernel/vm.h>

#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_SUCCESS 0x10         /* QEMU exits with (0x10 << 1) | 1 = 33 */
#define DEBUG_EXIT_FAILURE 0x11         /* 35 */
#define QEMU_ACPI_PM1A_CNT 0x604
#define BACKTRACE_DEPTH 16

irq_state_t arch_irq_save(void)
{
	irq_state_t s = read_rflags() & RFLAGS_IF;

	__asm__ volatile("cli" ::: "memory");
	return s;
}

void arch_irq_restore(irq_state_t s)
{
	if (s)
		__asm__ volatile("sti" ::: "memory");
}

void arch_irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

void arch_wait_for_interrupt(void)
{
	/* sti takes effect after the next instruction, so no wakeup slips in
	 * between the two. */
	__asm__ volatile("sti; hlt" ::: "memory");
}

void arch_poweroff(bool success)
{
	__asm__ volatile("cli");
	outb(DEBUG_EXIT_PORT, success ? DEBUG_EXIT_SUCCESS : DEBUG_EXIT_FAILURE);
	/* Without isa-debug-exit: QEMU's ACPI power button, then halt. */
	outw(QEMU_ACPI_PM1A_CNT, 0x2000);
	for (;;)
		__asm__ volatile("hlt");
}

/* A frame pointer is followed only while it points into kernel memory. */
static bool frame_ok(uint64_t rbp)
{
	return rbp >= DIRECT_MAP_BASE && (rbp & 7) == 0 && rbp + 16 > rbp;
}

void arch_backtrace(uint64_t rip, uint64_t rbp)
{
	kprintf("backtrace:\n  #0  %016llx\n", (unsigned long long)rip);
	for (int depth = 1; depth < BACKTRACE_DEPTH && frame_ok(rbp); depth++) {
		const uint64_t *frame = (const uint64_t *)rbp;
		uint64_t ret = frame[1];

		if (ret < KERNEL_VMA)
			break;
		kprintf("  #%-2d %016llx\n", depth, (unsigned long long)ret);
		if (frame[0] <= rbp)    /* frames grow upward; anything else is a loop */
			break;
		rbp = frame[0];
	}
}

void arch_backtrace_here(void)
{
	uint64_t rbp = read_rbp();

	arch_backtrace(((const uint64_t *)rbp)[1], ((const uint64_t *)rbp)[0]);
}

#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_FMASK 0xc0000084
#define EFER_SCE 1

void syscall_entry(void);

/* SYSCALL enters at syscall_entry with CS 0x08; SYSRET returns with CS
 * 0x20|3 and SS 0x18|3 (base 0x10 + 16 and + 8). FMASK clears every
 * defined flag, so the kernel starts each system call with RFLAGS_KERNEL
 * whatever user code left in RFLAGS (<arch/rflags.h> says why each
 * matters); the user's value waits in R11 for SYSRET. */
void arch_syscall_init(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	wrmsr(MSR_STAR, (uint64_t)0x10 << 48 | (uint64_t)SEL_KERNEL_CODE << 32);
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_FMASK, RFLAGS_SYSCALL_MASK);
}
