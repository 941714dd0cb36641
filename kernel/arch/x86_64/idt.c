/*
 * IDT and trap dispatch. An exception in the kernel is a kernel bug: the
 * handler prints the vector, error code, every register, CR2 and a
 * backtrace, then panics. Hardware interrupts go to their drivers.
 */
#include <arch/arch.h>
#include <arch/cpu.h>
#include <arch/gdt.h>
#include <arch/trap.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/silo.h>
#include <kernel/thread.h>

#define IDT_ENTRIES 256
#define IDT_STUBS 48
#define GATE_INTERRUPT 0x8e     /* present, DPL 0, 64-bit interrupt gate */
#define VEC_NMI 2
#define VEC_DOUBLE_FAULT 8
#define VEC_PAGE_FAULT 14

typedef struct __attribute__((packed)) {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} idt_gate_t;

extern const uint64_t isr_table[IDT_STUBS];
extern const char isr_255[];

static idt_gate_t idt[IDT_ENTRIES];
static volatile int exception_depth;

static const char *const exception_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow",
	"bound range exceeded", "invalid opcode", "device not available",
	"double fault", "coprocessor segment overrun", "invalid TSS",
	"segment not present", "stack-segment fault", "general protection",
	"page fault", "reserved", "x87 floating point", "alignment check",
	"machine check", "SIMD floating point", "virtualization",
	"control protection", "reserved", "reserved", "reserved", "reserved",
	"reserved", "reserved", "hypervisor injection", "VMM communication",
	"security", "reserved",
};

static void idt_set(unsigned vector, uint64_t handler, unsigned ist)
{
	idt[vector] = (idt_gate_t){
		.offset_low = handler & 0xffff,
		.selector = SEL_KERNEL_CODE,
		.ist = ist,
		.type = GATE_INTERRUPT,
		.offset_mid = (handler >> 16) & 0xffff,
		.offset_high = handler >> 32,
	};
}

void idt_init(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} ptr = { sizeof(idt) - 1, (uint64_t)idt };

	for (unsigned v = 0; v < IDT_STUBS; v++)
		idt_set(v, isr_table[v], 0);
	idt_set(VECTOR_SPURIOUS, (uint64_t)isr_255, 0);
	idt_set(VEC_DOUBLE_FAULT, isr_table[VEC_DOUBLE_FAULT], IST_DOUBLE_FAULT);
	idt_set(VEC_NMI, isr_table[VEC_NMI], IST_NMI);
	__asm__ volatile("lidt %0" : : "m"(ptr));
}

static void print_page_fault_cause(uint64_t err)
{
	kprintf("  cause: %s %s in %s mode%s\n",
		err & 1 ? "protection violation on" : "non-present page on",
		err & 16 ? "instruction fetch" : err & 2 ? "write" : "read",
		err & 4 ? "user" : "kernel", err & 8 ? " (reserved bit set)" : "");
}

static void dump_registers(const trap_frame_t *f)
{
	kprintf("  RIP=%016llx CS=%04llx RFLAGS=%016llx\n",
		(unsigned long long)f->rip, (unsigned long long)f->cs,
		(unsigned long long)f->rflags);
	kprintf("  RSP=%016llx SS=%04llx CR2=%016llx CR3=%016llx\n",
		(unsigned long long)f->rsp, (unsigned long long)f->ss,
		(unsigned long long)read_cr2(), (unsigned long long)read_cr3());
	kprintf("  RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n",
		(unsigned long long)f->rax, (unsigned long long)f->rbx,
		(unsigned long long)f->rcx, (unsigned long long)f->rdx);
	kprintf("  RSI=%016llx RDI=%016llx RBP=%016llx\n",
		(unsigned long long)f->rsi, (unsigned long long)f->rdi,
		(unsigned long long)f->rbp);
	kprintf("  R8 =%016llx R9 =%016llx R10=%016llx R11=%016llx\n",
		(unsigned long long)f->r8, (unsigned long long)f->r9,
		(unsigned long long)f->r10, (unsigned long long)f->r11);
	kprintf("  R12=%016llx R13=%016llx R14=%016llx R15=%016llx\n",
		(unsigned long long)f->r12, (unsigned long long)f->r13,
		(unsigned long long)f->r14, (unsigned long long)f->r15);
}

extern const char user_copy_insn[], user_copy_fault[];

static void exception(trap_frame_t *f)
{
	if (f->cs & 3) {
		silo_fault(f->vector, exception_names[f->vector], f->rip,
			   f->vector == VEC_PAGE_FAULT ? read_cr2() : 0, f->error);
		return;                 /* not reached: the faulting thread is gone */
	}
	if (f->vector == VEC_PAGE_FAULT && f->rip == (uint64_t)user_copy_insn) {
		f->rip = (uint64_t)user_copy_fault;
		return;
	}
	if (exception_depth++ > 0) {
		/* The report itself faulted: say so and stop without more output. */
		kprintf("\nnested exception %llu while reporting one; halting\n",
			(unsigned long long)f->vector);
		arch_poweroff(false);
	}
	kprintf("\nEXCEPTION %llu (%s) error=%#llx\n", (unsigned long long)f->vector,
		exception_names[f->vector], (unsigned long long)f->error);
	if (f->vector == VEC_PAGE_FAULT)
		print_page_fault_cause(f->error);
	dump_registers(f);
	arch_backtrace(f->rip, f->rbp);
	panic("unhandled %s in kernel at %#llx", exception_names[f->vector],
	      (unsigned long long)f->rip);
}

void trap_dispatch(trap_frame_t *f)
{
	if (f->vector < 32) {
		exception(f);
		return;
	}
	if (f->vector == IRQ_TIMER) {
		timer_irq();
		sched_tick();
	} else if (f->vector == VECTOR_SPURIOUS || f->vector == IRQ_BASE + 7 ||
		   f->vector == IRQ_BASE + 15) {
		return;                 /* spurious: no EOI for the PIC's IRQ 7/15 */
	} else if (f->vector < IRQ_BASE + 16) {
		pic_eoi(f->vector - IRQ_BASE);
	}
	sched_preempt_point();
	if (f->cs & 3)
		silo_return_to_user();
}
