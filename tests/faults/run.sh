#!/usr/bin/env bash
# tests/faults/run.sh — floorgate through crashes, rebalances, broker failures, poison,
# reloads and TLS+SASL, on a real 3-broker Kafka cluster.
#
# Starts a throwaway 3-node KRaft cluster with a SASL_SSL listener (scripts/kafka.sh start
# --nodes 3 --tls) in ${FG_BUILD:-build}/faults/kafka, runs tests/faults/test_faults.py
# against it, and always stops the cluster and removes its data again. Exits with the
# test's status. Arguments go to test_faults.py (e.g. --only poison --mode exactly_once).
#
# Environment:
#   FLOORGATE        the binary under test (default build/floorgate, from the repo root)
#   FG_FAULTS_PORT   first port of the cluster (it takes 9: 3 brokers, 3 controllers,
#                    3 SASL_SSL). Unset: 30000, or the next free block up to 30990.
#   FG_FAULTS_KEEP=1 keep the cluster's instance dir (logs, data) after the run
#   FG_FAULTS_COUNT  declarations per scenario (default 2000)
#   FG_BUILD, FG_KAFKA_VERSION, FG_KAFKA_CACHE, FG_KAFKA_HEAP  as for scripts/kafka.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
B=${FG_BUILD:-build}
case $B in /*) ;; *) B="$ROOT/$B" ;; esac
WORK="$B/faults"
INST="$WORK/kafka"
FLOORGATE=${FLOORGATE:-build/floorgate}
case $FLOORGATE in /*) ;; *) FLOORGATE="$ROOT/$FLOORGATE" ;; esac
# Three JVMs on a small machine: small heaps.
export FG_KAFKA_HEAP=${FG_KAFKA_HEAP:--Xms128m -Xmx384m}

fail_setup() {
  printf 'tests/faults/run.sh: error: %s\n' "$*" >&2
  echo "faults: 0 passed, 1 failed"
  exit 1
}

[ -x "$FLOORGATE" ] || fail_setup "floorgate binary $FLOORGATE is missing or not executable (build it first, or set FLOORGATE)"

. scripts/ports.sh
if [ -n "${FG_FAULTS_PORT:-}" ]; then
  PORT=$FG_FAULTS_PORT
else
  PORT=$(fg_free_ports 30000 9 10 30990) ||
    fail_setup "no 9 free ports in 30000..30999 (set FG_FAULTS_PORT)"
fi

PY=$(scripts/pyenv.sh --print) || fail_setup "could not prepare the Python venv"
mkdir -p "$WORK"

started=0
pypid=""
# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT
  # `timeout` signals the whole process group: the stop below (and its children, which
  # inherit the ignore) must finish, or a broker is left running.
  trap '' INT TERM
  # Interrupted (timeout, Ctrl-C): the test ends the floorgate processes it started.
  if [ -n "$pypid" ] && kill -0 "$pypid" 2>/dev/null; then
    kill -TERM "$pypid" 2>/dev/null || true
    wait "$pypid" 2>/dev/null || true
  fi
  if [ "$started" = 1 ]; then
    if [ "${FG_FAULTS_KEEP:-0}" = 1 ]; then
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
# Fast failure handling for tests: a dead transactional producer's transaction is
# aborted within a second of its timeout, and consumers may use 2 s sessions.
scripts/kafka.sh start --nodes 3 --tls --port "$PORT" --dir "$INST" \
  --set transaction.abort.timed.out.transaction.cleanup.interval.ms=1000 \
  --set group.min.session.timeout.ms=2000 || fail_setup "could not start the Kafka cluster"

set +e
"$PY" tests/faults/test_faults.py --bootstrap "$(scripts/kafka.sh bootstrap --dir "$INST")" \
  --kafka-dir "$INST" --floorgate "$FLOORGATE" --work "$WORK" \
  --count "${FG_FAULTS_COUNT:-2000}" "$@" &
pypid=$!
wait "$pypid"
rc=$?
pypid=""
set -e
exit "$rc"
