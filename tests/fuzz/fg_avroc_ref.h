/*
 * fg_avroc_ref.h: the generic Avro C read of a declaration, as the oracle
 * for ingest/fg_codec.c (header-only: the fuzz target and the unit test
 * both include it).
 *
 * It mirrors the generic path of ingest/fg_decode.c: a reused generic
 * value of the reader schema, a memory reader, an avro_skip_data pass
 * (it allocates nothing, so a body that ends early is refused before
 * avro_value_read can allocate and leak a string, AVRO-4246), the
 * trailing-byte check, avro_value_read, then a field-by-field extraction
 * into struct fg_decl by the reader's field positions. It is a copy on
 * purpose: fg_decoder_decode hands bodies written with the reader schema
 * to the codec, so calling it would compare the codec with itself; and
 * fg_decode.c's own extraction goes by field name (for other writer
 * schemas), so this one, by position, is an independent second reading
 * for fuzz_decode to compare that path with too.
 */
#ifndef FG_AVROC_REF_H
#define FG_AVROC_REF_H

#include <avro.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/fg_decimal.h"
#include "../../ingest/fg_decl.h"
#include "../../ingest/fg_schemas.h"

struct fg_avroc_ref {
	avro_schema_t schema;
	avro_value_iface_t *iface;
	avro_value_t value;
	avro_reader_t mem;
	struct fg_decl_line *lines;
	uint32_t cap_lines;
	struct fg_avro_track track;
};

static inline void fg_avroc_ref_destroy(struct fg_avroc_ref *ref)
{
	if (!ref)
		return;
	if (ref->iface) {
		if (ref->value.iface)
			avro_value_decref(&ref->value);
		avro_value_iface_decref(ref->iface);
	}
	free(ref->track.v);
	if (ref->mem)
		avro_reader_free(ref->mem);
	if (ref->schema)
		avro_schema_decref(ref->schema);
	free(ref->lines);
	free(ref);
}

static inline struct fg_avroc_ref *fg_avroc_ref_create(void)
{
	struct fg_avroc_ref *ref = calloc(1, sizeof(*ref));
	char err[256];

	if (!ref)
		return NULL;
	ref->schema = fg_schemas_parse(fg_schema_text_declaration, err, sizeof(err));
	ref->mem = avro_reader_memory("", 0);
	if (!ref->schema || !ref->mem)
		goto err;
	ref->iface = avro_generic_class_from_schema(ref->schema);
	if (!ref->iface)
		goto err;
	if (avro_generic_value_new(ref->iface, &ref->value)) {
		avro_value_iface_decref(ref->iface);
		ref->iface = NULL;
		goto err;
	}
	return ref;
err:
	fg_avroc_ref_destroy(ref);
	return NULL;
}

#define FG_REF_CHECK(expr)            \
	do {                          \
		if ((expr) != 0)      \
			return -1;    \
	} while (0)

static inline int fg_avroc_ref_str(avro_value_t *rec, size_t idx, struct fg_str *out)
{
	avro_value_t f;
	const char *s;
	size_t size;

	FG_REF_CHECK(avro_value_get_by_index(rec, idx, &f, NULL));
	FG_REF_CHECK(avro_value_get_string(&f, &s, &size));
	*out = fg_str_make(s, size ? size - 1 : 0); /* size counts the NUL */
	return 0;
}

static inline int fg_avroc_ref_dec(avro_value_t *rec, size_t idx, int64_t *out)
{
	avro_value_t f;
	const void *b;
	size_t size;

	FG_REF_CHECK(avro_value_get_by_index(rec, idx, &f, NULL));
	FG_REF_CHECK(avro_value_get_bytes(&f, &b, &size));
	return fg_decimal_from_be_bytes(b, size, out);
}

static inline int fg_avroc_ref_union(avro_value_t *rec, size_t idx, avro_value_t *branch,
				     int *present)
{
	avro_value_t f;
	int disc;

	FG_REF_CHECK(avro_value_get_by_index(rec, idx, &f, NULL));
	FG_REF_CHECK(avro_value_get_discriminant(&f, &disc));
	FG_REF_CHECK(avro_value_get_current_branch(&f, branch));
	*present = avro_value_get_type(branch) != AVRO_NULL;
	return 0;
}

/*
 * Decodes body with Avro C into out (strings point into ref's value, valid
 * until the next call). Returns 0, or -1 with Avro C's reason (or the
 * extraction's) in msg.
 */
static inline int fg_avroc_ref_decode(struct fg_avroc_ref *ref, const uint8_t *body, size_t len,
				      struct fg_decl *d, char *msg, size_t msg_size)
{
	avro_value_t *v = &ref->value, f, lines;
	uint8_t extra;
	int e;
	size_t n;

	avro_reader_memory_set_source(ref->mem, (const char *)body, (int64_t)len);
	if (avro_skip_data(ref->mem, ref->schema)) {
		snprintf(msg, msg_size, "avro (skip): %s", avro_strerror());
		return -1;
	}
	if (avro_read(ref->mem, &extra, 1) == 0) {
		snprintf(msg, msg_size, "avro: bytes after the end of the record");
		return -1;
	}
	avro_reader_memory_set_source(ref->mem, (const char *)body, (int64_t)len);
	if (!v->iface)
		abort(); /* an earlier failed read could not make a new value */
	avro_value_reset(v);
	fg_avro_track_begin(&ref->track);
	if (avro_value_read(ref->mem, v)) {
		snprintf(msg, msg_size, "avro: %s", avro_strerror());
		/* Free what the failed read leaked (see fg_avro_track_begin). */
		avro_value_decref(v);
		fg_avro_track_end(&ref->track, 1);
		if (avro_generic_value_new(ref->iface, v))
			v->iface = NULL;
		return -1;
	}
	fg_avro_track_end(&ref->track, 0);
	snprintf(msg, msg_size, "avro: extraction failed");
	memset(d, 0, sizeof(*d));
	/* Field positions as in schemas/declaration.avsc. */
	FG_REF_CHECK(fg_avroc_ref_str(v, 0, &d->declaration_id));
	FG_REF_CHECK(avro_value_get_by_index(v, 1, &f, NULL));
	FG_REF_CHECK(avro_value_get_int(&f, &d->version));
	FG_REF_CHECK(avro_value_get_by_index(v, 2, &f, NULL));
	FG_REF_CHECK(avro_value_get_enum(&f, &e));
	if (e < 0 || e > FG_FC_CANCELLATION)
		return -1;
	d->function_code = (enum fg_function_code)e;
	FG_REF_CHECK(avro_value_get_by_index(v, 3, &f, NULL));
	FG_REF_CHECK(avro_value_get_long(&f, &d->submitted_at));
	FG_REF_CHECK(avro_value_get_by_index(v, 4, &f, NULL));
	FG_REF_CHECK(avro_value_get_int(&f, &d->acceptance_date));
	FG_REF_CHECK(fg_avroc_ref_str(v, 5, &d->declarant_id));
	FG_REF_CHECK(fg_avroc_ref_str(v, 6, &d->importer_id));
	FG_REF_CHECK(fg_avroc_ref_str(v, 7, &d->port_code));
	FG_REF_CHECK(fg_avroc_ref_str(v, 8, &d->export_country));
	FG_REF_CHECK(fg_avroc_ref_str(v, 9, &d->invoice_currency));
	FG_REF_CHECK(avro_value_get_by_index(v, 10, &lines, NULL));
	FG_REF_CHECK(avro_value_get_size(&lines, &n));
	if (n > UINT32_MAX / 2)
		return -1;
	if (n > ref->cap_lines) {
		struct fg_decl_line *nl = realloc(ref->lines, n * sizeof(*nl));
		if (!nl)
			return -1;
		ref->lines = nl;
		ref->cap_lines = (uint32_t)n;
	}
	d->lines = ref->lines;
	d->n_lines = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		struct fg_decl_line *l = &ref->lines[i];
		avro_value_t lv, b;
		int present;

		memset(l, 0, sizeof(*l));
		FG_REF_CHECK(avro_value_get_by_index(&lines, i, &lv, NULL));
		FG_REF_CHECK(avro_value_get_by_index(&lv, 0, &f, NULL));
		FG_REF_CHECK(avro_value_get_int(&f, &l->item_no));
		FG_REF_CHECK(fg_avroc_ref_str(&lv, 1, &l->commodity_code));
		FG_REF_CHECK(fg_avroc_ref_str(&lv, 2, &l->description));
		FG_REF_CHECK(fg_avroc_ref_str(&lv, 3, &l->origin_country));
		if (fg_avroc_ref_dec(&lv, 4, &l->net_mass_kg) ||
		    fg_avroc_ref_dec(&lv, 5, &l->customs_value)) {
			snprintf(msg, msg_size, "avro: decimal is empty or does not fit in 64 bits");
			return -1;
		}
		FG_REF_CHECK(fg_avroc_ref_union(&lv, 6, &b, &present));
		if (present) {
			l->has_content = 1;
			FG_REF_CHECK(fg_avroc_ref_str(&b, 0, &l->content_element));
			if (fg_avroc_ref_dec(&b, 1, &l->content_percent)) {
				snprintf(msg, msg_size, "avro: decimal is empty or does not fit in 64 bits");
				return -1;
			}
		}
		FG_REF_CHECK(fg_avroc_ref_union(&lv, 7, &b, &present));
		if (present) {
			const char *s;
			size_t size;
			FG_REF_CHECK(avro_value_get_string(&b, &s, &size));
			l->has_preference_claim = 1;
			l->preference_claim = fg_str_make(s, size ? size - 1 : 0);
		}
	}
	if (msg_size)
		msg[0] = '\0';
	return 0;
}

#undef FG_REF_CHECK

static inline int fg_ref_str_differs(const char *name, uint32_t line, struct fg_str a,
				     struct fg_str b, char *why, size_t why_size)
{
	if (fg_str_eq(a, b))
		return 0;
	snprintf(why, why_size, "line %d %s: \"%.*s\" (%zu bytes) != \"%.*s\" (%zu bytes)",
		 line == UINT32_MAX ? -1 : (int)line, name, (int)(a.len > 64 ? 64 : a.len),
		 a.p ? a.p : "", a.len, (int)(b.len > 64 ? 64 : b.len), b.p ? b.p : "", b.len);
	return 1;
}

static inline int fg_ref_int_differs(const char *name, uint32_t line, int64_t a, int64_t b,
				     char *why, size_t why_size)
{
	if (a == b)
		return 0;
	snprintf(why, why_size, "line %d %s: %lld != %lld", line == UINT32_MAX ? -1 : (int)line,
		 name, (long long)a, (long long)b);
	return 1;
}

/*
 * Compares two decoded declarations field by field, string bytes included
 * (not where they point). Returns 0 when equal, else 1 and the first
 * difference in why.
 */
static inline int fg_avroc_ref_decl_diff(const struct fg_decl *a, const struct fg_decl *b,
					 char *why, size_t why_size)
{
	const uint32_t H = UINT32_MAX; /* header field, no line */

#define S(f, line, x, y) \
	if (fg_ref_str_differs(#f, line, (x)->f, (y)->f, why, why_size)) \
		return 1
#define I(f, line, x, y) \
	if (fg_ref_int_differs(#f, line, (int64_t)(x)->f, (int64_t)(y)->f, why, why_size)) \
		return 1
	S(declaration_id, H, a, b);
	I(version, H, a, b);
	I(function_code, H, a, b);
	I(submitted_at, H, a, b);
	I(acceptance_date, H, a, b);
	S(declarant_id, H, a, b);
	S(importer_id, H, a, b);
	S(port_code, H, a, b);
	S(export_country, H, a, b);
	S(invoice_currency, H, a, b);
	I(n_lines, H, a, b);
	for (uint32_t i = 0; i < a->n_lines; i++) {
		const struct fg_decl_line *x = &a->lines[i], *y = &b->lines[i];
		I(item_no, i, x, y);
		S(commodity_code, i, x, y);
		S(description, i, x, y);
		S(origin_country, i, x, y);
		I(net_mass_kg, i, x, y);
		I(customs_value, i, x, y);
		I(has_content, i, x, y);
		S(content_element, i, x, y);
		I(content_percent, i, x, y);
		I(has_preference_claim, i, x, y);
		S(preference_claim, i, x, y);
	}
#undef S
#undef I
	return 0;
}

#endif
