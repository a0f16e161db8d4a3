#!/usr/bin/env bash
# scripts/pyenv.sh — make the test venv: ${FG_BUILD:-build}/venv (relative to the repo
# root unless absolute) with tests/requirements.txt installed from PyPI.
#
# Idempotent: the venv carries a stamp with a hash of the requirements and of the Python
# it was built with; when both match this is a no-op (a few milliseconds). Otherwise the
# venv is rebuilt from scratch. Prints the venv's python path on stdout with --print.
#
# Environment: PYTHON (default python3), FG_BUILD, FG_VENV (overrides the venv path).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REQ="$ROOT/tests/requirements.txt"
PYTHON=${PYTHON:-python3}
prog=scripts/pyenv.sh
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

b=${FG_BUILD:-build}
case $b in /*) ;; *) b="$ROOT/$b" ;; esac
VENV=${FG_VENV:-$b/venv}
case $VENV in /*) ;; *) VENV="$ROOT/$VENV" ;; esac

print=0
case ${1:-} in
  --print) print=1 ;;
  "") ;;
  *) die "usage: $prog [--print]" ;;
esac

[ -f "$REQ" ] || die "missing $REQ"
command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found (set PYTHON=/path/to/python3, 3.9 or newer)"
pyexe=$(command -v "$PYTHON")
# The stamp names the requirements' content and the interpreter (path and version), so a
# changed pin or a different python rebuilds the venv.
want=$( { cat "$REQ"; printf '%s\n' "$pyexe"; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)
stamp="$VENV/.fg-stamp"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
  [ $print = 1 ] && printf '%s\n' "$VENV/bin/python"
  exit 0
fi

printf '%s: creating %s ...\n' "$prog" "$VENV" >&2
t0=$SECONDS
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
if ! "$PYTHON" -m venv "$VENV" >&2; then
  rm -rf "$VENV"
  die "'$PYTHON -m venv' failed (on Debian's python3, install package 'python3-venv')"
fi
if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" >&2; then
  rm -rf "$VENV"
  die "pip could not install $REQ"
fi
"$VENV/bin/python" -c 'import confluent_kafka, fastavro' \
  || { rm -rf "$VENV"; die "installed packages do not import"; }
printf '%s\n' "$want" >"$stamp"
printf '%s: ready in %ss (confluent-kafka %s, librdkafka %s, fastavro %s)\n' "$prog" \
  $((SECONDS - t0)) \
  "$("$VENV/bin/python" -c 'import confluent_kafka as c; print(c.__version__)')" \
  "$("$VENV/bin/python" -c 'import confluent_kafka as c; print(c.libversion()[0])')" \
  "$("$VENV/bin/python" -c 'import fastavro; print(fastavro.__version__)')" >&2
[ $print = 1 ] && printf '%s\n' "$VENV/bin/python"
exit 0
