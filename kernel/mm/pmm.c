/*
 * The kernel's frame allocator instance. Its bitmap is placed in the first
 * stretch of RAM above 1 MiB and below 4 GiB (the part the boot page tables
 * already map) that overlaps nothing reserved.
 */
#include <abi/errors.h>
#include <kernel/panic.h>
#include <kernel/pmm.h>
#include <kernel/printk.h>
#include <kernel/spinlock.h>
#include <kernel/string.h>
#include <kernel/vm.h>

#define LOW_MEMORY_END (1ull << 20)     /* BIOS data, real-mode vectors, ROMs */
#define BOOT_MAPPED_END (4ull << 30)

extern const char _kernel_phys_start[], _kernel_phys_end[];

static frame_alloc_t frames;
static spinlock_t frames_lock = SPINLOCK_INIT("frames");   /* a leaf lock */
static pmm_range_t reserved[PMM_MAX_RESERVED];
static unsigned reserved_count;
static uint64_t top;

static void reserve(uint64_t base, uint64_t end, const char *what)
{
	assert(reserved_count < PMM_MAX_RESERVED);
	reserved[reserved_count++] = (pmm_range_t){ base, end, what };
}

static uint64_t align_up(uint64_t v)
{
	return (v + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);
}

/* End of the reserved range overlapping [base, base+len), or 0 if none. */
static uint64_t overlap_end(uint64_t base, uint64_t len)
{
	for (unsigned i = 0; i < reserved_count; i++)
		if (base < reserved[i].end && reserved[i].base < base + len)
			return reserved[i].end;
	return 0;
}

static uint64_t place_bitmap(const mb2_info_t *mb, uint64_t bytes)
{
	for (uint32_t i = 0; i < mb->mmap_count; i++) {
		mb2_mmap_entry_t e = mb2_mmap_entry(mb, i);
		uint64_t end = e.base + e.len;
		uint64_t base = align_up(e.base < LOW_MEMORY_END ? LOW_MEMORY_END : e.base);

		if (e.type != MB2_MEM_AVAILABLE)
			continue;
		for (uint64_t skip; (skip = overlap_end(base, bytes));)
			base = align_up(skip);
		if (base + bytes <= end && base + bytes <= BOOT_MAPPED_END)
			return base;
	}
	panic("pmm: no room for a %llu-byte frame bitmap", (unsigned long long)bytes);
}

static uint64_t ram_top(const mb2_info_t *mb)
{
	uint64_t t = 0;

	for (uint32_t i = 0; i < mb->mmap_count; i++) {
		mb2_mmap_entry_t e = mb2_mmap_entry(mb, i);
		if (e.type == MB2_MEM_AVAILABLE && e.base + e.len > t)
			t = e.base + e.len;
	}
	return t & ~(FRAME_SIZE - 1);
}

void pmm_init(const mb2_info_t *mb, uint64_t info_phys)
{
	if (!mb->mmap)
		panic("pmm: the boot loader gave no memory map");
	top = ram_top(mb);
	reserve(0, LOW_MEMORY_END, "low memory");
	reserve((uint64_t)_kernel_phys_start, (uint64_t)_kernel_phys_end, "kernel image");
	reserve(info_phys, info_phys + mb->total_size, "boot information");
	for (uint32_t i = 0; i < mb->module_count; i++)
		reserve(mb->modules[i].start, mb->modules[i].end, "module");

	uint64_t nframes = top >> FRAME_SHIFT;
	uint64_t bytes = frames_bitmap_bytes(nframes);
	uint64_t bitmap = place_bitmap(mb, bytes);
	reserve(bitmap, bitmap + bytes, "frame bitmap");

	frames_init(&frames, phys_to_virt(bitmap), nframes);
	for (uint32_t i = 0; i < mb->mmap_count; i++) {
		mb2_mmap_entry_t e = mb2_mmap_entry(mb, i);
		if (e.type == MB2_MEM_AVAILABLE)
			frames_release_range(&frames, e.base, e.len);
	}
	for (unsigned i = 0; i < reserved_count; i++)
		frames_reserve_range(&frames, reserved[i].base, reserved[i].end - reserved[i].base);
}

int pmm_alloc(uint64_t *paddr)
{
	spin_lock(&frames_lock);
	int err = frames_alloc(&frames, paddr);
	spin_unlock(&frames_lock);
	if (err < 0)
		return SL_ENOMEM;
	memset(phys_to_virt(*paddr), 0, FRAME_SIZE);
	return SL_OK;
}

void pmm_free(uint64_t paddr)
{
	spin_lock(&frames_lock);
	int err = frames_free(&frames, paddr);
	spin_unlock(&frames_lock);
	if (err < 0)
		panic("pmm_free: frame %#llx was not allocated", (unsigned long long)paddr);
}

uint64_t pmm_free_frames(void)
{
	return frames.free_frames;
}

uint64_t pmm_top(void)
{
	return top;
}

const pmm_range_t *pmm_reserved(unsigned *count)
{
	*count = reserved_count;
	return reserved;
}

frame_alloc_t *pmm_allocator(void)
{
	return &frames;
}
