#include "fg_decode.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fg_common.h"
#include "../core/fg_decimal.h"
#include "fg_codec.h"

/* Field positions in the reader schema (schemas/declaration.avsc). */
enum {
	D_DECLARATION_ID, D_VERSION, D_FUNCTION_CODE, D_SUBMITTED_AT, D_ACCEPTANCE_DATE,
	D_DECLARANT_ID, D_IMPORTER_ID, D_PORT_CODE, D_EXPORT_COUNTRY, D_INVOICE_CURRENCY,
	D_LINES, D_FIELD_COUNT
};
enum {
	L_ITEM_NO, L_COMMODITY_CODE, L_DESCRIPTION, L_ORIGIN_COUNTRY, L_NET_MASS_KG,
	L_CUSTOMS_VALUE, L_CONTENT, L_PREFERENCE_CLAIM, L_FIELD_COUNT
};

struct writer_cache {
	avro_schema_t schema;          /* one reference, keeps the pointer unique */
	avro_value_iface_t *w_iface;   /* generic class of the writer schema */
	avro_value_iface_t *r_iface;   /* resolved reader, NULL when writer == reader */
	avro_value_t wvalue, rvalue;
	int has_rvalue;
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
		if (c->has_rvalue)
			avro_value_decref(&c->rvalue);
		if (c->w_iface && c->wvalue.iface)
			avro_value_decref(&c->wvalue);
		if (c->r_iface)
			avro_value_iface_decref(c->r_iface);
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
 * Whether writer schema w resolves against reader schema r, by Avro C's
 * rules, checked before Avro C itself is asked. Avro C 1.11's
 * avro_resolved_reader_new() frees memory twice, or follows a NULL
 * pointer, when a record it looks into fails after a field that holds a
 * record, or when array or map items fail (the error paths of
 * resolved-reader.c): a GoodsLine without preference_claim crashed the
 * process. So every record with the reader's name, and every array and
 * map, that Avro C would look into must resolve here first, or the writer
 * is refused without calling Avro C. Leaf types (primitives, enums, fixed)
 * are asked of Avro C itself, which refuses them without allocating.
 *
 * Returns 1 when w resolves, 0 when it does not but Avro C may try it (a
 * union then tries another branch), -1 when Avro C must not see it. why
 * receives the reason.
 */
static int resolvable(avro_schema_t w, avro_schema_t r, char *why, size_t size)
{
	int rc;

	if (is_avro_link(w))
		w = avro_schema_link_target(w);
	if (is_avro_link(r))
		r = avro_schema_link_target(r);
	if (is_avro_union(w)) {
		/* Avro C tries every writer branch; one must fit. */
		int any = 0;
		for (size_t i = 0; i < avro_schema_union_size(w); i++) {
			rc = resolvable(avro_schema_union_branch(w, i), r, why, size);
			if (rc < 0)
				return -1;
			any |= rc;
		}
		return any;
	}
	switch (avro_typeof(r)) {
	case AVRO_UNION:
		/* Avro C takes the first reader branch that fits. */
		for (size_t i = 0; i < avro_schema_union_size(r); i++) {
			rc = resolvable(w, avro_schema_union_branch(r, i), why, size);
			if (rc != 0)
				return rc;
		}
		snprintf(why, size, "writer %s matches no branch of the reader's union",
			 avro_schema_type_name(w));
		return 0;
	case AVRO_RECORD:
		if (!is_avro_record(w) || strcmp(avro_schema_name(w), avro_schema_name(r)) != 0) {
			snprintf(why, size, "writer %s is not record %s", avro_schema_type_name(w),
				 avro_schema_name(r));
			return 0;
		}
		for (size_t i = 0; i < avro_schema_record_size(r); i++) {
			const char *name = avro_schema_record_field_name(r, (int)i);
			int wi = avro_schema_record_field_get_index(w, name);
			if (wi < 0) {
				snprintf(why, size,
					 "%s: missing from the writer (Avro C cannot use the reader's "
					 "default)",
					 name);
				return -1;
			}
			if (resolvable(avro_schema_record_field_get_by_index(w, wi),
				       avro_schema_record_field_get_by_index(r, (int)i), why,
				       size) != 1) {
				why_prefix(why, size, name);
				return -1;
			}
		}
		return 1;
	case AVRO_ARRAY:
		if (!is_avro_array(w)) {
			snprintf(why, size, "writer %s is not an array", avro_schema_type_name(w));
			return 0;
		}
		return resolvable(avro_schema_array_items(w), avro_schema_array_items(r), why,
				  size) == 1 ? 1 : -1;
	case AVRO_MAP:
		if (!is_avro_map(w)) {
			snprintf(why, size, "writer %s is not a map", avro_schema_type_name(w));
			return 0;
		}
		return resolvable(avro_schema_map_values(w), avro_schema_map_values(r), why,
				  size) == 1 ? 1 : -1;
	default: {
		avro_value_iface_t *leaf = avro_resolved_reader_new(w, r);
		if (!leaf) {
			snprintf(why, size, "%s", avro_strerror());
			return 0;
		}
		avro_value_iface_decref(leaf);
		return 1;
	}
	}
}

static struct writer_cache *cache_get(struct fg_decoder *dec, avro_schema_t schema)
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
	if (!avro_schema_equal(schema, dec->reader)) {
		char why[512] = "", buf[640];
		if (resolvable(schema, dec->reader, why, sizeof(why)) == 1)
			c->r_iface = avro_resolved_reader_new(schema, dec->reader);
		else if (!why[0])
			snprintf(why, sizeof(why), "incompatible");
		if (!c->r_iface) {
			snprintf(buf, sizeof(buf),
				 "writer schema cannot be resolved against "
				 "floorgate.v1.ImportDeclaration: %s",
				 why[0] ? why : avro_strerror());
			c->resolve_error = strdup(buf);
		} else if (avro_resolved_reader_new_value(c->r_iface, &c->rvalue) == 0) {
			c->has_rvalue = 1;
			avro_resolved_reader_set_source(&c->rvalue, &c->wvalue);
		} else {
			c->resolve_error = strdup("cannot create a resolved reader value");
		}
	}
	return c;
}

int fg_decoder_check_writer(avro_schema_t schema, const char *origin, char *errstr,
			    size_t errstr_size)
{
	struct fg_decoder *dec = fg_decoder_create(errstr, errstr_size);
	struct writer_cache *c = dec ? cache_get(dec, schema) : NULL;
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
	if (c->has_rvalue)
		avro_resolved_reader_clear_source(&c->rvalue);
	avro_value_decref(&c->wvalue);
	fg_avro_track_end(&dec->track, 1);
	if (avro_generic_value_new(c->w_iface, &c->wvalue)) {
		c->wvalue.iface = NULL; /* refused from now on, see fg_decoder_decode */
		return;
	}
	if (c->has_rvalue)
		avro_resolved_reader_set_source(&c->rvalue, &c->wvalue);
}

#define CHECK(expr, what)                                                  \
	do {                                                               \
		if ((expr) != 0) {                                         \
			fg_errf(msg, msg_size, "%s: %s", what, avro_strerror()); \
			return -1;                                         \
		}                                                          \
	} while (0)

static int get_str(avro_value_t *rec, size_t idx, struct fg_str *out, char *msg, size_t msg_size,
		   const char *name)
{
	avro_value_t f;
	const char *s;
	size_t size;

	CHECK(avro_value_get_by_index(rec, idx, &f, NULL), name);
	CHECK(avro_value_get_string(&f, &s, &size), name);
	out->p = s;
	out->len = size ? size - 1 : 0; /* size counts the NUL */
	return 0;
}

static int get_dec(avro_value_t *rec, size_t idx, int64_t *out, char *msg, size_t msg_size,
		   const char *name)
{
	avro_value_t f;
	const void *b;
	size_t size;

	CHECK(avro_value_get_by_index(rec, idx, &f, NULL), name);
	CHECK(avro_value_get_bytes(&f, &b, &size), name);
	if (fg_decimal_from_be_bytes(b, size, out)) {
		fg_errf(msg, msg_size, "%s: decimal of %zu bytes is empty or does not fit in 64 bits",
			name, size);
		return -1;
	}
	return 0;
}

/* Reads the optional branch of ["null", T]; *present = 0 for null. */
static int get_union(avro_value_t *rec, size_t idx, avro_value_t *branch, int *present,
		     char *msg, size_t msg_size, const char *name)
{
	avro_value_t f;
	int disc;

	CHECK(avro_value_get_by_index(rec, idx, &f, NULL), name);
	CHECK(avro_value_get_discriminant(&f, &disc), name);
	CHECK(avro_value_get_current_branch(&f, branch), name);
	*present = avro_value_get_type(branch) != AVRO_NULL;
	return 0;
}

static int extract(struct fg_decoder *dec, avro_value_t *v, struct fg_decl *d, char *msg,
		   size_t msg_size)
{
	avro_value_t f, lines;
	int e;
	size_t n;

	memset(d, 0, sizeof(*d));
	if (get_str(v, D_DECLARATION_ID, &d->declaration_id, msg, msg_size, "declaration_id"))
		return -1;
	CHECK(avro_value_get_by_index(v, D_VERSION, &f, NULL), "version");
	CHECK(avro_value_get_int(&f, &d->version), "version");
	CHECK(avro_value_get_by_index(v, D_FUNCTION_CODE, &f, NULL), "function_code");
	CHECK(avro_value_get_enum(&f, &e), "function_code");
	if (e < 0 || e > FG_FC_CANCELLATION) {
		fg_errf(msg, msg_size, "function_code: symbol %d is out of range", e);
		return -1;
	}
	d->function_code = (enum fg_function_code)e;
	CHECK(avro_value_get_by_index(v, D_SUBMITTED_AT, &f, NULL), "submitted_at");
	CHECK(avro_value_get_long(&f, &d->submitted_at), "submitted_at");
	CHECK(avro_value_get_by_index(v, D_ACCEPTANCE_DATE, &f, NULL), "acceptance_date");
	CHECK(avro_value_get_int(&f, &d->acceptance_date), "acceptance_date");
	if (get_str(v, D_DECLARANT_ID, &d->declarant_id, msg, msg_size, "declarant_id") ||
	    get_str(v, D_IMPORTER_ID, &d->importer_id, msg, msg_size, "importer_id") ||
	    get_str(v, D_PORT_CODE, &d->port_code, msg, msg_size, "port_code") ||
	    get_str(v, D_EXPORT_COUNTRY, &d->export_country, msg, msg_size, "export_country") ||
	    get_str(v, D_INVOICE_CURRENCY, &d->invoice_currency, msg, msg_size, "invoice_currency"))
		return -1;
	CHECK(avro_value_get_by_index(v, D_LINES, &lines, NULL), "lines");
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
		struct fg_decl_line *l = &dec->lines[i];
		avro_value_t lv, b;
		int present;

		memset(l, 0, sizeof(*l));
		CHECK(avro_value_get_by_index(&lines, i, &lv, NULL), "lines");
		CHECK(avro_value_get_by_index(&lv, L_ITEM_NO, &f, NULL), "item_no");
		CHECK(avro_value_get_int(&f, &l->item_no), "item_no");
		if (get_str(&lv, L_COMMODITY_CODE, &l->commodity_code, msg, msg_size,
			    "commodity_code") ||
		    get_str(&lv, L_DESCRIPTION, &l->description, msg, msg_size, "description") ||
		    get_str(&lv, L_ORIGIN_COUNTRY, &l->origin_country, msg, msg_size,
			    "origin_country") ||
		    get_dec(&lv, L_NET_MASS_KG, &l->net_mass_kg, msg, msg_size, "net_mass_kg") ||
		    get_dec(&lv, L_CUSTOMS_VALUE, &l->customs_value, msg, msg_size,
			    "customs_value") ||
		    get_union(&lv, L_CONTENT, &b, &present, msg, msg_size, "content"))
			return -1;
		if (present) {
			l->has_content = 1;
			if (get_str(&b, 0, &l->content_element, msg, msg_size, "content.element") ||
			    get_dec(&b, 1, &l->content_percent, msg, msg_size, "content.percent"))
				return -1;
		}
		if (get_union(&lv, L_PREFERENCE_CLAIM, &b, &present, msg, msg_size,
			      "preference_claim"))
			return -1;
		if (present) {
			const char *s;
			size_t size;
			CHECK(avro_value_get_string(&b, &s, &size), "preference_claim");
			l->has_preference_claim = 1;
			l->preference_claim = fg_str_make(s, size ? size - 1 : 0);
		}
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
		c = cache_get(dec, entry->schema);
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
	if (!c->r_iface) {
		/*
		 * Written with the reader schema itself: the decoder written for
		 * it (fg_codec.c, ~125 ns against ~2 us, same fg_decl, same
		 * refusals including trailing bytes). Its strings point into
		 * body, which every caller keeps until it is done with out.
		 */
		char why[256];
		if (fg_codec_decode_declaration(body, len, out, &dec->lines, &dec->cap_lines, why,
						sizeof(why))) {
			fg_errf(msg, msg_size, "body is not valid Avro for schema %d: %s",
				(int)entry->id, why);
			return -1;
		}
		return 0;
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
	return extract(dec, c->has_rvalue ? &c->rvalue : &c->wvalue, out, msg, msg_size);
}
