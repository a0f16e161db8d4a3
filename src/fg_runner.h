/*
 * fg_runner.h: the consume -> assess -> produce loop of `floorgate run`
 * and `floorgate demo`.
 *
 * DESIGN
 * One thread, in batches: consume up to run.batch_size messages, run each
 * through the pipeline and queue its one output (assessment or dead
 * letter), flush the producer, and only then store the batch's offsets for
 * the next commit. A failed delivery stops the run before its offsets are
 * stored (exit 1; a restart re-reads the batch). SIGINT/SIGTERM finish the
 * batch in hand, commit and return 0.
 */
#ifndef FG_RUNNER_H
#define FG_RUNNER_H

#include <signal.h>
#include <stddef.h>

#include "fg_config.h"
#include "fg_pipeline.h"

/* Set by the signal handler; the loop stops at the next batch boundary. */
extern volatile sig_atomic_t fg_runner_stop;
void fg_runner_install_signals(void);

/*
 * Runs until stopped, until run.max_messages inputs are done, or (with
 * run.exit_on_eof) until every assigned partition is read to its end.
 * Returns 0, or -1 with a message (cannot reach the brokers, a topic is
 * missing, an output was not delivered). stats receives the counters.
 */
int fg_runner_run(const struct fg_config *cfg, const struct fg_schema_registry *reg,
		  const struct fg_refdata *rd, struct fg_pipeline_stats *stats, char *errstr,
		  size_t errstr_size);

/* Inputs whose outputs were acknowledged so far (for an observer thread such as the demo's). */
extern _Atomic unsigned long long fg_runner_done;

#endif
