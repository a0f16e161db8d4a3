/*
 * fg_ocf.h: writing Avro object container files, deterministically.
 *
 * Avro C's file writer draws its sync marker from the clock, so two runs
 * over the same input give different files. Auditors compare files by
 * hash, so floorgate writes containers itself: the header (magic, the
 * schema text, codec "null"), then blocks of already-encoded records, each
 * followed by a sync marker derived from the schema (XXH3-128). Same
 * schema and records, same bytes. Any Avro reader reads the result.
 */
#ifndef FG_OCF_H
#define FG_OCF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/fg_avrobin.h"
#include "fg_outfile.h"

struct fg_ocf_writer {
	struct fg_outfile out;   /* out.f is NULL when the writer is not open */
	uint8_t sync[16];
	struct fg_avrobin block; /* records of the block being filled */
	uint64_t count;          /* records in it */
};

/* Starts a file that replaces path when closed (fg_outfile.h: written beside
 * it, renamed into place) and writes the header. Returns 0 or -1 with a message. */
int fg_ocf_writer_open(struct fg_ocf_writer *w, const char *path, const char *schema_json,
		       char *errstr, size_t errstr_size);
/* Appends one record's Avro binary body. */
int fg_ocf_writer_append(struct fg_ocf_writer *w, const void *body, size_t len, char *errstr,
			 size_t errstr_size);
/* Writes the last block and moves the file to its path. Always releases w;
 * on failure the path keeps what it had. */
int fg_ocf_writer_close(struct fg_ocf_writer *w, char *errstr, size_t errstr_size);
/* Drops the file being written; the path keeps what it had. Safe on a
 * closed or zeroed w. */
void fg_ocf_writer_discard(struct fg_ocf_writer *w);

#endif
