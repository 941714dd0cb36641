#ifndef CHANSERV_ARENA_H
#define CHANSERV_ARENA_H

#include <stdbool.h>
#include <stddef.h>

/* The core's page provider (cs_pages_t). */
void *pages_map(void *ctx, size_t pages);
void pages_unmap(void *ctx, void *p, size_t pages);

/* False once the kernel said it cannot map memory (the arena serves). */
bool pages_from_kernel(void);

#endif
