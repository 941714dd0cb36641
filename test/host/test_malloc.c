/*
 * Host tests of the silo allocator (libsys/malloc_core.c) over a page
 * provider made of host heap blocks: ASan catches any access past a
 * mapping or into one already given back, and the provider counts pages
 * so every test can check that everything went back.
 */
#include "malloc_core.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct {
	size_t mapped;          /* pages held by the heap now */
	size_t budget;          /* pages it may still get */
	size_t maps, unmaps;
} provider_t;

static void *prov_map(void *ctx, size_t pages)
{
	provider_t *pv = ctx;

	if (pages > pv->budget)
		return NULL;
	void *p = aligned_alloc(MHEAP_PAGE, pages * MHEAP_PAGE);
	assert_non_null(p);
	memset(p, 0, pages * MHEAP_PAGE);
	pv->budget -= pages;
	pv->mapped += pages;
	pv->maps++;
	return p;
}

static void prov_unmap(void *ctx, void *addr, size_t pages)
{
	provider_t *pv = ctx;

	assert_true(pages <= pv->mapped);
	assert_int_equal((uintptr_t)addr % MHEAP_PAGE, 0);
	pv->mapped -= pages;
	pv->budget += pages;
	pv->unmaps++;
	free(addr);
}

static provider_t pv;
static mheap_t heap;

static int setup(void **state)
{
	(void)state;
	pv = (provider_t){ .budget = SIZE_MAX / 2 };
	mheap_init(&heap, &(mheap_pages_t){ prov_map, prov_unmap, &pv });
	return 0;
}

/* Gives back the chunk each class keeps, so ASan's leak check is happy. */
static int teardown(void **state)
{
	(void)state;
	for (int c = 0; c < MHEAP_CLASSES; c++)
		while (heap.partial[c]) {
			void *chunk = heap.partial[c];

			heap.partial[c] = NULL;
			free(chunk);
		}
	return 0;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7);
}

static void expect_filled(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed * 131 + i * 7))
			fail_msg("byte %zu of block %u changed", i, seed);
}

/* Everything is free: each class keeps at most one (empty) chunk, and
 * the provider holds exactly those pages (16, or 32 for 16 KiB blocks). */
static void expect_only_kept_chunks(void)
{
	size_t kept = 0, pages = 0;

	for (int c = 0; c < MHEAP_CLASSES; c++)
		if (heap.partial[c]) {
			kept++;
			pages += c == MHEAP_CLASSES - 1 ? 32 : 16;
		}
	assert_int_equal(heap.chunks, kept);
	assert_int_equal(heap.large_pages, 0);
	assert_int_equal(pv.mapped, pages);
}

static void test_sizes_alignment_and_return(void **state)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 100, 1000, 4080, 4096, 8000,
					MHEAP_SMALL_MAX, MHEAP_SMALL_MAX + 1, 20000, 100000, 1 << 20 };
	enum { N = sizeof sizes / sizeof sizes[0] };
	unsigned char *p[N];

	(void)state;
	for (unsigned i = 0; i < N; i++) {
		p[i] = mheap_alloc(&heap, sizes[i]);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		assert_true(mheap_usable(p[i]) >= sizes[i]);
		fill(p[i], sizes[i], i);
	}
	for (unsigned i = 0; i < N; i++) {
		expect_filled(p[i], sizes[i], i);
		assert_int_equal(mheap_free(&heap, p[i]), MHEAP_OK);
	}
	assert_int_equal(heap.large_pages, 0);
	expect_only_kept_chunks();
}

static void test_large_blocks_are_mapped_alone(void **state)
{
	(void)state;
	size_t before = pv.maps;
	void *p = mheap_alloc(&heap, 5 * MHEAP_PAGE);

	assert_non_null(p);
	assert_int_equal(pv.maps, before + 1);
	assert_int_equal(heap.large_pages, 6);          /* the header needs a sixth page */
	assert_int_equal(mheap_free(&heap, p), MHEAP_OK);
	assert_int_equal(pv.mapped, 0);
	assert_int_equal(heap.large_pages, 0);
}

static void test_bad_frees_are_refused(void **state)
{
	(void)state;
	unsigned char *p = mheap_alloc(&heap, 40), *q = mheap_alloc(&heap, 40);
	_Alignas(16) unsigned char stack[64] = { 0 };

	assert_int_equal(mheap_free(&heap, NULL), MHEAP_OK);
	assert_int_equal(mheap_free(&heap, stack + 16), MHEAP_EFOREIGN);
	assert_int_equal(mheap_free(&heap, p + 16), MHEAP_EFOREIGN);   /* inside a block */
	assert_int_equal(mheap_free(&heap, p + 1), MHEAP_EFOREIGN);    /* unaligned */
	assert_int_equal(mheap_free(&heap, p), MHEAP_OK);
	assert_int_equal(mheap_free(&heap, p), MHEAP_EDOUBLE);
	void *out = (void *)1;
	assert_int_equal(mheap_realloc(&heap, p, 10, &out), MHEAP_EDOUBLE);
	assert_ptr_equal(out, (void *)1);
	assert_int_equal(mheap_usable(p), 0);
	/* A copy of a live header elsewhere is not a live block. */
	memcpy(stack, q - 16, 16);
	assert_int_equal(mheap_free(&heap, stack + 16), MHEAP_EFOREIGN);
	assert_int_equal(mheap_free(&heap, q), MHEAP_OK);
	/* The block comes back and is live again. */
	assert_ptr_equal(mheap_alloc(&heap, 40), q);
	assert_int_equal(mheap_free(&heap, q), MHEAP_OK);
}

static void test_calloc_overflow_and_zero(void **state)
{
	(void)state;
	unsigned char *p = mheap_alloc(&heap, 64);

	memset(p, 0xaa, 64);
	assert_int_equal(mheap_free(&heap, p), MHEAP_OK);
	unsigned char *z = mheap_calloc(&heap, 8, 8);   /* the same block, reused */
	assert_ptr_equal(z, p);
	for (int i = 0; i < 64; i++)
		assert_int_equal(z[i], 0);
	assert_null(mheap_calloc(&heap, SIZE_MAX / 2, 3));
	assert_null(mheap_calloc(&heap, (size_t)1 << 33, (size_t)1 << 33));
	assert_null(mheap_alloc(&heap, SIZE_MAX));
	assert_null(mheap_alloc(&heap, SIZE_MAX - 20));
	void *e = mheap_calloc(&heap, 0, 100);
	assert_non_null(e);
	assert_int_equal(mheap_free(&heap, e), MHEAP_OK);
	assert_int_equal(mheap_free(&heap, z), MHEAP_OK);
}

static void test_realloc_keeps_contents(void **state)
{
	(void)state;
	void *p = NULL;

	assert_int_equal(mheap_realloc(&heap, NULL, 10, &p), MHEAP_OK);
	fill(p, 10, 1);
	size_t sizes[] = { 12, 30, 300, 5000, 70000, 300000, 200000, 1000, 8, 1 };
	size_t have = 10;
	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		void *q = NULL;

		assert_int_equal(mheap_realloc(&heap, p, sizes[i], &q), MHEAP_OK);
		expect_filled(q, have < sizes[i] ? have : sizes[i], 1);
		p = q;
		fill(p, sizes[i], 1);
		have = sizes[i];
	}
	void *same = NULL;
	assert_int_equal(mheap_realloc(&heap, p, 1, &same), MHEAP_OK);
	assert_ptr_equal(same, p);                      /* a shrink inside the class stays */
	assert_int_equal(mheap_realloc(&heap, p, 0, &same), MHEAP_OK);
	assert_null(same);
	expect_only_kept_chunks();
}

static void test_out_of_pages(void **state)
{
	(void)state;
	void *p = mheap_alloc(&heap, 100);

	fill(p, 100, 3);
	pv.budget = 0;
	assert_null(mheap_alloc(&heap, 100000));
	void *q = (void *)1;
	assert_int_equal(mheap_realloc(&heap, p, 100000, &q), MHEAP_ENOMEM);
	assert_ptr_equal(q, (void *)1);
	expect_filled(p, 100, 3);                       /* untouched */
	/* Blocks of a chunk already held still come. */
	void *r = mheap_alloc(&heap, 100);
	assert_non_null(r);
	pv.budget = SIZE_MAX / 2;
	assert_int_equal(mheap_free(&heap, p), MHEAP_OK);
	assert_int_equal(mheap_free(&heap, r), MHEAP_OK);
}

/* Random allocations, reallocations and frees against a shadow of what
 * each block must hold; at the end every large page and every chunk but
 * one per class is back with the provider. */
static void test_random_against_a_shadow(void **state)
{
	enum { SLOTS = 256, OPS = 20000 };
	static unsigned char *blk[SLOTS];
	static size_t len[SLOTS];
	static unsigned seed[SLOTS];
	uint64_t rng = 42;

	(void)state;
	for (unsigned op = 0; op < OPS; op++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		unsigned s = (unsigned)(rng >> 33) % SLOTS;
		size_t n = (rng >> 13) % (rng & 1 ? 64 : rng & 2 ? 4096 : 40000);

		if (blk[s])
			expect_filled(blk[s], len[s], seed[s]);
		if (!blk[s] || (rng & 8)) {
			void *q = NULL;

			assert_int_equal(mheap_realloc(&heap, blk[s], n, &q), MHEAP_OK);
			if (q && blk[s])
				expect_filled(q, len[s] < n ? len[s] : n, seed[s]);
			blk[s] = q;
		} else {
			assert_int_equal(mheap_free(&heap, blk[s]), MHEAP_OK);
			blk[s] = NULL;
		}
		len[s] = blk[s] ? n : 0;
		seed[s] = op;
		if (blk[s])
			fill(blk[s], n, op);
	}
	for (unsigned s = 0; s < SLOTS; s++)
		assert_int_equal(mheap_free(&heap, blk[s]), MHEAP_OK);
	expect_only_kept_chunks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sizes_alignment_and_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_blocks_are_mapped_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_frees_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_calloc_overflow_and_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_realloc_keeps_contents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_against_a_shadow, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
