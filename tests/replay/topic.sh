#!/usr/bin/env bash
# tests/replay/topic.sh FLOORGATE: replay of a topic against a real broker.
#
# Starts a throwaway single-node broker (scripts/kafka.sh) on a free port pair in
# ${FG_REPLAY_PORT:-42000}..42099 with its instance under ${FG_BUILD:-build}/replay-kafka,
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

# 42000-42099 lies inside Linux's ephemeral port range (32768-60999): a port may be
# taken by any process's outgoing connection, not only by a listener. So a port is
# busy when ss shows it as the local end of any socket (or, without ss, when it
# accepts a connection), and a start that still loses the race moves on to the next pair.
port_in_use() {
	if command -v ss >/dev/null 2>&1; then
		[ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}
PORT=${FG_REPLAY_PORT:-42000}
next_free_pair() {
	while port_in_use "$PORT" || port_in_use $((PORT + 1)); do
		PORT=$((PORT + 2))
		[ "$PORT" -lt 42099 ] || { echo "replay-topic: no free port pair in 42000..42099"; exit 1; }
	done
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
