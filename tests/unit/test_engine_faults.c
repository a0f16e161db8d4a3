/*
 * test_engine_faults.c: the engine under broker faults, on librdkafka's
 * mock cluster, deterministically (errors injected on the next N requests
 * of one protocol API, a broker taken down and brought back mid-stream).
 *
 * at_least_once, whatever fails: every input offset gets at least one
 * output, every repeated output is byte-identical to the first, and the
 * group's committed offsets never pass an input without an output; an
 * output that cannot be delivered stops the engine, and a restart finishes
 * the job.
 *
 * exactly_once: the mock cluster keeps no transaction markers and does not
 * store transactional offset commits, so aborted outputs stay readable and
 * a restart reads from the start. These tests check what it can show: the
 * engine retries the transaction APIs, aborts and rewinds on an abortable
 * error without losing an input, and stops with exit status 1 (-1 here)
 * when it is fenced.
 *
 * Each test is bounded by alarm(): a hang kills the binary, which fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../../ingest/fg_gen.h"
#include "../../pricing/fg_refstore.h"
#include "../../sinks/fg_kafka_sink.h"
#include "../../src/fg_runner.h"
#include "fg_test_kafka.h"
#include "fg_test_util.h"

#define PARTS 4
#define COUNT 3000
#define TEST_SECONDS 60

/* Kafka protocol API keys (not in librdkafka's public headers). */
#define API_PRODUCE 0
#define API_FETCH 1
#define API_OFFSET_COMMIT 8
#define API_INIT_PRODUCER_ID 22
#define API_ADD_PARTITIONS_TO_TXN 24
#define API_END_TXN 26

static struct fg_test_cluster kc;
static const char *bootstraps; /* kc.bootstraps */
static char data_dir[8192];

/* An output, reduced to what the checks need. */
struct out {
	int32_t src_part;
	int64_t src_off;
	uint8_t *bytes;
	size_t len;
};

/* Every output read so far for the current test, by input position. */
struct answers {
	struct out *v;
	size_t n, cap;
	size_t per_input[PARTS][COUNT];
};

/* Reads every record of both output topics of tag from the start into a. */
static void read_outputs(const char *tag, struct answers *a)
{
	char topic[2][64];
	const char *const topics[] = { topic[0], topic[1], NULL };
	struct fg_test_msg *m;
	size_t n;

	snprintf(topic[0], sizeof(topic[0]), "%s.a", tag);
	snprintf(topic[1], sizeof(topic[1]), "%s.d", tag);
	n = fg_test_cluster_read(&kc, topics, PARTS, 10000, &m);
	for (size_t i = 0; i < n; i++) {
		if (a->n == a->cap) {
			a->cap = a->cap ? a->cap * 2 : 4096;
			a->v = realloc(a->v, a->cap * sizeof(*a->v));
			assert_non_null(a->v);
		}
		struct out *o = &a->v[a->n++];
		fg_test_output_source(m[i].payload, m[i].len, m[i].topic == 1, &o->src_part,
				      &o->src_off, NULL, 0);
		assert_true(o->src_part >= 0 && o->src_part < PARTS);
		assert_true(o->src_off >= 0 && o->src_off < COUNT / PARTS);
		o->len = m[i].len;
		o->bytes = m[i].payload;
		m[i].payload = NULL;
	}
	fg_test_msgs_free(m, n);
}

static void answers_free(struct answers *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].bytes);
	free(a->v);
	free(a);
}

/*
 * Reads both output topics of tag and checks: repeated outputs of an input
 * are byte-identical. Returns the answers, with per_input counts.
 */
static struct answers *collect(const char *tag)
{
	struct answers *a = calloc(1, sizeof(*a));
	const struct out *first[PARTS][COUNT / PARTS] = { { 0 } };

	assert_non_null(a);
	read_outputs(tag, a);
	for (size_t i = 0; i < a->n; i++) {
		const struct out *o = &a->v[i];
		const struct out **f = &first[o->src_part][o->src_off];
		a->per_input[o->src_part][o->src_off]++;
		if (!*f) {
			*f = o;
			continue;
		}
		/* A repeat (at least once) must be the same bytes. */
		assert_int_equal(o->len, (*f)->len);
		assert_memory_equal(o->bytes, (*f)->bytes, o->len);
	}
	return a;
}

/* Every input has at least one output; returns how many have more than one. */
static size_t assert_all_answered(const struct answers *a)
{
	size_t repeated = 0, missing = 0;

	for (int p = 0; p < PARTS; p++)
		for (int o = 0; o < COUNT / PARTS; o++) {
			if (a->per_input[p][o] == 0 && missing++ < 10)
				print_message("input %d/%d (partition/offset) has no output\n", p, o);
			repeated += a->per_input[p][o] > 1;
		}
	if (missing)
		fail_msg("%zu inputs have no output", missing);
	return repeated;
}

/* The group's committed offsets never pass an input without an output. */
static void assert_commits_covered(const char *group, const struct answers *a, int want_end)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(PARTS);

	rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err));
	rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	assert_non_null(rk);
	for (int p = 0; p < PARTS; p++)
		rd_kafka_topic_partition_list_add(l, "in", p);
	assert_int_equal(rd_kafka_committed(rk, l, 10000), 0);
	for (int i = 0; i < l->cnt; i++) {
		int p = l->elems[i].partition;
		int64_t c = l->elems[i].offset;
		if (c < 0)
			c = 0; /* nothing committed */
		assert_true(c <= COUNT / PARTS);
		for (int64_t o = 0; o < c; o++)
			if (a->per_input[p][o] == 0)
				fail_msg("partition %d committed at %lld, but input %lld has no output", p,
					 (long long)c, (long long)o);
		if (want_end)
			assert_int_equal(c, COUNT / PARTS);
	}
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_destroy(rk);
}

struct run {
	const char *tag, *group;
	const char *const *extra; /* more key, value pairs, NULL-terminated */
	void *(*side)(void *);
	int rc;
	char err[1024];
};

/* The engine's configuration for a run: from "in" to <tag>.a / <tag>.d until every
 * assigned partition is read. */
static void configure(struct fg_config *c, const struct run *r)
{
	struct fg_config cfg;
	char err[1024], buf[64];

	fg_config_init(&cfg);
	assert_int_equal(fg_config_set(&cfg, "kafka.bootstrap.servers", bootstraps, err, sizeof(err)), 0);
	assert_int_equal(fg_config_set(&cfg, "kafka.group.id", r->group, err, sizeof(err)), 0);
	fg_config_set(&cfg, "input.topic", "in", err, sizeof(err));
	snprintf(buf, sizeof(buf), "%s.a", r->tag);
	fg_config_set(&cfg, "output.topic", buf, err, sizeof(err));
	snprintf(buf, sizeof(buf), "%s.d", r->tag);
	fg_config_set(&cfg, "deadletter.topic", buf, err, sizeof(err));
	fg_config_set(&cfg, "run.exit_on_eof", "true", err, sizeof(err));
	fg_config_set(&cfg, "run.progress_interval_ms", "0", err, sizeof(err));
	fg_config_set(&cfg, "run.batch_size", "100", err, sizeof(err));
	fg_config_set(&cfg, "run.batches", "6", err, sizeof(err));
	fg_config_set(&cfg, "run.workers", "2", err, sizeof(err));
	fg_config_set(&cfg, "run.flush_timeout_ms", "20000", err, sizeof(err));
	fg_config_set(&cfg, "run.connect_timeout_ms", "10000", err, sizeof(err));
	fg_config_set(&cfg, "kafka.log_level", "2", err, sizeof(err));
	/* Short fetch waits: a partition at its end is answered at once. */
	fg_config_set(&cfg, "kafka.fetch.wait.max.ms", "20", err, sizeof(err));
	/*
	 * One produce request in flight per broker. When a request fails and a
	 * later one for the same partition succeeds, the idempotent producer
	 * takes the failed one's messages as delivered (a real broker refuses
	 * a later sequence while an earlier one is missing). The mock checks
	 * no sequences for a producer without a transactional id, so those
	 * messages would be reported delivered and never written: a producer
	 * that wrote 51 messages through the mock, one request failing, had
	 * 51 delivery reports and 50 messages in the log (1 in flight: 51).
	 * Faults on a real cluster run with the default (tests/faults).
	 */
	fg_config_set(&cfg, "kafka.max.in.flight.requests.per.connection", "1", err,
		      sizeof(err));
	fg_config_set(&cfg, "data.dir", data_dir, err, sizeof(err));
	for (const char *const *kv = r->extra; kv && kv[0]; kv += 2)
		if (fg_config_set(&cfg, kv[0], kv[1], err, sizeof(err)))
			fail_msg("%s", err);
	*c = cfg;
}

static void run_engine(struct run *r)
{
	struct fg_config cfg;
	struct fg_pipeline_stats st;
	pthread_t t;

	fg_test_cluster_output_topics(&kc, r->tag, PARTS);
	configure(&cfg, r);
	fg_runner_stop = 0;
	fg_runner_done = 0;
	fg_runner_commits = 0;
	fg_runner_aborts = 0;
	fg_runner_cap_pauses = 0;
	if (r->side)
		assert_int_equal(pthread_create(&t, NULL, r->side, r), 0);
	r->rc = fg_runner_run(&cfg, &kc.reg, &st, r->err, sizeof(r->err));
	if (r->side)
		pthread_join(t, NULL);
	fg_config_fini(&cfg);
}

/* ---- at least once ------------------------------------------------------- */

static void test_request_errors_are_retried(void **state)
{
	(void)state;
	/* Auto-commit every 50 ms, so the errors meet commits in mid-stream. */
	static const char *const extra[] = { "kafka.auto.commit.interval.ms", "50", NULL };
	struct run r = { .tag = "reqerr", .group = "g-reqerr", .extra = extra };

	alarm(TEST_SECONDS);
	rd_kafka_mock_push_request_errors(kc.mc, API_PRODUCE, 6,
					  RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
					  RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
					  RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
					  RD_KAFKA_RESP_ERR__TRANSPORT,
					  RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
					  RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
	rd_kafka_mock_push_request_errors(kc.mc, API_FETCH, 5,
					  RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
					  RD_KAFKA_RESP_ERR__TRANSPORT,
					  RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH,
					  RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE,
					  RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
	rd_kafka_mock_push_request_errors(kc.mc, API_OFFSET_COMMIT, 5,
					  RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
					  RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
					  RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
					  RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
					  RD_KAFKA_RESP_ERR__TRANSPORT);
	run_engine(&r);
	if (r.rc)
		fail_msg("engine: %s", r.err);
	struct answers *a = collect(r.tag);
	size_t rep = assert_all_answered(a);
	/* A commit lost to an error may leave the group behind, never ahead. */
	assert_commits_covered(r.group, a, 0);
	print_message("request errors: %zu outputs, %zu inputs answered more than once\n", a->n,
		      rep);
	answers_free(a);
	alarm(0);
}

/* Takes broker 2 down once a quarter of the inputs are answered, then back up. */
static void *broker_flap(void *arg)
{
	(void)arg;
	while (fg_runner_done < COUNT / 4 && !fg_runner_stop)
		usleep(1000);
	rd_kafka_mock_broker_set_down(kc.mc, 2);
	usleep(1500 * 1000);
	rd_kafka_mock_broker_set_up(kc.mc, 2);
	return NULL;
}

static void test_broker_down_and_up_mid_stream(void **state)
{
	(void)state;
	struct run r = { .tag = "down", .group = "g-down", .side = broker_flap };

	alarm(TEST_SECONDS);
	run_engine(&r);
	if (r.rc)
		fail_msg("engine: %s", r.err);
	struct answers *a = collect(r.tag);
	assert_all_answered(a);
	assert_commits_covered(r.group, a, 1);
	answers_free(a);
	alarm(0);
}

static void test_undelivered_output_stops_and_restart_finishes(void **state)
{
	(void)state;
	/* The stopped member's session must lapse before the restart joins. */
	static const char *const extra[] = { "kafka.session.timeout.ms", "6000",
					     "kafka.heartbeat.interval.ms", "500", NULL };
	struct run r = { .tag = "crash", .group = "g-crash", .extra = extra };

	alarm(TEST_SECONDS);
	/* A permanent error: those outputs cannot be delivered. */
	rd_kafka_mock_push_request_errors(kc.mc, API_PRODUCE, 1,
					  RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
	run_engine(&r);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "not delivered"));
	struct answers *a = collect(r.tag);
	assert_commits_covered(r.group, a, 0); /* what was committed was answered */
	answers_free(a);

	/* The restart reads from the committed offsets and answers the rest. */
	run_engine(&r);
	if (r.rc)
		fail_msg("restart: %s", r.err);
	a = collect(r.tag);
	assert_all_answered(a);
	assert_commits_covered(r.group, a, 1);
	answers_free(a);
	alarm(0);
}

static pthread_t engine_thread;
static int gone_while_waiting; /* the consumer was waiting for a free batch */
static int gone_keep_cluster;  /* run_held: the brokers stay up */

/* Once outputs flow, holds broker 1's next produce response (every output
 * partition is led by broker 1, one request in flight) until every batch is
 * in flight and the consumer, holding more input, waits for one; then takes
 * every broker down (unless gone_keep_cluster) and stops the engine with
 * SIGTERM, delivered to the engine's thread as the kernel may deliver it
 * there. */
static void *hold_then_stop(void *arg)
{
	(void)arg;
	while (fg_runner_done < 1 && !fg_runner_stop)
		usleep(100);
	unsigned long long pauses = fg_runner_full_pauses;
	rd_kafka_mock_broker_push_request_error_rtts(kc.mc, 1, API_PRODUCE, 1,
						     RD_KAFKA_RESP_ERR_NO_ERROR, 5000);
	for (int i = 0; i < 4000 && fg_runner_full_pauses == pauses; i++)
		usleep(1000);
	gone_while_waiting = fg_runner_full_pauses != pauses;
	for (int b = 1; b <= 3 && !gone_keep_cluster; b++)
		rd_kafka_mock_broker_set_down(kc.mc, b);
	usleep(500 * 1000);
	pthread_kill(engine_thread, SIGTERM);
	return NULL;
}

/* Every output partition of tag on broker 1, where hold_then_stop holds a response. */
static void outputs_on_broker_1(const char *tag)
{
	char topic[64];

	fg_test_cluster_output_topics(&kc, tag, PARTS);
	for (int p = 0; p < PARTS; p++) {
		snprintf(topic, sizeof(topic), "%s.a", tag);
		rd_kafka_mock_partition_set_leader(kc.mc, topic, p, 1);
		snprintf(topic, sizeof(topic), "%s.d", tag);
		rd_kafka_mock_partition_set_leader(kc.mc, topic, p, 1);
	}
}

/* Runs r with hold_then_stop beside it (the cluster taken down, unless
 * keep_cluster) and brings the brokers back. */
static void run_held(struct run *r, int keep_cluster)
{
	gone_keep_cluster = keep_cluster;
	r->side = hold_then_stop;
	outputs_on_broker_1(r->tag);
	engine_thread = pthread_self();
	fg_runner_install_signals();
	run_engine(r);
	gone_keep_cluster = 0;
	for (int b = 1; b <= 3; b++)
		rd_kafka_mock_broker_set_up(kc.mc, b);
}

/* What both run_held tests rely on: the held response was consumed, so
 * nothing is left over for the next test, and the stop came while the
 * consumer waited for a free batch, the case both are for. */
static void assert_held_and_waited(void)
{
	size_t held;

	rd_kafka_mock_broker_error_stack_cnt(kc.mc, 1, API_PRODUCE, &held);
	assert_int_equal(held, 0);
	assert_true(gone_while_waiting);
}

/*
 * An operator stops an instance whose brokers went away: it must give up on
 * the outputs and the last commit within its timeouts, not wait for a
 * coordinator that does not answer. Two batches of 50: with the cluster gone
 * no batch comes back, and the consumer, holding more input than they take,
 * waits for one when the stop comes. The alarm() bound fails the test on a
 * hang. more: settings for the run, after (and over) these.
 */
static void stop_without_cluster(const char *tag, const char *const *more)
{
	const char *extra[32] = { "run.flush_timeout_ms", "2000", "run.exit_on_eof", "false",
				  "run.batches", "2", "run.batch_size", "50" };
	struct run r = { .tag = tag, .group = tag, .extra = extra };
	struct timespec t0, t1;
	size_t n = 8;

	for (; more && *more && n < 30; more++)
		extra[n++] = *more;
	alarm(TEST_SECONDS);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_held(&r, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_held_and_waited();
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("stopped without a cluster in %.1f s: %s\n", s, r.rc ? r.err : "clean");
	/* flush (2 s), the last commit (2 s), the close given up (5 s), and slack */
	assert_true(s < 25);
	/* outputs in flight when the cluster went could not be confirmed: said as such */
	if (r.rc)
		assert_true(strstr(r.err, "unacknowledged") || strstr(r.err, "not delivered"));
	alarm(0);
}

/* librdkafka 2.0.2 never finishes destroying a consumer whose cluster vanished
 * (not even after the brokers come back): the engine leaves it on its thread,
 * and LeakSanitizer reports that thread's memory at exit. The plain and TSan
 * builds run these tests. */
#ifdef __SANITIZE_ADDRESS__
#define SKIP_UNDER_ASAN() skip()
#else
#define SKIP_UNDER_ASAN() ((void)0)
#endif

#ifdef __SANITIZE_THREAD__
/*
 * The same consumer's broker threads end but are joined only by that
 * destroy, so TSan reports them as leaked at exit. Only this binary stops an
 * engine that way, so only it carries the suppression (read beside
 * tests/tsan.supp): a leaked client anywhere else is still reported.
 */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
	return "thread:librdkafka.so.1\n";
}
#endif

static void test_stop_returns_when_the_cluster_is_gone(void **state)
{
	(void)state;
	SKIP_UNDER_ASAN();
	stop_without_cluster("gone", NULL);
}

static void test_stop_returns_when_the_cluster_is_gone_and_the_queue_full(void **state)
{
	(void)state;
	/* The producer's local queue is full too: with no cluster, room would only
	 * come when messages time out (message.timeout.ms, 5 minutes). Sixteen
	 * batches of 20 wait for the producer: the stop gives up on room once
	 * for all of them, not once per batch (2 s each, past the bound). */
	static const char *const more[] = { "kafka.queue.buffering.max.messages", "20",
					     "run.batches", "16", "run.batch_size", "20", NULL };

	unsigned long long full = fg_kafka_sink_queue_full;

	SKIP_UNDER_ASAN();
	stop_without_cluster("gonefull", more);
	/* the case this test is for: the producer found its queue full */
	assert_true(fg_kafka_sink_queue_full > full);
}

/*
 * The input a stop gives back unassessed (the consumer was waiting for a free
 * batch) is read again: the stop still exits cleanly, its commit covers only
 * answered inputs, and a restart answers every input.
 */
static void test_stop_while_waiting_loses_nothing(void **state)
{
	(void)state;
	/* The stopped member's session must lapse before the restart joins. */
#define HELD_SESSION "kafka.session.timeout.ms", "6000", "kafka.heartbeat.interval.ms", "500"
	static const char *const extra[] = { "run.exit_on_eof", "false", "run.batches", "2",
					     "run.batch_size", "50", HELD_SESSION, NULL };
	static const char *const restart[] = { HELD_SESSION, NULL };
#undef HELD_SESSION
	struct run r = { .tag = "held", .group = "g-held", .extra = extra };

	alarm(TEST_SECONDS);
	run_held(&r, 1);
	if (r.rc)
		fail_msg("stopped while waiting: %s", r.err);
	assert_held_and_waited();
	struct answers *a = collect(r.tag);
	assert_commits_covered(r.group, a, 0);
	size_t first = a->n;
	answers_free(a);
	assert_true(first < COUNT); /* it did stop part-way */

	/* the restart reads from the committed offsets and answers the rest */
	r.side = NULL;
	r.extra = restart;
	run_engine(&r);
	if (r.rc)
		fail_msg("restart: %s", r.err);
	a = collect(r.tag);
	assert_all_answered(a);
	assert_commits_covered(r.group, a, 1);
	print_message("stopped while waiting: %zu outputs before the stop, %zu in all\n", first,
		      a->n);
	answers_free(a);
	alarm(0);
}

/* A second instance of the same group, started once a quarter of the inputs
 * are answered: the group rebalances partitions away from the first one. */
static struct run second;
static uint64_t second_in; /* inputs the second member assessed */
/* Small batches so that the first member is mid-stream when the second joins;
 * a short session so that the mock group settles in seconds. */
#define JOIN_KEYS                                                                      \
	"run.batch_size", "50", "kafka.session.timeout.ms", "3000",                    \
		"kafka.heartbeat.interval.ms", "300"
static const char *const join_second[] = { JOIN_KEYS, NULL };

static void *second_member(void *arg)
{
	struct run *first = arg;
	struct fg_config cfg;
	struct fg_pipeline_stats st;

	while (fg_runner_done < COUNT / 4 && !fg_runner_stop)
		usleep(1000);
	second = *first;
	second.side = NULL;
	second.extra = join_second; /* reads to the end */
	configure(&cfg, &second);
	second.rc = fg_runner_run(&cfg, &kc.reg, &st, second.err, sizeof(second.err));
	second_in = st.in;
	fg_config_fini(&cfg);
	return NULL;
}

static void test_second_member_joins_mid_stream(void **state)
{
	(void)state;
	/* The first member stops after half the inputs (and commits them inside
	 * its revocation), so the second one must take over partitions and finish
	 * the stream, whenever the group settles. */
	static const char *const extra[] = { JOIN_KEYS, "run.max_messages", "1500", NULL };
	struct run r = { .tag = "join", .group = "g-join", .extra = extra, .side = second_member };

	alarm(TEST_SECONDS);
	run_engine(&r);
	if (r.rc)
		fail_msg("first member: %s", r.err);
	if (second.rc)
		fail_msg("second member: %s", second.err);
	/* Partitions moved: the second member assessed part of the stream. */
	assert_true(second_in > 0);
	struct answers *a = collect(r.tag);
	size_t rep = assert_all_answered(a);
	/* Not necessarily at the end: a member's last commit can race the other's
	 * leaving (illegal generation), which leaves the group behind, never ahead. */
	assert_commits_covered(r.group, a, 0);
	print_message("two members: %zu outputs, %llu by the second, %zu inputs answered more "
		      "than once\n",
		      a->n, (unsigned long long)second_in, rep);
	answers_free(a);
	alarm(0);
}

/* ---- exactly once -------------------------------------------------------- */

static const char *const eos[] = { "processing.guarantee", "exactly_once",
				   "run.commit_interval_ms", "20", NULL };

static void test_eos_one_output_per_input_under_memory_cap(void **state)
{
	(void)state;
	/* The smallest cap allowed, well under a batch of inputs and outputs: the input is paused
	 * and resumed along the way, and nothing may be dropped. */
	static const char *const extra[] = { "processing.guarantee", "exactly_once",
					     "run.commit_interval_ms", "20",
					     "run.max_inflight_bytes", "65536", NULL };
	struct run r = { .tag = "eos", .group = "g-eos", .extra = extra };

	alarm(TEST_SECONDS);
	run_engine(&r);
	if (r.rc)
		fail_msg("engine: %s", r.err);
	assert_true(fg_runner_commits > 1);
	assert_int_equal(fg_runner_aborts, 0);
	assert_true(fg_runner_cap_pauses > 0);
	print_message("memory cap: input paused %llu times, %llu transactions\n",
		      (unsigned long long)fg_runner_cap_pauses,
		      (unsigned long long)fg_runner_commits);
	assert_int_equal(fg_runner_done, COUNT);
	struct answers *a = collect(r.tag);
	assert_int_equal(assert_all_answered(a), 0);
	assert_int_equal(a->n, COUNT);
	answers_free(a);
	alarm(0);
}

static void test_eos_retries_and_aborts_without_loss(void **state)
{
	(void)state;
	struct run r = { .tag = "eosfault", .group = "g-eosfault", .extra = eos };

	alarm(TEST_SECONDS);
	/* Retriable errors on the transaction APIs: retried, nothing aborted for them. */
	rd_kafka_mock_push_request_errors(kc.mc, API_INIT_PRODUCER_ID, 2,
					  RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
					  RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
	rd_kafka_mock_push_request_errors(kc.mc, API_ADD_PARTITIONS_TO_TXN, 2,
					  RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS,
					  RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
	rd_kafka_mock_push_request_errors(kc.mc, API_END_TXN, 3,
					  RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
					  RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
					  RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS);
	/* A permanent produce error inside a transaction makes it abortable: the
	 * engine aborts, rewinds the input and assesses those inputs again. */
	rd_kafka_mock_push_request_errors(kc.mc, API_PRODUCE, 1, RD_KAFKA_RESP_ERR_INVALID_RECORD);
	run_engine(&r);
	if (r.rc)
		fail_msg("engine: %s", r.err);
	assert_true(fg_runner_aborts >= 1);
	assert_true(fg_runner_commits > 0);
	assert_int_equal(fg_runner_done, COUNT); /* committed: each input once */
	struct answers *a = collect(r.tag);
	assert_all_answered(a);
	print_message("transaction faults: %llu aborted, %llu committed\n",
		      (unsigned long long)fg_runner_aborts, (unsigned long long)fg_runner_commits);
	answers_free(a);
	alarm(0);
}

static void test_eos_fenced_instance_stops(void **state)
{
	(void)state;
	struct run r = { .tag = "fenced", .group = "g-fenced", .extra = eos };

	alarm(TEST_SECONDS);
	/* What the coordinator answers a zombie once a newer producer registered
	 * its transactional.id (the mock does not fence by itself). */
	rd_kafka_mock_push_request_errors(kc.mc, API_END_TXN, 1, RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
	run_engine(&r);
	assert_int_equal(r.rc, -1);
	print_message("fenced: %s\n", r.err);
	assert_true(strcasestr(r.err, "fenced") != NULL);
	alarm(0);
}

static int setup(void **state)
{
	char err[512], cwd[4096];
	(void)state;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(data_dir, sizeof(data_dir), "%s/data", cwd);
	fg_test_cluster_start(&kc, cwd, PARTS, "2");
	bootstraps = kc.bootstraps;
	struct fg_refdata *rd = fg_refdata_load(data_dir, err, sizeof(err));
	assert_non_null(rd);
	/* Spread evenly and known: input i goes to partition i % PARTS. */
	fg_test_cluster_produce(&kc, rd, 21, COUNT, PARTS);
	fg_refstore_init(rd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fg_refstore_fini();
	fg_test_cluster_stop(&kc);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_errors_are_retried),
		cmocka_unit_test(test_broker_down_and_up_mid_stream),
		cmocka_unit_test(test_undelivered_output_stops_and_restart_finishes),
		cmocka_unit_test(test_second_member_joins_mid_stream),
		cmocka_unit_test(test_stop_returns_when_the_cluster_is_gone),
		cmocka_unit_test(test_stop_returns_when_the_cluster_is_gone_and_the_queue_full),
		cmocka_unit_test(test_stop_while_waiting_loses_nothing),
		cmocka_unit_test(test_eos_one_output_per_input_under_memory_cap),
		cmocka_unit_test(test_eos_retries_and_aborts_without_loss),
		cmocka_unit_test(test_eos_fenced_instance_stops),
	};
	/* FG_TEST_FILTER=test_eos_* runs some of them (a cmocka glob). */
	if (getenv("FG_TEST_FILTER"))
		cmocka_set_test_filter(getenv("FG_TEST_FILTER"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
