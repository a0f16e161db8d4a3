/*
 * fg_config.h: floorgate's configuration, one table of keys.
 *
 * The same flat dotted keys are read from a file (`key = value`, `#`
 * comments) and from the command line (`-X key=value`, which wins).
 * `kafka.<property>` goes to both librdkafka clients, `kafka.consumer.*`
 * and `kafka.producer.*` to one of them; everything else is floorgate's
 * own and is checked against the table (type and bounds), so a typo is an
 * error, not a silent default. `floorgate run --help-config` prints the
 * table; docs/CONFIGURATION.md is made from the same output.
 */
#ifndef FG_CONFIG_H
#define FG_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <librdkafka/rdkafka.h>

struct fg_config_kv {
	char *key;   /* librdkafka property name, without the kafka. prefix */
	char *value;
	int target;  /* FG_CONFIG_BOTH, _CONSUMER or _PRODUCER */
};

#define FG_CONFIG_BOTH 0
#define FG_CONFIG_CONSUMER 1
#define FG_CONFIG_PRODUCER 2

/* processing.guarantee */
#define FG_CONFIG_AT_LEAST_ONCE 0
#define FG_CONFIG_EXACTLY_ONCE 1

struct fg_config {
	char *input_topic;
	char *output_topic;
	char *deadletter_topic;
	char *data_dir;
	char *schema_dir;
	int64_t assessment_schema_id;
	int64_t deadletter_schema_id;
	int64_t exit_on_eof;        /* bool */
	int64_t connect_timeout_ms;
	int64_t workers;
	int64_t batches;
	int64_t batch_size;
	int64_t linger_ms;
	int64_t progress_interval_ms;
	int64_t max_messages;       /* 0: unbounded */
	int64_t flush_timeout_ms;
	int64_t guarantee;          /* FG_CONFIG_AT_LEAST_ONCE or FG_CONFIG_EXACTLY_ONCE */
	char *transactional_id;     /* "": derived, see fg_config_transactional_id() */
	int64_t commit_interval_ms;
	int64_t commit_max_messages;
	int64_t max_inflight_bytes;
	struct fg_config_kv *kafka;
	size_t n_kafka, cap_kafka;
};

void fg_config_init(struct fg_config *c);
void fg_config_fini(struct fg_config *c);
/* Sets one key. Returns 0 or -1 with a message naming the key. */
int fg_config_set(struct fg_config *c, const char *key, const char *value, char *errstr,
		  size_t errstr_size);
/*
 * What no single key can check: the topics and directories are named, and
 * the input topic is neither output topic (floorgate would read its own
 * outputs: a dead letter of a dead letter, without end). Returns 0 or -1
 * with a message.
 */
int fg_config_check(const struct fg_config *c, char *errstr, size_t errstr_size);
/* Reads a file of `key = value` lines. Errors name path:line. */
int fg_config_load_file(struct fg_config *c, const char *path, char *errstr, size_t errstr_size);
/* Parses one `key=value` from -X. */
int fg_config_set_arg(struct fg_config *c, const char *arg, char *errstr, size_t errstr_size);
/* Looks up a kafka.* value (NULL when unset). */
const char *fg_config_kafka_get(const struct fg_config *c, const char *key);
/* Sets one librdkafka property; on error the message names it as kafka.<key>. */
int fg_config_rdkafka_set(rd_kafka_conf_t *conf, const char *key, const char *value,
			  char *errstr, size_t errstr_size);
/* Applies every kafka.* key except those meant only for `skip` (a FG_CONFIG_ target). */
int fg_config_rdkafka_apply(const struct fg_config *c, rd_kafka_conf_t *conf, int skip,
			    char *errstr, size_t errstr_size);
/*
 * The transactional.id of this instance in exactly-once mode: run.transactional_id
 * when set, else <group.id>-<group.instance.id> when static membership is on (stable
 * across restarts, so a restarted instance fences its zombie), else
 * <group.id>-<hostname>-<pid> (unique, but a restart does not fence the old process).
 */
void fg_config_transactional_id(const struct fg_config *c, char *buf, size_t size);
/* The key table as Markdown. */
void fg_config_print_table(FILE *f);

#endif
