/*
 * Which user ranges a copy between kernel and user memory may touch.
 * Portable: compiled into the kernel (silo.c walks a silo's page tables
 * with it) and into a host test.
 */
#ifndef KERNEL_UACCESS_H
#define KERNEL_UACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UACCESS_PAGE 4096ull

/* Looks up the page at va: false if unmapped, else its rights (VM_*). */
typedef bool (*uaccess_lookup_t)(const void *ctx, uint64_t va, unsigned *rights);

/* [u, u+n) does not wrap and ends at or below top. */
bool uaccess_range_ok(uint64_t u, size_t n, uint64_t top);

/* [u, u+n) lies below top and every page of it has all the rights in
 * need; n == 0 names no page and is fine wherever u points. */
bool uaccess_pages_ok(uint64_t u, size_t n, uint64_t top, unsigned need,
		      uaccess_lookup_t lookup, const void *ctx);

#endif
