/*
 * fg_csv.h: an RFC 4180 reader that remembers where every field starts.
 *
 * Reference tables are refused with file, line and column, so each field
 * carries the 1-based line and byte column of its first character.
 * Quoted fields may hold commas, doubled quotes and line breaks. A UTF-8
 * byte-order mark and CRLF line ends are accepted.
 */
#ifndef FG_CSV_H
#define FG_CSV_H

#include <stddef.h>

#include "fg_common.h"

#define FG_CSV_MAX_FIELDS 16

struct fg_csv_field {
	struct fg_str s; /* unquoted content, valid until the next record */
	unsigned line;
	unsigned col;
};

struct fg_csv_record {
	struct fg_csv_field f[FG_CSV_MAX_FIELDS];
	unsigned n;
	unsigned line; /* line the record starts on */
};

struct fg_csv {
	const char *buf;
	size_t len, pos;
	unsigned line, col;
	char *scratch; /* unescaped field bytes */
	size_t scratch_size;
};

/* Reads from buf (not copied; must outlive the reader). */
int fg_csv_init(struct fg_csv *c, const char *buf, size_t len);
void fg_csv_fini(struct fg_csv *c);
/*
 * Reads the next record. Returns 1 with a record, 0 at the end, -1 on a
 * syntax error (errstr names line:column, without the file).
 */
int fg_csv_next(struct fg_csv *c, struct fg_csv_record *rec, char *errstr, size_t errstr_size);

#endif
