#include "fg_csv.h"

#include <stdlib.h>
#include <string.h>

int fg_csv_init(struct fg_csv *c, const char *buf, size_t len)
{
	memset(c, 0, sizeof(*c));
	c->buf = buf;
	c->len = len;
	c->line = 1;
	c->col = 1;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		c->pos = 3;
	c->scratch_size = len + 1;
	c->scratch = malloc(c->scratch_size);
	return c->scratch ? 0 : -1;
}

void fg_csv_fini(struct fg_csv *c)
{
	free(c->scratch);
	c->scratch = NULL;
}

static int at_eol(const struct fg_csv *c)
{
	return c->pos >= c->len || c->buf[c->pos] == '\n' ||
	       (c->buf[c->pos] == '\r' && c->pos + 1 < c->len && c->buf[c->pos + 1] == '\n') ||
	       (c->buf[c->pos] == '\r' && c->pos + 1 == c->len);
}

static void skip_eol(struct fg_csv *c)
{
	if (c->pos < c->len && c->buf[c->pos] == '\r')
		c->pos++;
	if (c->pos < c->len && c->buf[c->pos] == '\n')
		c->pos++;
	c->line++;
	c->col = 1;
}

int fg_csv_next(struct fg_csv *c, struct fg_csv_record *rec, char *errstr, size_t errstr_size)
{
	size_t out = 0;

	if (c->pos >= c->len)
		return 0;
	rec->n = 0;
	rec->line = c->line;
	for (;;) {
		struct fg_csv_field *f;

		if (rec->n == FG_CSV_MAX_FIELDS) {
			fg_errf(errstr, errstr_size, "%u:%u: more than %d fields",
				c->line, c->col, FG_CSV_MAX_FIELDS);
			return -1;
		}
		f = &rec->f[rec->n++];
		f->line = c->line;
		f->col = c->col;
		f->s.p = c->scratch + out;
		if (c->pos < c->len && c->buf[c->pos] == '"') {
			c->pos++;
			c->col++;
			for (;;) {
				if (c->pos >= c->len) {
					fg_errf(errstr, errstr_size,
						"%u:%u: quoted field is not closed", f->line, f->col);
					return -1;
				}
				char ch = c->buf[c->pos++];
				c->col++;
				if (ch == '"') {
					if (c->pos < c->len && c->buf[c->pos] == '"') {
						c->pos++;
						c->col++;
						c->scratch[out++] = '"';
						continue;
					}
					break;
				}
				if (ch == '\n') {
					c->line++;
					c->col = 1;
				}
				c->scratch[out++] = ch;
			}
			if (!at_eol(c) && c->buf[c->pos] != ',') {
				fg_errf(errstr, errstr_size,
					"%u:%u: unexpected character after closing quote", c->line, c->col);
				return -1;
			}
		} else {
			while (!at_eol(c) && c->buf[c->pos] != ',') {
				char ch = c->buf[c->pos++];
				if (ch == '"') {
					fg_errf(errstr, errstr_size,
						"%u:%u: quote inside an unquoted field", c->line, c->col);
					return -1;
				}
				c->col++;
				c->scratch[out++] = ch;
			}
		}
		f->s.len = (size_t)(c->scratch + out - f->s.p);
		if (at_eol(c)) {
			skip_eol(c);
			return 1;
		}
		c->pos++; /* comma */
		c->col++;
	}
}
