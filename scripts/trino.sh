#!/usr/bin/env bash
# A real single-node Trino server (coordinator + worker, loopback only) for floe's interop tests.
# Its Iceberg catalogs are created at run time (`catalog.management=dynamic`, in-memory catalog
# store): each test runs `CREATE CATALOG … USING iceberg WITH (…)` on its own warehouse's
# catalog.db and `DROP CATALOG` after, so one long-lived server serves every test and a restart
# never revives a catalog whose temp warehouse is gone.
#
#   bash scripts/trino.sh up              start, wait until it answers queries
#   bash scripts/trino.sh down [--wipe]   stop (SIGTERM, SIGKILL after a timeout); --wipe deletes its data dir
#   bash scripts/trino.sh status          exit 0 when up and answering
#
#   FLOE_TRINO_PORT           HTTP port on 127.0.0.1                       (default 18080)
#   FLOE_TRINO_DIR            data dir: config, pid, logs, node data       (default ~/.cache/floe/trino-data)
#   FLOE_TRINO_HOME           unpacked server + iceberg plugin             (default ~/.cache/floe/trino-<version>)
#   FLOE_TRINO_JAVA_HOME      a Java 24+ (default: $JAVA_HOME if 24+, else /usr/lib/jvm/temurin-25-jdk-amd64)
#   FLOE_TRINO_HEAP           server max heap                              (default 2G)
#   FLOE_TRINO_START_TIMEOUT  seconds `up` waits for the server            (default 120)
#   FLOE_TRINO_STOP_TIMEOUT   seconds `down` waits before SIGKILL          (default 30)
#
# The install comes from Maven Central through Maven (~/.m2 is the download cache):
# io.trino:trino-server-core:<v>:tar.gz (lib/ only: the core's own plugins are not needed) and
# io.trino:trino-iceberg:<v>:zip unpacked into plugin/iceberg, with org.xerial:sqlite-jdbc in
# the same folder so the Iceberg JDBC catalog can open floe's SQLite catalog.db.
# Data dir layout: etc/{config,log}.properties, trino.pid, data/ (node data),
# logs/server.log (server log), logs/trino.out (JVM stdout/err). The install keeps a
# class-data-sharing archive per JVM and data dir in <FLOE_TRINO_HOME>/cds (see CDS_DIR).
set -euo pipefail

TRINO_VERSION=476
SQLITE_JDBC_VERSION=3.50.3.0
# Fixed so that `status` can tell our server from another Trino on the same port.
ENVIRONMENT=floe_test

HOST=127.0.0.1
PORT="${FLOE_TRINO_PORT:-18080}"
DATA_HOME="${FLOE_TRINO_DIR:-$HOME/.cache/floe/trino-data}"
TRINO_HOME="${FLOE_TRINO_HOME:-$HOME/.cache/floe/trino-$TRINO_VERSION}"
HEAP="${FLOE_TRINO_HEAP:-2G}"
START_TIMEOUT="${FLOE_TRINO_START_TIMEOUT:-120}"
STOP_TIMEOUT="${FLOE_TRINO_STOP_TIMEOUT:-30}"
M2="${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}"

ETC="$DATA_HOME/etc"
PID_FILE="$DATA_HOME/trino.pid"
LOG_DIR="$DATA_HOME/logs"
JAVA_BIN=""
JVM_KEY=""
KILLED=0
# Class-data-sharing archive (JDK 19+ -XX:+AutoCreateSharedArchive): the first server to stop
# cleanly dumps the classes it loaded, later starts map them (about 35-40 s -> 17-25 s on a busy
# 2-core box). One archive per JVM and data dir, so two servers never write the same file; the
# JVM itself rebuilds an archive that no longer matches its class path.
CDS_DIR="$TRINO_HOME/cds"
DIR_KEY="$(printf '%s' "$DATA_HOME" | md5sum | cut -c1-8)"

say() { printf '[trino] %s\n' "$*"; }
die() { printf 'trino.sh: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/server-process.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server-process.sh"

java_major() {
  local line major minor
  line="$("$1" -version 2>&1 | head -n 1)" || return 1
  read -r major minor < <(sed -E 's/.*version "([0-9]+)(\.([0-9]+))?.*/\1 \3/' <<<"$line")
  [[ "$major" == 1 ]] && major="${minor:-0}"
  [[ "$major" =~ ^[0-9]+$ ]] && echo "$major"
}

# Trino 476 refuses to start on a Java older than 24 (its class files are Java 24's).
find_java() {
  local c major
  for c in ${FLOE_TRINO_JAVA_HOME:+"$FLOE_TRINO_JAVA_HOME"} ${JAVA_HOME:+"$JAVA_HOME"} /usr/lib/jvm/temurin-25-jdk-amd64; do
    [[ -x "$c/bin/java" ]] || continue
    major="$(java_major "$c/bin/java" || true)"
    if [[ -n "$major" ]] && (( major >= 24 )); then
      JAVA_BIN="$c/bin/java"
      JVM_KEY="$(printf '%s %s' "$(readlink -f "$JAVA_BIN")" "$("$JAVA_BIN" -version 2>&1 | head -n 1)" | md5sum | cut -c1-12)"
      return 0
    fi
    [[ -n "${FLOE_TRINO_JAVA_HOME:-}" && "$c" == "$FLOE_TRINO_JAVA_HOME" ]] && die "FLOE_TRINO_JAVA_HOME=$c is Java ${major:-?}; Trino $TRINO_VERSION needs Java 24+"
  done
  die "Trino $TRINO_VERSION needs Java 24+: none found (tried \$FLOE_TRINO_JAVA_HOME, \$JAVA_HOME, /usr/lib/jvm/temurin-25-jdk-amd64); install e.g. temurin-25-jdk and/or set FLOE_TRINO_JAVA_HOME"
}

# --- install ---------------------------------------------------------------------------------
# Prints the path of an artifact in the local Maven repository, fetching it first if missing.
m2_artifact() {
  local group="$1" artifact="$2" version="$3" ext="$4" file
  file="$M2/${group//.//}/$artifact/$version/$artifact-$version.$ext"
  if [[ ! -s "$file" ]]; then
    need mvn "needed once to fetch Trino from Maven Central, e.g. apt-get install maven"
    say "fetching $group:$artifact:$version:$ext (Maven Central)" >&2
    local log
    log="$(mktemp "${TMPDIR:-/tmp}/floe-trino-mvn.XXXXXX")"
    if ! mvn -B -ntp -Dstyle.color=never -Dmaven.repo.local="$M2" dependency:get -Dartifact="$group:$artifact:$version:$ext" \
          -Dtransitive=false >"$log" 2>&1; then
      show_tail "$log" 25
      rm -f "$log"
      die "mvn dependency:get $group:$artifact:$version:$ext failed (see the lines above)"
    fi
    rm -f "$log"
    [[ -s "$file" ]] || die "mvn ran but $file is missing"
  fi
  echo "$file"
}

install_trino() {
  [[ -f "$TRINO_HOME/.complete" ]] && return 0
  mkdir -p "$(dirname "$TRINO_HOME")"
  exec 8>"$TRINO_HOME.lock"
  flock -w 1200 8 || die "timed out waiting for another install of Trino ($TRINO_HOME.lock)"
  if [[ -f "$TRINO_HOME/.complete" ]]; then exec 8>&-; return 0; fi
  need unzip "needed once to unpack the Iceberg plugin, e.g. apt-get install unzip"
  local server plugin sqlite tmp
  server="$(m2_artifact io.trino trino-server-core "$TRINO_VERSION" tar.gz)"
  plugin="$(m2_artifact io.trino trino-iceberg "$TRINO_VERSION" zip)"
  sqlite="$(m2_artifact org.xerial sqlite-jdbc "$SQLITE_JDBC_VERSION" jar)"
  say "unpacking Trino $TRINO_VERSION into $TRINO_HOME"
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/floe-trino-install.XXXXXX")"
  # The core's own plugins (python functions, geospatial, exchange…) only slow the start down.
  tar xzf "$server" -C "$tmp" --exclude="trino-server-core-$TRINO_VERSION/plugin/*" \
    || { rm -rf "$tmp"; die "could not unpack $server"; }
  mkdir -p "$tmp/trino-server-core-$TRINO_VERSION/plugin"
  unzip -q "$plugin" -d "$tmp/plugin-zip" || { rm -rf "$tmp"; die "could not unpack $plugin"; }
  mv "$tmp/plugin-zip/trino-iceberg-$TRINO_VERSION" "$tmp/trino-server-core-$TRINO_VERSION/plugin/iceberg"
  cp "$sqlite" "$tmp/trino-server-core-$TRINO_VERSION/plugin/iceberg/"
  rm -rf "$TRINO_HOME"
  mv "$tmp/trino-server-core-$TRINO_VERSION" "$TRINO_HOME"
  rm -rf "$tmp"
  (cd "$TRINO_HOME" && find lib plugin -name '*.jar' | sort) >"$TRINO_HOME/.complete"
  say "installed in $TRINO_HOME ($(wc -l <"$TRINO_HOME/.complete") jars)"
  exec 8>&-
}

# --- config ----------------------------------------------------------------------------------
write_config() {
  mkdir -p "$ETC" "$DATA_HOME/data" "$LOG_DIR"
  cat >"$ETC/config.properties" <<EOF
# Written by scripts/trino.sh on every start: edit the script, not this file.
coordinator=true
node-scheduler.include-coordinator=true
http-server.http.port=$PORT
discovery.uri=http://$HOST:$PORT
plugin.dir=$TRINO_HOME/plugin
# Catalogs come and go with the tests' temp warehouses (CREATE/DROP CATALOG); the memory store
# forgets them on restart.
catalog.management=dynamic
catalog.store=memory
# Sized for a 2-core dev box and -Xmx$HEAP.
query.max-memory=1GB
query.max-memory-per-node=1GB
task.concurrency=2
task.max-worker-threads=4
# Node settings (the launcher would pass node.properties as -D flags; here they share this file).
node.environment=$ENVIRONMENT
node.id=floe-trino-$PORT
node.bind-ip=$HOST
node.internal-address=$HOST
EOF
  cat >"$ETC/log.properties" <<'EOF'
io.trino=INFO
io.airlift=WARN
org.apache.iceberg=WARN
EOF
}

jvm_opts() {
  printf '%s\n' "-server" "-Xmx$HEAP" "-XX:+UseG1GC" "-XX:G1HeapRegionSize=32M" \
    "-XX:+ExplicitGCInvokesConcurrent" "-XX:+ExitOnOutOfMemoryError" "-XX:-OmitStackTraceInFastThrow" \
    "-XX:ReservedCodeCacheSize=256M" "-XX:PerMethodRecompilationCutoff=10000" "-XX:PerBytecodeRecompilationCutoff=10000" \
    "-XX:+EnableDynamicAgentLoading" "-Djdk.attach.allowAttachSelf=true" "-Djdk.nio.maxCachedBufferSize=2000000" \
    "-Dfile.encoding=UTF-8" "-Duser.timezone=UTC" "--enable-native-access=ALL-UNNAMED" "--sun-misc-unsafe-memory-access=allow" "-XX:ErrorFile=$LOG_DIR/hs_err_pid%p.log" \
    "-Dconfig=$ETC/config.properties" "-Dlog.levels-file=$ETC/log.properties" \
    "-Dlog.output-file=$LOG_DIR/server.log" "-Dlog.enable-console=false" \
    "-XX:+AutoCreateSharedArchive" "-XX:SharedArchiveFile=$CDS_DIR/trino-$JVM_KEY-$DIR_KEY.jsa" "-Xlog:cds=error"
}

# --- process and health ------------------------------------------------------------------------
running_pid() {
  local pid
  [[ -s "$PID_FILE" ]] || return 0
  pid="$(<"$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 0
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-Dconfig=$ETC/config.properties"; then echo "$pid"; fi
}


# /v1/info of the server on PORT: prints "<environment> <starting>", e.g. "floe_test false".
info() {
  local body
  body="$(curl -fsS --max-time "${1:-2}" "http://$HOST:$PORT/v1/info" 2>/dev/null)" || return 1
  printf '%s %s\n' "$(sed -nE 's/.*"environment":"([^"]*)".*/\1/p' <<<"$body")" \
    "$(sed -nE 's/.*"starting":(true|false).*/\1/p' <<<"$body")"
}

# 0 when our server (our environment) answers and has finished starting (catalogs, plugins loaded).
healthy() {
  local out
  out="$(info "$@")" || return 1
  [[ "$out" == "$ENVIRONMENT false" ]]
}

wait_healthy() {
  local pid="$1" t0="$2" deadline=$((SECONDS + START_TIMEOUT))
  while (( SECONDS < deadline )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      show_tail "$LOG_DIR/trino.out" 10
      show_tail "$LOG_DIR/server.log" 20
      die "the server exited during start-up (logs: $LOG_DIR)"
    fi
    if healthy 2; then
      say "ready after $(( ($(date +%s%N) - t0) / 1000000 )) ms (pid $pid, data $DATA_HOME)"
      return 0
    fi
    sleep 0.5
  done
  show_tail "$LOG_DIR/server.log" 20
  stop_pid "$pid"
  rm -f "$PID_FILE"
  die "the server did not answer on $HOST:$PORT within ${START_TIMEOUT}s; stopped it (logs: $LOG_DIR)"
}

# --- commands --------------------------------------------------------------------------------
cmd_up() {
  local t0 pid
  t0="$(date +%s%N)"
  need curl "the readiness check asks /v1/info"
  lock_data_dir 1260
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    if ! healthy; then
      say "server pid $pid is starting; waiting"
      wait_healthy "$pid" "$t0"
    fi
    echo "trino up on $HOST:$PORT (already running, pid $pid)"
    return 0
  fi
  rm -f "$PID_FILE"
  if port_open "$PORT"; then
    if [[ "$(info 2>/dev/null || true)" == "$ENVIRONMENT "* ]]; then
      die "port $HOST:$PORT is taken by a floe Trino not started from $DATA_HOME (no pid file); stop it or set FLOE_TRINO_PORT"
    fi
    die "port $HOST:$PORT is taken by another process; free it or set FLOE_TRINO_PORT"
  fi
  find_java
  install_trino
  write_config

  local opts
  mkdir -p "$CDS_DIR"
  mapfile -t opts < <(jvm_opts)
  : >"$LOG_DIR/trino.out"
  (
    cd "$DATA_HOME"
    # Hold nothing of the caller: no lock fd, no pipes of a test runner waiting for EOF.
    for fd in /proc/$BASHPID/fd/*; do
      fd="${fd##*/}"
      if [[ "$fd" =~ ^[0-9]+$ ]] && (( fd > 2 && fd < 255 )); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec setsid "$JAVA_BIN" "${opts[@]}" -cp "$TRINO_HOME/lib/*" io.trino.server.TrinoServer </dev/null >>"$LOG_DIR/trino.out" 2>&1
  ) &
  pid=$!
  echo "$pid" >"$PID_FILE"
  wait_healthy "$pid" "$t0"
  echo "trino up on $HOST:$PORT"
}

cmd_down() {
  local wipe=0 pid
  [[ "${1:-}" == "--wipe" ]] && wipe=1
  [[ $# -le 1 && ( $# -eq 0 || $wipe == 1 ) ]] || die "usage: trino.sh down [--wipe]"
  lock_data_dir 1260
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    stop_pid "$pid"
    say "stopped (pid $pid)"
  else
    say "not running"
  fi
  rm -f "$PID_FILE"
  if [[ $wipe == 1 ]]; then
    rm -rf "$DATA_HOME/data" "$LOG_DIR" "$ETC"
    say "wiped $DATA_HOME"
  fi
}

cmd_status() {
  local pid
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then echo "trino down"; return 1; fi
  need curl "the health check asks /v1/info"
  if healthy; then echo "trino up on $HOST:$PORT (pid $pid, data $DATA_HOME)"; return 0; fi
  echo "trino not answering on $HOST:$PORT (pid $pid; logs: $LOG_DIR)"
  return 1
}

case "${1:-}" in
  up) shift; [[ $# -eq 0 ]] || die "usage: trino.sh up"; cmd_up ;;
  down) shift; cmd_down "$@" ;;
  status) shift; cmd_status ;;
  *) die "usage: trino.sh up | down [--wipe] | status" ;;
esac
