#include "fg_gen.h"

#include <stdlib.h>
#include <string.h>

#include "../core/fg_date.h"
#include "../ingest/fg_frame.h"

struct code {
	char digits[11];
	const struct fg_rule *rule; /* NULL: out of scope */
};

struct fg_gen {
	const struct fg_refdata *rd;
	struct fg_gen_opts o;
	uint64_t s;
	uint64_t seq;
	struct code *codes;
	size_t n_codes;
	char (*countries)[3];
	size_t n_countries;
	char (*currencies)[4];
	size_t n_currencies;
};

static const char *const other_countries[] = { "CN", "CD", "ID", "RU", "ZA", "BR", "IN", "KR",
						"TR", "VN", "CA", "NO", "KZ", "ZM", "GA" };
static const char *const out_of_scope[] = { "0901210000", "8471300100", "6403993000",
					    "8703231900", "3004909290", "9403600080" };
static const char *const out_desc[] = { "Roasted coffee, not decaffeinated", "Laptop computers",
					"Leather footwear", "Passenger vehicle 1500cc",
					"Medicaments, retail packs", "Wooden furniture" };
static const char *const ports[] = { "5301", "2704", "1001", "3002", "0901", "4601" };

static uint64_t next(struct fg_gen *g)
{
	/* splitmix64: small, fast, and identical everywhere for a seed */
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(struct fg_gen *g, uint64_t n)
{
	return n ? next(g) % n : 0;
}

struct fg_gen *fg_gen_create(const struct fg_refdata *rd, const struct fg_gen_opts *opts)
{
	struct fg_gen *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->rd = rd;
	g->o = *opts;
	g->s = opts->seed;
	g->codes = calloc(rd->rules.n + FG_ARRAY_LEN(out_of_scope), sizeof(*g->codes));
	g->countries = calloc(rd->n_members + FG_ARRAY_LEN(other_countries), sizeof(*g->countries));
	g->currencies = calloc(rd->n_fx + 1, sizeof(*g->currencies));
	if (!g->codes || !g->countries || !g->currencies) {
		fg_gen_destroy(g);
		return NULL;
	}
	for (size_t i = 0; i < rd->rules.n; i++) {
		const struct fg_rule *r = &rd->rules.v[i];
		struct code *c = &g->codes[g->n_codes++];
		size_t n = r->hs_prefix.len < 10 ? r->hs_prefix.len : 10;
		memcpy(c->digits, r->hs_prefix.p, n);
		for (size_t k = n; k < 10; k++)
			c->digits[k] = '0';
		c->rule = r;
	}
	for (size_t i = 0; i < FG_ARRAY_LEN(out_of_scope); i++)
		memcpy(g->codes[g->n_codes++].digits, out_of_scope[i], 10);
	for (size_t i = 0; i < rd->n_members; i++) {
		uint16_t k = rd->members[i].country;
		char cc[3] = { (char)('A' + k / 26), (char)('A' + k % 26), 0 };
		if (g->n_countries && !strcmp(g->countries[g->n_countries - 1], cc))
			continue;
		memcpy(g->countries[g->n_countries++], cc, 3);
	}
	for (size_t i = 0; i < FG_ARRAY_LEN(other_countries); i++)
		memcpy(g->countries[g->n_countries++], other_countries[i], 3);
	memcpy(g->currencies[g->n_currencies++], "USD", 4);
	for (size_t i = 0; i < rd->n_fx; i++) {
		uint16_t k = rd->fx[i].currency;
		char cur[4] = { (char)('A' + k / 676), (char)('A' + (k / 26) % 26),
				(char)('A' + k % 26), 0 };
		if (strcmp(g->currencies[g->n_currencies - 1], cur))
			memcpy(g->currencies[g->n_currencies++], cur, 4);
	}
	return g;
}

void fg_gen_destroy(struct fg_gen *g)
{
	if (!g)
		return;
	free(g->codes);
	free(g->countries);
	free(g->currencies);
	free(g);
}

enum fault { F_NONE, F_COUNTRY, F_DUP, F_NEG_VALUE, F_CODE, F_NO_LINES, F_MASS, F_CONTENT,
	     F_CURRENCY, F_COUNT };

/* Log-uniform over decades 10^lo .. 10^hi (unscaled units): small lots are common. */
static int64_t draw_decades(struct fg_gen *g, unsigned lo, unsigned hi)
{
	int64_t base = 1;
	unsigned e = lo + (unsigned)below(g, hi - lo);

	while (e--)
		base *= 10;
	return base + (int64_t)below(g, (uint64_t)base * 9);
}

static void put_line(struct fg_gen *g, struct fg_avrobin *w, int32_t item, const struct code *c,
		     int32_t date, enum fault fault)
{
	char desc[96];
	int64_t mass, value;
	const char *origin = g->countries[below(g, g->n_countries)];
	const struct fg_price *p = NULL;

	if (c->rule) {
		const char *kw = c->rule->keyword.len ? c->rule->keyword.p : NULL;
		snprintf(desc, sizeof(desc), "%s%s%s %s", kw ? kw : "",
			 kw ? " " : "", g->rd->minerals[c->rule->mineral],
			 fg_stage_names[c->rule->stage]);
		for (char *d = desc; *d; d++)
			if (*d == '_')
				*d = ' ';
		p = fg_refdata_price(g->rd, c->rule->mineral, c->rule->stage, date);
	} else {
		size_t k = (size_t)(c - g->codes) - g->rd->rules.n;
		snprintf(desc, sizeof(desc), "%s", out_desc[k % FG_ARRAY_LEN(out_desc)]);
	}
	mass = draw_decades(g, 3, 9); /* grams: 1 kg .. 10,000 t */
	if (p) {
		/* value per kg around the floor: 40% .. 160% of the reference price */
		__int128 per_kg_cents = (__int128)p->price_usd.unscaled * 100;
		for (unsigned k = 0; k < p->price_usd.scale; k++)
			per_kg_cents /= 10;
		if (p->unit == FG_UNIT_T)
			per_kg_cents /= 1000;
		else if (p->unit == FG_UNIT_MTU)
			per_kg_cents /= 10;
		else if (p->unit == FG_UNIT_LB)
			per_kg_cents = per_kg_cents * 100000000 / 45359237;
		if (p->basis == FG_BASIS_CONTAINED)
			per_kg_cents = per_kg_cents * p->default_pct.unscaled / 100;
		__int128 v = per_kg_cents * mass / 1000 * (int64_t)(40 + below(g, 121)) / 100;
		value = v > 999999999999999LL ? 999999999999999LL : (int64_t)v;
	} else {
		value = draw_decades(g, 2, 9); /* cents: $1 .. $10M */
	}
	if (fault == F_NEG_VALUE)
		value = -(int64_t)(1 + below(g, 100000));
	if (fault == F_MASS)
		mass = 0;

	fg_avrobin_long(w, item);
	if (fault == F_CODE)
		fg_avrobin_cstr(w, "28469");
	else
		fg_avrobin_bytes(w, c->digits, 10);
	fg_avrobin_cstr(w, desc);
	fg_avrobin_cstr(w, fault == F_COUNTRY ? "xx" : origin);
	fg_avrobin_decimal(w, mass);
	fg_avrobin_decimal(w, value);
	if (fault == F_CONTENT) {
		fg_avrobin_long(w, 1);
		fg_avrobin_cstr(w, "Co");
		fg_avrobin_decimal(w, 1000001); /* 100.0001 % */
	} else if (p && p->basis == FG_BASIS_CONTAINED && below(g, 10) < 7) {
		/* declared grade: default +-30 % relative, kept inside (0, 100] */
		int64_t def = p->default_pct.unscaled;
		for (unsigned k = p->default_pct.scale; k < 4; k++)
			def *= 10;
		for (unsigned k = 4; k < p->default_pct.scale; k++)
			def /= 10;
		int64_t pct = def * (int64_t)(70 + below(g, 61)) / 100;
		if (pct < 1)
			pct = 1;
		if (pct > 1000000)
			pct = 1000000;
		fg_avrobin_long(w, 1);
		fg_avrobin_str(w, p->element);
		fg_avrobin_decimal(w, pct);
	} else {
		fg_avrobin_long(w, 0);
	}
	if (below(g, 4) == 0) {
		fg_avrobin_long(w, 1);
		fg_avrobin_cstr(w, "CMZ");
	} else {
		fg_avrobin_long(w, 0);
	}
}

int fg_gen_next(struct fg_gen *g, int framed, struct fg_avrobin *w, char *key, size_t key_size)
{
	enum fault fault = F_NONE;
	uint64_t seq = g->seq++;
	int32_t date = g->o.date_from + (int32_t)below(g, (uint64_t)(g->o.date_to - g->o.date_from + 1));
	uint32_t n_lines = 1 + (uint32_t)below(g, 4);
	char id[40];

	w->len = 0;
	w->oom = 0;
	snprintf(id, sizeof(id), "FG%02u-%010llu", (unsigned)(g->o.seed % 100),
		 (unsigned long long)seq);
	snprintf(key, key_size, "%s", id);

	if (framed) {
		uint8_t *h = fg_avrobin_room(w, FG_FRAME_HEADER_LEN);
		if (!h)
			return -1;
		fg_frame_header(g->o.schema_id, h);
		w->len = FG_FRAME_HEADER_LEN;
		if (below(g, 1000) < g->o.bad_frame_per_mille) {
			switch (below(g, 4)) {
			case 0: /* shorter than a frame */
				w->len = 3;
				return 0;
			case 1: /* wrong magic */
				w->buf[0] = 1;
				break;
			case 2: /* unknown schema id */
				fg_frame_header(9999, w->buf);
				break;
			default: /* garbage body */
				for (int i = 0; i < 24; i++) {
					uint8_t *b = fg_avrobin_room(w, 1);
					if (!b)
						return -1;
					*b = (uint8_t)next(g);
					w->len++;
				}
				return 0;
			}
		}
	}
	if (below(g, 1000) < g->o.invalid_per_mille)
		fault = (enum fault)(1 + below(g, F_COUNT - 1));

	fg_avrobin_cstr(w, id);
	fg_avrobin_long(w, 1 + (int64_t)below(g, 10) / 8);           /* version, mostly 1 */
	fg_avrobin_long(w, below(g, 10) < 8 ? 0 : 1);                /* ORIGINAL / AMENDMENT */
	fg_avrobin_long(w, 1767225600000LL + (int64_t)seq * 1000);  /* submitted_at */
	fg_avrobin_long(w, date);
	{
		char buf[16];
		snprintf(buf, sizeof(buf), "DCL%04u", (unsigned)below(g, 1000));
		fg_avrobin_cstr(w, buf);
		snprintf(buf, sizeof(buf), "IMP%06u", (unsigned)below(g, 100000));
		fg_avrobin_cstr(w, buf);
	}
	fg_avrobin_cstr(w, ports[below(g, FG_ARRAY_LEN(ports))]);
	fg_avrobin_cstr(w, g->countries[below(g, g->n_countries)]);
	fg_avrobin_cstr(w, fault == F_CURRENCY ? "usd" :
			   below(g, 10) < 6 ? "USD" : g->currencies[below(g, g->n_currencies)]);
	if (fault == F_NO_LINES) {
		fg_avrobin_long(w, 0);
	} else {
		fg_avrobin_long(w, n_lines);
		for (uint32_t i = 0; i < n_lines; i++) {
			/* mostly in scope, some ordinary goods */
			const struct code *c = &g->codes[below(g, 10) < 8 && g->rd->rules.n
								 ? below(g, g->rd->rules.n)
								 : g->rd->rules.n + below(g, FG_ARRAY_LEN(out_of_scope))];
			enum fault lf = i == 0 ? fault : F_NONE;
			int32_t item = (int32_t)i + 1;
			if (fault == F_DUP && i == n_lines - 1 && n_lines > 1)
				item = 1;
			put_line(g, w, item, c, date, lf);
		}
		fg_avrobin_long(w, 0);
	}
	return w->oom ? -1 : 0;
}
