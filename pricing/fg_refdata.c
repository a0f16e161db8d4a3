#include "fg_refdata.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "../core/fg_csv.h"
#include "../core/fg_date.h"

const char *const fg_treatment_names[FG_TREAT_COUNT] = { "MEMBER", "PARTNER", "NON_MEMBER" };

#define FILE_COUNT 6
static const char *const file_names[FILE_COUNT] = {
	"classification.csv", "mfn.csv",        "reference_prices.csv",
	"tariff_parameters.csv", "membership.csv", "fx_rates.csv",
};

/* Loader state for one table file. */
struct loader {
	struct fg_refdata *rd;
	const char *path;
	char *errstr;
	size_t errstr_size;
	const struct fg_csv_field *col[FG_CSV_MAX_FIELDS]; /* by spec column */
	const char *const *names;                             /* spec column names */
	size_t cap_minerals, cap_rules, cap_mfn, cap_prices, cap_tariffs, cap_members, cap_fx;
};

/* Reports a problem with spec column i of the current row. */
__attribute__((format(printf, 3, 4))) static int bad(struct loader *L, int i, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fg_errf(L->errstr, L->errstr_size, "%s:%u:%u: %s: %s", L->path, L->col[i]->line,
		L->col[i]->col, L->names[i], msg);
	return -1;
}

static struct fg_str keep(struct loader *L, struct fg_str s)
{
	char *p = fg_arena_strndup(&L->rd->arena, s.p, s.len);
	return fg_str_make(p, p ? s.len : 0);
}

static int get_nonempty(struct loader *L, int i, struct fg_str *out)
{
	*out = L->col[i]->s;
	if (out->len == 0)
		return bad(L, i, "must not be empty");
	return 0;
}

static int get_date(struct loader *L, int i, int32_t *d)
{
	struct fg_str s = L->col[i]->s;

	if (fg_date_parse(s.p, s.len, d))
		return bad(L, i, "\"%.*s\" is not a date (YYYY-MM-DD)", (int)s.len, s.p);
	return 0;
}

static int get_range(struct loader *L, int i_from, int i_to, struct fg_range *r,
		     unsigned *eff_col)
{
	if (get_date(L, i_from, &r->from))
		return -1;
	*eff_col = L->col[i_from]->col;
	int32_t to;

	if (L->col[i_to]->s.len == 0) {
		r->last = FG_DATE_OPEN;
		return 0;
	}
	if (get_date(L, i_to, &to))
		return -1;
	if (to <= r->from)
		return bad(L, i_to, "must be after effective_from");
	r->last = to - 1; /* to > from: no overflow */
	return 0;
}

/* Non-negative decimal; allow_empty: 1 returns 0 with *present = 0. */
static int get_decimal(struct loader *L, int i, struct fg_decimal *d)
{
	struct fg_str s = L->col[i]->s;
	char why[128];

	if (s.len == 0)
		return bad(L, i, "must not be empty");
	if (fg_decimal_parse(s.p, s.len, d, why, sizeof(why)))
		return bad(L, i, "%s", why);
	if (d->unscaled < 0)
		return bad(L, i, "must not be negative");
	return 0;
}

static int get_enum(struct loader *L, int i, const char *const *names, size_t n, uint32_t *out)
{
	struct fg_str s = L->col[i]->s;

	for (size_t k = 0; k < n; k++)
		if (fg_str_eq_cstr(s, names[k])) {
			*out = (uint32_t)k;
			return 0;
		}
	char list[160] = "";
	for (size_t k = 0; k < n; k++) {
		strncat(list, names[k], sizeof(list) - strlen(list) - 1);
		if (k + 1 < n)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
	}
	return bad(L, i, "unknown value \"%.*s\" (expected one of %s)", (int)s.len, s.p, list);
}

static int get_upper(struct loader *L, int i, size_t len, char *out, const char *what)
{
	struct fg_str s = L->col[i]->s;
	int ok = s.len == len;

	for (size_t k = 0; ok && k < len; k++)
		ok = s.p[k] >= 'A' && s.p[k] <= 'Z';
	if (!ok)
		return bad(L, i, "\"%.*s\" is not %s", (int)s.len, s.p, what);
	memcpy(out, s.p, len);
	return 0;
}

static int intern_mineral(struct loader *L, int i, uint32_t *out)
{
	struct fg_refdata *rd = L->rd;
	struct fg_str s;

	if (get_nonempty(L, i, &s))
		return -1;
	/* Names are C strings from here on (reports, the encoder's lengths). */
	if (memchr(s.p, '\0', s.len))
		return bad(L, i, "mineral name contains a NUL byte");
	for (uint32_t k = 0; k < rd->n_minerals; k++)
		if (fg_str_eq_cstr(s, rd->minerals[k])) {
			*out = k;
			return 0;
		}
	if (rd->n_minerals == L->cap_minerals) {
		size_t cap = L->cap_minerals ? L->cap_minerals * 2 : 16;
		char **m = realloc(rd->minerals, cap * sizeof(*m));
		if (m)
			rd->minerals = m;
		uint32_t *ml = realloc(rd->mineral_len, cap * sizeof(*ml));
		if (ml)
			rd->mineral_len = ml;
		if (!m || !ml)
			return bad(L, i, "out of memory");
		L->cap_minerals = cap;
	}
	if (s.len > UINT32_MAX)
		return bad(L, i, "mineral name of %zu bytes is too long", s.len);
	rd->minerals[rd->n_minerals] = fg_arena_strndup(&rd->arena, s.p, s.len);
	if (!rd->minerals[rd->n_minerals])
		return bad(L, i, "out of memory");
	rd->mineral_len[rd->n_minerals] = (uint32_t)s.len;
	*out = rd->n_minerals++;
	return 0;
}

/* Appends one element to a growing array. */
static void *grow(void **v, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		void *nv = realloc(*v, nc * size);
		if (!nv)
			return NULL;
		*v = nv;
		*cap = nc;
	}
	return (char *)*v + (*n)++ * size;
}

/* ---- classification.csv -------------------------------------------- */
enum { C_RULE_ID, C_HS_PREFIX, C_KEYWORD, C_MINERAL, C_STAGE, C_PRIORITY, C_FROM, C_TO };
static const char *const cls_cols[] = { "rule_id", "hs_prefix", "keyword", "mineral", "stage",
					"priority", "effective_from", "effective_to", NULL };

static int get_prefix(struct loader *L, int i, struct fg_str *out)
{
	struct fg_str s = L->col[i]->s;
	int ok = s.len >= 1 && s.len <= FG_PREFIX_MAX_LEN;

	for (size_t k = 0; ok && k < s.len; k++)
		ok = s.p[k] >= '0' && s.p[k] <= '9';
	if (!ok)
		return bad(L, i, "\"%.*s\" is not 1 to %d ASCII digits", (int)s.len, s.p,
			   FG_PREFIX_MAX_LEN);
	*out = keep(L, s);
	return 0;
}

static int cls_row(struct loader *L)
{
	struct fg_rules *rs = &L->rd->rules;
	struct fg_rule r = { 0 };
	struct fg_str s;
	uint32_t stage = 0; /* set by get_enum() unless it fails */
	char *end;

	if (get_nonempty(L, C_RULE_ID, &s))
		return -1;
	r.rule_id = keep(L, s);
	if (get_prefix(L, C_HS_PREFIX, &r.hs_prefix))
		return -1;
	r.keyword = keep(L, L->col[C_KEYWORD]->s);
	if (intern_mineral(L, C_MINERAL, &r.mineral) ||
	    get_enum(L, C_STAGE, fg_stage_names, FG_STAGE_COUNT, &stage))
		return -1;
	r.stage = (enum fg_stage)stage;
	s = L->col[C_PRIORITY]->s;
	char num[32];
	if (s.len == 0 || s.len >= sizeof(num))
		return bad(L, C_PRIORITY, "\"%.*s\" is not an integer", (int)s.len, s.p);
	memcpy(num, s.p, s.len);
	num[s.len] = '\0';
	errno = 0;
	r.priority = strtoll(num, &end, 10);
	if (errno || *end || end == num || num[0] == '+' || num[0] == ' ')
		return bad(L, C_PRIORITY, "\"%.*s\" is not an integer", (int)s.len, s.p);
	if (get_range(L, C_FROM, C_TO, &r.eff, &r.eff_col))
		return -1;
	r.line = L->col[C_FROM]->line;
	/* A rule_id may name successive versions of a rule (a new row from the
	 * date the old one ends), not two rows in force on the same date: the
	 * tie-break by rule_id and the assessments' rule_id would be ambiguous. */
	for (size_t k = 0; k < rs->n; k++)
		if (fg_str_eq(rs->v[k].rule_id, r.rule_id) && fg_range_overlap(rs->v[k].eff, r.eff))
			return bad(L, C_RULE_ID,
				   "\"%.*s\" is already in force on some of these dates (line %u)",
				   (int)r.rule_id.len, r.rule_id.p, rs->v[k].line);
	struct fg_rule *slot = grow((void **)&rs->v, &rs->n, &L->cap_rules, sizeof(*slot));
	if (!slot)
		return bad(L, C_RULE_ID, "out of memory");
	*slot = r;
	return 0;
}

/* ---- mfn.csv ------------------------------------------------------- */
enum { M_PREFIX, M_PCT, M_FROM, M_TO };
static const char *const mfn_cols[] = { "hs_prefix", "ad_valorem_pct", "effective_from",
					"effective_to", NULL };
static int mfn_row(struct loader *L)
{
	struct fg_mfn m = { 0 };

	if (get_prefix(L, M_PREFIX, &m.hs_prefix) || get_decimal(L, M_PCT, &m.pct) ||
	    get_range(L, M_FROM, M_TO, &m.eff, &m.eff_col))
		return -1;
	m.line = L->col[M_FROM]->line;
	struct fg_mfn *slot = grow((void **)&L->rd->mfn, &L->rd->n_mfn, &L->cap_mfn, sizeof(*slot));
	if (!slot)
		return bad(L, M_PREFIX, "out of memory");
	*slot = m;
	return 0;
}

/* ---- reference_prices.csv ------------------------------------------ */
enum { P_MINERAL, P_STAGE, P_PRICE, P_UNIT, P_BASIS, P_ELEMENT, P_DEFPCT, P_FROM, P_TO };
static const char *const price_cols[] = { "mineral", "stage", "price_usd", "unit", "basis",
					  "content_element", "default_content_pct",
					  "effective_from", "effective_to", NULL };
static const char *const unit_names[] = { "kg", "t", "lb", "mtu" };
static const char *const basis_names[] = { "gross", "contained" };
static int price_row(struct loader *L)
{
	struct fg_price p = { 0 };
	uint32_t stage = 0, unit = 0, basis = 0; /* set by get_enum() unless it fails */

	if (intern_mineral(L, P_MINERAL, &p.mineral) ||
	    get_enum(L, P_STAGE, fg_stage_names, FG_STAGE_COUNT, &stage) ||
	    get_decimal(L, P_PRICE, &p.price_usd) || get_enum(L, P_UNIT, unit_names, 4, &unit) ||
	    get_enum(L, P_BASIS, basis_names, 2, &basis))
		return -1;
	p.stage = (enum fg_stage)stage;
	p.unit = (enum fg_unit)unit;
	p.basis = (enum fg_basis)basis;
	if (p.basis == FG_BASIS_CONTAINED) {
		struct fg_str e;
		if (get_nonempty(L, P_ELEMENT, &e) || get_decimal(L, P_DEFPCT, &p.default_pct))
			return -1;
		p.element = keep(L, e);
		/* 0 < pct <= 100, compared exactly: unscaled vs 100 * 10^scale */
		__int128 hundred = 100;
		for (unsigned k = 0; k < p.default_pct.scale; k++)
			hundred *= 10;
		if (p.default_pct.unscaled <= 0 || p.default_pct.unscaled > hundred)
			return bad(L, P_DEFPCT, "must be above 0 and at most 100");
	}
	if (get_range(L, P_FROM, P_TO, &p.eff, &p.eff_col))
		return -1;
	p.line = L->col[P_FROM]->line;
	struct fg_price *slot =
		grow((void **)&L->rd->prices, &L->rd->n_prices, &L->cap_prices, sizeof(*slot));
	if (!slot)
		return bad(L, P_MINERAL, "out of memory");
	*slot = p;
	return 0;
}

/* ---- tariff_parameters.csv ----------------------------------------- */
enum { T_MINERAL, T_STAGE, T_TREATMENT, T_GAP, T_CAP, T_FROM, T_TO };
static const char *const tariff_cols[] = { "mineral", "stage", "treatment", "gap_share",
					   "cap_pct", "effective_from", "effective_to", NULL };
static int tariff_row(struct loader *L)
{
	struct fg_tariff t = { 0 };
	uint32_t treat = 0;

	if (fg_str_eq_cstr(L->col[T_MINERAL]->s, "*"))
		t.mineral = FG_REFDATA_ANY;
	else if (intern_mineral(L, T_MINERAL, &t.mineral))
		return -1;
	if (fg_str_eq_cstr(L->col[T_STAGE]->s, "*"))
		t.stage = FG_REFDATA_ANY;
	else if (get_enum(L, T_STAGE, fg_stage_names, FG_STAGE_COUNT, &t.stage))
		return -1;
	if (get_enum(L, T_TREATMENT, fg_treatment_names, FG_TREAT_COUNT, &treat) ||
	    get_decimal(L, T_GAP, &t.gap_share))
		return -1;
	t.treatment = (enum fg_treatment)treat;
	if (L->col[T_CAP]->s.len) {
		if (get_decimal(L, T_CAP, &t.cap_pct))
			return -1;
		t.has_cap = 1;
	}
	if (get_range(L, T_FROM, T_TO, &t.eff, &t.eff_col))
		return -1;
	t.line = L->col[T_FROM]->line;
	struct fg_tariff *slot =
		grow((void **)&L->rd->tariffs, &L->rd->n_tariffs, &L->cap_tariffs, sizeof(*slot));
	if (!slot)
		return bad(L, T_MINERAL, "out of memory");
	*slot = t;
	return 0;
}

/* ---- membership.csv ------------------------------------------------ */
enum { B_COUNTRY, B_TREATMENT, B_AGREEMENT, B_FROM, B_TO };
static const char *const member_cols[] = { "country", "treatment", "agreement",
					   "effective_from", "effective_to", NULL };
static int member_row(struct loader *L)
{
	struct fg_member m = { 0 };
	char cc[2];
	uint32_t treat = 0; /* set by get_enum() unless it fails */

	if (get_upper(L, B_COUNTRY, 2, cc, "two ASCII capital letters") ||
	    get_enum(L, B_TREATMENT, fg_treatment_names, FG_TREAT_NON_MEMBER, &treat) ||
	    get_range(L, B_FROM, B_TO, &m.eff, &m.eff_col))
		return -1;
	m.country = fg_refdata_country_key(cc);
	m.treatment = (enum fg_treatment)treat;
	m.agreement = keep(L, L->col[B_AGREEMENT]->s);
	m.line = L->col[B_FROM]->line;
	struct fg_member *slot =
		grow((void **)&L->rd->members, &L->rd->n_members, &L->cap_members, sizeof(*slot));
	if (!slot)
		return bad(L, B_COUNTRY, "out of memory");
	*slot = m;
	return 0;
}

/* ---- fx_rates.csv -------------------------------------------------- */
enum { X_CURRENCY, X_DATE, X_RATE };
static const char *const fx_cols[] = { "currency", "date", "usd_per_unit", NULL };
static int fx_row(struct loader *L)
{
	struct fg_fx x = { 0 };
	char cur[3] = { 0 };

	if (get_upper(L, X_CURRENCY, 3, cur, "three ASCII capital letters") ||
	    get_date(L, X_DATE, &x.date) || get_decimal(L, X_RATE, &x.usd_per_unit))
		return -1;
	if (x.usd_per_unit.unscaled == 0)
		return bad(L, X_RATE, "must be above 0");
	x.currency = fg_refdata_currency_key(cur);
	x.eff_col = L->col[X_DATE]->col;
	x.line = L->col[X_DATE]->line;
	struct fg_fx *slot = grow((void **)&L->rd->fx, &L->rd->n_fx, &L->cap_fx, sizeof(*slot));
	if (!slot)
		return bad(L, X_CURRENCY, "out of memory");
	*slot = x;
	return 0;
}

/* ---- reading one file ---------------------------------------------- */
static char *slurp(const char *path, size_t *len, char *errstr, size_t errstr_size)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f) {
		fg_errf(errstr, errstr_size, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto err;
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		goto err;
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
err:
	fg_errf(errstr, errstr_size, "%s: cannot read: %s", path, strerror(errno ? errno : EIO));
	free(buf);
	fclose(f);
	return NULL;
}

static int load_table(struct loader *L, const char *buf, size_t len, const char *const *cols,
		      int (*row)(struct loader *))
{
	struct fg_csv c;
	struct fg_csv_record hdr, rec;
	char why[160];
	int map[FG_CSV_MAX_FIELDS]; /* csv column -> spec column */
	size_t ncols = 0;
	int rc;

	while (cols[ncols])
		ncols++;
	L->names = cols;
	if (fg_csv_init(&c, buf, len)) {
		fg_errf(L->errstr, L->errstr_size, "%s: out of memory", L->path);
		return -1;
	}
	rc = fg_csv_next(&c, &hdr, why, sizeof(why));
	if (rc <= 0) {
		fg_errf(L->errstr, L->errstr_size, "%s:%s", L->path,
			rc == 0 ? "1:1: empty file, expected a header row" : why);
		goto err;
	}
	{
		int seen[FG_CSV_MAX_FIELDS] = { 0 };
		for (unsigned k = 0; k < hdr.n; k++) {
			struct fg_str h = hdr.f[k].s;
			map[k] = -1;
			for (size_t s = 0; s < ncols; s++)
				if (fg_str_eq_cstr(h, cols[s]))
					map[k] = (int)s;
			if (map[k] < 0 || seen[map[k]]) {
				fg_errf(L->errstr, L->errstr_size,
					"%s:%u:%u: header: %s column \"%.*s\"", L->path,
					hdr.f[k].line, hdr.f[k].col,
					map[k] < 0 ? "unknown" : "repeated", (int)h.len, h.p);
				goto err;
			}
			seen[map[k]] = 1;
		}
		for (size_t s = 0; s < ncols; s++)
			if (!seen[s]) {
				fg_errf(L->errstr, L->errstr_size,
					"%s:1:1: header: missing column \"%s\"", L->path, cols[s]);
				goto err;
			}
	}
	while ((rc = fg_csv_next(&c, &rec, why, sizeof(why))) == 1) {
		if (rec.n == 1 && rec.f[0].s.len == 0)
			continue; /* blank line */
		if (rec.n != hdr.n) {
			/* Point at the first field too many, or at the last one of a short row. */
			const struct fg_csv_field *at = &rec.f[rec.n > hdr.n ? hdr.n : rec.n - 1];
			fg_errf(L->errstr, L->errstr_size,
				"%s:%u:%u: row has %u fields, the header has %u", L->path,
				at->line, at->col, rec.n, hdr.n);
			goto err;
		}
		for (unsigned k = 0; k < rec.n; k++)
			L->col[map[k]] = &rec.f[k];
		if (row(L))
			goto err;
	}
	if (rc < 0) {
		fg_errf(L->errstr, L->errstr_size, "%s:%s", L->path, why);
		goto err;
	}
	fg_csv_fini(&c);
	return 0;
err:
	fg_csv_fini(&c);
	return -1;
}

/* ---- overlap checks and indexes -------------------------------------- */
static int overlap_err(struct loader *L, const char *file, unsigned line, unsigned col,
		       unsigned other, const char *key)
{
	fg_errf(L->errstr, L->errstr_size,
		"%s/%s:%u:%u: effective range overlaps line %u for the same %s", L->rd->dir, file,
		line, col, other, key);
	return -1;
}

#define SORT_FN(name, type, ...)                                                             \
	static int name(const void *pa, const void *pb)                                      \
	{                                                                                    \
		const type *a = pa, *b = pb;                                                 \
		__VA_ARGS__                                                                  \
		if (a->eff.from != b->eff.from)                                              \
			return a->eff.from < b->eff.from ? -1 : 1;                           \
		return 0;                                                                    \
	}

SORT_FN(mfn_cmp, struct fg_mfn, {
	int c = fg_str_cmp(a->hs_prefix, b->hs_prefix);
	if (c)
		return c;
})
SORT_FN(price_cmp, struct fg_price, {
	if (a->mineral != b->mineral)
		return a->mineral < b->mineral ? -1 : 1;
	if (a->stage != b->stage)
		return a->stage < b->stage ? -1 : 1;
})
SORT_FN(tariff_cmp, struct fg_tariff, {
	if (a->mineral != b->mineral)
		return a->mineral < b->mineral ? -1 : 1;
	if (a->stage != b->stage)
		return a->stage < b->stage ? -1 : 1;
	if (a->treatment != b->treatment)
		return a->treatment < b->treatment ? -1 : 1;
})
SORT_FN(member_cmp, struct fg_member, {
	if (a->country != b->country)
		return a->country < b->country ? -1 : 1;
})

static int fx_cmp(const void *pa, const void *pb)
{
	const struct fg_fx *a = pa, *b = pb;

	if (a->currency != b->currency)
		return a->currency < b->currency ? -1 : 1;
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

/*
 * After sorting by key then from, a row overlaps an earlier one of the
 * same key exactly when it starts on or before the latest last day seen
 * so far. The later line of the pair is reported.
 */
#define CHECK_OVERLAPS(L, file, arr, n, same_key, keyname)                                  \
	do {                                                                                 \
		int32_t max_last = 0;                                                        \
		size_t max_i = 0;                                                            \
		for (size_t i = 0; i < (n); i++) {                                           \
			if (i > 0 && same_key(&(arr)[i - 1], &(arr)[i]) &&                   \
			    (arr)[i].eff.from <= max_last) {                                 \
				const __typeof__((arr)[0]) *x = &(arr)[i], *y = &(arr)[max_i];    \
				if (x->line < y->line) {                                     \
					const __typeof__((arr)[0]) *t = x;                   \
					x = y;                                               \
					y = t;                                               \
				}                                                            \
				return overlap_err(L, file, x->line, x->eff_col, y->line,    \
						   keyname);                                 \
			}                                                                    \
			if (i == 0 || !same_key(&(arr)[i - 1], &(arr)[i]) ||                 \
			    (arr)[i].eff.last > max_last) {                                  \
				max_last = (arr)[i].eff.last;                                \
				max_i = i;                                                   \
			}                                                                    \
		}                                                                            \
	} while (0)

static int same_mfn(const struct fg_mfn *a, const struct fg_mfn *b)
{
	return fg_str_eq(a->hs_prefix, b->hs_prefix);
}
static int same_price(const struct fg_price *a, const struct fg_price *b)
{
	return a->mineral == b->mineral && a->stage == b->stage;
}
static int same_tariff(const struct fg_tariff *a, const struct fg_tariff *b)
{
	return a->mineral == b->mineral && a->stage == b->stage && a->treatment == b->treatment;
}
static int same_member(const struct fg_member *a, const struct fg_member *b)
{
	return a->country == b->country;
}

/* Classification rows collide when prefix and keyword (ignoring case) agree. */
static int rules_overlap(struct loader *L)
{
	const struct fg_rules *rs = &L->rd->rules;

	for (size_t i = 0; i < rs->n; i++)
		for (size_t j = i + 1; j < rs->n && fg_str_eq(rs->v[j].hs_prefix, rs->v[i].hs_prefix);
		     j++) {
			const struct fg_rule *a = &rs->v[i], *b = &rs->v[j];
			if (a->keyword.len != b->keyword.len ||
			    !fg_rules_contains_nocase(a->keyword, b->keyword) ||
			    !fg_range_overlap(a->eff, b->eff))
				continue;
			const struct fg_rule *x = a->line > b->line ? a : b;
			const struct fg_rule *y = a->line > b->line ? b : a;
			fg_errf(L->errstr, L->errstr_size,
				"%s/classification.csv:%u:%u: rule %.*s overlaps rule %.*s "
				"(line %u): same hs_prefix and keyword on some date",
				L->rd->dir, x->line, x->eff_col, (int)x->rule_id.len, x->rule_id.p,
				(int)y->rule_id.len, y->rule_id.p, y->line);
			return -1;
		}
	return 0;
}

static uint32_t tariff_slot(const struct fg_refdata *rd, uint32_t mineral, uint32_t stage,
			    uint32_t treatment)
{
	uint32_t m = mineral == FG_REFDATA_ANY ? rd->n_minerals : mineral;
	uint32_t s = stage == FG_REFDATA_ANY ? FG_STAGE_COUNT : stage;
	return (m * (FG_STAGE_COUNT + 1) + s) * FG_TREAT_COUNT + treatment;
}

/* The four slots of fg_refdata_tariff()'s fallback for one real key, most specific first. */
static void tariff_fallback(const struct fg_refdata *rd, uint32_t m, uint32_t s, uint32_t t,
			    uint32_t slot[4])
{
	slot[0] = tariff_slot(rd, m, s, t);
	slot[1] = tariff_slot(rd, m, FG_REFDATA_ANY, t);
	slot[2] = tariff_slot(rd, FG_REFDATA_ANY, s, t);
	slot[3] = tariff_slot(rd, FG_REFDATA_ANY, FG_REFDATA_ANY, t);
}

/*
 * The chains repeat the generic rows once per mineral and stage: a table set
 * with very many of both could make them large, so past this many entries
 * (4 MB) there are none and fg_refdata_tariff() walks the four slots.
 */
#define TARIFF_CHAIN_MAX (1u << 20)

/* Lays out tariff_chain (see fg_refdata.h): the fallback walked once, here. */
static int build_tariff_chains(struct fg_refdata *rd)
{
	size_t nkeys = (size_t)rd->n_minerals * FG_STAGE_COUNT * FG_TREAT_COUNT, total = 0, o = 0;
	uint32_t slot[4];

	for (uint32_t m = 0; m < rd->n_minerals; m++)
		for (uint32_t s = 0; s < FG_STAGE_COUNT; s++)
			for (uint32_t t = 0; t < FG_TREAT_COUNT; t++) {
				tariff_fallback(rd, m, s, t, slot);
				for (int j = 0; j < 4; j++)
					total += rd->tariff_count[slot[j]];
			}
	if (total > TARIFF_CHAIN_MAX)
		return 0;
	rd->tariff_chain = malloc((total + 1) * sizeof(uint32_t));
	rd->chain_first = malloc((nkeys + 1) * sizeof(uint32_t));
	rd->chain_count = malloc((nkeys + 1) * sizeof(uint32_t));
	if (!rd->tariff_chain || !rd->chain_first || !rd->chain_count)
		return -1;
	for (uint32_t m = 0; m < rd->n_minerals; m++)
		for (uint32_t s = 0; s < FG_STAGE_COUNT; s++)
			for (uint32_t t = 0; t < FG_TREAT_COUNT; t++) {
				size_t key = ((size_t)m * FG_STAGE_COUNT + s) * FG_TREAT_COUNT + t;
				tariff_fallback(rd, m, s, t, slot);
				rd->chain_first[key] = (uint32_t)o;
				for (int j = 0; j < 4; j++)
					for (uint32_t c = 0; c < rd->tariff_count[slot[j]]; c++)
						rd->tariff_chain[o++] = rd->tariff_first[slot[j]] + c;
				rd->chain_count[key] = (uint32_t)(o - rd->chain_first[key]);
			}
	return 0;
}

static int build_indexes(struct loader *L)
{
	struct fg_refdata *rd = L->rd;

	if (fg_rules_build(&rd->rules))
		return -1;
	if (rules_overlap(L))
		return -1;

	if (rd->n_mfn)
		qsort(rd->mfn, rd->n_mfn, sizeof(*rd->mfn), mfn_cmp);
	CHECK_OVERLAPS(L, "mfn.csv", rd->mfn, rd->n_mfn, same_mfn, "hs_prefix");
	{
		/* One index over both tables' prefixes: a line's code is probed
		 * once per length for its rule and its MFN row together. */
		struct fg_str *p = malloc((rd->rules.n + rd->n_mfn + 1) * sizeof(*p));
		if (!p)
			return -1;
		for (size_t i = 0; i < rd->rules.n; i++)
			p[i] = rd->rules.v[i].hs_prefix;
		for (size_t i = 0; i < rd->n_mfn; i++)
			p[rd->rules.n + i] = rd->mfn[i].hs_prefix;
		int rc = fg_prefix_index_build2(&rd->code_ix, p, rd->rules.n, p + rd->rules.n,
						rd->n_mfn);
		free(p);
		if (rc)
			return -1;
	}

	if (rd->n_prices)
		qsort(rd->prices, rd->n_prices, sizeof(*rd->prices), price_cmp);
	CHECK_OVERLAPS(L, "reference_prices.csv", rd->prices, rd->n_prices, same_price,
		       "mineral and stage");
	rd->price_first = calloc((size_t)rd->n_minerals * FG_STAGE_COUNT + 1, sizeof(uint32_t));
	rd->price_count = calloc((size_t)rd->n_minerals * FG_STAGE_COUNT + 1, sizeof(uint32_t));
	if (!rd->price_first || !rd->price_count)
		return -1;
	for (size_t i = rd->n_prices; i-- > 0;) {
		uint32_t k = rd->prices[i].mineral * FG_STAGE_COUNT + rd->prices[i].stage;
		rd->price_first[k] = (uint32_t)i;
		rd->price_count[k]++;
	}

	/* '*' (FG_REFDATA_ANY) sorts last, after every real mineral and stage. */
	if (rd->n_tariffs)
		qsort(rd->tariffs, rd->n_tariffs, sizeof(*rd->tariffs), tariff_cmp);
	CHECK_OVERLAPS(L, "tariff_parameters.csv", rd->tariffs, rd->n_tariffs, same_tariff,
		       "mineral, stage and treatment");
	size_t nslots = (size_t)(rd->n_minerals + 1) * (FG_STAGE_COUNT + 1) * FG_TREAT_COUNT;
	rd->tariff_first = calloc(nslots, sizeof(uint32_t));
	rd->tariff_count = calloc(nslots, sizeof(uint32_t));
	if (!rd->tariff_first || !rd->tariff_count)
		return -1;
	for (size_t i = rd->n_tariffs; i-- > 0;) {
		const struct fg_tariff *t = &rd->tariffs[i];
		uint32_t k = tariff_slot(rd, t->mineral, t->stage, t->treatment);
		rd->tariff_first[k] = (uint32_t)i;
		rd->tariff_count[k]++;
	}
	if (build_tariff_chains(rd))
		return -1;

	if (rd->n_members)
		qsort(rd->members, rd->n_members, sizeof(*rd->members), member_cmp);
	CHECK_OVERLAPS(L, "membership.csv", rd->members, rd->n_members, same_member, "country");
	for (size_t i = rd->n_members; i-- > 0;) {
		rd->member_first[rd->members[i].country] = (uint32_t)i;
		rd->member_count[rd->members[i].country]++;
	}

	if (rd->n_fx)
		qsort(rd->fx, rd->n_fx, sizeof(*rd->fx), fx_cmp);
	for (size_t i = 1; i < rd->n_fx; i++) {
		const struct fg_fx *a = &rd->fx[i - 1], *b = &rd->fx[i];
		if (a->currency == b->currency && a->date == b->date) {
			fg_errf(L->errstr, L->errstr_size,
				"%s/fx_rates.csv:%u:%u: a rate for the same currency and date is "
				"on line %u",
				rd->dir, b->line, b->eff_col, a->line);
			return -1;
		}
	}
	for (size_t i = rd->n_fx; i-- > 0;) {
		rd->fx_first[rd->fx[i].currency] = (uint32_t)i;
		rd->fx_count[rd->fx[i].currency]++;
	}
	return 0;
}

struct fg_refdata *fg_refdata_load(const char *dir, char *errstr, size_t errstr_size)
{
	static int (*const rows[FILE_COUNT])(struct loader *) = {
		cls_row, mfn_row, price_row, tariff_row, member_row, fx_row,
	};
	static const char *const *const cols[FILE_COUNT] = {
		cls_cols, mfn_cols, price_cols, tariff_cols, member_cols, fx_cols,
	};
	struct fg_refdata *rd = calloc(1, sizeof(*rd));
	struct loader L = { .rd = rd, .errstr = errstr, .errstr_size = errstr_size };
	XXH3_state_t *xs = XXH3_createState();
	char path[4096];

	if (!rd || !xs) {
		fg_errf(errstr, errstr_size, "out of memory");
		goto err;
	}
	/* a missing or mistyped directory is named as such, not as its first file */
	struct stat st;
	if (stat(dir, &st) != 0) {
		fg_errf(errstr, errstr_size, "%s: %s", dir[0] ? dir : "(empty path)", strerror(errno));
		goto err;
	}
	if (!S_ISDIR(st.st_mode)) {
		fg_errf(errstr, errstr_size, "%s: not a directory", dir);
		goto err;
	}
	rd->dir = strdup(dir);
	XXH3_128bits_reset(xs);
	for (int i = 0; i < FILE_COUNT; i++) {
		size_t len;
		char *buf;
		uint64_t len64;

		snprintf(path, sizeof(path), "%s/%s", dir, file_names[i]);
		buf = slurp(path, &len, errstr, errstr_size);
		if (!buf)
			goto err;
		len64 = len;
		XXH3_128bits_update(xs, file_names[i], strlen(file_names[i]) + 1);
		XXH3_128bits_update(xs, &len64, sizeof(len64));
		XXH3_128bits_update(xs, buf, len);
		L.path = path;
		int rc = load_table(&L, buf, len, cols[i], rows[i]);
		free(buf);
		if (rc)
			goto err;
	}
	if (build_indexes(&L)) {
		if (!errstr || !errstr[0])
			fg_errf(errstr, errstr_size, "%s: out of memory", dir);
		goto err;
	}
	XXH128_hash_t h = XXH3_128bits_digest(xs);
	snprintf(rd->fingerprint, sizeof(rd->fingerprint), "%016llx%016llx",
		 (unsigned long long)h.high64, (unsigned long long)h.low64);
	XXH3_freeState(xs);
	return rd;
err:
	XXH3_freeState(xs);
	fg_refdata_destroy(rd);
	return NULL;
}

void fg_refdata_destroy(struct fg_refdata *rd)
{
	if (!rd)
		return;
	fg_rules_fini(&rd->rules);
	free(rd->rules.v);
	fg_prefix_index_fini(&rd->code_ix);
	free(rd->mfn);
	free(rd->prices);
	free(rd->price_first);
	free(rd->price_count);
	free(rd->tariffs);
	free(rd->tariff_first);
	free(rd->tariff_count);
	free(rd->tariff_chain);
	free(rd->chain_first);
	free(rd->chain_count);
	free(rd->members);
	free(rd->fx);
	free(rd->minerals);
	free(rd->mineral_len);
	free(rd->dir);
	fg_arena_free(&rd->arena);
	free(rd);
}

/* ---- lookups ------------------------------------------------------- */
static const struct fg_mfn *mfn_run(const struct fg_refdata *rd, const struct fg_prefix_slot *s,
				    int32_t date)
{
	for (uint32_t i = s->first[1]; i < s->first[1] + s->count[1]; i++)
		if (fg_range_has(rd->mfn[i].eff, date))
			return &rd->mfn[i];
	return NULL;
}

const struct fg_mfn *fg_refdata_mfn_probe(const struct fg_refdata *rd,
					  const struct fg_prefix_probe *pr, int32_t date)
{
	uint32_t len;

	for (uint32_t m = fg_prefix_lengths(&rd->code_ix, pr); m; m &= ~(1u << len)) {
		len = fg_prefix_top(m);
		const struct fg_prefix_slot *s = fg_prefix_index_find_key(&rd->code_ix, pr->key[len]);
		const struct fg_mfn *row;
		if (s && s->count[1] && (row = mfn_run(rd, s, date)))
			return row;
	}
	return NULL;
}

void fg_refdata_line_lookup(const struct fg_refdata *rd, const struct fg_prefix_probe *pr,
			    struct fg_str description, int32_t date, const struct fg_rule **rule,
			    const struct fg_mfn **mfn)
{
	struct fg_rules_text t;
	uint32_t len;
	int need_rule = 1, need_mfn = 1;

	fg_rules_text_init(&t, description);
	*rule = NULL;
	*mfn = NULL;
	for (uint32_t m = fg_prefix_lengths(&rd->code_ix, pr); m && (need_rule || need_mfn);
	     m &= ~(1u << len)) {
		len = fg_prefix_top(m);
		const struct fg_prefix_slot *s = fg_prefix_index_find_key(&rd->code_ix, pr->key[len]);
		if (!s)
			continue;
		if (need_rule && s->count[0] &&
		    (*rule = fg_rules_match_run_text(&rd->rules, s->first[0], s->count[0], &t,
						     date)))
			need_rule = 0;
		if (need_mfn && s->count[1] && (*mfn = mfn_run(rd, s, date)))
			need_mfn = 0;
	}
}

const struct fg_mfn *fg_refdata_mfn(const struct fg_refdata *rd, struct fg_str code, int32_t date)
{
	struct fg_prefix_probe pr;

	fg_prefix_probe_init(&pr, code.p, code.len);
	return fg_refdata_mfn_probe(rd, &pr, date);
}

const struct fg_price *fg_refdata_price(const struct fg_refdata *rd, uint32_t mineral,
					enum fg_stage stage, int32_t date)
{
	uint32_t k = mineral * FG_STAGE_COUNT + stage;

	for (uint32_t i = rd->price_first[k]; i < rd->price_first[k] + rd->price_count[k]; i++)
		if (fg_range_has(rd->prices[i].eff, date))
			return &rd->prices[i];
	return NULL;
}

static const struct fg_tariff *tariff_at(const struct fg_refdata *rd, uint32_t k, int32_t date)
{
	for (uint32_t i = rd->tariff_first[k]; i < rd->tariff_first[k] + rd->tariff_count[k]; i++)
		if (fg_range_has(rd->tariffs[i].eff, date))
			return &rd->tariffs[i];
	return NULL;
}

const struct fg_tariff *fg_refdata_tariff(const struct fg_refdata *rd, uint32_t mineral,
					  enum fg_stage stage, enum fg_treatment t, int32_t date)
{
	const struct fg_tariff *r;

	if (rd->chain_first && mineral < rd->n_minerals && (uint32_t)stage < FG_STAGE_COUNT &&
	    (uint32_t)t < FG_TREAT_COUNT) {
		size_t key = ((size_t)mineral * FG_STAGE_COUNT + stage) * FG_TREAT_COUNT + t;
		const uint32_t *c = rd->tariff_chain + rd->chain_first[key];
		for (uint32_t i = 0; i < rd->chain_count[key]; i++)
			if (fg_range_has(rd->tariffs[c[i]].eff, date))
				return &rd->tariffs[c[i]];
		return NULL;
	}
	if ((r = tariff_at(rd, tariff_slot(rd, mineral, stage, t), date)) ||
	    (r = tariff_at(rd, tariff_slot(rd, mineral, FG_REFDATA_ANY, t), date)) ||
	    (r = tariff_at(rd, tariff_slot(rd, FG_REFDATA_ANY, stage, t), date)))
		return r;
	return tariff_at(rd, tariff_slot(rd, FG_REFDATA_ANY, FG_REFDATA_ANY, t), date);
}

enum fg_treatment fg_refdata_treatment(const struct fg_refdata *rd, const char *country,
				       int32_t date)
{
	uint16_t k = fg_refdata_country_key(country);

	for (uint32_t i = rd->member_first[k]; i < rd->member_first[k] + rd->member_count[k]; i++)
		if (fg_range_has(rd->members[i].eff, date))
			return rd->members[i].treatment;
	return FG_TREAT_NON_MEMBER;
}

const struct fg_fx *fg_refdata_fx(const struct fg_refdata *rd, const char *currency, int32_t date)
{
	uint16_t k = fg_refdata_currency_key(currency);
	uint32_t lo = rd->fx_first[k], n = rd->fx_count[k];
	const struct fg_fx *best = NULL;

	/* Binary search for the last row with row.date <= date. */
	while (n > 0) {
		uint32_t half = n / 2;
		if (rd->fx[lo + half].date <= date) {
			best = &rd->fx[lo + half];
			lo += half + 1;
			n -= half + 1;
		} else {
			n = half;
		}
	}
	return best;
}
