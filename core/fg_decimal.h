/*
 * fg_decimal.h: decimal strings and scaled integers.
 *
 * Reference tables carry plain decimal strings ("1234.5678"); declarations
 * carry Avro decimals (two's-complement big-endian bytes with a scale from
 * the schema). Both become an unscaled integer plus a scale.
 */
#ifndef FG_DECIMAL_H
#define FG_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#include "fg_common.h"

/* Most digits a reference-table decimal may have (before and after the point). */
#define FG_DECIMAL_MAX_DIGITS 18

struct fg_decimal {
	int64_t unscaled; /* value = unscaled / 10^scale */
	uint8_t scale;
};

/*
 * Parses [-]digits[.digits]. No exponent, no spaces, no '+', at most
 * FG_DECIMAL_MAX_DIGITS significant digits. Returns 0 or -1 and a reason.
 */
int fg_decimal_parse(const char *s, size_t len, struct fg_decimal *out,
		     char *errstr, size_t errstr_size);

/*
 * Reads an Avro decimal's two's-complement big-endian bytes. Fails when
 * the value does not fit in 64 bits or len is 0.
 */
int fg_decimal_from_be_bytes(const uint8_t *b, size_t len, int64_t *out);

/*
 * Writes v as minimal two's-complement big-endian bytes into out (16 bytes
 * room); returns the length (at least 1).
 */
size_t fg_decimal_to_be_bytes(__int128 v, uint8_t out[16]);
/* Same for reading back 1..16 bytes into a 128-bit value. */
int fg_decimal_from_be_bytes128(const uint8_t *b, size_t len, __int128 *out);

/* Formats v / 10^scale as a decimal string with exactly `scale` places. */
size_t fg_decimal_format(__int128 v, unsigned scale, char *buf, size_t size);

#endif
