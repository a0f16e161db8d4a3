#include "fg_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/fg_common.h"

enum type { T_STRING, T_INT, T_BOOL, T_ENUM };

static const char *const guarantee_names[] = { "at_least_once", "exactly_once", NULL };

static const struct entry {
	const char *key;
	enum type type;
	const char *def;
	int64_t min, max;
	size_t offset;
	const char *doc;
	const char *const *names; /* T_ENUM: the allowed values, stored as their index */
} table[] = {
#define S(k, d, f, doc) { k, T_STRING, d, 0, 0, offsetof(struct fg_config, f), doc }
#define I(k, d, lo, hi, f, doc) { k, T_INT, d, lo, hi, offsetof(struct fg_config, f), doc }
#define B(k, d, f, doc) { k, T_BOOL, d, 0, 1, offsetof(struct fg_config, f), doc }
#define E(k, d, f, names, doc) { k, T_ENUM, d, 0, 0, offsetof(struct fg_config, f), doc, names }
	S("input.topic", "declarations", input_topic,
	  "Topic of Confluent-framed floorgate.v1.ImportDeclaration messages."),
	S("output.topic", "assessments", output_topic,
	  "Topic for floorgate.v1.DutyAssessment records."),
	S("deadletter.topic", "deadletters", deadletter_topic,
	  "Topic for floorgate.v1.DeadLetter records (rejected input, original bytes kept)."),
	S("data.dir", "data", data_dir, "Directory of the six reference tables (CSV)."),
	S("schema.dir", "schemas/registry", schema_dir,
	  "Directory of writer schemas named <id>.avsc (the schema ids in message frames)."),
	I("output.assessment.schema_id", "2", 0, INT32_MAX, assessment_schema_id,
	  "Schema id written in the frame of each assessment."),
	I("output.deadletter.schema_id", "3", 0, INT32_MAX, deadletter_schema_id,
	  "Schema id written in the frame of each dead letter."),
	B("run.exit_on_eof", "false", exit_on_eof,
	  "Exit 0 once every assigned partition is read to its end and its outputs are "
	  "delivered and committed (batch jobs, tests)."),
	I("run.connect_timeout_ms", "30000", 100, 3600000, connect_timeout_ms,
	  "How long to wait for the brokers (and the input topic) at start before giving up."),
	I("run.workers", "1", 1, 64, workers,
	  "Assessment threads. A partition is always assessed by the same one, so outputs keep "
	  "each partition's order."),
	I("run.batches", "64", 2, 4096, batches,
	  "Batches in circulation. When all are in use the input partitions are paused: memory "
	  "stays below run.batches x run.batch_size messages (and run.max_inflight_bytes)."),
	I("run.linger_ms", "1", 0, 1000, linger_ms,
	  "How long a batch that is not full waits for more input before its worker gets it "
	  "(up to 10 ms more while fewer than a quarter of the batches are free)."),
	I("run.batch_size", "10000", 1, 1000000, batch_size,
	  "Most messages consumed, assessed and produced per batch; offsets are stored after "
	  "a batch's outputs are acknowledged."),
	I("run.progress_interval_ms", "5000", 0, 3600000, progress_interval_ms,
	  "How often a progress line is printed to standard error (0: never)."),
	I("run.max_messages", "0", 0, INT64_MAX, max_messages,
	  "Stop after this many input messages (0: no limit)."),
	I("run.flush_timeout_ms", "60000", 100, 3600000, flush_timeout_ms,
	  "How long to wait for outputs to be acknowledged before failing the batch; also "
	  "bounds the drain at SIGINT/SIGTERM, the wait for room in a full producer queue "
	  "once a stop is asked, and each transaction commit's retries."),
	E("processing.guarantee", "at_least_once", guarantee, guarantee_names,
	  "at_least_once: offsets are committed after the outputs are acknowledged (a crash "
	  "can repeat outputs, byte-identical). exactly_once: outputs, dead letters and "
	  "consumed offsets are committed in one Kafka transaction (readers must use "
	  "isolation.level=read_committed)."),
	S("run.transactional_id", "", transactional_id,
	  "exactly_once: the producer's transactional.id. Empty: <group.id>-<group.instance.id> "
	  "when kafka.group.instance.id is set (stable across restarts, so a restart fences "
	  "the old process), else <group.id>-<hostname>-<pid>."),
	I("run.commit_interval_ms", "100", 1, 600000, commit_interval_ms,
	  "exactly_once: commit the open transaction at least this often."),
	I("run.commit_max_messages", "100000", 1, INT32_MAX, commit_max_messages,
	  "exactly_once: commit the open transaction once it holds this many inputs."),
	I("run.max_inflight_bytes", "268435456", 65536, INT64_MAX, max_inflight_bytes,
	  "Cap on input and output bytes held in batches: above it the input partitions are "
	  "paused until enough outputs are acknowledged (nothing is dropped)."),
#undef S
#undef I
#undef B
#undef E
};

/* librdkafka properties that belong to one client only. */
static const char *const consumer_only[] = {
	"group.id", "group.instance.id", "partition.assignment.strategy", "session.timeout.ms",
	"heartbeat.interval.ms", "max.poll.interval.ms", "auto.offset.reset", "enable.auto.commit",
	"auto.commit.interval.ms", "enable.auto.offset.store", "enable.partition.eof",
	"isolation.level", "fetch.wait.max.ms", "fetch.min.bytes", "fetch.max.bytes",
	"fetch.message.max.bytes", "max.partition.fetch.bytes", "fetch.error.backoff.ms",
	"queued.min.messages", "queued.max.messages.kbytes", "check.crcs",
	"allow.auto.create.topics", "group.protocol.type", "coordinator.query.interval.ms",
	NULL
};
static const char *const producer_only[] = {
	"acks", "request.required.acks", "linger.ms", "queue.buffering.max.ms",
	"batch.num.messages", "batch.size", "compression.codec", "compression.type",
	"compression.level", "enable.idempotence", "transactional.id", "transaction.timeout.ms",
	"queue.buffering.max.messages", "queue.buffering.max.kbytes", "message.timeout.ms",
	"delivery.timeout.ms", "retries", "message.send.max.retries", "retry.backoff.ms",
	"max.in.flight.requests.per.connection", "max.in.flight", "partitioner",
	"enable.gapless.guarantee", "request.timeout.ms", "sticky.partitioning.linger.ms",
	NULL
};

static int in_list(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (!strcmp(*list, key))
			return 1;
	return 0;
}

static int set_entry(struct fg_config *c, const struct entry *e, const char *value, char *errstr,
		     size_t errstr_size)
{
	char *base = (char *)c;

	if (e->type == T_STRING) {
		char **dst = (char **)(base + e->offset);
		char *v = strdup(value);
		if (!v) {
			fg_errf(errstr, errstr_size, "%s: out of memory", e->key);
			return -1;
		}
		free(*dst);
		*dst = v;
		return 0;
	}
	int64_t *dst = (int64_t *)(base + e->offset);
	if (e->type == T_ENUM) {
		for (int64_t i = 0; e->names[i]; i++)
			if (!strcmp(value, e->names[i])) {
				*dst = i;
				return 0;
			}
		fg_errf(errstr, errstr_size, "%s: \"%s\" is not one of %s, %s", e->key, value,
			e->names[0], e->names[1]);
		return -1;
	}
	if (e->type == T_BOOL) {
		if (!strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "yes"))
			*dst = 1;
		else if (!strcmp(value, "false") || !strcmp(value, "0") || !strcmp(value, "no"))
			*dst = 0;
		else {
			fg_errf(errstr, errstr_size, "%s: \"%s\" is not true or false", e->key, value);
			return -1;
		}
		return 0;
	}
	char *end;
	errno = 0;
	long long v = strtoll(value, &end, 10);
	if (errno || end == value || *end || v < e->min || v > e->max) {
		fg_errf(errstr, errstr_size, "%s: \"%s\" is not a whole number from %lld to %lld",
			e->key, value, (long long)e->min, (long long)e->max);
		return -1;
	}
	*dst = v;
	return 0;
}

void fg_config_init(struct fg_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < FG_ARRAY_LEN(table); i++)
		set_entry(c, &table[i], table[i].def, NULL, 0);
}

void fg_config_fini(struct fg_config *c)
{
	for (size_t i = 0; i < FG_ARRAY_LEN(table); i++)
		if (table[i].type == T_STRING)
			free(*(char **)((char *)c + table[i].offset));
	for (size_t i = 0; i < c->n_kafka; i++) {
		free(c->kafka[i].key);
		free(c->kafka[i].value);
	}
	free(c->kafka);
	memset(c, 0, sizeof(*c));
}

static int set_kafka(struct fg_config *c, const char *prop, int target, const char *value,
		     char *errstr, size_t errstr_size)
{
	static const char *const given[] = { "kafka.", "kafka.consumer.", "kafka.producer." };

	if (!*prop) {
		fg_errf(errstr, errstr_size, "%s: a librdkafka property name must follow",
			given[target]);
		return -1;
	}
	/* Asked of librdkafka now, so an unknown property or a bad value is
	 * refused where it was written (file:line, or -X) before anything
	 * starts, not when a client is made. plugin.library.paths loads the
	 * plugins when set: that one is left to the clients. */
	if (strcmp(prop, "plugin.library.paths") != 0) {
		rd_kafka_conf_t *probe = rd_kafka_conf_new();
		char why[512];
		int bad = probe && rd_kafka_conf_set(probe, prop, value, why, sizeof(why)) !=
					   RD_KAFKA_CONF_OK;
		if (probe)
			rd_kafka_conf_destroy(probe);
		if (bad) {
			fg_errf(errstr, errstr_size, "%s%s: %s", given[target], prop, why);
			return -1;
		}
	}
	if (target == FG_CONFIG_BOTH)
		target = in_list(consumer_only, prop)   ? FG_CONFIG_CONSUMER :
			 in_list(producer_only, prop) ? FG_CONFIG_PRODUCER :
							FG_CONFIG_BOTH;
	for (size_t i = 0; i < c->n_kafka; i++)
		if (!strcmp(c->kafka[i].key, prop) && c->kafka[i].target == target) {
			char *v = strdup(value);
			if (!v)
				return -1;
			free(c->kafka[i].value);
			c->kafka[i].value = v;
			return 0;
		}
	if (c->n_kafka == c->cap_kafka) {
		size_t cap = c->cap_kafka ? c->cap_kafka * 2 : 16;
		struct fg_config_kv *v = realloc(c->kafka, cap * sizeof(*v));
		if (!v)
			return -1;
		c->kafka = v;
		c->cap_kafka = cap;
	}
	c->kafka[c->n_kafka].key = strdup(prop);
	c->kafka[c->n_kafka].value = strdup(value);
	c->kafka[c->n_kafka].target = target;
	c->n_kafka++;
	return 0;
}

int fg_config_set(struct fg_config *c, const char *key, const char *value, char *errstr,
		  size_t errstr_size)
{
	if (!strncmp(key, "kafka.consumer.", 15))
		return set_kafka(c, key + 15, FG_CONFIG_CONSUMER, value, errstr, errstr_size);
	if (!strncmp(key, "kafka.producer.", 15))
		return set_kafka(c, key + 15, FG_CONFIG_PRODUCER, value, errstr, errstr_size);
	if (!strncmp(key, "kafka.", 6))
		return set_kafka(c, key + 6, FG_CONFIG_BOTH, value, errstr, errstr_size);
	for (size_t i = 0; i < FG_ARRAY_LEN(table); i++)
		if (!strcmp(key, table[i].key))
			return set_entry(c, &table[i], value, errstr, errstr_size);
	fg_errf(errstr, errstr_size,
		"unknown key \"%s\" (floorgate run --help-config lists the keys; librdkafka "
		"properties take the prefix kafka.)",
		key);
	return -1;
}

const char *fg_config_kafka_get(const struct fg_config *c, const char *key)
{
	for (size_t i = 0; i < c->n_kafka; i++)
		if (!strcmp(c->kafka[i].key, key))
			return c->kafka[i].value;
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int fg_config_check(const struct fg_config *c, char *errstr, size_t errstr_size)
{
	const struct {
		const char *key, *value;
	} named[] = { { "input.topic", c->input_topic },
		      { "output.topic", c->output_topic },
		      { "deadletter.topic", c->deadletter_topic },
		      { "data.dir", c->data_dir },
		      { "schema.dir", c->schema_dir } };

	for (size_t i = 0; i < FG_ARRAY_LEN(named); i++)
		if (!named[i].value || !named[i].value[0]) {
			fg_errf(errstr, errstr_size, "%s is empty", named[i].key);
			return -1;
		}
	if (!strcmp(c->input_topic, c->output_topic) || !strcmp(c->input_topic, c->deadletter_topic)) {
		fg_errf(errstr, errstr_size,
			"input.topic \"%s\" is also %s: floorgate would read its own outputs",
			c->input_topic,
			!strcmp(c->input_topic, c->output_topic) ? "output.topic" : "deadletter.topic");
		return -1;
	}
	return 0;
}

int fg_config_load_file(struct fg_config *c, const char *path, char *errstr, size_t errstr_size)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, why[512];
	size_t cap = 0;
	ssize_t len;
	unsigned n = 0;

	if (!f) {
		fg_errf(errstr, errstr_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* getline: a long line stays one line, and a NUL byte in it is seen. */
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *s, *eq;
		n++;
		if (strlen(line) != (size_t)len) {
			fg_errf(errstr, errstr_size, "%s:%u: NUL byte in the line", path, n);
			goto err;
		}
		s = line;
		if (n == 1 && !strncmp(s, "\xef\xbb\xbf", 3))
			s += 3; /* a UTF-8 byte-order mark, as some editors write */
		s = trim(s);
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			fg_errf(errstr, errstr_size, "%s:%u: expected key = value", path, n);
			goto err;
		}
		*eq = '\0';
		if (fg_config_set(c, trim(s), trim(eq + 1), why, sizeof(why))) {
			fg_errf(errstr, errstr_size, "%s:%u: %s", path, n, why);
			goto err;
		}
	}
	if (ferror(f)) {
		/* a directory, an I/O error: not an empty file */
		fg_errf(errstr, errstr_size, "%s: %s", path, strerror(errno));
		goto err;
	}
	free(line);
	fclose(f);
	return 0;
err:
	free(line);
	fclose(f);
	return -1;
}

int fg_config_set_arg(struct fg_config *c, const char *arg, char *errstr, size_t errstr_size)
{
	char *buf = strdup(arg), *eq;
	int rc;

	if (!buf) {
		fg_errf(errstr, errstr_size, "-X %s: out of memory", arg);
		return -1;
	}
	eq = strchr(buf, '=');
	if (!eq) {
		fg_errf(errstr, errstr_size, "-X %s: expected key=value", arg);
		free(buf);
		return -1;
	}
	*eq = '\0';
	rc = fg_config_set(c, trim(buf), trim(eq + 1), errstr, errstr_size);
	free(buf);
	return rc;
}

void fg_config_print_table(FILE *f)
{
	fprintf(f, "| key | type | default | description |\n|---|---|---|---|\n");
	for (size_t i = 0; i < FG_ARRAY_LEN(table); i++) {
		const struct entry *e = &table[i];
		char range[64] = "";
		if (e->type == T_INT)
			snprintf(range, sizeof(range), " (%lld to %lld)", (long long)e->min,
				 (long long)e->max);
		if (e->type == T_ENUM) {
			size_t k = 0;
			for (int n = 0; e->names[n]; n++)
				k += (size_t)snprintf(range + k, sizeof(range) - k, "%s`%s`",
						      n ? ", " : " ", e->names[n]);
		}
		fprintf(f, "| `%s` | %s%s | `%s` | %s |\n", e->key,
			e->type == T_STRING ? "string" :
			e->type == T_INT    ? "integer" :
			e->type == T_ENUM   ? "one of" :
					      "boolean",
			range, e->def, e->doc);
	}
	fprintf(f, "| `kafka.<property>` | string | | Passed to librdkafka: consumer-only and "
		   "producer-only properties go to that client, the rest to both. |\n"
		   "| `kafka.consumer.<property>`, `kafka.producer.<property>` | string | | Passed to "
		   "one client only. |\n");
}

void fg_config_transactional_id(const struct fg_config *c, char *buf, size_t size)
{
	const char *group = fg_config_kafka_get(c, "group.id");
	const char *instance = fg_config_kafka_get(c, "group.instance.id");
	char host[256];

	if (c->transactional_id && *c->transactional_id) {
		snprintf(buf, size, "%s", c->transactional_id);
		return;
	}
	if (!group)
		group = "floorgate";
	if (instance && *instance) {
		snprintf(buf, size, "%s-%s", group, instance);
		return;
	}
	if (gethostname(host, sizeof(host)))
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, size, "%s-%s-%ld", group, host, (long)getpid());
}

int fg_config_rdkafka_set(rd_kafka_conf_t *conf, const char *key, const char *value,
			  char *errstr, size_t errstr_size)
{
	char why[512];

	if (rd_kafka_conf_set(conf, key, value, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
		fg_errf(errstr, errstr_size, "kafka.%s: %s", key, why);
		return -1;
	}
	return 0;
}

int fg_config_rdkafka_apply(const struct fg_config *c, rd_kafka_conf_t *conf, int skip,
			    char *errstr, size_t errstr_size)
{
	for (size_t i = 0; i < c->n_kafka; i++)
		if (c->kafka[i].target != skip &&
		    fg_config_rdkafka_set(conf, c->kafka[i].key, c->kafka[i].value, errstr,
					  errstr_size))
			return -1;
	return 0;
}
