/*
 * chanserv's memory for channel rings: a static arena cut into power-of-two
 * blocks, with a free list per size. Rings are the only thing chanserv
 * allocates, and their sizes repeat.
 */
#include "arena.h"

#include <sys/sluice.h>

#define ARENA_BYTES (4u << 20)
#define MIN_SHIFT 6                     /* 64 bytes */
#define CLASSES 20

static uint8_t arena[ARENA_BYTES] __attribute__((aligned(64)));
static size_t arena_used;
static void *free_lists[CLASSES];

static unsigned class_of(size_t bytes)
{
	unsigned c = 0;

	while (((size_t)1 << (c + MIN_SHIFT)) < bytes)
		c++;
	return c;
}

void *arena_alloc(void *ctx, size_t bytes)
{
	unsigned c = class_of(bytes);
	size_t size = (size_t)1 << (c + MIN_SHIFT);
	void *p;

	(void)ctx;
	if (c >= CLASSES)
		return NULL;
	if (free_lists[c]) {
		p = free_lists[c];
		free_lists[c] = *(void **)p;
	} else if (arena_used + size <= ARENA_BYTES) {
		p = arena + arena_used;
		arena_used += size;
	} else {
		return NULL;
	}
	memset(p, 0, size);
	return p;
}

void arena_free(void *ctx, void *p, size_t bytes)
{
	unsigned c = class_of(bytes);

	(void)ctx;
	if (!p)
		return;
	*(void **)p = free_lists[c];
	free_lists[c] = p;
}
