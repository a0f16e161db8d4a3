/*
 * fg_csv_lines.h: assessments as CSV, one row per assessed line.
 *
 * For people and spreadsheets next to the Avro outputs (`floorgate replay
 * --csv`): each row repeats its declaration's fields, then the line's
 * classification, treatment and money, then the reference-data version.
 * Money is written exactly (decimal strings with 2 places, never a float),
 * flags are joined with '|', and a field holding a comma, quote or line
 * break is quoted as RFC 4180 says. Rows are appended to a caller's
 * buffer, so workers can format in parallel and one writer keeps order.
 */
#ifndef FG_CSV_LINES_H
#define FG_CSV_LINES_H

#include "../core/fg_avrobin.h"
#include "../pricing/fg_assess.h"

/* The header row, with its line break. */
extern const char fg_csv_lines_header[];

/*
 * Appends one row per line of `as` to b (b->oom set when it could not grow).
 * source names the input: a record number or "partition:offset".
 */
void fg_csv_lines_append(struct fg_avrobin *b, const struct fg_assessment *as, const char *source);

#endif
