#include <arch/arch.h>
#include <kernel/format.h>
#include <kernel/printk.h>

static void console_sink(char c, void *ctx)
{
	(void)ctx;
	arch_console_putc(c);
}

int kvprintf(const char *fmt, va_list ap)
{
	irq_state_t s = arch_irq_save();
	int n = fmt_vformat(console_sink, NULL, fmt, ap);

	arch_irq_restore(s);
	return n;
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}
