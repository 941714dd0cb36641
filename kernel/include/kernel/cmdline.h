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

/* Splits a module's arguments (the text after its name and one space, as
 * GRUB writes it; see docs/abi.md) in place into argv: arguments are
 * separated by single spaces, "..." keeps spaces, \c is c. Returns the
 * count, or -1 if there are more than max. */
int cmdline_split_args(char *s, char **argv, int max);

#endif
