/*
 * fg_schemas.h: writer schemas by id, and the schemas floorgate is built with.
 *
 * A Confluent-framed message names its writer schema by a 32-bit id. The
 * registry maps ids to parsed Avro schemas, loaded once from a directory
 * of `<id>.avsc` files (the offline stand-in for a schema registry). The
 * reader schema (declaration.avsc) and the two output schemas are compiled
 * into the binary, so the code and the schemas it was written for never
 * drift apart.
 */
#ifndef FG_SCHEMAS_H
#define FG_SCHEMAS_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

/* Schema texts compiled in from schemas/ (build/gen/fg_schema_text.c). */
extern const char fg_schema_text_declaration[];
extern const char fg_schema_text_assessment[];
extern const char fg_schema_text_deadletter[];

#define FG_SCHEMA_ID_FILE (-1) /* the writer schema of the input file in file mode */

/*
 * The reader's decimals, in the order a writer's scales are kept. Avro C
 * keeps no logical types, so the scales a writer declares are read from its
 * JSON (fg_schema_decimal_scales) and kept beside the parsed schema.
 */
enum fg_dec_field { FG_DEC_NET_MASS, FG_DEC_CUSTOMS_VALUE, FG_DEC_PERCENT, FG_DEC_FIELDS };
/* FG_DECL_MASS_SCALE, FG_DECL_VALUE_SCALE, FG_DECL_PERCENT_SCALE (3, 2, 4): what
 * declaration.avsc declares (test_ingest_decode checks) */
extern const int fg_reader_scales[FG_DEC_FIELDS];
extern const char *const fg_dec_field_names[FG_DEC_FIELDS];

struct fg_schema_entry {
	int32_t id;
	avro_schema_t schema; /* owned (one reference) */
	int scale[FG_DEC_FIELDS]; /* the scales the writer declares */
	char *origin;          /* file it came from, for messages */
};

/*
 * The scale writer schema json declares for each of the reader's decimals:
 * the `scale` of a `bytes` type with logicalType decimal in field
 * net_mass_kg or customs_value of a record named GoodsLine, or percent of
 * one named Content (names unqualified, as the decoder matches them; a
 * union's bytes branch). A field without a valid decimal logical type (the
 * specification has an invalid one ignored) keeps the reader's scale.
 * Returns 0, or -1 with a message (two records of one name declaring
 * different scales, JSON that does not parse).
 */
int fg_schema_decimal_scales(const char *json, size_t len, int scale[FG_DEC_FIELDS], char *why,
			     size_t why_size);

/*
 * A writer schema and the scales it declares (fg_schema_decimal_scales), from
 * len bytes of JSON. Returns the schema (one reference, the caller's), or
 * NULL with a message ("invalid Avro schema: ..." or the scales' reason).
 */
avro_schema_t fg_schema_parse_writer(const char *json, size_t len, int scale[FG_DEC_FIELDS],
				     char *errstr, size_t errstr_size);

struct fg_schema_registry {
	struct fg_schema_entry *v;
	size_t n, cap;
};

/* Parses schema JSON. Returns NULL and a message on error. */
avro_schema_t fg_schemas_parse(const char *json, char *errstr, size_t errstr_size);

/* Loads every `<id>.avsc` in dir. Returns 0 or -1 with "file: reason". */
int fg_schema_registry_load_dir(struct fg_schema_registry *reg, const char *dir, char *errstr,
				size_t errstr_size);
/* Adds a schema under id (takes a new reference), with the decimal scales its
 * writer declares (NULL: the reader's). Replaces an existing id. */
int fg_schema_registry_add(struct fg_schema_registry *reg, int32_t id, avro_schema_t schema,
			   const int *scale, const char *origin);
const struct fg_schema_entry *fg_schema_registry_get(const struct fg_schema_registry *reg,
						     int32_t id);
void fg_schema_registry_fini(struct fg_schema_registry *reg);

/*
 * Makes Avro C refuse single allocations above max_bytes, so a forged
 * length prefix in an untrusted body cannot ask for gigabytes.
 */
void fg_schemas_limit_allocations(size_t max_bytes);

/*
 * Allocation tracking around one Avro C call on this thread (needs
 * fg_schemas_limit_allocations(), whose allocator does the tracking).
 * avro-c 1.11's read_string()/read_bytes() leak their buffer when a read
 * fails part-way (a body avro_skip_data() accepts can still fail the read:
 * the two walk over-long varints differently). After a failed read, free
 * the value that was read into (which frees what it owns while still
 * tracked), then end with free_rest: what is left was allocated during the
 * call and is owned by nobody. If the tracker itself could not grow, it
 * frees nothing (a leak, never a double free).
 */
struct fg_avro_track {
	void **v;
	size_t n, cap;
	int lost; /* an allocation could not be recorded */
};
void fg_avro_track_begin(struct fg_avro_track *t);
/* Returns how many allocations it freed. */
size_t fg_avro_track_end(struct fg_avro_track *t, int free_rest);

#endif
