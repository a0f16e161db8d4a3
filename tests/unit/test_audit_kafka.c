/*
 * test_audit_kafka.c: `audit` and `audit --completeness` over topic ranges,
 * on librdkafka's mock cluster (no broker needed).
 *
 * Fixture: COUNT generated declarations (a few with broken frames) on topic
 * "decls" (2 partitions, input i on partition i % 2 at offset i / 2), run
 * through the real pipeline; their outputs go to topic "outs" with one
 * input left unanswered (decls/1@5) and one answered twice (decls/0@3),
 * and, complete, to an Avro file. The mock cluster answers offsets by time
 * with -1, so time bounds are tested on the parser only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "../../ingest/fg_gen.h"
#include "../../ingest/fg_kafka_range.h"
#include "../../sinks/fg_ocf.h"
#include "../../src/fg_audit_src.h"
#include "../../src/fg_cmd.h"
#include "../../src/fg_pipeline.h"
#include "fg_test_util.h"

#define COUNT 100
#define GAP 11 /* decls/1@5 */
#define DUP 6  /* decls/0@3 */

static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mc;
static const char *bootstraps;
static char dir[] = "/tmp/fg-test-audit-kafka.XXXXXX";
static char file_path[256], bs_arg[512];

static void produce(rd_kafka_t *rk, const char *topic, int32_t part, const void *v, size_t len)
{
	assert_int_equal(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
					   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					   RD_KAFKA_V_VALUE((void *)v, len), RD_KAFKA_V_END),
			 0);
	rd_kafka_poll(rk, 0);
}

static int setup(void **state)
{
	char err[512];
	struct fg_schema_registry reg = { 0 };
	struct fg_pipeline pl;
	struct fg_avrobin w;
	struct fg_ocf_writer fw = { 0 };
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(file_path, sizeof(file_path), "%s/outs.avro", dir);
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
	mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	assert_non_null(mock_rk);
	mc = rd_kafka_mock_cluster_new(mock_rk, 1);
	assert_non_null(mc);
	bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
	snprintf(bs_arg, sizeof(bs_arg), "kafka.bootstrap.servers=%s", bootstraps);
	rd_kafka_mock_topic_create(mc, "decls", 2, 1);
	rd_kafka_mock_topic_create(mc, "outs", 2, 1);

	struct fg_refdata *rd = fg_refdata_load("data", err, sizeof(err));
	assert_non_null(rd);
	assert_int_equal(fg_schema_registry_load_dir(&reg, "schemas/registry", err, sizeof(err)), 0);
	assert_int_equal(fg_pipeline_init(&pl, &reg, rd, 2, 3, err, sizeof(err)), 0);
	assert_int_equal(fg_ocf_writer_open(&fw, file_path, fg_schema_text_assessment, err,
					    sizeof(err)), 0);
	struct fg_gen_opts go = { .seed = 5, .invalid_per_mille = 50, .bad_frame_per_mille = 30,
				  .schema_id = 1, .date_from = 20240, .date_to = 20757 };
	struct fg_gen *g = fg_gen_create(rd, &go);
	assert_non_null(g);
	assert_int_equal(fg_avrobin_init(&w, 1024), 0);
	conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	assert_non_null(rk);
	for (int i = 0; i < COUNT; i++) {
		char key[64];
		struct fg_output o;
		struct fg_source_pos pos = { .topic = "decls", .partition = i % 2,
					     .offset = i / 2, .index = -1 };
		assert_int_equal(fg_gen_next(g, 1, &w, key, sizeof(key)), 0);
		produce(rk, "decls", i % 2, w.buf, w.len);
		assert_int_equal(fg_pipeline_process(&pl, w.buf, w.len, NULL, &pos, &o), 0);
		size_t flen = o.enc.framed_len;
		if (i != GAP)
			produce(rk, "outs", i % 2, o.enc.framed, flen);
		if (i == DUP)
			produce(rk, "outs", i % 2, o.enc.framed, flen);
		/* The file holds assessments only: dead letters are another schema. */
		if (o.kind == FG_OUT_ASSESSMENT)
			assert_int_equal(fg_ocf_writer_append(&fw, o.enc.body, o.enc.body_len, err,
							      sizeof(err)), 0);
	}
	assert_int_equal(rd_kafka_flush(rk, 30000), 0);
	rd_kafka_destroy(rk);
	assert_int_equal(fg_ocf_writer_close(&fw, err, sizeof(err)), 0);
	fg_avrobin_fini(&w);
	fg_gen_destroy(g);
	fg_pipeline_fini(&pl);
	fg_schema_registry_fini(&reg);
	fg_refdata_destroy(rd);
	return 0;
}

static int teardown(void **state)
{
	char cmd[512];
	(void)state;
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(mock_rk);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct range_seen {
	unsigned n[2];
	int64_t lo[2], hi[2];
	int framed_ok;
};

static int on_msg(void *ctx, avro_value_t *v, const uint8_t *bytes, size_t len,
		  const struct fg_source_pos *pos, const struct fg_ocf_reader *file)
{
	struct range_seen *s = ctx;
	assert_null(v);
	assert_null(file);
	assert_string_equal(pos->topic, "decls");
	assert_true(pos->partition == 0 || pos->partition == 1);
	int p = pos->partition;
	if (!s->n[p] || pos->offset < s->lo[p])
		s->lo[p] = pos->offset;
	if (!s->n[p] || pos->offset > s->hi[p])
		s->hi[p] = pos->offset;
	s->n[p]++;
	s->framed_ok += len >= 5; /* raw values, frame included */
	(void)bytes;
	return 0;
}

static void test_topic_range_by_offsets(void **state)
{
	char err[512];
	struct fg_config cfg;
	struct range_seen s = { 0 };
	(void)state;
	fg_config_init(&cfg);
	assert_int_equal(fg_config_set_arg(&cfg, bs_arg, err, sizeof(err)), 0);
	struct fg_audit_src_opts o = { .cfg = &cfg, .from = "0:10,1:20", .to = "40" };
	assert_int_equal(fg_audit_src_read("kafka:decls", &o, on_msg, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n[0], 30);
	assert_int_equal(s.lo[0], 10);
	assert_int_equal(s.hi[0], 39);
	assert_int_equal(s.n[1], 20);
	assert_int_equal(s.lo[1], 20);
	assert_int_equal(s.hi[1], 39);

	/* Unset bounds: the watermarks, both partitions whole. */
	memset(&s, 0, sizeof(s));
	o.from = o.to = NULL;
	assert_int_equal(fg_audit_src_read("kafka:decls", &o, on_msg, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n[0] + s.n[1], COUNT);
	assert_true(s.framed_ok > COUNT * 9 / 10);

	/* A malformed bound is refused with the form expected. */
	o.from = "0:x";
	assert_int_equal(fg_audit_src_read("kafka:decls", &o, on_msg, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--from 0:x: expected OFFSET"));

	/* Bounds outside the topic are refused, never clamped: the audit covers
	 * what was asked or says why not. */
	o.from = NULL;
	o.to = "0:1000";
	assert_int_equal(fg_audit_src_read("kafka:decls", &o, on_msg, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "kafka:decls: decls [0]: offset 999 is beyond the end"));
	o.to = "7:10";
	assert_int_equal(fg_audit_src_read("kafka:decls", &o, on_msg, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "kafka:decls: topic decls has no partition 7"));
	fg_config_fini(&cfg);
}

/* fg_kafka_parse_time's value, or -1 when it refuses s. */
static int64_t time_ms(const char *s)
{
	int64_t ms;
	return fg_kafka_parse_time(s, &ms) ? -1 : ms;
}

static void test_time_bounds_parse(void **state)
{
	(void)state;
	assert_true(time_ms("1970-01-01T00:16:40Z") == 1000000);
	assert_true(time_ms("2026-11-26") == 1795651200000LL);
	assert_true(time_ms("2026-11-26T08:30:00Z") == 1795681800000LL);
	assert_true(time_ms("@1795681800000") == 1795681800000LL);
	assert_true(time_ms("2026-11-26T08:30:00.25Z") == 1795681800250LL);
	assert_true(time_ms("2026-11-26T08:30:00") == -1); /* UTC only, say so */
	assert_true(time_ms("2026-02-30") == -1);
	assert_true(time_ms("@-5") == -1);
	assert_true(time_ms("yesterday") == -1);
}

/* Runs a command with stdout to a file; returns its exit code and the output. */
static int run_cmd(int (*fn)(int, char **), char **argv, int argc, char *out, size_t size)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/stdout.txt", dir);
	fflush(stdout);
	int saved = dup(1), fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 1);
	close(fd);
	int rc = fn(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, size - 1, f);
	out[n] = 0;
	fclose(f);
	return rc;
}

static void test_completeness_over_topics(void **state)
{
	static char out[65536];
	char *argv[] = { "audit", "--completeness", "--input", "kafka:decls", "--outputs",
			 "kafka:outs", "-X", bs_arg, "-X", "kafka.group.id=auditors", NULL };
	(void)state;
	int rc = run_cmd(fg_cmd_audit, argv, 10, out, sizeof(out));
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "inputs                         100\n"));
	assert_non_null(strstr(out, "answered exactly once          98\n"));
	assert_non_null(strstr(out, "gaps (inputs without an output): 1\n  decls/1@5\n"));
	assert_non_null(strstr(out, "duplicates (inputs with more than one output): 1\n"
				    "  decls/0@3: 2 outputs, identical\n"));
	assert_non_null(strstr(out, "completeness: INCOMPLETE"));

	/* A range that excludes the gap and the duplicate is complete. */
	char *argv2[] = { "audit", "--completeness", "--input", "kafka:decls", "--from", "6",
			  "--outputs", "kafka:outs", "-X", bs_arg, "-X", "kafka.group.id=auditors",
			  NULL };
	rc = run_cmd(fg_cmd_audit, argv2, 12, out, sizeof(out));
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "inputs                         88\n"));
	assert_non_null(strstr(out, "completeness: COMPLETE"));
}

static void test_no_group_offsets_move(void **state)
{
	char err[512];
	(void)state;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err));
	rd_kafka_conf_set(conf, "group.id", "auditors", err, sizeof(err));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	assert_non_null(rk);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
	for (int p = 0; p < 2; p++) {
		rd_kafka_topic_partition_list_add(l, "decls", p);
		rd_kafka_topic_partition_list_add(l, "outs", p);
	}
	assert_int_equal(rd_kafka_committed(rk, l, 10000), 0);
	for (int i = 0; i < l->cnt; i++)
		assert_true(l->elems[i].offset == RD_KAFKA_OFFSET_INVALID);
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
}

static void test_audit_topic_against_file(void **state)
{
	static char out[262144];
	char *argv[] = { "audit", "--recorded", file_path, "--recomputed", "kafka:outs", "-X",
			 bs_arg, NULL };
	(void)state;
	int rc = run_cmd(fg_cmd_audit, argv, 7, out, sizeof(out));
	/*
	 * The topic also has the dead letters (the file does not) and the
	 * duplicate; it lacks GAP's output. Nothing that both have differs.
	 */
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "  duplicates                   0            1"));
	assert_non_null(strstr(out, " 0 differing"));
	assert_non_null(strstr(out, "audit: DIFFERENCES FOUND"));
	const char *p = strstr(out, "  only on this side ");
	assert_non_null(p);
	unsigned a = 99, b = 99;
	assert_int_equal(sscanf(p, "  only on this side %u %u", &a, &b), 2);
	assert_true(a <= 1); /* GAP's assessment, if it was one */
	assert_true(b >= 1); /* at least the dead letters */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topic_range_by_offsets),
		cmocka_unit_test(test_time_bounds_parse),
		cmocka_unit_test(test_completeness_over_topics),
		cmocka_unit_test(test_no_group_offsets_move),
		cmocka_unit_test(test_audit_topic_against_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
