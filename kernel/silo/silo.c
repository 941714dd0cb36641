/*
 * Silos: loading, their threads, exit, faults and the shutdown report.
 *
 * A silo's threads are kernel threads that enter ring 3. A silo ends when
 * its last thread ends: exit() and a fault kill every other thread, which
 * leave at their next return towards user mode (or at once if blocked).
 * The last one out frees the address space; when no silo is left the
 * kernel prints one line per silo and powers off, reporting success only
 * if every silo exited 0.
 *
 * Lock order: silo lock, then a waitq lock, then the scheduler.
 */
#include <abi/bootinfo.h>
#include <abi/errors.h>
#include <arch/arch.h>
#include <kernel/cmdline.h>
#include <kernel/ipc.h>
#include <kernel/elf.h>
#include <kernel/format.h>
#include <kernel/heap.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/silo.h>
#include <kernel/string.h>
#include <kernel/uaccess.h>

#define MAX_ARGS 16

void arch_enter_user(uint64_t rip, uint64_t rsp, uint64_t a0, uint64_t a1)
	__attribute__((noreturn));
int arch_user_copy(void *dst, const void *src, size_t n);

_Static_assert(sizeof(silo_t) <= SLAB_MAX_OBJECT, "a silo record must fit kmalloc");
_Static_assert(SL_SILO_TABLE_MAX >= MB2_MAX_MODULES, "the server's table must hold every silo");

static silo_t *silo_first;              /* every silo, in id order */
static int silo_count;
static int silos_alive;                 /* not counting the server */
static silo_t *server;
static bool shutting_down;              /* the server is being stopped */
static uint64_t frames_before;          /* free frames before the first silo */
static uint64_t record_pages_before;    /* slab pages of thread records then */
static spinlock_t table_lock = SPINLOCK_INIT("silos");

vm_space_t silo_space(const silo_t *s)
{
	return s->space;
}

static bool space_lookup(const void *ctx, uint64_t va, unsigned *rights)
{
	uint64_t pa;

	return vm_translate(*(const vm_space_t *)ctx, va, &pa, rights);
}

/* Every page of [u, u+n) is mapped in the calling silo with the rights in
 * need. Interrupts are off (or the answer may be stale at once). */
static bool user_pages_ok(uint64_t u, size_t n, unsigned need)
{
	vm_space_t space = thread_current()->silo->space;

	return uaccess_pages_ok(u, n, USER_TOP, need, space_lookup, &space);
}

/*
 * All or nothing: every page of the user side is checked before the first
 * byte moves, and the check and the copy run with interrupts off, so no
 * other thread of the silo can unmap a page in between (Sluice runs on one
 * CPU; with several, the unmap path's lock would have to be held here
 * instead). The fault fixup in arch_user_copy stays as a second line: if
 * it ever fires, the call still fails cleanly, though possibly after
 * writing a part. Takes no lock, never sleeps.
 */
static int user_copy_checked(void *dst, const void *src, size_t n, uint64_t u, unsigned need)
{
	if (!n)                 /* no page touched; the pointer must still be a user one */
		return uaccess_range_ok(u, 0, USER_TOP) ? SL_OK : SL_EFAULT;
	irq_state_t irq = arch_irq_save();
	int err = user_pages_ok(u, n, need) ? arch_user_copy(dst, src, n) : SL_EFAULT;

	arch_irq_restore(irq);
	return err;
}

int copy_from_user(void *dst, uint64_t usrc, size_t n)
{
	return user_copy_checked(dst, (const void *)usrc, n, usrc, VM_USER);
}

int copy_to_user(uint64_t udst, const void *src, size_t n)
{
	return user_copy_checked((void *)udst, src, n, udst, VM_USER | VM_WRITE);
}

/* Whether copy_to_user(udst, _, n) would succeed now; writes nothing. */
static bool user_writable(uint64_t udst, size_t n)
{
	irq_state_t irq = arch_irq_save();
	bool ok = user_pages_ok(udst, n, VM_USER | VM_WRITE);

	arch_irq_restore(irq);
	return ok;
}

int silo_charge_pages(silo_t *s, uint64_t n)
{
	return quota_charge(&s->mem, n);
}

void silo_uncharge_pages(silo_t *s, uint64_t n)
{
	quota_uncharge(&s->mem, n);
}

/* Maps one fresh zeroed frame at va, charged to s: SL_EQUOTA (mem=, or
 * kmem= for a new page table), SL_ENOMEM. */
static int map_page(silo_t *s, uint64_t va, unsigned rights)
{
	uint64_t pa;
	int err = silo_charge_pages(s, 1);

	if (err < 0)
		return err;
	if ((err = pmm_alloc(&pa)) == SL_OK && (err = vm_map(s->space, va, pa, rights | VM_USER)) < 0)
		pmm_free(pa);
	if (err < 0)
		silo_uncharge_pages(s, 1);
	return err;
}

/* Maps [va, va+len) with fresh zeroed frames; on failure the caller
 * unmaps the part that was mapped. */
static int map_zeroed(silo_t *s, uint64_t va, uint64_t len, unsigned rights)
{
	for (uint64_t off = 0; off < len; off += FRAME_SIZE) {
		int err = map_page(s, va + off, rights);

		if (err < 0)
			return err;
	}
	return SL_OK;
}

static void unmap_range(silo_t *s, uint64_t va, uint64_t len)
{
	uint64_t pa;

	for (uint64_t off = 0; off < len; off += FRAME_SIZE) {
		if (vm_unmap(s->space, va + off, &pa) == SL_OK) {
			pmm_free(pa);
			silo_uncharge_pages(s, 1);
		}
	}
}

static const char *why_not_mapped(int err)
{
	return err == SL_EQUOTA ? "over its kmem=, mem= or threads= quota" : "out of memory";
}

static unsigned segment_rights(uint32_t flags)
{
	return (flags & ELF_SEG_W ? VM_WRITE : 0) | (flags & ELF_SEG_X ? VM_EXEC : 0);
}

/* Copies one segment's file bytes into its (already mapped) pages. */
static void fill_segment(vm_space_t space, const uint8_t *file, const elf_segment_t *seg)
{
	for (uint64_t off = 0; off < seg->filesz; off += FRAME_SIZE) {
		uint64_t pa;
		unsigned rights;
		uint64_t n = seg->filesz - off < FRAME_SIZE ? seg->filesz - off : FRAME_SIZE;

		vm_translate(space, seg->vaddr + off, &pa, &rights);
		memcpy(phys_to_virt(pa), file + seg->offset + off, n);
	}
}

static int load_image(silo_t *s, const mb2_module_t *m, const char **why)
{
	const uint8_t *file = phys_to_virt(m->start);
	elf_image_t img;
	int err = elf_check(file, m->end - m->start, USER_IMAGE_MIN, USER_IMAGE_MAX, &img, why);

	if (err < 0)
		return err;
	for (unsigned i = 0; i < img.count; i++) {
		const elf_segment_t *seg = &img.segments[i];

		err = map_zeroed(s, seg->vaddr, seg->memsz, segment_rights(seg->flags));
		if (err < 0) {
			*why = why_not_mapped(err);
			return err;
		}
		fill_segment(s->space, file, seg);
	}
	s->threads[0]->user_rip = img.entry;
	return SL_OK;
}

static uint64_t stack_top(int slot)
{
	return USER_STACK_TOP - (uint64_t)slot * USER_STACK_STRIDE;
}

/* Pushes argv (the name, then the arguments split as GRUB quoted them,
 * see cmdline_split_args) onto the new thread's stack and enters user mode
 * at main's crt0. */
static void silo_main_entry(void *arg)
{
	silo_t *s = arg;
	thread_t *self = thread_current();
	char args[SILO_ARGS_MAX], *words[MAX_ARGS];
	uint64_t argv[MAX_ARGS + 1], sp = stack_top(self->user_slot);
	int argc = 1;

	words[0] = s->name;
	if (s->has_args) {
		memcpy(args, s->args, sizeof args);
		argc += cmdline_split_args(args, words + 1, MAX_ARGS - 1);
		if (argc == 0) {        /* -1: more than fit */
			kprintf("silo %s (id %d): only its first %d arguments are passed\n",
				s->name, s->id, MAX_ARGS - 1);
			argc = MAX_ARGS;
		}
	}
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(words[i]);

		sp -= n + 1;
		copy_to_user(sp, words[i], n + 1);
		argv[i] = sp;
	}
	argv[argc] = 0;
	sp = (sp - sizeof(uint64_t) * (argc + 1)) & ~15ull;
	copy_to_user(sp, argv, sizeof(uint64_t) * (argc + 1));
	arch_enter_user(self->user_rip, sp - 8, (uint64_t)argc, sp);
}

static void silo_thread_entry(void *arg)
{
	thread_t *self = arg;

	arch_enter_user(self->user_rip, stack_top(self->user_slot) - 8,
			self->user_arg[0], self->user_arg[1]);
}

/*
 * A thread for slot in s with a mapped user stack, charged to s: one of
 * threads=, the record and kernel stack to kmem=, the stack pages to mem=.
 * NULL and *err (SL_EQUOTA, SL_ENOMEM) if any of them is out.
 */
static thread_t *silo_thread_alloc(silo_t *s, int slot, int *err)
{
	char name[THREAD_NAME_MAX];
	thread_t *t;

	if ((*err = quota_charge(&s->nthreads, 1)) < 0)
		return NULL;
	ksnprintf(name, sizeof name, "%s.%d", s->name, slot);
	t = thread_alloc_charged(name, s->prio, &s->kmem, err);
	if (!t) {
		quota_uncharge(&s->nthreads, 1);
		return NULL;
	}
	if ((*err = map_zeroed(s, stack_top(slot) - USER_STACK_SIZE, USER_STACK_SIZE, VM_WRITE)) < 0) {
		unmap_range(s, stack_top(slot) - USER_STACK_SIZE, USER_STACK_SIZE);
		t->detached = true;
		thread_reap_stack(t);
		quota_uncharge(&s->nthreads, 1);
		return NULL;
	}
	t->silo = s;
	t->space_root = s->space->root;
	t->user_slot = slot;
	s->threads[slot] = t;
	s->live_threads++;
	return t;
}

static void split_cmdline(silo_t *s, const char *cmdline)
{
	size_t i = 0;

	while (*cmdline == ' ')
		cmdline++;
	for (; cmdline[i] && cmdline[i] != ' ' && i < SILO_NAME_MAX - 1; i++)
		s->name[i] = cmdline[i];
	s->name[i] = '\0';
	while (cmdline[i] && cmdline[i] != ' ')
		i++;
	/* One space ends the name: after it comes at least one argument, maybe
	 * empty (GRUB writes a lone empty argument as "NAME "). */
	s->has_args = cmdline[i] == ' ';
	ksnprintf(s->args, sizeof s->args, "%s", cmdline + i + s->has_args);
}

/* A number in the module's arguments (key=N), clamped to [lo, hi]. */
static uint32_t arg_number(const silo_t *s, const char *key, uint32_t dflt, uint32_t lo, uint32_t hi)
{
	char buf[12];
	uint64_t v = 0;

	if (cmdline_get(s->args, key, buf, sizeof buf) < 0 || !buf[0])
		return dflt;
	for (char *p = buf; *p; p++) {
		if (*p < '0' || *p > '9')
			return dflt;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	return v < lo ? lo : v > hi ? hi : (uint32_t)v;
}

/* Maps npages fresh zeroed frames read-only at va; returns the first
 * frame's kernel address (the frames are contiguous in va, not in pa, so
 * callers write page by page). */
static int map_readonly_pages(silo_t *s, uint64_t va, unsigned npages, void **pages)
{
	for (unsigned i = 0; i < npages; i++) {
		uint64_t pa;
		unsigned rights;

		int err = map_zeroed(s, va + i * FRAME_SIZE, FRAME_SIZE, 0);

		if (err < 0)
			return err;
		vm_translate(s->space, va + i * FRAME_SIZE, &pa, &rights);
		pages[i] = phys_to_virt(pa);
	}
	return SL_OK;
}

static int write_bootinfo(silo_t *s)
{
	void *page;
	int err = map_readonly_pages(s, SL_BOOTINFO_ADDR, 1, &page);

	if (err < 0)
		return err;
	sl_bootinfo_t *bi = page;
	bi->silo_id = (unsigned)s->id;
	bi->is_server = s->is_server;
	bi->cspace_slots = s->cspace.size;
	bi->kmem_quota = (unsigned)s->kmem.limit;
	bi->mem_quota = (unsigned)s->mem.limit;
	ksnprintf(bi->name, sizeof bi->name, "%s", s->name);
	ksnprintf(bi->args, sizeof bi->args, "%s", s->args);
	return SL_OK;
}

static void *silo_table_pages[SL_SILO_TABLE_PAGES];

/* Pages of the server's silo table: as many as the silos need. */
static unsigned silo_table_pages_needed(void)
{
	size_t bytes = offsetof(sl_silo_table_t, silos) + (size_t)silo_count * sizeof(sl_silo_entry_t);

	return (unsigned)((bytes + FRAME_SIZE - 1) / FRAME_SIZE);
}

/* Copies n bytes to offset off of the table (its pages are not contiguous). */
static void silo_table_write(size_t off, const void *src, size_t n)
{
	const uint8_t *from = src;

	while (n) {
		size_t page = off / FRAME_SIZE, in = off % FRAME_SIZE;
		size_t chunk = FRAME_SIZE - in < n ? FRAME_SIZE - in : n;

		if (silo_table_pages[page])
			memcpy((uint8_t *)silo_table_pages[page] + in, from, chunk);
		off += chunk;
		from += chunk;
		n -= chunk;
	}
}

/* The server's read-only table of every silo, filled once all are loaded. */
static void write_silo_table(void)
{
	unsigned head[2] = { (unsigned)silo_count, 0 };
	size_t off = offsetof(sl_silo_table_t, silos);

	silo_table_write(0, head, sizeof head);
	for (silo_t *s = silo_first; s; s = s->next, off += sizeof(sl_silo_entry_t)) {
		sl_silo_entry_t e = { .id = (unsigned)s->id };

		ksnprintf(e.name, sizeof e.name, "%s", s->name);
		ksnprintf(e.args, sizeof e.args, "%s", s->args);
		silo_table_write(off, &e, sizeof e);
	}
}

/* Capabilities, limits and the read-only pages a silo starts with. */
static int silo_setup(silo_t *s)
{
	int err;

	s->is_server = server == NULL && s->id == 1;
	if (s->is_server) {
		if ((err = ipc_setup_server(s)) < 0)
			return err;
		if ((err = map_readonly_pages(s, SL_SILO_TABLE_ADDR, silo_table_pages_needed(), silo_table_pages)) < 0)
			return err;
		server = s;
	} else if (server && (err = ipc_setup_client(s, server)) < 0) {
		return err;
	}
	return write_bootinfo(s);
}

/* The quotas and the priority, from the module's arguments, before
 * anything is charged. */
static void silo_limits(silo_t *s)
{
	s->kmem.limit = arg_number(s, "kmem", SL_KMEM_DEFAULT, 0, 1u << 30);
	/* The server (always id 1) serves everyone: a larger default. */
	silo_mem_init(s, arg_number(s, "mem", s->id == 1 ? SL_MEM_SERVER_DEFAULT : SL_MEM_DEFAULT,
				    0, SL_MEM_QUOTA_MAX));
	s->nthreads.limit = arg_number(s, "threads", SL_THREADS_DEFAULT, 1, SL_THREADS_MAX);
	/* prio=N: 1 (the highest a silo may have) to 6 (above idle only). */
	s->prio = (int)arg_number(s, "prio", PRIO_DEFAULT, PRIO_HIGH + 1, PRIO_IDLE - 1);
	ipc_cap_ops_for(s, &s->cap_ops);
	cspace_init(&s->cspace, arg_number(s, "cspace", SL_CSPACE_DEFAULT, SL_SLOT_FIRST_FREE, SL_CSPACE_MAX),
		    &cap_mdb, &s->cap_ops);
}

static bool silo_start(silo_t *s, const mb2_module_t *m)
{
	const char *why = NULL;
	thread_t *t;
	int err = SL_OK;

	s->lock = (spinlock_t)SPINLOCK_INIT("silo");
	split_cmdline(s, m->cmdline);
	silo_limits(s);
	if ((err = vm_space_create(&s->space, &s->kmem)) < 0)
		goto fail;
	t = silo_thread_alloc(s, 0, &err);
	if (!t)
		goto fail;
	if (load_image(s, m, &why) < 0)
		goto fail;
	if ((err = silo_setup(s)) < 0) {
		why = err == SL_EQUOTA ? "over its kmem=, mem= or threads= quota" : "no memory for its capabilities";
		goto fail;
	}
	s->state = SILO_RUNNING;
	if (!s->is_server)
		silos_alive++;
	/* What the module's arguments set, as the kernel took them, so that
	 * a scenario can check that an argument it relies on took effect. */
	kprintf("silo %s (id %d) started: priority %d, cspace %u, kmem %llu, mem %llu, threads %llu, "
		"arguments: %s\n", s->name, s->id, s->prio, s->cspace.size, (unsigned long long)s->kmem.limit,
		(unsigned long long)s->mem.limit, (unsigned long long)s->nthreads.limit, s->args);
	thread_launch(t, silo_main_entry, s);
	return true;
fail:
	if (!why)
		why = why_not_mapped(err);
	kprintf("silo %s (id %d) cannot be loaded: %s\n", s->name, s->id, why);
	s->state = SILO_LOAD_FAILED;
	if (s->threads[0]) {
		s->threads[0]->detached = true;
		thread_reap_stack(s->threads[0]);
	}
	spin_lock(&ipc_lock);
	cspace_destroy(&s->cspace);
	spin_unlock(&ipc_lock);
	if (s->space)
		vm_space_destroy(s->space);
	if (s == server)
		server = NULL;
	return false;
}

__attribute__((noreturn)) static void report_and_power_off(void);
static void silos_all_ended(void);
static void silo_doom(silo_t *s, int code);

/* One record per module, made before the frames are counted: records
 * live until power-off, so they are not the silos' to give back. */
static void silo_records_alloc(uint32_t n)
{
	silo_t **link = &silo_first;

	for (uint32_t i = 0; i < n; i++) {
		silo_t *s = kmalloc(sizeof *s);

		if (!s)
			panic("silo_start_all: no memory for %u silo records", n);
		s->id = (int)i + 1;
		*link = s;
		link = &s->next;
	}
	silo_count = (int)n;
}

int silo_start_all(const mb2_info_t *mb)
{
	int started = 0;
	uint32_t i = 0;
	uint64_t t0 = arch_cycles();

	silo_records_alloc(mb->module_count);
	heap_trim();
	frames_before = pmm_free_frames();
	record_pages_before = thread_record_pages();
	for (silo_t *s = silo_first; s; s = s->next)
		started += silo_start(s, &mb->modules[i++]);
	write_silo_table();
	/* Under -icount shift=0 these are instruction counts (./sluice bench). */
	kprintf("silos: %d of %d started in %llu cycles (cycle counter at %llu)\n", started,
		silo_count, (unsigned long long)(arch_cycles() - t0), (unsigned long long)arch_cycles());
	if (silo_count > 0 && silos_alive == 0)
		silos_all_ended();
	return started;
}

int64_t silo_thread_spawn(silo_t *s, uint64_t entry, uint64_t a0, uint64_t a1)
{
	int slot = -1, err = SL_EQUOTA;

	if (entry < USER_MIN || entry >= USER_IMAGE_MAX)
		return SL_EINVAL;
	spin_lock(&s->lock);
	for (int i = 1; i < SILO_THREADS_MAX && slot < 0; i++)
		if (!s->threads[i])
			slot = i;
	/* No free slot means threads= is at its maximum, SL_THREADS_MAX. */
	thread_t *t = slot < 0 ? NULL : silo_thread_alloc(s, slot, &err);
	int64_t tid = t ? t->id : 0;
	/* Launched before the lock goes: nobody (a kill, a join) may see a
	 * thread in s->threads that is not ready to run yet. */
	if (t) {
		t->user_rip = entry;
		t->user_arg[0] = a0;
		t->user_arg[1] = a1;
		if (s->exiting) {
			tid = SL_EKILLED;
			t->killed = true;
		}
		thread_launch(t, silo_thread_entry, t);
	}
	spin_unlock(&s->lock);
	return t ? tid : err;
}

/* The thread of s with id tid, or NULL. s->lock held. */
static thread_t *find_thread(silo_t *s, int64_t tid)
{
	for (int i = 0; i < SILO_THREADS_MAX; i++)
		if (s->threads[i] && s->threads[i]->id == tid)
			return s->threads[i];
	return NULL;
}

/* Blocks until thread tid of s has ended, then writes its code to
 * code_ptr and frees its slot; takes s->lock briefly. On any error the
 * thread stays joinable and user memory is as it was. */
int silo_thread_join(silo_t *s, int64_t tid, uint64_t code_ptr)
{
	int code = 0, err;

	spin_lock(&s->lock);
	thread_t *t = find_thread(s, tid);
	err = !t ? SL_ESRCH : t == thread_current() || t->joined ? SL_EINVAL : SL_OK;
	if (err == SL_OK)
		t->joined = true;               /* claimed: there is one joiner */
	spin_unlock(&s->lock);
	if (err < 0)
		return err;
	/* The pointer is checked (not written) before waiting, so a bad one
	 * leaves the thread joinable and user memory as it was. */
	err = user_writable(code_ptr, sizeof code) ? thread_wait_exit(t, &code) : SL_EFAULT;
	/* The code goes out before the thread is released: if the pointer
	 * went bad during the wait (another thread unmapped it), the join
	 * fails whole and the thread stays joinable. */
	if (err == SL_OK)
		err = copy_to_user(code_ptr, &code, sizeof code);
	if (err < 0) {
		spin_lock(&s->lock);
		t->joined = false;
		spin_unlock(&s->lock);
		return err;
	}
	int slot = t->user_slot;
	unmap_range(s, stack_top(slot) - USER_STACK_SIZE, USER_STACK_SIZE);
	spin_lock(&s->lock);
	s->threads[slot] = NULL;                /* out of the silo before the record is reused */
	thread_free_if_reaped(t);
	spin_unlock(&s->lock);
	quota_uncharge(&s->nthreads, 1);
	return SL_OK;
}

/* Records why s ends (first cause wins) and kills its other threads. */
static void silo_doom(silo_t *s, int code)
{
	thread_t *self = thread_current();

	spin_lock(&s->lock);
	if (!s->exiting) {
		s->exiting = true;
		s->exit_code = code;
	}
	for (int i = 0; i < SILO_THREADS_MAX; i++) {
		thread_t *t = s->threads[i];

		if (!t || t == self || t->state == THREAD_ZOMBIE)
			continue;
		ipc_detach_reply(t);    /* nobody may answer a dying thread's call */
		thread_kill(t);
	}
	spin_unlock(&s->lock);
}

void silo_exit(int code)
{
	silo_doom(thread_current()->silo, code);
	silo_thread_exit(code);
}

void silo_fault(int vector, const char *name, uint64_t rip, uint64_t addr, uint64_t error)
{
	silo_t *s = thread_current()->silo;

	kprintf("silo %s (id %d) killed: %s (vector %d) at rip=%#llx, address %#llx, error %#llx\n",
		s->name, s->id, name, vector, (unsigned long long)rip,
		(unsigned long long)addr, (unsigned long long)error);
	spin_lock(&s->lock);
	if (!s->exiting) {
		s->state = SILO_FAULTED;
		s->fault_vector = vector;
		s->fault_name = name;
		s->fault_rip = rip;
		s->fault_addr = addr;
	}
	spin_unlock(&s->lock);
	silo_doom(s, -1);
	arch_irq_enable();
	silo_thread_exit(-1);
}

void silo_return_to_user(void)
{
	thread_t *self = thread_current();

	if (self->silo && self->killed) {
		arch_irq_enable();
		silo_thread_exit(-1);
	}
}

/* The last thread of s is leaving: free what s owned. */
static void silo_teardown(silo_t *s)
{
	uint64_t *event = s->exit_event.words;

	event[0] = (uint64_t)s->id;
	event[1] = (uint64_t)(int64_t)s->exit_code;
	event[2] = (uint64_t)-1;

	spin_lock(&ipc_lock);
	cspace_destroy(&s->cspace);
	ipc_orphan_objects(s);
	spin_unlock(&ipc_lock);
	/* First every thread leaves the silo (with interrupts off, so no
	 * switch reloads its address space meanwhile), then the space goes. */
	spin_lock(&s->lock);
	for (int i = 0; i < SILO_THREADS_MAX; i++) {
		thread_t *t = s->threads[i];

		if (!t)
			continue;
		s->threads[i] = NULL;
		t->silo = NULL;
		t->detached = true;             /* nobody is left to join it */
		thread_free_if_reaped(t);
		quota_uncharge(&s->nthreads, 1);
	}
	vm_activate(vm_kernel_space());
	spin_unlock(&s->lock);
	vm_space_destroy(s->space);
	s->space = 0;
	silo_mem_teardown(s);
	if (s->state == SILO_FAULTED) {
		event[1] = 0;
		event[2] = (uint64_t)s->fault_vector;
		event[3] = s->fault_rip;
		event[4] = s->fault_addr;
	} else if (s->is_server && shutting_down) {
		s->state = SILO_STOPPED;
	} else {
		s->state = SILO_EXITED;
	}
	if (!s->is_server)
		ipc_post_silo_event(&s->exit_event);
}

void silo_thread_exit(int code)
{
	thread_t *self = thread_current();
	silo_t *s = self->silo;

	/* The stack stays until a join frees the slot (or the silo ends):
	 * other threads may still read what this one left on it. */
	spin_lock(&s->lock);
	bool last = --s->live_threads == 0;
	if (last && !s->exiting) {      /* the last thread leaving is an exit */
		s->exiting = true;
		s->exit_code = code;
	}
	spin_unlock(&s->lock);
	ipc_thread_cleanup(self);
	if (last) {
		silo_teardown(s);
		spin_lock(&table_lock);
		bool none_left = !s->is_server && --silos_alive == 0;
		spin_unlock(&table_lock);
		if (none_left)
			silos_all_ended();
		else if (s->is_server && (shutting_down || silos_alive == 0))
			report_and_power_off();
	}
	thread_exit(code);
}

/* The last client is gone: stop the server, whose last thread then reports. */
static void silos_all_ended(void)
{
	if (!server || server->state != SILO_RUNNING || server->live_threads == 0)
		report_and_power_off();
	shutting_down = true;
	silo_doom(server, 0);
}

static bool silo_report(const silo_t *s)
{
	switch (s->state) {
	case SILO_STOPPED:
		kprintf("summary: silo %s (id %d): server, stopped at shutdown\n", s->name, s->id);
		return true;
	case SILO_EXITED:
		kprintf("summary: silo %s (id %d): exited %d\n", s->name, s->id, s->exit_code);
		return s->exit_code == 0;
	case SILO_FAULTED:
		kprintf("summary: silo %s (id %d): killed by %s (vector %d) at rip=%#llx\n",
			s->name, s->id, s->fault_name, s->fault_vector,
			(unsigned long long)s->fault_rip);
		return false;
	case SILO_LOAD_FAILED:
		kprintf("summary: silo %s (id %d): failed to load\n", s->name, s->id);
		return false;
	default:
		kprintf("summary: silo %s (id %d): still running\n", s->name, s->id);
		return false;
	}
}

/*
 * Every frame the silos used must be back: their images, stacks, page
 * tables and the kernel stacks of their threads. Only the stack of the
 * thread running this (the last one out) is still in use.
 */
static bool memory_all_back(void)
{
	/* Threads that already left their silo may not have finished dying
	 * (preempted between the count and their last switch): let them. */
	for (int i = 0; i < 1000 && thread_count_in_use() > 2; i++)
		sched_yield();
	heap_trim();
	/* The running thread's stack, and the slab page its record may have
	 * opened, are the only frames still in use (a leaked record shows in
	 * the thread count). */
	uint64_t after = pmm_free_frames() + KSTACK_SIZE / FRAME_SIZE +
			 (thread_record_pages() - record_pages_before);
	int threads = thread_count_in_use();

	kprintf("memory: %llu frames free before the silos, %llu after; %d threads in use\n",
		(unsigned long long)frames_before, (unsigned long long)after, threads);
	if (after != frames_before || threads != 2) {
		kprintf("LEAK: %lld frames and %d threads not returned\n",
			(long long)(frames_before - after), threads - 2);
		return false;
	}
	return true;
}

static void report_and_power_off(void)
{
	int ok = 0, stopped = 0;

	ipc_release_all();
	for (silo_t *s = silo_first; s; s = s->next) {
		ok += silo_report(s);
		stopped += s->state == SILO_STOPPED;
	}
	kprintf("shutdown: cycle counter at %llu\n", (unsigned long long)arch_cycles());
	kprintf("ipc: %llu switches through the fast path\n", (unsigned long long)ipc_fastpath_count());
	/* The server stopped by the kernel is a success, but it did not exit. */
	kprintf("shutdown: %d silos: %d exited 0, %d stopped (the server), %d failed\n", silo_count,
		ok - stopped, stopped, silo_count - ok);
	bool clean = memory_all_back();
	arch_poweroff(ok == silo_count && clean);
}
