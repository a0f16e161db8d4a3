#include "fg_arena.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 16384

struct fg_arena_chunk {
	struct fg_arena_chunk *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

void *fg_arena_alloc(struct fg_arena *a, size_t size)
{
	struct fg_arena_chunk *c = a->head;

	size = (size + 15) & ~(size_t)15;
	if (!c || c->size - c->used < size) {
		size_t cap = size > CHUNK_MIN ? size : CHUNK_MIN;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->size = cap;
		a->head = c;
	}
	void *p = c->data + c->used;
	c->used += size;
	return p;
}

char *fg_arena_strndup(struct fg_arena *a, const char *s, size_t len)
{
	char *p = fg_arena_alloc(a, len + 1);

	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void fg_arena_free(struct fg_arena *a)
{
	while (a->head) {
		struct fg_arena_chunk *n = a->head->next;
		free(a->head);
		a->head = n;
	}
}
