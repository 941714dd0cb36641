/*
 * Multiboot2 boot information: the few tags the kernel reads, checked for
 * sane sizes while parsing so a malformed structure is reported rather
 * than walked off the end of. Portable: tested on the host.
 */
#ifndef KERNEL_MB2_H
#define KERNEL_MB2_H

#include <stddef.h>
#include <stdint.h>

#define MB2_BOOT_MAGIC 0x36d76289u
/* Boot modules the kernel keeps; a boot with more fails (see kmain), since
 * each module is a silo and dropping one would leave its peers waiting. */
#define MB2_MAX_MODULES 1024

enum mb2_mem_type {
	MB2_MEM_AVAILABLE = 1,
	MB2_MEM_RESERVED = 2,
	MB2_MEM_ACPI_RECLAIMABLE = 3,
	MB2_MEM_NVS = 4,
	MB2_MEM_BAD = 5,
};

typedef struct mb2_mmap_entry {
	uint64_t base;
	uint64_t len;
	uint32_t type;
	uint32_t reserved;
} mb2_mmap_entry_t;

typedef struct mb2_module {
	uint32_t start, end;            /* physical, end exclusive */
	const char *cmdline;
} mb2_module_t;

typedef struct mb2_info {
	uint32_t total_size;
	const char *cmdline;            /* "" when absent */
	const char *loader;             /* "" when absent */
	const uint8_t *mmap;            /* first entry, NULL when absent */
	uint32_t mmap_entry_size;
	uint32_t mmap_count;
	mb2_module_t modules[MB2_MAX_MODULES];
	uint32_t module_count;
	uint32_t modules_dropped;       /* past MB2_MAX_MODULES */
} mb2_info_t;

/* Parses the information block at info. Returns 0, or -1 if it is malformed. */
int mb2_parse(const void *info, mb2_info_t *out);

/* The i-th memory map entry, i < out->mmap_count. */
mb2_mmap_entry_t mb2_mmap_entry(const mb2_info_t *mb, uint32_t i);

const char *mb2_mem_type_name(uint32_t type);

#endif
