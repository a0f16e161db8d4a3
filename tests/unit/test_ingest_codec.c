/*
 * test_ingest_codec.c: the schema-specific declaration decoder
 * (ingest/fg_codec.c) against the Avro specification and against Avro C.
 *
 * Bodies are written here with core/fg_avrobin.h, byte by byte where a
 * test needs a malformed one. "Avro C" is the generic read of the reader
 * schema (tests/fuzz/fg_avroc_ref.h, a mirror of fg_decode.c's generic
 * path); fg_decoder_decode, the entry point the pipeline calls, is
 * checked as well, with a registry entry for the compiled-in reader
 * schema.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../core/fg_avrobin.h"
#include "../../ingest/fg_codec.h"
#include "../../ingest/fg_decode.h"
#include "../fuzz/fg_avroc_ref.h"
#include "fg_test_util.h"

#define READER_ID 7

struct fx {
	struct fg_avrobin w;
	struct fg_decl_line *lines; /* the codec's line array */
	uint32_t cap_lines;
	struct fg_avroc_ref *ref;
	struct fg_decoder *dec;
	struct fg_schema_registry reg;
	const struct fg_schema_entry *entry; /* the reader schema */
	char msg[512];
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char err[256];
	avro_schema_t s;

	if (!fx || fg_avrobin_init(&fx->w, 512))
		return -1;
	fx->ref = fg_avroc_ref_create();
	fx->dec = fg_decoder_create(err, sizeof(err));
	s = fg_schemas_parse(fg_schema_text_declaration, err, sizeof(err));
	if (!fx->ref || !fx->dec || !s ||
	    fg_schema_registry_add(&fx->reg, READER_ID, s, NULL, "declaration.avsc"))
		return -1;
	avro_schema_decref(s);
	fx->entry = fg_schema_registry_get(&fx->reg, READER_ID);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	fg_avrobin_fini(&fx->w);
	free(fx->lines);
	fg_avroc_ref_destroy(fx->ref);
	fg_decoder_destroy(fx->dec);
	fg_schema_registry_fini(&fx->reg);
	free(fx);
	return 0;
}

/* ---- writing bodies ------------------------------------------------------ */

struct theader {
	const char *id;
	int64_t version, function_code, submitted_at, acceptance_date;
	const char *declarant, *importer, *port, *export_country, *currency;
};

struct tline {
	int64_t item_no;
	const char *code, *desc, *origin;
	int64_t mass, value;
	const char *element; /* NULL: content is null */
	int64_t percent;
	const char *claim; /* NULL: preference_claim is null */
};

static const struct theader H = { "FG01-0000000042", 1, 0, 1767225600000LL, 20454,
				  "DCL0042", "IMP000123", "USNYC", "CL", "USD" };
static const struct tline L = { 1, "2530900000", "lithium ore", "CL", 12500000, 98765432,
				NULL, 0, NULL };

static void put_header(struct fg_avrobin *w, const struct theader *h)
{
	fg_avrobin_cstr(w, h->id);
	fg_avrobin_long(w, h->version);
	fg_avrobin_long(w, h->function_code);
	fg_avrobin_long(w, h->submitted_at);
	fg_avrobin_long(w, h->acceptance_date);
	fg_avrobin_cstr(w, h->declarant);
	fg_avrobin_cstr(w, h->importer);
	fg_avrobin_cstr(w, h->port);
	fg_avrobin_cstr(w, h->export_country);
	fg_avrobin_cstr(w, h->currency);
}

static void put_line(struct fg_avrobin *w, const struct tline *l)
{
	fg_avrobin_long(w, l->item_no);
	fg_avrobin_cstr(w, l->code);
	fg_avrobin_cstr(w, l->desc);
	fg_avrobin_cstr(w, l->origin);
	fg_avrobin_decimal(w, l->mass);
	fg_avrobin_decimal(w, l->value);
	if (l->element) {
		fg_avrobin_long(w, 1);
		fg_avrobin_cstr(w, l->element);
		fg_avrobin_decimal(w, l->percent);
	} else {
		fg_avrobin_long(w, 0);
	}
	if (l->claim) {
		fg_avrobin_long(w, 1);
		fg_avrobin_cstr(w, l->claim);
	} else {
		fg_avrobin_long(w, 0);
	}
}

/* The usual body: header, one block of n lines, end of array. */
static void put_decl(struct fg_avrobin *w, const struct theader *h, const struct tline *l,
		     int n)
{
	w->len = 0;
	put_header(w, h);
	if (n) {
		fg_avrobin_long(w, n);
		for (int i = 0; i < n; i++)
			put_line(w, &l[i]);
	}
	fg_avrobin_long(w, 0);
}

static void put_raw(struct fg_avrobin *w, const void *b, size_t n)
{
	uint8_t *p = fg_avrobin_room(w, n);

	assert_non_null(p);
	memcpy(p, b, n);
	w->len += n;
}

/* ---- decoding ------------------------------------------------------------ */

static int codec(struct fx *fx, const uint8_t *b, size_t n, struct fg_decl *d)
{
	fx->msg[0] = '\0';
	return fg_codec_decode_declaration(b, n, d, &fx->lines, &fx->cap_lines, fx->msg,
					   sizeof(fx->msg));
}

static int avroc(struct fx *fx, const uint8_t *b, size_t n, struct fg_decl *d)
{
	char msg[512];

	return fg_avroc_ref_decode(fx->ref, b, n, d, msg, sizeof(msg));
}

/* The codec, Avro C and fg_decoder_decode all accept w's body and agree. */
static void expect_same(struct fx *fx, struct fg_decl *out)
{
	struct fg_decl a, p;
	char why[512], msg[512];

	if (codec(fx, fx->w.buf, fx->w.len, out))
		fail_msg("codec refused: %s", fx->msg);
	if (avroc(fx, fx->w.buf, fx->w.len, &a))
		fail_msg("Avro C refused what the codec accepted");
	if (fg_avroc_ref_decl_diff(&a, out, why, sizeof(why)))
		fail_msg("Avro C != codec: %s", why);
	if (fg_decoder_decode(fx->dec, fx->entry, fx->w.buf, fx->w.len, &p, msg, sizeof(msg)))
		fail_msg("fg_decoder_decode refused: %s", msg);
	if (fg_avroc_ref_decl_diff(&a, &p, why, sizeof(why)))
		fail_msg("Avro C != fg_decoder_decode: %s", why);
}

/* The codec refuses w's body with a message containing each of `want` (NULL-ended). */
static void expect_refused_v(struct fx *fx, int avro_c_too, const char *const *want)
{
	struct fg_decl d, a;
	char msg[512];

	if (codec(fx, fx->w.buf, fx->w.len, &d) == 0)
		fail_msg("codec accepted a body it must refuse (%s)", want[0]);
	for (; *want; want++)
		if (!strstr(fx->msg, *want))
			fail_msg("message \"%s\" lacks \"%s\"", fx->msg, *want);
	if (avro_c_too) {
		if (avroc(fx, fx->w.buf, fx->w.len, &a) == 0)
			fail_msg("Avro C accepted what the codec refuses: %s", fx->msg);
		if (fg_decoder_decode(fx->dec, fx->entry, fx->w.buf, fx->w.len, &d, msg,
				      sizeof(msg)) == 0)
			fail_msg("fg_decoder_decode accepted: %s", fx->msg);
	}
}

#define expect_refused(fx, ...) \
	expect_refused_v((fx), 1, (const char *const[]){ __VA_ARGS__, NULL })

static void assert_str(struct fg_str s, const char *want)
{
	if (!fg_str_eq_cstr(s, want))
		fail_msg("\"%.*s\" != \"%s\"", (int)s.len, s.p ? s.p : "", want);
}

/* A view lies inside the body: the codec copies nothing. */
static void assert_in_body(const struct fx *fx, struct fg_str s)
{
	const char *b = (const char *)fx->w.buf;

	assert_true(s.p >= b && s.p + s.len <= b + fx->w.len);
}

/* ---- every field --------------------------------------------------------- */

static void test_codec_reads_every_field(void **state)
{
	struct fx *fx = *state;
	struct theader h = { "FG01-0000000042", 7, 2, -62135596800000LL, -719162, "", "IMP000123",
			     NULL, "CL", "USD" };
	char long_port[201];
	struct tline l[3] = {
		{ 1, "2530900000", "lithium ore", "CL", 12500000, 98765432, NULL, 0, NULL },
		/* content and claim present */
		{ 2, "8105200000", "cobalt mattes", "CD", -1, 0, "Co", 123456, "CMZ" },
		/* the extremes of int, long-sized decimals, content without claim */
		{ INT32_MIN, "", "", "ZA", INT64_MIN, INT64_MAX, "WO3", 1000000, NULL },
	};
	struct fg_decl d;

	memset(long_port, 'P', 200); /* a length of 200 takes a two-byte varint */
	long_port[200] = '\0';
	h.port = long_port;
	put_decl(&fx->w, &h, l, 3);
	expect_same(fx, &d);

	assert_str(d.declaration_id, "FG01-0000000042");
	assert_int_equal(d.version, 7);
	assert_int_equal(d.function_code, FG_FC_CANCELLATION);
	assert_true(d.submitted_at == -62135596800000LL);
	assert_int_equal(d.acceptance_date, -719162);
	assert_str(d.declarant_id, "");
	assert_str(d.importer_id, "IMP000123");
	assert_str(d.port_code, long_port);
	assert_str(d.export_country, "CL");
	assert_str(d.invoice_currency, "USD");
	assert_int_equal(d.n_lines, 3);
	assert_ptr_equal(d.lines, fx->lines);

	assert_int_equal(d.lines[0].item_no, 1);
	assert_str(d.lines[0].commodity_code, "2530900000");
	assert_str(d.lines[0].description, "lithium ore");
	assert_str(d.lines[0].origin_country, "CL");
	assert_true(d.lines[0].net_mass_kg == 12500000);
	assert_true(d.lines[0].customs_value == 98765432);
	assert_false(d.lines[0].has_content);
	assert_false(d.lines[0].has_preference_claim);

	assert_int_equal(d.lines[1].item_no, 2);
	assert_str(d.lines[1].description, "cobalt mattes");
	assert_true(d.lines[1].net_mass_kg == -1);
	assert_true(d.lines[1].customs_value == 0);
	assert_true(d.lines[1].has_content);
	assert_str(d.lines[1].content_element, "Co");
	assert_true(d.lines[1].content_percent == 123456);
	assert_true(d.lines[1].has_preference_claim);
	assert_str(d.lines[1].preference_claim, "CMZ");

	assert_int_equal(d.lines[2].item_no, INT32_MIN);
	assert_str(d.lines[2].commodity_code, "");
	assert_true(d.lines[2].net_mass_kg == INT64_MIN);
	assert_true(d.lines[2].customs_value == INT64_MAX);
	assert_true(d.lines[2].has_content);
	assert_str(d.lines[2].content_element, "WO3");
	assert_true(d.lines[2].content_percent == 1000000);
	assert_false(d.lines[2].has_preference_claim);

	assert_in_body(fx, d.declaration_id);
	assert_in_body(fx, d.port_code);
	assert_in_body(fx, d.lines[1].content_element);
	assert_in_body(fx, d.lines[1].preference_claim);
}

static void test_codec_keeps_nul_bytes_and_non_utf8(void **state)
{
	struct fx *fx = *state;
	static const uint8_t odd[] = { 'a', 0x00, 'b', 0xff, 0xc3 };
	struct fg_decl d;

	fx->w.len = 0;
	fg_avrobin_bytes(&fx->w, odd, sizeof(odd)); /* declaration_id */
	fg_avrobin_long(&fx->w, H.version);
	fg_avrobin_long(&fx->w, H.function_code);
	fg_avrobin_long(&fx->w, H.submitted_at);
	fg_avrobin_long(&fx->w, H.acceptance_date);
	for (int i = 0; i < 5; i++)
		fg_avrobin_cstr(&fx->w, "x");
	fg_avrobin_long(&fx->w, 0);
	expect_same(fx, &d);
	assert_int_equal(d.declaration_id.len, sizeof(odd));
	assert_memory_equal(d.declaration_id.p, odd, sizeof(odd));
}

static void test_codec_reads_a_body_without_lines(void **state)
{
	struct fx *fx = *state;
	struct fg_decl d;

	put_decl(&fx->w, &H, NULL, 0);
	expect_same(fx, &d);
	assert_int_equal(d.n_lines, 0);
}

static void test_codec_reads_every_function_code(void **state)
{
	struct fx *fx = *state;
	struct theader h = H;
	struct fg_decl d;

	for (int fc = 0; fc < 3; fc++) {
		h.function_code = fc;
		put_decl(&fx->w, &h, &L, 1);
		expect_same(fx, &d);
		assert_int_equal(d.function_code, fc);
	}
}

/* Decimals may carry redundant sign bytes, up to 16 and beyond. */
static void test_codec_reads_long_decimal_encodings(void **state)
{
	struct fx *fx = *state;
	static const uint8_t minus_two_in_12[12] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						     0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
	static const uint8_t max_in_17[17] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
					       0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct fg_decl d;

	fx->w.len = 0;
	put_header(&fx->w, &H);
	fg_avrobin_long(&fx->w, 1);
	fg_avrobin_long(&fx->w, 1);
	fg_avrobin_cstr(&fx->w, "2530900000");
	fg_avrobin_cstr(&fx->w, "ore");
	fg_avrobin_cstr(&fx->w, "CL");
	fg_avrobin_bytes(&fx->w, minus_two_in_12, sizeof(minus_two_in_12));
	fg_avrobin_bytes(&fx->w, max_in_17, sizeof(max_in_17));
	fg_avrobin_long(&fx->w, 0);
	fg_avrobin_long(&fx->w, 0);
	fg_avrobin_long(&fx->w, 0);
	expect_same(fx, &d);
	assert_true(d.lines[0].net_mass_kg == -2);
	assert_true(d.lines[0].customs_value == INT64_MAX);
}

/* ---- arrays -------------------------------------------------------------- */

static void test_codec_reads_multi_block_and_negative_count_arrays(void **state)
{
	struct fx *fx = *state;
	struct tline l[5];
	struct fg_avrobin blk;
	struct fg_decl d;

	for (int i = 0; i < 5; i++) {
		l[i] = L;
		l[i].item_no = i + 1;
	}
	l[3].element = "Li2O";
	l[3].percent = 60000;
	l[4].claim = "CMZ";
	assert_int_equal(fg_avrobin_init(&blk, 256), 0);

	fx->w.len = 0;
	put_header(&fx->w, &H);
	fg_avrobin_long(&fx->w, 1); /* a block of one */
	put_line(&fx->w, &l[0]);
	blk.len = 0; /* a block of -2 lines, then its size in bytes */
	put_line(&blk, &l[1]);
	put_line(&blk, &l[2]);
	fg_avrobin_long(&fx->w, -2);
	fg_avrobin_long(&fx->w, (int64_t)blk.len);
	put_raw(&fx->w, blk.buf, blk.len);
	fg_avrobin_long(&fx->w, 2); /* and a block of two */
	put_line(&fx->w, &l[3]);
	put_line(&fx->w, &l[4]);
	fg_avrobin_long(&fx->w, 0);
	fg_avrobin_fini(&blk);

	expect_same(fx, &d);
	assert_int_equal(d.n_lines, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(d.lines[i].item_no, i + 1);
	assert_str(d.lines[3].content_element, "Li2O");
	assert_str(d.lines[4].preference_claim, "CMZ");
}

static void test_codec_line_array_only_grows(void **state)
{
	struct fx *fx = *state;
	struct tline l[40];
	struct fg_decl d;
	struct fg_decl_line *before;
	uint32_t cap;

	for (int i = 0; i < 40; i++) {
		l[i] = L;
		l[i].item_no = i + 1;
	}
	put_decl(&fx->w, &H, l, 3);
	expect_same(fx, &d);
	assert_true(fx->cap_lines >= 3);
	before = fx->lines;
	cap = fx->cap_lines;

	put_decl(&fx->w, &H, l, 1); /* fewer lines: same array, nothing allocated */
	expect_same(fx, &d);
	assert_ptr_equal(fx->lines, before);
	assert_int_equal(fx->cap_lines, cap);

	put_decl(&fx->w, &H, l, 40);
	expect_same(fx, &d);
	assert_true(fx->cap_lines >= 40);
	cap = fx->cap_lines;
	before = fx->lines;

	put_decl(&fx->w, &H, l, 2);
	expect_same(fx, &d);
	assert_ptr_equal(fx->lines, before);
	assert_int_equal(fx->cap_lines, cap);
}

/* ---- equality with Avro C on many bodies --------------------------------- */

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void put_rnd_bytes(struct fg_avrobin *w, uint64_t *s, size_t max)
{
	size_t n = (size_t)(rnd(s) % (max + 1));
	uint8_t *p;

	fg_avrobin_long(w, (int64_t)n);
	p = fg_avrobin_room(w, n);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd(s);
	w->len += n;
}

static int64_t rnd_int(uint64_t *s, int bits)
{
	switch (rnd(s) % 4) {
	case 0:
		return (int64_t)(rnd(s) % 200) - 100;
	case 1:
		return bits == 32 ? (rnd(s) & 1 ? INT32_MAX : INT32_MIN)
				  : (rnd(s) & 1 ? INT64_MAX : INT64_MIN);
	default:
		return bits == 32 ? (int32_t)(uint32_t)rnd(s) : (int64_t)rnd(s);
	}
}

/* Avro bytes from a buffer of 16: the length, then a plain copy (the in-line
 * copy of fg_avrobin_bytes has branches for longer strings that gcc would
 * check against the 16 bytes). */
static void put_be_bytes(struct fg_avrobin *w, const uint8_t *b, size_t n)
{
	fg_avrobin_long(w, (int64_t)n);
	assert_int_equal(fg_avrobin_raw(w, b, n), 0);
}

/* A decimal of 1..16 bytes, sometimes with redundant sign bytes. */
static void put_rnd_decimal(struct fg_avrobin *w, uint64_t *s)
{
	int64_t v = rnd(s) % 3 ? (int64_t)(rnd(s) % 100000000) : (int64_t)rnd(s);
	uint8_t b[16];
	size_t n = fg_decimal_to_be_bytes(v, b);

	if (rnd(s) % 5 == 0) {
		uint8_t full[16];
		size_t pad = 16 - n;
		memset(full, v < 0 ? 0xff : 0x00, pad);
		memcpy(full + pad, b, n);
		size_t keep = n + (size_t)(rnd(s) % (pad + 1));
		put_be_bytes(w, full + 16 - keep, keep);
	} else {
		put_be_bytes(w, b, n);
	}
}

static void put_rnd_line(struct fg_avrobin *w, uint64_t *s)
{
	fg_avrobin_long(w, rnd_int(s, 32));
	put_rnd_bytes(w, s, 12);
	put_rnd_bytes(w, s, 300);
	put_rnd_bytes(w, s, 3);
	put_rnd_decimal(w, s);
	put_rnd_decimal(w, s);
	if (rnd(s) & 1) {
		fg_avrobin_long(w, 1);
		put_rnd_bytes(w, s, 6);
		put_rnd_decimal(w, s);
	} else {
		fg_avrobin_long(w, 0);
	}
	if (rnd(s) & 1) {
		fg_avrobin_long(w, 1);
		put_rnd_bytes(w, s, 10);
	} else {
		fg_avrobin_long(w, 0);
	}
}

/* Random field values and random array blocking, all valid Avro. */
static void test_codec_equals_avro_c_on_random_bodies(void **state)
{
	struct fx *fx = *state;
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	struct fg_avrobin blk;
	struct fg_decl d;

	assert_int_equal(fg_avrobin_init(&blk, 1024), 0);
	for (int k = 0; k < 3000; k++) {
		struct fg_avrobin *w = &fx->w;
		int blocks = (int)(rnd(&s) % 4);

		w->len = 0;
		put_rnd_bytes(w, &s, 40);
		fg_avrobin_long(w, rnd_int(&s, 32));
		fg_avrobin_long(w, (int64_t)(rnd(&s) % 3));
		fg_avrobin_long(w, rnd_int(&s, 64));
		fg_avrobin_long(w, rnd_int(&s, 32));
		for (int i = 0; i < 5; i++)
			put_rnd_bytes(w, &s, 70);
		for (int b = 0; b < blocks; b++) {
			int n = 1 + (int)(rnd(&s) % 5);
			blk.len = 0;
			for (int i = 0; i < n; i++)
				put_rnd_line(&blk, &s);
			if (rnd(&s) & 1) {
				fg_avrobin_long(w, -n);
				fg_avrobin_long(w, (int64_t)blk.len);
			} else {
				fg_avrobin_long(w, n);
			}
			put_raw(w, blk.buf, blk.len);
		}
		fg_avrobin_long(w, 0);
		expect_same(fx, &d);
	}
	fg_avrobin_fini(&blk);
}

/* ---- rejections ---------------------------------------------------------- */

/* Every proper prefix of a valid body is refused by both, with an offset. */
static void test_codec_refuses_every_truncation(void **state)
{
	struct fx *fx = *state;
	struct tline l[2] = { L, L };
	struct fg_decl d;
	size_t full;

	l[1].item_no = 2;
	l[1].element = "Nd2O3";
	l[1].percent = 12;
	l[1].claim = "CMZ";
	put_decl(&fx->w, &H, l, 2);
	full = fx->w.len;
	for (size_t n = 0; n < full; n++) {
		fx->w.len = n;
		if (codec(fx, fx->w.buf, n, &d) == 0)
			fail_msg("a body cut to %zu of %zu bytes was accepted", n, full);
		assert_non_null(strstr(fx->msg, "at byte "));
		if (avroc(fx, fx->w.buf, n, &d) == 0)
			fail_msg("Avro C accepted a body cut to %zu of %zu bytes", n, full);
	}
	fx->w.len = full - 2; /* inside the last line's claim */
	expect_refused(fx, "lines[1].preference_claim: length 3 at byte", "runs past the end");
	fx->w.len = 0;
	expect_refused(fx, "declaration_id: body ends at byte 0");
}

static void test_codec_refuses_bytes_after_the_record(void **state)
{
	struct fx *fx = *state;

	put_decl(&fx->w, &H, &L, 1);
	fg_avrobin_long(&fx->w, 0);
	expect_refused(fx, "1 byte after the end of the record");
	fg_avrobin_cstr(&fx->w, "xy");
	expect_refused(fx, "4 bytes after the end of the record");
}

static void test_codec_refuses_bad_varints(void **state)
{
	struct fx *fx = *state;
	struct theader h = H;
	static const uint8_t eleven[11] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
					    0x80, 0x80, 0x80, 0x80, 0x00 };
	static const uint8_t cut[3] = { 0x80, 0x80, 0x80 };

	/* submitted_at as 11 bytes */
	fx->w.len = 0;
	fg_avrobin_cstr(&fx->w, h.id);
	fg_avrobin_long(&fx->w, 1);
	fg_avrobin_long(&fx->w, 0);
	put_raw(&fx->w, eleven, sizeof(eleven));
	expect_refused(fx, "submitted_at: varint at byte 18 is longer than 10 bytes");

	/* the body ends inside a varint */
	fx->w.len = 0;
	fg_avrobin_cstr(&fx->w, h.id);
	put_raw(&fx->w, cut, sizeof(cut));
	expect_refused(fx, "version: body ends inside the varint at byte 16");
}

static void test_codec_refuses_ints_outside_int32(void **state)
{
	struct fx *fx = *state;
	struct theader h = H;
	struct tline l = L;

	h.version = (int64_t)INT32_MAX + 1;
	put_decl(&fx->w, &h, &L, 1);
	expect_refused(fx, "version: 2147483648 at byte 16 is outside the int range");

	h = H;
	h.acceptance_date = (int64_t)INT32_MIN - 1;
	put_decl(&fx->w, &h, &L, 1);
	expect_refused(fx, "acceptance_date: -2147483649 at byte", "outside the int range");

	l.item_no = INT64_MAX;
	put_decl(&fx->w, &H, &l, 1);
	expect_refused(fx, "lines[0].item_no: 9223372036854775807", "outside the int range");
}

static void test_codec_refuses_bad_lengths(void **state)
{
	struct fx *fx = *state;

	/* a negative length */
	fx->w.len = 0;
	fg_avrobin_long(&fx->w, -1);
	expect_refused(fx, "declaration_id: negative length -1 at byte 0");

	/* a length past the end, inside a line */
	fx->w.len = 0;
	put_header(&fx->w, &H);
	fg_avrobin_long(&fx->w, 1);
	fg_avrobin_long(&fx->w, 1);
	fg_avrobin_cstr(&fx->w, "2530900000");
	fg_avrobin_long(&fx->w, 1000); /* description: 1000 bytes that are not there */
	fg_avrobin_cstr(&fx->w, "short");
	expect_refused(fx, "lines[0].description: length 1000 at byte", "runs past the end");
}

static void test_codec_refuses_bad_enum_symbols(void **state)
{
	struct fx *fx = *state;
	struct theader h = H;

	h.function_code = 3;
	put_decl(&fx->w, &h, &L, 1);
	expect_refused(fx, "function_code: symbol 3 at byte 17 is not 0..2");
	h.function_code = -1;
	put_decl(&fx->w, &h, &L, 1);
	expect_refused(fx, "function_code: symbol -1 at byte 17");
}

static void test_codec_refuses_bad_union_branches(void **state)
{
	struct fx *fx = *state;
	struct fg_avrobin *w = &fx->w;
	struct tline l = L;

	l.claim = "CMZ";
	put_decl(w, &H, &l, 1);
	/* content's branch is the byte before the claim's branch (1) */
	w->buf[w->len - 1 - 4 - 1 - 1] = 4; /* zig-zag 2 */
	expect_refused(fx, "lines[0].content: union branch 2 at byte", "neither 0 (null) nor 1");

	put_decl(w, &H, &l, 1);
	w->buf[w->len - 1 - 4 - 1] = 1; /* zig-zag -1 */
	expect_refused(fx, "lines[0].preference_claim: union branch -1");
}

static void test_codec_refuses_bad_decimals(void **state)
{
	struct fx *fx = *state;
	struct fg_avrobin *w = &fx->w;
	static const uint8_t two_to_64[9] = { 0x01, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t two_to_127[17] = { 0x00, 0x80 };

	w->len = 0;
	put_header(w, &H);
	fg_avrobin_long(w, 1);
	fg_avrobin_long(w, 1);
	fg_avrobin_cstr(w, "2530900000");
	fg_avrobin_cstr(w, "ore");
	fg_avrobin_cstr(w, "CL");
	size_t mark = w->len;

	fg_avrobin_bytes(w, "", 0); /* net_mass_kg empty */
	expect_refused(fx, "lines[0].net_mass_kg: decimal of 0 bytes at byte", "is empty");

	w->len = mark;
	fg_avrobin_decimal(w, 5);
	fg_avrobin_bytes(w, two_to_64, sizeof(two_to_64));
	expect_refused(fx, "lines[0].customs_value: decimal of 9 bytes", "does not fit in 64 bits");

	w->len = mark;
	fg_avrobin_decimal(w, 5);
	fg_avrobin_decimal(w, 5);
	fg_avrobin_long(w, 1);
	fg_avrobin_cstr(w, "Co");
	fg_avrobin_bytes(w, two_to_127, sizeof(two_to_127));
	expect_refused(fx, "lines[0].content.percent: decimal of 17 bytes", "does not fit");
}

static void test_codec_refuses_impossible_block_counts(void **state)
{
	struct fx *fx = *state;
	struct fg_avrobin *w = &fx->w;

	/* a billion lines in a few bytes: refused before anything is allocated */
	w->len = 0;
	put_header(w, &H);
	fg_avrobin_long(w, 1000000000);
	put_line(w, &L);
	fg_avrobin_long(w, 0);
	expect_refused(fx, "lines: block of 1000000000 lines at byte", "cannot fit");
	assert_true(fx->cap_lines < 1000);

	w->len = 0;
	put_header(w, &H);
	fg_avrobin_long(w, INT64_MIN);
	fg_avrobin_long(w, 10);
	put_line(w, &L);
	fg_avrobin_long(w, 0);
	expect_refused(fx, "lines: block count -9223372036854775808");
}

/*
 * Where Avro C 1.11.1 accepts what the Avro specification does not allow,
 * the codec refuses. tests/fuzz/fuzz_decode.c tolerates exactly these.
 * When an Avro C upgrade makes one of these fail, Avro C has been fixed:
 * drop the case here and its tolerance in the fuzz harness.
 */
static void test_codec_is_stricter_than_avro_c_where_the_spec_is(void **state)
{
	struct fx *fx = *state;
	struct fg_avrobin *w = &fx->w;
	struct fg_avrobin blk;
	struct fg_decl d;
	static const uint8_t over64[10] = { 0xff, 0xff, 0xff, 0xff, 0xff,
					    0xff, 0xff, 0xff, 0xff, 0x7f };
	struct theader h = H;

	/* 1. a 10-byte varint with bits above 64: Avro C drops them */
	w->len = 0;
	fg_avrobin_cstr(w, h.id);
	fg_avrobin_long(w, 1);
	fg_avrobin_long(w, 0);
	put_raw(w, over64, sizeof(over64));
	fg_avrobin_long(w, h.acceptance_date);
	for (int i = 0; i < 5; i++)
		fg_avrobin_cstr(w, "x");
	fg_avrobin_long(w, 0);
	expect_refused_v(fx, 0, (const char *const[]){ "submitted_at: varint at byte 18 overflows 64 bits", NULL });
	assert_int_equal(avroc(fx, w->buf, w->len, &d), 0);

	/* 2. an enum index beyond int32: Avro C truncates 2^32 + 1 to 1 */
	h.function_code = (1LL << 32) + 1;
	put_decl(w, &h, &L, 1);
	expect_refused_v(fx, 0, (const char *const[]){ "function_code: symbol 4294967297", NULL });
	assert_int_equal(avroc(fx, w->buf, w->len, &d), 0);
	assert_int_equal(d.function_code, FG_FC_AMENDMENT);

	/* 3. a negative-count block whose byte size is wrong: Avro C ignores it */
	assert_int_equal(fg_avrobin_init(&blk, 128), 0);
	put_line(&blk, &L);
	for (int k = 0; k < 3; k++) {
		static const int64_t wrong[3] = { 1, -5, 1 << 20 };
		w->len = 0;
		put_header(w, &H);
		fg_avrobin_long(w, -1);
		fg_avrobin_long(w, wrong[k]);
		put_raw(w, blk.buf, blk.len);
		fg_avrobin_long(w, 0);
		expect_refused_v(fx, 0, (const char *const[]){ "lines: block size", "does not match the", NULL });
		assert_int_equal(avroc(fx, w->buf, w->len, &d), 0);
	}
	fg_avrobin_fini(&blk);
}

/* ---- the decoder's routing ----------------------------------------------- */

/*
 * A writer schema other than the reader's (here: one more field at the
 * end) still goes through Avro C's resolved reader; the same body under
 * the reader schema has bytes left over.
 */
static void test_decoder_resolves_other_writer_schemas_with_avro_c(void **state)
{
	struct fx *fx = *state;
	const char *text = fg_schema_text_declaration;
	const char *tail = strrchr(text, ']'); /* closes the record's fields */
	char *json = malloc(strlen(text) + 128), err[256], msg[512];
	struct fg_decl want, got;
	avro_schema_t s;
	char why[512];

	assert_non_null(json);
	assert_non_null(tail);
	sprintf(json, "%.*s, {\"name\": \"note\", \"type\": \"string\"}%s", (int)(tail - text),
		text, tail);
	s = fg_schemas_parse(json, err, sizeof(err));
	if (!s)
		fail_msg("%s", err);
	assert_int_equal(fg_schema_registry_add(&fx->reg, READER_ID + 1, s, NULL, "extended"), 0);
	avro_schema_decref(s);
	free(json);
	fx->entry = fg_schema_registry_get(&fx->reg, READER_ID); /* the add may have moved it */

	put_decl(&fx->w, &H, &L, 1);
	assert_non_null(fg_avrobin_room(&fx->w, 64)); /* the note below will not move buf */
	assert_int_equal(codec(fx, fx->w.buf, fx->w.len, &want), 0);
	fg_avrobin_cstr(&fx->w, "a field the reader does not know");

	if (fg_decoder_decode(fx->dec, fg_schema_registry_get(&fx->reg, READER_ID + 1),
			      fx->w.buf, fx->w.len, &got, msg, sizeof(msg)))
		fail_msg("the extended writer schema was refused: %s", msg);
	/* want's strings point into fx->w.buf, which has not moved */
	if (fg_avroc_ref_decl_diff(&want, &got, why, sizeof(why)))
		fail_msg("%s", why);

	assert_int_not_equal(fg_decoder_decode(fx->dec, fx->entry, fx->w.buf, fx->w.len, &got,
					       msg, sizeof(msg)),
			     0);
	assert_non_null(strstr(msg, "after the end of the record"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_codec_reads_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_codec_keeps_nul_bytes_and_non_utf8, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_codec_reads_a_body_without_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_codec_reads_every_function_code, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_codec_reads_long_decimal_encodings, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_codec_reads_multi_block_and_negative_count_arrays,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_codec_line_array_only_grows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_codec_equals_avro_c_on_random_bodies, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_codec_refuses_every_truncation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_codec_refuses_bytes_after_the_record, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_codec_refuses_bad_varints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_codec_refuses_ints_outside_int32, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_codec_refuses_bad_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_codec_refuses_bad_enum_symbols, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_codec_refuses_bad_union_branches, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_codec_refuses_bad_decimals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_codec_refuses_impossible_block_counts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_codec_is_stricter_than_avro_c_where_the_spec_is,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_decoder_resolves_other_writer_schemas_with_avro_c,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
