#include "fg_rules.h"

#include <stdlib.h>
#include <string.h>

const char *const fg_stage_names[FG_STAGE_COUNT] = {
	"ORE_CONCENTRATE", "INTERMEDIATE", "REFINED", "SEMI_FINISHED"
};

static int rule_cmp(const void *pa, const void *pb)
{
	const struct fg_rule *a = pa, *b = pb;
	int c = fg_str_cmp(a->hs_prefix, b->hs_prefix);

	if (c)
		return c;
	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	return fg_str_cmp(a->rule_id, b->rule_id);
}

int fg_rules_build(struct fg_rules *rs)
{
	struct fg_str *prefixes;
	int rc;

	if (rs->n)
		qsort(rs->v, rs->n, sizeof(*rs->v), rule_cmp);
	prefixes = malloc((rs->n + 1) * sizeof(*prefixes));
	if (!prefixes)
		return -1;
	for (size_t i = 0; i < rs->n; i++)
		prefixes[i] = rs->v[i].hs_prefix;
	rc = fg_prefix_index_build(&rs->ix, prefixes, rs->n);
	free(prefixes);
	return rc;
}

void fg_rules_fini(struct fg_rules *rs)
{
	fg_prefix_index_fini(&rs->ix);
}

static inline unsigned char lower(unsigned char c)
{
	return (unsigned char)(c | ((unsigned)(c - 'A') < 26u ? 0x20 : 0));
}

int fg_rules_contains_nocase(struct fg_str h, struct fg_str n)
{
	if (n.len == 0)
		return 1;
	if (n.len > h.len)
		return 0;
	const unsigned char *hp = (const unsigned char *)h.p, *np = (const unsigned char *)n.p;
	const unsigned char first = lower(np[0]);
	const size_t last = h.len - n.len;

	for (size_t i = 0; i <= last; i++) {
		if (lower(hp[i]) != first)
			continue;
		size_t j = 1;
		while (j < n.len && lower(hp[i + j]) == lower(np[j]))
			j++;
		if (j == n.len)
			return 1;
	}
	return 0;
}

const struct fg_rule *fg_rules_match_run(const struct fg_rules *rs, uint32_t first,
					 uint32_t count, struct fg_str description, int32_t date)
{
	/* The run is sorted by priority then rule_id: the first match wins. */
	for (uint32_t i = first; i < first + count; i++) {
		const struct fg_rule *r = &rs->v[i];
		if (fg_range_has(r->eff, date) && fg_rules_contains_nocase(description, r->keyword))
			return r;
	}
	return NULL;
}

const struct fg_rule *fg_rules_classify_probe(const struct fg_rules *rs,
					      const struct fg_prefix_probe *pr,
					      struct fg_str description, int32_t date)
{
	uint32_t len;

	for (uint32_t m = fg_prefix_lengths(&rs->ix, pr); m; m &= ~(1u << len)) {
		len = fg_prefix_top(m);
		const struct fg_prefix_slot *s = fg_prefix_index_find_key(&rs->ix, pr->key[len]);
		const struct fg_rule *r;
		if (s && (r = fg_rules_match_run(rs, s->first[0], s->count[0], description, date)))
			return r;
	}
	return NULL;
}

const struct fg_rule *fg_rules_classify(const struct fg_rules *rs, struct fg_str code,
					struct fg_str description, int32_t date)
{
	struct fg_prefix_probe pr;

	fg_prefix_probe_init(&pr, code.p, code.len);
	return fg_rules_classify_probe(rs, &pr, description, date);
}
