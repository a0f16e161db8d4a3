#include "fg_kafka_sink.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/fg_common.h"

_Atomic unsigned long long fg_kafka_sink_queue_full;

struct fg_kafka_sink {
	rd_kafka_t *rk;
	rd_kafka_topic_t *out, *dlq;
	int flush_timeout_ms;
	int eos;
	const _Atomic int *stop;
	/* CLOCK_MONOTONIC ms after which, a stop being asked, a full queue is
	 * no longer waited on; 0 until the first wait after the stop */
	long long give_up_ms;
	fg_kafka_sink_delivery_cb *cb;
	void *ctx;
};

/* @locality: the thread that calls rd_kafka_poll()/rd_kafka_flush(). */
static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct fg_kafka_sink *sink = opaque;

	(void)rk;
	sink->cb(m->_private, m->err, sink->ctx);
}

int fg_kafka_sink_settings(rd_kafka_conf_t *conf, const struct fg_config *cfg, char *errstr,
			   size_t errstr_size)
{
	/* Defaults first, then the user's kafka.* keys. */
	if (fg_config_rdkafka_set(conf, "enable.idempotence", "true", errstr, errstr_size) ||
	    fg_config_rdkafka_set(conf, "linger.ms", "5", errstr, errstr_size) ||
	    fg_config_rdkafka_set(conf, "client.id", "floorgate-producer", errstr, errstr_size))
		return -1;
	return fg_config_rdkafka_apply(cfg, conf, FG_CONFIG_CONSUMER, errstr, errstr_size);
}

struct fg_kafka_sink *fg_kafka_sink_create(const struct fg_config *cfg,
					   fg_kafka_sink_delivery_cb *cb, void *ctx,
					   const _Atomic int *stop, char *errstr,
					   size_t errstr_size)
{
	struct fg_kafka_sink *sink = calloc(1, sizeof(*sink));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char why[512];

	if (!sink || !conf) {
		fg_errf(errstr, errstr_size, "out of memory");
		goto err;
	}
	sink->cb = cb;
	sink->ctx = ctx;
	sink->stop = stop;
	sink->eos = cfg->guarantee == FG_CONFIG_EXACTLY_ONCE;
	sink->flush_timeout_ms = (int)cfg->flush_timeout_ms;
	if (fg_kafka_sink_settings(conf, cfg, errstr, errstr_size))
		goto err;
	if (!sink->eos && fg_config_kafka_get(cfg, "transactional.id")) {
		fg_errf(errstr, errstr_size,
			"kafka.transactional.id: set processing.guarantee=exactly_once (and "
			"run.transactional_id) for a transactional producer");
		goto err;
	}
	if (sink->eos) {
		char tid[512];
		fg_config_transactional_id(cfg, tid, sizeof(tid));
		if (fg_config_rdkafka_set(conf, "transactional.id", tid, errstr, errstr_size))
			goto err;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rd_kafka_conf_set_opaque(conf, sink);
	sink->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (!sink->rk) {
		fg_errf(errstr, errstr_size, "cannot create the Kafka producer: %s", why);
		goto err;
	}
	conf = NULL;
	sink->out = rd_kafka_topic_new(sink->rk, cfg->output_topic, NULL);
	sink->dlq = rd_kafka_topic_new(sink->rk, cfg->deadletter_topic, NULL);
	if (!sink->out || !sink->dlq) {
		fg_errf(errstr, errstr_size, "cannot create the output topic handles: %s",
			rd_kafka_err2str(rd_kafka_last_error()));
		goto err;
	}
	if (sink->eos) {
		/* Registers the id with its coordinator and fences any older producer
		 * that used it (a zombie of this instance). */
		struct timespec t0, t;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			/* in slices (a timed-out call resumes on the next), so a stop
			 * signal is seen within a second */
			rd_kafka_error_t *error = rd_kafka_init_transactions(
				sink->rk, cfg->connect_timeout_ms < 1000 ? (int)cfg->connect_timeout_ms
									  : 1000);
			if (!error)
				break;
			if (stop && *stop) {
				fg_errf(errstr, errstr_size,
					"stopped while initialising transactions");
				rd_kafka_error_destroy(error);
				goto err;
			}
			clock_gettime(CLOCK_MONOTONIC, &t);
			int retry = rd_kafka_error_is_retriable(error) &&
				    (t.tv_sec - t0.tv_sec) * 1000 < cfg->connect_timeout_ms;
			if (!retry) {
				fg_errf(errstr, errstr_size,
					"cannot initialise transactions within %lld ms: %s",
					(long long)cfg->connect_timeout_ms,
					rd_kafka_error_string(error));
				rd_kafka_error_destroy(error);
				goto err;
			}
			rd_kafka_error_destroy(error);
		}
	}
	return sink;
err:
	if (conf)
		rd_kafka_conf_destroy(conf);
	fg_kafka_sink_destroy(sink);
	return NULL;
}

void fg_kafka_sink_destroy(struct fg_kafka_sink *sink)
{
	if (!sink)
		return;
	if (sink->rk && !sink->eos)
		rd_kafka_flush(sink->rk, sink->flush_timeout_ms);
	/* exactly_once: an open transaction is left to be aborted by the
	 * coordinator (the next producer with this id, or its timeout). */
	if (sink->out)
		rd_kafka_topic_destroy(sink->out);
	if (sink->dlq)
		rd_kafka_topic_destroy(sink->dlq);
	if (sink->rk)
		rd_kafka_destroy(sink->rk);
	free(sink);
}

rd_kafka_resp_err_t fg_kafka_sink_produce(struct fg_kafka_sink *sink, int dead_letter,
					  const void *key, size_t key_len, const void *payload,
					  size_t len, void *msg_opaque)
{
	rd_kafka_topic_t *t = dead_letter ? sink->dlq : sink->out;
	struct timespec now;

	for (;;) {
		if (rd_kafka_produce(t, RD_KAFKA_PARTITION_UA, 0, (void *)payload, len, key, key_len,
				     msg_opaque) == 0)
			return RD_KAFKA_RESP_ERR_NO_ERROR;
		rd_kafka_resp_err_t err = rd_kafka_last_error();
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			return err;
		atomic_fetch_add_explicit(&fg_kafka_sink_queue_full, 1, memory_order_relaxed);
		/* Once a stop is asked, room is waited for run.flush_timeout_ms at
		 * most, over all calls: without a cluster it only comes as messages
		 * time out (message.timeout.ms, minutes). The caller reports the
		 * output as not delivered, and its input stays uncommitted. */
		if (sink->stop && *sink->stop) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			long long ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
			if (!sink->give_up_ms)
				sink->give_up_ms = ms + sink->flush_timeout_ms;
			else if (ms > sink->give_up_ms)
				return err;
		}
		/* The local queue is full: serve delivery reports, which frees room. */
		rd_kafka_poll(sink->rk, 10);
	}
}

void fg_kafka_sink_wake_fd(struct fg_kafka_sink *sink, int fd)
{
	static const uint64_t one = 1; /* an eventfd takes 8-byte writes */
	rd_kafka_queue_t *q = rd_kafka_queue_get_main(sink->rk);

	rd_kafka_queue_io_event_enable(q, fd, &one, sizeof(one));
	rd_kafka_queue_destroy(q);
}

void fg_kafka_sink_poll(struct fg_kafka_sink *sink, int timeout_ms)
{
	rd_kafka_poll(sink->rk, timeout_ms);
}

size_t fg_kafka_sink_max_message_bytes(struct fg_kafka_sink *sink)
{
	char v[32];
	size_t n = sizeof(v);
	unsigned long long max;

	if (rd_kafka_conf_get(rd_kafka_conf(sink->rk), "message.max.bytes", v, &n) !=
		    RD_KAFKA_CONF_OK ||
	    sscanf(v, "%llu", &max) != 1)
		return 1000000; /* librdkafka's default */
	return (size_t)max;
}

rd_kafka_resp_err_t fg_kafka_sink_flush(struct fg_kafka_sink *sink)
{
	return rd_kafka_flush(sink->rk, sink->flush_timeout_ms);
}

void fg_kafka_sink_purge(struct fg_kafka_sink *sink)
{
	if (sink && sink->rk)
		rd_kafka_purge(sink->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
}

int fg_kafka_sink_fatal(struct fg_kafka_sink *sink, char *errstr, size_t errstr_size)
{
	char why[512];

	if (!rd_kafka_fatal_error(sink->rk, why, sizeof(why)))
		return 0;
	fg_errf(errstr, errstr_size, "%s", why);
	return 1;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Sorts a transaction API error; destroys it. what names the step. */
static enum fg_txn_result txn_result(rd_kafka_error_t *error, const char *what, char *errstr,
				     size_t errstr_size)
{
	enum fg_txn_result r = rd_kafka_error_is_fatal(error)		? FG_TXN_FATAL :
			       rd_kafka_error_txn_requires_abort(error) ? FG_TXN_ABORT :
									  FG_TXN_FATAL;

	fg_errf(errstr, errstr_size, "%s: %s%s", what, rd_kafka_error_string(error),
		rd_kafka_error_is_fatal(error) ? " (fatal: the producer cannot go on)" : "");
	rd_kafka_error_destroy(error);
	return r;
}

enum fg_txn_result fg_kafka_sink_txn_begin(struct fg_kafka_sink *sink, char *errstr,
					   size_t errstr_size)
{
	rd_kafka_error_t *error = rd_kafka_begin_transaction(sink->rk);

	return error ? txn_result(error, "begin transaction", errstr, errstr_size) : FG_TXN_OK;
}

enum fg_txn_result fg_kafka_sink_txn_commit(struct fg_kafka_sink *sink,
					    const rd_kafka_topic_partition_list_t *offsets,
					    const rd_kafka_consumer_group_metadata_t *cgmd,
					    char *errstr, size_t errstr_size)
{
	double until = now_ms() + sink->flush_timeout_ms;
	int sent = !offsets || offsets->cnt == 0;

	for (;;) {
		int left = (int)(until - now_ms());
		rd_kafka_error_t *error;
		if (left < 1)
			left = 1;
		error = sent ? rd_kafka_commit_transaction(sink->rk, left) :
			       rd_kafka_send_offsets_to_transaction(sink->rk, offsets, cgmd, left);
		if (!error) {
			if (sent)
				return FG_TXN_OK;
			sent = 1;
			continue;
		}
		/* Retriable (a coordinator moving, a timeout): the same call again,
		 * as long as the flush timeout allows; then give the work back. */
		if (rd_kafka_error_is_retriable(error) && now_ms() < until) {
			rd_kafka_error_destroy(error);
			continue;
		}
		if (rd_kafka_error_is_retriable(error)) {
			fg_errf(errstr, errstr_size, "commit transaction: %s (still failing after "
				"run.flush_timeout_ms)", rd_kafka_error_string(error));
			rd_kafka_error_destroy(error);
			return FG_TXN_ABORT;
		}
		return txn_result(error, sent ? "commit transaction" : "send offsets to transaction",
				  errstr, errstr_size);
	}
}

enum fg_txn_result fg_kafka_sink_txn_abort(struct fg_kafka_sink *sink, char *errstr,
					   size_t errstr_size)
{
	double until = now_ms() + sink->flush_timeout_ms;

	for (;;) {
		/*
		 * The abort purges what is queued but waits until every purged
		 * message's delivery report has been served, and nobody else
		 * serves them on this thread: short calls, serving reports in
		 * between (librdkafka 2.0.2 says "the event queue must be polled").
		 */
		rd_kafka_poll(sink->rk, 0);
		rd_kafka_error_t *error = rd_kafka_abort_transaction(sink->rk, 100);
		if (!error)
			return FG_TXN_OK;
		if (rd_kafka_error_is_retriable(error) && now_ms() < until) {
			rd_kafka_error_destroy(error);
			rd_kafka_poll(sink->rk, 10);
			continue;
		}
		/* A transaction that can be neither committed nor aborted: stop. */
		txn_result(error, "abort transaction", errstr, errstr_size);
		return FG_TXN_FATAL;
	}
}
