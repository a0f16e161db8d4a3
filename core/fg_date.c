#include "fg_date.h"

#include <stdio.h>

/* Howard Hinnant's days_from_civil / civil_from_days, proleptic Gregorian. */
int32_t fg_date_from_ymd(int y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int32_t)(era * 146097 + (int)doe - 719468);
}

static void civil(int32_t days, int *y, unsigned *m, unsigned *d)
{
	/* 64-bit: days near INT32_MAX (an Avro date can be any int) would overflow */
	const int64_t z = (int64_t)days + 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

static unsigned days_in_month(int y, unsigned m)
{
	static const unsigned dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dim[m - 1];
}

int fg_date_parse(const char *s, size_t len, int32_t *days)
{
	int y = 0;
	unsigned m = 0, d = 0;

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (size_t i = 0; i < 10; i++) {
		if (i == 4 || i == 7)
			continue;
		if (s[i] < '0' || s[i] > '9')
			return -1;
	}
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
	d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	*days = fg_date_from_ymd(y, m, d);
	return 0;
}

void fg_date_format(int32_t days, char buf[FG_DATE_STR])
{
	int y;
	unsigned m, d;

	civil(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		snprintf(buf, FG_DATE_STR, "%d", (int)days);
		return;
	}
	snprintf(buf, FG_DATE_STR, "%04d-%02u-%02u", y, m % 100u, d % 100u);
}
