/*
 * fg_audit_src.h: the records of one audit source, an Avro object
 * container file or a Kafka topic range, one at a time.
 *
 * DESIGN
 * A source is a path, or `kafka:TOPIC`. A topic range is read by plain
 * assignment, partition after partition (ingest/fg_kafka_range.h): no group
 * is joined and nothing is committed, so no consumer group's offsets move.
 * Its bounds, per partition, are [from, to): `--from`/`--to` give offsets
 * (one number for every partition, or `P:OFFSET,P:OFFSET`), or a time
 * (`2026-11-26T08:00:00Z` or `@MILLISECONDS`, turned into offsets with
 * rd_kafka_offsets_for_times); unset bounds are the low and high
 * watermarks when reading starts, so a range never waits for new messages.
 * Offsets no longer in Kafka or beyond the end are refused, not clamped.
 * Kafka values are Confluent-framed; their writer schemas are found by id
 * in a schema directory (as `floorgate run` does), each parsed once.
 */
#ifndef FG_AUDIT_SRC_H
#define FG_AUDIT_SRC_H

#include <stddef.h>
#include <stdint.h>

#include <avro.h>

#include "../ingest/fg_ocf_reader.h"
#include "../ingest/fg_schemas.h"
#include "../sinks/fg_encode.h"
#include "fg_config.h"

struct fg_audit_src_opts {
	const struct fg_config *cfg; /* kafka.* properties and schema.dir; NULL: none */
	const char *from, *to;       /* topic range bounds; NULL: watermarks */
	int timeout_ms;              /* give up after this long without progress */
	int decode;                  /* 0: hand over raw bytes only (v is NULL) */
};

/*
 * Called per record with its position (file + index, or topic, partition,
 * offset) and, when decoding, the record as an Avro value of its writer
 * schema (valid during the call). bytes/len: the Avro body (file: the
 * record's bytes as written; Kafka: the value after the frame when
 * decoding, the whole value otherwise).
 * file: the container being read, for its writer schema and decimal
 * scales (bytes are a bare body); NULL for Kafka (bytes are
 * Confluent-framed when not decoding). Non-zero stops.
 */
typedef int (*fg_audit_src_fn)(void *ctx, avro_value_t *v, const uint8_t *bytes, size_t len,
			       const struct fg_source_pos *pos, const struct fg_ocf_reader *file);

/* Reads every record of src. Returns 0, fn's value, or -1 with a message. */
int fg_audit_src_read(const char *src, const struct fg_audit_src_opts *o, fg_audit_src_fn fn,
		      void *ctx, char *errstr, size_t errstr_size);

/* Rough byte count of a source, for sizing spill partitions (files: their size). */
unsigned long long fg_audit_src_size_hint(const char *src);

#endif
