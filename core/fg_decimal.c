#include "fg_decimal.h"

#include <string.h>

int fg_decimal_parse(const char *s, size_t len, struct fg_decimal *out,
		     char *errstr, size_t errstr_size)
{
	size_t i = 0, digits = 0, frac = 0;
	int neg = 0, seen_point = 0, seen_digit = 0;
	uint64_t v = 0;

	if (len > 0 && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	for (; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (seen_point || !seen_digit) {
				fg_errf(errstr, errstr_size, "\"%.*s\" is not a decimal", (int)len, s);
				return -1;
			}
			seen_point = 1;
			continue;
		}
		if (c < '0' || c > '9') {
			fg_errf(errstr, errstr_size, "\"%.*s\" is not a decimal", (int)len, s);
			return -1;
		}
		seen_digit = 1;
		if (v != 0 || c != '0' || seen_point)
			digits++;
		if (digits > FG_DECIMAL_MAX_DIGITS) {
			fg_errf(errstr, errstr_size, "\"%.*s\" has more than %d digits",
				(int)len, s, FG_DECIMAL_MAX_DIGITS);
			return -1;
		}
		v = v * 10 + (uint64_t)(c - '0');
		if (seen_point)
			frac++;
	}
	if (!seen_digit || (seen_point && frac == 0)) {
		fg_errf(errstr, errstr_size, "\"%.*s\" is not a decimal", (int)len, s);
		return -1;
	}
	if (frac > FG_DECIMAL_MAX_DIGITS) {
		fg_errf(errstr, errstr_size, "\"%.*s\" has more than %d decimal places",
			(int)len, s, FG_DECIMAL_MAX_DIGITS);
		return -1;
	}
	out->unscaled = neg ? -(int64_t)v : (int64_t)v;
	out->scale = (uint8_t)frac;
	return 0;
}

int fg_decimal_from_be_bytes128(const uint8_t *b, size_t len, __int128 *out)
{
	unsigned __int128 v;

	if (len == 0 || len > 16)
		return -1;
	v = (b[0] & 0x80) ? ~(unsigned __int128)0 : 0;
	for (size_t i = 0; i < len; i++)
		v = (v << 8) | b[i];
	*out = (__int128)v;
	return 0;
}

int fg_decimal_from_be_bytes(const uint8_t *b, size_t len, int64_t *out)
{
	__int128 v;
	size_t skip = 0;

	/* Leading sign-extension bytes beyond 16 are allowed if redundant. */
	while (len - skip > 16) {
		uint8_t ext = (b[len - 16] & 0x80) ? 0xff : 0x00;
		if (b[skip] != ext)
			return -1;
		skip++;
	}
	if (fg_decimal_from_be_bytes128(b + skip, len - skip, &v))
		return -1;
	if (v > INT64_MAX || v < INT64_MIN)
		return -1;
	*out = (int64_t)v;
	return 0;
}

size_t fg_decimal_to_be_bytes(__int128 v, uint8_t out[16])
{
	uint8_t tmp[16];
	size_t start = 0;

	if (v >= INT64_MIN && v <= INT64_MAX) {
		/* Bytes needed: the magnitude's bits plus a sign bit. */
		int64_t x = (int64_t)v;
		uint64_t u = x < 0 ? ~(uint64_t)x : (uint64_t)x;
		size_t n = (size_t)((u ? 64 - __builtin_clzll(u) : 0) + 1 + 7) / 8;
		uint64_t be = __builtin_bswap64((uint64_t)x);
		memcpy(out, (const uint8_t *)&be + 8 - n, n);
		return n;
	}

	for (int i = 15; i >= 0; i--) {
		tmp[i] = (uint8_t)(v & 0xff);
		v >>= 8; /* arithmetic shift keeps the sign */
	}
	/* Drop a leading byte while it only repeats the sign of the next. */
	while (start < 15 &&
	       ((tmp[start] == 0x00 && !(tmp[start + 1] & 0x80)) ||
		(tmp[start] == 0xff && (tmp[start + 1] & 0x80))))
		start++;
	memcpy(out, tmp + start, 16 - start);
	return 16 - start;
}

size_t fg_decimal_format(__int128 v, unsigned scale, char *buf, size_t size)
{
	char tmp[64];
	size_t n = 0, len = 0;
	int neg = v < 0;
	unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;

	do {
		tmp[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u != 0 || n <= scale);
	if (neg)
		buf[len++] = '-';
	while (n > 0 && len + 2 < size) {
		buf[len++] = tmp[--n];
		if (n == scale && scale > 0)
			buf[len++] = '.';
	}
	buf[len] = '\0';
	return len;
}
