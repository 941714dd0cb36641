/*
 * Size classes over chunks, large blocks mapped alone (see malloc_core.h).
 *
 * A chunk is a run of pages with a 64-byte header and blocks of one class
 * after it. Blocks are carved lazily (a bump count), so a new chunk costs
 * nothing per block; freed blocks go on the chunk's own free list. A class
 * keeps a doubly linked list of its chunks that have a block to give; a full
 * chunk leaves it and comes back on its first free.
 */
#include "malloc_core.h"

#include <stdbool.h>
#include <string.h>

#define MAGIC_USED 0x5a11c0deu
#define MAGIC_FREE 0xf4eeb10cu
#define MAGIC_LARGE 0x1a46eb1cu
#define MAGIC_CHUNK 0xc4a2c0deu
#define CHUNK_HDR 64
#define CLASS_LARGE MHEAP_CLASSES

typedef struct mblock {
	uint32_t magic;                 /* MAGIC_* ^ key(the header's address) */
	uint32_t cls;                   /* class, or CLASS_LARGE */
	union {
		struct mchunk *chunk;   /* a class block's chunk */
		size_t pages;           /* a large block's mapping */
	} u;
} mblock_t;

typedef struct mchunk {
	uint32_t magic, cls;
	uint32_t used, capacity, carved, pages;
	mblock_t *free;                 /* freed blocks, linked through their payload */
	struct mchunk *prev, *next;     /* in partial[cls] while used < capacity */
} mchunk_t;

_Static_assert(sizeof(mblock_t) == MHEAP_ALIGN, "the header keeps payloads aligned");
_Static_assert(sizeof(mchunk_t) <= CHUNK_HDR, "chunk header fits");

/* Mixes an address into the magic words, so a stray copy of a header
 * elsewhere does not pass for a live block. */
static uint32_t key(const void *a)
{
	uint64_t x = (uint64_t)(uintptr_t)a;

	return (uint32_t)((x ^ (x >> 29)) * 0x9e3779b1u);
}

static size_t block_size(unsigned cls)
{
	return (size_t)32 << cls;
}

static unsigned class_of(size_t total)
{
	unsigned cls = 0;

	while (block_size(cls) < total)
		cls++;
	return cls;
}

static size_t chunk_pages(unsigned cls)
{
	size_t bytes = block_size(cls) * 8;

	return (bytes < 65536 ? 65536 : bytes) / MHEAP_PAGE;
}

void mheap_init(mheap_t *h, const mheap_pages_t *pages)
{
	memset(h, 0, sizeof *h);
	h->pages = *pages;
}

static void list_link(mheap_t *h, mchunk_t *c)
{
	c->prev = NULL;
	c->next = h->partial[c->cls];
	if (c->next)
		c->next->prev = c;
	h->partial[c->cls] = c;
}

static void list_unlink(mheap_t *h, mchunk_t *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		h->partial[c->cls] = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static mchunk_t *chunk_new(mheap_t *h, unsigned cls)
{
	size_t pages = chunk_pages(cls);
	mchunk_t *c = h->pages.map(h->pages.ctx, pages);

	if (!c)
		return NULL;
	*c = (mchunk_t){ .magic = MAGIC_CHUNK ^ key(c), .cls = cls, .pages = (uint32_t)pages,
			 .capacity = (uint32_t)((pages * MHEAP_PAGE - CHUNK_HDR) / block_size(cls)) };
	h->chunks++;
	list_link(h, c);
	return c;
}

static void *small_alloc(mheap_t *h, unsigned cls)
{
	mchunk_t *c = h->partial[cls] ? h->partial[cls] : chunk_new(h, cls);
	mblock_t *b;

	if (!c)
		return NULL;
	if (c->free) {
		b = c->free;
		c->free = *(mblock_t **)(b + 1);
	} else {
		b = (mblock_t *)((char *)c + CHUNK_HDR + c->carved++ * block_size(cls));
	}
	if (++c->used == c->capacity)
		list_unlink(h, c);
	*b = (mblock_t){ .magic = MAGIC_USED ^ key(b), .cls = cls, .u.chunk = c };
	return b + 1;
}

static void *large_alloc(mheap_t *h, size_t n)
{
	if (n > SIZE_MAX - MHEAP_ALIGN - MHEAP_PAGE)
		return NULL;
	size_t pages = (n + MHEAP_ALIGN + MHEAP_PAGE - 1) / MHEAP_PAGE;
	mblock_t *b = h->pages.map(h->pages.ctx, pages);

	if (!b)
		return NULL;
	*b = (mblock_t){ .magic = MAGIC_LARGE ^ key(b), .cls = CLASS_LARGE, .u.pages = pages };
	h->large_pages += pages;
	return b + 1;
}

void *mheap_alloc(mheap_t *h, size_t n)
{
	if (n > MHEAP_SMALL_MAX)
		return large_alloc(h, n);
	return small_alloc(h, class_of((n ? n : 1) + MHEAP_ALIGN));
}

void *mheap_calloc(mheap_t *h, size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		return NULL;
	void *p = mheap_alloc(h, count * size);

	if (p)
		memset(p, 0, count * size);
	return p;
}

/* Is b a block of chunk c, at a block boundary it has handed out? */
static bool chunk_holds(const mchunk_t *c, const mblock_t *b)
{
	uintptr_t first = (uintptr_t)c + CHUNK_HDR, at = (uintptr_t)b;

	if (c->magic != (MAGIC_CHUNK ^ key(c)) || c->cls >= MHEAP_CLASSES || at < first)
		return false;
	size_t off = at - first, bs = block_size(c->cls);
	return off % bs == 0 && off / bs < c->carved;
}

/* The header of p, checked: MHEAP_OK for a live block, else why not. */
static int decode(const void *p, mblock_t **out)
{
	mblock_t *b = (mblock_t *)p - 1;

	if ((uintptr_t)p % MHEAP_ALIGN)
		return MHEAP_EFOREIGN;
	*out = b;
	if (b->magic == (MAGIC_LARGE ^ key(b)) && b->cls == CLASS_LARGE && !((uintptr_t)b % MHEAP_PAGE))
		return MHEAP_OK;
	if ((b->magic == (MAGIC_USED ^ key(b)) || b->magic == (MAGIC_FREE ^ key(b))) &&
	    b->cls < MHEAP_CLASSES && chunk_holds(b->u.chunk, b) && b->u.chunk->cls == b->cls)
		return b->magic == (MAGIC_USED ^ key(b)) ? MHEAP_OK : MHEAP_EDOUBLE;
	return MHEAP_EFOREIGN;
}

static size_t usable_of(const mblock_t *b)
{
	if (b->cls == CLASS_LARGE)
		return b->u.pages * MHEAP_PAGE - MHEAP_ALIGN;
	return block_size(b->cls) - MHEAP_ALIGN;
}

size_t mheap_usable(const void *p)
{
	mblock_t *b;

	return p && decode(p, &b) == MHEAP_OK ? usable_of(b) : 0;
}

/* A class block goes back to its chunk; an emptied chunk goes back to the
 * provider unless it is the only one its class has left to give from. */
static void small_free(mheap_t *h, mblock_t *b)
{
	mchunk_t *c = b->u.chunk;

	b->magic = MAGIC_FREE ^ key(b);
	*(mblock_t **)(b + 1) = c->free;
	c->free = b;
	if (c->used-- == c->capacity)
		list_link(h, c);
	if (c->used == 0 && (h->partial[c->cls] != c || c->next)) {
		list_unlink(h, c);
		c->magic = 0;
		h->chunks--;
		h->pages.unmap(h->pages.ctx, c, c->pages);
	}
}

int mheap_free(mheap_t *h, void *p)
{
	mblock_t *b;
	int err;

	if (!p)
		return MHEAP_OK;
	if ((err = decode(p, &b)) < 0)
		return err;
	if (b->cls != CLASS_LARGE) {
		small_free(h, b);
		return MHEAP_OK;
	}
	size_t pages = b->u.pages;
	b->magic = 0;
	h->large_pages -= pages;
	h->pages.unmap(h->pages.ctx, b, pages);
	return MHEAP_OK;
}

/* Whether a block of usable size `have` should stay put for n bytes:
 * it holds them and is not more than twice too big. */
static bool fits_well(const mblock_t *b, size_t n)
{
	size_t have = usable_of(b);

	if (n > have)
		return false;
	if (b->cls == CLASS_LARGE)
		return n > MHEAP_SMALL_MAX && n >= have / 2;
	return b->cls == 0 || n + MHEAP_ALIGN > block_size(b->cls - 1);
}

int mheap_realloc(mheap_t *h, void *p, size_t n, void **out)
{
	mblock_t *b;
	int err;

	if (!p) {
		*out = mheap_alloc(h, n);
		return *out ? MHEAP_OK : MHEAP_ENOMEM;
	}
	if ((err = decode(p, &b)) < 0)
		return err;
	if (n == 0) {
		*out = NULL;
		return mheap_free(h, p);
	}
	if (fits_well(b, n)) {
		*out = p;
		return MHEAP_OK;
	}
	void *q = mheap_alloc(h, n);
	if (!q)
		return MHEAP_ENOMEM;
	size_t have = usable_of(b);
	memcpy(q, p, have < n ? have : n);
	mheap_free(h, p);
	*out = q;
	return MHEAP_OK;
}
