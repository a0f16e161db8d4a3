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
uint8_t *fg_avrobin_room(struct fg_avrobin *w, size_t n);

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

/* A decimal as minimal two's-complement big-endian bytes. */
void fg_avrobin_decimal(struct fg_avrobin *w, __int128 unscaled);

#endif
