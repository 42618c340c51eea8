#!/usr/bin/env bash
# Apache Iceberg's own REST catalog server (org.apache.iceberg.rest.RESTCatalogServer from
# org.apache.iceberg:iceberg-open-api:<v>:test-fixtures, the server pyiceberg, iceberg-rust and
# iceberg-go test against) for floe's REST catalog tests. Backend: JdbcCatalog on a SQLite file,
# warehouse a local folder (HadoopFileIO, file: URIs).
#
#   bash scripts/rest.sh up               start (idempotent), wait until GET /v1/config answers
#   bash scripts/rest.sh down [--wipe]    stop (SIGTERM, SIGKILL after a timeout); --wipe deletes its data dir
#   bash scripts/rest.sh status           exit 0 when up and answering
#
#   FLOE_REST_PORT           HTTP port                                  (default 18181)
#   FLOE_REST_DIR            data dir: catalog.db, warehouse/, pid, log  (default ~/.cache/floe/rest-data)
#   FLOE_REST_START_TIMEOUT  seconds `up` waits for the server           (default 90)
#   FLOE_REST_STOP_TIMEOUT   seconds `down` waits before SIGKILL         (default 15)
#
# A warehouse on S3 instead of the local folder (the server then writes metadata with Iceberg's
# S3FileIO: iceberg-aws and iceberg-aws-bundle, the AWS SDK, are fetched with Maven and added to
# the class path):
#   FLOE_REST_WAREHOUSE      s3://bucket/prefix
#   FLOE_REST_S3_ENDPOINT    http://127.0.0.1:<port> of an S3-compatible server (path-style access)
#   FLOE_REST_S3_ACCESS_KEY, FLOE_REST_S3_SECRET_KEY, FLOE_REST_S3_REGION (default us-east-1)
#
# `up` prints `rest up on <host>:<port> warehouse <file: or s3: URI>` as its last line.
# The server's runtime class path is assembled once with Maven (`dependency:build-classpath` on a
# generated pom, jars cached in ~/.m2) and kept in ~/.cache/floe/iceberg-rest-<v>/classpath.txt.
# The test-fixtures jar declares none of its runtime dependencies, so the pom lists them:
# iceberg-core (+ its tests jar, which holds RESTCatalogAdapter/RESTCatalogServlet), Jetty 11
# (servlet), hadoop-client-api/-runtime (HadoopFileIO, Configuration), sqlite-jdbc, slf4j-simple.
# Note: the server binds all interfaces (it has no host setting); use it on trusted machines only.
set -euo pipefail

ICEBERG_VERSION=1.10.0
JETTY_VERSION=11.0.25
HADOOP_VERSION=3.4.1
SQLITE_JDBC_VERSION=3.50.3.0
SLF4J_VERSION=2.0.17

HOST=127.0.0.1
PORT="${FLOE_REST_PORT:-18181}"
DATA_HOME="${FLOE_REST_DIR:-$HOME/.cache/floe/rest-data}"
CACHE="$HOME/.cache/floe/iceberg-rest-$ICEBERG_VERSION"
START_TIMEOUT="${FLOE_REST_START_TIMEOUT:-90}"
STOP_TIMEOUT="${FLOE_REST_STOP_TIMEOUT:-15}"
PID_FILE="$DATA_HOME/rest.pid"
LOG="$DATA_HOME/rest.log"
WAREHOUSE_DIR="$DATA_HOME/warehouse"
WAREHOUSE="${FLOE_REST_WAREHOUSE:-file://$WAREHOUSE_DIR}"
KILLED=0

say() { printf '[rest] %s\n' "$*"; }
die() { printf 'rest.sh: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/server-process.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server-process.sh"

classpath() {
  local cp="$CACHE/classpath.txt"
  if [[ -s "$cp" ]] && tr ':' '\n' <"$cp" | while read -r j; do [[ -f "$j" ]] || exit 1; done; then
    cat "$cp"; return 0
  fi
  need mvn "install Maven: apt-get install maven"
  mkdir -p "$CACHE"
  cat >"$CACHE/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>floe</groupId><artifactId>iceberg-rest-server-classpath</artifactId><version>1</version><packaging>pom</packaging>
<dependencies>
<dependency><groupId>org.apache.iceberg</groupId><artifactId>iceberg-open-api</artifactId><version>$ICEBERG_VERSION</version><classifier>test-fixtures</classifier></dependency>
<dependency><groupId>org.apache.iceberg</groupId><artifactId>iceberg-core</artifactId><version>$ICEBERG_VERSION</version></dependency>
<dependency><groupId>org.apache.iceberg</groupId><artifactId>iceberg-core</artifactId><version>$ICEBERG_VERSION</version><classifier>tests</classifier></dependency>
<dependency><groupId>org.eclipse.jetty</groupId><artifactId>jetty-servlet</artifactId><version>$JETTY_VERSION</version></dependency>
<dependency><groupId>org.apache.hadoop</groupId><artifactId>hadoop-client-api</artifactId><version>$HADOOP_VERSION</version></dependency>
<dependency><groupId>org.apache.hadoop</groupId><artifactId>hadoop-client-runtime</artifactId><version>$HADOOP_VERSION</version></dependency>
<dependency><groupId>org.xerial</groupId><artifactId>sqlite-jdbc</artifactId><version>$SQLITE_JDBC_VERSION</version></dependency>
<dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>$SLF4J_VERSION</version></dependency>
</dependencies></project>
EOF
  say "assembling the server class path with Maven (first run downloads ~60 MB)" >&2
  local log; log="$(mktemp)"
  if ! mvn -B -ntp -Dstyle.color=never -f "$CACHE/pom.xml" dependency:build-classpath -Dmdep.outputFile="$cp.tmp" >"$log" 2>&1; then
    tail -n 30 "$log" >&2; rm -f "$log"; die "mvn dependency:build-classpath failed"
  fi
  rm -f "$log"
  mv "$cp.tmp" "$cp"
  cat "$cp"
}

running_pid() {
  [[ -s "$PID_FILE" ]] || return 0
  local pid; pid="$(<"$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 0
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-Dfloe.rest.dir=$DATA_HOME"; then echo "$pid"; fi
}

healthy() { curl -sf -m 3 "http://$HOST:$PORT/v1/config" >/dev/null 2>&1; }

announce() { echo "rest up on $HOST:$PORT warehouse $WAREHOUSE$1"; }

# The extra class path of an S3 warehouse: S3FileIO (iceberg-aws, with its runtime dependencies
# such as failsafe) and the AWS SDK it needs (iceberg-aws-bundle), the server's Iceberg version;
# assembled once with Maven like the server's own, kept in $CACHE/s3-classpath.txt.
s3_classpath() {
  local cp="$CACHE/s3-classpath.txt"
  if [[ -s "$cp" ]] && tr ':' '\n' <"$cp" | while read -r j; do [[ -f "$j" ]] || exit 1; done; then
    cat "$cp"; return 0
  fi
  need mvn "install Maven: apt-get install maven"
  mkdir -p "$CACHE/s3"
  cat >"$CACHE/s3/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>floe</groupId><artifactId>iceberg-rest-server-s3-classpath</artifactId><version>1</version><packaging>pom</packaging>
<dependencies>
<dependency><groupId>org.apache.iceberg</groupId><artifactId>iceberg-aws</artifactId><version>$ICEBERG_VERSION</version></dependency>
<dependency><groupId>org.apache.iceberg</groupId><artifactId>iceberg-aws-bundle</artifactId><version>$ICEBERG_VERSION</version></dependency>
</dependencies></project>
EOF
  say "assembling the S3FileIO class path with Maven (first run downloads ~70 MB)" >&2
  local log; log="$(mktemp)"
  if ! mvn -B -ntp -Dstyle.color=never -f "$CACHE/s3/pom.xml" dependency:build-classpath -Dmdep.outputFile="$cp.tmp" >"$log" 2>&1; then
    tail -n 30 "$log" >&2; rm -f "$log"; die "mvn dependency:build-classpath (S3) failed"
  fi
  rm -f "$log"
  mv "$cp.tmp" "$cp"
  cat "$cp"
}

cmd_up() {
  lock_data_dir 0
  local pid t0; t0="$(date +%s%N)"
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    local deadline=$((SECONDS + START_TIMEOUT))
    until healthy; do
      kill -0 "$pid" 2>/dev/null || die "server pid $pid died while starting; see $LOG"
      (( SECONDS < deadline )) || die "server pid $pid not answering on $HOST:$PORT"
      sleep 0.3
    done
    announce " (already running, pid $pid)"; return 0
  fi
  port_open "$PORT" && die "port $PORT is taken by another process; stop it or set FLOE_REST_PORT"
  local cp; cp="$(classpath)"
  # HadoopFileIO on the raw local file system: no .crc side files next to metadata files
  # (a core-site.xml first on the class path is what Hadoop's Configuration reads).
  mkdir -p "$CACHE/conf"
  cat >"$CACHE/conf/core-site.xml" <<'XML'
<?xml version="1.0"?>
<configuration>
  <property><name>fs.file.impl</name><value>org.apache.hadoop.fs.RawLocalFileSystem</value></property>
</configuration>
XML
  cp="$CACHE/conf:$cp"
  local s3_env=()
  if [[ "$WAREHOUSE" == s3://* ]]; then
    [[ -n "${FLOE_REST_S3_ENDPOINT:-}" ]] || die "FLOE_REST_WAREHOUSE=$WAREHOUSE needs FLOE_REST_S3_ENDPOINT"
    cp="$cp:$(s3_classpath)"
    # catalog properties io-impl, s3.endpoint, s3.path-style-access, s3.access-key-id,
    # s3.secret-access-key, client.region (see the CATALOG_ naming rule below).
    s3_env=(
      CATALOG_IO__IMPL=org.apache.iceberg.aws.s3.S3FileIO
      CATALOG_S3_ENDPOINT="$FLOE_REST_S3_ENDPOINT"
      CATALOG_S3_PATH__STYLE__ACCESS=true
      CATALOG_S3_ACCESS__KEY__ID="${FLOE_REST_S3_ACCESS_KEY:-}"
      CATALOG_S3_SECRET__ACCESS__KEY="${FLOE_REST_S3_SECRET_KEY:-}"
      CATALOG_CLIENT_REGION="${FLOE_REST_S3_REGION:-us-east-1}"
    )
  else
    mkdir -p "$WAREHOUSE_DIR"
  fi
  # Env names the server reads: CATALOG_<KEY> becomes catalog property <key> ('__' -> '-',
  # '_' -> '.'), so CATALOG_REST_PORT is rest.port and CATALOG_JDBC_USER is jdbc.user.
  # One pooled JDBC connection (clients=1) serialises the server's SQLite access: concurrent
  # commits queue in the server instead of failing with SQLITE_BUSY. jdbc.strict-mode: a table
  # can only be created or registered in a namespace that exists.
  CATALOG_URI="jdbc:sqlite:$DATA_HOME/catalog.db?journal_mode=WAL&busy_timeout=30000" \
  CATALOG_JDBC_USER=floe CATALOG_JDBC_PASSWORD=floe CATALOG_CLIENTS=1 CATALOG_JDBC_STRICT__MODE=true \
  env "${s3_env[@]}" CATALOG_WAREHOUSE="$WAREHOUSE" CATALOG_REST_PORT="$PORT" \
    nohup java -Xmx512m -Dfloe.rest.dir="$DATA_HOME" -cp "$cp" org.apache.iceberg.rest.RESTCatalogServer >"$LOG" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"
  await_started "$pid" healthy "$t0"
  announce ""
}

cmd_down() {
  lock_data_dir 0
  local pid; pid="$(running_pid)"
  if [[ -n "$pid" ]]; then stop_pid "$pid"; say "stopped (pid $pid)"; else say "not running"; fi
  rm -f "$PID_FILE"
  if [[ "${1:-}" == "--wipe" ]]; then rm -rf "$DATA_HOME"; say "wiped $DATA_HOME"; fi
}

cmd_status() {
  local pid; pid="$(running_pid)"
  if [[ -n "$pid" ]] && healthy; then echo "rest up on $HOST:$PORT (pid $pid)"; exit 0; fi
  echo "rest down"; exit 1
}

case "${1:-}" in
  up) cmd_up ;;
  down) shift; cmd_down "$@" ;;
  status) cmd_status ;;
  *) die "usage: rest.sh up | down [--wipe] | status" ;;
esac
