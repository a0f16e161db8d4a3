/*
 * fg_kafka_range.h: a range of a topic's history, read without a group.
 *
 * DESIGN
 * `floorgate replay` reads declarations that the live pipeline has already
 * consumed, and must not disturb it. So this consumer never subscribes: it
 * assigns partitions itself (rd_kafka_assign), under a group id of its own
 * (floorgate-replay-<pid>), with auto-commit and offset storing off and no
 * commit call anywhere. The live group's committed offsets cannot move.
 *
 * The range is planned once at open, from the topic's metadata and
 * watermarks: every partition from its low to its high watermark, or the
 * offsets given (P:START-END, both ends included), or a time range
 * [from, to) resolved per partition with rd_kafka_offsets_for_times (no
 * message at or after a time: the partition's end). Offsets that retention
 * already deleted, offsets beyond the end and missing partitions are errors,
 * never silently skipped.
 *
 * Partitions are then read one after the other, in ascending order, each
 * from its start to its end, so the message order (partition, then offset)
 * is the same on every run. A fetch long-polling at the end of one
 * partition would hold up the first fetch of the next for
 * fetch.wait.max.ms, so that defaults to 10 ms here (history is all there);
 * kafka.fetch.wait.max.ms in the configuration still wins. A partition
 * whose range ends in a gap (compaction, transaction markers) ends at its
 * end-of-partition event.
 *
 * @locality one thread.
 */
#ifndef FG_KAFKA_RANGE_H
#define FG_KAFKA_RANGE_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "../src/fg_config.h"

struct fg_kafka_range;

/*
 * Connects with cfg's kafka.* settings (run.connect_timeout_ms bounds each
 * metadata and offset query) and plans the range of `topic`: from/to are
 * times (ms since the epoch, YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SS[.mmm]Z),
 * offsets is "P:START-END,..."; all may be NULL (the whole topic). Returns
 * NULL with a message; *bad_args is set when the arguments were at fault
 * rather than Kafka.
 */
struct fg_kafka_range *fg_kafka_range_open(const struct fg_config *cfg, const char *topic,
					   const char *from, const char *to, const char *offsets,
					   int *bad_args, char *errstr, size_t errstr_size);
void fg_kafka_range_close(struct fg_kafka_range *kr); /* NULL-safe; commits nothing */

/* Offsets in the planned range (an upper bound on messages: gaps are counted). */
uint64_t fg_kafka_range_total(const struct fg_kafka_range *kr);
/* Offsets of the range passed so far (for progress). */
uint64_t fg_kafka_range_done(const struct fg_kafka_range *kr);

/*
 * The next message of the range. Returns 1 with *m (the caller destroys it
 * with rd_kafka_message_destroy), 2 when nothing arrived within timeout_ms
 * (call again), 0 once the whole range was read, or -1 with a message.
 */
int fg_kafka_range_next(struct fg_kafka_range *kr, rd_kafka_message_t **m, int timeout_ms,
			char *errstr, size_t errstr_size);

#endif
