#include "fg_ocf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../core/fg_common.h"

#define FG_OCF_BLOCK_BYTES (256u << 10)

static int write_all(struct fg_ocf_writer *w, const void *p, size_t n, char *errstr,
		     size_t errstr_size)
{
	if (n && fwrite(p, 1, n, w->out.f) != n) {
		fg_errf(errstr, errstr_size, "%s: %s", w->out.path, strerror(errno));
		return -1;
	}
	return 0;
}

int fg_ocf_writer_open(struct fg_ocf_writer *w, const char *path, const char *schema_json,
		       char *errstr, size_t errstr_size)
{
	struct fg_avrobin h = { 0 };
	XXH128_hash_t sync = XXH3_128bits(schema_json, strlen(schema_json));
	int rc = -1;

	memset(w, 0, sizeof(*w));
	if (fg_outfile_open(&w->out, path, errstr, errstr_size))
		goto done;
	memcpy(w->sync, &sync.low64, 8);
	memcpy(w->sync + 8, &sync.high64, 8);
	if (fg_avrobin_init(&h, 4096) || fg_avrobin_init(&w->block, FG_OCF_BLOCK_BYTES + 4096)) {
		fg_errf(errstr, errstr_size, "out of memory");
		goto done;
	}
	uint8_t *m = fg_avrobin_room(&h, 4);
	if (!m)
		goto done;
	memcpy(m, "Obj\x01", 4);
	h.len = 4;
	/* metadata: a map<bytes> of two entries, then the end of the map */
	fg_avrobin_long(&h, 2);
	fg_avrobin_cstr(&h, "avro.codec");
	fg_avrobin_cstr(&h, "null");
	fg_avrobin_cstr(&h, "avro.schema");
	fg_avrobin_cstr(&h, schema_json);
	fg_avrobin_long(&h, 0);
	if (h.oom) {
		fg_errf(errstr, errstr_size, "out of memory");
		goto done;
	}
	if (write_all(w, h.buf, h.len, errstr, errstr_size) ||
	    write_all(w, w->sync, sizeof(w->sync), errstr, errstr_size))
		goto done;
	rc = 0;
done:
	fg_avrobin_fini(&h);
	if (rc)
		fg_ocf_writer_discard(w);
	return rc;
}

static int flush_block(struct fg_ocf_writer *w, char *errstr, size_t errstr_size)
{
	struct fg_avrobin hdr = { 0 };
	int rc;

	if (w->count == 0)
		return 0;
	if (fg_avrobin_init(&hdr, 32))
		return -1;
	fg_avrobin_long(&hdr, (int64_t)w->count);
	fg_avrobin_long(&hdr, (int64_t)w->block.len);
	rc = write_all(w, hdr.buf, hdr.len, errstr, errstr_size) ||
	     write_all(w, w->block.buf, w->block.len, errstr, errstr_size) ||
	     write_all(w, w->sync, sizeof(w->sync), errstr, errstr_size);
	fg_avrobin_fini(&hdr);
	w->block.len = 0;
	w->count = 0;
	return rc ? -1 : 0;
}

int fg_ocf_writer_append(struct fg_ocf_writer *w, const void *body, size_t len, char *errstr,
			 size_t errstr_size)
{
	uint8_t *p = fg_avrobin_room(&w->block, len);

	if (!p) {
		fg_errf(errstr, errstr_size, "out of memory");
		return -1;
	}
	memcpy(p, body, len);
	w->block.len += len;
	w->count++;
	if (w->block.len >= FG_OCF_BLOCK_BYTES)
		return flush_block(w, errstr, errstr_size);
	return 0;
}

int fg_ocf_writer_close(struct fg_ocf_writer *w, char *errstr, size_t errstr_size)
{
	int rc;

	if (!w->out.f)
		return -1;
	if (flush_block(w, errstr, errstr_size)) {
		fg_ocf_writer_discard(w);
		return -1;
	}
	rc = fg_outfile_commit(&w->out, errstr, errstr_size);
	fg_avrobin_fini(&w->block);
	memset(w, 0, sizeof(*w));
	return rc;
}

void fg_ocf_writer_discard(struct fg_ocf_writer *w)
{
	fg_outfile_discard(&w->out);
	fg_avrobin_fini(&w->block);
	memset(w, 0, sizeof(*w));
}
