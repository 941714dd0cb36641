/*
 * GDT and TSS. The TSS gives the double-fault and NMI handlers stacks of
 * their own (IST), so a kernel stack overflow still produces a report.
 */
#include <arch/cpu.h>
#include <arch/gdt.h>
#include <arch/percpu.h>
#include <arch/trap.h>
#include <stddef.h>
#include <stdint.h>

#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

#define IST_STACK_SIZE 8192

typedef struct __attribute__((packed)) {
	uint16_t limit;
	uint64_t base;
} descriptor_ptr_t;

/* The boot CPU's data, its TSS included; in the kernel GS points at it.
 * Aligned so that the TSS (bytes 12 to 115) never straddles a page. */
static percpu_t cpu0 __attribute__((aligned(128)));
static uint8_t ist_stacks[2][IST_STACK_SIZE] __attribute__((aligned(16)));

/* Null, kernel code, kernel data, user data, user code, TSS (two slots). */
static uint64_t gdt[7] = {
	0,
	0x00af9a000000ffff,     /* 64-bit code, DPL 0 */
	0x00cf92000000ffff,     /* data, DPL 0 */
	0x00cff2000000ffff,     /* data, DPL 3 */
	0x00affa000000ffff,     /* 64-bit code, DPL 3 */
	0, 0,
};

static void gdt_set_tss(void)
{
	uint64_t base = (uint64_t)&cpu0.tss;
	uint64_t limit = sizeof(cpu0.tss) - 1;

	gdt[5] = (limit & 0xffff) | (base & 0xffffff) << 16 |
		 0x89ull << 40 |                /* present, 64-bit TSS available */
		 ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	gdt[6] = base >> 32;
}

void gdt_init(void)
{
	descriptor_ptr_t ptr = { sizeof(gdt) - 1, (uint64_t)gdt };

	cpu0.tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)ist_stacks[0] + IST_STACK_SIZE;
	cpu0.tss.ist[IST_NMI - 1] = (uint64_t)ist_stacks[1] + IST_STACK_SIZE;
	cpu0.tss.iomap_base = sizeof(cpu0.tss); /* no I/O permission bitmap */
	gdt_set_tss();

	__asm__ volatile(
		"lgdt %0\n\t"
		"mov %1, %%ds\n\t"
		"mov %1, %%es\n\t"
		"mov %1, %%ss\n\t"
		"xor %%eax, %%eax\n\t"
		"mov %%ax, %%fs\n\t"
		"mov %%ax, %%gs\n\t"
		"pushq %2\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"ltr %w3"
		:
		: "m"(ptr), "r"((uint64_t)SEL_KERNEL_DATA), "i"(SEL_KERNEL_CODE),
		  "r"((uint16_t)SEL_TSS)
		: "rax", "memory");
}

/* In the kernel GS points at cpu0; swapgs on the way in and out of user
 * mode trades it with the user's (always 0: silos have no TLS yet). */
void percpu_init(void)
{
	wrmsr(MSR_GS_BASE, (uint64_t)&cpu0);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}
