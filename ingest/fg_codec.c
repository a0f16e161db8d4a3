/*
 * fg_codec.c: declaration.avsc's Avro binary encoding, read by hand.
 *
 * DESIGN
 * Why it exists. Avro C's generic read costs 1.4-2.7 us per declaration:
 * a function dispatch and a one-byte memcpy per varint byte, a malloc and
 * a copy per string, refcounted values (performance-anchors.md section 3).
 * This file knows the one schema floorgate reads and walks the bytes in
 * field order: strings become views into the body (zero copies), and
 * nothing is allocated once the caller's line array has grown to the
 * largest declaration seen. On the generator's traffic (188-byte bodies,
 * 2.5 lines) it takes ~125 ns per declaration where the generic read and
 * extraction take 1.5-2.2 us (2.1-2.7 us with fg_decode.c's skip pass).
 *
 * What it trusts. Nothing in the body, which comes off Kafka from anyone:
 * every length, count, union branch and enum symbol is checked against
 * the schema and against the bytes left before it is used. A varint is at
 * most 10 bytes and fits in 64 bits; an `int` fits in 32; a block of lines
 * must be able to fit in the bytes left (a line takes at least
 * MIN_LINE_BYTES) before the line array grows for it, so a forged count
 * cannot make it allocate; a body must be consumed exactly. What it does
 * trust is its caller's choice of this decoder: Avro binary carries no
 * types, so the body must have been written with a schema equal to
 * declaration.avsc. fg_decode.c calls it only then.
 *
 * How it relates to Avro C. Avro C stays the reference: it parses the
 * schemas, it reads bodies of every other writer schema (fg_decode.c
 * resolves those against the reader by name, from Avro C's generic value
 * of the writer), and it is the oracle this file is tested against:
 * tests/unit/test_ingest_codec.c compares both on every field type and
 * tests/fuzz/fuzz_decode.c on arbitrary bytes, requiring the same fg_decl
 * or a refusal from both. Where this decoder refuses what Avro C 1.11.1
 * lets through, the Avro specification is on its side, and the fuzz
 * harness tolerates exactly these cases and no others:
 *   - a 10-byte varint with bits above bit 63 (Avro C drops them);
 *   - an enum index outside int32 (Avro C truncates it to an int);
 *   - an array block with a negative count whose byte size is not the
 *     size of its items (Avro C reads the size and ignores it).
 * Strings are not checked for UTF-8; Avro C does not check either, and
 * both paths must give the same fg_decl.
 *
 * Changing declaration.avsc means changing this file; the unit test
 * compares the two paths on the compiled-in schema, so a drift fails it.
 */
#include "fg_codec.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fg_common.h"
#include "../core/fg_decimal.h"

/*
 * Fewest bytes a GoodsLine takes: item_no (1), three empty strings (3),
 * two decimals of one byte (4: a decimal is never empty), two null
 * branches (2).
 */
#define MIN_LINE_BYTES 10
/* Same bound as the generic path in fg_decode.c. */
#define MAX_LINES (UINT32_MAX / 2)
#define NO_LINE UINT32_MAX

struct cursor {
	const uint8_t *p, *end, *base;
	uint32_t line; /* index of the line being read, NO_LINE outside lines */
	char *msg;
	size_t msg_size;
};

static size_t off(const struct cursor *c, const uint8_t *at)
{
	return (size_t)(at - c->base);
}

static size_t left(const struct cursor *c)
{
	return (size_t)(c->end - c->p);
}

/* Writes "field: what" into the caller's message, the field qualified by its line. */
__attribute__((cold, noinline, format(printf, 3, 4))) static void
say(const struct cursor *c, const char *field, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (c->line != NO_LINE)
		fg_errf(c->msg, c->msg_size, "lines[%u].%s: %s", c->line, field, what);
	else
		fg_errf(c->msg, c->msg_size, "%s: %s", field, what);
}

/*
 * Says why and evaluates to -1; the -1 is spelled out here, not returned
 * by the out-of-line say(), so the compiler sees that every 0 return has
 * set its outputs.
 */
#define FAIL(...) (say(__VA_ARGS__), -1)

/* Says why the varint at c->p cannot be read (read_long's slow path). */
__attribute__((cold, noinline)) static void varint_fail(const struct cursor *c,
						       const char *field)
{
	const uint8_t *p = c->p;
	size_t at = off(c, p);

	if (p == c->end) {
		say(c, field, "body ends at byte %zu where the value should start", at);
		return;
	}
	for (int i = 0; i < 10; i++, p++) {
		if (p == c->end) {
			say(c, field, "body ends inside the varint at byte %zu", at);
			return;
		}
		if (*p & 0x80)
			continue;
		if (i == 9 && (*p & 0x7e)) {
			say(c, field, "varint at byte %zu overflows 64 bits", at);
			return;
		}
		break; /* not reached: read_long fails only for the reasons here */
	}
	say(c, field, "varint at byte %zu is %s", at,
	    p - c->p >= 10 ? "longer than 10 bytes" : "malformed");
}

/* A zig-zag varint: at most 10 bytes, no bits above 64. */
static inline int read_long(struct cursor *c, const char *field, int64_t *out)
{
	const uint8_t *p = c->p;
	uint64_t z = 0;
	unsigned shift = 0;
	uint8_t b;

	/* Most varints in a declaration (lengths, item numbers, union
	 * branches, counts) are one byte: no loop for them. */
	if (__builtin_expect(p != c->end && *p < 0x80, 1)) {
		z = *p;
		c->p = p + 1;
		*out = (int64_t)((z >> 1) ^ (0 - (z & 1)));
		return 0;
	}
	for (;;) {
		if (p == c->end || shift == 70) {
			varint_fail(c, field);
			return -1;
		}
		b = *p++;
		z |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
		shift += 7;
	}
	if (shift == 63 && (b & 0x7e)) {
		varint_fail(c, field);
		return -1;
	}
	c->p = p;
	/* Unsigned until the end: zig-zag of INT64_MIN must not overflow. */
	*out = (int64_t)((z >> 1) ^ (0 - (z & 1)));
	return 0;
}

static inline int read_int(struct cursor *c, const char *field, int32_t *out)
{
	const uint8_t *at = c->p;
	int64_t v;

	if (read_long(c, field, &v))
		return -1;
	if (v < INT32_MIN || v > INT32_MAX)
		return FAIL(c, field, "%lld at byte %zu is outside the int range", (long long)v,
			    off(c, at));
	*out = (int32_t)v;
	return 0;
}

/* Length-prefixed bytes, left in place. */
static inline int read_bytes(struct cursor *c, const char *field, const uint8_t **b, size_t *n)
{
	const uint8_t *at = c->p;
	int64_t len;

	if (read_long(c, field, &len))
		return -1;
	if (len < 0)
		return FAIL(c, field, "negative length %lld at byte %zu", (long long)len,
			    off(c, at));
	if ((uint64_t)len > left(c))
		return FAIL(c, field,
			    "length %lld at byte %zu runs past the end of the body (%zu bytes left)",
			    (long long)len, off(c, at), left(c));
	*b = c->p;
	*n = (size_t)len;
	c->p += len;
	return 0;
}

static inline int read_str(struct cursor *c, const char *field, struct fg_str *out)
{
	const uint8_t *b;
	size_t n;

	if (read_bytes(c, field, &b, &n))
		return -1;
	out->p = (const char *)b;
	out->len = n;
	return 0;
}

/* An Avro decimal (bytes, two's complement big-endian); the scale is the schema's. */
static inline int read_decimal(struct cursor *c, const char *field, int64_t *out)
{
	const uint8_t *at = c->p, *b;
	size_t n;

	if (read_bytes(c, field, &b, &n))
		return -1;
	if (n >= 1 && n <= 8) {
		/* The usual size. With 8 bytes left in the body from b, one load:
		 * the n bytes are the top of the big-endian word, and an
		 * arithmetic shift brings them down with their sign. */
		if (c->end - b >= 8) {
			uint64_t be;
			memcpy(&be, b, 8);
			*out = (int64_t)__builtin_bswap64(be) >> (64 - 8 * n);
			return 0;
		}
		uint64_t v = (b[0] & 0x80) ? ~(uint64_t)0 : 0;
		for (size_t i = 0; i < n; i++)
			v = (v << 8) | b[i];
		*out = (int64_t)v;
		return 0;
	}
	if (fg_decimal_from_be_bytes(b, n, out))
		return FAIL(c, field, n ? "decimal of %zu bytes at byte %zu does not fit in 64 bits"
					: "decimal of %zu bytes at byte %zu is empty",
			    n, off(c, at));
	return 0;
}

/* The branch of ["null", T]: *present = 0 for null, 1 for T. */
static inline int read_branch(struct cursor *c, const char *field, int *present)
{
	const uint8_t *at = c->p;
	int64_t v;

	if (read_long(c, field, &v))
		return -1;
	if (v != 0 && v != 1)
		return FAIL(c, field, "union branch %lld at byte %zu is neither 0 (null) nor 1",
			    (long long)v, off(c, at));
	*present = (int)v;
	return 0;
}

static int read_line(struct cursor *c, struct fg_decl_line *l)
{
	int present;

	if (read_int(c, "item_no", &l->item_no) ||
	    read_str(c, "commodity_code", &l->commodity_code) ||
	    read_str(c, "description", &l->description) ||
	    read_str(c, "origin_country", &l->origin_country) ||
	    read_decimal(c, "net_mass_kg", &l->net_mass_kg) ||
	    read_decimal(c, "customs_value", &l->customs_value) ||
	    read_branch(c, "content", &present))
		return -1;
	l->has_content = present;
	if (present) {
		if (read_str(c, "content.element", &l->content_element) ||
		    read_decimal(c, "content.percent", &l->content_percent))
			return -1;
	} else {
		l->content_element = fg_str_make(NULL, 0);
		l->content_percent = 0;
	}
	if (read_branch(c, "preference_claim", &present))
		return -1;
	l->has_preference_claim = present;
	if (present) {
		if (read_str(c, "preference_claim", &l->preference_claim))
			return -1;
	} else {
		l->preference_claim = fg_str_make(NULL, 0);
	}
	return 0;
}

/* Makes room for `need` lines; the array only grows. */
static int grow_lines(struct cursor *c, struct fg_decl_line **lines, uint32_t *cap_lines,
		      uint64_t need)
{
	uint64_t cap = (uint64_t)*cap_lines * 2;
	struct fg_decl_line *nl;

	if (cap < need)
		cap = need;
	if (cap > MAX_LINES)
		cap = MAX_LINES;
	nl = realloc(*lines, (size_t)cap * sizeof(*nl));
	if (!nl)
		return FAIL(c, "lines", "out of memory for %llu lines", (unsigned long long)need);
	*lines = nl;
	*cap_lines = (uint32_t)cap;
	return 0;
}

/*
 * The lines array: blocks of `count` items ending with a count of 0; a
 * negative count is followed by the block's size in bytes.
 */
static int read_lines(struct cursor *c, struct fg_decl_line **lines, uint32_t *cap_lines,
		      uint32_t *n_out)
{
	uint32_t n = 0;

	for (;;) {
		const uint8_t *at = c->p, *size_at = NULL, *start;
		int64_t count, size = -1;

		c->line = NO_LINE;
		if (read_long(c, "lines", &count))
			return -1;
		if (count == 0)
			break;
		if (count < 0) {
			if (count == INT64_MIN)
				return FAIL(c, "lines", "block count %lld at byte %zu is out of range",
					    (long long)count, off(c, at));
			count = -count;
			size_at = c->p;
			if (read_long(c, "lines", &size))
				return -1;
			/* Checked against the items once they are read: a size
			 * that is negative or runs past the end cannot match. */
		}
		if ((uint64_t)count > left(c) / MIN_LINE_BYTES)
			return FAIL(c, "lines",
				    "block of %lld lines at byte %zu cannot fit in the %zu bytes left",
				    (long long)count, off(c, at), left(c));
		if ((uint64_t)count > MAX_LINES - n)
			return FAIL(c, "lines", "%llu lines at byte %zu are too many",
				    (unsigned long long)n + (uint64_t)count, off(c, at));
		if (n + (uint64_t)count > *cap_lines &&
		    grow_lines(c, lines, cap_lines, n + (uint64_t)count))
			return -1;
		start = c->p;
		for (int64_t i = 0; i < count; i++, n++) {
			c->line = n;
			if (read_line(c, &(*lines)[n]))
				return -1;
		}
		c->line = NO_LINE;
		if (size_at && (size < 0 || (size_t)(c->p - start) != (uint64_t)size))
			return FAIL(c, "lines",
				    "block size %lld at byte %zu does not match the %zu bytes its "
				    "lines take",
				    (long long)size, off(c, size_at), (size_t)(c->p - start));
	}
	*n_out = n;
	return 0;
}

int fg_codec_decode_declaration(const uint8_t *body, size_t len, struct fg_decl *out,
				struct fg_decl_line **lines, uint32_t *cap_lines, char *msg,
				size_t msg_size)
{
	static const uint8_t empty[1];
	struct cursor c;
	int64_t fc;
	const uint8_t *at;

	if (!body)
		body = empty, len = 0; /* NULL + 0 is undefined */
	c = (struct cursor){ body, body + len, body, NO_LINE, msg, msg_size };
	if (read_str(&c, "declaration_id", &out->declaration_id) ||
	    read_int(&c, "version", &out->version))
		return -1;
	at = c.p;
	if (read_long(&c, "function_code", &fc))
		return -1;
	if (fc < FG_FC_ORIGINAL || fc > FG_FC_CANCELLATION)
		return FAIL(&c, "function_code",
			    "symbol %lld at byte %zu is not 0..2 (ORIGINAL, AMENDMENT, CANCELLATION)",
			    (long long)fc, off(&c, at));
	out->function_code = (enum fg_function_code)fc;
	if (read_long(&c, "submitted_at", &out->submitted_at) ||
	    read_int(&c, "acceptance_date", &out->acceptance_date) ||
	    read_str(&c, "declarant_id", &out->declarant_id) ||
	    read_str(&c, "importer_id", &out->importer_id) ||
	    read_str(&c, "port_code", &out->port_code) ||
	    read_str(&c, "export_country", &out->export_country) ||
	    read_str(&c, "invoice_currency", &out->invoice_currency) ||
	    read_lines(&c, lines, cap_lines, &out->n_lines))
		return -1;
	out->lines = *lines;
	if (c.p != c.end) {
		fg_errf(msg, msg_size, "body has %zu byte%s after the end of the record at byte %zu",
			left(&c), left(&c) == 1 ? "" : "s", off(&c, c.p));
		return -1;
	}
	return 0;
}
