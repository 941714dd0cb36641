/*
 * Finding room in a silo's anonymous-memory region. Plain C over a
 * "is this page mapped?" callback: the kernel asks its page tables, the
 * host tests a bitmap.
 */
#ifndef KERNEL_MEM_RANGE_H
#define KERNEL_MEM_RANGE_H

#include <stdbool.h>
#include <stdint.h>

#define MEM_PAGE 4096ull

typedef bool (*mem_page_used_t)(void *ctx, uint64_t va);

/* True if every page of [va, va + pages * MEM_PAGE) is mapped (want true)
 * or every one is free (want false). Stops at the first page that differs. */
bool mem_range_all(mem_page_used_t used, void *ctx, uint64_t va, uint64_t pages, bool want);

/*
 * The lowest run of `pages` free pages in [from, end), in *out. Each
 * candidate run is checked from its top page down, and a mapped page moves
 * the next candidate past it, so a page is looked at most once: the cost is
 * the pages of the run found plus the mapped pages in the way (at most
 * `pages` per mapped page), never the free gigabytes around them. False if
 * no run fits below end.
 */
bool mem_range_find(mem_page_used_t used, void *ctx, uint64_t from, uint64_t end,
		    uint64_t pages, uint64_t *out);

#endif
