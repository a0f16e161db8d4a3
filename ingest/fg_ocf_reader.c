#include "fg_ocf_reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../core/fg_common.h"

/* A block inflated beyond this is refused (a forged or broken file). */
#define FG_OCF_MAX_BLOCK (512u << 20)
#define FG_OCF_MAX_DEPTH 128

/* ---- skip programs ----------------------------------------------------- */

enum skip_op {
	SK_NULL, SK_BOOL, SK_VARINT, SK_FLOAT, SK_DOUBLE, SK_BYTES, SK_FIXED,
	SK_RECORD, SK_ARRAY, SK_MAP, SK_UNION
};

struct skip_node {
	enum skip_op op;
	size_t size;             /* fixed */
	uint32_t n;              /* children of a record or union */
	struct skip_node **kids; /* record fields, union branches, array/map item */
	avro_schema_t schema;    /* for named types: the compile-time memo */
};

struct fg_ocf_skip {
	struct skip_node **nodes; /* every node, for freeing and the memo */
	size_t n_nodes, cap_nodes;
	struct skip_node *root;
};

struct fg_ocf_reader {
	FILE *f;
	char *path;
	avro_schema_t schema;
	int scale[FG_DEC_FIELDS]; /* the decimal scales the writer declares */
	int deflate;
	uint8_t sync[16];
	struct fg_ocf_skip *sk;
	uint8_t *raw, *blk;
	size_t raw_cap, blk_cap, blk_len, pos;
	int64_t left;   /* records left in the current block */
	uint64_t block; /* number of the current block, from 1 */
	z_stream z;
	int z_ok;
};

static struct skip_node *node_new(struct fg_ocf_skip *r, enum skip_op op, avro_schema_t s)
{
	struct skip_node *n;

	if (r->n_nodes == r->cap_nodes) {
		size_t cap = r->cap_nodes ? r->cap_nodes * 2 : 32;
		struct skip_node **v = realloc(r->nodes, cap * sizeof(*v));
		if (!v)
			return NULL;
		r->nodes = v;
		r->cap_nodes = cap;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->op = op;
	n->schema = s;
	r->nodes[r->n_nodes++] = n;
	return n;
}

/* Compiles schema s; named records are compiled once, so recursive schemas terminate. */
static struct skip_node *compile(struct fg_ocf_skip *r, avro_schema_t s)
{
	struct skip_node *n;

	if (is_avro_link(s))
		s = avro_schema_link_target(s);
	if (is_avro_record(s))
		for (size_t i = 0; i < r->n_nodes; i++)
			if (r->nodes[i]->schema == s)
				return r->nodes[i];
	switch (avro_typeof(s)) {
	case AVRO_NULL: return node_new(r, SK_NULL, NULL);
	case AVRO_BOOLEAN: return node_new(r, SK_BOOL, NULL);
	case AVRO_INT32:
	case AVRO_INT64:
	case AVRO_ENUM: return node_new(r, SK_VARINT, NULL);
	case AVRO_FLOAT: return node_new(r, SK_FLOAT, NULL);
	case AVRO_DOUBLE: return node_new(r, SK_DOUBLE, NULL);
	case AVRO_STRING:
	case AVRO_BYTES: return node_new(r, SK_BYTES, NULL);
	case AVRO_FIXED:
		n = node_new(r, SK_FIXED, NULL);
		if (n)
			n->size = (size_t)avro_schema_fixed_size(s);
		return n;
	case AVRO_RECORD:
	case AVRO_UNION: {
		int rec = is_avro_record(s);
		size_t k = rec ? avro_schema_record_size(s) : avro_schema_union_size(s);
		n = node_new(r, rec ? SK_RECORD : SK_UNION, rec ? s : NULL);
		if (!n || !(n->kids = calloc(k ? k : 1, sizeof(*n->kids))))
			return NULL;
		n->n = (uint32_t)k;
		for (size_t i = 0; i < k; i++) {
			avro_schema_t c = rec ? avro_schema_record_field_get_by_index(s, (int)i)
					      : avro_schema_union_branch(s, (int)i);
			if (!c || !(n->kids[i] = compile(r, c)))
				return NULL;
		}
		return n;
	}
	case AVRO_ARRAY:
	case AVRO_MAP:
		n = node_new(r, is_avro_array(s) ? SK_ARRAY : SK_MAP, NULL);
		if (!n || !(n->kids = calloc(1, sizeof(*n->kids))))
			return NULL;
		n->kids[0] = compile(r, is_avro_array(s) ? avro_schema_array_items(s)
							  : avro_schema_map_values(s));
		return n->kids[0] ? n : NULL;
	default:
		return NULL;
	}
}

struct cur {
	const uint8_t *p, *end;
};

static int varint(struct cur *c, int64_t *v)
{
	uint64_t z = 0;

	for (int shift = 0; shift < 70; shift += 7) {
		if (c->p == c->end)
			return -1;
		uint8_t b = *c->p++;
		if (shift == 63 && (b & 0x7e))
			return -1; /* more than 64 bits */
		z |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
			return 0;
		}
	}
	return -1;
}

static int skip_n(struct cur *c, int64_t n)
{
	if (n < 0 || (uint64_t)n > (uint64_t)(c->end - c->p))
		return -1;
	c->p += n;
	return 0;
}

static int skip(const struct skip_node *n, struct cur *c, int depth)
{
	int64_t v;

	if (depth > FG_OCF_MAX_DEPTH)
		return -1;
	switch (n->op) {
	case SK_NULL: return 0;
	case SK_BOOL: return skip_n(c, 1);
	case SK_VARINT: return varint(c, &v);
	case SK_FLOAT: return skip_n(c, 4);
	case SK_DOUBLE: return skip_n(c, 8);
	case SK_BYTES: return varint(c, &v) || skip_n(c, v) ? -1 : 0;
	case SK_FIXED: return skip_n(c, (int64_t)n->size);
	case SK_RECORD:
		for (uint32_t i = 0; i < n->n; i++)
			if (skip(n->kids[i], c, depth + 1))
				return -1;
		return 0;
	case SK_UNION:
		if (varint(c, &v) || v < 0 || v >= n->n)
			return -1;
		return skip(n->kids[v], c, depth + 1);
	case SK_ARRAY:
	case SK_MAP:
		for (;;) {
			int64_t count, size;
			if (varint(c, &count))
				return -1;
			if (count == 0)
				return 0;
			if (count < 0) {
				if (count == INT64_MIN || varint(c, &size) || skip_n(c, size))
					return -1;
				continue; /* the block's byte size lets us jump over it */
			}
			for (int64_t i = 0; i < count; i++) {
				if (n->op == SK_MAP && (varint(c, &v) || skip_n(c, v)))
					return -1;
				const uint8_t *at = c->p;
				if (skip(n->kids[0], c, depth + 1))
					return -1;
				if (c->p == at)
					break; /* items of this type take no bytes: all of them */
				if (c->p == c->end && i + 1 < count)
					return -1; /* a forged count cannot spin over no bytes */
			}
		}
	}
	return -1;
}

struct fg_ocf_skip *fg_ocf_skip_create(avro_schema_t schema)
{
	struct fg_ocf_skip *sk = calloc(1, sizeof(*sk));

	if (!sk)
		return NULL;
	sk->root = compile(sk, schema);
	if (!sk->root) {
		fg_ocf_skip_destroy(sk);
		return NULL;
	}
	return sk;
}

void fg_ocf_skip_destroy(struct fg_ocf_skip *sk)
{
	if (!sk)
		return;
	for (size_t i = 0; i < sk->n_nodes; i++) {
		free(sk->nodes[i]->kids);
		free(sk->nodes[i]);
	}
	free(sk->nodes);
	free(sk);
}

const uint8_t *fg_ocf_skip_record(const struct fg_ocf_skip *sk, const uint8_t *p,
				  const uint8_t *end)
{
	struct cur c = { p, end };

	return skip(sk->root, &c, 0) ? NULL : c.p;
}

/* ---- the file ------------------------------------------------------------ */

static int file_varint(FILE *f, int64_t *v)
{
	uint64_t z = 0;

	for (int shift = 0; shift < 70; shift += 7) {
		int b = getc_unlocked(f);
		if (b == EOF)
			return -1;
		z |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
			return 0;
		}
	}
	return -1;
}

/* Reads an Avro `bytes` of at most max bytes into a new NUL-terminated buffer. */
static char *file_bytes(FILE *f, size_t max, size_t *len)
{
	int64_t n;
	char *b;

	if (file_varint(f, &n) || n < 0 || (uint64_t)n > max)
		return NULL;
	b = malloc((size_t)n + 1);
	if (!b)
		return NULL;
	if (n && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		return NULL;
	}
	b[n] = '\0';
	*len = (size_t)n;
	return b;
}

void fg_ocf_reader_close(struct fg_ocf_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	fg_ocf_skip_destroy(r->sk);
	if (r->schema)
		avro_schema_decref(r->schema);
	if (r->z_ok)
		inflateEnd(&r->z);
	free(r->raw);
	free(r->blk);
	free(r->path);
	free(r);
}

struct fg_ocf_reader *fg_ocf_reader_open(const char *path, char *errstr, size_t errstr_size)
{
	struct fg_ocf_reader *r = calloc(1, sizeof(*r));
	uint8_t magic[4];
	int64_t n;
	char *schema_json = NULL, *codec = NULL;
	size_t schema_len = 0;

	if (!r) {
		fg_errf(errstr, errstr_size, "%s: out of memory", path);
		return NULL;
	}
	r->path = strdup(path);
	r->f = fopen(path, "rb");
	if (!r->path || !r->f) {
		fg_errf(errstr, errstr_size, "cannot read %s: %s", path, strerror(errno));
		goto err;
	}
	size_t got = fread(magic, 1, 4, r->f);
	if (got != 4 && ferror(r->f)) {
		/* a directory opens, then fails to read (EISDIR) */
		fg_errf(errstr, errstr_size, "cannot read %s: %s", path, strerror(errno));
		goto err;
	}
	if (got != 4 || memcmp(magic, "Obj\x01", 4) != 0) {
		fg_errf(errstr, errstr_size, "%s: %snot an Avro object container file", path,
			got ? "" : "empty file, ");
		goto err;
	}
	/* metadata: map<bytes> in blocks */
	for (;;) {
		if (file_varint(r->f, &n))
			goto bad_header;
		if (n == 0)
			break;
		if (n < 0) {
			int64_t size;
			if (n == INT64_MIN || file_varint(r->f, &size))
				goto bad_header;
			n = -n;
		}
		for (int64_t i = 0; i < n; i++) {
			size_t klen, vlen;
			char *k = file_bytes(r->f, 4096, &klen);
			char *v = k ? file_bytes(r->f, 64u << 20, &vlen) : NULL;
			if (!v) {
				free(k);
				goto bad_header;
			}
			if (!strcmp(k, "avro.schema") && !schema_json) {
				schema_json = v;
				schema_len = vlen;
				v = NULL;
			} else if (!strcmp(k, "avro.codec") && !codec) {
				codec = v;
				v = NULL;
			}
			free(k);
			free(v);
		}
	}
	if (fread(r->sync, 1, 16, r->f) != 16)
		goto bad_header;
	if (!schema_json) {
		fg_errf(errstr, errstr_size, "%s: the header has no avro.schema", path);
		goto err;
	}
	if (codec && strcmp(codec, "null") && strcmp(codec, "deflate")) {
		fg_errf(errstr, errstr_size, "%s: codec \"%s\" is not supported (null, deflate)",
			path, codec);
		goto err;
	}
	r->deflate = codec && !strcmp(codec, "deflate");
	if (r->deflate) {
		if (inflateInit2(&r->z, -15) != Z_OK) {
			fg_errf(errstr, errstr_size, "%s: cannot start zlib", path);
			goto err;
		}
		r->z_ok = 1;
	}
	r->schema = fg_schema_parse_writer(schema_json, schema_len, r->scale, errstr, errstr_size);
	if (!r->schema) {
		char why[512];
		snprintf(why, sizeof(why), "%s", errstr);
		fg_errf(errstr, errstr_size, "%s: writer schema: %s", path, why);
		goto err;
	}
	r->sk = fg_ocf_skip_create(r->schema);
	if (!r->sk) {
		fg_errf(errstr, errstr_size, "%s: cannot compile the writer schema", path);
		goto err;
	}
	free(schema_json);
	free(codec);
	return r;
bad_header:
	fg_errf(errstr, errstr_size, "%s: truncated or malformed container header", path);
err:
	free(schema_json);
	free(codec);
	fg_ocf_reader_close(r);
	return NULL;
}

avro_schema_t fg_ocf_reader_schema(const struct fg_ocf_reader *r)
{
	return r->schema;
}

const int *fg_ocf_reader_scales(const struct fg_ocf_reader *r)
{
	return r->scale;
}

const char *fg_ocf_reader_codec(const struct fg_ocf_reader *r)
{
	return r->deflate ? "deflate" : "null";
}

uint64_t fg_ocf_reader_tell(const struct fg_ocf_reader *r)
{
	off_t o = ftello(r->f);
	return o < 0 ? 0 : (uint64_t)o;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 65536;
	uint8_t *b;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	if (c > FG_OCF_MAX_BLOCK && need <= FG_OCF_MAX_BLOCK)
		c = FG_OCF_MAX_BLOCK; /* doubling never takes a block past the cap */
	b = realloc(*buf, c);
	if (!b)
		return -1;
	*buf = b;
	*cap = c;
	return 0;
}

static int inflate_block(struct fg_ocf_reader *r, size_t size, char *errstr, size_t errstr_size)
{
	size_t guess = size < FG_OCF_MAX_BLOCK / 4 ? size * 4 + 1024 : FG_OCF_MAX_BLOCK;
	int zr;

	if (inflateReset(&r->z) != Z_OK || grow(&r->blk, &r->blk_cap, guess))
		goto oom;
	r->z.next_in = r->raw;
	r->z.avail_in = (uInt)size;
	r->blk_len = 0;
	do {
		if (r->blk_len == r->blk_cap) {
			if (r->blk_cap >= FG_OCF_MAX_BLOCK) {
				fg_errf(errstr, errstr_size,
					"%s: block %llu: inflates to more than %u bytes", r->path,
					(unsigned long long)r->block, FG_OCF_MAX_BLOCK);
				return -1;
			}
			if (grow(&r->blk, &r->blk_cap,
				 r->blk_cap < FG_OCF_MAX_BLOCK / 2 ? r->blk_cap * 2 : FG_OCF_MAX_BLOCK))
				goto oom;
		}
		r->z.next_out = r->blk + r->blk_len;
		r->z.avail_out = (uInt)(r->blk_cap - r->blk_len);
		zr = inflate(&r->z, Z_NO_FLUSH);
		r->blk_len = r->blk_cap - r->z.avail_out;
		if (zr != Z_OK && zr != Z_STREAM_END && !(zr == Z_BUF_ERROR && r->z.avail_out == 0)) {
			fg_errf(errstr, errstr_size, "%s: block %llu: deflate data is corrupt: %s",
				r->path, (unsigned long long)r->block, r->z.msg ? r->z.msg : "?");
			return -1;
		}
		if (zr != Z_STREAM_END && r->z.avail_in == 0 && r->z.avail_out != 0) {
			fg_errf(errstr, errstr_size, "%s: block %llu: deflate data ends early",
				r->path, (unsigned long long)r->block);
			return -1;
		}
	} while (zr != Z_STREAM_END);
	return 0;
oom:
	fg_errf(errstr, errstr_size, "%s: out of memory for block %llu", r->path,
		(unsigned long long)r->block + 1);
	return -1;
}

/* Reads the next block. Returns 1, 0 at a clean end of file, -1 on error. */
static int next_block(struct fg_ocf_reader *r, char *errstr, size_t errstr_size)
{
	int64_t count, size;
	uint8_t sync[16];
	int c = getc_unlocked(r->f);

	if (c == EOF)
		return 0;
	ungetc(c, r->f);
	r->block++;
	if (file_varint(r->f, &count) || file_varint(r->f, &size) || count < 0 || size < 0 ||
	    (uint64_t)size > FG_OCF_MAX_BLOCK) {
		fg_errf(errstr, errstr_size, "%s: block %llu: bad block header", r->path,
			(unsigned long long)r->block);
		return -1;
	}
	if (grow(&r->raw, &r->raw_cap, (size_t)size + 1)) {
		fg_errf(errstr, errstr_size, "%s: out of memory for block %llu", r->path,
			(unsigned long long)r->block);
		return -1;
	}
	if (fread(r->raw, 1, (size_t)size, r->f) != (size_t)size ||
	    fread(sync, 1, 16, r->f) != 16) {
		fg_errf(errstr, errstr_size, "%s: block %llu: file ends inside the block", r->path,
			(unsigned long long)r->block);
		return -1;
	}
	if (memcmp(sync, r->sync, 16) != 0) {
		fg_errf(errstr, errstr_size, "%s: block %llu: sync marker does not match the header",
			r->path, (unsigned long long)r->block);
		return -1;
	}
	if (r->deflate) {
		if (inflate_block(r, (size_t)size, errstr, errstr_size))
			return -1;
	} else {
		/* swap so the records are read from blk either way */
		uint8_t *t = r->blk;
		size_t tc = r->blk_cap;
		r->blk = r->raw;
		r->blk_cap = r->raw_cap;
		r->raw = t;
		r->raw_cap = tc;
		r->blk_len = (size_t)size;
	}
	r->pos = 0;
	r->left = count;
	return 1;
}

int fg_ocf_reader_next(struct fg_ocf_reader *r, const uint8_t **body, size_t *len, char *errstr,
		       size_t errstr_size)
{
	while (r->left == 0) {
		if (r->block && r->pos != r->blk_len) {
			fg_errf(errstr, errstr_size,
				"%s: block %llu: %zu bytes after its last record", r->path,
				(unsigned long long)r->block, r->blk_len - r->pos);
			return -1;
		}
		int b = next_block(r, errstr, errstr_size);
		if (b <= 0)
			return b;
	}
	struct cur c = { r->blk + r->pos, r->blk + r->blk_len };
	if (skip(r->sk->root, &c, 0)) {
		fg_errf(errstr, errstr_size,
			"%s: block %llu: record at byte %zu does not match the writer schema", r->path,
			(unsigned long long)r->block, r->pos);
		return -1;
	}
	*body = r->blk + r->pos;
	*len = (size_t)(c.p - (r->blk + r->pos));
	r->pos = (size_t)(c.p - r->blk);
	r->left--;
	return 1;
}

int fg_ocf_reader_next_block(struct fg_ocf_reader *r, const uint8_t **data, size_t *len,
			     int64_t *count, char *errstr, size_t errstr_size)
{
	int b = next_block(r, errstr, errstr_size);

	if (b <= 0)
		return b;
	*data = r->blk;
	*len = r->blk_len;
	*count = r->left;
	r->left = 0; /* the caller splits the records */
	r->pos = r->blk_len;
	return 1;
}

uint64_t fg_ocf_reader_block_number(const struct fg_ocf_reader *r)
{
	return r->block;
}
