/*
 * cmd_bench.c: `floorgate bench`, what one machine sustains, for capacity
 * planning.
 *
 * DESIGN
 * One run, one process, the same generated traffic (20,000 framed
 * declarations from fg_gen, the mix `floorgate demo` uses: about 2%
 * invalid, 1% broken frames) for every measurement:
 *
 *   in-process   fg_pipeline_process on one thread (decl/s), the Avro C
 *                generic decode of the same bodies (the baseline), and the
 *                time per stage (decode, assess, encode). Rates are per
 *                second of the thread's CPU time, so they mean "one core"
 *                even when other processes share the machine.
 *   e2e          the real engine (fg_runner_run) between Kafka topics at
 *                full speed: a generator thread produces as fast as it can,
 *                the engine consumes, assesses and produces, a verifier
 *                thread reads the outputs back while they are made.
 *   null         the same Kafka work without the pipeline: the same input
 *                bytes consumed with the engine's consumer settings
 *                (rd_kafka_consume_batch_queue, offsets stored after
 *                delivery) and produced unchanged with its producer settings.
 *                e2e / null is what the assessment itself costs end to end.
 *   latency      the engine again at a fixed offered rate (half the e2e
 *                maximum unless --rate), paced by a token bucket; latency
 *                is from the generator's produce() call to the moment the
 *                verifier reads the output, matched through the output's
 *                source_partition/source_offset fields.
 *
 * Every broker phase has its own topics (a fresh embedded cluster on the
 * mock) and its own consumer group, positioned at the topics' current
 * ends, so phases never see each other's messages; on a real cluster the
 * phases share the configured topics and the positioning alone separates
 * them. Throughput is counted from acknowledged outputs (fg_runner_done)
 * over a window that opens half a second after the first one, so the
 * consumer group's join (3 s on the mock) is not counted.
 *
 * The embedded cluster keeps only about 5 MiB or 100k messages per
 * partition, so the generator never runs more than a bounded backlog
 * ahead of the acknowledged outputs, and the verifier reads concurrently.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#ifdef FG_MALLOC_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include "../core/fg_avrobin.h"
#include "../ingest/fg_frame.h"
#include "../ingest/fg_gen.h"
#include "../ingest/fg_kafka_source.h"
#include "../ingest/fg_schemas.h"
#include "../sinks/fg_kafka_sink.h"
#include "../pricing/fg_refstore.h"
#include "fg_cmd.h"
#include "fg_config.h"
#include "fg_runner.h"

#define BENCH_MESSAGES 20000
#define BENCH_BACKLOG_PER_PARTITION 5000 /* ~1.7 MB at ~330 B: well inside the mock's 5 MiB */
#define BENCH_MAX_PARTITIONS 4096
#define BENCH_WARM_S 0.5     /* after the first acknowledged output, before the window */
#define BENCH_START_TIMEOUT_S 60.0
#define BENCH_HEADROOM 1.30  /* capacity plan: 30% above the target rate */
#define BENCH_PARTITION_SHARE 0.5 /* a partition's rate stays under half a worker's */
#define BENCH_LAT_MAX_SAMPLES 20000000u
#define BENCH_MOCK_FETCH_WAIT_MS "5" /* see fg_cmd_bench() */

enum phase_kind { PHASE_E2E, PHASE_NULL, PHASE_LATENCY, PHASE_NULL_LATENCY, PHASE_SOAK };
#define PHASE_KINDS 5
static const char *const phase_names[PHASE_KINDS] = { "e2e", "null", "latency", "null latency",
						    "soak" };
#define BENCH_SOAK_SHARE 0.8   /* --soak: offered rate, share of the e2e maximum */
#define BENCH_SOAK_SAMPLES 256 /* RSS once a minute */

struct traffic_msg {
	uint8_t *bytes; /* framed */
	size_t len;
	const uint8_t *body; /* NULL when the frame is broken */
	size_t body_len;
	int decodes; /* the body decodes (the Avro C baseline reads only those) */
	char *key;
	size_t key_len;
};

struct bench_opts {
	double duration;
	double rate; /* 0: half the measured maximum */
	double target_rate;
	int64_t workers; /* 0: the configuration's run.workers */
	int partitions;
	int json;
	double soak;      /* seconds; 0: no soak phase */
	double soak_rate; /* 0: 80% of the measured maximum */
	int rounds;       /* e2e and null phases, alternating, this many of each; 0: auto */
};
#define BENCH_MAX_ROUNDS 20
#define BENCH_ROUNDS 3          /* by default, when each round gets... */
#define BENCH_MIN_ROUND_S 0.5   /* ...at least this much measuring time */
/* The in-process pipeline and its baseline take turns this many times each,
 * so a slow spell of the machine falls on both sides of the ratio. */
#define BENCH_INPROC_ROUNDS 5

/*
 * Where the cores go during a Kafka phase, by thread name: the engine's
 * own threads (the null pipeline's stand-ins in the null phase), every
 * client's librdkafka threads together, the embedded brokers, and the
 * bench's load generator, verifier and monitor.
 */
enum cpu_group { CPU_CONSUME, CPU_WORKERS, CPU_PRODUCE, CPU_CLIENTS, CPU_BROKERS, CPU_BENCH,
		 CPU_GROUPS };
static const char *const cpu_group_names[CPU_GROUPS] = {
	"consumer thread", "workers", "producer thread", "librdkafka threads",
	"embedded brokers", "generator and verifier",
};
static const char *const cpu_group_keys[CPU_GROUPS] = {
	"consumer", "workers", "producer", "librdkafka", "embedded_brokers", "bench",
};

/* Produce -> read-back latency over the inputs produced inside a window. */
struct lat_result {
	double achieved; /* inputs produced per second inside the window */
	double p50_ms, p99_ms, p999_ms, max_ms;
	double ack_p50_ms, ack_p99_ms;   /* produce -> input acknowledged by the broker */
	double emit_p50_ms, emit_p99_ms; /* produce -> output created (its CreateTime, 1 ms steps) */
	uint64_t samples, missing;
};

/*
 * The e2e and the null phases run in rounds, taking turns. Each round's rate
 * is kept; the kind's rate and cores are over all its rounds (round_add()
 * sums, rounds_end() divides by the summed measuring time).
 */
struct rounds {
	double rate;                    /* over all rounds */
	double round[BENCH_MAX_ROUNDS]; /* each round's */
	double n, window_s;             /* messages measured and measuring time, summed */
	double cores[CPU_GROUPS];       /* CPU s/s */
	uint64_t done, verified;        /* assessed (or passed on), read back */
};

struct bench {
	struct bench_opts o;
	struct fg_config cfg;
	struct fg_schema_registry reg;
	struct fg_refdata *rd; /* in-process runs and the generator's draw; ours */
	struct traffic_msg *msgs;
	size_t n_msgs;
	int mock; /* no kafka.bootstrap.servers given: embedded cluster per phase */
	int mock_fetch_wait; /* kafka.fetch.wait.max.ms was set for the mock */
	int tty;
	double t_start;
	/* results */
	double pipeline_rate, avro_rate, ns_decode, ns_assess, ns_encode;
	double pipeline_dead_share;
	/* in process, per round, and summed over the rounds */
	double pipeline_round[BENCH_INPROC_ROUNDS], avro_round[BENCH_INPROC_ROUNDS];
	uint64_t pipeline_n, avro_n, pipeline_in, pipeline_dead;
	double pipeline_cpu, avro_cpu;
	struct rounds e2e, null; /* full speed, through the broker */
	double lat_rate_offered;
	struct lat_result lat;      /* the engine at lat_rate_offered */
	struct lat_result null_lat; /* the null pipeline at the same rate */
	double cores_soak[CPU_GROUPS]; /* CPU s/s */
	/* [phase]: times the engine paused its input in the window, for want of a
	 * free batch and for run.max_inflight_bytes */
	unsigned long long pauses_full[PHASE_KINDS], pauses_cap[PHASE_KINDS];
	int32_t partitions_used;
	/* soak */
	double soak_offered, soak_achieved;
	double soak_rss_mb[BENCH_SOAK_SAMPLES]; /* [minute]: RSS at the end of it */
	double soak_heap_mb[BENCH_SOAK_SAMPLES]; /* [minute]: live heap bytes (jemalloc), -1: unknown */
	double soak_lag[BENCH_SOAK_SAMPLES]; /* [minute]: declarations produced, not yet acknowledged */
	int soak_n_rss;
	double soak_rss_start_mb, soak_rss_end_mb, soak_rss_max_mb;
	double soak_rss_peak1_mb; /* the largest RSS of the first minute */
};

struct phase {
	enum phase_kind kind;
	struct bench *b;
	double measure_s, rate;
	char bootstraps[1024];
	char in_topic[256], out_topic[256], dlq_topic[256], group[256];
	int32_t nparts;
	int64_t *in_start; /* [partition]: first offset of this phase */
	rd_kafka_topic_partition_list_t *verify_from;
	/* set by the monitor */
	_Atomic int started;     /* the engine acknowledged its first output */
	_Atomic int64_t win_from, win_to; /* ns, latency sample window (produce times) */
	_Atomic int gen_stop, engine_returned, verify_stop;
	_Atomic int gen_done, failed;
	_Atomic unsigned long long produced, verified, unmatched;
	char err[1024];
	/* latency: [partition][offset - in_start] in ns; 0 = not seen */
	int64_t **t_prod, **t_ack, **t_recv;
	int64_t **t_emit; /* the output's CreateTime, on the monotonic clock (ms steps) */
	int64_t real_minus_mono; /* ns, to put CreateTime on the monotonic clock */
	size_t cap_per_part;
	/* results */
	double rate_measured;
	double window_s; /* how long rate_measured was measured over */
	uint64_t done;   /* declarations the engine (or null pipeline) finished */
	double cores[CPU_GROUPS]; /* CPU seconds per second over the window, by group */
	unsigned long long pauses_full, pauses_cap; /* in the window */
};

/* Phases that sample produce -> read-back latency at a paced rate. */
static int is_latency(const struct phase *ph)
{
	return ph->kind == PHASE_LATENCY || ph->kind == PHASE_NULL_LATENCY;
}

/* Resident set size now (not the peak), in MB. */
static double rss_now_mb(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	fclose(f);
	return (double)resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

/*
 * Bytes the program has allocated and not freed, in MB, as jemalloc counts
 * them (engine, clients, load generator, verifier and, on the embedded
 * cluster, the brokers' logs); -1 when built with another allocator. RSS
 * minus this is what the allocator holds: free pages not yet returned.
 */
static double heap_now_mb(void)
{
#ifdef FG_MALLOC_JEMALLOC
	uint64_t epoch = 1;
	size_t allocated = 0, sz = sizeof(epoch);

	if (mallctl("epoch", &epoch, &sz, &epoch, sz))
		return -1;
	sz = sizeof(allocated);
	if (mallctl("stats.allocated", &allocated, &sz, NULL, 0))
		return -1;
	return (double)allocated / 1048576.0;
#else
	return -1;
#endif
}

static int cpu_group_of(const char *comm)
{
	if (strcmp(comm, "fg-consume") == 0)
		return CPU_CONSUME;
	if (strncmp(comm, "fg-worker", 9) == 0)
		return CPU_WORKERS;
	if (strcmp(comm, "fg-produce") == 0 || strcmp(comm, "fg-null-ack") == 0)
		return CPU_PRODUCE;
	if (strcmp(comm, "rdk:mock") == 0)
		return CPU_BROKERS;
	if (strncmp(comm, "rdk:", 4) == 0)
		return CPU_CLIENTS;
	if (strncmp(comm, "fgb-", 4) == 0)
		return CPU_BENCH;
	return -1; /* the reloader, the allocator's, ...: next to nothing */
}

/*
 * CPU seconds (user and system) the threads of this process alive now have
 * used, by group; 0 where /proc cannot tell. A phase's threads live through
 * its window, so the difference of two calls is what each group used.
 */
static void cpu_by_group(double out[CPU_GROUPS])
{
	const double tick = (double)sysconf(_SC_CLK_TCK);
	DIR *dir = opendir("/proc/self/task");
	struct dirent *de;

	memset(out, 0, sizeof(double) * CPU_GROUPS);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char path[300], line[1024], comm[32];
		unsigned long long ut = 0, st = 0;
		FILE *f;
		char *close_paren;
		int g;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		comm[strcspn(comm, "\n")] = '\0';
		if ((g = cpu_group_of(comm)) < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", de->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		/* pid (comm) state ppid ...: utime and stime are fields 14 and 15,
		 * the 12th and 13th after the comm's closing parenthesis. */
		if (fgets(line, sizeof(line), f) && (close_paren = strrchr(line, ')')) &&
		    sscanf(close_paren + 1,
			   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			   &st) == 2)
			out[g] += (double)(ut + st) / tick;
		fclose(f);
	}
	closedir(dir);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* CPU time of the calling thread: in-process rates are per core, whatever else runs. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts;
	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static double peak_rss_mb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

static void phase_fail(struct phase *ph, const char *fmt, const char *a)
{
	int expected = 0;
	if (atomic_compare_exchange_strong(&ph->failed, &expected, 1))
		snprintf(ph->err, sizeof(ph->err), fmt, a);
}

/* ---- traffic ------------------------------------------------------------ */

static int traffic_make(struct bench *b, char *errstr, size_t errstr_size)
{
	struct fg_gen_opts go = { .seed = 1, .invalid_per_mille = 20, .bad_frame_per_mille = 10,
				  .schema_id = 1, .date_from = 20240, .date_to = 20757 };
	struct fg_gen *g = fg_gen_create(b->rd, &go);
	struct fg_decoder *dec = fg_decoder_create(NULL, 0);
	const struct fg_schema_entry *e = fg_schema_registry_get(&b->reg, 1);
	struct fg_avrobin w = { 0 };
	struct fg_decl d;
	char key[64], msg[256];
	int rc = -1;

	b->msgs = calloc(BENCH_MESSAGES, sizeof(*b->msgs));
	if (!g || !dec || !b->msgs || fg_avrobin_init(&w, 1024))
		goto done;
	for (size_t i = 0; i < BENCH_MESSAGES; i++) {
		struct traffic_msg *m = &b->msgs[i];
		int32_t id;
		const char *why;
		if (fg_gen_next(g, 1, &w, key, sizeof(key)))
			goto done;
		m->bytes = malloc(w.len);
		m->key = strdup(key);
		if (!m->bytes || !m->key) {
			free(m->bytes);
			free(m->key);
			goto done;
		}
		memcpy(m->bytes, w.buf, w.len);
		m->len = w.len;
		m->key_len = strlen(key);
		b->n_msgs++;
		if (fg_frame_parse(m->bytes, m->len, &id, &m->body, &m->body_len, &why))
			m->body = NULL;
		else
			m->decodes = id == 1 && !fg_decoder_decode(dec, e, m->body, m->body_len, &d,
								   msg, sizeof(msg));
	}
	rc = 0;
done:
	if (rc)
		fg_errf(errstr, errstr_size, "out of memory generating traffic");
	fg_avrobin_fini(&w);
	fg_decoder_destroy(dec);
	fg_gen_destroy(g);
	return rc;
}

static void traffic_free(struct bench *b)
{
	for (size_t i = 0; i < b->n_msgs; i++) {
		free(b->msgs[i].bytes);
		free(b->msgs[i].key);
	}
	free(b->msgs);
	b->msgs = NULL;
	b->n_msgs = 0;
}

/* ---- in-process ------------------------------------------------------------ */

/* fg_pipeline_process over the traffic, one thread, for about secs: round `round`. */
/* Where the declarations came from, the topic's length counted as the
 * live runner counts it (once, not per message). */
static const struct fg_source_pos bench_src = { .topic = "declarations",
						 .topic_len = sizeof("declarations") - 1,
						 .partition = 0,
						 .index = -1 };

static int measure_pipeline(struct bench *b, int round, double secs, char *errstr,
			    size_t errstr_size)
{
	struct fg_pipeline pl;
	struct fg_source_pos src = bench_src; /* the offset moves per message */
	struct fg_output out;
	uint64_t n = 0;
	size_t i = 0;
	double t0, t;

	if (fg_pipeline_init(&pl, &b->reg, b->rd, (int32_t)b->cfg.assessment_schema_id,
			     (int32_t)b->cfg.deadletter_schema_id, errstr, errstr_size))
		return -1;
	/* One untimed pass: buffers grow to size, caches fill. */
	for (size_t k = 0; k < b->n_msgs; k++)
		if (fg_pipeline_process(&pl, b->msgs[k].bytes, b->msgs[k].len, NULL, &src, &out))
			goto oom;
	uint64_t in0 = pl.stats.in, dead0 = pl.stats.dead;
	double c0 = cpu_s();
	t0 = now_s();
	do {
		for (int k = 0; k < 1024; k++) {
			const struct traffic_msg *m = &b->msgs[i];
			src.offset = (int64_t)n++;
			if (++i == b->n_msgs)
				i = 0;
			if (fg_pipeline_process(&pl, m->bytes, m->len, NULL, &src, &out))
				goto oom;
		}
		t = now_s();
	} while (t - t0 < secs);
	double cpu = cpu_s() - c0;
	b->pipeline_round[round] = (double)n / cpu;
	b->pipeline_n += n;
	b->pipeline_cpu += cpu;
	b->pipeline_in += pl.stats.in - in0;
	b->pipeline_dead += pl.stats.dead - dead0;
	fg_pipeline_fini(&pl);
	return 0;
oom:
	fg_pipeline_fini(&pl);
	fg_errf(errstr, errstr_size, "out of memory in the pipeline");
	return -1;
}

/* The baseline: Avro C's generic decode of the same bodies into a reused value
 * (those that decode: the few truncated on purpose are left out); round `round`. */
static int measure_avro(struct bench *b, int round, double secs, char *errstr,
			size_t errstr_size)
{
	const struct fg_schema_entry *e = fg_schema_registry_get(&b->reg, 1);
	avro_schema_t schema = NULL;
	avro_value_iface_t *iface = NULL;
	avro_reader_t r = avro_reader_memory("", 0);
	avro_value_t v;
	int have_v = 0, rc = -1;
	uint64_t n = 0;
	size_t i = 0;
	double t0, t;

	schema = e ? avro_schema_incref(e->schema)
		   : fg_schemas_parse(fg_schema_text_declaration, errstr, errstr_size);
	if (!schema || !r || !(iface = avro_generic_class_from_schema(schema)) ||
	    avro_generic_value_new(iface, &v)) {
		fg_errf(errstr, errstr_size, "cannot set up Avro C: %s", avro_strerror());
		goto done;
	}
	have_v = 1;
	/* One untimed pass, as for the pipeline: the value's arrays grow to size. */
	for (size_t k = 0; k < b->n_msgs; k++)
		if (b->msgs[k].decodes) {
			avro_reader_memory_set_source(r, (const char *)b->msgs[k].body,
						      (int64_t)b->msgs[k].body_len);
			avro_value_read(r, &v);
		}
	double c0 = cpu_s();
	t0 = now_s();
	do {
		for (int k = 0; k < 1024; k++) {
			const struct traffic_msg *m = &b->msgs[i];
			if (++i == b->n_msgs)
				i = 0;
			if (!m->decodes)
				continue; /* Avro C leaks what it read of a truncated body */
			avro_reader_memory_set_source(r, (const char *)m->body, (int64_t)m->body_len);
			avro_value_read(r, &v);
			n++;
		}
		t = now_s();
	} while (t - t0 < secs);
	double cpu = cpu_s() - c0;
	b->avro_round[round] = (double)n / cpu;
	b->avro_n += n;
	b->avro_cpu += cpu;
	rc = 0;
done:
	if (have_v)
		avro_value_decref(&v);
	if (iface)
		avro_value_iface_decref(iface);
	if (schema)
		avro_schema_decref(schema);
	if (r)
		avro_reader_free(r);
	return rc;
}

/* The pipeline's three stages timed one by one (clock reads included). */
static int measure_stages(struct bench *b, double secs, char *errstr, size_t errstr_size)
{
	struct fg_decoder *dec = fg_decoder_create(errstr, errstr_size);
	struct fg_encoder *enc = fg_encoder_create((int32_t)b->cfg.assessment_schema_id,
						   (int32_t)b->cfg.deadletter_schema_id, errstr,
						   errstr_size);
	struct fg_assessment as = { 0 };
	struct fg_source_pos src = bench_src; /* the offset moves per message */
	struct fg_decl d;
	struct fg_encoded out;
	char msg[512];
	int64_t t_dec = 0, t_as = 0, t_enc = 0;
	uint64_t n = 0;
	size_t i = 0;
	double t0 = now_s();
	int rc = -1;

	if (!dec || !enc)
		goto done;
	while (now_s() - t0 < secs) {
		for (int k = 0; k < 256; k++) {
			const struct traffic_msg *m = &b->msgs[i];
			const struct fg_schema_entry *e = NULL;
			const uint8_t *body;
			size_t len;
			int32_t id;
			const char *why;
			enum fg_reason reason = FG_REASON_NONE;
			int decoded = 0;
			src.offset = (int64_t)n++;
			if (++i == b->n_msgs)
				i = 0;
			int64_t a = now_ns();
			if (fg_frame_parse(m->bytes, m->len, &id, &body, &len, &why))
				reason = FG_REASON_DECODE_ERROR;
			else if (!(e = fg_schema_registry_get(&b->reg, id)))
				reason = FG_REASON_UNKNOWN_SCHEMA;
			else if (fg_decoder_decode(dec, e, body, len, &d, msg, sizeof(msg)))
				reason = FG_REASON_DECODE_ERROR;
			else
				decoded = 1;
			int64_t c = now_ns();
			if (decoded) {
				reason = fg_assess_validate(&as, b->rd, &d, msg, sizeof(msg));
				if (reason == FG_REASON_NONE && fg_assess_run(&as, b->rd, &d))
					goto done;
			}
			int64_t e2 = now_ns();
			int bad = reason == FG_REASON_NONE
					  ? fg_encoder_assessment(enc, &as, &src, &out)
					  : fg_encoder_dead_letter(enc, reason, msg, m->bytes, m->len,
								   decoded ? &d : NULL,
								   b->rd->fingerprint, &src, &out);
			int64_t f = now_ns();
			if (bad)
				goto done;
			t_dec += c - a;
			t_as += e2 - c;
			t_enc += f - e2;
		}
	}
	b->ns_decode = (double)t_dec / (double)n;
	b->ns_assess = (double)t_as / (double)n;
	b->ns_encode = (double)t_enc / (double)n;
	rc = 0;
done:
	if (rc && errstr && !*errstr)
		fg_errf(errstr, errstr_size, "the stage measurement failed");
	fg_assessment_fini(&as);
	fg_encoder_destroy(enc);
	fg_decoder_destroy(dec);
	return rc;
}

/* ---- Kafka clients ---------------------------------------------------------- */

/* A configuration for the bench's own clients (generator, verifier): the
 * phase's brokers and the user's kafka.* keys shared by both clients (such
 * as security settings), not the engine's consumer or producer tuning.
 * Returns NULL with a message. */
static rd_kafka_conf_t *client_conf(const struct phase *ph, char *errstr, size_t errstr_size)
{
	const struct fg_config *cfg = &ph->b->cfg;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char why[512];

	for (size_t i = 0; i < cfg->n_kafka; i++) {
		const struct fg_config_kv *kv = &cfg->kafka[i];
		if (kv->target != FG_CONFIG_BOTH)
			continue;
		if (rd_kafka_conf_set(conf, kv->key, kv->value, why, sizeof(why)) !=
		    RD_KAFKA_CONF_OK) {
			fg_errf(errstr, errstr_size, "kafka.%s: %s", kv->key, why);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	rd_kafka_conf_set(conf, "bootstrap.servers", ph->bootstraps, why, sizeof(why));
	rd_kafka_conf_set(conf, "log_level", "3", why, sizeof(why));
	return conf;
}

/* Partition count of topic, or -1 (*err set when the cluster did not answer). */
static int32_t topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
				rd_kafka_resp_err_t *err)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	int32_t n = -1;

	*err = RD_KAFKA_RESP_ERR_NO_ERROR;
	if (!rkt)
		return -1;
	*err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
	if (*err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (md->topic_cnt == 1 && !md->topics[0].err)
			n = md->topics[0].partition_cnt;
		rd_kafka_metadata_destroy(md);
	}
	rd_kafka_topic_destroy(rkt);
	return n;
}

/*
 * Finds the phase's partitions and where each topic ends now, commits those
 * ends as the phase's consumer group's starting offsets (the engine and the
 * null pipeline start there), and prepares the verifier's assignment.
 */
static int phase_position(struct phase *ph, char *errstr, size_t errstr_size)
{
	rd_kafka_conf_t *conf = client_conf(ph, errstr, errstr_size);
	rd_kafka_topic_partition_list_t *start = NULL;
	rd_kafka_t *rk = NULL;
	char why[512];
	int timeout = (int)ph->b->cfg.connect_timeout_ms, rc = -1;
	const char *topics[3] = { ph->in_topic, ph->out_topic, ph->dlq_topic };

	if (!conf)
		return -1;
	if (fg_config_rdkafka_set(conf, "group.id", ph->group, errstr, errstr_size) ||
	    fg_config_rdkafka_set(conf, "enable.auto.commit", "false", errstr, errstr_size)) {
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
	if (!rk) {
		fg_errf(errstr, errstr_size, "cannot create a Kafka client: %s", why);
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	ph->verify_from = rd_kafka_topic_partition_list_new(64);
	start = rd_kafka_topic_partition_list_new(64);
	for (int t = 0; t < 3; t++) {
		rd_kafka_resp_err_t merr;
		int32_t n = topic_partitions(rk, topics[t], timeout, &merr);
		if (merr) {
			fg_errf(errstr, errstr_size, "cannot reach Kafka at %s within %d ms: %s",
				ph->bootstraps, timeout, rd_kafka_err2str(merr));
			goto done;
		}
		if (n <= 0) {
			fg_errf(errstr, errstr_size,
				"topic \"%s\" does not exist on the cluster (create it, or name "
				"another with -X input.topic/output.topic/deadletter.topic)",
				topics[t]);
			goto done;
		}
		if (n > BENCH_MAX_PARTITIONS) {
			fg_errf(errstr, errstr_size, "topic \"%s\" has more than %d partitions",
				topics[t], BENCH_MAX_PARTITIONS);
			goto done;
		}
		if (t == 0) {
			ph->nparts = n;
			ph->in_start = calloc((size_t)n, sizeof(*ph->in_start));
			if (!ph->in_start) {
				fg_errf(errstr, errstr_size, "out of memory");
				goto done;
			}
		}
		for (int32_t p = 0; p < n; p++) {
			int64_t lo = 0, hi = 0;
			rd_kafka_resp_err_t err =
				rd_kafka_query_watermark_offsets(rk, topics[t], p, &lo, &hi, timeout);
			if (err) {
				fg_errf(errstr, errstr_size, "cannot read the end of %s [%d]: %s",
					topics[t], (int)p, rd_kafka_err2str(err));
				goto done;
			}
			if (t == 0) {
				ph->in_start[p] = hi;
				rd_kafka_topic_partition_list_add(start, topics[t], p)->offset = hi;
			} else {
				rd_kafka_topic_partition_list_add(ph->verify_from, topics[t], p)
					->offset = hi;
			}
		}
	}
	rd_kafka_resp_err_t err = rd_kafka_commit(rk, start, 0);
	if (err) {
		fg_errf(errstr, errstr_size, "cannot set the starting offsets of group %s: %s",
			ph->group, rd_kafka_err2str(err));
		goto done;
	}
	rc = 0;
done:
	if (start)
		rd_kafka_topic_partition_list_destroy(start);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return rc;
}

/* ---- generator ------------------------------------------------------------------ */

/* @locality: generator thread (served by its rd_kafka_poll). */
static void gen_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct phase *ph = opaque;

	(void)rk;
	if (m->err) {
		phase_fail(ph, "generator: a declaration was not delivered: %s",
			   rd_kafka_err2str(m->err));
		return;
	}
	if (!ph->t_prod || m->partition < 0 || m->partition >= ph->nparts)
		return;
	int64_t i = m->offset - ph->in_start[m->partition];
	if (i >= 0 && (size_t)i < ph->cap_per_part) {
		ph->t_prod[m->partition][i] = (int64_t)(intptr_t)m->_private;
		ph->t_ack[m->partition][i] = now_ns();
	}
}

/*
 * Produces the traffic round-robin over the input partitions: as fast as
 * it can (throughput phases), or (latency phase) a trickle until the engine
 * is consuming and then `rate` per second from a token bucket. Never more
 * than a bounded backlog ahead of the acknowledged outputs.
 */
static void *generator(void *arg)
{
	struct phase *ph = arg;
	struct bench *b = ph->b;
	const int paced = is_latency(ph) || ph->kind == PHASE_SOAK;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk = NULL;
	rd_kafka_topic_t *rkt = NULL;
	char err[512];
	uint64_t n = 0, backlog = (uint64_t)BENCH_BACKLOG_PER_PARTITION * (uint64_t)ph->nparts;
	uint64_t max_n = ph->t_prod ? (uint64_t)ph->cap_per_part * (uint64_t)ph->nparts : UINT64_MAX;
	size_t i = 0;
	/* Paced: the k-th message after the window's start is due at t_sched + k / rate
	 * (an open loop: a generator held up catches up, up to one second's worth). */
	int64_t t_sched = 0;
	uint64_t n_sched = 0;

	pthread_setname_np(pthread_self(), "fgb-generate");
	conf = client_conf(ph, err, sizeof(err));
	if (!conf || fg_config_rdkafka_set(conf, "linger.ms", "5", err, sizeof(err)) ||
	    fg_config_rdkafka_set(conf, "client.id", "floorgate-bench-generator", err, sizeof(err))) {
		phase_fail(ph, "generator: %s", err);
		if (conf)
			rd_kafka_conf_destroy(conf);
		goto done;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, gen_dr);
	rd_kafka_conf_set_opaque(conf, ph);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		phase_fail(ph, "generator: %s", err);
		goto done;
	}
	rkt = rd_kafka_topic_new(rk, ph->in_topic, NULL);
	while (!atomic_load(&ph->gen_stop) && !atomic_load(&ph->failed) && n < max_n) {
		int64_t t = now_ns();
		if (paced) {
			if (!atomic_load(&ph->started)) {
				/* Until the engine consumes: a trickle, so it has something to ack. */
				if (n >= 8 * (uint64_t)ph->nparts) {
					rd_kafka_poll(rk, 20);
					continue;
				}
			} else {
				if (t >= atomic_load(&ph->win_to))
					break;
				if (!t_sched)
					t_sched = t;
				double due = (double)(t - t_sched) * 1e-9 * ph->rate;
				if (due - (double)n_sched > ph->rate) {
					/* More than a second behind: this machine cannot offer
					 * the rate; the report shows what was achieved. */
					t_sched += (int64_t)((due - (double)n_sched - ph->rate) / ph->rate * 1e9);
					due = (double)n_sched + ph->rate;
				}
				if ((double)n_sched >= due) {
					/* The load generator may sleep: it is not floorgate. */
					rd_kafka_poll(rk, 0);
					sleep_s(fmin(((double)n_sched + 1.0 - due) / ph->rate, 0.001));
					continue;
				}
				n_sched++;
			}
		}
		if (n - atomic_load(&fg_runner_done) > backlog) {
			rd_kafka_poll(rk, 1);
			continue;
		}
		const struct traffic_msg *m = &b->msgs[i];
		int32_t part = (int32_t)(n % (uint64_t)ph->nparts);
		if (++i == b->n_msgs)
			i = 0;
		/* The traffic outlives the producer: no copy. The opaque is the produce time. */
		while (rd_kafka_produce(rkt, part, 0, m->bytes, m->len, m->key, m->key_len,
					(void *)(intptr_t)(paced ? now_ns() : t)) == -1) {
			if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
				phase_fail(ph, "generator: %s",
					   rd_kafka_err2str(rd_kafka_last_error()));
				goto done;
			}
			/* room comes as the cluster acknowledges; a phase that
			 * ends or fails meanwhile stops waiting for it */
			if (atomic_load(&ph->gen_stop) || atomic_load(&ph->failed))
				goto flush;
			rd_kafka_poll(rk, 1);
		}
		n++;
		atomic_store(&ph->produced, n);
		if ((n & 63) == 0)
			rd_kafka_poll(rk, 0);
	}
flush:
	/* a failed phase does not wait for what its cluster may never take */
	if (atomic_load(&ph->failed))
		rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_flush(rk, 30000);
done:
	if (rkt)
		rd_kafka_topic_destroy(rkt);
	if (rk)
		rd_kafka_destroy(rk);
	atomic_store(&ph->gen_done, 1);
	return NULL;
}

/* ---- verifier ----------------------------------------------------------------- */

/* Reads a zig-zag varint that ends just before *end, backwards; moves *end to its start. */
static int tail_long(const uint8_t *b, size_t *end, int64_t *v)
{
	size_t e = *end, s;
	uint64_t z = 0;

	if (e == 0 || (b[e - 1] & 0x80))
		return -1;
	s = e - 1;
	while (s > 0 && (b[s - 1] & 0x80) && e - s < 10)
		s--;
	for (size_t k = s; k < e; k++)
		z |= (uint64_t)(b[k] & 0x7f) << (7 * (k - s));
	*v = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
	*end = s;
	return 0;
}

/*
 * source_partition and source_offset of an output record, read from its
 * end: both schemas close with ["null",int] source_partition, ["null",long]
 * source_offset, then null unions only (assessment: source_index; dead
 * letter: source_file, source_index) when the input came from Kafka.
 */
static int source_of(const uint8_t *payload, size_t len, int dead, int32_t *p, int64_t *o)
{
	size_t end = len, nulls = dead ? 2 : 1;
	int64_t v;

	if (len < FG_FRAME_HEADER_LEN + 4 + nulls)
		return -1;
	for (size_t k = 0; k < nulls; k++)
		if (payload[--end] != 0)
			return -1;
	if (tail_long(payload, &end, o) || end < 1 || payload[--end] != 2)
		return -1;
	if (tail_long(payload, &end, &v) || end < 1 || payload[--end] != 2 || v < 0 ||
	    v > INT32_MAX)
		return -1;
	*p = (int32_t)v;
	return 0;
}

/* The null pipeline's outputs carry their input's position in this header. */
#define BENCH_SRC_HEADER "floorgate-bench-source"

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* The input partition and offset an output answers, or -1. */
static int output_source(const struct phase *ph, const struct fg_config *cfg,
			 const rd_kafka_message_t *m, int32_t *p, int64_t *o)
{
	const uint8_t *pl = m->payload;
	int32_t sid = -1;

	if (ph->kind == PHASE_NULL_LATENCY) {
		rd_kafka_headers_t *hdrs;
		const void *v;
		size_t n;
		if (rd_kafka_message_headers(m, &hdrs) ||
		    rd_kafka_header_get_last(hdrs, BENCH_SRC_HEADER, &v, &n) || n != 12)
			return -1;
		*p = (int32_t)get_be(v, 4);
		*o = (int64_t)get_be((const uint8_t *)v + 4, 8);
		return *p >= 0 ? 0 : -1;
	}
	if (m->len >= FG_FRAME_HEADER_LEN)
		sid = (int32_t)get_be(pl + 1, 4);
	int dead = sid == (int32_t)cfg->deadletter_schema_id;
	if (!dead && sid != (int32_t)cfg->assessment_schema_id)
		return -1;
	return source_of(pl, m->len, dead, p, o);
}

static void *verifier(void *arg)
{
	struct phase *ph = arg;
	const struct fg_config *cfg = &ph->b->cfg;
	char why[512], group[300];
	rd_kafka_conf_t *conf = client_conf(ph, why, sizeof(why));
	rd_kafka_t *rk = NULL;

	pthread_setname_np(pthread_self(), "fgb-verify");
	snprintf(group, sizeof(group), "%s.verifier", ph->group);
	if (!conf || fg_config_rdkafka_set(conf, "group.id", group, why, sizeof(why)) ||
	    fg_config_rdkafka_set(conf, "enable.auto.commit", "false", why, sizeof(why)) ||
	    fg_config_rdkafka_set(conf, "auto.offset.reset", "earliest", why, sizeof(why)) ||
	    fg_config_rdkafka_set(conf, "fetch.wait.max.ms", "5", why, sizeof(why)) ||
	    fg_config_rdkafka_set(conf, "client.id", "floorgate-bench-verifier", why, sizeof(why))) {
		if (conf)
			rd_kafka_conf_destroy(conf);
		phase_fail(ph, "verifier: %s", why);
		return NULL;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		phase_fail(ph, "verifier: %s", why);
		return NULL;
	}
	rd_kafka_assign(rk, ph->verify_from);
	while (!atomic_load(&ph->verify_stop)) {
		/* One message at a time: a batch call would wait for its timeout and
		 * add that wait to the latency being measured. */
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 20);
		if (!m)
			continue;
		int64_t t = now_ns();
		if (!m->err) {
			atomic_fetch_add_explicit(&ph->verified, 1, memory_order_relaxed);
			if (ph->t_recv) {
				int32_t p;
				int64_t o;
				if (output_source(ph, cfg, m, &p, &o) == 0 && p < ph->nparts &&
				    o >= ph->in_start[p] &&
				    (size_t)(o - ph->in_start[p]) < ph->cap_per_part) {
					int64_t *slot = &ph->t_recv[p][o - ph->in_start[p]];
					if (!*slot) {
						*slot = t;
						/* When floorgate produced it: its CreateTime. */
						int64_t ct = rd_kafka_message_timestamp(m, NULL);
						if (ct > 0)
							ph->t_emit[p][o - ph->in_start[p]] =
								ct * 1000000LL - ph->real_minus_mono;
					}
				} else {
					atomic_fetch_add_explicit(&ph->unmatched, 1,
								  memory_order_relaxed);
				}
			}
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return NULL;
}

/* ---- monitor ------------------------------------------------------------------ */

static void progress(struct phase *ph, double t0, unsigned long long *last_done,
		     double *last_t, int force)
{
	struct bench *b = ph->b;
	double t = now_s();
	unsigned long long done = atomic_load(&fg_runner_done);

	if (!b->tty || (!force && t - *last_t < 0.5))
		return;
	fprintf(stderr, "\rbench: %-7s %5.1f s  produced %10llu  done %10llu  %9.0f /s   ",
		phase_names[ph->kind], t - t0, (unsigned long long)atomic_load(&ph->produced),
		done, t > *last_t ? (double)(done - *last_done) / (t - *last_t) : 0.0);
	fflush(stderr);
	*last_done = done;
	*last_t = t;
}

/* The end of a soak minute: RSS, live heap and how far the engine is behind. */
static void soak_mark(struct phase *ph, double rss)
{
	struct bench *b = ph->b;
	int i = b->soak_n_rss++;
	unsigned long long produced = atomic_load(&ph->produced), done = atomic_load(&fg_runner_done);

	b->soak_rss_mb[i] = rss;
	b->soak_heap_mb[i] = heap_now_mb();
	b->soak_lag[i] = produced > done ? (double)(produced - done) : 0.0;
}

/* Soak: the largest RSS seen, and the RSS at the end of every minute. */
static void soak_sample(struct phase *ph, double elapsed)
{
	static double last;
	struct bench *b = ph->b;
	double t = now_s(), rss;

	if (t - last < 1.0)
		return;
	last = t;
	rss = rss_now_mb();
	if (rss > b->soak_rss_max_mb)
		b->soak_rss_max_mb = rss;
	if (b->soak_n_rss == 0 && rss > b->soak_rss_peak1_mb)
		b->soak_rss_peak1_mb = rss; /* up to and with the first minute's mark */
	if (b->soak_n_rss < BENCH_SOAK_SAMPLES && elapsed >= 60.0 * (b->soak_n_rss + 1))
		soak_mark(ph, rss);
}

/*
 * Opens the measuring window once outputs are acknowledged, closes it after
 * measure_s, then stops the generator and the engine (the latency phase
 * first lets the engine and the verifier finish what was offered).
 */
static void *monitor(void *arg)
{
	struct phase *ph = arg;
	double t0 = now_s(), t_a, t_b, last_t = t0;
	unsigned long long last_done = 0, d_a, d_b;
	double c_a[CPU_GROUPS], c_b[CPU_GROUPS];

	pthread_setname_np(pthread_self(), "fgb-monitor");
	while (atomic_load(&fg_runner_done) == 0) {
		if (atomic_load(&ph->engine_returned) || atomic_load(&ph->failed))
			goto stop;
		if (now_s() - t0 > BENCH_START_TIMEOUT_S) {
			phase_fail(ph, "nothing was processed within %s s", "60");
			goto stop;
		}
		progress(ph, t0, &last_done, &last_t, 0);
		sleep_s(0.01);
	}
	t_a = now_s() + BENCH_WARM_S;
	t_b = t_a + ph->measure_s;
	{
		/* produce times inside [win_from, win_to] are latency samples */
		int64_t base = now_ns();
		atomic_store(&ph->win_from, base + (int64_t)(BENCH_WARM_S * 1e9));
		atomic_store(&ph->win_to, base + (int64_t)((BENCH_WARM_S + ph->measure_s) * 1e9));
	}
	atomic_store(&ph->started, 1);
	while (now_s() < t_a) {
		if (atomic_load(&ph->engine_returned) || atomic_load(&ph->failed))
			goto stop;
		progress(ph, t0, &last_done, &last_t, 0);
		sleep_s(0.01);
	}
	cpu_by_group(c_a);
	unsigned long long pf = atomic_load(&fg_runner_full_pauses),
			   pc = atomic_load(&fg_runner_cap_pauses);
	d_a = atomic_load(&fg_runner_done);
	t_a = now_s();
	if (ph->kind == PHASE_SOAK)
		ph->b->soak_rss_start_mb = ph->b->soak_rss_max_mb = ph->b->soak_rss_peak1_mb =
			rss_now_mb();
	while (now_s() < t_b) {
		if (atomic_load(&ph->engine_returned) || atomic_load(&ph->failed))
			goto stop;
		progress(ph, t0, &last_done, &last_t, 0);
		if (ph->kind == PHASE_SOAK)
			soak_sample(ph, now_s() - t_a);
		sleep_s(0.01);
	}
	if (ph->kind == PHASE_SOAK) {
		struct bench *b = ph->b;
		b->soak_rss_end_mb = rss_now_mb();
		/* the last minute ends with the window */
		if (b->soak_n_rss < BENCH_SOAK_SAMPLES &&
		    now_s() - t_a >= 60.0 * (b->soak_n_rss + 1) - 1.0)
			soak_mark(ph, b->soak_rss_end_mb);
	}
	d_b = atomic_load(&fg_runner_done);
	t_b = now_s();
	cpu_by_group(c_b);
	ph->pauses_full = atomic_load(&fg_runner_full_pauses) - pf;
	ph->pauses_cap = atomic_load(&fg_runner_cap_pauses) - pc;
	ph->window_s = t_b - t_a;
	ph->rate_measured = (double)(d_b - d_a) / (t_b - t_a);
	for (int g = 0; g < CPU_GROUPS; g++)
		ph->cores[g] = (c_b[g] - c_a[g]) / (t_b - t_a);
	if (is_latency(ph)) {
		/* Let everything offered come out, and be read, before stopping. */
		double until = now_s() + 15.0;
		while (!atomic_load(&ph->gen_done) && now_s() < until)
			sleep_s(0.01);
		while (atomic_load(&fg_runner_done) < atomic_load(&ph->produced) &&
		       now_s() < until && !atomic_load(&ph->engine_returned))
			sleep_s(0.01);
		while (atomic_load(&ph->verified) < atomic_load(&ph->produced) && now_s() < until)
			sleep_s(0.01);
	}
	progress(ph, t0, &last_done, &last_t, 1);
stop:
	atomic_store(&ph->gen_stop, 1);
	fg_runner_stop = 1; /* a lock-free atomic: the engine's threads read it */
	return NULL;
}

/* ---- null pipeline -------------------------------------------------------------- */

struct null_batch {
	struct null_batch *next;
	rd_kafka_message_t **msgs;
	uint32_t n;
	_Atomic uint32_t pending;
	_Atomic int err;
};

struct null_engine {
	struct phase *ph;
	rd_kafka_t *c, *p;
	rd_kafka_queue_t *q;
	rd_kafka_topic_t *out;
	struct null_batch *batches;
	int nbatches;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct null_batch *head, *tail, *free; /* in flight (FIFO), free (stack) */
	int in_flight;
	_Atomic int stop;
	_Atomic int fatal;
};

/* @locality: whichever thread polls the producer (delivery reports). */
static void null_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct null_batch *b = m->_private;

	(void)rk;
	(void)opaque;
	if (m->err)
		atomic_store(&b->err, m->err);
	atomic_fetch_sub(&b->pending, 1);
}

/* Same store rule as the engine: offset+1 of the last message per partition. */
static int null_store(rd_kafka_t *c, rd_kafka_message_t **msgs, uint32_t n)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
	rd_kafka_resp_err_t err;

	fg_kafka_offsets_add(l, msgs, n);
	err = l->cnt ? rd_kafka_offsets_store(c, l) : RD_KAFKA_RESP_ERR_NO_ERROR;
	rd_kafka_topic_partition_list_destroy(l);
	return err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__STATE ? 0 : -1;
}

/* Completes acknowledged batches at the head, in order. Caller holds mu. */
static void null_complete(struct null_engine *ne)
{
	while (ne->head && atomic_load(&ne->head->pending) == 0) {
		struct null_batch *b = ne->head;
		if (atomic_load(&b->err) || null_store(ne->c, b->msgs, b->n)) {
			atomic_store(&ne->fatal, 1);
			return;
		}
		ne->head = b->next;
		if (!ne->head)
			ne->tail = NULL;
		for (uint32_t k = 0; k < b->n; k++)
			rd_kafka_message_destroy(b->msgs[k]);
		atomic_fetch_add(&fg_runner_done, b->n);
		b->n = 0;
		b->next = ne->free;
		ne->free = b;
		ne->in_flight--;
		pthread_cond_broadcast(&ne->cv);
	}
}

/* The delivery side: serves reports and retires batches (the engine's producer thread). */
static void *null_poller(void *arg)
{
	struct null_engine *ne = arg;

	pthread_setname_np(pthread_self(), "fg-null-ack");
	for (;;) {
		rd_kafka_poll(ne->p, 5);
		pthread_mutex_lock(&ne->mu);
		null_complete(ne);
		int idle = ne->in_flight == 0;
		pthread_mutex_unlock(&ne->mu);
		if ((idle && atomic_load(&ne->stop)) || atomic_load(&ne->fatal))
			break;
	}
	pthread_mutex_lock(&ne->mu);
	pthread_cond_broadcast(&ne->cv);
	pthread_mutex_unlock(&ne->mu);
	return NULL;
}

static void null_wait_idle(struct null_engine *ne)
{
	pthread_mutex_lock(&ne->mu);
	while (ne->in_flight > 0 && !atomic_load(&ne->fatal)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&ne->cv, &ne->mu, &ts);
	}
	pthread_mutex_unlock(&ne->mu);
}

/* @locality: the null pipeline's consumer thread (inside consume calls). */
static void null_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			   rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		null_wait_idle(opaque); /* what is in flight is delivered, then committed */
		rd_kafka_commit(rk, NULL, 0);
	}
	fg_kafka_rebalance_apply(rk, err, parts, "bench: null pipeline");
}

static void null_pause(struct null_engine *ne, int pause)
{
	rd_kafka_topic_partition_list_t *a = NULL;

	if (rd_kafka_assignment(ne->c, &a) || !a)
		return;
	if (a->cnt) {
		if (pause)
			rd_kafka_pause_partitions(ne->c, a);
		else
			rd_kafka_resume_partitions(ne->c, a);
	}
	rd_kafka_topic_partition_list_destroy(a);
}

/*
 * Produces an input's bytes and key unchanged; in the latency phase with its
 * partition and offset in a header, so the verifier can match it.
 */
static rd_kafka_resp_err_t null_produce(struct null_engine *ne, const rd_kafka_message_t *m,
					struct null_batch *b)
{
	uint8_t src[12];

	if (ne->ph->kind != PHASE_NULL_LATENCY)
		return rd_kafka_produce(ne->out, RD_KAFKA_PARTITION_UA, 0, m->payload, m->len, m->key,
					m->key_len, b) == 0
			       ? RD_KAFKA_RESP_ERR_NO_ERROR
			       : rd_kafka_last_error();
	put_be(src, (uint32_t)m->partition, 4);
	put_be(src + 4, (uint64_t)m->offset, 8);
	return rd_kafka_producev(ne->p, RD_KAFKA_V_RKT(ne->out),
				 RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
				 RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_KEY(m->key, m->key_len),
				 RD_KAFKA_V_OPAQUE(b),
				 RD_KAFKA_V_HEADER(BENCH_SRC_HEADER, src, (ssize_t)sizeof(src)),
				 RD_KAFKA_V_END);
}

/*
 * Consumes the phase's input with the engine's consumer settings and
 * produces every message's bytes and key unchanged to the output topic
 * with the engine's producer settings, storing offsets after delivery.
 * Runs until fg_runner_stop. Returns 0 or -1 with a message.
 */
static int null_run(struct phase *ph, char *errstr, size_t errstr_size)
{
	const struct fg_config *cfg = &ph->b->cfg;
	struct null_engine ne;
	rd_kafka_conf_t *cc = NULL, *pc = NULL;
	rd_kafka_topic_partition_list_t *sub;
	rd_kafka_message_t **msgs = NULL;
	pthread_t poller;
	int started = 0, rc = -1;
	char why[512];
	size_t bs = (size_t)cfg->batch_size;

	memset(&ne, 0, sizeof(ne));
	ne.ph = ph;
	pthread_mutex_init(&ne.mu, NULL);
	pthread_cond_init(&ne.cv, NULL);
	ne.nbatches = (int)cfg->batches;
	ne.batches = calloc((size_t)ne.nbatches, sizeof(*ne.batches));
	msgs = calloc(bs, sizeof(*msgs));
	if (!ne.batches || !msgs)
		goto oom;
	for (int i = 0; i < ne.nbatches; i++) {
		ne.batches[i].msgs = calloc(bs, sizeof(*ne.batches[i].msgs));
		if (!ne.batches[i].msgs)
			goto oom;
		ne.batches[i].next = ne.free;
		ne.free = &ne.batches[i];
	}

	/* The engine's own consumer and producer settings (cfg names the phase's
	 * brokers and group, as for the engine). */
	cc = rd_kafka_conf_new();
	pc = rd_kafka_conf_new();
	if (!cc || !pc)
		goto oom;
	if (fg_config_rdkafka_set(cc, "log_level", "3", errstr, errstr_size) ||
	    fg_kafka_source_settings(cc, cfg, errstr, errstr_size) ||
	    fg_config_rdkafka_set(pc, "log_level", "3", errstr, errstr_size) ||
	    fg_kafka_sink_settings(pc, cfg, errstr, errstr_size))
		goto done;
	rd_kafka_conf_set_rebalance_cb(cc, null_rebalance);
	rd_kafka_conf_set_opaque(cc, &ne);
	rd_kafka_conf_set_dr_msg_cb(pc, null_dr);

	ne.c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, why, sizeof(why));
	if (!ne.c) {
		fg_errf(errstr, errstr_size, "null pipeline consumer: %s", why);
		goto done;
	}
	cc = NULL;
	ne.p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, why, sizeof(why));
	if (!ne.p) {
		fg_errf(errstr, errstr_size, "null pipeline producer: %s", why);
		goto done;
	}
	pc = NULL;
	ne.out = rd_kafka_topic_new(ne.p, ph->out_topic, NULL);
	rd_kafka_poll_set_consumer(ne.c);
	ne.q = rd_kafka_queue_get_consumer(ne.c);
	sub = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(sub, ph->in_topic, RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t err = rd_kafka_subscribe(ne.c, sub);
	rd_kafka_topic_partition_list_destroy(sub);
	if (err || !ne.out) {
		fg_errf(errstr, errstr_size, "null pipeline: cannot subscribe: %s",
			rd_kafka_err2str(err ? err : rd_kafka_last_error()));
		goto done;
	}
	if (pthread_create(&poller, NULL, null_poller, &ne)) {
		fg_errf(errstr, errstr_size, "cannot start a thread");
		goto done;
	}
	started = 1;

	while (!fg_runner_stop && !atomic_load(&ne.fatal)) {
		struct null_batch *b;
		int paused = 0;

		pthread_mutex_lock(&ne.mu);
		/* a stop ends the wait, as in the engine: with the cluster gone no
		 * batch may come back */
		while (!ne.free && !atomic_load(&ne.fatal) && !fg_runner_stop) {
			if (!paused) {
				/* The engine pauses when every batch is in use: so do we. */
				pthread_mutex_unlock(&ne.mu);
				null_pause(&ne, 1);
				paused = 1;
				pthread_mutex_lock(&ne.mu);
				continue;
			}
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 10000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&ne.cv, &ne.mu, &ts);
		}
		b = ne.free;
		if (b)
			ne.free = b->next;
		pthread_mutex_unlock(&ne.mu);
		if (paused)
			null_pause(&ne, 0);
		if (!b)
			break;

		/* As the engine's source: wait for one, then take what is there. */
		ssize_t n = rd_kafka_consume_batch_queue(ne.q, 100, msgs, 1);
		if (n == 1 && bs > 1) {
			ssize_t more = rd_kafka_consume_batch_queue(ne.q, 0, msgs + 1, bs - 1);
			if (more > 0)
				n += more;
		}
		b->n = 0;
		for (ssize_t k = 0; k < n; k++) {
			if (msgs[k]->err)
				rd_kafka_message_destroy(msgs[k]);
			else
				b->msgs[b->n++] = msgs[k];
		}
		if (b->n == 0) {
			pthread_mutex_lock(&ne.mu);
			b->next = ne.free;
			ne.free = b;
			pthread_mutex_unlock(&ne.mu);
			continue;
		}
		/* Counted before the first produce: reports may come at once. */
		atomic_store(&b->pending, b->n);
		atomic_store(&b->err, 0);
		b->next = NULL;
		pthread_mutex_lock(&ne.mu);
		if (ne.tail)
			ne.tail->next = b;
		else
			ne.head = b;
		ne.tail = b;
		ne.in_flight++;
		pthread_mutex_unlock(&ne.mu);
		for (uint32_t k = 0; k < b->n; k++) {
			rd_kafka_message_t *m = b->msgs[k];
			rd_kafka_resp_err_t e;
			while ((e = null_produce(&ne, m, b)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
				if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
					atomic_store(&b->err, e);
					atomic_fetch_sub(&b->pending, b->n - k);
					k = b->n;
					break;
				}
				if (fg_runner_stop || atomic_load(&ne.fatal)) {
					/* As the engine: a stop does not wait for room,
					 * and what was not queued is given back (its
					 * offsets are not stored). Fewer than pending
					 * are queued, so the batch is not yet complete
					 * and b->n is still this thread's. */
					uint32_t n_all = b->n;
					for (uint32_t j = k; j < n_all; j++)
						rd_kafka_message_destroy(b->msgs[j]);
					b->n = k;
					atomic_fetch_sub(&b->pending, n_all - k);
					k = n_all;
					break;
				}
				rd_kafka_poll(ne.p, 10);
			}
		}
	}
	null_wait_idle(&ne);
	rc = atomic_load(&ne.fatal) ? -1 : 0;
	if (rc)
		fg_errf(errstr, errstr_size, "null pipeline: an output was not delivered");
done:
	if (started) {
		atomic_store(&ne.stop, 1);
		pthread_join(poller, NULL);
	}
	if (ne.p)
		rd_kafka_flush(ne.p, 10000);
	if (ne.c) {
		rd_kafka_commit(ne.c, NULL, 0);
		if (ne.q)
			rd_kafka_queue_destroy(ne.q);
		rd_kafka_consumer_close(ne.c);
	}
	/* Messages of batches that never completed (a failure) are ours to free. */
	for (struct null_batch *b = ne.head; b; b = b->next)
		for (uint32_t k = 0; k < b->n; k++)
			rd_kafka_message_destroy(b->msgs[k]);
	if (ne.out)
		rd_kafka_topic_destroy(ne.out);
	if (ne.p)
		rd_kafka_destroy(ne.p);
	if (ne.c)
		rd_kafka_destroy(ne.c);
	if (cc)
		rd_kafka_conf_destroy(cc);
	if (pc)
		rd_kafka_conf_destroy(pc);
	for (int i = 0; ne.batches && i < ne.nbatches; i++)
		free(ne.batches[i].msgs);
	free(ne.batches);
	free(msgs);
	pthread_mutex_destroy(&ne.mu);
	pthread_cond_destroy(&ne.cv);
	return rc;
oom:
	fg_errf(errstr, errstr_size, "out of memory");
	goto done;
}

/* ---- one broker phase -------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Percentiles of produce -> read-back over the inputs produced inside the window. */
static void latency_summary(struct phase *ph)
{
	struct lat_result *r = ph->kind == PHASE_NULL_LATENCY ? &ph->b->null_lat : &ph->b->lat;
	int64_t from = atomic_load(&ph->win_from), to = atomic_load(&ph->win_to);
	size_t n = 0, cap = (size_t)ph->nparts * ph->cap_per_part;
	int64_t *lat = malloc((cap ? cap : 1) * sizeof(*lat));
	int64_t *ack = malloc((cap ? cap : 1) * sizeof(*ack));
	int64_t *emit = malloc((cap ? cap : 1) * sizeof(*emit));
	uint64_t missing = 0, offered = 0;

	if (!lat || !ack || !emit) {
		free(lat);
		free(ack);
		free(emit);
		return;
	}
	for (int32_t p = 0; p < ph->nparts; p++)
		for (size_t i = 0; i < ph->cap_per_part; i++) {
			int64_t tp = ph->t_prod[p][i], tr = ph->t_recv[p][i];
			if (!tp || tp < from || tp > to)
				continue;
			offered++;
			if (!tr) {
				missing++;
				continue;
			}
			ack[n] = ph->t_ack[p][i] ? ph->t_ack[p][i] - tp : 0;
			emit[n] = ph->t_emit[p][i] ? ph->t_emit[p][i] - tp : 0;
			lat[n++] = tr - tp;
		}
	r->samples = n;
	r->missing = missing;
	r->achieved = to > from ? (double)offered / ((double)(to - from) / 1e9) : 0;
	if (n) {
		qsort(lat, n, sizeof(*lat), cmp_i64);
#define PCT(q) ((double)lat[(size_t)fmin((double)(n - 1), ceil((q) * (double)n) - 1)] / 1e6)
		r->p50_ms = PCT(0.50);
		r->p99_ms = PCT(0.99);
		r->p999_ms = PCT(0.999);
#undef PCT
		r->max_ms = (double)lat[n - 1] / 1e6;
		qsort(ack, n, sizeof(*ack), cmp_i64);
		r->ack_p50_ms = (double)ack[n / 2] / 1e6;
		r->ack_p99_ms = (double)ack[(size_t)fmin((double)(n - 1), ceil(0.99 * (double)n) - 1)] / 1e6;
		qsort(emit, n, sizeof(*emit), cmp_i64);
		r->emit_p50_ms = (double)emit[n / 2] / 1e6;
		r->emit_p99_ms = (double)emit[(size_t)fmin((double)(n - 1), ceil(0.99 * (double)n) - 1)] / 1e6;
	}
	free(lat);
	free(ack);
	free(emit);
}

static int phase_alloc_latency(struct phase *ph)
{
	/* trickle + (warm-up + window + slack) x rate, spread round-robin */
	double total = 64.0 * ph->nparts + ph->rate * (BENCH_WARM_S + ph->measure_s + 1.0);
	if (total > BENCH_LAT_MAX_SAMPLES)
		total = BENCH_LAT_MAX_SAMPLES;
	ph->cap_per_part = (size_t)(total / ph->nparts) + 16;
	ph->t_prod = calloc((size_t)ph->nparts, sizeof(*ph->t_prod));
	ph->t_ack = calloc((size_t)ph->nparts, sizeof(*ph->t_ack));
	ph->t_recv = calloc((size_t)ph->nparts, sizeof(*ph->t_recv));
	ph->t_emit = calloc((size_t)ph->nparts, sizeof(*ph->t_emit));
	if (!ph->t_prod || !ph->t_ack || !ph->t_recv || !ph->t_emit)
		return -1;
	struct timespec rt, mt;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	ph->real_minus_mono = ((int64_t)rt.tv_sec - (int64_t)mt.tv_sec) * 1000000000LL +
			      (rt.tv_nsec - mt.tv_nsec);
	for (int32_t p = 0; p < ph->nparts; p++) {
		ph->t_prod[p] = calloc(ph->cap_per_part, sizeof(int64_t));
		ph->t_ack[p] = calloc(ph->cap_per_part, sizeof(int64_t));
		ph->t_recv[p] = calloc(ph->cap_per_part, sizeof(int64_t));
		ph->t_emit[p] = calloc(ph->cap_per_part, sizeof(int64_t));
		if (!ph->t_prod[p] || !ph->t_ack[p] || !ph->t_recv[p] || !ph->t_emit[p])
			return -1;
	}
	return 0;
}

static void phase_free(struct phase *ph)
{
	for (int32_t p = 0; ph->t_prod && p < ph->nparts; p++)
		free(ph->t_prod[p]);
	for (int32_t p = 0; ph->t_ack && p < ph->nparts; p++)
		free(ph->t_ack[p]);
	for (int32_t p = 0; ph->t_recv && p < ph->nparts; p++)
		free(ph->t_recv[p]);
	for (int32_t p = 0; ph->t_emit && p < ph->nparts; p++)
		free(ph->t_emit[p]);
	free(ph->t_emit);
	free(ph->t_prod);
	free(ph->t_ack);
	free(ph->t_recv);
	free(ph->in_start);
	if (ph->verify_from)
		rd_kafka_topic_partition_list_destroy(ph->verify_from);
}

static int run_phase(struct bench *b, struct phase *ph, char *errstr, size_t errstr_size)
{
	struct fg_config *cfg = &b->cfg;
	rd_kafka_t *mrk = NULL;
	rd_kafka_mock_cluster_t *mc = NULL;
	pthread_t tg, tv, tm;
	int have_g = 0, have_v = 0, have_m = 0, rc = -1;
	struct fg_pipeline_stats st;
	char err[1024];
	static unsigned phase_no; /* phases run one at a time, from the main thread */

	ph->b = b;
	/* A group of its own per phase: rounds of one kind can start within the
	 * same second, so the name also counts the phases. */
	snprintf(ph->group, sizeof(ph->group), "floorgate-bench-%s-%ld-%lld-%u",
		 phase_names[ph->kind], (long)getpid(), (long long)time(NULL), ++phase_no);
	if (b->mock) {
		/* A fresh embedded cluster per phase: its own topics, retention and memory. */
		rd_kafka_conf_t *mconf = rd_kafka_conf_new();
		rd_kafka_conf_set(mconf, "log_level", "3", err, sizeof(err));
		mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, err, sizeof(err));
		if (!mrk || !(mc = rd_kafka_mock_cluster_new(mrk, 3))) {
			fg_errf(errstr, errstr_size, "cannot start the embedded Kafka cluster");
			goto done;
		}
		snprintf(ph->bootstraps, sizeof(ph->bootstraps), "%s",
			 rd_kafka_mock_cluster_bootstraps(mc));
		snprintf(ph->in_topic, sizeof(ph->in_topic), "bench.%s.declarations",
			 phase_names[ph->kind]);
		snprintf(ph->out_topic, sizeof(ph->out_topic), "bench.%s.assessments",
			 phase_names[ph->kind]);
		snprintf(ph->dlq_topic, sizeof(ph->dlq_topic), "bench.%s.deadletters",
			 phase_names[ph->kind]);
		rd_kafka_mock_topic_create(mc, ph->in_topic, b->o.partitions, 3);
		rd_kafka_mock_topic_create(mc, ph->out_topic, b->o.partitions, 3);
		rd_kafka_mock_topic_create(mc, ph->dlq_topic, b->o.partitions, 3);
	} else {
		snprintf(ph->bootstraps, sizeof(ph->bootstraps), "%s",
			 fg_config_kafka_get(cfg, "bootstrap.servers"));
		snprintf(ph->in_topic, sizeof(ph->in_topic), "%s", cfg->input_topic);
		snprintf(ph->out_topic, sizeof(ph->out_topic), "%s", cfg->output_topic);
		snprintf(ph->dlq_topic, sizeof(ph->dlq_topic), "%s", cfg->deadletter_topic);
	}
	if (fg_config_set(cfg, "kafka.bootstrap.servers", ph->bootstraps, errstr, errstr_size) ||
	    fg_config_set(cfg, "kafka.group.id", ph->group, errstr, errstr_size) ||
	    fg_config_set(cfg, "input.topic", ph->in_topic, errstr, errstr_size) ||
	    fg_config_set(cfg, "output.topic", ph->out_topic, errstr, errstr_size) ||
	    fg_config_set(cfg, "deadletter.topic", ph->dlq_topic, errstr, errstr_size))
		goto done;
	if (phase_position(ph, errstr, errstr_size))
		goto done;
	b->partitions_used = ph->nparts;
	if (is_latency(ph) && phase_alloc_latency(ph)) {
		fg_errf(errstr, errstr_size, "out of memory for latency samples");
		goto done;
	}

	fg_runner_stop = 0;
	atomic_store(&fg_runner_done, 0);
	if (pthread_create(&tv, NULL, verifier, ph))
		goto threads;
	have_v = 1;
	if (pthread_create(&tg, NULL, generator, ph))
		goto threads;
	have_g = 1;
	if (pthread_create(&tm, NULL, monitor, ph))
		goto threads;
	have_m = 1;

	if (ph->kind == PHASE_NULL || ph->kind == PHASE_NULL_LATENCY) {
		rc = null_run(ph, errstr, errstr_size);
	} else {
		/* The store owns a set of its own: fg_refstore_fini() frees it. */
		struct fg_refdata *rd = fg_refdata_load(cfg->data_dir, errstr, errstr_size);
		if (rd) {
			fg_refstore_init(rd);
			rc = fg_runner_run(cfg, &b->reg, &st, errstr, errstr_size);
			fg_refstore_fini();
		}
	}
	atomic_store(&ph->engine_returned, 1);
	atomic_store(&ph->gen_stop, 1);
	goto join;
threads:
	fg_errf(errstr, errstr_size, "cannot start threads");
	atomic_store(&ph->gen_stop, 1);
	rc = -1;
join:
	if (have_m)
		pthread_join(tm, NULL);
	if (have_g)
		pthread_join(tg, NULL);
	if (have_v) {
		/* Give the verifier a moment to read the tail. */
		double until = now_s() + 3.0;
		while (atomic_load(&ph->verified) < atomic_load(&fg_runner_done) && now_s() < until)
			sleep_s(0.01);
		atomic_store(&ph->verify_stop, 1);
		pthread_join(tv, NULL);
	}
	if (b->tty)
		fputc('\n', stderr);
	if (rc == 0 && atomic_load(&ph->failed)) {
		fg_errf(errstr, errstr_size, "%s phase: %s", phase_names[ph->kind], ph->err);
		rc = -1;
	}
	if (rc == 0 && ph->rate_measured <= 0) {
		fg_errf(errstr, errstr_size, "%s phase: nothing was measured", phase_names[ph->kind]);
		rc = -1;
	}
	if (rc == 0) {
		fprintf(stderr, "bench: %s: %.0f /s over %.1f s (%llu produced, %llu done, %llu read back; "
			"input paused %llu + %llu times)\n",
			phase_names[ph->kind], ph->rate_measured, ph->measure_s,
			(unsigned long long)atomic_load(&ph->produced),
			(unsigned long long)atomic_load(&fg_runner_done),
			(unsigned long long)atomic_load(&ph->verified), ph->pauses_full, ph->pauses_cap);
		if (is_latency(ph))
			latency_summary(ph);
	}
	b->pauses_full[ph->kind] += ph->pauses_full;
	b->pauses_cap[ph->kind] += ph->pauses_cap;
	ph->done = atomic_load(&fg_runner_done);
	if (ph->kind == PHASE_SOAK) {
		memcpy(b->cores_soak, ph->cores, sizeof(b->cores_soak));
		b->soak_achieved = ph->rate_measured;
	}
	fg_runner_stop = 0;
	atomic_store(&fg_runner_done, 0);
done:
	phase_free(ph);
	if (mc)
		rd_kafka_mock_cluster_destroy(mc);
	if (mrk)
		rd_kafka_destroy(mrk);
	return rc;
}

/* ---- report ------------------------------------------------------------------------ */

struct plan {
	int cores;
	double mem_mb;
	double need;        /* target x headroom */
	double worker_rate; /* one worker, end to end */
	double instance_rate;
	int workers, instances, partitions;
	double partition_rate;
	double rss_mb;
};

static void plan_make(const struct bench *b, struct plan *pl)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	int tw;

	memset(pl, 0, sizeof(*pl));
	pl->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
	pl->mem_mb = pages > 0 && psize > 0 ? (double)pages * (double)psize / 1048576.0 : 0;
	pl->need = b->o.target_rate * BENCH_HEADROOM;
	pl->workers = (int)b->cfg.workers;
	pl->instance_rate = b->e2e.rate;
	/* A worker never does better than the one-core pipeline. */
	pl->worker_rate = fmin(b->e2e.rate / pl->workers, b->pipeline_rate);
	pl->instances = (int)ceil(pl->need / pl->instance_rate);
	if (pl->instances < 1)
		pl->instances = 1;
	tw = pl->instances * pl->workers;
	/* Each partition well under one worker's rate; two per worker at least, so
	 * the load still spreads evenly when an instance leaves the group. */
	pl->partitions = (int)ceil(pl->need / (BENCH_PARTITION_SHARE * pl->worker_rate));
	if (pl->partitions < 2 * tw)
		pl->partitions = 2 * tw;
	pl->partitions = (pl->partitions + tw - 1) / tw * tw;
	pl->partition_rate = pl->need / pl->partitions;
	pl->rss_mb = peak_rss_mb();
}

/* A soak the memory target can be judged on: 10 minutes at 80% of the maximum. */
static int soak_judged(const struct bench *b)
{
	return b->o.soak >= 600 && b->o.soak_rate <= 0 && b->soak_n_rss > 0;
}

/* Flat, as the peak RSS at 1 and at 10 minutes: the whole soak's peak is
 * at most the first minute's plus 5% plus 2 MiB. */
static int soak_flat(const struct bench *b)
{
	return b->soak_n_rss > 0 && b->soak_rss_max_mb <= b->soak_rss_peak1_mb * 1.05 + 2.0;
}

static const char *yes(int ok)
{
	return ok ? "met" : "NOT met";
}

/* A soak series, one value per minute, six to a line. */
static void print_minutes(const double *v, int n, int decimals)
{
	for (int i = 0; i < n; i++)
		printf("%s  %d min %.*f", i % 6 == 5 ? "\n " : "", i + 1, decimals, v[i]);
}

/* The same as the elements of a JSON array. */
static void print_json_list(const double *v, int n, int decimals)
{
	for (int i = 0; i < n; i++)
		printf("%s%.*f", i ? ", " : "", decimals, v[i]);
}

/* The cores each group of threads used in the e2e and null windows. */
static void report_cores(const struct bench *b)
{
	double te = 0, tn = 0;

	printf("  cores used (CPU s per s)      e2e   null\n");
	for (int g = 0; g < CPU_GROUPS; g++) {
		if (g == CPU_BROKERS && !b->mock)
			continue;
		printf("    %-26s %5.2f  %5.2f\n", cpu_group_names[g], b->e2e.cores[g],
		       b->null.cores[g]);
		te += b->e2e.cores[g];
		tn += b->null.cores[g];
	}
	printf("    %-26s %5.2f  %5.2f\n", "all", te, tn);
	if (b->e2e.rate > 0 && b->null.rate > 0)
		printf("    %-26s %5.2f  %5.2f\n", "CPU us per declaration", 1e6 * te / b->e2e.rate,
		       1e6 * tn / b->null.rate);
}

static void report_human(const struct bench *b, const struct plan *pl, double wall)
{
	const char *broker = b->mock ? "embedded Kafka (librdkafka mock cluster, 3 brokers)"
				     : fg_config_kafka_get(&b->cfg, "bootstrap.servers");
	double ratio_avro = b->avro_rate > 0 ? b->pipeline_rate / b->avro_rate : 0;
	double ratio_null = b->null.rate > 0 ? b->e2e.rate / b->null.rate : 0;

	printf("floorgate bench: %d cores, %.1f GiB, %s, %d partitions, %lld worker%s, %.0f s\n\n",
	       pl->cores, pl->mem_mb / 1024.0, broker, (int)b->partitions_used,
	       (long long)b->cfg.workers, b->cfg.workers == 1 ? "" : "s", wall);
	printf("in process, one thread, %zu generated declarations (%.1f%% dead-lettered)\n",
	       b->n_msgs, 100.0 * b->pipeline_dead_share);
	printf("  pipeline                %12.0f decl/s   %8.0f ns/decl\n", b->pipeline_rate,
	       1e9 / b->pipeline_rate);
	printf("  Avro C generic decode   %12.0f decl/s   %8.0f ns/decl   (baseline)\n",
	       b->avro_rate, 1e9 / b->avro_rate);
	printf("  pipeline / Avro decode  %12.2fx\n", ratio_avro);
	printf("  in %d alternating rounds (pipeline / Avro decode):", BENCH_INPROC_ROUNDS);
	for (int r = 0; r < BENCH_INPROC_ROUNDS; r++)
		printf("%s %.2fx", r ? "," : "",
		       b->avro_round[r] > 0 ? b->pipeline_round[r] / b->avro_round[r] : 0);
	printf("\n");
	printf("  stages per declaration  decode %.0f ns, assess %.0f ns, encode %.0f ns\n\n",
	       b->ns_decode, b->ns_assess, b->ns_encode);
	printf("through Kafka\n");
	printf("  end to end, full speed  %12.0f decl/s\n", b->e2e.rate);
	printf("  null passthrough        %12.0f msg/s    (same broker, partitions, client settings)\n",
	       b->null.rate);
	printf("  e2e / null              %12.2f\n", ratio_null);
	if (b->o.rounds > 1) {
		printf("  in %d alternating rounds (e2e / null, thousands per s):", b->o.rounds);
		for (int r = 0; r < b->o.rounds; r++)
			printf("%s %.0f / %.0f", r ? "," : "", b->e2e.round[r] / 1e3,
			       b->null.round[r] / 1e3);
		printf("\n");
	}
	report_cores(b);
	printf("  latency at %.0f decl/s offered (%s; %.0f achieved), produce -> read back:\n",
	       b->lat_rate_offered, b->o.rate > 0 ? "--rate" : "half of the maximum",
	       b->lat.achieved);
	printf("    p50 %.2f ms   p99 %.2f ms   p99.9 %.2f ms   max %.2f ms   (%llu samples, %llu "
	       "missing)\n",
	       b->lat.p50_ms, b->lat.p99_ms, b->lat.p999_ms, b->lat.max_ms, (unsigned long long)b->lat.samples,
	       (unsigned long long)b->lat.missing);
	printf("    of which produce -> input acknowledged: p50 %.2f ms, p99 %.2f ms (load generator "
	       "and broker)\n",
	       b->lat.ack_p50_ms, b->lat.ack_p99_ms);
	printf("    of which produce -> assessment created by floorgate: p50 %.0f ms, p99 %.0f ms "
	       "(its CreateTime, 1 ms steps)\n",
	       b->lat.emit_p50_ms, b->lat.emit_p99_ms);
	printf("  the null pipeline at the same rate (%.0f achieved), produce -> read back:\n"
	       "    p50 %.2f ms   p99 %.2f ms   p99.9 %.2f ms   max %.2f ms   (%llu samples, %llu "
	       "missing)\n"
	       "    (the broker's, the clients' and this machine's share of the figures above)\n",
	       b->null_lat.achieved, b->null_lat.p50_ms, b->null_lat.p99_ms, b->null_lat.p999_ms,
	       b->null_lat.max_ms, (unsigned long long)b->null_lat.samples,
	       (unsigned long long)b->null_lat.missing);
	printf("  peak RSS                %12.1f MB%s\n", pl->rss_mb,
	       b->mock ? "      (the whole process, embedded brokers included)" : "");
	if (b->mock_fetch_wait)
		printf("  (embedded cluster: kafka.fetch.wait.max.ms=%s, since the mock holds an empty\n"
		       "  fetch for the whole wait where a broker answers when data arrives)\n",
		       BENCH_MOCK_FETCH_WAIT_MS);
	printf("\n");

	if (b->o.soak > 0) {
		printf("soak: %.0f s at %.0f decl/s offered (%.0f processed); resident memory (MB):\n"
		       "  start %.1f", b->o.soak, b->soak_offered, b->soak_achieved,
		       b->soak_rss_start_mb);
		print_minutes(b->soak_rss_mb, b->soak_n_rss, 1);
		printf("\n  end %.1f, peak %.1f in the first minute, %.1f over the soak\n",
		       b->soak_rss_end_mb, b->soak_rss_peak1_mb, b->soak_rss_max_mb);
		if (b->soak_n_rss > 0 && b->soak_heap_mb[0] >= 0) {
			printf("  live heap (MB)");
			print_minutes(b->soak_heap_mb, b->soak_n_rss, 1);
			printf("\n");
		}
		printf("  input paused %llu times for want of a free batch, %llu for "
		       "run.max_inflight_bytes\n",
		       b->pauses_full[PHASE_SOAK], b->pauses_cap[PHASE_SOAK]);
		double all = 0;
		printf("  cores used:");
		for (int g = 0; g < CPU_GROUPS; g++)
			if (g != CPU_BROKERS || b->mock) {
				printf("%s %s %.2f", g ? "," : "", cpu_group_names[g], b->cores_soak[g]);
				all += b->cores_soak[g];
			}
		printf(" (all %.2f)\n", all);
		printf("  behind (declarations produced, not yet assessed)");
		print_minutes(b->soak_lag, b->soak_n_rss, 0);
		printf("\n\n");
	}
	printf("targets\n");
	printf("  pipeline >= 2,000,000 decl/s on one core    %-8s (%.0f)\n",
	       yes(b->pipeline_rate >= 2e6), b->pipeline_rate);
	printf("  pipeline >= 5x Avro C generic decode        %-8s (%.2fx)\n", yes(ratio_avro >= 5),
	       ratio_avro);
	printf("  e2e >= 80%% of null passthrough             %-8s (%.0f%%)\n",
	       yes(ratio_null >= 0.8), 100 * ratio_null);
	if (b->o.rate > 0)
		printf("  p99 < 20 ms at half rate                    not measured (the latency phase "
		       "ran at --rate: p99 %.2f ms)\n", b->lat.p99_ms);
	else
		printf("  p99 < 20 ms at half rate                    %-8s (%.2f ms)\n",
		       yes(b->lat.p99_ms < 20 && b->lat.samples > 0), b->lat.p99_ms);
	if (soak_judged(b))
		printf("  flat memory over 10 min at 80%% of max      %-8s (peak %.1f MB in the first "
		       "minute, %.1f MB over the soak)\n",
		       yes(soak_flat(b)), b->soak_rss_peak1_mb, b->soak_rss_max_mb);
	else if (b->o.soak >= 600 && b->o.soak_rate > 0)
		printf("  flat memory over 10 min at 80%% of max      not measured (the soak ran at "
		       "--soak-rate)\n");
	else
		printf("  flat memory over 10 min at 80%% of max      not measured (--soak 600)\n");
	printf("\n");

	printf("capacity plan for %.0f decl/s (+%.0f%% headroom = %.0f decl/s)\n",
	       b->o.target_rate, (BENCH_HEADROOM - 1) * 100, pl->need);
	printf("  instances of this size  %d   (%d cores, %.1f GiB each)\n", pl->instances,
	       pl->cores, pl->mem_mb / 1024.0);
	printf("  workers per instance    %d   (run.workers)\n", pl->workers);
	printf("  input partitions        %d   (%.0f decl/s each, under %.0f%% of one worker's "
	       "%.0f decl/s;\n"
	       "                              at least 2 per worker, %d worker(s) in all)\n",
	       pl->partitions, pl->partition_rate, BENCH_PARTITION_SHARE * 100, pl->worker_rate,
	       pl->instances * pl->workers);
	printf("  memory per instance     %.0f MB peak measured of %.0f MB\n", pl->rss_mb,
	       pl->mem_mb);
	printf("  based on: the end-to-end rate measured here (%.0f decl/s with %d worker%s on "
	       "%d cores,\n"
	       "  sharing them with the load generator and verifier%s), and one worker's share "
	       "of it.\n"
	       "  Re-run on the target machines, against the real cluster "
	       "(-X kafka.bootstrap.servers=...).\n",
	       pl->instance_rate, pl->workers, pl->workers == 1 ? "" : "s", pl->cores,
	       b->mock ? " and the embedded brokers" : "");
}

static void report_json(const struct bench *b, const struct plan *pl, double wall)
{
	double ratio_avro = b->avro_rate > 0 ? b->pipeline_rate / b->avro_rate : 0;
	double ratio_null = b->null.rate > 0 ? b->e2e.rate / b->null.rate : 0;
	const char *bs = b->mock ? "mock" : fg_config_kafka_get(&b->cfg, "bootstrap.servers");

	printf("{");
	printf("\"pipeline_decl_per_s\": %.0f, ", b->pipeline_rate);
	printf("\"avro_generic_decode_decl_per_s\": %.0f, ", b->avro_rate);
	printf("\"pipeline_vs_avro_generic_decode\": %.3f, ", ratio_avro);
	printf("\"inprocess_rounds\": %d, \"pipeline_rounds_decl_per_s\": [", BENCH_INPROC_ROUNDS);
	for (int r = 0; r < BENCH_INPROC_ROUNDS; r++)
		printf("%s%.0f", r ? ", " : "", b->pipeline_round[r]);
	printf("], \"avro_generic_decode_rounds_decl_per_s\": [");
	for (int r = 0; r < BENCH_INPROC_ROUNDS; r++)
		printf("%s%.0f", r ? ", " : "", b->avro_round[r]);
	printf("], ");
	printf("\"stage_ns_per_decl\": {\"decode\": %.0f, \"assess\": %.0f, \"encode\": %.0f}, ",
	       b->ns_decode, b->ns_assess, b->ns_encode);
	printf("\"pipeline_dead_letter_share\": %.4f, ", b->pipeline_dead_share);
	printf("\"e2e_decl_per_s\": %.0f, ", b->e2e.rate);
	printf("\"null_passthrough_msg_per_s\": %.0f, ", b->null.rate);
	printf("\"e2e_vs_null_passthrough\": %.3f, ", ratio_null);
	printf("\"rounds\": %d, \"e2e_rounds_decl_per_s\": [", b->o.rounds);
	for (int r = 0; r < b->o.rounds; r++)
		printf("%s%.0f", r ? ", " : "", b->e2e.round[r]);
	printf("], \"null_rounds_msg_per_s\": [");
	for (int r = 0; r < b->o.rounds; r++)
		printf("%s%.0f", r ? ", " : "", b->null.round[r]);
	printf("], ");
	printf("\"input_pauses\": {");
	for (int k = 0; k < PHASE_KINDS; k++) {
		if (k == PHASE_NULL || k == PHASE_NULL_LATENCY)
			continue; /* the engine's counters */
		printf("%s\"%s\": {\"no_free_batch\": %llu, \"max_inflight_bytes\": %llu}",
		       k ? ", " : "", phase_names[k], b->pauses_full[k], b->pauses_cap[k]);
	}
	printf("}, ");
	for (int k = 0; k < 3; k++) {
		const double *c = k == 2 ? b->cores_soak : k ? b->null.cores : b->e2e.cores;
		if (k == 2 && b->o.soak <= 0)
			break;
		printf("\"%s\": {", k == 2 ? "soak_cores" : k ? "null_cores" : "e2e_cores");
		for (int g = 0; g < CPU_GROUPS; g++)
			printf("%s\"%s\": %.3f", g ? ", " : "", cpu_group_keys[g], c[g]);
		printf("}, ");
	}
	printf("\"latency_offered_decl_per_s\": %.0f, ", b->lat_rate_offered);
	/* false: the *_at_half_rate figures were taken at --rate instead */
	printf("\"latency_at_half_rate\": %s, ", b->o.rate > 0 ? "false" : "true");
	printf("\"latency_achieved_decl_per_s\": %.0f, ", b->lat.achieved);
	printf("\"e2e_p50_ms_at_half_rate\": %.3f, ", b->lat.p50_ms);
	printf("\"e2e_p99_ms_at_half_rate\": %.3f, ", b->lat.p99_ms);
	printf("\"e2e_p999_ms_at_half_rate\": %.3f, ", b->lat.p999_ms);
	printf("\"e2e_max_ms_at_half_rate\": %.3f, ", b->lat.max_ms);
	printf("\"input_ack_p50_ms\": %.3f, \"input_ack_p99_ms\": %.3f, ", b->lat.ack_p50_ms,
	       b->lat.ack_p99_ms);
	printf("\"output_created_p50_ms\": %.0f, \"output_created_p99_ms\": %.0f, ",
	       b->lat.emit_p50_ms, b->lat.emit_p99_ms);
	printf("\"latency_samples\": %llu, \"latency_missing\": %llu, ",
	       (unsigned long long)b->lat.samples, (unsigned long long)b->lat.missing);
	printf("\"null_latency\": {\"achieved_msg_per_s\": %.0f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
	       "\"p999_ms\": %.3f, \"max_ms\": %.3f, \"samples\": %llu, \"missing\": %llu}, ",
	       b->null_lat.achieved, b->null_lat.p50_ms, b->null_lat.p99_ms, b->null_lat.p999_ms,
	       b->null_lat.max_ms, (unsigned long long)b->null_lat.samples,
	       (unsigned long long)b->null_lat.missing);
	printf("\"e2e_outputs_acked\": %llu, \"e2e_outputs_read_back\": %llu, "
	       "\"null_outputs_acked\": %llu, \"null_outputs_read_back\": %llu, ",
	       (unsigned long long)b->e2e.done, (unsigned long long)b->e2e.verified,
	       (unsigned long long)b->null.done, (unsigned long long)b->null.verified);
	printf("\"peak_rss_mb\": %.1f, ", pl->rss_mb);
	if (b->o.soak > 0) {
		printf("\"soak\": {\"seconds\": %.0f, \"offered_decl_per_s\": %.0f, "
		       "\"processed_decl_per_s\": %.0f, \"rss_mb_start\": %.1f, \"rss_mb_by_minute\": [",
		       b->o.soak, b->soak_offered, b->soak_achieved, b->soak_rss_start_mb);
		print_json_list(b->soak_rss_mb, b->soak_n_rss, 1);
		printf("], \"heap_mb_by_minute\": [");
		print_json_list(b->soak_heap_mb, b->soak_n_rss, 1);
		printf("], \"behind_by_minute\": [");
		print_json_list(b->soak_lag, b->soak_n_rss, 0);
		printf("], \"rss_mb_end\": %.1f, \"rss_mb_peak_first_minute\": %.1f, "
		       "\"rss_mb_max\": %.1f, \"flat\": %s}, ",
		       b->soak_rss_end_mb, b->soak_rss_peak1_mb, b->soak_rss_max_mb,
		       soak_flat(b) ? "true" : "false");
	} else {
		printf("\"soak\": null, ");
	}
	printf("\"targets\": {\"pipeline_2m_decl_per_s\": %s, \"pipeline_5x_avro\": %s, "
	       "\"e2e_80pct_of_null\": %s, \"p99_under_20ms\": %s, \"flat_memory_10min\": %s}, ",
	       b->pipeline_rate >= 2e6 ? "true" : "false", ratio_avro >= 5 ? "true" : "false",
	       ratio_null >= 0.8 ? "true" : "false",
	       b->lat.p99_ms < 20 && b->lat.samples > 0 ? "true" : "false",
	       !soak_judged(b) ? "null" : soak_flat(b) ? "true" : "false");
	printf("\"capacity_plan\": {\"target_decl_per_s\": %.0f, \"headroom\": %.2f, "
	       "\"instances\": %d, \"workers_per_instance\": %d, \"partitions\": %d, "
	       "\"partition_decl_per_s\": %.0f, \"worker_decl_per_s\": %.0f, "
	       "\"instance_decl_per_s\": %.0f}, ",
	       b->o.target_rate, BENCH_HEADROOM, pl->instances, pl->workers, pl->partitions,
	       pl->partition_rate, pl->worker_rate, pl->instance_rate);
	printf("\"machine\": {\"cores\": %d, \"memory_mb\": %.0f}, ", pl->cores, pl->mem_mb);
	printf("\"config\": {\"broker\": \"%s\", \"fetch_wait_max_ms\": \"%s\", "
	       "\"partitions\": %d, \"workers\": %lld, "
	       "\"batch_size\": %lld, \"batches\": %lld, \"duration_s\": %.1f, \"wall_s\": %.1f, "
	       "\"messages\": %zu}",
	       bs, fg_config_kafka_get(&b->cfg, "fetch.wait.max.ms") ? fg_config_kafka_get(&b->cfg, "fetch.wait.max.ms") : "500",
	       (int)b->partitions_used, (long long)b->cfg.workers,
	       (long long)b->cfg.batch_size, (long long)b->cfg.batches, b->o.duration, wall,
	       b->n_msgs);
	printf("}\n");
}

/* ---- command -------------------------------------------------------------------------- */

static void bench_usage(FILE *f)
{
	fprintf(f,
		"usage: floorgate bench [--duration S] [--rate N] [--workers N] [--partitions N]\n"
		"                       [--target-rate N] [--rounds N] [--soak S [--soak-rate N]]\n"
		"                       [--json]\n"
		"                       [-c FILE] [-X key=value ...]\n\n"
		"Measures what this machine sustains, in one run on the same generated traffic:\n"
		"  - the per-message pipeline on one thread, and Avro C's generic decode of the\n"
		"    same bodies (the baseline), taking turns in five rounds, with the time\n"
		"    per stage;\n"
		"  - the real engine through Kafka at full speed (generator -> floorgate ->\n"
		"    verifier, concurrently), and a null pipeline that moves the same bytes\n"
		"    through the same broker and partitions with the same client settings;\n"
		"  - end-to-end latency (p50, p99, p99.9) at half the measured maximum rate,\n"
		"    and the null pipeline's at the same rate (the broker's and clients' share);\n"
		"  - the cores each group of threads used, for the engine and the null pipeline;\n"
		"  - peak memory;\n"
		"then prints a capacity plan for a target rate.\n\n"
		"Kafka is an embedded cluster (librdkafka's mock, 3 brokers, a fresh one per\n"
		"phase) unless -X kafka.bootstrap.servers=... names a real one; then the topics\n"
		"input.topic, output.topic and deadletter.topic (default bench.declarations,\n"
		"bench.assessments, bench.deadletters) must exist, and each phase starts at\n"
		"their current ends with a consumer group of its own.\n\n"
		"  --duration S      measuring time in seconds, split across the phases (default\n"
		"                    10: pipeline 15%%, Avro baseline 10%%, stages 5%%, e2e 20%%,\n"
		"                    null 20%%, latency 20%%, null latency 10%%); each Kafka phase\n"
		"                    adds its set-up\n"
		"                    (the embedded cluster's consumer group join takes 3 s)\n"
		"  --rate N          offered rate for the latency phase (default: half of the\n"
		"                    measured end-to-end maximum; with --rate the p99-at-half-\n"
		"                    rate target is not judged, and latency_at_half_rate is false)\n"
		"  --workers N       run.workers for the engine (default: run.workers)\n"
		"  --partitions N    partitions per topic on the embedded cluster (default 8)\n"
		"  --target-rate N   rate the capacity plan is for (default 100000 decl/s)\n"
		"  --rounds N        run the e2e and null phases N times each, taking turns\n"
		"                    (their 20%% each is split between the rounds), so a slow\n"
		"                    spell on a shared machine falls on both; each rate is\n"
		"                    over all its rounds, and every round's is listed (default\n"
		"                    3, fewer if a round would measure for under 0.5 s; an N\n"
		"                    whose rounds would be that short is refused)\n"
		"  --soak S          then run S more seconds (at least 60) at 80%% of the maximum\n"
		"                    and report the resident memory at the end of every minute, its\n"
		"                    peak in the first minute and over the whole soak\n"
		"  --soak-rate N     offered rate for --soak instead of 80%% of the maximum (needs\n"
		"                    --soak)\n"
		"  --json            print one JSON object on stdout instead of the report\n"
		"  -c FILE, -X key=value   configuration, as for `floorgate run`\n\n"
		"Progress goes to standard error. Exit status: 0 measured; 1 a phase failed;\n"
		"2 bad arguments, configuration, reference data or schema directory.\n");
}

static int parse_num(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi)) {
		fprintf(stderr, "floorgate bench: %s: \"%s\" is not a number from %g to %g\n", opt, s,
			lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* A whole number from lo to hi (no fractions: "--workers 1.9" is refused). */
static int parse_count(const char *opt, const char *s, unsigned long long lo, unsigned long long hi,
		       int *out)
{
	unsigned long long v;

	if (fg_parse_uint(s, hi, &v) || v < lo) {
		fprintf(stderr, "floorgate bench: %s: \"%s\" is not a whole number from %llu to %llu\n",
			opt, s, lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static void round_add(struct rounds *rs, const struct phase *ph, int r)
{
	rs->round[r] = ph->rate_measured;
	rs->n += ph->rate_measured * ph->window_s;
	rs->window_s += ph->window_s;
	for (int g = 0; g < CPU_GROUPS; g++)
		rs->cores[g] += ph->cores[g] * ph->window_s;
	rs->done += ph->done;
	rs->verified += atomic_load(&ph->verified);
}

static void rounds_end(struct rounds *rs)
{
	rs->rate = rs->n / rs->window_s;
	for (int g = 0; g < CPU_GROUPS; g++)
		rs->cores[g] /= rs->window_s;
}

/*
 * Runs one phase of `kind` into ph (cleared first) for secs seconds at rate
 * declarations a second (0: as fast as the engine goes). On failure says why
 * on standard error and returns -1.
 */
static int bench_phase(struct bench *b, struct phase *ph, enum phase_kind kind, double secs,
		       double rate)
{
	char err[1024];

	memset(ph, 0, sizeof(*ph));
	ph->kind = kind;
	ph->measure_s = secs;
	ph->rate = rate;
	if (run_phase(b, ph, err, sizeof(err))) {
		fprintf(stderr, "floorgate bench: %s\n", err);
		return -1;
	}
	return 0;
}

int fg_cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "rate", required_argument, NULL, 'r' },
		{ "workers", required_argument, NULL, 'w' },
		{ "partitions", required_argument, NULL, 'p' },
		{ "target-rate", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "soak", required_argument, NULL, 'S' },
		{ "soak-rate", required_argument, NULL, 'R' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct bench bench; /* large; one per process */
	struct bench *b = &bench;
	struct phase ph;
	struct plan pl;
	const char *file = NULL;
	char err[1024];
	int c, n, rc = FG_EXIT_USAGE;

	memset(b, 0, sizeof(*b));
	b->o.duration = 10;
	b->o.target_rate = 100000;
	b->o.partitions = 8;
	fg_config_init(&b->cfg);
	/* Bench topics unless the configuration names others. */
	fg_config_set(&b->cfg, "input.topic", "bench.declarations", err, sizeof(err));
	fg_config_set(&b->cfg, "output.topic", "bench.assessments", err, sizeof(err));
	fg_config_set(&b->cfg, "deadletter.topic", "bench.deadletters", err, sizeof(err));

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:X:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (parse_num("--duration", optarg, 1, 86400, &b->o.duration))
				goto done;
			break;
		case 'r':
			if (parse_num("--rate", optarg, 1, 1e9, &b->o.rate))
				goto done;
			break;
		case 'w':
			if (parse_count("--workers", optarg, 1, 64, &n))
				goto done;
			b->o.workers = n;
			break;
		case 'p':
			if (parse_count("--partitions", optarg, 1, 1024, &b->o.partitions))
				goto done;
			break;
		case 't':
			if (parse_num("--target-rate", optarg, 1, 1e12, &b->o.target_rate))
				goto done;
			break;
		case 'j': b->o.json = 1; break;
		case 'S':
			if (parse_num("--soak", optarg, 60, 86400, &b->o.soak))
				goto done;
			break;
		case 'R':
			if (parse_num("--soak-rate", optarg, 1, 1e9, &b->o.soak_rate))
				goto done;
			break;
		case 'n':
			if (parse_count("--rounds", optarg, 1, BENCH_MAX_ROUNDS, &b->o.rounds))
				goto done;
			break;
		case 'c': file = optarg; break;
		case 'X': break; /* applied below, after the file */
		case 'h':
			bench_usage(stdout);
			rc = FG_EXIT_OK;
			goto done;
		default:
			fprintf(stderr, "(floorgate bench --help for usage)\n");
			goto done;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "floorgate bench: unexpected argument \"%s\"\n", argv[optind]);
		goto done;
	}
	if (b->o.soak_rate > 0 && b->o.soak <= 0) {
		fprintf(stderr, "floorgate bench: --soak-rate goes with --soak SECONDS\n");
		goto done;
	}
	/* the e2e and null phases share a fifth of the duration, round by round;
	 * one round is always allowed (a short run's automatic choice too) */
	int most = (int)(b->o.duration * 0.20 / BENCH_MIN_ROUND_S);
	if (b->o.rounds > 1 && b->o.rounds > most) {
		fprintf(stderr,
			"floorgate bench: --rounds %d: each round would measure %.2f s, under %.1f s; "
			"give at most %d for --duration %g, or a longer --duration\n",
			b->o.rounds, b->o.duration * 0.20 / b->o.rounds, BENCH_MIN_ROUND_S,
			most < 1 ? 1 : most, b->o.duration);
		goto done;
	}
	if (file && fg_config_load_file(&b->cfg, file, err, sizeof(err))) {
		fprintf(stderr, "floorgate bench: %s\n", err);
		goto done;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:X:h", opts, NULL)) != -1)
		if (c == 'X' && fg_config_set_arg(&b->cfg, optarg, err, sizeof(err))) {
			fprintf(stderr, "floorgate bench: %s\n", err);
			goto done;
		}
	if (b->o.workers) {
		snprintf(err, sizeof(err), "%lld", (long long)b->o.workers);
		fg_config_set(&b->cfg, "run.workers", err, err, sizeof(err));
	}
	/* The bench prints its own progress and stops the engine itself. */
	fg_config_set(&b->cfg, "run.progress_interval_ms", "0", err, sizeof(err));
	fg_config_set(&b->cfg, "run.max_messages", "0", err, sizeof(err));
	fg_config_set(&b->cfg, "run.exit_on_eof", "false", err, sizeof(err));
	b->mock = !fg_config_kafka_get(&b->cfg, "bootstrap.servers");
	b->tty = isatty(STDERR_FILENO);
	/* This thread runs the engine's consumer (and the null pipeline's). */
	pthread_setname_np(pthread_self(), "fg-consume");
	if (b->mock && !fg_config_kafka_get(&b->cfg, "fetch.wait.max.ms")) {
		/* The mock answers a Fetch that finds no data only after the whole
		 * fetch.wait.max.ms (500 ms by default), even if data arrives
		 * meanwhile; a real broker answers as soon as fetch.min.bytes are
		 * there. A short wait makes the mock behave like a broker. */
		fg_config_set(&b->cfg, "kafka.fetch.wait.max.ms", BENCH_MOCK_FETCH_WAIT_MS, err,
			      sizeof(err));
		b->mock_fetch_wait = 1;
	}

	b->rd = fg_refdata_load(b->cfg.data_dir, err, sizeof(err));
	if (!b->rd) {
		fprintf(stderr, "floorgate bench: reference data refused: %s\n", err);
		goto done;
	}
	if (fg_schema_registry_load_dir(&b->reg, b->cfg.schema_dir, err, sizeof(err))) {
		fprintf(stderr, "floorgate bench: %s\n", err);
		goto done;
	}
	if (!fg_schema_registry_get(&b->reg, 1)) {
		fprintf(stderr, "floorgate bench: schema id 1 (the declaration) is not in %s\n",
			b->cfg.schema_dir);
		goto done;
	}
	rc = FG_EXIT_FAIL;
	b->t_start = now_s();
	if (traffic_make(b, err, sizeof(err))) {
		fprintf(stderr, "floorgate bench: %s\n", err);
		goto done;
	}

	double d = b->o.duration;
	fprintf(stderr, "bench: in process (%.1f s)\n", d * 0.30);
	for (int r = 0; r < BENCH_INPROC_ROUNDS; r++)
		if (measure_pipeline(b, r, d * 0.15 / BENCH_INPROC_ROUNDS, err, sizeof(err)) ||
		    measure_avro(b, r, d * 0.10 / BENCH_INPROC_ROUNDS, err, sizeof(err))) {
			fprintf(stderr, "floorgate bench: %s\n", err);
			goto done;
		}
	/* each rate over all its rounds */
	b->pipeline_rate = (double)b->pipeline_n / b->pipeline_cpu;
	b->avro_rate = (double)b->avro_n / b->avro_cpu;
	b->pipeline_dead_share = (double)b->pipeline_dead / (double)b->pipeline_in;
	if (measure_stages(b, d * 0.05, err, sizeof(err))) {
		fprintf(stderr, "floorgate bench: %s\n", err);
		goto done;
	}
	fprintf(stderr, "bench: pipeline %.0f decl/s, Avro C generic decode %.0f decl/s\n",
		b->pipeline_rate, b->avro_rate);

	/* The engine and the null pipeline take turns, so a spell of slowness on
	 * a shared machine falls on both; each rate is over all its rounds. A
	 * short run gets fewer rounds: in a window of a tenth of a second a
	 * slow (sanitizer) build may acknowledge nothing at all. */
	if (!b->o.rounds) {
		b->o.rounds = (int)(d * 0.20 / BENCH_MIN_ROUND_S);
		b->o.rounds = b->o.rounds < 1 ? 1 : b->o.rounds > BENCH_ROUNDS ? BENCH_ROUNDS : b->o.rounds;
	}
	for (int r = 0; r < b->o.rounds; r++) {
		if (bench_phase(b, &ph, PHASE_E2E, d * 0.20 / b->o.rounds, 0))
			goto done;
		round_add(&b->e2e, &ph, r);
		if (bench_phase(b, &ph, PHASE_NULL, d * 0.20 / b->o.rounds, 0))
			goto done;
		round_add(&b->null, &ph, r);
	}
	rounds_end(&b->e2e);
	rounds_end(&b->null);

	b->lat_rate_offered = b->o.rate > 0 ? b->o.rate : b->e2e.rate / 2;
	if (bench_phase(b, &ph, PHASE_LATENCY, d * 0.20, b->lat_rate_offered))
		goto done;
	/* The same rate through the null pipeline: what the broker, the clients
	 * and this machine add to any consumer that produces what it reads. */
	if (bench_phase(b, &ph, PHASE_NULL_LATENCY, d * 0.10, b->lat_rate_offered))
		goto done;

	if (b->o.soak > 0) {
		b->soak_offered = b->o.soak_rate > 0 ? b->o.soak_rate
						     : b->e2e.rate * BENCH_SOAK_SHARE;
		fprintf(stderr, "bench: soak: %.0f s at %.0f decl/s\n", b->o.soak, b->soak_offered);
		if (bench_phase(b, &ph, PHASE_SOAK, b->o.soak, b->soak_offered))
			goto done;
	}

	plan_make(b, &pl);
	if (b->o.json)
		report_json(b, &pl, now_s() - b->t_start);
	else
		report_human(b, &pl, now_s() - b->t_start);
	rc = FG_EXIT_OK;
done:
	traffic_free(b);
	fg_refdata_destroy(b->rd);
	fg_schema_registry_fini(&b->reg);
	fg_config_fini(&b->cfg);
	return rc;
}
