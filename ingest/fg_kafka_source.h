/*
 * fg_kafka_source.h: the Kafka consumer side of `floorgate run`.
 *
 * DESIGN
 * A high-level consumer in a group, read in batches from its consumer
 * queue (rd_kafka_consume_batch_queue). Offsets are never stored by
 * librdkafka on its own (enable.auto.offset.store=false).
 *
 * at_least_once: the runner stores a batch's offsets only after every
 * output of that batch has been acknowledged by the brokers, and the
 * auto-commit (or the commit before a revocation and at shutdown) commits
 * only stored offsets. So a crash re-reads, never skips.
 *
 * exactly_once: the consumer commits nothing itself
 * (enable.auto.commit=false, nothing stored); the runner's transactional
 * producer commits the consumed offsets inside the transaction that holds
 * the outputs, with this consumer's group metadata
 * (fg_kafka_source_group_metadata). It reads at
 * isolation.level=read_committed. After an aborted transaction the runner
 * calls fg_kafka_source_rewind(), which seeks every assigned partition back
 * to the last offset committed by a transaction (fg_kafka_source_committed).
 *
 * Group membership: partition.assignment.strategy defaults to
 * cooperative-sticky (a rebalance only moves the partitions that change
 * owner); the rebalance callback follows whichever protocol is in force
 * (incremental assign/unassign for COOPERATIVE, assign for EAGER).
 * kafka.group.instance.id (static membership) passes through to the
 * consumer unchanged.
 *
 * Threads: every call except fg_kafka_source_store(),
 * fg_kafka_source_committed() and fg_kafka_source_group_metadata() happens
 * on the runner's thread, which also serves rebalances inside
 * fg_kafka_source_consume(). librdkafka 2.0.2's batch consume is unsafe
 * alongside seek/pause/resume/rebalance on another thread, so all of those
 * happen here, between batch calls.
 */
#ifndef FG_KAFKA_SOURCE_H
#define FG_KAFKA_SOURCE_H


#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "../src/fg_config.h"

struct fg_kafka_source;

/*
 * Runs on the consumer thread when partitions are about to be taken away,
 * before the stored offsets are committed: the engine finishes (and in
 * exactly_once commits or aborts) its in-flight work there, so what is
 * committed covers it. Returns 0 when everything taken was committed (or,
 * at_least_once, acknowledged and stored), -1 otherwise.
 */
typedef int(fg_kafka_source_revoke_cb)(void *ctx);

/*
 * The consumer's settings for at-least-once, into conf: floorgate's defaults,
 * then cfg's kafka.* keys (all but producer-only ones), then the keys that
 * correctness needs (offsets are stored by floorgate, after delivery).
 * fg_kafka_source_create uses it, and `floorgate bench`'s null pipeline, so
 * the two consume alike. Returns 0, or -1 with a message.
 */
int fg_kafka_source_settings(rd_kafka_conf_t *conf, const struct fg_config *cfg, char *errstr,
			     size_t errstr_size);

/*
 * The last step of a rebalance callback, after the caller's own work: takes
 * (ASSIGN_PARTITIONS) or gives up parts the way the group's protocol
 * wants, incrementally when it is COOPERATIVE (the settings above ask for
 * cooperative-sticky; a user's kafka.* may not), whole otherwise. A refusal
 * is printed after `who`. fg_kafka_source's callback and `floorgate
 * bench`'s null pipeline share it, so the two follow a rebalance alike.
 */
void fg_kafka_rebalance_apply(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			      rd_kafka_topic_partition_list_t *parts, const char *who);

/*
 * Creates the consumer, waits up to run.connect_timeout_ms for the brokers
 * and checks that every topic in `must_exist` (NULL-terminated) exists, then
 * subscribes to input.topic. before_revoke may be NULL. The wait ends early
 * once *stop (a signal handler's flag; NULL: none) is set. Returns NULL with
 * a message on failure.
 */
struct fg_kafka_source *fg_kafka_source_create(const struct fg_config *cfg,
					       const char *const *must_exist,
					       fg_kafka_source_revoke_cb *before_revoke, void *ctx,
					       const _Atomic int *stop, char *errstr,
					       size_t errstr_size);
/*
 * Pauses (pause != 0) or resumes every assigned partition. While paused,
 * partitions assigned by a rebalance are paused too.
 */
void fg_kafka_source_pause(struct fg_kafka_source *src, int pause);
/*
 * at_least_once: commits stored offsets (synchronously). Then leaves the
 * group and frees. NULL-safe.
 */
void fg_kafka_source_destroy(struct fg_kafka_source *src);

/*
 * Raises each partition's entry in l to one past the highest offset among
 * msgs (adding entries as needed; errors and messages without a topic are
 * skipped): the offsets to store or commit once msgs are answered.
 */
void fg_kafka_offsets_add(rd_kafka_topic_partition_list_t *l, rd_kafka_message_t *const *msgs,
			  size_t n);
/*
 * Up to n messages (some may be errors or partition EOF events): waits up
 * to timeout_ms for the first, then adds those already fetched, without
 * waiting for more.
 */
ssize_t fg_kafka_source_consume(struct fg_kafka_source *src, rd_kafka_message_t **msgs, size_t n,
				int timeout_ms);
/* Notes a partition EOF event or a message (which clears that partition's EOF). */
void fg_kafka_source_track(struct fg_kafka_source *src, const rd_kafka_message_t *m);
/* Whether the consumer has hit a fatal error (e.g. fenced), with its text in buf. */
int fg_kafka_source_fatal(struct fg_kafka_source *src, char *buf, size_t size);

/*
 * Whether a data message is to be taken: its partition is assigned and its
 * offset is at or beyond the next offset this consumer has to take from it.
 * librdkafka 2.0.2's batch consume can hand back messages fetched before a
 * rebalance (fixed in 2.1.0); the partition is then fetched again from the
 * committed offset, which would give those messages twice. Taking each
 * offset once (until a rewind or a failed commit moves the mark back)
 * removes that. Call for every data message taken.
 *
 * at_least_once, offsets are taken without a hole: the runner stores the
 * offset of the last message it answers, so a message after offsets that
 * never came (2.0.2 can drop fetched messages while a rebalance is served
 * inside a batch call) is refused and its partition read again from the
 * first missing offset; when the refetch comes straight back to it, the
 * hole holds no message and it is taken. fg_kafka_source_consume() does
 * the same when an idle partition's position is past the next offset to
 * take (lost last messages). FG_DEBUG_OFFSETS=1 logs refusals, holes and
 * stores on stderr.
 */
int fg_kafka_source_accept(struct fg_kafka_source *src, const rd_kafka_message_t *m);
/* True once partitions were assigned and every one of them is at its end. */
int fg_kafka_source_at_end(const struct fg_kafka_source *src);
/*
 * Stores offset+1 of the last message per partition in msgs (data messages
 * only). @locality: any thread (rd_kafka_offsets_store is thread-safe).
 */
int fg_kafka_source_store(struct fg_kafka_source *src, rd_kafka_message_t **msgs, size_t n);

/*
 * exactly_once. The consumer's group metadata for
 * rd_kafka_send_offsets_to_transaction (caller destroys it).
 * @locality: any thread.
 */
rd_kafka_consumer_group_metadata_t *fg_kafka_source_group_metadata(struct fg_kafka_source *src);
/*
 * exactly_once. Records the input offsets a transaction has just committed.
 * @locality: any thread (the runner's producer thread).
 */
void fg_kafka_source_committed(struct fg_kafka_source *src,
			       const rd_kafka_topic_partition_list_t *offsets);
/*
 * exactly_once, after an aborted transaction: seeks every assigned
 * partition back to its last committed offset (or, when nothing was
 * committed since it was assigned, to the first offset taken from it), so
 * that the aborted inputs are read and assessed again. Returns the number
 * of partitions moved back, or -1 with a message.
 */
int fg_kafka_source_rewind(struct fg_kafka_source *src, char *errstr, size_t errstr_size);

#endif
