#!/usr/bin/env bash
# tests/run.sh BUILD_DIR: every test of floorgate, as `make test` runs it.
#
# Suites, in order: unit (cmocka, one binary per module), cli (commands,
# errors a user meets), cases (file mode against worked cases and an
# independent oracle), determinism, replay (replay and the data store), audit
# (audit, completeness, whatif and the HTML report in a headless browser),
# fuzz, mock (the embedded-cluster demo:
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
for c in "" run demo assess dump gen audit whatif; do
	check "cli/help ${c:-floorgate}" $FG $c --help
done
expect_fail "cli/unknown command" 2 "unknown command" $FG frobnicate
expect_fail "cli/demo refuses a stray argument" 2 "unexpected argument \"extra\"" $FG demo extra
expect_fail "cli/demo refuses a seed that is not a number" 2 "--seed \"x\" is not a whole number" $FG demo --seed x
expect_fail "cli/gen refuses a negative seed" 2 "--seed \(a whole number\)" \
	$FG gen --count 1 --seed -1 --out "$T/neg.avro"
expect_fail "cli/audit --help lists --outputs-from among its options" 0 "^  --outputs-from B, --outputs-to B" \
	$FG audit --help
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
expect_fail "cli/run -c given a directory is refused, not read as empty" 2 "Is a directory" $FG run -c "$T"
expect_fail "cli/run refuses an input topic that is also an output topic" 2 \
	"input.topic \"dl\" is also deadletter.topic" \
	$FG run -X kafka.bootstrap.servers=127.0.0.1:1 -X input.topic=dl -X deadletter.topic=dl
printf '\357\273\277run.workers = 5000\n' >"$T/bom.conf"
expect_fail "cli/run reads a config file that starts with a UTF-8 byte-order mark" 2 \
	"bom.conf:1: run.workers: \"5000\"" $FG run -c "$T/bom.conf"
printf 'kafka.bootstrap.servers = 127.0.0.1:1\nkafka.no.such.prop = 1\n' >"$T/bad-kafka.conf"
expect_fail "cli/run unknown librdkafka property names file:line, before anything starts" 2 \
	"bad-kafka.conf:2: kafka.no.such.prop: No such configuration property" $FG run -c "$T/bad-kafka.conf"
expect_fail "cli/run bad librdkafka value is a usage error" 2 \
	"kafka.consumer.security.protocol: Invalid value \"banana\"" \
	$FG run -X kafka.bootstrap.servers=127.0.0.1:1 -X kafka.consumer.security.protocol=banana
expect_fail "cli/run bad number" 2 "run.batch_size: \"0\" is not a whole number" \
	$FG run -X kafka.bootstrap.servers=127.0.0.1:1 -X run.batch_size=0
expect_fail "cli/run without brokers" 2 "kafka.bootstrap.servers is not set" $FG run
expect_fail "cli/run unknown processing.guarantee" 2 "processing.guarantee: \"exactly\" is not one of at_least_once, exactly_once" \
	$FG run -X kafka.bootstrap.servers=127.0.0.1:1 -X processing.guarantee=exactly
expect_fail "cli/run transactional.id without exactly_once" 2 "kafka.transactional.id is for processing.guarantee=exactly_once" \
	$FG run -X kafka.bootstrap.servers=127.0.0.1:1 -X kafka.transactional.id=x
expect_fail "cli/run unreachable broker times out" 1 "cannot reach Kafka at 127.0.0.1:1 within 2000 ms" \
	timeout 60 $FG run -X kafka.bootstrap.servers=127.0.0.1:1 -X run.connect_timeout_ms=2000 -X kafka.log_level=0
expect_fail "cli/run stops at once on SIGTERM while it waits for the brokers, exit 0" 0 \
	"stopped while waiting for Kafka at 127.0.0.1:1; nothing was read" sh -c "
	$FG run -X kafka.bootstrap.servers=127.0.0.1:1 -X kafka.log_level=0 & p=\$!; sleep 1; kill -TERM \$p
	t=\$(date +%s); wait \$p; rc=\$?; [ \$((\$(date +%s) - t)) -le 3 ] || exit 9; exit \$rc"
check "cli/docs/CONFIGURATION.md matches the key table" sh -c \
	"{ cat docs/CONFIGURATION.head.md; $FG run --help-config; } | cmp - docs/CONFIGURATION.md"
check "cli/gen is deterministic for a seed" sh -c "
	$FG gen --count 500 --seed 9 --out $T/g1.avro && $FG gen --count 500 --seed 9 --out $T/g2.avro &&
	$FG gen --count 500 --seed 10 --out $T/g3.avro && cmp -s $T/g1.avro $T/g2.avro && ! cmp -s $T/g1.avro $T/g3.avro"
expect_fail "cli/gen names the option that is wrong" 2 "--invalid-per-mille is a whole number from 0 to 1000" \
	$FG gen --count 10 --seed 1 --out "$T/g4.avro" --invalid-per-mille 2000
expect_fail "cli/audit says what is wrong, not only the usage" 2 "--memory: \"0\" is not a whole number" \
	$FG audit --memory 0 --recorded "$T/g1.avro" --recomputed "$T/g2.avro"

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

# ---- outputs -------------------------------------------------------------
# Output files appear whole or not at all, and never replace an input (sinks/fg_outfile.h).
section outputs
O="$T/outputs"
mkdir -p "$O"
$FG gen --count 2000 --seed 5 --out "$O/in.avro" && cp "$O/in.avro" "$O/keep.avro"
expect_fail "outputs/assess refuses an output that names its input; the input stays" 2 \
	"--out and --in name the same file" sh -c "
	$FG assess --data data --in $O/in.avro --out $O/../outputs/in.avro --dlq $O/d.avro; rc=\$?
	cmp -s $O/in.avro $O/keep.avro || exit 9; exit \$rc"
expect_fail "outputs/replay refuses a --csv that names an input; the input stays" 2 \
	"--csv and an input file name the same file" sh -c "
	$FG replay --data data --in $O/in.avro --out $O/a.avro --dlq $O/d.avro --csv $O/./in.avro; rc=\$?
	cmp -s $O/in.avro $O/keep.avro || exit 9; exit \$rc"
cp -r data "$O/tables"
expect_fail "outputs/gen refuses to write over a reference table; the table stays" 2 \
	"--out $O/tables/mfn.csv is the table mfn.csv of --data" sh -c "
	$FG gen --data $O/tables --count 10 --seed 1 --out $O/tables/mfn.csv; rc=\$?
	cmp -s $O/tables/mfn.csv data/mfn.csv || exit 9; exit \$rc"
expect_fail "outputs/assess refuses a --dlq over a reference table" 2 "--dlq $O/tables/../tables/fx_rates.csv is the table" \
	$FG assess --data "$O/tables" --in "$O/in.avro" --out "$O/a.avro" --dlq "$O/tables/../tables/fx_rates.csv"
expect_fail "outputs/--out and --dlq on one file are refused" 2 "--out and --dlq name the same file" \
	$FG assess --data data --in "$O/in.avro" --out "$O/x.avro" --dlq "$O/x.avro"
$FG assess --quiet --data data --in "$O/in.avro" --out "$O/a.avro" --dlq "$O/d.avro" &&
	cp "$O/a.avro" "$O/a0.avro" && cp "$O/d.avro" "$O/d0.avro"
head -c 100000 "$O/in.avro" >"$O/cut.avro"
for c in assess replay; do
	expect_fail "outputs/$c of a truncated file fails by block and keeps the earlier outputs" 2 \
		"cut.avro: block 1: file ends inside the block" sh -c "
		$FG $c --data data --in $O/cut.avro --out $O/a.avro --dlq $O/d.avro; rc=\$?
		cmp -s $O/a.avro $O/a0.avro && cmp -s $O/d.avro $O/d0.avro || exit 9
		ls -a $O | grep -q partial && exit 8; exit \$rc"
done
for c in assess replay; do
	expect_fail "outputs/$c refuses a file of assessments as declarations" 2 \
		"a0.avro: its records are not declarations" \
		$FG $c --data data --in "$O/a0.avro" --out "$O/b.avro" --dlq "$O/e.avro"
done
expect_fail "outputs/dump names the fault of a truncated file" 2 "cut.avro: block 1: file ends inside the block" \
	$FG dump "$O/cut.avro"
# A million declarations: assess takes most of a second, the signal comes at 0.15 s.
# `env --default-signal=INT`: a shell without job control starts background
# jobs with SIGINT ignored, and floorgate keeps an ignored signal ignored (a
# user's Ctrl-C does not reach a script's background job either).
$FG gen --count 1000000 --seed 6 --out "$O/big.avro" >/dev/null 2>&1
expect_fail "outputs/assess stopped by SIGINT writes nothing and keeps the earlier outputs" 1 \
	"stopped by signal 2 after [0-9]+ records; no output written" sh -c "
	env --default-signal=INT $FG assess --data data --in $O/big.avro --out $O/a.avro --dlq $O/d.avro & p=\$!; sleep 0.15; kill -INT \$p
	wait \$p; rc=\$?; cmp -s $O/a.avro $O/a0.avro || exit 9; ls -a $O | grep -q partial && exit 8; exit \$rc"
rm -f "$O/big.avro"
check "outputs/gen stopped by SIGINT leaves no temporary and keeps the earlier file" sh -c "
	echo earlier >$O/g.avro; env --default-signal=INT $FG gen --count 5000000 --seed 1 --out $O/g.avro & p=\$!; sleep 0.5; kill -INT \$p
	wait \$p; rc=\$?; [ \"\$(cat $O/g.avro)\" = earlier ] || exit 9; ls -a $O | grep -q partial && exit 8; [ \$rc = 130 ]"
check "outputs/a SIGINT ignored at start (nohup, background job) stays ignored: gen completes" sh -c "
	(trap '' INT; exec $FG gen --count 300000 --seed 1 --out $O/g2.avro) & p=\$!; sleep 0.3; kill -INT \$p
	wait \$p && $FG dump $O/g2.avro | wc -l | grep -qx 300000"
check "outputs/every output may go to /dev/null" \
	$FG replay --quiet --data data --in "$O/in.avro" --out /dev/null --dlq /dev/null --csv /dev/null

# ---- replay --------------------------------------------------------------
# `floorgate replay` and the reference-data store (docs/REPLAY.md). File checks take a
# few seconds; the topic check starts its own broker (ports 31000-31099) and is skipped
# with the e2e suite (FG_SKIP_E2E=1).
section replay
RS=$(date +%s)
R="$T/replay"
mkdir -p "$R"
$FG gen --count 20000 --seed 41 --out "$R/decl.avro" >/dev/null 2>&1
check "replay/help" $FG replay --help
check "replay/data help" $FG data --help
check "replay/file equals what assess writes, byte for byte" sh -c "
	$FG assess --quiet --data data --in $R/decl.avro --out $R/assess-a.avro --dlq $R/assess-d.avro &&
	$FG replay --quiet --data data --in $R/decl.avro --out $R/base-a.avro --dlq $R/base-d.avro &&
	cmp $R/assess-a.avro $R/base-a.avro && cmp $R/assess-d.avro $R/base-d.avro"
# Same file, twice, with 1, 2 and 4 workers and several batch sizes: the same bytes.
det_ok=1
for wb in 1:1024 1:1 2:7 2:1024 4:3 4:500 4:1024; do
	w=${wb%%:*} bs=${wb#*:}
	if ! $FG replay --quiet --data data --in "$R/decl.avro" --out "$R/w-a.avro" --dlq "$R/w-d.avro" \
		--csv "$R/w.csv" --workers "$w" --batch-size "$bs" >"$T/out" 2>&1 ||
		! cmp "$R/w-a.avro" "$R/base-a.avro" >>"$T/out" 2>&1 ||
		! cmp "$R/w-d.avro" "$R/base-d.avro" >>"$T/out" 2>&1; then
		det_ok=0; echo "workers $w, batch size $bs: outputs differ" >>"$T/out"; break
	fi
	if [ -f "$R/base.csv" ]; then cmp "$R/w.csv" "$R/base.csv" >>"$T/out" 2>&1 || { det_ok=0; break; }
	else cp "$R/w.csv" "$R/base.csv"; fi
done
if [ "$det_ok" = 1 ]; then ok "replay/same bytes for workers 1, 2, 4 and batch sizes 1 to 1024 (Avro and CSV)"
else bad "replay/same bytes for workers 1, 2, 4 and batch sizes 1 to 1024 (Avro and CSV)" "$T/out"; fi
check "replay/CSV has one row per assessed line, with the money of the Avro output" sh -c "
	$FG dump $R/base-a.avro | \"$PY\" -c '
import json, sys, csv
rows = list(csv.DictReader(open(\"$R/base.csv\")))
lines = [(str(a[\"source_index\"]), l) for a in map(json.loads, sys.stdin) for l in a[\"lines\"]]
assert len(rows) == len(lines), (len(rows), len(lines))
for r, (src, l) in zip(rows, lines):
    assert r[\"source\"] == src and r[\"item_no\"] == str(l[\"item_no\"]), (r, l)
    assert (r[\"value_usd\"], r[\"line_duty\"]) == (l[\"value_usd\"], l[\"line_duty\"]), (r, l)
'"
"$PY" tests/replay/recode.py --codec deflate "$R/decl.avro" "$R/decl-deflate.avro" &&
	"$PY" tests/replay/recode.py --codec deflate --evolve "$R/decl.avro" "$R/decl-evolved.avro"
check "replay/deflate blocks and an evolved writer schema give the same assessments" sh -c "
	$FG replay --quiet --data data --in $R/decl-deflate.avro --out $R/z-a.avro --dlq $R/z-d.avro --workers 3 &&
	$FG replay --quiet --data data --in $R/decl-evolved.avro --out $R/e-a.avro --dlq $R/e-d.avro &&
	cmp $R/z-a.avro $R/base-a.avro && cmp $R/e-a.avro $R/base-a.avro &&
	$FG assess --quiet --data data --in $R/decl-evolved.avro --out $R/ea-a.avro --dlq $R/ea-d.avro &&
	cmp $R/ea-d.avro $R/e-d.avro"
"$PY" tests/replay/recode.py --codec null --older "$R/decl.avro" "$R/decl-older.avro"
check "replay/an older writer (no preference_claim, fields and symbols reordered) gives the same assessments" sh -c "
	$FG assess --quiet --data data --in $R/decl-older.avro --out $R/o-a.avro --dlq $R/o-d.avro &&
	cmp $R/o-a.avro $R/base-a.avro &&
	[ \"\$($FG dump $R/o-d.avro | cut -d, -f1,2)\" = \"\$($FG dump $R/base-d.avro | cut -d, -f1,2)\" ]"
"$PY" tests/replay/recode.py --codec null --finer "$R/decl.avro" "$R/decl-finer.avro"
check "replay/a writer with finer decimal scales (mass 6, value 4, percent 6) gives the same assessments" sh -c "
	$FG assess --quiet --data data --in $R/decl-finer.avro --out $R/f-a.avro --dlq $R/f-d.avro &&
	cmp $R/f-a.avro $R/base-a.avro &&
	[ \"\$($FG dump $R/f-d.avro | cut -d, -f1,2)\" = \"\$($FG dump $R/base-d.avro | cut -d, -f1,2)\" ]"
check "replay/dump prints a finer writer's decimals at its scales, same values (mass 99.212000 for 99.212)" sh -c "
	$FG dump $R/decl-finer.avro >$R/f.jsonl && $FG dump $R/decl.avro >$R/b.jsonl &&
	grep -Eq '\"net_mass_kg\": \"[0-9]+\\.[0-9]{6}\"' $R/f.jsonl &&
	\"$PY\" -c '
import json, sys
from decimal import Decimal
def vals(path):
    out = []
    for rec in map(json.loads, open(path)):
        for l in rec[\"lines\"]:
            c = l[\"content\"] or {}
            out.append(tuple(Decimal(x) for x in (l[\"net_mass_kg\"], l[\"customs_value\"], c.get(\"percent\", \"0\"))))
    return out
a, b = vals(sys.argv[1]), vals(sys.argv[2])
sys.exit(0 if a == b and len(a) > 1000 else 1)
' $R/f.jsonl $R/b.jsonl"
printf 'not avro\n' >"$R/junk.avro"
expect_fail "replay/a file that is not a container is refused" 2 "junk.avro: not an Avro object container file" \
	$FG replay --data data --in "$R/junk.avro" --out "$R/j-a.avro" --dlq "$R/j-d.avro"
head -c 200000 "$R/decl.avro" >"$R/cut.avro"
expect_fail "replay/a truncated file fails by block and leaves no partial output" 2 "cut.avro: block [0-9]+: file ends inside" \
	sh -c "$FG replay --data data --in $R/cut.avro --out $R/c-a.avro --dlq $R/c-d.avro; rc=\$?; [ ! -e $R/c-a.avro ] || exit 9; exit \$rc"
expect_fail "replay/one-line summary when stderr is not a terminal" 0 "^floorgate replay: 20000 declarations in .* [0-9]+ assessed, [0-9]+ dead-lettered" \
	$FG replay --data data --in "$R/decl.avro" --out "$R/s-a.avro" --dlq "$R/s-d.avro"
$FG gen --count 1000000 --seed 43 --out "$R/big.avro" >/dev/null 2>&1
expect_fail "replay/SIGINT stops it, exit 1, writes no output and keeps the earlier file" 1 "stopped by signal 2 after [0-9]+ declarations" \
	sh -c "echo earlier >$R/i-a.avro; env --default-signal=INT $FG replay --data data --in $R/big.avro --out $R/i-a.avro --dlq $R/i-d.avro & p=\$!; sleep 0.3; kill -INT \$p; wait \$p; rc=\$?;
	[ \"\$(cat $R/i-a.avro)\" = earlier ] && [ ! -e $R/i-d.avro ] || exit 9; ls -a $R | grep -q partial && exit 8; exit \$rc"
rm -f "$R/big.avro"
expect_fail "replay/an output that cannot be created is refused, exit 2 as in assess" 2 "cannot create $R/no-such-dir/a.avro" \
	$FG replay --data data --in "$R/decl.avro" --out "$R/no-such-dir/a.avro" --dlq "$R/nd-d.avro"
expect_fail "replay/bad arguments are refused" 2 "give --data DIR or --version" \
	$FG replay --in "$R/decl.avro" --out "$R/s-a.avro" --dlq "$R/s-d.avro"
expect_fail "replay/a bad time range is refused before any broker is asked" 2 "--from \"2026-13-01\" is not a time" \
	$FG replay --topic t --from 2026-13-01 --data data --out "$R/s-a.avro" --dlq "$R/s-d.avro" -X kafka.bootstrap.servers=127.0.0.1:1
expect_fail "replay/a reversed time range is refused before any broker is asked" 2 "--from is after --to" \
	$FG replay --topic t --from 2026-09-02 --to 2026-09-01 --data data --out "$R/s-a.avro" --dlq "$R/s-d.avro" -X kafka.bootstrap.servers=127.0.0.1:1
expect_fail "replay/bad offsets are refused before any broker is asked" 2 "\"0:5-2\" is not PARTITION:START-END" \
	$FG replay --topic t --offsets 0:5-2 --data data --out "$R/s-a.avro" --dlq "$R/s-d.avro" -X kafka.bootstrap.servers=127.0.0.1:1

# The store: two versions (the default tables, and every MFN rate at 7.5 %).
S="$R/store"
cp -r data "$R/data-b"
sed -i '2,$s/^\([^,]*\),[^,]*,/\1,7.5,/' "$R/data-b/mfn.csv"
FPA=$($FG data add data --store "$S" --effective 2026-01-01 --by alice 2>"$T/out")
FPB=$($FG data add "$R/data-b" --store "$S" --effective 2026-07-01 --by bob 2>>"$T/out")
if [ ${#FPA} = 32 ] && [ ${#FPB} = 32 ] && [ "$FPA" != "$FPB" ] && [ -f "$S/$FPA/MANIFEST" ]; then
	ok "replay/data add files two versions by fingerprint"
else bad "replay/data add files two versions by fingerprint" "$T/out"; fi
check "replay/a filed version is readable by other users (the umask's mode, as mkdir gives)" sh -c "
	umask 022; $FG data add $R/data-b --store $R/store-mode --effective 2026-07-01 --by bob >/dev/null 2>&1 &&
	[ \$(stat -c %a $R/store-mode/$FPB) = 755 ] && [ \$(stat -c %a $R/store-mode/$FPB/MANIFEST) = 644 ]"
check "replay/data list shows both, oldest first, with who and row counts" sh -c "
	$FG data list --store $S >$R/list.txt && sed -n 2p $R/list.txt | grep -q '^$FPA  2026-01-01  alice .* 128 93 93 14 44 176\$' &&
	sed -n 3p $R/list.txt | grep -q '^$FPB  2026-07-01  bob ' && [ \$(wc -l <$R/list.txt) = 3 ]"
expect_fail "replay/data list refuses a directory of tables given as the store, exit 2" 2 \
	"data is not a reference-data store: it holds [a-z_]+\\.csv" $FG data list --store data
expect_fail "replay/data list names a store that does not exist, exit 2" 2 "store $R/nostore does not exist" \
	$FG data list --store "$R/nostore"
cp -r "$R/store-mode" "$R/store-torn" && : >"$R/store-torn/$FPB/MANIFEST"
expect_fail "replay/data list names an unreadable version and lists the rest, exit 1" 1 \
	"left out, unreadable: .*$FPB/MANIFEST: no fingerprint" sh -c "
	$FG data add data --store $R/store-torn --effective 2026-01-01 >/dev/null 2>&1 || exit 8
	$FG data list --store $R/store-torn >$R/torn.txt; rc=\$?; grep -q '^$FPA  2026-01-01 ' $R/torn.txt || exit 9; exit \$rc"
find "$S" -printf '%p %s %m %T@\n' | sort >"$R/store-before.txt"
expect_fail "replay/data add of the same set again changes nothing" 0 "already in .*nothing changed" \
	$FG data add data --store "$S" --effective 2030-01-01 --by mallory
cp -r data "$R/data-bad"
sed -i '3s/^\([^,]*\),[^,]*,/\1,3.x,/' "$R/data-bad/mfn.csv"
expect_fail "replay/data add refuses bad tables with file:line:col, exit 2" 2 "data-bad/mfn.csv:3:[0-9]+: ad_valorem_pct" \
	$FG data add "$R/data-bad" --store "$S" --effective 2026-09-01
find "$S" -printf '%p %s %m %T@\n' | sort >"$R/store-after.txt"
check "replay/a refused or repeated data add leaves the store unchanged" cmp "$R/store-before.txt" "$R/store-after.txt"
check "replay/--store --version uses that version's tables (fingerprint and bytes)" sh -c "
	$FG replay --quiet --store $S --version $FPB --in $R/decl.avro --out $R/vb-a.avro --dlq $R/vb-d.avro &&
	$FG replay --quiet --data $R/data-b --in $R/decl.avro --out $R/db-a.avro --dlq $R/db-d.avro &&
	cmp $R/vb-a.avro $R/db-a.avro && cmp $R/vb-d.avro $R/db-d.avro && ! cmp -s $R/vb-a.avro $R/base-a.avro &&
	[ \$($FG dump $R/vb-a.avro | grep -c '\"reference_data_version\": \"$FPB\"') = \$($FG dump $R/vb-a.avro | wc -l) ] &&
	$FG replay --quiet --store $S --version ${FPA:0:10} --in $R/decl.avro --out $R/va-a.avro --dlq $R/va-d.avro &&
	cmp $R/va-a.avro $R/base-a.avro"
expect_fail "replay/an unknown version is named" 2 "no version 0123456789abcdef in store" \
	$FG replay --store "$S" --version 0123456789abcdef --in "$R/decl.avro" --out "$R/x-a.avro" --dlq "$R/x-d.avro"
expect_fail "replay/an output inside the store it reads is refused, the version untouched" 2 "is inside --store" sh -c "
	$FG replay --store $S --version $FPA --in $R/decl.avro --out $S/$FPA/mfn.csv --dlq $R/x-d.avro; rc=\$?
	cmp -s $S/$FPA/mfn.csv data/mfn.csv || exit 9; exit \$rc"
check "replay/--version as-recorded uses, per declaration, the version its recorded output names" sh -c "
	\"$PY\" tests/replay/as_recorded.py mix $R/base-a.avro $R/vb-a.avro $R/rec-a.avro &&
	\"$PY\" tests/replay/as_recorded.py mix $R/base-d.avro $R/vb-d.avro $R/rec-d.avro &&
	$FG replay --quiet --store $S --version as-recorded --recorded $R/rec-a.avro $R/rec-d.avro \
		--in $R/decl.avro --out $R/ar-a.avro --dlq $R/ar-d.avro --workers 2 --batch-size 100 &&
	\"$PY\" tests/replay/as_recorded.py expect $R/base-a.avro $R/vb-a.avro $R/ar-a.avro &&
	\"$PY\" tests/replay/as_recorded.py expect $R/base-d.avro $R/vb-d.avro $R/ar-d.avro"
expect_fail "replay/as-recorded fails on a declaration no recorded output names" 1 "no recorded output names record" \
	$FG replay --store "$S" --version as-recorded --recorded "$R/rec-d.avro" \
		--in "$R/decl.avro" --out "$R/x-a.avro" --dlq "$R/x-d.avro"
if [ -n "${SANITIZER_BUILD:-}" ] || ! command -v clang >/dev/null 2>&1; then
	skipped "replay/fuzz: container reader" "needs clang; runs in the plain build's test run"
else
	check "replay/fuzz: container reader, record by record and block by block agree (${FG_REPLAY_FUZZ_SECONDS:-15}s)" \
		bash tests/replay/fuzz.sh "$FG" "${FG_REPLAY_FUZZ_SECONDS:-15}"
fi
if [ "${FG_SKIP_E2E:-0}" = 1 ]; then
	skipped "replay/topic range equals the live run (real broker)" "FG_SKIP_E2E=1"
elif timeout 300 bash tests/replay/topic.sh "$FG" >"$T/rt.out" 2>&1; then
	ok "replay/topic range equals the live run, byte for byte per source offset (real broker)"
else
	bad "replay/topic range equals the live run, byte for byte per source offset (real broker)" "$T/rt.out"
fi
echo "      (replay section: $(( $(date +%s) - RS )) s)"

# ---- audit ---------------------------------------------------------------
# audit, completeness and whatif against independent expectations (tests/audit/).
section audit
source tests/audit/section.sh
# The auditor's round trip across commands (docs/AUDIT.md): outputs recorded with
# store version A, replayed as recorded, audit clean; replayed with version B, the
# audit finds every declaration whose duty moved and exits 1.
check "audit/replay as recorded audits clean against the recorded outputs, exit 0" \
	$FG audit --quiet --recorded "$R/rec-a.avro" "$R/rec-d.avro" --recomputed "$R/ar-a.avro" "$R/ar-d.avro"
expect_fail "audit/replay with another store version: the audit names the moved declarations, exit 1" 1 \
	"differ" $FG audit --recorded "$R/base-a.avro" "$R/base-d.avro" --recomputed "$R/vb-a.avro" "$R/vb-d.avro" \
	--ignore reference_data_version
expect_fail "audit/a misspelt --ignore field is refused, not silently compared" 2 \
	"--ignore \"reference_data_versoin\": not a field" \
	$FG audit --recorded "$R/base-a.avro" --recomputed "$R/vb-a.avro" --ignore reference_data_versoin
expect_fail "audit/an --html that cannot be created is refused first, exit 2, and the --csv kept" 2 \
	"cannot create $R/nodir/r.html" sh -c "
	echo earlier >$R/keep.csv
	$FG audit --quiet --recorded $R/base-a.avro --recomputed $R/vb-a.avro --csv $R/keep.csv --html $R/nodir/r.html
	rc=\$?; [ \"\$(cat $R/keep.csv)\" = earlier ] || exit 9; exit \$rc"
expect_fail "audit/a reversed range is refused before any broker is asked, exit 2" 2 \
	"kafka:declarations: partition 0: --from is after --to" \
	$FG audit --completeness --input kafka:declarations --from 0:10,1:5 --to 7 --outputs "$R/base-a.avro" \
	-X kafka.bootstrap.servers=127.0.0.1:1
expect_fail "audit/an option of another mode is refused, not ignored (completeness --tolerance)" 2 \
	"--tolerance does not apply to audit --completeness" \
	$FG audit --completeness --input "$R/decl.avro" --outputs "$R/base-a.avro" --tolerance 1000000
expect_fail "audit/an option of another mode is refused, not ignored (whatif --recomputed)" 2 \
	"--recomputed does not apply to whatif" \
	$FG whatif --in "$R/decl.avro" --recorded "$R/base-a.avro" --data data --recomputed "$R/nothing.avro"
check "audit/completeness --quiet prints nothing and answers by its exit status" sh -c "
	$FG audit --completeness --quiet --input $R/decl.avro --outputs $R/base-a.avro $R/base-d.avro >$R/cq.out 2>&1
	[ \$? = 0 ] && [ ! -s $R/cq.out ]"
expect_fail "audit/completeness refuses assessments given as the --input, exit 2" 2 \
	"base-a.avro: its records are not declarations" \
	$FG audit --completeness --input "$R/base-a.avro" --outputs "$R/base-a.avro" "$R/base-d.avro"
head -c 100000 "$R/base-a.avro" >"$R/cut-a.avro"
expect_fail "audit/a truncated source is named with the block where it ends, exit 2" 2 \
	"cut-a.avro: block [0-9]+: file ends inside the block" \
	$FG audit --recorded "$R/cut-a.avro" --recomputed "$R/base-a.avro"
expect_fail "audit/a report that names a source is refused before anything is read" 2 \
	"--csv and --recorded name the same file" \
	$FG audit --recorded "$R/base-a.avro" --recomputed "$R/vb-a.avro" --csv "$R/./base-a.avro"

# ---- fuzz ----------------------------------------------------------------
# Each libFuzzer target for FG_FUZZ_SECONDS (default 22) over its seed corpus
# (tests/fuzz/run.sh; docs/FUZZING.md): under 2 minutes with the clang build.
# A crash, leak or sanitizer report fails it, the input kept in build/fuzz/artifacts.
section fuzz
fuzz_what=(
	"decode:codec and Avro C agree on mutated bodies"
	"csv:the CSV reader stays in bounds, points inside the input, round-trips"
	"refdata:the table loader loads or refuses at a field of the file named"
	"config:the config parser keeps values whole, refuses at file:line or the key"
)
for w in "${fuzz_what[@]}"; do
	t=${w%%:*}
	if [ -n "${SANITIZER_BUILD:-}" ] || ! command -v clang >/dev/null 2>&1; then
		skipped "fuzz/$t" "needs clang; runs in the plain build's test run"
	else
		if bash tests/fuzz/run.sh "${FG_FUZZ_SECONDS:-22}" "$t" >"$T/out" 2>&1; then
			runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/out")
			ok "fuzz/$t: ${w#*:} (${runs:-?} runs in ${FG_FUZZ_SECONDS:-22}s)"
		else
			bad "fuzz/$t: ${w#*:}" "$T/out"
		fi
	fi
done

# ---- mock ----------------------------------------------------------------
section mock
expect_fail "mock/demo: one output per input through the embedded cluster" 0 \
	"exactly one output: OK" timeout 300 $FG demo --count 30000 --seed 5
# run and demo keep a SIGINT ignored at start ignored, like the file commands;
# one they catch stops them, and every declaration read is still answered once.
expect_fail "mock/demo: a SIGINT ignored at start stays ignored, the demo completes" 0 \
	"every one of 100000 inputs has exactly one output: OK" timeout 300 sh -c "
	(trap '' INT; exec $FG demo --count 100000 --seed 5) & p=\$!; sleep 2; kill -INT \$p; wait \$p"
expect_fail "mock/demo: SIGINT stops it, exit 1, each declaration read answered once" 1 \
	"stopped by signal after [0-9]+ of 5000000 declarations were produced; the [0-9]+ read have exactly one output each: OK" \
	timeout 300 sh -c "env --default-signal=INT $FG demo --count 5000000 --seed 5 & p=\$!; sleep 4; kill -INT \$p; wait \$p"
# The capacity planner's tool, briefly: its JSON is complete and nothing is lost.
expect_fail "mock/bench refuses rounds too short to measure, naming the most it allows" 2 \
	"--rounds 20: each round would measure 0.02 s, under 0.5 s; give at most 1 for --duration 2" \
	$FG bench --duration 2 --rounds 20
expect_fail "mock/bench refuses a fractional worker count" 2 "--workers: \"1.9\" is not a whole number" \
	$FG bench --workers 1.9
if timeout 300 $FG bench --duration 2 --json >"$T/bench.json" 2>"$T/bench.err" &&
	"$PY" tests/bench/check_bench_json.py "$T/bench.json" >"$T/out" 2>&1; then
	ok "mock/bench --json: $(tail -n1 "$T/out")"
else
	cat "$T/bench.err" >>"$T/out"; bad "mock/bench --json" "$T/out"
fi

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
