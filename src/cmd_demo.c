/*
 * cmd_demo.c: `floorgate demo`, the whole path on an embedded Kafka cluster.
 *
 * DESIGN
 * Three threads around librdkafka's in-process mock cluster:
 *   generator  -> declarations topic   (synthetic traffic, a few % malformed)
 *   runner     -> the same consume/assess/produce loop as `floorgate run`
 *   verifier   <- assessments + deadletters topics, checking that every
 *                 input offset got exactly one output.
 * The mock keeps only about 5 MiB or 100k messages per partition, so the
 * generator stays at most a bounded backlog ahead of the runner and the
 * verifier reads the outputs while they are made.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "../core/fg_common.h"
#include "../ingest/fg_frame.h"
#include "../ingest/fg_gen.h"
#include "../ingest/fg_schemas.h"
#include "../pricing/fg_refstore.h"
#include "fg_cmd.h"
#include "fg_config.h"
#include "fg_runner.h"

#define DEMO_PARTITIONS 8
#define DEMO_BACKLOG 20000 /* most inputs the generator may be ahead of the runner */

struct demo {
	const char *bootstraps;
	const struct fg_refdata *rd;
	uint64_t count, seed;
	_Atomic unsigned long long produced;
	_Atomic int gen_failed, verify_done;
	/* verifier results */
	uint64_t outputs, assessments, dead, duplicates, foreign;
	unsigned char *seen; /* [partition * count + offset] */
	char verify_err[256];
};

/* The runner waits for every declaration the demo announced: without a
 * generator it would wait for good, so a failed generator stops it. */
static void gen_fail(struct demo *d)
{
	d->gen_failed = 1;
	fg_runner_stop = 1;
}

static void *generator(void *arg)
{
	struct demo *d = arg;
	struct fg_gen_opts go = { .seed = d->seed, .invalid_per_mille = 20,
				  .bad_frame_per_mille = 10, .schema_id = 1 };
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	struct fg_gen *g = NULL;
	struct fg_avrobin w = { 0 };
	char err[512], key[64];

	go.date_from = 20240;  /* 2025-05-30 */
	go.date_to = 20757;    /* 2026-10-31 */
	rd_kafka_conf_set(conf, "bootstrap.servers", d->bootstraps, err, sizeof(err));
	rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err));
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	g = fg_gen_create(d->rd, &go);
	if (!rk || !g || fg_avrobin_init(&w, 1024)) {
		gen_fail(d);
		goto done;
	}
	for (uint64_t i = 0; i < d->count && !fg_runner_stop; i++) {
		/* Pace: stay within the mock's retention ahead of the runner. */
		while (i - fg_runner_done > DEMO_BACKLOG && !fg_runner_stop)
			usleep(1000);
		if (fg_gen_next(g, 1, &w, key, sizeof(key))) {
			gen_fail(d);
			break;
		}
		rd_kafka_resp_err_t e;
		/* a full queue empties as the cluster acknowledges, or a stop ends the wait */
		while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("declarations"),
					      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					      RD_KAFKA_V_KEY(key, strlen(key)),
					      RD_KAFKA_V_VALUE(w.buf, w.len), RD_KAFKA_V_END)) ==
			       RD_KAFKA_RESP_ERR__QUEUE_FULL &&
		       !fg_runner_stop)
			rd_kafka_poll(rk, 10);
		if (e) {
			if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
				gen_fail(d);
			break;
		}
		rd_kafka_poll(rk, 0);
		d->produced = i + 1;
	}
	rd_kafka_flush(rk, 30000);
done:
	fg_avrobin_fini(&w);
	fg_gen_destroy(g);
	if (rk)
		rd_kafka_destroy(rk);
	return NULL;
}

/* Reads source_partition/source_offset back from an output record. */
static int source_of(avro_value_t *v, int32_t *p, int64_t *o)
{
	avro_value_t f, b;

	if (avro_value_get_by_name(v, "source_partition", &f, NULL) ||
	    avro_value_get_current_branch(&f, &b) || avro_value_get_int(&b, p))
		return -1;
	if (avro_value_get_by_name(v, "source_offset", &f, NULL) ||
	    avro_value_get_current_branch(&f, &b) || avro_value_get_long(&b, o))
		return -1;
	return 0;
}

static void *verifier(void *arg)
{
	struct demo *d = arg;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	rd_kafka_topic_partition_list_t *parts;
	avro_schema_t sa = NULL, sd = NULL;
	avro_value_iface_t *ia = NULL, *id = NULL;
	avro_value_t va, vd;
	avro_reader_t r = avro_reader_memory("", 0);
	char err[512];
	time_t idle_since = 0;

	rd_kafka_conf_set(conf, "bootstrap.servers", d->bootstraps, err, sizeof(err));
	rd_kafka_conf_set(conf, "group.id", "floorgate-demo-verifier", err, sizeof(err));
	rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	sa = fg_schemas_parse(fg_schema_text_assessment, err, sizeof(err));
	sd = fg_schemas_parse(fg_schema_text_deadletter, err, sizeof(err));
	if (!rk || !sa || !sd) {
		snprintf(d->verify_err, sizeof(d->verify_err), "cannot start the verifier");
		goto done;
	}
	ia = avro_generic_class_from_schema(sa);
	id = avro_generic_class_from_schema(sd);
	avro_generic_value_new(ia, &va);
	avro_generic_value_new(id, &vd);
	parts = rd_kafka_topic_partition_list_new(2 * DEMO_PARTITIONS);
	for (int p = 0; p < DEMO_PARTITIONS; p++) {
		rd_kafka_topic_partition_list_add(parts, "assessments", p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
		rd_kafka_topic_partition_list_add(parts, "deadletters", p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	}
	rd_kafka_assign(rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	while (d->outputs < d->count) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
		if (!m) {
			/* After the runner is done, give the tail 10 s to arrive. */
			if (fg_runner_done >= d->count || fg_runner_stop) {
				if (!idle_since)
					idle_since = time(NULL);
				else if (time(NULL) - idle_since > 10)
					break;
			}
			continue;
		}
		idle_since = 0;
		if (!m->err) {
			int dead = !strcmp(rd_kafka_topic_name(m->rkt), "deadletters");
			int32_t sid, p = -1;
			int64_t o = -1;
			const uint8_t *body;
			size_t blen;
			const char *why;
			avro_value_t *v = dead ? &vd : &va;
			if (fg_frame_parse(m->payload, m->len, &sid, &body, &blen, &why) ||
			    sid != (dead ? 3 : 2)) {
				d->foreign++;
			} else {
				avro_reader_memory_set_source(r, (const char *)body, (int64_t)blen);
				if (avro_value_read(r, v) || source_of(v, &p, &o) || p < 0 ||
				    p >= DEMO_PARTITIONS || o < 0 || (uint64_t)o >= d->count) {
					d->foreign++;
				} else {
					unsigned char *s = &d->seen[(uint64_t)p * d->count + (uint64_t)o];
					if (*s)
						d->duplicates++;
					*s = 1;
					d->outputs++;
					if (dead)
						d->dead++;
					else
						d->assessments++;
				}
			}
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
done:
	if (ia) {
		avro_value_decref(&va);
		avro_value_iface_decref(ia);
	}
	if (id) {
		avro_value_decref(&vd);
		avro_value_iface_decref(id);
	}
	if (sa)
		avro_schema_decref(sa);
	if (sd)
		avro_schema_decref(sd);
	if (r)
		avro_reader_free(r);
	if (rk)
		rd_kafka_destroy(rk);
	d->verify_done = 1;
	return NULL;
}

static void demo_usage(FILE *f)
{
	fprintf(f,
		"usage: floorgate demo [--count N] [--seed S] [--data DIR] [--schemas DIR]\n\n"
		"Starts an embedded Kafka cluster (librdkafka's mock, 3 brokers, %d partitions),\n"
		"streams N synthetic declarations into it (default 100000; about 2%% invalid and\n"
		"1%% broken frames), runs the same loop as `floorgate run` on them, reads the\n"
		"assessments and dead letters back, checks that every input got exactly one\n"
		"output, and prints a summary. Exit 0 when that check holds.\n",
		DEMO_PARTITIONS);
}

int fg_cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' }, { "seed", required_argument, NULL, 's' },
		{ "data", required_argument, NULL, 'd' },  { "schemas", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 }
	};
	struct demo d = { .count = 100000, .seed = 1 };
	const char *data = "data", *schemas = "schemas/registry";
	struct fg_config cfg;
	struct fg_schema_registry reg = { 0 };
	struct fg_refdata *rd = NULL;
	struct fg_pipeline_stats st = { 0 };
	rd_kafka_t *mrk = NULL;
	rd_kafka_mock_cluster_t *mc = NULL;
	pthread_t tg, tv;
	int started = 0, rc = FG_EXIT_USAGE, c;
	unsigned long long u;
	char err[1024], fp[33];
	struct timespec t0, t1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (fg_parse_uint(optarg, 100000000, &u) || !u) {
				fprintf(stderr, "floorgate demo: --count \"%s\" is not a whole number "
						"from 1 to 100000000\n", optarg);
				return FG_EXIT_USAGE;
			}
			d.count = u;
			break;
		case 's':
			if (fg_parse_uint(optarg, UINT64_MAX, &u)) {
				fprintf(stderr, "floorgate demo: --seed \"%s\" is not a whole number\n",
					optarg);
				return FG_EXIT_USAGE;
			}
			d.seed = u;
			break;
		case 'd': data = optarg; break;
		case 'S': schemas = optarg; break;
		case 'h': demo_usage(stdout); return FG_EXIT_OK;
		default: demo_usage(stderr); return FG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "floorgate demo: unexpected argument \"%s\" (floorgate demo --help "
				"for usage)\n", argv[optind]);
		return FG_EXIT_USAGE;
	}
	fg_config_init(&cfg);
	rd = fg_refdata_load(data, err, sizeof(err));
	if (!rd) {
		fprintf(stderr, "floorgate demo: reference data refused: %s\n", err);
		goto done;
	}
	if (fg_schema_registry_load_dir(&reg, schemas, err, sizeof(err))) {
		fprintf(stderr, "floorgate demo: %s\n", err);
		goto done;
	}
	d.rd = rd;
	d.seen = calloc(DEMO_PARTITIONS * d.count, 1);
	{
		rd_kafka_conf_t *mconf = rd_kafka_conf_new();
		/* This handle only hosts the mock cluster; it connects nowhere. */
		rd_kafka_conf_set(mconf, "log_level", "3", err, sizeof(err));
		mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, err, sizeof(err));
	}
	if (!d.seen || !mrk || !(mc = rd_kafka_mock_cluster_new(mrk, 3))) {
		fprintf(stderr, "floorgate demo: cannot start the embedded Kafka cluster\n");
		rc = FG_EXIT_FAIL;
		goto done;
	}
	d.bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
	rd_kafka_mock_topic_create(mc, "declarations", DEMO_PARTITIONS, 3);
	rd_kafka_mock_topic_create(mc, "assessments", DEMO_PARTITIONS, 3);
	rd_kafka_mock_topic_create(mc, "deadletters", DEMO_PARTITIONS, 3);

	fg_config_set(&cfg, "kafka.bootstrap.servers", d.bootstraps, err, sizeof(err));
	fg_config_set(&cfg, "kafka.group.id", "floorgate-demo", err, sizeof(err));
	fg_config_set(&cfg, "data.dir", data, err, sizeof(err));
	fg_config_set(&cfg, "schema.dir", schemas, err, sizeof(err));
	fg_config_set(&cfg, "run.progress_interval_ms", "1000", err, sizeof(err));
	snprintf(err, sizeof(err), "%llu", (unsigned long long)d.count);
	fg_config_set(&cfg, "run.max_messages", err, err, sizeof(err));

	fprintf(stderr,
		"floorgate demo: embedded Kafka at %s; %llu declarations, reference data %s (%s)\n",
		d.bootstraps, (unsigned long long)d.count, rd->fingerprint, data);
	fg_runner_install_signals();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pthread_create(&tg, NULL, generator, &d) || pthread_create(&tv, NULL, verifier, &d)) {
		fprintf(stderr, "floorgate demo: cannot start threads\n");
		rc = FG_EXIT_FAIL;
		goto done;
	}
	started = 1;
	snprintf(fp, sizeof(fp), "%s", rd->fingerprint);
	fg_refstore_init(rd);
	if (fg_runner_run(&cfg, &reg, &st, err, sizeof(err))) {
		fprintf(stderr, "floorgate demo: %s\n", err);
		fg_runner_stop = 1;
		rc = FG_EXIT_FAIL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(tg, NULL);
	pthread_join(tv, NULL);
	started = 0;
	fg_refstore_fini(); /* frees rd, which the generator used until now */
	rd = NULL;
	if (rc == FG_EXIT_FAIL)
		goto done;

	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("\nfloorgate demo summary (reference data %s)\n", fp);
	fg_pipeline_stats_print(&st, stdout);
	printf("throughput           %12.0f declarations/s through Kafka (%.2f s, with the "
	       "consumer group's start-up;\n"
	       "                     capacity: `floorgate bench`)\n",
	       secs > 0 ? (double)st.in / secs : 0.0, secs);
	printf("verified outputs     %12llu  (%llu assessments, %llu dead letters)\n",
	       (unsigned long long)d.outputs, (unsigned long long)d.assessments,
	       (unsigned long long)d.dead);
	int ok = !d.gen_failed && d.outputs == d.count && d.duplicates == 0 && d.foreign == 0 &&
		 st.in == d.count && d.assessments == st.assessed && d.dead == st.dead;
	if (fg_runner_stop && st.in < d.count) {
		/* Stopped by the operator or by a failed generator (said first, and
		 * the exit is 1 either way): what was read must still be answered,
		 * once. */
		ok = d.outputs == st.in && d.duplicates == 0 && d.foreign == 0 &&
		     d.assessments == st.assessed && d.dead == st.dead;
		printf("check                %s after %llu of %llu declarations were "
		       "produced; the %llu read have exactly one output each: %s%s\n",
		       d.gen_failed ? "the generator failed" : "stopped by signal",
		       (unsigned long long)d.produced, (unsigned long long)d.count,
		       (unsigned long long)st.in, ok ? "OK" : "FAILED", ok ? "" : d.verify_err);
		rc = FG_EXIT_FAIL;
	} else if (ok) {
		printf("check                every one of %llu inputs has exactly one output: OK\n",
		       (unsigned long long)d.count);
		rc = FG_EXIT_OK;
	} else {
		printf("check                FAILED: %llu inputs, %llu outputs, %llu duplicates, "
		       "%llu unreadable%s%s\n",
		       (unsigned long long)d.count, (unsigned long long)d.outputs,
		       (unsigned long long)d.duplicates, (unsigned long long)d.foreign,
		       d.gen_failed ? ", generator failed" : "", d.verify_err);
		rc = FG_EXIT_FAIL;
	}
done:
	if (started) {
		pthread_join(tg, NULL);
		pthread_join(tv, NULL);
	}
	if (mc)
		rd_kafka_mock_cluster_destroy(mc);
	if (mrk)
		rd_kafka_destroy(mrk);
	free(d.seen);
	fg_schema_registry_fini(&reg);
	fg_refdata_destroy(rd);
	fg_config_fini(&cfg);
	return rc;
}
