/*
 * chanserv's pages: the core asks for runs of pages (table chunks and
 * directories, ring runs, big rings, reply buffers) and gives them back
 * whole, so they come straight from the kernel (sl_mem_map, zeroed, charged
 * to chanserv's mem=N quota, the server's larger default) and go straight
 * back. When the kernel says no, the core answers CHAN_ENOMEM to the
 * request that needed the memory; nothing else is affected.
 */
#include "arena.h"

#include <sys/sluice.h>

void *pages_map(void *ctx, size_t pages)
{
	void *p = NULL;

	(void)ctx;
	return sl_mem_map(&p, pages, 0) == 0 ? p : NULL;
}

void pages_unmap(void *ctx, void *p, size_t pages)
{
	(void)ctx;
	sl_mem_unmap(p, pages);
}
