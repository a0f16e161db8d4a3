/*
 * fg_frame.h: the Confluent wire format.
 * byte 0: magic 0; bytes 1-4: schema id, big-endian; then the Avro body.
 */
#ifndef FG_FRAME_H
#define FG_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FG_FRAME_HEADER_LEN 5

/* Returns 0 and the id/body, or -1 (too short or bad magic) with a reason. */
int fg_frame_parse(const uint8_t *buf, size_t len, int32_t *schema_id, const uint8_t **body,
		   size_t *body_len, const char **why);
void fg_frame_header(int32_t schema_id, uint8_t out[FG_FRAME_HEADER_LEN]);

#endif
