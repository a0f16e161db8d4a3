/*
 * fg_kafka_range.h: a range of a topic's history, read without a group.
 *
 * DESIGN
 * `floorgate replay` and `floorgate audit` read declarations and outputs
 * that the live pipeline has already handled, and must not disturb it. So
 * this consumer never subscribes: it assigns partitions itself
 * (rd_kafka_assign), under a group id that is never joined (replay's
 * floorgate-replay-<pid>, or the caller's), with auto-commit and offset
 * storing off and no commit call anywhere. No group's committed offsets
 * can move.
 *
 * The range is planned once at open, from the topic's metadata and
 * watermarks. Each partition's range is [from, to), and each end is an
 * offset, a time (resolved with rd_kafka_offsets_for_times: the first
 * offset at or after it, or the partition's end when there is none) or
 * unset (the low or high watermark). A spec gives the ends for every
 * partition and may override them per partition, or name the only
 * partitions to read. Offsets that retention already deleted, offsets
 * beyond the end and missing partitions are errors, never silently
 * skipped or clamped: a replay or an audit covers what was asked or says
 * why not.
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

/* One end of a partition's range; both fields -1: the watermark. */
struct fg_kafka_end {
	int64_t offset;  /* an offset, or -1 */
	int64_t time_ms; /* or a time, ms since the epoch, or -1 */
};

#define FG_KAFKA_END_UNSET ((struct fg_kafka_end){ -1, -1 })

/* One partition's ends; an unset end takes the spec's. */
struct fg_kafka_part_ends {
	int32_t partition;
	struct fg_kafka_end from, to;
};

struct fg_kafka_range_spec {
	struct fg_kafka_end from, to;           /* [from, to) of every partition */
	const struct fg_kafka_part_ends *parts; /* overrides, by partition; may be NULL */
	size_t n_parts;
	int listed_only;   /* read only the partitions in parts, which must exist */
	const char *group; /* group id (never joined); NULL: floorgate-replay-<pid> */
	int timeout_ms;    /* each metadata and offset query; 0: run.connect_timeout_ms */
};

/*
 * Refuses a spec whose from lies after its to, for every partition or one
 * (both ends offsets, or both times; an offset and a time cannot be
 * compared before Kafka resolves the time). Returns 0, or -1 with a message.
 * fg_kafka_range_open checks its arguments with it; callers of
 * fg_kafka_range_open_spec do so before they open.
 */
int fg_kafka_range_spec_check(const struct fg_kafka_range_spec *spec, char *errstr,
			      size_t errstr_size);

/*
 * Parses a time: @MILLISECONDS (since the epoch), YYYY-MM-DD or
 * YYYY-MM-DDTHH:MM:SS[.mmm]Z (UTC). Returns 0 with *ms, or -1.
 */
int fg_kafka_parse_time(const char *s, int64_t *ms);

/*
 * Connects with cfg's kafka.* settings and plans the range of `topic` that
 * spec describes (DESIGN). Returns NULL with a message.
 */
struct fg_kafka_range *fg_kafka_range_open_spec(const struct fg_config *cfg, const char *topic,
						const struct fg_kafka_range_spec *spec,
						char *errstr, size_t errstr_size);

/*
 * `floorgate replay`'s form of fg_kafka_range_open_spec: from/to are times
 * (fg_kafka_parse_time's forms, or bare milliseconds since the epoch) for
 * every partition, offsets is "P:START-END,..." (both ends included, only
 * the partitions named); all may be NULL (the whole topic). Returns NULL
 * with a message; *bad_args is set when the arguments were at fault rather
 * than Kafka.
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
