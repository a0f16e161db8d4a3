/*
 * test_ingest_frame.c: the Confluent wire format (contract section 1):
 * byte 0 is the magic 0, bytes 1-4 the schema id big-endian, then the body.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../core/fg_common.h"
#include "../../ingest/fg_frame.h"
#include "fg_test_util.h"

static void test_parse_id_and_body(void **state)
{
	const uint8_t msg[] = { 0x00, 0x00, 0x00, 0x00, 0x07, 0xaa, 0xbb };
	int32_t id = -1;
	const uint8_t *body = NULL;
	size_t body_len = 99;
	const char *why = NULL;

	(void)state;
	assert_int_equal(fg_frame_parse(msg, sizeof(msg), &id, &body, &body_len, &why), 0);
	assert_int_equal(id, 7);
	assert_ptr_equal(body, msg + 5);
	assert_int_equal(body_len, 2);
}

static void test_id_is_big_endian(void **state)
{
	const uint8_t a[] = { 0x00, 0x01, 0x02, 0x03, 0x04 };
	const uint8_t b[] = { 0x00, 0x00, 0x00, 0x01, 0x00 };
	const uint8_t c[] = { 0x00, 0x7f, 0xff, 0xff, 0xff };
	int32_t id;
	const uint8_t *body;
	size_t body_len;
	const char *why;

	(void)state;
	assert_int_equal(fg_frame_parse(a, sizeof(a), &id, &body, &body_len, &why), 0);
	assert_int_equal(id, 0x01020304);
	assert_int_equal(fg_frame_parse(b, sizeof(b), &id, &body, &body_len, &why), 0);
	assert_int_equal(id, 256);
	assert_int_equal(fg_frame_parse(c, sizeof(c), &id, &body, &body_len, &why), 0);
	assert_int_equal(id, INT32_MAX);
	/* exactly five bytes: a frame with an empty body (the decoder refuses it later) */
	assert_int_equal(body_len, 0);
}

static void test_too_short(void **state)
{
	const uint8_t msg[] = { 0x00, 0x00, 0x00, 0x01 };
	int32_t id;
	const uint8_t *body;
	size_t body_len;
	const char *why = NULL;

	(void)state;
	for (size_t len = 0; len < 5; len++) {
		why = NULL;
		assert_int_equal(fg_frame_parse(msg, len, &id, &body, &body_len, &why), -1);
		assert_non_null(why);
		assert_non_null(strstr(why, "shorter than 5"));
	}
}

static void test_bad_magic(void **state)
{
	const uint8_t one[] = { 0x01, 0x00, 0x00, 0x00, 0x01, 0x02 };
	const uint8_t ff[] = { 0xff, 0x00, 0x00, 0x00, 0x01, 0x02 };
	int32_t id;
	const uint8_t *body;
	size_t body_len;
	const char *why = NULL;

	(void)state;
	assert_int_equal(fg_frame_parse(one, sizeof(one), &id, &body, &body_len, &why), -1);
	assert_non_null(strstr(why, "magic"));
	why = NULL;
	assert_int_equal(fg_frame_parse(ff, sizeof(ff), &id, &body, &body_len, &why), -1);
	assert_non_null(strstr(why, "magic"));
}

static void test_header_round_trip(void **state)
{
	uint8_t hdr[FG_FRAME_HEADER_LEN];
	const int32_t ids[] = { 0, 1, 255, 256, 0x01020304, INT32_MAX, -1 };
	int32_t id;
	const uint8_t *body;
	size_t body_len;
	const char *why;

	(void)state;
	fg_frame_header(0x01020304, hdr);
	assert_memory_equal(hdr, ((const uint8_t[]){ 0x00, 0x01, 0x02, 0x03, 0x04 }), 5);
	fg_frame_header(-1, hdr);
	assert_memory_equal(hdr, ((const uint8_t[]){ 0x00, 0xff, 0xff, 0xff, 0xff }), 5);
	for (size_t i = 0; i < FG_ARRAY_LEN(ids); i++) {
		fg_frame_header(ids[i], hdr);
		assert_int_equal(fg_frame_parse(hdr, sizeof(hdr), &id, &body, &body_len, &why), 0);
		assert_int_equal(id, ids[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_id_and_body),
		cmocka_unit_test(test_id_is_big_endian),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_header_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
