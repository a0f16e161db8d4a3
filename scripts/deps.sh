#!/bin/sh
# deps.sh: installs the Debian packages floorgate builds and tests with,
# when any is missing. Run as root (or with sudo available).
#
# deps.sh --check: installs nothing; asks the C compiler ($CC, else cc)
# for the libraries' headers and, when one is missing, says which and how
# to get it, and fails. The Makefile runs it before compiling, so a plain
# `make` on a machine without the packages stops with that message rather
# than a compiler error.
set -eu
if [ "${1:-}" = "--check" ]; then
	absent=""
	for h in librdkafka/rdkafka.h avro.h jansson.h jemalloc/jemalloc.h xxhash.h urcu-qsbr.h ck_ring.h zlib.h; do
		printf '#include <%s>\n' "$h" | ${CC:-cc} -E -x c - >/dev/null 2>&1 || absent="$absent $h"
	done
	[ -z "$absent" ] && exit 0
	echo "floorgate: these headers are missing:$absent" >&2
	echo "floorgate: run 'make deps' (or 'make demo'), which installs the Debian packages" >&2
	exit 1
fi
pkgs="build-essential pkg-config librdkafka-dev libavro-dev libjansson-dev libjemalloc-dev libxxhash-dev
libbenchmark-dev libcmocka-dev libck-dev liburcu-dev zlib1g-dev kcat clang python3-venv"
# The audit tests render the HTML report in a headless browser.
pkgs="$pkgs chromium"
# Java 17 and Maven run the test Kafka broker; the machine image usually has them.
command -v java >/dev/null 2>&1 || pkgs="$pkgs openjdk-17-jre-headless"
command -v mvn >/dev/null 2>&1 || pkgs="$pkgs maven"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq $missing >/dev/null
