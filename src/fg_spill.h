/*
 * fg_spill.h: a grouped join of records too many to hold, by hash partitions
 * on disk.
 *
 * DESIGN
 * `audit`, `audit --completeness` and `whatif` join two (or more) streams of
 * records by a key: recorded against recomputed assessments by
 * (declaration_id, version), inputs against outputs by source position.
 * Either side may be larger than memory, so the join is a Grace hash join:
 *
 *   add(key, side, payload) --XXH3(key) % N--> part-0 ... part-(N-1)  (files)
 *   join():  for each part: read it whole, sort its records by (key, side,
 *            arrival), call fn() once per key with every record of that key.
 *
 * Only one partition is in memory at a time, so the peak is about
 * (bytes spilled / N) plus one pointer per record of that partition; the
 * caller picks N from its memory budget (fg_spill_parts_for()). Records of a
 * key always land in the same partition, whatever side they come from.
 * When N was guessed too low (a topic's size is not known before reading
 * it), a partition above the limit (fg_spill_set_part_limit()) is split
 * again by another seed of the hash before it is read, up to 4 levels, so
 * the bound holds anyway at the cost of one more pass over that part.
 * Keys are visited in partition order, then byte order within a partition:
 * deterministic for the same input, though not globally sorted.
 *
 * The spill files are made in the directory given and unlinked at once
 * (mkstemp + unlink): they have no name, nothing is left behind after an
 * error or a kill, and each file's space returns when it has been read.
 */
#ifndef FG_SPILL_H
#define FG_SPILL_H

#include <stddef.h>
#include <stdint.h>

struct fg_spill;

struct fg_spill_item {
	uint8_t side;
	const uint8_t *payload;
	size_t len;
};

/* Called once per key; items are ordered by side, then arrival. Non-zero stops the join. */
typedef int (*fg_spill_group_fn)(void *ctx, const uint8_t *key, size_t key_len,
				 const struct fg_spill_item *items, size_t n_items);

/* Number of partitions that keeps one partition of `expected_bytes` under `budget_bytes`. */
unsigned fg_spill_parts_for(uint64_t expected_bytes, uint64_t budget_bytes);

/* dir NULL: $TMPDIR or /tmp. Returns NULL and a message on error. */
struct fg_spill *fg_spill_create(const char *dir, unsigned n_parts, char *errstr,
				 size_t errstr_size);
/* Closes (so frees) the spill files and sp. NULL-safe. */
void fg_spill_destroy(struct fg_spill *sp);

/* Partitions above `bytes` are split again before they are read back (0: never). */
void fg_spill_set_part_limit(struct fg_spill *sp, uint64_t bytes);

/* Appends one record. Returns 0 or -1 with a message (disk full, ...). */
int fg_spill_add(struct fg_spill *sp, const void *key, size_t key_len, uint8_t side,
		 const void *payload, size_t payload_len, char *errstr, size_t errstr_size);

/* Runs the join (once). Returns 0, fn's non-zero value, or -1 with a message. */
int fg_spill_join(struct fg_spill *sp, fg_spill_group_fn fn, void *ctx, char *errstr,
		  size_t errstr_size);

/* Records and bytes spilled, the largest partition read back, and the partition count. */
struct fg_spill_stats {
	uint64_t records, bytes, largest_part_bytes;
	unsigned parts;
};
void fg_spill_get_stats(const struct fg_spill *sp, struct fg_spill_stats *st);

#endif
