/*
 * fg_kafka_sink.h: the Kafka producer side of `floorgate run`.
 *
 * DESIGN
 * One idempotent producer (acks=all, no duplicates or reordering on
 * retries) writes assessments and dead letters to their topics, keyed by
 * the input message's key (or the declaration id), so every version of a
 * declaration lands in one output partition, in input order. Payloads are
 * not copied: the caller keeps them alive until their delivery report,
 * which is handed to the caller's callback with the message's opaque.
 */
#ifndef FG_KAFKA_SINK_H
#define FG_KAFKA_SINK_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "../src/fg_config.h"

struct fg_kafka_sink;

/* @locality: called from fg_kafka_sink_poll()/_flush(), on the caller's thread. */
typedef void(fg_kafka_sink_delivery_cb)(void *msg_opaque, rd_kafka_resp_err_t err, void *ctx);

struct fg_kafka_sink *fg_kafka_sink_create(const struct fg_config *cfg,
					   fg_kafka_sink_delivery_cb *cb, void *ctx, char *errstr,
					   size_t errstr_size);
/* Waits (bounded by run.flush_timeout_ms) for what is queued, then frees. NULL-safe. */
void fg_kafka_sink_destroy(struct fg_kafka_sink *sink);

/*
 * Queues one record without copying it; payload and key must stay valid
 * until its delivery report. When the local queue is full it serves
 * delivery reports (which frees room) and retries. Returns 0 or an error.
 */
rd_kafka_resp_err_t fg_kafka_sink_produce(struct fg_kafka_sink *sink, int dead_letter,
					  const void *key, size_t key_len, const void *payload,
					  size_t len, void *msg_opaque);
/* Serves delivery reports, waiting up to timeout_ms for the first. */
void fg_kafka_sink_poll(struct fg_kafka_sink *sink, int timeout_ms);
/* Waits (up to run.flush_timeout_ms) until nothing is queued or in flight. */
rd_kafka_resp_err_t fg_kafka_sink_flush(struct fg_kafka_sink *sink);

#endif
