/*
 * Kernel command line: space-separated words, each a flag ("selftest") or
 * a key=value pair ("test.fault=pagefault"). Portable: tested on the host.
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

/* True if the word appears as a flag or as the key of a pair. */
bool cmdline_has(const char *cmdline, const char *key);

/* Copies the value of key=value into buf (NUL-terminated, truncated to
 * size - 1). Returns the value's full length, or -1 if key is absent. */
int cmdline_get(const char *cmdline, const char *key, char *buf, size_t size);

#endif
