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
/*
 * Gives back capacity that a burst left behind. `need` is what the buffer
 * should keep room for (the caller's recent peak; len at least): when cap
 * is more than 8 times both that and `floor`, shrinks it to the power of
 * two times `floor` that holds twice that. Keeps the first len bytes (buf
 * may move). A reused buffer so follows its recent use instead of keeping
 * its largest size for ever, and does not shrink and regrow with every
 * change in size.
 */
void fg_avrobin_trim(struct fg_avrobin *w, size_t need, size_t floor);

/* Room for n more bytes at buf + len (not yet counted in len), or NULL. */
static inline uint8_t *fg_avrobin_room(struct fg_avrobin *w, size_t n)
{
	if (__builtin_expect(w->cap - w->len >= n, 1))
		return w->buf + w->len;
	return fg_avrobin_grow(w, n);
}

/*
 * Cursor writers: each writes at p, which must have room for what it
 * writes (reserve it with fg_avrobin_room() and the bounds below), and
 * returns the end. A record reserved in a few spans keeps buf, len and cap
 * out of its loop; the writers on struct fg_avrobin further down reload
 * them at every field, because any byte store may alias them.
 */
#define FG_AVRO_LONG_MAX 10    /* a zig-zag varint of 64 bits */
#define FG_AVRO_DECIMAL_MAX 17 /* a one-byte length and up to 16 bytes */

static inline uint8_t *fg_avro_long_at(uint8_t *p, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);

	while (z >= 0x80) {
		*p++ = (uint8_t)(z | 0x80);
		z >>= 7;
	}
	*p++ = (uint8_t)z;
	return p;
}

/*
 * n bytes from b to p, exactly, copied in line when n <= 32: the strings
 * of an assessment (codes, rule ids, mineral and flag names, the tables'
 * fingerprint) are short, and a call to memcpy for each cost more than
 * the copy.
 */
static inline void fg_avro_copy(uint8_t *p, const void *b, size_t n)
{
	const uint8_t *s = b;

	if (n > 16 && n <= 32) {
		/* the fingerprint (32 hex digits): 16 bytes from each end */
		uint64_t x[2], y[2];
		memcpy(x, s, 16);
		memcpy(y, s + n - 16, 16);
		memcpy(p, x, 16);
		memcpy(p + n - 16, y, 16);
	} else if (n >= 8 && n <= 16) {
		uint64_t x, y; /* two 8-byte moves that overlap in the middle */
		memcpy(&x, s, 8);
		memcpy(&y, s + n - 8, 8);
		memcpy(p, &x, 8);
		memcpy(p + n - 8, &y, 8);
	} else if (n >= 4 && n < 8) {
		uint32_t x, y;
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(p, &x, 4);
		memcpy(p + n - 4, &y, 4);
	} else if (n < 4) {
		for (size_t i = 0; i < n; i++)
			p[i] = s[i];
	} else {
		memcpy(p, s, n);
	}
}

/* Room: FG_AVRO_LONG_MAX + n. */
static inline uint8_t *fg_avro_bytes_at(uint8_t *p, const void *b, size_t n)
{
	p = fg_avro_long_at(p, (int64_t)n);
	fg_avro_copy(p, b, n);
	return p + n;
}

uint8_t *fg_avro_decimal_wide_at(uint8_t *p, __int128 unscaled);

/* A decimal as minimal two's-complement big-endian bytes (Avro bytes).
 * Room: FG_AVRO_DECIMAL_MAX. */
static inline uint8_t *fg_avro_decimal_at(uint8_t *p, __int128 unscaled)
{
	if ((__int128)(int64_t)unscaled == unscaled) { /* fits in 64 bits */
		/* Money fits in 64 bits but for absurd totals: bytes needed are the
		 * magnitude's bits plus a sign bit; the length is one varint byte. */
		int64_t x = (int64_t)unscaled;
		uint64_t u = x < 0 ? ~(uint64_t)x : (uint64_t)x;
		unsigned n = ((u ? 64u - (unsigned)__builtin_clzll(u) : 0u) + 8u) / 8u;
		uint64_t be = __builtin_bswap64((uint64_t)x << (64u - 8u * n));

		p[0] = (uint8_t)(2u * n);
		memcpy(p + 1, &be, 8); /* the first n bytes are the value */
		return p + 1 + n;
	}
	return fg_avro_decimal_wide_at(p, unscaled);
}

/* Ends a span begun at fg_avrobin_room(): p is where the writing stopped. */
static inline void fg_avrobin_end(struct fg_avrobin *w, const uint8_t *p)
{
	w->len = (size_t)(p - w->buf);
}

static inline void fg_avrobin_long(struct fg_avrobin *w, int64_t v)
{
	uint8_t *p = fg_avrobin_room(w, FG_AVRO_LONG_MAX);

	if (p)
		fg_avrobin_end(w, fg_avro_long_at(p, v));
}

static inline void fg_avrobin_bytes(struct fg_avrobin *w, const void *b, size_t n)
{
	uint8_t *p = fg_avrobin_room(w, FG_AVRO_LONG_MAX + n);

	if (p)
		fg_avrobin_end(w, fg_avro_bytes_at(p, b, n));
}

/* n bytes as they are, no length before them (a message key after its record).
 * Returns 0, or -1 when the buffer cannot grow. */
static inline int fg_avrobin_raw(struct fg_avrobin *w, const void *b, size_t n)
{
	uint8_t *p = fg_avrobin_room(w, n);

	if (!p)
		return -1;
	memcpy(p, b, n);
	w->len += n;
	return 0;
}

static inline void fg_avrobin_str(struct fg_avrobin *w, struct fg_str s)
{
	fg_avrobin_bytes(w, s.p, s.len);
}

static inline void fg_avrobin_cstr(struct fg_avrobin *w, const char *s)
{
	fg_avrobin_bytes(w, s, strlen(s));
}

static inline void fg_avrobin_decimal(struct fg_avrobin *w, __int128 unscaled)
{
	uint8_t *p = fg_avrobin_room(w, FG_AVRO_DECIMAL_MAX);

	if (p)
		fg_avrobin_end(w, fg_avro_decimal_at(p, unscaled));
}

#endif
