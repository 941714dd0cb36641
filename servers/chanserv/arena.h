#ifndef CHANSERV_ARENA_H
#define CHANSERV_ARENA_H

#include <stddef.h>

void *arena_alloc(void *ctx, size_t bytes);
void arena_free(void *ctx, void *p, size_t bytes);

#endif
