/*
 * test_core_date.c: YYYY-MM-DD <-> days since 1970-01-01 (Avro `date`).
 *
 * Day numbers below were taken from Python's datetime, e.g.
 * (date(2024, 1, 1) - date(1970, 1, 1)).days == 19723. The walk over the
 * whole calendar checks every day against a successor function written
 * here from the Gregorian rules, not against the code's own algorithm.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../core/fg_date.h"
#include "fg_test_util.h"

static int parse(const char *s, int32_t *d)
{
	return fg_date_parse(s, strlen(s), d);
}

static void expect_day(const char *s, int32_t want)
{
	int32_t d = 0x5555;
	char buf[FG_DATE_STR];

	if (parse(s, &d) != 0)
		fail_msg("\"%s\" was refused", s);
	assert_int_equal(d, want);
	fg_date_format(want, buf);
	assert_string_equal(buf, s);
}

static void test_known_days(void **state)
{
	(void)state;
	expect_day("1970-01-01", 0);
	expect_day("1969-12-31", -1);
	expect_day("2024-01-01", 19723);
	expect_day("2000-02-29", 11016);
	expect_day("2000-03-01", 11017);
	expect_day("2024-02-29", 19782);
	expect_day("1900-03-01", -25508);
	expect_day("2100-03-01", 47541);
	expect_day("0001-01-01", -719162);
	expect_day("9999-12-31", 2932896);
	assert_int_equal(fg_date_from_ymd(2024, 1, 1), 19723);
}

static void test_refuses_impossible_dates(void **state)
{
	static const char *const bad[] = {
		"2023-02-29", /* 2023 is not a leap year */
		"1900-02-29", /* divisible by 100, not by 400 */
		"2100-02-29",
		"2024-02-30", "2024-04-31", "2024-06-31", "2024-09-31", "2024-11-31",
		"2024-13-01", "2024-00-10", "2024-01-00", "2024-01-32",
	};
	int32_t d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &d) == 0)
			fail_msg("\"%s\" was accepted", bad[i]);
}

static void test_refuses_other_shapes(void **state)
{
	static const char *const bad[] = {
		"", "2024-1-01", "2024-01-1", "24-01-01", "2024/01/01", "2024-01-01 ", " 2024-01-01",
		"2024-01-01T00:00", "20240101", "2024-0a-01", "+024-01-01", "2024--1-01",
		"2024-01-01Z",
	};
	int32_t d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &d) == 0)
			fail_msg("\"%s\" was accepted", bad[i]);
	/* Only `len` bytes are read: the first ten of a longer buffer are a date. */
	assert_int_equal(fg_date_parse("2024-05-06xyz", 10, &d), 0);
	assert_int_equal(d, 19849); /* 2024-01-01 + 31 + 29 + 31 + 30 + 5 */
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static void test_every_day_from_year_1_to_9999(void **state)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y = 1, m = 1, dd = 1;
	char want[40], got[FG_DATE_STR];

	(void)state;
	for (int32_t day = -719162; day <= 2932896; day++) {
		int32_t back = 0;

		snprintf(want, sizeof(want), "%04d-%02d-%02d", y, m, dd);
		fg_date_format(day, got);
		if (strcmp(want, got) != 0)
			fail_msg("day %d: formatted %s, expected %s", (int)day, got, want);
		if (parse(want, &back) != 0 || back != day)
			fail_msg("%s parsed to %d, expected %d", want, (int)back, (int)day);
		/* next calendar day */
		int len = mdays[m - 1] + (m == 2 && leap(y));
		if (++dd > len) {
			dd = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
}

/* Beyond year 9999 or before year 0 the day number itself is written, whole. */
static void test_out_of_range_days_are_written_whole(void **state)
{
	char buf[FG_DATE_STR];

	(void)state;
	fg_date_format(INT32_MIN, buf);
	assert_string_equal(buf, "-2147483648");
	fg_date_format(INT32_MAX, buf);
	assert_string_equal(buf, "2147483647");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_days),
		cmocka_unit_test(test_refuses_impossible_dates),
		cmocka_unit_test(test_refuses_other_shapes),
		cmocka_unit_test(test_every_day_from_year_1_to_9999),
		cmocka_unit_test(test_out_of_range_days_are_written_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
