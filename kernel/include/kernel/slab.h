/*
 * Slab caches: fixed-size objects carved out of 4 KiB pages.
 *
 * Each slab is one page whose head holds a slab_t header; the rest is an
 * array of objects, handed out in order the first time round (so a new
 * slab costs O(1)); a freed object links to the next through its first word;
 * a per-slab bitmap records which objects are handed out, so a double or
 * foreign free is caught instead of corrupting the free list. A slab whose
 * last object is freed goes back to the page source. Portable: pages come
 * from callbacks, so the host tests run the same code over aligned_alloc.
 */
#ifndef KERNEL_SLAB_H
#define KERNEL_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define SLAB_PAGE_SIZE 4096u
#define SLAB_MIN_OBJECT 16u
#define SLAB_MAX_OBJECT 2048u

typedef struct slab_page_source {
	void *(*alloc_page)(void *ctx);         /* SLAB_PAGE_SIZE-aligned, or NULL */
	void (*free_page)(void *ctx, void *page);
	void *ctx;
} slab_page_source_t;

typedef struct slab slab_t;

typedef struct slab_cache {
	const char *name;
	uint32_t object_size;
	uint32_t per_slab;
	uint32_t first_offset;          /* of object 0 from the page start */
	slab_t *partial;                /* slabs with at least one free object */
	slab_t *full;
	const slab_page_source_t *source;
	size_t objects_in_use;
	size_t pages;
} slab_cache_t;

/* object_size is rounded up to a multiple of 16, within [16, 2048]. */
void slab_cache_init(slab_cache_t *cache, const char *name, size_t object_size,
		     const slab_page_source_t *source);

/* Returns an object, or NULL when the page source is out of pages. */
void *slab_alloc(slab_cache_t *cache);

/* Returns 0, or -1 when obj was not handed out by this cache (nothing changes). */
int slab_free(slab_cache_t *cache, void *obj);

/* The cache obj's slab belongs to, or NULL if obj is not a slab object. */
slab_cache_t *slab_owner(void *obj);

#endif
