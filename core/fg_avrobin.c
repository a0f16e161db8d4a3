#include "fg_avrobin.h"

#include <stdlib.h>

#include "fg_decimal.h"

int fg_avrobin_init(struct fg_avrobin *w, size_t cap)
{
	w->len = 0;
	w->oom = 0;
	w->cap = cap ? cap : 256;
	w->buf = malloc(w->cap);
	return w->buf ? 0 : -1;
}

void fg_avrobin_fini(struct fg_avrobin *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

uint8_t *fg_avrobin_grow(struct fg_avrobin *w, size_t n)
{
	if (w->cap - w->len < n) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		while (cap - w->len < n)
			cap *= 2;
		uint8_t *b = realloc(w->buf, cap);
		if (!b) {
			w->oom = 1;
			return NULL;
		}
		w->buf = b;
		w->cap = cap;
	}
	return w->buf + w->len;
}

void fg_avrobin_trim(struct fg_avrobin *w, size_t need, size_t floor)
{
	size_t cap = floor ? floor : 256;

	if (need < w->len)
		need = w->len;
	if (w->cap / 8 <= need || w->cap / 8 <= cap)
		return;
	while (cap < 2 * need)
		cap *= 2;
	uint8_t *b = realloc(w->buf, cap);
	if (b) { /* a failed shrink keeps the larger buffer */
		w->buf = b;
		w->cap = cap;
	}
}

uint8_t *fg_avro_decimal_wide_at(uint8_t *p, __int128 unscaled)
{
	uint8_t b[16];
	size_t n = fg_decimal_to_be_bytes(unscaled, b);

	/* 2n <= 32: a one-byte length. A plain memcpy: the copy in line would
	 * have a branch for more than 16 bytes, which b cannot hold. */
	p = fg_avro_long_at(p, (int64_t)n);
	memcpy(p, b, n);
	return p + n;
}
