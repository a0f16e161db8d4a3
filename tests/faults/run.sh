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

# Three JVMs on a small machine: small heaps.
export FG_KAFKA_HEAP=${FG_KAFKA_HEAP:--Xms128m -Xmx384m}
. "$(dirname "${BASH_SOURCE[0]}")/../lib/kafka_suite.sh"
fg_suite faults FG_FAULTS_KEEP 30000 9 10 30990 FG_FAULTS_PORT

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
