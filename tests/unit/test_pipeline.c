/*
 * test_pipeline.c: one message in, exactly one output out (contract
 * section 5). Framed messages that are too short, have the wrong magic,
 * name an unknown schema or carry a broken body become dead letters whose
 * payload is the original bytes; a good one becomes an assessment; the
 * counters add up.
 *
 * The one assessed line is the gross-basis case worked out in
 * test_pricing_assess.c: lithium REFINED 20 USD/kg, 100 kg worth 1500.00
 * USD from CN (NON_MEMBER, gap 0.5), MFN 3.5 %: base 52.50, floor
 * (2000 - 1500) * 0.5 = 250.00, duty 302.50.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../core/fg_avrobin.h"
#include "../../ingest/fg_frame.h"
#include "../../src/fg_pipeline.h"
#include "fg_test_avro.h"
#include "fg_test_util.h"

static const struct fg_test_tables tables = {
	.classification =
		"rule_id,hs_prefix,keyword,mineral,stage,priority,effective_from,effective_to\n"
		"LI-REF,283691,,lithium,REFINED,10,2020-01-01,\n",
	.mfn = "hs_prefix,ad_valorem_pct,effective_from,effective_to\n"
	       "28,2,2020-01-01,\n2836,3.5,2020-01-01,\n",
	.prices = "mineral,stage,price_usd,unit,basis,content_element,default_content_pct,"
		  "effective_from,effective_to\n"
		  "lithium,REFINED,20,kg,gross,,,2020-01-01,\n",
	.tariffs = "mineral,stage,treatment,gap_share,cap_pct,effective_from,effective_to\n"
		   "*,*,NON_MEMBER,0.5,,2020-01-01,\n",
	.membership = "country,treatment,agreement,effective_from,effective_to\n",
	.fx = "currency,date,usd_per_unit\nEUR,2020-01-01,1.1\n",
};

#define DECL_SCHEMA_ID 7
#define ASSESSMENT_ID 100
#define DEADLETTER_ID 101

struct fixture {
	char *dir;
	struct fg_refdata *rd;
	struct fg_schema_registry reg;
	struct fg_pipeline pl;
	struct fg_avrobin w;
	struct fg_output out;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char err[512];
	avro_schema_t s;

	if (!fx || !(fx->dir = fg_test_mkdtemp()) || fg_test_write_tables(fx->dir, &tables))
		return -1;
	fx->rd = fg_refdata_load(fx->dir, err, sizeof(err));
	s = fg_schemas_parse(fg_schema_text_declaration, err, sizeof(err));
	if (!fx->rd || !s || fg_schema_registry_add(&fx->reg, DECL_SCHEMA_ID, s, NULL, "test"))
		return -1;
	avro_schema_decref(s);
	if (fg_pipeline_init(&fx->pl, &fx->reg, fx->rd, ASSESSMENT_ID, DEADLETTER_ID, err,
			     sizeof(err)) ||
	    fg_avrobin_init(&fx->w, 0))
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fg_pipeline_fini(&fx->pl);
	fg_schema_registry_fini(&fx->reg);
	fg_refdata_destroy(fx->rd);
	fg_avrobin_fini(&fx->w);
	fg_test_rmdir(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

/* A framed message (schema_id >= 0) or a bare body (< 0), with n_lines lithium lines. */
static void put_message(struct fg_avrobin *w, int32_t schema_id, int n_lines)
{
	w->len = 0;
	if (schema_id >= 0) {
		fg_frame_header(schema_id, fg_avrobin_room(w, FG_FRAME_HEADER_LEN));
		w->len = FG_FRAME_HEADER_LEN;
	}
	fg_avrobin_cstr(w, "MRN-PL-1");
	fg_avrobin_long(w, 2);     /* version */
	fg_avrobin_long(w, 0);     /* ORIGINAL */
	fg_avrobin_long(w, 0);     /* submitted_at */
	fg_avrobin_long(w, 19783); /* 2024-03-01 */
	fg_avrobin_cstr(w, "D");
	fg_avrobin_cstr(w, "I");
	fg_avrobin_cstr(w, "NLRTM");
	fg_avrobin_cstr(w, "CN");
	fg_avrobin_cstr(w, "USD");
	if (n_lines) {
		fg_avrobin_long(w, n_lines);
		for (int i = 0; i < n_lines; i++) {
			fg_avrobin_long(w, i + 1);
			fg_avrobin_cstr(w, "28369100");
			fg_avrobin_cstr(w, "lithium carbonate");
			fg_avrobin_cstr(w, "CN");
			fg_avrobin_decimal(w, 100000); /* 100.000 kg */
			fg_avrobin_decimal(w, 150000); /* 1500.00 USD */
			fg_avrobin_long(w, 0);
			fg_avrobin_long(w, 0);
		}
	}
	fg_avrobin_long(w, 0);
}

static int process(struct fixture *fx, const uint8_t *b, size_t len, const struct fg_source_pos *src)
{
	return fg_pipeline_process(&fx->pl, b, len, NULL, src, &fx->out);
}

/* ---- reading the output back ------------------------------------------------ */

static const char *get_str(avro_value_t *rec, const char *name)
{
	avro_value_t f;
	const char *s;
	size_t size;

	assert_int_equal(avro_value_get_by_name(rec, name, &f, NULL), 0);
	assert_int_equal(avro_value_get_string(&f, &s, &size), 0);
	return s;
}

static void get_bytes(avro_value_t *rec, const char *name, const void **b, size_t *size)
{
	avro_value_t f;

	assert_int_equal(avro_value_get_by_name(rec, name, &f, NULL), 0);
	assert_int_equal(avro_value_get_bytes(&f, b, size), 0);
}

/* Checks a dead letter: the reason, its frame, and that the payload is the input. */
static void check_dead(struct fixture *fx, enum fg_reason reason, const uint8_t *in, size_t len,
		       const char *in_msg)
{
	struct fg_test_readback rb;
	const void *payload;
	size_t plen;

	assert_int_equal(fx->out.kind, FG_OUT_DEAD_LETTER);
	assert_int_equal(fx->out.reason, reason);
	assert_memory_equal(fx->out.enc.framed, ((const uint8_t[]){ 0, 0, 0, 0, DEADLETTER_ID }), 5);
	assert_int_equal(fx->out.enc.framed_len, fx->out.enc.body_len + 5);
	fg_test_read_back(&rb, fg_schema_text_deadletter, fx->out.enc.body, fx->out.enc.body_len);
	assert_string_equal(get_str(&rb.v, "reason"), fg_reason_names[reason]);
	if (in_msg && !strstr(get_str(&rb.v, "message"), in_msg))
		fail_msg("message \"%s\" lacks \"%s\"", get_str(&rb.v, "message"), in_msg);
	get_bytes(&rb.v, "payload", &payload, &plen);
	assert_int_equal(plen, len);
	if (len)
		assert_memory_equal(payload, in, len);
	assert_string_equal(get_str(&rb.v, "reference_data_version"), fx->rd->fingerprint);
	fg_test_readback_free(&rb);
}

/* ---- tests ------------------------------------------------------------------- */

static void test_short_frames(void **state)
{
	struct fixture *fx = *state;
	const uint8_t four[] = { 0x00, 0x00, 0x00, 0x07 };

	for (size_t len = 0; len < 5; len++) {
		assert_int_equal(process(fx, four, len, NULL), 0);
		check_dead(fx, FG_REASON_DECODE_ERROR, four, len, "shorter than 5");
		assert_null(fx->out.decl);
	}
	assert_int_equal(fx->pl.stats.in, 5);
	assert_int_equal(fx->pl.stats.dead, 5);
	assert_int_equal(fx->pl.stats.dead_by_reason[FG_REASON_DECODE_ERROR], 5);
}

static void test_bad_magic(void **state)
{
	struct fixture *fx = *state;

	put_message(&fx->w, DECL_SCHEMA_ID, 1);
	fx->w.buf[0] = 1;
	assert_int_equal(process(fx, fx->w.buf, fx->w.len, NULL), 0);
	check_dead(fx, FG_REASON_DECODE_ERROR, fx->w.buf, fx->w.len, "magic");
}

static void test_unknown_schema_id(void **state)
{
	struct fixture *fx = *state;

	put_message(&fx->w, 99, 1);
	assert_int_equal(process(fx, fx->w.buf, fx->w.len, NULL), 0);
	check_dead(fx, FG_REASON_UNKNOWN_SCHEMA, fx->w.buf, fx->w.len, "99");
	assert_int_equal(fx->pl.stats.dead_by_reason[FG_REASON_UNKNOWN_SCHEMA], 1);
}

static void test_truncated_and_padded_bodies(void **state)
{
	struct fixture *fx = *state;

	put_message(&fx->w, DECL_SCHEMA_ID, 1);
	/* the body without its final byte, and with one byte too many */
	assert_int_equal(process(fx, fx->w.buf, fx->w.len - 1, NULL), 0);
	check_dead(fx, FG_REASON_DECODE_ERROR, fx->w.buf, fx->w.len - 1, NULL);
	fg_avrobin_long(&fx->w, 0);
	assert_int_equal(process(fx, fx->w.buf, fx->w.len, NULL), 0);
	check_dead(fx, FG_REASON_DECODE_ERROR, fx->w.buf, fx->w.len, NULL);
	/* a frame with no body at all */
	assert_int_equal(process(fx, fx->w.buf, 5, NULL), 0);
	check_dead(fx, FG_REASON_DECODE_ERROR, fx->w.buf, 5, NULL);
	assert_int_equal(fx->pl.stats.dead_by_reason[FG_REASON_DECODE_ERROR], 3);
	assert_int_equal(fx->pl.stats.assessed, 0);
}

static void test_rejected_declaration_keeps_its_id(void **state)
{
	struct fixture *fx = *state;
	struct fg_test_readback rb;
	avro_value_t f, b;
	int32_t version;

	put_message(&fx->w, DECL_SCHEMA_ID, 0);
	assert_int_equal(process(fx, fx->w.buf, fx->w.len, NULL), 0);
	check_dead(fx, FG_REASON_NO_LINES, fx->w.buf, fx->w.len, NULL);
	assert_non_null(fx->out.decl);
	fg_test_read_back(&rb, fg_schema_text_deadletter, fx->out.enc.body, fx->out.enc.body_len);
	assert_int_equal(avro_value_get_by_name(&rb.v, "declaration_id", &f, NULL), 0);
	assert_int_equal(avro_value_get_current_branch(&f, &b), 0);
	{
		const char *id;
		size_t size;
		assert_int_equal(avro_value_get_string(&b, &id, &size), 0);
		assert_string_equal(id, "MRN-PL-1");
	}
	assert_int_equal(avro_value_get_by_name(&rb.v, "version", &f, NULL), 0);
	assert_int_equal(avro_value_get_current_branch(&f, &b), 0);
	assert_int_equal(avro_value_get_int(&b, &version), 0);
	assert_int_equal(version, 2);
	fg_test_readback_free(&rb);
}

static void test_valid_message_is_assessed(void **state)
{
	struct fixture *fx = *state;
	const struct fg_source_pos src = { "decls", 2, 77, NULL, -1 };
	struct fg_test_readback rb;
	const void *b;
	size_t n;

	put_message(&fx->w, DECL_SCHEMA_ID, 1);
	assert_int_equal(process(fx, fx->w.buf, fx->w.len, &src), 0);
	assert_int_equal(fx->out.kind, FG_OUT_ASSESSMENT);
	assert_int_equal(fx->out.reason, FG_REASON_NONE);
	assert_non_null(fx->out.decl);
	assert_memory_equal(fx->out.enc.framed, ((const uint8_t[]){ 0, 0, 0, 0, ASSESSMENT_ID }), 5);
	assert_int_equal(fx->out.enc.framed_len, fx->out.enc.body_len + 5);
	fg_test_read_back(&rb, fg_schema_text_assessment, fx->out.enc.body, fx->out.enc.body_len);
	assert_string_equal(get_str(&rb.v, "declaration_id"), "MRN-PL-1");
	assert_string_equal(get_str(&rb.v, "reference_data_version"), fx->rd->fingerprint);
	/* 302.50 = 30250 cents = 0x762a */
	get_bytes(&rb.v, "total_duty", &b, &n);
	assert_int_equal(n, 2);
	assert_memory_equal(b, "\x76\x2a", 2);
	/* 250.00 = 25000 = 0x61a8: two bytes with the sign bit clear */
	get_bytes(&rb.v, "total_floor_duty", &b, &n);
	assert_int_equal(n, 2);
	assert_memory_equal(b, "\x61\xa8", 2);
	fg_test_readback_free(&rb);

	assert_int_equal(fx->pl.stats.in, 1);
	assert_int_equal(fx->pl.stats.assessed, 1);
	assert_int_equal(fx->pl.stats.dead, 0);
	assert_int_equal(fx->pl.stats.lines, 1);
}

static void test_bare_body_with_entry(void **state)
{
	struct fixture *fx = *state;
	const struct fg_source_pos src = { NULL, 0, 0, "decls.avro", 3 };
	const struct fg_schema_entry *e = fg_schema_registry_get(&fx->reg, DECL_SCHEMA_ID);

	/* File mode: no frame, the writer schema comes with the file. */
	put_message(&fx->w, -1, 2);
	assert_int_equal(fg_pipeline_process(&fx->pl, fx->w.buf, fx->w.len, e, &src, &fx->out), 0);
	assert_int_equal(fx->out.kind, FG_OUT_ASSESSMENT);
	/* The same bytes framed would be a bad magic byte (the body starts with a length, 16). */
	assert_int_equal(process(fx, fx->w.buf, fx->w.len, NULL), 0);
	check_dead(fx, FG_REASON_DECODE_ERROR, fx->w.buf, fx->w.len, NULL);
}

/* The summary row of a mineral, by name. */
static uint32_t mineral(const struct fg_pipeline_stats *st, const char *name)
{
	for (uint32_t i = 0; i < st->n_minerals; i++)
		if (strcmp(st->mineral[i].name, name) == 0)
			return i;
	fail_msg("no summary row for %s", name);
	return 0;
}

static void test_counters_add_up(void **state)
{
	struct fixture *fx = *state;
	struct fg_pipeline_stats *st = &fx->pl.stats;
	const uint8_t tiny[] = { 0x00 };

	/* 3 assessed (1, 2 and 3 lines), 2 dead (short frame, no lines) */
	for (int n = 1; n <= 3; n++) {
		put_message(&fx->w, DECL_SCHEMA_ID, n);
		assert_int_equal(process(fx, fx->w.buf, fx->w.len, NULL), 0);
		assert_int_equal(fx->out.kind, FG_OUT_ASSESSMENT);
	}
	assert_int_equal(process(fx, tiny, sizeof(tiny), NULL), 0);
	put_message(&fx->w, DECL_SCHEMA_ID, 0);
	assert_int_equal(process(fx, fx->w.buf, fx->w.len, NULL), 0);

	assert_int_equal(st->in, 5);
	assert_int_equal(st->assessed, 3);
	assert_int_equal(st->dead, 2);
	assert_int_equal(st->in, st->assessed + st->dead);
	assert_int_equal(st->dead_by_reason[FG_REASON_DECODE_ERROR], 1);
	assert_int_equal(st->dead_by_reason[FG_REASON_NO_LINES], 1);
	assert_int_equal(st->lines, 6);
	/* six identical lines: value 1500.00, base 52.50, floor 250.00, duty 302.50 each */
	assert_i128_equal(st->value_usd, 6 * 150000);
	assert_i128_equal(st->base_duty, 6 * 5250);
	assert_i128_equal(st->floor_duty, 6 * 25000);
	assert_i128_equal(st->total_duty, 6 * 30250);
	assert_i128_equal(st->duty_by_treatment[FG_TREAT_NON_MEMBER], 6 * 30250);
	assert_i128_equal(st->floor_by_treatment[FG_TREAT_NON_MEMBER], 6 * 25000);
	assert_i128_equal(st->duty_by_treatment[FG_TREAT_MEMBER], 0);
	const uint32_t li = mineral(st, "lithium");
	assert_int_equal(st->mineral[li].lines, 6);
	assert_i128_equal(st->mineral[li].floor_duty, 6 * 25000);
	assert_i128_equal(st->mineral[li].total_duty, 6 * 30250);
	/* every line was in scope */
	for (uint32_t i = 0; i < st->n_minerals; i++)
		if (i != li)
			assert_int_equal(st->mineral[i].lines, 0);

	/* merging two pipelines' counters adds them */
	struct fg_pipeline_stats sum;
	memset(&sum, 0, sizeof(sum));
	fg_pipeline_stats_merge(&sum, st);
	fg_pipeline_stats_merge(&sum, st);
	assert_int_equal(sum.in, 10);
	assert_int_equal(sum.dead_by_reason[FG_REASON_NO_LINES], 2);
	assert_i128_equal(sum.total_duty, 12 * 30250);
	assert_int_equal(sum.mineral[mineral(&sum, "lithium")].lines, 12);
}

/* An input larger than max_dead_payload is dead-lettered with its first bytes, and the
 * message names the full length; below the limit nothing is cut. */
static void test_enormous_input_is_dead_lettered_truncated(void **state)
{
	struct fixture *fx = *state;
	uint8_t *big = malloc(5000);

	assert_non_null(big);
	for (size_t i = 0; i < 5000; i++)
		big[i] = (uint8_t)(i * 7 + 3);
	big[0] = 0;
	big[1] = big[2] = big[3] = 0;
	big[4] = 99; /* unknown schema id 99 */
	fx->pl.max_dead_payload = 1000;
	assert_int_equal(process(fx, big, 5000, NULL), 0);
	check_dead(fx, FG_REASON_UNKNOWN_SCHEMA, big, 1000,
		   "payload truncated to its first 1000 of 5000 bytes");
	assert_int_equal(process(fx, big, 1000, NULL), 0);
	check_dead(fx, FG_REASON_UNKNOWN_SCHEMA, big, 1000, "99");
	free(big);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_short_frames),
		T(test_bad_magic),
		T(test_unknown_schema_id),
		T(test_truncated_and_padded_bodies),
		T(test_rejected_declaration_keeps_its_id),
		T(test_valid_message_is_assessed),
		T(test_bare_body_with_entry),
		T(test_counters_add_up),
		T(test_enormous_input_is_dead_lettered_truncated),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
