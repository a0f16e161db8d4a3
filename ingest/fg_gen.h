/*
 * fg_gen.h: synthetic declaration traffic, deterministic for a seed.
 *
 * DESIGN
 * The generator draws declarations that look like the traffic a customs
 * agency sees for critical minerals: commodity codes taken from the
 * classification rules in force (padded to 10 digits) plus out-of-scope
 * goods, origins from the membership table plus other producers,
 * currencies from the FX table plus USD, masses and values scaled to the
 * reference price of the line's mineral and stage so that some lines fall
 * below the floor and some do not, and declared grades on contained-basis
 * lines. A configurable share is malformed on purpose: semantic faults the
 * contract rejects (bad country, duplicate item, negative value, ...) and,
 * for framed output, broken frames (short, wrong magic, unknown schema id,
 * truncated body). The same seed and reference data give the same bytes.
 */
#ifndef FG_GEN_H
#define FG_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "../core/fg_avrobin.h"
#include "../pricing/fg_refdata.h"

struct fg_gen_opts {
	uint64_t seed;
	unsigned invalid_per_mille;   /* semantic faults, e.g. 20 = 2% */
	unsigned bad_frame_per_mille; /* broken frames (framed output only) */
	int32_t date_from, date_to;   /* acceptance dates drawn from [from, to] */
	int32_t schema_id;            /* frame id for framed output */
};

struct fg_gen;

/* rd is borrowed and must outlive the generator. */
struct fg_gen *fg_gen_create(const struct fg_refdata *rd, const struct fg_gen_opts *opts);
void fg_gen_destroy(struct fg_gen *g); /* NULL-safe */

/*
 * Writes the next declaration's Avro body (schemas/declaration.avsc) into
 * out (replacing its content); key receives the declaration id. With
 * framed != 0 the Confluent frame is included and a share of messages are
 * broken frames. Returns 0, or -1 when out of memory.
 */
int fg_gen_next(struct fg_gen *g, int framed, struct fg_avrobin *out, char *key, size_t key_size);

#endif
