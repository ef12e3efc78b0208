#!/usr/bin/env bash
# Debezium as a benchmark peer: Kafka Connect standalone (connect-runtime) running Debezium's
# PostgreSQL source connector or its JDBC sink connector against a Kafka broker. The jars come from
# Maven Central (bench/peers/debezium/pom.xml) into a cache folder outside the repository.
#
#   bench/peers/debezium/debezium.sh fetch
#       Resolves the jars into $TANDEM_CACHE/debezium-peer/connect-<version>/libs (TANDEM_CACHE
#       defaults to ~/.cache/tandem; Maven's repository for them is $TANDEM_CACHE/m2). Needs Maven
#       Central the first time; once cached it returns at once and works offline. Kafka Connect is
#       the version of scripts/apache-kafka.sh's broker (4.1.1) unless KAFKA_CONNECT_VERSION is set
#       (4.3.0 is the Kafka version Debezium 3.6.1 is built against).
#   bench/peers/debezium/debezium.sh connect-version | classpath
#       Prints the Kafka Connect version in use, or the JVM classpath (after fetch).
#   bench/peers/debezium/debezium.sh source --bootstrap HOST:PORT --pg-url URL --slot S
#           --publication P --tables SCHEMA.TABLE[,...] [--topic-prefix dbz] [--schemas false]
#           [--work-dir D] [--max-batch-size 2048] [--max-queue-size 8192]
#       Streams the slot's changes (plugin pgoutput, snapshot.mode no_data, the publication must
#       exist) into the topics <topic-prefix>.<schema>.<table>, which must exist when the broker
#       does not create topics. JSON converter, `--schemas true` to embed the Connect schema in
#       every message (the JDBC sink needs it). URL: postgres://user:password@host:port/database.
#   bench/peers/debezium/debezium.sh sink --bootstrap HOST:PORT --pg-url URL --topics T[,...]
#           --table SCHEMA.TABLE [--group-id G] [--batch-size 500] [--schema-evolution basic]
#           [--tasks 1] [--work-dir D]
#       Applies the topics' Debezium change events (JSON with schemas, as `source --schemas true`
#       writes them) 1:1 into one PostgreSQL table: insert.mode upsert, delete.enabled true,
#       primary.key.mode record_key, batch.size and use.reduction.buffer on. `--schema-evolution
#       none` when the table is created beforehand. Consumes from the earliest offset of a new
#       consumer group (default: a fresh one per run).
#
# Both run until SIGTERM or SIGINT (or until their parent process is gone). On stdout they print
# `pid <the JVM's pid>` (for its CPU time in /proc/<pid>/stat), then `connector started` once the
# connector's task runs (the source's streaming began, the sink's consumer started). Logs go to
# stderr (WARN, Debezium and WorkerSinkTask at INFO). JAVA_OPTS is passed to the JVM (default heap
# -Xms256m -Xmx1g). Connect's offsets file and the properties files live in --work-dir (a new
# temporary folder by default).
set -euo pipefail

readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly POM="$SCRIPT_DIR/pom.xml"
readonly CACHE_ROOT="${TANDEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem}"
# Kafka Connect's version: the Apache Kafka version of scripts/apache-kafka.sh (4.1.1, with which
# Debezium 3.6.1's source and sink run: bench:debezium-sink-smoke), else 4.3.0, the Kafka version
# Debezium 3.6.1 is built against; KAFKA_CONNECT_VERSION overrides both.
default_connect_version() {
  local script="$SCRIPT_DIR/../../../scripts/apache-kafka.sh" version=""
  [[ -f "$script" ]] && version="$(bash "$script" version 2>/dev/null)" || true
  [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] && echo "$version" || echo 4.3.0
}
CONNECT_VERSION="${KAFKA_CONNECT_VERSION:-}"
[[ -n "$CONNECT_VERSION" ]] || CONNECT_VERSION="$(default_connect_version)"
readonly CONNECT_VERSION
readonly PEER_HOME="$CACHE_ROOT/debezium-peer"
readonly LIBS="$PEER_HOME/connect-$CONNECT_VERSION/libs"

die() {
  echo "debezium.sh: $*" >&2
  exit 1
}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
  exit 2
}

fetch() {
  # The pom's hash marks a complete copy of exactly these dependencies.
  local stamp="$LIBS/../.complete-$(sha256sum "$POM" | cut -c1-16)"
  [[ -f "$stamp" ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn not found: fetching Debezium needs Maven (apt-get install maven)"
  command -v java >/dev/null 2>&1 || die "java not found: Debezium needs Java 17+ (apt-get install openjdk-17-jre-headless)"
  rm -rf "$LIBS" "$LIBS"/../.complete-*
  mkdir -p "$LIBS"
  mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
    -Dmaven.repo.local="$CACHE_ROOT/m2" -Dpeer.home="$PEER_HOME" -Dpeer.libs="$LIBS" -Dkafka.version="$CONNECT_VERSION" >&2 ||
    die "could not resolve Debezium's jars with Maven (see the output above): check access to Maven Central"
  ls "$LIBS"/debezium-connector-postgres-*.jar >/dev/null 2>&1 || die "Maven finished but $LIBS has no debezium-connector-postgres jar"
  touch "$stamp"
}

# postgres://user:password@host:port/database → PG_USER PG_PASSWORD PG_HOST PG_PORT PG_DATABASE
parse_pg_url() {
  local re='^postgres(ql)?://([^:@/]+)(:([^@/]*))?@([^:/]+)(:([0-9]+))?/([^?]+)'
  [[ "$1" =~ $re ]] || die "--pg-url '$1' is not postgres://user:password@host:port/database"
  PG_USER="$(urldecode "${BASH_REMATCH[2]}")"
  PG_PASSWORD="$(urldecode "${BASH_REMATCH[4]}")"
  PG_HOST="${BASH_REMATCH[5]}"
  PG_PORT="${BASH_REMATCH[7]:-5432}"
  PG_DATABASE="$(urldecode "${BASH_REMATCH[8]}")"
}

urldecode() {
  local s="${1//+/ }"
  printf '%b' "${s//%/\\x}"
}

# Java .properties values: escape backslashes (passwords may contain anything else verbatim).
prop() {
  printf '%s=%s\n' "$1" "${2//\\/\\\\}"
}

run_connect() {
  local work_dir="$1" schemas="$2" connector="$3"
  local worker="$work_dir/worker.properties"
  {
    echo "# Written by bench/peers/debezium/debezium.sh"
    prop bootstrap.servers "$BOOTSTRAP"
    prop key.converter org.apache.kafka.connect.json.JsonConverter
    prop value.converter org.apache.kafka.connect.json.JsonConverter
    prop key.converter.schemas.enable "$schemas"
    prop value.converter.schemas.enable "$schemas"
    prop offset.storage.file.filename "$work_dir/connect.offsets"
    prop offset.flush.interval.ms 1000
    prop listeners http://127.0.0.1:0
    prop plugin.discovery only_scan
    prop consumer.auto.offset.reset earliest
    prop consumer.max.poll.records "${MAX_POLL_RECORDS:-500}"
  } >"$worker"
  local java_opts=(
    -Xms256m -Xmx1g -Djava.awt.headless=true
    -Dorg.slf4j.simpleLogger.logFile=System.err
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn
    -Dorg.slf4j.simpleLogger.log.io.debezium=info
    -Dorg.slf4j.simpleLogger.log.org.apache.kafka.connect.runtime.WorkerSinkTask=info
    -Dorg.slf4j.simpleLogger.showDateTime=true
    -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS
    ${JAVA_OPTS:-}
    -cp "$LIBS/*"
  )
  java "${java_opts[@]}" org.apache.kafka.connect.cli.ConnectStandalone "$worker" "$connector" 2> >(
    # Debezium's own "task is running" lines, passed on and announced once on stdout.
    announced=0
    while IFS= read -r line; do
      printf '%s\n' "$line" >&2
      if [[ $announced -eq 0 && ( "$line" == *"Starting streaming"* || "$line" == *"Executing sink task"* || "$line" == *"JdbcSinkConnectorTask"*"started"* || "$line" == *"Processing messages"* ) ]]; then
        echo "connector started"
        announced=1
      fi
    done
  ) &
  local java_pid=$!
  echo "pid $java_pid"
  stop() {
    kill -TERM "$java_pid" 2>/dev/null || true
    wait "$java_pid" 2>/dev/null || true
    exit 0
  }
  trap stop TERM INT HUP
  # An orphaned JVM (the caller gone without stopping it) would hold its slot: stop it instead.
  local parent=$PPID
  while kill -0 "$java_pid" 2>/dev/null; do
    if ! kill -0 "$parent" 2>/dev/null; then stop; fi
    sleep 1 & wait $!
  done
  local code=0
  wait "$java_pid" || code=$?
  die "Kafka Connect exited with code $code (see the log above)"
}

source_cmd() {
  local pg_url="" slot="" publication="" tables="" prefix="dbz" schemas="false" work_dir=""
  local max_batch=2048 max_queue=8192
  BOOTSTRAP=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --bootstrap) BOOTSTRAP="${2:-}"; shift 2 ;;
      --pg-url) pg_url="${2:-}"; shift 2 ;;
      --slot) slot="${2:-}"; shift 2 ;;
      --publication) publication="${2:-}"; shift 2 ;;
      --tables) tables="${2:-}"; shift 2 ;;
      --topic-prefix) prefix="${2:-}"; shift 2 ;;
      --schemas) schemas="${2:-}"; shift 2 ;;
      --work-dir) work_dir="${2:-}"; shift 2 ;;
      --max-batch-size) max_batch="${2:-}"; shift 2 ;;
      --max-queue-size) max_queue="${2:-}"; shift 2 ;;
      *) die "unknown option '$1' for source (see debezium.sh --help)" ;;
    esac
  done
  [[ -n "$BOOTSTRAP" && -n "$pg_url" && -n "$slot" && -n "$publication" && -n "$tables" ]] ||
    die "source needs --bootstrap, --pg-url, --slot, --publication and --tables"
  [[ "$schemas" == true || "$schemas" == false ]] || die "--schemas is true or false"
  parse_pg_url "$pg_url"
  fetch
  [[ -n "$work_dir" ]] || work_dir="$(mktemp -d "${TMPDIR:-/tmp}/debezium-source.XXXXXX")"
  mkdir -p "$work_dir"
  local connector="$work_dir/source.properties"
  {
    prop name "debezium-source-$slot"
    prop connector.class io.debezium.connector.postgresql.PostgresConnector
    prop tasks.max 1
    prop plugin.name pgoutput
    prop slot.name "$slot"
    prop publication.name "$publication"
    prop publication.autocreate.mode disabled
    prop database.hostname "$PG_HOST"
    prop database.port "$PG_PORT"
    prop database.user "$PG_USER"
    prop database.password "$PG_PASSWORD"
    prop database.dbname "$PG_DATABASE"
    prop topic.prefix "$prefix"
    prop table.include.list "$tables"
    prop snapshot.mode no_data
    prop max.batch.size "$max_batch"
    prop max.queue.size "$max_queue"
  } >"$connector"
  run_connect "$work_dir" "$schemas" "$connector"
}

sink_cmd() {
  local pg_url="" topics="" table="" group="" batch=500 evolution=basic work_dir="" tasks=1
  BOOTSTRAP=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --bootstrap) BOOTSTRAP="${2:-}"; shift 2 ;;
      --pg-url) pg_url="${2:-}"; shift 2 ;;
      --topics) topics="${2:-}"; shift 2 ;;
      --table) table="${2:-}"; shift 2 ;;
      --group-id) group="${2:-}"; shift 2 ;;
      --batch-size) batch="${2:-}"; shift 2 ;;
      --schema-evolution) evolution="${2:-}"; shift 2 ;;
      --tasks) tasks="${2:-}"; shift 2 ;;
      --work-dir) work_dir="${2:-}"; shift 2 ;;
      *) die "unknown option '$1' for sink (see debezium.sh --help)" ;;
    esac
  done
  [[ -n "$BOOTSTRAP" && -n "$pg_url" && -n "$topics" && -n "$table" ]] ||
    die "sink needs --bootstrap, --pg-url, --topics and --table"
  parse_pg_url "$pg_url"
  fetch
  [[ -n "$work_dir" ]] || work_dir="$(mktemp -d "${TMPDIR:-/tmp}/debezium-sink.XXXXXX")"
  mkdir -p "$work_dir"
  # The connector's name is the consumer group (connect-<name>): a fresh one reads from the start.
  [[ -n "$group" ]] || group="debezium-sink-$(date +%s)-$$"
  local connector="$work_dir/sink.properties"
  {
    prop name "$group"
    prop connector.class io.debezium.connector.jdbc.JdbcSinkConnector
    prop tasks.max "$tasks"
    prop topics "$topics"
    prop connection.url "jdbc:postgresql://$PG_HOST:$PG_PORT/$PG_DATABASE"
    prop connection.username "$PG_USER"
    prop connection.password "$PG_PASSWORD"
    prop insert.mode upsert
    prop delete.enabled true
    prop primary.key.mode record_key
    prop batch.size "$batch"
    prop use.reduction.buffer true
    prop schema.evolution "$evolution"
    prop collection.name.format "$table"
  } >"$connector"
  MAX_POLL_RECORDS="$batch" run_connect "$work_dir" true "$connector"
}

case "${1:-}" in
  fetch) shift; [[ $# -eq 0 ]] || die "fetch takes no options"; fetch ;;
  source) shift; source_cmd "$@" ;;
  sink) shift; sink_cmd "$@" ;;
  classpath) fetch; echo "$LIBS/*" ;;
  connect-version) echo "$CONNECT_VERSION" ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
