#include "fg_prefix_index.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

int fg_prefix_index_build(struct fg_prefix_index *ix, const struct fg_str *prefixes, size_t n)
{
	size_t cap = 16;

	memset(ix, 0, sizeof(*ix));
	while (cap < 2 * n + 2)
		cap <<= 1;
	ix->slots = calloc(cap, sizeof(*ix->slots));
	if (!ix->slots)
		return -1;
	ix->mask = (uint32_t)(cap - 1);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && fg_str_eq(prefixes[j], prefixes[i]))
			j++;
		uint64_t h = XXH3_64bits(prefixes[i].p, prefixes[i].len);
		uint32_t k = (uint32_t)h & ix->mask;
		while (ix->slots[k].prefix)
			k = (k + 1) & ix->mask;
		ix->slots[k] = (struct fg_prefix_slot){ h, prefixes[i].p, (uint32_t)prefixes[i].len,
							(uint32_t)i, (uint32_t)(j - i) };
		if (prefixes[i].len <= FG_PREFIX_MAX_LEN)
			ix->len_present |= (uint16_t)(1u << prefixes[i].len);
		i = j;
	}
	return 0;
}

void fg_prefix_index_fini(struct fg_prefix_index *ix)
{
	free(ix->slots);
	ix->slots = NULL;
}

const struct fg_prefix_slot *fg_prefix_index_find(const struct fg_prefix_index *ix,
						  const char *p, size_t len)
{
	if (!ix->slots || len > FG_PREFIX_MAX_LEN || !(ix->len_present & (1u << len)))
		return NULL;
	uint64_t h = XXH3_64bits(p, len);
	for (uint32_t k = (uint32_t)h & ix->mask; ix->slots[k].prefix; k = (k + 1) & ix->mask) {
		const struct fg_prefix_slot *s = &ix->slots[k];
		if (s->hash == h && s->len == len && memcmp(s->prefix, p, len) == 0)
			return s;
	}
	return NULL;
}
