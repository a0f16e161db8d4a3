/*
 * fg_prefix_index.h: find table rows by commodity-code prefix.
 *
 * Classification and MFN rows are keyed by an HS prefix and the longest
 * matching prefix wins. Rows are sorted so that rows with equal prefixes
 * are adjacent; the index maps each distinct prefix (hashed with XXH3) to
 * its run of rows. A lookup of a 10-digit code costs at most one probe per
 * prefix length present in the table.
 */
#ifndef FG_PREFIX_INDEX_H
#define FG_PREFIX_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "../core/fg_common.h"

#define FG_PREFIX_MAX_LEN 10

struct fg_prefix_slot {
	uint64_t hash;
	const char *prefix; /* borrowed from the table's rows */
	uint32_t len;
	uint32_t first, count; /* run of rows sharing this prefix */
};

struct fg_prefix_index {
	struct fg_prefix_slot *slots; /* open addressing, linear probe */
	uint32_t mask;
	uint16_t len_present; /* bit L set when some prefix has length L */
};

/*
 * Builds the index over n prefixes, equal ones adjacent. The prefixes must
 * stay alive as long as the index. Returns 0 or -1 (out of memory).
 */
int fg_prefix_index_build(struct fg_prefix_index *ix, const struct fg_str *prefixes, size_t n);
void fg_prefix_index_fini(struct fg_prefix_index *ix);
const struct fg_prefix_slot *fg_prefix_index_find(const struct fg_prefix_index *ix,
						  const char *p, size_t len);

#endif
