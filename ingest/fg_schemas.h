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

struct fg_schema_entry {
	int32_t id;
	avro_schema_t schema; /* owned (one reference) */
	char *origin;          /* file it came from, for messages */
};

struct fg_schema_registry {
	struct fg_schema_entry *v;
	size_t n, cap;
};

/* Parses schema JSON. Returns NULL and a message on error. */
avro_schema_t fg_schemas_parse(const char *json, char *errstr, size_t errstr_size);

/* Loads every `<id>.avsc` in dir. Returns 0 or -1 with "file: reason". */
int fg_schema_registry_load_dir(struct fg_schema_registry *reg, const char *dir, char *errstr,
				size_t errstr_size);
/* Adds a schema under id (takes a new reference). Replaces an existing id. */
int fg_schema_registry_add(struct fg_schema_registry *reg, int32_t id, avro_schema_t schema,
			   const char *origin);
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
