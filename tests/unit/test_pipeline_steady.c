/*
 * test_pipeline_steady.c: the per-message path allocates nothing once warm.
 *
 * A worker runs fg_pipeline_process() for every message it takes; the
 * engine promises no allocation per message in steady state, so that its
 * throughput and memory do not depend on the allocator's mood. This test
 * feeds the generator's mix (valid declarations, semantic faults and
 * broken frames, over the default reference data in data/) through one
 * pipeline until every buffer has grown to what the mix needs, then feeds
 * the same messages again and counts, with jemalloc's per-thread counters,
 * the bytes allocated meanwhile. Built with another allocator (MALLOC=libc,
 * the sanitizer builds), it skips and says so.
 *
 * Run from the repository's top directory (as `make test` does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#ifdef FG_MALLOC_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include "../../ingest/fg_gen.h"
#include "../../src/fg_cmd.h"
#include "../../src/fg_pipeline.h"

#define N_MESSAGES 4000
#define SCHEMA_ID 1

#ifdef FG_MALLOC_JEMALLOC
/* Bytes this thread has allocated since it started (jemalloc's counter). */
static uint64_t thread_allocated(void)
{
	uint64_t v = 0;
	size_t sz = sizeof(v);

	if (mallctl("thread.allocated", &v, &sz, NULL, 0))
		fail_msg("jemalloc has no thread.allocated counter");
	return v;
}
#endif

struct msg {
	uint8_t *bytes;
	size_t len;
};

struct traffic {
	struct fg_refdata *rd;
	struct fg_schema_registry reg;
	struct msg m[N_MESSAGES];
};

static void traffic_make(struct traffic *t, unsigned invalid, unsigned bad_frames)
{
	struct fg_gen_opts go = { .seed = 7, .invalid_per_mille = invalid,
				  .bad_frame_per_mille = bad_frames, .schema_id = SCHEMA_ID,
				  .date_from = 20240, .date_to = 20757 };
	struct fg_avrobin w = { 0 };
	char err[1024], key[64];
	avro_schema_t s;
	struct fg_gen *g;

	t->rd = fg_refdata_load("data", err, sizeof(err));
	if (!t->rd)
		fail_msg("data/ refused: %s", err);
	s = fg_schemas_parse(fg_schema_text_declaration, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(fg_schema_registry_add(&t->reg, SCHEMA_ID, s, NULL, "declaration.avsc"),
			 0);
	avro_schema_decref(s);
	g = fg_gen_create(t->rd, &go);
	assert_non_null(g);
	assert_int_equal(fg_avrobin_init(&w, 1024), 0);
	for (size_t i = 0; i < N_MESSAGES; i++) {
		assert_int_equal(fg_gen_next(g, 1, &w, key, sizeof(key)), 0);
		t->m[i].bytes = malloc(w.len);
		assert_non_null(t->m[i].bytes);
		memcpy(t->m[i].bytes, w.buf, w.len);
		t->m[i].len = w.len;
	}
	fg_avrobin_fini(&w);
	fg_gen_destroy(g);
}

static void traffic_free(struct traffic *t)
{
	for (size_t i = 0; i < N_MESSAGES; i++)
		free(t->m[i].bytes);
	fg_schema_registry_fini(&t->reg);
	fg_refdata_destroy(t->rd);
}

/* Processes every message once; counts the outputs of each kind. */
static void pass(struct fg_pipeline *pl, const struct traffic *t, size_t *assessed, size_t *dead)
{
	struct fg_source_pos src = { .topic = "declarations",
				      .topic_len = sizeof("declarations") - 1,
				      .partition = 0,
				      .index = -1 };
	struct fg_output out;

	*assessed = *dead = 0;
	for (size_t i = 0; i < N_MESSAGES; i++) {
		src.offset = (int64_t)i;
		assert_int_equal(fg_pipeline_process(pl, t->m[i].bytes, t->m[i].len, NULL, &src,
						     &out),
				 0);
		if (out.kind == FG_OUT_DEAD_LETTER)
			(*dead)++;
		else
			(*assessed)++;
	}
}

static void steady(unsigned invalid, unsigned bad_frames)
{
#ifndef FG_MALLOC_JEMALLOC
	(void)invalid;
	(void)bad_frames;
	skip(); /* cmocka prints the skip; the reason: */
#else
	struct traffic *t = calloc(1, sizeof(*t));
	struct fg_pipeline pl;
	char err[512];
	size_t assessed, dead, assessed2, dead2;

	assert_non_null(t);
	/* As `floorgate run` sets it up: Avro C through the limiting allocator. */
	fg_schemas_limit_allocations(FG_AVRO_MAX_ALLOC);
	traffic_make(t, invalid, bad_frames);
	assert_int_equal(fg_pipeline_init(&pl, &t->reg, t->rd, 2, 3, err, sizeof(err)), 0);
	pass(&pl, t, &assessed, &dead); /* warm: buffers grow to what the mix needs */
	uint64_t before = thread_allocated();
	pass(&pl, t, &assessed2, &dead2);
	pass(&pl, t, &assessed2, &dead2);
	uint64_t after = thread_allocated();
	/* The mix is what it says (the test would prove nothing on dead letters only). */
	assert_int_equal(assessed2, assessed);
	assert_int_equal(dead2, dead);
	assert_true(assessed > N_MESSAGES / 2);
	if ((invalid || bad_frames) && dead == 0)
		fail_msg("the mix has no dead letters");
	if (after != before)
		fail_msg("%llu bytes allocated over %d warm messages (%zu assessed, %zu dead "
			 "letters per pass)",
			 (unsigned long long)(after - before), 2 * N_MESSAGES, assessed, dead);
	fg_pipeline_fini(&pl);
	traffic_free(t);
	free(t);
#endif
}

/* Valid declarations only: the path nearly every message takes. */
static void test_valid_declarations_allocate_nothing(void **state)
{
	(void)state;
	steady(0, 0);
}

/* The bench's mix: 2% semantic faults and 1% broken frames among them. */
static void test_generator_mix_allocates_nothing(void **state)
{
	(void)state;
	steady(20, 10);
}

int main(void)
{
#ifndef FG_MALLOC_JEMALLOC
	fprintf(stderr, "test_pipeline_steady: skipped, built without jemalloc (MALLOC=libc or a "
			"sanitizer build): its per-thread counters are what this test reads\n");
#endif
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_declarations_allocate_nothing),
		cmocka_unit_test(test_generator_mix_allocates_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
