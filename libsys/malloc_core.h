/*
 * The allocator behind malloc: plain C over a page provider, so the host
 * tests run it over mmap and silos over SL_SYS_MEM_MAP. Not thread-safe by
 * itself: libsys/malloc.c puts one lock around every call.
 *
 * Every block starts with a 16-byte header (a magic word mixed with the
 * block's address, its class, its chunk or page count), so payloads are
 * 16-byte aligned and free() can tell a live block from a freed or foreign
 * one. Blocks of up to MHEAP_SMALL_MAX bytes come from size classes (powers
 * of two, 32 bytes to 16 KiB with the header), carved from chunks of 64 KiB
 * or more; a chunk that becomes empty goes back to the provider unless it is
 * its class's last one. Larger blocks are mapped on their own and unmapped
 * on free.
 */
#ifndef LIBSYS_MALLOC_CORE_H
#define LIBSYS_MALLOC_CORE_H

#include <stddef.h>
#include <stdint.h>

#define MHEAP_ALIGN 16
#define MHEAP_PAGE 4096
#define MHEAP_CLASSES 10                        /* blocks of 32 .. 16384 bytes */
#define MHEAP_SMALL_MAX (16384 - MHEAP_ALIGN)   /* largest payload of a class */

enum {
	MHEAP_OK = 0,
	MHEAP_ENOMEM = -1,      /* the provider gave no pages (or the size overflows) */
	MHEAP_EFOREIGN = -2,    /* not a pointer this heap handed out */
	MHEAP_EDOUBLE = -3,     /* a block already freed */
};

typedef struct mheap_pages {
	void *(*map)(void *ctx, size_t pages);          /* zeroed pages, or NULL */
	void (*unmap)(void *ctx, void *addr, size_t pages);
	void *ctx;
} mheap_pages_t;

struct mchunk;

typedef struct mheap {
	mheap_pages_t pages;
	struct mchunk *partial[MHEAP_CLASSES];  /* chunks with a block to give */
	size_t chunks, large_pages;             /* held from the provider */
} mheap_t;

void mheap_init(mheap_t *h, const mheap_pages_t *pages);

/* A block of at least n bytes (n 0 counts as 1), or NULL. */
void *mheap_alloc(mheap_t *h, size_t n);

/* count * size zeroed bytes, or NULL (also when the product overflows). */
void *mheap_calloc(mheap_t *h, size_t count, size_t size);

/* Gives p back; NULL is fine. MHEAP_OK, MHEAP_EFOREIGN or MHEAP_EDOUBLE
 * (then nothing changed). */
int mheap_free(mheap_t *h, void *p);

/* Resizes p to n bytes in *out, keeping the first min(old, n) bytes: p
 * itself when it still fits well, else a new block (p is freed). p NULL
 * is an alloc; n 0 frees p and gives NULL. On MHEAP_ENOMEM p is untouched;
 * a bad p is MHEAP_EFOREIGN or MHEAP_EDOUBLE. */
int mheap_realloc(mheap_t *h, void *p, size_t n, void **out);

/* The bytes p may use (at least what was asked), or 0 for a bad p. */
size_t mheap_usable(const void *p);

#endif
