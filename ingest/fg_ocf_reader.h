/*
 * fg_ocf_reader.h: reading Avro object container files block by block.
 *
 * DESIGN
 * `assess` reads containers with Avro C's generic reader and writes each
 * value back to bytes before the pipeline decodes them again: two full
 * decodes and an encode per record. Replay only needs each record's bytes
 * as written, so this reader parses the container itself: the header
 * (magic, metadata map with avro.schema and avro.codec, sync marker), then
 * one block at a time (count, size, data, sync), inflating `deflate`
 * blocks with zlib (raw deflate, as the Avro specification says) and
 * passing `null` blocks through. A block's records are found by walking
 * the bytes with a skip program compiled once from the writer schema (no
 * values are built); each record is handed out as a view into the block
 * buffer, valid until the next call.
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

struct fg_ocf_reader;

/*
 * Opens path and reads its header. Returns NULL with "path: reason" on
 * failure (not a container, unknown codec, bad schema).
 */
struct fg_ocf_reader *fg_ocf_reader_open(const char *path, char *errstr, size_t errstr_size);
void fg_ocf_reader_close(struct fg_ocf_reader *r); /* NULL-safe */

/* The writer schema (borrowed; lives as long as r). */
avro_schema_t fg_ocf_reader_schema(const struct fg_ocf_reader *r);
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

#endif
