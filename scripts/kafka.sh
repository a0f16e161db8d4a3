#!/usr/bin/env bash
# scripts/kafka.sh — a throwaway Apache Kafka broker for floorgate's tests.
#
# DESIGN
#   fetch   Maven resolves org.apache.kafka:kafka_2.13 (plus kafka-tools for TopicCommand
#           and a log4j2 backend) with every runtime dependency, using
#           scripts/kafka-pom.xml, and copies the jars into
#           ${FG_KAFKA_CACHE:-$HOME/.cache/floorgate/kafka-<version>}/libs. A finished cache
#           carries a stamp file and is reused as is; a half-done one is redone.
#   start   An "instance" is a directory (default ${FG_BUILD:-build}/kafka under the repo
#           root). It holds cluster.id, bootstrap, nodes (one node id a line) and one
#           node-<id>/ folder per node with server.properties, log4j2.properties, data/,
#           logs/ and pid. Every node-specific thing is derived from (node id, broker port,
#           controller port, dir) in node_write_config/node_launch, so a multi-node mode
#           only has to loop over several of them with a shared controller.quorum.voters.
#           Today there is one combined broker+controller node (KRaft) on 127.0.0.1.
#   ready   kcat (librdkafka, the same client library floorgate links) must list the
#           broker in a metadata response; that also proves the client can talk to it.
#   stop    SIGTERM, wait, SIGKILL; only pids whose command line names this instance's
#           server.properties are signalled.
#
# Environment:
#   FG_KAFKA_VERSION   Kafka version (default below)
#   FG_KAFKA_CACHE     cache dir for that version (default ~/.cache/floorgate/kafka-<v>)
#   FG_M2_REPO         Maven local repository for the fetch (default: Maven's own)
#   FG_BUILD           build dir, relative to the repo root unless absolute (default build)
#   FG_KAFKA_HEAP      JVM heap options (default -Xms256m -Xmx512m)
#   FG_KAFKA_JAVA_OPTS extra JVM options
#   FG_KAFKA_START_TIMEOUT / FG_KAFKA_STOP_TIMEOUT  seconds (default 60 / 30)
#   JAVA, MVN, KCAT    programs to use (default from PATH)
set -euo pipefail

FG_KAFKA_VERSION=${FG_KAFKA_VERSION:-4.4.0}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
POM="$ROOT/scripts/kafka-pom.xml"
JAVA=${JAVA:-java}
MVN=${MVN:-mvn}
KCAT=${KCAT:-kcat}
DEFAULT_PORT=39092
START_TIMEOUT=${FG_KAFKA_START_TIMEOUT:-60}
STOP_TIMEOUT=${FG_KAFKA_STOP_TIMEOUT:-30}
# Main classes. kafka.tools.StorageTool is still the storage tool in 4.x (Scala, in the
# kafka_2.13 jar); TopicCommand moved to the kafka-tools jar in 3.5.
MAIN_BROKER=kafka.Kafka
MAIN_STORAGE=kafka.tools.StorageTool
MAIN_TOPIC=org.apache.kafka.tools.TopicCommand

prog=scripts/kafka.sh
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$prog" "$*" >&2; }

usage() {
  cat <<EOF
usage: $prog COMMAND [OPTIONS]

  fetch                       download Kafka $FG_KAFKA_VERSION into the cache (no-op if cached)
  start [--port N] [--dir D] [--set key=value]...
                              fetch, format and start a single-node KRaft broker on
                              127.0.0.1:N (default $DEFAULT_PORT, controller on N+1);
                              --set adds/overrides a server.properties line
  stop [--dir D] [--keep]     stop it (SIGTERM, then SIGKILL after ${STOP_TIMEOUT}s) and
                              remove the instance dir unless --keep
  status [--dir D]            print whether it runs; exit 0 if it does, 1 if not
  bootstrap [--dir D]         print host:port of the running instance
  create-topic NAME PARTITIONS [--dir D]
                              create a topic (replication factor 1) if it does not exist
  libs                        print the cache's libs dir (after fetch)

Default instance dir: \${FG_BUILD:-build}/kafka under the repo root.
EOF
}

# ---------------------------------------------------------------- paths

build_dir() {
  local b=${FG_BUILD:-build}
  case $b in /*) printf '%s\n' "$b" ;; *) printf '%s\n' "$ROOT/$b" ;; esac
}
cache_dir() { printf '%s\n' "${FG_KAFKA_CACHE:-$HOME/.cache/floorgate/kafka-$FG_KAFKA_VERSION}"; }
libs_dir() { printf '%s/libs\n' "$(cache_dir)"; }
stamp_file() { printf '%s/.fetched-%s\n' "$(cache_dir)" "$FG_KAFKA_VERSION"; }
abs_path() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$PWD" "$1" ;; esac; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found in PATH ($2)"
}

# ---------------------------------------------------------------- fetch

cmd_fetch() {
  local cache libs stamp tmp log t0
  cache=$(cache_dir); libs=$(libs_dir); stamp=$(stamp_file)
  if [ -f "$stamp" ] && [ -d "$libs" ]; then
    return 0
  fi
  need "$MVN" "install Debian package 'maven'"
  need "$JAVA" "install Debian package 'default-jre-headless' (Java 17+)"
  [ -f "$POM" ] || die "missing $POM"
  mkdir -p "$cache"
  # One fetch at a time per cache (two test runs may start together).
  exec 9>"$cache/.lock"
  flock 9
  if [ -f "$stamp" ] && [ -d "$libs" ]; then exec 9>&-; return 0; fi
  say "fetching Apache Kafka $FG_KAFKA_VERSION (kafka_2.13) from Maven into $libs ..."
  t0=$SECONDS
  tmp="$cache/libs.partial"
  rm -rf "$tmp" "$libs"
  log="$cache/fetch.log"
  local m2=()
  [ -z "${FG_M2_REPO:-}" ] || m2=(-Dmaven.repo.local="$FG_M2_REPO")
  if ! "$MVN" -B -q -f "$POM" -Dkafka.version="$FG_KAFKA_VERSION" -Dkafka.libs="$tmp" \
      ${m2[@]+"${m2[@]}"} dependency:copy-dependencies >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -rf "$tmp"
    exec 9>&-
    die "maven could not fetch org.apache.kafka:kafka_2.13:$FG_KAFKA_VERSION (full log: $log)"
  fi
  [ -f "$tmp/kafka_2.13-$FG_KAFKA_VERSION.jar" ] || { exec 9>&-; die "fetch finished but $tmp/kafka_2.13-$FG_KAFKA_VERSION.jar is missing (log: $log)"; }
  mv "$tmp" "$libs"
  date -u +%FT%TZ >"$stamp"
  exec 9>&-
  say "fetched $(find "$libs" -name "*.jar" | wc -l) jars in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------- node helpers
# Everything about one node is a function of (id, port, controller port, dir).

node_dir() { printf '%s/node-%s\n' "$1" "$2"; }       # instance_dir node_id

# node_write_config INSTANCE_DIR NODE_ID PORT CTRL_PORT VOTERS [EXTRA_PROPS...]
node_write_config() {
  local inst=$1 id=$2 port=$3 cport=$4 voters=$5; shift 5
  local nd; nd=$(node_dir "$inst" "$id")
  mkdir -p "$nd/data" "$nd/logs"
  cat >"$nd/server.properties" <<EOF
# Generated by scripts/kafka.sh for tests; not for production.
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$nd/data
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=-1
EOF
  local kv
  for kv in "$@"; do printf '%s\n' "$kv" >>"$nd/server.properties"; done
  # Command-line tools (storage format, TopicCommand): warnings to stderr, which the
  # callers capture into a file and show only on failure.
  cat >"$nd/tools-log4j2.properties" <<EOF
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF
  # log4j2 for the broker: everything to a file in the node's logs dir, nothing to the
  # console (Kafka 4 logs through log4j2).
  cat >"$nd/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $nd/logs/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
EOF
}

# node_java NODE_DIR MAIN ARGS... — run a command-line tool with the cache's jars.
node_java() {
  local nd=$1; shift
  # shellcheck disable=SC2086
  "$JAVA" -Xmx256m ${FG_KAFKA_JAVA_OPTS:-} \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="file:$nd/tools-log4j2.properties" \
    -Dkafka.logs.dir="$nd/logs" \
    -cp "$(libs_dir)/*" "$@"
}

# node_format NODE_DIR CLUSTER_ID
node_format() {
  local nd=$1 cid=$2
  if ! node_java "$nd" "$MAIN_STORAGE" format -t "$cid" -c "$nd/server.properties" \
      --ignore-formatted >"$nd/logs/format.log" 2>&1; then
    cat "$nd/logs/format.log" >&2
    die "formatting storage in $nd/data failed"
  fi
}

# node_launch NODE_DIR — start the broker in the background, record its pid.
node_launch() {
  local nd=$1
  # setsid: its own session, so a Ctrl-C to the test run does not skip our stop.
  # setsid forks when the caller runs with job control, so the broker writes its
  # own pid (the shell execs java) rather than trusting $!.
  # All three standard streams are redirected so callers that capture output do not
  # wait for the broker to exit.
  rm -f "$nd/pid"
  # shellcheck disable=SC2086,SC2016
  setsid sh -c 'echo $$ >"$0/pid"; exec "$@"' "$nd" \
    "$JAVA" ${FG_KAFKA_HEAP:--Xms256m -Xmx512m} ${FG_KAFKA_JAVA_OPTS:-} \
    -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="file:$nd/log4j2.properties" \
    -Dkafka.logs.dir="$nd/logs" \
    -cp "$(libs_dir)/*" "$MAIN_BROKER" "$nd/server.properties" \
    </dev/null >"$nd/logs/stdout.log" 2>&1 &
  local i
  for i in $(seq 50); do [ -s "$nd/pid" ] && break; sleep 0.1; done
}

# node_pid NODE_DIR — print the pid if that process is alive and is this node's broker.
node_pid() {
  local nd=$1 pid
  [ -f "$nd/pid" ] || return 1
  pid=$(cat "$nd/pid")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$nd/server.properties" || return 1
  printf '%s\n' "$pid"
}

# node_wait_ready NODE_DIR NODE_ID PORT — until kcat sees the broker in metadata.
node_wait_ready() {
  local nd=$1 id=$2 port=$3 deadline=$((SECONDS + START_TIMEOUT)) out
  while :; do
    if ! node_pid "$nd" >/dev/null; then
      say "broker node $id exited during startup; last lines of its logs:"
      tail -n 40 "$nd/logs/stdout.log" >&2 2>/dev/null || true
      tail -n 40 "$nd/logs/server.log" >&2 2>/dev/null || true
      return 1
    fi
    out=$(timeout 10 "$KCAT" -L -b "127.0.0.1:$port" -m 2 2>&1 || true)
    if printf '%s\n' "$out" | grep -qE "broker $id at 127\.0\.0\.1:$port"; then
      return 0
    fi
    if [ $SECONDS -ge $deadline ]; then
      say "broker node $id not ready on 127.0.0.1:$port after ${START_TIMEOUT}s; kcat said:"
      printf '%s\n' "$out" | tail -n 5 >&2
      tail -n 40 "$nd/logs/server.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.5
  done
}

# node_stop NODE_DIR NODE_ID
node_stop() {
  local nd=$1 id=$2 pid deadline
  pid=$(node_pid "$nd") || { rm -f "$nd/pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    say "node $id (pid $pid) still running after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$nd/pid"
}

port_in_use() {
  # Succeeds when something accepts connections on 127.0.0.1:$1.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

random_cluster_id() {
  # A Kafka Uuid: 16 random bytes, URL-safe base64 without padding (22 characters).
  # One that starts with '-' would read as an option to the storage tool: draw again.
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    case $id in -*) ;; *) printf '%s\n' "$id"; return ;; esac
  done
}

# ---------------------------------------------------------------- commands

parse_dir_opt() {   # sets INST from --dir or the default
  INST=$(build_dir)/kafka
  KEEP=0
  while [ $# -gt 0 ]; do
    case $1 in
      --dir) [ $# -ge 2 ] || die "--dir needs a value"; INST=$(abs_path "$2"); shift 2 ;;
      --dir=*) INST=$(abs_path "${1#--dir=}"); shift ;;
      --keep) KEEP=1; shift ;;
      *) die "unknown option '$1' (see '$prog help')" ;;
    esac
  done
}

instance_nodes() {  # node ids of an instance, one a line
  [ -f "$1/nodes" ] && cat "$1/nodes"
}

cmd_start() {
  local port=$DEFAULT_PORT inst="" extra=() id cport nd cid
  while [ $# -gt 0 ]; do
    case $1 in
      --port) [ $# -ge 2 ] || die "--port needs a value"; port=$2; shift 2 ;;
      --port=*) port=${1#--port=}; shift ;;
      --dir) [ $# -ge 2 ] || die "--dir needs a value"; inst=$(abs_path "$2"); shift 2 ;;
      --dir=*) inst=$(abs_path "${1#--dir=}"); shift ;;
      --set) [ $# -ge 2 ] || die "--set needs key=value"; extra+=("$2"); shift 2 ;;
      --set=*) extra+=("${1#--set=}"); shift ;;
      *) die "unknown option '$1' (see '$prog help')" ;;
    esac
  done
  [ -n "$inst" ] || inst=$(build_dir)/kafka
  if ! [[ $port =~ ^[0-9]+$ ]] || [ "$port" -lt 1024 ] || [ "$port" -gt 65534 ]; then
    die "bad --port '$port' (1024..65534; the controller takes port+1)"
  fi
  need "$KCAT" "install Debian package 'kcat'"
  need "$JAVA" "install Debian package 'default-jre-headless' (Java 17+)"
  need setsid "install Debian package 'util-linux'"

  if [ -d "$inst" ]; then
    for id in $(instance_nodes "$inst"); do
      if node_pid "$(node_dir "$inst" "$id")" >/dev/null; then
        die "an instance is already running in $inst (bootstrap $(cat "$inst/bootstrap" 2>/dev/null)); stop it first"
      fi
    done
    rm -rf "$inst"   # leftovers of a run that died: start clean
  fi

  # Single node today. A multi-node mode would pick N (id, port, cport) triples here and
  # build voters from all of them.
  id=1
  cport=$((port + 1))
  local p
  for p in "$port" "$cport"; do
    port_in_use "$p" && die "port $p on 127.0.0.1 is in use (choose another with --port)"
  done

  cmd_fetch
  mkdir -p "$inst"
  cid=$(random_cluster_id)
  printf '%s\n' "$cid" >"$inst/cluster.id"
  printf '%s\n' "$id" >"$inst/nodes"
  local voters="$id@127.0.0.1:$cport"
  node_write_config "$inst" "$id" "$port" "$cport" "$voters" ${extra[@]+"${extra[@]}"}
  nd=$(node_dir "$inst" "$id")
  local t0=$SECONDS
  node_format "$nd" "$cid"
  node_launch "$nd"
  if ! node_wait_ready "$nd" "$id" "$port"; then
    node_stop "$nd" "$id"
    die "Kafka did not start (instance dir kept for inspection: $inst)"
  fi
  printf '127.0.0.1:%s\n' "$port" >"$inst/bootstrap"
  cp "$nd/pid" "$inst/pid"
  say "Kafka $FG_KAFKA_VERSION up at 127.0.0.1:$port in $((SECONDS - t0))s (pid $(cat "$nd/pid"), dir $inst)"
}

cmd_stop() {
  parse_dir_opt "$@"
  local id
  if [ ! -d "$INST" ]; then
    say "no instance in $INST"
    return 0
  fi
  for id in $(instance_nodes "$INST"); do
    node_stop "$(node_dir "$INST" "$id")" "$id"
  done
  # A start that died before writing 'nodes' leaves node dirs only: stop those too.
  local nd
  for nd in "$INST"/node-*; do
    [ -d "$nd" ] && node_stop "$nd" "${nd##*/node-}"
  done
  rm -f "$INST/pid"
  if [ "$KEEP" = 1 ]; then
    say "stopped; kept $INST"
  else
    rm -rf "$INST"
    say "stopped; removed $INST"
  fi
}

cmd_status() {
  parse_dir_opt "$@"
  local id up=0 total=0 pid
  for id in $(instance_nodes "$INST" 2>/dev/null || true); do
    total=$((total + 1))
    if pid=$(node_pid "$(node_dir "$INST" "$id")"); then
      up=$((up + 1))
      printf 'node %s: running (pid %s)\n' "$id" "$pid"
    else
      printf 'node %s: stopped\n' "$id"
    fi
  done
  if [ $total -gt 0 ] && [ $up -eq $total ]; then
    printf 'running: %s (%s)\n' "$(cat "$INST/bootstrap" 2>/dev/null || echo '?')" "$INST"
    return 0
  fi
  printf 'not running (%s)\n' "$INST"
  return 1
}

require_running() {  # INST
  local id
  [ -f "$1/bootstrap" ] || die "no running instance in $1 (run '$prog start')"
  for id in $(instance_nodes "$1"); do
    node_pid "$(node_dir "$1" "$id")" >/dev/null \
      || die "node $id of the instance in $1 is not running (see '$prog status')"
  done
}

cmd_bootstrap() {
  parse_dir_opt "$@"
  require_running "$INST"
  cat "$INST/bootstrap"
}

cmd_create_topic() {
  [ $# -ge 2 ] || die "usage: $prog create-topic NAME PARTITIONS [--dir D]"
  local name=$1 parts=$2; shift 2
  [[ $parts =~ ^[1-9][0-9]*$ ]] || die "bad partition count '$parts'"
  parse_dir_opt "$@"
  require_running "$INST"
  local bs nd id
  bs=$(cat "$INST/bootstrap")
  id=$(head -n 1 "$INST/nodes")
  nd=$(node_dir "$INST" "$id")
  if ! node_java "$nd" "$MAIN_TOPIC" --bootstrap-server "$bs" \
      --create --if-not-exists --topic "$name" --partitions "$parts" \
      --replication-factor 1 >"$nd/logs/topic.log" 2>&1; then
    cat "$nd/logs/topic.log" >&2
    die "could not create topic '$name'"
  fi
  say "topic $name ($parts partitions) on $bs"
}

cmd_libs() {
  [ -f "$(stamp_file)" ] || die "Kafka $FG_KAFKA_VERSION is not fetched (run '$prog fetch')"
  libs_dir
}

main() {
  [ $# -ge 1 ] || { usage >&2; exit 2; }
  local cmd=$1; shift
  case $cmd in
    fetch) [ $# -eq 0 ] || die "fetch takes no arguments"; cmd_fetch; libs_dir ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    bootstrap) cmd_bootstrap "$@" ;;
    create-topic) cmd_create_topic "$@" ;;
    libs) cmd_libs ;;
    help|-h|--help) usage ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
