#!/usr/bin/env bash
# Apache Kafka for tests and local runs, without Docker: the broker's jars come from Maven Central
# (scripts/apache-kafka/pom.xml) into a cache folder outside the repository.
#
#   scripts/apache-kafka.sh fetch
#       Resolves Apache Kafka $KAFKA_VERSION into $TANDEM_CACHE/apache-kafka-<version>/libs
#       (TANDEM_CACHE defaults to ~/.cache/tandem). Needs Maven the first time; once cached it
#       returns at once and works offline.
#   scripts/apache-kafka.sh start --port P --data-dir D [--controller-port C]
#                                 [--sasl-plain USER:PASSWORD --sasl-port S]
#       Runs one KRaft node (broker + controller) on 127.0.0.1:P, its controller on C (a free port
#       when not given). Formats D on first use and keeps its data across restarts. Prints exactly
#       `ready 127.0.0.1:P` on stdout once clients can connect, then runs until SIGTERM or SIGINT,
#       which it forwards to the JVM before exiting 0. The server log is D/server.log.
#       `--port 0` picks a free port (the ready line names it); a port picked here that another
#       process takes before the JVM binds it is picked again. With --sasl-plain, a second
#       listener on 127.0.0.1:S requires SASL/PLAIN with these credentials.
#   scripts/apache-kafka.sh version
#       Prints the pinned Apache Kafka version.
set -euo pipefail

readonly KAFKA_VERSION=4.1.1
readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly POM="$SCRIPT_DIR/apache-kafka/pom.xml"
readonly CACHE_ROOT="${TANDEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem}"
readonly KAFKA_HOME="$CACHE_ROOT/apache-kafka-$KAFKA_VERSION"
readonly LIBS="$KAFKA_HOME/libs"

die() {
  echo "apache-kafka.sh: $*" >&2
  exit 1
}

usage() {
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

require_java() {
  command -v java >/dev/null 2>&1 ||
    die "java not found: Apache Kafka $KAFKA_VERSION needs a Java 17+ runtime (apt-get install openjdk-17-jre-headless)"
  local major
  major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)"
  [[ -n "$major" && "$major" -ge 17 ]] ||
    die "java ${major:-of unknown version} is too old: Apache Kafka $KAFKA_VERSION needs Java 17+ (apt-get install openjdk-17-jre-headless)"
}

fetch() {
  [[ -f "$KAFKA_HOME/.complete" ]] && return 0
  command -v mvn >/dev/null 2>&1 ||
    die "mvn not found: fetching Apache Kafka $KAFKA_VERSION from Maven Central needs Maven (apt-get install maven)"
  mkdir -p "$CACHE_ROOT"
  local staging
  staging="$(mktemp -d "$CACHE_ROOT/.apache-kafka-$KAFKA_VERSION.XXXXXX")"
  if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
    -Dkafka.version="$KAFKA_VERSION" -Dkafka.libs="$staging/libs" >&2; then
    rm -rf "$staging"
    die "could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION with Maven (see the output above): check access to Maven Central or its mirror in ~/.m2/settings.xml"
  fi
  [[ -f "$staging/libs/kafka_2.13-$KAFKA_VERSION.jar" ]] ||
    die "Maven finished but $staging/libs has no kafka_2.13-$KAFKA_VERSION.jar: check $POM"
  touch "$staging/.complete"
  # Another fetch may have finished first; either copy is complete.
  if ! mv -T "$staging" "$KAFKA_HOME" 2>/dev/null; then
    rm -rf "$staging"
    [[ -f "$KAFKA_HOME/.complete" ]] || die "could not move the jars into $KAFKA_HOME: remove it and fetch again"
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Ports the script picks itself come from below the kernel's ephemeral range, so an outgoing
# connection cannot be given one between our check and the JVM's bind.
free_port() {
  local low=32768 first=10000 port
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  ((low - first >= 1000)) || { first=1024; low=65536; }
  for _ in $(seq 1 200); do
    port=$((first + (RANDOM * 32768 + RANDOM) % (low - first)))
    if ! port_in_use "$port"; then
      echo "$port"
      return 0
    fi
  done
  die "found no free TCP port on 127.0.0.1 for the node: pass --port and --controller-port"
}

# server.properties and log4j2.properties for start's current ports (it reads start's locals).
write_config() {
  local listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port"
  local advertised="PLAINTEXT://127.0.0.1:$port"
  local sasl_config=""
  if [[ -n "$sasl_plain" ]]; then
    local sasl_user="${sasl_plain%%:*}" sasl_password="${sasl_plain#*:}"
    listeners+=",SASL_PLAINTEXT://127.0.0.1:$sasl_port"
    advertised+=",SASL_PLAINTEXT://127.0.0.1:$sasl_port"
    sasl_config="sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"$sasl_user\" password=\"$sasl_password\" user_$sasl_user=\"$sasl_password\";"
  fi
  cat >"$config" <<EOF
# Written by scripts/apache-kafka.sh on each start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
$sasl_config
log.dirs=$data_dir/data
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  cat >"$log4j" <<EOF
status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = $log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
appender.stderr.filter.threshold.type = ThresholdFilter
appender.stderr.filter.threshold.level = error
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
rootLogger.appenderRef.stderr.ref = stderr
EOF
}

# Formats start's data folder for KRaft on its first use.
format_storage() {
  local cluster_id
  # A random UUID in URL-safe base64, like `kafka-storage.sh random-uuid`; one that starts with '-'
  # would read as an option, so (like Kafka's Uuid.randomUuid) draw again.
  cluster_id="-"
  while [[ "$cluster_id" == -* ]]; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done
  java "${java_opts[@]}" kafka.tools.StorageTool format --ignore-formatted \
    --cluster-id "$cluster_id" --config "$config" >>"$log" 2>&1 ||
    die "formatting KRaft storage in $data_dir/data failed (see $log): remove $data_dir and start again"
}

# Whether the node start launched last has logged this (fixed) string. Not a pipe: grep -q stops
# reading early, and under pipefail tail's SIGPIPE would read as "not logged".
logged_since_launch() {
  grep -qF "$1" < <(tail -c "+$log_start" "$log")
}

# True once the node start launched has logged its start-up since log_start (it waits to be
# unfenced by its controller before it logs that) and its listener accepts connections; false if
# the JVM exited first.
wait_until_ready() {
  until logged_since_launch "Kafka Server started" && port_in_use "$port"; do
    if ! kill -0 "$java_pid" 2>/dev/null; then
      wait "$java_pid" || true
      return 1
    fi
    sleep 0.1 & wait $!
  done
}

start() {
  local port="" data_dir="" controller_port="" sasl_plain="" sasl_port=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --port) port="${2:-}"; shift 2 ;;
      --data-dir) data_dir="${2:-}"; shift 2 ;;
      --controller-port) controller_port="${2:-}"; shift 2 ;;
      --sasl-plain) sasl_plain="${2:-}"; shift 2 ;;
      --sasl-port) sasl_port="${2:-}"; shift 2 ;;
      *) die "unknown option '$1' for start: use start --port P --data-dir D [--controller-port C] [--sasl-plain USER:PASSWORD --sasl-port S]" ;;
    esac
  done
  if [[ -n "$sasl_plain$sasl_port" ]]; then
    [[ "$sasl_plain" =~ ^[^:\"]+:[^\"]+$ ]] || die "--sasl-plain needs USER:PASSWORD (no quotes or backslashes)"
    [[ "$sasl_port" =~ ^[1-9][0-9]*$ && "$sasl_port" -le 65535 ]] || die "--sasl-plain needs --sasl-port S (a free TCP port for the SASL_PLAINTEXT listener)"
  fi
  [[ "$port" =~ ^[0-9]+$ && "$port" -le 65535 ]] || die "start needs --port P (a TCP port, 0 for any free one)"
  [[ -n "$data_dir" ]] || die "start needs --data-dir D (a folder for the broker's logs and metadata)"
  require_java
  fetch
  local own_port=0 own_controller_port=0
  [[ "$port" -eq 0 ]] && own_port=1
  [[ -z "$controller_port" ]] && own_controller_port=1
  if ((!own_port)) && port_in_use "$port"; then die "port $port on 127.0.0.1 is already in use: choose another --port"; fi
  [[ "$controller_port" != "$port" ]] || die "--controller-port must differ from --port ($port)"
  if [[ -n "$sasl_plain" ]] && port_in_use "$sasl_port"; then
    die "port $sasl_port on 127.0.0.1 is already in use: choose another --sasl-port"
  fi

  mkdir -p "$data_dir"
  data_dir="$(cd "$data_dir" && pwd)"
  local config="$data_dir/server.properties" log4j="$data_dir/log4j2.properties" log="$data_dir/server.log"
  local java_opts=(
    -Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$log4j" -cp "$LIBS/*"
  )
  touch "$log"

  local java_pid="" parent=$PPID log_start attempt
  stop() {
    if [[ -n "$java_pid" ]]; then
      kill -TERM "$java_pid" 2>/dev/null || true
      wait "$java_pid" 2>/dev/null || true
    fi
    exit 0
  }
  trap stop TERM INT HUP

  # Another process may bind a port the script picked between its check and the JVM's bind: the
  # node then exits at once with a BindException, and the script starts it again on other ports.
  for attempt in 1 2 3 4 5; do
    if ((own_port)); then port="$(free_port)"; fi
    if ((own_controller_port)); then
      controller_port="$(free_port)"
      while [[ "$controller_port" == "$port" ]]; do controller_port="$(free_port)"; done
    fi
    write_config
    [[ -f "$data_dir/data/meta.properties" ]] || format_storage
    # Only what this launch logs counts: the log keeps earlier runs, their "started" lines included.
    log_start=$(($(stat -c %s "$log") + 1))
    java "${java_opts[@]}" kafka.Kafka "$config" >>"$log" 2>&1 &
    java_pid=$!
    if wait_until_ready; then break; fi
    java_pid=""
    if ((own_port || own_controller_port)) && ((attempt < 5)) &&
      logged_since_launch "java.net.BindException: Address already in use"; then
      echo "apache-kafka.sh: a port the script picked was taken before the node bound it; starting again on other ports" >&2
      continue
    fi
    tail -c "+$log_start" "$log" | tail -n 30 >&2 || true
    die "Apache Kafka $KAFKA_VERSION exited before it was ready (log: $log)"
  done
  echo "ready 127.0.0.1:$port"

  # Runs until a signal; a JVM that dies on its own is an error. An orphaned node (its parent gone
  # without stopping it, e.g. a killed test runner) stops itself instead of holding its ports.
  while kill -0 "$java_pid" 2>/dev/null; do
    if ! kill -0 "$parent" 2>/dev/null; then stop; fi
    sleep 1 & wait $!
  done
  local code=0
  wait "$java_pid" || code=$?
  tail -n 30 "$log" >&2 || true
  die "Apache Kafka $KAFKA_VERSION exited unexpectedly with code $code (log: $log)"
}

case "${1:-}" in
  fetch) shift; [[ $# -eq 0 ]] || die "fetch takes no options"; fetch ;;
  start) shift; start "$@" ;;
  version) echo "$KAFKA_VERSION" ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
