/*
 * test_src_config.c: the configuration file and -X parser (src/fg_config.c)
 * on hostile input: a line of any length is one line and keeps its whole
 * value, a NUL byte is refused with file:line, a long -X value is kept
 * whole, and an error names the key as it was given. (Found by tests/fuzz/fuzz_config.c; the everyday errors are
 * checked through the CLI in tests/run.sh.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../src/fg_config.h"
#include "fg_test_util.h"

struct fixture {
	char *dir;
	char path[1024];
	struct fg_config c;
	char err[8192];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx || !(fx->dir = fg_test_mkdtemp()))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/fg.conf", fx->dir);
	fg_config_init(&fx->c);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fg_config_fini(&fx->c);
	fg_test_rmdir(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

/* Writes len bytes (NULs allowed) as the config file and loads it. */
static int load_bytes(struct fixture *fx, const char *bytes, size_t len)
{
	FILE *f = fopen(fx->path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	fx->err[0] = '\0';
	return fg_config_load_file(&fx->c, fx->path, fx->err, sizeof(fx->err));
}

/* "input.topic = " and n letters, then more lines; the caller frees it. */
static char *long_topic_file(size_t n, const char *more, size_t *len)
{
	size_t m = strlen(more);
	char *s = malloc(14 + n + 1 + m + 1);

	assert_non_null(s);
	memcpy(s, "input.topic = ", 14);
	memset(s + 14, 't', n);
	s[14 + n] = '\n';
	memcpy(s + 15 + n, more, m + 1);
	*len = 15 + n + m;
	return s;
}

static void test_long_line_keeps_its_value(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	/* Once cut at 4095 bytes: the rest became a "line 2" holding "=1". */
	char *text = long_topic_file(10000, "run.workers = 3\n", &len);

	memcpy(text + 14 + 9990, "x=1", 3);
	if (load_bytes(fx, text, len))
		fail_msg("refused: %s", fx->err);
	assert_int_equal(strlen(fx->c.input_topic), 10000);
	assert_memory_equal(fx->c.input_topic, text + 14, 10000);
	assert_int_equal(fx->c.workers, 3);
	free(text);
}

static void test_error_after_long_line_names_its_line(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *text = long_topic_file(5000, "run.workers = many\n", &len);
	char want[1100];

	assert_int_equal(load_bytes(fx, text, len), -1);
	snprintf(want, sizeof(want), "%s:2: run.workers:", fx->path);
	if (strncmp(fx->err, want, strlen(want)) != 0)
		fail_msg("message \"%s\" does not start with \"%s\"", fx->err, want);
	free(text);
}

static void test_nul_byte_is_refused_with_its_line(void **state)
{
	struct fixture *fx = *state;
	static const char text[] = "input.topic = in\noutput.topic = out\0put\n";
	char want[1100];

	/* Once read as "out", silently dropping the rest of the line. */
	assert_int_equal(load_bytes(fx, text, sizeof(text) - 1), -1);
	snprintf(want, sizeof(want), "%s:2: NUL byte", fx->path);
	if (strncmp(fx->err, want, strlen(want)) != 0)
		fail_msg("message \"%s\" does not start with \"%s\"", fx->err, want);
	/* Even in a comment: the file is not text. */
	assert_int_equal(load_bytes(fx, "# a\0b\n", 6), -1);
	assert_non_null(strstr(fx->err, ":1: NUL byte"));
}

static void test_long_arg_keeps_its_value(void **state)
{
	struct fixture *fx = *state;
	size_t n = 6000;
	char *arg = malloc(12 + n + 1);

	/* Once cut at 4095 bytes without a word. */
	assert_non_null(arg);
	memcpy(arg, "data.dir = ", 11);
	memset(arg + 11, 'd', n);
	arg[11 + n] = '\0';
	if (fg_config_set_arg(&fx->c, arg, fx->err, sizeof(fx->err)))
		fail_msg("refused: %s", fx->err);
	assert_int_equal(strlen(fx->c.data_dir), n);
	free(arg);
}

static void test_arg_without_equals_is_refused(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(fg_config_set_arg(&fx->c, "run.workers", fx->err, sizeof(fx->err)), -1);
	assert_string_equal(fx->err, "-X run.workers: expected key=value");
	assert_int_equal(fg_config_set_arg(&fx->c, " run.workers = 5 ", fx->err, sizeof(fx->err)),
			 0);
	assert_int_equal(fx->c.workers, 5);
}

static void test_empty_kafka_property_names_the_key(void **state)
{
	struct fixture *fx = *state;

	/* Once "kafka.: ..." whichever of the three prefixes was given. */
	assert_int_equal(fg_config_set_arg(&fx->c, "kafka.consumer.=1", fx->err, sizeof(fx->err)),
			 -1);
	assert_string_equal(fx->err, "kafka.consumer.: a librdkafka property name must follow");
	assert_int_equal(load_bytes(fx, "kafka.producer. = 1\n", 20), -1);
	assert_non_null(strstr(fx->err, ":1: kafka.producer.: a librdkafka property"));
	assert_int_equal(fg_config_set_arg(&fx->c, "kafka.=1", fx->err, sizeof(fx->err)), -1);
	assert_string_equal(fx->err, "kafka.: a librdkafka property name must follow");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_long_line_keeps_its_value),
		T(test_error_after_long_line_names_its_line),
		T(test_nul_byte_is_refused_with_its_line),
		T(test_long_arg_keeps_its_value),
		T(test_arg_without_equals_is_refused),
		T(test_empty_kafka_property_names_the_key),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
