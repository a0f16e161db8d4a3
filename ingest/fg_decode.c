#include "fg_decode.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fg_common.h"
#include "../core/fg_decimal.h"
#include "fg_codec.h"

struct writer_cache {
	avro_schema_t schema;          /* one reference, keeps the pointer unique */
	avro_value_iface_t *w_iface;   /* generic class of the writer schema */
	avro_value_t wvalue;
	int same;            /* the writer is the reader schema, at its scales: fg_codec.c */
	int rescale;         /* the reader schema at other decimal scales: fg_codec.c, then
			      * rescale_lines() from these */
	int scale[FG_DEC_FIELDS];
	char *resolve_error; /* set when the writer cannot be resolved */
};

struct fg_decoder {
	avro_schema_t reader;
	avro_reader_t mem;
	struct writer_cache *cache;
	size_t n_cache, cap_cache;
	struct fg_decl_line *lines;
	uint32_t cap_lines;
	struct fg_avro_track track;
	const int *wscale; /* the decimal scales of the writer being extracted */
};

struct fg_decoder *fg_decoder_create(char *errstr, size_t errstr_size)
{
	struct fg_decoder *dec = calloc(1, sizeof(*dec));

	if (!dec) {
		fg_errf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	dec->reader = fg_schemas_parse(fg_schema_text_declaration, errstr, errstr_size);
	dec->mem = avro_reader_memory("", 0);
	if (!dec->reader || !dec->mem) {
		fg_decoder_destroy(dec);
		return NULL;
	}
	return dec;
}

void fg_decoder_destroy(struct fg_decoder *dec)
{
	if (!dec)
		return;
	for (size_t i = 0; i < dec->n_cache; i++) {
		struct writer_cache *c = &dec->cache[i];
		if (c->w_iface && c->wvalue.iface)
			avro_value_decref(&c->wvalue);
		if (c->w_iface)
			avro_value_iface_decref(c->w_iface);
		avro_schema_decref(c->schema);
		free(c->resolve_error);
	}
	free(dec->cache);
	free(dec->track.v);
	if (dec->mem)
		avro_reader_free(dec->mem);
	if (dec->reader)
		avro_schema_decref(dec->reader);
	free(dec->lines);
	free(dec);
}

/* Puts "prefix: " in front of the message in why. */
static void why_prefix(char *why, size_t size, const char *prefix)
{
	char tmp[512];

	snprintf(tmp, sizeof(tmp), "%s: %s", prefix, why);
	snprintf(why, size, "%s", tmp);
}

/*
 * Writer schemas other than the reader's are resolved here, by Avro's rules,
 * not by Avro C's resolved reader: Avro C reads the body with the writer's
 * own schema (that always works for valid bytes), and the declaration is
 * taken from that value field by field, by name. So, as the Avro
 * specification has it:
 * - fields match by name, in any order; writer fields the reader does not
 *   know are skipped; a reader field the writer lacks takes the reader's
 *   default (content and preference_claim: null), and without one the
 *   writer is refused;
 * - an enum symbol matches by name; a symbol the reader does not know takes
 *   the reader enum's default (FunctionCode: ORIGINAL);
 * - int is promoted to long, and string and bytes read as each other;
 * - a writer union is resolved by the branch each value was written with:
 *   the schema is refused when no branch fits (null counts for an optional
 *   field), and a value written through a branch that does not fit (a
 *   record or enum of another name, an array of something else) is a
 *   decode error; the branch is checked on every read;
 * - records match by unqualified name (ImportDeclaration, GoodsLine,
 *   Content), the enum by name (FunctionCode).
 * - a decimal is read at the scale its writer declares (the contract: "the
 *   scale given in the schema"; Avro C keeps no logical types, so the
 *   scales come from the writer's JSON, fg_schema_decimal_scales) and
 *   brought to the reader's exactly: a value with more decimals than the
 *   reader keeps, or too large at the reader's scale, is a decode error.
 *   Avro's own implementations read the unscaled integer at the reader's
 *   scale instead, 100 times too large for a writer of scale 4 against the
 *   reader's 2: a wrong duty, never an error. A writer that is the reader
 *   schema but for its scales has the reader's layout: the codec reads it
 *   and rescale_lines() rescales, at the codec's speed and without the
 *   generic path's lock. Avro C 1.11's resolved
 * reader got enums by position, could not fill defaults, and crashed on
 * some records it could not resolve; it is no longer used.
 */
enum want { W_STRING, W_INT, W_LONG, W_DECIMAL, W_FUNCTION_CODE, W_CONTENT, W_LINES };

struct reader_field {
	const char *name;
	enum want want;
	int optional; /* the reader's default is null */
};

static const struct reader_field decl_fields[] = {
	{ "declaration_id", W_STRING, 0 },   { "version", W_INT, 0 },
	{ "function_code", W_FUNCTION_CODE, 0 }, { "submitted_at", W_LONG, 0 },
	{ "acceptance_date", W_INT, 0 },     { "declarant_id", W_STRING, 0 },
	{ "importer_id", W_STRING, 0 },      { "port_code", W_STRING, 0 },
	{ "export_country", W_STRING, 0 },   { "invoice_currency", W_STRING, 0 },
	{ "lines", W_LINES, 0 },
};
static const struct reader_field line_fields[] = {
	{ "item_no", W_INT, 0 },           { "commodity_code", W_STRING, 0 },
	{ "description", W_STRING, 0 },    { "origin_country", W_STRING, 0 },
	{ "net_mass_kg", W_DECIMAL, 0 },   { "customs_value", W_DECIMAL, 0 },
	{ "content", W_CONTENT, 1 },       { "preference_claim", W_STRING, 1 },
};
static const struct reader_field content_fields[] = {
	{ "element", W_STRING, 0 },
	{ "percent", W_DECIMAL, 0 },
};
static const char *const fc_symbols[] = { "ORIGINAL", "AMENDMENT", "CANCELLATION" };

static avro_schema_t unlink_schema(avro_schema_t s)
{
	while (is_avro_link(s))
		s = avro_schema_link_target(s);
	return s;
}

static int fields_fit(avro_schema_t w, const char *name, const struct reader_field *f, size_t n,
		      char *why, size_t size);

/* Whether a value of writer schema w (not a union) can be read as `want`. */
static int leaf_fits(avro_schema_t w, enum want want, char *why, size_t size)
{
	w = unlink_schema(w);
	switch (want) {
	case W_STRING:
		if (is_avro_string(w) || is_avro_bytes(w))
			return 1;
		break;
	case W_INT:
		if (is_avro_int32(w))
			return 1;
		break;
	case W_LONG:
		if (is_avro_int32(w) || is_avro_int64(w))
			return 1;
		break;
	case W_DECIMAL:
		if (is_avro_bytes(w))
			return 1;
		break;
	case W_FUNCTION_CODE:
		if (is_avro_enum(w) && !strcmp(avro_schema_name(w), "FunctionCode"))
			return 1;
		break;
	case W_CONTENT:
		if (is_avro_record(w))
			return fields_fit(w, "Content", content_fields,
					  FG_ARRAY_LEN(content_fields), why, size);
		break;
	case W_LINES:
		if (is_avro_array(w)) {
			avro_schema_t items = unlink_schema(avro_schema_array_items(w));
			if (is_avro_record(items))
				return fields_fit(items, "GoodsLine", line_fields,
						  FG_ARRAY_LEN(line_fields), why, size);
			snprintf(why, size, "writer array of %s is not an array of GoodsLine",
				 avro_schema_type_name(items));
			return 0;
		}
		break;
	}
	snprintf(why, size, "writer %s cannot be read as the reader's type", avro_schema_type_name(w));
	return 0;
}

/* The same for a field's schema, which may be a union (one branch must fit). */
static int type_fits(avro_schema_t w, enum want want, int optional, char *why, size_t size)
{
	w = unlink_schema(w);
	if (!is_avro_union(w))
		return (optional && is_avro_null(w)) || leaf_fits(w, want, why, size);
	for (size_t i = 0; i < avro_schema_union_size(w); i++) {
		avro_schema_t b = unlink_schema(avro_schema_union_branch(w, i));
		if ((optional && is_avro_null(b)) || (!is_avro_null(b) && leaf_fits(b, want, why, size)))
			return 1;
	}
	snprintf(why, size, "no branch of the writer's union can be read as the reader's type");
	return 0;
}

/* Whether writer record w, named `name`, has every reader field, each of a type that fits. */
static int fields_fit(avro_schema_t w, const char *name, const struct reader_field *f, size_t n,
		      char *why, size_t size)
{
	if (strcmp(avro_schema_name(w), name) != 0) {
		snprintf(why, size, "writer %s is not record %s", avro_schema_name(w), name);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		int wi = avro_schema_record_field_get_index(w, f[i].name);
		if (wi < 0) {
			if (f[i].optional)
				continue; /* the reader's default, null */
			snprintf(why, size, "%s: missing from the writer, and the reader has no default",
				 f[i].name);
			return 0;
		}
		if (!type_fits(avro_schema_record_field_get_by_index(w, wi), f[i].want, f[i].optional,
			       why, size)) {
			why_prefix(why, size, f[i].name);
			return 0;
		}
	}
	return 1;
}

/*
 * Whether schema s refers to itself (a named type used inside its own
 * definition, which Avro C represents as a link). Avro C's reader and
 * avro_skip_data recurse once per level of a value, so a body of such a
 * schema could nest as deep as its bytes allow and overflow the stack.
 * The walk does not follow links, so it ends.
 */
static int recursive(avro_schema_t s)
{
	if (is_avro_link(s))
		return 1;
	if (is_avro_record(s)) {
		for (size_t i = 0; i < avro_schema_record_size(s); i++)
			if (recursive(avro_schema_record_field_get_by_index(s, (int)i)))
				return 1;
	} else if (is_avro_union(s)) {
		for (size_t i = 0; i < avro_schema_union_size(s); i++)
			if (recursive(avro_schema_union_branch(s, i)))
				return 1;
	} else if (is_avro_array(s)) {
		return recursive(avro_schema_array_items(s));
	} else if (is_avro_map(s)) {
		return recursive(avro_schema_map_values(s));
	}
	return 0;
}

/* scale: the decimal scales the writer declares (NULL: the reader's) */
static struct writer_cache *cache_get(struct fg_decoder *dec, avro_schema_t schema,
				      const int *scale)
{
	struct writer_cache *c;

	for (size_t i = 0; i < dec->n_cache; i++)
		if (dec->cache[i].schema == schema)
			return &dec->cache[i];
	if (dec->n_cache == dec->cap_cache) {
		size_t cap = dec->cap_cache ? dec->cap_cache * 2 : 4;
		struct writer_cache *v = realloc(dec->cache, cap * sizeof(*v));
		if (!v)
			return NULL;
		dec->cache = v;
		dec->cap_cache = cap;
	}
	c = &dec->cache[dec->n_cache];
	memset(c, 0, sizeof(*c));
	c->schema = avro_schema_incref(schema);
	c->w_iface = avro_generic_class_from_schema(schema);
	if (!c->w_iface || avro_generic_value_new(c->w_iface, &c->wvalue)) {
		if (c->w_iface)
			avro_value_iface_decref(c->w_iface);
		avro_schema_decref(c->schema);
		return NULL;
	}
	dec->n_cache++;
	/* Avro C compares no logical types: a writer of other decimal scales is
	 * "equal" to the reader. Its bodies have the reader's layout, so the codec
	 * reads them, and rescale_lines() brings the decimals to the reader's
	 * scales as the generic path would (same results, same messages). */
	if (avro_schema_equal(schema, dec->reader)) {
		c->same = !scale || !memcmp(scale, fg_reader_scales, sizeof(fg_reader_scales));
		c->rescale = !c->same;
		if (c->rescale)
			memcpy(c->scale, scale, sizeof(c->scale));
	}
	if (!c->same && !c->rescale) {
		char why[512] = "", buf[640];
		avro_schema_t w = unlink_schema(schema);
		if (!is_avro_record(w))
			snprintf(why, sizeof(why), "writer %s is not record ImportDeclaration",
				 avro_schema_type_name(w));
		else if (recursive(w))
			snprintf(why, sizeof(why),
				 "the writer refers to itself (a recursive schema), whose bodies "
				 "could nest without bound");
		if (why[0] || !fields_fit(w, "ImportDeclaration", decl_fields,
					  FG_ARRAY_LEN(decl_fields), why, sizeof(why))) {
			snprintf(buf, sizeof(buf),
				 "writer schema cannot be resolved against "
				 "floorgate.v1.ImportDeclaration: %s",
				 why[0] ? why : "incompatible");
			c->resolve_error = strdup(buf);
		}
	}
	return c;
}

int fg_decoder_check_writer(avro_schema_t schema, const char *origin, char *errstr,
			    size_t errstr_size)
{
	struct fg_decoder *dec = fg_decoder_create(errstr, errstr_size);
	struct writer_cache *c = dec ? cache_get(dec, schema, NULL) : NULL;
	int rc = -1;

	if (dec && !c)
		fg_errf(errstr, errstr_size, "out of memory");
	else if (c && c->resolve_error)
		fg_errf(errstr, errstr_size, "%s: its records are not declarations: %s", origin,
			c->resolve_error);
	else if (c)
		rc = 0;
	fg_decoder_destroy(dec);
	return rc;
}

/*
 * After a failed read (tracking on): frees the value read into, and with it
 * what it owns, then what the read leaked, and makes a new value.
 */
static void renew_value(struct fg_decoder *dec, struct writer_cache *c)
{
	avro_value_decref(&c->wvalue);
	fg_avro_track_end(&dec->track, 1);
	if (avro_generic_value_new(c->w_iface, &c->wvalue))
		c->wvalue.iface = NULL; /* refused from now on, see fg_decoder_decode */
}

#define CHECK(expr, what)                                                  \
	do {                                                               \
		if ((expr) != 0) {                                         \
			fg_errf(msg, msg_size, "%s: %s", what, avro_strerror()); \
			return -1;                                         \
		}                                                          \
	} while (0)

/*
 * The writer's field `name` of record value rec, through the union branch
 * it was written with: 1 with *f and its schema *fs, 0 when the writer has
 * no such field (or wrote null), -1 when that branch cannot be read as
 * `want` (a writer union may hold branches the reader cannot read: only
 * the value written through one is an error) or on an Avro C error.
 */
static int wfield(avro_value_t *rec, const char *name, enum want want, avro_value_t *f,
		  avro_schema_t *fs, char *msg, size_t msg_size)
{
	char why[256];
	avro_schema_t rs = unlink_schema(avro_value_get_schema(rec));
	int wi = avro_schema_record_field_get_index(rs, name);

	if (wi < 0)
		return 0;
	CHECK(avro_value_get_by_index(rec, (size_t)wi, f, NULL), name);
	*fs = unlink_schema(avro_schema_record_field_get_by_index(rs, wi));
	if (is_avro_union(*fs)) {
		int disc;
		avro_value_t b;
		CHECK(avro_value_get_discriminant(f, &disc), name);
		CHECK(avro_value_get_current_branch(f, &b), name);
		*f = b;
		*fs = unlink_schema(avro_schema_union_branch(*fs, disc));
	}
	if (is_avro_null(*fs))
		return 0;
	if (!leaf_fits(*fs, want, why, sizeof(why))) {
		fg_errf(msg, msg_size, "%s: %s", name, why);
		return -1;
	}
	return 1;
}

/* A required field: absent or null is an error (a union branch that does not fit). */
static int need(avro_value_t *rec, const char *name, enum want want, avro_value_t *f,
		avro_schema_t *fs, char *msg, size_t msg_size)
{
	int r = wfield(rec, name, want, f, fs, msg, msg_size);
	if (r == 0)
		fg_errf(msg, msg_size, "%s: written as null, and the reader's %s is not optional",
			name, name);
	return r == 1 ? 0 : -1;
}

/*
 * The getters below read values wfield() has already checked with
 * leaf_fits(): the writer's branch is one the reader can read as asked.
 */

/* string, or bytes (Avro resolves them into each other) */
static int as_str(avro_value_t *f, avro_schema_t fs, struct fg_str *out, char *msg,
		  size_t msg_size, const char *name)
{
	const void *p;
	size_t size;

	if (is_avro_string(fs)) {
		const char *s;
		CHECK(avro_value_get_string(f, &s, &size), name);
		*out = fg_str_make(s, size ? size - 1 : 0); /* size counts the NUL */
		return 0;
	}
	CHECK(avro_value_get_bytes(f, &p, &size), name);
	*out = fg_str_make(p, size);
	return 0;
}

static int get_str(avro_value_t *rec, const char *name, struct fg_str *out, char *msg,
		   size_t msg_size)
{
	avro_value_t f;
	avro_schema_t fs;

	return need(rec, name, W_STRING, &f, &fs, msg, msg_size) ? -1
							       : as_str(&f, fs, out, msg, msg_size, name);
}

static int get_int(avro_value_t *rec, const char *name, int32_t *out, char *msg, size_t msg_size)
{
	avro_value_t f;
	avro_schema_t fs;

	if (need(rec, name, W_INT, &f, &fs, msg, msg_size))
		return -1;
	CHECK(avro_value_get_int(&f, out), name);
	return 0;
}

/* long, or an int promoted */
static int get_long(avro_value_t *rec, const char *name, int64_t *out, char *msg,
		    size_t msg_size)
{
	avro_value_t f;
	avro_schema_t fs;
	int32_t i;

	if (need(rec, name, W_LONG, &f, &fs, msg, msg_size))
		return -1;
	if (is_avro_int32(fs)) {
		CHECK(avro_value_get_int(&f, &i), name);
		*out = i;
		return 0;
	}
	CHECK(avro_value_get_long(&f, out), name);
	return 0;
}

/* v, written at scale ws, at the reader's scale rs: exactly, or an error. */
static int rescale(int64_t *v, int ws, int rs, const char *name, char *msg, size_t msg_size)
{
	int64_t x = *v;
	char num[64];

	/* each step either ends or shrinks |x| tenfold: at most 19 steps */
	for (int i = ws; i < rs && x; i++)
		if (__builtin_mul_overflow(x, 10, &x)) {
			fg_decimal_format(*v, (unsigned)ws, num, sizeof(num));
			fg_errf(msg, msg_size,
				"%s: %s (written at scale %d) does not fit in 64 bits at the "
				"reader's scale %d",
				name, num, ws, rs);
			return -1;
		}
	for (int i = rs; i < ws && x; i++) {
		if (x % 10) {
			if (ws <= 38)
				fg_decimal_format(*v, (unsigned)ws, num, sizeof(num));
			else /* too many places to write out: the unscaled integer */
				snprintf(num, sizeof(num), "unscaled %lld", (long long)*v);
			fg_errf(msg, msg_size,
				"%s: %s (written at scale %d) has more decimals than the reader's "
				"scale %d keeps",
				name, num, ws, rs);
			return -1;
		}
		x /= 10;
	}
	*v = x;
	return 0;
}

/*
 * A body of a writer that is the reader schema but for its decimal scales
 * ws, read by the codec as written: each line's decimals brought to the
 * reader's scales, in the order and with the messages of get_line().
 */
static int rescale_lines(struct fg_decl *d, const int *ws, char *msg, size_t msg_size)
{
	for (uint32_t i = 0; i < d->n_lines; i++) {
		struct fg_decl_line *l = &d->lines[i];
		if (rescale(&l->net_mass_kg, ws[FG_DEC_NET_MASS], fg_reader_scales[FG_DEC_NET_MASS],
			    fg_dec_field_names[FG_DEC_NET_MASS], msg, msg_size) ||
		    rescale(&l->customs_value, ws[FG_DEC_CUSTOMS_VALUE],
			    fg_reader_scales[FG_DEC_CUSTOMS_VALUE],
			    fg_dec_field_names[FG_DEC_CUSTOMS_VALUE], msg, msg_size) ||
		    (l->has_content &&
		     rescale(&l->content_percent, ws[FG_DEC_PERCENT],
			     fg_reader_scales[FG_DEC_PERCENT], "content.percent", msg, msg_size)))
			return -1;
	}
	return 0;
}

/* Decimal k of the reader (enum fg_dec_field), written at scale ws. */
static int get_dec(avro_value_t *rec, enum fg_dec_field k, int ws, int64_t *out, char *msg,
		   size_t msg_size)
{
	const char *name = fg_dec_field_names[k];
	avro_value_t f;
	avro_schema_t fs;
	const void *b;
	size_t size;

	if (need(rec, name, W_DECIMAL, &f, &fs, msg, msg_size))
		return -1;
	CHECK(avro_value_get_bytes(&f, &b, &size), name);
	if (fg_decimal_from_be_bytes(b, size, out)) {
		fg_errf(msg, msg_size, "%s: decimal of %zu bytes is empty or does not fit in 64 bits",
			name, size);
		return -1;
	}
	return rescale(out, ws, fg_reader_scales[k], name, msg, msg_size);
}

/* By symbol name; a symbol the reader does not have is its default, ORIGINAL. */
static int get_function_code(avro_value_t *rec, enum fg_function_code *out, char *msg,
			     size_t msg_size)
{
	const char *name = "function_code", *sym;
	avro_value_t f;
	avro_schema_t fs;
	int e;

	if (need(rec, name, W_FUNCTION_CODE, &f, &fs, msg, msg_size))
		return -1;
	CHECK(avro_value_get_enum(&f, &e), name);
	/* Avro C reads any index, and avro_schema_enum_get() does not check it */
	sym = e >= 0 && e < avro_schema_enum_number_of_symbols(fs) ? avro_schema_enum_get(fs, e)
								    : NULL;
	if (!sym) {
		fg_errf(msg, msg_size, "function_code: symbol %d is out of range", e);
		return -1;
	}
	*out = FG_FC_ORIGINAL;
	for (size_t k = 0; k < FG_ARRAY_LEN(fc_symbols); k++)
		if (!strcmp(sym, fc_symbols[k]))
			*out = (enum fg_function_code)k;
	return 0;
}

static int get_line(avro_value_t *lv, struct fg_decl_line *l, const int *ws, char *msg,
		    size_t msg_size)
{
	avro_value_t f;
	avro_schema_t fs;
	int r;

	memset(l, 0, sizeof(*l));
	if (get_int(lv, "item_no", &l->item_no, msg, msg_size) ||
	    get_str(lv, "commodity_code", &l->commodity_code, msg, msg_size) ||
	    get_str(lv, "description", &l->description, msg, msg_size) ||
	    get_str(lv, "origin_country", &l->origin_country, msg, msg_size) ||
	    get_dec(lv, FG_DEC_NET_MASS, ws[FG_DEC_NET_MASS], &l->net_mass_kg, msg, msg_size) ||
	    get_dec(lv, FG_DEC_CUSTOMS_VALUE, ws[FG_DEC_CUSTOMS_VALUE], &l->customs_value, msg,
		    msg_size))
		return -1;
	r = wfield(lv, "content", W_CONTENT, &f, &fs, msg, msg_size);
	if (r < 0)
		return -1;
	if (r) {
		l->has_content = 1;
		if (get_str(&f, "element", &l->content_element, msg, msg_size) ||
		    get_dec(&f, FG_DEC_PERCENT, ws[FG_DEC_PERCENT], &l->content_percent, msg,
			    msg_size)) {
			char tmp[512];
			snprintf(tmp, sizeof(tmp), "content.%s", msg); /* "content.percent: ..." */
			snprintf(msg, msg_size, "%s", tmp);
			return -1;
		}
	}
	r = wfield(lv, "preference_claim", W_STRING, &f, &fs, msg, msg_size);
	if (r < 0)
		return -1;
	if (r) {
		l->has_preference_claim = 1;
		if (as_str(&f, fs, &l->preference_claim, msg, msg_size, "preference_claim"))
			return -1;
	}
	return 0;
}

/* The declaration from a value of a writer schema that fields_fit() accepted. */
static int extract(struct fg_decoder *dec, avro_value_t *v, struct fg_decl *d, char *msg,
		   size_t msg_size)
{
	avro_value_t lines;
	avro_schema_t ls;
	size_t n;

	memset(d, 0, sizeof(*d));
	if (get_str(v, "declaration_id", &d->declaration_id, msg, msg_size) ||
	    get_int(v, "version", &d->version, msg, msg_size) ||
	    get_function_code(v, &d->function_code, msg, msg_size) ||
	    get_long(v, "submitted_at", &d->submitted_at, msg, msg_size) ||
	    get_int(v, "acceptance_date", &d->acceptance_date, msg, msg_size) ||
	    get_str(v, "declarant_id", &d->declarant_id, msg, msg_size) ||
	    get_str(v, "importer_id", &d->importer_id, msg, msg_size) ||
	    get_str(v, "port_code", &d->port_code, msg, msg_size) ||
	    get_str(v, "export_country", &d->export_country, msg, msg_size) ||
	    get_str(v, "invoice_currency", &d->invoice_currency, msg, msg_size) ||
	    need(v, "lines", W_LINES, &lines, &ls, msg, msg_size))
		return -1;
	CHECK(avro_value_get_size(&lines, &n), "lines");
	if (n > UINT32_MAX / 2) {
		fg_errf(msg, msg_size, "lines: %zu lines is too many", n);
		return -1;
	}
	if (n > dec->cap_lines) {
		struct fg_decl_line *nl = realloc(dec->lines, n * sizeof(*nl));
		if (!nl) {
			fg_errf(msg, msg_size, "lines: out of memory for %zu lines", n);
			return -1;
		}
		dec->lines = nl;
		dec->cap_lines = (uint32_t)n;
	}
	d->lines = dec->lines;
	d->n_lines = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		avro_value_t lv;
		CHECK(avro_value_get_by_index(&lines, i, &lv, NULL), "lines");
		if (get_line(&lv, &dec->lines[i], dec->wscale, msg, msg_size))
			return -1;
	}
	return 0;
}

static pthread_mutex_t avro_lock = PTHREAD_MUTEX_INITIALIZER;

static int decode_generic(struct fg_decoder *dec, struct writer_cache *c,
			  const struct fg_schema_entry *entry, const uint8_t *body, size_t len,
			  struct fg_decl *out, char *msg, size_t msg_size);

int fg_decoder_decode(struct fg_decoder *dec, const struct fg_schema_entry *entry,
		      const uint8_t *body, size_t len, struct fg_decl *out, char *msg,
		      size_t msg_size)
{
	struct writer_cache *c;

	/* The decoder's own cache first; a miss builds Avro C classes (one thread at a time). */
	c = NULL;
	for (size_t i = 0; i < dec->n_cache && !c; i++)
		if (dec->cache[i].schema == entry->schema)
			c = &dec->cache[i];
	if (!c) {
		pthread_mutex_lock(&avro_lock);
		c = cache_get(dec, entry->schema, entry->scale);
		pthread_mutex_unlock(&avro_lock);
	}
	if (!c) {
		fg_errf(msg, msg_size, "cannot prepare schema %d: %s", (int)entry->id,
			avro_strerror());
		return -1;
	}
	if (c->resolve_error) {
		fg_errf(msg, msg_size, "schema %d: %s", (int)entry->id, c->resolve_error);
		return -1;
	}
	if (c->same || c->rescale) {
		/*
		 * Written with the reader schema itself (perhaps at other decimal
		 * scales): the decoder written for it (fg_codec.c, ~125 ns
		 * against ~2 us, same fg_decl, same refusals including trailing
		 * bytes). Its strings point into body, which every caller keeps
		 * until it is done with out.
		 */
		char why[256];
		if (fg_codec_decode_declaration(body, len, out, &dec->lines, &dec->cap_lines, why,
						sizeof(why))) {
			fg_errf(msg, msg_size, "body is not valid Avro for schema %d: %s",
				(int)entry->id, why);
			return -1;
		}
		return c->rescale ? rescale_lines(out, c->scale, msg, msg_size) : 0;
	}
	/*
	 * Avro C keeps its error text in one static buffer in Debian's build
	 * (no THREADSAFE), so decoders on different threads would mix up each
	 * other's messages: the generic path runs one thread at a time. It only
	 * serves writer schemas other than the reader's.
	 */
	pthread_mutex_lock(&avro_lock);
	int rc = decode_generic(dec, c, entry, body, len, out, msg, msg_size);
	pthread_mutex_unlock(&avro_lock);
	return rc;
}

static int decode_generic(struct fg_decoder *dec, struct writer_cache *c,
			  const struct fg_schema_entry *entry, const uint8_t *body, size_t len,
			  struct fg_decl *out, char *msg, size_t msg_size)
{
	uint8_t extra;

	/*
	 * Walk the body once with avro_skip_data, which allocates nothing,
	 * before Avro C reads it: its read_string/read_bytes allocate the
	 * length a body claims and leak that buffer when the body ends early
	 * (avro-c 1.11 encoding_binary.c), so a truncated or forged message
	 * would cost up to the allocation limit each. A body that skips cleanly
	 * to its exact end cannot run short in the read below.
	 */
	avro_set_error("%s", ""); /* Avro C prefixes some errors to the last one: start clean */
	avro_reader_memory_set_source(dec->mem, (const char *)body, (int64_t)len);
	if (avro_skip_data(dec->mem, entry->schema)) {
		fg_errf(msg, msg_size, "body is not valid Avro for schema %d: %s", (int)entry->id,
			avro_strerror());
		return -1;
	}
	if (avro_read(dec->mem, &extra, 1) == 0) {
		fg_errf(msg, msg_size, "body has bytes after the end of the record (schema %d)",
			(int)entry->id);
		return -1;
	}
	avro_reader_memory_set_source(dec->mem, (const char *)body, (int64_t)len);
	if (!c->wvalue.iface) {
		fg_errf(msg, msg_size, "out of memory for a value of schema %d", (int)entry->id);
		return -1;
	}
	avro_value_reset(&c->wvalue);
	fg_avro_track_begin(&dec->track);
	if (avro_value_read(dec->mem, &c->wvalue)) {
		fg_errf(msg, msg_size, "body is not valid Avro for schema %d: %s", (int)entry->id,
			avro_strerror());
		renew_value(dec, c);
		return -1;
	}
	fg_avro_track_end(&dec->track, 0);
	dec->wscale = entry->scale;
	return extract(dec, &c->wvalue, out, msg, msg_size);
}
