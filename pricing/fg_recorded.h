/*
 * fg_recorded.h: which reference-data version each recorded output used.
 *
 * DESIGN
 * `floorgate replay --version as-recorded` assesses each declaration with
 * the tables its recorded assessment (or dead letter) names in
 * reference_data_version, so a period in which the tables changed, even
 * back and forth, replays exactly. The recorded outputs are Avro container
 * files of floorgate.v1.DutyAssessment or DeadLetter (any mix); each record
 * names its input by source position: (source_partition, source_offset)
 * for a topic, source_index for a file. Those positions go into one
 * open-addressing hash table (a 64-bit key and a 16-bit version index per
 * slot, at most half full: 20-40 bytes per recorded output), and every
 * version named is loaded once from the store and kept until destroy.
 *
 * Once loaded it is only read: @locality any number of threads.
 */
#ifndef FG_RECORDED_H
#define FG_RECORDED_H

#include <stddef.h>
#include <stdint.h>

#include "fg_refdata.h"

#define FG_RECORDED_MAX_VERSIONS 256

struct fg_recorded;

/*
 * Reads every record of the files and loads every version they name from
 * store (fg_datastore_path: a version missing from the store is an error).
 * Returns NULL with a message naming the file and record.
 */
struct fg_recorded *fg_recorded_load(char *const *files, size_t n_files, const char *store,
				     char *errstr, size_t errstr_size);
void fg_recorded_destroy(struct fg_recorded *rec); /* NULL-safe */

/*
 * The tables the output recorded for (partition, offset) used, or for
 * record number `pos` of a file when partition is -1. NULL when no recorded
 * output names that position.
 */
const struct fg_refdata *fg_recorded_get(const struct fg_recorded *rec, int32_t partition,
					 int64_t pos);
/* The versions named, in order of first appearance. */
uint32_t fg_recorded_versions(const struct fg_recorded *rec);
const struct fg_refdata *fg_recorded_version(const struct fg_recorded *rec, uint32_t i);
/* Source positions recorded. */
size_t fg_recorded_count(const struct fg_recorded *rec);

#endif
