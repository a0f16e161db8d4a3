#include "fg_runner.h"

#include <ck_ring.h>
#include <errno.h>
#include <pthread.h>
#include <poll.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/fg_avrobin.h"
#include "../core/fg_tsan.h"
#include "../ingest/fg_kafka_source.h"
#include "../pricing/fg_refstore.h"
#include "../sinks/fg_kafka_sink.h"

/* Set in a signal handler and read on every thread: a lock-free atomic is
 * both async-signal-safe (C11 7.14.1.1) and free of data races, which a
 * volatile sig_atomic_t read by other threads is not (TSan reports it). */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "stop flags need lock-free int");
_Atomic int fg_runner_stop;
_Atomic unsigned long long fg_runner_done;
_Atomic unsigned long long fg_runner_commits, fg_runner_aborts;
_Atomic unsigned long long fg_runner_cap_pauses;
_Atomic unsigned long long fg_runner_full_pauses;

#define FG_RUNNER_MAX_WORKERS 64
/* How long a partial batch may wait for more input while batches are scarce. */
#define LINGER_SCARCE_MS 10
/* A batch's output buffer starts here and is never trimmed below it. */
#define BATCH_BUF_MIN 65536

struct fg_out {
	uint32_t off, len;         /* framed record in batch->buf */
	uint32_t key_off, key_len; /* key bytes in batch->buf */
	uint8_t dead;
};

struct fg_batch {
	struct fg_batch *next; /* producer: in-flight list of its worker */
	struct fg_batch *free_next; /* on engine.free_top */
	uint32_t worker;
	uint32_t n, cap;
	rd_kafka_message_t **msgs;
	struct fg_out *outs;
	struct fg_avrobin buf;
	uint32_t pending; /* producer: outputs not yet acknowledged */
	rd_kafka_resp_err_t err;
	unsigned epoch;           /* exactly_once: the consumer's epoch when handed out */
	size_t in_bytes, out_bytes; /* counted in engine.inflight_bytes */
	size_t out_peak;            /* worker: recent peak of out_bytes, decaying */
};

/* A batch pointer that means "no more batches" on a ring. */
static struct fg_batch sentinel;

struct worker {
	struct engine *e;
	int idx;
	pthread_t thread;
	ck_ring_t in, out;
	ck_ring_buffer_t *in_buf, *out_buf;
	sem_t in_bell;
	struct fg_pipeline pl;
	int pl_ok;
	struct fg_batch *current; /* consumer thread: batch being filled */
	double current_t0;        /* consumer thread: when its first message came */
	struct fg_batch *head, *tail; /* producer thread: in flight, FIFO */
};

struct engine {
	const struct fg_config *cfg;
	const struct fg_schema_registry *reg;
	int nworkers, nbatches;
	double progress_t;                  /* the last progress line (consumer thread) */
	unsigned long long progress_done;   /* fg_runner_done then */
	struct worker *w;
	struct fg_batch *batches;
	/* Free batches, last in first out: the batch used last is taken next, warm
	 * in the cache, and batches nobody needed stay small (their buffers grow
	 * only when used). One pusher (the producer thread), one popper (the
	 * consumer thread), so Treiber's stack has no ABA problem here. C11
	 * atomics rather than ck_stack: TSan sees their ordering, not ck's
	 * inline assembly. */
	struct fg_batch *_Atomic free_top;
	_Atomic int nfree;
	sem_t free_bell, reload_bell;
	/* The producer thread's doorbell: an eventfd that workers, drain() and
	 * librdkafka (a delivery report for a queue that was empty) write, so
	 * one poll() wakes it for either. */
	int out_fd;
	_Atomic int in_flight; /* batches handed to workers and not yet returned */
	_Atomic int fatal;
	char fatal_msg[1024];
	struct fg_kafka_source *src;
	struct fg_kafka_sink *sink;
	pthread_t producer, reloader;
	_Atomic int reloader_stop;
	_Atomic unsigned long long assessed, dead;
	uint64_t taken; /* consumer thread: data messages taken */
	_Atomic long long inflight_bytes; /* input + output bytes held in batches */
	int cap_paused;                   /* consumer thread: paused for run.max_inflight_bytes */

	/*
	 * exactly_once. The producer thread owns the transaction. An abort
	 * drops every batch handed out before it: under rewind_mu it sets
	 * drop_below past the consumer's epoch and counts the abort; the
	 * consumer, between two batch calls, bumps its epoch under the same
	 * lock, notes the abort as served and seeks back to the committed
	 * offsets. A batch from an older epoch reaching the producer is dropped
	 * unproduced. A drain asks the producer to commit (commit_req) and waits
	 * for the answer (commit_done).
	 */
	int eos;
	pthread_mutex_t rewind_mu;
	unsigned epoch, drop_below;       /* rewind_mu (each written by one thread) */
	_Atomic unsigned long abort_seq;  /* aborts so far (written under rewind_mu) */
	unsigned long served_seq;         /* consumer thread: aborts rewound so far */
	_Atomic unsigned long commit_req, commit_done;
	sem_t commit_bell;
	_Atomic int producer_running;
	/* producer thread only */
	rd_kafka_topic_partition_list_t *txn_offsets; /* next offsets of inputs in the txn */
	int txn_open, txn_failed;
	rd_kafka_resp_err_t txn_err; /* the first output error in the transaction */
	double txn_t0;
	uint64_t txn_msgs;
	unsigned long commit_seen;
};

/* The engine SIGHUP reaches. Several engines may run in one process (the
 * tests do); the first to start owns the signal until it stops. */
static _Atomic(struct engine *) signal_engine;

static void on_signal(int sig)
{
	if (sig == SIGHUP) {
		struct engine *e = atomic_load(&signal_engine);
		if (e)
			sem_post(&e->reload_bell); /* async-signal-safe */
		return;
	}
	if (fg_runner_stop) {
		/* A second signal: leave now. Committed offsets only cover delivered
		 * outputs, so whatever was in flight is read again next time. */
		static const char now[] = "floorgate: second signal: exiting now, status 130\n";
		ssize_t w = write(STDERR_FILENO, now, sizeof(now) - 1); /* async-signal-safe */
		(void)w;
		_exit(130);
	}
	fg_runner_stop = 1;
	/* the operator sees the stop taken; write(2) is async-signal-safe */
	static const char stopping[] = "floorgate: stopping: finishing what is in hand (a second "
				       "signal exits at once)\n";
	ssize_t w = write(STDERR_FILENO, stopping, sizeof(stopping) - 1);
	(void)w;
}

void fg_runner_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* A stop signal ignored at start stays ignored, as in the file commands;
	 * SIGHUP is the reload an operator asks for, even under nohup. */
	fg_catch_signal(SIGINT, &sa);
	fg_catch_signal(SIGTERM, &sa);
	sigaction(SIGHUP, &sa, NULL);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits on a doorbell for at most ms milliseconds. Returns 0 when it rang. */
static int bell_wait(sem_t *s, int ms)
{
	struct timespec ts;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	while ((rc = sem_timedwait(s, &ts)) == -1 && errno == EINTR)
		;
	return rc == 0 ? 0 : -1;
}

static void set_fatal(struct engine *e, const char *fmt, const char *a, const char *b)
{
	int expected = 0;

	if (atomic_compare_exchange_strong(&e->fatal, &expected, 1))
		snprintf(e->fatal_msg, sizeof(e->fatal_msg), fmt, a, b);
}

static void ring_out_bell(struct engine *e)
{
	const uint64_t one = 1;

	if (write(e->out_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, so the producer is being woken anyway. */
	}
}

/* Waits on the producer's doorbell for at most ms milliseconds, then resets it. */
static void out_bell_wait(struct engine *e, int ms)
{
	struct pollfd pfd = { .fd = e->out_fd, .events = POLLIN };
	uint64_t v;

	if (poll(&pfd, 1, ms) > 0 && read(e->out_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: another read reset it first; nothing is lost. */
	}
}

/* Hands a batch to its next owner through an SPSC ring. Rings hold every
 * batch at once, so an enqueue cannot fail. */
static void hand_off(ck_ring_t *r, ck_ring_buffer_t *buf, sem_t *bell, struct fg_batch *b)
{
	FG_TSAN_RELEASE(b);
	FG_TSAN_RELEASE(r);
	ck_ring_enqueue_spsc(r, buf, b);
	if (bell)
		sem_post(bell);
}

static struct fg_batch *take(ck_ring_t *r, ck_ring_buffer_t *buf)
{
	struct fg_batch *b;

	FG_TSAN_ACQUIRE(r);
	if (!ck_ring_dequeue_spsc(r, buf, &b))
		return NULL;
	FG_TSAN_ACQUIRE(b);
	return b;
}

/* Returns a batch to the free stack. @locality: producer thread (the only pusher). */
static void free_put(struct engine *e, struct fg_batch *b)
{
	struct fg_batch *top = atomic_load_explicit(&e->free_top, memory_order_relaxed);

	do
		b->free_next = top;
	while (!atomic_compare_exchange_weak_explicit(&e->free_top, &top, b, memory_order_release,
						      memory_order_relaxed));
	atomic_fetch_add_explicit(&e->nfree, 1, memory_order_relaxed);
	sem_post(&e->free_bell);
}

/* The batch freed last, or NULL. @locality: consumer thread (the only popper). */
static struct fg_batch *free_get(struct engine *e)
{
	struct fg_batch *b = atomic_load_explicit(&e->free_top, memory_order_acquire);

	/* Only this thread pops, so b stays on the stack until the exchange:
	 * b->free_next cannot change under it. */
	while (b && !atomic_compare_exchange_weak_explicit(&e->free_top, &b, b->free_next,
							   memory_order_acquire,
							   memory_order_acquire))
		;
	if (!b)
		return NULL;
	atomic_fetch_sub_explicit(&e->nfree, 1, memory_order_relaxed);
	return b;
}

/* ---- workers ---------------------------------------------------------- */

static void assess_batch(struct worker *w, struct fg_batch *b)
{
	struct fg_pipeline *pl = &w->pl;
	uint64_t assessed0 = pl->stats.assessed, dead0 = pl->stats.dead;

	/* The whole batch sees one reference-data set. */
	pl->rd = fg_refstore_get();
	b->buf.len = 0;
	b->buf.oom = 0;
	fg_encoder_append_to(pl->enc, &b->buf);
	/* A batch is nearly always one topic's: its name is looked up once. */
	const rd_kafka_topic_t *rkt = NULL;
	const char *topic = NULL;
	size_t topic_len = 0;
	for (uint32_t i = 0; i < b->n; i++) {
		const rd_kafka_message_t *m = b->msgs[i];
		if (m->rkt != rkt) {
			rkt = m->rkt;
			topic = rd_kafka_topic_name(m->rkt);
			topic_len = strlen(topic);
		}
		struct fg_source_pos pos = { .topic = topic,
					     .topic_len = topic_len,
					     .partition = m->partition,
					     .offset = m->offset,
					     .index = -1 };
		struct fg_out *o = &b->outs[i];
		struct fg_output out;

		if (fg_pipeline_process(pl, m->payload, m->len, NULL, &pos, &out)) {
			set_fatal(w->e, "%s%s", "out of memory assessing a message", "");
			break;
		}
		const void *key = m->key;
		size_t key_len = m->key_len;
		if (!key && out.decl) {
			key = out.decl->declaration_id.p;
			key_len = out.decl->declaration_id.len;
		}
		/* The encoder wrote the output at the end of the batch's buffer;
		 * its key follows it there. */
		o->dead = out.kind == FG_OUT_DEAD_LETTER;
		o->off = (uint32_t)(out.enc.framed - b->buf.buf);
		o->len = (uint32_t)out.enc.framed_len;
		o->key_off = o->off + o->len;
		o->key_len = (uint32_t)key_len;
		if (key_len && fg_avrobin_raw(&b->buf, key, key_len)) {
			set_fatal(w->e, "%s%s", "out of memory buffering outputs", "");
			break;
		}
	}
	fg_encoder_append_to(pl->enc, NULL); /* the batch leaves this thread */
	fg_refstore_quiescent();
	/*
	 * A burst fills batches to run.batch_size. Room for the batch's recent
	 * peak (which decays by 1/16 a use, so about 30 uses after a burst) is
	 * kept; beyond that it is given back, or every batch would keep its
	 * largest size for good. Mixed sizes keep the peak up: no regrowing.
	 */
	b->out_peak -= b->out_peak / 16;
	if (b->out_peak < b->buf.len)
		b->out_peak = b->buf.len;
	fg_avrobin_trim(&b->buf, b->out_peak, BATCH_BUF_MIN);
	b->out_bytes = b->buf.len;
	atomic_fetch_add_explicit(&w->e->inflight_bytes, (long long)b->out_bytes,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&w->e->assessed, pl->stats.assessed - assessed0,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&w->e->dead, pl->stats.dead - dead0, memory_order_relaxed);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct engine *e = w->e;
	char name[16];

	snprintf(name, sizeof(name), "fg-worker%d", w->idx);
	pthread_setname_np(pthread_self(), name);
	fg_refstore_reader_register();
	for (;;) {
		struct fg_batch *b = take(&w->in, w->in_buf);
		if (!b) {
			/* Idle: offline, so a reload never waits for this thread. */
			fg_refstore_offline();
			bell_wait(&w->in_bell, 100);
			fg_refstore_online();
			continue;
		}
		if (b == &sentinel) {
			hand_off(&w->out, w->out_buf, NULL, &sentinel);
			ring_out_bell(e);
			break;
		}
		assess_batch(w, b);
		hand_off(&w->out, w->out_buf, NULL, b);
		ring_out_bell(e);
	}
	fg_refstore_offline();
	fg_refstore_reader_unregister();
	return NULL;
}

/* ---- producer ------------------------------------------------------------ */

/* @locality: producer thread (delivery reports are served there). */
static void on_delivery(void *msg_opaque, rd_kafka_resp_err_t err, void *ctx)
{
	struct fg_batch *b = msg_opaque;

	struct engine *e = ctx;

	if (err && !b->err)
		b->err = err;
	if (err && e->eos && !e->txn_failed) {
		e->txn_failed = 1; /* the transaction cannot commit: abort it */
		e->txn_err = err;
	}
	b->pending--;
}

/* Frees a batch's messages and gives it back to the consumer. done: count its
 * inputs as answered. @locality: producer thread. */
static void recycle(struct engine *e, struct fg_batch *b, int done)
{
	for (uint32_t k = 0; k < b->n; k++)
		rd_kafka_message_destroy(b->msgs[k]);
	if (done)
		atomic_fetch_add(&fg_runner_done, b->n);
	atomic_fetch_sub(&e->inflight_bytes, (long long)(b->in_bytes + b->out_bytes));
	b->n = 0;
	b->in_bytes = b->out_bytes = 0;
	b->next = NULL;
	free_put(e, b);
	atomic_fetch_sub(&e->in_flight, 1);
}

/* Returns the batches at the heads of the in-flight lists whose outputs
 * are all acknowledged: store their offsets, free their messages, recycle. */
static void complete(struct engine *e)
{
	for (int i = 0; i < e->nworkers; i++) {
		struct worker *w = &e->w[i];
		while (w->head && w->head->pending == 0) {
			struct fg_batch *b = w->head;
			if (e->eos) {
				/* Its offsets went into the transaction when it was
				 * produced; the transaction's outcome decides. */
				w->head = b->next;
				if (!w->head)
					w->tail = NULL;
				recycle(e, b, 0);
				continue;
			}
			if (b->err) {
				set_fatal(e, "an output was not delivered: %s%s",
					  rd_kafka_err2str(b->err), "");
				return; /* its offsets stay unstored */
			}
			if (fg_kafka_source_store(e->src, b->msgs, b->n)) {
				set_fatal(e, "%s%s", "cannot store consumed offsets", "");
				return;
			}
			w->head = b->next;
			if (!w->head)
				w->tail = NULL;
			recycle(e, b, 1);
		}
	}
}

/* ---- exactly once (producer thread) ---------------------------------------- */

/* Adds a batch's input offsets to the open transaction's. */
static void txn_add_offsets(struct engine *e, const struct fg_batch *b)
{
	fg_kafka_offsets_add(e->txn_offsets, b->msgs, b->n);
	e->txn_msgs += b->n;
}

static void txn_reset(struct engine *e)
{
	rd_kafka_topic_partition_list_destroy(e->txn_offsets);
	e->txn_offsets = rd_kafka_topic_partition_list_new(16);
	e->txn_open = 0;
	e->txn_msgs = 0;
}

/* Aborts the open transaction and has the consumer rewind. */
static void txn_abort(struct engine *e, const char *why)
{
	char err[512];
	double until = now_s() + e->cfg->flush_timeout_ms / 1e3;
	int busy = 1;

	fprintf(stderr, "floorgate: aborting the transaction (%llu inputs), they will be read "
			"again: %s%s%s\n",
		(unsigned long long)e->txn_msgs, why, e->txn_err ? ": " : "",
		e->txn_err ? rd_kafka_err2str(e->txn_err) : "");
	/* Everything handed out so far belongs to the aborted work: drop it. */
	pthread_mutex_lock(&e->rewind_mu);
	e->drop_below = e->epoch + 1;
	atomic_fetch_add(&e->abort_seq, 1);
	pthread_mutex_unlock(&e->rewind_mu);
	if (fg_kafka_sink_txn_abort(e->sink, err, sizeof(err)) != FG_TXN_OK)
		set_fatal(e, "%s%s", err, "");
	/* The purged outputs come back with errors; their batches can go. */
	while (busy && now_s() < until) {
		fg_kafka_sink_poll(e->sink, 10);
		complete(e);
		busy = 0;
		for (int i = 0; i < e->nworkers; i++)
			busy |= e->w[i].head != NULL;
	}
	e->txn_failed = 0;
	e->txn_err = RD_KAFKA_RESP_ERR_NO_ERROR;
	atomic_fetch_add(&fg_runner_aborts, 1);
	txn_reset(e);
}

/* Commits the open transaction with its input offsets (or aborts it). */
static void txn_commit(struct engine *e)
{
	char err[512];
	enum fg_txn_result r;
	rd_kafka_consumer_group_metadata_t *cgmd;

	if (!e->txn_open)
		return;
	if (e->txn_failed) {
		txn_abort(e, "an output was not delivered");
		return;
	}
	cgmd = fg_kafka_source_group_metadata(e->src);
	if (!cgmd) {
		set_fatal(e, "%s%s", "no consumer group metadata for the transaction", "");
		return;
	}
	r = fg_kafka_sink_txn_commit(e->sink, e->txn_offsets, cgmd, err, sizeof(err));
	rd_kafka_consumer_group_metadata_destroy(cgmd);
	if (r == FG_TXN_OK) {
		fg_kafka_source_committed(e->src, e->txn_offsets);
		atomic_fetch_add(&fg_runner_done, e->txn_msgs);
		atomic_fetch_add(&fg_runner_commits, 1);
		txn_reset(e);
	} else if (r == FG_TXN_ABORT) {
		txn_abort(e, err);
	} else {
		set_fatal(e, "%s%s", err, "");
	}
}

/* Commits when the interval or the size says so, or a drain asks. */
static void txn_tick(struct engine *e)
{
	unsigned long req = atomic_load(&e->commit_req);

	if (e->txn_open && (req != e->commit_seen ||
			    (now_s() - e->txn_t0) * 1e3 >= (double)e->cfg->commit_interval_ms ||
			    e->txn_msgs >= (uint64_t)e->cfg->commit_max_messages))
		txn_commit(e);
	if (req != e->commit_seen) {
		e->commit_seen = req;
		atomic_store(&e->commit_done, req);
		sem_post(&e->commit_bell);
	}
}

static void produce_batch(struct engine *e, struct worker *w, struct fg_batch *b)
{
	if (e->eos) {
		if (b->epoch < e->drop_below) {
			recycle(e, b, 0); /* assessed before an abort: read again after the rewind */
			return;
		}
		if (!e->txn_open) {
			char err[512];
			if (fg_kafka_sink_txn_begin(e->sink, err, sizeof(err)) != FG_TXN_OK) {
				set_fatal(e, "%s%s", err, "");
				recycle(e, b, 0);
				return;
			}
			e->txn_open = 1;
			e->txn_t0 = now_s();
		}
		txn_add_offsets(e, b);
	}
	b->pending = b->n;
	b->err = RD_KAFKA_RESP_ERR_NO_ERROR;
	b->next = NULL;
	if (w->tail)
		w->tail->next = b;
	else
		w->head = b;
	w->tail = b;
	for (uint32_t i = 0; i < b->n; i++) {
		const struct fg_out *o = &b->outs[i];
		rd_kafka_resp_err_t err = fg_kafka_sink_produce(
			e->sink, o->dead, o->key_len ? b->buf.buf + o->key_off : NULL, o->key_len,
			b->buf.buf + o->off, o->len, b);
		if (err) {
			/* Not queued, so no report will come: account for it here. */
			b->pending -= b->n - i;
			if (!b->err)
				b->err = err;
			if (e->eos && !e->txn_failed) {
				e->txn_failed = 1; /* its offsets are in the transaction */
				e->txn_err = err;
			}
			break;
		}
	}
}

static void *producer_main(void *arg)
{
	struct engine *e = arg;
	int finished = 0;
	char why[512];

	pthread_setname_np(pthread_self(), "fg-produce");
	while (finished < e->nworkers || atomic_load(&e->in_flight) > 0) {
		int got = 0;
		for (int i = 0; i < e->nworkers; i++) {
			struct fg_batch *b;
			while ((b = take(&e->w[i].out, e->w[i].out_buf))) {
				got = 1;
				if (b == &sentinel)
					finished++;
				else
					produce_batch(e, &e->w[i], b);
			}
		}
		fg_kafka_sink_poll(e->sink, 0);
		complete(e);
		if (e->eos)
			txn_tick(e);
		if (fg_kafka_sink_fatal(e->sink, why, sizeof(why)))
			set_fatal(e, "the producer cannot go on (fenced by another instance with the "
				     "same transactional.id, or a fatal broker error): %s%s",
				  why, "");
		if (atomic_load(&e->fatal))
			break;
		if (!got) {
			/* Nothing new: sleep until a worker hands a batch over or a
			 * delivery report comes (both ring the doorbell), then serve. */
			out_bell_wait(e, 5);
			fg_kafka_sink_poll(e->sink, 0);
			complete(e);
		}
	}
	if (e->eos && !atomic_load(&e->fatal)) {
		atomic_store(&e->commit_req, e->commit_seen + 1);
		txn_tick(e); /* commits whatever is left */
	}
	if (atomic_load(&e->fatal))
		fg_kafka_sink_purge(e->sink); /* stopping on an error: no waiting */
	else if (!e->eos)
		fg_kafka_sink_flush(e->sink);
	fg_kafka_sink_poll(e->sink, 0);
	complete(e);
	atomic_store(&e->producer_running, 0);
	sem_post(&e->commit_bell);
	return NULL;
}

/* ---- reload ---------------------------------------------------------------- */

static void *reloader_main(void *arg)
{
	struct engine *e = arg;
	char err[1024], fp[33];

	pthread_setname_np(pthread_self(), "fg-reload");
	while (!atomic_load(&e->reloader_stop)) {
		if (bell_wait(&e->reload_bell, 200))
			continue;
		if (atomic_load(&e->reloader_stop))
			break;
		if (fg_refstore_reload(e->cfg->data_dir, fp, err, sizeof(err)))
			fprintf(stderr, "floorgate: reload refused, the tables in force stay: %s\n",
				err);
		else
			fprintf(stderr, "floorgate: reference data reloaded: %s (%s)\n", fp,
				e->cfg->data_dir);
	}
	return NULL;
}

/* ---- consumer (the caller's thread) -------------------------------------- */

static void dispatch(struct engine *e, struct worker *w)
{
	struct fg_batch *b = w->current;

	if (!b || b->n == 0)
		return;
	w->current = NULL;
	b->epoch = e->epoch; /* only this thread writes it */
	/* Counted once a batch (not each message): it is what the cap holds. */
	atomic_fetch_add(&e->inflight_bytes, (long long)b->in_bytes);
	atomic_fetch_add(&e->in_flight, 1);
	hand_off(&w->in, w->in_buf, &w->in_bell, b);
}

/* A free batch, pausing the partitions while none is free. NULL on fatal or stop. */
static struct fg_batch *free_batch(struct engine *e)
{
	struct fg_batch *b = free_get(e);
	int paused = 0;

	while (!b) {
		if (!paused && !e->cap_paused) {
			/* Full: stop fetching rather than buffer without bound. */
			fg_kafka_source_pause(e->src, 1);
			paused = 1;
			atomic_fetch_add_explicit(&fg_runner_full_pauses, 1, memory_order_relaxed);
		}
		/* A stop ends the wait too: with the cluster gone no batch may
		 * ever come back. */
		if (atomic_load(&e->fatal) || fg_runner_stop)
			break;
		bell_wait(&e->free_bell, 10);
		b = free_get(e);
	}
	if (paused)
		fg_kafka_source_pause(e->src, 0);
	return b;
}

/*
 * Finishes everything in flight (rebalance, shutdown); exactly_once also
 * commits the open transaction. Returns 0 when everything taken so far is
 * acknowledged (at_least_once) or committed (exactly_once), -1 otherwise.
 * @locality: consumer thread.
 */
static int drain(void *ctx)
{
	struct engine *e = ctx;

	double until = now_s() + e->cfg->flush_timeout_ms / 1e3;

	for (int i = 0; i < e->nworkers; i++)
		dispatch(e, &e->w[i]);
	while (atomic_load(&e->in_flight) > 0 && !atomic_load(&e->fatal)) {
		if (now_s() > until) {
			/* Bounded: what is unacknowledged stays uncommitted and is read again. */
			set_fatal(e, "outputs still unacknowledged after run.flush_timeout_ms%s%s", "",
				  "");
			break;
		}
		bell_wait(&e->free_bell, 10);
	}
	if (atomic_load(&e->fatal))
		return -1;
	if (e->eos && atomic_load(&e->producer_running)) {
		unsigned long req = atomic_fetch_add(&e->commit_req, 1) + 1;
		ring_out_bell(e);
		while (atomic_load(&e->commit_done) < req && !atomic_load(&e->fatal) &&
		       atomic_load(&e->producer_running))
			bell_wait(&e->commit_bell, 10);
		if (atomic_load(&e->commit_done) < req)
			return -1;
	}
	return e->eos && atomic_load(&e->abort_seq) != e->served_seq ? -1 : 0;
}

/*
 * exactly_once, after an abort: drops the batches being filled, starts a new
 * epoch (the producer drops every batch of older ones) and seeks the input
 * back to the committed offsets. @locality: consumer thread.
 */
static void rewind_input(struct engine *e)
{
	char err[512];

	for (int i = 0; i < e->nworkers; i++) {
		struct fg_batch *b = e->w[i].current;
		if (!b)
			continue;
		for (uint32_t k = 0; k < b->n; k++)
			rd_kafka_message_destroy(b->msgs[k]);
		b->n = 0; /* not dispatched, so not counted in inflight_bytes */
		b->in_bytes = 0;
	}
	pthread_mutex_lock(&e->rewind_mu);
	e->epoch++;
	e->served_seq = atomic_load(&e->abort_seq);
	pthread_mutex_unlock(&e->rewind_mu);
	if (fg_kafka_source_rewind(e->src, err, sizeof(err)) < 0)
		set_fatal(e, "%s%s", err, "");
}

/*
 * The progress line: counts since start-up and the rate since the last line
 * (what the instance does now, 0 while idle); the final line gives the
 * average over the whole run instead.
 */
static void progress(struct engine *e, double t0, int final)
{
	double t = now_s();
	int tty = isatty(STDERR_FILENO);
	unsigned long long done = atomic_load(&fg_runner_done);
	double since = final || e->progress_t == 0 ? t0 : e->progress_t;
	unsigned long long base = final ? 0 : e->progress_done;

	fprintf(stderr, "%sin %llu  assessed %llu  dead-lettered %llu  %.0f decl/s%s%s",
		tty ? "\r" : "", (unsigned long long)e->taken,
		(unsigned long long)atomic_load(&e->assessed),
		(unsigned long long)atomic_load(&e->dead),
		t > since ? (double)(done - base) / (t - since) : 0.0, final ? " on average" : "",
		tty && !final ? "   " : "\n");
	fflush(stderr);
	e->progress_t = t;
	e->progress_done = done;
}

static int engine_init(struct engine *e, const struct fg_config *cfg,
		       const struct fg_schema_registry *reg, char *errstr, size_t errstr_size)
{
	unsigned ring = 2;

	memset(e, 0, sizeof(*e));
	e->out_fd = -1;
	e->cfg = cfg;
	e->reg = reg;
	e->nworkers = (int)cfg->workers;
	e->nbatches = (int)cfg->batches;
	while (ring <= (unsigned)e->nbatches + 2)
		ring <<= 1; /* every batch fits in every ring (ck_ring keeps one slot free) */
	e->w = calloc((size_t)e->nworkers, sizeof(*e->w));
	e->batches = calloc((size_t)e->nbatches, sizeof(*e->batches));
	if (!e->w || !e->batches)
		goto oom;
	atomic_init(&e->free_top, NULL);
	sem_init(&e->free_bell, 0, 0);
	e->out_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->out_fd < 0) {
		fg_errf(errstr, errstr_size, "cannot create an eventfd: %s", strerror(errno));
		return -1;
	}
	sem_init(&e->reload_bell, 0, 0);
	sem_init(&e->commit_bell, 0, 0);
	pthread_mutex_init(&e->rewind_mu, NULL);
	e->eos = cfg->guarantee == FG_CONFIG_EXACTLY_ONCE;
	e->txn_offsets = rd_kafka_topic_partition_list_new(16);
	for (int i = 0; i < e->nbatches; i++) {
		struct fg_batch *b = &e->batches[i];
		b->cap = (uint32_t)cfg->batch_size;
		b->msgs = calloc(b->cap, sizeof(*b->msgs));
		b->outs = calloc(b->cap, sizeof(*b->outs));
		if (!b->msgs || !b->outs || fg_avrobin_init(&b->buf, BATCH_BUF_MIN))
			goto oom;
		b->free_next = atomic_load_explicit(&e->free_top, memory_order_relaxed);
		atomic_store_explicit(&e->free_top, b, memory_order_relaxed); /* no thread runs yet */
		e->nfree++;
	}
	for (int i = 0; i < e->nworkers; i++) {
		struct worker *w = &e->w[i];
		w->e = e;
		w->idx = i;
		w->in_buf = calloc(ring, sizeof(ck_ring_buffer_t));
		w->out_buf = calloc(ring, sizeof(ck_ring_buffer_t));
		if (!w->in_buf || !w->out_buf)
			goto oom;
		ck_ring_init(&w->in, ring);
		ck_ring_init(&w->out, ring);
		sem_init(&w->in_bell, 0, 0);
		if (fg_pipeline_init(&w->pl, reg, NULL, (int32_t)cfg->assessment_schema_id,
				     (int32_t)cfg->deadletter_schema_id, errstr, errstr_size))
			return -1;
		w->pl_ok = 1;
	}
	return 0;
oom:
	fg_errf(errstr, errstr_size, "out of memory for %d batches of %lld messages", e->nbatches,
		(long long)cfg->batch_size);
	return -1;
}

static void engine_fini(struct engine *e, struct fg_pipeline_stats *stats)
{
	if (stats)
		memset(stats, 0, sizeof(*stats));
	for (int i = 0; e->w && i < e->nworkers; i++) {
		struct worker *w = &e->w[i];
		if (w->pl_ok) {
			if (stats)
				fg_pipeline_stats_merge(stats, &w->pl.stats);
			fg_pipeline_fini(&w->pl);
		}
		free(w->in_buf);
		free(w->out_buf);
		sem_destroy(&w->in_bell);
	}
	for (int i = 0; e->batches && i < e->nbatches; i++) {
		struct fg_batch *b = &e->batches[i];
		for (uint32_t k = 0; k < b->n; k++)
			rd_kafka_message_destroy(b->msgs[k]);
		free(b->msgs);
		free(b->outs);
		fg_avrobin_fini(&b->buf);
	}
	free(e->w);
	free(e->batches);
	sem_destroy(&e->free_bell);
	if (e->out_fd >= 0)
		close(e->out_fd);
	sem_destroy(&e->reload_bell);
	sem_destroy(&e->commit_bell);
	pthread_mutex_destroy(&e->rewind_mu);
	if (e->txn_offsets)
		rd_kafka_topic_partition_list_destroy(e->txn_offsets);
}

/* A stop signal while the clients start is a clean stop: nothing was read,
 * nothing is owed. Returns 0 then (saying so), -1 for a real failure. */
static int stopped_starting(char *errstr)
{
	if (!fg_runner_stop)
		return -1;
	fprintf(stderr, "floorgate: %s; nothing was read\n", errstr);
	errstr[0] = '\0';
	return 0;
}

int fg_runner_run(const struct fg_config *cfg, const struct fg_schema_registry *reg,
		  struct fg_pipeline_stats *stats, char *errstr, size_t errstr_size)
{
	const char *topics[] = { cfg->input_topic, cfg->output_topic, cfg->deadletter_topic, NULL };
	struct engine e;
	rd_kafka_message_t **msgs = NULL;
	int started_workers = 0, started_producer = 0, started_reloader = 0, rc = -1;
	double t0 = now_s(), last = t0;

	if (engine_init(&e, cfg, reg, errstr, errstr_size))
		goto done;
	msgs = calloc((size_t)cfg->batch_size, sizeof(*msgs));
	if (!msgs) {
		fg_errf(errstr, errstr_size, "out of memory");
		goto done;
	}
	e.sink = fg_kafka_sink_create(cfg, on_delivery, &e, &fg_runner_stop, errstr, errstr_size);
	if (!e.sink) {
		rc = stopped_starting(errstr);
		goto done;
	}
	fg_kafka_sink_wake_fd(e.sink, e.out_fd);
	{
		/* A dead letter carries its input: keep it under the producer's limit
		 * (record overhead, reason and key included), so an input the input
		 * topic accepted never stalls its partition on the way out. */
		size_t max = fg_kafka_sink_max_message_bytes(e.sink);
		for (int i = 0; i < e.nworkers; i++)
			e.w[i].pl.max_dead_payload = max > 32768 ? max - 16384 : max / 2;
	}
	e.src = fg_kafka_source_create(cfg, topics, drain, &e, &fg_runner_stop, errstr,
				       errstr_size);
	if (!e.src) {
		rc = stopped_starting(errstr);
		goto done;
	}
	for (; started_workers < e.nworkers; started_workers++)
		if (pthread_create(&e.w[started_workers].thread, NULL, worker_main,
				   &e.w[started_workers])) {
			fg_errf(errstr, errstr_size, "cannot start worker threads");
			goto stop;
		}
	atomic_store(&e.producer_running, 1); /* before the thread can clear it */
	if (pthread_create(&e.producer, NULL, producer_main, &e)) {
		atomic_store(&e.producer_running, 0);
		fg_errf(errstr, errstr_size, "cannot start the producer thread");
		goto stop;
	}
	started_producer = 1;
	if (pthread_create(&e.reloader, NULL, reloader_main, &e) == 0)
		started_reloader = 1;
	struct engine *no_engine = NULL;
	atomic_compare_exchange_strong(&signal_engine, &no_engine, &e);

	const double linger_s = (double)cfg->linger_ms / 1e3;
	const double scarce_s = linger_s > LINGER_SCARCE_MS / 1e3 ? linger_s : LINGER_SCARCE_MS / 1e3;

	while (!fg_runner_stop && !atomic_load(&e.fatal)) {
		size_t want = (size_t)cfg->batch_size;
		if (cfg->max_messages && (uint64_t)cfg->max_messages - e.taken < want)
			want = (size_t)((uint64_t)cfg->max_messages - e.taken);
		if (want == 0)
			break;
		if (e.eos && atomic_load(&e.abort_seq) != e.served_seq)
			rewind_input(&e);
		/* Memory cap: stop fetching above it, resume below; nothing is dropped
		 * and the consume call below keeps serving rebalances meanwhile. */
		int over = atomic_load(&e.inflight_bytes) > cfg->max_inflight_bytes;
		if (over != e.cap_paused) {
			fg_kafka_source_pause(e.src, over);
			e.cap_paused = over;
			if (over)
				atomic_fetch_add(&fg_runner_cap_pauses, 1);
		}
		/* Waits for the first message only (then takes what is ready): a quiet
		 * stream adds no wait, a busy one still fills whole batches. */
		int wait_ms = 10;
		for (int i = 0; i < e.nworkers; i++)
			if (e.w[i].current && e.w[i].current->n) {
				double due = e.w[i].current_t0 + linger_s - now_s();
				int ms = due <= 0 ? 0 : (int)(due * 1e3) + 1;
				if (ms < wait_ms)
					wait_ms = ms;
			}
		ssize_t n = fg_kafka_source_consume(e.src, msgs, want, wait_ms);
		if (n < 0) {
			fg_errf(errstr, errstr_size, "consume failed: %s",
				rd_kafka_err2str(rd_kafka_last_error()));
			goto stop;
		}
		if (n == 0) {
			/* A fatal consumer error may come with no message at all. */
			char why[512];
			if (fg_kafka_source_fatal(e.src, why, sizeof(why))) {
				set_fatal(&e, "the consumer hit a fatal error: %s%s", why, "");
				break;
			}
		}
		for (ssize_t i = 0; i < n; i++) {
			rd_kafka_message_t *m = msgs[i];
			/* End-of-partition events exist only with exit_on_eof: track only then. */
			if (cfg->exit_on_eof)
				fg_kafka_source_track(e.src, m);
			if (m->err) {
				char why[512];
				if (m->err == RD_KAFKA_RESP_ERR__FATAL ||
				    fg_kafka_source_fatal(e.src, why, sizeof(why))) {
					/* e.g. fenced by a newer member with the same
					 * group.instance.id: this instance can never
					 * consume again, so it stops (exit 1) rather than
					 * idle. What it committed stays committed. */
					if (!fg_kafka_source_fatal(e.src, why, sizeof(why)))
						snprintf(why, sizeof(why), "%s",
							 rd_kafka_message_errstr(m));
					set_fatal(&e, "the consumer hit a fatal error: %s%s", why, "");
				} else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
					fprintf(stderr, "floorgate: consumer: %s\n",
						rd_kafka_message_errstr(m));
				}
				rd_kafka_message_destroy(m);
				continue;
			}
			if (!fg_kafka_source_accept(e.src, m)) {
				rd_kafka_message_destroy(m); /* returned again after a rebalance */
				continue;
			}
			struct worker *w = &e.w[(uint32_t)m->partition % (uint32_t)e.nworkers];
			if (!w->current) {
				w->current = free_batch(&e);
				if (!w->current) {
					/* fatal or stop meanwhile: give the rest back
					 * unassessed; no offset of it is stored, so the
					 * group reads it again. (msgs[i] was accepted:
					 * harmless, as the loop ends here.) */
					for (ssize_t k = i; k < n; k++)
						rd_kafka_message_destroy(msgs[k]);
					if (atomic_load(&e.fatal))
						goto stop;
					break;
				}
				w->current->worker = (uint32_t)w->idx;
			}
			if (w->current->n == 0)
				w->current_t0 = now_s();
			w->current->msgs[w->current->n++] = m;
			w->current->in_bytes += m->len + m->key_len;
			e.taken++;
			if (w->current->n == w->current->cap)
				dispatch(&e, w);
		}
		/* Partial batches go after run.linger_ms. While batches are scarce
		 * (under a quarter free) they fill up for up to LINGER_SCARCE_MS
		 * more, so small batches do not use up the supply and pause the
		 * input, which costs librdkafka 2.0.2 about a second to resume. */
		double now = now_s();
		int nfree = atomic_load_explicit(&e.nfree, memory_order_relaxed);
		for (int i = 0; i < e.nworkers; i++) {
			struct worker *w = &e.w[i];
			if (!w->current || !w->current->n)
				continue;
			double age = now - w->current_t0;
			if (age >= scarce_s || (age >= linger_s && nfree * 4 >= e.nbatches))
				dispatch(&e, w);
		}
		if (cfg->progress_interval_ms && now_s() - last >= cfg->progress_interval_ms / 1e3) {
			last = now_s();
			progress(&e, t0, 0);
		}
		if (cfg->exit_on_eof && fg_kafka_source_at_end(e.src) &&
		    atomic_load(&e.in_flight) == 0 &&
		    (!e.eos || atomic_load(&e.abort_seq) == e.served_seq) && drain(&e) == 0)
			break; /* exactly_once: the end is only reached once it is committed */
	}
	rc = 0;
stop:
	/* Finish what was handed out, then stop the threads in pipeline order. */
	if (started_workers == e.nworkers && started_producer)
		drain(&e);
	for (int i = 0; i < started_workers; i++)
		hand_off(&e.w[i].in, e.w[i].in_buf, &e.w[i].in_bell, &sentinel);
	for (int i = 0; i < started_workers; i++)
		pthread_join(e.w[i].thread, NULL);
	if (started_producer)
		pthread_join(e.producer, NULL);
	if (started_reloader) {
		atomic_store(&e.reloader_stop, 1);
		sem_post(&e.reload_bell);
		pthread_join(e.reloader, NULL);
	}
	struct engine *self = &e;
	atomic_compare_exchange_strong(&signal_engine, &self, NULL);
	if (atomic_load(&e.fatal)) {
		fg_errf(errstr, errstr_size, "%s", e.fatal_msg);
		rc = -1;
	}
	if (cfg->progress_interval_ms)
		progress(&e, t0, 1);
done:
	/* Inputs still held (a fatal stop leaves batches mid-way) go back first:
	 * librdkafka 2.0.2's consumer does not finish closing while the
	 * application holds any of its messages. Outputs live in the batches'
	 * own buffers, so the producer is not affected. */
	for (int i = 0; e.batches && i < e.nbatches; i++) {
		struct fg_batch *b = &e.batches[i];
		for (uint32_t k = 0; k < b->n; k++)
			rd_kafka_message_destroy(b->msgs[k]);
		b->n = 0;
	}
	/* Commits what was stored: only inputs whose outputs were acknowledged. */
	fg_kafka_source_destroy(e.src);
	fg_kafka_sink_destroy(e.sink);
	free(msgs);
	engine_fini(&e, stats);
	return rc;
}
