/*
 * fuzz_config.c: libFuzzer target, the configuration parser
 * (src/fg_config.c).
 *
 * Every input is used twice:
 *   1. as a configuration file (written to this process's directory under
 *      $FG_FUZZ_TMPDIR, default /dev/shm, removed at exit) for
 *      fg_config_load_file;
 *   2. line by line (split at '\n', up to the first NUL byte, as argv
 *      cannot hold one) as -X arguments for fg_config_set_arg, then every
 *      kafka.* key is applied to a librdkafka configuration
 *      (fg_config_rdkafka_apply), as `floorgate run` does.
 * It abort()s unless:
 *   - a refused file names "PATH:LINE: reason" with LINE a line of the file;
 *   - an accepted file holds, for each key, the value of the last line that
 *     sets it, byte for byte (the harness splits and trims the lines
 *     itself: '\n' ends a line; spaces and tabs around key and value, and a
 *     '\r' before the line end, are not part of them);
 *   - a refused -X argument names its key (or says "-X ARG");
 *   - an accepted -X argument stores exactly its trimmed value;
 *   - a refused kafka.* property is named as kafka.<property>;
 *   - nothing crashes, reads out of bounds, leaks or trips UBSan.
 * Properties whose setting has side effects in librdkafka (plugin.*, which
 * loads shared libraries) are not applied.
 *
 * Build and run: tests/fuzz/Makefile, tests/fuzz/run.sh; docs/FUZZING.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/fg_config.h"

#define MAX_ARGS 64
#define MAX_LINES 4096 /* settings checked per file; more (-max_len above 8 KB) are not */

static char dir[512], path[600];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((noreturn)) static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_config: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("FG_FUZZ_TMPDIR"); /* run.sh: a directory it removes */

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/floorgate-fuzz-config.%ld", base && *base ? base : "/dev/shm",
		 (long)getpid());
	snprintf(path, sizeof(path), "%s/fg.conf", dir);
	if (mkdir(dir, 0700) && access(dir, W_OK))
		die("cannot make the directory", dir);
	atexit(cleanup);
	return 0;
}

/* A key's value as the configuration holds it; NULL when the harness does not know the key. */
static const char *held(const struct fg_config *c, const char *key, char *buf, size_t size)
{
	static const struct {
		const char *key;
		size_t offset;
		int is_string;
	} keys[] = {
#define S(k, f) { k, offsetof(struct fg_config, f), 1 }
#define I(k, f) { k, offsetof(struct fg_config, f), 0 }
		S("input.topic", input_topic),
		S("output.topic", output_topic),
		S("deadletter.topic", deadletter_topic),
		S("data.dir", data_dir),
		S("schema.dir", schema_dir),
		I("output.assessment.schema_id", assessment_schema_id),
		I("output.deadletter.schema_id", deadletter_schema_id),
		I("run.connect_timeout_ms", connect_timeout_ms),
		I("run.workers", workers),
		I("run.batches", batches),
		I("run.batch_size", batch_size),
		I("run.progress_interval_ms", progress_interval_ms),
		I("run.max_messages", max_messages),
		I("run.flush_timeout_ms", flush_timeout_ms),
#undef S
#undef I
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i].key))
			continue;
		const char *base = (const char *)c + keys[i].offset;
		if (keys[i].is_string)
			return *(char *const *)base;
		snprintf(buf, size, "%lld", (long long)*(const int64_t *)base);
		return buf;
	}
	return NULL;
}

/* Whether an int key's text means the number it holds ("+07" holds 7). */
static int same_number(const char *text, const char *held_text)
{
	char *end;
	long long v = strtoll(text, &end, 10);
	return !*end && end != text && v == strtoll(held_text, NULL, 10);
}

static const char *kafka_prop(const char *key)
{
	if (!strncmp(key, "kafka.consumer.", 15) || !strncmp(key, "kafka.producer.", 15))
		return key + 15;
	if (!strncmp(key, "kafka.", 6))
		return key + 6;
	return NULL;
}

/* Whether some kafka entry has key prop and this value. */
static int kafka_holds(const struct fg_config *c, const char *prop, const char *value)
{
	for (size_t i = 0; i < c->n_kafka; i++)
		if (!strcmp(c->kafka[i].key, prop) && !strcmp(c->kafka[i].value, value))
			return 1;
	return 0;
}

/* Checks that c holds value for key (set last); what: for the message. */
static void check_held(const struct fg_config *c, const char *key, const char *value,
		       const char *what)
{
	char buf[32];
	const char *prop = kafka_prop(key), *h;

	if (prop) {
		if (!kafka_holds(c, prop, value))
			die(what, key);
		return;
	}
	h = held(c, key, buf, sizeof(buf));
	if (!h)
		return; /* a bool, or a key added after this harness */
	if (h == buf ? !same_number(value, h) : strcmp(h, value) != 0)
		die(what, key);
}

/* Trims spaces and tabs around s[0..len) (and '\r', '\n' at its end). */
static void trim(const char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t'))
		(*s)++, (*len)--;
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' ||
			(*s)[*len - 1] == '\r' || (*s)[*len - 1] == '\n'))
		(*len)--;
}

struct kv {
	char *key, *value;
};

/* The file's assignments, parsed by the harness; n returned, -1 if a line has no '='. */
static int parse_lines(const char *buf, size_t size, struct kv *out, int max)
{
	int n = 0;
	size_t pos = 0;

	if (size >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		pos = 3; /* a UTF-8 byte-order mark before the first line is skipped */
	while (pos < size) {
		const char *s = buf + pos, *nl = memchr(s, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - s) : size - pos;
		pos += len + (nl != NULL);
		trim(&s, &len);
		if (!len || *s == '#')
			continue;
		const char *eq = memchr(s, '=', len);
		if (!eq) {
			while (n > 0) {
				n--;
				free(out[n].key);
				free(out[n].value);
			}
			return -1;
		}
		const char *k = s, *v = eq + 1;
		size_t kl = (size_t)(eq - s), vl = len - kl - 1;
		trim(&k, &kl);
		trim(&v, &vl);
		if (n < max) {
			out[n].key = strndup(k, kl);
			out[n].value = strndup(v, vl);
			if (!out[n].key || !out[n].value)
				die("out of memory", NULL);
			n++;
		}
	}
	return n;
}

static void check_file(const uint8_t *data, size_t size)
{
	static struct kv kv[MAX_LINES];
	struct fg_config c;
	char err[8192];
	unsigned nlines = 0;
	FILE *f;

	if (!(f = fopen(path, "wb")) || fwrite(data, 1, size, f) != size || fclose(f))
		die("cannot write", path);
	fg_config_init(&c);
	err[0] = '\0';
	int rc = fg_config_load_file(&c, path, err, sizeof(err));
	int n = parse_lines((const char *)data, size, kv, MAX_LINES);
	for (size_t i = 0; i < size; i++)
		nlines += data[i] == '\n';
	nlines += size && data[size - 1] != '\n';
	if (rc) {
		unsigned line;
		int used = 0;
		size_t pl = strlen(path);
		if (strncmp(err, path, pl) || err[pl] != ':' ||
		    sscanf(err + pl + 1, "%u: %n", &line, &used) != 1 || !used ||
		    !err[pl + 1 + used])
			die("a refused file's error is not PATH:LINE: reason", err);
		if (line < 1 || line > nlines)
			die("a refused file's error names a line the file does not have", err);
	} else {
		if (n < 0)
			die("a file with a line without '=' is accepted", NULL);
		if (memchr(data, '\0', size))
			die("a file with a NUL byte is accepted", NULL);
		/* The last line that sets each key (or kafka property) decides. */
		for (int i = 0; n < MAX_LINES && i < n; i++) {
			const char *p = kafka_prop(kv[i].key);
			int last = 1;
			for (int j = i + 1; j < n && last; j++) {
				const char *q = kafka_prop(kv[j].key);
				last = p && q ? strcmp(p, q) != 0 : strcmp(kv[i].key, kv[j].key) != 0;
			}
			if (last)
				check_held(&c, kv[i].key, kv[i].value,
					   "an accepted file does not hold a line's value");
		}
	}
	for (int i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	fg_config_fini(&c);
}

static void check_args(const uint8_t *data, size_t size)
{
	struct fg_config c;
	char err[8192];
	size_t len = strnlen((const char *)data, size), pos = 0;
	char *text = strndup((const char *)data, len);
	int nargs = 0;

	if (!text)
		die("out of memory", NULL);
	fg_config_init(&c);
	while (pos <= len && nargs++ < MAX_ARGS) {
		char *arg = text + pos, *nl = strchr(arg, '\n');
		if (nl)
			*nl = '\0';
		pos += strlen(arg) + 1;
		err[0] = '\0';
		const char *eq = strchr(arg, '=');
		const char *k = arg, *v = eq ? eq + 1 : NULL;
		size_t kl = eq ? (size_t)(eq - arg) : 0, vl = v ? strlen(v) : 0;
		if (eq) {
			trim(&k, &kl);
			trim(&v, &vl);
		}
		char *key = strndup(k, kl), *value = v ? strndup(v, vl) : NULL;
		if (!key || (v && !value))
			die("out of memory", NULL);
		if (fg_config_set_arg(&c, arg, err, sizeof(err))) {
			if (!eq ? strncmp(err, "-X ", 3) != 0 : !strstr(err, key))
				die("a refused -X argument's error does not name its key", err);
		} else {
			if (!eq)
				die("a -X argument without '=' is accepted", arg);
			check_held(&c, key, value, "an accepted -X argument is not held as given");
		}
		free(key);
		free(value);
	}

	/* librdkafka gets the kafka.* keys, minus those with side effects. */
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	for (size_t i = 0; i < c.n_kafka; i++) {
		if (!strncmp(c.kafka[i].key, "plugin", 6))
			continue;
		char prefix[512];
		err[0] = '\0';
		if (fg_config_rdkafka_set(conf, c.kafka[i].key, c.kafka[i].value, err,
					  sizeof(err))) {
			snprintf(prefix, sizeof(prefix), "kafka.%s: ", c.kafka[i].key);
			if (strncmp(err, prefix, strlen(prefix)))
				die("a refused librdkafka property is not named kafka.<key>", err);
		}
	}
	rd_kafka_conf_destroy(conf);
	fg_config_fini(&c);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_file(data, size);
	check_args(data, size);
	return 0;
}
