/*
 * test_engine_mock.c: the threaded engine end to end on librdkafka's mock
 * cluster: one output per input, per-partition order, byte-identical
 * outputs whatever the worker count, and reference-data reloads under load
 * where every assessment's numbers match the tables its fingerprint names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../ingest/fg_frame.h"
#include "../../ingest/fg_gen.h"
#include "../../pricing/fg_refstore.h"
#include "../../src/fg_runner.h"
#include "fg_test_util.h"

#define PARTS 8
#define COUNT 16000

static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mc;
static const char *bootstraps;
static struct fg_schema_registry reg;
/* A copy of a message (a librdkafka message must not outlive its client). */
struct msg {
	int32_t partition;
	int64_t offset;
	uint8_t *payload;
	size_t len;
};
static struct msg inputs[COUNT];
static char *tmpdir;

struct out_rec {
	int32_t src_part;
	int64_t src_off;
	int32_t out_part;
	int64_t out_off;
	char fp[33];
	uint8_t *bytes;
	size_t len;
	int dead;
};

static void produce_inputs(const struct fg_refdata *rd)
{
	char err[512], key[64];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	struct fg_gen_opts go = { .seed = 11, .invalid_per_mille = 30, .bad_frame_per_mille = 10,
				  .schema_id = 1, .date_from = 20240, .date_to = 20757 };
	struct fg_gen *g = fg_gen_create(rd, &go);
	struct fg_avrobin w;

	assert_non_null(g);
	assert_int_equal(fg_avrobin_init(&w, 1024), 0);
	rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	assert_non_null(rk);
	for (int i = 0; i < COUNT; i++) {
		assert_int_equal(fg_gen_next(g, 1, &w, key, sizeof(key)), 0);
		assert_int_equal(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("in"),
						   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
						   RD_KAFKA_V_KEY(key, strlen(key)),
						   RD_KAFKA_V_VALUE(w.buf, w.len), RD_KAFKA_V_END),
				 0);
		rd_kafka_poll(rk, 0);
	}
	assert_int_equal(rd_kafka_flush(rk, 30000), 0);
	rd_kafka_destroy(rk);
	fg_avrobin_fini(&w);
	fg_gen_destroy(g);
}

/* Reads (copies) every message of topic (PARTS partitions) from the start. */
static size_t read_topic(const char *topic, struct msg *out, size_t max)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	size_t n = 0;
	int eofs = 0;

	rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err));
	rd_kafka_conf_set(conf, "group.id", "test-reader", err, sizeof(err));
	rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(PARTS);
	for (int p = 0; p < PARTS; p++)
		rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	while (eofs < PARTS) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 5000);
		assert_non_null(m); /* no stall */
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			eofs++;
			rd_kafka_message_destroy(m);
			continue;
		}
		assert_int_equal(m->err, 0);
		assert_true(n < max);
		out[n].partition = m->partition;
		out[n].offset = m->offset;
		out[n].len = m->len;
		out[n].payload = malloc(m->len);
		memcpy(out[n].payload, m->payload, m->len);
		n++;
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return n;
}

static const struct msg *by_pos[PARTS][COUNT]; /* inputs by partition and offset */

static void take_inputs(void)
{
	size_t n = read_topic("in", inputs, COUNT);
	assert_int_equal(n, COUNT);
	for (size_t i = 0; i < n; i++) {
		assert_true(inputs[i].partition < PARTS && inputs[i].offset < COUNT);
		by_pos[inputs[i].partition][inputs[i].offset] = &inputs[i];
	}
}

static const struct msg *input_at(int32_t partition, int64_t offset)
{
	if (partition < 0 || partition >= PARTS || offset < 0 || offset >= COUNT)
		return NULL;
	return by_pos[partition][offset];
}

/* Parses the trailing fields shared by both output schemas. */
static void parse_out(const struct msg *m, int dead, struct out_rec *r)
{
	avro_schema_t s = fg_schemas_parse(dead ? fg_schema_text_deadletter :
						  fg_schema_text_assessment, NULL, 0);
	avro_value_iface_t *iface = avro_generic_class_from_schema(s);
	avro_value_t v, f, b;
	avro_reader_t rdr;
	const char *str;
	size_t size;

	assert_true(m->len > 5);
	assert_int_equal(((const uint8_t *)m->payload)[0], 0);
	avro_generic_value_new(iface, &v);
	rdr = avro_reader_memory((const char *)m->payload + 5, (int64_t)m->len - 5);
	assert_int_equal(avro_value_read(rdr, &v), 0);
	assert_int_equal(avro_value_get_by_name(&v, "source_partition", &f, NULL), 0);
	avro_value_get_current_branch(&f, &b);
	assert_int_equal(avro_value_get_int(&b, &r->src_part), 0);
	assert_int_equal(avro_value_get_by_name(&v, "source_offset", &f, NULL), 0);
	avro_value_get_current_branch(&f, &b);
	assert_int_equal(avro_value_get_long(&b, &r->src_off), 0);
	assert_int_equal(avro_value_get_by_name(&v, "reference_data_version", &f, NULL), 0);
	avro_value_get_string(&f, &str, &size);
	snprintf(r->fp, sizeof(r->fp), "%s", str);
	r->dead = dead;
	r->out_part = m->partition;
	r->out_off = m->offset;
	r->len = m->len;
	r->bytes = malloc(m->len);
	memcpy(r->bytes, m->payload, m->len);
	avro_reader_free(rdr);
	avro_value_decref(&v);
	avro_value_iface_decref(iface);
	avro_schema_decref(s);
}

static int out_cmp(const void *a, const void *b)
{
	const struct out_rec *x = a, *y = b;
	if (x->src_part != y->src_part)
		return x->src_part < y->src_part ? -1 : 1;
	return x->src_off < y->src_off ? -1 : x->src_off > y->src_off;
}

static struct out_rec *outs;
static size_t n_outs;

/* Runs the engine from "in" to topics <tag>.a / <tag>.d and collects the outputs. */
static void run_engine(const char *tag, int workers, void *(*side)(void *), void *side_arg)
{
	struct fg_config cfg;
	char err[1024], buf[64];
	struct fg_pipeline_stats st;
	struct msg *got = calloc(2 * COUNT, sizeof(*got));
	pthread_t t;

	snprintf(buf, sizeof(buf), "%s.a", tag);
	rd_kafka_mock_topic_create(mc, buf, PARTS, 1);
	snprintf(buf, sizeof(buf), "%s.d", tag);
	rd_kafka_mock_topic_create(mc, buf, PARTS, 1);
	fg_config_init(&cfg);
	fg_config_set(&cfg, "kafka.bootstrap.servers", bootstraps, err, sizeof(err));
	snprintf(buf, sizeof(buf), "group-%s", tag);
	fg_config_set(&cfg, "kafka.group.id", buf, err, sizeof(err));
	fg_config_set(&cfg, "input.topic", "in", err, sizeof(err));
	snprintf(buf, sizeof(buf), "%s.a", tag);
	fg_config_set(&cfg, "output.topic", buf, err, sizeof(err));
	snprintf(buf, sizeof(buf), "%s.d", tag);
	fg_config_set(&cfg, "deadletter.topic", buf, err, sizeof(err));
	fg_config_set(&cfg, "run.exit_on_eof", "true", err, sizeof(err));
	fg_config_set(&cfg, "run.progress_interval_ms", "0", err, sizeof(err));
	fg_config_set(&cfg, "run.batch_size", "500", err, sizeof(err));
	fg_config_set(&cfg, "run.batches", "6", err, sizeof(err));
	snprintf(buf, sizeof(buf), "%d", workers);
	fg_config_set(&cfg, "run.workers", buf, err, sizeof(err));
	fg_config_set(&cfg, "data.dir", "data-live", err, sizeof(err));
	fg_runner_done = 0;
	if (side)
		pthread_create(&t, NULL, side, side_arg);
	int rc = fg_runner_run(&cfg, &reg, &st, err, sizeof(err));

	if (side)
		pthread_join(t, NULL);
	if (rc)
		fail_msg("engine: %s", err);
	assert_int_equal(st.in, COUNT);
	assert_int_equal(fg_runner_done, COUNT);

	snprintf(buf, sizeof(buf), "%s.a", tag);
	size_t na = read_topic(buf, got, 2 * COUNT);
	snprintf(buf, sizeof(buf), "%s.d", tag);
	size_t nd = read_topic(buf, got + na, 2 * COUNT - na);
	assert_int_equal(na, st.assessed);
	assert_int_equal(nd, st.dead);
	n_outs = na + nd;
	outs = calloc(n_outs, sizeof(*outs));
	for (size_t i = 0; i < n_outs; i++) {
		parse_out(&got[i], i >= na, &outs[i]);
		free(got[i].payload);
	}
	free(got);
	fg_config_fini(&cfg);

	/* Per output partition, the outputs of each input partition are in input order. */
	for (size_t i = 0; i < n_outs; i++)
		for (size_t j = i + 1; j < n_outs && j < i + 64; j++)
			if (outs[j].out_part == outs[i].out_part && outs[j].dead == outs[i].dead &&
			    outs[j].src_part == outs[i].src_part && outs[j].out_off > outs[i].out_off)
				assert_true(outs[j].src_off > outs[i].src_off);
	qsort(outs, n_outs, sizeof(*outs), out_cmp);
	/* Exactly one output per input. */
	assert_int_equal(n_outs, COUNT);
	for (size_t i = 0; i < n_outs; i++) {
		const struct msg *in = input_at(outs[i].src_part, outs[i].src_off);
		assert_non_null(in);
		if (i > 0)
			assert_true(out_cmp(&outs[i - 1], &outs[i]) < 0);
	}
}

static void free_outs(void)
{
	for (size_t i = 0; i < n_outs; i++)
		free(outs[i].bytes);
	free(outs);
	outs = NULL;
	n_outs = 0;
}

static void test_workers_give_identical_outputs(void **state)
{
	(void)state;
	struct out_rec *base;
	size_t n_base;

	run_engine("w1", 1, NULL, NULL);
	base = outs;
	n_base = n_outs;
	outs = NULL;
	for (int w = 2; w <= 4; w += 2) {
		char tag[8];
		snprintf(tag, sizeof(tag), "w%d", w);
		run_engine(tag, w, NULL, NULL);
		assert_int_equal(n_outs, n_base);
		for (size_t i = 0; i < n_outs; i++) {
			assert_int_equal(outs[i].len, base[i].len);
			assert_memory_equal(outs[i].bytes, base[i].bytes, base[i].len);
		}
		free_outs();
	}
	outs = base;
	n_outs = n_base;
	free_outs();
}

/* Flips data-live between two table sets and signals a reload, many times. */
static void *flipper(void *arg)
{
	(void)arg;
	/* Start once the engine is assessing, flip until it is done. */
	while (fg_runner_done == 0)
		usleep(1000);
	for (int i = 0; fg_runner_done < COUNT * 9 / 10; i++) {
		usleep(3000);
		unlink("data-live");
		assert_int_equal(symlink(i % 2 ? "data-a" : "data-b", "data-live"), 0);
		raise(SIGHUP);
	}
	return NULL;
}

static void test_reload_under_load(void **state)
{
	(void)state;
	char err[1024];
	struct fg_refdata *a = fg_refdata_load("data-a", err, sizeof(err));
	struct fg_refdata *b = fg_refdata_load("data-b", err, sizeof(err));
	struct fg_pipeline pa, pb;
	size_t seen_a = 0, seen_b = 0;

	assert_non_null(a);
	assert_non_null(b);
	assert_string_not_equal(a->fingerprint, b->fingerprint);
	run_engine("reload", 2, flipper, NULL);

	/* Recompute every output with the tables its fingerprint names. */
	assert_int_equal(fg_pipeline_init(&pa, &reg, a, 2, 3, err, sizeof(err)), 0);
	assert_int_equal(fg_pipeline_init(&pb, &reg, b, 2, 3, err, sizeof(err)), 0);
	for (size_t i = 0; i < n_outs; i++) {
		struct out_rec *o = &outs[i];
		struct fg_pipeline *pl;
		const struct msg *in = input_at(o->src_part, o->src_off);
		struct fg_output res;
		if (!strcmp(o->fp, a->fingerprint)) {
			pl = &pa;
			seen_a++;
		} else {
			assert_string_equal(o->fp, b->fingerprint);
			pl = &pb;
			seen_b++;
		}
		assert_non_null(in);
		struct fg_source_pos pos = { .topic = "in", .partition = o->src_part,
					     .offset = o->src_off, .index = -1 };
		assert_int_equal(fg_pipeline_process(pl, in->payload, in->len, NULL, &pos, &res), 0);
		assert_int_equal(res.enc.body_len + 5, o->len);
		assert_memory_equal(res.enc.framed, o->bytes, o->len);
	}
	/* Both sets were in force for part of the run. */
	assert_true(seen_b > 0);
	print_message("reload under load: %zu outputs under set A, %zu under set B\n", seen_a,
		      seen_b);
	fg_pipeline_fini(&pa);
	fg_pipeline_fini(&pb);
	fg_refdata_destroy(a);
	fg_refdata_destroy(b);
	free_outs();
}

/* data-b: data-a with every reference price raised (a 1 put before it). */
static void make_data_b(void)
{
	assert_int_equal(system("rm -rf data-a data-b data-live && cp -rL ../../data data-a && "
				"mkdir data-b && cp data-a/*.csv data-b/ && "
				"awk -F, 'BEGIN{OFS=\",\"} NR>1{$3=\"1\" $3} {print}' "
				"data-a/reference_prices.csv > data-b/reference_prices.csv && "
				"ln -s data-a data-live"),
			 0);
}

static int setup(void **state)
{
	char err[512];
	(void)state;
	char *dir = tmpdir = fg_test_mkdtemp();
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	/* Work in a temp dir that sees the repo's data at ../../data. */
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/x/y && ln -s %s/data %s/data", dir, cwd, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/x/y", dir);
	assert_int_equal(chdir(cmd), 0);
	make_data_b();

	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
	mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	mc = rd_kafka_mock_cluster_new(mock_rk, 3);
	bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
	rd_kafka_mock_topic_create(mc, "in", PARTS, 1);
	snprintf(cmd, sizeof(cmd), "%s/schemas/registry", cwd);
	assert_int_equal(fg_schema_registry_load_dir(&reg, cmd, err, sizeof(err)), 0);

	struct fg_refdata *rd = fg_refdata_load("data-a", err, sizeof(err));
	assert_non_null(rd);
	produce_inputs(rd);
	take_inputs();

	fg_refstore_init(rd); /* the engine reads data-live through the store */
	fg_runner_install_signals();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < COUNT; i++)
		free(inputs[i].payload);
	fg_refstore_fini();
	fg_schema_registry_fini(&reg);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(mock_rk);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		print_message("could not remove %s\n", tmpdir);
	free(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workers_give_identical_outputs),
		cmocka_unit_test(test_reload_under_load),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
