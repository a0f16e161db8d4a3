#!/usr/bin/env bash
# tests/replay/fuzz.sh FLOORGATE SECONDS: fuzzes replay's container reader.
#
# Builds tests/replay/fuzz_ocf_reader.c with clang (libFuzzer, ASan, UBSan) into
# build/fuzz/fuzz_ocf_reader, makes a seed corpus of small `floorgate gen` files in
# the null and deflate codecs (and a writer schema with one more field), and runs
# it for SECONDS. A crash, leak, sanitizer report or disagreement exits non-zero;
# the input is kept in build/fuzz/artifacts/ocf-*.
set -eu
FG=${1:?usage: tests/replay/fuzz.sh FLOORGATE SECONDS}
secs=${2:?usage: tests/replay/fuzz.sh FLOORGATE SECONDS}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT="$ROOT/build/fuzz"
mkdir -p "$OUT/artifacts"
clang -std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Wall -Wextra \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-o "$OUT/fuzz_ocf_reader" tests/replay/fuzz_ocf_reader.c ingest/fg_ocf_reader.c \
	ingest/fg_schemas.c core/fg_common.c -lavro -ljansson -lz
work=$(mktemp -d "${TMPDIR:-/tmp}/floorgate-fuzz-ocf.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seeds" "$work/corpus"
PY=$(bash scripts/pyenv.sh --print)
for n in 1 3 8; do
	"$FG" gen --count "$n" --seed "$n" --out "$work/seeds/null-$n.avro" >/dev/null 2>&1
	"$PY" tests/replay/recode.py --block-records 2 "$work/seeds/null-$n.avro" "$work/seeds/deflate-$n.avro"
	"$PY" tests/replay/recode.py --codec null --evolve --block-records 3 "$work/seeds/null-$n.avro" \
		"$work/seeds/evolved-$n.avro"
done
export ASAN_OPTIONS=fast_unwind_on_malloc=0
export LSAN_OPTIONS=suppressions=$ROOT/tests/replay/lsan-fuzz.supp:print_suppressions=0
if "$OUT/fuzz_ocf_reader" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
	-print_final_stats=1 -artifact_prefix="$OUT/artifacts/ocf-" "$work/corpus" "$work/seeds" \
	>"$work/log" 2>&1; then
	grep -E '^#[0-9]+' "$work/log" | tail -n 1
	echo "fuzz_ocf_reader: ok ($(ls "$work/corpus" | wc -l) inputs in the working corpus)"
else
	tail -n 60 "$work/log"
	echo "fuzz_ocf_reader: FAILED (artifacts in $OUT/artifacts)"
	exit 1
fi
