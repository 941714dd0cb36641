/*
 * Slot allocator. See <kernel/slotmap.h>.
 */
#include <kernel/slotmap.h>

size_t slotmap_bytes(uint64_t count)
{
	return (size_t)((count + 63) / 64) * sizeof(uint64_t);
}

void slotmap_init(slotmap_t *m, uint64_t *bits, uint64_t count)
{
	uint64_t words = (count + 63) / 64;

	*m = (slotmap_t){ .bits = bits, .count = count };
	for (uint64_t w = 0; w < words; w++)
		bits[w] = 0;
	/* Bits past the last slot count as taken, so get never returns them. */
	if (count % 64)
		bits[words - 1] = ~0ull << (count % 64);
}

int slotmap_get(slotmap_t *m, uint64_t *slot)
{
	uint64_t words = (m->count + 63) / 64;

	for (uint64_t w = m->hint; w < words; w++) {
		if (m->bits[w] == ~0ull)
			continue;
		unsigned b = (unsigned)__builtin_ctzll(~m->bits[w]);
		m->bits[w] |= 1ull << b;
		m->hint = w;
		m->used++;
		*slot = w * 64 + b;
		return 0;
	}
	m->hint = words;
	return -1;
}

int slotmap_put(slotmap_t *m, uint64_t slot)
{
	if (slot >= m->count)
		return -1;
	uint64_t w = slot / 64, bit = 1ull << (slot % 64);

	if (!(m->bits[w] & bit))
		return -1;
	m->bits[w] &= ~bit;
	m->used--;
	if (w < m->hint)
		m->hint = w;
	return 0;
}
