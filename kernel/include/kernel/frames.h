/*
 * Physical frame allocator: one bit per 4 KiB frame from physical address 0,
 * set when the frame is not available (in use, reserved or not RAM).
 *
 * The allocator starts with every frame unavailable; the caller releases the
 * RAM ranges of the memory map and then reserves what is already in use
 * (kernel image, modules, boot information, the bitmap itself). Allocation
 * is first-fit from a moving hint, so frames come out low first. Portable:
 * the same code is tested on the host.
 */
#ifndef KERNEL_FRAMES_H
#define KERNEL_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_SIZE 4096ull
#define FRAME_SHIFT 12

typedef struct frame_alloc {
	uint64_t *bitmap;       /* bit set: not available */
	uint64_t nframes;       /* frames covered, starting at physical 0 */
	uint64_t free_frames;
	uint64_t hint;          /* no free frame lives in a word below this */
} frame_alloc_t;

/* Bytes of bitmap needed to cover nframes frames (a whole number of words). */
size_t frames_bitmap_bytes(uint64_t nframes);

/* Starts with every frame unavailable. */
void frames_init(frame_alloc_t *fa, uint64_t *bitmap, uint64_t nframes);

/* Makes the whole frames inside [base, base+len) available; frames past the
 * end of the bitmap are ignored. */
void frames_release_range(frame_alloc_t *fa, uint64_t base, uint64_t len);

/* Makes every frame touching [base, base+len) unavailable. */
void frames_reserve_range(frame_alloc_t *fa, uint64_t base, uint64_t len);

/* Returns 0 and a frame's address, or -1 when no frame is free. */
int frames_alloc(frame_alloc_t *fa, uint64_t *paddr);

/* Returns 0, or -1 when paddr is unaligned, out of range or not allocated
 * (a double free); nothing changes on error. */
int frames_free(frame_alloc_t *fa, uint64_t paddr);

bool frames_is_free(const frame_alloc_t *fa, uint64_t paddr);

#endif
