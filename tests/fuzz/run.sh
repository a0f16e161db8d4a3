#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS [TARGET...]: builds the libFuzzer targets and
# runs each one (default: every target with a seed corpus in
# tests/fuzz/corpus/<name>/) for SECONDS, one after the other.
#
# New inputs go to a temporary working corpus that is deleted at the end
# (it is not test data). A crash, leak, sanitizer report or discrepancy
# exits non-zero; the input that caused it is kept in build/fuzz/artifacts/
# and can be replayed with `build/fuzz/fuzz_<name> FILE`. docs/FUZZING.md
# has the targets and what each one asserts.
#
# Environment: FUZZ_JOBS=N runs N fuzzing processes per target (libFuzzer
# -fork=N); FUZZ_ARGS adds libFuzzer flags; FUZZ_ASAN_OPTIONS replaces the
# ASAN_OPTIONS of the fuzzers (default detect_leaks=1); FUZZ_KEEP=DIR keeps
# each target's working corpus in DIR/<name> (to -merge=1 into the seeds).
set -u
secs=${1:?usage: tests/fuzz/run.sh SECONDS [TARGET...]}
shift
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/build/fuzz"
ART="$OUT/artifacts"
jobs=${FUZZ_JOBS:-1}
export ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=1}

make --no-print-directory -C "$ROOT/tests/fuzz" OUT="$OUT" || exit 2
mkdir -p "$ART"
work=$(mktemp -d "${TMPDIR:-/tmp}/floorgate-fuzz.XXXXXX")
# The targets that need files write them under FG_FUZZ_TMPDIR (memory-backed
# when /dev/shm is there); removed here even when a target aborts.
shm=$(mktemp -d /dev/shm/floorgate-fuzz.XXXXXX 2>/dev/null || mktemp -d "$work/shm.XXXXXX")
export FG_FUZZ_TMPDIR="$shm"
trap 'rm -rf "$work" "$shm"' EXIT

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for seeds in "$ROOT"/tests/fuzz/corpus/*/; do
		targets+=("$(basename "$seeds")")
	done
fi

failed=0
for name in "${targets[@]}"; do
	seeds="$ROOT/tests/fuzz/corpus/$name"
	bin="$OUT/fuzz_$name"
	[ -x "$bin" ] && [ -d "$seeds" ] || { echo "fuzz: no target or corpus for $name"; failed=1; continue; }
	corpus="$work/$name"
	[ -n "${FUZZ_KEEP:-}" ] && corpus="$FUZZ_KEEP/$name"
	mkdir -p "$corpus"
	opts=()
	[ "$jobs" -gt 1 ] && opts+=(-fork="$jobs" -ignore_crashes=0)
	[ -f "$ROOT/tests/fuzz/$name.dict" ] && opts+=(-dict="$ROOT/tests/fuzz/$name.dict")
	echo "== fuzz_$name for ${secs}s (${jobs} job(s))"
	# shellcheck disable=SC2086
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
		-print_final_stats=1 -artifact_prefix="$ART/$name-" "${opts[@]}" ${FUZZ_ARGS:-} \
		"$corpus" "$seeds" >"$work/$name.log" 2>&1; then
		grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|fuzz_[a-z]+: tolerated)' \
			"$work/$name.log" || true
		grep -E '^#[0-9]+' "$work/$name.log" | tail -n 1 # last progress line (execs, coverage)
		echo "fuzz_$name: ok ($(ls "$corpus" | wc -l) inputs in the working corpus)"
	else
		failed=1
		tail -n 60 "$work/$name.log"
		echo "fuzz_$name: FAILED (artifacts in $ART)"
	fi
done
exit $failed
