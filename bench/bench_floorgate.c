/*
 * bench_floorgate.c: the per-message path, stage by stage (make bench).
 *
 * DESIGN
 * Every benchmark runs on the same traffic: N framed declarations drawn
 * once by fg_gen from the default reference data (the generator's
 * realistic mix, as `floorgate demo` uses it: about 2% semantically
 * invalid and 1% broken frames). Each stage then loops over its own
 * prepared inputs, one declaration per iteration, so Google Benchmark's
 * items_per_second is declarations per second and its time column is the
 * cost of one declaration:
 *
 *   frame_decode         fg_frame_parse + fg_decoder_decode (framed bytes)
 *   classify             fg_rules_classify on every line of a decoded declaration
 *   price                fg_assess_validate + fg_assess_run on a decoded declaration
 *   encode               fg_encoder_assessment of an assessed declaration
 *   pipeline             fg_pipeline_process: the whole in-process path
 *   avro_generic_decode  the baseline: Avro C avro_value_read into a reused
 *                        generic value of the reader schema, on the same
 *                        bodies (those that decode: Avro C leaks memory on
 *                        a truncated one)
 *
 * Decoded declarations are deep-copied once at set-up (the decoder's views
 * are only valid until its next call), so classify, price and encode see
 * stable inputs without decoding inside their loops.
 *
 * The reference data directory is $FG_BENCH_DATA, else data/, else ../data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>

#include "../core/fg_avrobin.h"
#include "../ingest/fg_decode.h"
#include "../ingest/fg_frame.h"
#include "../ingest/fg_gen.h"
#include "../ingest/fg_schemas.h"
#include "../pricing/fg_assess.h"
#include "../pricing/fg_refdata.h"
#include "../rules/fg_rules.h"
#include "../sinks/fg_encode.h"
#include "../src/fg_cmd.h"
#include "../src/fg_pipeline.h"
#include "fg_bench.h"

#define BENCH_MESSAGES 20000
#define BENCH_SEED 1

struct bench_msg {
	uint8_t *bytes; /* framed */
	size_t len;
	const uint8_t *body; /* NULL when the frame is broken */
	size_t body_len;
	int32_t schema_id;
};

struct bench {
	struct fg_refdata *rd;
	struct fg_schema_registry reg;
	const struct fg_schema_entry *decl_entry;
	/* the reader schema declaring coarser decimal scales (mass 0, value 0,
	 * percent 2): the same bodies then decode with a rescale */
	const struct fg_schema_entry *coarse_entry;
	struct bench_msg *msgs;
	size_t n_msgs;
	/* bodies that decode, for the Avro C baseline (Avro C leaks on a
	 * truncated body, so the broken ones are left out of its loop) */
	size_t *with_body, n_with_body;
	/* deep copies of the declarations that decode */
	struct fg_decl *decls;
	size_t n_decls;
	/* assessments of the declarations that validate */
	struct fg_assessment *as;
	size_t n_as;
};

static struct bench B;

/* One block holding a copy of d's lines and strings; *out views into it. */
static void *decl_clone(const struct fg_decl *d, struct fg_decl *out)
{
	size_t size = (size_t)d->n_lines * sizeof(struct fg_decl_line);
	char *block, *p;

	size += d->declaration_id.len + d->declarant_id.len + d->importer_id.len +
		d->port_code.len + d->export_country.len + d->invoice_currency.len;
	for (uint32_t i = 0; i < d->n_lines; i++) {
		const struct fg_decl_line *l = &d->lines[i];
		size += l->commodity_code.len + l->description.len + l->origin_country.len +
			l->content_element.len + l->preference_claim.len;
	}
	block = malloc(size + 1);
	if (!block)
		return NULL;
	*out = *d;
	out->lines = (struct fg_decl_line *)block;
	p = block + (size_t)d->n_lines * sizeof(struct fg_decl_line);
#define COPY(dst, src)                                  \
	do {                                            \
		if ((src).len)                          \
			memcpy(p, (src).p, (src).len);  \
		(dst) = fg_str_make(p, (src).len);      \
		p += (src).len;                         \
	} while (0)
	COPY(out->declaration_id, d->declaration_id);
	COPY(out->declarant_id, d->declarant_id);
	COPY(out->importer_id, d->importer_id);
	COPY(out->port_code, d->port_code);
	COPY(out->export_country, d->export_country);
	COPY(out->invoice_currency, d->invoice_currency);
	for (uint32_t i = 0; i < d->n_lines; i++) {
		const struct fg_decl_line *l = &d->lines[i];
		struct fg_decl_line *o = &out->lines[i];
		*o = *l;
		COPY(o->commodity_code, l->commodity_code);
		COPY(o->description, l->description);
		COPY(o->origin_country, l->origin_country);
		COPY(o->content_element, l->content_element);
		COPY(o->preference_claim, l->preference_claim);
	}
#undef COPY
	return block;
}

static const char *data_dir(void)
{
	const char *env = getenv("FG_BENCH_DATA");
	FILE *f;

	if (env && *env)
		return env;
	f = fopen("data/classification.csv", "r");
	if (f) {
		fclose(f);
		return "data";
	}
	return "../data";
}

/* Generates the traffic and prepares every stage's inputs. */
static int bench_setup(struct bench *b)
{
	struct fg_gen_opts go = { .seed = BENCH_SEED, .invalid_per_mille = 20,
				  .bad_frame_per_mille = 10, .schema_id = 1,
				  .date_from = 20240, .date_to = 20757 };
	struct fg_gen *g = NULL;
	struct fg_decoder *dec = NULL;
	struct fg_avrobin w = { 0 };
	avro_schema_t schema = NULL;
	char err[1024], key[64], msg[512];
	const char *dir = data_dir();
	int rc = -1;

	b->rd = fg_refdata_load(dir, err, sizeof(err));
	if (!b->rd) {
		fprintf(stderr, "bench: reference data refused (%s): %s\n", dir, err);
		return -1;
	}
	/* Schema id 1 = declaration.avsc, as in schemas/registry/1.avsc. */
	schema = fg_schemas_parse(fg_schema_text_declaration, err, sizeof(err));
	if (!schema || fg_schema_registry_add(&b->reg, 1, schema, NULL, "declaration.avsc")) {
		fprintf(stderr, "bench: cannot register the declaration schema: %s\n", err);
		goto done;
	}
	b->decl_entry = fg_schema_registry_get(&b->reg, 1);
	{
		static const char *const from[] = { "\"precision\": 18, \"scale\": 3}",
						    "\"precision\": 18, \"scale\": 2}",
						    "\"precision\": 7, \"scale\": 4}" };
		static const char *const to[] = { "\"precision\": 18, \"scale\": 0}",
						  "\"precision\": 18, \"scale\": 0}",
						  "\"precision\": 7, \"scale\": 2}" };
		char *text = strdup(fg_schema_text_declaration);
		int scale[FG_DEC_FIELDS];
		avro_schema_t coarse = NULL;
		for (size_t k = 0; text && k < FG_ARRAY_LEN(from); k++) {
			char *at = strstr(text, from[k]);
			if (!at) { /* the texts have the same length */
				free(text);
				text = NULL;
				break;
			}
			memcpy(at, to[k], strlen(to[k]));
		}
		if (text)
			coarse = fg_schema_parse_writer(text, strlen(text), scale, err, sizeof(err));
		free(text);
		if (!coarse || fg_schema_registry_add(&b->reg, 2, coarse, scale, "coarser scales")) {
			fprintf(stderr, "bench: cannot register the coarser-scale writer\n");
			if (coarse)
				avro_schema_decref(coarse);
			goto done;
		}
		avro_schema_decref(coarse);
		b->coarse_entry = fg_schema_registry_get(&b->reg, 2);
	}
	b->msgs = calloc(BENCH_MESSAGES, sizeof(*b->msgs));
	b->with_body = calloc(BENCH_MESSAGES, sizeof(*b->with_body));
	b->decls = calloc(BENCH_MESSAGES, sizeof(*b->decls));
	b->as = calloc(BENCH_MESSAGES, sizeof(*b->as));
	g = fg_gen_create(b->rd, &go);
	dec = fg_decoder_create(err, sizeof(err));
	if (!b->msgs || !b->with_body || !b->decls || !b->as || !g || !dec ||
	    fg_avrobin_init(&w, 1024)) {
		fprintf(stderr, "bench: out of memory\n");
		goto done;
	}
	for (size_t i = 0; i < BENCH_MESSAGES; i++) {
		struct bench_msg *m = &b->msgs[i];
		const char *why;
		if (fg_gen_next(g, 1, &w, key, sizeof(key)) || !(m->bytes = malloc(w.len + 1))) {
			fprintf(stderr, "bench: out of memory\n");
			goto done;
		}
		memcpy(m->bytes, w.buf, w.len);
		m->len = w.len;
		b->n_msgs++;
		if (fg_frame_parse(m->bytes, m->len, &m->schema_id, &m->body, &m->body_len, &why)) {
			m->body = NULL;
			continue;
		}
		if (m->schema_id != 1)
			continue;
		struct fg_decl d;
		if (fg_decoder_decode(dec, b->decl_entry, m->body, m->body_len, &d, msg,
				      sizeof(msg)))
			continue;
		b->with_body[b->n_with_body++] = i;
		if (!decl_clone(&d, &b->decls[b->n_decls])) {
			fprintf(stderr, "bench: out of memory\n");
			goto done;
		}
		b->n_decls++;
	}
	for (size_t i = 0; i < b->n_decls; i++) {
		struct fg_assessment *as = &b->as[b->n_as];
		if (fg_assess_validate(as, b->rd, &b->decls[i], msg, sizeof(msg)) !=
		    FG_REASON_NONE)
			continue;
		if (fg_assess_run(as, b->rd, &b->decls[i])) {
			fprintf(stderr, "bench: assessment failed\n");
			goto done;
		}
		b->n_as++;
	}
	fprintf(stderr,
		"bench: %zu messages (%zu decoded, %zu valid), "
		"reference data %s (%s)\n",
		b->n_msgs, b->n_decls, b->n_as, b->rd->fingerprint, dir);
	rc = b->n_as ? 0 : -1;
done:
	if (schema)
		avro_schema_decref(schema);
	fg_avrobin_fini(&w);
	fg_decoder_destroy(dec);
	fg_gen_destroy(g);
	return rc;
}

static void bm_frame_decode(struct fg_bench_state *st, void *arg)
{
	struct bench *b = arg;
	struct fg_decoder *dec = fg_decoder_create(NULL, 0);
	struct fg_decl d;
	char msg[512];
	size_t i = 0;
	int64_t failed = 0;

	if (!dec) {
		fg_bench_skip_with_error(st, "cannot create a decoder");
		return;
	}
	while (fg_bench_keep_running(st)) {
		const struct bench_msg *m = &b->msgs[i];
		const uint8_t *body;
		size_t len;
		int32_t id;
		const char *why;
		if (++i == b->n_msgs)
			i = 0;
		if (fg_frame_parse(m->bytes, m->len, &id, &body, &len, &why)) {
			failed++;
			continue;
		}
		const struct fg_schema_entry *e = fg_schema_registry_get(&b->reg, id);
		if (!e || fg_decoder_decode(dec, e, body, len, &d, msg, sizeof(msg)))
			failed++;
	}
	fg_bench_set_items(st, fg_bench_iterations(st));
	fg_bench_set_counter(st, "failed_share",
			     (double)failed / (double)(fg_bench_iterations(st) + 1));
	fg_decoder_destroy(dec);
}

/* The bodies that decode, as written by a producer whose schema declares
 * other decimal scales than the reader's (the codec, then a rescale). */
static void bm_decode_other_scales(struct fg_bench_state *st, void *arg)
{
	struct bench *b = arg;
	struct fg_decoder *dec = fg_decoder_create(NULL, 0);
	struct fg_decl d;
	char msg[512];
	size_t i = 0;
	int64_t failed = 0;

	if (!dec) {
		fg_bench_skip_with_error(st, "cannot create a decoder");
		return;
	}
	while (fg_bench_keep_running(st)) {
		const struct bench_msg *m = &b->msgs[b->with_body[i]];
		if (++i == b->n_with_body)
			i = 0;
		if (fg_decoder_decode(dec, b->coarse_entry, m->body, m->body_len, &d, msg,
				      sizeof(msg)))
			failed++;
	}
	fg_bench_set_items(st, fg_bench_iterations(st));
	fg_bench_set_counter(st, "failed_share",
			     (double)failed / (double)(fg_bench_iterations(st) + 1));
	fg_decoder_destroy(dec);
}

static void bm_classify(struct fg_bench_state *st, void *arg)
{
	struct bench *b = arg;
	const struct fg_rules *rs = &b->rd->rules;
	size_t i = 0;
	int64_t lines = 0, in_scope = 0;

	while (fg_bench_keep_running(st)) {
		const struct fg_decl *d = &b->decls[i];
		if (++i == b->n_decls)
			i = 0;
		for (uint32_t k = 0; k < d->n_lines; k++) {
			const struct fg_rule *r =
				fg_rules_classify(rs, d->lines[k].commodity_code,
						  d->lines[k].description, d->acceptance_date);
			in_scope += r != NULL;
		}
		lines += d->n_lines;
	}
	fg_bench_set_items(st, fg_bench_iterations(st));
	fg_bench_set_counter(st, "lines_per_decl",
			     (double)lines / (double)(fg_bench_iterations(st) + 1));
	fg_bench_set_counter(st, "in_scope_share", (double)in_scope / (double)(lines + 1));
}

static void bm_price(struct fg_bench_state *st, void *arg)
{
	struct bench *b = arg;
	struct fg_assessment as = { 0 };
	char msg[512];
	size_t i = 0;

	while (fg_bench_keep_running(st)) {
		const struct fg_decl *d = &b->decls[i];
		if (++i == b->n_decls)
			i = 0;
		if (fg_assess_validate(&as, b->rd, d, msg, sizeof(msg)) == FG_REASON_NONE &&
		    fg_assess_run(&as, b->rd, d)) {
			fg_bench_skip_with_error(st, "assessment failed");
			break;
		}
	}
	fg_bench_set_items(st, fg_bench_iterations(st));
	fg_assessment_fini(&as);
}

/* Where the declarations came from, the topic's length counted as the
 * live runner counts it (once, not per message). */
static const struct fg_source_pos bench_src = { .topic = "declarations",
						 .topic_len = sizeof("declarations") - 1,
						 .partition = 3,
						 .index = -1 };

static void bm_encode(struct fg_bench_state *st, void *arg)
{
	struct bench *b = arg;
	struct fg_encoder *enc = fg_encoder_create(2, 3, NULL, 0);
	struct fg_source_pos src = bench_src; /* the offset moves per message */
	struct fg_encoded out;
	size_t i = 0;
	int64_t bytes = 0;

	if (!enc) {
		fg_bench_skip_with_error(st, "cannot create an encoder");
		return;
	}
	while (fg_bench_keep_running(st)) {
		src.offset = (int64_t)i;
		if (fg_encoder_assessment(enc, &b->as[i], &src, &out)) {
			fg_bench_skip_with_error(st, "encoding failed");
			break;
		}
		bytes += (int64_t)out.body_len;
		if (++i == b->n_as)
			i = 0;
	}
	fg_bench_set_items(st, fg_bench_iterations(st));
	fg_bench_set_counter(st, "bytes_per_assessment",
			     (double)bytes / (double)(fg_bench_iterations(st) + 1));
	fg_encoder_destroy(enc);
}

static void bm_pipeline(struct fg_bench_state *st, void *arg)
{
	struct bench *b = arg;
	struct fg_pipeline pl;
	struct fg_source_pos src = bench_src; /* the offset moves per message */
	struct fg_output out;
	char err[512];
	size_t i = 0;

	if (fg_pipeline_init(&pl, &b->reg, b->rd, 2, 3, err, sizeof(err))) {
		fg_bench_skip_with_error(st, err);
		return;
	}
	while (fg_bench_keep_running(st)) {
		const struct bench_msg *m = &b->msgs[i];
		src.offset = (int64_t)i;
		if (++i == b->n_msgs)
			i = 0;
		if (fg_pipeline_process(&pl, m->bytes, m->len, NULL, &src, &out)) {
			fg_bench_skip_with_error(st, "out of memory");
			break;
		}
	}
	fg_bench_set_items(st, fg_bench_iterations(st));
	fg_bench_set_counter(st, "dead_share",
			     (double)pl.stats.dead / (double)(pl.stats.in + 1));
	fg_pipeline_fini(&pl);
}

/* The baseline: what a generic Avro C consumer pays just to decode. */
static void bm_avro_generic_decode(struct fg_bench_state *st, void *arg)
{
	struct bench *b = arg;
	avro_value_iface_t *iface = avro_generic_class_from_schema(b->decl_entry->schema);
	avro_reader_t r = avro_reader_memory("", 0);
	avro_value_t v;
	size_t i = 0;
	int64_t failed = 0;

	if (!iface || !r || avro_generic_value_new(iface, &v)) {
		fg_bench_skip_with_error(st, "cannot set up Avro C");
		if (iface)
			avro_value_iface_decref(iface);
		if (r)
			avro_reader_free(r);
		return;
	}
	while (fg_bench_keep_running(st)) {
		const struct bench_msg *m = &b->msgs[b->with_body[i]];
		if (++i == b->n_with_body)
			i = 0;
		avro_reader_memory_set_source(r, (const char *)m->body, (int64_t)m->body_len);
		failed += avro_value_read(r, &v) != 0;
	}
	fg_bench_set_items(st, fg_bench_iterations(st));
	if (failed)
		fg_bench_skip_with_error(st, "Avro C refused a body the decoder accepted");
	avro_value_decref(&v);
	avro_value_iface_decref(iface);
	avro_reader_free(r);
}

int fg_bench_register_all(void)
{
	fg_schemas_limit_allocations(FG_AVRO_MAX_ALLOC);
	if (bench_setup(&B))
		return -1;
	fg_bench_register("frame_decode", bm_frame_decode, &B);
	fg_bench_register("decode_other_scales", bm_decode_other_scales, &B);
	fg_bench_register("classify", bm_classify, &B);
	fg_bench_register("price", bm_price, &B);
	fg_bench_register("encode", bm_encode, &B);
	fg_bench_register("pipeline", bm_pipeline, &B);
	fg_bench_register("avro_generic_decode", bm_avro_generic_decode, &B);
	/* The set-up data lives until the process exits (benchmarks run after this). */
	return 0;
}
