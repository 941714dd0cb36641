/*
 * Self-tests of the memory code on the real machine: the frame allocator
 * over the real memory map, the heap over real frames, and page mapping in
 * the live page tables.
 */
#include <abi/errors.h>
#include <arch/arch.h>
#include <kernel/heap.h>
#include <kernel/pmm.h>
#include <kernel/selftest.h>
#include <kernel/vm.h>

#define TAG 0x5e1f7e575e1f7e57ull

typedef struct {
	uint64_t tag, self, next;
} frame_mark_t;

static bool in_reserved(uint64_t pa)
{
	unsigned n;
	const pmm_range_t *r = pmm_reserved(&n);

	for (unsigned i = 0; i < n; i++)
		if (pa >= r[i].base && pa < r[i].end)
			return true;
	return false;
}

/*
 * Takes every free frame, chaining them through their first words. A frame
 * handed out twice would already carry its own mark when it comes back.
 */
void selftest_frames(tap_t *t)
{
	frame_alloc_t *fa = pmm_allocator();
	uint64_t before = pmm_free_frames(), count = 0, dup = 0, bad = 0;
	uint64_t head = 0, pa;

	while (frames_alloc(fa, &pa) == 0) {
		frame_mark_t *m = phys_to_virt(pa);
		if (m->tag == TAG && m->self == pa)
			dup++;
		if (in_reserved(pa) || pa >= pmm_top())
			bad++;
		*m = (frame_mark_t){ TAG, pa, head };
		head = pa;
		count++;
	}
	tap_check(t, before > 0 && count == before, "frames: allocated all %llu free frames (got %llu)",
		  (unsigned long long)before, (unsigned long long)count);
	tap_check(t, dup == 0, "frames: no frame handed out twice (%llu duplicates)",
		  (unsigned long long)dup);
	tap_check(t, bad == 0, "frames: none inside a reserved range or past RAM (%llu)",
		  (unsigned long long)bad);
	tap_check(t, pmm_free_frames() == 0 && pmm_alloc(&pa) == SL_ENOMEM,
		  "frames: exhausted allocator answers SL_ENOMEM");

	uint64_t freed = 0, errors = 0;
	while (head) {
		frame_mark_t *m = phys_to_virt(head);
		uint64_t next = m->next;
		*m = (frame_mark_t){ 0 };
		errors += frames_free(fa, head) != 0;
		head = next;
		freed++;
	}
	tap_check(t, freed == count && errors == 0 && pmm_free_frames() == before,
		  "frames: freed all %llu, free count back to %llu", (unsigned long long)freed,
		  (unsigned long long)pmm_free_frames());

	frames_alloc(fa, &pa);
	frames_free(fa, pa);
	tap_check(t, frames_free(fa, pa) == -1 && pmm_free_frames() == before,
		  "frames: double free refused, count unchanged");
}

#define HEAP_OBJECTS 300

static bool heap_class_ok(size_t size, void **objs)
{
	bool ok = true;

	for (int i = 0; i < HEAP_OBJECTS; i++) {
		uint8_t *p = kmalloc(size);
		if (!p || (uintptr_t)p % (size < 64 ? size : 64))
			return false;
		for (size_t b = 0; b < size; b++) {
			ok &= p[b] == 0;
			p[b] = (uint8_t)(i * 7 + size);
		}
		objs[i] = p;
	}
	for (int i = 0; i < HEAP_OBJECTS; i++) {
		uint8_t *p = objs[i];
		for (size_t b = 0; b < size; b++)
			ok &= p[b] == (uint8_t)(i * 7 + size);
	}
	for (int i = 0; i < HEAP_OBJECTS; i++)
		kfree(objs[i]);
	return ok;
}

void selftest_heap(tap_t *t)
{
	static void *objs[HEAP_OBJECTS];
	uint64_t before = pmm_free_frames();

	for (size_t size = SLAB_MIN_OBJECT; size <= SLAB_MAX_OBJECT; size *= 2)
		tap_check(t, heap_class_ok(size, objs),
			  "heap: %d objects of %zu bytes zeroed, aligned, disjoint",
			  HEAP_OBJECTS, size);
	heap_trim();
	tap_check(t, pmm_free_frames() == before,
		  "heap: every slab page returned (free frames %llu, before %llu)",
		  (unsigned long long)pmm_free_frames(), (unsigned long long)before);
	tap_check(t, kmalloc(SLAB_MAX_OBJECT + 1) == NULL, "heap: oversized kmalloc gives NULL");
}

extern const char _kernel_text_start[], _kernel_rodata_start[], kernel_stack_guard[];

void selftest_paging(tap_t *t)
{
	vm_space_t ks = vm_kernel_space();
	uintptr_t va = KMAP_BASE + 0x123000;
	uint64_t pa, got;
	unsigned rights;

	pmm_alloc(&pa);
	tap_check(t, vm_map(ks, va, pa, VM_WRITE) == SL_OK, "paging: map a frame at %#lx",
		  (unsigned long)va);
	*(volatile uint64_t *)va = 0xfeedface12345678ull;
	tap_check(t, *(volatile uint64_t *)phys_to_virt(pa) == 0xfeedface12345678ull,
		  "paging: a write through the mapping reaches the frame");
	tap_check(t, vm_translate(ks, va + 8, &got, &rights) && got == pa + 8 &&
		     rights == VM_WRITE, "paging: translate gives frame and rights");
	tap_check(t, vm_map(ks, va, pa, 0) == SL_EEXIST, "paging: mapping twice is SL_EEXIST");
	tap_check(t, vm_map(ks, va + 1, pa, 0) == SL_EINVAL, "paging: unaligned is SL_EINVAL");
	tap_check(t, vm_unmap(ks, va, &got) == SL_OK && got == pa && !vm_translate(ks, va, &got, &rights),
		  "paging: unmap returns the frame and removes the mapping");
	tap_check(t, vm_unmap(ks, va, &got) == SL_ENOENT, "paging: unmapping again is SL_ENOENT");
	pmm_free(pa);

	tap_check(t, vm_translate(ks, (uintptr_t)_kernel_text_start, &got, &rights) &&
		     rights == VM_EXEC, "paging: kernel text is read+exec only");
	tap_check(t, vm_translate(ks, (uintptr_t)_kernel_rodata_start, &got, &rights) &&
		     rights == 0, "paging: kernel rodata is read only");
	tap_check(t, !vm_translate(ks, 0, &got, &rights) &&
		     !vm_translate(ks, (uintptr_t)kernel_stack_guard, &got, &rights),
		  "paging: null page and stack guard are unmapped");
	tap_check(t, vm_translate(ks, DIRECT_MAP_BASE + pmm_top() - 1, &got, &rights) &&
		     got == pmm_top() - 1 && rights == VM_WRITE,
		  "paging: direct map reaches the top of RAM, no exec");
}

void selftest_timer(tap_t *t)
{
	uint64_t start = arch_timer_ticks();

	while (arch_timer_ticks() < start + 5)
		arch_wait_for_interrupt();
	tap_check(t, arch_timer_ticks() >= start + 5, "timer: %u Hz tick advances",
		  arch_timer_hz());
}
