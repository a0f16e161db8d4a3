/*
 * test_rules_classify.c: contract section 4, step 3. Among rules effective
 * on the acceptance date whose hs_prefix starts the commodity code and
 * whose keyword (if any) occurs in the description ignoring ASCII case:
 * longest prefix, then lowest priority, then lowest rule_id in byte order.
 *
 * Rules are built in memory (no CSV) so each test states exactly the rule
 * set it reasons about.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../core/fg_date.h"
#include "../../rules/fg_rules.h"
#include "fg_test_util.h"

#define MAX_RULES 16

struct set {
	struct fg_rule v[MAX_RULES];
	struct fg_rules rs;
};

static int32_t day(const char *s)
{
	int32_t d;

	if (fg_date_parse(s, strlen(s), &d))
		fail_msg("bad date %s in the test", s);
	return d;
}

/* from/to: "" for open; stage is fixed, the tests look at rule ids. */
static void add(struct set *s, const char *id, const char *prefix, const char *keyword,
		int64_t priority, const char *from, const char *to)
{
	struct fg_rule *r = &s->v[s->rs.n++];

	assert_true(s->rs.n <= MAX_RULES);
	memset(r, 0, sizeof(*r));
	r->rule_id = fg_str_make(id, strlen(id));
	r->hs_prefix = fg_str_make(prefix, strlen(prefix));
	r->keyword = fg_str_make(keyword, strlen(keyword));
	r->stage = FG_STAGE_REFINED;
	r->priority = priority;
	r->eff.from = *from ? day(from) : INT32_MIN;
	r->eff.last = *to ? day(to) - 1 : FG_DATE_OPEN;
}

static void build(struct set *s)
{
	s->rs.v = s->v;
	assert_int_equal(fg_rules_build(&s->rs), 0);
}

static const char *classify(const struct set *s, const char *code, const char *desc,
			    const char *date)
{
	static char id[64];
	const struct fg_rule *r = fg_rules_classify(&s->rs, fg_str_make(code, strlen(code)),
						    fg_str_make(desc, strlen(desc)), day(date));
	if (!r)
		return "(none)";
	snprintf(id, sizeof(id), "%.*s", (int)r->rule_id.len, r->rule_id.p);
	return id;
}

#define D "2024-06-01"

static void test_longest_prefix_beats_priority(void **state)
{
	struct set s = { 0 };

	(void)state;
	add(&s, "SHORT", "28", "", 1, "", "");
	add(&s, "MID", "2825", "", 50, "", "");
	add(&s, "LONG", "282520", "", 99, "", "");
	build(&s);
	assert_string_equal(classify(&s, "2825200000", "x", D), "LONG");
	assert_string_equal(classify(&s, "2825900000", "x", D), "MID");
	assert_string_equal(classify(&s, "2899000000", "x", D), "SHORT");
	/* A prefix as long as the code itself matches. */
	struct set t = { 0 };
	add(&t, "SIX", "282520", "", 5, "", "");
	add(&t, "TEN", "2825200010", "", 9, "", "");
	build(&t);
	assert_string_equal(classify(&t, "2825200010", "x", D), "TEN");
	assert_string_equal(classify(&t, "282520", "x", D), "SIX");
	fg_rules_fini(&s.rs);
	fg_rules_fini(&t.rs);
}

static void test_priority_then_rule_id_byte_order(void **state)
{
	struct set s = { 0 };

	(void)state;
	/* Same prefix: the lowest priority wins even against an earlier rule_id. */
	add(&s, "Z", "8105", "", 1, "", "");
	add(&s, "A", "8105", "", 2, "", "");
	build(&s);
	assert_string_equal(classify(&s, "81052000", "x", D), "Z");
	fg_rules_fini(&s.rs);

	/* Equal priority: byte order, so "A-10" < "A-9" ('1' < '9'). */
	struct set t = { 0 };
	add(&t, "A-9", "8105", "", 5, "", "");
	add(&t, "A-10", "8105", "", 5, "", "");
	build(&t);
	assert_string_equal(classify(&t, "81052000", "x", D), "A-10");
	fg_rules_fini(&t.rs);

	/* Byte order, not case-folded: "B" (0x42) < "a" (0x61). */
	struct set u = { 0 };
	add(&u, "a", "8105", "", 5, "", "");
	add(&u, "B", "8105", "", 5, "", "");
	build(&u);
	assert_string_equal(classify(&u, "81052000", "x", D), "B");
	fg_rules_fini(&u.rs);

	/* A shorter id that is a prefix of another sorts first: "R" < "R1". */
	struct set v = { 0 };
	add(&v, "R1", "8105", "", 5, "", "");
	add(&v, "R", "8105", "", 5, "", "");
	build(&v);
	assert_string_equal(classify(&v, "81052000", "x", D), "R");
	fg_rules_fini(&v.rs);

	/* Negative priorities are lower than zero. */
	struct set w = { 0 };
	add(&w, "ZERO", "8105", "", 0, "", "");
	add(&w, "NEG", "8105", "", -3, "", "");
	build(&w);
	assert_string_equal(classify(&w, "81052000", "x", D), "NEG");
	fg_rules_fini(&w.rs);
}

static void test_keyword_ascii_case_insensitive(void **state)
{
	struct set s = { 0 };

	(void)state;
	add(&s, "SPOD", "253090", "Spodumene", 10, "", "");
	add(&s, "OXIDE", "253090", "li2o", 20, "", "");
	build(&s);
	assert_string_equal(classify(&s, "2530900000", "SPODUMENE CONCENTRATE SC6", D), "SPOD");
	assert_string_equal(classify(&s, "2530900000", "crushed spodumene", D), "SPOD");
	assert_string_equal(classify(&s, "2530900000", "ore, 6% Li2O", D), "OXIDE");
	/* The keyword may be anywhere, including the very end and the whole description. */
	assert_string_equal(classify(&s, "2530900000", "xxLI2O", D), "OXIDE");
	assert_string_equal(classify(&s, "2530900000", "li2o", D), "OXIDE");
	/* A partial keyword is not a match. */
	assert_string_equal(classify(&s, "2530900000", "spodumen", D), "(none)");
	fg_rules_fini(&s.rs);

	/* Only ASCII letters fold: "É" (c3 89) does not match "é" (c3 a9). */
	struct set t = { 0 };
	add(&t, "E", "2530", "\xc3\xa9", 1, "", "");
	build(&t);
	assert_string_equal(classify(&t, "253090", "caf\xc3\x89", D), "(none)");
	assert_string_equal(classify(&t, "253090", "caf\xc3\xa9", D), "E");
	fg_rules_fini(&t.rs);

	assert_true(fg_rules_contains_nocase(FG_STR_LIT("Cobalt Hydroxide"), FG_STR_LIT("HYDROX")));
	assert_false(fg_rules_contains_nocase(FG_STR_LIT("Co"), FG_STR_LIT("cobalt")));
	/* '@' (0x40) and '`' (0x60) are not letters: they must not fold to each other. */
	assert_false(fg_rules_contains_nocase(FG_STR_LIT("@"), FG_STR_LIT("`")));
	assert_false(fg_rules_contains_nocase(FG_STR_LIT("["), FG_STR_LIT("{")));
}

static void test_keyword_miss_falls_back_to_shorter_prefix(void **state)
{
	struct set s = { 0 };

	(void)state;
	add(&s, "COBALT-HYD", "282200", "hydroxide", 1, "", "");
	add(&s, "COBALT-ANY", "2822", "", 50, "", "");
	add(&s, "CHEM", "28", "", 90, "", "");
	build(&s);
	assert_string_equal(classify(&s, "2822000010", "Cobalt hydroxide", D), "COBALT-HYD");
	assert_string_equal(classify(&s, "2822000010", "Cobalt oxide", D), "COBALT-ANY");
	fg_rules_fini(&s.rs);

	/* A matching keyword does not make a rule more specific: within one prefix, priority decides. */
	struct set t = { 0 };
	add(&t, "GENERIC", "2836", "", 10, "", "");
	add(&t, "CARB", "2836", "carbonate", 20, "", "");
	add(&t, "OTHER", "2", "carbonate", 1, "", "");
	build(&t);
	assert_string_equal(classify(&t, "28369100", "lithium carbonate", D), "GENERIC");
	fg_rules_fini(&t.rs);

	struct set u = { 0 };
	add(&u, "CARB", "2836", "carbonate", 10, "", "");
	add(&u, "FALLBACK", "28", "", 1, "", "");
	build(&u);
	assert_string_equal(classify(&u, "28369100", "lithium carbonate", D), "CARB");
	assert_string_equal(classify(&u, "28369100", "lithium hydroxide", D), "FALLBACK");
	fg_rules_fini(&u.rs);
}

static void test_effective_dates(void **state)
{
	struct set s = { 0 };

	(void)state;
	add(&s, "OLD", "2825", "", 1, "2020-01-01", "2024-01-01");
	add(&s, "NEW", "2825", "", 1, "2024-01-01", "");
	add(&s, "BASE", "28", "", 1, "2019-01-01", "");
	build(&s);
	/* effective_from is inclusive, effective_to exclusive */
	assert_string_equal(classify(&s, "28252000", "x", "2020-01-01"), "OLD");
	assert_string_equal(classify(&s, "28252000", "x", "2023-12-31"), "OLD");
	assert_string_equal(classify(&s, "28252000", "x", "2024-01-01"), "NEW");
	assert_string_equal(classify(&s, "28252000", "x", "2099-12-31"), "NEW");
	/* before any 2825 rule: the shorter prefix */
	assert_string_equal(classify(&s, "28252000", "x", "2019-12-31"), "BASE");
	/* before everything */
	assert_string_equal(classify(&s, "28252000", "x", "2018-12-31"), "(none)");
	fg_rules_fini(&s.rs);
}

static void test_no_candidate(void **state)
{
	struct set s = { 0 };

	(void)state;
	add(&s, "R", "2825", "", 1, "", "");
	build(&s);
	assert_string_equal(classify(&s, "81052000", "x", D), "(none)");
	/* The prefix must start the code, not just occur in it. */
	assert_string_equal(classify(&s, "1282500000", "x", D), "(none)");
	/* A code shorter than the prefix cannot match it. */
	assert_string_equal(classify(&s, "282", "x", D), "(none)");
	fg_rules_fini(&s.rs);

	struct set empty = { 0 };
	build(&empty);
	assert_string_equal(classify(&empty, "2825200000", "x", D), "(none)");
	fg_rules_fini(&empty.rs);
}

static void test_many_rules_same_prefix_and_many_prefixes(void **state)
{
	static char ids[MAX_RULES][8], prefixes[MAX_RULES][12];
	struct set s = { 0 };

	(void)state;
	/* Prefixes 2, 28, 282, ..., 2825200010 (lengths 1..10), priorities reversed. */
	const char *code = "2825200010";
	for (int len = 1; len <= 10; len++) {
		snprintf(ids[len], sizeof(ids[len]), "L%02d", len);
		snprintf(prefixes[len], sizeof(prefixes[len]), "%.*s", len, code);
		add(&s, ids[len], prefixes[len], len % 2 ? "" : "even", 100 - len, "", "");
	}
	build(&s);
	/* Even lengths need the keyword "even": without it the longest odd length (9) wins. */
	assert_string_equal(classify(&s, code, "EVEN", D), "L10");
	assert_string_equal(classify(&s, code, "odd", D), "L09");
	/* 2825209999 shares only its first 6 digits with the prefixes. */
	assert_string_equal(classify(&s, "2825209999", "odd", D), "L05");
	assert_string_equal(classify(&s, "2825209999", "even", D), "L06");
	fg_rules_fini(&s.rs);
}

/*
 * The keyword matcher (descriptions lower-cased once, 16 starts per step)
 * against the plain byte-by-byte scan, on random texts from a small alphabet
 * of letters, their other cases, the non-letters next to them, NUL and
 * bytes above 0x7f: lengths around every 16-byte step and past the longest
 * description that is lower-cased into a buffer.
 */
static void test_keyword_match_agrees_with_plain_scan(void **state)
{
	static const char alphabet[] = { 'a', 'A', 'b', 'B', 'z', 'Z', '@', '`', '[', '{',
					  '\0', (char)0x80, (char)0xc1, (char)0xe1 };
	static char kw[8], text[300];
	uint64_t x = 0x243f6a8885a308d3ull;
	int matches = 0;

	(void)state;
	for (int round = 0; round < 4000; round++) {
		struct set s = { 0 };
		size_t kn, tn;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		kn = 1 + x % 6;
		tn = round % 8 == 7 ? 250 + (x >> 8) % 50 : (x >> 8) % 40;
		for (size_t i = 0; i < kn + tn; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			char c = alphabet[(x >> 20) % sizeof(alphabet)];
			if (i < kn)
				kw[i] = c;
			else
				text[i - kn] = c;
		}
		add(&s, "K", "2825", "", 1, "", "");
		s.v[0].keyword = fg_str_make(kw, kn); /* may hold NUL bytes */
		build(&s);
		struct fg_str t = fg_str_make(text, tn);
		int want = fg_rules_contains_nocase(t, fg_str_make(kw, kn));
		const struct fg_rule *r = fg_rules_classify(&s.rs, FG_STR_LIT("2825000000"), t, day(D));
		if ((r != NULL) != want)
			fail_msg("keyword of %zu bytes in a text of %zu bytes: got %d, want %d", kn,
				 tn, r != NULL, want);
		matches += want;
		fg_rules_fini(&s.rs);
	}
	assert_true(matches > 200); /* the alphabet is small enough for both outcomes */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_longest_prefix_beats_priority),
		cmocka_unit_test(test_priority_then_rule_id_byte_order),
		cmocka_unit_test(test_keyword_ascii_case_insensitive),
		cmocka_unit_test(test_keyword_miss_falls_back_to_shorter_prefix),
		cmocka_unit_test(test_effective_dates),
		cmocka_unit_test(test_no_candidate),
		cmocka_unit_test(test_many_rules_same_prefix_and_many_prefixes),
		cmocka_unit_test(test_keyword_match_agrees_with_plain_scan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
