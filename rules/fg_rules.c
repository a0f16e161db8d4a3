#include "fg_rules.h"

#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

static inline unsigned char lower(unsigned char c)
{
	return (unsigned char)(c | ((unsigned)(c - 'A') < 26u ? 0x20 : 0));
}

/* Lower-cases every keyword once here rather than on each test of a line. */
static int lower_keywords(struct fg_rules *rs)
{
	size_t total = 1;
	char *p;

	for (size_t i = 0; i < rs->n; i++)
		total += rs->v[i].keyword.len;
	free(rs->keyword_lc);
	rs->keyword_lc = p = malloc(total);
	if (!p)
		return -1;
	for (size_t i = 0; i < rs->n; i++) {
		struct fg_rule *r = &rs->v[i];
		for (size_t k = 0; k < r->keyword.len; k++)
			p[k] = (char)lower((unsigned char)r->keyword.p[k]);
		r->keyword_lc = fg_str_make(p, r->keyword.len);
		p += r->keyword.len;
	}
	return 0;
}

int fg_rules_build(struct fg_rules *rs)
{
	struct fg_str *prefixes;
	int rc;

	if (rs->n)
		qsort(rs->v, rs->n, sizeof(*rs->v), rule_cmp);
	if (lower_keywords(rs))
		return -1;
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
	free(rs->keyword_lc);
	rs->keyword_lc = NULL;
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

/* Lower-cases t->s into t->buf and zeroes the 32 bytes after it. */
static void text_prepare(struct fg_rules_text *t)
{
	size_t len = t->s.len;

	if (len > FG_RULES_TEXT_MAX) {
		t->state = 2;
		return;
	}
#ifdef __SSE2__
	/* x - ('A' + 128) as a signed byte is below -128 + 26 exactly for 'A'..'Z' */
	const __m128i shift = _mm_set1_epi8((char)('A' + 128));
	const __m128i limit = _mm_set1_epi8((char)(-128 + 26));
	const __m128i bit = _mm_set1_epi8(0x20);
	const unsigned char *src = (const unsigned char *)t->s.p;
#define FG_LOWER16(x) \
	_mm_or_si128((x), _mm_and_si128(_mm_cmpgt_epi8(limit, _mm_sub_epi8((x), shift)), bit))
	if (len >= 16) {
		/* Copy and fold 16 bytes at a time, loading only inside the text:
		 * the last block overlaps the one before it. */
		size_t i;
		for (i = 0; i + 16 <= len; i += 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(src + i));
			_mm_store_si128((__m128i *)(t->buf + i), FG_LOWER16(x));
		}
		if (i < len) {
			__m128i x = _mm_loadu_si128((const __m128i *)(src + len - 16));
			_mm_storeu_si128((__m128i *)(t->buf + len - 16), FG_LOWER16(x));
		}
	} else {
		_mm_store_si128((__m128i *)t->buf, _mm_setzero_si128());
		if (len)
			memcpy(t->buf, src, len);
		__m128i x = _mm_load_si128((const __m128i *)t->buf);
		_mm_store_si128((__m128i *)t->buf, FG_LOWER16(x));
	}
#undef FG_LOWER16
	_mm_storeu_si128((__m128i *)(t->buf + len), _mm_setzero_si128());
	_mm_storeu_si128((__m128i *)(t->buf + len + 16), _mm_setzero_si128());
#else
	if (len)
		memcpy(t->buf, t->s.p, len);
	memset(t->buf + len, 0, 32);
	for (size_t i = 0; i < len; i++)
		t->buf[i] = lower(t->buf[i]);
#endif
	t->state = 1;
}

/* Whether the description contains keyword n (lower-cased, not empty), ignoring ASCII case. */
static int text_contains(struct fg_rules_text *t, struct fg_str n)
{
	if (t->state == 0)
		text_prepare(t);
	if (t->state == 2)
		return fg_rules_contains_nocase(t->s, n);
	if (n.len > t->s.len)
		return 0;

	const unsigned char *h = t->buf, *np = (const unsigned char *)n.p;
	const size_t last = t->s.len - n.len; /* the last start that fits */
#ifdef __SSE2__
	/* 16 starts at a time: candidates are where the first and the last byte
	 * of the keyword both match; the bytes between are then compared. Loads
	 * reach at most 15 bytes past the text, into buf's zero padding. */
	const __m128i f = _mm_set1_epi8((char)np[0]), l = _mm_set1_epi8((char)np[n.len - 1]);
	for (size_t i = 0; i <= last; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(h + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(h + i + n.len - 1));
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_and_si128(_mm_cmpeq_epi8(a, f), _mm_cmpeq_epi8(b, l)));
		if (last - i < 15)
			m &= (2u << (last - i)) - 1;
		while (m) {
			const unsigned char *c = h + i + (unsigned)__builtin_ctz(m);
			size_t j = 1;
			while (j + 1 < n.len && c[j] == np[j])
				j++;
			if (j + 1 >= n.len)
				return 1;
			m &= m - 1;
		}
	}
	return 0;
#else
	for (size_t i = 0; i <= last; i++) {
		size_t j = 0;
		while (j < n.len && h[i + j] == np[j])
			j++;
		if (j == n.len)
			return 1;
	}
	return 0;
#endif
}

const struct fg_rule *fg_rules_match_run_text(const struct fg_rules *rs, uint32_t first,
					      uint32_t count, struct fg_rules_text *t,
					      int32_t date)
{
	/* The run is sorted by priority then rule_id: the first match wins. */
	for (uint32_t i = first; i < first + count; i++) {
		const struct fg_rule *r = &rs->v[i];
		if (fg_range_has(r->eff, date) &&
		    (r->keyword_lc.len == 0 || text_contains(t, r->keyword_lc)))
			return r;
	}
	return NULL;
}

const struct fg_rule *fg_rules_match_run(const struct fg_rules *rs, uint32_t first,
					 uint32_t count, struct fg_str description, int32_t date)
{
	struct fg_rules_text t;

	fg_rules_text_init(&t, description);
	return fg_rules_match_run_text(rs, first, count, &t, date);
}

const struct fg_rule *fg_rules_classify_probe(const struct fg_rules *rs,
					      const struct fg_prefix_probe *pr,
					      struct fg_str description, int32_t date)
{
	struct fg_rules_text t;
	uint32_t len;

	fg_rules_text_init(&t, description);
	for (uint32_t m = fg_prefix_lengths(&rs->ix, pr); m; m &= ~(1u << len)) {
		len = fg_prefix_top(m);
		const struct fg_prefix_slot *s = fg_prefix_index_find_key(&rs->ix, pr->key[len]);
		const struct fg_rule *r;
		if (s && (r = fg_rules_match_run_text(rs, s->first[0], s->count[0], &t, date)))
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
