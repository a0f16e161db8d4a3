/*
 * fg_arena.h: a bump allocator for data that lives and dies together
 * (one set of reference tables). Freed in one call.
 */
#ifndef FG_ARENA_H
#define FG_ARENA_H

#include <stddef.h>

struct fg_arena_chunk;

struct fg_arena {
	struct fg_arena_chunk *head;
};

void *fg_arena_alloc(struct fg_arena *a, size_t size);
/* Copies len bytes and appends a NUL; NULL when out of memory. */
char *fg_arena_strndup(struct fg_arena *a, const char *s, size_t len);
void fg_arena_free(struct fg_arena *a);

#endif
