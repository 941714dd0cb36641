/*
 * Kernel heap: slab pages are frames seen through the direct map.
 */
#include <kernel/heap.h>
#include <kernel/panic.h>
#include <kernel/pmm.h>
#include <kernel/spinlock.h>
#include <kernel/string.h>
#include <kernel/vm.h>

#define CLASS_COUNT 8           /* 16, 32, ..., 2048 */

static slab_cache_t classes[CLASS_COUNT];
static spinlock_t heap_lock = SPINLOCK_INIT("heap");      /* before frames */
static const char *const class_names[CLASS_COUNT] = {
	"kmalloc-16", "kmalloc-32", "kmalloc-64", "kmalloc-128",
	"kmalloc-256", "kmalloc-512", "kmalloc-1024", "kmalloc-2048",
};

/*
 * A few slab pages are kept back instead of going to the frame allocator,
 * so a cache whose last object comes and goes (a reply object per IPC
 * call) does not free, re-zero and re-take a frame every time.
 * heap_trim() gives them back.
 */
#define PAGE_POOL_MAX 8
static void *page_pool[PAGE_POOL_MAX];
static unsigned pool_count;
static spinlock_t pool_lock = SPINLOCK_INIT("heap pages");      /* a leaf */

static void *page_alloc(void *ctx)
{
	uint64_t pa;
	void *page = NULL;

	(void)ctx;
	spin_lock(&pool_lock);
	if (pool_count)
		page = page_pool[--pool_count];
	spin_unlock(&pool_lock);
	if (!page && pmm_alloc(&pa) == 0)
		page = phys_to_virt(pa);
	return page;
}

static void page_free(void *ctx, void *page)
{
	(void)ctx;
	spin_lock(&pool_lock);
	bool kept = pool_count < PAGE_POOL_MAX;
	if (kept)
		page_pool[pool_count++] = page;
	spin_unlock(&pool_lock);
	if (!kept)
		pmm_free(virt_to_phys_direct(page));
}

void heap_trim(void)
{
	spin_lock(&pool_lock);
	while (pool_count)
		pmm_free(virt_to_phys_direct(page_pool[--pool_count]));
	spin_unlock(&pool_lock);
}

static const slab_page_source_t frame_source = { page_alloc, page_free, NULL };

void heap_cache_init(slab_cache_t *cache, const char *name, size_t object_size)
{
	slab_cache_init(cache, name, object_size, &frame_source);
}

void heap_init(void)
{
	for (unsigned i = 0; i < CLASS_COUNT; i++)
		heap_cache_init(&classes[i], class_names[i], SLAB_MIN_OBJECT << i);
}

void *kmalloc(size_t size)
{
	for (unsigned i = 0; i < CLASS_COUNT; i++) {
		if (size <= classes[i].object_size) {
			spin_lock(&heap_lock);
			void *p = slab_alloc(&classes[i]);
			spin_unlock(&heap_lock);
			if (p)
				memset(p, 0, size);
			return p;
		}
	}
	return NULL;
}

void kfree(void *p)
{
	if (!p)
		return;
	spin_lock(&heap_lock);
	slab_cache_t *c = slab_owner(p);
	int err = c ? slab_free(c, p) : -1;
	spin_unlock(&heap_lock);
	if (err < 0)
		panic("kfree: %p is not a live heap object", p);
}
