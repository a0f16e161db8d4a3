/*
 * fg_kafka_source.h: the Kafka consumer side of `floorgate run`.
 *
 * DESIGN
 * A high-level consumer in a group, read in batches from its consumer
 * queue (rd_kafka_consume_batch_queue). Offsets are never stored by
 * librdkafka on its own (enable.auto.offset.store=false): the runner
 * stores a batch's offsets only after every output of that batch has been
 * acknowledged by the brokers, and the auto-commit (or the final commit at
 * shutdown) commits only stored offsets. So a crash re-reads, never skips:
 * at-least-once. All calls happen on the runner's thread, which also
 * serves rebalances, so batch consumption never races a rebalance
 * (librdkafka 2.0.2 requires that).
 */
#ifndef FG_KAFKA_SOURCE_H
#define FG_KAFKA_SOURCE_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "../src/fg_config.h"

struct fg_kafka_source;

/*
 * Creates the consumer, waits up to run.connect_timeout_ms for the brokers
 * and checks that every topic in `must_exist` (NULL-terminated) exists, then
 * subscribes to input.topic. Returns NULL with a message on failure.
 */
/*
 * before_revoke (may be NULL) runs on the consumer thread when partitions
 * are about to be taken away, before the stored offsets are committed: the
 * engine finishes its in-flight work there, so what is committed covers it.
 */
struct fg_kafka_source *fg_kafka_source_create(const struct fg_config *cfg,
					       const char *const *must_exist,
					       void (*before_revoke)(void *ctx), void *ctx,
					       char *errstr, size_t errstr_size);
/* Pauses (pause != 0) or resumes every assigned partition. */
void fg_kafka_source_pause(struct fg_kafka_source *src, int pause);
/* Commits stored offsets (synchronously), leaves the group, frees. NULL-safe. */
void fg_kafka_source_destroy(struct fg_kafka_source *src);

/* Up to n messages (some may be errors or partition EOF events). */
ssize_t fg_kafka_source_consume(struct fg_kafka_source *src, rd_kafka_message_t **msgs, size_t n,
				int timeout_ms);
/* Notes a partition EOF event or a message (which clears that partition's EOF). */
void fg_kafka_source_track(struct fg_kafka_source *src, const rd_kafka_message_t *m);
/*
 * Whether a data message is new to this process: its offset is at or
 * beyond the next offset this consumer has taken from its partition.
 * librdkafka 2.0.2's batch consume can hand back messages fetched before a
 * rebalance (fixed in 2.1.0); the partition is then fetched again from the
 * committed offset, which would give those messages twice. Taking each
 * offset once per process removes that. Call for every data message taken.
 */
int fg_kafka_source_accept(struct fg_kafka_source *src, const rd_kafka_message_t *m);
/* True once partitions were assigned and every one of them is at its end. */
int fg_kafka_source_at_end(const struct fg_kafka_source *src);
/*
 * Stores offset+1 of the last message per partition in msgs (data messages
 * only). @locality: any thread (rd_kafka_offsets_store is thread-safe).
 */
int fg_kafka_source_store(struct fg_kafka_source *src, rd_kafka_message_t **msgs, size_t n);

#endif
