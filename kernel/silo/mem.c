/*
 * Anonymous memory in a silo's own address space: SL_SYS_MEM_MAP and
 * SL_SYS_MEM_UNMAP (see <kernel/silo_mem.h> for the record and the lock
 * order, docs/abi.md for the contract).
 *
 * Every argument is checked before the region changes; a map that runs
 * out of frames half-way undoes what it mapped and gives the quota back,
 * so a failed call has had no effect. Only the calling silo's space is
 * ever changed, and it is the one loaded on the CPU, so vm_unmap's invlpg
 * is the whole TLB flush (one CPU; several would need a shootdown).
 */
#include <abi/errors.h>
#include <abi/syscall.h>
#include <kernel/mem_range.h>
#include <kernel/pmm.h>
#include <kernel/silo.h>
#include <kernel/silo_mem.h>

_Static_assert(SL_MEM_REGION_BASE >= USER_IMAGE_MAX || SL_MEM_REGION_END <= USER_IMAGE_MIN,
	       "program images may not reach into the anonymous region");
_Static_assert(SL_MEM_REGION_END <= USER_STACK_TOP - (uint64_t)SILO_THREADS_MAX * USER_STACK_STRIDE,
	       "thread stacks may not reach into the anonymous region");
_Static_assert(MEM_PAGE == FRAME_SIZE, "one page, one frame");

void silo_mem_init(silo_t *s, uint64_t limit)
{
	s->mem.limit = limit;
	s->anon.busy = false;
	s->anon.low = SL_MEM_REGION_BASE;
	s->anon.pages = 0;
	waitq_init(&s->anon.wq, "mem", NULL);
}

void silo_mem_teardown(silo_t *s)
{
	quota_uncharge(&s->mem, s->anon.pages);
	s->anon.pages = 0;
	s->anon.low = SL_MEM_REGION_BASE;
}

static bool anon_claim(void *arg)
{
	silo_mem_t *m = arg;

	if (m->busy)
		return false;
	m->busy = true;
	return true;
}

/* Takes the silo's mem lock, sleeping while another of its threads holds
 * it. Returns SL_OK, or SL_EKILLED if the caller is killed meanwhile.
 * Called with no lock held. */
static int anon_lock(silo_mem_t *m)
{
	spin_lock(m->wq.lock);
	int err = waitq_wait_locked(&m->wq, anon_claim, m, 0);
	spin_unlock(m->wq.lock);
	return err;
}

/* Releases the mem lock (held by the caller) and wakes one waiter, which
 * re-checks busy. Takes and drops the wait queue's lock. */
static void anon_unlock(silo_mem_t *m)
{
	spin_lock(m->wq.lock);
	m->busy = false;
	waitq_wake_one_locked(&m->wq);
	spin_unlock(m->wq.lock);
}

static bool page_used(void *ctx, uint64_t va)
{
	uint64_t pa;
	unsigned rights;

	return vm_translate(*(vm_space_t *)ctx, va, &pa, &rights);
}

/* [va, va + pages) lies page-aligned inside the region. */
static bool in_region(uint64_t va, uint64_t pages)
{
	return !(va & (FRAME_SIZE - 1)) && va >= SL_MEM_REGION_BASE && va < SL_MEM_REGION_END &&
	       pages <= (SL_MEM_REGION_END - va) / FRAME_SIZE;
}

/* Where the new pages go: the FIXED address, a usable hint, or the lowest
 * free run at or above the cursor. Mem lock held. */
static int anon_place(silo_t *s, uint64_t hint, uint64_t pages, bool fixed, uint64_t *va)
{
	vm_space_t space = s->space;

	if (hint && in_region(hint, pages) && mem_range_all(page_used, &space, hint, pages, false)) {
		*va = hint;
		return SL_OK;
	}
	if (fixed)
		return SL_EEXIST;
	if (!mem_range_find(page_used, &space, s->anon.low, SL_MEM_REGION_END, pages, va))
		return SL_ENOMEM;       /* cannot happen while quotas are below the region's size */
	return SL_OK;
}

/* Unmaps and frees the first `pages` pages at va, all of them mapped. */
static void anon_unmap_pages(vm_space_t space, uint64_t va, uint64_t pages)
{
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t pa;

		if (vm_unmap(space, va + i * FRAME_SIZE, &pa) == SL_OK)
			pmm_free(pa);
	}
}

/* Maps fresh zeroed frames at [va, va + pages); when a frame or a page
 * table cannot be had, unmaps what it mapped and returns why (SL_ENOMEM;
 * SL_EQUOTA where page tables are charged to a quota of the silo). */
static int anon_map_pages(vm_space_t space, uint64_t va, uint64_t pages)
{
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t pa;
		int err = pmm_alloc(&pa);

		if (err == SL_OK && (err = vm_map(space, va + i * FRAME_SIZE, pa, VM_WRITE | VM_USER)) < 0)
			pmm_free(pa);
		if (err < 0) {
			anon_unmap_pages(space, va, i);
			return err;
		}
	}
	return SL_OK;
}

/* Mem lock held: choose, charge, map; on failure nothing has changed. */
static int64_t anon_map_locked(silo_t *s, uint64_t hint, uint64_t pages, bool fixed)
{
	uint64_t va;
	int err = quota_charge(&s->mem, pages);

	if (err < 0)
		return err;
	if ((err = anon_place(s, hint, pages, fixed, &va)) < 0 ||
	    (err = anon_map_pages(s->space, va, pages)) < 0) {
		quota_uncharge(&s->mem, pages);
		return err;
	}
	s->anon.pages += pages;
	if (va == s->anon.low)
		s->anon.low = va + pages * FRAME_SIZE;
	return (int64_t)va;
}

/*
 * SL_SYS_MEM_MAP. May sleep on the silo's mem lock (SL_EKILLED if the
 * caller is killed there); called with no lock held. The quota is charged
 * before the search, so a count past it never costs a scan.
 */
int64_t silo_mem_map(silo_t *s, uint64_t hint, uint64_t pages, uint64_t flags)
{
	bool fixed = flags & SL_MEM_FIXED;

	if (!pages || pages > SL_MEM_REGION_PAGES || (flags & ~(uint64_t)SL_MEM_FIXED))
		return SL_EINVAL;
	if ((hint & (FRAME_SIZE - 1)) || (fixed && !in_region(hint, pages)))
		return SL_EINVAL;
	int err = anon_lock(&s->anon);
	if (err < 0)
		return err;
	int64_t r = anon_map_locked(s, hint, pages, fixed);
	anon_unlock(&s->anon);
	return r;
}

/*
 * SL_SYS_MEM_UNMAP: every page of the range must be mapped, or nothing is
 * unmapped. May sleep on the silo's mem lock; called with no lock held.
 */
int64_t silo_mem_unmap(silo_t *s, uint64_t addr, uint64_t pages)
{
	vm_space_t space = s->space;

	if (!pages || pages > SL_MEM_REGION_PAGES || !in_region(addr, pages))
		return SL_EINVAL;
	int err = anon_lock(&s->anon);
	if (err < 0)
		return err;
	if (mem_range_all(page_used, &space, addr, pages, true)) {
		anon_unmap_pages(space, addr, pages);
		quota_uncharge(&s->mem, pages);
		s->anon.pages -= pages;
		if (addr < s->anon.low)
			s->anon.low = addr;
	} else {
		err = SL_ENOENT;
	}
	anon_unlock(&s->anon);
	return err;
}
