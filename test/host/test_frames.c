/*
 * Host tests of the bitmap frame allocator (kernel/mm/frames.c). Bitmaps are
 * heap blocks of exactly frames_bitmap_bytes(n) bytes, so ASan catches any
 * access past the last word.
 */
#include <kernel/frames.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define F(n) ((uint64_t)(n) * FRAME_SIZE)       /* address of frame n */

typedef struct {
	frame_alloc_t fa;
	uint64_t *bitmap;
	size_t bytes;
} fixture_t;

static uint64_t *live_bitmap;   /* freed by the teardown, even on failure */

/* An allocator over nframes frames, all unavailable. The bitmap starts as
 * zeroes so that init has to set the bits itself. */
static void fixture_init(fixture_t *fx, uint64_t nframes)
{
	fx->bytes = frames_bitmap_bytes(nframes);
	fx->bitmap = calloc(1, fx->bytes ? fx->bytes : 1);
	assert_non_null(fx->bitmap);
	live_bitmap = fx->bitmap;
	frames_init(&fx->fa, fx->bitmap, nframes);
}

static int free_bitmap(void **state)
{
	(void)state;
	free(live_bitmap);
	live_bitmap = NULL;
	return 0;
}

/* Number of frames below nframes that frames_is_free reports free. */
static uint64_t count_free(const frame_alloc_t *fa)
{
	uint64_t n = 0;

	for (uint64_t f = 0; f < fa->nframes; f++)
		n += frames_is_free(fa, F(f));
	return n;
}

/* Checks that exactly the frames in [first, end) are free. */
static void expect_free_exactly(const frame_alloc_t *fa, uint64_t first, uint64_t end)
{
	for (uint64_t f = 0; f < fa->nframes; f++)
		assert_int_equal(frames_is_free(fa, F(f)), f >= first && f < end);
	assert_int_equal(fa->free_frames, end - first);
}

/* Bitmap size is a whole number of 64-bit words. */
static void test_bitmap_bytes(void **state)
{
	(void)state;
	assert_int_equal(frames_bitmap_bytes(0), 0);
	assert_int_equal(frames_bitmap_bytes(1), 8);
	assert_int_equal(frames_bitmap_bytes(64), 8);
	assert_int_equal(frames_bitmap_bytes(65), 16);
	assert_int_equal(frames_bitmap_bytes(200), 32);
}

/* After init every frame is unavailable and nothing can be allocated. */
static void test_init_all_unavailable(void **state)
{
	(void)state;
	fixture_t fx;
	uint64_t paddr = 0x1234;

	fixture_init(&fx, 200);
	assert_int_equal(fx.fa.nframes, 200);
	assert_int_equal(fx.fa.free_frames, 0);
	assert_int_equal(count_free(&fx.fa), 0);
	for (size_t i = 0; i < fx.bytes / 8; i++)
		assert_int_equal(fx.bitmap[i], ~0ull);
	assert_int_equal(frames_alloc(&fx.fa, &paddr), -1);
	assert_int_equal(paddr, 0x1234);
}

/* release_range frees only the frames lying wholly inside the range. */
static void test_release_rounds_inward(void **state)
{
	(void)state;
	fixture_t fx;

	fixture_init(&fx, 64);
	frames_release_range(&fx.fa, 0x1800, 0x3000);   /* [1.5, 4.5) frames */
	expect_free_exactly(&fx.fa, 2, 4);

	frames_release_range(&fx.fa, F(10) + 1, FRAME_SIZE);   /* no whole frame */
	frames_release_range(&fx.fa, F(12), FRAME_SIZE - 1);   /* short by one byte */
	frames_release_range(&fx.fa, F(20), 0);
	expect_free_exactly(&fx.fa, 2, 4);

	frames_release_range(&fx.fa, F(4), F(2));        /* exact, adjacent */
	expect_free_exactly(&fx.fa, 2, 6);
	frames_release_range(&fx.fa, F(2), F(4));        /* again: no double count */
	expect_free_exactly(&fx.fa, 2, 6);
}

/* reserve_range takes every frame the range touches, even by one byte. */
static void test_reserve_rounds_outward(void **state)
{
	(void)state;
	fixture_t fx;

	fixture_init(&fx, 64);
	frames_release_range(&fx.fa, 0, F(64));
	assert_int_equal(fx.fa.free_frames, 64);

	frames_reserve_range(&fx.fa, 0x1800, 0x1000);   /* [1.5, 2.5) frames */
	assert_false(frames_is_free(&fx.fa, F(1)));
	assert_false(frames_is_free(&fx.fa, F(2)));
	assert_true(frames_is_free(&fx.fa, F(0)));
	assert_true(frames_is_free(&fx.fa, F(3)));
	assert_int_equal(fx.fa.free_frames, 62);

	frames_reserve_range(&fx.fa, F(8) + FRAME_SIZE - 1, 1);   /* last byte */
	frames_reserve_range(&fx.fa, F(10), 0);                   /* nothing */
	frames_reserve_range(&fx.fa, F(1), F(1));                 /* already taken */
	assert_false(frames_is_free(&fx.fa, F(8)));
	assert_true(frames_is_free(&fx.fa, F(9)));
	assert_true(frames_is_free(&fx.fa, F(10)));
	assert_int_equal(fx.fa.free_frames, 61);
	assert_int_equal(count_free(&fx.fa), 61);
}

/* Allocation hands out the lowest free frames first, skipping taken ones. */
static void test_alloc_lowest_first(void **state)
{
	(void)state;
	fixture_t fx;
	uint64_t paddr;
	const uint64_t want[] = { 3, 4, 6, 64, 65 };

	fixture_init(&fx, 128);
	frames_release_range(&fx.fa, F(3), F(2));
	frames_release_range(&fx.fa, F(6), F(1));
	frames_release_range(&fx.fa, F(64), F(64));
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		assert_int_equal(frames_alloc(&fx.fa, &paddr), 0);
		assert_int_equal(paddr, F(want[i]));
		assert_false(frames_is_free(&fx.fa, paddr));
	}
	assert_int_equal(fx.fa.free_frames, 62);
}

/* Allocating everything gives every free frame exactly once, then -1. */
static void test_alloc_all_unique(void **state)
{
	(void)state;
	fixture_t fx;
	uint64_t seen[4] = { 0 }, paddr, count = 0;

	fixture_init(&fx, 256);
	frames_release_range(&fx.fa, 0, F(256));
	frames_reserve_range(&fx.fa, F(0), F(1));
	frames_reserve_range(&fx.fa, F(63), F(3));
	frames_reserve_range(&fx.fa, F(200), F(10));
	uint64_t available = fx.fa.free_frames;
	assert_int_equal(available, 256 - 1 - 3 - 10);

	while (frames_alloc(&fx.fa, &paddr) == 0) {
		uint64_t f = paddr / FRAME_SIZE;
		assert_int_equal(paddr % FRAME_SIZE, 0);
		assert_true(f < 256);
		assert_false(seen[f / 64] >> (f % 64) & 1);
		assert_false(f == 0 || (f >= 63 && f < 66) || (f >= 200 && f < 210));
		seen[f / 64] |= 1ull << (f % 64);
		count++;
		assert_true(count <= available);
	}
	assert_int_equal(count, available);
	assert_int_equal(fx.fa.free_frames, 0);
	assert_int_equal(count_free(&fx.fa), 0);
	assert_int_equal(frames_alloc(&fx.fa, &paddr), -1);
}

/* A freed frame becomes available again and is the next one handed out,
 * even when it lies in a word below the ones allocated last. */
static void test_free_then_alloc(void **state)
{
	(void)state;
	fixture_t fx;
	uint64_t paddr;

	fixture_init(&fx, 192);
	frames_release_range(&fx.fa, 0, F(192));
	for (int i = 0; i < 150; i++)
		assert_int_equal(frames_alloc(&fx.fa, &paddr), 0);
	assert_int_equal(paddr, F(149));
	assert_int_equal(fx.fa.free_frames, 42);

	assert_int_equal(frames_free(&fx.fa, F(70)), 0);
	assert_int_equal(frames_free(&fx.fa, F(5)), 0);
	assert_true(frames_is_free(&fx.fa, F(5)));
	assert_true(frames_is_free(&fx.fa, F(70)));
	assert_int_equal(fx.fa.free_frames, 44);

	assert_int_equal(frames_alloc(&fx.fa, &paddr), 0);
	assert_int_equal(paddr, F(5));
	assert_int_equal(frames_alloc(&fx.fa, &paddr), 0);
	assert_int_equal(paddr, F(70));
	assert_int_equal(frames_alloc(&fx.fa, &paddr), 0);
	assert_int_equal(paddr, F(150));
	assert_int_equal(fx.fa.free_frames, 41);
}

/* Checks that frames_free(paddr) fails and changes nothing. */
static void expect_free_rejected(fixture_t *fx, uint64_t paddr)
{
	uint64_t before[16];
	frame_alloc_t saved = fx->fa;

	assert_true(fx->bytes <= sizeof before);
	memcpy(before, fx->bitmap, fx->bytes);
	assert_int_equal(frames_free(&fx->fa, paddr), -1);
	assert_memory_equal(fx->bitmap, before, fx->bytes);
	assert_int_equal(fx->fa.free_frames, saved.free_frames);
	assert_int_equal(fx->fa.hint, saved.hint);
}

/* Double, unaligned and out-of-range frees return -1 and change nothing. */
static void test_bad_free(void **state)
{
	(void)state;
	fixture_t fx;
	uint64_t a, b;

	fixture_init(&fx, 100);
	frames_release_range(&fx.fa, 0, F(100));
	assert_int_equal(frames_alloc(&fx.fa, &a), 0);
	assert_int_equal(frames_alloc(&fx.fa, &b), 0);
	assert_int_equal(frames_free(&fx.fa, a), 0);

	expect_free_rejected(&fx, a);                   /* double free */
	expect_free_rejected(&fx, F(50));               /* never allocated */
	expect_free_rejected(&fx, b + 1);               /* unaligned */
	expect_free_rejected(&fx, b + FRAME_SIZE / 2);
	expect_free_rejected(&fx, F(100));              /* first frame past the end */
	expect_free_rejected(&fx, F(127));              /* past the end, same word */
	expect_free_rejected(&fx, F(1000));
	expect_free_rejected(&fx, ~0ull & ~(FRAME_SIZE - 1));
	assert_false(frames_is_free(&fx.fa, b));        /* b still allocated */
	assert_int_equal(frames_free(&fx.fa, b), 0);
}

/* Ranges reaching past nframes are clipped; ranges wholly past it ignored. */
static void test_ranges_past_end(void **state)
{
	(void)state;
	fixture_t fx;

	fixture_init(&fx, 100);
	frames_release_range(&fx.fa, F(200), F(50));
	frames_release_range(&fx.fa, F(100), F(1));
	assert_int_equal(fx.fa.free_frames, 0);

	frames_release_range(&fx.fa, F(90), 1ull << 40);
	expect_free_exactly(&fx.fa, 90, 100);
	frames_release_range(&fx.fa, 0, ~0ull);         /* the whole address space */
	expect_free_exactly(&fx.fa, 0, 100);

	frames_reserve_range(&fx.fa, F(500), F(1));
	assert_int_equal(fx.fa.free_frames, 100);
	frames_reserve_range(&fx.fa, F(60), 1ull << 40);
	expect_free_exactly(&fx.fa, 0, 60);
	frames_reserve_range(&fx.fa, F(30), ~0ull);     /* base + len wraps */
	expect_free_exactly(&fx.fa, 0, 30);
}

/* With nframes not a multiple of 64, frames past nframes in the last word
 * are never released or handed out. */
static void test_partial_last_word(void **state)
{
	(void)state;
	fixture_t fx;
	uint64_t paddr, count = 0;

	fixture_init(&fx, 70);
	assert_int_equal(fx.bytes, 16);
	frames_release_range(&fx.fa, 0, F(128));
	assert_int_equal(fx.fa.free_frames, 70);
	assert_int_equal(fx.bitmap[1] >> 6, ~0ull >> 6);        /* bits 70..127 */
	while (frames_alloc(&fx.fa, &paddr) == 0) {
		assert_true(paddr < F(70));
		count++;
	}
	assert_int_equal(count, 70);
	assert_false(frames_is_free(&fx.fa, F(70)));
	assert_false(frames_is_free(&fx.fa, F(127)));

	assert_int_equal(frames_free(&fx.fa, F(69)), 0);
	assert_int_equal(frames_alloc(&fx.fa, &paddr), 0);
	assert_int_equal(paddr, F(69));
	assert_int_equal(frames_alloc(&fx.fa, &paddr), -1);
}

/* frames_is_free follows release, alloc, free and reserve, and is false
 * for any address past the end. */
static void test_is_free(void **state)
{
	(void)state;
	fixture_t fx;
	uint64_t paddr;

	fixture_init(&fx, 64);
	assert_false(frames_is_free(&fx.fa, F(7)));
	frames_release_range(&fx.fa, F(7), F(1));
	assert_true(frames_is_free(&fx.fa, F(7)));
	assert_true(frames_is_free(&fx.fa, F(7) + 123));        /* any byte of it */
	assert_false(frames_is_free(&fx.fa, F(6)));
	assert_false(frames_is_free(&fx.fa, F(8)));
	assert_int_equal(frames_alloc(&fx.fa, &paddr), 0);
	assert_int_equal(paddr, F(7));
	assert_false(frames_is_free(&fx.fa, F(7)));
	assert_int_equal(frames_free(&fx.fa, F(7)), 0);
	assert_true(frames_is_free(&fx.fa, F(7)));
	frames_reserve_range(&fx.fa, F(7), 1);
	assert_false(frames_is_free(&fx.fa, F(7)));

	frames_release_range(&fx.fa, 0, F(64));
	assert_true(frames_is_free(&fx.fa, F(63)));
	assert_false(frames_is_free(&fx.fa, F(64)));
	assert_false(frames_is_free(&fx.fa, ~0ull));
}

/* A range near the top of the address space holding no whole frame
 * releases nothing (rounding base up must not wrap to frame 0). */
static void test_release_near_top_of_address_space(void **state)
{
	(void)state;
	fixture_t fx;

	fixture_init(&fx, 128);
	frames_release_range(&fx.fa, 0xfffffffffffff001ull, 1);
	frames_release_range(&fx.fa, ~0ull - 10, 5);
	assert_int_equal(fx.fa.free_frames, 0);
	assert_int_equal(count_free(&fx.fa), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bitmap_bytes, free_bitmap),
		cmocka_unit_test_teardown(test_init_all_unavailable, free_bitmap),
		cmocka_unit_test_teardown(test_release_rounds_inward, free_bitmap),
		cmocka_unit_test_teardown(test_reserve_rounds_outward, free_bitmap),
		cmocka_unit_test_teardown(test_alloc_lowest_first, free_bitmap),
		cmocka_unit_test_teardown(test_alloc_all_unique, free_bitmap),
		cmocka_unit_test_teardown(test_free_then_alloc, free_bitmap),
		cmocka_unit_test_teardown(test_bad_free, free_bitmap),
		cmocka_unit_test_teardown(test_ranges_past_end, free_bitmap),
		cmocka_unit_test_teardown(test_partial_last_word, free_bitmap),
		cmocka_unit_test_teardown(test_is_free, free_bitmap),
		cmocka_unit_test_teardown(test_release_near_top_of_address_space, free_bitmap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
