/*
 * Bitmap frame allocator. See <kernel/frames.h> for the contract.
 */
#include <kernel/frames.h>

#define BITS_PER_WORD 64

static bool bit_get(const frame_alloc_t *fa, uint64_t frame)
{
	return fa->bitmap[frame / BITS_PER_WORD] >> (frame % BITS_PER_WORD) & 1;
}

/* Sets or clears one frame's bit and keeps free_frames in step. */
static void bit_put(frame_alloc_t *fa, uint64_t frame, bool used)
{
	uint64_t mask = 1ull << (frame % BITS_PER_WORD);
	uint64_t *word = &fa->bitmap[frame / BITS_PER_WORD];

	if (used && !(*word & mask)) {
		*word |= mask;
		fa->free_frames--;
	} else if (!used && (*word & mask)) {
		*word &= ~mask;
		fa->free_frames++;
		if (frame / BITS_PER_WORD < fa->hint)
			fa->hint = frame / BITS_PER_WORD;
	}
}

size_t frames_bitmap_bytes(uint64_t nframes)
{
	return (nframes + BITS_PER_WORD - 1) / BITS_PER_WORD * sizeof(uint64_t);
}

void frames_init(frame_alloc_t *fa, uint64_t *bitmap, uint64_t nframes)
{
	size_t words = frames_bitmap_bytes(nframes) / sizeof(uint64_t);

	for (size_t i = 0; i < words; i++)
		bitmap[i] = ~0ull;
	fa->bitmap = bitmap;
	fa->nframes = nframes;
	fa->free_frames = 0;
	fa->hint = words;
}

void frames_release_range(frame_alloc_t *fa, uint64_t base, uint64_t len)
{
	if (len == 0 || base + len < base || base > ~0ull - (FRAME_SIZE - 1))
		return;
	uint64_t first = (base + FRAME_SIZE - 1) >> FRAME_SHIFT;
	uint64_t end = (base + len) >> FRAME_SHIFT;

	if (end > fa->nframes)
		end = fa->nframes;
	for (uint64_t f = first; f < end; f++)
		bit_put(fa, f, false);
}

void frames_reserve_range(frame_alloc_t *fa, uint64_t base, uint64_t len)
{
	if (len == 0)
		return;
	uint64_t first = base >> FRAME_SHIFT;
	uint64_t last = base + len - 1 < base ? ~0ull >> FRAME_SHIFT
					      : (base + len - 1) >> FRAME_SHIFT;

	if (last >= fa->nframes)
		last = fa->nframes - 1;
	for (uint64_t f = first; f <= last && f < fa->nframes; f++)
		bit_put(fa, f, true);
}

int frames_alloc(frame_alloc_t *fa, uint64_t *paddr)
{
	size_t words = frames_bitmap_bytes(fa->nframes) / sizeof(uint64_t);

	for (uint64_t w = fa->hint; w < words; w++) {
		uint64_t avail = ~fa->bitmap[w];

		if (!avail)
			continue;
		uint64_t frame = w * BITS_PER_WORD + (uint64_t)__builtin_ctzll(avail);
		if (frame >= fa->nframes)
			break;
		fa->hint = w;
		bit_put(fa, frame, true);
		*paddr = frame << FRAME_SHIFT;
		return 0;
	}
	fa->hint = words;
	return -1;
}

int frames_free(frame_alloc_t *fa, uint64_t paddr)
{
	uint64_t frame = paddr >> FRAME_SHIFT;

	if (paddr & (FRAME_SIZE - 1) || frame >= fa->nframes || !bit_get(fa, frame))
		return -1;
	bit_put(fa, frame, false);
	return 0;
}

bool frames_is_free(const frame_alloc_t *fa, uint64_t paddr)
{
	uint64_t frame = paddr >> FRAME_SHIFT;

	return frame < fa->nframes && !bit_get(fa, frame);
}
