/*
 * fg_test_avro.h: reading what floorgate wrote back with Avro C, so a test
 * checks an output through a decoder that is not floorgate's own
 * (header-only, static inline, like fg_test_util.h).
 *
 * Include after the cmocka headers.
 */
#ifndef FG_TEST_AVRO_H
#define FG_TEST_AVRO_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "../../ingest/fg_schemas.h"

/* One record read back: rb.v is the value; fg_test_readback_free releases it all. */
struct fg_test_readback {
	avro_schema_t schema;
	avro_value_iface_t *iface;
	avro_value_t v;
	avro_reader_t r;
};

/* Reads one record of `schema_text` from body; fails unless it uses every byte. */
static inline void fg_test_read_back(struct fg_test_readback *rb, const char *schema_text,
				     const void *body, size_t len)
{
	char err[256];
	uint8_t extra;

	rb->schema = fg_schemas_parse(schema_text, err, sizeof(err));
	assert_non_null(rb->schema);
	rb->iface = avro_generic_class_from_schema(rb->schema);
	assert_non_null(rb->iface);
	assert_int_equal(avro_generic_value_new(rb->iface, &rb->v), 0);
	rb->r = avro_reader_memory((const char *)body, (int64_t)len);
	assert_non_null(rb->r);
	if (avro_value_read(rb->r, &rb->v))
		fail_msg("Avro C cannot read the record: %s", avro_strerror());
	assert_int_not_equal(avro_read(rb->r, &extra, 1), 0);
}

static inline void fg_test_readback_free(struct fg_test_readback *rb)
{
	avro_reader_free(rb->r);
	avro_value_decref(&rb->v);
	avro_value_iface_decref(rb->iface);
	avro_schema_decref(rb->schema);
}

#endif
