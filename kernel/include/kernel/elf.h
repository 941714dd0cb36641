/*
 * ELF64 executable checking for silo images. elf_check accepts only what
 * the loader can place safely: a little-endian x86_64 ET_EXEC whose
 * loadable segments lie inside the file, inside the user half, page-aligned
 * and not sharing pages, with the entry point in an executable segment.
 * Portable: tested on the host with hand-made and corrupted images.
 */
#ifndef KERNEL_ELF_H
#define KERNEL_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 8

enum { ELF_SEG_R = 4, ELF_SEG_W = 2, ELF_SEG_X = 1 };

typedef struct elf_segment {
	uint64_t vaddr;         /* page-aligned */
	uint64_t memsz;
	uint64_t offset;        /* in the file */
	uint64_t filesz;
	uint32_t flags;         /* ELF_SEG_* */
} elf_segment_t;

typedef struct elf_image {
	uint64_t entry;
	unsigned count;
	elf_segment_t segments[ELF_MAX_SEGMENTS];
} elf_image_t;

/* Fills out and returns 0, or returns a negative SL_E* code with *why set
 * to a short reason. user_min/user_max bound where segments may go. */
int elf_check(const void *file, size_t size, uint64_t user_min, uint64_t user_max,
	      elf_image_t *out, const char **why);

#endif
