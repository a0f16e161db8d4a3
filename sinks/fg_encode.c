#include "fg_encode.h"

#include <stdlib.h>
#include <string.h>

#include "../core/fg_avrobin.h"
#include "../core/fg_decimal.h"
#include "../ingest/fg_frame.h"
#include "../ingest/fg_schemas.h"

struct fg_encoder {
	struct fg_avrobin w;
	int32_t assessment_id, deadletter_id;
	avro_schema_t assessment_schema, deadletter_schema;
	size_t function_code_len[3], flag_len[FG_FLAG_COUNT];
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
	for (int i = 0; i < FG_FLAG_COUNT; i++)
		enc->flag_len[i] = strlen(fg_flag_names[i]);
	enc->assessment_schema = fg_schemas_parse(fg_schema_text_assessment, errstr, errstr_size);
	enc->deadletter_schema = fg_schemas_parse(fg_schema_text_deadletter, errstr, errstr_size);
	if (!enc->assessment_schema || !enc->deadletter_schema || fg_avrobin_init(&enc->w, 4096)) {
		fg_encoder_destroy(enc);
		return NULL;
	}
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
	fg_avrobin_fini(&enc->w);
	free(enc);
}

#define put_long fg_avrobin_long
#define put_bytes fg_avrobin_bytes
#define put_str fg_avrobin_str
#define put_cstr fg_avrobin_cstr
#define put_money fg_avrobin_decimal

/* Names written per message, with their lengths (no strlen on the path). */
static void put_name(struct fg_avrobin *w, const char *const *names, const size_t *lens, int i)
{
	fg_avrobin_bytes(w, names[i], lens[i]);
}

/* ["null", T] unions: branch 0 is null, branch 1 the value. */
static void put_null(struct fg_avrobin *w)
{
	put_long(w, 0);
}

static void put_source(struct fg_avrobin *w, const struct fg_source_pos *src, int with_file)
{
	if (src && src->topic) {
		put_long(w, 1);
		put_cstr(w, src->topic);
		put_long(w, 1);
		put_long(w, src->partition);
		put_long(w, 1);
		put_long(w, src->offset);
	} else {
		put_null(w);
		put_null(w);
		put_null(w);
	}
	if (with_file) {
		if (src && src->file) {
			put_long(w, 1);
			put_cstr(w, src->file);
		} else {
			put_null(w);
		}
	}
	if (src && src->index >= 0) {
		put_long(w, 1);
		put_long(w, src->index);
	} else {
		put_null(w);
	}
}

static int finish(struct fg_encoder *enc, int32_t schema_id, struct fg_encoded *out)
{
	if (enc->w.oom)
		return -1;
	fg_frame_header(schema_id, enc->w.buf);
	out->framed = enc->w.buf;
	out->body = enc->w.buf + FG_FRAME_HEADER_LEN;
	out->body_len = enc->w.len - FG_FRAME_HEADER_LEN;
	return 0;
}

static void start(struct fg_encoder *enc)
{
	enc->w.oom = 0;
	enc->w.len = FG_FRAME_HEADER_LEN;
}

int fg_encoder_assessment(struct fg_encoder *enc, const struct fg_assessment *as,
			  const struct fg_source_pos *src, struct fg_encoded *out)
{
	const struct fg_decl *d = as->decl;
	const struct fg_refdata *rd = as->rd;

	start(enc);
	put_str(&enc->w, d->declaration_id);
	put_long(&enc->w, d->version);
	put_name(&enc->w, fg_function_code_names, enc->function_code_len, d->function_code);
	put_long(&enc->w, d->acceptance_date);
	if (as->n_lines) {
		put_long(&enc->w, as->n_lines);
		for (uint32_t i = 0; i < as->n_lines; i++) {
			const struct fg_assessed_line *l = &as->lines[i];
			put_long(&enc->w, l->in->item_no);
			put_str(&enc->w, l->in->commodity_code);
			put_long(&enc->w, l->status);
			if (l->rule) {
				put_long(&enc->w, 1);
				put_str(&enc->w, l->rule->rule_id);
				put_long(&enc->w, 1);
				put_cstr(&enc->w, rd->minerals[l->rule->mineral]);
				put_long(&enc->w, 1);
				put_long(&enc->w, l->rule->stage);
			} else {
				put_null(&enc->w);
				put_null(&enc->w);
				put_null(&enc->w);
			}
			put_long(&enc->w, l->treatment);
			put_money(&enc->w, l->value_usd);
			put_money(&enc->w, l->base_duty);
			put_money(&enc->w, l->floor_duty);
			put_money(&enc->w, l->line_duty);
			int nflags = __builtin_popcount(l->flags);
			if (nflags) {
				put_long(&enc->w, nflags);
				for (int f = 0; f < FG_FLAG_COUNT; f++)
					if (l->flags & (1u << f))
						put_name(&enc->w, fg_flag_names, enc->flag_len, f);
			}
			put_long(&enc->w, 0);
		}
	}
	put_long(&enc->w, 0);
	put_money(&enc->w, as->total_value_usd);
	put_money(&enc->w, as->total_base_duty);
	put_money(&enc->w, as->total_floor_duty);
	put_money(&enc->w, as->total_duty);
	put_bytes(&enc->w, rd->fingerprint, strnlen(rd->fingerprint, sizeof(rd->fingerprint)));
	put_source(&enc->w, src, 0);
	return finish(enc, enc->assessment_id, out);
}

int fg_encoder_dead_letter(struct fg_encoder *enc, enum fg_reason reason, const char *message,
			   const uint8_t *payload, size_t payload_len, const struct fg_decl *decl,
			   const char *refdata_version, const struct fg_source_pos *src,
			   struct fg_encoded *out)
{
	start(enc);
	put_cstr(&enc->w, fg_reason_names[reason]);
	put_cstr(&enc->w, message);
	put_bytes(&enc->w, payload, payload_len);
	if (decl) {
		put_long(&enc->w, 1);
		put_str(&enc->w, decl->declaration_id);
		put_long(&enc->w, 1);
		put_long(&enc->w, decl->version);
	} else {
		put_null(&enc->w);
		put_null(&enc->w);
	}
	put_cstr(&enc->w, refdata_version ? refdata_version : "");
	put_source(&enc->w, src, 1);
	return finish(enc, enc->deadletter_id, out);
}
