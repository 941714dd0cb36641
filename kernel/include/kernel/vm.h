/*
 * Virtual memory layout and the kernel's page-mapping interface.
 *
 *   0x0000000000000000 .. 0x00007fffffffffff  user half (per silo, later)
 *   0xffff800000000000 ..                     direct map of all RAM
 *   0xffffc00000000000 ..                     kernel mappings made at run time
 *   0xffffffff80000000 ..                     kernel image
 */
#ifndef KERNEL_VM_H
#define KERNEL_VM_H

#include <kernel/quota.h>
#include <stdbool.h>
#include <stdint.h>

#define USER_TOP        0x0000800000000000ull
#define DIRECT_MAP_BASE 0xffff800000000000ull
#define KMAP_BASE       0xffffc00000000000ull
#define KERNEL_VMA      0xffffffff80000000ull

/* Mapping rights; the default is read-only, not executable, kernel only. */
enum {
	VM_WRITE = 1 << 0,
	VM_EXEC = 1 << 1,
	VM_USER = 1 << 2,
};

/*
 * An address space: its top-level table and the quota its page tables are
 * charged to (NULL for the kernel's). Every table a mapping creates costs
 * FRAME_SIZE bytes of that quota, given back when the space is destroyed;
 * a mapping that would need a table past the quota fails with SL_EQUOTA.
 */
typedef struct vm_space_rec {
	uint64_t root;                  /* physical address of the top-level table */
	quota_t *tables;
	uint64_t charged;               /* bytes charged to tables, under the vm lock */
} *vm_space_t;

static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)(pa + DIRECT_MAP_BASE);
}

static inline uint64_t virt_to_phys_direct(const void *va)
{
	return (uint64_t)(uintptr_t)va - DIRECT_MAP_BASE;
}

/* Builds the kernel's page tables (image with per-section rights, direct
 * map of all RAM up to top_phys, no identity map) and switches to them. */
void vm_init(uint64_t top_phys);

vm_space_t vm_kernel_space(void);

/* A new address space: empty user half, the kernel half shared. Its
 * record and top-level table are charged to tables as well (SL_EQUOTA,
 * SL_ENOMEM). */
int vm_space_create(vm_space_t *out, quota_t *tables);

/* Frees every user page and table of space, then space itself, and gives
 * its quota back. The space must not be the one loaded on the CPU. */
void vm_space_destroy(vm_space_t space);

/* Makes sure the page tables covering [start, end) exist, so mapping there
 * later never allocates (and never shows up as memory taken at run time). */
int vm_prepare_tables(vm_space_t space, uintptr_t start, uintptr_t end);

/* Loads space on the CPU if it is not loaded already. */
void vm_activate(vm_space_t space);

/* Maps one 4 KiB page. Returns 0, SL_EEXIST if va is mapped, SL_ENOMEM if a
 * table could not be allocated, SL_EQUOTA if a new table is past the
 * space's quota, SL_EINVAL for unaligned addresses. */
int vm_map(vm_space_t space, uintptr_t va, uint64_t pa, unsigned rights);

/* Unmaps one 4 KiB page and returns its frame in *pa. SL_ENOENT if unmapped. */
int vm_unmap(vm_space_t space, uintptr_t va, uint64_t *pa);

/* Looks va up (4 KiB or 2 MiB pages). Returns false if unmapped. */
bool vm_translate(vm_space_t space, uintptr_t va, uint64_t *pa, unsigned *rights);

#endif
