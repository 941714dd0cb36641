/* The memory and exit functions of the silo runtime (libsys/malloc.c). */
#ifndef SLUICE_STDLIB_H
#define SLUICE_STDLIB_H

#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

/* The exit code of a silo that called abort() (128 + SIGABRT's 6, as a
 * shell would show it). */
#define SL_ABORT_CODE 134

/* Blocks are 16-byte aligned. Safe to call from several threads at once.
 * free(NULL) does nothing; freeing a pointer twice, or one malloc did not
 * give, prints a line and aborts the silo. realloc(p, 0) frees p and
 * returns NULL; calloc returns NULL when count * size overflows. */
void *malloc(size_t n);
void *calloc(size_t count, size_t size);
void *realloc(void *p, size_t n);
void free(void *p);
size_t malloc_usable_size(void *p);     /* at least what was asked for p */

__attribute__((noreturn)) void abort(void);
__attribute__((noreturn)) void exit(int code);

#endif
