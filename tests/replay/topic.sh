#!/usr/bin/env bash
# tests/replay/topic.sh FLOORGATE: replay of a topic against a real broker.
#
# Starts a throwaway single-node broker (scripts/kafka.sh) on a free port pair in
# ${FG_REPLAY_PORT:-31000}..31099 with its instance under ${FG_BUILD:-build}/replay-kafka,
# runs tests/replay/topic_check.py against it, and always stops the broker (trap).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
FG=${1:?usage: tests/replay/topic.sh FLOORGATE}
case $FG in /*) ;; *) FG="$ROOT/$FG" ;; esac
B=${FG_BUILD:-build}
case $B in /*) ;; *) B="$ROOT/$B" ;; esac
INST="$B/replay-kafka"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/floorgate-replay-topic.XXXXXX")
PY=$(bash scripts/pyenv.sh --print)

# Ports below the ephemeral range (scripts/ports.sh); a start that still loses a
# race to another listener moves on to the next pair.
. scripts/ports.sh
PORT=${FG_REPLAY_PORT:-31000}
next_free_pair() {
	PORT=$(fg_free_ports "$PORT" 2 2 31098) ||
		{ echo "replay-topic: no free port pair in 31000..31099"; exit 1; }
}
next_free_pair

started=0
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ "$started" = 1 ] && scripts/kafka.sh stop --dir "$INST" >/dev/null 2>&1 || true
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/kafka.sh fetch >/dev/null
started=1
for attempt in 1 2 3; do
	if scripts/kafka.sh start --port "$PORT" --dir "$INST" >"$WORK/kafka.log" 2>&1; then
		break
	fi
	scripts/kafka.sh stop --dir "$INST" >/dev/null 2>&1 || true
	rm -rf "$INST"
	if [ "$attempt" = 3 ] || ! grep -q "Address already in use" "$WORK/kafka.log"; then
		cat "$WORK/kafka.log"
		exit 1
	fi
	echo "replay-topic: port $PORT was taken meanwhile; trying the next pair"
	PORT=$((PORT + 2))
	next_free_pair
done
"$PY" tests/replay/topic_check.py --bootstrap "127.0.0.1:$PORT" --floorgate "$FG" --work "$WORK"
