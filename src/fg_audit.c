/* fg_audit.c: the join, the field diff and the totals of `audit` and `whatif` (fg_audit.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "../core/fg_avrobin.h"
#include "../core/fg_date.h"
#include "../core/fg_decimal.h"
#include "../ingest/fg_schemas.h"
#include "fg_audit.h"
#include "fg_spill.h"

enum { OUT_ASSESSMENT = 0, OUT_DEAD_LETTER = 1 };

/* ---- money text ------------------------------------------------------- */

int fg_audit_parse_money(const char *s, fg_money_t *out)
{
	fg_money_t v = 0;
	int neg = 0, digits = 0, frac = -1;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	for (; *s; s++) {
		if (*s == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || frac == 2 || digits >= 30)
			return -1;
		v = v * 10 + (*s - '0');
		digits++;
		if (frac >= 0)
			frac++;
	}
	if (!digits)
		return -1;
	for (int i = frac < 0 ? 0 : frac; i < 2; i++)
		v *= 10;
	*out = neg ? -v : v;
	return 0;
}

const char *fg_audit_money_str(fg_money_t v, int grouped, char *buf, size_t size)
{
	char raw[64];
	fg_decimal_format(v, 2, raw, sizeof(raw));
	if (!grouped) {
		snprintf(buf, size, "%s", raw);
		return buf;
	}
	const char *p = raw;
	size_t o = 0;
	if (*p == '-' && o + 1 < size)
		buf[o++] = *p++;
	size_t intlen = strcspn(p, ".");
	for (size_t i = 0; p[i] && o + 1 < size; i++) {
		if (i && i < intlen && (intlen - i) % 3 == 0 && o + 2 < size)
			buf[o++] = ',';
		buf[o++] = p[i];
	}
	buf[o] = 0;
	return buf;
}

static fg_money_t money_abs(fg_money_t v)
{
	return v < 0 ? -v : v;
}

/* ---- tallies ---------------------------------------------------------- */

static struct fg_audit_tally *dim_get(struct fg_audit_dim *d, const char *name)
{
	uint64_t h = XXH3_64bits(name, strlen(name));
	if (d->idx_cap == 0 || (d->n + 1) * 2 > d->idx_cap) {
		size_t ncap = d->idx_cap ? d->idx_cap * 2 : 64;
		uint32_t *idx = malloc(ncap * sizeof(*idx));
		if (!idx)
			return NULL;
		memset(idx, 0xff, ncap * sizeof(*idx));
		for (size_t i = 0; i < d->n; i++) {
			uint64_t hh = XXH3_64bits(d->v[i].name, strlen(d->v[i].name));
			size_t j = hh & (ncap - 1);
			while (idx[j] != UINT32_MAX)
				j = (j + 1) & (ncap - 1);
			idx[j] = (uint32_t)i;
		}
		free(d->idx);
		d->idx = idx;
		d->idx_cap = ncap;
	}
	size_t j = h & (d->idx_cap - 1);
	while (d->idx[j] != UINT32_MAX) {
		if (!strcmp(d->v[d->idx[j]].name, name))
			return &d->v[d->idx[j]];
		j = (j + 1) & (d->idx_cap - 1);
	}
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 32;
		struct fg_audit_tally *v = realloc(d->v, ncap * sizeof(*v));
		if (!v)
			return NULL;
		d->v = v;
		d->cap = ncap;
	}
	struct fg_audit_tally *t = &d->v[d->n];
	memset(t, 0, sizeof(*t));
	t->name = strdup(name);
	if (!t->name)
		return NULL;
	d->idx[j] = (uint32_t)d->n++;
	return t;
}

static void dim_fini(struct fg_audit_dim *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	free(d->idx);
	memset(d, 0, sizeof(*d));
}

/* ---- flatten: Avro record -> key + payload ---------------------------- */

static const char *const money_fields[] = {
	"value_usd",       "base_duty",        "floor_duty", "line_duty",
	"total_value_usd", "total_base_duty",  "total_floor_duty", "total_duty",
};

static int is_money(const char *f)
{
	for (size_t i = 0; f && i < FG_ARRAY_LEN(money_fields); i++)
		if (!strcmp(f, money_fields[i]))
			return 1;
	return 0;
}

/* Provenance and free text, never compared. */
static int not_compared(const struct fg_audit *a, const char *f)
{
	static const char *const skip[] = { "source_topic", "source_partition", "source_offset",
					    "source_index", "source_file",      "payload",
					    "message" };
	for (size_t i = 0; i < FG_ARRAY_LEN(skip); i++)
		if (!strcmp(f, skip[i]))
			return 1;
	for (size_t i = 0; i < a->o.n_ignore; i++)
		if (!strcmp(f, a->o.ignore[i]))
			return 1;
	return 0;
}

struct text {
	char *p;
	size_t len, cap;
};

static int text_put(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t ncap = (t->len + n + 1) * 2;
		char *p = realloc(t->p, ncap);
		if (!p)
			return -1;
		t->p = p;
		t->cap = ncap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = 0;
	return 0;
}

/* The value as text: decimals as decimal strings, dates as YYYY-MM-DD, arrays joined by '|'. */
static int value_text(avro_value_t *v, const char *field, struct text *t)
{
	char b[96];
	switch (avro_value_get_type(v)) {
	case AVRO_NULL:
		return text_put(t, "null", 4);
	case AVRO_BOOLEAN: {
		int x = 0;
		avro_value_get_boolean(v, &x);
		return text_put(t, x ? "true" : "false", x ? 4 : 5);
	}
	case AVRO_INT32: {
		int32_t x = 0;
		avro_value_get_int(v, &x);
		if (field && !strcmp(field, "acceptance_date"))
			fg_date_format(x, b);
		else
			snprintf(b, sizeof(b), "%d", (int)x);
		return text_put(t, b, strlen(b));
	}
	case AVRO_INT64: {
		int64_t x = 0;
		avro_value_get_long(v, &x);
		snprintf(b, sizeof(b), "%lld", (long long)x);
		return text_put(t, b, strlen(b));
	}
	case AVRO_FLOAT:
	case AVRO_DOUBLE: {
		double x = 0;
		float y = 0;
		if (avro_value_get_type(v) == AVRO_FLOAT) {
			avro_value_get_float(v, &y);
			x = y;
		} else {
			avro_value_get_double(v, &x);
		}
		snprintf(b, sizeof(b), "%.17g", x); /* not in floorgate's schemas; shown as is */
		return text_put(t, b, strlen(b));
	}
	case AVRO_STRING: {
		const char *s = "";
		size_t n = 0;
		avro_value_get_string(v, &s, &n);
		return text_put(t, s, n ? n - 1 : 0);
	}
	case AVRO_BYTES:
	case AVRO_FIXED: {
		const void *p = NULL;
		size_t n = 0;
		__int128 x;
		if (avro_value_get_type(v) == AVRO_BYTES)
			avro_value_get_bytes(v, &p, &n);
		else
			avro_value_get_fixed(v, &p, &n);
		if (is_money(field) && fg_decimal_from_be_bytes128(p, n, &x) == 0) {
			fg_decimal_format(x, 2, b, sizeof(b));
			return text_put(t, b, strlen(b));
		}
		for (size_t i = 0; i < n; i++) {
			snprintf(b, sizeof(b), "%02x", ((const uint8_t *)p)[i]);
			if (text_put(t, b, 2))
				return -1;
		}
		return text_put(t, "", 0);
	}
	case AVRO_ENUM: {
		int e = 0;
		avro_value_get_enum(v, &e);
		const char *s = avro_schema_enum_get(avro_value_get_schema(v), e);
		return text_put(t, s ? s : "?", s ? strlen(s) : 1);
	}
	case AVRO_UNION: {
		avro_value_t br;
		if (avro_value_get_current_branch(v, &br))
			return text_put(t, "null", 4);
		return value_text(&br, field, t);
	}
	case AVRO_ARRAY: {
		size_t n = 0;
		avro_value_get_size(v, &n);
		if (text_put(t, "", 0))
			return -1;
		for (size_t i = 0; i < n; i++) {
			avro_value_t el;
			avro_value_get_by_index(v, i, &el, NULL);
			if ((i && text_put(t, "|", 1)) || value_text(&el, NULL, t))
				return -1;
		}
		return 0;
	}
	default:
		return text_put(t, "(unsupported)", 13);
	}
}

static void put_u32(struct fg_avrobin *w, uint32_t x)
{
	uint8_t *p = fg_avrobin_room(w, 4);
	if (!p)
		return;
	memcpy(p, &x, 4);
	w->len += 4;
}

static void put_raw(struct fg_avrobin *w, const void *b, size_t n)
{
	uint8_t *p = fg_avrobin_room(w, n);
	if (!p)
		return;
	memcpy(p, b, n);
	w->len += n;
}

static void put_varint(struct fg_avrobin *w, uint32_t x)
{
	uint8_t b[5];
	size_t n = 0;
	while (x >= 0x80) {
		b[n++] = (uint8_t)(x | 0x80);
		x >>= 7;
	}
	b[n++] = (uint8_t)x;
	put_raw(w, b, n);
}

static uint32_t get_varint(const uint8_t **p)
{
	uint32_t x = 0;
	for (int shift = 0;; shift += 7) {
		uint8_t b = *(*p)++;
		x |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return x;
	}
}

/* Length (varint), bytes, NUL: read back in place as a C string. */
static void put_str(struct fg_avrobin *w, const char *s, size_t n)
{
	put_varint(w, (uint32_t)n);
	put_raw(w, s, n);
	put_raw(w, "", 1);
}

/* Index of a field name in a's table (adding it), or FG_AUDIT_MAX_NAMES when full. */
static unsigned name_index(struct fg_audit *a, const char *name)
{
	/* The pointer is only a hint: a schema freed since (another file's) can
	 * leave a different name at the same address. */
	for (unsigned i = 0; i < a->n_names; i++)
		if (a->name_seen[i] == name && !strcmp(a->names[i], name))
			return i;
	for (unsigned i = 0; i < a->n_names; i++)
		if (!strcmp(a->names[i], name)) {
			a->name_seen[i] = name;
			return i;
		}
	if (a->n_names == FG_AUDIT_MAX_NAMES)
		return FG_AUDIT_MAX_NAMES;
	char *copy = strdup(name);
	if (!copy)
		return FG_AUDIT_MAX_NAMES;
	a->names[a->n_names] = copy;
	a->name_seen[a->n_names] = name;
	return a->n_names++;
}

/* A field: item + 1 (varint; 0 is the declaration), name index (+ inline name), value. */
static int add_field(struct fg_audit *a, struct fg_avrobin *w, uint32_t *count, int32_t item,
		     const char *name, avro_value_t *v, struct text *t)
{
	t->len = 0;
	if (value_text(v, name, t))
		return -1;
	put_varint(w, (uint32_t)(item + 1));
	unsigned ni = name_index(a, name);
	uint8_t nb = (uint8_t)ni;
	put_raw(w, &nb, 1);
	if (ni == FG_AUDIT_MAX_NAMES)
		put_str(w, name, strlen(name));
	put_str(w, t->p, t->len);
	(*count)++;
	return 0;
}

static int get_text(avro_value_t *rec, const char *name, struct text *t)
{
	avro_value_t f;
	t->len = 0;
	if (avro_value_get_by_name(rec, name, &f, NULL))
		return text_put(t, "", 0) ? -1 : 1; /* absent */
	return value_text(&f, name, t);
}

/*
 * Payload layout (host order, read back by the same process):
 *   u8 outcome, i32 acceptance_date, i128 total_duty, str rdv, str reason,
 *   u32 n_fields {var item+1, u8 name index [str name if 255], str value},
 *   var n_origins {var item+1, str origin}
 * var = LEB128 u32; str = var length, bytes, NUL. Field names are indexes
 * into fg_audit's table, so a line's dozen fields cost their values only.
 */
int fg_audit_add(struct fg_audit *a, int side, avro_value_t *v, const char *where,
		 const struct fg_decl *decl, char *errstr, size_t errstr_size)
{
	struct fg_avrobin *k = a->key, *w = a->payload;
	struct text t = { 0 }, id = { 0 };
	const char *sname = avro_schema_name(avro_value_get_schema(v));
	int outcome, rc = -1;
	int32_t version = 0, date = INT32_MIN;
	fg_money_t total = 0;
	uint32_t n_fields = 0;
	size_t n_fields_at;
	avro_value_t f;

	if (sname && !strcmp(sname, "DutyAssessment"))
		outcome = OUT_ASSESSMENT;
	else if (sname && !strcmp(sname, "DeadLetter"))
		outcome = OUT_DEAD_LETTER;
	else {
		fg_errf(errstr, errstr_size, "%s: a %s record is neither a DutyAssessment nor a DeadLetter",
			where, sname ? sname : "non-record");
		return -1;
	}
	k->len = 0;
	w->len = 0;
	/* Key: declaration_id NUL version (big-endian, sign flipped so it sorts). */
	if (get_text(v, "declaration_id", &id) < 0)
		goto oom;
	if (!avro_value_get_by_name(v, "version", &f, NULL)) {
		avro_value_t br = f;
		int ok = avro_value_get_type(&f) != AVRO_UNION ||
			 !avro_value_get_current_branch(&f, &br);
		if (ok && avro_value_get_type(&br) == AVRO_INT32)
			avro_value_get_int(&br, &version);
	}
	if (outcome == OUT_DEAD_LETTER && (!id.len || !strcmp(id.p, "null"))) {
		/* No id: key it by the input it came from (its record number or offset). */
		id.len = 0;
		if (text_put(&id, "(undecoded input ", 17) || get_text(v, "source_topic", &t) < 0)
			goto oom;
		if (strcmp(t.p, "null") && t.len) {
			if (text_put(&id, t.p, t.len) || get_text(v, "source_partition", &t) < 0 ||
			    text_put(&id, "/", 1) || text_put(&id, t.p, t.len) ||
			    get_text(v, "source_offset", &t) < 0 || text_put(&id, "@", 1) ||
			    text_put(&id, t.p, t.len))
				goto oom;
		} else if (get_text(v, "source_index", &t) < 0 || text_put(&id, "record ", 7) ||
			   text_put(&id, t.p, t.len)) {
			goto oom;
		}
		if (text_put(&id, ")", 1))
			goto oom;
	}
	put_raw(k, id.p, id.len + 1);
	uint32_t ver = (uint32_t)version ^ 0x80000000u;
	uint8_t vb[4] = { (uint8_t)(ver >> 24), (uint8_t)(ver >> 16), (uint8_t)(ver >> 8),
			  (uint8_t)ver };
	put_raw(k, vb, 4);

	if (!avro_value_get_by_name(v, "acceptance_date", &f, NULL) &&
	    avro_value_get_type(&f) == AVRO_INT32)
		avro_value_get_int(&f, &date);
	if (outcome == OUT_ASSESSMENT) {
		if (get_text(v, "total_duty", &t) < 0)
			goto oom;
		if (fg_audit_parse_money(t.p, &total)) {
			fg_errf(errstr, errstr_size, "%s: %s version %d: total_duty \"%s\" is not money",
				where, id.p, (int)version, t.p);
			goto done;
		}
	}
	uint8_t oc = (uint8_t)outcome;
	put_raw(w, &oc, 1);
	put_raw(w, &date, 4);
	put_raw(w, &total, sizeof(total));
	if (get_text(v, "reference_data_version", &t) < 0)
		goto oom;
	put_str(w, t.p, t.len);
	if (outcome == OUT_DEAD_LETTER) {
		if (get_text(v, "reason", &t) < 0)
			goto oom;
		put_str(w, t.p, t.len);
	} else {
		put_str(w, "", 0);
	}
	n_fields_at = w->len;
	put_u32(w, 0);

	size_t n = 0;
	avro_value_get_size(v, &n);
	for (size_t i = 0; i < n; i++) {
		const char *name = NULL;
		avro_value_get_by_index(v, i, &f, &name);
		if (!name || not_compared(a, name))
			continue;
		if (!strcmp(name, "lines") && avro_value_get_type(&f) == AVRO_ARRAY) {
			size_t nl = 0;
			avro_value_get_size(&f, &nl);
			for (size_t l = 0; l < nl; l++) {
				avro_value_t line, lf;
				int32_t item = (int32_t)l + 1;
				size_t nf = 0;
				avro_value_get_by_index(&f, l, &line, NULL);
				if (!avro_value_get_by_name(&line, "item_no", &lf, NULL))
					avro_value_get_int(&lf, &item);
				avro_value_get_size(&line, &nf);
				for (size_t j = 0; j < nf; j++) {
					const char *ln = NULL;
					avro_value_get_by_index(&line, j, &lf, &ln);
					if (!ln || !strcmp(ln, "item_no") || not_compared(a, ln))
						continue;
					if (add_field(a, w, &n_fields, item, ln, &lf, &t))
						goto oom;
				}
			}
			continue;
		}
		if (add_field(a, w, &n_fields, -1, name, &f, &t))
			goto oom;
	}
	memcpy(w->buf + n_fields_at, &n_fields, 4);
	put_varint(w, decl ? decl->n_lines : 0);
	for (uint32_t i = 0; decl && i < decl->n_lines; i++) {
		put_varint(w, (uint32_t)(decl->lines[i].item_no + 1));
		put_str(w, decl->lines[i].origin_country.p, decl->lines[i].origin_country.len);
	}
	if (k->oom || w->oom)
		goto oom;
	rc = fg_spill_add(a->sp, k->buf, k->len, (uint8_t)side, w->buf, w->len, errstr,
			  errstr_size);
	if (!rc)
		a->c.records[side]++;
	goto done;
oom:
	fg_errf(errstr, errstr_size, "out of memory");
done:
	free(t.p);
	free(id.p);
	return rc;
}

/* ---- payload read back ------------------------------------------------ */

struct field {
	int32_t item;
	const char *name, *value;
};
struct origin {
	int32_t item;
	const char *origin;
};
struct rec {
	int present;
	int outcome;
	int32_t date;
	fg_money_t total;
	const char *rdv, *reason;
	struct field *f;
	uint32_t n_f, cap_f;
	struct origin *o;
	uint32_t n_o, cap_o;
};

static const char *get_str(const uint8_t **p)
{
	uint32_t n = get_varint(p);
	const char *s = (const char *)*p;
	*p += (size_t)n + 1;
	return s;
}

static int rec_parse(const struct fg_audit *a, struct rec *r, const uint8_t *p)
{
	uint32_t n;
	r->present = 1;
	r->outcome = *p++;
	memcpy(&r->date, p, 4);
	p += 4;
	memcpy(&r->total, p, sizeof(r->total));
	p += sizeof(r->total);
	r->rdv = get_str(&p);
	r->reason = get_str(&p);
	memcpy(&n, p, 4);
	p += 4;
	if (n > r->cap_f) {
		struct field *f = realloc(r->f, n * sizeof(*f));
		if (!f)
			return -1;
		r->f = f;
		r->cap_f = n;
	}
	r->n_f = n;
	for (uint32_t i = 0; i < n; i++) {
		r->f[i].item = (int32_t)get_varint(&p) - 1;
		uint8_t ni = *p++;
		r->f[i].name = ni < a->n_names ? a->names[ni] : get_str(&p);
		r->f[i].value = get_str(&p);
	}
	n = get_varint(&p);
	if (n > r->cap_o) {
		struct origin *o = realloc(r->o, n * sizeof(*o));
		if (!o)
			return -1;
		r->o = o;
		r->cap_o = n;
	}
	r->n_o = n;
	for (uint32_t i = 0; i < n; i++) {
		r->o[i].item = (int32_t)get_varint(&p) - 1;
		r->o[i].origin = get_str(&p);
	}
	return 0;
}

static const char *rec_origin(const struct rec *r, int32_t item)
{
	for (uint32_t i = 0; r->present && i < r->n_o; i++)
		if (r->o[i].item == item)
			return r->o[i].origin;
	return NULL;
}

/* ---- the join --------------------------------------------------------- */

struct line {
	int32_t item;
	const char *mineral, *stage, *treatment;
	fg_money_t duty;
	int have_duty;
};

struct join_ctx {
	struct fg_audit *a;
	struct rec r[2];
	struct line *lines[2];
	size_t n_lines[2], cap_lines[2];
	struct fg_audit_diff *d; /* borrowed strings */
	size_t n_d, cap_d;
	char *errstr;
	size_t errstr_size;
};

static int push_diff(struct join_ctx *j, int32_t item, const char *field, const char *a,
		     const char *b)
{
	if (j->n_d == j->cap_d) {
		size_t ncap = j->cap_d ? j->cap_d * 2 : 32;
		struct fg_audit_diff *d = realloc(j->d, ncap * sizeof(*d));
		if (!d)
			return -1;
		j->d = d;
		j->cap_d = ncap;
	}
	j->d[j->n_d++] = (struct fg_audit_diff){ item, (char *)field, (char *)a, (char *)b };
	return 0;
}

static int field_cmp(const void *x, const void *y)
{
	const struct field *a = x, *b = y;
	if (a->item != b->item)
		return a->item < b->item ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int line_cmp(const void *x, const void *y)
{
	const struct line *a = x, *b = y;
	return a->item < b->item ? -1 : a->item > b->item;
}

static const char *or_none(const char *s, const char *none)
{
	return !s || !*s || !strcmp(s, "null") ? none : s;
}

/* Lines of r (from its fields, which are in schema order) into j->lines[s]. */
static int collect_lines(struct join_ctx *j, int s)
{
	const struct rec *r = &j->r[s];
	j->n_lines[s] = 0;
	for (uint32_t i = 0; r->present && i < r->n_f; i++) {
		const struct field *f = &r->f[i];
		if (f->item < 0)
			continue;
		struct line *l = NULL;
		if (j->n_lines[s] && j->lines[s][j->n_lines[s] - 1].item == f->item)
			l = &j->lines[s][j->n_lines[s] - 1];
		if (!l) {
			if (j->n_lines[s] == j->cap_lines[s]) {
				size_t ncap = j->cap_lines[s] ? j->cap_lines[s] * 2 : 16;
				struct line *nl = realloc(j->lines[s], ncap * sizeof(*nl));
				if (!nl)
					return -1;
				j->lines[s] = nl;
				j->cap_lines[s] = ncap;
			}
			l = &j->lines[s][j->n_lines[s]++];
			memset(l, 0, sizeof(*l));
			l->item = f->item;
		}
		if (!strcmp(f->name, "mineral"))
			l->mineral = f->value;
		else if (!strcmp(f->name, "stage"))
			l->stage = f->value;
		else if (!strcmp(f->name, "treatment"))
			l->treatment = f->value;
		else if (!strcmp(f->name, "line_duty"))
			l->have_duty = !fg_audit_parse_money(f->value, &l->duty);
	}
	if (j->n_lines[s]) /* qsort(NULL, 0) is undefined */
		qsort(j->lines[s], j->n_lines[s], sizeof(struct line), line_cmp);
	return 0;
}

static const struct line *find_line(const struct join_ctx *j, int s, int32_t item)
{
	size_t lo = 0, hi = j->n_lines[s];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (j->lines[s][mid].item == item)
			return &j->lines[s][mid];
		if (j->lines[s][mid].item < item)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* s >= 0: add the line to side s; s < 0: count it as changed. */
static int tally_line(struct fg_audit *a, int s, const struct line *l, const char *origin)
{
	const char *key[4] = { or_none(l->mineral, "(not in scope)"), or_none(l->stage, "(none)"),
			       or_none(l->treatment, "(none)"), or_none(origin, "(unknown)") };
	int dims = a->o.by_origin ? 4 : 3;
	for (int d = 0; d < dims; d++) {
		struct fg_audit_tally *t = dim_get(&a->dim[d], key[d]);
		if (!t)
			return -1;
		if (s >= 0) {
			t->n[s]++;
			t->duty[s] += l->duty;
		} else {
			t->changed++;
		}
	}
	return 0;
}

/* "ASSESSED" or "DEAD_LETTER <reason>": the outcome dimension's key. */
static const char *outcome_key(const struct rec *r, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", r->outcome == OUT_ASSESSMENT ? "ASSESSED" : "DEAD_LETTER ",
		 r->outcome == OUT_ASSESSMENT ? "" : r->reason);
	return buf;
}

static int same_outcome(const struct rec *x, const struct rec *y)
{
	return x->outcome == y->outcome &&
	       (x->outcome != OUT_DEAD_LETTER || strcmp(x->reason, y->reason) == 0);
}

/*
 * Totals of both sides (first record of each); lines whose duty changed;
 * declarations whose outcome or total duty changed (or that one side
 * lacks), under the recorded side's outcome and version (the recomputed
 * side's when only it has the declaration).
 */
static int tally_group(struct join_ctx *j)
{
	struct fg_audit *a = j->a;
	const struct rec *r0 = &j->r[0], *r1 = &j->r[1];
	char oc[96];

	if (!r0->present || !r1->present || !same_outcome(r0, r1) || r0->total != r1->total) {
		const struct rec *r = r0->present ? r0 : r1;
		struct fg_audit_tally *t =
			dim_get(&a->dim[FG_AUDIT_DIM_OUTCOME], outcome_key(r, oc, sizeof(oc)));
		struct fg_audit_tally *v = dim_get(&a->dim[FG_AUDIT_DIM_RDV], or_none(r->rdv, "(none)"));
		if (!t || !v)
			return -1;
		t->changed++;
		v->changed++;
	}
	for (int s = 0; s < 2; s++) {
		const struct rec *r = &j->r[s];
		if (!r->present)
			continue;
		struct fg_audit_tally *t =
			dim_get(&a->dim[FG_AUDIT_DIM_OUTCOME], outcome_key(r, oc, sizeof(oc)));
		struct fg_audit_tally *v = dim_get(&a->dim[FG_AUDIT_DIM_RDV], or_none(r->rdv, "(none)"));
		if (!t || !v)
			return -1;
		t->n[s]++;
		t->duty[s] += r->total;
		v->n[s]++;
		v->duty[s] += r->total;
		a->c.duty[s] += r->total;
		for (size_t i = 0; i < j->n_lines[s]; i++) {
			const struct line *l = &j->lines[s][i];
			const char *org = rec_origin(r, l->item);
			if (!org)
				org = rec_origin(&j->r[!s], l->item);
			if (tally_line(a, s, l, org))
				return -1;
		}
	}
	/* Lines whose duty changed (or that exist on one side), by the recorded line's keys. */
	for (int s = 0; s < 2; s++) {
		for (size_t i = 0; i < j->n_lines[s]; i++) {
			const struct line *l = &j->lines[s][i];
			const struct line *o = find_line(j, !s, l->item);
			if (s == 1 && o)
				continue; /* counted from side 0 */
			if (o && o->duty == l->duty)
				continue;
			const char *org = rec_origin(&j->r[s], l->item);
			if (!org)
				org = rec_origin(&j->r[!s], l->item);
			if (tally_line(a, -1, l, org))
				return -1;
		}
	}
	return 0;
}

static void csv_cell(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_row(struct fg_audit *a, const char *id, int32_t version, int32_t item,
		    const char *field, const char *r0, const char *r1, int32_t date)
{
	FILE *f = a->o.csv;
	char d[16] = "";
	if (!f)
		return;
	if (date != INT32_MIN)
		fg_date_format(date, d);
	csv_cell(f, id);
	fprintf(f, ",%d,", (int)version);
	if (item >= 0)
		fprintf(f, "%d", (int)item);
	fputc(',', f);
	csv_cell(f, field);
	fputc(',', f);
	csv_cell(f, r0);
	fputc(',', f);
	csv_cell(f, r1);
	fprintf(f, ",%s\n", d);
	a->c.csv_rows++;
}

static void top_free(struct fg_audit_top *t)
{
	free(t->id);
	for (uint32_t i = 0; i < t->n_diffs; i++) {
		free(t->diffs[i].field);
		free(t->diffs[i].recorded);
		free(t->diffs[i].recomputed);
	}
	free(t->diffs);
	memset(t, 0, sizeof(*t));
}

#define FG_AUDIT_TOP_DIFFS 12

static int top_make(struct fg_audit_top *t, const struct join_ctx *j, const char *id,
		    int32_t version, int only_side)
{
	memset(t, 0, sizeof(*t));
	t->id = strdup(id);
	t->version = version;
	t->only_side = only_side;
	t->date = j->r[0].present && j->r[0].date != INT32_MIN ? j->r[0].date : j->r[1].date;
	t->both_assessed = j->r[0].present && j->r[1].present && j->r[0].outcome == OUT_ASSESSMENT &&
			   j->r[1].outcome == OUT_ASSESSMENT;
	t->duty[0] = j->r[0].present ? j->r[0].total : 0;
	t->duty[1] = j->r[1].present ? j->r[1].total : 0;
	uint32_t n = only_side >= 0 ? 0 : (uint32_t)j->n_d;
	if (n > FG_AUDIT_TOP_DIFFS) {
		t->more_diffs = n - FG_AUDIT_TOP_DIFFS;
		n = FG_AUDIT_TOP_DIFFS;
	}
	t->diffs = n ? calloc(n, sizeof(*t->diffs)) : NULL;
	if (!t->id || (n && !t->diffs))
		return -1;
	t->n_diffs = n;
	for (uint32_t i = 0; i < n; i++) {
		t->diffs[i].item = j->d[i].item;
		t->diffs[i].field = strdup(j->d[i].field);
		t->diffs[i].recorded = strdup(j->d[i].recorded);
		t->diffs[i].recomputed = strdup(j->d[i].recomputed);
		if (!t->diffs[i].field || !t->diffs[i].recorded || !t->diffs[i].recomputed)
			return -1;
	}
	return 0;
}

/* Heap order: smaller |delta| first, then larger id (so the kept set is deterministic). */
static int top_less(const struct fg_audit_top *x, const struct fg_audit_top *y)
{
	fg_money_t a = money_abs(x->duty[1] - x->duty[0]), b = money_abs(y->duty[1] - y->duty[0]);
	if (a != b)
		return a < b;
	int c = strcmp(x->id, y->id);
	if (c)
		return c > 0;
	return x->version > y->version;
}

static void heap_down(struct fg_audit_top *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && top_less(&h[l], &h[m]))
			m = l;
		if (r < n && top_less(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		struct fg_audit_top t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static int top_push(struct fg_audit *a, struct join_ctx *j, const char *id, int32_t version)
{
	struct fg_audit_top t;
	if (top_make(&t, j, id, version, -1)) {
		top_free(&t);
		return -1;
	}
	if (a->n_top < a->o.top_k) {
		size_t i = a->n_top++;
		a->top[i] = t;
		while (i && top_less(&a->top[i], &a->top[(i - 1) / 2])) {
			struct fg_audit_top x = a->top[i];
			a->top[i] = a->top[(i - 1) / 2];
			a->top[(i - 1) / 2] = x;
			i = (i - 1) / 2;
		}
		return 0;
	}
	if (!a->n_top || !top_less(&a->top[0], &t)) {
		top_free(&t);
		return 0;
	}
	top_free(&a->top[0]);
	a->top[0] = t;
	heap_down(a->top, a->n_top, 0);
	return 0;
}

static int on_group(void *ctx, const uint8_t *key, size_t key_len,
		    const struct fg_spill_item *items, size_t n)
{
	struct join_ctx *j = ctx;
	struct fg_audit *a = j->a;
	const char *id = (const char *)key;
	size_t idlen = strnlen(id, key_len);
	const uint8_t *vb = key + idlen + 1;
	int32_t version = (int32_t)(((uint32_t)vb[0] << 24 | (uint32_t)vb[1] << 16 |
				     (uint32_t)vb[2] << 8 | vb[3]) ^ 0x80000000u);

	j->r[0].present = j->r[1].present = 0;
	for (size_t i = 0; i < n; i++) {
		int s = items[i].side;
		if (j->r[s].present) {
			a->c.duplicates[s]++;
			continue;
		}
		if (rec_parse(a, &j->r[s], items[i].payload))
			goto oom;
		a->c.keys[s]++;
	}
	if (collect_lines(j, 0) || collect_lines(j, 1) || tally_group(j))
		goto oom;
	int32_t date = j->r[0].present && j->r[0].date != INT32_MIN ? j->r[0].date : j->r[1].date;

	if (!j->r[0].present || !j->r[1].present) {
		int s = j->r[0].present ? 0 : 1;
		a->c.only[s]++;
		csv_row(a, id, version, -1, "(declaration)", s == 0 ? "present" : "absent",
			s == 1 ? "present" : "absent", date);
		if (a->n_only < a->o.top_k) {
			if (top_make(&a->only[a->n_only], j, id, version, s)) {
				top_free(&a->only[a->n_only]);
				goto oom;
			}
			a->n_only++;
		}
		return 0;
	}
	a->c.matched++;
	if (j->r[0].outcome != j->r[1].outcome || j->r[0].total != j->r[1].total)
		a->c.duty_changed++; /* a dead letter's duty is 0 */
	j->n_d = 0;
	char oc[2][96];
	int outcome_differs = !same_outcome(&j->r[0], &j->r[1]);
	if (outcome_differs) {
		if (push_diff(j, -1, "outcome", outcome_key(&j->r[0], oc[0], sizeof(oc[0])),
			      outcome_key(&j->r[1], oc[1], sizeof(oc[1]))))
			goto oom;
	} else {
		struct rec *x = &j->r[0], *y = &j->r[1];
		if (x->n_f)
			qsort(x->f, x->n_f, sizeof(*x->f), field_cmp);
		if (y->n_f)
			qsort(y->f, y->n_f, sizeof(*y->f), field_cmp);
		uint32_t p = 0, q = 0;
		while (p < x->n_f || q < y->n_f) {
			int c = p == x->n_f ? 1 : q == y->n_f ? -1 : field_cmp(&x->f[p], &y->f[q]);
			int r = 0;
			if (c < 0) {
				r = push_diff(j, x->f[p].item, x->f[p].name, x->f[p].value, "(absent)");
				p++;
			} else if (c > 0) {
				r = push_diff(j, y->f[q].item, y->f[q].name, "(absent)", y->f[q].value);
				q++;
			} else {
				if (strcmp(x->f[p].value, y->f[q].value))
					r = push_diff(j, x->f[p].item, x->f[p].name, x->f[p].value,
						      y->f[q].value);
				p++;
				q++;
			}
			if (r)
				goto oom;
		}
	}
	if (!j->n_d) {
		a->c.equal++;
		return 0;
	}
	fg_money_t delta = j->r[1].total - j->r[0].total;
	/*
	 * Tolerance, as US liquidation: a small change of total_duty is let go.
	 * Only when the outcome is the same (two dead letters for the same
	 * reason have no duty, so delta 0); an outcome change always counts.
	 */
	if (a->o.have_tolerance && !outcome_differs && money_abs(delta) < a->o.tolerance) {
		a->c.within_tolerance++;
		return 0;
	}
	a->c.differing++;
	a->c.delta_duty_differing += delta;
	if (outcome_differs)
		a->c.outcome_changed++;
	a->c.field_diffs += j->n_d;
	char dname[16] = "(unknown)";
	if (date != INT32_MIN)
		fg_date_format(date, dname);
	struct fg_audit_tally *t = dim_get(&a->dim[FG_AUDIT_DIM_DATE], dname);
	if (!t)
		goto oom;
	t->changed++;
	t->n[0]++;
	t->duty[0] += j->r[0].total;
	t->duty[1] += j->r[1].total;
	for (size_t i = 0; i < j->n_d; i++) {
		struct fg_audit_tally *ft = dim_get(&a->dim[FG_AUDIT_DIM_FIELD], j->d[i].field);
		if (!ft)
			goto oom;
		ft->changed++;
		csv_row(a, id, version, j->d[i].item, j->d[i].field, j->d[i].recorded,
			j->d[i].recomputed, date);
	}
	if (a->o.top_k && top_push(a, j, id, version))
		goto oom;
	return 0;
oom:
	fg_errf(j->errstr, j->errstr_size, "out of memory");
	return -1;
}

static int top_sort_cmp(const void *x, const void *y)
{
	const struct fg_audit_top *a = x, *b = y;
	return top_less(b, a) ? -1 : top_less(a, b) ? 1 : 0;
}

/* Whether name is a field of s or of a record inside it (the lines, a union branch). */
static int has_field(avro_schema_t s, const char *name, int depth)
{
	if (depth > 8)
		return 0;
	if (is_avro_link(s))
		s = avro_schema_link_target(s);
	switch (avro_typeof(s)) {
	case AVRO_RECORD:
		for (size_t i = 0; i < avro_schema_record_size(s); i++)
			if (!strcmp(avro_schema_record_field_name(s, (int)i), name) ||
			    has_field(avro_schema_record_field_get_by_index(s, (int)i), name, depth + 1))
				return 1;
		return 0;
	case AVRO_ARRAY:
		return has_field(avro_schema_array_items(s), name, depth + 1);
	case AVRO_UNION:
		for (size_t i = 0; i < avro_schema_union_size(s); i++)
			if (has_field(avro_schema_union_branch(s, i), name, depth + 1))
				return 1;
		return 0;
	default:
		return 0;
	}
}

/* A misspelt --ignore would silently compare the field it meant to skip. */
static int check_ignored(const struct fg_audit_opts *o, char *errstr, size_t errstr_size)
{
	avro_schema_t as = fg_schemas_parse(fg_schema_text_assessment, errstr, errstr_size);
	avro_schema_t ds = fg_schemas_parse(fg_schema_text_deadletter, errstr, errstr_size);
	int rc = as && ds ? 0 : -1;

	for (size_t i = 0; rc == 0 && i < o->n_ignore; i++)
		if (!has_field(as, o->ignore[i], 0) && !has_field(ds, o->ignore[i], 0)) {
			fg_errf(errstr, errstr_size,
				"--ignore \"%s\": not a field of an assessment, its lines or a dead "
				"letter (e.g. reference_data_version, flags, floor_duty)",
				o->ignore[i]);
			rc = -1;
		}
	if (as)
		avro_schema_decref(as);
	if (ds)
		avro_schema_decref(ds);
	return rc;
}

int fg_audit_init(struct fg_audit *a, const struct fg_audit_opts *o, char *errstr,
		  size_t errstr_size)
{
	memset(a, 0, sizeof(*a));
	if (check_ignored(o, errstr, errstr_size))
		return -1;
	a->o = *o;
	if (!a->o.top_k)
		a->o.top_k = 200;
	a->key = calloc(1, sizeof(*a->key));
	a->payload = calloc(1, sizeof(*a->payload));
	a->top = calloc(a->o.top_k, sizeof(*a->top));
	a->only = calloc(a->o.top_k, sizeof(*a->only));
	if (!a->key || !a->payload || !a->top || !a->only ||
	    fg_avrobin_init(a->key, 256) || fg_avrobin_init(a->payload, 4096)) {
		fg_errf(errstr, errstr_size, "out of memory");
		return -1;
	}
	a->sp = fg_spill_create(o->spill_dir, o->parts ? o->parts : 64, errstr, errstr_size);
	if (!a->sp)
		return -1;
	fg_spill_set_part_limit(a->sp, o->part_limit);
	return 0;
}

void fg_audit_fini(struct fg_audit *a)
{
	fg_spill_destroy(a->sp);
	if (a->key)
		fg_avrobin_fini(a->key);
	if (a->payload)
		fg_avrobin_fini(a->payload);
	free(a->key);
	free(a->payload);
	for (size_t i = 0; i < a->n_top; i++)
		top_free(&a->top[i]);
	for (size_t i = 0; i < a->n_only; i++)
		top_free(&a->only[i]);
	free(a->top);
	free(a->only);
	for (int d = 0; d < FG_AUDIT_DIM_COUNT; d++)
		dim_fini(&a->dim[d]);
	for (unsigned i = 0; i < a->n_names; i++)
		free(a->names[i]);
	memset(a, 0, sizeof(*a));
}

int fg_audit_run(struct fg_audit *a, char *errstr, size_t errstr_size)
{
	struct join_ctx j = { .a = a, .errstr = errstr, .errstr_size = errstr_size };
	struct fg_spill_stats st;
	int rc;

	if (a->o.csv)
		fputs("declaration_id,version,item_no,field,recorded,recomputed,acceptance_date\n",
		      a->o.csv);
	rc = fg_spill_join(a->sp, on_group, &j, errstr, errstr_size);
	for (int s = 0; s < 2; s++) {
		free(j.r[s].f);
		free(j.r[s].o);
		free(j.lines[s]);
	}
	free(j.d);
	fg_spill_get_stats(a->sp, &st);
	a->spill_records = st.records;
	a->spill_bytes = st.bytes;
	a->spill_largest = st.largest_part_bytes;
	if (a->n_top)
		qsort(a->top, a->n_top, sizeof(*a->top), top_sort_cmp);
	if (a->o.csv && fflush(a->o.csv) && !rc) {
		fg_errf(errstr, errstr_size, "cannot write the CSV file");
		rc = -1;
	}
	return rc ? -1 : 0;
}

int fg_audit_found_differences(const struct fg_audit *a)
{
	return a->c.differing || a->c.only[0] || a->c.only[1];
}

static int tally_cmp_name(const void *x, const void *y)
{
	return strcmp(((const struct fg_audit_tally *)x)->name,
		      ((const struct fg_audit_tally *)y)->name);
}

static int tally_cmp_duty(const void *x, const void *y)
{
	const struct fg_audit_tally *a = x, *b = y;
	fg_money_t ma = a->duty[0] > a->duty[1] ? a->duty[0] : a->duty[1];
	fg_money_t mb = b->duty[0] > b->duty[1] ? b->duty[0] : b->duty[1];
	if (ma != mb)
		return ma > mb ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int tally_cmp_changed(const void *x, const void *y)
{
	const struct fg_audit_tally *a = x, *b = y;
	if (a->changed != b->changed)
		return a->changed > b->changed ? -1 : 1;
	return strcmp(a->name, b->name);
}

const struct fg_audit_tally *fg_audit_dim_sorted(struct fg_audit *a, enum fg_audit_dim_id d,
						 size_t *n)
{
	struct fg_audit_dim *dm = &a->dim[d];
	int (*cmp)(const void *, const void *) =
		d == FG_AUDIT_DIM_DATE	  ? tally_cmp_name :
		d == FG_AUDIT_DIM_FIELD	  ? tally_cmp_changed :
		d == FG_AUDIT_DIM_OUTCOME ? tally_cmp_name :
					    tally_cmp_duty;
	/* The hash index is not needed after the join; drop it with the order. */
	free(dm->idx);
	dm->idx = NULL;
	dm->idx_cap = 0;
	if (dm->n)
		qsort(dm->v, dm->n, sizeof(*dm->v), cmp);
	*n = dm->n;
	return dm->v;
}

/* ---- the human summary ------------------------------------------------ */

static const char *const dim_titles[FG_AUDIT_DIM_COUNT] = {
	"mineral (line duty)", "stage (line duty)", "treatment (line duty)",
	"origin country (line duty)", "reference data version (total duty)",
	"outcome (total duty)", "acceptance date", "field",
};

static int tally_moved(const struct fg_audit_tally *t)
{
	return t->changed || t->n[0] != t->n[1] || t->duty[0] != t->duty[1];
}

static void print_tally(FILE *f, const char *name, const uint64_t n[2], const fg_money_t duty[2],
			uint64_t changed)
{
	char m0[64], m1[64], m2[64];
	fprintf(f, "  %-34s %10llu %10llu %20s %21s %18s %8llu\n", name, (unsigned long long)n[0],
		(unsigned long long)n[1],
		fg_audit_money_str(duty[0], 1, m0, sizeof(m0)),
		fg_audit_money_str(duty[1], 1, m1, sizeof(m1)),
		fg_audit_money_str(duty[1] - duty[0], 1, m2, sizeof(m2)), (unsigned long long)changed);
}

void fg_audit_print_summary(struct fg_audit *a, FILE *f, const char *s0, const char *s1)
{
	const struct fg_audit_counts *c = &a->c;
	char m0[64], m1[64], m2[64];

	fprintf(f, "declarations        %12s %12s\n", s0, s1);
	fprintf(f, "  records           %12llu %12llu\n", (unsigned long long)c->records[0],
		(unsigned long long)c->records[1]);
	fprintf(f, "  distinct          %12llu %12llu\n", (unsigned long long)c->keys[0],
		(unsigned long long)c->keys[1]);
	fprintf(f, "  duplicates        %12llu %12llu  (the first of each is compared)\n",
		(unsigned long long)c->duplicates[0], (unsigned long long)c->duplicates[1]);
	fprintf(f, "  only on this side %12llu %12llu\n", (unsigned long long)c->only[0],
		(unsigned long long)c->only[1]);
	fprintf(f, "total duty (USD)    %s -> %s  (delta %s)\n",
		fg_audit_money_str(c->duty[0], 1, m0, sizeof(m0)),
		fg_audit_money_str(c->duty[1], 1, m1, sizeof(m1)),
		fg_audit_money_str(c->duty[1] - c->duty[0], 1, m2, sizeof(m2)));
	fprintf(f, "matched %llu: %llu equal, %llu differing", (unsigned long long)c->matched,
		(unsigned long long)c->equal, (unsigned long long)c->differing);
	if (a->o.have_tolerance)
		fprintf(f, ", %llu within tolerance (|delta total_duty| < %s USD, not listed)",
			(unsigned long long)c->within_tolerance,
			fg_audit_money_str(a->o.tolerance, 0, m0, sizeof(m0)));
	fprintf(f, "\n  outcome changed (assessed <-> dead letter, or another reason): %llu\n",
		(unsigned long long)c->outcome_changed);
	fprintf(f, "  field differences: %llu, delta total_duty of differing: %s USD\n",
		(unsigned long long)c->field_diffs,
		fg_audit_money_str(c->delta_duty_differing, 1, m0, sizeof(m0)));

	size_t n;
	const struct fg_audit_tally *t = fg_audit_dim_sorted(a, FG_AUDIT_DIM_FIELD, &n);
	if (n) {
		fprintf(f, "differences by field\n");
		for (size_t i = 0; i < n; i++)
			fprintf(f, "  %-28s %10llu\n", t[i].name, (unsigned long long)t[i].changed);
	}
	/*
	 * Totals: the rows that changed (a count, the duty or a line), then the
	 * sum of all rows; every row is in the HTML report and whatif's CSV.
	 */
	for (int d = FG_AUDIT_DIM_MINERAL; d <= FG_AUDIT_DIM_OUTCOME; d++) {
		if (d == FG_AUDIT_DIM_ORIGIN && !a->o.by_origin)
			continue;
		t = fg_audit_dim_sorted(a, d, &n);
		size_t shown = 0;
		uint64_t cnt[2] = { 0, 0 }, ch = 0;
		fg_money_t sum[2] = { 0, 0 };
		for (size_t i = 0; i < n; i++)
			if (tally_moved(&t[i]))
				shown++;
		fprintf(f, "by %s: %zu of %zu changed\n", dim_titles[d], shown, n);
		if (!n)
			continue;
		fprintf(f, "  %-34s %21s %42s\n", "", d <= FG_AUDIT_DIM_ORIGIN ? "lines" : "declarations",
			"duty (USD)");
		fprintf(f, "  %-34s %10s %10s %20s %21s %18s %8s\n", "", s0, s1, s0, s1, "delta", "changed");
		for (size_t i = 0; i < n; i++) {
			for (int s = 0; s < 2; s++) {
				cnt[s] += t[i].n[s];
				sum[s] += t[i].duty[s];
			}
			ch += t[i].changed;
			if (tally_moved(&t[i]))
				print_tally(f, t[i].name, t[i].n, t[i].duty, t[i].changed);
		}
		char all[48];
		snprintf(all, sizeof(all), "(all %zu)", n);
		print_tally(f, all, cnt, sum, ch);
	}
	if (a->n_top) {
		size_t k = a->n_top < 10 ? a->n_top : 10;
		fprintf(f, "largest differences (%zu of %llu; all in --csv)\n", k,
			(unsigned long long)c->differing);
		for (size_t i = 0; i < k; i++) {
			const struct fg_audit_top *tp = &a->top[i];
			fprintf(f, "  %s v%d: total_duty %s -> %s\n", tp->id, (int)tp->version,
				fg_audit_money_str(tp->duty[0], 1, m0, sizeof(m0)),
				fg_audit_money_str(tp->duty[1], 1, m1, sizeof(m1)));
			for (uint32_t d = 0; d < tp->n_diffs && d < 4; d++) {
				if (tp->diffs[d].item >= 0)
					fprintf(f, "      line %d ", (int)tp->diffs[d].item);
				else
					fprintf(f, "      ");
				fprintf(f, "%s: %s -> %s\n", tp->diffs[d].field, tp->diffs[d].recorded,
					tp->diffs[d].recomputed);
			}
			if (tp->n_diffs + tp->more_diffs > 4)
				fprintf(f, "      ... %u more\n", tp->n_diffs + tp->more_diffs - 4);
		}
	}
	if (a->n_only) {
		size_t k = a->n_only < 20 ? a->n_only : 20;
		fprintf(f, "on one side only (%zu of %llu; all in --csv)\n", k,
			(unsigned long long)(c->only[0] + c->only[1]));
		for (size_t i = 0; i < k; i++)
			fprintf(f, "  %s v%d: only in %s\n", a->only[i].id, (int)a->only[i].version,
				a->only[i].only_side == 0 ? s0 : s1);
	}
}
