/* fg_date.h: calendar dates as days since 1970-01-01 (Avro's `date`). */
#ifndef FG_DATE_H
#define FG_DATE_H

#include <stddef.h>
#include <stdint.h>

/* Parses exactly YYYY-MM-DD (a real calendar date). Returns 0 or -1. */
int fg_date_parse(const char *s, size_t len, int32_t *days);
/* Bytes fg_date_format() needs: YYYY-MM-DD, or the day number itself for a
 * year outside 0000..9999 (down to -2147483648), and a NUL. */
#define FG_DATE_STR 12
/* Writes YYYY-MM-DD and a NUL into buf. */
void fg_date_format(int32_t days, char buf[FG_DATE_STR]);
int32_t fg_date_from_ymd(int y, unsigned m, unsigned d);

#endif
