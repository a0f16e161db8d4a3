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
#include "fg_test_kafka.h"
#include "fg_test_util.h"

#define PARTS 8
#define COUNT 16000

static struct fg_test_cluster kc;
static struct fg_test_msg *inputs; /* COUNT of them */
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

static const struct fg_test_msg *by_pos[PARTS][COUNT]; /* inputs by partition and offset */

static void take_inputs(void)
{
	static const char *const in[] = { "in", NULL };
	size_t n = fg_test_cluster_read(&kc, in, PARTS, 5000, &inputs);
	assert_int_equal(n, COUNT);
	for (size_t i = 0; i < n; i++) {
		assert_true(inputs[i].partition < PARTS && inputs[i].offset < COUNT);
		by_pos[inputs[i].partition][inputs[i].offset] = &inputs[i];
	}
}

static const struct fg_test_msg *input_at(int32_t partition, int64_t offset)
{
	if (partition < 0 || partition >= PARTS || offset < 0 || offset >= COUNT)
		return NULL;
	return by_pos[partition][offset];
}

/* Takes an output message's payload into r, with the input position it names. */
static void parse_out(struct fg_test_msg *m, int dead, struct out_rec *r)
{
	fg_test_output_source(m->payload, m->len, dead, &r->src_part, &r->src_off, r->fp,
			      sizeof(r->fp));
	r->dead = dead;
	r->out_part = m->partition;
	r->out_off = m->offset;
	r->len = m->len;
	r->bytes = m->payload;
	m->payload = NULL;
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
	struct fg_test_msg *got[2]; /* <tag>.a, <tag>.d */
	size_t n_got[2];
	pthread_t t;

	fg_test_cluster_output_topics(&kc, tag, PARTS);
	fg_config_init(&cfg);
	fg_config_set(&cfg, "kafka.bootstrap.servers", kc.bootstraps, err, sizeof(err));
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
	int rc = fg_runner_run(&cfg, &kc.reg, &st, err, sizeof(err));

	if (side)
		pthread_join(t, NULL);
	if (rc)
		fail_msg("engine: %s", err);
	assert_int_equal(st.in, COUNT);
	assert_int_equal(fg_runner_done, COUNT);

	for (int k = 0; k < 2; k++) {
		const char *const topic[] = { buf, NULL };

		snprintf(buf, sizeof(buf), "%s.%c", tag, "ad"[k]);
		n_got[k] = fg_test_cluster_read(&kc, topic, PARTS, 5000, &got[k]);
	}
	assert_int_equal(n_got[0], st.assessed);
	assert_int_equal(n_got[1], st.dead);
	n_outs = n_got[0] + n_got[1];
	outs = calloc(n_outs, sizeof(*outs));
	for (size_t i = 0; i < n_got[0]; i++)
		parse_out(&got[0][i], 0, &outs[i]);
	for (size_t i = 0; i < n_got[1]; i++)
		parse_out(&got[1][i], 1, &outs[n_got[0] + i]);
	fg_test_msgs_free(got[0], n_got[0]);
	fg_test_msgs_free(got[1], n_got[1]);
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
		const struct fg_test_msg *in = input_at(outs[i].src_part, outs[i].src_off);
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
	assert_int_equal(fg_pipeline_init(&pa, &kc.reg, a, 2, 3, err, sizeof(err)), 0);
	assert_int_equal(fg_pipeline_init(&pb, &kc.reg, b, 2, 3, err, sizeof(err)), 0);
	for (size_t i = 0; i < n_outs; i++) {
		struct out_rec *o = &outs[i];
		struct fg_pipeline *pl;
		const struct fg_test_msg *in = input_at(o->src_part, o->src_off);
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
		assert_int_equal(res.enc.framed_len, o->len);
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

	fg_test_cluster_start(&kc, cwd, PARTS, "3");
	struct fg_refdata *rd = fg_refdata_load("data-a", err, sizeof(err));
	assert_non_null(rd);
	fg_test_cluster_produce(&kc, rd, 11, COUNT, 0); /* partitions by key */
	take_inputs();

	fg_refstore_init(rd); /* the engine reads data-live through the store */
	fg_runner_install_signals();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fg_test_msgs_free(inputs, COUNT);
	fg_refstore_fini();
	fg_test_cluster_stop(&kc);
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
