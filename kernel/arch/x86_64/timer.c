/*
 * The periodic timer: the legacy 8259 PIC pair remapped to vectors 32..47
 * and the 8254 PIT channel 0 as a rate generator. It drives the tick count
 * (and, later, preemption).
 */
#include <arch/arch.h>
#include <arch/cpu.h>
#include <arch/trap.h>

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIC_EOI 0x20
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_HZ 1193182u

static volatile uint64_t ticks;
static uint32_t timer_hz;

void pic_init(void)
{
	outb(PIC1_CMD, 0x11);           /* ICW1: init, expect ICW4 */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, IRQ_BASE);      /* ICW2: vector offsets */
	outb(PIC2_DATA, IRQ_BASE + 8);
	outb(PIC1_DATA, 0x04);          /* ICW3: slave on IRQ 2 */
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01);          /* ICW4: 8086 mode */
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xfe);          /* only IRQ 0 (timer) unmasked */
	outb(PIC2_DATA, 0xff);
}

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, PIC_EOI);
	outb(PIC1_CMD, PIC_EOI);
}

void timer_init(uint32_t hz)
{
	uint32_t divisor = PIT_HZ / hz;

	timer_hz = hz;
	pic_init();
	outb(PIT_CMD, 0x34);            /* channel 0, lo/hi byte, mode 2 */
	outb(PIT_CH0, divisor & 0xff);
	outb(PIT_CH0, divisor >> 8);
}

void timer_irq(void)
{
	ticks++;
	pic_eoi(0);
}

uint64_t arch_timer_ticks(void)
{
	return ticks;
}

uint32_t arch_timer_hz(void)
{
	return timer_hz;
}

uint64_t arch_cycles(void)
{
	return rdtsc();
}
