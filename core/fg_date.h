/* fg_date.h: calendar dates as days since 1970-01-01 (Avro's `date`). */
#ifndef FG_DATE_H
#define FG_DATE_H

#include <stddef.h>
#include <stdint.h>

/* Parses exactly YYYY-MM-DD (a real calendar date). Returns 0 or -1. */
int fg_date_parse(const char *s, size_t len, int32_t *days);
/* Writes YYYY-MM-DD and a NUL into buf (11 bytes). */
void fg_date_format(int32_t days, char buf[11]);
int32_t fg_date_from_ymd(int y, unsigned m, unsigned d);

#endif
