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
 *       +---------------------- free ring <----------------+
 *
 * A batch (struct fg_batch) carries up to run.batch_size messages of the
 * partitions one worker owns, and their encoded outputs. Ownership moves
 * with the pointer through single-producer single-consumer rings
 * (Concurrency Kit ck_ring_*_spsc): consumer -> worker -> producer ->
 * consumer. Nobody else touches a batch in between, so nothing on the
 * per-message path locks; a semaphore post per batch wakes a sleeping
 * thread.
 *
 * Order: a partition always goes to the same worker, a worker's rings are
 * FIFO, and the producer drains each worker's ring in order, so the outputs
 * of a partition are produced in the order its inputs came in.
 *
 * Delivery (at least once): the producer produces a batch's outputs
 * without copying them (the batch lives until they are acknowledged).
 * When every output of the batch at the head of a worker's in-flight list
 * is acknowledged, the batch's offsets are stored (and so committed later)
 * and the batch returns to the free ring. A failed delivery stops the
 * engine with that batch's offsets unstored: a restart re-reads it.
 *
 * Backpressure: when the consumer has no free batch (every batch is in a
 * ring or in flight), it pauses the assigned partitions
 * (rd_kafka_pause_partitions) and waits on the free-ring semaphore,
 * serving rebalances; it resumes when a batch comes back. Memory is
 * bounded by run.batches x run.batch_size messages.
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

/* Set by SIGINT/SIGTERM; the engine stops at the next batch boundary. */
extern volatile sig_atomic_t fg_runner_stop;
void fg_runner_install_signals(void);

/* Inputs whose outputs were acknowledged so far (exactly_once: committed) (for
 * observers such as the demo). */
extern _Atomic unsigned long long fg_runner_done;
/* exactly_once: transactions committed and aborted so far (for observers and tests). */
extern _Atomic unsigned long long fg_runner_commits, fg_runner_aborts;

/*
 * Runs until stopped, until run.max_messages inputs are done, or (with
 * run.exit_on_eof) until every assigned partition is read to its end.
 * The reference data must have been installed with fg_refstore_init().
 * Returns 0, or -1 with a message. stats receives the merged counters.
 */
int fg_runner_run(const struct fg_config *cfg, const struct fg_schema_registry *reg,
		  struct fg_pipeline_stats *stats, char *errstr, size_t errstr_size);

#endif
