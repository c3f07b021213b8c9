#!/usr/bin/env bash
# shellcheck disable=SC2015  # "A && B || die" is meant: die when A or B fails
# A real local Apache Kafka cluster (KRaft, no ZooKeeper) for tests and development.
#
#   deploy/local/kafka.sh start [--brokers N] [--sasl]
#                                                   start N combined broker+controller nodes
#                                                   (default 1); prints the bootstrap servers
#                                                   on the last line of stdout. --sasl adds a
#                                                   SASL_PLAINTEXT listener (SCRAM-SHA-256) per
#                                                   node and a SCRAM user; stdout is then the
#                                                   plain servers, then the SASL servers (last)
#   deploy/local/kafka.sh topics [--partitions P] [--replication R]
#                                                   create the Demand Center topics (idempotent)
#   deploy/local/kafka.sh restart-broker I [--kill] stop node I (SIGTERM, or SIGKILL with --kill)
#                                                   and start it again
#   deploy/local/kafka.sh signal-broker I SIG       send node I's JVM a signal (KILL, STOP, CONT, ...)
#                                                   and nothing else: a killed node stays down until
#                                                   'start' brings it back
#   deploy/local/kafka.sh status                    what runs where; exit 0 when every node answers
#   deploy/local/kafka.sh stop                      stop every node and remove the cluster's data
#   deploy/local/kafka.sh servers [--sasl]          print the bootstrap servers of the running cluster
#                                                   (--sasl: those of its SASL listeners)
#   deploy/local/kafka.sh check [ARGS]              run kafka/check_compat.py (librdkafka against this
#                                                   cluster: transactions, read_committed, groups, ...)
#
# Environment (all optional):
#   DEMANDCENTER_KAFKA_VERSION          Apache Kafka version (default below; see docs/kafka.md)
#   DEMANDCENTER_KAFKA_PORT             first client port (default 9092; node I listens on PORT+I-1)
#   DEMANDCENTER_KAFKA_CONTROLLER_PORT  first controller port (default PORT+10000)
#   DEMANDCENTER_KAFKA_DIR              run dir: configs, data, logs (default /tmp/demandcenter-kafka)
#   DEMANDCENTER_KAFKA_CACHE            jar cache (default ~/.cache/demandcenter-kafka)
#   DEMANDCENTER_KAFKA_HEAP             JVM heap flags per node (default "-Xms256m -Xmx512m")
#   DEMANDCENTER_KAFKA_START_TIMEOUT    seconds to wait for the cluster to answer (default 120)
#   DEMANDCENTER_KAFKA_STOP_TIMEOUT     seconds between SIGTERM and SIGKILL (default 30)
#   DEMANDCENTER_KAFKA_MVN_ARGS         extra arguments for mvn (e.g. -Dmaven.repo.local=DIR)
#   DEMANDCENTER_KAFKA_SASL_PORT        first SASL port with --sasl (default PORT+100)
#   DEMANDCENTER_KAFKA_SASL_USER        SCRAM user created with --sasl (default demandcenter)
#   DEMANDCENTER_KAFKA_SASL_PASSWORD    its password (default: random); either way it is
#                                       written to RUN_DIR/sasl/password (mode 600)
#
# Needs Java 17+ and, for the first start of a version, Maven (the jars come from Maven
# Central and are cached). Installs Debian's kcat (librdkafka's CLI) if missing: it is
# how the script checks that the cluster answers, with the same client library as the engine.
set -euo pipefail

readonly DEFAULT_KAFKA_VERSION=4.4.0  # newest that librdkafka 2.0.2 passes kafka/check_compat.py with

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly FILES_DIR="$SCRIPT_DIR/kafka"
KAFKA_VERSION="${DEMANDCENTER_KAFKA_VERSION:-$DEFAULT_KAFKA_VERSION}"  # the running cluster's once loaded
readonly BASE_PORT="${DEMANDCENTER_KAFKA_PORT:-9092}"
readonly BASE_CONTROLLER_PORT="${DEMANDCENTER_KAFKA_CONTROLLER_PORT:-$((BASE_PORT + 10000))}"
readonly RUN_DIR="${DEMANDCENTER_KAFKA_DIR:-/tmp/demandcenter-kafka}"
readonly CACHE_DIR="${DEMANDCENTER_KAFKA_CACHE:-${HOME:-/root}/.cache/demandcenter-kafka}"
readonly HEAP_OPTS="${DEMANDCENTER_KAFKA_HEAP:--Xms256m -Xmx512m}"
readonly START_TIMEOUT="${DEMANDCENTER_KAFKA_START_TIMEOUT:-120}"
readonly STOP_TIMEOUT="${DEMANDCENTER_KAFKA_STOP_TIMEOUT:-30}"
readonly JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
readonly BASE_SASL_PORT="${DEMANDCENTER_KAFKA_SASL_PORT:-$((BASE_PORT + 100))}"
readonly SASL_MECHANISM=SCRAM-SHA-256
# librdkafka before 2.6.1 (Debian 12 has 2.0.2) repeats the client nonce in SCRAM's
# client-final-message; Kafka 4.x checks it strictly (RFC 5802) and refuses every login
# (confluentinc/librdkafka#4895). So --sasl runs the newest 3.x unless a version is named.
readonly SASL_DEFAULT_KAFKA_VERSION=3.9.1
readonly DEFAULT_TOPICS=(signals.web signals.email signals.crm signals.dlq actions.nba
  actions.routing crm.prompts journey.transitions identity.conflicts routing.reps)
# Compacted: the state changelog, and the sales-team directory every instance reads in full.
readonly COMPACTED_TOPICS=(demandcenter-state-changelog routing.reps)
readonly CHANGELOG_TOPIC=demandcenter-state-changelog
# identity.scope global: the identity task's input (one partition) and what it resolved, by account.
readonly IDENTITY_TOPIC=demandcenter-identity-repartition
readonly ACCOUNT_TOPIC=demandcenter-account-repartition

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() {
  printf 'kafka.sh: error: %s\n' "$*" >&2
  exit 1
}

usage() {
  sed -n '3,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# ---------------------------------------------------------------- prerequisites

require_java() {
  command -v "$JAVA" >/dev/null 2>&1 ||
    die "java not found (looked for '$JAVA'). Kafka $KAFKA_VERSION needs Java 17 or newer: apt-get install openjdk-17-jre-headless"
  local line major
  line="$("$JAVA" -version 2>&1 | head -n 1)"
  major="$(sed -n 's/.*version "\([0-9]*\)[."].*/\1/p' <<<"$line")"
  [[ $major == 1 ]] && major=8
  if [[ -z $major ]]; then
    die "cannot tell the Java version from: $line"
  fi
  local need=17
  [[ $KAFKA_VERSION == 3.* ]] && need=11
  ((major >= need)) || die "Kafka $KAFKA_VERSION needs Java $need or newer; '$JAVA' is Java $major ($line)"
}

# Installs a Debian package when its command is missing, saying so.
require_debian_command() {
  local cmd=$1 pkg=$2 why=$3
  command -v "$cmd" >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 ||
    die "'$cmd' not found and this is not a Debian/Ubuntu system: install $pkg ($why)"
  local sudo=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "'$cmd' not found: install the Debian package $pkg as root ($why)"
    sudo=(sudo)
  fi
  log "'$cmd' not found: installing the Debian package $pkg ($why)"
  if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "$pkg" >&2; then
    log "apt-get install failed; running apt-get update and trying again"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -q >&2 || true
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "$pkg" >&2 ||
      die "could not install $pkg with apt-get"
  fi
  command -v "$cmd" >/dev/null 2>&1 || die "installed $pkg but '$cmd' is still missing"
}

# The broker's jars, fetched once per version with Maven into the cache.
LIBS=""
fetch_jars() {
  local dir="$CACHE_DIR/kafka-$KAFKA_VERSION"
  LIBS="$dir/libs"
  [[ -f $dir/.complete ]] && return 0
  mkdir -p "$CACHE_DIR"
  exec 8>"$CACHE_DIR/.fetch.lock"
  flock 8
  if [[ -f $dir/.complete ]]; then
    exec 8>&-
    return 0
  fi
  command -v mvn >/dev/null 2>&1 ||
    die "mvn not found: Maven is needed once to fetch Kafka $KAFKA_VERSION from Maven Central into $dir (apt-get install maven)"
  local profile=()
  [[ $KAFKA_VERSION == 3.* ]] && profile=(-P reload4j)
  local tmp="$dir.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  log "fetching Apache Kafka $KAFKA_VERSION (org.apache.kafka:kafka_2.13 and its runtime dependencies) with Maven into $dir"
  # shellcheck disable=SC2086  # DEMANDCENTER_KAFKA_MVN_ARGS is a list of arguments
  if ! mvn -q -B -Dstyle.color=never -f "$FILES_DIR/pom.xml" "${profile[@]}" -Dkafka.version="$KAFKA_VERSION" \
    ${DEMANDCENTER_KAFKA_MVN_ARGS:-} dependency:copy-dependencies -DoutputDirectory="$tmp/libs" >"$tmp/mvn.log" 2>&1; then
    tail -n 30 "$tmp/mvn.log" >&2
    rm -rf "$tmp"
    die "mvn could not fetch Kafka $KAFKA_VERSION (is Maven Central reachable? is $KAFKA_VERSION a released version?)"
  fi
  [[ -n $(compgen -G "$tmp/libs/kafka_2.13-$KAFKA_VERSION.jar") ]] ||
    die "mvn finished but $tmp/libs has no kafka_2.13-$KAFKA_VERSION.jar"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  touch "$dir/.complete"
  log "cached $(find "$dir/libs" -name '*.jar' | wc -l) jars ($(du -sh "$dir/libs" | cut -f1)) in $dir/libs"
  exec 8>&-
}

log_opts() {
  if [[ $KAFKA_VERSION == 3.* ]]; then
    printf '%s\n' "-Dlog4j.configuration=file:$FILES_DIR/$1log4j.properties"
  else
    printf '%s\n' "-Dlog4j2.configurationFile=$FILES_DIR/$1log4j2.xml"
  fi
}

# Runs a Kafka tool class (quick JVM start, warnings only on stderr).
run_tool() {
  local opt
  opt="$(log_opts tools-)"
  "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    "$opt" -cp "$LIBS/*" "$@" 8>&- 9>&-
}

storage_tool_class() {
  # kafka.tools.StorageTool (Scala, in kafka_2.13) up to now; org.apache.kafka.tools.StorageTool
  # where a version moved it to the kafka-tools module.
  if grep -qaF 'org/apache/kafka/tools/StorageTool.class' "$LIBS/kafka-tools-$KAFKA_VERSION.jar" 2>/dev/null; then
    echo org.apache.kafka.tools.StorageTool
  else
    echo kafka.tools.StorageTool
  fi
}

topic_command_class() {
  if grep -qaF 'org/apache/kafka/tools/TopicCommand.class' "$LIBS/kafka-tools-$KAFKA_VERSION.jar" 2>/dev/null; then
    echo org.apache.kafka.tools.TopicCommand
  else
    echo kafka.admin.TopicCommand
  fi
}

# ---------------------------------------------------------------- cluster state

# RUN_DIR/cluster.env holds NODES, PORT, CONTROLLER_PORT, KAFKA_VERSION, CLUSTER_ID, SERVERS,
# and with --sasl SASL_PORT, SASL_USER, SASL_SERVERS.
NODES=0
PORT=$BASE_PORT
CONTROLLER_PORT=$BASE_CONTROLLER_PORT
CLUSTER_ID=""
SERVERS=""
SASL_PORT=""  # empty: no SASL listener
SASL_USER=""
SASL_SERVERS=""
load_cluster() {
  [[ -f $RUN_DIR/cluster.env ]] || return 1
  local key value
  while IFS='=' read -r key value; do
    case $key in
      NODES) NODES=$value ;;
      PORT) PORT=$value ;;
      CONTROLLER_PORT) CONTROLLER_PORT=$value ;;
      KAFKA_VERSION) RUNNING_VERSION=$value ;;
      CLUSTER_ID) CLUSTER_ID=$value ;;
      SERVERS) SERVERS=$value ;;
      SASL_PORT) SASL_PORT=$value ;;
      SASL_USER) SASL_USER=$value ;;
      SASL_SERVERS) SASL_SERVERS=$value ;;
    esac
  done <"$RUN_DIR/cluster.env"
  is_uint "$NODES" && ((NODES >= 1)) || die "$RUN_DIR/cluster.env is damaged; run '$0 stop'"
}
RUNNING_VERSION=""

# Commands on a running cluster use its version's jars, whatever DEMANDCENTER_KAFKA_VERSION says.
use_running_version() {
  KAFKA_VERSION=$RUNNING_VERSION
  LIBS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
  [[ -d $LIBS ]] || die "the jars of Kafka $KAFKA_VERSION are gone from $LIBS; run '$0 stop' and start again"
}

node_dir() { printf '%s/node-%d' "$RUN_DIR" "$1"; }
node_port() { echo $((PORT + $1 - 1)); }
node_controller_port() { echo $((CONTROLLER_PORT + $1 - 1)); }
node_sasl_port() { echo $((SASL_PORT + $1 - 1)); }
sasl_dir() { printf '%s/sasl' "$RUN_DIR"; }

# Whether process $1 is node I's JVM (its command line names the node's server.properties).
is_node_process() {
  local args
  mapfile -d '' -t args 2>/dev/null <"/proc/$1/cmdline" || return 1
  [[ " ${args[*]} " == *" kafka.Kafka $(node_dir "$2")/server.properties "* ]]
}

# The pid of node I's JVM: the pid file, else a search by command line.
node_pid() {
  local pid p
  pid="$(cat "$(node_dir "$1")/pid" 2>/dev/null || true)"
  if [[ -n $pid ]] && is_node_process "$pid" "$1"; then
    echo "$pid"
    return 0
  fi
  for p in /proc/[0-9]*; do
    if is_node_process "${p#/proc/}" "$1"; then
      echo "${p#/proc/}"
      return 0
    fi
  done
  return 1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

who_listens() {
  if command -v ss >/dev/null 2>&1; then
    ss -Hltnp "sport = :$1" 2>/dev/null | sed 's/  */ /g' | head -n 3
  fi
}

# Number of brokers that node I reports in its metadata (librdkafka via kcat), or "".
brokers_seen_by() {
  local out
  out="$(timeout 10 kcat -L -b "127.0.0.1:$(node_port "$1")" -m 5 -t __consumer_offsets 2>/dev/null || true)"
  sed -n 's/^ *\([0-9][0-9]*\) brokers:.*/\1/p' <<<"$out" | head -n 1
}

# True while node I runs. The started pid's /proc cmdline is unreadable for a
# moment while it execs (setsid -> nohup -> java), so a node counts as gone
# only when its pid is dead and a second look, a second later, finds no JVM.
node_alive() {
  local pid
  pid="$(cat "$(node_dir "$1")/pid" 2>/dev/null || true)"
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    local state
    state="$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)"
    [[ $state != Z ]] && return 0
  fi
  node_pid "$1" >/dev/null && return 0
  sleep 1
  node_pid "$1" >/dev/null
}

node_log_tail() {
  local d
  d="$(node_dir "$1")"
  log "--- last lines of $d/logs/server.log:"
  tail -n 25 "$d/logs/server.log" >&2 2>/dev/null || true
  log "--- its last errors:"
  grep -E ' (ERROR|FATAL) ' "$d/logs/server.log" 2>/dev/null | tail -n 10 >&2 || true
  if [[ -s $d/logs/stdout.log ]]; then
    log "--- last lines of $d/logs/stdout.log:"
    tail -n 15 "$d/logs/stdout.log" >&2 || true
  fi
}

# Whether node I's SASL listener takes the SCRAM user's credentials: kcat with the client
# properties written at start (the password stays in that file, off the command line).
sasl_answers() {
  timeout 10 kcat -F "$(sasl_dir)/client.properties" -L -b "127.0.0.1:$(node_sasl_port "$1")" -m 5 \
    -t __consumer_offsets >/dev/null 2>&1
}

# Waits until every node answers and reports all NODES brokers (and, with SASL, until
# every SASL listener authenticates the SCRAM user).
wait_ready() {
  local deadline=$((SECONDS + START_TIMEOUT)) i ok seen what
  while :; do
    ok=1
    for ((i = 1; i <= NODES; i++)); do
      if ! node_alive "$i"; then
        node_log_tail "$i"
        die "node $i (127.0.0.1:$(node_port "$i")) exited during start-up; logs in $(node_dir "$i")/logs"
      fi
      seen="$(brokers_seen_by "$i")"
      what="node $i sees ${seen:-no} brokers of $NODES"
      if [[ $seen != "$NODES" ]]; then
        ok=0
        break
      fi
      if [[ -n $SASL_PORT ]] && ! sasl_answers "$i"; then
        what="node $i's SASL listener 127.0.0.1:$(node_sasl_port "$i") does not authenticate $SASL_USER"
        ok=0
        break
      fi
    done
    ((ok)) && return 0
    if ((SECONDS >= deadline)); then
      for ((i = 1; i <= NODES; i++)); do node_log_tail "$i"; done
      die "the cluster did not answer within ${START_TIMEOUT}s ($what); logs in $RUN_DIR/node-*/logs"
    fi
    sleep 0.5
  done
}

check_ports_free() {
  local i p what ports
  for ((i = 1; i <= NODES; i++)); do
    ports=("$(node_port "$i")" "$(node_controller_port "$i")")
    [[ -n $SASL_PORT ]] && ports+=("$(node_sasl_port "$i")")
    for p in "${ports[@]}"; do
      if port_in_use "$p"; then
        what="$(who_listens "$p")"
        die "port $p (node $i) is already in use${what:+ by: $what}. Stop that process, or choose other ports with DEMANDCENTER_KAFKA_PORT (clients, now $PORT), DEMANDCENTER_KAFKA_CONTROLLER_PORT (controllers, now $CONTROLLER_PORT)${SASL_PORT:+ and DEMANDCENTER_KAFKA_SASL_PORT (SASL, now $SASL_PORT)}"
      fi
    done
  done
}

random_cluster_id() {
  # A Kafka Uuid: 16 random bytes, URL-safe base64 without padding (22 characters);
  # like Kafka's Uuid.randomUuid(), never one that starts with '-' (it would read as an option).
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ $id == -* ]] || break
  done
  echo "$id"
}

write_configs() {
  local i voters="" rf txn_min_isr
  rf=$((NODES < 3 ? NODES : 3))
  txn_min_isr=$((rf >= 3 ? 2 : 1))
  for ((i = 1; i <= NODES; i++)); do
    voters+="${voters:+,}$i@127.0.0.1:$(node_controller_port "$i")"
  done
  for ((i = 1; i <= NODES; i++)); do
    local d
    d="$(node_dir "$i")"
    mkdir -p "$d/data" "$d/logs"
    local sasl=()
    [[ -n $SASL_PORT ]] && sasl=(-e "s|^listeners=.*|&,SASL://127.0.0.1:$(node_sasl_port "$i")|"
      -e "s|^advertised.listeners=.*|&,SASL://127.0.0.1:$(node_sasl_port "$i")|"
      -e "s|^listener.security.protocol.map=.*|&,SASL:SASL_PLAINTEXT|")
    sed -e "s|@NODE_ID@|$i|g" -e "s|@NODES@|$NODES|g" -e "s|@KAFKA_VERSION@|$KAFKA_VERSION|g" \
      -e "s|@VOTERS@|$voters|g" -e "s|@PORT@|$(node_port "$i")|g" \
      -e "s|@CONTROLLER_PORT@|$(node_controller_port "$i")|g" -e "s|@DATA_DIR@|$d/data|g" \
      -e "s|@RF@|$rf|g" -e "s|@TXN_MIN_ISR@|$txn_min_isr|g" "${sasl[@]}" \
      "$FILES_DIR/server.properties.in" >"$d/server.properties"
    if [[ -n $SASL_PORT ]]; then
      cat >>"$d/server.properties" <<EOF_SASL

# kafka.sh start --sasl: a SASL_PLAINTEXT listener with SCRAM-SHA-256 (the user is created
# when the storage is formatted); brokers and controllers still talk PLAINTEXT among themselves.
listener.name.sasl.sasl.enabled.mechanisms=$SASL_MECHANISM
listener.name.sasl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF_SASL
    fi
  done
  SERVERS=""
  SASL_SERVERS=""
  for ((i = 1; i <= NODES; i++)); do
    SERVERS+="${SERVERS:+,}127.0.0.1:$(node_port "$i")"
    [[ -z $SASL_PORT ]] || SASL_SERVERS+="${SASL_SERVERS:+,}127.0.0.1:$(node_sasl_port "$i")"
  done
  {
    echo "NODES=$NODES"
    echo "PORT=$PORT"
    echo "CONTROLLER_PORT=$CONTROLLER_PORT"
    echo "KAFKA_VERSION=$KAFKA_VERSION"
    echo "CLUSTER_ID=$CLUSTER_ID"
    echo "SERVERS=$SERVERS"
    if [[ -n $SASL_PORT ]]; then
      echo "SASL_PORT=$SASL_PORT"
      echo "SASL_USER=$SASL_USER"
      echo "SASL_SERVERS=$SASL_SERVERS"
    fi
  } >"$RUN_DIR/cluster.env"
}

# With --sasl: the SCRAM user's password (DEMANDCENTER_KAFKA_SASL_PASSWORD or random) in
# RUN_DIR/sasl/password and kcat's client properties in RUN_DIR/sasl/client.properties,
# both readable by this user only.
write_sasl_files() {
  local d password
  d="$(sasl_dir)"
  password="${DEMANDCENTER_KAFKA_SASL_PASSWORD:-}"
  if [[ -z $password ]]; then
    password="$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)"
  fi
  # The characters StorageTool's --add-scram takes unquoted.
  [[ $password =~ ^[A-Za-z0-9._~-]+$ ]] ||
    die "DEMANDCENTER_KAFKA_SASL_PASSWORD may hold only A-Z a-z 0-9 . _ ~ - (for kafka-storage --add-scram)"
  (
    umask 077
    mkdir -p "$d"
    printf '%s\n' "$password" >"$d/password"
    printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanisms=%s\nsasl.username=%s\nsasl.password=%s\n' \
      "$SASL_MECHANISM" "$SASL_USER" "$password" >"$d/client.properties"
  )
}

format_storage() {
  local cls i pids=() failed=0 scram=()
  cls="$(storage_tool_class)"
  # SCRAM credentials go into the bootstrap metadata (KRaft, Kafka 3.5 and later).
  [[ -z $SASL_PORT ]] ||
    scram=(--add-scram "$SASL_MECHANISM=[name=$SASL_USER,password=$(head -n 1 "$(sasl_dir)/password")]")
  for ((i = 1; i <= NODES; i++)); do
    local d
    d="$(node_dir "$i")"
    run_tool "$cls" format -t "$CLUSTER_ID" -c "$d/server.properties" "${scram[@]}" >"$d/logs/format.log" 2>&1 &
    pids+=($!)
  done
  for ((i = 1; i <= NODES; i++)); do
    if ! wait "${pids[i - 1]}"; then
      log "formatting node $i failed:"
      cat "$(node_dir "$i")/logs/format.log" >&2
      failed=1
    fi
  done
  ((failed == 0)) || die "$cls format failed"
}

start_node() {
  local i=$1 d opt
  d="$(node_dir "$i")"
  opt="$(log_opts "")"
  # shellcheck disable=SC2086  # HEAP_OPTS is a list of JVM flags
  setsid nohup "$JAVA" $HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dkafka.logs.dir="$d/logs" "$opt" -cp "$LIBS/*" \
    kafka.Kafka "$d/server.properties" >>"$d/logs/stdout.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$d/pid"
}

# Stops node I: SIGTERM (or SIGKILL with kill=1), SIGKILL after STOP_TIMEOUT seconds.
stop_nodes() {
  local kill_now=$1
  shift
  local i pid pids=() nodes=()
  for i in "$@"; do
    if pid="$(node_pid "$i")"; then
      pids+=("$pid")
      nodes+=("$i")
    fi
  done
  ((${#pids[@]})) || return 0
  if ((kill_now)); then
    log "SIGKILL node(s) ${nodes[*]} (pid ${pids[*]})"
    kill -KILL "${pids[@]}" 2>/dev/null || true
  else
    log "SIGTERM node(s) ${nodes[*]} (pid ${pids[*]})"
    kill -TERM "${pids[@]}" 2>/dev/null || true
  fi
  local deadline=$((SECONDS + STOP_TIMEOUT)) alive
  while :; do
    alive=()
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null && alive+=("$pid")
    done
    ((${#alive[@]})) || break
    if ((SECONDS >= deadline)); then
      log "still running after ${STOP_TIMEOUT}s: SIGKILL pid ${alive[*]}"
      kill -KILL "${alive[@]}" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  for i in "${nodes[@]}"; do rm -f "$(node_dir "$i")/pid"; done
}

running_nodes() {
  local i n=0
  for ((i = 1; i <= NODES; i++)); do node_pid "$i" >/dev/null && n=$((n + 1)); done
  echo "$n"
}

with_lock() {
  mkdir -p "$(dirname "$RUN_DIR")"
  exec 9>"$RUN_DIR.lock"
  flock -w 300 9 || die "another kafka.sh has held $RUN_DIR.lock for 5 minutes"
}

# ---------------------------------------------------------------- commands

# stdout of start: the bootstrap servers; with --sasl, then the SASL listeners' (last line).
print_servers() {
  echo "$SERVERS"
  (($1)) && echo "$SASL_SERVERS"
  return 0
}

cmd_start() {
  local want="" sasl=0
  while (($#)); do
    case $1 in
      --brokers) want=${2:-} && shift 2 || die "--brokers needs a number" ;;
      --brokers=*) want=${1#*=} && shift ;;
      --sasl) sasl=1 && shift ;;
      -h | --help) usage ;;
      *) die "start: unknown argument '$1' (usage: start [--brokers N] [--sasl])" ;;
    esac
  done
  if [[ -n $want ]]; then
    is_uint "$want" && ((want >= 1 && want <= 9)) || die "--brokers must be 1..9, not '$want'"
  fi
  is_uint "$BASE_PORT" || die "DEMANDCENTER_KAFKA_PORT must be a port number, not '$BASE_PORT'"
  is_uint "$BASE_CONTROLLER_PORT" || die "DEMANDCENTER_KAFKA_CONTROLLER_PORT must be a port number"
  is_uint "$BASE_SASL_PORT" || die "DEMANDCENTER_KAFKA_SASL_PORT must be a port number"
  if ((sasl)) && [[ -z ${DEMANDCENTER_KAFKA_VERSION:-} ]]; then
    KAFKA_VERSION=$SASL_DEFAULT_KAFKA_VERSION
    log "--sasl: Kafka $KAFKA_VERSION (librdkafka < 2.6.1 cannot log in with SCRAM to Kafka 4.x; see docs/kafka.md)"
  elif ((sasl)) && [[ $KAFKA_VERSION != 3.* ]]; then
    log "warning: librdkafka < 2.6.1 (the engine's 2.0.2) cannot log in with SCRAM to Kafka $KAFKA_VERSION"
  fi
  with_lock
  require_java
  require_debian_command kcat kcat "librdkafka's command-line client, used to check that the brokers answer"

  if load_cluster; then
    local up
    up="$(running_nodes)"
    if ((up > 0)); then
      if [[ -n $want && $want != "$NODES" ]]; then
        die "a $NODES-node cluster is already running in $RUN_DIR ($SERVERS); run '$0 stop' first to start $want"
      fi
      if ((sasl)) && [[ -z $SASL_PORT ]]; then
        die "the cluster running in $RUN_DIR ($SERVERS) has no SASL listener; run '$0 stop' first to start one with --sasl"
      fi
      [[ $RUNNING_VERSION == "$KAFKA_VERSION" ]] ||
        log "note: the running cluster is Kafka $RUNNING_VERSION (asked for $KAFKA_VERSION)"
      use_running_version
      if ((up < NODES)); then
        local i
        for ((i = 1; i <= NODES; i++)); do
          if ! node_pid "$i" >/dev/null; then
            log "node $i is not running: starting it again"
            start_node "$i"
          fi
        done
      else
        log "already running: $NODES node(s), Kafka $KAFKA_VERSION, data in $RUN_DIR"
      fi
      wait_ready
      print_servers "$sasl"
      return 0
    fi
    log "found a stopped cluster in $RUN_DIR: removing it and starting a new one"
  fi
  rm -rf "$RUN_DIR"
  NODES=${want:-1}
  PORT=$BASE_PORT
  CONTROLLER_PORT=$BASE_CONTROLLER_PORT
  SASL_PORT="" SASL_USER="" SASL_SERVERS=""
  ((PORT + NODES - 1 <= 65535 && CONTROLLER_PORT + NODES - 1 <= 65535)) || die "ports out of range"
  if ((sasl)); then
    SASL_PORT=$BASE_SASL_PORT
    SASL_USER="${DEMANDCENTER_KAFKA_SASL_USER:-demandcenter}"
    [[ $SASL_USER =~ ^[A-Za-z0-9._~-]+$ ]] || die "DEMANDCENTER_KAFKA_SASL_USER may hold only A-Z a-z 0-9 . _ ~ -"
    ((SASL_PORT + NODES - 1 <= 65535)) || die "SASL ports out of range"
    local lo
    for lo in "$PORT" "$CONTROLLER_PORT"; do
      ((SASL_PORT + NODES <= lo || SASL_PORT >= lo + NODES)) ||
        die "the SASL ports ($SASL_PORT...) overlap the client or controller ports; set DEMANDCENTER_KAFKA_SASL_PORT"
    done
  fi
  check_ports_free
  fetch_jars
  local t0=$SECONDS
  mkdir -p "$RUN_DIR"
  CLUSTER_ID="$(random_cluster_id)"
  ((sasl)) && write_sasl_files
  write_configs
  log "formatting storage of $NODES node(s) (cluster id $CLUSTER_ID)"
  format_storage
  local i
  for ((i = 1; i <= NODES; i++)); do start_node "$i"; done
  log "started Kafka $KAFKA_VERSION: $NODES node(s), data and logs in $RUN_DIR; waiting until they answer"
  wait_ready
  log "cluster ready after $((SECONDS - t0))s: $SERVERS"
  if ((sasl)); then
    log "SASL_PLAINTEXT ($SASL_MECHANISM) at $SASL_SERVERS: user $SASL_USER, password in $(sasl_dir)/password; try: kcat -F $(sasl_dir)/client.properties -b $SASL_SERVERS -L"
  fi
  print_servers "$sasl"
}

cmd_stop() {
  (($# == 0)) || die "stop takes no arguments"
  with_lock
  if ! load_cluster; then
    # Nodes of a cluster whose cluster.env is gone: find them by their directories.
    NODES=0
    local d
    for d in "$RUN_DIR"/node-*; do
      [[ -d $d ]] && NODES=$((NODES + 1))
    done
  fi
  local all=() i
  for ((i = 1; i <= NODES; i++)); do all+=("$i"); done
  if ((NODES)) && (($(running_nodes) > 0)); then
    stop_nodes 0 "${all[@]}"
  else
    log "no local Kafka is running"
  fi
  rm -rf "$RUN_DIR"
  log "stopped; removed $RUN_DIR"
}

cmd_restart_broker() {
  local id="" kill_now=0
  while (($#)); do
    case $1 in
      --kill) kill_now=1 && shift ;;
      -h | --help) usage ;;
      *)
        [[ -z $id ]] || die "restart-broker: unexpected argument '$1'"
        id=$1 && shift
        ;;
    esac
  done
  [[ -n $id ]] || die "usage: restart-broker I [--kill]"
  with_lock
  load_cluster || die "no local Kafka in $RUN_DIR: run '$0 start' first"
  is_uint "$id" && ((id >= 1 && id <= NODES)) || die "restart-broker: node must be 1..$NODES, not '$id'"
  use_running_version
  require_java
  require_debian_command kcat kcat "librdkafka's command-line client, used to check that the brokers answer"
  local t0=$SECONDS
  stop_nodes "$kill_now" "$id"
  local p
  for p in "$(node_port "$id")" "$(node_controller_port "$id")"; do
    local deadline=$((SECONDS + 10))
    while port_in_use "$p" && ((SECONDS < deadline)); do sleep 0.2; done
    port_in_use "$p" && die "port $p of node $id is still in use after it stopped: $(who_listens "$p")"
  done
  log "node $id stopped after $((SECONDS - t0))s; starting it again"
  start_node "$id"
  wait_ready
  log "node $id back after $((SECONDS - t0))s: $SERVERS"
  echo "$SERVERS"
}

cmd_signal_broker() {
  (($# == 2)) || die "usage: signal-broker I SIG (e.g. signal-broker 2 KILL)"
  local id=$1 sig=${2#SIG}
  load_cluster || die "no local Kafka in $RUN_DIR: run '$0 start' first"
  is_uint "$id" && ((id >= 1 && id <= NODES)) || die "signal-broker: node must be 1..$NODES, not '$id'"
  [[ $sig =~ ^[A-Z0-9]+$ ]] || die "signal-broker: '$2' is not a signal name"
  local pid
  pid="$(node_pid "$id")" || die "node $id is not running"
  kill -s "$sig" "$pid" || die "could not send SIG$sig to node $id (pid $pid)"
  log "sent SIG$sig to node $id (pid $pid)"
}

cmd_status() {
  if ! load_cluster; then
    log "no local Kafka in $RUN_DIR"
    return 1
  fi
  command -v kcat >/dev/null 2>&1 || log "kcat is missing: cannot tell whether the brokers answer"
  local i pid up=0 answering=0 seen rss
  echo "Kafka $RUNNING_VERSION, $NODES node(s), cluster id $CLUSTER_ID, run dir $RUN_DIR"
  for ((i = 1; i <= NODES; i++)); do
    if pid="$(node_pid "$i")"; then
      up=$((up + 1))
      rss="$(awk '/^VmRSS/ {printf "%d MiB", $2 / 1024}' "/proc/$pid/status" 2>/dev/null || true)"
      seen=""
      command -v kcat >/dev/null 2>&1 && seen="$(brokers_seen_by "$i")"
      if [[ -n $seen ]]; then
        answering=$((answering + 1))
        echo "node $i: running, pid $pid, RSS $rss, 127.0.0.1:$(node_port "$i") answers (sees $seen broker(s)), controller port $(node_controller_port "$i")${SASL_PORT:+, SASL port $(node_sasl_port "$i")}"
      else
        echo "node $i: running, pid $pid, RSS $rss, 127.0.0.1:$(node_port "$i") does not answer yet"
      fi
    else
      echo "node $i: stopped"
    fi
  done
  [[ -z $SASL_PORT ]] || echo "SASL_PLAINTEXT ($SASL_MECHANISM, user $SASL_USER): $SASL_SERVERS"
  echo "$SERVERS"
  ((up == NODES && answering == NODES))
}

cmd_servers() {
  load_cluster || die "no local Kafka in $RUN_DIR: run '$0 start' first"
  case ${1:-} in
    "") echo "$SERVERS" ;;
    --sasl)
      [[ -n $SASL_PORT ]] || die "the cluster in $RUN_DIR has no SASL listener (start it with --sasl)"
      echo "$SASL_SERVERS"
      ;;
    *) die "servers: unknown argument '$1' (usage: servers [--sasl])" ;;
  esac
}

cmd_topics() {
  local partitions=12 replication=""
  while (($#)); do
    case $1 in
      --partitions) partitions=${2:-} && shift 2 || die "--partitions needs a number" ;;
      --partitions=*) partitions=${1#*=} && shift ;;
      --replication | --replication-factor) replication=${2:-} && shift 2 || die "--replication needs a number" ;;
      --replication=* | --replication-factor=*) replication=${1#*=} && shift ;;
      -h | --help) usage ;;
      *) die "topics: unknown argument '$1' (usage: topics [--partitions P] [--replication R])" ;;
    esac
  done
  load_cluster || die "no local Kafka in $RUN_DIR: run '$0 start' first"
  (($(running_nodes) == NODES)) || die "not every node is running ('$0 status'); start them first"
  is_uint "$partitions" && ((partitions >= 1)) || die "--partitions must be a positive number"
  [[ -n $replication ]] || replication=$((NODES < 3 ? NODES : 3))
  is_uint "$replication" && ((replication >= 1 && replication <= NODES)) ||
    die "--replication must be 1..$NODES (the number of brokers), not '$replication'"
  use_running_version
  require_java
  local cls
  cls="$(topic_command_class)"
  # With 3 replicas an acknowledged write survives a broker restart: require 2 in sync.
  local min_isr=$((replication >= 3 ? 2 : 1))
  local existing
  existing="$(run_tool "$cls" --bootstrap-server "$SERVERS" --list)" ||
    die "$cls --list failed against $SERVERS"
  local topic pids=() names=() t0=$SECONDS
  for topic in "${DEFAULT_TOPICS[@]}" "$CHANGELOG_TOPIC" "$ACCOUNT_TOPIC" "$IDENTITY_TOPIC"; do
    if grep -qxF "$topic" <<<"$existing"; then
      log "exists: $topic"
      continue
    fi
    local extra=(--config "min.insync.replicas=$min_isr")
    [[ " ${COMPACTED_TOPICS[*]} " == *" $topic "* ]] && extra+=(--config cleanup.policy=compact)
    # Two tool JVMs at a time (2 cores).
    if ((${#pids[@]} >= 2)); then
      wait_topic "${pids[0]}" "${names[0]}"
      pids=("${pids[@]:1}")
      names=("${names[@]:1}")
    fi
    local count=$partitions
    [[ $topic == "$IDENTITY_TOPIC" ]] && count=1
    run_tool "$cls" --bootstrap-server "$SERVERS" --create --if-not-exists --topic "$topic" \
      --partitions "$count" --replication-factor "$replication" "${extra[@]}" \
      >"$RUN_DIR/topic-$topic.log" 2>&1 &
    pids+=($!)
    names+=("$topic")
  done
  local k
  for k in "${!pids[@]}"; do wait_topic "${pids[k]}" "${names[k]}"; done
  ((TOPIC_FAILURES == 0)) || die "$TOPIC_FAILURES topic(s) could not be created"
  # Report topics that existed with another partition count.
  local desc
  desc="$(run_tool "$cls" --bootstrap-server "$SERVERS" --describe --exclude-internal 2>/dev/null || true)"
  for topic in "${DEFAULT_TOPICS[@]}" "$CHANGELOG_TOPIC" "$ACCOUNT_TOPIC"; do
    local have
    have="$(awk -v t="$topic" '$1 == "Topic:" && $2 == t { for (i = 1; i <= NF; i++) if ($i == "PartitionCount:") print $(i + 1) }' <<<"$desc")"
    [[ -z $have || $have == "$partitions" ]] || log "note: $topic already existed with $have partitions (asked for $partitions)"
  done
  log "topics ready in $((SECONDS - t0))s: ${#DEFAULT_TOPICS[@]} topics + $CHANGELOG_TOPIC (compacted) + $ACCOUNT_TOPIC + $IDENTITY_TOPIC (1 partition), $partitions partitions, replication $replication, min.insync.replicas $min_isr"
  echo "$SERVERS"
}
TOPIC_FAILURES=0
wait_topic() {
  if wait "$1"; then
    log "created: $2"
  else
    log "creating $2 failed:"
    cat "$RUN_DIR/topic-$2.log" >&2
    TOPIC_FAILURES=$((TOPIC_FAILURES + 1))
  fi
  rm -f "$RUN_DIR/topic-$2.log"
}

cmd_check() {
  load_cluster || die "no local Kafka in $RUN_DIR: run '$0 start' first"
  # Debian's binding of the system librdkafka; /usr/bin/python3, not a virtualenv's.
  if ! /usr/bin/python3 -c 'import confluent_kafka' 2>/dev/null; then
    local sudo=()
    [[ $(id -u) == 0 ]] || sudo=(sudo)
    log "installing the Debian package python3-confluent-kafka (librdkafka's Python binding, for the check)"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q python3-confluent-kafka >&2 ||
      { DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -q >&2 &&
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q python3-confluent-kafka >&2; } ||
      die "could not install python3-confluent-kafka"
  fi
  /usr/bin/python3 "$FILES_DIR/check_compat.py" --bootstrap "$SERVERS" "$@"
}

main() {
  (($#)) || usage
  local cmd=$1
  shift
  case $cmd in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    topics) cmd_topics "$@" ;;
    restart-broker) cmd_restart_broker "$@" ;;
    signal-broker) cmd_signal_broker "$@" ;;
    status) cmd_status "$@" ;;
    servers) cmd_servers "$@" ;;
    check) cmd_check "$@" ;;
    -h | --help | help) usage ;;
    *) die "unknown command '$cmd' (start, stop, topics, restart-broker, signal-broker, status, servers, check)" ;;
  esac
}

main "$@"
