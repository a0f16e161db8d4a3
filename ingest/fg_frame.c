#include "fg_frame.h"

int fg_frame_parse(const uint8_t *buf, size_t len, int32_t *schema_id, const uint8_t **body,
		   size_t *body_len, const char **why)
{
	if (len < FG_FRAME_HEADER_LEN) {
		*why = "frame is shorter than 5 bytes";
		return -1;
	}
	if (buf[0] != 0) {
		*why = "magic byte is not 0";
		return -1;
	}
	*schema_id = (int32_t)(((uint32_t)buf[1] << 24) | ((uint32_t)buf[2] << 16) |
			       ((uint32_t)buf[3] << 8) | (uint32_t)buf[4]);
	*body = buf + FG_FRAME_HEADER_LEN;
	*body_len = len - FG_FRAME_HEADER_LEN;
	return 0;
}

void fg_frame_header(int32_t schema_id, uint8_t out[FG_FRAME_HEADER_LEN])
{
	uint32_t id = (uint32_t)schema_id;

	out[0] = 0;
	out[1] = (uint8_t)(id >> 24);
	out[2] = (uint8_t)(id >> 16);
	out[3] = (uint8_t)(id >> 8);
	out[4] = (uint8_t)id;
}
