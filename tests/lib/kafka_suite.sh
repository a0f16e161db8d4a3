# tests/lib/kafka_suite.sh: what the suites that run floorgate against a throwaway
# Kafka (tests/e2e/run.sh, tests/faults/run.sh) share. Sourced.
#
# fg_suite NAME KEEP FIRST COUNT STEP LAST PORTVAR:
#   cds to the repository root and sets ROOT, WORK (${FG_BUILD:-build}/NAME),
#   INST (WORK/kafka, the broker's instance dir), FLOORGATE (absolute; the
#   binary under test, build/floorgate unless set) and PY (the venv of
#   scripts/pyenv.sh); picks PORT: $PORTVAR if set, else the first of FIRST,
#   FIRST+STEP, ... LAST with COUNT free ports; and sets the traps. Afterwards
#   the suite sets started=1 before it starts a broker, and pypid to its
#   driver's pid while the driver runs. However the suite ends (exit, Ctrl-C,
#   `timeout`), the driver is ended and the broker stopped and its data
#   removed, unless the variable named KEEP is 1 (then the data is kept).
# fail_setup MESSAGE: the suite could not be set up; counts as one failure.

fail_setup() {
  printf 'tests/%s/run.sh: error: %s\n' "$FG_SUITE" "$*" >&2
  echo "$FG_SUITE: 0 passed, 1 failed"
  exit 1
}

# shellcheck disable=SC2317  # called through the EXIT trap
fg_suite_cleanup() {
  local rc=$?
  trap - EXIT
  # `timeout` signals the whole process group: the stop below (and its children, which
  # inherit the ignore) must finish, or a broker is left running.
  trap '' INT TERM
  # Interrupted: the driver ends the floorgate processes it started.
  if [ -n "${pypid:-}" ] && kill -0 "$pypid" 2>/dev/null; then
    kill -TERM "$pypid" 2>/dev/null || true
    wait "$pypid" 2>/dev/null || true
  fi
  if [ "${started:-0}" = 1 ]; then
    if [ "${!FG_SUITE_KEEP:-0}" = 1 ]; then
      scripts/kafka.sh stop --dir "$INST" --keep || true
    else
      scripts/kafka.sh stop --dir "$INST" || true
    fi
  fi
  exit "$rc"
}

fg_suite() {
  FG_SUITE=$1 FG_SUITE_KEEP=$2
  local first=$3 count=$4 step=$5 last=$6 portvar=$7 b
  ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  cd "$ROOT"
  b=${FG_BUILD:-build}
  case $b in /*) ;; *) b="$ROOT/$b" ;; esac
  WORK="$b/$FG_SUITE"
  INST="$WORK/kafka"
  FLOORGATE=${FLOORGATE:-build/floorgate}
  case $FLOORGATE in /*) ;; *) FLOORGATE="$ROOT/$FLOORGATE" ;; esac
  [ -x "$FLOORGATE" ] ||
    fail_setup "floorgate binary $FLOORGATE is missing or not executable (build it first, or set FLOORGATE)"

  . scripts/ports.sh
  if [ -n "${!portvar:-}" ]; then
    PORT=${!portvar}
  else
    PORT=$(fg_free_ports "$first" "$count" "$step" "$last") ||
      fail_setup "no $count free ports in $first..$((last + count - 1)) (set $portvar)"
  fi

  PY=$(scripts/pyenv.sh --print) || fail_setup "could not prepare the Python venv"
  mkdir -p "$WORK"
  started=0
  pypid=""
  trap fg_suite_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
