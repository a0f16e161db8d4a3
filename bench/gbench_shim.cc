// gbench_shim.cc: the one C++ file of floorgate. It puts Google Benchmark's
// State and registration behind the C API of fg_bench.h, and owns main().
#include <benchmark/benchmark.h>

#include <cstdio>

#include "fg_bench.h"

static benchmark::State &S(struct fg_bench_state *st)
{
	return *reinterpret_cast<benchmark::State *>(st);
}

static const benchmark::State &S(const struct fg_bench_state *st)
{
	return *reinterpret_cast<const benchmark::State *>(st);
}

extern "C" int fg_bench_keep_running(struct fg_bench_state *st)
{
	return S(st).KeepRunning() ? 1 : 0;
}

extern "C" int64_t fg_bench_iterations(const struct fg_bench_state *st)
{
	return static_cast<int64_t>(S(st).iterations());
}

extern "C" void fg_bench_set_items(struct fg_bench_state *st, int64_t items)
{
	S(st).SetItemsProcessed(items);
}

extern "C" void fg_bench_set_counter(struct fg_bench_state *st, const char *name, double value)
{
	S(st).counters[name] = benchmark::Counter(value);
}

extern "C" void fg_bench_skip_with_error(struct fg_bench_state *st, const char *msg)
{
	S(st).SkipWithError(msg);
}

extern "C" void fg_bench_pause_timing(struct fg_bench_state *st)
{
	S(st).PauseTiming();
}

extern "C" void fg_bench_resume_timing(struct fg_bench_state *st)
{
	S(st).ResumeTiming();
}

extern "C" void fg_bench_register(const char *name, fg_bench_fn *fn, void *arg)
{
	benchmark::RegisterBenchmark(name, [fn, arg](benchmark::State &st) {
		fn(reinterpret_cast<struct fg_bench_state *>(&st), arg);
	});
}

int main(int argc, char **argv)
{
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 2;
	if (fg_bench_register_all() != 0)
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
