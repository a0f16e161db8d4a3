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
#           Default: one combined broker+controller node (KRaft) on 127.0.0.1. With
#           --nodes N (1..5), N combined nodes share one static quorum; node i (1-based)
#           takes broker port P+2(i-1) and controller port P+2(i-1)+1, so one node is
#           exactly the old layout. Replication (topics, offsets, transaction state) is
#           min(3, N) with min ISR min(2, N); broker session, heartbeat and ISR lag are
#           short so that a killed node is fenced and its leaders move in seconds.
#           Each node's ports live in node-<id>/ports, so kill-node / stop-node /
#           start-node / restart-node act on one node while the others keep running.
#   tls     --tls adds a SASL_SSL listener (SASL/PLAIN over TLS) to every node, on port
#           P+2N+(i-1). At start, openssl makes a CA and one broker certificate
#           (SAN IP:127.0.0.1) in <dir>/tls/, a PKCS12 keystore with a random password,
#           and a random password for the client user; ca.pem, sasl.user, sasl.password
#           and bootstrap-tls are what a client needs. PLAINTEXT stays the inter-broker
#           and tool listener, so readiness and create-topic work as without --tls.
#   ready   kcat (librdkafka, the same client library floorgate links) must list the
#           broker in a metadata response; that also proves the client can talk to it.
#   stop    SIGTERM to every node at once (a node that waits for a quorum already gone
#           would otherwise hold up the next), wait, SIGKILL; only pids whose command line
#           names this instance's server.properties are signalled.
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
DEFAULT_PORT=29092
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
  start [--port N] [--nodes K] [--tls] [--dir D] [--set key=value]...
                              fetch, format and start a KRaft cluster of K combined
                              broker+controller nodes (default 1) on 127.0.0.1; node i
                              listens on N+2(i-1) (default N $DEFAULT_PORT), its controller
                              on N+2(i-1)+1; --tls adds a SASL_SSL (PLAIN) listener on
                              N+2K+(i-1) with a CA, certificate and passwords made in D/tls;
                              --set adds/overrides a server.properties line (every node)
  stop [--dir D] [--keep]     stop every node (SIGTERM, then SIGKILL after ${STOP_TIMEOUT}s)
                              and remove the instance dir unless --keep
  status [--dir D]            print whether it runs; exit 0 if every node does, 1 if not
  bootstrap [--dir D]         print host:port[,host:port...] of the running instance
  bootstrap-tls [--dir D]     the same for the SASL_SSL listeners (--tls instances)
  create-topic NAME PARTITIONS [--dir D] [--config key=value]...
                              create a topic (replication factor min(3, nodes)) if it
                              does not exist
  kill-node ID [--dir D]      kill -9 one node (no clean shutdown)
  stop-node ID [--dir D]      stop one node cleanly (SIGTERM)
  start-node ID [--dir D]     start a stopped or killed node again, wait until it serves
  restart-node ID [--dir D]   stop-node, then start-node
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
default.replication.factor=$CFG_RF
min.insync.replicas=$CFG_MINISR
auto.create.topics.enable=false
offsets.topic.replication.factor=$CFG_RF
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=$CFG_RF
transaction.state.log.min.isr=$CFG_MINISR
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=$CFG_RF
share.coordinator.state.topic.min.isr=$CFG_MINISR
group.initial.rebalance.delay.ms=0
log.retention.hours=-1
EOF
  if [ "$CFG_NODES" -gt 1 ]; then
    # Fast failure handling: a node that stops heartbeating is fenced after 3 s and its
    # partitions get new leaders; a follower that lags 5 s leaves the ISR; the quorum
    # elects a new active controller within about a second.
    cat >>"$nd/server.properties" <<EOF
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
replica.lag.time.max.ms=5000
controller.quorum.election.timeout.ms=1000
controller.quorum.fetch.timeout.ms=2000
controller.quorum.election.backoff.max.ms=500
EOF
  fi
  if [ -n "$CFG_TLS_PORT" ]; then
    local tls=$inst/tls
    cat >>"$nd/server.properties" <<EOF
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport,SASL_SSL://127.0.0.1:$CFG_TLS_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$CFG_TLS_PORT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=PLAIN
ssl.keystore.type=PKCS12
ssl.keystore.location=$tls/broker.p12
ssl.keystore.password=$(cat "$tls/keystore.password")
ssl.key.password=$(cat "$tls/keystore.password")
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$(cat "$tls/sasl.user")="$(cat "$tls/sasl.password")";
EOF
  fi
  printf '%s %s %s\n' "$port" "$cport" "$CFG_TLS_PORT" >"$nd/ports"
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

# fg_port_in_use: a port that is the local end of any socket (scripts/ports.sh).
. "$ROOT/scripts/ports.sh"
port_in_use() { fg_port_in_use "$1"; }

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

# make_tls INSTANCE_DIR — a CA, one broker certificate for IP 127.0.0.1 signed by it, a
# PKCS12 keystore, and random passwords for the keystore and the SASL/PLAIN client user.
make_tls() {
  local tls=$1/tls
  need openssl "install Debian package 'openssl'"
  mkdir -p "$tls"
  chmod 700 "$tls"
  (
    set -e
    cd "$tls"
    openssl rand -hex 16 >keystore.password
    printf 'floorgate\n' >sasl.user
    openssl rand -hex 16 >sasl.password
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=floorgate test CA" \
      -keyout ca.key -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
      -keyout broker.key -out broker.csr
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile broker.ext -out broker.pem
    openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
      -passout "file:keystore.password" -out broker.p12
  ) >"$1/tls.log" 2>&1 || { cat "$1/tls.log" >&2; die "openssl could not make the TLS material in $tls"; }
}

# Per-node ports, recorded at start: "PORT CTRL_PORT [TLS_PORT]".
node_ports() { cat "$(node_dir "$1" "$2")/ports" 2>/dev/null; }

cmd_start() {
  local port=$DEFAULT_PORT inst="" extra=() id cport nd cid nodes=1 tls=0
  while [ $# -gt 0 ]; do
    case $1 in
      --port) [ $# -ge 2 ] || die "--port needs a value"; port=$2; shift 2 ;;
      --port=*) port=${1#--port=}; shift ;;
      --nodes) [ $# -ge 2 ] || die "--nodes needs a value"; nodes=$2; shift 2 ;;
      --nodes=*) nodes=${1#--nodes=}; shift ;;
      --tls) tls=1; shift ;;
      --dir) [ $# -ge 2 ] || die "--dir needs a value"; inst=$(abs_path "$2"); shift 2 ;;
      --dir=*) inst=$(abs_path "${1#--dir=}"); shift ;;
      --set) [ $# -ge 2 ] || die "--set needs key=value"; extra+=("$2"); shift 2 ;;
      --set=*) extra+=("${1#--set=}"); shift ;;
      *) die "unknown option '$1' (see '$prog help')" ;;
    esac
  done
  [ -n "$inst" ] || inst=$(build_dir)/kafka
  [[ $nodes =~ ^[1-5]$ ]] || die "bad --nodes '$nodes' (1..5)"
  local span=$((2 * nodes + tls * nodes))
  if ! [[ $port =~ ^[0-9]+$ ]] || [ "$port" -lt 1024 ] || [ $((port + span - 1)) -gt 65535 ]; then
    die "bad --port '$port' (1024 and up; the instance takes ports $port..port+$((span - 1)))"
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

  local p
  for p in $(seq "$port" $((port + span - 1))); do
    port_in_use "$p" && die "port $p on 127.0.0.1 is in use (choose another with --port)"
  done

  cmd_fetch
  mkdir -p "$inst"
  cid=$(random_cluster_id)
  printf '%s\n' "$cid" >"$inst/cluster.id"
  [ "$tls" = 0 ] || make_tls "$inst"
  # Node i: broker port+2(i-1), controller +1; one node is the historical layout.
  local voters="" bs="" bstls=""
  for id in $(seq "$nodes"); do
    voters+="${voters:+,}$id@127.0.0.1:$((port + 2 * (id - 1) + 1))"
    bs+="${bs:+,}127.0.0.1:$((port + 2 * (id - 1)))"
    [ "$tls" = 0 ] || bstls+="${bstls:+,}127.0.0.1:$((port + 2 * nodes + id - 1))"
  done
  seq "$nodes" >"$inst/nodes"
  CFG_NODES=$nodes
  CFG_RF=$(( nodes < 3 ? nodes : 3 ))
  CFG_MINISR=$(( nodes < 2 ? 1 : 2 ))
  local t0=$SECONDS
  for id in $(seq "$nodes"); do
    CFG_TLS_PORT=""
    [ "$tls" = 0 ] || CFG_TLS_PORT=$((port + 2 * nodes + id - 1))
    node_write_config "$inst" "$id" $((port + 2 * (id - 1))) $((port + 2 * (id - 1) + 1)) \
      "$voters" ${extra[@]+"${extra[@]}"}
  done
  # Format and launch every node before waiting: a quorum of several needs a majority up.
  for id in $(seq "$nodes"); do node_format "$(node_dir "$inst" "$id")" "$cid" & done
  wait
  for id in $(seq "$nodes"); do
    [ -f "$(node_dir "$inst" "$id")/data/meta.properties" ] || die "formatting node $id failed"
  done
  for id in $(seq "$nodes"); do node_launch "$(node_dir "$inst" "$id")"; done
  for id in $(seq "$nodes"); do
    if ! node_wait_ready "$(node_dir "$inst" "$id")" "$id" $((port + 2 * (id - 1))); then
      stop_all "$inst"
      die "Kafka did not start (instance dir kept for inspection: $inst)"
    fi
  done
  printf '%s\n' "$bs" >"$inst/bootstrap"
  [ "$tls" = 0 ] || printf '%s\n' "$bstls" >"$inst/bootstrap-tls"
  cp "$(node_dir "$inst" 1)/pid" "$inst/pid"
  say "Kafka $FG_KAFKA_VERSION up at $bs${bstls:+ (SASL_SSL $bstls)} in $((SECONDS - t0))s ($nodes node(s), dir $inst)"
}

# stop_all INSTANCE_DIR — SIGTERM every node at once, then wait for each.
stop_all() {
  local inst=$1 nd pids=() id
  for nd in "$inst"/node-*; do
    [ -d "$nd" ] || continue
    node_stop "$nd" "${nd##*/node-}" &
    pids+=($!)
  done
  for id in ${pids[@]+"${pids[@]}"}; do wait "$id" || true; done
}

cmd_stop() {
  parse_dir_opt "$@"
  if [ ! -d "$INST" ]; then
    say "no instance in $INST"
    return 0
  fi
  # Every node-* dir, including those of a start that died before writing 'nodes'.
  stop_all "$INST"
  rm -f "$INST/pid"
  if [ "$KEEP" = 1 ]; then
    say "stopped; kept $INST"
  else
    rm -rf "$INST"
    say "stopped; removed $INST"
  fi
}

# node_cmd_args ID [--dir D]: sets NODE_ID, INST, ND after checking the id exists.
node_cmd_args() {
  [ $# -ge 1 ] || die "missing node id"
  NODE_ID=$1; shift
  parse_dir_opt "$@"
  [[ $NODE_ID =~ ^[0-9]+$ ]] || die "bad node id '$NODE_ID'"
  grep -qx "$NODE_ID" "$INST/nodes" 2>/dev/null || die "no node $NODE_ID in $INST"
  ND=$(node_dir "$INST" "$NODE_ID")
}

cmd_kill_node() {
  node_cmd_args "$@"
  local pid
  pid=$(node_pid "$ND") || die "node $NODE_ID is not running"
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$ND/pid"
  say "node $NODE_ID (pid $pid) killed"
}

cmd_stop_node() {
  node_cmd_args "$@"
  node_pid "$ND" >/dev/null || { say "node $NODE_ID is not running"; return 0; }
  node_stop "$ND" "$NODE_ID"
  say "node $NODE_ID stopped"
}

cmd_start_node() {
  node_cmd_args "$@"
  local port t0=$SECONDS
  node_pid "$ND" >/dev/null && die "node $NODE_ID is already running"
  read -r port _ <"$ND/ports" || die "no $ND/ports (was this instance started by $prog?)"
  node_launch "$ND"
  node_wait_ready "$ND" "$NODE_ID" "$port" || die "node $NODE_ID did not come back"
  say "node $NODE_ID up again at 127.0.0.1:$port in $((SECONDS - t0))s (pid $(cat "$ND/pid"))"
}

cmd_restart_node() {
  cmd_stop_node "$@"
  cmd_start_node "$@"
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
  [ $# -ge 2 ] || die "usage: $prog create-topic NAME PARTITIONS [--dir D] [--config key=value]..."
  local name=$1 parts=$2; shift 2
  [[ $parts =~ ^[1-9][0-9]*$ ]] || die "bad partition count '$parts'"
  local rest=() configs=()
  while [ $# -gt 0 ]; do
    case $1 in
      --config) [ $# -ge 2 ] || die "--config needs key=value"; configs+=(--config "$2"); shift 2 ;;
      --config=*) configs+=(--config "${1#--config=}"); shift ;;
      *) rest+=("$1"); shift ;;
    esac
  done
  parse_dir_opt ${rest[@]+"${rest[@]}"}
  require_running "$INST"
  local bs nd id n rf
  bs=$(cat "$INST/bootstrap")
  id=$(head -n 1 "$INST/nodes")
  nd=$(node_dir "$INST" "$id")
  n=$(wc -l <"$INST/nodes")
  rf=$(( n < 3 ? n : 3 ))
  if ! node_java "$nd" "$MAIN_TOPIC" --bootstrap-server "$bs" \
      --create --if-not-exists --topic "$name" --partitions "$parts" \
      --replication-factor "$rf" ${configs[@]+"${configs[@]}"} >"$nd/logs/topic.log" 2>&1; then
    cat "$nd/logs/topic.log" >&2
    die "could not create topic '$name'"
  fi
  say "topic $name ($parts partitions, replication factor $rf) on $bs"
}

cmd_bootstrap_tls() {
  parse_dir_opt "$@"
  require_running "$INST"
  [ -f "$INST/bootstrap-tls" ] || die "the instance in $INST was started without --tls"
  cat "$INST/bootstrap-tls"
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
    bootstrap-tls) cmd_bootstrap_tls "$@" ;;
    kill-node) cmd_kill_node "$@" ;;
    stop-node) cmd_stop_node "$@" ;;
    start-node) cmd_start_node "$@" ;;
    restart-node) cmd_restart_node "$@" ;;
    libs) cmd_libs ;;
    help|-h|--help) usage ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
