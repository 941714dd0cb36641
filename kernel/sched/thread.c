/*
 * The thread table, kernel stacks, creation, exit and join.
 *
 * Kernel stack i lives at KSTACK_AREA + i * KSTACK_STRIDE, one unmapped
 * guard page under KSTACK_SIZE bytes of stack, so an overflow faults
 * instead of running into the next thread's stack. A thread's stack is
 * freed by the thread that runs after it exits (nobody can free the stack
 * they stand on); its table slot is freed when it is joined, or at exit
 * when it is detached.
 */
#include <abi/errors.h>
#include <arch/arch.h>
#include <kernel/heap.h>
#include <kernel/ipc.h>
#include <kernel/pmm.h>
#include <kernel/sched_arch.h>
#include <kernel/string.h>
#include <kernel/thread.h>
#include <kernel/vm.h>
#include <kernel/waitq.h>

#define KSTACK_AREA (KMAP_BASE + 0x40000000ull)
#define KSTACK_STRIDE (KSTACK_SIZE + FRAME_SIZE)

extern char kernel_stack_top[];

static thread_t threads[THREAD_MAX];
static waitq_t join_waitqs[THREAD_MAX];
static spinlock_t table_lock = SPINLOCK_INIT("threads");
static int next_id = 1;

void sched_make_ready(thread_t *t);
__attribute__((noreturn)) void sched_exit_current(void);

static uintptr_t kstack_bottom(int slot)
{
	return KSTACK_AREA + (uintptr_t)slot * KSTACK_STRIDE + FRAME_SIZE;
}

static void kstack_unmap(int slot, uintptr_t upto)
{
	uint64_t pa;

	for (uintptr_t va = kstack_bottom(slot); va < upto; va += FRAME_SIZE)
		if (vm_unmap(vm_kernel_space(), va, &pa) == SL_OK)
			pmm_free(pa);
}

static int kstack_map(int slot)
{
	uintptr_t base = kstack_bottom(slot);

	for (uintptr_t va = base; va < base + KSTACK_SIZE; va += FRAME_SIZE) {
		uint64_t pa;

		if (pmm_alloc(&pa) < 0)
			goto fail;
		if (vm_map(vm_kernel_space(), va, pa, VM_WRITE) < 0) {
			pmm_free(pa);
			goto fail;
		}
	}
	return SL_OK;
fail:
	kstack_unmap(slot, base + KSTACK_SIZE);
	return SL_ENOMEM;
}

void thread_reap_stack(thread_t *t)
{
	if (t->kstack_mapped)   /* not the boot thread's static stack */
		kstack_unmap(t->slot, kstack_bottom(t->slot) + KSTACK_SIZE);
	t->kstack_mapped = false;
	if (t->detached)
		t->state = THREAD_FREE;
}

static void name_copy(char *dst, const char *src)
{
	size_t i = 0;

	for (; src[i] && i < THREAD_NAME_MAX - 1; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

/* Claims a free slot, or returns NULL. Slots of zombies stay taken. */
static thread_t *slot_claim(void)
{
	thread_t *t = NULL;

	spin_lock(&table_lock);
	for (int i = 1; i < THREAD_MAX && !t; i++) {
		if (threads[i].state == THREAD_FREE) {
			t = &threads[i];
			*t = (thread_t){ .slot = i, .id = next_id++, .state = THREAD_BLOCKED };
		}
	}
	spin_unlock(&table_lock);
	return t;
}

/* Called once, on the boot stack: that flow becomes thread slot 0. */
thread_t *thread_boot_init(void)
{
	thread_t *t = &threads[0];

	for (int i = 0; i < THREAD_MAX; i++)
		waitq_init(&join_waitqs[i], "join", NULL);
	/* Every kernel stack's page table now, not when the 103rd thread
	 * first needs one. */
	if (vm_prepare_tables(vm_kernel_space(), kstack_bottom(0), kstack_bottom(THREAD_MAX - 1) + KSTACK_SIZE) < 0)
		panic("thread_boot_init: no memory for the kernel-stack page tables");
	*t = (thread_t){ .slot = 0, .id = 0, .prio = PRIO_HIGH,
			 .kstack_top = (uint64_t)kernel_stack_top, .detached = true,
			 .joiners = &join_waitqs[0] };
	name_copy(t->name, "boot/idle");
	return t;
}

thread_t *thread_alloc(const char *name, int prio)
{
	thread_t *t = slot_claim();

	if (!t)
		return NULL;
	if (kstack_map(t->slot) < 0) {
		t->state = THREAD_FREE;
		return NULL;
	}
	t->kstack_mapped = true;
	t->kstack_top = kstack_bottom(t->slot) + KSTACK_SIZE;
	t->prio = prio < 0 ? 0 : prio >= PRIO_IDLE ? PRIO_IDLE - 1 : prio;
	t->joiners = &join_waitqs[t->slot];
	waitq_init(&t->ipc_wq, "reply", &ipc_lock);
	name_copy(t->name, name);
	return t;
}

void thread_launch(thread_t *t, void (*fn)(void *), void *arg)
{
	t->entry = fn;
	t->arg = arg;
	arch_thread_setup(t);
	sched_make_ready(t);
}

thread_t *thread_create(const char *name, void (*fn)(void *), void *arg, int prio)
{
	thread_t *t = thread_alloc(name, prio);

	if (t)
		thread_launch(t, fn, arg);
	return t;
}

void thread_exit(int code)
{
	thread_t *self = thread_current();

	spin_lock(self->joiners->lock);
	self->exit_code = code;
	self->state = THREAD_ZOMBIE;
	waitq_wake_all_locked(self->joiners);
	/* Let go of the lock but keep interrupts off: we never come back. */
	self->joiners->lock->held = 0;
	sched_exit_current();
}

static bool is_zombie(void *arg)
{
	return ((thread_t *)arg)->state == THREAD_ZOMBIE;
}

int thread_wait_exit(thread_t *t, int *code)
{
	spin_lock(t->joiners->lock);
	int r = waitq_wait_locked(t->joiners, is_zombie, t, 0);
	spin_unlock(t->joiners->lock);
	if (r < 0)
		return r;
	*code = t->exit_code;
	irq_state_t s = arch_irq_save();
	while (t->kstack_mapped)        /* its successor has not reaped it yet */
		sched_yield();
	arch_irq_restore(s);
	return SL_OK;
}

void thread_free_if_reaped(thread_t *t)
{
	irq_state_t s = arch_irq_save();

	if (t->state == THREAD_ZOMBIE && !t->kstack_mapped)
		t->state = THREAD_FREE;
	arch_irq_restore(s);
}

int thread_join(thread_t *t, int *code)
{
	if (t == thread_current() || t->detached || t->joined || t->state == THREAD_FREE)
		return SL_EINVAL;
	t->joined = true;
	int r = thread_wait_exit(t, code);
	if (r < 0) {
		t->joined = false;
		return r;
	}
	thread_free_if_reaped(t);
	return SL_OK;
}

int thread_count_in_use(void)
{
	int n = 0;

	spin_lock(&table_lock);
	for (int i = 0; i < THREAD_MAX; i++)
		n += threads[i].state != THREAD_FREE;
	spin_unlock(&table_lock);
	return n;
}
