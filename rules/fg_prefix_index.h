/*
 * fg_prefix_index.h: find table rows by commodity-code prefix.
 *
 * Classification and MFN rows are keyed by an HS prefix of 1 to 10 ASCII
 * digits, and the longest matching prefix wins. Rows are sorted so that
 * rows with equal prefixes are adjacent; the index maps each distinct
 * prefix to its run of rows.
 *
 * DESIGN
 * A prefix of digits is a number below 10^10, so (value << 4 | length) is
 * an exact 64-bit key: no string compare, and the hash is one multiply
 * (Fibonacci hashing into an open-addressing table, linear probe). A code
 * is turned into its prefix keys once (struct fg_prefix_probe) and the
 * classification and MFN tables both probe with them, longest length
 * first, only at the lengths some row has and, for lengths from
 * FG_PREFIX_HEAD_LEN up, only at those some row has under the code's first
 * FG_PREFIX_HEAD_LEN digits (a table of 10^4 length masks): most probes
 * that would miss are never made. Codes are validated as digits
 * before assessment; a code that is not all digits only probes the prefix
 * lengths before its first non-digit, which no digit prefix could extend.
 */
#ifndef FG_PREFIX_INDEX_H
#define FG_PREFIX_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../core/fg_common.h"

#define FG_PREFIX_MAX_LEN 10
#define FG_PREFIX_HEAD_LEN 4
#define FG_PREFIX_HEADS 10000 /* 10^FG_PREFIX_HEAD_LEN */

/* Up to two tables share one index (classification and MFN): run r of a
 * slot is that table's rows with this prefix, count 0 when it has none. */
#define FG_PREFIX_TABLES 2

struct fg_prefix_slot {
	uint64_t key; /* 0: empty */
	uint32_t first[FG_PREFIX_TABLES], count[FG_PREFIX_TABLES];
};

struct fg_prefix_index {
	struct fg_prefix_slot *slots;
	uint32_t mask;
	unsigned shift;       /* 64 - log2(number of slots) */
	uint16_t len_present; /* bit L set when some prefix has length L */
	/* [first FG_PREFIX_HEAD_LEN digits]: bit L (L >= FG_PREFIX_HEAD_LEN) set when
	 * some prefix of length L starts with them */
	uint16_t *head_lens;
};

/* The prefix keys of one code, for lengths 1..max. */
struct fg_prefix_probe {
	uint64_t key[FG_PREFIX_MAX_LEN + 1];
	uint32_t max; /* leading ASCII digits, at most FG_PREFIX_MAX_LEN */
};

/* Whether the 8 bytes of x are all ASCII digits: high nibble 3, and still 3
 * after adding 6 (a byte that fails the first test is the only one that
 * could carry into its neighbour). */
static inline int fg_prefix_digits8(uint64_t x)
{
	return (x & 0xF0F0F0F0F0F0F0F0ull) == 0x3030303030303030ull &&
	       ((x + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) == 0x3030303030303030ull;
}

static inline void fg_prefix_probe_init(struct fg_prefix_probe *pr, const char *p, size_t len)
{
	uint64_t v = 0;
	uint32_t n = 0;

	if (len >= FG_PREFIX_MAX_LEN) {
		/* The usual code, ten digits: test eight at once, then make the ten
		 * keys without a test per digit. */
		uint64_t x;
		memcpy(&x, p, 8);
		if (fg_prefix_digits8(x) && p[8] >= '0' && p[8] <= '9' && p[9] >= '0' &&
		    p[9] <= '9') {
			for (n = 0; n < FG_PREFIX_MAX_LEN; n++) {
				v = v * 10 + (uint64_t)(p[n] - '0');
				pr->key[n + 1] = v << 4 | (n + 1);
			}
			pr->max = FG_PREFIX_MAX_LEN;
			return;
		}
		len = FG_PREFIX_MAX_LEN;
	}
	while (n < len && p[n] >= '0' && p[n] <= '9') {
		v = v * 10 + (uint64_t)(p[n] - '0');
		n++;
		pr->key[n] = v << 4 | n;
	}
	pr->max = n;
}

/*
 * Builds the index over n prefixes (ASCII digits, 1..FG_PREFIX_MAX_LEN
 * long), equal ones adjacent, as table 0. Returns 0, or -1 when out of
 * memory or a prefix is not digits.
 */
int fg_prefix_index_build(struct fg_prefix_index *ix, const struct fg_str *prefixes, size_t n);
/* The same over two tables' prefixes (each with equal ones adjacent). */
int fg_prefix_index_build2(struct fg_prefix_index *ix, const struct fg_str *a, size_t na,
			   const struct fg_str *b, size_t nb);
void fg_prefix_index_fini(struct fg_prefix_index *ix);

static inline const struct fg_prefix_slot *fg_prefix_index_find_key(const struct fg_prefix_index *ix,
								    uint64_t key)
{
	uint32_t k = (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> ix->shift);

	if (!ix->slots)
		return NULL;
	for (;; k = (k + 1) & ix->mask) {
		const struct fg_prefix_slot *s = &ix->slots[k];
		if (s->key == key)
			return s;
		if (s->key == 0)
			return NULL;
	}
}

/*
 * The lengths, longest first, at which a probe can hit: iterate with
 * `for (m = fg_prefix_lengths(ix, pr); m; m &= ~(1u << len))` and
 * len = fg_prefix_top(m).
 */
static inline uint32_t fg_prefix_lengths(const struct fg_prefix_index *ix,
					 const struct fg_prefix_probe *pr)
{
	uint32_t m;

	if (!ix->slots)
		return 0;
	m = ix->len_present & ((2u << pr->max) - 1);
	if (pr->max >= FG_PREFIX_HEAD_LEN)
		m &= ix->head_lens[pr->key[FG_PREFIX_HEAD_LEN] >> 4] |
		     ((1u << FG_PREFIX_HEAD_LEN) - 1);
	return m;
}

static inline uint32_t fg_prefix_top(uint32_t m)
{
	return 31u - (uint32_t)__builtin_clz(m);
}

/* The slot of exactly this prefix, or NULL. */
const struct fg_prefix_slot *fg_prefix_index_find(const struct fg_prefix_index *ix,
						  const char *p, size_t len);

#endif
