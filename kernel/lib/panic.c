#include <arch/arch.h>
#include <kernel/panic.h>
#include <kernel/printk.h>

static int panicking;

void panic(const char *fmt, ...)
{
	va_list ap;

	arch_irq_save();
	if (panicking++)        /* a panic while panicking: just stop */
		arch_poweroff(false);
	kprintf("\nPANIC: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	arch_backtrace_here();
	kprintf("powering off (failure)\n");
	arch_poweroff(false);
}
