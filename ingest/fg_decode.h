/*
 * fg_decode.h: Avro body -> struct fg_decl.
 *
 * DESIGN
 * One decoder per thread. For each writer schema it meets it builds, once,
 * a generic value of the writer's class and, when the writer schema is not
 * the reader schema (declaration.avsc), checks that the writer resolves
 * against the reader by Avro's rules (fields and enum symbols by name,
 * reader defaults for missing optional fields, int to long, string and
 * bytes; fg_decode.c). Bodies written with the reader schema itself go to
 * the schema-specialised codec (fg_codec.c; strings point into the body),
 * also when the writer declares other decimal scales (then rescaled);
 * other writers are read by Avro C with their own schema into the reused
 * value, and the declaration is taken from it field by field by name
 * (strings point into it, and Avro C runs one thread at a time because its
 * error text is global). Either way the fg_decl stays valid until the next
 * call, as long as the body does.
 *
 * A body must be consumed exactly: trailing bytes are a decode error.
 */
#ifndef FG_DECODE_H
#define FG_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "fg_decl.h"
#include "fg_schemas.h"

struct fg_decoder;

/* Returns NULL and a message when the compiled-in reader schema fails (never). */
struct fg_decoder *fg_decoder_create(char *errstr, size_t errstr_size);
void fg_decoder_destroy(struct fg_decoder *dec); /* NULL-safe */

/*
 * Decodes body (without frame) written with entry->schema. Returns 0, or -1
 * with a message (the contract's DECODE_ERROR). `out` is valid until the
 * next call.
 */
int fg_decoder_decode(struct fg_decoder *dec, const struct fg_schema_entry *entry,
		      const uint8_t *body, size_t len, struct fg_decl *out, char *msg,
		      size_t msg_size);

/*
 * Whether records written with schema can be read as declarations (the
 * writer resolves against the reader schema, by the same rules the decoder
 * applies). Returns 0, or -1 with "ORIGIN: its records are not
 * declarations: why". A container file names one writer for all its
 * records: file modes refuse a file of other records up front instead of
 * dead-lettering every one.
 */
int fg_decoder_check_writer(avro_schema_t schema, const char *origin, char *errstr,
			    size_t errstr_size);

#endif
