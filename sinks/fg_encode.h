/*
 * fg_encode.h: assessments and dead letters -> Avro binary.
 *
 * DESIGN
 * The two output records have fixed schemas (schemas/assessment.avsc and
 * schemas/deadletter.avsc, compiled in), so they are written directly in
 * Avro binary, field by field in schema order, without building a generic
 * value. Avro C parses the same schemas at start-up (for file headers and
 * as a check) and reads the output back in the tests. One encoder per
 * thread owns one growing buffer; each record is written after a 5-byte
 * gap that receives the Confluent frame, so Kafka and file sinks share the
 * bytes without a copy. The result is valid until the next call.
 */
#ifndef FG_ENCODE_H
#define FG_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include <avro.h>

#include "../pricing/fg_assess.h"

/* Where an input came from. topic NULL: not Kafka; file NULL: not a file. */
struct fg_source_pos {
	const char *topic;
	int32_t partition;
	int64_t offset;
	const char *file;
	int64_t index;    /* record number in the file, from 0; < 0 when none */
	size_t topic_len; /* strlen(topic), or 0 to have the encoder count it */
};

struct fg_encoded {
	const uint8_t *framed; /* frame header + body: what goes to Kafka */
	size_t framed_len;
	const uint8_t *body;   /* the Avro body alone: what goes to a file */
	size_t body_len;
};

struct fg_encoder;

struct fg_encoder *fg_encoder_create(int32_t assessment_schema_id, int32_t deadletter_schema_id,
				     char *errstr, size_t errstr_size);
void fg_encoder_destroy(struct fg_encoder *enc); /* NULL-safe */

/*
 * Where records go. By default the encoder's own buffer, each record
 * replacing the last. After fg_encoder_append_to(enc, w) each record (frame
 * header and body) is appended to w, a caller's buffer that collects many
 * (a batch's outputs), so nothing is copied out of the encoder; a record
 * that cannot be written whole leaves w's length as it was. NULL goes back
 * to the own buffer. out->framed then points into w: valid until w next
 * grows.
 */
struct fg_avrobin;
void fg_encoder_append_to(struct fg_encoder *enc, struct fg_avrobin *w);

int fg_encoder_assessment(struct fg_encoder *enc, const struct fg_assessment *as,
			  const struct fg_source_pos *src, struct fg_encoded *out);

/* decl may be NULL (the body did not decode). */
int fg_encoder_dead_letter(struct fg_encoder *enc, enum fg_reason reason, const char *message,
			   const uint8_t *payload, size_t payload_len, const struct fg_decl *decl,
			   const char *refdata_version, const struct fg_source_pos *src,
			   struct fg_encoded *out);


#endif
