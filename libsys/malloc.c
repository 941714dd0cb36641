/*
 * malloc, calloc, realloc and free for silos: the allocator of
 * malloc_core.c over anonymous memory from SL_SYS_MEM_MAP, behind one lock.
 *
 * The lock is a flag taken with an atomic exchange; a thread that finds it
 * taken yields instead of spinning, so on one CPU the holder runs next.
 * A free of a pointer malloc never gave, or of one already freed, prints
 * what happened and aborts the silo: continuing would corrupt the heap.
 */
#include <stdlib.h>
#include <sys/sluice.h>

#include "malloc_core.h"

static mheap_t heap;
static bool heap_ready;
static int heap_flag;

static void *pages_map(void *ctx, size_t pages)
{
	void *addr = NULL;

	(void)ctx;
	return sl_mem_map(&addr, pages, 0) == SL_OK ? addr : NULL;
}

static void pages_unmap(void *ctx, void *addr, size_t pages)
{
	(void)ctx;
	if (sl_mem_unmap(addr, pages) < 0)
		abort();
}

/* Takes the heap lock, yielding while another thread holds it. */
static mheap_t *heap_lock(void)
{
	while (__atomic_exchange_n(&heap_flag, 1, __ATOMIC_ACQUIRE))
		sl_yield();
	if (!heap_ready) {
		mheap_init(&heap, &(mheap_pages_t){ pages_map, pages_unmap, NULL });
		heap_ready = true;
	}
	return &heap;
}

/* Releases the heap lock, held by the caller. */
static void heap_unlock(void)
{
	__atomic_store_n(&heap_flag, 0, __ATOMIC_RELEASE);
}

static void heap_check(int err, const char *what, const void *p)
{
	if (err == MHEAP_EFOREIGN || err == MHEAP_EDOUBLE) {
		printf("malloc: %s(%p): %s\n", what, p,
		       err == MHEAP_EDOUBLE ? "already freed" : "not a pointer malloc gave");
		abort();
	}
}

/*
 * Each of these takes the heap lock around one call into the core (and
 * may yield while another thread holds it); none may be called with it
 * held. A map or unmap for the heap happens inside the lock.
 */
void *malloc(size_t n)
{
	void *p = mheap_alloc(heap_lock(), n);

	heap_unlock();
	return p;
}

void *calloc(size_t count, size_t size)
{
	void *p = mheap_calloc(heap_lock(), count, size);

	heap_unlock();
	return p;
}

void *realloc(void *p, size_t n)
{
	void *q = NULL;
	int err = mheap_realloc(heap_lock(), p, n, &q);

	heap_unlock();
	heap_check(err, "realloc", p);
	return err == MHEAP_OK ? q : NULL;
}

void free(void *p)
{
	int err = mheap_free(heap_lock(), p);

	heap_unlock();
	heap_check(err, "free", p);
}

size_t malloc_usable_size(void *p)
{
	return mheap_usable(p);        /* reads only p's own header: no lock */
}

void abort(void)
{
	sl_exit(SL_ABORT_CODE);
}

void exit(int code)
{
	sl_exit(code);
}
