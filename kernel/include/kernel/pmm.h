/*
 * The kernel's physical memory: one frame allocator fed by the multiboot2
 * memory map, with the kernel image, boot modules, boot information and the
 * allocator's own bitmap reserved.
 */
#ifndef KERNEL_PMM_H
#define KERNEL_PMM_H

#include <kernel/frames.h>
#include <kernel/mb2.h>

typedef struct pmm_range {
	uint64_t base, end;     /* physical, end exclusive */
	const char *what;
} pmm_range_t;

#define PMM_MAX_RESERVED (MB2_MAX_MODULES + 4)

/* Initialises from the parsed boot information at physical info_phys. */
void pmm_init(const mb2_info_t *mb, uint64_t info_phys);

/* Returns 0 and a zeroed frame, or SL_ENOMEM. */
int pmm_alloc(uint64_t *paddr);

/* Panics on a double free: that is a kernel bug. */
void pmm_free(uint64_t paddr);

uint64_t pmm_free_frames(void);
uint64_t pmm_top(void);         /* end of the highest usable RAM */

/* The ranges reserved at boot, for the self-tests. */
const pmm_range_t *pmm_reserved(unsigned *count);

/* The allocator itself, for the self-tests that probe its error paths. */
frame_alloc_t *pmm_allocator(void);

#endif
