#include "fg_prefix_index.h"

#include <stdlib.h>
#include <string.h>

static inline uint32_t home(const struct fg_prefix_index *ix, uint64_t key)
{
	return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> ix->shift);
}

/* Adds table t's runs to the index; a prefix already there gets run t. */
static int add_table(struct fg_prefix_index *ix, int t, const struct fg_str *prefixes, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		struct fg_prefix_probe pr;

		while (j < n && fg_str_eq(prefixes[j], prefixes[i]))
			j++;
		fg_prefix_probe_init(&pr, prefixes[i].p, prefixes[i].len);
		if (pr.max == 0 || pr.max != prefixes[i].len)
			return -1;
		uint64_t key = pr.key[pr.max];
		uint32_t k = home(ix, key);
		while (ix->slots[k].key && ix->slots[k].key != key)
			k = (k + 1) & ix->mask;
		ix->slots[k].key = key;
		ix->slots[k].first[t] = (uint32_t)i;
		ix->slots[k].count[t] = (uint32_t)(j - i);
		ix->len_present |= (uint16_t)(1u << pr.max);
		if (pr.max >= FG_PREFIX_HEAD_LEN)
			ix->head_lens[pr.key[FG_PREFIX_HEAD_LEN] >> 4] |= (uint16_t)(1u << pr.max);
		i = j;
	}
	return 0;
}

int fg_prefix_index_build2(struct fg_prefix_index *ix, const struct fg_str *a, size_t na,
			   const struct fg_str *b, size_t nb)
{
	size_t cap = 16;
	unsigned bits = 4;

	memset(ix, 0, sizeof(*ix));
	while (cap < 2 * (na + nb) + 2) {
		cap <<= 1;
		bits++;
	}
	ix->slots = calloc(cap, sizeof(*ix->slots));
	ix->head_lens = calloc(FG_PREFIX_HEADS, sizeof(*ix->head_lens));
	if (!ix->slots || !ix->head_lens) {
		fg_prefix_index_fini(ix);
		return -1;
	}
	ix->mask = (uint32_t)(cap - 1);
	ix->shift = 64 - bits;
	if (add_table(ix, 0, a, na) || add_table(ix, 1, b, nb)) {
		fg_prefix_index_fini(ix);
		return -1;
	}
	return 0;
}

int fg_prefix_index_build(struct fg_prefix_index *ix, const struct fg_str *prefixes, size_t n)
{
	return fg_prefix_index_build2(ix, prefixes, n, NULL, 0);
}

void fg_prefix_index_fini(struct fg_prefix_index *ix)
{
	free(ix->slots);
	free(ix->head_lens);
	ix->slots = NULL;
	ix->head_lens = NULL;
	ix->len_present = 0;
}

const struct fg_prefix_slot *fg_prefix_index_find(const struct fg_prefix_index *ix,
						  const char *p, size_t len)
{
	struct fg_prefix_probe pr;

	if (!ix->slots || len == 0 || len > FG_PREFIX_MAX_LEN || !(ix->len_present & (1u << len)))
		return NULL;
	fg_prefix_probe_init(&pr, p, len);
	if (pr.max != len)
		return NULL;
	return fg_prefix_index_find_key(ix, pr.key[len]);
}
