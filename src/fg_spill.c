/* fg_spill.c: Grace hash join over partition files (see fg_spill.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "../core/fg_common.h"
#include "fg_spill.h"

#define FG_SPILL_MAX_PARTS 1024u
#define FG_SPILL_HDR 9 /* u32 key_len, u32 payload_len, u8 side */

struct fg_spill {
	char *dir;
	unsigned n_parts;
	uint64_t part_limit; /* 0: read any partition whole */
	FILE **part;
	uint64_t *part_bytes;
	uint64_t records, bytes, largest;
};

unsigned fg_spill_parts_for(uint64_t expected_bytes, uint64_t budget_bytes)
{
	if (budget_bytes < 1)
		budget_bytes = 1;
	/* Half the budget for the partition's bytes, the rest for its index and slack. */
	uint64_t n = (expected_bytes * 2 + budget_bytes - 1) / budget_bytes;
	if (n < 1)
		n = 1;
	if (n > FG_SPILL_MAX_PARTS)
		n = FG_SPILL_MAX_PARTS;
	return (unsigned)n;
}

/*
 * A spill file: made with mkstemp in the spill directory and unlinked at
 * once, so it has no name to clean up; the kernel frees it when it is
 * closed, even if floorgate is killed.
 */
static FILE *spill_file(const struct fg_spill *sp, char *errstr, size_t errstr_size)
{
	size_t n = strlen(sp->dir) + 32;
	char *path = malloc(n);
	FILE *f = NULL;
	int fd;

	if (!path) {
		fg_errf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	snprintf(path, n, "%s/fg-spill-XXXXXX", sp->dir);
	fd = mkstemp(path);
	if (fd < 0 || unlink(path) || !(f = fdopen(fd, "w+b"))) {
		fg_errf(errstr, errstr_size, "cannot create a spill file in %s: %s", sp->dir,
			strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	free(path);
	return f;
}

void fg_spill_set_part_limit(struct fg_spill *sp, uint64_t bytes)
{
	sp->part_limit = bytes;
}

struct fg_spill *fg_spill_create(const char *dir, unsigned n_parts, char *errstr,
				 size_t errstr_size)
{
	struct fg_spill *sp = calloc(1, sizeof(*sp));
	if (!dir || !*dir)
		dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	if (n_parts < 1)
		n_parts = 1;
	if (n_parts > FG_SPILL_MAX_PARTS)
		n_parts = FG_SPILL_MAX_PARTS;
	if (!sp)
		goto oom;
	sp->n_parts = n_parts;
	sp->dir = strdup(dir);
	sp->part = calloc(n_parts, sizeof(*sp->part));
	sp->part_bytes = calloc(n_parts, sizeof(*sp->part_bytes));
	if (!sp->dir || !sp->part || !sp->part_bytes)
		goto oom;
	/* Find out now, not after reading half the input, that the directory is unusable. */
	FILE *probe = spill_file(sp, errstr, errstr_size);
	if (!probe)
		goto err;
	fclose(probe);
	return sp;
oom:
	fg_errf(errstr, errstr_size, "out of memory");
err:
	fg_spill_destroy(sp);
	return NULL;
}

void fg_spill_destroy(struct fg_spill *sp)
{
	if (!sp)
		return;
	for (unsigned i = 0; sp->part && i < sp->n_parts; i++)
		if (sp->part[i])
			fclose(sp->part[i]);
	free(sp->dir);
	free(sp->part);
	free(sp->part_bytes);
	free(sp);
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

int fg_spill_add(struct fg_spill *sp, const void *key, size_t key_len, uint8_t side,
		 const void *payload, size_t payload_len, char *errstr, size_t errstr_size)
{
	unsigned i = (unsigned)(XXH3_64bits(key, key_len) % sp->n_parts);
	uint8_t hdr[FG_SPILL_HDR];

	if (key_len > UINT32_MAX || payload_len > UINT32_MAX) {
		fg_errf(errstr, errstr_size, "spill record too large");
		return -1;
	}
	if (!sp->part[i] && !(sp->part[i] = spill_file(sp, errstr, errstr_size)))
		return -1;
	put32(hdr, (uint32_t)key_len);
	put32(hdr + 4, (uint32_t)payload_len);
	hdr[8] = side;
	if (fwrite(hdr, 1, sizeof(hdr), sp->part[i]) != sizeof(hdr) ||
	    fwrite(key, 1, key_len, sp->part[i]) != key_len ||
	    fwrite(payload, 1, payload_len, sp->part[i]) != payload_len) {
		fg_errf(errstr, errstr_size, "cannot write to the spill directory %s: %s", sp->dir,
			strerror(errno));
		return -1;
	}
	uint64_t n = sizeof(hdr) + key_len + payload_len;
	sp->part_bytes[i] += n;
	sp->bytes += n;
	sp->records++;
	return 0;
}

struct rec {
	const uint8_t *key, *payload;
	uint32_t key_len, len;
	uint32_t seq;
	uint8_t side;
};

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	uint32_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);
	if (c)
		return c;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	if (x->side != y->side)
		return x->side < y->side ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int join_file(struct fg_spill *sp, FILE *f, uint64_t size, unsigned depth,
		     fg_spill_group_fn fn, void *ctx, char *errstr, size_t errstr_size);

/*
 * A partition larger than the limit (a skewed hash, or a source larger than
 * its estimate) is split again with another seed into sub-files, each
 * joined in turn, so what is read back stays near the limit whatever the
 * input. Records of one key still meet: they share every hash.
 */
static int split_file(struct fg_spill *sp, FILE *f, uint64_t size, unsigned depth,
		      fg_spill_group_fn fn, void *ctx, char *errstr, size_t errstr_size)
{
	uint64_t k64 = (size * 2 + sp->part_limit - 1) / sp->part_limit;
	unsigned k = k64 < 2 ? 2 : k64 > FG_SPILL_MAX_PARTS ? FG_SPILL_MAX_PARTS : (unsigned)k64;
	FILE **sub = calloc(k, sizeof(*sub));
	uint64_t *sub_bytes = calloc(k, sizeof(*sub_bytes));
	uint8_t *rec = NULL;
	size_t cap = 0;
	int rc = -1;

	if (!sub || !sub_bytes)
		goto oom;
	for (uint64_t off = 0; off < size;) {
		uint8_t hdr[FG_SPILL_HDR];
		if (fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr))
			goto short_read;
		size_t kl = get32(hdr), pl = get32(hdr + 4), n = FG_SPILL_HDR + kl + pl;
		if (n > cap) {
			uint8_t *r = realloc(rec, n);
			if (!r)
				goto oom;
			rec = r;
			cap = n;
		}
		memcpy(rec, hdr, sizeof(hdr));
		if (fread(rec + FG_SPILL_HDR, 1, kl + pl, f) != kl + pl)
			goto short_read;
		unsigned i = (unsigned)(XXH3_64bits_withSeed(rec + FG_SPILL_HDR, kl, depth + 1) % k);
		if (!sub[i] && !(sub[i] = spill_file(sp, errstr, errstr_size)))
			goto done;
		if (fwrite(rec, 1, n, sub[i]) != n) {
			fg_errf(errstr, errstr_size, "cannot write to the spill directory %s: %s",
				sp->dir, strerror(errno));
			goto done;
		}
		sub_bytes[i] += n;
		off += n;
	}
	free(rec);
	rec = NULL;
	for (unsigned i = 0; i < k; i++) {
		FILE *sf = sub[i];
		sub[i] = NULL;
		if (sf && (rc = join_file(sp, sf, sub_bytes[i], depth + 1, fn, ctx, errstr,
					  errstr_size)))
			goto done;
	}
	rc = 0;
	goto done;
short_read:
	fg_errf(errstr, errstr_size, "cannot read back a spill file: %s",
		ferror(f) ? strerror(errno) : "short file");
	goto done;
oom:
	fg_errf(errstr, errstr_size, "out of memory splitting a spill partition");
done:
	for (unsigned i = 0; sub && i < k; i++)
		if (sub[i])
			fclose(sub[i]);
	free(sub);
	free(sub_bytes);
	free(rec);
	return rc;
}

/* Reads a partition file back (or splits it), sorts it and calls fn per key; closes it. */
static int join_file(struct fg_spill *sp, FILE *f, uint64_t size, unsigned depth,
		     fg_spill_group_fn fn, void *ctx, char *errstr, size_t errstr_size)
{
	uint8_t *buf = NULL;
	struct rec *recs = NULL;
	struct fg_spill_item *items = NULL;
	size_t n = 0, cap = 0, items_cap = 0;
	int rc = -1;

	if (fflush(f) || fseek(f, 0, SEEK_SET)) {
		fg_errf(errstr, errstr_size, "spill file: %s", strerror(errno));
		goto done;
	}
	if (sp->part_limit && size > sp->part_limit && depth < 4) {
		rc = split_file(sp, f, size, depth, fn, ctx, errstr, errstr_size);
		goto done;
	}
	buf = malloc(size ? size : 1);
	if (!buf)
		goto oom;
	if (fread(buf, 1, size, f) != size) {
		fg_errf(errstr, errstr_size, "cannot read back a spill file: %s",
			ferror(f) ? strerror(errno) : "short file");
		goto done;
	}
	/* The file is no longer needed once read: its disk space goes back now. */
	fclose(f);
	f = NULL;
	if (size > sp->largest)
		sp->largest = size;
	for (uint64_t off = 0; off < size;) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			struct rec *r = realloc(recs, ncap * sizeof(*recs));
			if (!r)
				goto oom;
			recs = r;
			cap = ncap;
		}
		struct rec *r = &recs[n];
		r->key_len = get32(buf + off);
		r->len = get32(buf + off + 4);
		r->side = buf[off + 8];
		r->key = buf + off + FG_SPILL_HDR;
		r->payload = r->key + r->key_len;
		r->seq = (uint32_t)n;
		off += FG_SPILL_HDR + (uint64_t)r->key_len + r->len;
		n++;
	}
	if (n) /* qsort(NULL, 0) is undefined */
		qsort(recs, n, sizeof(*recs), rec_cmp);
	for (size_t a = 0; a < n;) {
		size_t b = a + 1;
		while (b < n && recs[b].key_len == recs[a].key_len &&
		       !memcmp(recs[b].key, recs[a].key, recs[a].key_len))
			b++;
		if (b - a > items_cap) {
			size_t ncap = (b - a) * 2;
			struct fg_spill_item *it = realloc(items, ncap * sizeof(*items));
			if (!it)
				goto oom;
			items = it;
			items_cap = ncap;
		}
		for (size_t k = a; k < b; k++) {
			items[k - a].side = recs[k].side;
			items[k - a].payload = recs[k].payload;
			items[k - a].len = recs[k].len;
		}
		int r = fn(ctx, recs[a].key, recs[a].key_len, items, b - a);
		if (r) {
			rc = r;
			goto done;
		}
		a = b;
	}
	rc = 0;
	goto done;
oom:
	fg_errf(errstr, errstr_size, "out of memory reading back a spill partition of %llu bytes",
		(unsigned long long)size);
done:
	if (f)
		fclose(f);
	free(items);
	free(recs);
	free(buf);
	return rc;
}

int fg_spill_join(struct fg_spill *sp, fg_spill_group_fn fn, void *ctx, char *errstr,
		  size_t errstr_size)
{
	for (unsigned i = 0; i < sp->n_parts; i++) {
		FILE *f = sp->part[i];
		if (!f)
			continue;
		sp->part[i] = NULL; /* join_file closes it */
		int r = join_file(sp, f, sp->part_bytes[i], 0, fn, ctx, errstr, errstr_size);
		if (r)
			return r;
	}
	return 0;
}

void fg_spill_get_stats(const struct fg_spill *sp, struct fg_spill_stats *st)
{
	st->records = sp->records;
	st->bytes = sp->bytes;
	st->largest_part_bytes = sp->largest;
	st->parts = sp->n_parts;
}
