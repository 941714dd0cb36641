/*
 * Interrupt flag control, power-off and backtraces.
 */
#include <arch/arch.h>
#include <arch/cpu.h>
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
