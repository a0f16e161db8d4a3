/*
 * test_sinks_encode.c: assessments and dead letters written by hand in
 * Avro binary must read back, with Avro C and the compiled-in output
 * schemas, as exactly the values that went in, consuming every byte.
 *
 * Money is decimal(18,2): minimal two's-complement big-endian bytes of the
 * amount in cents, e.g. 1234.56 -> 123456 = 0x01e240 -> 01 e2 40.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../core/fg_avrobin.h"
#include "../../ingest/fg_schemas.h"
#include "../../sinks/fg_encode.h"
#include "fg_test_avro.h"
#include "fg_test_util.h"

#define ASSESSMENT_ID 0x01020304
#define DEADLETTER_ID 258

#define S(x) fg_str_make((x), strlen(x))

static avro_value_t field(avro_value_t *rec, const char *name)
{
	avro_value_t f;

	if (avro_value_get_by_name(rec, name, &f, NULL))
		fail_msg("no field %s", name);
	return f;
}

static void check_str(avro_value_t *rec, const char *name, const char *want)
{
	avro_value_t f = field(rec, name);
	const char *s;
	size_t size;

	assert_int_equal(avro_value_get_string(&f, &s, &size), 0);
	assert_int_equal(size, strlen(want) + 1); /* Avro C counts the NUL */
	assert_string_equal(s, want);
}

static void check_int(avro_value_t *rec, const char *name, int32_t want)
{
	avro_value_t f = field(rec, name);
	int32_t v;

	assert_int_equal(avro_value_get_int(&f, &v), 0);
	assert_int_equal(v, want);
}

static void check_enum(avro_value_t *rec, const char *name, int want)
{
	avro_value_t f = field(rec, name);
	int v;

	assert_int_equal(avro_value_get_enum(&f, &v), 0);
	assert_int_equal(v, want);
}

static void check_bytes(avro_value_t *rec, const char *name, const void *want, size_t want_len)
{
	avro_value_t f = field(rec, name);
	const void *b;
	size_t size;

	assert_int_equal(avro_value_get_bytes(&f, &b, &size), 0);
	assert_int_equal(size, want_len);
	if (want_len)
		assert_memory_equal(b, want, want_len);
}

#define CHECK_MONEY(rec, name, ...)                                                      \
	do {                                                                              \
		static const uint8_t w_[] = { __VA_ARGS__ };                              \
		check_bytes((rec), (name), w_, sizeof(w_));                              \
	} while (0)

/* The union's branch: 0 null, 1 value (returned in *out). */
static int branch(avro_value_t *rec, const char *name, avro_value_t *out)
{
	avro_value_t f = field(rec, name);
	int disc;

	assert_int_equal(avro_value_get_discriminant(&f, &disc), 0);
	assert_int_equal(avro_value_get_current_branch(&f, out), 0);
	return disc;
}

static void check_null(avro_value_t *rec, const char *name)
{
	avro_value_t b;

	if (branch(rec, name, &b) != 0)
		fail_msg("%s is not null", name);
	assert_int_equal(avro_value_get_type(&b), AVRO_NULL);
}

static void check_opt_str(avro_value_t *rec, const char *name, const char *want)
{
	avro_value_t b;
	const char *s;
	size_t size;

	if (branch(rec, name, &b) != 1)
		fail_msg("%s is null", name);
	assert_int_equal(avro_value_get_string(&b, &s, &size), 0);
	assert_string_equal(s, want);
}

static void check_opt_int(avro_value_t *rec, const char *name, int32_t want)
{
	avro_value_t b;
	int32_t v;

	if (branch(rec, name, &b) != 1)
		fail_msg("%s is null", name);
	assert_int_equal(avro_value_get_int(&b, &v), 0);
	assert_int_equal(v, want);
}

static void check_opt_long(avro_value_t *rec, const char *name, int64_t want)
{
	avro_value_t b;
	int64_t v;

	if (branch(rec, name, &b) != 1)
		fail_msg("%s is null", name);
	assert_int_equal(avro_value_get_long(&b, &v), 0);
	assert_int_equal(v, want);
}

static void check_flags(avro_value_t *line, const char *const *want, size_t n)
{
	avro_value_t f = field(line, "flags"), e;
	size_t size;
	const char *s;
	size_t len;

	assert_int_equal(avro_value_get_size(&f, &size), 0);
	assert_int_equal(size, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(avro_value_get_by_index(&f, i, &e, NULL), 0);
		assert_int_equal(avro_value_get_string(&e, &s, &len), 0);
		assert_string_equal(s, want[i]);
	}
}

static void check_frame(const struct fg_encoded *out, const uint8_t hdr[5])
{
	assert_memory_equal(out->framed, hdr, 5);
	assert_ptr_equal(out->body, out->framed + 5);
}

/* ---- an assessment ------------------------------------------------------------ */

struct sample {
	char *minerals[2];
	uint32_t mineral_len[2];
	struct fg_refdata rd;
	struct fg_rule rules[2];
	struct fg_decl_line in[3];
	struct fg_decl decl;
	struct fg_assessed_line lines[3];
	struct fg_assessment as;
};

static void make_sample(struct sample *s)
{
	memset(s, 0, sizeof(*s));
	s->minerals[0] = "lithium";
	s->minerals[1] = "cobalt";
	s->rd.minerals = s->minerals;
	s->mineral_len[0] = 7;
	s->mineral_len[1] = 6;
	s->rd.mineral_len = s->mineral_len;
	s->rd.n_minerals = 2;
	snprintf(s->rd.fingerprint, sizeof(s->rd.fingerprint), "00112233445566778899aabbccddeeff");

	s->rules[0].rule_id = S("CO-SEMI");
	s->rules[0].mineral = 1;
	s->rules[0].stage = FG_STAGE_SEMI_FINISHED;
	s->rules[1].rule_id = S("LI-REF");
	s->rules[1].mineral = 0;
	s->rules[1].stage = FG_STAGE_REFINED;

	s->in[0].item_no = 5;
	s->in[0].commodity_code = S("8105200000");
	s->in[1].item_no = 6;
	s->in[1].commodity_code = S("99999999");
	s->in[2].item_no = -7;
	s->in[2].commodity_code = S("283691");

	s->decl.declaration_id = S("MRN-\xc3\xa9-1"); /* UTF-8 passes through */
	s->decl.version = 7;
	s->decl.function_code = FG_FC_CANCELLATION;
	s->decl.acceptance_date = 19783;
	s->decl.lines = s->in;
	s->decl.n_lines = 3;

	/* Line 1: assessed, every flag. 1234.56 / 1.27 / 1.28 / 2.55 */
	s->lines[0] = (struct fg_assessed_line){ &s->in[0], FG_LINE_ASSESSED, &s->rules[0],
						 FG_TREAT_PARTNER, 123456, 127, 128, 255,
						 FG_FLAG_CONTENT_DEFAULTED | FG_FLAG_NO_TARIFF_PARAMETER |
							 FG_FLAG_BELOW_FLOOR };
	/* Line 2: not in scope, all zero, no flags. */
	s->lines[1] = (struct fg_assessed_line){ &s->in[1], FG_LINE_NOT_IN_SCOPE, NULL,
						 FG_TREAT_NON_MEMBER, 0, 0, 0, 0, 0 };
	/* Line 3: no reference price, a value past int64 (10^20 cents). */
	s->lines[2] = (struct fg_assessed_line){ &s->in[2], FG_LINE_NO_REFERENCE_PRICE, &s->rules[1],
						 FG_TREAT_MEMBER, fg_test_i128("100000000000000000000"),
						 0, 0, 0,
						 FG_FLAG_CONTENT_DEFAULTED | FG_FLAG_BELOW_FLOOR };
	s->as.decl = &s->decl;
	s->as.rd = &s->rd;
	s->as.lines = s->lines;
	s->as.n_lines = 3;
	s->as.total_value_usd = 123456 + fg_test_i128("100000000000000000000");
	s->as.total_base_duty = 127;
	s->as.total_floor_duty = 128;
	s->as.total_duty = 255;
}

static struct fg_encoder *encoder(void)
{
	char err[256];
	struct fg_encoder *enc = fg_encoder_create(ASSESSMENT_ID, DEADLETTER_ID, err, sizeof(err));

	if (!enc)
		fail_msg("encoder: %s", err);
	return enc;
}

static void test_assessment_reads_back(void **state)
{
	struct sample s;
	struct fg_encoder *enc = encoder();
	struct fg_encoded out;
	struct fg_test_readback rb;
	const struct fg_source_pos src = { "declarations", 3, INT64_C(1234567890123), NULL, -1 };
	avro_value_t lines, l;
	size_t n;

	(void)state;
	make_sample(&s);
	assert_int_equal(fg_encoder_assessment(enc, &s.as, &src, &out), 0);
	check_frame(&out, (const uint8_t[]){ 0x00, 0x01, 0x02, 0x03, 0x04 });
	fg_test_read_back(&rb, fg_schema_text_assessment, out.body, out.body_len);

	check_str(&rb.v, "declaration_id", "MRN-\xc3\xa9-1");
	check_int(&rb.v, "version", 7);
	check_str(&rb.v, "function_code", "CANCELLATION");
	check_int(&rb.v, "acceptance_date", 19783);

	lines = field(&rb.v, "lines");
	assert_int_equal(avro_value_get_size(&lines, &n), 0);
	assert_int_equal(n, 3);

	/* line 1 */
	assert_int_equal(avro_value_get_by_index(&lines, 0, &l, NULL), 0);
	check_int(&l, "item_no", 5);
	check_str(&l, "commodity_code", "8105200000");
	check_enum(&l, "status", 0); /* ASSESSED */
	check_opt_str(&l, "rule_id", "CO-SEMI");
	check_opt_str(&l, "mineral", "cobalt");
	{
		avro_value_t st;
		int e;
		assert_int_equal(branch(&l, "stage", &st), 1);
		assert_int_equal(avro_value_get_enum(&st, &e), 0);
		assert_int_equal(e, 3); /* SEMI_FINISHED */
	}
	check_enum(&l, "treatment", 1); /* PARTNER */
	CHECK_MONEY(&l, "value_usd", 0x01, 0xe2, 0x40); /* 123456 */
	CHECK_MONEY(&l, "base_duty", 0x7f);             /* 127 */
	CHECK_MONEY(&l, "floor_duty", 0x00, 0x80);      /* 128 needs a sign byte */
	CHECK_MONEY(&l, "line_duty", 0x00, 0xff);       /* 255 */
	check_flags(&l, (const char *const[]){ "CONTENT_DEFAULTED", "NO_TARIFF_PARAMETER",
						"BELOW_FLOOR" },
		     3);

	/* line 2: rule, mineral and stage null; empty flags */
	assert_int_equal(avro_value_get_by_index(&lines, 1, &l, NULL), 0);
	check_int(&l, "item_no", 6);
	check_enum(&l, "status", 1); /* NOT_IN_SCOPE */
	check_null(&l, "rule_id");
	check_null(&l, "mineral");
	check_null(&l, "stage");
	check_enum(&l, "treatment", 2); /* NON_MEMBER */
	CHECK_MONEY(&l, "value_usd", 0x00);
	CHECK_MONEY(&l, "line_duty", 0x00);
	check_flags(&l, NULL, 0);

	/* line 3 */
	assert_int_equal(avro_value_get_by_index(&lines, 2, &l, NULL), 0);
	check_int(&l, "item_no", -7);
	check_enum(&l, "status", 2); /* NO_REFERENCE_PRICE */
	check_opt_str(&l, "rule_id", "LI-REF");
	check_opt_str(&l, "mineral", "lithium");
	check_enum(&l, "treatment", 0); /* MEMBER */
	/* 10^20 = 0x56bc75e2d63100000: 9 bytes, the top nibble positive */
	CHECK_MONEY(&l, "value_usd", 0x05, 0x6b, 0xc7, 0x5e, 0x2d, 0x63, 0x10, 0x00, 0x00);
	check_flags(&l, (const char *const[]){ "CONTENT_DEFAULTED", "BELOW_FLOOR" }, 2);

	/* 10^20 + 123456 = 0x56bc75e2d63101e240 */
	CHECK_MONEY(&rb.v, "total_value_usd", 0x05, 0x6b, 0xc7, 0x5e, 0x2d, 0x63, 0x11, 0xe2, 0x40);
	CHECK_MONEY(&rb.v, "total_base_duty", 0x7f);
	CHECK_MONEY(&rb.v, "total_floor_duty", 0x00, 0x80);
	CHECK_MONEY(&rb.v, "total_duty", 0x00, 0xff);
	check_str(&rb.v, "reference_data_version", "00112233445566778899aabbccddeeff");
	check_opt_str(&rb.v, "source_topic", "declarations");
	check_opt_int(&rb.v, "source_partition", 3);
	check_opt_long(&rb.v, "source_offset", INT64_C(1234567890123));
	check_null(&rb.v, "source_index");
	fg_test_readback_free(&rb);
	fg_encoder_destroy(enc);
}

static void test_assessment_sources(void **state)
{
	struct sample s;
	struct fg_encoder *enc = encoder();
	struct fg_encoded out;
	struct fg_test_readback rb;
	const struct fg_source_pos file = { NULL, 0, 0, "decls.avro", 41 };

	(void)state;
	make_sample(&s);
	/* From a file: no Kafka fields, the record index set. */
	assert_int_equal(fg_encoder_assessment(enc, &s.as, &file, &out), 0);
	fg_test_read_back(&rb, fg_schema_text_assessment, out.body, out.body_len);
	check_null(&rb.v, "source_topic");
	check_null(&rb.v, "source_partition");
	check_null(&rb.v, "source_offset");
	check_opt_long(&rb.v, "source_index", 41);
	fg_test_readback_free(&rb);
	/* No source at all. */
	assert_int_equal(fg_encoder_assessment(enc, &s.as, NULL, &out), 0);
	fg_test_read_back(&rb, fg_schema_text_assessment, out.body, out.body_len);
	check_null(&rb.v, "source_topic");
	check_null(&rb.v, "source_index");
	fg_test_readback_free(&rb);
	/* A topic whose length the caller gives (the engine looks it up once
	 * per batch) is written as one whose length the encoder counts. */
	const struct fg_source_pos counted = { "declarations", 2, 77, NULL, -1, 0 };
	const struct fg_source_pos given = { "declarations", 2, 77, NULL, -1, 12 };
	uint8_t first[1024];
	size_t first_len;
	assert_int_equal(fg_encoder_assessment(enc, &s.as, &counted, &out), 0);
	assert_true(out.body_len + 5 <= sizeof(first));
	first_len = out.body_len + 5;
	memcpy(first, out.framed, first_len);
	assert_int_equal(fg_encoder_assessment(enc, &s.as, &given, &out), 0);
	assert_int_equal(out.body_len + 5, first_len);
	assert_memory_equal(out.framed, first, first_len);
	fg_test_read_back(&rb, fg_schema_text_assessment, out.body, out.body_len);
	check_opt_str(&rb.v, "source_topic", "declarations");
	fg_test_readback_free(&rb);
	fg_encoder_destroy(enc);
}

static void test_assessment_is_deterministic(void **state)
{
	struct sample s;
	struct fg_encoder *a = encoder(), *b = encoder();
	struct fg_encoded oa, ob;
	const struct fg_source_pos src = { "t", 0, 9, NULL, -1 };

	(void)state;
	make_sample(&s);
	/* The same assessment gives the same bytes, from any encoder, after any other record. */
	assert_int_equal(fg_encoder_dead_letter(b, FG_REASON_NO_LINES, "x", (const uint8_t *)"p", 1,
						NULL, NULL, NULL, &ob),
			 0);
	assert_int_equal(fg_encoder_assessment(a, &s.as, &src, &oa), 0);
	assert_int_equal(fg_encoder_assessment(b, &s.as, &src, &ob), 0);
	assert_int_equal(oa.body_len, ob.body_len);
	assert_memory_equal(oa.framed, ob.framed, oa.body_len + 5);
	fg_encoder_destroy(a);
	fg_encoder_destroy(b);
}

/* A worker's batch: records appended to the caller's buffer, behind what is there, are
 * the bytes the encoder writes on its own, and the own buffer works again after. */
static void test_append_to_caller_buffer(void **state)
{
	struct sample s;
	struct fg_encoder *own = encoder(), *enc = encoder();
	struct fg_encoded o1, o2, a1, a2, back;
	struct fg_avrobin batch;
	const struct fg_source_pos src = { "t", 3, 41, NULL, -1 };

	(void)state;
	make_sample(&s);
	assert_int_equal(fg_avrobin_init(&batch, 16), 0);
	assert_int_equal(fg_avrobin_raw(&batch, "key", 3), 0);

	fg_encoder_append_to(enc, &batch);
	assert_int_equal(fg_encoder_assessment(enc, &s.as, &src, &a1), 0);
	assert_int_equal(batch.len, 3 + a1.body_len + 5);
	size_t second = batch.len;
	assert_int_equal(fg_encoder_dead_letter(enc, FG_REASON_NO_LINES, "no lines",
						(const uint8_t *)"p", 1, NULL, "fp", &src, &a2),
			 0);
	assert_int_equal(batch.len, second + a2.body_len + 5);

	assert_int_equal(fg_encoder_assessment(own, &s.as, &src, &o1), 0);
	assert_int_equal(a1.body_len, o1.body_len);
	assert_memory_equal(batch.buf + 3, o1.framed, o1.body_len + 5);
	assert_int_equal(fg_encoder_dead_letter(own, FG_REASON_NO_LINES, "no lines",
						(const uint8_t *)"p", 1, NULL, "fp", &src, &o2),
			 0);
	assert_int_equal(a2.body_len, o2.body_len);
	assert_memory_equal(batch.buf + second, o2.framed, o2.body_len + 5);
	assert_memory_equal(batch.buf, "key", 3); /* what was there is kept */

	/* A buffer that already ran out of memory stays failed, and keeps its length. */
	batch.oom = 1;
	assert_int_equal(fg_encoder_assessment(enc, &s.as, &src, &back), -1);
	assert_int_equal(batch.len, second + a2.body_len + 5);
	batch.oom = 0;

	fg_encoder_append_to(enc, NULL);
	assert_int_equal(fg_encoder_assessment(enc, &s.as, &src, &back), 0);
	assert_int_equal(batch.len, second + a2.body_len + 5); /* the batch is left alone */
	assert_int_equal(back.body_len, a1.body_len);
	assert_memory_equal(back.framed, batch.buf + 3, a1.body_len + 5);

	fg_avrobin_fini(&batch);
	fg_encoder_destroy(own);
	fg_encoder_destroy(enc);
}

/* ---- dead letters --------------------------------------------------------------- */

static void test_dead_letter_reads_back(void **state)
{
	struct fg_encoder *enc = encoder();
	struct fg_encoded out;
	struct fg_test_readback rb;
	/* the original bytes, NULs and high bytes included */
	const uint8_t payload[] = { 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x80, 0x0a };
	struct fg_decl d;
	const struct fg_source_pos src = { NULL, 0, 0, "in.avro", 12 };

	(void)state;
	memset(&d, 0, sizeof(d));
	d.declaration_id = S("MRN-9");
	d.version = 4;
	assert_int_equal(fg_encoder_dead_letter(enc, FG_REASON_FX_RATE_MISSING,
						"no GBP rate dated on or before 2024-03-01", payload,
						sizeof(payload), &d, "fingerprint-x", &src, &out),
			 0);
	/* 258 = 0x00000102 */
	check_frame(&out, (const uint8_t[]){ 0x00, 0x00, 0x00, 0x01, 0x02 });
	fg_test_read_back(&rb, fg_schema_text_deadletter, out.body, out.body_len);
	check_str(&rb.v, "reason", "FX_RATE_MISSING");
	check_str(&rb.v, "message", "no GBP rate dated on or before 2024-03-01");
	check_bytes(&rb.v, "payload", payload, sizeof(payload));
	check_opt_str(&rb.v, "declaration_id", "MRN-9");
	check_opt_int(&rb.v, "version", 4);
	check_str(&rb.v, "reference_data_version", "fingerprint-x");
	check_null(&rb.v, "source_topic");
	check_null(&rb.v, "source_partition");
	check_null(&rb.v, "source_offset");
	check_opt_str(&rb.v, "source_file", "in.avro");
	check_opt_long(&rb.v, "source_index", 12);
	fg_test_readback_free(&rb);
	fg_encoder_destroy(enc);
}

static void test_dead_letter_without_declaration(void **state)
{
	struct fg_encoder *enc = encoder();
	struct fg_encoded out;
	struct fg_test_readback rb;
	const struct fg_source_pos src = { "decls", 11, INT64_MAX, NULL, -1 };

	(void)state;
	/* An empty message that did not decode: no id, no version, empty payload. */
	assert_int_equal(fg_encoder_dead_letter(enc, FG_REASON_DECODE_ERROR, "frame is shorter",
						NULL, 0, NULL, NULL, &src, &out),
			 0);
	fg_test_read_back(&rb, fg_schema_text_deadletter, out.body, out.body_len);
	check_str(&rb.v, "reason", "DECODE_ERROR");
	check_bytes(&rb.v, "payload", NULL, 0);
	check_null(&rb.v, "declaration_id");
	check_null(&rb.v, "version");
	check_str(&rb.v, "reference_data_version", "");
	check_opt_str(&rb.v, "source_topic", "decls");
	check_opt_int(&rb.v, "source_partition", 11);
	check_opt_long(&rb.v, "source_offset", INT64_MAX);
	check_null(&rb.v, "source_file");
	check_null(&rb.v, "source_index");
	fg_test_readback_free(&rb);
	fg_encoder_destroy(enc);
}

static void test_every_reason_name(void **state)
{
	static const char *const names[] = {
		"DECODE_ERROR",  "UNKNOWN_SCHEMA", "NO_LINES",    "DUPLICATE_ITEM",
		"BAD_COMMODITY_CODE", "BAD_COUNTRY", "BAD_CURRENCY", "BAD_QUANTITY",
		"BAD_VALUE",     "BAD_CONTENT",    "FX_RATE_MISSING",
	};
	struct fg_encoder *enc = encoder();
	struct fg_encoded out;
	struct fg_test_readback rb;

	(void)state;
	/* The contract's codes, spelled as in section 3. */
	for (int r = FG_REASON_DECODE_ERROR; r < FG_REASON_COUNT; r++) {
		assert_int_equal(fg_encoder_dead_letter(enc, (enum fg_reason)r, "m", NULL, 0, NULL,
							"", NULL, &out),
				 0);
		fg_test_read_back(&rb, fg_schema_text_deadletter, out.body, out.body_len);
		check_str(&rb.v, "reason", names[r - 1]);
		fg_test_readback_free(&rb);
	}
	fg_encoder_destroy(enc);
}

static void test_large_output_grows_buffer(void **state)
{
	struct sample s;
	struct fg_encoder *enc = encoder();
	struct fg_encoded out;
	struct fg_test_readback rb;
	static struct fg_assessed_line many[5000];
	size_t n;

	(void)state;
	make_sample(&s);
	/* 5000 copies of line 1: far beyond the encoder's first 4 KiB buffer */
	for (size_t i = 0; i < FG_ARRAY_LEN(many); i++)
		many[i] = s.lines[0];
	s.as.lines = many;
	s.as.n_lines = FG_ARRAY_LEN(many);
	assert_int_equal(fg_encoder_assessment(enc, &s.as, NULL, &out), 0);
	fg_test_read_back(&rb, fg_schema_text_assessment, out.body, out.body_len);
	avro_value_t lines = field(&rb.v, "lines");
	assert_int_equal(avro_value_get_size(&lines, &n), 0);
	assert_int_equal(n, FG_ARRAY_LEN(many));
	check_frame(&out, (const uint8_t[]){ 0x00, 0x01, 0x02, 0x03, 0x04 });
	fg_test_readback_free(&rb);
	fg_encoder_destroy(enc);
}

/*
 * An output buffer that a burst grew gives the room back once its outputs are
 * small again (the engine's batches, which would otherwise each keep their
 * largest size), keeps what it holds, and does not churn on small changes.
 */
static void test_buffer_trimmed_after_burst(void **state)
{
	struct fg_avrobin w;
	const size_t floor = 65536;

	(void)state;
	assert_int_equal(fg_avrobin_init(&w, floor), 0);
	uint8_t *p = fg_avrobin_room(&w, 8u << 20); /* a burst: 8 MiB of outputs */
	assert_non_null(p);
	memset(p, 0xab, 8u << 20);
	assert_true(w.cap >= 8u << 20);

	/* The next batch holds 100 KB: kept, the rest given back. */
	w.len = 0;
	p = fg_avrobin_room(&w, 100000);
	for (size_t i = 0; i < 100000; i++)
		p[i] = (uint8_t)i;
	w.len = 100000;
	fg_avrobin_trim(&w, 0, floor);
	assert_int_equal(w.cap, 262144); /* 64 KiB x 4: the first that holds 2 x len */
	for (size_t i = 0; i < 100000; i++)
		assert_int_equal(w.buf[i], (uint8_t)i);

	/* Use within a factor of 8 of the capacity, or a capacity within 8 times
	 * the floor, keeps it: no realloc per batch in steady state. */
	w.len = 40000;
	fg_avrobin_trim(&w, 0, floor);
	assert_int_equal(w.cap, 262144);
	w.len = 0;
	fg_avrobin_trim(&w, 0, floor);
	assert_int_equal(w.cap, 262144);

	/* Room the caller still plans for is kept: a recent peak of 1 MB. */
	assert_non_null(fg_avrobin_room(&w, 8u << 20));
	fg_avrobin_trim(&w, 1000000, floor);
	assert_int_equal(w.cap, 2097152);

	/* An empty buffer after a burst goes back to the floor, never below. */
	assert_non_null(fg_avrobin_room(&w, 8u << 20));
	fg_avrobin_trim(&w, 0, floor);
	assert_int_equal(w.cap, floor);
	fg_avrobin_fini(&w);
}

/*
 * Avro bytes of every length from 0 to 48: the length prefix, then exactly
 * the bytes given, and nothing written past them (short strings are copied
 * in line, by overlapping moves, and must stop at their end).
 */
static void test_bytes_every_length(void **state)
{
	uint8_t src[64], buf[80];

	(void)state;
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(0x41 + i);
	for (size_t n = 0; n <= 48; n++) {
		memset(buf, 0xEE, sizeof(buf));
		uint8_t *end = fg_avro_bytes_at(buf, src, n);
		assert_int_equal(buf[0], 2 * n); /* zig-zag, one byte below 64 */
		assert_ptr_equal(end, buf + 1 + n);
		assert_memory_equal(buf + 1, src, n);
		for (size_t k = 1 + n; k < sizeof(buf); k++)
			if (buf[k] != 0xEE)
				fail_msg("length %zu: byte %zu past the end was written", n, k);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assessment_reads_back),
		cmocka_unit_test(test_assessment_sources),
		cmocka_unit_test(test_assessment_is_deterministic),
		cmocka_unit_test(test_dead_letter_reads_back),
		cmocka_unit_test(test_dead_letter_without_declaration),
		cmocka_unit_test(test_every_reason_name),
		cmocka_unit_test(test_large_output_grows_buffer),
		cmocka_unit_test(test_buffer_trimmed_after_burst),
		cmocka_unit_test(test_bytes_every_length),
		cmocka_unit_test(test_append_to_caller_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
