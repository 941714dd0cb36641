/*
 * COM1 (16550 UART) as the kernel console: 115200 baud, 8N1, polled.
 */
#include <arch/arch.h>
#include <arch/cpu.h>

#define COM1 0x3f8
enum {
	UART_DATA = 0,
	UART_IER = 1,
	UART_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
};
#define LSR_THR_EMPTY 0x20
#define LCR_DLAB 0x80

void arch_console_init(void)
{
	outb(COM1 + UART_IER, 0x00);            /* no UART interrupts */
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DATA, 1);              /* divisor 1: 115200 baud */
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, 0x03);            /* 8 bits, no parity, 1 stop */
	outb(COM1 + UART_FCR, 0xc7);            /* FIFOs on and cleared */
	outb(COM1 + UART_MCR, 0x03);            /* DTR, RTS */
}

static void uart_put(char c)
{
	while (!(inb(COM1 + UART_LSR) & LSR_THR_EMPTY))
		;
	outb(COM1 + UART_DATA, (uint8_t)c);
}

void arch_console_putc(char c)
{
	if (c == '\n')
		uart_put('\r');
	uart_put(c);
}
