/*
 * A slot allocator: numbers 0..count-1 handed out lowest first, one bit
 * per slot in a caller-supplied bitmap, with a hint below which no slot is
 * free (the frame allocator's habit). The kernel numbers kernel-stack slots
 * with it; any bounded name space could use it. Portable and lock-free by
 * itself: the caller serialises. Tested on the host.
 */
#ifndef KERNEL_SLOTMAP_H
#define KERNEL_SLOTMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct slotmap {
	uint64_t *bits;         /* bit set: slot taken */
	uint64_t count;         /* slots 0..count-1 */
	uint64_t used;
	uint64_t hint;          /* no free slot lives in a word below this */
} slotmap_t;

/* Bytes of bitmap for count slots (whole words). */
size_t slotmap_bytes(uint64_t count);

/* Starts with every slot free; bits must hold slotmap_bytes(count). */
void slotmap_init(slotmap_t *m, uint64_t *bits, uint64_t count);

/* Takes the lowest free slot into *slot, or returns -1 when all are taken. */
int slotmap_get(slotmap_t *m, uint64_t *slot);

/* Gives a slot back; -1 (and nothing changes) if it is out of range or
 * free already. */
int slotmap_put(slotmap_t *m, uint64_t slot);

#endif
