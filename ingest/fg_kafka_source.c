#include "fg_kafka_source.h"

#include <stdlib.h>
#include <string.h>

#include "../core/fg_common.h"

struct fg_kafka_source {
	rd_kafka_t *rk;
	rd_kafka_queue_t *q;
	/* assignment and end-of-partition tracking (runner thread only) */
	rd_kafka_topic_partition_list_t *assigned;
	unsigned char *eof;
	int ever_assigned;
	void (*before_revoke)(void *ctx);
	void *ctx;
	int64_t *next; /* next offset to take, by partition (-1: none taken yet) */
	int32_t n_next;
};

static int find(const struct fg_kafka_source *src, const char *topic, int32_t partition)
{
	if (!src->assigned)
		return -1;
	for (int i = 0; i < src->assigned->cnt; i++)
		if (src->assigned->elems[i].partition == partition &&
		    !strcmp(src->assigned->elems[i].topic, topic))
			return i;
	return -1;
}

static void set_assignment(struct fg_kafka_source *src,
			   const rd_kafka_topic_partition_list_t *parts)
{
	if (src->assigned)
		rd_kafka_topic_partition_list_destroy(src->assigned);
	free(src->eof);
	src->assigned = parts ? rd_kafka_topic_partition_list_copy(parts) : NULL;
	src->eof = parts ? calloc((size_t)parts->cnt + 1, 1) : NULL;
	if (parts && parts->cnt > 0)
		src->ever_assigned = 1;
}

/* @locality: the runner thread (served inside consume calls). */
static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct fg_kafka_source *src = opaque;

	fprintf(stderr, "floorgate: %s %d partition(s)\n",
		err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? "assigned" : "revoking", parts->cnt);
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		rd_kafka_assign(rk, parts);
		set_assignment(src, parts);
	} else {
		/* Finish what is in flight (its offsets get stored), then commit
		 * before the partitions go, so their next owner starts after it. */
		if (src->before_revoke)
			src->before_revoke(src->ctx);
		rd_kafka_resp_err_t cerr = rd_kafka_commit(rk, NULL, 0);
		if (cerr && cerr != RD_KAFKA_RESP_ERR__NO_OFFSET)
			fprintf(stderr, "floorgate: commit before revocation failed: %s\n",
				rd_kafka_err2str(cerr));
		rd_kafka_assign(rk, NULL);
		set_assignment(src, NULL);
	}
}

struct fg_kafka_source *fg_kafka_source_create(const struct fg_config *cfg,
					       const char *const *must_exist,
					       void (*before_revoke)(void *ctx), void *ctx,
					       char *errstr, size_t errstr_size)
{
	struct fg_kafka_source *src = calloc(1, sizeof(*src));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *sub = NULL;
	const struct rd_kafka_metadata *md = NULL;
	char why[512];
	rd_kafka_resp_err_t err;

	if (!src || !conf) {
		fg_errf(errstr, errstr_size, "out of memory");
		goto err;
	}
	src->before_revoke = before_revoke;
	src->ctx = ctx;
	/* Defaults first, then the user's kafka.* keys, then what correctness needs. */
	if (fg_config_rdkafka_set(conf, "group.id", "floorgate", errstr, errstr_size) ||
	    fg_config_rdkafka_set(conf, "auto.offset.reset", "earliest", errstr, errstr_size) ||
	    fg_config_rdkafka_set(conf, "enable.auto.commit", "true", errstr, errstr_size) ||
	    fg_config_rdkafka_set(conf, "client.id", "floorgate-consumer", errstr, errstr_size))
		goto err;
	if (fg_config_rdkafka_apply(cfg, conf, FG_CONFIG_PRODUCER, errstr, errstr_size))
		goto err;
	if (fg_config_rdkafka_set(conf, "enable.auto.offset.store", "false", errstr, errstr_size) ||
	    fg_config_rdkafka_set(conf, "enable.partition.eof", cfg->exit_on_eof ? "true" : "false", errstr,
		     errstr_size))
		goto err;
	rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
	rd_kafka_conf_set_opaque(conf, src);
	src->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
	if (!src->rk) {
		fg_errf(errstr, errstr_size, "cannot create the Kafka consumer: %s", why);
		goto err;
	}
	conf = NULL; /* owned by rk now */

	err = rd_kafka_metadata(src->rk, 1, NULL, &md, (int)cfg->connect_timeout_ms);
	if (err) {
		const char *bs = fg_config_kafka_get(cfg, "bootstrap.servers");
		fg_errf(errstr, errstr_size,
			"cannot reach Kafka at %s within %lld ms: %s", bs ? bs : "(kafka.bootstrap.servers unset)",
			(long long)cfg->connect_timeout_ms, rd_kafka_err2str(err));
		goto err;
	}
	for (const char *const *t = must_exist; t && *t; t++) {
		int found = 0;
		for (int i = 0; i < md->topic_cnt; i++)
			if (!strcmp(md->topics[i].topic, *t) && !md->topics[i].err)
				found = 1;
		if (!found) {
			fg_errf(errstr, errstr_size, "topic \"%s\" does not exist on the cluster", *t);
			goto err;
		}
	}
	rd_kafka_metadata_destroy(md);
	md = NULL;

	rd_kafka_poll_set_consumer(src->rk);
	src->q = rd_kafka_queue_get_consumer(src->rk);
	sub = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(sub, cfg->input_topic, RD_KAFKA_PARTITION_UA);
	err = rd_kafka_subscribe(src->rk, sub);
	rd_kafka_topic_partition_list_destroy(sub);
	if (err) {
		fg_errf(errstr, errstr_size, "cannot subscribe to %s: %s", cfg->input_topic,
			rd_kafka_err2str(err));
		goto err;
	}
	return src;
err:
	if (md)
		rd_kafka_metadata_destroy(md);
	if (conf)
		rd_kafka_conf_destroy(conf);
	if (src && src->rk) {
		if (src->q)
			rd_kafka_queue_destroy(src->q);
		rd_kafka_destroy(src->rk);
	}
	free(src);
	return NULL;
}

void fg_kafka_source_destroy(struct fg_kafka_source *src)
{
	if (!src)
		return;
	rd_kafka_commit(src->rk, NULL, 0);
	if (src->q)
		rd_kafka_queue_destroy(src->q);
	rd_kafka_consumer_close(src->rk);
	rd_kafka_destroy(src->rk);
	set_assignment(src, NULL);
	free(src->next);
	free(src);
}

ssize_t fg_kafka_source_consume(struct fg_kafka_source *src, rd_kafka_message_t **msgs, size_t n,
				int timeout_ms)
{
	return rd_kafka_consume_batch_queue(src->q, timeout_ms, msgs, n);
}

int fg_kafka_source_accept(struct fg_kafka_source *src, const rd_kafka_message_t *m)
{
	if (m->partition >= src->n_next) {
		int32_t n = m->partition + 16;
		int64_t *v = realloc(src->next, (size_t)n * sizeof(*v));
		if (!v)
			return 1; /* cannot track: take it (at least once) */
		for (int32_t i = src->n_next; i < n; i++)
			v[i] = -1;
		src->next = v;
		src->n_next = n;
	}
	if (m->offset < src->next[m->partition])
		return 0;
	src->next[m->partition] = m->offset + 1;
	return 1;
}

void fg_kafka_source_track(struct fg_kafka_source *src, const rd_kafka_message_t *m)
{
	int i;

	if (!m->rkt)
		return;
	i = find(src, rd_kafka_topic_name(m->rkt), m->partition);
	if (i < 0)
		return;
	src->eof[i] = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
}

int fg_kafka_source_at_end(const struct fg_kafka_source *src)
{
	if (!src->ever_assigned || !src->assigned || src->assigned->cnt == 0)
		return 0;
	for (int i = 0; i < src->assigned->cnt; i++)
		if (!src->eof[i])
			return 0;
	return 1;
}

int fg_kafka_source_store(struct fg_kafka_source *src, rd_kafka_message_t **msgs, size_t n)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
	rd_kafka_resp_err_t err;

	for (size_t k = 0; k < n; k++) {
		const rd_kafka_message_t *m = msgs[k];
		rd_kafka_topic_partition_t *p;
		if (m->err || !m->rkt)
			continue;
		p = rd_kafka_topic_partition_list_find(l, rd_kafka_topic_name(m->rkt), m->partition);
		if (!p)
			p = rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt),
							      m->partition);
		if (m->offset + 1 > p->offset)
			p->offset = m->offset + 1;
	}
	err = l->cnt ? rd_kafka_offsets_store(src->rk, l) : RD_KAFKA_RESP_ERR_NO_ERROR;
	rd_kafka_topic_partition_list_destroy(l);
	/* A partition revoked meanwhile refuses the store: its messages will be re-read
	 * by the new owner, which is the at-least-once promise, not an error. */
	return err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__STATE ? 0 : -1;
}

void fg_kafka_source_pause(struct fg_kafka_source *src, int pause)
{
	if (!src->assigned || src->assigned->cnt == 0)
		return;
	if (pause)
		rd_kafka_pause_partitions(src->rk, src->assigned);
	else
		rd_kafka_resume_partitions(src->rk, src->assigned);
}
