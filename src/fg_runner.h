/*
 * fg_runner.h: the consume -> assess -> produce engine of `floorgate run`,
 * `floorgate demo` and `floorgate bench`.
 *
 * DESIGN
 *
 *                 in ring[w]            out ring[w]
 *   consumer  ---------------> worker w ------------> producer
 *   (caller's   (batches of     (decode, classify,    (produce, delivery
 *    thread)    partitions      price, encode into    reports, store
 *       ^       p % N == w)     the batch's buffer)    offsets)
 *       |                                                  |
 *       +--------------------- free stack <----------------+
 *
 * A batch (struct fg_batch) carries up to run.batch_size messages of the
 * partitions one worker owns, and their encoded outputs. Ownership moves
 * with the pointer through single-producer single-consumer rings
 * (Concurrency Kit ck_ring_*_spsc): consumer -> worker -> producer, and
 * back to the consumer through a free stack (a Treiber stack in C11
 * atomics, one pusher and one popper; last in first out, so the batch used
 * last is reused warm and batches nobody needed keep small buffers).
 * Nobody else touches a batch in between, so nothing on the per-message
 * path locks; a semaphore post (an eventfd write towards the producer)
 * per batch wakes a sleeping thread.
 *
 * Memory: a batch's output buffer grows (doubling) to what its outputs
 * need, and the worker trims it back once it is more than 8 times the
 * batch's recent peak (a peak that decays by 1/16 a use). A burst that
 * fills batches to run.batch_size so costs memory for seconds, not for
 * the life of the process; steady traffic never reallocates.
 *
 * Batching: each consume call waits for the first message only and takes
 * what is already fetched with it (up to run.batch_size), so a busy stream
 * fills whole batches and a quiet one adds no wait. A batch that is not
 * full goes to its worker run.linger_ms after its first message; while
 * fewer than a quarter of run.batches are free it fills for up to 10 ms
 * more, so that small batches do not use up the supply (running out
 * pauses the input, and librdkafka 2.0.2 takes about a second to fetch a
 * resumed partition again).
 *
 * Threads carry names (fg-workerN, fg-produce, fg-reload; the consumer is
 * the caller's thread), so `top -H` and `floorgate bench` can tell where
 * the cores go.
 *
 * Order: a partition always goes to the same worker, a worker's rings are
 * FIFO, and the producer drains each worker's ring in order, so the outputs
 * of a partition are produced in the order its inputs came in.
 *
 * Delivery, at_least_once (the default): the producer produces a
 * batch's outputs without copying them (the batch lives until they are
 * acknowledged). When every output of the batch at the head of a worker's
 * in-flight list is acknowledged, the batch's offsets are stored (and so
 * committed later) and the batch returns to the free stack. A failed
 * delivery stops the engine with that batch's offsets unstored: a restart
 * re-reads it.
 *
 * Delivery, exactly_once: the producer thread owns one Kafka transaction
 * at a time. A batch's input offsets join the open transaction when its
 * outputs are produced; every run.commit_interval_ms (or
 * run.commit_max_messages inputs) the offsets are sent to the transaction
 * with the consumer's group metadata and it is committed. Batches go back
 * to the free stack once acknowledged; the transaction's outcome decides
 * for their inputs. An abortable error (a failed output, a commit the
 * coordinator refuses) aborts: every batch handed out before the abort is
 * dropped (the consumer's epoch, checked by the producer) and the consumer
 * seeks back to the committed offsets, on its own thread between batch
 * calls (librdkafka 2.0.2's batch consume must not race seeks). A fatal
 * error (fenced by a newer instance) stops the engine. A rebalance
 * revocation or a stop drains the pipeline and commits inside the
 * callback, before the partitions go.
 *
 * Backpressure: when the consumer has no free batch (every batch is in a
 * ring or in flight), it pauses the assigned partitions
 * (rd_kafka_pause_partitions) and waits on the free-stack semaphore; it
 * resumes when a batch comes back, or, on a stop, gives the input it holds
 * back unassessed (no offset of it is stored: it is read again; with the
 * cluster gone no batch may ever come back). Independently, when the input and
 * output bytes held in batches pass run.max_inflight_bytes, the consumer
 * pauses the partitions and keeps calling consume (serving rebalances,
 * taking nothing new) until acknowledgements bring it back under. Nothing
 * is lost and nothing sleeps waiting for room.
 *
 * Reference data: workers read it through fg_refstore (liburcu QSBR); a
 * SIGHUP reload is done by a separate thread and never blocks the path.
 */
#ifndef FG_RUNNER_H
#define FG_RUNNER_H

#include <signal.h>
#include <stddef.h>

#include "fg_config.h"
#include "fg_pipeline.h"

/* Set by SIGINT/SIGTERM: the engine stops taking input, finishes the batches
 * in hand (bounded by run.flush_timeout_ms), commits and returns. */
extern _Atomic int fg_runner_stop;
void fg_runner_install_signals(void);

/* Inputs whose outputs were acknowledged so far (exactly_once: committed) (for
 * observers such as the demo). */
extern _Atomic unsigned long long fg_runner_done;
/* exactly_once: transactions committed and aborted so far (for observers and tests). */
extern _Atomic unsigned long long fg_runner_commits, fg_runner_aborts;
/* Times the input was paused for run.max_inflight_bytes (for observers and tests). */
extern _Atomic unsigned long long fg_runner_cap_pauses;
/* Times the input was paused because every batch was in flight (for observers). */
extern _Atomic unsigned long long fg_runner_full_pauses;

/*
 * Runs until stopped, until run.max_messages inputs are done, or (with
 * run.exit_on_eof) until every assigned partition is read to its end (and,
 * exactly_once, committed).
 * The reference data must have been installed with fg_refstore_init().
 * Returns 0, or -1 with a message. stats receives the merged counters.
 */
int fg_runner_run(const struct fg_config *cfg, const struct fg_schema_registry *reg,
		  struct fg_pipeline_stats *stats, char *errstr, size_t errstr_size);

#endif
