/*
 * fg_kafka_sink.h: the Kafka producer side of `floorgate run`.
 *
 * DESIGN
 * One idempotent producer (acks=all, no duplicates or reordering on
 * retries) writes assessments and dead letters to their topics, keyed by
 * the input message's key (or the declaration id), so every version of a
 * declaration lands in one output partition, in input order. Delivery
 * reports only count: the runner flushes after each batch and treats any
 * failed delivery as fatal for that batch (its offsets are not stored, so
 * it is consumed again after a restart: nothing is lost).
 */
#ifndef FG_KAFKA_SINK_H
#define FG_KAFKA_SINK_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "../src/fg_config.h"

struct fg_kafka_sink;

struct fg_kafka_sink *fg_kafka_sink_create(const struct fg_config *cfg, char *errstr,
					   size_t errstr_size);
/* Waits (bounded by run.flush_timeout_ms) for what is queued, then frees. NULL-safe. */
void fg_kafka_sink_destroy(struct fg_kafka_sink *sink);

/* Queues one record (copied). dead_letter selects the topic. Returns 0 or -1. */
int fg_kafka_sink_produce(struct fg_kafka_sink *sink, int dead_letter, const void *key,
			  size_t key_len, const void *payload, size_t len);
/*
 * Waits until everything queued is acknowledged. Returns 0, or -1 with a
 * message when a delivery failed or the timeout passed.
 */
int fg_kafka_sink_flush(struct fg_kafka_sink *sink, char *errstr, size_t errstr_size);
uint64_t fg_kafka_sink_delivered(const struct fg_kafka_sink *sink);

#endif
