#include "fg_runner.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../ingest/fg_kafka_source.h"
#include "../sinks/fg_kafka_sink.h"

volatile sig_atomic_t fg_runner_stop;
_Atomic unsigned long long fg_runner_done;

static void on_signal(int sig)
{
	(void)sig;
	if (fg_runner_stop) {
		/* A second signal: leave now. Committed offsets only cover delivered
		 * outputs, so whatever is in flight is simply read again. */
		_exit(130);
	}
	fg_runner_stop = 1;
}

void fg_runner_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(const struct fg_pipeline_stats *st, double t0, int final)
{
	double dt = now_s() - t0;
	int tty = isatty(STDERR_FILENO);

	fprintf(stderr, "%sin %llu  assessed %llu  dead-lettered %llu  %.0f decl/s%s",
		tty ? "\r" : "", (unsigned long long)st->in, (unsigned long long)st->assessed,
		(unsigned long long)st->dead, dt > 0 ? (double)st->in / dt : 0.0,
		tty && !final ? "   " : "\n");
	fflush(stderr);
}

int fg_runner_run(const struct fg_config *cfg, const struct fg_schema_registry *reg,
		  const struct fg_refdata *rd, struct fg_pipeline_stats *stats, char *errstr,
		  size_t errstr_size)
{
	const char *topics[] = { cfg->input_topic, cfg->output_topic, cfg->deadletter_topic, NULL };
	struct fg_kafka_source *src = NULL;
	struct fg_kafka_sink *sink = NULL;
	struct fg_pipeline pl;
	rd_kafka_message_t **msgs = NULL;
	int pl_ok = 0, rc = -1;
	double t0 = now_s(), last = t0;

	if (fg_pipeline_init(&pl, reg, rd, (int32_t)cfg->assessment_schema_id,
			     (int32_t)cfg->deadletter_schema_id, errstr, errstr_size))
		return -1;
	pl_ok = 1;
	msgs = calloc((size_t)cfg->batch_size, sizeof(*msgs));
	if (!msgs) {
		fg_errf(errstr, errstr_size, "out of memory");
		goto done;
	}
	sink = fg_kafka_sink_create(cfg, errstr, errstr_size);
	if (!sink)
		goto done;
	src = fg_kafka_source_create(cfg, topics, errstr, errstr_size);
	if (!src)
		goto done;

	while (!fg_runner_stop) {
		size_t want = (size_t)cfg->batch_size;
		if (cfg->max_messages && (uint64_t)cfg->max_messages - pl.stats.in < want)
			want = (size_t)((uint64_t)cfg->max_messages - pl.stats.in);
		if (want == 0)
			break;
		ssize_t n = fg_kafka_source_consume(src, msgs, want, 100);
		if (n < 0) {
			fg_errf(errstr, errstr_size, "consume failed: %s",
				rd_kafka_err2str(rd_kafka_last_error()));
			goto done;
		}
		for (ssize_t i = 0; i < n; i++) {
			rd_kafka_message_t *m = msgs[i];
			struct fg_output o;
			fg_kafka_source_track(src, m);
			if (m->err) {
				if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
					fprintf(stderr, "floorgate: consumer: %s\n",
						rd_kafka_message_errstr(m));
				continue;
			}
			struct fg_source_pos pos = { .topic = rd_kafka_topic_name(m->rkt),
						     .partition = m->partition,
						     .offset = m->offset,
						     .index = -1 };
			if (fg_pipeline_process(&pl, m->payload, m->len, NULL, &pos, &o)) {
				fg_errf(errstr, errstr_size, "out of memory at %s [%d] offset %lld",
					pos.topic, (int)pos.partition, (long long)pos.offset);
				goto done_batch;
			}
			const void *key = m->key;
			size_t key_len = m->key_len;
			if (!key && o.decl) {
				key = o.decl->declaration_id.p;
				key_len = o.decl->declaration_id.len;
			}
			if (fg_kafka_sink_produce(sink, o.kind == FG_OUT_DEAD_LETTER, key, key_len,
						  o.enc.framed, o.enc.body_len + 5)) {
				fg_errf(errstr, errstr_size, "cannot queue an output: %s",
					rd_kafka_err2str(rd_kafka_last_error()));
				goto done_batch;
			}
		}
		if (n > 0) {
			if (fg_kafka_sink_flush(sink, errstr, errstr_size))
				goto done_batch;
			if (fg_kafka_source_store(src, msgs, (size_t)n)) {
				fg_errf(errstr, errstr_size, "cannot store consumed offsets");
				goto done_batch;
			}
			fg_runner_done = pl.stats.in;
		}
		for (ssize_t i = 0; i < n; i++)
			rd_kafka_message_destroy(msgs[i]);
		if (cfg->progress_interval_ms && now_s() - last >= cfg->progress_interval_ms / 1e3) {
			last = now_s();
			progress(&pl.stats, t0, 0);
		}
		if (cfg->exit_on_eof && fg_kafka_source_at_end(src))
			break;
		continue;
done_batch:
		for (ssize_t i = 0; i < n; i++)
			rd_kafka_message_destroy(msgs[i]);
		goto done;
	}
	if (cfg->progress_interval_ms)
		progress(&pl.stats, t0, 1);
	rc = 0;
done:
	/* On failure nothing past the last stored batch is committed. */
	fg_kafka_source_destroy(src);
	fg_kafka_sink_destroy(sink);
	free(msgs);
	if (stats)
		*stats = pl.stats;
	if (pl_ok)
		fg_pipeline_fini(&pl);
	return rc;
}
