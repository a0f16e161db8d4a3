/*
 * fg_ocf_reader.h: reading Avro object container files block by block.
 *
 * DESIGN
 * Avro C's file reader hands out values, which would have to be written
 * back to bytes before the pipeline decodes them again (two full decodes
 * and an encode per record), and its errors say little ("Cannot read 4
 * bytes from file"). `assess`, `replay` and `dump` only need each record's
 * bytes as written, so this reader parses the container itself: the header
 * (magic, metadata map with avro.schema and avro.codec, sync marker), then
 * one block at a time (count, size, data, sync), inflating `deflate`
 * blocks with zlib (raw deflate, as the Avro specification says) and
 * passing `null` blocks through. A block's records are found by walking
 * the bytes with a skip program compiled once from the writer schema (no
 * values are built); each record is handed out as a view into the block
 * buffer, valid until the next call.
 *
 * Replay splits records on its worker threads (fg_ocf_reader_next_block
 * hands out whole blocks; fg_ocf_skip_record finds where each record ends),
 * so the reading thread only reads and inflates.
 *
 * Memory is one block (compressed and inflated) at a time, whatever the
 * file's size. Everything in the file is checked before use: varints are
 * bounded, lengths are checked against the bytes left, a block must hold
 * exactly its count of records and end with the header's sync marker.
 */
#ifndef FG_OCF_READER_H
#define FG_OCF_READER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <avro.h>

#include "fg_schemas.h"

struct fg_ocf_reader;

/*
 * Opens path and reads its header. Returns NULL with "path: reason" on
 * failure (not a container, unknown codec, bad schema).
 */
struct fg_ocf_reader *fg_ocf_reader_open(const char *path, char *errstr, size_t errstr_size);
void fg_ocf_reader_close(struct fg_ocf_reader *r); /* NULL-safe */

/* The writer schema (borrowed; lives as long as r). */
avro_schema_t fg_ocf_reader_schema(const struct fg_ocf_reader *r);
/* The decimal scales it declares (fg_schema_decimal_scales; FG_DEC_FIELDS of
 * them), for fg_schema_registry_add. */
const int *fg_ocf_reader_scales(const struct fg_ocf_reader *r);
/* "null" or "deflate". */
const char *fg_ocf_reader_codec(const struct fg_ocf_reader *r);
/* Bytes of the file consumed so far (for progress). */
uint64_t fg_ocf_reader_tell(const struct fg_ocf_reader *r);

/*
 * The next record's Avro binary body. Returns 1 with *body and *len set (a view
 * valid until the next call), 0 at the end of the file, or -1 with
 * "path: block N: reason".
 */
int fg_ocf_reader_next(struct fg_ocf_reader *r, const uint8_t **body, size_t *len, char *errstr,
		       size_t errstr_size);

/*
 * The next whole block instead of one record (do not mix with
 * fg_ocf_reader_next on one reader): its records' bytes, inflated (a view
 * valid until the next call), and their count. Returns 1, 0 at the end of
 * the file, or -1 with a message. The records are not checked: split
 * them with fg_ocf_skip_record and a skip program of the file's schema.
 */
int fg_ocf_reader_next_block(struct fg_ocf_reader *r, const uint8_t **data, size_t *len,
			     int64_t *count, char *errstr, size_t errstr_size);
/* Number of the block last read, from 1 (for messages). */
uint64_t fg_ocf_reader_block_number(const struct fg_ocf_reader *r);

/*
 * A skip program: an Avro schema compiled into the walk that finds where a
 * record written with it ends, building no values. Immutable once made:
 * @locality any number of threads may use one at once.
 */
struct fg_ocf_skip;
struct fg_ocf_skip *fg_ocf_skip_create(avro_schema_t schema); /* NULL: out of memory */
void fg_ocf_skip_destroy(struct fg_ocf_skip *sk);            /* NULL-safe */
/*
 * Where the record that starts at p ends (at most end), or NULL when the
 * bytes are not a record of the schema (truncated, bad union branch, a
 * length beyond end).
 */
const uint8_t *fg_ocf_skip_record(const struct fg_ocf_skip *sk, const uint8_t *p,
				  const uint8_t *end);

#endif
