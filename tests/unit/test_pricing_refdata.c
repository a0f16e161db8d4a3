/*
 * test_pricing_refdata.c: loading the six reference tables (contract
 * section 2): every refusal names the file, line and column; equal content
 * gives an equal fingerprint and any change a different one; lookups are
 * made as of a date.
 *
 * Each test writes a small table set into its own mkdtemp() directory.
 * Columns in the expected "file:line:col:" strings are counted by hand
 * from the row text; the comment above each shows the count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../core/fg_date.h"
#include "../../pricing/fg_refdata.h"
#include "fg_test_util.h"

struct fixture {
	char *dir;
	struct fg_refdata *rd;
	char err[1024];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx || !(fx->dir = fg_test_mkdtemp()))
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fg_refdata_destroy(fx->rd);
	fg_test_rmdir(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

/* Writes `t` into dir and loads it; fx->rd is the result, fx->err the message. */
static struct fg_refdata *load_set(struct fixture *fx, const char *dir,
				   const struct fg_test_tables *t)
{
	assert_int_equal(fg_test_write_tables(dir, t), 0);
	fx->err[0] = '\0';
	return fg_refdata_load(dir, fx->err, sizeof(fx->err));
}

static void load_ok(struct fixture *fx, const struct fg_test_tables *t)
{
	fg_refdata_destroy(fx->rd);
	fx->rd = load_set(fx, fx->dir, t);
	if (!fx->rd)
		fail_msg("refused: %s", fx->err);
}

/*
 * Replaces one file of fg_test_tables_base with `text`, loads, and expects a refusal
 * whose message has `where` ("file.csv:LINE:COL:") and `why`.
 */
static void expect_refused(struct fixture *fx, const char *file, const char *text,
			   const char *where, const char *why)
{
	struct fg_test_tables t = fg_test_tables_base;
	struct fg_refdata *rd;

	if (strcmp(file, "classification.csv") == 0)
		t.classification = text;
	else if (strcmp(file, "mfn.csv") == 0)
		t.mfn = text;
	else if (strcmp(file, "reference_prices.csv") == 0)
		t.prices = text;
	else if (strcmp(file, "tariff_parameters.csv") == 0)
		t.tariffs = text;
	else if (strcmp(file, "membership.csv") == 0)
		t.membership = text;
	else if (strcmp(file, "fx_rates.csv") == 0)
		t.fx = text;
	else
		fail_msg("unknown table %s", file);
	rd = load_set(fx, fx->dir, &t);
	if (rd) {
		fg_refdata_destroy(rd);
		fail_msg("%s was accepted:\n%s", file, text);
	}
	/* The message starts with the directory and names the file. */
	if (strncmp(fx->err, fx->dir, strlen(fx->dir)) != 0 || !strstr(fx->err, where) ||
	    (why && !strstr(fx->err, why)))
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", fx->err, where, why ? why : "");
}

static int32_t day(const char *s)
{
	int32_t d;

	if (fg_date_parse(s, strlen(s), &d))
		fail_msg("bad date %s in the test", s);
	return d;
}

static uint32_t mineral(const struct fg_refdata *rd, const char *name)
{
	for (uint32_t i = 0; i < rd->n_minerals; i++)
		if (strcmp(rd->minerals[i], name) == 0)
			return i;
	fail_msg("mineral %s not loaded", name);
	return 0;
}

static void assert_dec(struct fg_decimal d, int64_t unscaled, unsigned scale)
{
	assert_int_equal(d.unscaled, unscaled);
	assert_int_equal(d.scale, scale);
}

/* ---- the base set loads ------------------------------------------------ */

static void test_base_set_loads(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, &fg_test_tables_base);
	assert_int_equal(fx->rd->rules.n, 2);
	assert_int_equal(fx->rd->n_mfn, 1);
	assert_int_equal(fx->rd->n_prices, 1);
	assert_int_equal(fx->rd->n_tariffs, 1);
	assert_int_equal(fx->rd->n_members, 1);
	assert_int_equal(fx->rd->n_fx, 1);
	assert_int_equal(strlen(fx->rd->fingerprint), 32);
	assert_int_equal(strspn(fx->rd->fingerprint, "0123456789abcdef"), 32);
}

/* ---- refusals: files and headers --------------------------------------- */

static void test_missing_file(void **state)
{
	struct fixture *fx = *state;
	char path[1024];

	assert_int_equal(fg_test_write_tables(fx->dir, &fg_test_tables_base), 0);
	snprintf(path, sizeof(path), "%s/fx_rates.csv", fx->dir);
	assert_int_equal(unlink(path), 0);
	assert_null(fg_refdata_load(fx->dir, fx->err, sizeof(fx->err)));
	assert_non_null(strstr(fx->err, "fx_rates.csv"));
	assert_non_null(strstr(fx->err, "No such file"));
}

/* A missing directory is named, not its first file. */
static void test_missing_directory(void **state)
{
	struct fixture *fx = *state;
	char path[1024];

	snprintf(path, sizeof(path), "%s/no-such-dir", fx->dir);
	assert_null(fg_refdata_load(path, fx->err, sizeof(fx->err)));
	assert_non_null(strstr(fx->err, "no-such-dir: No such file or directory"));
	assert_null(strstr(fx->err, "classification.csv"));
	assert_int_equal(fg_test_write_tables(fx->dir, &fg_test_tables_base), 0);
	snprintf(path, sizeof(path), "%s/mfn.csv", fx->dir);
	assert_null(fg_refdata_load(path, fx->err, sizeof(fx->err)));
	assert_non_null(strstr(fx->err, "mfn.csv: not a directory"));
}

static void test_empty_file(void **state)
{
	struct fixture *fx = *state;

	expect_refused(fx, "membership.csv", "", "membership.csv:1:1:", "header");
}

static void test_unknown_header_column(void **state)
{
	struct fixture *fx = *state;

	/* hs_prefix, (1) ad_valorem_pct, (11) effective_from, (26) effective_to, (41) extra (54) */
	expect_refused(fx, "mfn.csv",
		       "hs_prefix,ad_valorem_pct,effective_from,effective_to,extra\n28,5,2020-01-01,,\n",
		       "mfn.csv:1:54:", "unknown column \"extra\"");
}

static void test_repeated_header_column(void **state)
{
	struct fixture *fx = *state;

	/* country, (1) treatment, (9) country (19) */
	expect_refused(fx, "membership.csv",
		       "country,treatment,country,agreement,effective_from,effective_to\n",
		       "membership.csv:1:19:", "repeated column \"country\"");
}

static void test_missing_header_column(void **state)
{
	struct fixture *fx = *state;

	expect_refused(fx, "membership.csv",
		       "country,treatment,effective_from,effective_to\nAU,MEMBER,2020-01-01,\n",
		       "membership.csv:1:1:", "missing column \"agreement\"");
}

static void test_columns_in_any_order(void **state)
{
	struct fixture *fx = *state;
	struct fg_test_tables t = fg_test_tables_base;

	t.mfn = "effective_to,ad_valorem_pct,effective_from,hs_prefix\n,5.5,2020-01-01,28\n";
	load_ok(fx, &t);
	const struct fg_mfn *m = fg_refdata_mfn(fx->rd, FG_STR_LIT("2800000000"), day("2021-01-01"));
	assert_non_null(m);
	assert_dec(m->pct, 55, 1);
}

/* ---- refusals: rows ---------------------------------------------------- */

static void test_wrong_field_count(void **state)
{
	struct fixture *fx = *state;

	/*
	 * Line 3 has 7 fields (effective_to and its comma are missing); the
	 * message points at its last field: LI-2,(1) 283691,(6) ,(13) lithium,(14)
	 * REFINED,(22) 10,(30) 2020-01-01 (33).
	 */
	expect_refused(fx, "classification.csv",
		       CLS_HDR "LI-1,283691,,lithium,REFINED,10,2020-01-01,\n"
			       "LI-2,283691,,lithium,REFINED,10,2020-01-01\n",
		       "classification.csv:3:33:", "7 fields");
	/*
	 * Line 3 has 10 fields; the first one beyond the header's 8 is "x":
	 * ... 2020-01-01,(33) (44) x (45), y (47).
	 */
	expect_refused(fx, "classification.csv",
		       CLS_HDR "LI-1,283691,,lithium,REFINED,10,2020-01-01,\n"
			       "LI-2,283691,,lithium,REFINED,10,2020-01-01,,x,y\n",
		       "classification.csv:3:45:", "10 fields");
}

static void test_bad_decimal(void **state)
{
	struct fixture *fx = *state;

	/* 28,(1) 5.x (4) */
	expect_refused(fx, "mfn.csv", MFN_HDR "28,5.x,2020-01-01,\n", "mfn.csv:2:4:",
		       "ad_valorem_pct");
	/* EUR,(1) 2020-01-01,(5) 1e2 (16) */
	expect_refused(fx, "fx_rates.csv", FX_HDR "EUR,2020-01-01,1e2\n", "fx_rates.csv:2:16:",
		       "usd_per_unit");
	/* lithium,(1) REFINED,(9) (17) */
	expect_refused(fx, "reference_prices.csv", PRICE_HDR "lithium,REFINED,,kg,gross,,,2020-01-01,\n",
		       "reference_prices.csv:2:17:", "price_usd");
	/* 19 digits */
	expect_refused(fx, "tariff_parameters.csv",
		       TARIFF_HDR "*,*,NON_MEMBER,0.1234567890123456789,,2020-01-01,\n",
		       "tariff_parameters.csv:2:16:", "gap_share");
}

static void test_negative_value(void **state)
{
	struct fixture *fx = *state;

	/* lithium,(1) REFINED,(9) -10 (17) */
	expect_refused(fx, "reference_prices.csv",
		       PRICE_HDR "lithium,REFINED,-10,kg,gross,,,2020-01-01,\n",
		       "reference_prices.csv:2:17:", "negative");
	/* *,(1) *,(3) NON_MEMBER,(5) -0.5 (16) */
	expect_refused(fx, "tariff_parameters.csv",
		       TARIFF_HDR "*,*,NON_MEMBER,-0.5,,2020-01-01,\n", "tariff_parameters.csv:2:16:",
		       "negative");
	/* ... 0.5,(16) -1 (20) */
	expect_refused(fx, "tariff_parameters.csv",
		       TARIFF_HDR "*,*,NON_MEMBER,0.5,-1,2020-01-01,\n", "tariff_parameters.csv:2:20:",
		       "cap_pct");
	expect_refused(fx, "mfn.csv", MFN_HDR "28,-0.01,2020-01-01,\n", "mfn.csv:2:4:", "negative");
}

static void test_bad_date(void **state)
{
	struct fixture *fx = *state;

	/* AU,(1) MEMBER,(4) zone,(11) 2020-02-30 (16) */
	expect_refused(fx, "membership.csv", MEMBER_HDR "AU,MEMBER,zone,2020-02-30,\n",
		       "membership.csv:2:16:", "effective_from");
	/* ... 2020-01-01,(16) 2021-1-01 (27) */
	expect_refused(fx, "membership.csv", MEMBER_HDR "AU,MEMBER,zone,2020-01-01,2021-1-01\n",
		       "membership.csv:2:27:", "effective_to");
	/* EUR,(1) 01/01/2020 (5) */
	expect_refused(fx, "fx_rates.csv", FX_HDR "EUR,01/01/2020,1.1\n", "fx_rates.csv:2:5:",
		       "date");
	/* an empty effective_from is not "open" */
	expect_refused(fx, "mfn.csv", MFN_HDR "28,5,,\n", "mfn.csv:2:6:", "effective_from");
}

static void test_effective_to_not_after_from(void **state)
{
	struct fixture *fx = *state;

	/* *,(1) *,(3) NON_MEMBER,(5) 0.5,(16) ,(20) 2020-01-01,(21) 2020-01-01 (32) */
	expect_refused(fx, "tariff_parameters.csv",
		       TARIFF_HDR "*,*,NON_MEMBER,0.5,,2020-01-01,2020-01-01\n",
		       "tariff_parameters.csv:2:32:", "effective_to");
	expect_refused(fx, "tariff_parameters.csv",
		       TARIFF_HDR "*,*,NON_MEMBER,0.5,,2020-01-01,2019-12-31\n",
		       "tariff_parameters.csv:2:32:", "effective_to");
	/* one day long is fine */
	struct fg_test_tables t = fg_test_tables_base;
	t.tariffs = TARIFF_HDR "*,*,NON_MEMBER,0.5,,2020-01-01,2020-01-02\n";
	load_ok(fx, &t);
}

static void test_unknown_enums(void **state)
{
	struct fixture *fx = *state;

	/* classification stage: LI-1,(1) 283691,(6) ,(13) lithium,(14) REFINE (22) */
	expect_refused(fx, "classification.csv", CLS_HDR "LI-1,283691,,lithium,REFINE,10,2020-01-01,\n",
		       "classification.csv:2:22:", "\"REFINE\"");
	/* price stage (enums are case-sensitive): lithium,(1) refined (9) */
	expect_refused(fx, "reference_prices.csv",
		       PRICE_HDR "lithium,refined,20,kg,gross,,,2020-01-01,\n",
		       "reference_prices.csv:2:9:", "\"refined\"");
	/* unit: lithium,(1) REFINED,(9) 20,(17) kgs (20) */
	expect_refused(fx, "reference_prices.csv",
		       PRICE_HDR "lithium,REFINED,20,kgs,gross,,,2020-01-01,\n",
		       "reference_prices.csv:2:20:", "\"kgs\"");
	/* basis: ... kg,(20) net (23) */
	expect_refused(fx, "reference_prices.csv",
		       PRICE_HDR "lithium,REFINED,20,kg,net,,,2020-01-01,\n",
		       "reference_prices.csv:2:23:", "\"net\"");
	/* tariff treatment: *,(1) *,(3) OTHER (5) */
	expect_refused(fx, "tariff_parameters.csv", TARIFF_HDR "*,*,OTHER,0.5,,2020-01-01,\n",
		       "tariff_parameters.csv:2:5:", "\"OTHER\"");
	/* tariff stage other than '*': *,(1) ORE (3) */
	expect_refused(fx, "tariff_parameters.csv", TARIFF_HDR "*,ORE,NON_MEMBER,0.5,,2020-01-01,\n",
		       "tariff_parameters.csv:2:3:", "\"ORE\"");
	/* membership lists MEMBER and PARTNER only: CN,(1) NON_MEMBER (4) */
	expect_refused(fx, "membership.csv", MEMBER_HDR "CN,NON_MEMBER,none,2020-01-01,\n",
		       "membership.csv:2:4:", "\"NON_MEMBER\"");
	/* '*' is only a wildcard in tariff_parameters.csv: lithium,(1) * (9) */
	expect_refused(fx, "reference_prices.csv", PRICE_HDR "lithium,*,20,kg,gross,,,2020-01-01,\n",
		       "reference_prices.csv:2:9:", "stage");
}

static void test_other_row_refusals(void **state)
{
	struct fixture *fx = *state;

	/* fx rate of zero: EUR,(1) 2020-01-01,(5) 0 (16) */
	expect_refused(fx, "fx_rates.csv", FX_HDR "EUR,2020-01-01,0\n", "fx_rates.csv:2:16:", "above 0");
	/* currency not three capitals */
	expect_refused(fx, "fx_rates.csv", FX_HDR "Eur,2020-01-01,1\n", "fx_rates.csv:2:1:", "currency");
	/* country not two capitals */
	expect_refused(fx, "membership.csv", MEMBER_HDR "AUS,MEMBER,zone,2020-01-01,\n",
		       "membership.csv:2:1:", "country");
	/* hs_prefix not digits: LI-1,(1) 28.36 (6) */
	expect_refused(fx, "classification.csv", CLS_HDR "LI-1,28.36,,lithium,REFINED,10,2020-01-01,\n",
		       "classification.csv:2:6:", "hs_prefix");
	/* priority not an integer: ... REFINED,(22) 1.5 (30) */
	expect_refused(fx, "classification.csv",
		       CLS_HDR "LI-1,283691,,lithium,REFINED,1.5,2020-01-01,\n",
		       "classification.csv:2:30:", "priority");
	/* a contained price needs its element: ... gross,... here contained,(23) (33) */
	expect_refused(fx, "reference_prices.csv",
		       PRICE_HDR "lithium,REFINED,20,kg,contained,,6,2020-01-01,\n",
		       "reference_prices.csv:2:33:", "content_element");
	/* and a default content in (0, 100]: ... contained,(23) Li,(33) 100.5 (36) */
	expect_refused(fx, "reference_prices.csv",
		       PRICE_HDR "lithium,REFINED,20,kg,contained,Li,100.5,2020-01-01,\n",
		       "reference_prices.csv:2:36:", "default_content_pct");
	expect_refused(fx, "reference_prices.csv",
		       PRICE_HDR "lithium,REFINED,20,kg,contained,Li,0,2020-01-01,\n",
		       "reference_prices.csv:2:36:", "default_content_pct");
	/* a rule_id in force twice on some date (2021-01-01 on) */
	expect_refused(fx, "classification.csv",
		       CLS_HDR "LI-1,283691,,lithium,REFINED,10,2020-01-01,\n"
			       "LI-1,810520,,cobalt,REFINED,10,2021-01-01,\n",
		       "classification.csv:3:1:", "line 2");
	/* a CSV syntax error carries the file name too: 28,(1) then the open quote (4) */
	expect_refused(fx, "mfn.csv", MFN_HDR "28,\"5,2020-01-01,\n", "mfn.csv:2:4:", "not closed");
}

/*
 * A mineral name is used as a C string (reports, the assessment's mineral
 * field with its length kept at load time): a NUL byte inside one is
 * refused, pointing at the field. Row 2: LI-1,(1) 283691,(6) ,(13) lith\0ium (14).
 */
static void test_nul_in_mineral_refused(void **state)
{
	struct fixture *fx = *state;
	static const char row[] = CLS_HDR "LI-1,283691,,lith\0ium,REFINED,10,2020-01-01,\n";
	char path[1024];
	FILE *f;

	assert_int_equal(fg_test_write_tables(fx->dir, &fg_test_tables_base), 0);
	snprintf(path, sizeof(path), "%s/classification.csv", fx->dir);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(row, 1, sizeof(row) - 1, f), sizeof(row) - 1);
	assert_int_equal(fclose(f), 0);
	fx->err[0] = '\0';
	assert_null(fx->rd = fg_refdata_load(fx->dir, fx->err, sizeof(fx->err)));
	if (!strstr(fx->err, "classification.csv:2:14:") || !strstr(fx->err, "NUL"))
		fail_msg("message \"%s\" lacks classification.csv:2:14: or NUL", fx->err);
}

/* ---- refusals: overlapping rows ---------------------------------------- */

static void test_overlap_classification(void **state)
{
	struct fixture *fx = *state;

	/*
	 * Same prefix, same keyword ignoring case, and both effective from
	 * 2023-01-01: line 3 is reported, at its effective_from:
	 * LI-2,(1) 283691,(6) CARBONATE,(13) lithium,(23) REFINED,(31) 20,(39) 2023-01-01 (42)
	 */
	expect_refused(fx, "classification.csv",
		       CLS_HDR "LI-1,283691,carbonate,lithium,REFINED,10,2020-01-01,\n"
			       "LI-2,283691,CARBONATE,lithium,REFINED,20,2023-01-01,\n",
		       "classification.csv:3:42:", "LI-1");
	/* two rules without keyword on the same prefix: LI-2,(1) 283691,(6) ,(13) lithium,(14) ... */
	expect_refused(fx, "classification.csv",
		       CLS_HDR "LI-1,283691,,lithium,REFINED,10,2020-01-01,\n"
			       "LI-2,283691,,cobalt,REFINED,20,2020-01-01,2020-01-02\n",
		       "classification.csv:3:32:", "LI-1");

	/* With the columns in another order the column still is effective_from's: ,(1) 283691,(2) (9) */
	expect_refused(fx, "classification.csv",
		       "keyword,hs_prefix,effective_from,rule_id,mineral,stage,priority,effective_to\n"
		       ",283691,2020-01-01,LI-1,lithium,REFINED,10,\n"
		       ",283691,2021-01-01,LI-2,lithium,REFINED,20,\n",
		       "classification.csv:3:9:", "LI-1");

	/*
	 * A quoted keyword spanning lines: the position is effective_from's
	 * own line (5), not the line the row starts on (4):
	 * B",(1) lithium,(4) REFINED,(12) 20,(20) 2023-01-01 (23)
	 */
	expect_refused(fx, "classification.csv",
		       CLS_HDR "LI-1,283691,\"a\nb\",lithium,REFINED,10,2020-01-01,\n"
			       "LI-2,283691,\"A\nB\",lithium,REFINED,20,2023-01-01,\n",
		       "classification.csv:5:23:", "LI-1");

	/* Not overlaps: different keyword, or back-to-back ranges. */
	struct fg_test_tables t = fg_test_tables_base;
	t.classification = CLS_HDR "LI-1,283691,carbonate,lithium,REFINED,10,2020-01-01,\n"
				   "LI-2,283691,hydroxide,lithium,REFINED,10,2020-01-01,\n"
				   "LI-3,283691,,lithium,REFINED,10,2020-01-01,\n"
				   "LI-4,28369,,lithium,REFINED,10,2020-01-01,\n"
				   "LI-5,283692,carbonate,lithium,REFINED,10,2020-01-01,2023-01-01\n"
				   "LI-6,283692,Carbonate,lithium,REFINED,10,2023-01-01,\n";
	load_ok(fx, &t);
}

/* A rule_id may name successive versions of a rule; each date finds its own. */
static void test_rule_id_reused_for_a_later_version(void **state)
{
	struct fixture *fx = *state;
	struct fg_test_tables t = fg_test_tables_base;
	const struct fg_str code = FG_STR_LIT("2836910000"), text = FG_STR_LIT("carbonate");

	t.classification = CLS_HDR "LI-1,283691,,lithium,REFINED,10,2020-01-01,2023-01-01\n"
				   "LI-1,283691,,lithium,INTERMEDIATE,10,2023-01-01,\n";
	load_ok(fx, &t);
	const struct fg_rule *a = fg_rules_classify(&fx->rd->rules, code, text, day("2022-12-31"));
	const struct fg_rule *b = fg_rules_classify(&fx->rd->rules, code, text, day("2023-01-01"));
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->stage, FG_STAGE_REFINED);
	assert_int_equal(b->stage, FG_STAGE_INTERMEDIATE);
	assert_true(fg_str_eq_cstr(b->rule_id, "LI-1"));
	/* an open range holds every date, the largest an Avro int can carry too */
	assert_ptr_equal(fg_rules_classify(&fx->rd->rules, code, text, INT32_MAX), b);
}

static void test_overlap_mfn(void **state)
{
	struct fixture *fx = *state;

	/* 28,(1) 6,(4) 2021-01-01 (6) */
	expect_refused(fx, "mfn.csv", MFN_HDR "28,5,2020-01-01,\n28,6,2021-01-01,2022-01-01\n",
		       "mfn.csv:3:6:", "line 2");
	/*
	 * Line 4 [2020, 2025) contains line 3 [2023, 2024) though neither
	 * touches line 2 [2010, 2011): the later line (4) is reported.
	 * 28,(1) 5,(4) 2020-01-01 (6)
	 */
	expect_refused(fx, "mfn.csv",
		       MFN_HDR "28,1,2010-01-01,2011-01-01\n28,2,2023-01-01,2024-01-01\n"
			       "28,5,2020-01-01,2025-01-01\n",
		       "mfn.csv:4:6:", "line 3");
	/* A different prefix and back-to-back ranges are fine. */
	struct fg_test_tables t = fg_test_tables_base;
	t.mfn = MFN_HDR "28,5,2020-01-01,2021-01-01\n28,6,2021-01-01,\n2825,7,2020-01-01,\n";
	load_ok(fx, &t);
}

static void test_overlap_prices(void **state)
{
	struct fixture *fx = *state;

	/* lithium,(1) REFINED,(9) 25,(17) kg,(20) gross,(23) ,(29) ,(30) 2024-01-01 (31) */
	expect_refused(fx, "reference_prices.csv",
		       PRICE_HDR "lithium,REFINED,20,kg,gross,,,2020-01-01,\n"
				 "lithium,REFINED,25,kg,gross,,,2024-01-01,\n",
		       "reference_prices.csv:3:31:", "line 2");
	struct fg_test_tables t = fg_test_tables_base;
	t.prices = PRICE_HDR "lithium,REFINED,20,kg,gross,,,2020-01-01,2024-01-01\n"
			     "lithium,REFINED,25,kg,gross,,,2024-01-01,\n"
			     "lithium,INTERMEDIATE,25,kg,gross,,,2020-01-01,\n"
			     "cobalt,REFINED,25,kg,gross,,,2020-01-01,\n";
	load_ok(fx, &t);
}

static void test_overlap_tariffs(void **state)
{
	struct fixture *fx = *state;

	/* *,(1) *,(3) NON_MEMBER,(5) 0.4,(16) ,(20) 2021-06-01 (21) */
	expect_refused(fx, "tariff_parameters.csv",
		       TARIFF_HDR "*,*,NON_MEMBER,0.5,,2020-01-01,\n*,*,NON_MEMBER,0.4,,2021-06-01,\n",
		       "tariff_parameters.csv:3:21:", "line 2");
	/* lithium,(1) *,(9) PARTNER,(11) 0.4,(19) 5,(23) 2020-01-01 (25) */
	expect_refused(fx, "tariff_parameters.csv",
		       TARIFF_HDR "lithium,*,PARTNER,0.5,,2020-01-01,\n"
				  "lithium,*,PARTNER,0.4,5,2020-01-01,\n",
		       "tariff_parameters.csv:3:25:", "line 2");
	/* Different treatment, or a wildcard next to a specific row: not overlaps. */
	struct fg_test_tables t = fg_test_tables_base;
	t.tariffs = TARIFF_HDR "*,*,NON_MEMBER,0.5,,2020-01-01,\n"
			       "*,*,MEMBER,0,,2020-01-01,\n"
			       "lithium,*,NON_MEMBER,0.6,,2020-01-01,\n"
			       "*,REFINED,NON_MEMBER,0.7,,2020-01-01,\n"
			       "lithium,REFINED,NON_MEMBER,0.8,,2020-01-01,\n";
	load_ok(fx, &t);
}

static void test_overlap_membership(void **state)
{
	struct fixture *fx = *state;

	/* A country is MEMBER or PARTNER, never both: AU,(1) PARTNER,(4) fw,(12) 2019-01-01 (15) */
	expect_refused(fx, "membership.csv",
		       MEMBER_HDR "AU,MEMBER,zone,2020-01-01,\nAU,PARTNER,fw,2019-01-01,2020-01-02\n",
		       "membership.csv:3:15:", "line 2");
	/* The agreement spans lines 3-4, so effective_from is on 4: plan",(1) 2019-01-01 (7) */
	expect_refused(fx, "membership.csv",
		       MEMBER_HDR "AU,MEMBER,zone,2020-01-01,\n"
				  "AU,PARTNER,\"fw\nplan\",2019-01-01,2020-01-02\n",
		       "membership.csv:4:7:", "line 2");
	struct fg_test_tables t = fg_test_tables_base;
	t.membership = MEMBER_HDR "AU,MEMBER,zone,2020-01-01,\nAU,PARTNER,fw,2019-01-01,2020-01-01\n"
				  "CA,MEMBER,zone,2020-01-01,\n";
	load_ok(fx, &t);
}

static void test_overlap_fx(void **state)
{
	struct fixture *fx = *state;

	/* Two EUR rates for 2020-01-01, on lines 2 and 4: EUR,(1) 2020-01-01 (5) */
	expect_refused(fx, "fx_rates.csv",
		       FX_HDR "EUR,2020-01-01,1.1\nGBP,2020-01-01,1.3\nEUR,2020-01-01,1.2\n",
		       "fx_rates.csv:4:5:", "line 2");
	struct fg_test_tables t = fg_test_tables_base;
	t.fx = FX_HDR "EUR,2020-01-01,1.1\nGBP,2020-01-01,1.3\nEUR,2020-01-02,1.2\n";
	load_ok(fx, &t);
}

/* ---- fingerprint ------------------------------------------------------- */

static void test_fingerprint_equal_for_equal_content(void **state)
{
	struct fixture *fx = *state;
	char *other = fg_test_mkdtemp();
	struct fg_refdata *b;

	assert_non_null(other);
	load_ok(fx, &fg_test_tables_base);
	b = load_set(fx, other, &fg_test_tables_base);
	assert_non_null(b);
	/* The directory is not part of the fingerprint, only the tables. */
	assert_string_equal(fx->rd->fingerprint, b->fingerprint);
	fg_refdata_destroy(b);
	fg_test_rmdir(other);
	free(other);
}

static void test_fingerprint_changes_with_any_byte(void **state)
{
	struct fixture *fx = *state;
	char text[6][1024];
	const char **slot[6];
	char seen[13][33];
	int n_seen = 0;

	load_ok(fx, &fg_test_tables_base);
	snprintf(seen[n_seen++], 33, "%s", fx->rd->fingerprint);
	for (int file = 0; file < 6; file++) {
		/* Two edits per file: a trailing newline (same rows) and one changed byte. */
		for (int edit = 0; edit < 2; edit++) {
			struct fg_test_tables t = fg_test_tables_base;
			slot[0] = &t.classification;
			slot[1] = &t.mfn;
			slot[2] = &t.prices;
			slot[3] = &t.tariffs;
			slot[4] = &t.membership;
			slot[5] = &t.fx;
			snprintf(text[file], sizeof(text[file]), "%s", *slot[file]);
			if (edit == 0) {
				strcat(text[file], "\n");
			} else {
				/* the last digit of the file's last line, 1 -> 2, 0 -> 1, ... */
				char *p = text[file] + strlen(text[file]);
				while (p > text[file] && (*p < '0' || *p > '8'))
					p--;
				assert_true(p > text[file]);
				(*p)++;
			}
			*slot[file] = text[file];
			load_ok(fx, &t);
			for (int k = 0; k < n_seen; k++)
				if (strcmp(seen[k], fx->rd->fingerprint) == 0)
					fail_msg("file %d edit %d: same fingerprint as set %d", file,
						 edit, k);
			snprintf(seen[n_seen++], 33, "%s", fx->rd->fingerprint);
		}
	}
	/* Writing the first set again gives the first fingerprint back. */
	load_ok(fx, &fg_test_tables_base);
	assert_string_equal(fx->rd->fingerprint, seen[0]);
}

/* ---- lookups ----------------------------------------------------------- */

static void test_mfn_lookup_as_of(void **state)
{
	struct fixture *fx = *state;
	struct fg_test_tables t = fg_test_tables_base;
	const struct fg_mfn *m;

	t.mfn = MFN_HDR "28,5,2020-01-01,\n"
			"2825,7,2020-01-01,2022-01-01\n"
			"2825,8,2022-01-01,\n"
			"282520,0,2023-01-01,\n";
	load_ok(fx, &t);
	struct fg_str code = FG_STR_LIT("2825200000");
	/* effective_to is exclusive: 2021-12-31 still 7 %, 2022-01-01 already 8 % */
	m = fg_refdata_mfn(fx->rd, code, day("2021-12-31"));
	assert_non_null(m);
	assert_dec(m->pct, 7, 0);
	m = fg_refdata_mfn(fx->rd, code, day("2022-01-01"));
	assert_non_null(m);
	assert_dec(m->pct, 8, 0);
	/* effective_from is inclusive: the 6-digit prefix wins from 2023-01-01 */
	m = fg_refdata_mfn(fx->rd, code, day("2022-12-31"));
	assert_dec(m->pct, 8, 0);
	m = fg_refdata_mfn(fx->rd, code, day("2023-01-01"));
	assert_non_null(m);
	assert_int_equal(m->hs_prefix.len, 6);
	assert_dec(m->pct, 0, 0);
	/* only the 2-digit prefix matches 2899... */
	m = fg_refdata_mfn(fx->rd, FG_STR_LIT("2899000000"), day("2023-01-01"));
	assert_non_null(m);
	assert_dec(m->pct, 5, 0);
	/* before every row, and a code no prefix starts */
	assert_null(fg_refdata_mfn(fx->rd, code, day("2019-12-31")));
	assert_null(fg_refdata_mfn(fx->rd, FG_STR_LIT("8105200000"), day("2023-01-01")));
}

static void test_price_lookup_as_of(void **state)
{
	struct fixture *fx = *state;
	struct fg_test_tables t = fg_test_tables_base;
	const struct fg_price *p;

	t.prices = PRICE_HDR "cobalt,REFINED,15,lb,gross,,,2020-06-01,\n"
			     "lithium,REFINED,25.5,t,contained,Li,18.79,2021-01-01,\n"
			     "lithium,REFINED,20,kg,gross,,,2020-01-01,2021-01-01\n"
			     "lithium,ORE_CONCENTRATE,145.83,mtu,contained,Li2O,6,2020-01-01,\n";
	load_ok(fx, &t);
	uint32_t li = mineral(fx->rd, "lithium"), co = mineral(fx->rd, "cobalt");

	p = fg_refdata_price(fx->rd, li, FG_STAGE_REFINED, day("2020-12-31"));
	assert_non_null(p);
	assert_dec(p->price_usd, 20, 0);
	assert_int_equal(p->unit, FG_UNIT_KG);
	assert_int_equal(p->basis, FG_BASIS_GROSS);
	p = fg_refdata_price(fx->rd, li, FG_STAGE_REFINED, day("2021-01-01"));
	assert_non_null(p);
	assert_dec(p->price_usd, 255, 1);
	assert_int_equal(p->unit, FG_UNIT_T);
	assert_int_equal(p->basis, FG_BASIS_CONTAINED);
	assert_true(fg_str_eq_cstr(p->element, "Li"));
	assert_dec(p->default_pct, 1879, 2);
	p = fg_refdata_price(fx->rd, li, FG_STAGE_ORE_CONCENTRATE, day("2021-01-01"));
	assert_non_null(p);
	assert_int_equal(p->unit, FG_UNIT_MTU);
	assert_null(fg_refdata_price(fx->rd, li, FG_STAGE_REFINED, day("2019-12-31")));
	assert_null(fg_refdata_price(fx->rd, li, FG_STAGE_INTERMEDIATE, day("2021-01-01")));
	assert_null(fg_refdata_price(fx->rd, co, FG_STAGE_REFINED, day("2020-05-31")));
	p = fg_refdata_price(fx->rd, co, FG_STAGE_REFINED, day("2020-06-01"));
	assert_non_null(p);
	assert_int_equal(p->unit, FG_UNIT_LB);
}

static void test_treatment_as_of(void **state)
{
	struct fixture *fx = *state;
	struct fg_test_tables t = fg_test_tables_base;

	t.membership = MEMBER_HDR "CA,PARTNER,fw,2021-01-01,2022-01-01\n"
				  "AU,PARTNER,fw,2023-01-01,\n"
				  "AU,MEMBER,zone,2020-01-01,2023-01-01\n"
				  "AA,MEMBER,zone,2020-01-01,\n"
				  "ZZ,PARTNER,fw,2020-01-01,\n";
	load_ok(fx, &t);
	assert_int_equal(fg_refdata_treatment(fx->rd, "AU", day("2019-12-31")), FG_TREAT_NON_MEMBER);
	assert_int_equal(fg_refdata_treatment(fx->rd, "AU", day("2020-01-01")), FG_TREAT_MEMBER);
	assert_int_equal(fg_refdata_treatment(fx->rd, "AU", day("2022-12-31")), FG_TREAT_MEMBER);
	assert_int_equal(fg_refdata_treatment(fx->rd, "AU", day("2023-01-01")), FG_TREAT_PARTNER);
	assert_int_equal(fg_refdata_treatment(fx->rd, "CA", day("2021-06-01")), FG_TREAT_PARTNER);
	assert_int_equal(fg_refdata_treatment(fx->rd, "CA", day("2022-01-01")), FG_TREAT_NON_MEMBER);
	assert_int_equal(fg_refdata_treatment(fx->rd, "CN", day("2021-06-01")), FG_TREAT_NON_MEMBER);
	assert_int_equal(fg_refdata_treatment(fx->rd, "AA", day("2021-06-01")), FG_TREAT_MEMBER);
	assert_int_equal(fg_refdata_treatment(fx->rd, "ZZ", day("2021-06-01")), FG_TREAT_PARTNER);
}

static void test_fx_greatest_date_on_or_before(void **state)
{
	struct fixture *fx = *state;
	struct fg_test_tables t = fg_test_tables_base;
	const struct fg_fx *r;

	t.fx = FX_HDR "EUR,2020-02-01,1.3\n"
		      "EUR,2020-01-01,1.1\n"
		      "GBP,2020-01-01,1.25\n"
		      "EUR,2020-01-05,1.2\n"
		      "ZZZ,2020-01-01,2\n"
		      "AAA,2020-01-01,3\n";
	load_ok(fx, &t);
	static const struct {
		const char *cur, *date;
		int64_t unscaled; /* -1: no rate */
	} cases[] = {
		{ "EUR", "2019-12-31", -1 }, { "EUR", "2020-01-01", 11 }, { "EUR", "2020-01-04", 11 },
		{ "EUR", "2020-01-05", 12 }, { "EUR", "2020-01-31", 12 }, { "EUR", "2020-02-01", 13 },
		{ "EUR", "2030-01-01", 13 }, { "GBP", "2020-01-01", 125 }, { "GBP", "2019-01-01", -1 },
		{ "JPY", "2020-06-01", -1 }, { "ZZZ", "2020-06-01", 2 },  { "AAA", "2020-06-01", 3 },
	};
	for (size_t i = 0; i < FG_ARRAY_LEN(cases); i++) {
		r = fg_refdata_fx(fx->rd, cases[i].cur, day(cases[i].date));
		if (cases[i].unscaled < 0) {
			if (r)
				fail_msg("%s on %s: unexpected rate", cases[i].cur, cases[i].date);
		} else if (!r || r->usd_per_unit.unscaled != cases[i].unscaled) {
			fail_msg("%s on %s: expected %lld", cases[i].cur, cases[i].date,
				 (long long)cases[i].unscaled);
		}
	}
}

static void test_tariff_specificity(void **state)
{
	struct fixture *fx = *state;
	struct fg_test_tables t = fg_test_tables_base;
	const struct fg_tariff *r;

	t.classification = CLS_HDR "LI-1,283691,,lithium,REFINED,10,2020-01-01,\n"
				   "CO-1,810520,,cobalt,REFINED,10,2020-01-01,\n"
				   "NI-1,750210,,nickel,REFINED,10,2020-01-01,\n";
	/* gap shares 0.1 .. 0.4 tell the rows apart; the file order is scrambled on purpose */
	t.tariffs = TARIFF_HDR "*,*,MEMBER,0.4,,2020-01-01,\n"
			       "*,REFINED,MEMBER,0.3,,2020-01-01,\n"
			       "cobalt,REFINED,MEMBER,0.11,,2020-01-01,2021-01-01\n"
			       "lithium,*,MEMBER,0.2,,2020-01-01,\n"
			       "lithium,REFINED,MEMBER,0.1,,2020-01-01,\n"
			       "*,*,PARTNER,0.5,25,2020-01-01,\n";
	load_ok(fx, &t);
	uint32_t li = mineral(fx->rd, "lithium"), co = mineral(fx->rd, "cobalt"),
		 ni = mineral(fx->rd, "nickel");
	int32_t d = day("2020-06-01");

#define GAP(m, s, tr, dd) \
	((r = fg_refdata_tariff(fx->rd, (m), (s), (tr), (dd))) ? r->gap_share.unscaled : -1)
	assert_int_equal(GAP(li, FG_STAGE_REFINED, FG_TREAT_MEMBER, d), 1);      /* (m,s) */
	assert_int_equal(GAP(li, FG_STAGE_INTERMEDIATE, FG_TREAT_MEMBER, d), 2); /* (m,*) */
	assert_int_equal(GAP(ni, FG_STAGE_REFINED, FG_TREAT_MEMBER, d), 3);      /* (*,s) */
	assert_int_equal(GAP(ni, FG_STAGE_INTERMEDIATE, FG_TREAT_MEMBER, d), 4); /* (*,*) */
	assert_int_equal(GAP(co, FG_STAGE_REFINED, FG_TREAT_MEMBER, d), 11);     /* (m,s) 0.11 */
	/* once cobalt's own row ends, (*,s) applies (there is no (cobalt,*)) */
	assert_int_equal(GAP(co, FG_STAGE_REFINED, FG_TREAT_MEMBER, day("2021-01-01")), 3);
	/* the treatment is part of the key: PARTNER has only (*,*), NON_MEMBER nothing */
	assert_int_equal(GAP(li, FG_STAGE_REFINED, FG_TREAT_PARTNER, d), 5);
	assert_true(r->has_cap);
	assert_dec(r->cap_pct, 25, 0);
	assert_int_equal(GAP(li, FG_STAGE_REFINED, FG_TREAT_NON_MEMBER, d), -1);
	assert_int_equal(GAP(li, FG_STAGE_REFINED, FG_TREAT_MEMBER, day("2019-12-31")), -1);
	/* no cap_pct: no cap */
	assert_int_equal(GAP(li, FG_STAGE_REFINED, FG_TREAT_MEMBER, d), 1);
	assert_false(r->has_cap);
#undef GAP
}

/* fg_refdata_tariff()'s fallback by a scan of every row, level by level. */
static const struct fg_tariff *brute_tariff(const struct fg_refdata *rd, uint32_t m,
					    enum fg_stage s, enum fg_treatment tr, int32_t date)
{
	const uint32_t lm[4] = { m, m, FG_REFDATA_ANY, FG_REFDATA_ANY };
	const uint32_t ls[4] = { s, FG_REFDATA_ANY, s, FG_REFDATA_ANY };

	for (int level = 0; level < 4; level++)
		for (size_t i = 0; i < rd->n_tariffs; i++) {
			const struct fg_tariff *t = &rd->tariffs[i];
			if (t->mineral == lm[level] && t->stage == ls[level] && t->treatment == tr &&
			    fg_range_has(t->eff, date))
				return t;
		}
	return NULL;
}

/* The tariff chains made at load give the four-level fallback, for every key and date. */
static void test_tariff_matches_fallback_scan(void **state)
{
	struct fixture *fx = *state;
	struct fg_test_tables t = fg_test_tables_base;
	const char *dates[] = { "2019-12-31", "2020-01-01", "2020-06-01", "2020-12-31",
				"2021-01-01", "2021-06-30", "2021-07-01", "2030-01-01" };
	unsigned found = 0;

	t.classification = CLS_HDR "LI-1,283691,,lithium,REFINED,10,2020-01-01,\n"
				   "CO-1,810520,,cobalt,REFINED,10,2020-01-01,\n"
				   "NI-1,750210,,nickel,ORE_CONCENTRATE,10,2020-01-01,\n";
	t.tariffs = TARIFF_HDR "*,*,MEMBER,0.4,,2020-01-01,2021-07-01\n"
			       "*,REFINED,MEMBER,0.3,,2020-06-01,\n"
			       "cobalt,REFINED,MEMBER,0.11,,2020-01-01,2021-01-01\n"
			       "cobalt,REFINED,MEMBER,0.12,,2021-01-01,2021-07-01\n"
			       "lithium,*,PARTNER,0.2,,2020-01-01,\n"
			       "lithium,REFINED,NON_MEMBER,0.1,5,2021-01-01,\n"
			       "nickel,*,MEMBER,0.25,,2021-01-01,\n"
			       "*,ORE_CONCENTRATE,PARTNER,0.35,,2020-01-01,2021-01-01\n"
			       "*,*,PARTNER,0.5,25,2020-01-01,\n";
	load_ok(fx, &t);
	for (uint32_t m = 0; m < fx->rd->n_minerals; m++)
		for (int st = 0; st < FG_STAGE_COUNT; st++)
			for (int tr = 0; tr < FG_TREAT_COUNT; tr++)
				for (size_t di = 0; di < sizeof(dates) / sizeof(dates[0]); di++) {
					int32_t d = day(dates[di]);
					const struct fg_tariff *want = brute_tariff(
						fx->rd, m, (enum fg_stage)st, (enum fg_treatment)tr, d);
					assert_ptr_equal(fg_refdata_tariff(fx->rd, m, (enum fg_stage)st,
									   (enum fg_treatment)tr, d),
							 want);
					found += want != NULL;
				}
	assert_true(found > 50);
}

/* The longest-prefix answer by brute force over every row, for the index to match. */
static const struct fg_rule *brute_rule(const struct fg_refdata *rd, struct fg_str code,
					struct fg_str desc, int32_t date)
{
	const struct fg_rule *best = NULL;

	for (size_t i = 0; i < rd->rules.n; i++) {
		const struct fg_rule *r = &rd->rules.v[i];
		if (r->hs_prefix.len > code.len || memcmp(r->hs_prefix.p, code.p, r->hs_prefix.len) ||
		    !fg_range_has(r->eff, date) || !fg_rules_contains_nocase(desc, r->keyword))
			continue;
		if (!best || r->hs_prefix.len > best->hs_prefix.len ||
		    (r->hs_prefix.len == best->hs_prefix.len &&
		     (r->priority < best->priority ||
		      (r->priority == best->priority && fg_str_cmp(r->rule_id, best->rule_id) < 0))))
			best = r;
	}
	return best;
}

static const struct fg_mfn *brute_mfn(const struct fg_refdata *rd, struct fg_str code,
				      int32_t date)
{
	const struct fg_mfn *best = NULL;

	for (size_t i = 0; i < rd->n_mfn; i++) {
		const struct fg_mfn *m = &rd->mfn[i];
		if (m->hs_prefix.len <= code.len && !memcmp(m->hs_prefix.p, code.p, m->hs_prefix.len) &&
		    fg_range_has(m->eff, date) && (!best || m->hs_prefix.len > best->hs_prefix.len))
			best = m;
	}
	return best;
}

/* The shared prefix index gives what a scan of every row gives, for the shipped tables. */
static void test_line_lookup_matches_brute_force(void **state)
{
	struct fixture *fx = *state;
	struct fg_refdata *rd = fg_refdata_load("data", fx->err, sizeof(fx->err));
	const char *descs[] = { "", "Spodumene concentrate", "PETALITE ore", "cobalt hydroxide",
				"synthetic graphite", "x" };
	const int32_t dates[] = { day("2019-06-01"), day("2025-01-01"), day("2026-11-26") };
	uint64_t seed = 1;
	unsigned checked = 0;

	if (!rd)
		fail_msg("data/ refused: %s", fx->err);
	for (size_t i = 0; i < rd->rules.n + rd->n_mfn; i++) {
		struct fg_str pre = i < rd->rules.n ? rd->rules.v[i].hs_prefix
						    : rd->mfn[i - rd->rules.n].hs_prefix;
		for (int k = 0; k < 8; k++) {
			char code[11];
			size_t len = 6 + (size_t)(k % 5);
			if (len < pre.len)
				len = pre.len;
			memcpy(code, pre.p, pre.len);
			for (size_t j = pre.len; j < len; j++) {
				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				code[j] = (char)('0' + (seed >> 33) % 10);
			}
			struct fg_str c = fg_str_make(code, len);
			struct fg_prefix_probe pr;
			fg_prefix_probe_init(&pr, code, len);
			for (size_t di = 0; di < sizeof(descs) / sizeof(descs[0]); di++)
				for (size_t ti = 0; ti < sizeof(dates) / sizeof(dates[0]); ti++) {
					struct fg_str d = fg_str_make(descs[di], strlen(descs[di]));
					const struct fg_rule *r;
					const struct fg_mfn *m;
					fg_refdata_line_lookup(rd, &pr, d, dates[ti], &r, &m);
					assert_ptr_equal(r, brute_rule(rd, c, d, dates[ti]));
					assert_ptr_equal(m, brute_mfn(rd, c, dates[ti]));
					assert_ptr_equal(r, fg_rules_classify(&rd->rules, c, d, dates[ti]));
					assert_ptr_equal(m, fg_refdata_mfn(rd, c, dates[ti]));
					checked++;
				}
		}
	}
	assert_true(checked > 1000);
	fg_refdata_destroy(rd);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_base_set_loads),
		T(test_missing_file),
		T(test_missing_directory),
		T(test_empty_file),
		T(test_unknown_header_column),
		T(test_repeated_header_column),
		T(test_missing_header_column),
		T(test_columns_in_any_order),
		T(test_wrong_field_count),
		T(test_bad_decimal),
		T(test_negative_value),
		T(test_bad_date),
		T(test_effective_to_not_after_from),
		T(test_unknown_enums),
		T(test_other_row_refusals),
		T(test_nul_in_mineral_refused),
		T(test_overlap_classification),
		T(test_overlap_mfn),
		T(test_rule_id_reused_for_a_later_version),
		T(test_overlap_prices),
		T(test_overlap_tariffs),
		T(test_overlap_membership),
		T(test_overlap_fx),
		T(test_fingerprint_equal_for_equal_content),
		T(test_fingerprint_changes_with_any_byte),
		T(test_mfn_lookup_as_of),
		T(test_price_lookup_as_of),
		T(test_treatment_as_of),
		T(test_fx_greatest_date_on_or_before),
		T(test_tariff_specificity),
		T(test_line_lookup_matches_brute_force),
		T(test_tariff_matches_fallback_scan),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
