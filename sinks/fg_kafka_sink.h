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
 *
 * exactly_once: the producer is transactional (transactional.id from
 * fg_config_transactional_id(); init_transactions at create, which fences
 * any older producer with the same id). The caller brackets what it
 * produces with fg_kafka_sink_txn_begin() and fg_kafka_sink_txn_commit(),
 * which also commits the consumed offsets (send_offsets_to_transaction with
 * the consumer's group metadata). Errors are sorted the way librdkafka
 * asks: retriable ones are retried here (within run.flush_timeout_ms),
 * abortable ones are returned as FG_TXN_ABORT (the caller aborts with
 * fg_kafka_sink_txn_abort() and rewinds its input), fatal ones (a fenced
 * producer) as FG_TXN_FATAL.
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

/*
 * The producer's settings, into conf: floorgate's defaults (idempotence,
 * linger.ms=5), then cfg's kafka.* keys (all but consumer-only ones).
 * fg_kafka_sink_create adds the transactional id for exactly_once;
 * `floorgate bench`'s null pipeline uses this as it is. Returns 0, or -1
 * with a message.
 */
int fg_kafka_sink_settings(rd_kafka_conf_t *conf, const struct fg_config *cfg, char *errstr,
			   size_t errstr_size);
/* exactly_once: waits up to run.connect_timeout_ms to register the
 * transactional id, less once *stop (NULL: none) is set. *stop must outlive
 * the sink: fg_kafka_sink_produce() reads it too. */
struct fg_kafka_sink *fg_kafka_sink_create(const struct fg_config *cfg,
					   fg_kafka_sink_delivery_cb *cb, void *ctx,
					   const _Atomic int *stop, char *errstr,
					   size_t errstr_size);
/* Waits (bounded by run.flush_timeout_ms) for what is queued, then frees. NULL-safe. */
void fg_kafka_sink_destroy(struct fg_kafka_sink *sink);

/* Produce attempts that found the local queue full (one per 10 ms retry),
 * over every sink of the process (for tests). */
extern _Atomic unsigned long long fg_kafka_sink_queue_full;

/*
 * Queues one record without copying it; payload and key must stay valid
 * until its delivery report. When the local queue is full it serves
 * delivery reports (which frees room) and retries; once *stop is set, until
 * run.flush_timeout_ms after the first such wait (over all calls), then
 * returns RD_KAFKA_RESP_ERR__QUEUE_FULL. Returns 0 or an error. Called from
 * one thread only.
 */
rd_kafka_resp_err_t fg_kafka_sink_produce(struct fg_kafka_sink *sink, int dead_letter,
					  const void *key, size_t key_len, const void *payload,
					  size_t len, void *msg_opaque);
/* The producer's message.max.bytes: no record it sends may be larger. */
size_t fg_kafka_sink_max_message_bytes(struct fg_kafka_sink *sink);
/*
 * Has librdkafka write 8 bytes (an eventfd's 1) to fd whenever a delivery
 * report or other event arrives for fg_kafka_sink_poll() while none was
 * waiting, so the caller can sleep in poll() on fd along with other work.
 * fd must stay open until fg_kafka_sink_destroy().
 */
void fg_kafka_sink_wake_fd(struct fg_kafka_sink *sink, int fd);
/* Serves delivery reports, waiting up to timeout_ms for the first. */
void fg_kafka_sink_poll(struct fg_kafka_sink *sink, int timeout_ms);
/* Waits (up to run.flush_timeout_ms) until nothing is queued or in flight. */
rd_kafka_resp_err_t fg_kafka_sink_flush(struct fg_kafka_sink *sink);
/* Drops what is queued or in flight (delivery reports say so): the engine is
 * stopping on an error and will not wait for them. */
void fg_kafka_sink_purge(struct fg_kafka_sink *sink);
/* Non-zero, with a message, once the producer has raised a fatal error. */
int fg_kafka_sink_fatal(struct fg_kafka_sink *sink, char *errstr, size_t errstr_size);

/* What a transaction call came to. */
enum fg_txn_result {
	FG_TXN_OK,
	FG_TXN_ABORT, /* abortable: abort, rewind the input, carry on */
	FG_TXN_FATAL  /* the producer cannot go on (fenced, or an abort that failed) */
};
/* All three: @locality the one thread that produces (the runner's producer thread). */
enum fg_txn_result fg_kafka_sink_txn_begin(struct fg_kafka_sink *sink, char *errstr,
					   size_t errstr_size);
/*
 * Sends offsets (input offsets to commit, may be empty) with the group
 * metadata cgmd and commits the transaction, which first waits for every
 * output produced in it (their delivery reports are served on this thread).
 */
enum fg_txn_result fg_kafka_sink_txn_commit(struct fg_kafka_sink *sink,
					    const rd_kafka_topic_partition_list_t *offsets,
					    const rd_kafka_consumer_group_metadata_t *cgmd,
					    char *errstr, size_t errstr_size);
/* Aborts the open transaction; its queued outputs fail with a purge error. */
enum fg_txn_result fg_kafka_sink_txn_abort(struct fg_kafka_sink *sink, char *errstr,
					   size_t errstr_size);

#endif
