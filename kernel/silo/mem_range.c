/*
 * Room in the anonymous-memory region (see <kernel/mem_range.h>).
 * Portable: compiled into the kernel and into the host tests.
 */
#include <kernel/mem_range.h>

bool mem_range_all(mem_page_used_t used, void *ctx, uint64_t va, uint64_t pages, bool want)
{
	for (uint64_t i = 0; i < pages; i++)
		if (used(ctx, va + i * MEM_PAGE) != want)
			return false;
	return true;
}

bool mem_range_find(mem_page_used_t used, void *ctx, uint64_t from, uint64_t end,
		    uint64_t pages, uint64_t *out)
{
	uint64_t len = pages * MEM_PAGE, start = from, checked = from;

	if (from >= end || !pages || pages > (end - from) / MEM_PAGE)
		return false;
	/* [start, checked) is known free; pages at or above checked are not
	 * looked at yet. */
	while (len <= end - start) {
		uint64_t top = start + len, p = top;
		bool hit = false;

		while (p > checked && !hit) {
			p -= MEM_PAGE;
			hit = used(ctx, p);
		}
		if (!hit) {
			*out = start;
			return true;
		}
		checked = top;          /* (p, top) is free: the next run starts above p */
		start = p + MEM_PAGE;
	}
	return false;
}
