#!/usr/bin/env bash
# A real single-node Apache Kafka broker for floe's dev/test tooling (KRaft, combined
# broker+controller, loopback only). The broker's jars come from Maven Central through Maven
# (~/.m2 is the download cache) and are copied once to ~/.cache/floe/kafka-<version>/libs.
#
#   bash scripts/kafka.sh up             start (format on first start), wait until it answers
#   bash scripts/kafka.sh down [--wipe]  stop (SIGTERM, SIGKILL after a timeout); --wipe deletes its data
#   bash scripts/kafka.sh status         exit 0 when up and answering metadata requests
#
#   FLOE_KAFKA_PORT             client port on 127.0.0.1                 (default 19092)
#   FLOE_KAFKA_CONTROLLER_PORT  KRaft controller port on 127.0.0.1       (default port+1)
#   FLOE_KAFKA_DIR              data dir: config, pid, logs, topic data  (default ~/.cache/floe/kafka-data)
#   FLOE_KAFKA_HOME             where the jars are kept                  (default ~/.cache/floe/kafka-<version>)
#   FLOE_KAFKA_HEAP             broker max heap                          (default 512m)
#   FLOE_KAFKA_START_TIMEOUT    seconds `up` waits for the broker        (default 60)
#   FLOE_KAFKA_STOP_TIMEOUT     seconds `down` waits before SIGKILL      (default 30)
#
# Layout of the data dir: server.properties, log4j2.properties, kafka.pid, data/ (KRaft
# metadata log + topic partitions), logs/server.log (broker log), logs/kafka.out (JVM stdout/err).
# The first broker stopped cleanly with `down` leaves a class-data-sharing archive in
# <FLOE_KAFKA_HOME>/cds that later starts load (about 8-13 s -> 3-5 s on 2 cores).
set -euo pipefail

# Kafka 4.3.1: KRaft-only, its broker runs on Java 17 (class files 61), and it still serves
# every protocol version kafkajs 2.2.4 negotiates (KIP-896 dropped only older ones). 4.4.0 is
# listed on Maven Central but its kafka-tools-api jar was missing when this was written.
KAFKA_VERSION=4.3.1
SCALA_VERSION=2.13
# Kafka 4.x logs through log4j2 but its pom carries no SLF4J binding: this one matches the
# log4j-core that kafka_2.13 pulls in (slf4j-api 1.7.x, hence log4j-slf4j-impl, not -slf4j2-).
LOG4J_VERSION=2.25.4
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
CLUSTER_ID=ZmxvZS1kZXYta2Fma2EtMQ   # base64url("floe-dev-kafka-1"): fixed, so status can tell our broker from another
NODE_ID=1

HOST=127.0.0.1
PORT="${FLOE_KAFKA_PORT:-19092}"
CONTROLLER_PORT="${FLOE_KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
DATA_HOME="${FLOE_KAFKA_DIR:-$HOME/.cache/floe/kafka-data}"
KAFKA_HOME="${FLOE_KAFKA_HOME:-$HOME/.cache/floe/kafka-$KAFKA_VERSION}"
LIBS="$KAFKA_HOME/libs"
HEAP="${FLOE_KAFKA_HEAP:-512m}"
START_TIMEOUT="${FLOE_KAFKA_START_TIMEOUT:-60}"
STOP_TIMEOUT="${FLOE_KAFKA_STOP_TIMEOUT:-30}"

PID_FILE="$DATA_HOME/kafka.pid"
SERVER_PROPS="$DATA_HOME/server.properties"
LOG4J_PROPS="$DATA_HOME/log4j2.properties"
LOG_DIR="$DATA_HOME/logs"
# Class-data-sharing archive of the broker's classes (AppCDS), dumped by the first broker that is
# stopped with `down` and used by every later start: it halves the JVM's start-up on 2 cores.
CDS_DIR="$KAFKA_HOME/cds"
JVM_KEY=""
DIR_KEY="$(printf '%s' "$DATA_HOME" | md5sum | cut -c1-8)"   # brokers of other data dirs dump their own
KILLED=0

say() { printf '[kafka] %s\n' "$*"; }
die() { printf 'kafka.sh: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/server-process.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server-process.sh"
# Prints the tail of a log file, indented, after an error line.


check_java() {
  need java "the broker needs a Java 17+ runtime, e.g. apt-get install openjdk-17-jre-headless"
  local line major
  line="$(java -version 2>&1 | head -n 1)"
  major="$(sed -E 's/.*version "([0-9]+)(\.([0-9]+))?.*/\1 \3/' <<<"$line")"
  read -r major minor <<<"$major"
  [[ "$major" == 1 ]] && major="${minor:-0}"
  [[ "$major" =~ ^[0-9]+$ ]] || die "cannot tell the Java version from: $line"
  (( major >= 17 )) || die "Kafka $KAFKA_VERSION needs Java 17+, found: $line"
  JVM_KEY="$(printf '%s %s' "$(readlink -f "$(command -v java)")" "$line" | md5sum | cut -c1-12)"
}

# --- jars ----------------------------------------------------------------------------------
fetch_libs() {
  [[ -f "$KAFKA_HOME/.complete" ]] && return 0
  need mvn "needed once to fetch the Kafka jars from Maven Central, e.g. apt-get install maven"
  mkdir -p "$(dirname "$KAFKA_HOME")"
  exec 8>"$KAFKA_HOME.lock"
  flock -w 600 8 || die "timed out waiting for another fetch of the Kafka jars ($KAFKA_HOME.lock)"
  if [[ -f "$KAFKA_HOME/.complete" ]]; then exec 8>&-; return 0; fi
  say "fetching org.apache.kafka:kafka_$SCALA_VERSION:$KAFKA_VERSION and its runtime dependencies (Maven)"
  local tmp
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/floe-kafka-fetch.XXXXXX")"
  cat >"$tmp/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>floe.dev</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_$SCALA_VERSION</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  if ! (cd "$tmp" && mvn -B -ntp -Dstyle.color=never "$DEPENDENCY_PLUGIN:copy-dependencies" \
        -DincludeScope=runtime -DoutputDirectory="$tmp/libs" >"$tmp/mvn.log" 2>&1); then
    show_tail "$tmp/mvn.log" 25
    rm -rf "$tmp"
    die "mvn could not fetch the Kafka $KAFKA_VERSION jars (see the lines above)"
  fi
  [[ -f "$tmp/libs/kafka_$SCALA_VERSION-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "mvn ran but kafka_$SCALA_VERSION-$KAFKA_VERSION.jar is missing"; }
  rm -rf "$LIBS"
  mkdir -p "$KAFKA_HOME"
  mv "$tmp/libs" "$LIBS"
  rm -rf "$tmp"
  (cd "$LIBS" && ls) >"$KAFKA_HOME/.complete"
  say "jars in $LIBS ($(wc -l <"$KAFKA_HOME/.complete") files)"
  exec 8>&-
}

# --- config ----------------------------------------------------------------------------------
write_config() {
  mkdir -p "$DATA_HOME/data" "$LOG_DIR"
  cat >"$SERVER_PROPS" <<EOF
# Written by scripts/kafka.sh on every start: edit the script, not this file.
process.roles=broker,controller
node.id=$NODE_ID
controller.quorum.voters=$NODE_ID@$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA_HOME/data

# Tests create every topic they use, with the partitions they ask for.
auto.create.topics.enable=false
delete.topic.enable=true
num.partitions=1
default.replication.factor=1
min.insync.replicas=1

# One node: every internal topic has one replica (few partitions: quicker first group join).
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=8
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

# After a SIGKILL the controller keeps the dead broker's registration until its session times
# out (default 9 s) and refuses the new one until then: shorter sessions, quicker restarts.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000

# Generous retention (tests delete their topics), 16 MiB messages.
log.retention.hours=720
log.retention.bytes=-1
log.segment.bytes=268435456
message.max.bytes=16777216
replica.fetch.max.bytes=16777216
socket.request.max.bytes=104857600

# Sized for a 2-core dev box.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=33554432
EOF
  cat >"$LOG4J_PROPS" <<'EOF'
# Written by scripts/kafka.sh: the broker logs to logs/server.log in its data dir, nothing to stdout.
status = warn
name = floe-kafka
appender.server.type = RollingFile
appender.server.name = server
appender.server.fileName = ${sys:kafka.logs.dir}/server.log
appender.server.filePattern = ${sys:kafka.logs.dir}/server.log.%i
appender.server.layout.type = PatternLayout
appender.server.layout.pattern = [%d] %p %m (%c)%n
appender.server.policies.type = Policies
appender.server.policies.size.type = SizeBasedTriggeringPolicy
appender.server.policies.size.size = 20MB
appender.server.strategy.type = DefaultRolloverStrategy
appender.server.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.server.ref = server
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
EOF
}

jvm_opts() {
  printf '%s\n' "-Xmx$HEAP" "-XX:+UseG1GC" "-XX:MaxGCPauseMillis=20" \
    "-XX:InitiatingHeapOccupancyPercent=35" "-XX:+ExplicitGCInvokesConcurrent" "-XX:+ExitOnOutOfMemoryError" \
    "-XX:ErrorFile=$LOG_DIR/hs_err_pid%p.log" "-Djava.awt.headless=true" \
    "-Dkafka.logs.dir=$LOG_DIR" "-Dlog4j2.configurationFile=$LOG4J_PROPS" "-Xlog:cds*=error"
  if [[ -n "$JVM_KEY" && -s "$CDS_DIR/kafka-$JVM_KEY.jsa" ]]; then
    printf '%s\n' "-XX:SharedArchiveFile=$CDS_DIR/kafka-$JVM_KEY.jsa"
  elif [[ -n "$JVM_KEY" && "${1:-}" == broker ]]; then
    printf '%s\n' "-XX:ArchiveClassesAtExit=$CDS_DIR/kafka-$JVM_KEY.jsa.$DIR_KEY.pending"
  fi
}

format_storage() {
  if [[ -f "$DATA_HOME/data/meta.properties" ]]; then
    local id
    id="$(sed -n 's/^cluster\.id=//p' "$DATA_HOME/data/meta.properties")"
    [[ "$id" == "$CLUSTER_ID" ]] || die "$DATA_HOME/data belongs to cluster '$id', not $CLUSTER_ID; run: bash scripts/kafka.sh down --wipe"
    return 0
  fi
  say "formatting $DATA_HOME/data (cluster id $CLUSTER_ID)"
  local opts
  mapfile -t opts < <(jvm_opts)
  if ! java "${opts[@]}" -cp "$LIBS/*" kafka.tools.StorageTool format \
        -t "$CLUSTER_ID" -c "$SERVER_PROPS" --ignore-formatted >"$LOG_DIR/format.log" 2>&1; then
    show_tail "$LOG_DIR/format.log"
    die "formatting the KRaft storage in $DATA_HOME/data failed (log: $LOG_DIR/format.log)"
  fi
}

# --- process and health ------------------------------------------------------------------------
# The pid in the pid file when that process is our broker (same server.properties), else nothing.
running_pid() {
  local pid
  [[ -s "$PID_FILE" ]] || return 0
  pid="$(<"$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 0
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $SERVER_PROPS"; then echo "$pid"; fi
}


# Sends a Metadata (v4) request; prints "<cluster id> <broker count>" and exits 0 when a broker
# answered and lists at least one live broker; 2 when it answered with no broker yet; 1 otherwise.
# No dependencies: raw Kafka protocol over node's net module.
read -r -d '' PROBE_JS <<'JS' || true
const net = require('net');
const [host, port, timeout] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3] || 2000)];
const clientId = Buffer.from('floe-kafka-sh');
const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
let o = 0;
o = body.writeInt16BE(3, o); o = body.writeInt16BE(4, o); o = body.writeInt32BE(7, o);
o = body.writeInt16BE(clientId.length, o); o += clientId.copy(body, o);
o = body.writeInt32BE(0, o); body.writeInt8(0, o);
const size = Buffer.alloc(4); size.writeInt32BE(body.length);
const sock = net.connect({ host, port });
const timer = setTimeout(() => { sock.destroy(); process.exit(1); }, timeout);
let buf = Buffer.alloc(0);
sock.on('connect', () => sock.write(Buffer.concat([size, body])));
sock.on('error', () => process.exit(1));
sock.on('close', () => process.exit(1));
sock.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
  clearTimeout(timer);
  try {
    let p = 4;
    if (buf.readInt32BE(p) !== 7) process.exit(1);
    p += 8; // correlation id, throttle time
    const brokers = buf.readInt32BE(p); p += 4;
    const str = () => { const n = buf.readInt16BE(p); p += 2; if (n < 0) return null; const s = buf.toString('utf8', p, p + n); p += n; return s; };
    for (let i = 0; i < brokers; i++) { p += 4; str(); p += 4; str(); }
    const clusterId = str();
    process.stdout.write(`${clusterId} ${brokers}\n`);
    process.exit(brokers > 0 ? 0 : 2);
  } catch { process.exit(1); }
});
JS
probe() { node -e "$PROBE_JS" "$HOST" "$PORT" "${1:-2000}"; }

# 0 when our broker (our cluster id) answers with a live broker.
healthy() {
  local out
  out="$(probe "$@" 2>/dev/null)" || return 1
  [[ "${out%% *}" == "$CLUSTER_ID" ]]
}

wait_healthy() {
  local pid="$1" t0="$2" deadline=$((SECONDS + START_TIMEOUT))
  while (( SECONDS < deadline )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      show_tail "$LOG_DIR/kafka.out" 10
      show_tail "$LOG_DIR/server.log" 15
      die "the broker exited during start-up (logs: $LOG_DIR)"
    fi
    if healthy 1500; then
      say "ready after $(( ($(date +%s%N) - t0) / 1000000 )) ms (pid $pid, data $DATA_HOME)"
      return 0
    fi
    sleep 0.25
  done
  show_tail "$LOG_DIR/server.log" 15
  stop_pid "$pid"
  rm -f "$PID_FILE"
  die "the broker did not answer on $HOST:$PORT within ${START_TIMEOUT}s; stopped it (logs: $LOG_DIR)"
}

# --- commands --------------------------------------------------------------------------------
cmd_up() {
  local t0 pid
  t0="$(date +%s%N)"
  need node "the readiness check runs a tiny node script"
  lock_data_dir 60
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    if ! healthy; then
      say "broker pid $pid is starting; waiting"
      wait_healthy "$pid" "$t0"
    fi
    echo "kafka up on $HOST:$PORT (already running, pid $pid)"
    return 0
  fi
  rm -f "$PID_FILE"
  local p
  for p in "$PORT" "$CONTROLLER_PORT"; do
    if port_open "$p"; then
      if [[ "$p" == "$PORT" ]] && healthy; then
        die "port $HOST:$p is taken by a Kafka broker not started from $DATA_HOME (no pid file); stop it or set FLOE_KAFKA_PORT"
      fi
      die "port $HOST:$p is taken by another process; free it or set FLOE_KAFKA_PORT (controller: FLOE_KAFKA_CONTROLLER_PORT)"
    fi
  done
  check_java
  fetch_libs
  write_config
  format_storage

  local opts
  mkdir -p "$CDS_DIR"
  rm -f "$CDS_DIR"/*."$DIR_KEY".pending
  mapfile -t opts < <(jvm_opts broker)
  : >"$LOG_DIR/kafka.out"
  (
    cd "$DATA_HOME"
    # Hold nothing of the caller: no lock fd, no pipes of a test runner waiting for EOF.
    for fd in /proc/$BASHPID/fd/*; do
      fd="${fd##*/}"
      if [[ "$fd" =~ ^[0-9]+$ ]] && (( fd > 2 && fd < 255 )); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec setsid java "${opts[@]}" -cp "$LIBS/*" kafka.Kafka "$SERVER_PROPS" </dev/null >>"$LOG_DIR/kafka.out" 2>&1
  ) &
  pid=$!
  echo "$pid" >"$PID_FILE"
  wait_healthy "$pid" "$t0"
  echo "kafka up on $HOST:$PORT"
}

cmd_down() {
  local wipe=0 pid
  [[ "${1:-}" == "--wipe" ]] && wipe=1
  [[ $# -le 1 && ( $# -eq 0 || $wipe == 1 ) ]] || die "usage: kafka.sh down [--wipe]"
  lock_data_dir 60
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    stop_pid "$pid"
    say "stopped (pid $pid)"
    # A broker that ran with -XX:ArchiveClassesAtExit wrote its class archive on a clean exit.
    local pending
    for pending in "$CDS_DIR"/*.jsa."$DIR_KEY".pending; do
      [[ -e "$pending" ]] || continue
      local jsa="${pending%."$DIR_KEY".pending}"
      if [[ $KILLED == 0 && -s "$pending" ]]; then mv -f "$pending" "$jsa"; say "class archive saved: $jsa"; else rm -f "$pending"; fi
    done
  else
    say "not running"
  fi
  rm -f "$PID_FILE"
  if [[ $wipe == 1 ]]; then
    rm -rf "$DATA_HOME/data" "$LOG_DIR" "$SERVER_PROPS" "$LOG4J_PROPS"
    say "wiped $DATA_HOME"
  fi
}

cmd_status() {
  local pid
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then echo "kafka down"; return 1; fi
  command -v node >/dev/null 2>&1 || die "node not found on PATH (the health check runs a tiny node script)"
  if healthy; then echo "kafka up on $HOST:$PORT (pid $pid, data $DATA_HOME)"; return 0; fi
  echo "kafka not answering on $HOST:$PORT (pid $pid; logs: $LOG_DIR)"
  return 1
}

case "${1:-}" in
  up) shift; [[ $# -eq 0 ]] || die "usage: kafka.sh up"; cmd_up ;;
  down) shift; cmd_down "$@" ;;
  status) shift; cmd_status ;;
  *) die "usage: kafka.sh up | down [--wipe] | status" ;;
esac
