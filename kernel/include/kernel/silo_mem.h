/*
 * Anonymous memory of a silo (SL_SYS_MEM_MAP, SL_SYS_MEM_UNMAP): zeroed,
 * writable, non-executable pages in the silo's own address space, inside
 * [SL_MEM_REGION_BASE, SL_MEM_REGION_END), charged page by page to the
 * silo's `mem` quota.
 *
 * The page tables are the only record of what is mapped there; the silo
 * keeps a cursor below which every page of the region is mapped, so the
 * kernel's choice is the lowest free run at or above it. The record lives
 * in silo_t itself: it costs no kernel memory of its own.
 *
 * Lock order: a silo's mem lock (a sleeping lock: a busy flag and a wait
 * queue, held with interrupts on, so a large map stays preemptible), then
 * the vm lock and the frame allocator's lock, each taken per page. The
 * silo lock is never taken under it.
 */
#ifndef KERNEL_SILO_MEM_H
#define KERNEL_SILO_MEM_H

#include <kernel/waitq.h>
#include <stdbool.h>
#include <stdint.h>

struct silo;

typedef struct silo_mem {
	waitq_t wq;             /* its lock guards busy */
	bool busy;              /* a thread of the silo is changing the region */
	uint64_t low;           /* every page of [SL_MEM_REGION_BASE, low) is mapped */
	uint64_t pages;         /* anonymous pages mapped, charged to the silo's mem quota */
} silo_mem_t;

/* Sets the `mem` quota from the module's mem=N and empties the region. */
void silo_mem_init(struct silo *s, uint64_t limit);

/* The silo's address space is gone: gives back the quota its pages held. */
void silo_mem_teardown(struct silo *s);

/* The system calls; s is the caller's silo, whose space is loaded. */
int64_t silo_mem_map(struct silo *s, uint64_t hint, uint64_t pages, uint64_t flags);
int64_t silo_mem_unmap(struct silo *s, uint64_t addr, uint64_t pages);

#endif
