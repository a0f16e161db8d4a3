#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS: builds the libFuzzer targets and runs each one
# for SECONDS over its seed corpus (tests/fuzz/corpus/<name>/).
#
# New inputs go to a temporary working corpus that is deleted at the end
# (it is not test data). A crash, leak, sanitizer report or discrepancy
# exits non-zero; the input that caused it is kept in build/fuzz/artifacts/
# and can be replayed with `build/fuzz/fuzz_<name> FILE`.
#
# Environment: FUZZ_JOBS=N runs N fuzzing processes per target (libFuzzer
# -fork=N); FUZZ_ARGS adds libFuzzer flags.
set -u
secs=${1:?usage: tests/fuzz/run.sh SECONDS}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/build/fuzz"
ART="$OUT/artifacts"
jobs=${FUZZ_JOBS:-1}

make --no-print-directory -C "$ROOT/tests/fuzz" OUT="$OUT" || exit 2
mkdir -p "$ART"
work=$(mktemp -d "${TMPDIR:-/tmp}/floorgate-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

failed=0
for seeds in "$ROOT"/tests/fuzz/corpus/*/; do
	name=$(basename "$seeds")
	bin="$OUT/fuzz_$name"
	[ -x "$bin" ] || { echo "fuzz: no target for corpus $name"; failed=1; continue; }
	mkdir -p "$work/$name"
	fork=()
	[ "$jobs" -gt 1 ] && fork=(-fork="$jobs" -ignore_crashes=0)
	echo "== fuzz_$name for ${secs}s (${jobs} job(s))"
	# shellcheck disable=SC2086
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
		-print_final_stats=1 -artifact_prefix="$ART/$name-" "${fork[@]}" ${FUZZ_ARGS:-} \
		"$work/$name" "$seeds" >"$work/$name.log" 2>&1; then
		grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|fuzz_[a-z]+: tolerated)' \
			"$work/$name.log" || true
		grep -E '^#[0-9]+' "$work/$name.log" | tail -n 1 # last progress line (execs, coverage)
		echo "fuzz_$name: ok ($(ls "$work/$name" | wc -l) inputs in the working corpus)"
	else
		failed=1
		tail -n 60 "$work/$name.log"
		echo "fuzz_$name: FAILED (artifacts in $ART)"
	fi
done
exit $failed
