/*
 * fg_test_kafka.h: the engine tests' harness on librdkafka's mock cluster
 * (header-only, static inline, like fg_test_util.h): three brokers with the
 * input topic "in", generated declarations produced to it, the output
 * topics of a run, every message of a topic read back, and the input
 * position an output names.
 *
 * Include after the cmocka headers.
 */
#ifndef FG_TEST_KAFKA_H
#define FG_TEST_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ingest/fg_gen.h"
#include "../../ingest/fg_schemas.h"
#include "fg_test_avro.h"

/* A mock cluster and the schema registry the engine reads with. */
struct fg_test_cluster {
	rd_kafka_t *rk; /* the handle the mock cluster lives in */
	rd_kafka_mock_cluster_t *mc;
	const char *bootstraps;
	struct fg_schema_registry reg;
};

/* A copy of a message (a librdkafka message must not outlive its client). */
struct fg_test_msg {
	int topic; /* index in the list of topics it was read from */
	int32_t partition;
	int64_t offset;
	uint8_t *payload;
	size_t len;
};

/*
 * Starts three brokers with topic "in" of `parts` partitions (log_level: the
 * mock handle's librdkafka log level) and loads the schema registry from
 * <repo>/schemas/registry. fg_test_cluster_stop releases it all.
 */
static inline void fg_test_cluster_start(struct fg_test_cluster *kc, const char *repo, int parts,
					 const char *log_level)
{
	char err[512], path[8192];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	rd_kafka_conf_set(conf, "log_level", log_level, err, sizeof(err));
	kc->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	assert_non_null(kc->rk);
	kc->mc = rd_kafka_mock_cluster_new(kc->rk, 3);
	assert_non_null(kc->mc);
	kc->bootstraps = rd_kafka_mock_cluster_bootstraps(kc->mc);
	rd_kafka_mock_topic_create(kc->mc, "in", parts, 1);
	snprintf(path, sizeof(path), "%s/schemas/registry", repo);
	assert_int_equal(fg_schema_registry_load_dir(&kc->reg, path, err, sizeof(err)), 0);
}

static inline void fg_test_cluster_stop(struct fg_test_cluster *kc)
{
	fg_schema_registry_fini(&kc->reg);
	rd_kafka_mock_cluster_destroy(kc->mc);
	rd_kafka_destroy(kc->rk);
}

/* Creates the output topics of run `tag`: <tag>.a (assessments), <tag>.d (dead letters). */
static inline void fg_test_cluster_output_topics(struct fg_test_cluster *kc, const char *tag,
						 int parts)
{
	char topic[64];

	snprintf(topic, sizeof(topic), "%s.a", tag);
	rd_kafka_mock_topic_create(kc->mc, topic, parts, 1);
	snprintf(topic, sizeof(topic), "%s.d", tag);
	rd_kafka_mock_topic_create(kc->mc, topic, parts, 1);
}

/*
 * Produces `count` framed declarations from fg_gen (seed; 3 % invalid, 1 %
 * broken frames) to "in", keyed by declaration id: declaration i goes to
 * partition i % parts, or where the key hashes to when parts is 0.
 */
static inline void fg_test_cluster_produce(const struct fg_test_cluster *kc,
					   const struct fg_refdata *rd, uint64_t seed, int count,
					   int parts)
{
	char err[512], key[64];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	struct fg_gen_opts go = { .seed = seed, .invalid_per_mille = 30, .bad_frame_per_mille = 10,
				  .schema_id = 1, .date_from = 20240, .date_to = 20757 };
	struct fg_gen *g = fg_gen_create(rd, &go);
	struct fg_avrobin w;

	assert_non_null(g);
	assert_int_equal(fg_avrobin_init(&w, 1024), 0);
	rd_kafka_conf_set(conf, "bootstrap.servers", kc->bootstraps, err, sizeof(err));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	assert_non_null(rk);
	for (int i = 0; i < count; i++) {
		int32_t part = parts ? i % parts : RD_KAFKA_PARTITION_UA;

		assert_int_equal(fg_gen_next(g, 1, &w, key, sizeof(key)), 0);
		assert_int_equal(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("in"),
						   RD_KAFKA_V_PARTITION(part),
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

/*
 * Reads (copies) every message of `topics` (NULL-terminated, `parts`
 * partitions each) from the start to the end of each partition; a poll that
 * waits longer than timeout_ms fails the test (a stall). Returns how many
 * were read; *out is the caller's, freed with fg_test_msgs_free.
 */
static inline size_t fg_test_cluster_read(const struct fg_test_cluster *kc,
					  const char *const *topics, int parts, int timeout_ms,
					  struct fg_test_msg **out)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	struct fg_test_msg *v = NULL;
	size_t n = 0, cap = 0;
	int n_topics = 0, eofs = 0;

	while (topics[n_topics])
		n_topics++;
	rd_kafka_conf_set(conf, "bootstrap.servers", kc->bootstraps, err, sizeof(err));
	rd_kafka_conf_set(conf, "group.id", "test-reader", err, sizeof(err));
	rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	assert_non_null(rk);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n_topics * parts);
	for (int t = 0; t < n_topics; t++)
		for (int p = 0; p < parts; p++)
			rd_kafka_topic_partition_list_add(l, topics[t], p)->offset =
				RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	while (eofs < n_topics * parts) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, timeout_ms);
		assert_non_null(m); /* no stall */
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			eofs++;
			rd_kafka_message_destroy(m);
			continue;
		}
		assert_int_equal(m->err, 0);
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			v = realloc(v, cap * sizeof(*v));
			assert_non_null(v);
		}
		struct fg_test_msg *c = &v[n++];
		c->topic = 0;
		while (strcmp(rd_kafka_topic_name(m->rkt), topics[c->topic]))
			c->topic++;
		c->partition = m->partition;
		c->offset = m->offset;
		c->len = m->len;
		c->payload = malloc(m->len);
		assert_non_null(c->payload);
		memcpy(c->payload, m->payload, m->len);
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	*out = v;
	return n;
}

/* Frees v and each payload not taken (set to NULL) by the caller. */
static inline void fg_test_msgs_free(struct fg_test_msg *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].payload);
	free(v);
}

/*
 * The fields both output schemas end with: the input position an output
 * names and, when fp is not NULL, its reference_data_version. payload is
 * the message as produced (magic byte 0, schema id, one record).
 */
static inline void fg_test_output_source(const void *payload, size_t len, int dead,
					 int32_t *part, int64_t *off, char *fp, size_t fp_size)
{
	struct fg_test_readback rb;
	avro_value_t f, b;
	const char *str;
	size_t size;

	assert_true(len > 5);
	assert_int_equal(((const uint8_t *)payload)[0], 0);
	fg_test_read_back(&rb, dead ? fg_schema_text_deadletter : fg_schema_text_assessment,
			  (const uint8_t *)payload + 5, len - 5);
	assert_int_equal(avro_value_get_by_name(&rb.v, "source_partition", &f, NULL), 0);
	avro_value_get_current_branch(&f, &b);
	assert_int_equal(avro_value_get_int(&b, part), 0);
	assert_int_equal(avro_value_get_by_name(&rb.v, "source_offset", &f, NULL), 0);
	avro_value_get_current_branch(&f, &b);
	assert_int_equal(avro_value_get_long(&b, off), 0);
	if (fp) {
		assert_int_equal(avro_value_get_by_name(&rb.v, "reference_data_version", &f, NULL),
				 0);
		avro_value_get_string(&f, &str, &size);
		snprintf(fp, fp_size, "%s", str);
	}
	fg_test_readback_free(&rb);
}

#endif
