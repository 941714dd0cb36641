/*
 * Slab allocator. See <kernel/slab.h> for the design.
 */
#include <kernel/slab.h>
#include <stdbool.h>

#define SLAB_MAGIC 0x51ab51ab51ab51abull
#define SLAB_MAX_OBJECTS (SLAB_PAGE_SIZE / SLAB_MIN_OBJECT)

struct slab {
	uint64_t magic;
	slab_cache_t *cache;
	slab_t *next, *prev;
	void *free_list;                /* objects freed since the slab was made */
	uint32_t in_use;
	uint32_t fresh;                 /* objects [fresh, per_slab) never handed out */
	uint64_t used[SLAB_MAX_OBJECTS / 64];   /* bit set: object handed out */
};

static void list_remove(slab_t **head, slab_t *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static void list_push(slab_t **head, slab_t *s)
{
	s->prev = NULL;
	s->next = *head;
	if (*head)
		(*head)->prev = s;
	*head = s;
}

void slab_cache_init(slab_cache_t *cache, const char *name, size_t object_size,
		     const slab_page_source_t *source)
{
	size_t size = (object_size + 15) & ~(size_t)15;

	if (size < SLAB_MIN_OBJECT)
		size = SLAB_MIN_OBJECT;
	if (size > SLAB_MAX_OBJECT)
		size = SLAB_MAX_OBJECT;
	/* Objects sit size bytes apart, so the best alignment they can all
	 * share is the largest power of two dividing size (capped at a
	 * cache line). */
	size_t align = size & -size;
	if (align > 64)
		align = 64;
	*cache = (slab_cache_t){ .name = name, .object_size = (uint32_t)size, .source = source };
	cache->first_offset = (uint32_t)((sizeof(slab_t) + align - 1) & ~(align - 1));
	cache->per_slab = (uint32_t)((SLAB_PAGE_SIZE - cache->first_offset) / size);
}

static void *object_at(slab_cache_t *c, slab_t *s, uint32_t i)
{
	return (char *)s + c->first_offset + (size_t)i * c->object_size;
}

static slab_t *slab_create(slab_cache_t *c)
{
	slab_t *s = c->source->alloc_page(c->source->ctx);

	if (!s)
		return NULL;
	/* Objects are carved out lazily (see `fresh`): making a slab is O(1). */
	*s = (slab_t){ .magic = SLAB_MAGIC, .cache = c };
	c->pages++;
	return s;
}

void *slab_alloc(slab_cache_t *c)
{
	slab_t *s = c->partial;

	if (!s) {
		s = slab_create(c);
		if (!s)
			return NULL;
		list_push(&c->partial, s);
	}
	void **obj = s->free_list;
	uint32_t i;

	if (obj) {
		i = (uint32_t)(((char *)obj - (char *)s - c->first_offset) / c->object_size);
		s->free_list = *obj;
	} else {
		i = s->fresh++;
		obj = object_at(c, s, i);
	}
	s->used[i / 64] |= 1ull << (i % 64);
	s->in_use++;
	c->objects_in_use++;
	if (s->in_use == c->per_slab) {
		list_remove(&c->partial, s);
		list_push(&c->full, s);
	}
	return obj;
}

slab_cache_t *slab_owner(void *obj)
{
	slab_t *s = (slab_t *)((uintptr_t)obj & ~(uintptr_t)(SLAB_PAGE_SIZE - 1));

	return s->magic == SLAB_MAGIC ? s->cache : NULL;
}

/* Index of obj in its slab, or -1 if obj is not the start of an object. */
static long object_index(slab_cache_t *c, slab_t *s, void *obj)
{
	size_t off = (size_t)((char *)obj - (char *)s);

	if (off < c->first_offset || (off - c->first_offset) % c->object_size)
		return -1;
	size_t i = (off - c->first_offset) / c->object_size;
	return i < c->per_slab ? (long)i : -1;
}

int slab_free(slab_cache_t *c, void *obj)
{
	slab_t *s = (slab_t *)((uintptr_t)obj & ~(uintptr_t)(SLAB_PAGE_SIZE - 1));

	if (!obj || s->magic != SLAB_MAGIC || s->cache != c)
		return -1;
	long i = object_index(c, s, obj);
	if (i < 0 || !(s->used[i / 64] & 1ull << (i % 64)))
		return -1;

	s->used[i / 64] &= ~(1ull << (i % 64));
	*(void **)obj = s->free_list;
	s->free_list = obj;
	if (s->in_use-- == c->per_slab) {
		list_remove(&c->full, s);
		list_push(&c->partial, s);
	}
	c->objects_in_use--;
	if (s->in_use == 0) {
		list_remove(&c->partial, s);
		s->magic = 0;
		c->source->free_page(c->source->ctx, s);
		c->pages--;
	}
	return 0;
}
