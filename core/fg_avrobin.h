/*
 * fg_avrobin.h: writing Avro binary encoding into a growing buffer.
 *
 * Used where floorgate writes records of schemas it owns (assessments,
 * dead letters, generated declarations): zig-zag varints, length-prefixed
 * bytes and strings, union branch indexes, one-block arrays.
 */
#ifndef FG_AVROBIN_H
#define FG_AVROBIN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fg_common.h"

struct fg_avrobin {
	uint8_t *buf;
	size_t len, cap;
	int oom; /* sticky: set when an append could not grow the buffer */
};

int fg_avrobin_init(struct fg_avrobin *w, size_t cap);
void fg_avrobin_fini(struct fg_avrobin *w);
/* Slow path of fg_avrobin_room(): grows the buffer. */
uint8_t *fg_avrobin_grow(struct fg_avrobin *w, size_t n);

/* Room for n more bytes at buf + len (not yet counted in len), or NULL. */
static inline uint8_t *fg_avrobin_room(struct fg_avrobin *w, size_t n)
{
	if (__builtin_expect(w->cap - w->len >= n, 1))
		return w->buf + w->len;
	return fg_avrobin_grow(w, n);
}

static inline void fg_avrobin_long(struct fg_avrobin *w, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	uint8_t *p = fg_avrobin_room(w, 10);

	if (!p)
		return;
	while (z >= 0x80) {
		*p++ = (uint8_t)(z | 0x80);
		z >>= 7;
	}
	*p++ = (uint8_t)z;
	w->len = (size_t)(p - w->buf);
}

static inline void fg_avrobin_bytes(struct fg_avrobin *w, const void *b, size_t n)
{
	fg_avrobin_long(w, (int64_t)n);
	uint8_t *p = fg_avrobin_room(w, n);
	if (!p)
		return;
	if (n)
		memcpy(p, b, n);
	w->len += n;
}

static inline void fg_avrobin_str(struct fg_avrobin *w, struct fg_str s)
{
	fg_avrobin_bytes(w, s.p, s.len);
}

static inline void fg_avrobin_cstr(struct fg_avrobin *w, const char *s)
{
	fg_avrobin_bytes(w, s, strlen(s));
}

void fg_avrobin_decimal_wide(struct fg_avrobin *w, __int128 unscaled);

/* A decimal as minimal two's-complement big-endian bytes (Avro bytes). */
static inline void fg_avrobin_decimal(struct fg_avrobin *w, __int128 unscaled)
{
	if (unscaled >= INT64_MIN && unscaled <= INT64_MAX) {
		/* Money fits in 64 bits but for absurd totals: bytes needed are the
		 * magnitude's bits plus a sign bit; the length is one varint byte. */
		int64_t x = (int64_t)unscaled;
		uint64_t u = x < 0 ? ~(uint64_t)x : (uint64_t)x;
		unsigned n = ((u ? 64u - (unsigned)__builtin_clzll(u) : 0u) + 8u) / 8u;
		uint64_t be = __builtin_bswap64((uint64_t)x << (64u - 8u * n));
		uint8_t *p = fg_avrobin_room(w, 9);

		if (!p)
			return;
		p[0] = (uint8_t)(2u * n);
		memcpy(p + 1, &be, 8); /* the first n bytes are the value */
		w->len += 1 + n;
		return;
	}
	fg_avrobin_decimal_wide(w, unscaled);
}

#endif
