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

. "$(dirname "${BASH_SOURCE[0]}")/../lib/kafka_suite.sh"
fg_suite e2e FG_E2E_KEEP 29092 2 2 29190 FG_E2E_PORT

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
