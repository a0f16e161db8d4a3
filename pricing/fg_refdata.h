/*
 * fg_refdata.h: the six reference tables of the assessment contract.
 *
 * DESIGN
 * A struct fg_refdata is one immutable, validated set of tables loaded
 * from a directory (classification, mfn, reference_prices,
 * tariff_parameters, membership, fx_rates). It is built whole or not at
 * all: any problem refuses the whole set with "file:line:column: reason",
 * so a running processor keeps the set it had. Once built it is only read,
 * from any number of threads, and names itself by a fingerprint (XXH3-128
 * of the six files' bytes) that every assessment carries.
 *
 * Each row keeps where its effective_from (fx_rates: date) field starts,
 * as line and eff_col, so an overlap is refused at that field even when a
 * quoted field before it spans lines.
 *
 * Lookups are as of a date (days since 1970-01-01). Rows keyed the same
 * never overlap in time (the loader refuses that), so each lookup finds at
 * most one row.
 */
#ifndef FG_REFDATA_H
#define FG_REFDATA_H

#include <stddef.h>
#include <stdint.h>

#include "../core/fg_arena.h"
#include "../core/fg_common.h"
#include "../core/fg_decimal.h"
#include "../rules/fg_rules.h"

enum fg_treatment {
	FG_TREAT_MEMBER,
	FG_TREAT_PARTNER,
	FG_TREAT_NON_MEMBER,
	FG_TREAT_COUNT
};
extern const char *const fg_treatment_names[FG_TREAT_COUNT];

enum fg_unit { FG_UNIT_KG, FG_UNIT_T, FG_UNIT_LB, FG_UNIT_MTU };
enum fg_basis { FG_BASIS_GROSS, FG_BASIS_CONTAINED };

#define FG_REFDATA_ANY UINT32_MAX /* '*' in tariff_parameters.csv */

struct fg_mfn {
	struct fg_str hs_prefix;
	struct fg_decimal pct;
	struct fg_range eff;
	unsigned line, eff_col;
};

struct fg_price {
	uint32_t mineral;
	enum fg_stage stage;
	struct fg_decimal price_usd;
	enum fg_unit unit;
	enum fg_basis basis;
	struct fg_str element;           /* contained basis only */
	struct fg_decimal default_pct;   /* contained basis only */
	struct fg_range eff;
	unsigned line, eff_col;
};

struct fg_tariff {
	uint32_t mineral; /* or FG_REFDATA_ANY */
	uint32_t stage;   /* enum fg_stage or FG_REFDATA_ANY */
	enum fg_treatment treatment;
	struct fg_decimal gap_share;
	int has_cap;
	struct fg_decimal cap_pct;
	struct fg_range eff;
	unsigned line, eff_col;
};

struct fg_member {
	uint16_t country; /* fg_refdata_country_key() */
	enum fg_treatment treatment;
	struct fg_str agreement;
	struct fg_range eff;
	unsigned line, eff_col;
};

struct fg_fx {
	uint16_t currency; /* fg_refdata_currency_key() */
	int32_t date;
	struct fg_decimal usd_per_unit;
	unsigned line, eff_col;
};

/* Every table set's fingerprint has this many hex digits (128 bits). */
#define FG_FINGERPRINT_LEN 32

struct fg_refdata {
	char fingerprint[FG_FINGERPRINT_LEN + 1]; /* lower-case hex of XXH3-128 */
	char *dir;

	char **minerals;
	uint32_t *mineral_len; /* strlen of each name, so the encoder does not count */
	uint32_t n_minerals;

	struct fg_rules rules;

	struct fg_mfn *mfn; /* sorted by hs_prefix, effective_from */
	size_t n_mfn;
	struct fg_prefix_index code_ix; /* table 0: rules.v, table 1: mfn */

	struct fg_price *prices; /* sorted by mineral, stage, from */
	size_t n_prices;
	uint32_t *price_first, *price_count; /* [mineral * FG_STAGE_COUNT + stage] */

	struct fg_tariff *tariffs; /* sorted by key, from */
	size_t n_tariffs;
	uint32_t *tariff_first, *tariff_count; /* [fg_refdata_tariff_slot()] */
	/* For each real (mineral, stage, treatment), [(m * FG_STAGE_COUNT + s) *
	 * FG_TREAT_COUNT + t]: the rows of its four slots, most specific first,
	 * as indexes into tariffs, so one walk does the fallback of
	 * fg_refdata_tariff(). NULL when they would be too large. */
	uint32_t *tariff_chain, *chain_first, *chain_count;

	struct fg_member *members; /* sorted by country, from */
	size_t n_members;
	uint32_t member_first[26 * 26], member_count[26 * 26];

	struct fg_fx *fx; /* sorted by currency, date */
	size_t n_fx;
	uint32_t fx_first[26 * 26 * 26], fx_count[26 * 26 * 26];

	struct fg_arena arena;
};

/*
 * Loads and validates the six tables from dir. Returns NULL and fills
 * errstr ("dir/file.csv:LINE:COL: reason") on any problem. The caller owns
 * the result and frees it with fg_refdata_destroy().
 */
struct fg_refdata *fg_refdata_load(const char *dir, char *errstr, size_t errstr_size);
void fg_refdata_destroy(struct fg_refdata *rd); /* NULL-safe */

/* Two capital ASCII letters -> 0..675; caller validates. */
static inline uint16_t fg_refdata_country_key(const char *c)
{
	return (uint16_t)((c[0] - 'A') * 26 + (c[1] - 'A'));
}
static inline uint16_t fg_refdata_currency_key(const char *c)
{
	return (uint16_t)(((c[0] - 'A') * 26 + (c[1] - 'A')) * 26 + (c[2] - 'A'));
}

const struct fg_mfn *fg_refdata_mfn(const struct fg_refdata *rd, struct fg_str code, int32_t date);
/* The same, with the code's prefix keys already made. */
const struct fg_mfn *fg_refdata_mfn_probe(const struct fg_refdata *rd,
					  const struct fg_prefix_probe *pr, int32_t date);
/*
 * A line's classification rule (as fg_rules_classify) and MFN row (as
 * fg_refdata_mfn) in one walk over the code's prefixes; NULL when none.
 */
void fg_refdata_line_lookup(const struct fg_refdata *rd, const struct fg_prefix_probe *pr,
			    struct fg_str description, int32_t date, const struct fg_rule **rule,
			    const struct fg_mfn **mfn);
const struct fg_price *fg_refdata_price(const struct fg_refdata *rd, uint32_t mineral,
					enum fg_stage stage, int32_t date);
/* Most specific first: (m,s), (m,*), (*,s), (*,*). */
const struct fg_tariff *fg_refdata_tariff(const struct fg_refdata *rd, uint32_t mineral,
					  enum fg_stage stage, enum fg_treatment t, int32_t date);
/* country: two capital letters (validated by the caller). */
enum fg_treatment fg_refdata_treatment(const struct fg_refdata *rd, const char *country,
				       int32_t date);
/* Row with the greatest date <= date, or NULL. currency: three capitals, not USD. */
const struct fg_fx *fg_refdata_fx(const struct fg_refdata *rd, const char *currency, int32_t date);

#endif
