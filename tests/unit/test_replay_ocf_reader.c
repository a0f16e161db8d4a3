/*
 * test_replay_ocf_reader.c: replay's container reader (ingest/fg_ocf_reader.c)
 * against files written by Avro C itself, the reference implementation:
 * every record comes back as exactly the bytes Avro C wrote for it, for the
 * null and deflate codecs, over many blocks and every Avro type; broken
 * files are refused with the block and reason, never read past.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <avro.h>

#include "../../ingest/fg_ocf_reader.h"
#include "fg_test_util.h"

/* Every type the skip program knows, including a recursive record. */
static const char all_types[] =
	"{\"type\":\"record\",\"name\":\"T\",\"fields\":["
	"{\"name\":\"n\",\"type\":\"null\"},{\"name\":\"b\",\"type\":\"boolean\"},"
	"{\"name\":\"i\",\"type\":\"int\"},{\"name\":\"l\",\"type\":\"long\"},"
	"{\"name\":\"f\",\"type\":\"float\"},{\"name\":\"d\",\"type\":\"double\"},"
	"{\"name\":\"s\",\"type\":\"string\"},{\"name\":\"y\",\"type\":\"bytes\"},"
	"{\"name\":\"x\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}},"
	"{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}},"
	"{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
	"{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"long\"}},"
	"{\"name\":\"u\",\"type\":[\"null\",\"string\",\"double\"]},"
	"{\"name\":\"next\",\"type\":[\"null\",\"T\"]}]}";

struct fixture {
	char *dir;
	char path[600];
	avro_schema_t schema;
	avro_value_iface_t *iface;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fx->dir = fg_test_mkdtemp();
	snprintf(fx->path, sizeof(fx->path), "%s/t.avro", fx->dir);
	if (avro_schema_from_json_length(all_types, sizeof(all_types) - 1, &fx->schema))
		return -1;
	fx->iface = avro_generic_class_from_schema(fx->schema);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	avro_value_iface_decref(fx->iface);
	avro_schema_decref(fx->schema);
	fg_test_rmdir(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

/* Fills record k with values that vary in size, nesting `depth` records through `next`. */
static void fill(avro_value_t *v, int k, int depth)
{
	avro_value_t f, item, branch;
	char s[64];

	avro_value_get_by_name(v, "b", &f, NULL);
	avro_value_set_boolean(&f, k & 1);
	avro_value_get_by_name(v, "i", &f, NULL);
	avro_value_set_int(&f, k * 7919 - 40000);
	avro_value_get_by_name(v, "l", &f, NULL);
	avro_value_set_long(&f, (int64_t)((uint64_t)k * 1000003 << (k % 30)) * (k & 1 ? -1 : 1));
	avro_value_get_by_name(v, "f", &f, NULL);
	avro_value_set_float(&f, (float)k / 3);
	avro_value_get_by_name(v, "d", &f, NULL);
	avro_value_set_double(&f, k * 1.5);
	snprintf(s, sizeof(s), "record %d %.*s", k, k % 30, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	avro_value_get_by_name(v, "s", &f, NULL);
	avro_value_set_string(&f, s);
	avro_value_get_by_name(v, "y", &f, NULL);
	avro_value_set_bytes(&f, s, (size_t)(k % 11));
	avro_value_get_by_name(v, "x", &f, NULL);
	avro_value_set_fixed(&f, "abc", 3);
	avro_value_get_by_name(v, "e", &f, NULL);
	avro_value_set_enum(&f, k % 2);
	avro_value_get_by_name(v, "a", &f, NULL);
	for (int i = 0; i < k % 5; i++) {
		avro_value_append(&f, &item, NULL);
		avro_value_set_string(&item, s + i);
	}
	avro_value_get_by_name(v, "m", &f, NULL);
	for (int i = 0; i < k % 4; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		avro_value_add(&f, key, &item, NULL, NULL);
		avro_value_set_long(&item, i * k);
	}
	avro_value_get_by_name(v, "u", &f, NULL);
	avro_value_set_branch(&f, k % 3, &branch);
	if (k % 3 == 1)
		avro_value_set_string(&branch, s);
	else if (k % 3 == 2)
		avro_value_set_double(&branch, -k * 0.25);
	avro_value_get_by_name(v, "next", &f, NULL);
	if (depth > 0) {
		avro_value_set_branch(&f, 1, &branch);
		fill(&branch, k + 1, depth - 1);
	} else {
		avro_value_set_branch(&f, 0, &branch);
	}
}

/* Writes n records with Avro C; bodies[i] receives record i's bytes (malloc'ed). */
static void write_file(struct fixture *fx, const char *codec, int n, uint8_t **bodies,
		       size_t *lens)
{
	avro_file_writer_t w;
	avro_value_t v;
	char buf[8192];

	unlink(fx->path);
	/* small blocks: many block boundaries */
	assert_int_equal(avro_file_writer_create_with_codec(fx->path, fx->schema, &w, codec, 2048), 0);
	assert_int_equal(avro_generic_value_new(fx->iface, &v), 0);
	for (int k = 0; k < n; k++) {
		avro_writer_t mw = avro_writer_memory(buf, sizeof(buf));
		avro_value_reset(&v);
		fill(&v, k, k % 3);
		assert_int_equal(avro_file_writer_append_value(w, &v), 0);
		assert_int_equal(avro_value_write(mw, &v), 0);
		lens[k] = (size_t)avro_writer_tell(mw);
		bodies[k] = malloc(lens[k]);
		memcpy(bodies[k], buf, lens[k]);
		avro_writer_free(mw);
	}
	avro_value_decref(&v);
	assert_int_equal(avro_file_writer_close(w), 0);
}

static void read_back(struct fixture *fx, const char *codec)
{
	enum { N = 700 };
	uint8_t *bodies[N];
	size_t lens[N], len;
	const uint8_t *body;
	char err[512];
	int k = 0, r;

	write_file(fx, codec, N, bodies, lens);
	struct fg_ocf_reader *rd = fg_ocf_reader_open(fx->path, err, sizeof(err));
	assert_non_null(rd);
	assert_string_equal(fg_ocf_reader_codec(rd), codec);
	assert_true(avro_schema_equal(fg_ocf_reader_schema(rd), fx->schema));
	while ((r = fg_ocf_reader_next(rd, &body, &len, err, sizeof(err))) == 1) {
		assert_true(k < N);
		assert_int_equal(len, lens[k]);
		assert_memory_equal(body, bodies[k], len);
		k++;
	}
	assert_int_equal(r, 0);
	assert_int_equal(k, N);
	fg_ocf_reader_close(rd);
	for (int i = 0; i < N; i++)
		free(bodies[i]);
}

static void test_null_codec_records_are_the_bytes_avro_c_wrote(void **state)
{
	read_back(*state, "null");
}

static void test_deflate_codec_records_are_the_bytes_avro_c_wrote(void **state)
{
	read_back(*state, "deflate");
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) ? -1 : (long)st.st_size;
}

/* Reads to the end; returns the reader's last status and its message in err. */
static int read_all(const char *path, char *err, size_t size, int *records)
{
	struct fg_ocf_reader *rd = fg_ocf_reader_open(path, err, size);
	const uint8_t *body;
	size_t len;
	int r;

	*records = 0;
	if (!rd)
		return -2;
	while ((r = fg_ocf_reader_next(rd, &body, &len, err, size)) == 1)
		(*records)++;
	fg_ocf_reader_close(rd);
	return r;
}

static void test_broken_files_are_refused_with_block_and_reason(void **state)
{
	struct fixture *fx = *state;
	enum { N = 50 };
	uint8_t *bodies[N];
	size_t lens[N];
	char err[512];
	int records;

	write_file(fx, "deflate", N, bodies, lens);
	for (int i = 0; i < N; i++)
		free(bodies[i]);
	long size = file_size(fx->path);

	/* cut inside the last block */
	assert_int_equal(truncate(fx->path, size - 20), 0);
	assert_int_equal(read_all(fx->path, err, sizeof(err), &records), -1);
	assert_non_null(strstr(err, "block"));
	assert_non_null(strstr(err, "ends inside the block"));

	/* a flipped byte in the last sync marker */
	write_file(fx, "null", N, bodies, lens);
	for (int i = 0; i < N; i++)
		free(bodies[i]);
	size = file_size(fx->path);
	FILE *f = fopen(fx->path, "r+b");
	fseek(f, size - 3, SEEK_SET);
	int c = fgetc(f);
	fseek(f, size - 3, SEEK_SET);
	fputc(c ^ 0xff, f);
	fclose(f);
	assert_int_equal(read_all(fx->path, err, sizeof(err), &records), -1);
	assert_non_null(strstr(err, "sync marker"));

	/* not a container at all */
	fg_test_write(fx->dir, "t.avro", "declaration_id,version\n");
	assert_int_equal(read_all(fx->path, err, sizeof(err), &records), -2);
	assert_non_null(strstr(err, "not an Avro object container file"));

	/* an empty file says so */
	fg_test_write(fx->dir, "t.avro", "");
	assert_int_equal(read_all(fx->path, err, sizeof(err), &records), -2);
	assert_non_null(strstr(err, "empty file"));

	/* a missing file names it */
	assert_int_equal(read_all("/nonexistent/x.avro", err, sizeof(err), &records), -2);
	assert_non_null(strstr(err, "/nonexistent/x.avro"));

	/* a directory is named as one, not as a malformed container */
	assert_int_equal(read_all(fx->dir, err, sizeof(err), &records), -2);
	assert_non_null(strstr(err, "Is a directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_null_codec_records_are_the_bytes_avro_c_wrote,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_deflate_codec_records_are_the_bytes_avro_c_wrote,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_files_are_refused_with_block_and_reason,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
