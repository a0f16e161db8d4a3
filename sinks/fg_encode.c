#include "fg_encode.h"

#include <stdlib.h>
#include <string.h>

#include "../core/fg_avrobin.h"
#include "../core/fg_decimal.h"
#include "../ingest/fg_frame.h"
#include "../ingest/fg_schemas.h"

struct fg_encoder {
	struct fg_avrobin own; /* the records' buffer unless fg_encoder_append_to() */
	struct fg_avrobin *w;  /* where records go: &own or the caller's */
	size_t base;           /* w->len when the record being written began */
	int32_t assessment_id, deadletter_id;
	avro_schema_t assessment_schema, deadletter_schema;
	size_t function_code_len[3], flag_len[FG_FLAG_COUNT];
	size_t flags_max; /* bytes of a line's flag array with every flag set */
};

struct fg_encoder *fg_encoder_create(int32_t assessment_schema_id, int32_t deadletter_schema_id,
				     char *errstr, size_t errstr_size)
{
	struct fg_encoder *enc = calloc(1, sizeof(*enc));

	if (!enc) {
		fg_errf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	enc->assessment_id = assessment_schema_id;
	enc->deadletter_id = deadletter_schema_id;
	for (int i = 0; i < 3; i++)
		enc->function_code_len[i] = strlen(fg_function_code_names[i]);
	enc->flags_max = FG_AVRO_LONG_MAX;
	for (int i = 0; i < FG_FLAG_COUNT; i++) {
		enc->flag_len[i] = strlen(fg_flag_names[i]);
		enc->flags_max += FG_AVRO_LONG_MAX + enc->flag_len[i];
	}
	enc->assessment_schema = fg_schemas_parse(fg_schema_text_assessment, errstr, errstr_size);
	enc->deadletter_schema = fg_schemas_parse(fg_schema_text_deadletter, errstr, errstr_size);
	if (!enc->assessment_schema || !enc->deadletter_schema || fg_avrobin_init(&enc->own, 4096)) {
		fg_encoder_destroy(enc);
		return NULL;
	}
	enc->w = &enc->own;
	return enc;
}

void fg_encoder_destroy(struct fg_encoder *enc)
{
	if (!enc)
		return;
	if (enc->assessment_schema)
		avro_schema_decref(enc->assessment_schema);
	if (enc->deadletter_schema)
		avro_schema_decref(enc->deadletter_schema);
	fg_avrobin_fini(&enc->own);
	free(enc);
}

#define put_long fg_avrobin_long
#define put_bytes fg_avrobin_bytes
#define put_str fg_avrobin_str
#define put_cstr fg_avrobin_cstr

/* ["null", T] unions: branch 0 is null, branch 1 the value. */
static void put_null(struct fg_avrobin *w)
{
	put_long(w, 0);
}

/* Room: 10 * FG_AVRO_LONG_MAX + topic_len + file_len. */
static uint8_t *source_at(uint8_t *p, const struct fg_source_pos *src, int with_file,
			  size_t topic_len, size_t file_len)
{
	if (src && src->topic) {
		p = fg_avro_long_at(p, 1);
		p = fg_avro_bytes_at(p, src->topic, topic_len);
		p = fg_avro_long_at(p, 1);
		p = fg_avro_long_at(p, src->partition);
		p = fg_avro_long_at(p, 1);
		p = fg_avro_long_at(p, src->offset);
	} else {
		p = fg_avro_long_at(p, 0);
		p = fg_avro_long_at(p, 0);
		p = fg_avro_long_at(p, 0);
	}
	if (with_file) {
		if (src && src->file) {
			p = fg_avro_long_at(p, 1);
			p = fg_avro_bytes_at(p, src->file, file_len);
		} else {
			p = fg_avro_long_at(p, 0);
		}
	}
	if (src && src->index >= 0) {
		p = fg_avro_long_at(p, 1);
		p = fg_avro_long_at(p, src->index);
	} else {
		p = fg_avro_long_at(p, 0);
	}
	return p;
}

static size_t topic_len_of(const struct fg_source_pos *src)
{
	if (!src || !src->topic)
		return 0;
	return src->topic_len ? src->topic_len : strlen(src->topic);
}

/* Writes the source fields (the shared tail of both records). */
static void put_source(struct fg_avrobin *w, const struct fg_source_pos *src, int with_file)
{
	size_t topic_len = topic_len_of(src);
	size_t file_len = with_file && src && src->file ? strlen(src->file) : 0;
	uint8_t *p = fg_avrobin_room(w, 10 * FG_AVRO_LONG_MAX + topic_len + file_len);

	if (p)
		fg_avrobin_end(w, source_at(p, src, with_file, topic_len, file_len));
}

void fg_encoder_append_to(struct fg_encoder *enc, struct fg_avrobin *w)
{
	enc->w = w ? w : &enc->own;
}

/* Begins a record at the end of enc->w (at its start for the own buffer). A
 * caller's buffer keeps its sticky oom: a record after a failed one fails. */
static void start(struct fg_encoder *enc)
{
	struct fg_avrobin *w = enc->w;

	if (w == &enc->own) {
		w->len = 0;
		w->oom = 0;
	}
	enc->base = w->len;
	if (fg_avrobin_room(w, FG_FRAME_HEADER_LEN))
		w->len += FG_FRAME_HEADER_LEN;
}

/* A record that could not be written whole is taken back out of the buffer. */
static int fail(struct fg_encoder *enc)
{
	enc->w->len = enc->base;
	return -1;
}

static int finish(struct fg_encoder *enc, int32_t schema_id, struct fg_encoded *out)
{
	struct fg_avrobin *w = enc->w;

	if (w->oom)
		return fail(enc);
	fg_frame_header(schema_id, w->buf + enc->base);
	out->framed = w->buf + enc->base;
	out->framed_len = w->len - enc->base;
	out->body = out->framed + FG_FRAME_HEADER_LEN;
	out->body_len = out->framed_len - FG_FRAME_HEADER_LEN;
	return 0;
}

/* Bytes of an assessed line's fixed-size fields, at most: 7 longs (item_no,
 * the lengths of its 3 strings, status, stage, treatment), 4 one-byte marks
 * (3 union branches, the end of the flags) and 4 decimals, rounded up to 9
 * longs. The flags' count and names are in flags_max. */
#define LINE_FIXED_MAX (9 * FG_AVRO_LONG_MAX + 4 * FG_AVRO_DECIMAL_MAX)

/*
 * Written in spans (the head, each line, the tail), each reserved once:
 * the writers keep the cursor in a register instead of going through the
 * buffer's length at every field.
 */
int fg_encoder_assessment(struct fg_encoder *enc, const struct fg_assessment *as,
			  const struct fg_source_pos *src, struct fg_encoded *out)
{
	const struct fg_decl *d = as->decl;
	const struct fg_refdata *rd = as->rd;
	struct fg_avrobin *w = enc->w;
	size_t fc_len = enc->function_code_len[d->function_code];
	uint8_t *p;

	start(enc);
	p = fg_avrobin_room(w, 5 * FG_AVRO_LONG_MAX + d->declaration_id.len + fc_len);
	if (!p)
		return fail(enc);
	p = fg_avro_bytes_at(p, d->declaration_id.p, d->declaration_id.len);
	p = fg_avro_long_at(p, d->version);
	p = fg_avro_bytes_at(p, fg_function_code_names[d->function_code], fc_len);
	p = fg_avro_long_at(p, d->acceptance_date);
	if (as->n_lines)
		p = fg_avro_long_at(p, as->n_lines);
	fg_avrobin_end(w, p);
	for (uint32_t i = 0; i < as->n_lines; i++) {
		const struct fg_assessed_line *l = &as->lines[i];
		const char *mineral = l->rule ? rd->minerals[l->rule->mineral] : NULL;
		size_t mineral_len = mineral ? rd->mineral_len[l->rule->mineral] : 0;
		size_t rule_len = l->rule ? l->rule->rule_id.len : 0;

		p = fg_avrobin_room(w, LINE_FIXED_MAX + l->in->commodity_code.len + rule_len +
					       mineral_len + enc->flags_max);
		if (!p)
			return fail(enc);
		p = fg_avro_long_at(p, l->in->item_no);
		p = fg_avro_bytes_at(p, l->in->commodity_code.p, l->in->commodity_code.len);
		p = fg_avro_long_at(p, l->status);
		if (l->rule) {
			*p++ = 2; /* branch 1, zig-zag */
			p = fg_avro_bytes_at(p, l->rule->rule_id.p, rule_len);
			*p++ = 2;
			p = fg_avro_bytes_at(p, mineral, mineral_len);
			*p++ = 2;
			p = fg_avro_long_at(p, l->rule->stage);
		} else {
			*p++ = 0; /* null */
			*p++ = 0;
			*p++ = 0;
		}
		p = fg_avro_long_at(p, l->treatment);
		p = fg_avro_decimal_at(p, l->value_usd);
		p = fg_avro_decimal_at(p, l->base_duty);
		p = fg_avro_decimal_at(p, l->floor_duty);
		p = fg_avro_decimal_at(p, l->line_duty);
		if (l->flags) {
			int nflags = 0;
			for (uint32_t x = l->flags; x; x &= x - 1)
				nflags++;
			p = fg_avro_long_at(p, nflags);
			for (int f = 0; f < FG_FLAG_COUNT; f++)
				if (l->flags & (1u << f))
					p = fg_avro_bytes_at(p, fg_flag_names[f], enc->flag_len[f]);
		}
		*p++ = 0; /* end of the flags array */
		fg_avrobin_end(w, p);
	}

	const size_t fp_len = FG_FINGERPRINT_LEN;
	size_t topic_len = topic_len_of(src);
	p = fg_avrobin_room(w, FG_AVRO_LONG_MAX + 4 * FG_AVRO_DECIMAL_MAX + FG_AVRO_LONG_MAX +
				       fp_len + 10 * FG_AVRO_LONG_MAX + topic_len);
	if (!p)
		return fail(enc);
	*p++ = 0; /* end of the lines array */
	p = fg_avro_decimal_at(p, as->total_value_usd);
	p = fg_avro_decimal_at(p, as->total_base_duty);
	p = fg_avro_decimal_at(p, as->total_floor_duty);
	p = fg_avro_decimal_at(p, as->total_duty);
	p = fg_avro_bytes_at(p, rd->fingerprint, fp_len);
	p = source_at(p, src, 0, topic_len, 0);
	fg_avrobin_end(w, p);
	return finish(enc, enc->assessment_id, out);
}

int fg_encoder_dead_letter(struct fg_encoder *enc, enum fg_reason reason, const char *message,
			   const uint8_t *payload, size_t payload_len, const struct fg_decl *decl,
			   const char *refdata_version, const struct fg_source_pos *src,
			   struct fg_encoded *out)
{
	start(enc);
	put_cstr(enc->w, fg_reason_names[reason]);
	put_cstr(enc->w, message);
	put_bytes(enc->w, payload, payload_len);
	if (decl) {
		put_long(enc->w, 1);
		put_str(enc->w, decl->declaration_id);
		put_long(enc->w, 1);
		put_long(enc->w, decl->version);
	} else {
		put_null(enc->w);
		put_null(enc->w);
	}
	put_cstr(enc->w, refdata_version ? refdata_version : "");
	put_source(enc->w, src, 1);
	return finish(enc, enc->deadletter_id, out);
}
