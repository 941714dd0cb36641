/*
 * Kernel entry: bring the machine up in dependency order (console, CPU
 * tables, boot information, frames, page tables, heap, timer), report what
 * was found, then do what the command line asks.
 */
#include <arch/arch.h>
#include <arch/trap.h>
#include <kernel/cmdline.h>
#include <kernel/heap.h>
#include <kernel/ipc.h>
#include <kernel/mb2.h>
#include <kernel/panic.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/selftest.h>
#include <kernel/silo.h>
#include <kernel/thread.h>
#include <arch/percpu.h>
#include <kernel/string.h>
#include <kernel/vm.h>

#define TIMER_HZ 100

void kmain(uint32_t magic, uint64_t info_phys);

static mb2_info_t boot_info;

/* timer.hz=N picks the tick rate (20..10000; the PIT cannot go slower); stress tests raise it so
 * preemption lands between more wakeups. The log says the rate taken, and
 * why when a value given was not. */
static uint32_t timer_hz(const char *cmdline)
{
	char buf[8];
	uint32_t hz = 0;

	if (cmdline_get(cmdline, "timer.hz", buf, sizeof buf) < 0) {
		kprintf("timer: %u Hz\n", TIMER_HZ);
		return TIMER_HZ;
	}
	for (char *p = buf; *p >= '0' && *p <= '9'; p++)
		hz = hz * 10 + (uint32_t)(*p - '0');
	if (hz < 20 || hz > 10000) {
		kprintf("timer: %u Hz (timer.hz=%s is outside 20..10000)\n", TIMER_HZ, buf);
		return TIMER_HZ;
	}
	kprintf("timer: %u Hz (timer.hz)\n", hz);
	return hz;
}

static void print_memory_map(const mb2_info_t *mb)
{
	kprintf("memory map (%u entries):\n", mb->mmap_count);
	for (uint32_t i = 0; i < mb->mmap_count; i++) {
		mb2_mmap_entry_t e = mb2_mmap_entry(mb, i);
		kprintf("  [0x%012llx - 0x%012llx) %9llu KiB  %s\n",
			(unsigned long long)e.base, (unsigned long long)(e.base + e.len),
			(unsigned long long)(e.len >> 10), mb2_mem_type_name(e.type));
	}
}

static void print_modules(const mb2_info_t *mb)
{
	for (uint32_t i = 0; i < mb->module_count; i++)
		kprintf("module %u: [%#x - %#x) %s\n", i, mb->modules[i].start,
			mb->modules[i].end, mb->modules[i].cmdline);
	if (mb->modules_dropped)
		panic("too many boot modules: %u given, the limit is MB2_MAX_MODULES (%d)",
		      mb->module_count + mb->modules_dropped, MB2_MAX_MODULES);
}

static void print_free_memory(void)
{
	uint64_t free = pmm_free_frames();

	kprintf("free memory: %llu frames, %llu KiB (RAM top %#llx)\n",
		(unsigned long long)free, (unsigned long long)(free * FRAME_SIZE >> 10),
		(unsigned long long)pmm_top());
}

/* Test-only faults, chosen with test.fault=KIND, that show the exception
 * report works. Each of these is a kernel bug on purpose. */
static int overflow_stack(int depth)
{
	volatile char pad[256];

	if (depth < 0)          /* never: keeps the recursion from looking endless */
		return 0;
	pad[0] = (char)depth;
	return overflow_stack(depth + 1) + pad[0];
}

static void trigger_test_fault(const char *kind)
{
	static volatile int zero;

	kprintf("test.fault=%s: faulting on purpose\n", kind);
	if (!strcmp(kind, "pagefault"))
		(void)*(volatile uint64_t *)0xdead000;
	else if (!strcmp(kind, "invalid-opcode"))
		__builtin_trap();
	else if (!strcmp(kind, "divide"))
		kprintf("%d\n", 1 / zero);
	else if (!strcmp(kind, "gp"))
		(void)*(volatile uint64_t *)0x8000000000000000ull;
	else if (!strcmp(kind, "stack-overflow"))
		kprintf("%d\n", overflow_stack(0));
	panic("test.fault=%s: unknown kind or no fault happened", kind);
}

void kmain(uint32_t magic, uint64_t info_phys)
{
	char fault[32];

	arch_console_init();
	kprintf("\nSluice microkernel (x86_64), built " __DATE__ " " __TIME__ "\n");
	if (magic != MB2_BOOT_MAGIC)
		panic("not booted by a multiboot2 loader (magic %#x)", magic);
	gdt_init();
	percpu_init();
	idt_init();
	arch_syscall_init();
	arch_fpu_init();
	if (mb2_parse(phys_to_virt(info_phys), &boot_info) < 0)
		panic("malformed multiboot2 information at %#llx", (unsigned long long)info_phys);
	kprintf("boot loader: %s\ncommand line: %s\n", boot_info.loader, boot_info.cmdline);
	print_memory_map(&boot_info);
	print_modules(&boot_info);

	pmm_init(&boot_info, info_phys);
	vm_init(pmm_top());
	heap_init();
	ipc_init();
	ipc_set_fastpath(!cmdline_has(boot_info.cmdline, "ipc.slowpath"));
	sched_init();
	timer_init(timer_hz(boot_info.cmdline));
	arch_irq_enable();
	print_free_memory();

	if (cmdline_get(boot_info.cmdline, "test.fault", fault, sizeof fault) >= 0)
		trigger_test_fault(fault);
	if (cmdline_has(boot_info.cmdline, "selftest"))
		arch_poweroff(selftest_run());
	if (boot_info.module_count == 0) {
		kprintf("nothing to run; powering off\n");
		arch_poweroff(true);
	}
	silo_start_all(&boot_info);
	sched_boot_done();
}
