/*
 * Kernel heap: slab caches for objects of known size and kmalloc size
 * classes from 16 to 2048 bytes. Larger buffers take whole frames.
 */
#ifndef KERNEL_HEAP_H
#define KERNEL_HEAP_H

#include <kernel/slab.h>

void heap_init(void);

/* A cache whose pages come from the frame allocator through the direct map. */
void heap_cache_init(slab_cache_t *cache, const char *name, size_t object_size);

/* Zeroed memory of at most SLAB_MAX_OBJECT bytes, or NULL. */
void *kmalloc(size_t size);
void kfree(void *p);

/* Returns the few free slab pages the heap keeps back to the frame
 * allocator (before counting free frames, for example). */
void heap_trim(void);

#endif
