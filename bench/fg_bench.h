/*
 * fg_bench.h: C benchmarks on Google Benchmark, through a C++ shim.
 *
 * DESIGN
 * Google Benchmark is a C++ library; floorgate is C. bench/gbench_shim.cc
 * is the only C++ file: it wraps benchmark::State behind the opaque
 * struct fg_bench_state, registers plain C functions as benchmarks, and
 * owns main(), which calls fg_bench_register_all() (defined in C, in
 * bench_floorgate.c) and then runs Google Benchmark with its usual flags
 * (--benchmark_filter, --benchmark_format=json, --benchmark_min_time...).
 *
 * A benchmark body looks like a Google Benchmark one:
 *
 *     static void bm_x(struct fg_bench_state *st, void *arg)
 *     {
 *             while (fg_bench_keep_running(st))
 *                     work(arg);
 *             fg_bench_set_items(st, fg_bench_iterations(st));
 *     }
 */
#ifndef FG_BENCH_H
#define FG_BENCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fg_bench_state;

typedef void(fg_bench_fn)(struct fg_bench_state *st, void *arg);

/* True while the timed loop should run another iteration. */
int fg_bench_keep_running(struct fg_bench_state *st);
/* Iterations run so far (after the loop: all of them). */
int64_t fg_bench_iterations(const struct fg_bench_state *st);
/* Items processed (reported as items_per_second). */
void fg_bench_set_items(struct fg_bench_state *st, int64_t items);
/* A user counter, shown as is (e.g. a ratio or a byte count). */
void fg_bench_set_counter(struct fg_bench_state *st, const char *name, double value);
/* Marks the run failed with a message; the caller then returns. */
void fg_bench_skip_with_error(struct fg_bench_state *st, const char *msg);
/* Excludes work from the measured time. */
void fg_bench_pause_timing(struct fg_bench_state *st);
void fg_bench_resume_timing(struct fg_bench_state *st);

/* Registers fn under name; arg is passed back unchanged (borrowed). */
void fg_bench_register(const char *name, fg_bench_fn *fn, void *arg);

/* Defined by the C side: registers every benchmark. Returns 0 or -1. */
int fg_bench_register_all(void);

#ifdef __cplusplus
}
#endif

#endif
