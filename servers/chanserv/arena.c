/*
 * chanserv's pages: from the kernel (sl_mem_map, charged to chanserv's
 * mem=N quota) when it can give them, else from a static arena. The core
 * asks for pages only (table chunks and directories, ring runs, big rings,
 * reply buffers) and gives them back whole, so the arena needs no more
 * than a free list per run length.
 */
#include "arena.h"

#include <sys/sluice.h>

#define ARENA_PAGES 2048u               /* 8 MiB, while the kernel cannot map */
#define PAGE 4096u
#define EXACT 64                        /* runs up to this many pages: exact free lists */

static uint8_t arena[ARENA_PAGES * PAGE] __attribute__((aligned(4096)));
static size_t arena_used;               /* pages handed out from the top */
static void *exact[EXACT + 1];          /* freed runs of n pages, chained through their first word */
static void *big;                       /* freed longer runs: [next, pages] */
static bool kernel_gone;                /* sl_mem_map said SL_ENOSYS: never ask again */

static bool in_arena(const void *p)
{
	return (const uint8_t *)p >= arena && (const uint8_t *)p < arena + sizeof arena;
}

static void *arena_take(size_t pages)
{
	void **pp, *p;

	if (pages <= EXACT && exact[pages]) {
		p = exact[pages];
		exact[pages] = *(void **)p;
	} else {
		for (pp = &big; *pp && ((size_t *)*pp)[1] != pages; pp = (void **)*pp)
			;
		if ((p = *pp)) {
			*pp = *(void **)p;
		} else if (arena_used + pages <= ARENA_PAGES) {
			p = arena + arena_used * PAGE;
			arena_used += pages;
			return p;               /* never used: zero already */
		} else {
			return NULL;
		}
	}
	memset(p, 0, pages * PAGE);
	return p;
}

void *pages_map(void *ctx, size_t pages)
{
	void *p = NULL;

	(void)ctx;
	if (!kernel_gone) {
		int r = sl_mem_map(&p, pages, 0);
		if (r == 0)
			return p;
		kernel_gone = r == SL_ENOSYS;
	}
	return arena_take(pages);
}

void pages_unmap(void *ctx, void *p, size_t pages)
{
	(void)ctx;
	if (!in_arena(p)) {
		sl_mem_unmap(p, pages);
		return;
	}
	if (pages <= EXACT) {
		*(void **)p = exact[pages];
		exact[pages] = p;
	} else {
		((size_t *)p)[1] = pages;
		*(void **)p = big;
		big = p;
	}
}

bool pages_from_kernel(void)
{
	return !kernel_gone;
}
