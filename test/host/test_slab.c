/*
 * Host tests of the slab allocator (kernel/mm/slab.c) over a page source
 * backed by aligned_alloc that tracks every page it hands out and can be
 * told to fail.
 */
#include <kernel/slab.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MAX_PAGES 64
#define MAX_OBJECTS 1024

/* The page source: every live page is in pages[]; freed slots are NULL. */
typedef struct {
	void *pages[MAX_PAGES];
	int live;
	int allocs;
	bool fail;
} page_source_t;

static page_source_t src;
static slab_page_source_t source;

static void *source_alloc(void *ctx)
{
	page_source_t *ps = ctx;

	if (ps->fail)
		return NULL;
	void *page = aligned_alloc(SLAB_PAGE_SIZE, SLAB_PAGE_SIZE);
	assert_non_null(page);
	memset(page, 0xcc, SLAB_PAGE_SIZE);     /* no help from zeroed pages */
	for (int i = 0; i < MAX_PAGES; i++) {
		if (!ps->pages[i]) {
			ps->pages[i] = page;
			ps->live++;
			ps->allocs++;
			return page;
		}
	}
	fail_msg("page source: more than %d live pages", MAX_PAGES);
	return NULL;
}

/* Only a live page from this source may come back, once. */
static void source_free(void *ctx, void *page)
{
	page_source_t *ps = ctx;

	for (int i = 0; i < MAX_PAGES; i++) {
		if (ps->pages[i] == page) {
			ps->pages[i] = NULL;
			ps->live--;
			free(page);
			return;
		}
	}
	fail_msg("page source: %p was not a live page", page);
}

static bool source_owns(const void *p)
{
	uintptr_t page = (uintptr_t)p & ~(uintptr_t)(SLAB_PAGE_SIZE - 1);

	for (int i = 0; i < MAX_PAGES; i++)
		if ((uintptr_t)src.pages[i] == page && page)
			return true;
	return false;
}

static int setup_source(void **state)
{
	(void)state;
	memset(&src, 0, sizeof src);
	source = (slab_page_source_t){ source_alloc, source_free, &src };
	return 0;
}

/* Frees whatever pages a failed test left behind. */
static int teardown_source(void **state)
{
	(void)state;
	for (int i = 0; i < MAX_PAGES; i++)
		free(src.pages[i]);
	memset(&src, 0, sizeof src);
	return 0;
}

static size_t round16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

/* Alignment objects get: the largest power of two dividing the rounded
 * size, at most 64. */
static uintptr_t expected_align(size_t size)
{
	size_t s = round16(size < 1 ? 1 : size);
	size_t a = s & -s;

	return a > 64 ? 64 : a;
}

static uint8_t pattern(size_t obj, size_t byte)
{
	return (uint8_t)(obj * 131 + byte * 7 + 1);
}

static void fill(void *obj, size_t n, size_t id)
{
	for (size_t b = 0; b < n; b++)
		((uint8_t *)obj)[b] = pattern(id, b);
}

static void verify(const void *obj, size_t n, size_t id)
{
	for (size_t b = 0; b < n; b++)
		assert_int_equal(((const uint8_t *)obj)[b], pattern(id, b));
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* Object sizes are rounded up to a multiple of 16 within [16, 2048]. */
static void test_object_size_rounding(void **state)
{
	(void)state;
	const size_t in[] = { 0, 1, 15, 16, 17, 24, 100, 2047, 2048 };
	const size_t out[] = { 16, 16, 16, 16, 32, 32, 112, 2048, 2048 };
	slab_cache_t c;

	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		slab_cache_init(&c, "t", in[i], &source);
		assert_int_equal(c.object_size, out[i]);
		assert_true(c.per_slab >= 1);
		assert_true(c.first_offset + (size_t)c.per_slab * c.object_size <= SLAB_PAGE_SIZE);
		assert_int_equal(c.objects_in_use, 0);
		assert_int_equal(c.pages, 0);
	}
	assert_int_equal(src.allocs, 0);        /* init takes no page */
}

/* Allocates n objects of cache c into objs, checking each as it comes. */
static void alloc_objects(slab_cache_t *c, void **objs, size_t n, size_t size)
{
	for (size_t i = 0; i < n; i++) {
		uintptr_t p = (uintptr_t)slab_alloc(c);
		assert_true(p != 0);
		assert_int_equal(p % expected_align(size), 0);
		/* the whole object lies in one page that the source handed out */
		assert_int_equal(p / SLAB_PAGE_SIZE, (p + c->object_size - 1) / SLAB_PAGE_SIZE);
		assert_true(source_owns((void *)p));
		assert_ptr_equal(slab_owner((void *)p), c);
		objs[i] = (void *)p;
		fill(objs[i], c->object_size, i);
	}
}

/* For one size: objects spanning several slabs are distinct, aligned,
 * inside their page, writable without overlap; freeing them all returns
 * every page. */
static void check_size(size_t size)
{
	static void *objs[MAX_OBJECTS];
	uintptr_t sorted[MAX_OBJECTS];
	slab_cache_t c;

	slab_cache_init(&c, "objs", size, &source);
	size_t n = 3 * (size_t)c.per_slab + 1;          /* four slabs */
	assert_true(n <= MAX_OBJECTS);
	alloc_objects(&c, objs, n, size);
	assert_int_equal(c.objects_in_use, n);
	assert_int_equal(c.pages, 4);
	assert_int_equal(src.live, 4);

	for (size_t i = 0; i < n; i++)
		verify(objs[i], c.object_size, i);
	memcpy(sorted, objs, n * sizeof sorted[0]);
	qsort(sorted, n, sizeof sorted[0], cmp_ptr);
	for (size_t i = 1; i < n; i++)
		assert_true(sorted[i] - sorted[i - 1] >= c.object_size);

	/* free in an interleaved order: odd ones, then even ones */
	for (size_t i = 1; i < n; i += 2)
		assert_int_equal(slab_free(&c, objs[i]), 0);
	for (size_t i = 0; i < n; i += 2)
		assert_int_equal(slab_free(&c, objs[i]), 0);
	assert_int_equal(c.objects_in_use, 0);
	assert_int_equal(c.pages, 0);
	assert_int_equal(src.live, 0);
	assert_null(c.partial);
	assert_null(c.full);

	/* the cache is still usable afterwards */
	void *again = slab_alloc(&c);
	assert_non_null(again);
	assert_int_equal(slab_free(&c, again), 0);
	assert_int_equal(src.live, 0);
}

/* Objects of 1, 16, 24, 100 and 2048 bytes (and a few more sizes). */
static void test_sizes(void **state)
{
	(void)state;
	const size_t sizes[] = { 1, 16, 24, 100, 2048, 48, 64, 200, 1000 };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		check_size(sizes[i]);
}

/* A freed object is reused before any new page is taken. */
static void test_free_then_alloc_reuses(void **state)
{
	(void)state;
	static void *objs[MAX_OBJECTS];
	slab_cache_t c;

	slab_cache_init(&c, "reuse", 64, &source);
	alloc_objects(&c, objs, c.per_slab, 64);        /* exactly one full slab */
	assert_int_equal(src.allocs, 1);
	assert_int_equal(slab_free(&c, objs[5]), 0);
	void *p = slab_alloc(&c);
	assert_ptr_equal(p, objs[5]);
	assert_int_equal(src.allocs, 1);
	assert_int_equal(c.objects_in_use, c.per_slab);
	for (uint32_t i = 0; i < c.per_slab; i++)
		assert_int_equal(slab_free(&c, objs[i]), 0);
	assert_int_equal(src.live, 0);
}

/* Checks that slab_free(c, p) fails and changes neither the cache nor the
 * page holding p. */
static void expect_free_rejected(slab_cache_t *c, void *p)
{
	static uint8_t page_before[SLAB_PAGE_SIZE];
	uint8_t *page = (uint8_t *)((uintptr_t)p & ~(uintptr_t)(SLAB_PAGE_SIZE - 1));
	slab_cache_t before = *c;

	memcpy(page_before, page, SLAB_PAGE_SIZE);
	assert_int_equal(slab_free(c, p), -1);
	assert_memory_equal(c, &before, sizeof before);
	assert_memory_equal(page, page_before, SLAB_PAGE_SIZE);
}

/* A double free returns -1, changes nothing, and does not let the object
 * be handed out twice. */
static void test_double_free(void **state)
{
	(void)state;
	slab_cache_t c;

	slab_cache_init(&c, "dbl", 32, &source);
	void *a = slab_alloc(&c), *b = slab_alloc(&c);
	assert_int_equal(slab_free(&c, a), 0);
	expect_free_rejected(&c, a);
	void *x = slab_alloc(&c), *y = slab_alloc(&c);
	assert_ptr_not_equal(x, y);
	assert_ptr_not_equal(x, b);
	assert_ptr_not_equal(y, b);
	assert_int_equal(c.objects_in_use, 3);
	assert_int_equal(slab_free(&c, x), 0);
	assert_int_equal(slab_free(&c, y), 0);
	assert_int_equal(slab_free(&c, b), 0);
	assert_int_equal(src.live, 0);
}

/* Pointers that are not the start of an object are refused. */
static void test_interior_pointers(void **state)
{
	(void)state;
	slab_cache_t c;

	slab_cache_init(&c, "mid", 100, &source);
	uint8_t *a = slab_alloc(&c), *b = slab_alloc(&c);
	uint8_t *page = (uint8_t *)((uintptr_t)a & ~(uintptr_t)(SLAB_PAGE_SIZE - 1));
	expect_free_rejected(&c, a + 1);
	expect_free_rejected(&c, a + 16);
	expect_free_rejected(&c, a + c.object_size / 2);
	expect_free_rejected(&c, a + c.object_size - 1);
	expect_free_rejected(&c, page);                 /* the slab header */
	expect_free_rejected(&c, page + 8);
	expect_free_rejected(&c, page + c.first_offset - 16);
	/* slot past the last object: still in the page, not an object */
	size_t past = c.first_offset + (size_t)c.per_slab * c.object_size;
	if (past < SLAB_PAGE_SIZE)
		expect_free_rejected(&c, page + past);
	/* an object slot in the same slab that was not handed out */
	uint8_t *unused = page + c.first_offset;
	while (unused == a || unused == b)
		unused += c.object_size;
	assert_true(unused + c.object_size <= page + SLAB_PAGE_SIZE);
	expect_free_rejected(&c, unused);
	assert_int_equal(c.objects_in_use, 2);
	assert_int_equal(slab_free(&c, a), 0);
	assert_int_equal(slab_free(&c, b), 0);
	assert_int_equal(src.live, 0);
}

/* Freeing an object to a cache it does not belong to is refused, even for
 * a cache of the same object size. */
static void test_wrong_cache(void **state)
{
	(void)state;
	slab_cache_t c1, c2, c3;

	slab_cache_init(&c1, "one", 48, &source);
	slab_cache_init(&c2, "two", 48, &source);
	slab_cache_init(&c3, "three", 256, &source);
	void *a = slab_alloc(&c1), *b = slab_alloc(&c2), *d = slab_alloc(&c3);
	expect_free_rejected(&c2, a);
	expect_free_rejected(&c3, a);
	expect_free_rejected(&c1, b);
	expect_free_rejected(&c1, d);
	assert_ptr_equal(slab_owner(a), &c1);
	assert_ptr_equal(slab_owner(b), &c2);
	assert_ptr_equal(slab_owner(d), &c3);
	assert_int_equal(slab_free(&c1, a), 0);
	assert_int_equal(slab_free(&c2, b), 0);
	assert_int_equal(slab_free(&c3, d), 0);
	assert_int_equal(src.live, 0);
}

/* NULL is refused. */
static void test_free_null(void **state)
{
	(void)state;
	slab_cache_t c;

	slab_cache_init(&c, "null", 16, &source);
	void *a = slab_alloc(&c);
	assert_int_equal(slab_free(&c, NULL), -1);
	assert_int_equal(c.objects_in_use, 1);
	assert_int_equal(slab_free(&c, a), 0);
}

/* When the page source fails, slab_alloc returns NULL, leaves the cache as
 * it was, and works again once pages are available. */
static void test_page_source_exhausted(void **state)
{
	(void)state;
	slab_cache_t c;

	slab_cache_init(&c, "oom", 2048, &source);
	src.fail = true;
	assert_null(slab_alloc(&c));
	assert_int_equal(c.objects_in_use, 0);
	assert_int_equal(c.pages, 0);
	src.fail = false;

	void *a = slab_alloc(&c);               /* one object per slab: now full */
	assert_non_null(a);
	slab_cache_t before = c;
	src.fail = true;
	assert_null(slab_alloc(&c));
	assert_memory_equal(&c, &before, sizeof c);
	assert_int_equal(src.live, 1);

	src.fail = false;
	void *b = slab_alloc(&c);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_int_equal(c.pages, 2);
	assert_int_equal(slab_free(&c, a), 0);
	assert_int_equal(slab_free(&c, b), 0);
	assert_int_equal(src.live, 0);
}

/* A partial slab still serves allocations while the source is failing. */
static void test_partial_slab_needs_no_page(void **state)
{
	(void)state;
	slab_cache_t c;

	slab_cache_init(&c, "partial", 16, &source);
	void *a = slab_alloc(&c);
	src.fail = true;
	void *b = slab_alloc(&c);
	assert_non_null(b);
	assert_int_equal(src.allocs, 1);
	src.fail = false;
	assert_int_equal(slab_free(&c, a), 0);
	assert_int_equal(slab_free(&c, b), 0);
	assert_int_equal(src.live, 0);
}

/* slab_owner names the cache of each object and NULL for a page that was
 * never a slab. */
static void test_slab_owner(void **state)
{
	(void)state;
	slab_cache_t c1, c2;

	slab_cache_init(&c1, "a", 24, &source);
	slab_cache_init(&c2, "b", 1024, &source);
	void *a = slab_alloc(&c1), *b = slab_alloc(&c2);
	assert_ptr_equal(slab_owner(a), &c1);
	assert_ptr_equal(slab_owner(b), &c2);
	assert_ptr_equal(slab_owner((char *)a + 5), &c1);   /* inside the page */

	uint8_t *plain = aligned_alloc(SLAB_PAGE_SIZE, SLAB_PAGE_SIZE);
	assert_non_null(plain);
	memset(plain, 0, SLAB_PAGE_SIZE);
	assert_null(slab_owner(plain + 64));
	free(plain);

	assert_int_equal(slab_free(&c1, a), 0);
	assert_int_equal(slab_free(&c2, b), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_source, teardown_source)
	const struct CMUnitTest tests[] = {
		T(test_object_size_rounding),
		T(test_sizes),
		T(test_free_then_alloc_reuses),
		T(test_double_free),
		T(test_interior_pointers),
		T(test_wrong_cache),
		T(test_free_null),
		T(test_page_source_exhausted),
		T(test_partial_slab_needs_no_page),
		T(test_slab_owner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
