#include "fg_kafka_sink.h"

#include <stdlib.h>
#include <string.h>

#include "../core/fg_common.h"

struct fg_kafka_sink {
	rd_kafka_t *rk;
	rd_kafka_topic_t *out, *dlq;
	int flush_timeout_ms;
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

struct fg_kafka_sink *fg_kafka_sink_create(const struct fg_config *cfg,
					   fg_kafka_sink_delivery_cb *cb, void *ctx, char *errstr,
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
	if (fg_config_rdkafka_set(conf, "enable.idempotence", "true", errstr, errstr_size) ||
	    fg_config_rdkafka_set(conf, "linger.ms", "5", errstr, errstr_size) ||
	    fg_config_rdkafka_set(conf, "client.id", "floorgate-producer", errstr, errstr_size))
		goto err;
	if (fg_config_rdkafka_apply(cfg, conf, FG_CONFIG_CONSUMER, errstr, errstr_size))
		goto err;
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
	sink->flush_timeout_ms = (int)cfg->flush_timeout_ms;
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
	if (sink->rk)
		rd_kafka_flush(sink->rk, sink->flush_timeout_ms);
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

	for (;;) {
		if (rd_kafka_produce(t, RD_KAFKA_PARTITION_UA, 0, (void *)payload, len, key, key_len,
				     msg_opaque) == 0)
			return RD_KAFKA_RESP_ERR_NO_ERROR;
		rd_kafka_resp_err_t err = rd_kafka_last_error();
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			return err;
		/* The local queue is full: serve delivery reports, which frees room. */
		rd_kafka_poll(sink->rk, 10);
	}
}

void fg_kafka_sink_poll(struct fg_kafka_sink *sink, int timeout_ms)
{
	rd_kafka_poll(sink->rk, timeout_ms);
}

rd_kafka_resp_err_t fg_kafka_sink_flush(struct fg_kafka_sink *sink)
{
	return rd_kafka_flush(sink->rk, sink->flush_timeout_ms);
}
