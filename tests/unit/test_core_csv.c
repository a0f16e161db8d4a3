/*
 * test_core_csv.c: the RFC 4180 reader behind the reference tables.
 *
 * Reference-table errors name line:column, so every test checks where
 * fields start as well as what they hold. Columns are 1-based byte
 * offsets, counted by hand in each input (the comments show the count).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../core/fg_csv.h"
#include "fg_test_util.h"

struct reader {
	struct fg_csv c;
	struct fg_csv_record rec;
	char err[128];
};

static void open_text(struct reader *r, const char *text)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(fg_csv_init(&r->c, text, strlen(text)), 0);
}

static int next(struct reader *r)
{
	r->err[0] = '\0';
	return fg_csv_next(&r->c, &r->rec, r->err, sizeof(r->err));
}

static void expect_field(const struct reader *r, unsigned i, const char *s, unsigned line,
			 unsigned col)
{
	const struct fg_csv_field *f;

	assert_true(i < r->rec.n);
	f = &r->rec.f[i];
	if (f->s.len != strlen(s) || memcmp(f->s.p, s, f->s.len) != 0)
		fail_msg("field %u is \"%.*s\", expected \"%s\"", i, (int)f->s.len, f->s.p, s);
	assert_int_equal(f->line, line);
	assert_int_equal(f->col, col);
}

static void test_plain_records(void **state)
{
	struct reader r;

	(void)state;
	open_text(&r, "a,bb,ccc\n1,22,333\n");
	assert_int_equal(next(&r), 1);
	assert_int_equal(r.rec.n, 3);
	assert_int_equal(r.rec.line, 1);
	/* a at 1, bb at 3, ccc at 6 */
	expect_field(&r, 0, "a", 1, 1);
	expect_field(&r, 1, "bb", 1, 3);
	expect_field(&r, 2, "ccc", 1, 6);
	assert_int_equal(next(&r), 1);
	assert_int_equal(r.rec.line, 2);
	expect_field(&r, 2, "333", 2, 6);
	assert_int_equal(next(&r), 0);
	assert_int_equal(next(&r), 0);
	fg_csv_fini(&r.c);
}

static void test_empty_fields_and_no_final_newline(void **state)
{
	struct reader r;

	(void)state;
	open_text(&r, ",,\nx,,y");
	assert_int_equal(next(&r), 1);
	assert_int_equal(r.rec.n, 3);
	expect_field(&r, 0, "", 1, 1);
	expect_field(&r, 1, "", 1, 2);
	expect_field(&r, 2, "", 1, 3);
	/* the last record has no line end */
	assert_int_equal(next(&r), 1);
	expect_field(&r, 0, "x", 2, 1);
	expect_field(&r, 1, "", 2, 3);
	expect_field(&r, 2, "y", 2, 4);
	assert_int_equal(next(&r), 0);
	fg_csv_fini(&r.c);
}

static void test_quotes_and_doubled_quotes(void **state)
{
	struct reader r;

	(void)state;
	/* "he said ""hi""" is 16 bytes: the next field starts at 18. */
	open_text(&r, "\"he said \"\"hi\"\"\",x,\"\"\n");
	assert_int_equal(next(&r), 1);
	assert_int_equal(r.rec.n, 3);
	expect_field(&r, 0, "he said \"hi\"", 1, 1);
	expect_field(&r, 1, "x", 1, 18);
	/* "" is an empty quoted field */
	expect_field(&r, 2, "", 1, 20);
	fg_csv_fini(&r.c);
}

static void test_embedded_comma_and_newlines_keep_line_numbers(void **state)
{
	struct reader r;

	(void)state;
	/*
	 * line 1: h1,h2
	 * line 2: "x,     <- quoted field opens at 2:1
	 * line 3: y",z    <- z at 3:4
	 * line 4: "a      <- second field of the record opened on line 4
	 * line 5: b
	 * line 6: c",d    <- d at 6:4
	 * line 7: next,row
	 */
	open_text(&r, "h1,h2\n\"x,\ny\",z\n\"a\nb\nc\",d\nnext,row\n");
	assert_int_equal(next(&r), 1);
	assert_int_equal(next(&r), 1);
	assert_int_equal(r.rec.line, 2);
	expect_field(&r, 0, "x,\ny", 2, 1);
	expect_field(&r, 1, "z", 3, 4);
	assert_int_equal(next(&r), 1);
	assert_int_equal(r.rec.line, 4);
	expect_field(&r, 0, "a\nb\nc", 4, 1);
	expect_field(&r, 1, "d", 6, 4);
	assert_int_equal(next(&r), 1);
	assert_int_equal(r.rec.line, 7);
	expect_field(&r, 0, "next", 7, 1);
	expect_field(&r, 1, "row", 7, 6);
	assert_int_equal(next(&r), 0);
	fg_csv_fini(&r.c);
}

static void test_crlf(void **state)
{
	struct reader r;

	(void)state;
	/* CRLF ends records and is not part of the last field; inside quotes it is kept. */
	open_text(&r, "a,b\r\nc,\"d\r\ne\"\r\nf,g\r");
	assert_int_equal(next(&r), 1);
	expect_field(&r, 1, "b", 1, 3);
	assert_int_equal(next(&r), 1);
	expect_field(&r, 0, "c", 2, 1);
	expect_field(&r, 1, "d\r\ne", 2, 3);
	assert_int_equal(next(&r), 1);
	/* the quoted line break moved the next record to line 4; a final lone CR ends it */
	assert_int_equal(r.rec.line, 4);
	expect_field(&r, 0, "f", 4, 1);
	expect_field(&r, 1, "g", 4, 3);
	assert_int_equal(next(&r), 0);
	fg_csv_fini(&r.c);
}

static void test_bom_is_skipped(void **state)
{
	struct reader r;

	(void)state;
	open_text(&r, "\xef\xbb\xbfrule_id,x\n");
	assert_int_equal(next(&r), 1);
	/* The header's first name does not carry the BOM, and it is column 1 for a reader. */
	expect_field(&r, 0, "rule_id", 1, 1);
	expect_field(&r, 1, "x", 1, 9);
	assert_int_equal(next(&r), 0);
	fg_csv_fini(&r.c);

	/* A BOM alone is an empty file. */
	open_text(&r, "\xef\xbb\xbf");
	assert_int_equal(next(&r), 0);
	fg_csv_fini(&r.c);
}

static void test_columns_count_bytes(void **state)
{
	struct reader r;

	(void)state;
	/* "é" is two bytes in UTF-8: x starts at byte column 4. */
	open_text(&r, "\xc3\xa9,x\n");
	assert_int_equal(next(&r), 1);
	expect_field(&r, 1, "x", 1, 4);
	fg_csv_fini(&r.c);
}

static void test_unterminated_quote(void **state)
{
	struct reader r;

	(void)state;
	/* The open quote is on line 2, column 3 (after "c,"); the error points there. */
	open_text(&r, "a,b\nc,\"never closed\nmore\n");
	assert_int_equal(next(&r), 1);
	assert_int_equal(next(&r), -1);
	assert_non_null(strstr(r.err, "2:3:"));
	assert_non_null(strstr(r.err, "not closed"));
	fg_csv_fini(&r.c);
}

static void test_quote_inside_unquoted_field(void **state)
{
	struct reader r;

	(void)state;
	/* line 2 is: x,ab"c  -> the quote is byte 5 */
	open_text(&r, "h,h\nx,ab\"c\n");
	assert_int_equal(next(&r), 1);
	assert_int_equal(next(&r), -1);
	assert_non_null(strstr(r.err, "2:5:"));
	assert_non_null(strstr(r.err, "quote"));
	fg_csv_fini(&r.c);
}

static void test_text_after_closing_quote(void **state)
{
	struct reader r;

	(void)state;
	/* "ab"c: the stray c is column 5 */
	open_text(&r, "\"ab\"c,d\n");
	assert_int_equal(next(&r), -1);
	assert_non_null(strstr(r.err, "1:5:"));
	fg_csv_fini(&r.c);
}

static void test_too_many_fields(void **state)
{
	char line[64];
	struct reader r;

	(void)state;
	/* 17 one-letter fields: a,a,...,a; the 17th starts at column 33 */
	memset(line, 0, sizeof(line));
	for (int i = 0; i < 17; i++)
		strcat(line, i ? ",a" : "a");
	strcat(line, "\n");
	open_text(&r, line);
	assert_int_equal(next(&r), -1);
	assert_non_null(strstr(r.err, "1:33:"));
	fg_csv_fini(&r.c);
	/* 16 is fine */
	line[31] = '\n';
	line[32] = '\0';
	open_text(&r, line);
	assert_int_equal(next(&r), 1);
	assert_int_equal(r.rec.n, FG_CSV_MAX_FIELDS);
	fg_csv_fini(&r.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_records),
		cmocka_unit_test(test_empty_fields_and_no_final_newline),
		cmocka_unit_test(test_quotes_and_doubled_quotes),
		cmocka_unit_test(test_embedded_comma_and_newlines_keep_line_numbers),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_bom_is_skipped),
		cmocka_unit_test(test_columns_count_bytes),
		cmocka_unit_test(test_unterminated_quote),
		cmocka_unit_test(test_quote_inside_unquoted_field),
		cmocka_unit_test(test_text_after_closing_quote),
		cmocka_unit_test(test_too_many_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
