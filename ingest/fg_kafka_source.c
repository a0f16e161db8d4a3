#include "fg_kafka_source.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/fg_common.h"

/* How long a topic missing from the metadata is asked for again at start. */
#define TOPIC_WAIT_MS 5000
#define CONNECT_SLICE_MS 250
#define TOPIC_RETRY_MS 200

/* FG_DEBUG_OFFSETS=1: log assignments, refusals, gaps and stores on stderr. */
static int debug_offsets(void)
{
	static int v = -1;
	if (v < 0) {
		const char *e = getenv("FG_DEBUG_OFFSETS");
		v = e && *e && strcmp(e, "0");
	}
	return v;
}

/* What the source knows about one partition of the input topic. */
struct fg_part {
	int64_t next;      /* next offset to take (-1: take whatever comes) */
	int64_t first;     /* first offset taken since assigned (-1: none) */
	int64_t committed; /* exactly_once: last committed by a transaction (-1: unknown); mu */
	int64_t rewind_end; /* after a rewind, until the refetch reaches it (-1: not rewinding) */
	int64_t gap;        /* at_least_once: offset refused past a gap, read again from next (-1) */
	unsigned long gap_call; /* the consume call that asked for that refetch */
	unsigned char assigned, eof;
};

struct fg_kafka_source {
	rd_kafka_t *rk;
	rd_kafka_queue_t *q;
	const char *topic;
	int eos;
	int commit_timeout_ms; /* run.flush_timeout_ms */
	/* runner thread only, except parts[].committed and the array itself (mu) */
	rd_kafka_topic_partition_list_t *assigned;
	int ever_assigned;
	int paused;
	unsigned long calls; /* batch consume calls so far */
	fg_kafka_source_revoke_cb *before_revoke;
	void *ctx;
	pthread_mutex_t mu;
	struct fg_part *parts;
	int32_t n_parts;
};

/* The state of partition p, growing the table when needed. NULL when out of memory. */
static struct fg_part *part(struct fg_kafka_source *src, int32_t p)
{
	if (p < 0)
		return NULL;
	if (p >= src->n_parts) {
		int32_t n = p + 16;
		pthread_mutex_lock(&src->mu);
		struct fg_part *v = realloc(src->parts, (size_t)n * sizeof(*v));
		if (v) {
			for (int32_t i = src->n_parts; i < n; i++)
				v[i] = (struct fg_part){ .next = -1, .first = -1, .committed = -1,
							 .rewind_end = -1, .gap = -1 };
			src->parts = v;
			src->n_parts = n;
		}
		pthread_mutex_unlock(&src->mu);
		if (!v)
			return NULL;
	}
	return &src->parts[p];
}

static int64_t committed_of(struct fg_kafka_source *src, struct fg_part *st)
{
	int64_t v;

	pthread_mutex_lock(&src->mu);
	v = st->committed;
	pthread_mutex_unlock(&src->mu);
	return v;
}

static void assignment_add(struct fg_kafka_source *src, const rd_kafka_topic_partition_list_t *l)
{
	if (!src->assigned)
		src->assigned = rd_kafka_topic_partition_list_new(l->cnt + 1);
	for (int i = 0; i < l->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &l->elems[i];
		struct fg_part *st = part(src, tp->partition);
		if (!rd_kafka_topic_partition_list_find(src->assigned, tp->topic, tp->partition))
			rd_kafka_topic_partition_list_add(src->assigned, tp->topic, tp->partition);
		if (st) {
			st->assigned = 1;
			st->eof = 0;
			st->first = -1;
			st->rewind_end = -1;
			st->gap = -1;
			pthread_mutex_lock(&src->mu);
			st->committed = -1; /* another member may have moved it meanwhile */
			pthread_mutex_unlock(&src->mu);
		}
	}
	if (l->cnt > 0)
		src->ever_assigned = 1;
}

/* Forgets partitions; ok says whether everything taken from them was committed. */
static void assignment_remove(struct fg_kafka_source *src, const rd_kafka_topic_partition_list_t *l,
			      int ok)
{
	for (int i = 0; i < l->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &l->elems[i];
		struct fg_part *st = part(src, tp->partition);
		if (src->assigned)
			rd_kafka_topic_partition_list_del(src->assigned, tp->topic, tp->partition);
		if (!st)
			continue;
		st->assigned = 0;
		st->eof = 0;
		/*
		 * If the partition comes back, it is fetched from the group's
		 * committed offset. exactly_once knows it (nothing else is
		 * committed); at_least_once keeps the mark only when the commit
		 * before revocation covered everything taken.
		 */
		if (src->eos)
			st->next = committed_of(src, st);
		else if (!ok)
			st->next = -1;
	}
}

void fg_kafka_rebalance_apply(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			      rd_kafka_topic_partition_list_t *parts, const char *who)
{
	int coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
	rd_kafka_error_t *error = NULL;

	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		if (coop)
			error = rd_kafka_incremental_assign(rk, parts);
		else
			rd_kafka_assign(rk, parts);
	} else {
		if (coop)
			error = rd_kafka_incremental_unassign(rk, parts);
		else
			rd_kafka_assign(rk, NULL);
	}
	if (error) {
		fprintf(stderr, "%s: rebalance: %s\n", who, rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	}
}

/* Milliseconds since t0 (CLOCK_MONOTONIC). */
static int64_t ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * The stored offsets committed, waiting at most timeout_ms for the answer.
 * librdkafka's synchronous rd_kafka_commit() waits for the group
 * coordinator without a limit: an instance stopping after its cluster went
 * away waited for ever (SIGTERM, then nothing).
 */
#define FG_COMMIT_WAIT_MAX_MS 10000
static rd_kafka_resp_err_t commit_within(rd_kafka_t *rk, int timeout_ms)
{
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_resp_err_t err;

	if (!q)
		return RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE;
	err = rd_kafka_commit_queue(rk, NULL, q, NULL, NULL);
	if (!err) {
		/* the reply holds its own reference to q: destroying it early is safe */
		rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms);
		err = ev ? rd_kafka_event_error(ev) : RD_KAFKA_RESP_ERR__TIMED_OUT;
		if (ev)
			rd_kafka_event_destroy(ev);
	}
	rd_kafka_queue_destroy(q);
	return err;
}

/* @locality: the runner thread (served inside consume calls). */
static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct fg_kafka_source *src = opaque;

	fprintf(stderr, "floorgate: %s %d partition(s)%s\n",
		err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? "assigned" : "revoking", parts->cnt,
		strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") ? "" : " (cooperative)");
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		assignment_add(src, parts);
		fg_kafka_rebalance_apply(rk, err, parts, "floorgate");
		if (src->paused && parts->cnt > 0)
			rd_kafka_pause_partitions(rk, parts); /* still over the memory cap */
		return;
	}
	int ok = 0;
	/* Finish what is in flight (its offsets get stored, or committed in its
	 * transaction), then commit before the partitions go, so their next
	 * owner starts after it. */
	if (src->before_revoke)
		ok = src->before_revoke(src->ctx);
	if (!src->eos) {
		rd_kafka_resp_err_t cerr = commit_within(rk, src->commit_timeout_ms);
		if (cerr && cerr != RD_KAFKA_RESP_ERR__NO_OFFSET) {
			fprintf(stderr, "floorgate: commit before revocation failed: %s\n",
				rd_kafka_err2str(cerr));
			ok = -1;
		}
	}
	assignment_remove(src, parts, ok == 0);
	fg_kafka_rebalance_apply(rk, err, parts, "floorgate");
}

int fg_kafka_source_settings(rd_kafka_conf_t *conf, const struct fg_config *cfg, char *errstr,
			     size_t errstr_size)
{
	/* Defaults first, then the user's kafka.* keys, then what correctness needs. */
	if (fg_config_rdkafka_set(conf, "group.id", "floorgate", errstr, errstr_size) ||
	    fg_config_rdkafka_set(conf, "auto.offset.reset", "earliest", errstr, errstr_size) ||
	    fg_config_rdkafka_set(conf, "enable.auto.commit", "true", errstr, errstr_size) ||
	    fg_config_rdkafka_set(conf, "partition.assignment.strategy", "cooperative-sticky",
				  errstr, errstr_size) ||
	    fg_config_rdkafka_set(conf, "client.id", "floorgate-consumer", errstr, errstr_size))
		return -1;
	if (fg_config_rdkafka_apply(cfg, conf, FG_CONFIG_PRODUCER, errstr, errstr_size))
		return -1;
	if (fg_config_rdkafka_set(conf, "enable.auto.offset.store", "false", errstr, errstr_size) ||
	    fg_config_rdkafka_set(conf, "enable.partition.eof", cfg->exit_on_eof ? "true" : "false",
				  errstr, errstr_size))
		return -1;
	return 0;
}

struct fg_kafka_source *fg_kafka_source_create(const struct fg_config *cfg,
					       const char *const *must_exist,
					       fg_kafka_source_revoke_cb *before_revoke, void *ctx,
					       const _Atomic int *stop, char *errstr,
					       size_t errstr_size)
{
	struct fg_kafka_source *src = calloc(1, sizeof(*src));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *sub = NULL;
	const struct rd_kafka_metadata *md = NULL;
	char why[512];
	rd_kafka_resp_err_t err;

	if (!src || !conf) {
		fg_errf(errstr, errstr_size, "out of memory");
		goto err;
	}
	pthread_mutex_init(&src->mu, NULL);
	src->before_revoke = before_revoke;
	src->ctx = ctx;
	src->topic = cfg->input_topic;
	src->eos = cfg->guarantee == FG_CONFIG_EXACTLY_ONCE;
	/* A commit answers in milliseconds; one that takes seconds has no
	 * coordinator to answer it. */
	src->commit_timeout_ms = cfg->flush_timeout_ms < FG_COMMIT_WAIT_MAX_MS
					 ? (int)cfg->flush_timeout_ms
					 : FG_COMMIT_WAIT_MAX_MS;
	if (fg_kafka_source_settings(conf, cfg, errstr, errstr_size))
		goto err;
	/* exactly_once: offsets are committed by the producer's transactions only,
	 * and only committed outputs of upstream transactions are read. */
	if (src->eos &&
	    (fg_config_rdkafka_set(conf, "enable.auto.commit", "false", errstr, errstr_size) ||
	     fg_config_rdkafka_set(conf, "isolation.level", "read_committed", errstr, errstr_size)))
		goto err;
	rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
	rd_kafka_conf_set_opaque(conf, src);
	src->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
	if (!src->rk) {
		fg_errf(errstr, errstr_size, "cannot create the Kafka consumer: %s", why);
		goto err;
	}
	conf = NULL; /* owned by rk now */

	/*
	 * Every named topic must exist. A topic created a moment ago may not
	 * have reached the broker that answers yet (each broker learns new
	 * topics on its own), so a missing one is asked for again for up to
	 * TOPIC_WAIT_MS (at most run.connect_timeout_ms) before it is refused.
	 */
	const char *missing = NULL;
	int64_t waited_ms = 0, wait_max = TOPIC_WAIT_MS < cfg->connect_timeout_ms
						  ? TOPIC_WAIT_MS
						  : cfg->connect_timeout_ms;
	const char *bs = fg_config_kafka_get(cfg, "bootstrap.servers");
	struct timespec c0, c1;
	clock_gettime(CLOCK_MONOTONIC, &c0);
	for (;;) {
		/* asked in slices, so a stop signal is seen within a quarter second */
		clock_gettime(CLOCK_MONOTONIC, &c1);
		int64_t left = cfg->connect_timeout_ms - ms_since(&c0);
		err = rd_kafka_metadata(src->rk, 1, NULL, &md,
					left > CONNECT_SLICE_MS ? CONNECT_SLICE_MS
					: left > 0		? (int)left
								: 1);
		if (err && stop && *stop) {
			fg_errf(errstr, errstr_size, "stopped while waiting for Kafka at %s",
				bs ? bs : "(kafka.bootstrap.servers unset)");
			goto err;
		}
		if (err && left > CONNECT_SLICE_MS) {
			/* an answer at once (connection refused) is not a reason to spin */
			if (ms_since(&c1) < CONNECT_SLICE_MS / 5)
				usleep(CONNECT_SLICE_MS / 5 * 1000);
			continue;
		}
		if (err) {
			fg_errf(errstr, errstr_size, "cannot reach Kafka at %s within %lld ms: %s",
				bs ? bs : "(kafka.bootstrap.servers unset)",
				(long long)cfg->connect_timeout_ms, rd_kafka_err2str(err));
			goto err;
		}
		missing = NULL;
		for (const char *const *t = must_exist; t && *t && !missing; t++) {
			int found = 0;
			for (int i = 0; i < md->topic_cnt; i++)
				if (!strcmp(md->topics[i].topic, *t) && !md->topics[i].err)
					found = 1;
			if (!found)
				missing = *t;
		}
		if (!missing || waited_ms >= wait_max)
			break;
		rd_kafka_metadata_destroy(md);
		md = NULL;
		if (stop && *stop) {
			fg_errf(errstr, errstr_size, "stopped while waiting for topic \"%s\"", missing);
			goto err;
		}
		usleep(TOPIC_RETRY_MS * 1000);
		waited_ms += TOPIC_RETRY_MS;
	}
	if (missing) {
		fg_errf(errstr, errstr_size, "topic \"%s\" does not exist on the cluster", missing);
		goto err;
	}
	rd_kafka_metadata_destroy(md);
	md = NULL;

	rd_kafka_poll_set_consumer(src->rk);
	src->q = rd_kafka_queue_get_consumer(src->rk);
	sub = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(sub, cfg->input_topic, RD_KAFKA_PARTITION_UA);
	err = rd_kafka_subscribe(src->rk, sub);
	rd_kafka_topic_partition_list_destroy(sub);
	if (err) {
		fg_errf(errstr, errstr_size, "cannot subscribe to %s: %s", cfg->input_topic,
			rd_kafka_err2str(err));
		goto err;
	}
	return src;
err:
	if (md)
		rd_kafka_metadata_destroy(md);
	if (conf)
		rd_kafka_conf_destroy(conf);
	if (src && src->rk) {
		if (src->q)
			rd_kafka_queue_destroy(src->q);
		rd_kafka_destroy(src->rk);
	}
	if (src)
		pthread_mutex_destroy(&src->mu);
	free(src);
	return NULL;
}

static void source_free(struct fg_kafka_source *src)
{
	if (src->assigned)
		rd_kafka_topic_partition_list_destroy(src->assigned);
	pthread_mutex_destroy(&src->mu);
	free(src->parts);
	free(src);
}

struct closer {
	struct fg_kafka_source *src;
	int close;        /* 1: leave the group (consumer close), 0: just destroy */
	_Atomic int ends; /* the closing thread finished, or its caller gave up */
};

/* Whoever of the closing thread and a caller that gave up on it comes
 * second frees the source: the thread's callbacks may use it until then. */
static void closer_end(struct closer *c)
{
	if (atomic_fetch_add(&c->ends, 1) == 1) {
		source_free(c->src);
		free(c);
	}
}

static void *close_main(void *arg)
{
	struct closer *c = arg;

	if (c->close) {
		rd_kafka_consumer_close(c->src->rk);
		rd_kafka_destroy(c->src->rk);
	} else {
		rd_kafka_destroy_flags(c->src->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	}
	closer_end(c);
	return NULL;
}

/*
 * librdkafka 2.0.2 can wait for ever closing or destroying a consumer whose
 * coordinator does not answer: one fenced out of its group, or one whose
 * cluster went away (rd_kafka_consumer_close waits for the group to be
 * left). The instance is stopping anyway: the close gets seconds on a
 * thread of its own and is then left behind, to free src when it ends.
 * src is freed either way, but for one case: when no thread can be started
 * (out of memory or threads), the client is left as it is, open, rather
 * than closed here where it could hold the stop for ever (the message
 * says so); the group reassigns its partitions once the process ends and
 * the consumer's session lapses.
 */
#define FG_CLOSE_S 10
#define FG_FENCED_DESTROY_S 5
/* How long a closing consumer serves its revocation before it closes anyway. */
#define FG_LEAVE_MS 5000
static void close_within(struct fg_kafka_source *src, int close, int seconds, const char *what)
{
	struct closer *c = malloc(sizeof(*c));
	pthread_t t;
	struct timespec until;

	if (!c || (*c = (struct closer){ src, close, 0 },
		   pthread_create(&t, NULL, close_main, c))) {
		free(c);
		fprintf(stderr, "floorgate: left %s without closing it\n", what);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	if (pthread_timedjoin_np(t, NULL, &until)) {
		pthread_detach(t);
		fprintf(stderr, "floorgate: %s did not shut down within %d s; leaving it\n", what,
			seconds);
	}
	closer_end(c);
}

/*
 * Leaves the group before the close: librdkafka before 2.4.0 can hang in
 * rd_kafka_consumer_close when a cooperative rebalance hands out partitions
 * while it closes (librdkafka issue #4527, fixed by #4528). Unsubscribing
 * and serving the rebalance until nothing is assigned (for at most
 * FG_LEAVE_MS) leaves the close nothing to assign. The revocation runs the
 * same callback as in a close (drain, commit). Messages that arrive
 * meanwhile are dropped unprocessed and their offsets not stored: the
 * partitions' next owner reads them.
 */
static int leave_group(struct fg_kafka_source *src)
{
	struct timespec t0;

	rd_kafka_unsubscribe(src->rk);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Serve at least 100 ms of group events, then until nothing is assigned. */
	for (;;) {
		rd_kafka_topic_partition_list_t *a = NULL;
		rd_kafka_message_t *m = rd_kafka_consumer_poll(src->rk, 50);
		if (m)
			rd_kafka_message_destroy(m);
		int empty = rd_kafka_assignment(src->rk, &a) == RD_KAFKA_RESP_ERR_NO_ERROR &&
			    a->cnt == 0;
		if (a)
			rd_kafka_topic_partition_list_destroy(a);
		int64_t ms = ms_since(&t0);
		if ((empty && ms >= 100) || ms >= FG_LEAVE_MS)
			return empty;
	}
}

void fg_kafka_source_destroy(struct fg_kafka_source *src)
{
	char why[256];
	int fatal, gone = 0;

	if (!src)
		return;
	/* A fenced (fatal) consumer can neither commit nor leave its group: both
	 * would wait on a coordinator that no longer answers it. */
	fatal = fg_kafka_source_fatal(src, why, sizeof(why));
	if (!src->eos && !fatal) {
		rd_kafka_resp_err_t err = commit_within(src->rk, src->commit_timeout_ms);
		if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
			fprintf(stderr,
				"floorgate: the last offset commit failed (%s): the group resumes "
				"from its previous commit, and declarations after it are assessed "
				"again\n",
				rd_kafka_err2str(err));
		/* no answer within the wait: neither will a group leave get one */
		gone = err == RD_KAFKA_RESP_ERR__TIMED_OUT;
	}
	if (src->q)
		rd_kafka_queue_destroy(src->q);
	if (fatal)
		close_within(src, 0, FG_FENCED_DESTROY_S, "the fenced consumer");
	else if (gone)
		close_within(src, 0, FG_FENCED_DESTROY_S,
			     "the consumer (its cluster does not answer)");
	else if (!leave_group(src))
		/* partitions still assigned: a close would revoke them from its own
		 * thread, through callbacks into a runner that is going away */
		close_within(src, 0, FG_FENCED_DESTROY_S, "the consumer");
	else
		close_within(src, 1, FG_CLOSE_S, "the consumer");
}

/*
 * at_least_once, when a batch call returned nothing: a partition whose
 * position (one past the last message librdkafka handed out) is beyond the
 * next offset to take lost its last messages on the way (see accept), and
 * no later message will show the hole: read it again from next. A gap that
 * holds no message (a transaction marker at the end) is read again once.
 */
static void reread_lost_tails(struct fg_kafka_source *src)
{
	rd_kafka_topic_partition_list_t *l, *seek;

	if (!src->assigned || src->assigned->cnt == 0)
		return;
	l = rd_kafka_topic_partition_list_copy(src->assigned);
	seek = rd_kafka_topic_partition_list_new(l->cnt);
	if (rd_kafka_position(src->rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR)
		for (int i = 0; i < l->cnt; i++) {
			struct fg_part *st = part(src, l->elems[i].partition);
			if (!st || !st->assigned || st->next < 0 || st->gap >= 0 ||
			    l->elems[i].offset <= st->next)
				continue;
			if (debug_offsets())
				fprintf(stderr, "floorgate: debug: position [%d] %lld past next %lld\n",
					(int)l->elems[i].partition, (long long)l->elems[i].offset,
					(long long)st->next);
			st->gap = l->elems[i].offset;
			st->gap_call = src->calls;
			rd_kafka_topic_partition_list_add(seek, l->elems[i].topic,
							  l->elems[i].partition)->offset = st->next;
		}
	if (seek->cnt > 0) {
		rd_kafka_error_t *error = rd_kafka_seek_partitions(src->rk, seek, 0);
		if (error) {
			fprintf(stderr, "floorgate: cannot read the input again: %s\n",
				rd_kafka_error_string(error));
			rd_kafka_error_destroy(error);
			for (int i = 0; i < seek->cnt; i++)
				part(src, seek->elems[i].partition)->gap = -1;
		}
	}
	rd_kafka_topic_partition_list_destroy(seek);
	rd_kafka_topic_partition_list_destroy(l);
}

ssize_t fg_kafka_source_consume(struct fg_kafka_source *src, rd_kafka_message_t **msgs, size_t n,
				int timeout_ms)
{
	/* Waits for the first message only, then takes what is already there:
	 * a batch call for n waits its whole timeout unless n arrive, and that
	 * wait would be added to every message's latency at partial load. Under
	 * full load the queue holds n at once and batches stay full. */
	ssize_t got = rd_kafka_consume_batch_queue(src->q, timeout_ms, msgs, n > 0 ? 1 : 0);

	if (got == 1 && n > 1) {
		ssize_t more = rd_kafka_consume_batch_queue(src->q, 0, msgs + 1, n - 1);
		if (more > 0)
			got += more;
	}
	src->calls++;

	if (got == 0 && !src->eos)
		reread_lost_tails(src);
	return got;
}

int fg_kafka_source_fatal(struct fg_kafka_source *src, char *buf, size_t size)
{
	return rd_kafka_fatal_error(src->rk, buf, size) != RD_KAFKA_RESP_ERR_NO_ERROR;
}

int fg_kafka_source_accept(struct fg_kafka_source *src, const rd_kafka_message_t *m)
{
	struct fg_part *st = part(src, m->partition);

	if (!st)
		return 1; /* cannot track: take it (at least once) */
	if (!st->assigned) {
		if (debug_offsets())
			fprintf(stderr, "floorgate: debug: refuse [%d]@%lld unassigned\n",
				(int)m->partition, (long long)m->offset);
		return 0; /* fetched before its revocation: its new owner takes it */
	}
	if (st->rewind_end >= 0 && m->offset >= st->rewind_end)
		return 0; /* fetched before the rewind: the refetch brings it again, in order */
	if (m->offset < st->next) {
		if (debug_offsets())
			fprintf(stderr, "floorgate: debug: refuse [%d]@%lld below next %lld\n",
				(int)m->partition, (long long)m->offset, (long long)st->next);
		return 0;
	}
	if (!src->eos && st->next >= 0 && m->offset > st->next && m->offset != st->gap) {
		/*
		 * Offsets next..offset-1 never reached us. librdkafka 2.0.2 can
		 * drop fetched messages while a rebalance is served inside a batch
		 * call (the fetch goes on past them); taking this one would store
		 * its offset, and commit, past inputs never answered. Read again
		 * from next: when the refetch comes straight back to this offset,
		 * nothing lies between (control records, compaction) and it is
		 * taken. Higher offsets in the same batch were fetched before the
		 * seek; in a later one they ask for the refetch again.
		 */
		if (debug_offsets())
			fprintf(stderr, "floorgate: debug: refuse [%d]@%lld past a gap from %lld\n",
				(int)m->partition, (long long)m->offset, (long long)st->next);
		if (st->gap < 0 || m->offset < st->gap || st->gap_call != src->calls) {
			rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
			rd_kafka_error_t *error;
			rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)
				->offset = st->next;
			error = rd_kafka_seek_partitions(src->rk, l, 0);
			if (error) {
				fprintf(stderr, "floorgate: cannot read [%d] again from %lld: %s\n",
					(int)m->partition, (long long)st->next,
					rd_kafka_error_string(error));
				rd_kafka_error_destroy(error);
			} else {
				st->gap = m->offset;
				st->gap_call = src->calls;
			}
			rd_kafka_topic_partition_list_destroy(l);
		}
		return 0;
	}
	if (debug_offsets() && (st->first < 0 || m->offset != st->next))
		fprintf(stderr, "floorgate: debug: take [%d]@%lld next was %lld%s\n",
			(int)m->partition, (long long)m->offset, (long long)st->next,
			st->first < 0 ? " (first)" : " (nothing between)");
	st->next = m->offset + 1;
	st->gap = -1;
	if (st->next == st->rewind_end)
		st->rewind_end = -1; /* the refetch has caught up */
	if (st->first < 0)
		st->first = m->offset;
	return 1;
}

void fg_kafka_source_track(struct fg_kafka_source *src, const rd_kafka_message_t *m)
{
	struct fg_part *st;

	if (!m->rkt || strcmp(rd_kafka_topic_name(m->rkt), src->topic))
		return;
	st = part(src, m->partition);
	if (st && st->assigned)
		st->eof = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
}

int fg_kafka_source_at_end(const struct fg_kafka_source *src)
{
	if (!src->ever_assigned || !src->assigned || src->assigned->cnt == 0)
		return 0;
	for (int i = 0; i < src->assigned->cnt; i++) {
		int32_t p = src->assigned->elems[i].partition;
		if (p >= src->n_parts || !src->parts[p].eof)
			return 0;
	}
	return 1;
}

void fg_kafka_offsets_add(rd_kafka_topic_partition_list_t *l, rd_kafka_message_t *const *msgs,
			  size_t n)
{
	/* A batch holds runs of one partition (fetch responses come per
	 * partition): look an entry up only when the run changes. */
	const rd_kafka_topic_t *run_rkt = NULL;
	int32_t run_part = -1;
	int run_ix = -1;

	for (size_t k = 0; k < n; k++) {
		const rd_kafka_message_t *m = msgs[k];
		if (m->err || !m->rkt)
			continue;
		if (m->rkt != run_rkt || m->partition != run_part) {
			const char *topic = rd_kafka_topic_name(m->rkt);
			rd_kafka_topic_partition_t *p =
				rd_kafka_topic_partition_list_find(l, topic, m->partition);
			if (!p)
				p = rd_kafka_topic_partition_list_add(l, topic, m->partition);
			run_rkt = m->rkt;
			run_part = m->partition;
			run_ix = (int)(p - l->elems); /* elems may move as the list grows */
		}
		if (m->offset + 1 > l->elems[run_ix].offset)
			l->elems[run_ix].offset = m->offset + 1;
	}
}

int fg_kafka_source_store(struct fg_kafka_source *src, rd_kafka_message_t **msgs, size_t n)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
	rd_kafka_resp_err_t err;

	fg_kafka_offsets_add(l, msgs, n);
	err = l->cnt ? rd_kafka_offsets_store(src->rk, l) : RD_KAFKA_RESP_ERR_NO_ERROR;
	for (int i = 0; debug_offsets() && i < l->cnt; i++)
		fprintf(stderr, "floorgate: debug: store [%d] %lld: %s\n", (int)l->elems[i].partition,
			(long long)l->elems[i].offset, rd_kafka_err2str(l->elems[i].err));
	rd_kafka_topic_partition_list_destroy(l);
	/* A partition revoked meanwhile refuses the store: its messages will be re-read
	 * by the new owner, which is the at-least-once promise, not an error. */
	return err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__STATE ? 0 : -1;
}

void fg_kafka_source_pause(struct fg_kafka_source *src, int pause)
{
	if (src->paused == !!pause)
		return; /* librdkafka counts neither: pause or resume once */
	src->paused = !!pause;
	if (!src->assigned || src->assigned->cnt == 0)
		return;
	if (pause)
		rd_kafka_pause_partitions(src->rk, src->assigned);
	else
		rd_kafka_resume_partitions(src->rk, src->assigned);
}

rd_kafka_consumer_group_metadata_t *fg_kafka_source_group_metadata(struct fg_kafka_source *src)
{
	return rd_kafka_consumer_group_metadata(src->rk);
}

void fg_kafka_source_committed(struct fg_kafka_source *src,
			       const rd_kafka_topic_partition_list_t *offsets)
{
	pthread_mutex_lock(&src->mu);
	for (int i = 0; i < offsets->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &offsets->elems[i];
		if (tp->partition < 0 || tp->partition >= src->n_parts || tp->offset < 0 ||
		    strcmp(tp->topic, src->topic))
			continue;
		src->parts[tp->partition].committed = tp->offset;
	}
	pthread_mutex_unlock(&src->mu);
}

int fg_kafka_source_rewind(struct fg_kafka_source *src, char *errstr, size_t errstr_size)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_error_t *error;
	int moved;

	if (!src->assigned || src->assigned->cnt == 0)
		return 0;
	l = rd_kafka_topic_partition_list_new(src->assigned->cnt);
	for (int i = 0; i < src->assigned->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &src->assigned->elems[i];
		struct fg_part *st = part(src, tp->partition);
		int64_t to;
		if (!st)
			continue;
		to = committed_of(src, st);
		if (to < 0)
			to = st->first; /* nothing committed since assigned: where it started */
		if (to < 0 || (st->next >= 0 && to >= st->next))
			continue; /* nothing taken since */
		rd_kafka_topic_partition_list_add(l, tp->topic, tp->partition)->offset = to;
		/*
		 * librdkafka 2.0.2's batch consume may still hand back messages
		 * fetched before the seek (offsets from next on). Offset next-1 was
		 * taken, so it exists and the refetch returns it: until then only
		 * offsets below the old mark are taken, in order.
		 */
		if (st->next > st->rewind_end)
			st->rewind_end = st->next;
		st->next = to;
		st->eof = 0; /* not at its end any more */
	}
	moved = l->cnt;
	/* Asynchronous (timeout 0): messages fetched before it are filtered out by
	 * the seek's version barrier; 2.0.2 also shortens seek timeouts a
	 * thousandfold (fixed in 2.1.0), so waiting would not mean much. */
	error = moved ? rd_kafka_seek_partitions(src->rk, l, 0) : NULL;
	if (error) {
		fg_errf(errstr, errstr_size, "cannot rewind the input: %s",
			rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		moved = -1;
	}
	for (int i = 0; moved > 0 && i < l->cnt; i++)
		if (l->elems[i].err && l->elems[i].err != RD_KAFKA_RESP_ERR__IN_PROGRESS) {
			fg_errf(errstr, errstr_size, "cannot rewind %s [%d]: %s", l->elems[i].topic,
				(int)l->elems[i].partition, rd_kafka_err2str(l->elems[i].err));
			moved = -1;
		}
	rd_kafka_topic_partition_list_destroy(l);
	return moved;
}
