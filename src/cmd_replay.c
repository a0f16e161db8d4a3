/*
 * cmd_replay.c: `floorgate replay`, assessments recomputed from history.
 *
 * DESIGN
 * Replay runs the live per-message path (fg_pipeline) over declarations
 * that were already processed, from Avro container files or from a Kafka
 * topic range, without touching the live pipeline (ingest/fg_kafka_range.h:
 * plain assignment, a group of its own, nothing committed).
 *
 * Threads. One reader (the calling thread), N workers, one writer:
 *
 *   reader --batch #s--> work[s % N] --> worker --> done[s % N] --> writer
 *      ^                                                            |
 *      +----------------------- free batches -----------------------+
 *
 * The reader fills batches and deals them round-robin by sequence number:
 * whole container blocks, inflated, whose records the worker splits with
 * the file's skip program (ingest/fg_ocf_reader.h), or Kafka messages with
 * their source position. Worker k assesses its batches in the order it
 * gets them; the writer takes batch s from done[s % N], so it sees batches
 * exactly in input order and writes outputs in input order. Each output
 * depends only on its input record and reference data, and the container
 * writer cuts blocks by size, not by batch, so the output files are
 * byte-identical for any N and batch size. A fixed pool of 2N + 2 batches
 * bounds memory; when none is free the reader blocks on the free queue (a
 * condition variable, never a sleep-and-retry), which is the
 * back-pressure: replay is as fast as its slowest stage. The queues are a
 * mutex and a condition variable rather than ck rings because every party
 * must be able to sleep until there is work; hand-offs are per batch, so
 * the lock is taken a few thousand times a second at most.
 *
 * Record bodies reach the pipeline as written (fg_ocf_reader.h); bodies
 * written with declaration.avsc then go to the schema-specialised codec.
 *
 * Bad input stops the replay in input order (a worker marks its batch, the
 * writer reports it). Outputs are written beside their paths and renamed
 * into place at the end (sinks/fg_outfile.h): any failure or SIGINT/SIGTERM
 * drops them and leaves the paths as they were.
 *
 * Reference data: one set (--data, or --store with --version FP), or per
 * declaration the set its recorded output names (--version as-recorded
 * --recorded FILES, pricing/fg_recorded.h), looked up by source position.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <avro.h>
#include <librdkafka/rdkafka.h>

#include "../core/fg_avrobin.h"
#include "../ingest/fg_decode.h"
#include "../ingest/fg_frame.h"
#include "../ingest/fg_kafka_range.h"
#include "../ingest/fg_ocf_reader.h"
#include "../pricing/fg_datastore.h"
#include "../pricing/fg_recorded.h"
#include "../sinks/fg_csv_lines.h"
#include "../sinks/fg_kafka_sink.h"
#include "../sinks/fg_ocf.h"
#include "../sinks/fg_outfile.h"
#include "fg_cmd.h"
#include "fg_config.h"
#include "fg_pipeline.h"

#define RP_MAX_WORKERS 64

/* ---- batches and the queues that move them ----------------------------- */

struct rp_item {
	size_t off, len;         /* input bytes in batch->in */
	size_t key_off, key_len; /* Kafka key in batch->in */
	int32_t partition;
	int64_t offset;          /* Kafka offset, or -1 */
	int64_t index;           /* record number in its file, or -1 */
	uint32_t file;           /* index into rp.files */
	const struct fg_refdata *rd;
};

/* A container block in batch->in: its records are split by the worker. */
struct rp_block {
	size_t off, len;
	int64_t count, first; /* records, and the record number of the first in its file */
	uint32_t file;
	uint64_t number;      /* block number in the file, for messages */
};

struct rp_out {
	size_t off, len;         /* framed output (5-byte frame + body) in batch->out */
	size_t key_off, key_len; /* message key in batch->out */
	int dead;
};

struct rp_batch {
	uint64_t seq;
	struct rp_item *items;   /* a topic source: one per message, cap of them */
	uint32_t n_items, cap;
	struct rp_block *blocks; /* a file source: whole blocks */
	uint32_t n_blocks, cap_blocks;
	int64_t records;         /* records in the blocks */
	struct rp_out *outs;     /* one per record, filled by the worker */
	uint32_t n, cap_outs;
	struct fg_avrobin in, out, csv;
	uint64_t progress; /* input consumed up to the end of this batch (bytes or messages) */
	int oom;
	int err_code;      /* the worker found bad input: exit code and message */
	char err[512];
};

struct rp_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct rp_batch **v;
	size_t head, n, cap;
	int closed;
};

static int queue_init(struct rp_queue *q, size_t cap)
{
	memset(q, 0, sizeof(*q));
	q->v = calloc(cap, sizeof(*q->v));
	q->cap = cap;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	return q->v ? 0 : -1;
}

static void queue_fini(struct rp_queue *q)
{
	free(q->v);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
}

/* Never blocks: every queue can hold the whole pool. */
static void queue_put(struct rp_queue *q, struct rp_batch *b)
{
	pthread_mutex_lock(&q->mu);
	q->v[(q->head + q->n) % q->cap] = b;
	q->n++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* Waits for a batch; NULL once the queue is closed and empty. */
static struct rp_batch *queue_get(struct rp_queue *q)
{
	struct rp_batch *b = NULL;

	pthread_mutex_lock(&q->mu);
	while (q->n == 0 && !q->closed)
		pthread_cond_wait(&q->cv, &q->mu);
	if (q->n) {
		b = q->v[q->head];
		q->head = (q->head + 1) % q->cap;
		q->n--;
	}
	pthread_mutex_unlock(&q->mu);
	return b;
}

static void queue_close(struct rp_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* ---- the replay --------------------------------------------------------- */

struct rp_file {
	char *path;
	uint64_t size;
	const struct fg_schema_entry *entry;
	struct fg_ocf_skip *skip; /* finds record boundaries in its blocks */
};

struct rp;

struct rp_worker {
	struct rp *rp;
	pthread_t th;
	struct fg_pipeline pl;
	int pl_ok;
	struct rp_queue work, done;
};

struct rp {
	/* options */
	char **in;
	size_t n_in;
	const char *topic;
	size_t topic_len; /* strlen(topic), counted once for the encoder */
	const char *from, *to, *offsets;
	const char *data, *store, *version;
	char **recorded;
	size_t n_recorded;
	const char *out, *dlq, *csv;
	int produce, quiet, progress;
	int nworkers;
	uint32_t batch_size;
	struct fg_config cfg;

	/* state */
	struct fg_schema_registry reg;
	struct rp_file *files;
	struct fg_refdata *rd; /* the one set, unless as-recorded */
	struct fg_recorded *rec; /* as-recorded */
	struct rp_batch *pool;
	size_t n_pool;
	struct rp_queue free_q;
	struct rp_worker *w;
	pthread_t writer;
	int writer_started;
	struct fg_ocf_writer fw_out, fw_dlq;
	struct fg_outfile csv_out; /* csv_out.f: NULL without --csv */
	struct fg_kafka_sink *sink;
	atomic_int delivery_failed;
	atomic_int stop;  /* the writer failed: the reader stops feeding */
	atomic_int oom;   /* a worker ran out of memory */
	char werr[1024];  /* the writer's error */
	int err_code;     /* its exit code (0: FG_EXIT_FAIL) */
	uint64_t total;   /* bytes (files) or messages (topic) to read, for progress */
	uint64_t written, assessed, dead;
	struct timespec t0;
	uint64_t next_seq; /* reader only */
};

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- workers ------------------------------------------------------------ */

static const struct fg_refdata *rd_for(struct rp *rp, int32_t partition, int64_t pos, char *err,
				       size_t err_size);

/* Assesses one record into the batch's next output. Returns 0, or -1 out of memory. */
static int assess_one(struct rp_worker *w, struct rp_batch *b, const uint8_t *body, size_t len,
		      const struct rp_file *f, const struct fg_source_pos *pos, const void *key,
		      size_t key_len, const struct fg_refdata *rd)
{
	struct rp *rp = w->rp;
	struct fg_pipeline *pl = &w->pl;
	struct fg_output o;
	char source[64];

	if (b->n == b->cap_outs) {
		uint32_t cap = b->cap_outs ? b->cap_outs * 2 : 1024;
		struct rp_out *v = realloc(b->outs, cap * sizeof(*v));
		if (!v)
			return -1;
		b->outs = v;
		b->cap_outs = cap;
	}
	pl->rd = rd;
	if (fg_pipeline_process(pl, body, len, f ? f->entry : NULL, pos, &o))
		return -1;
	struct rp_out *ro = &b->outs[b->n++];
	if (!key && o.decl && !f) {
		/* the live runner's choice for messages without a key */
		key = o.decl->declaration_id.p;
		key_len = o.decl->declaration_id.len;
	}
	/* The encoder wrote the output at the end of b->out; its key follows. */
	ro->dead = o.kind == FG_OUT_DEAD_LETTER;
	ro->off = (size_t)(o.enc.framed - b->out.buf);
	ro->len = o.enc.framed_len;
	ro->key_off = ro->off + ro->len;
	ro->key_len = key_len;
	if (key_len && fg_avrobin_raw(&b->out, key, key_len))
		return -1;
	if (rp->csv_out.f && !ro->dead) {
		if (f)
			snprintf(source, sizeof(source), "%lld", (long long)pos->index);
		else
			snprintf(source, sizeof(source), "%d:%lld", (int)pos->partition,
				 (long long)pos->offset);
		fg_csv_lines_append(&b->csv, &pl->as, source);
	}
	return 0;
}

/* Messages of a topic, one item each. */
static int assess_items(struct rp_worker *w, struct rp_batch *b)
{
	for (uint32_t i = 0; i < b->n_items; i++) {
		const struct rp_item *it = &b->items[i];
		struct fg_source_pos pos = { .topic = w->rp->topic,
					     .topic_len = w->rp->topic_len,
					     .partition = it->partition,
					     .offset = it->offset,
					     .index = -1 };
		if (assess_one(w, b, b->in.buf + it->off, it->len, NULL, &pos,
			       it->key_len ? b->in.buf + it->key_off : NULL, it->key_len, it->rd))
			return -1;
	}
	return 0;
}

/*
 * Whole container blocks: the records are split here, on the worker, so
 * the reader thread only reads and inflates. Bytes that are not records of
 * the file's schema stop the replay (the file is broken, not one record).
 */
static int assess_blocks(struct rp_worker *w, struct rp_batch *b)
{
	struct rp *rp = w->rp;

	for (uint32_t i = 0; i < b->n_blocks; i++) {
		const struct rp_block *bl = &b->blocks[i];
		const struct rp_file *f = &rp->files[bl->file];
		const uint8_t *p = b->in.buf + bl->off, *start = p, *end = p + bl->len;

		for (int64_t k = 0; k < bl->count; k++) {
			struct fg_source_pos pos = { .file = f->path, .index = bl->first + k,
						     .partition = -1, .offset = -1 };
			const uint8_t *next = fg_ocf_skip_record(f->skip, p, end);
			const struct fg_refdata *rd;

			if (!next) {
				fg_errf(b->err, sizeof(b->err),
					"%s: block %llu: record %lld (at byte %zu of the block) does not "
					"match the writer schema",
					f->path, (unsigned long long)bl->number, (long long)pos.index,
					(size_t)(p - start));
				b->err_code = FG_EXIT_USAGE;
				return 0;
			}
			rd = rd_for(rp, -1, pos.index, b->err, sizeof(b->err));
			if (!rd) {
				b->err_code = FG_EXIT_FAIL;
				return 0;
			}
			if (assess_one(w, b, p, (size_t)(next - p), f, &pos, NULL, 0, rd))
				return -1;
			p = next;
		}
		if (p != end) {
			fg_errf(b->err, sizeof(b->err), "%s: block %llu: %zu bytes after its last record",
				f->path, (unsigned long long)bl->number, (size_t)(end - p));
			b->err_code = FG_EXIT_USAGE;
			return 0;
		}
	}
	return 0;
}

static void assess_batch(struct rp_worker *w, struct rp_batch *b)
{
	b->n = 0;
	b->out.len = 0;
	b->out.oom = 0;
	b->csv.len = 0;
	b->csv.oom = 0;
	fg_encoder_append_to(w->pl.enc, &b->out);
	if ((b->n_blocks ? assess_blocks(w, b) : assess_items(w, b)) || b->out.oom || b->csv.oom)
		b->oom = 1;
	fg_encoder_append_to(w->pl.enc, NULL); /* the batch leaves this thread */
}

static void *worker_main(void *arg)
{
	struct rp_worker *w = arg;
	struct rp_batch *b;

	while ((b = queue_get(&w->work))) {
		assess_batch(w, b);
		if (b->oom)
			atomic_store(&w->rp->oom, 1);
		queue_put(&w->done, b);
	}
	queue_close(&w->done);
	return NULL;
}

/* ---- the writer --------------------------------------------------------- */

static void on_delivery(void *msg_opaque, rd_kafka_resp_err_t err, void *ctx)
{
	struct rp *rp = ctx;
	(void)msg_opaque;
	if (err && !atomic_exchange(&rp->delivery_failed, 1))
		snprintf(rp->werr, sizeof(rp->werr), "an output was not delivered: %s",
			 rd_kafka_err2str(err));
}

static void show_progress(struct rp *rp, uint64_t done, int final)
{
	double t = since(&rp->t0), rate = t > 0 ? (double)rp->written / t : 0;
	double frac = rp->total ? (double)done / (double)rp->total : 0;
	char eta[32] = "--:--";
	int bar = (int)(frac * 30);

	if (frac > 0 && frac <= 1) {
		long s = (long)(t / frac - t + 0.5);
		snprintf(eta, sizeof(eta), "%ld:%02ld", s / 60, s % 60);
	}
	fprintf(stderr, "\rreplay [%.*s%*s] %5.1f%%  %llu decl  %.0f/s  ETA %s   ", bar,
		"##############################", 30 - bar, "", frac * 100,
		(unsigned long long)rp->written, rate, final ? "0:00" : eta);
	if (final)
		fputc('\n', stderr);
}

static int write_batch(struct rp *rp, struct rp_batch *b)
{
	char err[1024];

	if (b->err_code) {
		/* earlier records of the batch are not written: the outputs are removed anyway */
		snprintf(rp->werr, sizeof(rp->werr), "%s", b->err);
		rp->err_code = b->err_code;
		return -1;
	}
	for (uint32_t i = 0; i < b->n; i++) {
		const struct rp_out *o = &b->outs[i];
		const uint8_t *framed = b->out.buf + o->off;
		if (rp->out &&
		    fg_ocf_writer_append(o->dead ? &rp->fw_dlq : &rp->fw_out, framed + FG_FRAME_HEADER_LEN,
					 o->len - FG_FRAME_HEADER_LEN, err, sizeof(err))) {
			snprintf(rp->werr, sizeof(rp->werr), "%s", err);
			return -1;
		}
		if (rp->sink) {
			rd_kafka_resp_err_t e = fg_kafka_sink_produce(
				rp->sink, o->dead, o->key_len ? b->out.buf + o->key_off : NULL,
				o->key_len, framed, o->len, NULL);
			if (e) {
				snprintf(rp->werr, sizeof(rp->werr), "cannot produce: %s",
					 rd_kafka_err2str(e));
				return -1;
			}
		}
		if (o->dead)
			rp->dead++;
		else
			rp->assessed++;
	}
	if (rp->csv_out.f && b->csv.len &&
	    fwrite(b->csv.buf, 1, b->csv.len, rp->csv_out.f) != b->csv.len) {
		snprintf(rp->werr, sizeof(rp->werr), "%s: %s", rp->csv, strerror(errno));
		return -1;
	}
	/* Kafka payloads live in the batch: all acknowledged before it is reused. */
	if (rp->sink && (fg_kafka_sink_flush(rp->sink) || atomic_load(&rp->delivery_failed))) {
		if (!rp->werr[0])
			snprintf(rp->werr, sizeof(rp->werr), "outputs not delivered within the flush timeout");
		return -1;
	}
	rp->written += b->n;
	return 0;
}

static void *writer_main(void *arg)
{
	struct rp *rp = arg;
	struct timespec last = rp->t0;
	uint64_t done = 0;

	for (uint64_t seq = 0;; seq++) {
		struct rp_batch *b = queue_get(&rp->w[seq % (uint64_t)rp->nworkers].done);
		if (!b)
			break;
		if (!atomic_load(&rp->stop) && !atomic_load(&rp->oom)) {
			if (write_batch(rp, b))
				atomic_store(&rp->stop, 1);
			done = b->progress;
			if (rp->progress && since(&last) > 0.25) {
				clock_gettime(CLOCK_MONOTONIC, &last);
				show_progress(rp, done, 0);
			}
		}
		b->n = 0;
		queue_put(&rp->free_q, b);
	}
	if (rp->progress && !atomic_load(&rp->stop))
		show_progress(rp, rp->total, 1);
	return NULL;
}

/* ---- the reader: batches ------------------------------------------------- */

static struct rp_batch *take_batch(struct rp *rp)
{
	struct rp_batch *b = queue_get(&rp->free_q);

	if (b) {
		b->n = 0;
		b->n_items = 0;
		b->n_blocks = 0;
		b->records = 0;
		b->err_code = 0;
		b->err[0] = '\0';
		b->in.len = 0;
		b->in.oom = 0;
		b->oom = 0;
	}
	return b;
}

static void send_batch(struct rp *rp, struct rp_batch *b, uint64_t progress)
{
	b->seq = rp->next_seq++;
	b->progress = progress;
	queue_put(&rp->w[b->seq % (uint64_t)rp->nworkers].work, b);
}

/* Appends one record to b. Returns 0, or -1 when out of memory. */
static int batch_add(struct rp_batch *b, const void *body, size_t len, const void *key,
		     size_t key_len, const struct rp_item *pos)
{
	uint8_t *p = fg_avrobin_room(&b->in, len + key_len);
	struct rp_item *it = &b->items[b->n_items];

	if (!p)
		return -1;
	*it = *pos;
	it->off = b->in.len;
	it->len = len;
	if (len)
		memcpy(p, body, len);
	it->key_off = b->in.len + len;
	it->key_len = key_len;
	if (key_len)
		memcpy(p + len, key, key_len);
	b->in.len += len + key_len;
	b->n_items++;
	return 0;
}

/* ---- as-recorded --------------------------------------------------------- */

/* The reference data for one record. NULL (and a message) when none. */
static const struct fg_refdata *rd_for(struct rp *rp, int32_t partition, int64_t pos, char *err,
				       size_t err_size)
{
	if (rp->rd)
		return rp->rd;
	const struct fg_refdata *rd = fg_recorded_get(rp->rec, partition, pos);
	if (!rd) {
		if (partition >= 0)
			fg_errf(err, err_size, "no recorded output names partition %d offset %lld",
				(int)partition, (long long)pos);
		else
			fg_errf(err, err_size, "no recorded output names record %lld", (long long)pos);
		return NULL;
	}
	return rd;
}

/* ---- the reader: files --------------------------------------------------- */

static int open_files(struct rp *rp, char *err, size_t err_size)
{
	rp->files = calloc(rp->n_in, sizeof(*rp->files));
	if (!rp->files)
		return -1;
	for (size_t i = 0; i < rp->n_in; i++) {
		struct fg_ocf_reader *r = fg_ocf_reader_open(rp->in[i], err, err_size);
		struct stat st;
		if (!r)
			return -1;
		if (fg_decoder_check_writer(fg_ocf_reader_schema(r), rp->in[i], err, err_size)) {
			fg_ocf_reader_close(r);
			return -1;
		}
		int rc = fg_schema_registry_add(&rp->reg, FG_SCHEMA_ID_FILE - (int32_t)i,
						fg_ocf_reader_schema(r), fg_ocf_reader_scales(r),
						rp->in[i]);
		rp->files[i].skip = fg_ocf_skip_create(fg_ocf_reader_schema(r));
		fg_ocf_reader_close(r);
		if (rc || !rp->files[i].skip) {
			fg_errf(err, err_size, "out of memory");
			return -1;
		}
		rp->files[i].path = rp->in[i];
		rp->files[i].size = stat(rp->in[i], &st) == 0 ? (uint64_t)st.st_size : 0;
		rp->total += rp->files[i].size;
	}
	for (size_t i = 0; i < rp->n_in; i++)
		rp->files[i].entry = fg_schema_registry_get(&rp->reg, FG_SCHEMA_ID_FILE - (int32_t)i);
	return 0;
}

/* Appends one block to b. Returns 0, or -1 when out of memory. */
static int batch_add_block(struct rp_batch *b, const uint8_t *data, size_t len, int64_t count,
			   int64_t first, uint32_t file, uint64_t number)
{
	uint8_t *p = fg_avrobin_room(&b->in, len);

	if (!p)
		return -1;
	if (b->n_blocks == b->cap_blocks) {
		uint32_t cap = b->cap_blocks ? b->cap_blocks * 2 : 16;
		struct rp_block *v = realloc(b->blocks, cap * sizeof(*v));
		if (!v)
			return -1;
		b->blocks = v;
		b->cap_blocks = cap;
	}
	if (len)
		memcpy(p, data, len);
	b->blocks[b->n_blocks++] = (struct rp_block){ b->in.len, len, count, first, file, number };
	b->in.len += len;
	b->records += count;
	return 0;
}

/*
 * Reads the files block by block into batches of whole blocks (at least
 * --batch-size records each, or the file's end). Records are split and
 * checked on the workers.
 */
static int read_files(struct rp *rp, char *err, size_t err_size)
{
	struct rp_batch *b = NULL;
	uint64_t done = 0;
	int rc = -1;

	for (size_t i = 0; i < rp->n_in; i++) {
		struct fg_ocf_reader *r = fg_ocf_reader_open(rp->in[i], err, err_size);
		const uint8_t *data;
		size_t len;
		int64_t count, index = 0;
		int got;

		if (!r)
			goto done;
		while ((got = fg_ocf_reader_next_block(r, &data, &len, &count, err, err_size)) == 1) {
			if (atomic_load(&rp->stop) || atomic_load(&rp->oom) || fg_cmd_stop_signal) {
				fg_ocf_reader_close(r);
				rc = 0; /* the writer or a worker reports why */
				goto done;
			}
			if (!b && !(b = take_batch(rp))) {
				fg_ocf_reader_close(r);
				goto done;
			}
			if (batch_add_block(b, data, len, count, index, (uint32_t)i,
					    fg_ocf_reader_block_number(r))) {
				fg_errf(err, err_size, "out of memory");
				fg_ocf_reader_close(r);
				goto done;
			}
			index += count;
			if (b->records >= rp->batch_size) {
				send_batch(rp, b, done + fg_ocf_reader_tell(r));
				b = NULL;
			}
		}
		done += fg_ocf_reader_tell(r);
		fg_ocf_reader_close(r);
		if (got < 0)
			goto done;
	}
	rc = 0;
done:
	if (b && (b->n_items || b->n_blocks))
		send_batch(rp, b, done);
	else if (b)
		queue_put(&rp->free_q, b);
	return rc;
}

/* ---- the reader: a topic ------------------------------------------------- */

/*
 * Reads the topic range message by message (partition by partition, in
 * offset order) into batches of --batch-size messages.
 */
static int read_topic(struct rp *rp, struct fg_kafka_range *kr, char *err, size_t err_size)
{
	struct rp_batch *b = NULL;
	rd_kafka_message_t *m;
	int rc = -1, got;

	while ((got = fg_kafka_range_next(kr, &m, 500, err, err_size)) > 0) {
		if (atomic_load(&rp->stop) || atomic_load(&rp->oom) || fg_cmd_stop_signal) {
			if (got == 1)
				rd_kafka_message_destroy(m);
			rc = 0; /* the writer, a worker or the signal says why */
			goto done;
		}
		if (got == 2)
			continue; /* nothing yet */
		struct rp_item pos = { .partition = m->partition, .offset = m->offset,
				       .index = -1 };
		pos.rd = rd_for(rp, m->partition, m->offset, err, err_size);
		if (!pos.rd || (!b && !(b = take_batch(rp)))) {
			rd_kafka_message_destroy(m);
			goto done;
		}
		int r = batch_add(b, m->payload, m->len, m->key, m->key_len, &pos);
		rd_kafka_message_destroy(m);
		if (r) {
			fg_errf(err, err_size, "out of memory");
			goto done;
		}
		if (b->n_items == rp->batch_size) {
			send_batch(rp, b, fg_kafka_range_done(kr));
			b = NULL;
		}
	}
	rc = got;
done:
	if (b && (b->n_items || b->n_blocks))
		send_batch(rp, b, fg_kafka_range_done(kr));
	else if (b)
		queue_put(&rp->free_q, b);
	return rc;
}

/* ---- set-up ------------------------------------------------------------- */

static void replay_usage(FILE *f)
{
	fprintf(f,
		"usage: floorgate replay SOURCE REFERENCE-DATA SINKS [OPTIONS]\n\n"
		"Recomputes assessments from history with the live per-message code, without\n"
		"touching the live pipeline. Outputs are in input order and byte-identical for\n"
		"any --workers and --batch-size.\n\n"
		"source (one of):\n"
		"  FILE.avro ... | --in FILE.avro   Avro container files of declarations (any writer\n"
		"                                   schema that resolves; codecs null, deflate)\n"
		"  --topic T [--from TIME] [--to TIME]\n"
		"                                   a topic, by message timestamp: [from, to);\n"
		"                                   TIME is ms since the epoch, YYYY-MM-DD or\n"
		"                                   YYYY-MM-DDTHH:MM:SSZ; neither: the whole topic\n"
		"  --topic T --offsets P:START-END,...\n"
		"                                   a topic by offsets (START and END inclusive)\n"
		"  A topic is read by plain assignment, partitions in order, no group commits;\n"
		"  outputs carry source_topic/partition/offset as `floorgate run` writes them.\n"
		"  Brokers and schemas come from -c FILE / -X key=value as for `floorgate run`\n"
		"  (kafka.bootstrap.servers, schema.dir, output.topic, deadletter.topic).\n\n"
		"reference data (one of):\n"
		"  --data DIR                       the six tables in DIR\n"
		"  --store STORE --version FP       a version filed with `floorgate data add`\n"
		"                                   (STORE defaults to $FLOORGATE_STORE, else\n"
		"                                   %s)\n"
		"  --store STORE --version as-recorded --recorded FILE.avro ...\n"
		"                                   per declaration, the version its recorded\n"
		"                                   assessment or dead letter names (matched by\n"
		"                                   source offset, or record number for one file)\n\n"
		"sinks (--out and --dlq, or --produce, or both):\n"
		"  --out FILE.avro --dlq FILE.avro  assessments and dead letters (replaced when\n"
		"                                   the replay completes; never an input)\n"
		"  --csv FILE.csv                   with --out: also one row per assessed line\n"
		"  --produce                        to output.topic and deadletter.topic\n\n"
		"  --workers N        assessment threads (default 2, at most %d)\n"
		"  --batch-size N     records per hand-off (default 1024)\n"
		"  --quiet            no progress and no summary\n\n"
		"A progress bar with rate and ETA goes to standard error when it is a terminal,\n"
		"else one summary line at the end.\n"
		"Exit status: 0 done (dead letters are not a failure); 1 Kafka or I/O failure,\n"
		"or a declaration without a recorded version; 2 bad arguments, reference data\n"
		"refused, or an input that is not a readable container.\n",
		FG_DATASTORE_DEFAULT, RP_MAX_WORKERS);
}

static int add_arg(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	nv[(*n)++] = (char *)s;
	*v = nv;
	return 0;
}

static int parse_args(struct rp *rp, int argc, char **argv, int *help)
{
	enum { O_IN = 256, O_TOPIC, O_FROM, O_TO, O_OFFSETS, O_DATA, O_STORE, O_VERSION,
	       O_RECORDED, O_OUT, O_DLQ, O_CSV, O_PRODUCE, O_WORKERS, O_BATCH, O_QUIET };
	static const struct option opts[] = {
		{ "in", required_argument, NULL, O_IN },
		{ "topic", required_argument, NULL, O_TOPIC },
		{ "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },
		{ "offsets", required_argument, NULL, O_OFFSETS },
		{ "data", required_argument, NULL, O_DATA },
		{ "store", required_argument, NULL, O_STORE },
		{ "version", required_argument, NULL, O_VERSION },
		{ "recorded", required_argument, NULL, O_RECORDED },
		{ "out", required_argument, NULL, O_OUT },
		{ "dlq", required_argument, NULL, O_DLQ },
		{ "csv", required_argument, NULL, O_CSV },
		{ "produce", no_argument, NULL, O_PRODUCE },
		{ "workers", required_argument, NULL, O_WORKERS },
		{ "batch-size", required_argument, NULL, O_BATCH },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *file = NULL;
	char err[1024], *end;
	int c, in_recorded = 0;
	long v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "-c:X:h", opts, NULL)) != -1) {
		if (c != 1)
			in_recorded = 0;
		switch (c) {
		case 1: /* a bare argument: an input file, or one more --recorded file */
			if (add_arg(in_recorded ? &rp->recorded : &rp->in,
				    in_recorded ? &rp->n_recorded : &rp->n_in, optarg))
				return -1;
			break;
		case O_IN:
			if (add_arg(&rp->in, &rp->n_in, optarg))
				return -1;
			break;
		case O_RECORDED:
			if (add_arg(&rp->recorded, &rp->n_recorded, optarg))
				return -1;
			in_recorded = 1;
			break;
		case O_TOPIC:
			rp->topic = optarg;
			rp->topic_len = strlen(optarg);
			break;
		case O_FROM: rp->from = optarg; break;
		case O_TO: rp->to = optarg; break;
		case O_OFFSETS: rp->offsets = optarg; break;
		case O_DATA: rp->data = optarg; break;
		case O_STORE: rp->store = optarg; break;
		case O_VERSION: rp->version = optarg; break;
		case O_OUT: rp->out = optarg; break;
		case O_DLQ: rp->dlq = optarg; break;
		case O_CSV: rp->csv = optarg; break;
		case O_PRODUCE: rp->produce = 1; break;
		case O_QUIET: rp->quiet = 1; break;
		case O_WORKERS:
		case O_BATCH:
			errno = 0;
			v = strtol(optarg, &end, 10);
			long max = c == O_WORKERS ? RP_MAX_WORKERS : 1000000;
			if (errno || *end || v < 1 || v > max) {
				fprintf(stderr,
					"floorgate replay: --%s \"%s\" is not a whole number from 1 "
					"to %ld\n",
					c == O_WORKERS ? "workers" : "batch-size", optarg, max);
				return -1;
			}
			if (c == O_WORKERS)
				rp->nworkers = (int)v;
			else
				rp->batch_size = (uint32_t)v;
			break;
		case 'c': file = optarg; break;
		case 'X': break;
		case 'h': *help = 1; return 0;
		default: return -1;
		}
	}
	if (file && fg_config_load_file(&rp->cfg, file, err, sizeof(err))) {
		fprintf(stderr, "floorgate replay: %s\n", err);
		return -1;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "-c:X:h", opts, NULL)) != -1)
		if (c == 'X' && fg_config_set_arg(&rp->cfg, optarg, err, sizeof(err))) {
			fprintf(stderr, "floorgate replay: %s\n", err);
			return -1;
		}
	return 0;
}

/* An output must not name an input (it would be replaced) or another output. */
static int check_paths(const struct rp *rp)
{
	const struct fg_path_use outs[] = { { "--out", rp->out },
					    { "--dlq", rp->dlq },
					    { "--csv", rp->csv } };
	struct fg_path_use *ins = calloc(rp->n_in + rp->n_recorded + 2, sizeof(*ins));
	char err[1024];
	size_t n = 0;
	int rc;

	if (!ins) {
		fprintf(stderr, "floorgate replay: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < rp->n_in; i++)
		ins[n++] = (struct fg_path_use){ "an input file", rp->in[i] };
	for (size_t i = 0; i < rp->n_recorded; i++)
		ins[n++] = (struct fg_path_use){ "--recorded", rp->recorded[i] };
	/* the reference tables read: no output lands among them */
	ins[n++] = rp->data ? fg_cmd_tables_input(rp->data)
			    : (struct fg_path_use){ "--store", rp->store };
	rc = fg_outfile_check_paths(outs, FG_ARRAY_LEN(outs), ins, n, err, sizeof(err));
	if (rc)
		fprintf(stderr, "floorgate replay: %s\n", err);
	free(ins);
	return rc;
}

static int check_args(struct rp *rp)
{
	const char *why = NULL;

	if (!rp->n_in == !rp->topic)
		why = "give input files or --topic, not both and not neither";
	else if (rp->n_in && (rp->from || rp->to || rp->offsets))
		why = "--from, --to and --offsets are for --topic";
	else if (rp->offsets && (rp->from || rp->to))
		why = "give --offsets or --from/--to, not both";
	else if (!rp->data == !rp->version)
		why = "give --data DIR or --version FP|as-recorded (with --store)";
	else if (rp->version && !strcmp(rp->version, "as-recorded") && !rp->n_recorded)
		why = "--version as-recorded needs --recorded FILES";
	else if (rp->n_recorded && (!rp->version || strcmp(rp->version, "as-recorded")))
		why = "--recorded goes with --version as-recorded";
	else if (rp->n_recorded && rp->n_in > 1)
		why = "--version as-recorded matches records by number: replay one file at a time";
	else if (!rp->out != !rp->dlq)
		why = "--out and --dlq go together";
	else if (!rp->out && !rp->produce)
		why = "give --out and --dlq, or --produce";
	else if (rp->csv && !rp->out)
		why = "--csv goes with --out and --dlq";
	else if (rp->produce && rp->n_in)
		why = "--produce is for a topic source (file records carry no Kafka key)";
	if (why) {
		fprintf(stderr, "floorgate replay: %s\n(floorgate replay --help for usage)\n", why);
		return -1;
	}
	if (!rp->store)
		rp->store = fg_cmd_default_store();
	if (check_paths(rp))
		return -1;
	return 0;
}

static int setup_refdata(struct rp *rp, char *err, size_t err_size)
{
	char path[4096], why[1024];

	if (rp->data) {
		rp->rd = fg_refdata_load(rp->data, why, sizeof(why));
		if (!rp->rd)
			fg_errf(err, err_size, "reference data refused: %s", why);
		return rp->rd ? 0 : -1;
	}
	if (strcmp(rp->version, "as-recorded") == 0) {
		rp->rec = fg_recorded_load(rp->recorded, rp->n_recorded, rp->store, err, err_size);
		return rp->rec ? 0 : -1;
	}
	if (fg_datastore_path(rp->store, rp->version, path, sizeof(path), err, err_size))
		return -1;
	rp->rd = fg_refdata_load(path, why, sizeof(why));
	if (!rp->rd) {
		fg_errf(err, err_size, "stored version refused: %s", why);
		return -1;
	}
	return 0;
}

static int setup_threads(struct rp *rp, char *err, size_t err_size)
{
	rp->n_pool = (size_t)rp->nworkers * 2 + 2;
	rp->pool = calloc(rp->n_pool, sizeof(*rp->pool));
	rp->w = calloc((size_t)rp->nworkers, sizeof(*rp->w));
	if (!rp->pool || !rp->w || queue_init(&rp->free_q, rp->n_pool))
		goto oom;
	for (size_t i = 0; i < rp->n_pool; i++) {
		struct rp_batch *b = &rp->pool[i];
		b->cap = rp->batch_size;
		b->items = calloc(b->cap, sizeof(*b->items));
		b->cap_outs = b->cap;
		b->outs = calloc(b->cap_outs, sizeof(*b->outs));
		if (!b->items || !b->outs || fg_avrobin_init(&b->in, 1u << 16) ||
		    fg_avrobin_init(&b->out, 1u << 16) || fg_avrobin_init(&b->csv, 1024))
			goto oom;
		queue_put(&rp->free_q, b);
	}
	for (int i = 0; i < rp->nworkers; i++) {
		struct rp_worker *w = &rp->w[i];
		w->rp = rp;
		if (queue_init(&w->work, rp->n_pool) || queue_init(&w->done, rp->n_pool))
			goto oom;
		if (fg_pipeline_init(&w->pl, &rp->reg, rp->rd ? rp->rd : fg_recorded_version(rp->rec, 0),
				     (int32_t)rp->cfg.assessment_schema_id,
				     (int32_t)rp->cfg.deadletter_schema_id, err, err_size))
			return -1;
		w->pl_ok = 1;
	}
	return 0;
oom:
	fg_errf(err, err_size, "out of memory");
	return -1;
}

static void teardown(struct rp *rp)
{
	fg_ocf_writer_discard(&rp->fw_out);
	fg_ocf_writer_discard(&rp->fw_dlq);
	fg_outfile_discard(&rp->csv_out);
	fg_kafka_sink_destroy(rp->sink);
	for (size_t i = 0; rp->pool && i < rp->n_pool; i++) {
		free(rp->pool[i].items);
		free(rp->pool[i].blocks);
		free(rp->pool[i].outs);
		fg_avrobin_fini(&rp->pool[i].in);
		fg_avrobin_fini(&rp->pool[i].out);
		fg_avrobin_fini(&rp->pool[i].csv);
	}
	free(rp->pool);
	if (rp->w) {
		for (int i = 0; i < rp->nworkers; i++) {
			if (rp->w[i].pl_ok)
				fg_pipeline_fini(&rp->w[i].pl);
			if (rp->w[i].work.v)
				queue_fini(&rp->w[i].work);
			if (rp->w[i].done.v)
				queue_fini(&rp->w[i].done);
		}
		free(rp->w);
	}
	if (rp->free_q.v)
		queue_fini(&rp->free_q);
	for (size_t i = 0; rp->files && i < rp->n_in; i++)
		fg_ocf_skip_destroy(rp->files[i].skip);
	free(rp->files);
	free(rp->in);
	free(rp->recorded);
	fg_recorded_destroy(rp->rec);
	fg_refdata_destroy(rp->rd);
	fg_schema_registry_fini(&rp->reg);
	fg_config_fini(&rp->cfg);
}

int fg_cmd_replay(int argc, char **argv)
{
	struct rp rp;
	char err[1024] = "";
	int help = 0, rc = FG_EXIT_USAGE;
	struct fg_kafka_range *kr = NULL;

	memset(&rp, 0, sizeof(rp));
	fg_config_init(&rp.cfg);
	rp.nworkers = 2;
	rp.batch_size = 1024;
	if (parse_args(&rp, argc, argv, &help)) {
		fprintf(stderr, "(floorgate replay --help for usage)\n");
		goto done;
	}
	if (help) {
		replay_usage(stdout);
		rc = FG_EXIT_OK;
		goto done;
	}
	if (check_args(&rp))
		goto done;
	/* SIGINT/SIGTERM: the reader stops feeding, the batches in hand drain, and
	 * the incomplete outputs are removed like after any failure. */
	fg_cmd_catch_stop();
	clock_gettime(CLOCK_MONOTONIC, &rp.t0);
	if (setup_refdata(&rp, err, sizeof(err)))
		goto fail;
	if (rp.n_in) {
		if (open_files(&rp, err, sizeof(err)))
			goto fail;
	} else {
		if (!fg_config_kafka_get(&rp.cfg, "bootstrap.servers") &&
		    !fg_config_kafka_get(&rp.cfg, "test.mock.num.brokers")) {
			fprintf(stderr, "floorgate replay: kafka.bootstrap.servers is not set\n");
			goto done;
		}
		if (fg_schema_registry_load_dir(&rp.reg, rp.cfg.schema_dir, err, sizeof(err)))
			goto fail;
		int bad_args = 0;
		kr = fg_kafka_range_open(&rp.cfg, rp.topic, rp.from, rp.to, rp.offsets, &bad_args,
					 err, sizeof(err));
		if (!kr) {
			rc = bad_args ? FG_EXIT_USAGE : FG_EXIT_FAIL;
			goto fail;
		}
		rp.total = fg_kafka_range_total(kr);
	}
	if (setup_threads(&rp, err, sizeof(err)))
		goto fail;
	if (rp.out &&
	    (fg_ocf_writer_open(&rp.fw_out, rp.out, fg_schema_text_assessment, err, sizeof(err)) ||
	     fg_ocf_writer_open(&rp.fw_dlq, rp.dlq, fg_schema_text_deadletter, err, sizeof(err)))) {
		rc = FG_EXIT_USAGE; /* a path that cannot be created: as assess and gen */
		goto fail;
	}
	if (rp.csv) {
		if (fg_outfile_open(&rp.csv_out, rp.csv, err, sizeof(err))) {
			rc = FG_EXIT_USAGE;
			goto fail;
		}
		if (fputs(fg_csv_lines_header, rp.csv_out.f) < 0) {
			fg_errf(err, sizeof(err), "cannot write %s: %s", rp.csv, strerror(errno));
			rc = FG_EXIT_FAIL;
			goto fail;
		}
	}
	if (rp.produce) {
		rp.sink = fg_kafka_sink_create(&rp.cfg, on_delivery, &rp, &fg_cmd_stop_signal, err,
					       sizeof(err));
		if (!rp.sink) {
			rc = FG_EXIT_FAIL;
			goto fail;
		}
	}
	rp.progress = !rp.quiet && isatty(STDERR_FILENO);

	/* run: workers, the writer, and the reader on this thread */
	for (int i = 0; i < rp.nworkers; i++)
		if (pthread_create(&rp.w[i].th, NULL, worker_main, &rp.w[i])) {
			for (int j = 0; j < i; j++)
				queue_close(&rp.w[j].work);
			for (int j = 0; j < i; j++)
				pthread_join(rp.w[j].th, NULL);
			fg_errf(err, sizeof(err), "cannot start a worker thread");
			rc = FG_EXIT_FAIL;
			goto fail;
		}
	if (pthread_create(&rp.writer, NULL, writer_main, &rp)) {
		atomic_store(&rp.stop, 1);
		fg_errf(err, sizeof(err), "cannot start the writer thread");
	} else {
		rp.writer_started = 1;
	}
	int read_rc = !rp.writer_started ? -1
		      : rp.n_in	    ? read_files(&rp, err, sizeof(err))
				    : read_topic(&rp, kr, err, sizeof(err));
	for (int i = 0; i < rp.nworkers; i++)
		queue_close(&rp.w[i].work);
	for (int i = 0; i < rp.nworkers; i++)
		pthread_join(rp.w[i].th, NULL);
	if (rp.writer_started)
		pthread_join(rp.writer, NULL);
	if (read_rc) {
		rc = rp.n_in ? FG_EXIT_USAGE : FG_EXIT_FAIL; /* a broken file, or Kafka */
		goto fail;
	}
	if (fg_cmd_stop_signal) {
		fg_errf(err, sizeof(err), "stopped by signal %d after %llu declarations",
			(int)fg_cmd_stop_signal, (unsigned long long)rp.written);
		rc = FG_EXIT_FAIL;
		goto fail;
	}
	if (atomic_load(&rp.oom)) {
		fg_errf(err, sizeof(err), "out of memory assessing a batch");
		rc = FG_EXIT_FAIL;
		goto fail;
	}
	if (atomic_load(&rp.stop)) {
		snprintf(err, sizeof(err), "%s", rp.werr);
		rc = rp.err_code ? rp.err_code : FG_EXIT_FAIL;
		goto fail;
	}
	if (rp.out && (fg_ocf_writer_close(&rp.fw_out, err, sizeof(err)) ||
		       fg_ocf_writer_close(&rp.fw_dlq, err, sizeof(err)))) {
		rc = FG_EXIT_FAIL;
		goto fail;
	}
	if (rp.csv_out.f && fg_outfile_commit(&rp.csv_out, err, sizeof(err))) {
		rc = FG_EXIT_FAIL;
		goto fail;
	}
	if (!rp.quiet) {
		double t = since(&rp.t0);
		fprintf(stderr,
			"floorgate replay: %llu declarations in %.2f s (%.0f/s, %d workers): "
			"%llu assessed, %llu dead-lettered; reference data %s\n",
			(unsigned long long)rp.written, t, t > 0 ? (double)rp.written / t : 0.0,
			rp.nworkers, (unsigned long long)rp.assessed, (unsigned long long)rp.dead,
			rp.rd ? rp.rd->fingerprint : "as recorded");
	}
	rc = FG_EXIT_OK;
	goto done;
fail:
	fprintf(stderr, "floorgate replay: %s\n", err);
	/* Half-written outputs would pass for a replay of less input: they were
	 * written beside their paths (fg_outfile.h) and are dropped; files an
	 * earlier run left at those paths stay as they were. */
	if (rp.fw_out.out.f || rp.fw_dlq.out.f || rp.csv_out.f) {
		fg_ocf_writer_discard(&rp.fw_out);
		fg_ocf_writer_discard(&rp.fw_dlq);
		fg_outfile_discard(&rp.csv_out);
		fprintf(stderr, "floorgate replay: no output written (the paths keep what they had)\n");
	}
done:
	fg_kafka_range_close(kr);
	teardown(&rp);
	return rc;
}
