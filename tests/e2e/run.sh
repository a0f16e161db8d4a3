#!/usr/bin/env bash
# tests/e2e/run.sh — floorgate end to end against a real Kafka broker.
#
# Makes the test venv (scripts/pyenv.sh), fetches and starts a throwaway broker
# (scripts/kafka.sh) in ${FG_BUILD:-build}/e2e/kafka, creates the topics, runs
# tests/e2e/test_kafka_e2e.py, and always stops the broker and removes its data again.
# Exits with the test's status. Arguments are passed on to test_kafka_e2e.py.
#
# Environment:
#   FLOORGATE      the binary under test (default build/floorgate, from the repo root)
#   FG_E2E_PORT    broker port (controller: port+1). Unset: 29092, or the next free pair.
#   FG_E2E_KEEP=1  keep the broker's instance dir (logs, data) after the run
#   FG_E2E_TIMEOUT seconds floorgate may run per case set (default 120)
#   FG_BUILD, FG_KAFKA_VERSION, FG_KAFKA_CACHE  as for scripts/kafka.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
B=${FG_BUILD:-build}
case $B in /*) ;; *) B="$ROOT/$B" ;; esac
WORK="$B/e2e"
INST="$WORK/kafka"
FLOORGATE=${FLOORGATE:-build/floorgate}
case $FLOORGATE in /*) ;; *) FLOORGATE="$ROOT/$FLOORGATE" ;; esac

fail_setup() {
  printf 'tests/e2e/run.sh: error: %s\n' "$*" >&2
  echo "e2e: 0 passed, 1 failed"
  exit 1
}

[ -x "$FLOORGATE" ] || fail_setup "floorgate binary $FLOORGATE is missing or not executable (build it first, or set FLOORGATE)"

. scripts/ports.sh
if [ -n "${FG_E2E_PORT:-}" ]; then
  PORT=$FG_E2E_PORT
else
  PORT=$(fg_free_ports 29092 2 2 29190) ||
    fail_setup "no free port pair in 29092..29191 (set FG_E2E_PORT)"
fi

PY=$(scripts/pyenv.sh --print) || fail_setup "could not prepare the Python venv"
mkdir -p "$WORK"

started=0
# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$started" = 1 ]; then
    if [ "${FG_E2E_KEEP:-0}" = 1 ]; then
      scripts/kafka.sh stop --dir "$INST" --keep || true
    else
      scripts/kafka.sh stop --dir "$INST" || true
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/kafka.sh fetch >/dev/null || fail_setup "could not fetch Kafka"
started=1
scripts/kafka.sh start --port "$PORT" --dir "$INST" || fail_setup "could not start Kafka"
for t in declarations assessments deadletters; do
  scripts/kafka.sh create-topic "$t" 4 --dir "$INST" || fail_setup "could not create topic $t"
done

set +e
"$PY" tests/e2e/test_kafka_e2e.py --bootstrap "127.0.0.1:$PORT" --floorgate "$FLOORGATE" \
  --work "$WORK" "$@"
rc=$?
set -e
exit "$rc"
