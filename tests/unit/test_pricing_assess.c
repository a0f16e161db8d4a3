/*
 * test_pricing_assess.c: validation (contract section 3) and per-line duty
 * (section 4) on declarations built in memory, against a small table set
 * written to a temporary directory.
 *
 * Every expected amount is in cents and was worked out from the contract:
 * the short ones by hand in the comment next to them, the long ones with
 * Python's fractions module (exact rationals, round2 = ties away from
 * zero), with the derivation in the comment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../core/fg_date.h"
#include "../../pricing/fg_assess.h"
#include "fg_test_util.h"

static const struct fg_test_tables tables = {
	.classification = CLS_HDR "LI-REF,283691,,lithium,REFINED,10,2020-01-01,\n"
				  "LI-SPOD,253090,spodumene,lithium,ORE_CONCENTRATE,10,2020-01-01,\n"
				  "CO-REF,810520,,cobalt,REFINED,10,2020-01-01,\n"
				  "W-ORE,261100,,tungsten,ORE_CONCENTRATE,10,2020-01-01,\n"
				  "NI-REF,750210,,nickel,REFINED,10,2020-01-01,\n"
				  "ND-MAG,850511,,neodymium,SEMI_FINISHED,10,2020-01-01,\n",
	/* 28 2 %, 2836 3.5 % (the longer prefix wins for 283691), 7502 1.5 %, 8505 2.7 % */
	.mfn = MFN_HDR "28,2,2020-01-01,\n"
		       "2836,3.5,2020-01-01,\n"
		       "7502,1.5,2020-01-01,\n"
		       "8505,2.7,2020-01-01,\n",
	.prices = PRICE_HDR "lithium,REFINED,20,kg,gross,,,2020-01-01,\n"
			    "lithium,ORE_CONCENTRATE,1500,t,contained,Li2O,6,2020-01-01,\n"
			    "cobalt,REFINED,15,lb,gross,,,2020-01-01,\n"
			    "tungsten,ORE_CONCENTRATE,300,mtu,contained,WO3,65,2020-01-01,\n"
			    "neodymium,SEMI_FINISHED,123456.789012,lb,contained,Nd,33.3333,2020-01-01,\n",
	/* nickel has a rule but no price. PARTNER has parameters for lithium only. */
	.tariffs = TARIFF_HDR "*,*,NON_MEMBER,0.5,,2020-01-01,\n"
			      "*,*,MEMBER,0,,2020-01-01,\n"
			      "lithium,*,PARTNER,0.25,10,2020-01-01,\n"
			      "neodymium,SEMI_FINISHED,NON_MEMBER,0.987654,,2020-01-01,\n",
	.membership = MEMBER_HDR "AU,MEMBER,zone,2020-01-01,\nCA,PARTNER,fw,2020-01-01,\n",
	.fx = FX_HDR "EUR,2020-01-01,1.5\nEUR,2024-01-01,1.085\n",
};

static char *g_dir;
static struct fg_refdata *g_rd;

static int group_setup(void **state)
{
	char err[512];

	(void)state;
	g_dir = fg_test_mkdtemp();
	if (!g_dir || fg_test_write_tables(g_dir, &tables))
		return -1;
	g_rd = fg_refdata_load(g_dir, err, sizeof(err));
	if (!g_rd) {
		fprintf(stderr, "tables refused: %s\n", err);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	fg_refdata_destroy(g_rd);
	fg_test_rmdir(g_dir);
	free(g_dir);
	return 0;
}

static int32_t day(const char *s)
{
	int32_t d;

	if (fg_date_parse(s, strlen(s), &d))
		fail_msg("bad date %s in the test", s);
	return d;
}

#define S(x) fg_str_make((x), strlen(x))

/* mass in grams (scale 3), value in cents (scale 2). */
static struct fg_decl_line line(int32_t item, const char *code, const char *desc,
				const char *origin, int64_t mass, int64_t value)
{
	struct fg_decl_line l;

	memset(&l, 0, sizeof(l));
	l.item_no = item;
	l.commodity_code = S(code);
	l.description = S(desc);
	l.origin_country = S(origin);
	l.net_mass_kg = mass;
	l.customs_value = value;
	return l;
}

/* percent at scale 4 */
static struct fg_decl_line with_content(struct fg_decl_line l, const char *element,
					int64_t percent)
{
	l.has_content = 1;
	l.content_element = S(element);
	l.content_percent = percent;
	return l;
}

static struct fg_decl decl(struct fg_decl_line *lines, uint32_t n, const char *currency,
			   const char *date)
{
	struct fg_decl d;

	memset(&d, 0, sizeof(d));
	d.declaration_id = S("DEC-1");
	d.version = 1;
	d.acceptance_date = day(date);
	d.declarant_id = S("DCL");
	d.importer_id = S("IMP");
	d.port_code = S("NLRTM");
	d.export_country = S("CN");
	d.invoice_currency = S(currency);
	d.lines = lines;
	d.n_lines = n;
	return d;
}

#define D "2024-03-01"

/* ---- validation ---------------------------------------------------------- */

static enum fg_reason validate(const struct fg_decl *d, char *msg, size_t size)
{
	struct fg_assessment as = { 0 };
	enum fg_reason r = fg_assess_validate(&as, g_rd, d, msg, size);

	fg_assessment_fini(&as);
	return r;
}

static void expect_reason(const struct fg_decl *d, enum fg_reason want, const char *in_msg)
{
	char msg[256];
	enum fg_reason got = validate(d, msg, sizeof(msg));

	if (got != want)
		fail_msg("reason %s, expected %s (%s)", fg_reason_names[got], fg_reason_names[want],
			 msg);
	if (in_msg && !strstr(msg, in_msg))
		fail_msg("message \"%s\" lacks \"%s\"", msg, in_msg);
}

static struct fg_decl_line ok_line(int32_t item)
{
	return line(item, "28369100", "lithium carbonate", "CN", 100000, 150000);
}

static void test_valid_declaration(void **state)
{
	struct fg_decl_line l[2] = { ok_line(1), ok_line(2) };
	struct fg_decl d = decl(l, 2, "USD", D);

	(void)state;
	expect_reason(&d, FG_REASON_NONE, NULL);
	/* 6 and 10 digits are the limits of a commodity code */
	l[0].commodity_code = S("283691");
	l[1].commodity_code = S("2836910000");
	expect_reason(&d, FG_REASON_NONE, NULL);
	/* a non-USD currency with a rate on or before the date */
	d = decl(l, 2, "EUR", "2020-01-01");
	expect_reason(&d, FG_REASON_NONE, NULL);
}

static void test_reason_no_lines(void **state)
{
	struct fg_decl d = decl(NULL, 0, "USD", D);

	(void)state;
	expect_reason(&d, FG_REASON_NO_LINES, NULL);
}

static void test_reason_duplicate_item(void **state)
{
	struct fg_decl_line l[3] = { ok_line(7), ok_line(3), ok_line(7) };
	struct fg_decl d = decl(l, 3, "USD", D);

	(void)state;
	expect_reason(&d, FG_REASON_DUPLICATE_ITEM, "7");
}

static void test_reason_bad_commodity_code(void **state)
{
	static const char *const bad[] = { "28369", "28369100001", "2836910a", "2836 910", "",
					   "\xd9\xa2\xd9\xa8\xd9\xa3\xd9\xa6\xd9\xa9\xd9\xa1" };
	struct fg_decl_line l[1] = { ok_line(1) };
	struct fg_decl d = decl(l, 1, "USD", D);

	(void)state;
	for (size_t i = 0; i < FG_ARRAY_LEN(bad); i++) {
		l[0].commodity_code = S(bad[i]);
		expect_reason(&d, FG_REASON_BAD_COMMODITY_CODE, NULL);
	}
}

static void test_reason_bad_country(void **state)
{
	struct fg_decl_line l[2] = { ok_line(1), ok_line(2) };
	struct fg_decl d = decl(l, 2, "USD", D);

	(void)state;
	d.export_country = S("cn");
	expect_reason(&d, FG_REASON_BAD_COUNTRY, "export_country");
	d.export_country = S("CHN");
	expect_reason(&d, FG_REASON_BAD_COUNTRY, NULL);
	d.export_country = S("CN");
	l[1].origin_country = S("C1");
	expect_reason(&d, FG_REASON_BAD_COUNTRY, "origin_country");
	l[1].origin_country = S("");
	expect_reason(&d, FG_REASON_BAD_COUNTRY, NULL);
}

static void test_reason_bad_currency(void **state)
{
	static const char *const bad[] = { "usd", "US", "USDX", "U$D", "" };
	struct fg_decl_line l[1] = { ok_line(1) };

	(void)state;
	for (size_t i = 0; i < FG_ARRAY_LEN(bad); i++) {
		struct fg_decl d = decl(l, 1, bad[i], D);
		expect_reason(&d, FG_REASON_BAD_CURRENCY, NULL);
	}
}

static void test_reason_bad_quantity(void **state)
{
	struct fg_decl_line l[2] = { ok_line(1), ok_line(2) };
	struct fg_decl d = decl(l, 2, "USD", D);

	(void)state;
	l[1].net_mass_kg = 0;
	expect_reason(&d, FG_REASON_BAD_QUANTITY, "0.000");
	l[1].net_mass_kg = -1;
	expect_reason(&d, FG_REASON_BAD_QUANTITY, "-0.001");
	/* one gram is a quantity */
	l[1].net_mass_kg = 1;
	expect_reason(&d, FG_REASON_NONE, NULL);
}

static void test_reason_bad_value(void **state)
{
	struct fg_decl_line l[1] = { ok_line(1) };
	struct fg_decl d = decl(l, 1, "USD", D);

	(void)state;
	l[0].customs_value = -1;
	expect_reason(&d, FG_REASON_BAD_VALUE, "-0.01");
	/* a value of 0 is allowed (a gift still has a floor) */
	l[0].customs_value = 0;
	expect_reason(&d, FG_REASON_NONE, NULL);
}

static void test_reason_bad_content(void **state)
{
	struct fg_decl_line l[1] = { ok_line(1) };
	struct fg_decl d = decl(l, 1, "USD", D);

	(void)state;
	/* percent has scale 4: 100 is 1000000, 100.0001 is 1000001 */
	l[0] = with_content(ok_line(1), "Li", 1000000);
	expect_reason(&d, FG_REASON_NONE, NULL);
	l[0].content_percent = 1; /* 0.0001 % */
	expect_reason(&d, FG_REASON_NONE, NULL);
	l[0].content_percent = 1000001;
	expect_reason(&d, FG_REASON_BAD_CONTENT, "100.0001");
	l[0].content_percent = 0;
	expect_reason(&d, FG_REASON_BAD_CONTENT, NULL);
	l[0].content_percent = -5;
	expect_reason(&d, FG_REASON_BAD_CONTENT, NULL);
	/* without content the percent is not looked at */
	l[0].has_content = 0;
	expect_reason(&d, FG_REASON_NONE, NULL);
}

static void test_reason_fx_rate_missing(void **state)
{
	struct fg_decl_line l[1] = { ok_line(1) };
	struct fg_decl d = decl(l, 1, "GBP", D);

	(void)state;
	expect_reason(&d, FG_REASON_FX_RATE_MISSING, "GBP");
	/* EUR's first rate is dated 2020-01-01 */
	d = decl(l, 1, "EUR", "2019-12-31");
	expect_reason(&d, FG_REASON_FX_RATE_MISSING, "2019-12-31");
	/* USD needs no row */
	d = decl(l, 1, "USD", "2019-12-31");
	expect_reason(&d, FG_REASON_NONE, NULL);
}

static void test_first_reason_in_table_order_wins(void **state)
{
	struct fg_decl_line l[3] = { ok_line(1), ok_line(1), ok_line(3) };
	struct fg_decl d = decl(l, 3, "GBP", D);

	(void)state;
	/* duplicate + bad code + bad country + bad mass + fx missing: DUPLICATE_ITEM */
	l[2].commodity_code = S("12");
	l[0].origin_country = S("xx");
	l[2].net_mass_kg = 0;
	expect_reason(&d, FG_REASON_DUPLICATE_ITEM, NULL);
	/* The table order counts, not the line order: a bad code on line 3 beats a bad country on line 1. */
	l[1].item_no = 2;
	expect_reason(&d, FG_REASON_BAD_COMMODITY_CODE, NULL);
	l[2].commodity_code = S("28369100");
	expect_reason(&d, FG_REASON_BAD_COUNTRY, NULL);
	l[0].origin_country = S("CN");
	d.invoice_currency = S("gbp");
	expect_reason(&d, FG_REASON_BAD_CURRENCY, NULL);
	d.invoice_currency = S("GBP");
	l[0].customs_value = -1;
	expect_reason(&d, FG_REASON_BAD_QUANTITY, NULL);
	l[2].net_mass_kg = 5;
	l[1] = with_content(l[1], "Li", 0);
	expect_reason(&d, FG_REASON_BAD_VALUE, NULL);
	l[0].customs_value = 5;
	expect_reason(&d, FG_REASON_BAD_CONTENT, NULL);
	l[1].content_percent = 10;
	expect_reason(&d, FG_REASON_FX_RATE_MISSING, NULL);
	d.invoice_currency = S("USD");
	expect_reason(&d, FG_REASON_NONE, NULL);
}

/* ---- per line ------------------------------------------------------------ */

struct want {
	enum fg_line_status status;
	const char *rule; /* NULL: no rule */
	enum fg_treatment treatment;
	__int128 value_usd, base, floor;
	unsigned flags;
};

static struct fg_assessment g_as;

/* Validates and assesses; returns the assessment (valid until the next call). */
static const struct fg_assessment *assess(const struct fg_decl *d)
{
	char msg[256];
	enum fg_reason r = fg_assess_validate(&g_as, g_rd, d, msg, sizeof(msg));

	if (r != FG_REASON_NONE)
		fail_msg("rejected %s: %s", fg_reason_names[r], msg);
	assert_int_equal(fg_assess_run(&g_as, g_rd, d), 0);
	assert_int_equal(g_as.n_lines, d->n_lines);
	return &g_as;
}

static void check_line(const struct fg_assessed_line *al, const struct want *w)
{
	assert_int_equal(al->status, w->status);
	if (w->rule) {
		assert_non_null(al->rule);
		if (!fg_str_eq_cstr(al->rule->rule_id, w->rule))
			fail_msg("rule %.*s, expected %s", (int)al->rule->rule_id.len,
				 al->rule->rule_id.p, w->rule);
	} else {
		assert_null(al->rule);
	}
	assert_int_equal(al->treatment, w->treatment);
	assert_i128_equal(al->value_usd, w->value_usd);
	assert_i128_equal(al->base_duty, w->base);
	assert_i128_equal(al->floor_duty, w->floor);
	assert_i128_equal(al->line_duty, w->base + w->floor);
	assert_int_equal(al->flags, w->flags);
}

static void expect_one(struct fg_decl_line l, const char *currency, const char *date,
		       struct want w)
{
	struct fg_decl d = decl(&l, 1, currency, date);
	const struct fg_assessment *as = assess(&d);

	check_line(&as->lines[0], &w);
	assert_i128_equal(as->total_value_usd, w.value_usd);
	assert_i128_equal(as->total_duty, w.base + w.floor);
}

static void test_fx_rounding_half_cent_tie(void **state)
{
	const char *code = "99999999"; /* no rule, no MFN: only the value matters */

	(void)state;
	/* EUR on 2024-03-01 is 1.085: 1.00 EUR = 1.085 USD, a tie, rounds away from zero to 1.09 */
	expect_one(line(1, code, "x", "CN", 1000, 100), "EUR", D,
		   (struct want){ FG_LINE_NOT_IN_SCOPE, NULL, FG_TREAT_NON_MEMBER, 109, 0, 0, 0 });
	/* 0.99 * 1.085 = 1.07415 -> 1.07; 1.01 * 1.085 = 1.09585 -> 1.10 */
	expect_one(line(1, code, "x", "CN", 1000, 99), "EUR", D,
		   (struct want){ FG_LINE_NOT_IN_SCOPE, NULL, FG_TREAT_NON_MEMBER, 107, 0, 0, 0 });
	expect_one(line(1, code, "x", "CN", 1000, 101), "EUR", D,
		   (struct want){ FG_LINE_NOT_IN_SCOPE, NULL, FG_TREAT_NON_MEMBER, 110, 0, 0, 0 });
	/* the greatest date <= D: on 2023-12-31 the 2020 rate 1.5 applies, 1.00 EUR = 1.50 */
	expect_one(line(1, code, "x", "CN", 1000, 100), "EUR", "2023-12-31",
		   (struct want){ FG_LINE_NOT_IN_SCOPE, NULL, FG_TREAT_NON_MEMBER, 150, 0, 0, 0 });
	/* 0.01 EUR * 1.5 = 0.015 USD: a tie at the smallest amount -> 0.02 */
	expect_one(line(1, code, "x", "CN", 1000, 1), "EUR", "2023-12-31",
		   (struct want){ FG_LINE_NOT_IN_SCOPE, NULL, FG_TREAT_NON_MEMBER, 2, 0, 0, 0 });
}

static void test_gross_basis_and_longest_mfn_prefix(void **state)
{
	(void)state;
	/*
	 * lithium REFINED, 20 USD/kg gross; 100 kg worth 1500.00 USD from CN.
	 * MFN: 2836 (3.5 %) beats 28 (2 %): 1500 * 3.5 % = 52.50.
	 * floor 20 * 100 = 2000, shortfall 500, NON_MEMBER gap 0.5: 250.00.
	 */
	expect_one(line(1, "28369100", "lithium carbonate", "CN", 100000, 150000), "USD", D,
		   (struct want){ FG_LINE_ASSESSED, "LI-REF", FG_TREAT_NON_MEMBER, 150000, 5250,
				  25000, FG_FLAG_BELOW_FLOOR });
	/* 1999.99: shortfall 0.01 * 0.5 = 0.005, a tie -> 0.01; base 69.99965 -> 70.00 */
	expect_one(line(1, "28369100", "lithium carbonate", "CN", 100000, 199999), "USD", D,
		   (struct want){ FG_LINE_ASSESSED, "LI-REF", FG_TREAT_NON_MEMBER, 199999, 7000, 1,
				  FG_FLAG_BELOW_FLOOR });
	/* at the floor exactly (2000.00) there is no shortfall and no flag */
	expect_one(line(1, "28369100", "lithium carbonate", "CN", 100000, 200000), "USD", D,
		   (struct want){ FG_LINE_ASSESSED, "LI-REF", FG_TREAT_NON_MEMBER, 200000, 7000, 0,
				  0 });
	/* a value of 0: shortfall 2000, duty 1000.00 */
	expect_one(line(1, "28369100", "lithium carbonate", "CN", 100000, 0), "USD", D,
		   (struct want){ FG_LINE_ASSESSED, "LI-REF", FG_TREAT_NON_MEMBER, 0, 0, 100000,
				  FG_FLAG_BELOW_FLOOR });
}

static void test_contained_basis_declared_content(void **state)
{
	(void)state;
	/*
	 * lithium ORE_CONCENTRATE, 1500 USD/t of contained Li2O. 20000 kg at
	 * 5.5 % Li2O = 1.1 t, floor 1650; value 1200.00: shortfall 450, * 0.5 =
	 * 225.00. No MFN row starts 2530.
	 */
	expect_one(with_content(line(1, "25309000", "Spodumene concentrate", "CN", 20000000,
				     120000),
				"Li2O", 55000),
		   "USD", D,
		   (struct want){ FG_LINE_ASSESSED, "LI-SPOD", FG_TREAT_NON_MEMBER, 120000, 0,
				  22500, FG_FLAG_BELOW_FLOOR });
	/*
	 * tungsten ORE_CONCENTRATE, 300 USD/mtu (10 kg) of WO3. 5000 kg at
	 * 65.5 % = 327.5 mtu, floor 98250; value 90000: 8250 * 0.5 = 4125.00.
	 */
	expect_one(with_content(line(1, "26110000", "tungsten ore", "CN", 5000000, 9000000), "WO3",
				655000),
		   "USD", D,
		   (struct want){ FG_LINE_ASSESSED, "W-ORE", FG_TREAT_NON_MEMBER, 9000000, 0, 412500,
				  FG_FLAG_BELOW_FLOOR });
}

static void test_contained_basis_defaulted_content(void **state)
{
	struct want li = { FG_LINE_ASSESSED, "LI-SPOD", FG_TREAT_NON_MEMBER, 120000, 0, 30000,
			   FG_FLAG_CONTENT_DEFAULTED | FG_FLAG_BELOW_FLOOR };

	(void)state;
	/* default 6 %: 20000 kg -> 1.2 t, floor 1800, shortfall 600, * 0.5 = 300.00 */
	expect_one(line(1, "25309000", "spodumene", "CN", 20000000, 120000), "USD", D, li);
	/* a content for another element, or the same name in another case, is not used */
	expect_one(with_content(line(1, "25309000", "spodumene", "CN", 20000000, 120000), "li2o",
				55000),
		   "USD", D, li);
	expect_one(with_content(line(1, "25309000", "spodumene", "CN", 20000000, 120000), "Li",
				55000),
		   "USD", D, li);
	/* tungsten default 65 %: 325 mtu, floor 97500, shortfall 7500, * 0.5 = 3750.00 */
	expect_one(line(1, "26110000", "tungsten ore", "CN", 5000000, 9000000), "USD", D,
		   (struct want){ FG_LINE_ASSESSED, "W-ORE", FG_TREAT_NON_MEMBER, 9000000, 0,
				  375000, FG_FLAG_CONTENT_DEFAULTED | FG_FLAG_BELOW_FLOOR });
	/* gross prices never look at content and never default it */
	expect_one(with_content(line(1, "28369100", "lithium carbonate", "CN", 100000, 150000),
				"Li", 10000),
		   "USD", D,
		   (struct want){ FG_LINE_ASSESSED, "LI-REF", FG_TREAT_NON_MEMBER, 150000, 5250,
				  25000, FG_FLAG_BELOW_FLOOR });
}

static void test_pound_unit(void **state)
{
	(void)state;
	/*
	 * cobalt REFINED, 15 USD/lb gross, 1 lb = 0.45359237 kg exactly.
	 * 1000 kg: floor 15 * 1000 / 0.45359237 = 33069.3393277316...;
	 * value 30000.00: shortfall 3069.3393277316... * 0.5 = 1534.6696638658...
	 * -> 1534.67. (An approximate lb of 0.4536 would give 1534.39.)
	 */
	expect_one(line(1, "81052000", "cobalt cathodes", "CN", 1000000, 3000000), "USD", D,
		   (struct want){ FG_LINE_ASSESSED, "CO-REF", FG_TREAT_NON_MEMBER, 3000000, 0,
				  153467, FG_FLAG_BELOW_FLOOR });
}

static void test_cap(void **state)
{
	(void)state;
	/*
	 * CA is PARTNER: (lithium,*,PARTNER) gap 0.25, cap 10 % of value.
	 * 1000.00: shortfall 1000 * 0.25 = 250 > cap 100: 100.00 (binding).
	 * Base 3.5 % = 35.00.
	 */
	expect_one(line(1, "28369100", "lithium carbonate", "CA", 100000, 100000), "USD", D,
		   (struct want){ FG_LINE_ASSESSED, "LI-REF", FG_TREAT_PARTNER, 100000, 3500, 10000,
				  FG_FLAG_BELOW_FLOOR });
	/* 1000.05: cap 100.005 (a tie) -> 100.01; base 35.00175 -> 35.00 */
	expect_one(line(1, "28369100", "lithium carbonate", "CA", 100000, 100005), "USD", D,
		   (struct want){ FG_LINE_ASSESSED, "LI-REF", FG_TREAT_PARTNER, 100005, 3500, 10001,
				  FG_FLAG_BELOW_FLOOR });
	/* 1900.00: shortfall 100 * 0.25 = 25 < cap 190: 25.00 (not binding); base 66.50 */
	expect_one(line(1, "28369100", "lithium carbonate", "CA", 100000, 190000), "USD", D,
		   (struct want){ FG_LINE_ASSESSED, "LI-REF", FG_TREAT_PARTNER, 190000, 6650, 2500,
				  FG_FLAG_BELOW_FLOOR });
}

static void test_gap_share_zero_still_below_floor(void **state)
{
	(void)state;
	/* AU is MEMBER: (*,*,MEMBER) gap 0. Shortfall 500 is flagged, duty 0.00. */
	expect_one(line(1, "28369100", "lithium carbonate", "AU", 100000, 150000), "USD", D,
		   (struct want){ FG_LINE_ASSESSED, "LI-REF", FG_TREAT_MEMBER, 150000, 5250, 0,
				  FG_FLAG_BELOW_FLOOR });
}

static void test_no_tariff_parameter(void **state)
{
	(void)state;
	/* CA is PARTNER and PARTNER has rows for lithium only. */
	expect_one(line(1, "81052000", "cobalt cathodes", "CA", 1000000, 3000000), "USD", D,
		   (struct want){ FG_LINE_ASSESSED, "CO-REF", FG_TREAT_PARTNER, 3000000, 0, 0,
				  FG_FLAG_NO_TARIFF_PARAMETER });
	/* Step 6 raises CONTENT_DEFAULTED before step 7 finds no parameter. */
	expect_one(line(1, "26110000", "tungsten ore", "CA", 5000000, 9000000), "USD", D,
		   (struct want){ FG_LINE_ASSESSED, "W-ORE", FG_TREAT_PARTNER, 9000000, 0, 0,
				  FG_FLAG_CONTENT_DEFAULTED | FG_FLAG_NO_TARIFF_PARAMETER });
}

static void test_no_reference_price(void **state)
{
	(void)state;
	/* nickel has a rule, no price: base duty still applies, 2000.00 * 1.5 % = 30.00 */
	expect_one(line(1, "75021000", "nickel cathodes", "CN", 1000000, 200000), "USD", D,
		   (struct want){ FG_LINE_NO_REFERENCE_PRICE, "NI-REF", FG_TREAT_NON_MEMBER, 200000,
				  3000, 0, 0 });
}

static void test_not_in_scope_keeps_treatment(void **state)
{
	(void)state;
	/* 2847 has no rule; MFN 28 gives 2 %: 1000.00 -> 20.00; AU is still MEMBER */
	expect_one(line(1, "28470000", "hydrogen peroxide", "AU", 100000, 100000), "USD", D,
		   (struct want){ FG_LINE_NOT_IN_SCOPE, NULL, FG_TREAT_MEMBER, 100000, 2000, 0, 0 });
	/* a keyword rule whose keyword is absent leaves the line out of scope */
	expect_one(line(1, "25309000", "feldspar", "CA", 100000, 100000), "USD", D,
		   (struct want){ FG_LINE_NOT_IN_SCOPE, NULL, FG_TREAT_PARTNER, 100000, 0, 0, 0 });
	/* before the rules start (2020-01-01) nothing is in scope, even a lithium code */
	expect_one(line(1, "28369100", "lithium carbonate", "CN", 100000, 150000), "USD",
		   "2019-12-31",
		   (struct want){ FG_LINE_NOT_IN_SCOPE, NULL, FG_TREAT_NON_MEMBER, 150000, 0, 0, 0 });
}

static void test_totals_are_sums(void **state)
{
	struct fg_decl_line l[4] = {
		/* value 1500.00, base 52.50, floor 250.00 (see the gross test) */
		line(1, "28369100", "lithium carbonate", "CN", 100000, 150000),
		/* value 2000.00, base 30.00 */
		line(2, "75021000", "nickel cathodes", "CN", 1000000, 200000),
		/* value 1000.00, base 20.00 */
		line(3, "28470000", "hydrogen peroxide", "AU", 100000, 100000),
		/* value 30000.00, floor 1534.67 (see the pound test) */
		line(4, "81052000", "cobalt cathodes", "CN", 1000000, 3000000),
	};
	struct fg_decl d = decl(l, 4, "USD", D);
	const struct fg_assessment *as = assess(&d);

	(void)state;
	assert_i128_equal(as->total_value_usd, 150000 + 200000 + 100000 + 3000000);
	assert_i128_equal(as->total_base_duty, 5250 + 3000 + 2000);
	assert_i128_equal(as->total_floor_duty, 25000 + 153467);
	assert_i128_equal(as->total_duty, 5250 + 3000 + 2000 + 25000 + 153467);
	/* lines keep their input order and point at their input */
	for (uint32_t i = 0; i < 4; i++)
		assert_ptr_equal(as->lines[i].in, &l[i]);

	/* Reusing the assessment for a smaller declaration resets the totals. */
	d.n_lines = 1;
	as = assess(&d);
	assert_i128_equal(as->total_duty, 5250 + 25000);
}

static void test_huge_line_exact(void **state)
{
	(void)state;
	/*
	 * neodymium SEMI_FINISHED: 123456.789012 USD/lb contained Nd (default
	 * 33.3333 %), tariff (neodymium,SEMI_FINISHED,NON_MEMBER) gap 0.987654
	 * (more specific than (*,*,NON_MEMBER) 0.5). MFN 8505: 2.7 %.
	 * Line: 8999999999999999.999 kg at 37.1234 % Nd, 90000000000000000.05 EUR,
	 * EUR 1.085 on 2024-03-01. With fractions.Fraction:
	 *   value_usd = round2(90000000000000000.05 * 1.085)
	 *             = round2(97650000000000000.054250) = 97650000000000000.05
	 *   base      = round2(value_usd * 2.7 / 100)   = 2636550000000000.00
	 *   floor     = 123456.789012 * 8999999999999999.999 * 0.371234 / 0.45359237
	 *             = 51560277313590908994271080298489899 / 56699046250000
	 *             = 909367630034709957652.4372...
	 *   duty      = (floor - value_usd) * 0.987654
	 *             = 262465184657929920752319637057389138309 / 292263125000000000
	 *             = 898044132861201428515.2108...
	 *   floor_duty = 898044132861201428515.21
	 */
	expect_one(with_content(line(1, "85051100", "NdFeB magnets", "CN",
				     INT64_C(8999999999999999999), INT64_C(9000000000000000005)),
				"Nd", 371234),
		   "EUR", D,
		   (struct want){ FG_LINE_ASSESSED, "ND-MAG", FG_TREAT_NON_MEMBER,
				  fg_test_i128("9765000000000000005"),
				  fg_test_i128("263655000000000000"),
				  fg_test_i128("89804413286120142851521"), FG_FLAG_BELOW_FLOOR });
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_declaration),
		cmocka_unit_test(test_reason_no_lines),
		cmocka_unit_test(test_reason_duplicate_item),
		cmocka_unit_test(test_reason_bad_commodity_code),
		cmocka_unit_test(test_reason_bad_country),
		cmocka_unit_test(test_reason_bad_currency),
		cmocka_unit_test(test_reason_bad_quantity),
		cmocka_unit_test(test_reason_bad_value),
		cmocka_unit_test(test_reason_bad_content),
		cmocka_unit_test(test_reason_fx_rate_missing),
		cmocka_unit_test(test_first_reason_in_table_order_wins),
		cmocka_unit_test(test_fx_rounding_half_cent_tie),
		cmocka_unit_test(test_gross_basis_and_longest_mfn_prefix),
		cmocka_unit_test(test_contained_basis_declared_content),
		cmocka_unit_test(test_contained_basis_defaulted_content),
		cmocka_unit_test(test_pound_unit),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_gap_share_zero_still_below_floor),
		cmocka_unit_test(test_no_tariff_parameter),
		cmocka_unit_test(test_no_reference_price),
		cmocka_unit_test(test_not_in_scope_keeps_treatment),
		cmocka_unit_test(test_totals_are_sums),
		cmocka_unit_test(test_huge_line_exact),
	};
	int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);

	fg_assessment_fini(&g_as);
	return rc;
}
