/*
 * fg_rules.h: classification of a goods line into mineral and stage.
 *
 * A rule matches a line when it is effective on the acceptance date, its
 * hs_prefix is a prefix of the commodity code and its keyword (if any)
 * occurs in the description, ignoring ASCII case. Among matches the
 * longest prefix wins, then the lowest priority, then the lowest rule_id
 * in byte order (contract section 4, step 3).
 */
#ifndef FG_RULES_H
#define FG_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "../core/fg_common.h"
#include "fg_prefix_index.h"

enum fg_stage {
	FG_STAGE_ORE_CONCENTRATE,
	FG_STAGE_INTERMEDIATE,
	FG_STAGE_REFINED,
	FG_STAGE_SEMI_FINISHED,
	FG_STAGE_COUNT
};

extern const char *const fg_stage_names[FG_STAGE_COUNT];

/*
 * Effective range: a table's [effective_from, effective_to) kept as the days
 * [from, last], last = effective_to - 1, or FG_DATE_OPEN when effective_to is
 * empty. Inclusive, so that an open range holds every date, INT32_MAX (the
 * largest acceptance_date an Avro int can carry) included.
 */
#define FG_DATE_OPEN INT32_MAX
struct fg_range {
	int32_t from, last;
};

static inline int fg_range_has(struct fg_range r, int32_t d)
{
	return r.from <= d && d <= r.last;
}

static inline int fg_range_overlap(struct fg_range a, struct fg_range b)
{
	return a.from <= b.last && b.from <= a.last;
}

struct fg_rule {
	struct fg_str rule_id;
	struct fg_str hs_prefix;
	struct fg_str keyword; /* len 0: no keyword condition */
	struct fg_str keyword_lc; /* keyword with A-Z lower-cased, made by fg_rules_build() */
	uint32_t mineral;      /* index into the reference data's mineral names */
	enum fg_stage stage;
	int64_t priority;
	struct fg_range eff;
	unsigned line, eff_col; /* line and effective_from column in classification.csv */
};

struct fg_rules {
	struct fg_rule *v; /* sorted by (hs_prefix, priority, rule_id) */
	size_t n;
	struct fg_prefix_index ix;
	char *keyword_lc; /* the rules' keyword_lc bytes, owned */
};

/*
 * A description prepared for several keyword tests (a run of rules, and the
 * runs of shorter prefixes): lower-cased once, on the first test that needs
 * it, into buf, zero-padded so the matcher can load 16 bytes past any start.
 * Longer descriptions are tested in place. Lives on the caller's stack.
 */
#define FG_RULES_TEXT_MAX 256
struct fg_rules_text {
	struct fg_str s;
	int state; /* 0: not prepared, 1: buf holds s lower-cased, 2: too long for buf */
	unsigned char buf[FG_RULES_TEXT_MAX + 32] __attribute__((aligned(16)));
};

static inline void fg_rules_text_init(struct fg_rules_text *t, struct fg_str description)
{
	t->s = description;
	t->state = 0;
}

/* Sorts the rules and builds the prefix index. Returns 0 or -1. */
int fg_rules_build(struct fg_rules *rs);
void fg_rules_fini(struct fg_rules *rs);

/* The winning rule for a line, or NULL when the line is not in scope. */
const struct fg_rule *fg_rules_classify(const struct fg_rules *rs, struct fg_str code,
					struct fg_str description, int32_t date);
/* The same, with the code's prefix keys already made (shared with the MFN lookup). */
const struct fg_rule *fg_rules_classify_probe(const struct fg_rules *rs,
					      const struct fg_prefix_probe *pr,
					      struct fg_str description, int32_t date);

/* The first rule of a prefix's run [first, first+count) in force on date whose keyword
 * the description contains, or NULL. */
const struct fg_rule *fg_rules_match_run(const struct fg_rules *rs, uint32_t first,
					 uint32_t count, struct fg_str description, int32_t date);
/* The same with a prepared description (fg_rules_text_init), for several runs of one line. */
const struct fg_rule *fg_rules_match_run_text(const struct fg_rules *rs, uint32_t first,
					      uint32_t count, struct fg_rules_text *t,
					      int32_t date);

/* ASCII case-insensitive substring test (keyword conditions). */
int fg_rules_contains_nocase(struct fg_str haystack, struct fg_str needle);

#endif
