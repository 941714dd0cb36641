/*
 * Kernel page tables and the 4 KiB map/unmap/translate primitives.
 *
 * vm_init replaces the boot tables with the kernel's own: the image mapped
 * with 4 KiB pages and per-section rights (text read+exec, rodata read,
 * data and bss read+write, the page under the boot stack left unmapped as a
 * guard), and all RAM mapped at DIRECT_MAP_BASE with 2 MiB pages, no exec.
 * The low identity map of the boot tables is gone afterwards, so a null
 * pointer faults. Tables are reached through the direct map.
 */
#include <abi/errors.h>
#include <arch/cpu.h>
#include <kernel/heap.h>
#include <arch/paging.h>
#include <kernel/panic.h>
#include <kernel/pmm.h>
#include <kernel/spinlock.h>
#include <kernel/vm.h>

#define LARGE_PAGE (2ull << 20)
#define LEVELS 4

extern const char _kernel_text_start[], _kernel_text_end[];
extern const char _kernel_rodata_start[], _kernel_rodata_end[];
extern const char _kernel_data_start[], _kernel_data_end[];
extern const char kernel_stack_guard[];

struct vm_space_rec vm_kernel_space_rec;   /* fastswitch.S reads its root */
static vm_space_t kernel_space = &vm_kernel_space_rec;
static spinlock_t vm_lock = SPINLOCK_INIT("vm");   /* before frames */

static unsigned index_at(uintptr_t va, int level)
{
	return (va >> (12 + 9 * level)) & 511;
}

static uint64_t *table_of(uint64_t entry)
{
	return phys_to_virt(entry & PTE_ADDR_MASK);
}

static uint64_t pte_bits(unsigned rights)
{
	uint64_t bits = PTE_P;

	if (rights & VM_WRITE)
		bits |= PTE_W;
	if (!(rights & VM_EXEC))
		bits |= PTE_NX;
	if (rights & VM_USER)
		bits |= PTE_U;
	else
		bits |= PTE_G;
	return bits;
}

/*
 * Walks to the table at `level` (0 = page table) covering va, creating
 * missing tables when create is set. NULL if absent or a large page is in
 * the way; *err says which.
 */
/* A zeroed frame for a new table of space, charged to its quota. */
static int table_alloc(vm_space_t space, uint64_t *frame)
{
	if (space->tables && quota_charge(space->tables, FRAME_SIZE) < 0)
		return SL_EQUOTA;
	if (pmm_alloc(frame) < 0) {
		if (space->tables)
			quota_uncharge(space->tables, FRAME_SIZE);
		return SL_ENOMEM;
	}
	if (space->tables)
		space->charged += FRAME_SIZE;
	return SL_OK;
}

static uint64_t *walk(vm_space_t space, uintptr_t va, int level, bool create, int *err)
{
	uint64_t *table = phys_to_virt(space->root);

	for (int l = LEVELS - 1; l > level; l--) {
		uint64_t *e = &table[index_at(va, l)];

		if (*e & PTE_PS) {
			*err = SL_EEXIST;
			return NULL;
		}
		if (!(*e & PTE_P)) {
			uint64_t frame;

			if (!create) {
				*err = SL_ENOENT;
				return NULL;
			}
			if ((*err = table_alloc(space, &frame)) < 0)
				return NULL;
			/* Intermediate entries allow everything; leaves decide. */
			*e = frame | PTE_P | PTE_W | (va < USER_TOP ? PTE_U : 0);
		}
		table = table_of(*e);
	}
	return table;
}

static int map_locked(vm_space_t space, uintptr_t va, uint64_t pa, unsigned rights)
{
	int err = SL_OK;
	uint64_t *pt = walk(space, va, 0, true, &err);

	if (!pt)
		return err;
	uint64_t *e = &pt[index_at(va, 0)];
	if (*e & PTE_P)
		return SL_EEXIST;
	*e = pa | pte_bits(rights);
	return SL_OK;
}

int vm_map(vm_space_t space, uintptr_t va, uint64_t pa, unsigned rights)
{
	if ((va | pa) & (FRAME_SIZE - 1))
		return SL_EINVAL;
	spin_lock(&vm_lock);
	int err = map_locked(space, va, pa, rights);
	spin_unlock(&vm_lock);
	return err;
}

static int unmap_locked(vm_space_t space, uintptr_t va, uint64_t *pa)
{
	int err = SL_OK;
	uint64_t *pt = walk(space, va, 0, false, &err);

	if (!pt)
		return err == SL_EEXIST ? SL_EINVAL : SL_ENOENT;
	uint64_t *e = &pt[index_at(va, 0)];
	if (!(*e & PTE_P))
		return SL_ENOENT;
	*pa = *e & PTE_ADDR_MASK;
	*e = 0;
	invlpg(va);
	return SL_OK;
}

int vm_unmap(vm_space_t space, uintptr_t va, uint64_t *pa)
{
	spin_lock(&vm_lock);
	int err = unmap_locked(space, va, pa);
	spin_unlock(&vm_lock);
	return err;
}

static unsigned rights_of(uint64_t e)
{
	return (e & PTE_W ? VM_WRITE : 0) | (e & PTE_NX ? 0 : VM_EXEC) |
	       (e & PTE_U ? VM_USER : 0);
}

bool vm_translate(vm_space_t space, uintptr_t va, uint64_t *pa, unsigned *rights)
{
	uint64_t *table = phys_to_virt(space->root);

	for (int l = LEVELS - 1; l >= 0; l--) {
		uint64_t e = table[index_at(va, l)];

		if (!(e & PTE_P))
			return false;
		if (l == 0 || (e & PTE_PS)) {
			uint64_t page_mask = (1ull << (12 + 9 * l)) - 1;
			*pa = (e & PTE_ADDR_MASK & ~page_mask) | (va & page_mask);
			*rights = rights_of(e);
			return true;
		}
		table = table_of(e);
	}
	return false;
}

static void map_range_or_panic(uintptr_t start, uintptr_t end, unsigned rights)
{
	for (uintptr_t va = start; va < end; va += FRAME_SIZE) {
		if (va == (uintptr_t)kernel_stack_guard)
			continue;
		if (vm_map(kernel_space, va, va - KERNEL_VMA, rights) < 0)
			panic("vm_init: cannot map kernel page %#lx", (unsigned long)va);
	}
}

static void map_direct(uint64_t top_phys)
{
	int err = SL_OK;

	for (uint64_t pa = 0; pa < top_phys; pa += LARGE_PAGE) {
		uint64_t *pd = walk(kernel_space, DIRECT_MAP_BASE + pa, 1, true, &err);

		if (!pd)
			panic("vm_init: cannot build the direct map (%d)", err);
		pd[index_at(DIRECT_MAP_BASE + pa, 1)] = pa | PTE_P | PTE_W | PTE_PS | PTE_G | PTE_NX;
	}
}

/* Every address space copies the kernel half's top-level entries, so all
 * of them must exist before the first space is made: later kernel
 * mappings then land in tables every space already shares. */
static void share_kernel_half(void)
{
	uint64_t *pml4 = phys_to_virt(kernel_space->root);

	for (unsigned i = 256; i < 512; i++) {
		uint64_t frame;

		if (pml4[i] & PTE_P)
			continue;
		if (pmm_alloc(&frame) < 0)
			panic("vm_init: no frame for the kernel half");
		pml4[i] = frame | PTE_P | PTE_W;
	}
}

/* The record and the top-level table, charged as one frame and a record. */
#define SPACE_CHARGE (FRAME_SIZE + sizeof(struct vm_space_rec))

int vm_space_create(vm_space_t *out, quota_t *tables)
{
	uint64_t frame;
	int err = tables ? quota_charge(tables, SPACE_CHARGE) : SL_OK;

	if (err < 0)
		return err;
	vm_space_t space = kmalloc(sizeof *space);
	if (!space || pmm_alloc(&frame) < 0) {
		kfree(space);
		if (tables)
			quota_uncharge(tables, SPACE_CHARGE);
		return SL_ENOMEM;
	}
	uint64_t *pml4 = phys_to_virt(frame), *kernel = phys_to_virt(kernel_space->root);
	for (unsigned i = 256; i < 512; i++)
		pml4[i] = kernel[i];
	*space = (struct vm_space_rec){ .root = frame, .tables = tables, .charged = tables ? SPACE_CHARGE : 0 };
	*out = space;
	return SL_OK;
}

/* Frees the tables under entry e at level, and their pages at level 0. */
static void free_tree(uint64_t e, int level)
{
	uint64_t *table = table_of(e);

	for (unsigned i = 0; i < 512; i++) {
		if (!(table[i] & PTE_P))
			continue;
		if (level == 0)
			pmm_free(table[i] & PTE_ADDR_MASK);
		else
			free_tree(table[i], level - 1);
	}
	pmm_free(e & PTE_ADDR_MASK);
}

void vm_space_destroy(vm_space_t space)
{
	uint64_t *pml4 = phys_to_virt(space->root);

	assert(read_cr3() != space->root && space != kernel_space);
	for (unsigned i = 0; i < 256; i++)
		if (pml4[i] & PTE_P)
			free_tree(pml4[i], 2);
	pmm_free(space->root);
	if (space->tables)
		quota_uncharge(space->tables, space->charged);
	kfree(space);
}

int vm_prepare_tables(vm_space_t space, uintptr_t start, uintptr_t end)
{
	int err = SL_OK;

	spin_lock(&vm_lock);
	for (uintptr_t va = start & ~(LARGE_PAGE - 1); va < end && err == SL_OK; va += LARGE_PAGE)
		if (!walk(space, va, 0, true, &err))
			break;
	spin_unlock(&vm_lock);
	return err;
}

void vm_activate(vm_space_t space)
{
	if (read_cr3() != space->root)
		write_cr3(space->root);
}

void vm_init(uint64_t top_phys)
{
	if (pmm_alloc(&kernel_space->root) < 0)
		panic("vm_init: no frame for the kernel's top-level table");
	map_range_or_panic((uintptr_t)_kernel_text_start, (uintptr_t)_kernel_text_end, VM_EXEC);
	map_range_or_panic((uintptr_t)_kernel_rodata_start, (uintptr_t)_kernel_rodata_end, 0);
	map_range_or_panic((uintptr_t)_kernel_data_start, (uintptr_t)_kernel_data_end, VM_WRITE);
	map_direct((top_phys + LARGE_PAGE - 1) & ~(LARGE_PAGE - 1));
	share_kernel_half();
	write_cr4(read_cr4() | CR4_PGE);
	write_cr3(kernel_space->root);
}

vm_space_t vm_kernel_space(void)
{
	return kernel_space;
}
