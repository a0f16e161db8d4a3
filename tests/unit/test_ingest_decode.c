/*
 * test_ingest_decode.c: Avro bodies of floorgate.v1.ImportDeclaration ->
 * struct fg_decl, with the reader schema compiled into floorgate and with
 * writer schemas that differ from it.
 *
 * Bodies are written by hand with fg_avrobin in the field order of
 * schemas/declaration.avsc, so the test states every byte the decoder
 * sees. Decimals are two's-complement big-endian bytes: 1234.567 kg at
 * scale 3 is the integer 1234567.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../core/fg_avrobin.h"
#include "../../ingest/fg_decode.h"
#include "../../ingest/fg_schemas.h"
#include "fg_test_util.h"

/* ---- writer schemas -------------------------------------------------------- */

#define CONTENT_REC                                                                         \
	"{\"type\":\"record\",\"name\":\"Content\",\"fields\":["                           \
	"{\"name\":\"element\",\"type\":\"string\"},"                                       \
	"{\"name\":\"percent\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\","   \
	"\"precision\":7,\"scale\":4}}]}"
#define DEC(p, s) \
	"{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":" #p ",\"scale\":" #s "}"
/* GoodsLine as an older producer wrote it, before preference_claim. */
#define OLD_LINE_FIELDS                                                                      \
	"{\"name\":\"item_no\",\"type\":\"int\"},"                                           \
	"{\"name\":\"commodity_code\",\"type\":\"string\"},"                                 \
	"{\"name\":\"description\",\"type\":\"string\"},"                                    \
	"{\"name\":\"origin_country\",\"type\":\"string\"},"                                 \
	"{\"name\":\"net_mass_kg\",\"type\":" DEC(18, 3) "},"                                \
	"{\"name\":\"customs_value\",\"type\":" DEC(18, 2) "},"                              \
	"{\"name\":\"content\",\"type\":[\"null\"," CONTENT_REC "],\"default\":null}"
#define LINE_FIELDS                                                                          \
	OLD_LINE_FIELDS ","                                                                  \
	"{\"name\":\"preference_claim\",\"type\":[\"null\",\"string\"],\"default\":null}"
#define HEAD_FIELDS(version_type) \
	HEAD_FIELDS_SYMBOLS(version_type, "\"ORIGINAL\",\"AMENDMENT\",\"CANCELLATION\"")
#define HEAD_FIELDS_SYMBOLS(version_type, symbols)                                           \
	"{\"name\":\"declaration_id\",\"type\":\"string\"},"                                 \
	"{\"name\":\"version\",\"type\":\"" version_type "\"},"                              \
	"{\"name\":\"function_code\",\"type\":{\"type\":\"enum\",\"name\":\"FunctionCode\"," \
	"\"symbols\":[" symbols "]}},"                                                       \
	"{\"name\":\"submitted_at\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}," \
	"{\"name\":\"acceptance_date\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}}," \
	"{\"name\":\"declarant_id\",\"type\":\"string\"},"                                   \
	"{\"name\":\"importer_id\",\"type\":\"string\"},"                                    \
	"{\"name\":\"port_code\",\"type\":\"string\"},"                                      \
	"{\"name\":\"export_country\",\"type\":\"string\"},"                                 \
	"{\"name\":\"invoice_currency\",\"type\":\"string\"},"

/* A declaration writer schema: head fields, then lines of GoodsLine, then tail fields. */
#define WRITER(head, line_fields, tail)                                                           \
	"{\"type\":\"record\",\"name\":\"ImportDeclaration\",\"namespace\":\"floorgate.v1\","     \
	"\"fields\":[" head                                                                       \
	"{\"name\":\"lines\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\","        \
	"\"name\":\"GoodsLine\",\"fields\":[" line_fields "]}}}" tail "]}"

/* A newer producer: one optional field at the end of GoodsLine and one at the end of the record. */
static const char writer_extended[] = WRITER(
	HEAD_FIELDS("int"),
	LINE_FIELDS ",{\"name\":\"inspection_note\",\"type\":[\"null\",\"string\"],\"default\":null}",
	",{\"name\":\"channel\",\"type\":[\"null\",\"string\"],\"default\":null}");

/*
 * A producer with a fourth function code. Its bodies are byte for byte the
 * reader's, but the schema differs, so they go through Avro C's resolver
 * where the reader's own bodies take floorgate's codec (fg_codec.c): the
 * tests run on both paths.
 */
static const char writer_new_symbol[] = WRITER(
	HEAD_FIELDS_SYMBOLS("int", "\"ORIGINAL\",\"AMENDMENT\",\"CANCELLATION\",\"CORRECTION\""),
	LINE_FIELDS, "");

/* An incompatible producer: version is a string. */
static const char writer_version_string[] = WRITER(HEAD_FIELDS("string"), LINE_FIELDS, "");

/* An older producer: GoodsLine without preference_claim (the reader's default is null). */
static const char writer_line_without_claim[] = WRITER(HEAD_FIELDS("int"), OLD_LINE_FIELDS, "");

/* A producer whose GoodsLine.item_no is a string. */
static const char writer_line_item_string[] =
	WRITER(HEAD_FIELDS("int"), "{\"name\":\"item_no\",\"type\":\"string\"}", "");

/* A producer that lists the function codes in another order (Avro matches symbols by name). */
static const char writer_symbols_reordered[] = WRITER(
	HEAD_FIELDS_SYMBOLS("int", "\"CANCELLATION\",\"AMENDMENT\",\"ORIGINAL\""), LINE_FIELDS, "");

/*
 * A hostile writer: lines is a union of an array of GoodsLine (so the
 * schema resolves) and an array of strings (which the reader cannot read).
 */
static const char writer_lines_union[] =
	"{\"type\":\"record\",\"name\":\"ImportDeclaration\",\"namespace\":\"floorgate.v1\","
	"\"fields\":[" HEAD_FIELDS("int")
	"{\"name\":\"lines\",\"type\":[{\"type\":\"array\",\"items\":{\"type\":\"record\","
	"\"name\":\"GoodsLine\",\"fields\":[" LINE_FIELDS "]}},"
	"{\"type\":\"array\",\"items\":\"string\"}]}]}";

/* A recursive writer: an extra field holds another declaration (skipped by the reader). */
static const char writer_recursive[] = WRITER(
	HEAD_FIELDS("int"), LINE_FIELDS,
	",{\"name\":\"previous\",\"type\":[\"null\",\"ImportDeclaration\"],\"default\":null}");

/* GoodsLine with its decimals at other scales (Content's percent too). */
#define SCALED_LINE_FIELDS(mass, value, pct)                                                 \
	"{\"name\":\"item_no\",\"type\":\"int\"},"                                           \
	"{\"name\":\"commodity_code\",\"type\":\"string\"},"                                 \
	"{\"name\":\"description\",\"type\":\"string\"},"                                    \
	"{\"name\":\"origin_country\",\"type\":\"string\"},"                                 \
	"{\"name\":\"net_mass_kg\",\"type\":" DEC(30, mass) "},"                               \
	"{\"name\":\"customs_value\",\"type\":[\"null\"," DEC(30, value) "]},"                 \
	"{\"name\":\"content\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Content\","   \
	"\"fields\":[{\"name\":\"element\",\"type\":\"string\"},"                              \
	"{\"name\":\"percent\",\"type\":" DEC(12, pct) "}]}],\"default\":null},"               \
	"{\"name\":\"preference_claim\",\"type\":[\"null\",\"string\"],\"default\":null}"

/* A producer with finer decimals than the reader's (mass 6, value 4 in a union, percent 6). */
static const char writer_finer[] = WRITER(HEAD_FIELDS("int"), SCALED_LINE_FIELDS(6, 4, 6), "");
/* And one with coarser decimals (whole kilograms and dollars, percent 2). */
static const char writer_coarser[] = WRITER(HEAD_FIELDS("int"), SCALED_LINE_FIELDS(0, 0, 2), "");

/* The reader's schema but customs_value at scale 4: "equal" to the reader for
 * Avro C, which keeps no logical types, so it must not take the reader's codec. */
static const char writer_value_scale_4[] = WRITER(
	HEAD_FIELDS("int"),
	"{\"name\":\"item_no\",\"type\":\"int\"},"
	"{\"name\":\"commodity_code\",\"type\":\"string\"},"
	"{\"name\":\"description\",\"type\":\"string\"},"
	"{\"name\":\"origin_country\",\"type\":\"string\"},"
	"{\"name\":\"net_mass_kg\",\"type\":" DEC(18, 3) "},"
	"{\"name\":\"customs_value\",\"type\":" DEC(18, 4) "},"
	"{\"name\":\"content\",\"type\":[\"null\"," CONTENT_REC "],\"default\":null},"
	"{\"name\":\"preference_claim\",\"type\":[\"null\",\"string\"],\"default\":null}",
	"");

/* The reader's fields without the docs: equal to the reader for Avro, parsed separately. */
static const char writer_same[] = WRITER(HEAD_FIELDS("int"), LINE_FIELDS, "");

/* ---- fixture ---------------------------------------------------------------- */

enum { ID_READER = 1, ID_EXTENDED = 2, ID_BAD = 3, ID_SAME = 4, ID_OLD_LINE = 5, ID_ITEM_STRING = 6,
       ID_AVRO = 7, ID_REORDERED = 8, ID_LINES_UNION = 9, ID_RECURSIVE = 10, ID_FINER = 11,
       ID_COARSER = 12, ID_VALUE_SCALE_4 = 13 };

struct fixture {
	struct fg_schema_registry reg;
	struct fg_decoder *dec;
	struct fg_avrobin w;
	struct fg_decl d;
	char msg[512];
};

static void add_schema(struct fixture *fx, int32_t id, const char *json)
{
	char err[512];
	avro_schema_t s = fg_schemas_parse(json, err, sizeof(err));

	int scale[FG_DEC_FIELDS];

	if (!s)
		fail_msg("schema %d: %s", (int)id, err);
	/* as the schema directory and container files are read: scales from the JSON */
	if (fg_schema_decimal_scales(json, strlen(json), scale, err, sizeof(err)))
		fail_msg("schema %d: %s", (int)id, err);
	assert_int_equal(fg_schema_registry_add(&fx->reg, id, s, scale, "test"), 0);
	avro_schema_decref(s);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char err[512];

	if (!fx)
		return -1;
	add_schema(fx, ID_READER, fg_schema_text_declaration);
	add_schema(fx, ID_EXTENDED, writer_extended);
	add_schema(fx, ID_BAD, writer_version_string);
	add_schema(fx, ID_SAME, writer_same);
	add_schema(fx, ID_OLD_LINE, writer_line_without_claim);
	add_schema(fx, ID_ITEM_STRING, writer_line_item_string);
	add_schema(fx, ID_AVRO, writer_new_symbol);
	add_schema(fx, ID_REORDERED, writer_symbols_reordered);
	add_schema(fx, ID_LINES_UNION, writer_lines_union);
	add_schema(fx, ID_RECURSIVE, writer_recursive);
	add_schema(fx, ID_FINER, writer_finer);
	add_schema(fx, ID_COARSER, writer_coarser);
	add_schema(fx, ID_VALUE_SCALE_4, writer_value_scale_4);
	fx->dec = fg_decoder_create(err, sizeof(err));
	if (!fx->dec || fg_avrobin_init(&fx->w, 0))
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fg_decoder_destroy(fx->dec);
	fg_schema_registry_fini(&fx->reg);
	fg_avrobin_fini(&fx->w);
	free(fx);
	return 0;
}

static int decode_bytes(struct fixture *fx, int32_t id, const uint8_t *b, size_t len)
{
	const struct fg_schema_entry *e = fg_schema_registry_get(&fx->reg, id);

	assert_non_null(e);
	fx->msg[0] = '\0';
	return fg_decoder_decode(fx->dec, e, b, len, &fx->d, fx->msg, sizeof(fx->msg));
}

static void decode_ok(struct fixture *fx, int32_t id)
{
	assert_false(fx->w.oom);
	if (decode_bytes(fx, id, fx->w.buf, fx->w.len))
		fail_msg("decode failed: %s", fx->msg);
}

static void decode_fails(struct fixture *fx, int32_t id, const char *in_msg)
{
	if (decode_bytes(fx, id, fx->w.buf, fx->w.len) == 0)
		fail_msg("decode of %zu bytes succeeded", fx->w.len);
	if (in_msg && !strstr(fx->msg, in_msg))
		fail_msg("message \"%s\" lacks \"%s\"", fx->msg, in_msg);
}

/* ---- writing bodies ----------------------------------------------------------- */

static void put_head(struct fg_avrobin *w, int version_as_string)
{
	w->len = 0;
	fg_avrobin_cstr(w, "MRN-24NL0001");
	if (version_as_string)
		fg_avrobin_cstr(w, "3");
	else
		fg_avrobin_long(w, 3);          /* version */
	fg_avrobin_long(w, 1);                  /* function_code AMENDMENT */
	fg_avrobin_long(w, INT64_C(1709251200123)); /* submitted_at */
	fg_avrobin_long(w, 19783);              /* acceptance_date 2024-03-01 */
	fg_avrobin_cstr(w, "DECLARANT-9");
	fg_avrobin_cstr(w, "IMPORTER-7");
	fg_avrobin_cstr(w, "NLRTM");
	fg_avrobin_cstr(w, "CL");
	fg_avrobin_cstr(w, "EUR");
}

static void put_line_start(struct fg_avrobin *w, int32_t item, const char *code, const char *desc,
			   const char *origin)
{
	fg_avrobin_long(w, item);
	fg_avrobin_cstr(w, code);
	fg_avrobin_cstr(w, desc);
	fg_avrobin_cstr(w, origin);
}

/* content NULL: null branch; pref NULL: null branch; note < 0: no note field, 0 null, 1 text */
static void put_line_end(struct fg_avrobin *w, const char *element, __int128 percent,
			 const char *pref, int note)
{
	if (element) {
		fg_avrobin_long(w, 1);
		fg_avrobin_cstr(w, element);
		fg_avrobin_decimal(w, percent);
	} else {
		fg_avrobin_long(w, 0);
	}
	if (pref) {
		fg_avrobin_long(w, 1);
		fg_avrobin_cstr(w, pref);
	} else {
		fg_avrobin_long(w, 0);
	}
	if (note == 0) {
		fg_avrobin_long(w, 0);
	} else if (note > 0) {
		fg_avrobin_long(w, 1);
		fg_avrobin_cstr(w, "held for inspection at the border post");
	}
}

/*
 * The standard body: two lines.
 *   1: 283691 lithium carbonate from CL, 1234.567 kg, 98765.43, Li2O 18.7900 %, claim "FTA-CL"
 *   2: 81052000 cobalt from CD, 0.001 kg, 0.00, no content, no claim
 * extended: written with writer_extended (note on each line, a channel at the end).
 */
static void put_standard(struct fg_avrobin *w, int extended)
{
	put_head(w, 0);
	fg_avrobin_long(w, 2);
	put_line_start(w, 10, "2836910000", "Lithium carbonate, battery grade", "CL");
	fg_avrobin_decimal(w, 1234567);
	fg_avrobin_decimal(w, 9876543);
	put_line_end(w, "Li2O", 187900, "FTA-CL", extended ? 1 : -1);
	put_line_start(w, 20, "81052000", "Cobalt, unwrought", "CD");
	fg_avrobin_decimal(w, 1);
	fg_avrobin_decimal(w, 0);
	put_line_end(w, NULL, 0, NULL, extended ? 0 : -1);
	fg_avrobin_long(w, 0); /* end of lines */
	if (extended) {
		fg_avrobin_long(w, 1);
		fg_avrobin_cstr(w, "green-lane");
	}
}

#define STR_EQ(s, lit) assert_true(fg_str_eq_cstr((s), (lit)))

static void check_standard(const struct fg_decl *d)
{
	STR_EQ(d->declaration_id, "MRN-24NL0001");
	assert_int_equal(d->version, 3);
	assert_int_equal(d->function_code, FG_FC_AMENDMENT);
	assert_int_equal(d->submitted_at, INT64_C(1709251200123));
	assert_int_equal(d->acceptance_date, 19783);
	STR_EQ(d->declarant_id, "DECLARANT-9");
	STR_EQ(d->importer_id, "IMPORTER-7");
	STR_EQ(d->port_code, "NLRTM");
	STR_EQ(d->export_country, "CL");
	STR_EQ(d->invoice_currency, "EUR");
	assert_int_equal(d->n_lines, 2);

	const struct fg_decl_line *a = &d->lines[0], *b = &d->lines[1];
	assert_int_equal(a->item_no, 10);
	STR_EQ(a->commodity_code, "2836910000");
	STR_EQ(a->description, "Lithium carbonate, battery grade");
	STR_EQ(a->origin_country, "CL");
	assert_int_equal(a->net_mass_kg, 1234567);
	assert_int_equal(a->customs_value, 9876543);
	assert_true(a->has_content);
	STR_EQ(a->content_element, "Li2O");
	assert_int_equal(a->content_percent, 187900);
	assert_true(a->has_preference_claim);
	STR_EQ(a->preference_claim, "FTA-CL");

	assert_int_equal(b->item_no, 20);
	STR_EQ(b->commodity_code, "81052000");
	STR_EQ(b->origin_country, "CD");
	assert_int_equal(b->net_mass_kg, 1);
	assert_int_equal(b->customs_value, 0);
	assert_false(b->has_content);
	assert_false(b->has_preference_claim);
}

/* ---- tests ------------------------------------------------------------------- */

/* Runs a test on both decoders: the reader schema's codec and Avro C's resolver. */
#define BOTH(name)                                          \
	static void test_##name##_codec(void **state)       \
	{                                                   \
		name(*state, ID_READER);                    \
	}                                                   \
	static void test_##name##_avro_c(void **state)      \
	{                                                   \
		name(*state, ID_AVRO);                      \
	}


static void every_field(struct fixture *fx, int32_t id)
{

	put_standard(&fx->w, 0);
	decode_ok(fx, id);
	check_standard(&fx->d);
}
BOTH(every_field)

static void decimals(struct fixture *fx, int32_t id)
{
	/* 999999999999999999 (18 nines) = 0x0de0b6b3a763ffff: 8 bytes */
	const int64_t nines = INT64_C(999999999999999999);
	/* 12 bytes, 11 of them redundant sign bytes: still 5 */
	const uint8_t padded[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5 };

	put_head(&fx->w, 0);
	fg_avrobin_long(&fx->w, 3);
	/* negative mass -1.500 kg, negative value -0.05 (the decoder keeps signs; validation rejects) */
	put_line_start(&fx->w, 1, "283691", "a", "CL");
	fg_avrobin_decimal(&fx->w, -1500);
	fg_avrobin_decimal(&fx->w, -5);
	put_line_end(&fx->w, "Li", -1, NULL, -1);
	/* 18 digits each */
	put_line_start(&fx->w, 2, "283691", "b", "CL");
	fg_avrobin_decimal(&fx->w, nines);
	fg_avrobin_decimal(&fx->w, -nines);
	put_line_end(&fx->w, "Li", 1000000, NULL, -1);
	/* zero as one byte 0x00, and a padded 5 */
	put_line_start(&fx->w, 3, "283691", "c", "CL");
	fg_avrobin_bytes(&fx->w, "\x00", 1);
	fg_avrobin_bytes(&fx->w, padded, sizeof(padded));
	put_line_end(&fx->w, "Li", 0, NULL, -1);
	fg_avrobin_long(&fx->w, 0);
	decode_ok(fx, id);

	assert_int_equal(fx->d.n_lines, 3);
	assert_int_equal(fx->d.lines[0].net_mass_kg, -1500);
	assert_int_equal(fx->d.lines[0].customs_value, -5);
	assert_int_equal(fx->d.lines[0].content_percent, -1);
	assert_int_equal(fx->d.lines[1].net_mass_kg, nines);
	assert_int_equal(fx->d.lines[1].customs_value, -nines);
	assert_int_equal(fx->d.lines[1].content_percent, 1000000);
	assert_int_equal(fx->d.lines[2].net_mass_kg, 0);
	assert_int_equal(fx->d.lines[2].customs_value, 5);
	assert_int_equal(fx->d.lines[2].content_percent, 0);
}
BOTH(decimals)

/* One line whose net_mass_kg is the given raw bytes. */
static void put_raw_mass(struct fg_avrobin *w, const uint8_t *b, size_t n)
{
	put_head(w, 0);
	fg_avrobin_long(w, 1);
	put_line_start(w, 1, "283691", "a", "CL");
	fg_avrobin_bytes(w, b, n);
	fg_avrobin_decimal(w, 100);
	put_line_end(w, NULL, 0, NULL, -1);
	fg_avrobin_long(w, 0);
}

static void decimal_too_wide_or_empty(struct fixture *fx, int32_t id)
{
	/* 9 significant bytes: 2^64 */
	const uint8_t nine[9] = { 0x01, 0, 0, 0, 0, 0, 0, 0, 0 };
	/* 2^63 needs 9 bytes with its sign byte: one past INT64_MAX */
	const uint8_t past[9] = { 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0 };

	put_raw_mass(&fx->w, nine, sizeof(nine));
	decode_fails(fx, id, "net_mass_kg");
	put_raw_mass(&fx->w, past, sizeof(past));
	decode_fails(fx, id, "net_mass_kg");
	/* zero bytes is not a number */
	put_raw_mass(&fx->w, NULL, 0);
	decode_fails(fx, id, "net_mass_kg");

	/* the same check on customs_value and content.percent */
	put_head(&fx->w, 0);
	fg_avrobin_long(&fx->w, 1);
	put_line_start(&fx->w, 1, "283691", "a", "CL");
	fg_avrobin_decimal(&fx->w, 100);
	fg_avrobin_bytes(&fx->w, nine, sizeof(nine));
	put_line_end(&fx->w, NULL, 0, NULL, -1);
	fg_avrobin_long(&fx->w, 0);
	decode_fails(fx, id, "customs_value");

	put_head(&fx->w, 0);
	fg_avrobin_long(&fx->w, 1);
	put_line_start(&fx->w, 1, "283691", "a", "CL");
	fg_avrobin_decimal(&fx->w, 100);
	fg_avrobin_decimal(&fx->w, 100);
	fg_avrobin_long(&fx->w, 1);
	fg_avrobin_cstr(&fx->w, "Li");
	fg_avrobin_bytes(&fx->w, nine, sizeof(nine));
	fg_avrobin_long(&fx->w, 0);
	fg_avrobin_long(&fx->w, 0);
	decode_fails(fx, id, "content.percent");
}
BOTH(decimal_too_wide_or_empty)

static void array_in_blocks_and_empty(struct fixture *fx, int32_t id)
{

	/* Avro lets a writer split an array into blocks: 2 items, then 1, then the end. */
	put_head(&fx->w, 0);
	for (int block = 0; block < 2; block++) {
		int n = block == 0 ? 2 : 1;
		fg_avrobin_long(&fx->w, n);
		for (int i = 0; i < n; i++) {
			int item = block * 2 + i + 1;
			put_line_start(&fx->w, item, "283691", "x", "CL");
			fg_avrobin_decimal(&fx->w, item * 1000);
			fg_avrobin_decimal(&fx->w, item);
			put_line_end(&fx->w, NULL, 0, NULL, -1);
		}
	}
	fg_avrobin_long(&fx->w, 0);
	decode_ok(fx, id);
	assert_int_equal(fx->d.n_lines, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fx->d.lines[i].item_no, i + 1);
		assert_int_equal(fx->d.lines[i].net_mass_kg, (i + 1) * 1000);
	}

	/*
	 * A block may also be written as -count and its size in bytes (Java
	 * writers do, so readers can skip it). Two lines of 19 bytes each: item 1,
	 * "283691" 7, "x" 2, "CL" 3, two one-byte decimals 4, two null unions 2.
	 */
	put_head(&fx->w, 0);
	{
		struct fg_avrobin blk;
		assert_int_equal(fg_avrobin_init(&blk, 0), 0);
		for (int item = 1; item <= 2; item++) {
			put_line_start(&blk, item, "283691", "x", "CL");
			fg_avrobin_decimal(&blk, item);
			fg_avrobin_decimal(&blk, item);
			put_line_end(&blk, NULL, 0, NULL, -1);
		}
		assert_int_equal(blk.len, 38);
		fg_avrobin_long(&fx->w, -2);
		fg_avrobin_long(&fx->w, (int64_t)blk.len);
		memcpy(fg_avrobin_room(&fx->w, blk.len), blk.buf, blk.len);
		fx->w.len += blk.len;
		fg_avrobin_fini(&blk);
	}
	fg_avrobin_long(&fx->w, 0);
	decode_ok(fx, id);
	assert_int_equal(fx->d.n_lines, 2);
	assert_int_equal(fx->d.lines[1].item_no, 2);
	assert_int_equal(fx->d.lines[1].net_mass_kg, 2);

	/* An empty array decodes to no lines (validation reports NO_LINES). */
	put_head(&fx->w, 0);
	fg_avrobin_long(&fx->w, 0);
	decode_ok(fx, id);
	assert_int_equal(fx->d.n_lines, 0);
	STR_EQ(fx->d.declaration_id, "MRN-24NL0001");
}
BOTH(array_in_blocks_and_empty)

/* A declaration with no lines and the given function_code index. */
static void put_minimal(struct fg_avrobin *w, int64_t function_code)
{
	w->len = 0;
	fg_avrobin_cstr(w, "MRN");
	fg_avrobin_long(w, 1);
	fg_avrobin_long(w, function_code);
	fg_avrobin_long(w, 0);
	fg_avrobin_long(w, 0);
	for (int i = 0; i < 5; i++)
		fg_avrobin_cstr(w, "X");
	fg_avrobin_long(w, 0);
}

static void unions_and_enum_out_of_range(struct fixture *fx, int32_t id)
{

	/* content branch 2 does not exist */
	put_head(&fx->w, 0);
	fg_avrobin_long(&fx->w, 1);
	put_line_start(&fx->w, 1, "283691", "a", "CL");
	fg_avrobin_decimal(&fx->w, 100);
	fg_avrobin_decimal(&fx->w, 100);
	fg_avrobin_long(&fx->w, 2);
	fg_avrobin_long(&fx->w, 0);
	fg_avrobin_long(&fx->w, 0);
	decode_fails(fx, id, NULL);

	/*
	 * The reader's function_code has three symbols. Index 3 is not one for
	 * a body of the reader schema; to the newer writer it is CORRECTION, a
	 * symbol the reader does not know, which Avro resolves to the reader
	 * enum's default, ORIGINAL. -1 is no symbol at all; 2 is CANCELLATION.
	 */
	put_minimal(&fx->w, 3);
	if (id == ID_AVRO) {
		decode_ok(fx, id);
		assert_int_equal(fx->d.function_code, FG_FC_ORIGINAL);
	} else {
		decode_fails(fx, id, NULL);
	}
	put_minimal(&fx->w, 4); /* past the newer writer's symbols too */
	decode_fails(fx, id, NULL);
	put_minimal(&fx->w, -1);
	decode_fails(fx, id, NULL);
	put_minimal(&fx->w, 2);
	decode_ok(fx, id);
	assert_int_equal(fx->d.function_code, FG_FC_CANCELLATION);
	assert_int_equal(fx->d.n_lines, 0);
}
BOTH(unions_and_enum_out_of_range)

static void truncated_body(struct fixture *fx, int32_t id)
{
	size_t full;

	put_standard(&fx->w, 0);
	full = fx->w.len;
	/* Every proper prefix of a valid body is an error, down to the empty body. */
	for (size_t len = 0; len < full; len++)
		if (decode_bytes(fx, id, fx->w.buf, len) == 0)
			fail_msg("a %zu-byte prefix of %zu decoded", len, full);
	/* and the whole body still decodes afterwards */
	assert_int_equal(decode_bytes(fx, id, fx->w.buf, full), 0);
	check_standard(&fx->d);
}
BOTH(truncated_body)

static void trailing_bytes(struct fixture *fx, int32_t id)
{

	put_standard(&fx->w, 0);
	fg_avrobin_long(&fx->w, 0);
	decode_fails(fx, id, "after the end");
}
BOTH(trailing_bytes)

static void forged_length_is_an_error(struct fixture *fx, int32_t id)
{

	/* declaration_id claims 2^40 bytes; the body has a few. */
	fx->w.len = 0;
	fg_avrobin_long(&fx->w, INT64_C(1) << 40);
	fg_avrobin_cstr(&fx->w, "abc");
	decode_fails(fx, id, NULL);
	/* a negative string length */
	fx->w.len = 0;
	fg_avrobin_long(&fx->w, -3);
	fg_avrobin_cstr(&fx->w, "abc");
	decode_fails(fx, id, NULL);
}
BOTH(forged_length_is_an_error)

static void values_do_not_leak_between_messages(struct fixture *fx, int32_t id)
{

	put_standard(&fx->w, 0);
	decode_ok(fx, id);
	/* A second message, one line with no content and no claim. */
	put_head(&fx->w, 0);
	fg_avrobin_long(&fx->w, 1);
	put_line_start(&fx->w, 99, "750210", "nickel", "NO");
	fg_avrobin_decimal(&fx->w, 5);
	fg_avrobin_decimal(&fx->w, 6);
	put_line_end(&fx->w, NULL, 0, NULL, -1);
	fg_avrobin_long(&fx->w, 0);
	decode_ok(fx, id);
	assert_int_equal(fx->d.n_lines, 1);
	assert_int_equal(fx->d.lines[0].item_no, 99);
	assert_false(fx->d.lines[0].has_content);
	assert_false(fx->d.lines[0].has_preference_claim);
	STR_EQ(fx->d.lines[0].origin_country, "NO");
	/* and the first one again, unchanged */
	put_standard(&fx->w, 0);
	decode_ok(fx, id);
	check_standard(&fx->d);
}
BOTH(values_do_not_leak_between_messages)

static void test_writer_with_added_optional_fields(void **state)
{
	struct fixture *fx = *state;

	/* The newer producer's body is longer (a note per line, a channel) ... */
	put_standard(&fx->w, 1);
	decode_ok(fx, ID_EXTENDED);
	/* ... and reads as the same declaration. */
	check_standard(&fx->d);
	/* Twice, through the cached resolver, and interleaved with the reader schema. */
	put_standard(&fx->w, 0);
	decode_ok(fx, ID_READER);
	check_standard(&fx->d);
	put_standard(&fx->w, 1);
	decode_ok(fx, ID_EXTENDED);
	check_standard(&fx->d);
	/* A reader-schema body is not valid for the extended writer (it is too short). */
	put_standard(&fx->w, 0);
	decode_fails(fx, ID_EXTENDED, NULL);
}

static void test_writer_equal_to_reader(void **state)
{
	struct fixture *fx = *state;

	put_standard(&fx->w, 0);
	decode_ok(fx, ID_SAME);
	check_standard(&fx->d);
}

static void test_incompatible_writer(void **state)
{
	struct fixture *fx = *state;

	put_head(&fx->w, 1);
	fg_avrobin_long(&fx->w, 0);
	decode_fails(fx, ID_BAD, "cannot be resolved");
	/* the answer is the same the second time (cached) */
	decode_fails(fx, ID_BAD, "cannot be resolved");
}

/*
 * Avro C allocates through this: like floorgate's limited allocator (no
 * single allocation above 64 MiB) and it counts the bytes Avro C holds, so
 * a test can see memory that a failed decode leaves behind.
 */
static size_t g_avro_bytes;

static void *counting_allocator(void *ud, void *ptr, size_t osize, size_t nsize)
{
	void *p;

	(void)ud;
	if (nsize == 0) {
		free(ptr);
		g_avro_bytes -= osize;
		return NULL;
	}
	if (nsize > (64u << 20))
		return NULL;
	p = realloc(ptr, nsize);
	if (p)
		g_avro_bytes += nsize - (ptr ? osize : 0);
	return p;
}

static void test_enum_symbols_match_by_name(void **state)
{
	struct fixture *fx = *state;
	/* the writer's index of each reader symbol: CANCELLATION 0, AMENDMENT 1, ORIGINAL 2 */
	const struct {
		int written;
		enum fg_function_code read;
	} v[] = { { 2, FG_FC_ORIGINAL }, { 1, FG_FC_AMENDMENT }, { 0, FG_FC_CANCELLATION } };

	for (size_t i = 0; i < FG_ARRAY_LEN(v); i++) {
		put_minimal(&fx->w, v[i].written);
		decode_ok(fx, ID_REORDERED);
		assert_int_equal(fx->d.function_code, v[i].read);
	}
}

static void test_union_branch_the_reader_cannot_read(void **state)
{
	struct fixture *fx = *state;

	/* through the union's first branch: an ordinary declaration with no lines */
	put_head(&fx->w, 0);
	fg_avrobin_long(&fx->w, 0); /* branch 0: array of GoodsLine */
	fg_avrobin_long(&fx->w, 0); /* no items */
	decode_ok(fx, ID_LINES_UNION);
	assert_int_equal(fx->d.n_lines, 0);
	/* through the second, an array of strings: a decode error, not a crash */
	put_head(&fx->w, 0);
	fg_avrobin_long(&fx->w, 1); /* branch 1: array of string */
	fg_avrobin_long(&fx->w, 1);
	fg_avrobin_cstr(&fx->w, "x");
	fg_avrobin_long(&fx->w, 0);
	decode_fails(fx, ID_LINES_UNION, "lines");
	decode_fails(fx, ID_LINES_UNION, "lines");
}

/*
 * A recursive writer schema is refused: Avro C recurses once per level of a
 * value, and a body of 200,000 nested declarations (one byte of union
 * branch each, after the head) would overflow the stack.
 */
static void test_recursive_writer_is_refused(void **state)
{
	struct fixture *fx = *state;

	put_head(&fx->w, 0);
	fg_avrobin_long(&fx->w, 0); /* no lines */
	fg_avrobin_long(&fx->w, 0); /* previous: null */
	decode_fails(fx, ID_RECURSIVE, "recursive");
	/* 100,000 declarations, each the previous of the one before: refused, no crash */
	fx->w.len = 0;
	for (int level = 0; level < 100000; level++) {
		fg_avrobin_cstr(&fx->w, "M");
		for (int k = 0; k < 4; k++)
			fg_avrobin_long(&fx->w, 1); /* version, function_code, submitted_at, date */
		for (int k = 0; k < 5; k++)
			fg_avrobin_cstr(&fx->w, "X");
		fg_avrobin_long(&fx->w, 0); /* no lines */
		fg_avrobin_long(&fx->w, 1); /* previous: a declaration */
	}
	decode_fails(fx, ID_RECURSIVE, "recursive");
}

static void test_writer_without_a_defaulted_field(void **state)
{
	struct fixture *fx = *state;

	/*
	 * An older producer's GoodsLine has no preference_claim: the reader's
	 * default (null) fills it, as Avro resolution requires, on every
	 * message and not just the first.
	 */
	for (int k = 0; k < 2; k++) {
		put_head(&fx->w, 0);
		fg_avrobin_long(&fx->w, 1);
		put_line_start(&fx->w, 7, "283691", "a", "CL");
		fg_avrobin_decimal(&fx->w, 1);
		fg_avrobin_decimal(&fx->w, 2);
		fg_avrobin_long(&fx->w, 0); /* content null, and no preference_claim */
		fg_avrobin_long(&fx->w, 0);
		decode_ok(fx, ID_OLD_LINE);
		assert_int_equal(fx->d.n_lines, 1);
		assert_int_equal(fx->d.lines[0].item_no, 7);
		assert_int_equal(fx->d.lines[0].customs_value, 2);
		assert_false(fx->d.lines[0].has_content);
		assert_false(fx->d.lines[0].has_preference_claim);
	}
}

static void test_unresolvable_goods_line_is_an_error_not_a_crash(void **state)
{
	struct fixture *fx = *state;

	/* A GoodsLine field of a type the reader cannot read: refused, every time. */
	put_head(&fx->w, 0);
	fg_avrobin_long(&fx->w, 1);
	fg_avrobin_cstr(&fx->w, "1");
	fg_avrobin_long(&fx->w, 0);
	decode_fails(fx, ID_ITEM_STRING, "item_no");
	decode_fails(fx, ID_ITEM_STRING, "item_no");
	/* and the decoder still works for everyone else */
	put_standard(&fx->w, 1);
	decode_ok(fx, ID_EXTENDED);
	check_standard(&fx->d);
}

/*
 * avro-c 1.11 leaks the buffer of a string whose read fails part-way, and a
 * body avro_skip_data() accepts can still fail the read (the two walk an
 * over-long varint differently). This body, found by fuzz_decode, does;
 * sent with a writer schema that differs from the reader (one more enum
 * symbol), it takes the Avro C path. The decoder must free what the failed
 * read left (the ASan build's leak check fails this test if not), and the
 * tracker that does it must free exactly what was allocated and not freed
 * while it ran.
 */
static const uint8_t skip_ok_read_fails[] = {
	0x1e, 0x46, 0x61, 0x30, 0x32, 0x2d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x30, 0x30, 0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xd0, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x03, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x80, 0x02, 0x02, 0x02, 0x3c, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x31, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x3c, 0x02, 0x02, 0x31, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0xd6, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0x03, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x01, 0x02, 0x3c, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x32, 0x02, 0x02, 0x04, 0x32, 0x4c, 0x08, 0x00,
	0xbe, 0xbc, 0x20, 0x08, 0x05, 0xe3, 0x0a, 0x78, 0x00, 0x00, 0x00,
};

static void test_failed_avro_c_read_frees_what_it_leaked(void **state)
{
	struct fixture *fx = *state;
	struct fg_avro_track t = { 0 };

	fg_schemas_limit_allocations(64u << 20); /* the allocator that tracks */
	fg_avro_track_begin(&t);
	void *kept = avro_malloc(10), *gone = avro_malloc(20);
	avro_free(gone, 20);
	assert_int_equal(fg_avro_track_end(&t, 1), 1); /* kept, and only kept */
	(void)kept;
	fg_avro_track_begin(&t);
	void *owned = avro_malloc(10);
	assert_int_equal(fg_avro_track_end(&t, 0), 0); /* a good call keeps everything */
	avro_free(owned, 10);

	for (int i = 0; i < 100; i++) {
		assert_int_equal(decode_bytes(fx, ID_AVRO, skip_ok_read_fails,
					      sizeof(skip_ok_read_fails)), -1);
		assert_non_null(strstr(fx->msg, "not valid Avro"));
	}
	/* and the value made anew after each failure still decodes */
	put_standard(&fx->w, 0);
	decode_ok(fx, ID_AVRO);
	check_standard(&fx->d);
	free(t.v);
	avro_set_allocator(counting_allocator, NULL);
}

static void failed_decodes_leave_nothing_behind(struct fixture *fx, int32_t id)
{
	size_t held, full;

	/* warm up: the writer's value and its buffers exist after the first decode */
	put_standard(&fx->w, 0);
	decode_ok(fx, id);
	held = g_avro_bytes;
	/* the count is steady over good decodes */
	for (int i = 0; i < 50; i++)
		decode_ok(fx, id);
	assert_int_equal(g_avro_bytes, held);
	/* every truncation of a good body */
	full = fx->w.len;
	for (size_t len = 0; len < full; len++)
		assert_int_equal(decode_bytes(fx, id, fx->w.buf, len), -1);
	/* a body whose first string claims 1 MiB and holds 3 bytes, a hundred times */
	fx->w.len = 0;
	fg_avrobin_long(&fx->w, INT64_C(1) << 20);
	fg_avrobin_cstr(&fx->w, "abc");
	for (int i = 0; i < 100; i++)
		decode_fails(fx, id, NULL);
	/* a good body again: Avro C holds what it held before, not a byte more */
	put_standard(&fx->w, 0);
	decode_ok(fx, id);
	if (g_avro_bytes > held)
		fail_msg("failed decodes left %zu bytes allocated", g_avro_bytes - held);
}
BOTH(failed_decodes_leave_nothing_behind)

/*
 * The contract reads a decimal at "the scale given in the schema": the
 * writer's. A producer at finer or coarser scales than the reader's is
 * brought to the reader's exactly, or its value is refused; before, the
 * unscaled integer was taken at the reader's scale (100 times the value).
 */
static void put_scaled(struct fg_avrobin *w, __int128 mass, __int128 value, __int128 pct)
{
	put_head(w, 0);
	fg_avrobin_long(w, 1);
	put_line_start(w, 10, "2836910000", "Lithium carbonate, battery grade", "CL");
	fg_avrobin_decimal(w, mass);
	fg_avrobin_long(w, 1); /* customs_value's decimal branch */
	fg_avrobin_decimal(w, value);
	put_line_end(w, "Li2O", pct, NULL, -1);
	fg_avrobin_long(w, 0);
}

static void test_decimals_at_the_writers_scale(void **state)
{
	struct fixture *fx = *state;
	const struct fg_decl_line *l;

	/* 1234.567 kg, 98765.43, 18.79 % at scales 6, 4, 6 */
	put_scaled(&fx->w, 1234567000, 987654300, 18790000);
	decode_ok(fx, ID_FINER);
	l = &fx->d.lines[0];
	assert_int_equal(l->net_mass_kg, 1234567);
	assert_int_equal(l->customs_value, 9876543);
	assert_int_equal(l->content_percent, 187900);
	/* a cent and a half is not a number of cents: refused, not rounded */
	put_scaled(&fx->w, 1234567000, 987654350, 18790000);
	decode_fails(fx, ID_FINER,
		     "customs_value: 98765.4350 (written at scale 4) has more decimals than the "
		     "reader's scale 2 keeps");
	put_scaled(&fx->w, 1234567800, 987654300, 18790000);
	decode_fails(fx, ID_FINER, "net_mass_kg: 1234.567800 (written at scale 6)");
	put_scaled(&fx->w, 1234567000, 987654300, 18790001);
	decode_fails(fx, ID_FINER, "content.percent: 18.790001 (written at scale 6)");

	/* 1235 kg, 98765 dollars, 18.79 % at scales 0, 0, 2 */
	put_scaled(&fx->w, 1235, 98765, 1879);
	decode_ok(fx, ID_COARSER);
	l = &fx->d.lines[0];
	assert_int_equal(l->net_mass_kg, 1235000);
	assert_int_equal(l->customs_value, 9876500);
	assert_int_equal(l->content_percent, 187900);
	put_scaled(&fx->w, INT64_MAX / 100, 98765, 1879);
	decode_fails(fx, ID_COARSER,
		     "net_mass_kg: 92233720368547758 (written at scale 0) does not fit in 64 bits "
		     "at the reader's scale 3");

	/* the reader's layout with customs_value at scale 4: 98765.4300 */
	put_head(&fx->w, 0);
	fg_avrobin_long(&fx->w, 1);
	put_line_start(&fx->w, 10, "2836910000", "Lithium carbonate, battery grade", "CL");
	fg_avrobin_decimal(&fx->w, 1234567);
	fg_avrobin_decimal(&fx->w, 987654300);
	put_line_end(&fx->w, "Li2O", 187900, NULL, -1);
	fg_avrobin_long(&fx->w, 0);
	decode_ok(fx, ID_VALUE_SCALE_4);
	assert_int_equal(fx->d.lines[0].customs_value, 9876543);
	assert_int_equal(fx->d.lines[0].net_mass_kg, 1234567);
	/* that writer's bodies take the codec, which refuses as the generic path
	 * does: the second line's 98765.4350 */
	put_head(&fx->w, 0);
	fg_avrobin_long(&fx->w, 2);
	for (int i = 0; i < 2; i++) {
		put_line_start(&fx->w, 10 + i, "2836910000", "Lithium carbonate, battery grade",
			       "CL");
		fg_avrobin_decimal(&fx->w, 1234567);
		fg_avrobin_decimal(&fx->w, i ? 987654350 : 987654300);
		put_line_end(&fx->w, "Li2O", 187900, NULL, -1);
	}
	fg_avrobin_long(&fx->w, 0);
	decode_fails(fx, ID_VALUE_SCALE_4,
		     "customs_value: 98765.4350 (written at scale 4) has more decimals than the "
		     "reader's scale 2 keeps");

	/* the reader's own bodies are unchanged in between */
	put_standard(&fx->w, 0);
	decode_ok(fx, ID_READER);
	check_standard(&fx->d);
}

static void test_decimal_scales_from_schema_json(void **state)
{
	char why[256];
	int sc[FG_DEC_FIELDS];
	(void)state;

#define SCALES(json) fg_schema_decimal_scales((json), strlen(json), sc, why, sizeof(why))
	assert_int_equal(SCALES(fg_schema_text_declaration), 0);
	assert_int_equal(sc[FG_DEC_NET_MASS], 3);
	assert_int_equal(sc[FG_DEC_CUSTOMS_VALUE], 2);
	assert_int_equal(sc[FG_DEC_PERCENT], 4);
	for (int k = 0; k < FG_DEC_FIELDS; k++)
		assert_int_equal(sc[k], fg_reader_scales[k]);
	assert_int_equal(SCALES(writer_finer), 0);
	assert_int_equal(sc[FG_DEC_NET_MASS], 6);
	assert_int_equal(sc[FG_DEC_CUSTOMS_VALUE], 4);
	assert_int_equal(sc[FG_DEC_PERCENT], 6);
	/* a scale left out is 0, as the specification has it */
	static const char no_scale[] =
		"{\"type\":\"record\",\"name\":\"x.GoodsLine\",\"fields\":[{\"name\":"
		"\"customs_value\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\","
		"\"precision\":9}}]}";
	assert_int_equal(SCALES(no_scale), 0);
	assert_int_equal(sc[FG_DEC_CUSTOMS_VALUE], 0);
	/* an invalid decimal (scale above precision) is plain bytes: the reader's scale */
	static const char invalid[] =
		"{\"type\":\"record\",\"name\":\"GoodsLine\",\"fields\":[{\"name\":"
		"\"customs_value\",\"type\":" DEC(3, 5) "}]}";
	assert_int_equal(SCALES(invalid), 0);
	assert_int_equal(sc[FG_DEC_CUSTOMS_VALUE], 2);
	/* two GoodsLine records (other namespaces) that disagree: the decoder
	 * matches records by unqualified name, so which one is meant is unclear */
	static const char two[] =
		"[{\"type\":\"record\",\"name\":\"a.GoodsLine\",\"fields\":[{\"name\":"
		"\"customs_value\",\"type\":" DEC(9, 2) "}]},"
		"{\"type\":\"record\",\"name\":\"b.GoodsLine\",\"fields\":[{\"name\":"
		"\"customs_value\",\"type\":" DEC(9, 4) "}]}]";
	assert_int_equal(SCALES(two), -1);
	assert_non_null(strstr(why, "two records named GoodsLine declare customs_value at scales 2 and 4"));
	/* a plain bytes field is read at the reader's scale: the message says so */
	static const char plain[] =
		"[{\"type\":\"record\",\"name\":\"a.GoodsLine\",\"fields\":[{\"name\":"
		"\"customs_value\",\"type\":" DEC(9, 4) "}]},"
		"{\"type\":\"record\",\"name\":\"b.GoodsLine\",\"fields\":[{\"name\":"
		"\"customs_value\",\"type\":\"bytes\"}]}]";
	assert_int_equal(SCALES(plain), -1);
	assert_non_null(strstr(why, "at scales 4 and 2 (a field with no valid decimal type is "
				    "read at the reader's scale)"));
	/* a field's default is a value, not a type: one shaped like a GoodsLine
	 * schema declares nothing (the JSON walk is checked, not Avro's typing of
	 * defaults, which Avro C does not do) */
	static const char in_default[] =
		"{\"type\":\"record\",\"name\":\"GoodsLine\",\"fields\":[{\"name\":"
		"\"customs_value\",\"type\":" DEC(9, 4) "},{\"name\":\"note\",\"type\":"
		"{\"type\":\"map\",\"values\":\"string\"},\"default\":{\"type\":\"record\","
		"\"name\":\"GoodsLine\",\"fields\":[{\"name\":\"customs_value\",\"type\":" DEC(9, 2)
		"}]}}]}";
	assert_int_equal(SCALES(in_default), 0);
	assert_int_equal(sc[FG_DEC_CUSTOMS_VALUE], 4);
#undef SCALES
}

/* A schema directory (the Kafka path's writers) keeps each schema's scales. */
static void test_schema_directory_keeps_decimal_scales(void **state)
{
	struct fixture *fx = *state;
	struct fg_schema_registry reg = { 0 };
	char dir[] = "/tmp/fg-test-schemas.XXXXXX", path[256], err[512];
	const struct fg_schema_entry *e;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/41.avsc", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(writer_finer, f);
	fclose(f);
	if (fg_schema_registry_load_dir(&reg, dir, err, sizeof(err)))
		fail_msg("%s", err);
	unlink(path);
	rmdir(dir);
	assert_non_null(e = fg_schema_registry_get(&reg, 41));
	assert_int_equal(e->scale[FG_DEC_NET_MASS], 6);
	assert_int_equal(e->scale[FG_DEC_CUSTOMS_VALUE], 4);
	assert_int_equal(e->scale[FG_DEC_PERCENT], 6);
	/* and a body at those scales reads as the reader's numbers */
	put_scaled(&fx->w, 1234567000, 987654300, 18790000);
	fx->msg[0] = '\0';
	if (fg_decoder_decode(fx->dec, e, fx->w.buf, fx->w.len, &fx->d, fx->msg, sizeof(fx->msg)))
		fail_msg("%s", fx->msg);
	assert_int_equal(fx->d.lines[0].customs_value, 9876543);
	fg_schema_registry_fini(&reg);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_every_field_codec),
		T(test_every_field_avro_c),
		T(test_decimals_codec),
		T(test_decimals_avro_c),
		T(test_decimal_too_wide_or_empty_codec),
		T(test_decimal_too_wide_or_empty_avro_c),
		T(test_array_in_blocks_and_empty_codec),
		T(test_array_in_blocks_and_empty_avro_c),
		T(test_unions_and_enum_out_of_range_codec),
		T(test_unions_and_enum_out_of_range_avro_c),
		T(test_truncated_body_codec),
		T(test_truncated_body_avro_c),
		T(test_trailing_bytes_codec),
		T(test_trailing_bytes_avro_c),
		T(test_forged_length_is_an_error_codec),
		T(test_forged_length_is_an_error_avro_c),
		T(test_values_do_not_leak_between_messages_codec),
		T(test_values_do_not_leak_between_messages_avro_c),
		T(test_writer_with_added_optional_fields),
		T(test_writer_equal_to_reader),
		T(test_incompatible_writer),
		T(test_enum_symbols_match_by_name),
		T(test_union_branch_the_reader_cannot_read),
		T(test_recursive_writer_is_refused),
		T(test_writer_without_a_defaulted_field),
		T(test_unresolvable_goods_line_is_an_error_not_a_crash),
		T(test_failed_decodes_leave_nothing_behind_codec),
		T(test_failed_decodes_leave_nothing_behind_avro_c),
		T(test_failed_avro_c_read_frees_what_it_leaked),
		T(test_decimals_at_the_writers_scale),
		T(test_decimal_scales_from_schema_json),
		T(test_schema_directory_keeps_decimal_scales),
	};
#undef T
	avro_set_allocator(counting_allocator, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
