/*
 * fuzz_csv.c: libFuzzer target, the RFC 4180 reader (core/fg_csv.c).
 *
 * The input is the CSV text itself (a corpus file is a CSV file). It is
 * read record by record into a heap copy of exactly its size, so ASan sees
 * any read past the end. For every input the harness abort()s unless:
 *
 *   - every record has 1 to FG_CSV_MAX_FIELDS fields and starts on the
 *     line of its first field;
 *   - every field's line:column is a byte of the input (a line is what
 *     '\n' ends; columns are 1-based bytes, not counting a leading UTF-8
 *     byte-order mark), and that byte is either the field's opening quote
 *     or, for an unquoted field, the start of the field's exact bytes,
 *     which end at a comma, a line end or the end of the input;
 *   - an error names "LINE:COLUMN: reason" with LINE a line of the input
 *     and COLUMN at most one past that line's last byte;
 *   - the records read before the end (or before an error) written back
 *     out, once with minimal quoting and LF, once with every field quoted
 *     and CRLF, read back as the very same records, field by field.
 *
 * The line table and the writer are the harness's own; they do not use
 * the reader under test.
 *
 * Build and run: tests/fuzz/Makefile, tests/fuzz/run.sh; docs/FUZZING.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/fg_csv.h"

#define MAX_RECORDS 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One record's fields, copied out (the reader's bytes live until its next call). */
struct rec {
	unsigned n;
	size_t len[FG_CSV_MAX_FIELDS];
	char *p[FG_CSV_MAX_FIELDS];
};

__attribute__((noreturn)) static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_csv: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

/* Offsets where each line starts (line 1 after a byte-order mark). */
struct lines {
	size_t *start; /* start[k] for line k + 1 */
	size_t n;
};

static void lines_make(struct lines *l, const char *buf, size_t len)
{
	l->n = 1;
	for (size_t i = 0; i < len; i++)
		l->n += buf[i] == '\n';
	l->start = malloc(l->n * sizeof(*l->start));
	if (!l->start)
		die("out of memory", NULL);
	l->start[0] = len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	for (size_t i = 0, k = 1; i < len; i++)
		if (buf[i] == '\n')
			l->start[k++] = i + 1;
}

/* Bytes on line (1-based) before its '\n' or the end of the input. */
static size_t line_len(const struct lines *l, size_t len, unsigned line)
{
	size_t end = line < l->n ? l->start[line] - 1 : len;
	return end - l->start[line - 1];
}

/* An error must be "LINE:COL: reason" with LINE:COL inside the input. */
static void check_error(const struct lines *l, size_t len, const char *err)
{
	unsigned line, col;
	int used = 0;

	if (sscanf(err, "%u:%u: %n", &line, &col, &used) != 2 || used == 0 || !err[used])
		die("error is not \"LINE:COLUMN: reason\"", err);
	if (line < 1 || line > l->n || col < 1 || col > line_len(l, len, line) + 1)
		die("error points outside the input", err);
}

static void check_field(const struct lines *l, const char *buf, size_t len,
			const struct fg_csv_field *f)
{
	char where[64];
	size_t off;

	snprintf(where, sizeof(where), "field at %u:%u", f->line, f->col);
	if (f->line < 1 || f->line > l->n || f->col < 1 ||
	    f->col > line_len(l, len, f->line) + 1)
		die("field position outside the input", where);
	off = l->start[f->line - 1] + f->col - 1;
	if (off < len && buf[off] == '"')
		return; /* quoted: its content is checked by the round trip */
	if (off + f->s.len > len || memcmp(buf + off, f->s.p, f->s.len) != 0)
		die("unquoted field is not the input's bytes at its position", where);
	off += f->s.len;
	if (off < len && buf[off] != ',' && buf[off] != '\n' && buf[off] != '\r')
		die("unquoted field does not end at a comma or line end", where);
}

/* Reads every record of buf; returns how many (stops at an error). */
static size_t read_all(const char *buf, size_t len, struct rec *out, int *failed,
		       char *err, size_t err_size)
{
	struct fg_csv c;
	struct fg_csv_record r;
	size_t n = 0;
	int rc;

	if (fg_csv_init(&c, buf, len))
		die("fg_csv_init failed", NULL);
	err[0] = '\0';
	while (n < MAX_RECORDS && (rc = fg_csv_next(&c, &r, err, err_size)) == 1) {
		struct rec *o = &out[n++];
		if (r.n < 1 || r.n > FG_CSV_MAX_FIELDS)
			die("record with a field count out of range", NULL);
		if (r.line != r.f[0].line)
			die("record line is not its first field's line", NULL);
		o->n = r.n;
		for (unsigned k = 0; k < r.n; k++) {
			o->len[k] = r.f[k].s.len;
			o->p[k] = malloc(r.f[k].s.len + 1);
			if (!o->p[k])
				die("out of memory", NULL);
			memcpy(o->p[k], r.f[k].s.p, r.f[k].s.len);
		}
		err[0] = '\0';
	}
	*failed = n < MAX_RECORDS && rc < 0;
	fg_csv_fini(&c);
	return n;
}

static void free_recs(struct rec *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (unsigned k = 0; k < v[i].n; k++)
			free(v[i].p[k]);
}

static int needs_quotes(const char *p, size_t len, int first)
{
	if (first && len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		return 1; /* would be read as a byte-order mark */
	for (size_t i = 0; i < len; i++)
		if (p[i] == ',' || p[i] == '"' || p[i] == '\n' || p[i] == '\r')
			return 1;
	return 0;
}

/* RFC 4180 text of the records; the caller frees it. */
static char *write_all(const struct rec *v, size_t n, int quote_all, const char *eol,
		       size_t *len)
{
	size_t cap = 16, o = 0;
	char *s;

	for (size_t i = 0; i < n; i++)
		for (unsigned k = 0; k < v[i].n; k++)
			cap += 2 * v[i].len[k] + 4;
	if (!(s = malloc(cap)))
		die("out of memory", NULL);
	for (size_t i = 0; i < n; i++) {
		for (unsigned k = 0; k < v[i].n; k++) {
			const char *p = v[i].p[k];
			size_t len_k = v[i].len[k];
			int q = quote_all || needs_quotes(p, len_k, i == 0 && k == 0);
			if (k)
				s[o++] = ',';
			if (q)
				s[o++] = '"';
			for (size_t j = 0; j < len_k; j++) {
				if (p[j] == '"')
					s[o++] = '"';
				s[o++] = p[j];
			}
			if (q)
				s[o++] = '"';
		}
		for (const char *e = eol; *e; e++)
			s[o++] = *e;
	}
	*len = o;
	return s;
}

static void round_trip(const struct rec *v, size_t n, int quote_all, const char *eol)
{
	static struct rec again[MAX_RECORDS];
	char err[256];
	size_t len, m;
	int failed;
	char *text = write_all(v, n, quote_all, eol, &len);

	m = read_all(text, len, again, &failed, err, sizeof(err));
	if (failed)
		die("written records are refused", err);
	if (m != n)
		die("written records read back as a different number of records", NULL);
	for (size_t i = 0; i < n; i++) {
		if (again[i].n != v[i].n)
			die("a written record reads back with a different field count", NULL);
		for (unsigned k = 0; k < v[i].n; k++)
			if (again[i].len[k] != v[i].len[k] ||
			    memcmp(again[i].p[k], v[i].p[k], v[i].len[k]) != 0)
				die("a written field reads back different", NULL);
	}
	free_recs(again, m);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rec recs[MAX_RECORDS];
	char *buf = malloc(size ? size : 1); /* exactly the input: ASan sees any overread */
	struct lines l;
	struct fg_csv c;
	struct fg_csv_record r;
	char err[256];
	size_t n = 0;
	int rc, failed;

	if (!buf)
		die("out of memory", NULL);
	memcpy(buf, data, size);
	lines_make(&l, buf, size);

	/* Positions, checked on the reader's own records. */
	if (fg_csv_init(&c, buf, size))
		die("fg_csv_init failed", NULL);
	err[0] = '\0';
	while ((rc = fg_csv_next(&c, &r, err, sizeof(err))) == 1)
		for (unsigned k = 0; k < r.n; k++)
			check_field(&l, buf, size, &r.f[k]);
	if (rc < 0)
		check_error(&l, size, err);
	else if (rc != 0)
		die("fg_csv_next returned neither 1, 0 nor -1", NULL);
	if (rc == 0 && fg_csv_next(&c, &r, err, sizeof(err)) != 0)
		die("fg_csv_next goes on after the end", NULL);
	fg_csv_fini(&c);

	/* Content: what was read, written out and read again, is the same. */
	n = read_all(buf, size, recs, &failed, err, sizeof(err));
	round_trip(recs, n, 0, "\n");
	round_trip(recs, n, 1, "\r\n");
	free_recs(recs, n);
	free(l.start);
	free(buf);
	return 0;
}
