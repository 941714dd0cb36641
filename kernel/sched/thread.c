/*
 * Thread records, kernel stacks, creation, exit and join.
 *
 * Records come from a slab cache and kernel stacks from the kernel-stack
 * area, so the number of threads is bounded by memory and by each silo's
 * quotas, not by a table one silo could fill for the others. A thread
 * created for a silo is charged to its kernel-memory quota: the record and
 * the stack (THREAD_KMEM_CHARGE bytes), given back when the record goes.
 *
 * Kernel stack slot i lives at KSTACK_AREA + i * KSTACK_STRIDE: one
 * unmapped guard page under KSTACK_SIZE bytes of stack, so an overflow
 * faults instead of running into the next stack. Slots are numbered by a
 * slotmap whose size is set at boot from the amount of RAM: a slot in use
 * always holds KSTACK_SIZE bytes of frames, so the kernel runs out of
 * frames (SL_ENOMEM) before it can run out of slots. Every page table of
 * the area is built at boot, so stacks never allocate tables at run time.
 *
 * A thread's stack and slot are freed by the thread that runs after it
 * exits (nobody can free the stack they stand on); its record is freed
 * when it is joined, or at exit when it is detached.
 */
#include <abi/errors.h>
#include <arch/arch.h>
#include <kernel/heap.h>
#include <kernel/ipc.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/sched_arch.h>
#include <kernel/slotmap.h>
#include <kernel/string.h>
#include <kernel/thread.h>
#include <kernel/vm.h>
#include <kernel/waitq.h>

#define KSTACK_MAP_AREA (KMAP_BASE + 0x20000000ull)     /* the slot bitmap */
#define KSTACK_AREA (KMAP_BASE + 0x40000000ull)
#define KSTACK_AREA_SIZE (1ull << 40)                   /* 1 TiB: 53 million slots */
#define KSTACK_STRIDE (KSTACK_SIZE + FRAME_SIZE)

_Static_assert(sizeof(thread_t) <= SLAB_MAX_OBJECT, "a thread record must fit a slab object");
_Static_assert(KSTACK_AREA_SIZE / KSTACK_STRIDE / 8 <= KSTACK_AREA - KSTACK_MAP_AREA,
	       "the slot bitmap must fit below the stacks");

extern char kernel_stack_top[];

static thread_t boot_thread;
static slab_cache_t thread_cache;
static slotmap_t kstack_slots;
static spinlock_t table_lock = SPINLOCK_INIT("threads");  /* at the heap's level: before frames */
static int64_t next_id = 1;
static int records_in_use;

void sched_make_ready(thread_t *t);
__attribute__((noreturn)) void sched_exit_current(void);

static uintptr_t kstack_bottom(uint64_t slot)
{
	return KSTACK_AREA + slot * KSTACK_STRIDE + FRAME_SIZE;
}

static void kstack_unmap(uint64_t slot, uintptr_t upto)
{
	uint64_t pa;

	for (uintptr_t va = kstack_bottom(slot); va < upto; va += FRAME_SIZE)
		if (vm_unmap(vm_kernel_space(), va, &pa) == SL_OK)
			pmm_free(pa);
}

static int kstack_map(uint64_t slot)
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

/* A stack slot with its frames mapped, or SL_ENOMEM. Takes table_lock
 * around the slot map only; maps with no lock of ours held. */
static int kstack_new(uint64_t *slot)
{
	spin_lock(&table_lock);
	int got = slotmap_get(&kstack_slots, slot);
	spin_unlock(&table_lock);
	if (got < 0)
		return SL_ENOMEM;
	if (kstack_map(*slot) == SL_OK)
		return SL_OK;
	spin_lock(&table_lock);
	slotmap_put(&kstack_slots, *slot);
	spin_unlock(&table_lock);
	return SL_ENOMEM;
}

/* Frees t's record and gives its silo the charge back. Takes table_lock
 * (callers may hold a silo lock, or run with interrupts off after a
 * switch; never table_lock itself). */
static void record_free(thread_t *t)
{
	quota_t *q = t->kmem;

	t->state = THREAD_FREE;
	spin_lock(&table_lock);
	records_in_use--;
	if (t != &boot_thread && slab_free(&thread_cache, t) < 0)
		panic("thread: record %p is not a live thread", (void *)t);
	spin_unlock(&table_lock);
	if (q)
		quota_uncharge(q, THREAD_KMEM_CHARGE);
}

/* Unmaps t's stack, then takes table_lock to free its slot; frees the
 * record too when t is detached. */
void thread_reap_stack(thread_t *t)
{
	if (t->kstack_mapped) {         /* not the boot thread's static stack */
		kstack_unmap(t->slot, kstack_bottom(t->slot) + KSTACK_SIZE);
		spin_lock(&table_lock);
		if (slotmap_put(&kstack_slots, t->slot) < 0)
			panic("thread_reap_stack: stack slot %llu was free", (unsigned long long)t->slot);
		spin_unlock(&table_lock);
	}
	t->kstack_mapped = false;
	if (t->detached)
		record_free(t);
}

static void name_copy(char *dst, const char *src)
{
	size_t i = 0;

	for (; src[i] && i < THREAD_NAME_MAX - 1; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

/* The slot bitmap, in frames mapped at KSTACK_MAP_AREA, and every page
 * table of the stacks it can number. */
static void kstack_area_init(void)
{
	uint64_t slots = pmm_free_frames() / (KSTACK_SIZE / FRAME_SIZE) + 1;

	if (slots > KSTACK_AREA_SIZE / KSTACK_STRIDE)
		slots = KSTACK_AREA_SIZE / KSTACK_STRIDE;
	size_t bytes = slotmap_bytes(slots);
	for (size_t off = 0; off < bytes; off += FRAME_SIZE) {
		uint64_t pa;

		if (pmm_alloc(&pa) < 0 || vm_map(vm_kernel_space(), KSTACK_MAP_AREA + off, pa, VM_WRITE) < 0)
			panic("thread_boot_init: no memory for the kernel-stack slot map");
	}
	slotmap_init(&kstack_slots, (uint64_t *)KSTACK_MAP_AREA, slots);
	if (vm_prepare_tables(vm_kernel_space(), kstack_bottom(0), kstack_bottom(slots - 1) + KSTACK_SIZE) < 0)
		panic("thread_boot_init: no memory for the kernel-stack page tables");
	kprintf("threads: %llu kernel-stack slots (as many stacks as RAM holds), %llu bytes of kmem each\n",
		(unsigned long long)slots, (unsigned long long)THREAD_KMEM_CHARGE);
}

/* Called once, on the boot stack: that flow becomes the boot thread. */
thread_t *thread_boot_init(void)
{
	thread_t *t = &boot_thread;

	heap_cache_init(&thread_cache, "thread", sizeof(thread_t));
	kstack_area_init();
	*t = (thread_t){ .id = 0, .prio = PRIO_HIGH, .state = THREAD_BLOCKED,
			 .kstack_top = (uint64_t)kernel_stack_top, .detached = true };
	waitq_init(&t->join_wq, "join", NULL);
	t->joiners = &t->join_wq;
	records_in_use = 1;
	name_copy(t->name, "boot/idle");
	return t;
}

/* Takes table_lock around the slab and the id counter; see thread.h. */
thread_t *thread_alloc_charged(const char *name, int prio, quota_t *kmem, int *err)
{
	if (kmem && (*err = quota_charge(kmem, THREAD_KMEM_CHARGE)) < 0)
		return NULL;
	*err = SL_ENOMEM;
	spin_lock(&table_lock);
	thread_t *t = slab_alloc(&thread_cache);
	spin_unlock(&table_lock);
	uint64_t slot;

	if (!t || kstack_new(&slot) < 0) {
		spin_lock(&table_lock);
		if (t)
			slab_free(&thread_cache, t);
		spin_unlock(&table_lock);
		if (kmem)
			quota_uncharge(kmem, THREAD_KMEM_CHARGE);
		return NULL;
	}
	spin_lock(&table_lock);
	*t = (thread_t){ .slot = slot, .id = next_id++, .state = THREAD_BLOCKED, .kmem = kmem };
	records_in_use++;
	spin_unlock(&table_lock);
	t->kstack_mapped = true;
	t->kstack_top = kstack_bottom(slot) + KSTACK_SIZE;
	t->prio = prio < 0 ? 0 : prio >= PRIO_IDLE ? PRIO_IDLE - 1 : prio;
	waitq_init(&t->join_wq, "join", NULL);
	t->joiners = &t->join_wq;
	waitq_init(&t->ipc_wq, "reply", &ipc_lock);
	name_copy(t->name, name);
	*err = SL_OK;
	return t;
}

thread_t *thread_alloc(const char *name, int prio)
{
	int err;

	return thread_alloc_charged(name, prio, NULL, &err);
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

/*
 * Waits until t has exited and its successor has freed its stack. Takes
 * t's join-queue lock, which it releases while blocked; may block.
 */
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
		record_free(t);
	arch_irq_restore(s);
}

/* May block (see thread_wait_exit); takes no lock on entry. */
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
	spin_lock(&table_lock);
	int n = records_in_use;
	spin_unlock(&table_lock);
	return n;
}

uint64_t thread_stack_slots_in_use(void)
{
	spin_lock(&table_lock);
	uint64_t n = kstack_slots.used;
	spin_unlock(&table_lock);
	return n;
}

uint64_t thread_record_pages(void)
{
	spin_lock(&table_lock);
	uint64_t n = thread_cache.pages;
	spin_unlock(&table_lock);
	return n;
}
