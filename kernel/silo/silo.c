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

#define MAX_ARGS 16

void arch_enter_user(uint64_t rip, uint64_t rsp, uint64_t a0, uint64_t a1)
	__attribute__((noreturn));
int arch_user_copy(void *dst, const void *src, size_t n);

static silo_t silos[SILO_MAX];
static int silo_count;
static int silos_alive;                 /* not counting the server */
static silo_t *server;
static bool shutting_down;              /* the server is being stopped */
static uint64_t frames_before;          /* free frames before the first silo */
static spinlock_t table_lock = SPINLOCK_INIT("silos");

vm_space_t silo_space(const silo_t *s)
{
	return s->space;
}

static bool user_range_ok(uint64_t u, size_t n)
{
	return u + n >= u && u + n <= USER_TOP;
}

int copy_from_user(void *dst, uint64_t usrc, size_t n)
{
	if (!user_range_ok(usrc, n))
		return SL_EFAULT;
	return n ? arch_user_copy(dst, (const void *)usrc, n) : SL_OK;
}

int copy_to_user(uint64_t udst, const void *src, size_t n)
{
	if (!user_range_ok(udst, n))
		return SL_EFAULT;
	return n ? arch_user_copy((void *)udst, src, n) : SL_OK;
}

/* Maps [va, va+len) with fresh zeroed frames. */
static int map_zeroed(vm_space_t space, uint64_t va, uint64_t len, unsigned rights)
{
	for (uint64_t off = 0; off < len; off += FRAME_SIZE) {
		uint64_t pa;
		int err = pmm_alloc(&pa);

		if (err == SL_OK && (err = vm_map(space, va + off, pa, rights | VM_USER)) < 0)
			pmm_free(pa);
		if (err < 0)
			return err;
	}
	return SL_OK;
}

static void unmap_range(vm_space_t space, uint64_t va, uint64_t len)
{
	uint64_t pa;

	for (uint64_t off = 0; off < len; off += FRAME_SIZE)
		if (vm_unmap(space, va + off, &pa) == SL_OK)
			pmm_free(pa);
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

		err = map_zeroed(s->space, seg->vaddr, seg->memsz, segment_rights(seg->flags));
		if (err < 0) {
			*why = "out of memory";
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

/* Pushes argv (name, then the space-separated arguments) onto the new
 * thread's stack and enters user mode at main's crt0. */
static void silo_main_entry(void *arg)
{
	silo_t *s = arg;
	thread_t *self = thread_current();
	char words[SILO_NAME_MAX + SILO_ARGS_MAX + 1];
	uint64_t argv[MAX_ARGS + 1], sp = stack_top(self->user_slot);
	int argc = 0;

	ksnprintf(words, sizeof words, "%s %s", s->name, s->args);
	for (char *w = words; *w && argc < MAX_ARGS;) {
		size_t n = 0;

		while (*w == ' ')
			w++;
		while (w[n] && w[n] != ' ')
			n++;
		if (!n)
			break;
		sp -= n + 1;
		w[n] = '\0';
		copy_to_user(sp, w, n + 1);
		argv[argc++] = sp;
		w += n + 1;
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

/* cspace=N, kmem=N, prio=N in the module's arguments set the silo's limits. */
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

/* A thread for slot in s with a mapped user stack; NULL if out of room. */
static thread_t *silo_thread_alloc(silo_t *s, int slot)
{
	char name[THREAD_NAME_MAX];
	thread_t *t;

	ksnprintf(name, sizeof name, "%s.%d", s->name, slot);
	/* prio=N in the module's arguments: 1 (highest a silo may have) to 6. */
	t = thread_alloc(name, (int)arg_number(s, "prio", PRIO_DEFAULT, PRIO_HIGH + 1, PRIO_IDLE - 1));
	if (!t)
		return NULL;
	if (map_zeroed(s->space, stack_top(slot) - USER_STACK_SIZE, USER_STACK_SIZE, VM_WRITE) < 0) {
		unmap_range(s->space, stack_top(slot) - USER_STACK_SIZE, USER_STACK_SIZE);
		t->detached = true;
		thread_reap_stack(t);
		return NULL;
	}
	t->silo = s;
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
	while (cmdline[i] == ' ')
		i++;
	ksnprintf(s->args, sizeof s->args, "%s", cmdline + i);
}


/* Maps npages fresh zeroed frames read-only at va; returns the first
 * frame's kernel address (the frames are contiguous in va, not in pa, so
 * callers write page by page). */
static int map_readonly_pages(silo_t *s, uint64_t va, unsigned npages, void **pages)
{
	for (unsigned i = 0; i < npages; i++) {
		uint64_t pa;
		unsigned rights;

		if (map_zeroed(s->space, va + i * FRAME_SIZE, FRAME_SIZE, 0) < 0)
			return SL_ENOMEM;
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
	ksnprintf(bi->name, sizeof bi->name, "%s", s->name);
	ksnprintf(bi->args, sizeof bi->args, "%s", s->args);
	return SL_OK;
}

static void *silo_table_pages[SL_SILO_TABLE_PAGES];

/* The server's read-only table of every silo, filled once all are loaded. */
static void write_silo_table(void)
{
	static sl_silo_table_t table;
	const uint8_t *src = (const uint8_t *)&table;

	table.count = (unsigned)silo_count;
	for (int i = 0; i < silo_count && i < SL_SILO_TABLE_MAX; i++) {
		sl_silo_entry_t *e = &table.silos[i];
		e->id = (unsigned)silos[i].id;
		ksnprintf(e->name, sizeof e->name, "%s", silos[i].name);
		ksnprintf(e->args, sizeof e->args, "%s", silos[i].args);
	}
	for (unsigned p = 0; p < SL_SILO_TABLE_PAGES; p++) {
		size_t off = p * FRAME_SIZE, n = sizeof table - off < FRAME_SIZE ? sizeof table - off : FRAME_SIZE;
		if (silo_table_pages[p] && off < sizeof table)
			memcpy(silo_table_pages[p], src + off, n);
	}
}

/* Capabilities, limits and the read-only pages a silo starts with. */
static int silo_setup(silo_t *s)
{
	int err;

	s->is_server = server == NULL && s->id == 1;
	s->kmem.limit = arg_number(s, "kmem", SL_KMEM_DEFAULT, 0, 1u << 30);
	cspace_init(&s->cspace, arg_number(s, "cspace", SL_CSPACE_DEFAULT, SL_SLOT_FIRST_FREE, SL_CSPACE_MAX),
		    &cap_mdb, &kernel_cap_ops);
	if (s->is_server) {
		if ((err = ipc_setup_server(s)) < 0)
			return err;
		if ((err = map_readonly_pages(s, SL_SILO_TABLE_ADDR, SL_SILO_TABLE_PAGES, silo_table_pages)) < 0)
			return err;
		server = s;
	} else if (server && (err = ipc_setup_client(s, server)) < 0) {
		return err;
	}
	return write_bootinfo(s);
}

static bool silo_start(silo_t *s, const mb2_module_t *m)
{
	const char *why = "out of memory";
	thread_t *t;

	s->lock = (spinlock_t)SPINLOCK_INIT("silo");
	split_cmdline(s, m->cmdline);
	if (vm_space_create(&s->space) < 0)
		goto fail;
	t = silo_thread_alloc(s, 0);
	if (!t)
		goto fail;
	if (load_image(s, m, &why) < 0)
		goto fail;
	if (silo_setup(s) < 0) {
		why = "no memory for its capabilities";
		goto fail;
	}
	s->state = SILO_RUNNING;
	if (!s->is_server)
		silos_alive++;
	kprintf("silo %s (id %d) started: %s\n", s->name, s->id, s->args);
	thread_launch(t, silo_main_entry, s);
	return true;
fail:
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

int silo_start_all(const mb2_info_t *mb)
{
	int started = 0;

	heap_trim();
	frames_before = pmm_free_frames();
	for (uint32_t i = 0; i < mb->module_count && i < SILO_MAX; i++) {
		silo_t *s = &silos[silo_count];

		s->id = ++silo_count;
		started += silo_start(s, &mb->modules[i]);
	}
	if (mb->module_count > SILO_MAX)
		kprintf("warning: only the first %d modules become silos\n", SILO_MAX);
	write_silo_table();
	if (silo_count > 0 && silos_alive == 0)
		silos_all_ended();
	return started;
}

int silo_thread_spawn(silo_t *s, uint64_t entry, uint64_t a0, uint64_t a1)
{
	int slot = -1, err = SL_OK;

	if (entry < USER_MIN || entry >= USER_IMAGE_MAX)
		return SL_EINVAL;
	spin_lock(&s->lock);
	for (int i = 1; i < SILO_THREADS_MAX && slot < 0; i++)
		if (!s->threads[i])
			slot = i;
	thread_t *t = slot < 0 ? NULL : silo_thread_alloc(s, slot);
	int tid = t ? t->id : 0;
	/* Launched before the lock goes: nobody (a kill, a join) may see a
	 * thread in s->threads that is not ready to run yet. */
	if (t) {
		t->user_rip = entry;
		t->user_arg[0] = a0;
		t->user_arg[1] = a1;
		if (s->exiting) {
			err = SL_EKILLED;
			t->killed = true;
		}
		thread_launch(t, silo_thread_entry, t);
	}
	spin_unlock(&s->lock);
	if (slot < 0)
		return SL_EAGAIN;
	if (!t)
		return SL_ENOMEM;
	return err < 0 ? err : tid;
}

/* The thread of s with id tid, or NULL. s->lock held. */
static thread_t *find_thread(silo_t *s, int tid)
{
	for (int i = 0; i < SILO_THREADS_MAX; i++)
		if (s->threads[i] && s->threads[i]->id == tid)
			return s->threads[i];
	return NULL;
}

int silo_thread_join(silo_t *s, int tid, uint64_t code_ptr)
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
	/* The pointer is probed before waiting, so a bad one leaves the
	 * thread joinable. */
	if (copy_to_user(code_ptr, &code, sizeof code) < 0 ||
	    (err = thread_wait_exit(t, &code)) < 0) {
		t->joined = false;
		return err < 0 ? err : SL_EFAULT;
	}
	int slot = t->user_slot;
	unmap_range(s->space, stack_top(slot) - USER_STACK_SIZE, USER_STACK_SIZE);
	spin_lock(&s->lock);
	s->threads[slot] = NULL;                /* out of the silo before the record is reused */
	thread_free_if_reaped(t);
	spin_unlock(&s->lock);
	/* The pointer may have gone meanwhile: the thread is joined all the same. */
	return copy_to_user(code_ptr, &code, sizeof code);
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
	uint64_t event[5] = { (uint64_t)s->id, (uint64_t)(int64_t)s->exit_code, (uint64_t)-1, 0, 0 };

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
	}
	vm_activate(vm_kernel_space());
	spin_unlock(&s->lock);
	vm_space_destroy(s->space);
	s->space = 0;
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
		ipc_post_silo_event(event);
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
	uint64_t after = pmm_free_frames() + KSTACK_SIZE / FRAME_SIZE;
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
	int ok = 0;

	ipc_release_all();
	for (int i = 0; i < silo_count; i++)
		ok += silo_report(&silos[i]);
	kprintf("ipc: %llu switches through the fast path\n", (unsigned long long)ipc_fastpath_count());
	kprintf("shutdown: %d silos, %d exited 0, %d failed\n", silo_count, ok, silo_count - ok);
	bool clean = memory_all_back();
	arch_poweroff(ok == silo_count && clean);
}
