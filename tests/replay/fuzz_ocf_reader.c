/*
 * fuzz_ocf_reader.c: libFuzzer target for replay's container reader
 * (ingest/fg_ocf_reader.c), which reads files nobody vouches for.
 *
 * Each input is a whole file. It is read twice, record by record
 * (fg_ocf_reader_next) and block by block with the records split by a
 * skip program (fg_ocf_reader_next_block + fg_ocf_skip_record, the way
 * replay's workers do it). It abort()s unless both ways give the same
 * records (same bytes, same order) and end the same way (both at the end
 * of the file, or both refusing it), and every record lies inside its
 * block. ASan/UBSan/LeakSanitizer catch the rest.
 *
 * Build and run: tests/replay/fuzz.sh (a seed corpus is made from
 * `floorgate gen` files in both codecs at run time).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../ingest/fg_ocf_reader.h"

#define MAX_RECORDS 100000

struct rec {
	size_t len;
	uint8_t *bytes;
};

/* Record by record. Returns the reader's last status; records in *v. */
static int by_record(const char *path, struct rec *v, size_t *n)
{
	char err[512];
	struct fg_ocf_reader *r = fg_ocf_reader_open(path, err, sizeof(err));
	const uint8_t *body;
	size_t len;
	int st;

	*n = 0;
	if (!r)
		return -2;
	while ((st = fg_ocf_reader_next(r, &body, &len, err, sizeof(err))) == 1 && *n < MAX_RECORDS) {
		v[*n].len = len;
		v[*n].bytes = malloc(len ? len : 1);
		memcpy(v[*n].bytes, body, len);
		(*n)++;
	}
	fg_ocf_reader_close(r);
	return st == 1 ? 0 : st;
}

/* Block by block, split like replay's workers. Compares with v as it goes. */
static int by_block(const char *path, const struct rec *v, size_t n)
{
	char err[512];
	struct fg_ocf_reader *r = fg_ocf_reader_open(path, err, sizeof(err));
	struct fg_ocf_skip *sk;
	const uint8_t *data;
	size_t len, k = 0;
	int64_t count;
	int st;

	if (!r)
		return -2;
	sk = fg_ocf_skip_create(fg_ocf_reader_schema(r));
	if (!sk)
		abort(); /* the reader compiled the same schema */
	while ((st = fg_ocf_reader_next_block(r, &data, &len, &count, err, sizeof(err))) == 1) {
		const uint8_t *p = data, *end = data + len;
		for (int64_t i = 0; i < count && k < MAX_RECORDS; i++) {
			const uint8_t *next = fg_ocf_skip_record(sk, p, end);
			if (!next) {
				st = -1;
				goto done;
			}
			if (next < p || next > end)
				abort(); /* a record outside its block */
			if (k >= n || v[k].len != (size_t)(next - p) || memcmp(v[k].bytes, p, v[k].len))
				abort(); /* the two ways disagree on a record */
			k++;
			p = next;
		}
		if (k >= MAX_RECORDS) {
			st = 0;
			goto done;
		}
		if (p != end) {
			st = -1; /* bytes after the last record */
			goto done;
		}
	}
done:
	if (st == 0 && k != n)
		abort(); /* block by block ended cleanly with a different count */
	fg_ocf_skip_destroy(sk);
	fg_ocf_reader_close(r);
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rec v[MAX_RECORDS];
	char path[64];
	size_t n;
	int fd = memfd_create("ocf", 0);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int a = by_record(path, v, &n);
	int b = by_block(path, v, n);
	/* same verdict: a clean end, or a refusal (open refusals are -2 for both) */
	if ((a == 0) != (b == 0) || (a == -2) != (b == -2))
		abort();
	for (size_t i = 0; i < n; i++)
		free(v[i].bytes);
	close(fd);
	return 0;
}
