/*
 * test_core_decimal.c: decimal strings of the reference tables, Avro
 * decimal bytes of declarations and assessments, and money formatting.
 *
 * Expected values are worked out by hand from the grammar in
 * core/fg_decimal.h ([-]digits[.digits], at most 18 digits) and from
 * two's-complement arithmetic; the comments say how.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../core/fg_avrobin.h"
#include "../../core/fg_decimal.h"
#include "fg_test_util.h"

static int parse(const char *s, struct fg_decimal *d)
{
	char err[128];

	memset(d, 0x55, sizeof(*d));
	return fg_decimal_parse(s, strlen(s), d, err, sizeof(err));
}

static void expect_parse(const char *s, int64_t unscaled, unsigned scale)
{
	struct fg_decimal d;

	if (parse(s, &d) != 0)
		fail_msg("\"%s\" was refused", s);
	assert_int_equal(d.unscaled, unscaled);
	assert_int_equal(d.scale, scale);
}

static void expect_refused(const char *s)
{
	struct fg_decimal d;
	char err[128] = "";

	if (fg_decimal_parse(s, strlen(s), &d, err, sizeof(err)) == 0)
		fail_msg("\"%s\" was accepted", s);
	/* The reason quotes the input so a table error can be read alone. */
	assert_non_null(strstr(err, s));
}

static void test_parse_plain(void **state)
{
	(void)state;
	expect_parse("1234.5678", 12345678, 4);
	expect_parse("7", 7, 0);
	expect_parse("0.45359237", 45359237, 8);
	/* Trailing zeros keep their scale: 1.50 is 150 / 10^2. */
	expect_parse("1.50", 150, 2);
}

static void test_parse_negative_and_zero(void **state)
{
	(void)state;
	expect_parse("-12.345", -12345, 3);
	expect_parse("-0.05", -5, 2);
	expect_parse("0", 0, 0);
	expect_parse("0.00", 0, 2);
	expect_parse("-0", 0, 0);
}

static void test_parse_eighteen_digits(void **state)
{
	(void)state;
	/* 18 digits is the limit and fits in int64 (10^18 - 1 < 2^63). */
	expect_parse("999999999999999999", INT64_C(999999999999999999), 0);
	expect_parse("-999999999999999999", -INT64_C(999999999999999999), 0);
	expect_parse("1234567890.12345678", INT64_C(123456789012345678), 8);
	expect_parse("0.000000000000000001", 1, 18);
	/* Leading zeros are not significant digits. */
	expect_parse("000000000000000000000042", 42, 0);
}

static void test_parse_nineteen_digits_refused(void **state)
{
	(void)state;
	expect_refused("1234567890123456789");
	expect_refused("-1234567890123456789");
	expect_refused("1234567890.123456789");
	/* 19 places after the point: a 19th digit even though it is a zero. */
	expect_refused("0.0000000000000000001");
	expect_refused("1.000000000000000000");
	/* 2^63 would overflow int64: refused by the digit limit, not wrapped. */
	expect_refused("9223372036854775808");
}

static void test_parse_refuses_other_syntax(void **state)
{
	(void)state;
	expect_refused("1e5");
	expect_refused("1.5E2");
	expect_refused("+1");
	expect_refused(" 1");
	expect_refused("1 ");
	expect_refused("1,5");
	expect_refused("1.2.3");
	expect_refused("--1");
	expect_refused("-");
	expect_refused("0x10");
	expect_refused("NaN");

	struct fg_decimal d;
	char err[64];
	assert_int_equal(fg_decimal_parse("", 0, &d, err, sizeof(err)), -1);
	/* The length is honoured: "12" out of "12x" is a decimal. */
	assert_int_equal(fg_decimal_parse("12x", 2, &d, err, sizeof(err)), 0);
	assert_int_equal(d.unscaled, 12);
}

/* Policy (same as the oracle): digits on both sides of a point, so "1." and ".5" are refused. */
static void test_parse_point_needs_digits_both_sides(void **state)
{
	(void)state;
	expect_refused("1.");
	expect_refused(".5");
	expect_refused("-.5");
	expect_refused(".");
}

static void expect_be(const uint8_t *b, size_t len, int64_t want)
{
	int64_t v = 0x5555;

	if (fg_decimal_from_be_bytes(b, len, &v) != 0)
		fail_msg("%zu bytes were refused", len);
	assert_int_equal(v, want);
}

static void expect_be_refused(const uint8_t *b, size_t len)
{
	int64_t v;

	assert_int_equal(fg_decimal_from_be_bytes(b, len, &v), -1);
}

static void test_from_be_bytes_small(void **state)
{
	(void)state;
	expect_be((const uint8_t[]){ 0x00 }, 1, 0);
	expect_be((const uint8_t[]){ 0x7f }, 1, 127);
	expect_be((const uint8_t[]){ 0xff }, 1, -1);
	/* 0x80 alone has the sign bit: -128. With a 0x00 in front it is +128. */
	expect_be((const uint8_t[]){ 0x80 }, 1, -128);
	expect_be((const uint8_t[]){ 0x00, 0x80 }, 2, 128);
	/* 0xff7f = -129 (two's complement of 0x0081). */
	expect_be((const uint8_t[]){ 0xff, 0x7f }, 2, -129);
	/* 0x04d2 = 1234; 0xfb2e = 0xfb2e - 0x10000 = -1234. */
	expect_be((const uint8_t[]){ 0x04, 0xd2 }, 2, 1234);
	expect_be((const uint8_t[]){ 0xfb, 0x2e }, 2, -1234);
	/* Redundant sign bytes are allowed: 00 00 05 is 5, ff ff fb is -5. */
	expect_be((const uint8_t[]){ 0x00, 0x00, 0x05 }, 3, 5);
	expect_be((const uint8_t[]){ 0xff, 0xff, 0xfb }, 3, -5);
}

static void test_from_be_bytes_int64_limits(void **state)
{
	(void)state;
	expect_be((const uint8_t[]){ 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 8, INT64_MAX);
	expect_be((const uint8_t[]){ 0x80, 0, 0, 0, 0, 0, 0, 0 }, 8, INT64_MIN);
	/* The same two values with a redundant ninth sign byte. */
	expect_be((const uint8_t[]){ 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9,
		  INT64_MAX);
	expect_be((const uint8_t[]){ 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0 }, 9, INT64_MIN);
	/* One past each end: 00 80 00.. = 2^63, ff 7f ff.. = -2^63 - 1. */
	expect_be_refused((const uint8_t[]){ 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0 }, 9);
	expect_be_refused((const uint8_t[]){ 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
			  9);
	/* Nine significant bytes: 01 00.. = 2^64. */
	expect_be_refused((const uint8_t[]){ 0x01, 0, 0, 0, 0, 0, 0, 0, 0 }, 9);
	expect_be_refused(NULL, 0);
}

static void test_from_be_bytes_beyond_sixteen(void **state)
{
	uint8_t b[24];

	(void)state;
	/* 24 bytes: 23 zero sign bytes and 0x2a is still 42. */
	memset(b, 0x00, sizeof(b));
	b[23] = 0x2a;
	expect_be(b, 24, 42);
	/* 24 bytes of 0xff then 0xd6: -42 (0xd6 - 0x100). */
	memset(b, 0xff, sizeof(b));
	b[23] = 0xd6;
	expect_be(b, 24, -42);
	/* 17 bytes where the first is not a sign byte: 01 then 16 zeros = 2^128. */
	memset(b, 0x00, sizeof(b));
	b[0] = 0x01;
	expect_be_refused(b, 17);
	/* 17 bytes ff then 00..05: -2^128 + 5, the leading ff is not redundant. */
	memset(b, 0x00, sizeof(b));
	b[0] = 0xff;
	b[16] = 0x05;
	expect_be_refused(b, 17);
	/* 17 bytes 00 80 00..: +2^127, the 0x00 is needed for the sign, so it overflows. */
	memset(b, 0x00, sizeof(b));
	b[1] = 0x80;
	expect_be_refused(b, 17);
}

static void expect_to_be(__int128 v, const uint8_t *want, size_t want_len)
{
	uint8_t out[16];
	size_t n = fg_decimal_to_be_bytes(v, out);
	__int128 back;

	assert_int_equal(n, want_len);
	assert_memory_equal(out, want, want_len);
	/* And back: the reader gives the same value. */
	assert_int_equal(fg_decimal_from_be_bytes128(out, n, &back), 0);
	assert_i128_equal(back, v);
}

static void test_to_be_bytes_minimal(void **state)
{
	(void)state;
	expect_to_be(0, (const uint8_t[]){ 0x00 }, 1);
	expect_to_be(-1, (const uint8_t[]){ 0xff }, 1);
	expect_to_be(127, (const uint8_t[]){ 0x7f }, 1);
	expect_to_be(128, (const uint8_t[]){ 0x00, 0x80 }, 2);
	expect_to_be(-128, (const uint8_t[]){ 0x80 }, 1);
	expect_to_be(-129, (const uint8_t[]){ 0xff, 0x7f }, 2);
	expect_to_be(255, (const uint8_t[]){ 0x00, 0xff }, 2);
	expect_to_be(-5, (const uint8_t[]){ 0xfb }, 1);
	expect_to_be(INT64_MAX, (const uint8_t[]){ 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		     8);
	expect_to_be(INT64_MIN, (const uint8_t[]){ 0x80, 0, 0, 0, 0, 0, 0, 0 }, 8);
	/* 2^63 needs a ninth byte for the sign. */
	expect_to_be((__int128)INT64_MAX + 1, (const uint8_t[]){ 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0 },
		     9);
}

static void test_be_bytes128_extremes(void **state)
{
	uint8_t max[16], min[16], b17[17] = { 0 };
	__int128 v;

	(void)state;
	memset(max, 0xff, sizeof(max));
	max[0] = 0x7f;
	memset(min, 0x00, sizeof(min));
	min[0] = 0x80;
	__int128 imax = (__int128)(((unsigned __int128)1 << 127) - 1);
	expect_to_be(imax, max, 16);
	expect_to_be(-imax - 1, min, 16);
	/* The 128-bit reader takes 1..16 bytes only. */
	assert_int_equal(fg_decimal_from_be_bytes128(b17, 17, &v), -1);
	assert_int_equal(fg_decimal_from_be_bytes128(b17, 0, &v), -1);
}

static void expect_format(__int128 v, unsigned scale, const char *want)
{
	char buf[64];
	size_t n = fg_decimal_format(v, scale, buf, sizeof(buf));

	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void test_format(void **state)
{
	(void)state;
	expect_format(-5, 2, "-0.05");
	expect_format(0, 2, "0.00");
	expect_format(5, 2, "0.05");
	expect_format(123456, 2, "1234.56");
	expect_format(-100, 2, "-1.00");
	expect_format(7, 4, "0.0007");
	expect_format(42, 0, "42");
	expect_format(-42, 0, "-42");
	expect_format(1500, 3, "1.500");
	/* -2^127 cents: the digits of 2^127 with the point two from the end. */
	expect_format(-(__int128)(((unsigned __int128)1 << 127) - 1) - 1, 2,
		      "-1701411834604692317316873037158841057.28");
}

/*
 * The assessment writer's decimal (core/fg_avrobin.h): a one-byte length,
 * zig-zag 2n, then the minimal big-endian bytes. Values that fit in 64 bits
 * take its fast path, the rest fg_avro_decimal_wide_at(); the edges of
 * int64 are where the two meet.
 */
static void expect_avro_decimal(__int128 v, const uint8_t *want, size_t want_len)
{
	uint8_t out[FG_AVRO_DECIMAL_MAX + 8];
	uint8_t *end;

	memset(out, 0xAA, sizeof(out));
	end = fg_avro_decimal_at(out, v);
	assert_int_equal(end - out, 1 + (ptrdiff_t)want_len);
	assert_int_equal(out[0], 2 * want_len);
	assert_memory_equal(out + 1, want, want_len);
	for (size_t i = FG_AVRO_DECIMAL_MAX; i < sizeof(out); i++)
		assert_int_equal(out[i], 0xAA); /* nothing written past its room */
}

static void test_avro_decimal_at_int64_edges(void **state)
{
	const __int128 two64 = (__int128)1 << 64;

	(void)state;
	expect_avro_decimal(0, (const uint8_t[]){ 0x00 }, 1);
	expect_avro_decimal(-1, (const uint8_t[]){ 0xff }, 1);
	expect_avro_decimal(123456, (const uint8_t[]){ 0x01, 0xe2, 0x40 }, 3);
	expect_avro_decimal(INT64_MAX,
			    (const uint8_t[]){ 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 8);
	expect_avro_decimal(INT64_MIN, (const uint8_t[]){ 0x80, 0, 0, 0, 0, 0, 0, 0 }, 8);
	/* One past each end of int64: a ninth byte for the sign. */
	expect_avro_decimal((__int128)INT64_MAX + 1,
			    (const uint8_t[]){ 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0 }, 9);
	expect_avro_decimal((__int128)INT64_MIN - 1,
			    (const uint8_t[]){ 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
			    9);
	/* High half set, low half zero: 2^64 and -2^64. */
	expect_avro_decimal(two64, (const uint8_t[]){ 0x01, 0, 0, 0, 0, 0, 0, 0, 0 }, 9);
	expect_avro_decimal(-two64, (const uint8_t[]){ 0xff, 0, 0, 0, 0, 0, 0, 0, 0 }, 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_plain),
		cmocka_unit_test(test_parse_negative_and_zero),
		cmocka_unit_test(test_parse_eighteen_digits),
		cmocka_unit_test(test_parse_nineteen_digits_refused),
		cmocka_unit_test(test_parse_refuses_other_syntax),
		cmocka_unit_test(test_parse_point_needs_digits_both_sides),
		cmocka_unit_test(test_from_be_bytes_small),
		cmocka_unit_test(test_from_be_bytes_int64_limits),
		cmocka_unit_test(test_from_be_bytes_beyond_sixteen),
		cmocka_unit_test(test_to_be_bytes_minimal),
		cmocka_unit_test(test_be_bytes128_extremes),
		cmocka_unit_test(test_avro_decimal_at_int64_edges),
		cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
