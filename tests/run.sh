#!/usr/bin/env bash
# tests/run.sh BUILD_DIR: every test of floorgate, as `make test` runs it.
#
# Suites, in order: unit (cmocka, one binary per module), cli (commands,
# errors a user meets), cases (file mode against worked cases and an
# independent oracle), determinism, mock (the embedded-cluster demo:
# Kafka integration with one output per input), e2e (a real Apache Kafka
# broker, a producer and consumer that are not floorgate), faults (a 3-broker
# cluster and injected failures, tests/faults/README.md).
# Ends with one line: `tests: N passed, N failed[, N skipped]`.
set -u
B=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
FG="$B/floorgate"
case "$B" in *-address|*-undefined|*-thread) SANITIZER_BUILD=1 ;; esac
SHARED="$ROOT/../shared/cases/public"
T=$(mktemp -d "${TMPDIR:-/tmp}/floorgate-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

pass=0 fail=0 skip=0
failed_names=()
ok()   { pass=$((pass + 1)); printf 'PASS  %s\n' "$1"; }
bad()  { fail=$((fail + 1)); failed_names+=("$1"); printf 'FAIL  %s\n' "$1"; [ -n "${2:-}" ] && sed 's/^/      /' "$2" | tail -n 30; }
skipped() { skip=$((skip + 1)); printf 'SKIP  %s: %s\n' "$1" "$2"; }
# check NAME CMD...: passes when CMD exits 0.
check() {
	local name=$1; shift
	if "$@" >"$T/out" 2>&1; then ok "$name"; else bad "$name" "$T/out"; fi
}
# expect_fail NAME CODE PATTERN CMD...: passes when CMD exits CODE and prints PATTERN.
expect_fail() {
	local name=$1 code=$2 pat=$3; shift 3
	"$@" >"$T/out" 2>&1
	local rc=$?
	if [ "$rc" = "$code" ] && grep -qE -- "$pat" "$T/out"; then ok "$name"
	else echo "exit $rc, wanted $code and /$pat/" >>"$T/out"; bad "$name" "$T/out"; fi
}
section() { printf '\n== %s\n' "$1"; }

PY=$(bash scripts/pyenv.sh --print) || { echo "tests: cannot prepare the Python venv"; exit 1; }

# ---- unit ----------------------------------------------------------------
section unit
for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	check "unit/$(basename "$t")" "$t"
done

# ---- cli -----------------------------------------------------------------
section cli
for c in "" run demo assess dump gen; do
	check "cli/help ${c:-floorgate}" $FG $c --help
done
expect_fail "cli/unknown command" 2 "unknown command" $FG frobnicate
expect_fail "cli/assess missing input file" 2 "cannot read $T/nope.avro" \
	$FG assess --data data --in "$T/nope.avro" --out "$T/a.avro" --dlq "$T/d.avro"
expect_fail "cli/assess missing arguments" 2 "are required" $FG assess --data data
cp -r data "$T/baddata"
sed -i '3s/^\([^,]*\),[^,]*,/\1,3.x,/' "$T/baddata/mfn.csv"
expect_fail "cli/bad reference file names file:line:column" 2 "baddata/mfn.csv:3:[0-9]+: ad_valorem_pct" \
	$FG assess --data "$T/baddata" --in "$T/nope.avro" --out "$T/a.avro" --dlq "$T/d.avro"
expect_fail "cli/run unknown config key" 2 "unknown key \"input.topc\"" \
	$FG run -X kafka.bootstrap.servers=127.0.0.1:1 -X input.topc=x
printf 'input.topic = a\nthis is not a setting\n' >"$T/bad.conf"
expect_fail "cli/run bad config file names file:line" 2 "bad.conf:2: expected key = value" $FG run -c "$T/bad.conf"
expect_fail "cli/run missing config file" 2 "nope.conf" $FG run -c "$T/nope.conf"
expect_fail "cli/run bad number" 2 "run.batch_size: \"0\" is not a whole number" \
	$FG run -X kafka.bootstrap.servers=127.0.0.1:1 -X run.batch_size=0
expect_fail "cli/run without brokers" 2 "kafka.bootstrap.servers is not set" $FG run
expect_fail "cli/run unknown processing.guarantee" 2 "processing.guarantee: \"exactly\" is not one of at_least_once, exactly_once" \
	$FG run -X kafka.bootstrap.servers=127.0.0.1:1 -X processing.guarantee=exactly
expect_fail "cli/run transactional.id without exactly_once" 2 "kafka.transactional.id is for processing.guarantee=exactly_once" \
	$FG run -X kafka.bootstrap.servers=127.0.0.1:1 -X kafka.transactional.id=x
expect_fail "cli/run unreachable broker times out" 1 "cannot reach Kafka at 127.0.0.1:1 within 2000 ms" \
	timeout 60 $FG run -X kafka.bootstrap.servers=127.0.0.1:1 -X run.connect_timeout_ms=2000 -X kafka.log_level=0
check "cli/docs/CONFIGURATION.md matches the key table" sh -c \
	"{ cat docs/CONFIGURATION.head.md; $FG run --help-config; } | cmp - docs/CONFIGURATION.md"
check "cli/gen is deterministic for a seed" sh -c "
	$FG gen --count 500 --seed 9 --out $T/g1.avro && $FG gen --count 500 --seed 9 --out $T/g2.avro &&
	$FG gen --count 500 --seed 10 --out $T/g3.avro && cmp -s $T/g1.avro $T/g2.avro && ! cmp -s $T/g1.avro $T/g3.avro"

# ---- cases ---------------------------------------------------------------
section cases
# run_case NAME DATA_DIR DECLS.avro EXPECTED.jsonl
run_case() {
	local name=$1 data=$2 in=$3 exp=$4
	if $FG assess --quiet --data "$data" --in "$in" --out "$T/$name-a.avro" --dlq "$T/$name-d.avro" >"$T/out" 2>&1 &&
		$FG dump "$T/$name-a.avro" >"$T/$name-a.jsonl" 2>>"$T/out" &&
		$FG dump "$T/$name-d.avro" >"$T/$name-d.jsonl" 2>>"$T/out" &&
		"$PY" tests/tools/compare_cases.py "$exp" "$T/$name-a.jsonl" "$T/$name-d.jsonl" >>"$T/out" 2>&1; then
		ok "cases/$name ($(tail -n1 "$T/out" | sed 's/^cases: //'))"
	else
		bad "cases/$name" "$T/out"
	fi
}
if [ -d "$SHARED" ]; then
	run_case public "$SHARED/data" "$SHARED/declarations.avro" "$SHARED/expected.jsonl"
else
	skipped "cases/public" "../shared/cases/public is absent (it exists in CI, not in a user's clone)"
fi
"$PY" tests/tools/jsonl2avro.py tests/cases/edge/declarations.jsonl "$T/edge.avro"
run_case edge tests/cases/edge/data "$T/edge.avro" tests/cases/edge/expected.jsonl
# Differential: random declarations, expected results from the independent oracle.
for d in edge:tests/cases/edge/data default:data; do
	n=${d%%:*} dir=${d#*:}
	"$PY" tests/cases/random/gen.py --data "$dir" --count 3000 --seed 20261126 >"$T/r-$n.jsonl" &&
		"$PY" tests/oracle/oracle.py --data "$dir" --in "$T/r-$n.jsonl" >"$T/r-$n-exp.jsonl" &&
		"$PY" tests/tools/jsonl2avro.py "$T/r-$n.jsonl" "$T/r-$n.avro"
	run_case "oracle-random-$n" "$dir" "$T/r-$n.avro" "$T/r-$n-exp.jsonl"
done
# The generator's traffic through the oracle too (dump prints the oracle's input shape).
$FG gen --count 3000 --seed 77 --out "$T/gen.avro" && $FG dump "$T/gen.avro" >"$T/gen.jsonl" &&
	"$PY" tests/oracle/oracle.py --data data --in "$T/gen.jsonl" >"$T/gen-exp.jsonl"
run_case oracle-gen data "$T/gen.avro" "$T/gen-exp.jsonl"

# ---- determinism ---------------------------------------------------------
section determinism
check "determinism/same input, same bytes" sh -c "
	$FG assess --quiet --data data --in $T/gen.avro --out $T/x1.avro --dlq $T/y1.avro &&
	$FG assess --quiet --data data --in $T/gen.avro --out $T/x2.avro --dlq $T/y2.avro &&
	cmp $T/x1.avro $T/x2.avro && cmp $T/y1.avro $T/y2.avro"

# ---- fuzz ----------------------------------------------------------------
section fuzz
if [ -n "${SANITIZER_BUILD:-}" ] || ! command -v clang >/dev/null 2>&1; then
	skipped "fuzz/decode" "needs clang; runs in the plain build's test run"
else
	check "fuzz/decode: codec and Avro C agree on ${FG_FUZZ_SECONDS:-30}s of mutated bodies" \
		bash tests/fuzz/run.sh "${FG_FUZZ_SECONDS:-30}"
fi

# ---- mock ----------------------------------------------------------------
section mock
expect_fail "mock/demo: one output per input through the embedded cluster" 0 \
	"exactly one output: OK" timeout 300 $FG demo --count 30000 --seed 5

# ---- e2e -----------------------------------------------------------------
section e2e
if [ "${FG_SKIP_E2E:-0}" = 1 ]; then
	skipped "e2e/real broker" "FG_SKIP_E2E=1"
else
	if FLOORGATE="$FG" timeout 900 bash tests/e2e/run.sh >"$T/e2e.out" 2>&1; then
		ok "e2e/real broker ($(grep -E '^e2e: ' "$T/e2e.out" | tail -n1))"
	else
		bad "e2e/real broker" "$T/e2e.out"
	fi
fi

# ---- faults --------------------------------------------------------------
# A 3-broker cluster (scripts/kafka.sh start --nodes 3 --tls) and floorgate through
# crashes, a group failover, a broker kill, fencing, poison, a reload and TLS+SASL, in
# exactly_once and at_least_once mode: one line per scenario and mode.
section faults
if [ "${FG_SKIP_E2E:-0}" = 1 ]; then
	skipped "faults/real cluster" "FG_SKIP_E2E=1"
elif [ -n "${SANITIZER_BUILD:-}" ]; then
	skipped "faults/real cluster" "runs in the plain build's test run (timing-bound, not memory checks)"
else
	FLOORGATE="$FG" timeout 480 bash tests/faults/run.sh >"$T/faults.out" 2>&1
	frc=$?
	n_lines=0
	while read -r st rest; do
		case $st in
		PASS) ok "faults/$rest"; n_lines=$((n_lines + 1)) ;;
		FAIL) bad "faults/$rest"; n_lines=$((n_lines + 1))
			# its problem lines, printed under it by test_faults.py
			awk -v l="FAIL $rest" 'f && /^     - /{print " " $0; next} {f = ($0 == l)}' \
				"$T/faults.out" | head -n 12 ;;
		SKIP) skipped "faults/${rest%%:*}" "${rest#*: }"; n_lines=$((n_lines + 1)) ;;
		esac
	done < <(grep -E '^(PASS|FAIL|SKIP) ' "$T/faults.out")
	if [ "$n_lines" = 0 ] || { [ "$frc" != 0 ] && ! grep -q '^FAIL ' "$T/faults.out"; }; then
		bad "faults/setup or harness (exit $frc)" "$T/faults.out"
	fi
fi

printf '\n'
if [ "$fail" -gt 0 ]; then
	printf 'failed: %s\n' "${failed_names[@]}"
fi
printf 'tests: %d passed, %d failed, %d skipped\n' "$pass" "$fail" "$skip"
[ "$fail" -eq 0 ]
