/*
 * fuzz_decode.c: libFuzzer target, ingest/fg_codec.c against Avro C.
 *
 * Every input is decoded twice: by fg_codec_decode_declaration and by the
 * generic Avro C read of the reader schema (fg_avroc_ref.h, a mirror of
 * fg_decode.c's generic path, so this never compares the codec with
 * itself). It abort()s unless both refuse, or both accept with the same
 * fg_decl (every field, every line, string bytes compared).
 *
 * Avro C 1.11.1 accepts three kinds of malformed body that the Avro
 * specification does not allow and the codec refuses (see the DESIGN
 * comment in fg_codec.c). Those, and only those, are tolerated, and not on
 * the codec's word: the harness repairs the spot the codec names the way
 * Avro C reads it (clears the bits above 64, re-encodes the enum index
 * Avro C truncated, writes the block's true size), and requires that
 *   - the spot really is what the codec says (checked here, independently),
 *   - Avro C reads the repaired body as the very same declaration, and
 *   - the codec then accepts it (after further repairs, if any) and
 *     agrees with Avro C field by field.
 *
 * The codec's line array lives across inputs, as it does in a decoder.
 *
 * Every input also goes through fg_decoder_decode under a writer schema
 * that is not the reader's (the reader with a fourth function code,
 * CORRECTION, so the reader's bodies are valid for it): the by-name
 * resolution path that serves other producers' schemas. It must never
 * crash or leak, and whenever Avro C's reference accepts a body, it must
 * read the very same declaration.
 *
 * And both again at finer decimal scales (6/4/6): the reader schema at those
 * scales takes the codec and a rescale, the evolved one the generic path,
 * which rescales field by field. On every body the codec and Avro C both
 * accept, the two must give the same declaration or the same refusal.
 *
 * Build and run: tests/fuzz/Makefile, tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ingest/fg_codec.h"
#include "../../ingest/fg_decode.h"
#include "fg_avroc_ref.h"

/*
 * Avro C's largest allocation for a fuzz input (its line array, ~250 KB
 * for 400 lines in 4 KB) stays below this; a forged length above it gets
 * NULL, as the production cap does. Leak checking stays on: the skip pass
 * in fg_avroc_ref.h keeps Avro C from leaking on short bodies.
 */
#define FUZZ_AVRO_MAX_ALLOC (1u << 20)
#define MAX_REPAIRS 4096

static struct fg_avroc_ref *ref;
static struct fg_decoder *dec;         /* the resolution path, for another writer schema */
static struct fg_schema_entry evolved; /* that writer schema */
/* The reader schema at finer decimal scales (6/4/6): the codec, then a
 * rescale; and the evolved one at those scales: the generic path, which
 * rescales field by field. On a body both reader paths accept they must
 * agree: the same declaration, or the same refusal. dec2 decodes the
 * second, so the first's lines stay intact. */
static struct fg_schema_entry finer_same, finer_evolved;
static struct fg_decoder *dec2;
static struct fg_decl_line *lines;
static uint32_t cap_lines;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_options(void);

/*
 * Avro C's generic values keep pointers at 4-byte offsets (a union's
 * branch right after its int discriminant), which LeakSanitizer does not
 * scan by default: without this, the live reused value of fg_avroc_ref.h
 * is reported as leaked (a false positive, gone with use_unaligned=1 or
 * once the value is destroyed).
 */
const char *__lsan_default_options(void)
{
	return "use_unaligned=1";
}

/* At exit, so the final leak check sees only what was really lost. */
static void release(void)
{
	fg_avroc_ref_destroy(ref);
	ref = NULL;
	fg_decoder_destroy(dec);
	dec = NULL;
	fg_decoder_destroy(dec2);
	dec2 = NULL;
	struct fg_schema_entry *entries[] = { &evolved, &finer_same, &finer_evolved };
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		if (entries[i]->schema)
			avro_schema_decref(entries[i]->schema);
		entries[i]->schema = NULL;
	}
	free(lines);
	lines = NULL;
	cap_lines = 0;
}

/* text with each pair (from, to) of pairs replaced once; every from must occur. */
static char *replaced(const char *text, const char *const *pairs)
{
	char *cur = strdup(text);

	for (; cur && pairs[0]; pairs += 2) {
		const char *at = strstr(cur, pairs[0]);
		size_t size = strlen(cur) - strlen(pairs[0]) + strlen(pairs[1]) + 1;
		char *next = malloc(size);
		if (!at || !next) {
			fprintf(stderr, "fuzz_decode: cannot find %s in the reader schema\n",
				pairs[0]);
			abort();
		}
		snprintf(next, size, "%.*s%s%s", (int)(at - cur), cur, pairs[1],
			 at + strlen(pairs[0]));
		free(cur);
		cur = next;
	}
	if (!cur)
		abort();
	return cur;
}

static void writer(struct fg_schema_entry *e, int32_t id, const char *text)
{
	char err[512];

	e->id = id;
	e->schema = fg_schema_parse_writer(text, strlen(text), e->scale, err, sizeof(err));
	if (!e->schema) {
		fprintf(stderr, "fuzz_decode: cannot prepare writer %d: %s\n", (int)id, err);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* A forged length must not make Avro C ask for gigabytes. */
	fg_schemas_limit_allocations(FUZZ_AVRO_MAX_ALLOC);
	ref = fg_avroc_ref_create();
	if (!ref) {
		fprintf(stderr, "fuzz_decode: cannot create the Avro C reader\n");
		abort();
	}
	/* the reader schema with one more function code, then the same two at
	 * finer decimal scales */
	static const char *const evolve[] = { "\"CANCELLATION\"]",
					      "\"CANCELLATION\", \"CORRECTION\"]", NULL };
	static const char *const finer[] = {
		"\"precision\": 18, \"scale\": 3}", "\"precision\": 18, \"scale\": 6}",
		"\"precision\": 18, \"scale\": 2}", "\"precision\": 18, \"scale\": 4}",
		"\"precision\": 7, \"scale\": 4}",  "\"precision\": 7, \"scale\": 6}",
		NULL
	};
	char err[512], *evolved_text = replaced(fg_schema_text_declaration, evolve);
	char *finer_text = replaced(fg_schema_text_declaration, finer);
	char *finer_evolved_text = replaced(evolved_text, finer);
	writer(&evolved, 2, evolved_text);
	writer(&finer_same, 3, finer_text);
	writer(&finer_evolved, 4, finer_evolved_text);
	free(evolved_text);
	free(finer_text);
	free(finer_evolved_text);
	if (finer_same.scale[FG_DEC_NET_MASS] != 6 || finer_evolved.scale[FG_DEC_PERCENT] != 6) {
		fprintf(stderr, "fuzz_decode: the finer writers do not declare finer scales\n");
		abort();
	}
	dec = fg_decoder_create(err, sizeof(err));
	dec2 = fg_decoder_create(err, sizeof(err));
	if (!dec || !dec2) {
		fprintf(stderr, "fuzz_decode: cannot create the decoders: %s\n", err);
		abort();
	}
	atexit(release);
	return 0;
}

/* A deep copy of a decoded declaration, so Avro C can be run again. */
struct snap {
	struct fg_decl d;
	struct fg_decl_line *lines;
	char *bytes;
};

static size_t snap_str_len(const struct fg_decl *d)
{
	size_t n = d->declaration_id.len + d->declarant_id.len + d->importer_id.len +
		   d->port_code.len + d->export_country.len + d->invoice_currency.len;

	for (uint32_t i = 0; i < d->n_lines; i++) {
		const struct fg_decl_line *l = &d->lines[i];
		n += l->commodity_code.len + l->description.len + l->origin_country.len +
		     l->content_element.len + l->preference_claim.len;
	}
	return n;
}

static void snap_str(struct fg_str *s, char **at)
{
	if (s->len)
		memcpy(*at, s->p, s->len);
	s->p = *at;
	*at += s->len;
}

static void snap_take(struct snap *s, const struct fg_decl *d)
{
	char *at;

	s->d = *d;
	s->lines = malloc((d->n_lines ? d->n_lines : 1) * sizeof(*s->lines));
	s->bytes = malloc(snap_str_len(d) + 1);
	if (!s->lines || !s->bytes)
		abort();
	if (d->n_lines)
		memcpy(s->lines, d->lines, d->n_lines * sizeof(*s->lines));
	s->d.lines = s->lines;
	at = s->bytes;
	snap_str(&s->d.declaration_id, &at);
	snap_str(&s->d.declarant_id, &at);
	snap_str(&s->d.importer_id, &at);
	snap_str(&s->d.port_code, &at);
	snap_str(&s->d.export_country, &at);
	snap_str(&s->d.invoice_currency, &at);
	for (uint32_t i = 0; i < d->n_lines; i++) {
		struct fg_decl_line *l = &s->lines[i];
		snap_str(&l->commodity_code, &at);
		snap_str(&l->description, &at);
		snap_str(&l->origin_country, &at);
		snap_str(&l->content_element, &at);
		snap_str(&l->preference_claim, &at);
	}
}

static void snap_free(struct snap *s)
{
	free(s->lines);
	free(s->bytes);
}

__attribute__((noreturn)) static void discrepancy(const char *what, const char *codec_msg,
						  const char *avro_msg)
{
	fprintf(stderr, "fuzz_decode: DISCREPANCY: %s\n  codec:  %s\n  avro c: %s\n", what,
		codec_msg, avro_msg);
	abort();
}

/* A strict varint reader of our own, to check what the codec claims. */
struct varint {
	size_t len;      /* bytes, 0 when there is no complete varint of <= 10 bytes */
	int overflow;    /* the 10th byte has bits above bit 63 */
	uint64_t zigzag; /* the low 64 bits */
};

static struct varint varint_at(const uint8_t *b, size_t size, size_t at)
{
	struct varint v = { 0, 0, 0 };

	for (size_t i = 0; i < 10 && at + i < size; i++) {
		uint8_t x = b[at + i];
		v.zigzag |= (uint64_t)(x & 0x7f) << (7 * i);
		if (!(x & 0x80)) {
			v.len = i + 1;
			v.overflow = i == 9 && (x & 0x7e);
			return v;
		}
	}
	v.len = 0;
	return v;
}

static int64_t unzigzag(uint64_t z)
{
	return (int64_t)((z >> 1) ^ (0 - (z & 1)));
}

static size_t put_varint(uint8_t *out, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	size_t n = 0;

	while (z >= 0x80) {
		out[n++] = (uint8_t)(z | 0x80);
		z >>= 7;
	}
	out[n++] = (uint8_t)z;
	return n;
}

/* *buf with the varint of `old_len` bytes at `at` replaced by v's encoding. */
static void splice_varint(uint8_t **buf, size_t *size, size_t at, size_t old_len, int64_t v)
{
	uint8_t enc[10];
	size_t n = put_varint(enc, v);
	size_t new_size = *size - old_len + n;
	uint8_t *nb = malloc(new_size ? new_size : 1);

	if (!nb)
		abort();
	memcpy(nb, *buf, at);
	memcpy(nb + at, enc, n);
	memcpy(nb + at + n, *buf + at + old_len, *size - at - old_len);
	free(*buf);
	*buf = nb;
	*size = new_size;
}

enum tolerated { T_OVERFLOW, T_ENUM, T_BLOCK_SIZE, T_COUNT };
static const char *const tolerated_names[T_COUNT] = {
	"varint with bits above 64 (Avro C drops them)",
	"enum index outside int32 (Avro C truncates it to int)",
	"array block size that is not the block's size (Avro C ignores it)",
};
static int tolerated_seen[T_COUNT];

/*
 * Undoes, in *buf, the one documented strictness the codec's message
 * names, the way Avro C reads it. Returns 0, or -1 when the message is
 * not one of them or the bytes are not what it says.
 */
static int repair(uint8_t **buf, size_t *size, const char *msg)
{
	const char *p = strstr(msg, "at byte ");
	unsigned long long at;
	struct varint v;
	enum tolerated kind;

	if (!p || sscanf(p, "at byte %llu", &at) != 1 || at >= *size)
		return -1;
	v = varint_at(*buf, *size, (size_t)at);
	if (!v.len)
		return -1;
	if (strstr(msg, ": varint at byte ") && strstr(msg, " overflows 64 bits")) {
		if (!v.overflow)
			return -1;
		(*buf)[at + 9] &= 0x01; /* what `(int64_t)(b & 0x7F) << 63` keeps */
		kind = T_OVERFLOW;
	} else if (strncmp(msg, "function_code: symbol ", 22) == 0) {
		int64_t e = unzigzag(v.zigzag);
		if (v.overflow || (e >= INT32_MIN && e <= INT32_MAX))
			return -1; /* in int range: Avro C refuses it too */
		/* avro_value_set_enum(dest, int val): the low 32 bits. */
		splice_varint(buf, size, (size_t)at, v.len, (int32_t)(uint32_t)(uint64_t)e);
		kind = T_ENUM;
	} else if (strncmp(msg, "lines: block size ", 18) == 0) {
		unsigned long long taken;
		const char *q = strstr(msg, "does not match the ");
		if (v.overflow || !q || sscanf(q, "does not match the %llu bytes", &taken) != 1)
			return -1;
		if ((uint64_t)unzigzag(v.zigzag) == taken)
			return -1; /* it does match: the codec is wrong */
		/* Whether `taken` is right is proven by the codec accepting it later. */
		splice_varint(buf, size, (size_t)at, v.len, (int64_t)taken);
		kind = T_BLOCK_SIZE;
	} else {
		return -1;
	}
	if (!tolerated_seen[kind]++)
		fprintf(stderr, "fuzz_decode: tolerated (documented): %s\n", tolerated_names[kind]);
	return 0;
}

/* A body both reader paths accept, under the two finer-scale writers. */
static void finer_scales_agree(const uint8_t *data, size_t size)
{
	struct fg_decl a, b;
	char amsg[512] = "", bmsg[512] = "", why[512];
	int arc = fg_decoder_decode(dec, &finer_same, data, size, &a, amsg, sizeof(amsg));
	int brc = fg_decoder_decode(dec2, &finer_evolved, data, size, &b, bmsg, sizeof(bmsg));

	if (arc != brc || (arc && strcmp(amsg, bmsg)))
		discrepancy("finer scales: codec + rescale and the generic path disagree",
			    arc ? amsg : "(accepted)", brc ? bmsg : "(accepted)");
	if (!arc && fg_avroc_ref_decl_diff(&b, &a, why, sizeof(why)))
		discrepancy(why, "(finer scales, codec + rescale)", "(finer scales, generic)");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_decl want, got;
	char amsg[512], cmsg[512], why[512];
	int arc, crc;
	struct snap s;
	uint8_t *buf;
	size_t n;

	arc = fg_avroc_ref_decode(ref, data, size, &want, amsg, sizeof(amsg));
	/* the resolution path of another writer schema (see the top) */
	struct fg_decl res;
	char rmsg[512];
	int rrc = fg_decoder_decode(dec, &evolved, data, size, &res, rmsg, sizeof(rmsg));
	if (arc == 0 && rrc)
		discrepancy("the resolution path refuses a body Avro C reads", rmsg, "(accepted)");
	if (arc == 0 && fg_avroc_ref_decl_diff(&want, &res, why, sizeof(why)))
		discrepancy(why, "(resolution path)", "(accepted)");
	crc = fg_codec_decode_declaration(data, size, &got, &lines, &cap_lines, cmsg,
					  sizeof(cmsg));
	if (crc == 0 && got.n_lines && got.lines != lines)
		discrepancy("out->lines is not the caller's array", "", "");
	if (arc && crc)
		return 0;
	if (arc)
		discrepancy("the codec accepts a body Avro C refuses", "(accepted)", amsg);
	if (crc == 0) {
		if (fg_avroc_ref_decl_diff(&want, &got, why, sizeof(why)))
			discrepancy(why, "(accepted)", "(accepted)");
		finer_scales_agree(data, size);
		return 0;
	}

	/* Avro C accepts, the codec refuses: only a documented strictness may explain it. */
	snap_take(&s, &want);
	n = size;
	buf = malloc(n ? n : 1);
	if (!buf)
		abort();
	memcpy(buf, data, n);
	for (int round = 0;; round++) {
		if (round == MAX_REPAIRS)
			discrepancy("repairs do not converge", cmsg, "(accepted)");
		if (repair(&buf, &n, cmsg))
			discrepancy("the codec refuses a body Avro C accepts", cmsg, "(accepted)");
		/* The repair must only undo Avro C's leniency: same reading. */
		if (fg_avroc_ref_decode(ref, buf, n, &want, amsg, sizeof(amsg)))
			discrepancy("Avro C refuses the repaired body", cmsg, amsg);
		if (fg_avroc_ref_decl_diff(&s.d, &want, why, sizeof(why)))
			discrepancy("Avro C reads the repaired body differently", cmsg, why);
		if (fg_codec_decode_declaration(buf, n, &got, &lines, &cap_lines, cmsg,
						sizeof(cmsg)) == 0)
			break;
	}
	if (fg_avroc_ref_decl_diff(&s.d, &got, why, sizeof(why)))
		discrepancy(why, "(accepted after repair)", "(accepted)");
	free(buf);
	snap_free(&s);
	return 0;
}
