#ifndef CHANSERV_ARENA_H
#define CHANSERV_ARENA_H

#include <stddef.h>

/* The core's page provider (cs_pages_t): runs of zeroed pages from the
 * kernel, or NULL. */
void *pages_map(void *ctx, size_t pages);
void pages_unmap(void *ctx, void *p, size_t pages);

#endif
