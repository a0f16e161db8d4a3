#include "fg_assess.h"

#include <stdlib.h>
#include <string.h>

#include "../core/fg_date.h"
#include "../core/fg_wide.h"

const char *const fg_reason_names[FG_REASON_COUNT] = {
	"NONE",          "DECODE_ERROR", "UNKNOWN_SCHEMA", "NO_LINES",
	"DUPLICATE_ITEM", "BAD_COMMODITY_CODE", "BAD_COUNTRY", "BAD_CURRENCY",
	"BAD_QUANTITY",  "BAD_VALUE",    "BAD_CONTENT",    "FX_RATE_MISSING",
};
const char *const fg_line_status_names[3] = { "ASSESSED", "NOT_IN_SCOPE", "NO_REFERENCE_PRICE" };
const char *const fg_flag_names[FG_FLAG_COUNT] = { "CONTENT_DEFAULTED", "NO_TARIFF_PARAMETER",
						   "BELOW_FLOOR" };
const char *const fg_function_code_names[3] = { "ORIGINAL", "AMENDMENT", "CANCELLATION" };

void fg_assess_quote(struct fg_str s, char *buf, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return;
	for (size_t i = 0; i < s.len && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
	}
	if (o + 5 >= size && size > 4 && o >= 3)
		memcpy(buf + o - 3, "...", 3);
	buf[o] = '\0';
}

static int is_digits(struct fg_str s, size_t min, size_t max)
{
	if (s.len < min || s.len > max)
		return 0;
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return 0;
	return 1;
}

static int is_upper(struct fg_str s, size_t len)
{
	if (s.len != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s.p[i] < 'A' || s.p[i] > 'Z')
			return 0;
	return 1;
}

static int int_cmp(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return x < y ? -1 : x > y;
}

static inline int is_usd(struct fg_str s)
{
	return s.len == 3 && s.p[0] == 'U' && s.p[1] == 'S' && s.p[2] == 'D';
}

/* Whether the n (4 or 8) bytes of x are all ASCII digits: high nibble 3, and
 * still 3 after adding 6 (a byte that fails the first test is the only one
 * that could carry into its neighbour). */
static inline int digits_swar(uint64_t x, uint64_t hi, uint64_t three, uint64_t six)
{
	return (x & hi) == three && ((x + six) & hi) == three;
}

/* Branch-light forms of is_digits(s, 6, 10) and is_upper(s, 2): one test per field. */
static inline int is_code(struct fg_str s)
{
	if (s.len - 6 > 4) /* size_t: a length below 6 wraps round */
		return 0;
	if (s.len >= 8) {
		/* two overlapping 8-byte loads cover 8 to 16 bytes, inside the string */
		uint64_t a, b;
		memcpy(&a, s.p, 8);
		memcpy(&b, s.p + s.len - 8, 8);
		return digits_swar(a, 0xF0F0F0F0F0F0F0F0ull, 0x3030303030303030ull,
				   0x0606060606060606ull) &&
		       digits_swar(b, 0xF0F0F0F0F0F0F0F0ull, 0x3030303030303030ull,
				   0x0606060606060606ull);
	}
	uint32_t a, b; /* 6 or 7 bytes: two overlapping 4-byte loads */
	memcpy(&a, s.p, 4);
	memcpy(&b, s.p + s.len - 4, 4);
	return digits_swar(a, 0xF0F0F0F0u, 0x30303030u, 0x06060606u) &&
	       digits_swar(b, 0xF0F0F0F0u, 0x30303030u, 0x06060606u);
}

static inline int is_upper2(struct fg_str s)
{
	return s.len == 2 && (unsigned)((unsigned char)s.p[0] - 'A') < 26u &&
	       (unsigned)((unsigned char)s.p[1] - 'A') < 26u;
}

/*
 * Every per-line check of fg_assess_validate() in one walk over the lines,
 * without messages: 1 when the line passes them all. A declaration whose
 * lines all pass (nearly every one) skips the ordered walks below, which
 * then only run to find and word the first failure.
 */
static inline int line_ok(const struct fg_decl_line *l)
{
	return is_code(l->commodity_code) & is_upper2(l->origin_country) &
	       (l->net_mass_kg > 0) & (l->customs_value >= 0) &
	       ((l->has_content == 0) | ((l->content_percent > 0) & (l->content_percent <= 1000000)));
}

#define FAIL(reason, ...)                                          \
	do {                                                       \
		snprintf(msg, msg_size, __VA_ARGS__);              \
		return FG_REASON_##reason;                         \
	} while (0)

enum fg_reason fg_assess_validate(struct fg_assessment *as, const struct fg_refdata *rd,
				  const struct fg_decl *d, char *msg, size_t msg_size)
{
	char q[96];
	uint32_t n = d->n_lines;
	int lines_ok = 1;

	msg[0] = '\0';
	if (n == 0)
		FAIL(NO_LINES, "the declaration has no goods lines");

	if (n <= 16) {
		/* Few lines (the usual case): compare pairs, no sort. The message
		 * names the smallest repeated item_no, as the sorted scan does. */
		int found = 0;
		int32_t dup = 0;
		for (uint32_t i = 0; i < n; i++)
			for (uint32_t j = i + 1; j < n; j++)
				if (d->lines[i].item_no == d->lines[j].item_no &&
				    (!found || d->lines[i].item_no < dup)) {
					found = 1;
					dup = d->lines[i].item_no;
				}
		if (found)
			FAIL(DUPLICATE_ITEM, "item_no %d appears on more than one line", (int)dup);
	} else {
		if (n > as->cap_scratch) {
			int32_t *s = realloc(as->scratch, n * sizeof(*s));
			if (!s)
				FAIL(DUPLICATE_ITEM, "out of memory checking item numbers");
			as->scratch = s;
			as->cap_scratch = n;
		}
		for (uint32_t i = 0; i < n; i++)
			as->scratch[i] = d->lines[i].item_no;
		qsort(as->scratch, n, sizeof(int32_t), int_cmp);
		for (uint32_t i = 1; i < n; i++)
			if (as->scratch[i] == as->scratch[i - 1])
				FAIL(DUPLICATE_ITEM, "item_no %d appears on more than one line",
				     (int)as->scratch[i]);
	}

	for (uint32_t i = 0; i < n; i++)
		lines_ok &= line_ok(&d->lines[i]);
	if (lines_ok && is_upper(d->export_country, 2) && is_upper(d->invoice_currency, 3))
		goto fx;

	for (uint32_t i = 0; i < n; i++)
		if (!is_digits(d->lines[i].commodity_code, 6, 10)) {
			fg_assess_quote(d->lines[i].commodity_code, q, sizeof(q));
			FAIL(BAD_COMMODITY_CODE,
			     "item %d: commodity_code \"%s\" is not 6 to 10 ASCII digits",
			     (int)d->lines[i].item_no, q);
		}

	if (!is_upper(d->export_country, 2)) {
		fg_assess_quote(d->export_country, q, sizeof(q));
		FAIL(BAD_COUNTRY, "export_country \"%s\" is not two ASCII capital letters", q);
	}
	for (uint32_t i = 0; i < n; i++)
		if (!is_upper(d->lines[i].origin_country, 2)) {
			fg_assess_quote(d->lines[i].origin_country, q, sizeof(q));
			FAIL(BAD_COUNTRY, "item %d: origin_country \"%s\" is not two ASCII capital letters",
			     (int)d->lines[i].item_no, q);
		}

	if (!is_upper(d->invoice_currency, 3)) {
		fg_assess_quote(d->invoice_currency, q, sizeof(q));
		FAIL(BAD_CURRENCY, "invoice_currency \"%s\" is not three ASCII capital letters", q);
	}

	for (uint32_t i = 0; i < n; i++)
		if (d->lines[i].net_mass_kg <= 0) {
			fg_decimal_format(d->lines[i].net_mass_kg, FG_DECL_MASS_SCALE, q, sizeof(q));
			FAIL(BAD_QUANTITY, "item %d: net_mass_kg %s is not above 0",
			     (int)d->lines[i].item_no, q);
		}

	for (uint32_t i = 0; i < n; i++)
		if (d->lines[i].customs_value < 0) {
			fg_decimal_format(d->lines[i].customs_value, FG_DECL_VALUE_SCALE, q, sizeof(q));
			FAIL(BAD_VALUE, "item %d: customs_value %s is negative",
			     (int)d->lines[i].item_no, q);
		}

	for (uint32_t i = 0; i < n; i++) {
		const struct fg_decl_line *l = &d->lines[i];
		if (l->has_content && (l->content_percent <= 0 || l->content_percent > 1000000)) {
			fg_decimal_format(l->content_percent, FG_DECL_PERCENT_SCALE, q, sizeof(q));
			FAIL(BAD_CONTENT, "item %d: content.percent %s is not above 0 and at most 100",
			     (int)l->item_no, q);
		}
	}

fx:
	if (!is_usd(d->invoice_currency) &&
	    !fg_refdata_fx(rd, d->invoice_currency.p, d->acceptance_date)) {
		char date[FG_DATE_STR];
		fg_date_format(d->acceptance_date, date);
		FAIL(FX_RATE_MISSING, "no %.3s rate dated on or before %s in fx_rates.csv",
		     d->invoice_currency.p, date);
	}
	return FG_REASON_NONE;
}

/* ---- exact arithmetic ------------------------------------------------ */
typedef unsigned __int128 u128;

/* 10^0 .. 10^38, the powers that fit in 128 bits, made once. */
static u128 p10[39];

static void __attribute__((constructor)) p10_init(void)
{
	p10[0] = 1;
	for (int i = 1; i < 39; i++)
		p10[i] = p10[i - 1] * 10;
}

/* Scales come from the loaders, which keep them far below 39. */
static inline u128 pow10u(unsigned e)
{
	return p10[e];
}

static struct fg_wide W(u128 v)
{
	struct fg_wide w;
	fg_wide_from_u128(&w, v);
	return w;
}

/* round(n / d) to an integer; both non-negative. */
static int round_div(const struct fg_wide *n, const struct fg_wide *d, fg_money_t *out)
{
	return fg_wide_div_round(n, d, out);
}

/* round(a * b / c) for non-negative integers that each fit in 128 bits. */
/*
 * round(n / d) for non-negative 128-bit n, d when 2n + d fits: the common
 * case, done in native 128-bit arithmetic. Returns -1 when it does not fit
 * (the caller then uses fg_wide).
 */
static int round_u128(u128 n, u128 d, fg_money_t *out)
{
	u128 n2, q;

	if (__builtin_mul_overflow(n, 2, &n2) || __builtin_add_overflow(n2, d, &n2) ||
	    __builtin_mul_overflow(d, 2, &q))
		return -1;
	if ((uint64_t)(n2 >> 64) == 0 && (uint64_t)(q >> 64) == 0)
		q = (uint64_t)n2 / (uint64_t)q; /* the usual case: one 64-bit divide */
	else
		q = n2 / q;
	if (q >> 127)
		return -1;
	*out = (fg_money_t)q;
	return 0;
}

static int round_mul_div(u128 a, u128 b, u128 c, fg_money_t *out)
{
	struct fg_wide n, wa, d;
	u128 ab;

	if (!__builtin_mul_overflow(a, b, &ab) && round_u128(ab, c, out) == 0)
		return 0;
	wa = W(a);
	d = W(c);

	if (fg_wide_mul_u128(&n, &wa, b))
		return -1;
	return round_div(&n, &d, out);
}

/* Units of reference prices, in kg, as num/den. */
static void unit_kg(enum fg_unit u, u128 *num, u128 *den)
{
	switch (u) {
	case FG_UNIT_KG: *num = 1; *den = 1; break;
	case FG_UNIT_T: *num = 1000; *den = 1; break;
	case FG_UNIT_MTU: *num = 10; *den = 1; break;
	case FG_UNIT_LB: *num = 45359237; *den = 100000000; break;
	}
}

/*
 * Steps 6 and 7 for one in-scope line with a reference price.
 * A  = price * basis_qty     = An / Ad
 * S  = A - value_usd         = (An*100 - Vc*Ad) / (Ad*100)
 * duty = S * gap_share       = S_n * g / (S_d * 10^gs)
 * cap  = Vc * cap / (10^cs * 10^4)     (in USD)
 */
#define MUL(r, a, b) __builtin_mul_overflow((a), (b), &(r))

/* r = a * b, 1 when it does not fit; b is often 1 (kg prices, gross
 * basis), and then no 128-bit multiply is made. */
static inline int mul_or_1(u128 *r, u128 a, u128 b)
{
	if (b == 1) {
		*r = a;
		return 0;
	}
	return __builtin_mul_overflow(a, b, r);
}

/*
 * Step 7 in native 128-bit arithmetic, the same formula as floor_duty()
 * below. Returns 1 (shortfall, floor_duty set), 0 (no shortfall) or -1 when
 * some product does not fit in 128 bits, leaving *al untouched.
 */
static int floor_duty_u128(struct fg_assessed_line *al, const struct fg_price *p,
			   const struct fg_tariff *t, u128 f_num, u128 f_den, u128 u_num,
			   u128 u_den)
{
	u128 an, ad, an100, vcad, sn, sd, dn, dd, r;
	u128 v = (u128)al->value_usd;

	an = (u128)p->price_usd.unscaled * (u128)al->in->net_mass_kg; /* < 2^126 */
	if (mul_or_1(&an, an, f_num) || mul_or_1(&an, an, u_den) ||
	    mul_or_1(&ad, pow10u(p->price_usd.scale) * 1000, f_den) || mul_or_1(&ad, ad, u_num) ||
	    MUL(an100, an, 100) || MUL(vcad, ad, v))
		return -1;
	if (an100 <= vcad)
		return 0;
	sn = an100 - vcad;
	if (MUL(sd, ad, 100) || MUL(dn, sn, (u128)t->gap_share.unscaled) ||
	    MUL(dd, sd, pow10u(t->gap_share.scale)))
		return -1;
	if (t->has_cap) {
		u128 lhs, rhs, vc;
		if (MUL(vc, v, (u128)t->cap_pct.unscaled) ||
		    MUL(lhs, dn, pow10u(t->cap_pct.scale) * 10000) || MUL(rhs, vc, dd))
			return -1;
		if (lhs > rhs) {
			if (round_u128(vc, pow10u(t->cap_pct.scale) * 100, &al->floor_duty))
				return -1;
			return 1;
		}
	}
	if (MUL(r, dn, 100) || round_u128(r, dd, &al->floor_duty))
		return -1;
	return 1;
}

/* fg_str_eq for element symbols ("Li2O", "Co"): a few bytes, compared in line. */
static inline int same_element(struct fg_str a, struct fg_str b)
{
	if (a.len != b.len)
		return 0;
	for (size_t i = 0; i < a.len; i++)
		if (a.p[i] != b.p[i])
			return 0;
	return 1;
}

static int floor_duty(struct fg_assessed_line *al, const struct fg_price *p,
		      const struct fg_tariff *t)
{
	const struct fg_decl_line *l = al->in;
	u128 f_num = 1, f_den = 1, u_num = 1, u_den = 1;
	struct fg_wide an, ad, tmp, sn, sd, vcad;

	if (p->basis == FG_BASIS_CONTAINED) {
		if (l->has_content && same_element(l->content_element, p->element)) {
			f_num = (u128)l->content_percent;
			f_den = pow10u(FG_DECL_PERCENT_SCALE) * 100;
		} else {
			f_num = (u128)p->default_pct.unscaled;
			f_den = pow10u(p->default_pct.scale) * 100;
			al->flags |= FG_FLAG_CONTENT_DEFAULTED;
		}
	}
	if (!t) {
		al->flags |= FG_FLAG_NO_TARIFF_PARAMETER;
		return 0;
	}
	unit_kg(p->unit, &u_num, &u_den);
	switch (floor_duty_u128(al, p, t, f_num, f_den, u_num, u_den)) {
	case 1:
		al->flags |= FG_FLAG_BELOW_FLOOR;
		return 0;
	case 0:
		return 0;
	default:
		break; /* a product left 128 bits: redo it in fg_wide */
	}

	/* An = P * M * f_num * u_den ; Ad = 10^ps * 10^3 * f_den * u_num */
	an = W((u128)p->price_usd.unscaled * (u128)l->net_mass_kg);
	if (fg_wide_mul_u128(&an, &an, f_num) || fg_wide_mul_u128(&an, &an, u_den))
		return -1;
	ad = W(pow10u(p->price_usd.scale) * pow10u(FG_DECL_MASS_SCALE));
	if (fg_wide_mul_u128(&ad, &ad, f_den) || fg_wide_mul_u128(&ad, &ad, u_num))
		return -1;

	/* Compare An*100 with Vc*Ad. */
	if (fg_wide_mul_u128(&tmp, &an, 100) || fg_wide_mul_u128(&vcad, &ad, (u128)al->value_usd))
		return -1;
	if (fg_wide_cmp(&tmp, &vcad) <= 0)
		return 0; /* no shortfall: floor duty 0, no flag */
	al->flags |= FG_FLAG_BELOW_FLOOR;
	fg_wide_sub(&sn, &tmp, &vcad);
	if (fg_wide_mul_u128(&sd, &ad, 100))
		return -1;

	/* duty = sn * g / (sd * 10^gs) */
	struct fg_wide dn, dd;
	if (fg_wide_mul_u128(&dn, &sn, (u128)t->gap_share.unscaled) ||
	    fg_wide_mul_u128(&dd, &sd, pow10u(t->gap_share.scale)))
		return -1;

	if (t->has_cap) {
		/* cap = Vc * c / (10^cs * 10^4); duty > cap  <=>  dn * 10^cs*10^4 > Vc*c * dd */
		struct fg_wide lhs, rhs, vc = W((u128)al->value_usd);
		if (fg_wide_mul_u128(&vc, &vc, (u128)t->cap_pct.unscaled) ||
		    fg_wide_mul_u128(&lhs, &dn, pow10u(t->cap_pct.scale) * 10000) ||
		    fg_wide_mul(&rhs, &vc, &dd))
			return -1;
		if (fg_wide_cmp(&lhs, &rhs) > 0)
			return round_mul_div((u128)al->value_usd, (u128)t->cap_pct.unscaled,
					     pow10u(t->cap_pct.scale) * 100, &al->floor_duty);
	}
	/* floor_duty cents = round(dn * 100 / dd) */
	if (fg_wide_mul_u128(&dn, &dn, 100))
		return -1;
	return round_div(&dn, &dd, &al->floor_duty);
}

static int assess_line(struct fg_assessed_line *al, const struct fg_refdata *rd,
		       const struct fg_decl *d, const struct fg_fx *fx)
{
	const struct fg_decl_line *l = al->in;
	int32_t date = d->acceptance_date;

	/* Field by field: zeroing the whole struct compiles to a slow `rep stos`. */
	al->in = l;
	al->status = FG_LINE_ASSESSED;
	al->rule = NULL;
	al->treatment = FG_TREAT_MEMBER;
	al->value_usd = al->base_duty = al->floor_duty = al->line_duty = 0;
	al->flags = 0;

	/* 1. FX and value */
	if (fx) {
		if (round_mul_div((u128)l->customs_value, (u128)fx->usd_per_unit.unscaled,
				  pow10u(fx->usd_per_unit.scale), &al->value_usd))
			return -1;
	} else {
		al->value_usd = l->customs_value;
	}

	/* 2. Base duty, 3. classification: one walk over the code's prefixes */
	struct fg_prefix_probe pr;
	const struct fg_mfn *m;
	fg_prefix_probe_init(&pr, l->commodity_code.p, l->commodity_code.len);
	fg_refdata_line_lookup(rd, &pr, l->description, date, &al->rule, &m);
	if (m && round_mul_div((u128)al->value_usd, (u128)m->pct.unscaled,
			       pow10u(m->pct.scale) * 100, &al->base_duty))
		return -1;

	/* 4. Treatment */
	al->treatment = fg_refdata_treatment(rd, l->origin_country.p, date);
	if (!al->rule) {
		al->status = FG_LINE_NOT_IN_SCOPE;
	} else {
		/* 5. Reference price */
		const struct fg_price *p =
			fg_refdata_price(rd, al->rule->mineral, al->rule->stage, date);
		if (!p) {
			al->status = FG_LINE_NO_REFERENCE_PRICE;
		} else {
			/* 6, 7 */
			const struct fg_tariff *t = fg_refdata_tariff(
				rd, al->rule->mineral, al->rule->stage, al->treatment, date);
			if (floor_duty(al, p, t))
				return -1;
		}
	}
	/* 8. */
	al->line_duty = al->base_duty + al->floor_duty;
	return 0;
}

int fg_assess_run(struct fg_assessment *as, const struct fg_refdata *rd, const struct fg_decl *d)
{
	const struct fg_fx *fx = NULL;

	if (d->n_lines > as->cap_lines) {
		struct fg_assessed_line *v = realloc(as->lines, d->n_lines * sizeof(*v));
		if (!v)
			return -1;
		as->lines = v;
		as->cap_lines = d->n_lines;
	}
	as->decl = d;
	as->rd = rd;
	as->n_lines = d->n_lines;
	as->total_value_usd = as->total_base_duty = as->total_floor_duty = as->total_duty = 0;
	if (!is_usd(d->invoice_currency)) {
		fx = fg_refdata_fx(rd, d->invoice_currency.p, d->acceptance_date);
		if (!fx)
			return -1; /* validation rejects this first */
	}
	for (uint32_t i = 0; i < d->n_lines; i++) {
		struct fg_assessed_line *al = &as->lines[i];
		al->in = &d->lines[i];
		if (assess_line(al, rd, d, fx))
			return -1;
		as->total_value_usd += al->value_usd;
		as->total_base_duty += al->base_duty;
		as->total_floor_duty += al->floor_duty;
		as->total_duty += al->line_duty;
	}
	return 0;
}

void fg_assessment_fini(struct fg_assessment *as)
{
	if (!as)
		return;
	free(as->lines);
	free(as->scratch);
	as->lines = NULL;
	as->scratch = NULL;
	as->cap_lines = as->cap_scratch = 0;
}
