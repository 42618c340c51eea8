#!/usr/bin/env bash
# A local S3 server for floe's S3 FileIO tests: SeaweedFS (`weed mini`: master, volume server,
# filer and S3 gateway in one process) built from its Go module, listening on
# 127.0.0.1 only, with ONE access key so every request is SigV4-authenticated (a wrong
# secret gets 403). `up` also creates the bucket `floe`.
#
#   bash scripts/s3.sh up               start (idempotent; builds weed on first use), wait until it takes writes
#   bash scripts/s3.sh down [--wipe]    stop (SIGTERM, SIGKILL after a timeout); --wipe deletes the data dir
#   bash scripts/s3.sh status           exit 0 when up and answering
#   bash scripts/s3.sh build            build (or wait for another build of) the cached binary only
#
#   FLOE_S3_PORT           S3 port on 127.0.0.1 (default 18333). The other ports derive from it:
#                          master PORT-3, volume PORT-2, filer PORT-1, admin PORT+1; gRPC each +10000
#   FLOE_S3_DIR            data dir: volumes, filer store, s3.json, pid, log (default ~/.cache/floe/s3-data)
#   FLOE_S3_ACCESS_KEY     the one access key                 (default floe-test-key)
#   FLOE_S3_SECRET_KEY     its secret                         (default floe-test-secret)
#   FLOE_S3_START_TIMEOUT  seconds `up` waits for the server  (default 60)
#   FLOE_S3_STOP_TIMEOUT   seconds `down` waits before SIGKILL (default 10; `weed mini` stops in ~3 s)
#
# `up` prints as its last line:
#   s3 up on http://127.0.0.1:<port> access-key <k> secret-key <s> region us-east-1
#
# The binary is built once (`go install …@version` is refused: the module has a replace
# directive) from the module's source: `go mod download`, copy, `go build ./weed`, cached at
# ~/.cache/floe/seaweedfs-<version>/weed. The first build takes about 10 minutes on 2 cores.
set -euo pipefail

SEAWEEDFS_VERSION=v0.0.0-20261109003541-7506e5f91cd6
REGION=us-east-1

HOST=127.0.0.1
PORT="${FLOE_S3_PORT:-18333}"
MASTER_PORT=$((PORT - 3))
VOLUME_PORT=$((PORT - 2))
FILER_PORT=$((PORT - 1))
ADMIN_PORT=$((PORT + 1))
DATA_HOME="${FLOE_S3_DIR:-$HOME/.cache/floe/s3-data}"
ACCESS_KEY="${FLOE_S3_ACCESS_KEY:-floe-test-key}"
SECRET_KEY="${FLOE_S3_SECRET_KEY:-floe-test-secret}"
START_TIMEOUT="${FLOE_S3_START_TIMEOUT:-60}"
STOP_TIMEOUT="${FLOE_S3_STOP_TIMEOUT:-10}"
BUILD_TIMEOUT=3600
CACHE="$HOME/.cache/floe/seaweedfs-$SEAWEEDFS_VERSION"
WEED="$CACHE/weed"
PID_FILE="$DATA_HOME/weed.pid"
LOG="$DATA_HOME/weed.log"
DEFAULT_BUCKET=floe
KILLED=0

say() { printf '[s3] %s\n' "$*"; }
die() { printf 's3.sh: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/server-process.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server-process.sh"

# A `go build -o $CACHE/weed.tmp` running outside this script (started by hand with the same
# recipe) must not be doubled: wait for it.
foreign_build_pid() {
  local p
  for p in /proc/[0-9]*; do
    tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "-o $CACHE/weed.tmp" && { basename "$p"; return 0; }
  done
  return 0
}

ensure_weed() {
  [[ -x "$WEED" ]] && return 0
  mkdir -p "$CACHE"
  # One build at a time (fd 8: fd 9 is the data-dir lock).
  exec 8>"$CACHE.lock"
  flock -w "$BUILD_TIMEOUT" 8 || die "timed out waiting for another SeaweedFS build ($CACHE.lock)"
  local other
  other="$(foreign_build_pid)"
  if [[ -n "$other" ]]; then
    say "another process (pid $other) is building $WEED: waiting for it"
    while kill -0 "$other" 2>/dev/null; do sleep 2; done
  fi
  if [[ -x "$WEED" ]]; then exec 8>&-; return 0; fi
  need go "install Go >= 1.26.6, the version SeaweedFS's go.mod asks for (https://go.dev/dl/)"
  say "building SeaweedFS $SEAWEEDFS_VERSION from its Go module (first build takes ~10 minutes; log $CACHE/build.log)" >&2
  local t0=$SECONDS dir
  {
    dir="$(go mod download -json "github.com/seaweedfs/seaweedfs@$SEAWEEDFS_VERSION" |
      node -e 'let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => console.log(JSON.parse(s).Dir));')" &&
      [[ -d "$dir" ]] &&
      rm -rf "$CACHE/src" && cp -r "$dir" "$CACHE/src" && chmod -R u+w "$CACHE/src" &&
      (cd "$CACHE/src" && go build -o "$CACHE/weed.tmp" ./weed) &&
      mv "$CACHE/weed.tmp" "$WEED"
  } >"$CACHE/build.log" 2>&1 || { show_tail "$CACHE/build.log" 30; die "SeaweedFS build failed (log $CACHE/build.log)"; }
  say "built $WEED in $((SECONDS - t0)) s" >&2
  exec 8>&-
}

running_pid() {
  [[ -s "$PID_FILE" ]] || return 0
  local pid; pid="$(<"$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 0
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-dir=$DATA_HOME/data"; then echo "$pid"; fi
}

# A SigV4-signed request with the configured key (curl >= 7.75); prints the HTTP status
# (000 when there was no answer within $3 seconds).
s3_request() {
  local method="$1" path="$2" max="${3:-5}"
  curl -s -o /dev/null -w '%{http_code}' -m "$max" -X "$method" \
    --aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "http://$HOST:$PORT$path" 2>/dev/null || true
}

# Answering = a signed ListBuckets returns 200.
healthy() { [[ "$(s3_request GET /)" == 200 ]]; }

# Ready = the whole write path works: the gateway answers before its master connection is up
# (raft election), and until then a bucket or object write hangs. So: create the default bucket
# (409 = it exists) and write and delete a probe object in it.
ready() {
  local code
  healthy || return 1
  code="$(s3_request PUT "/$DEFAULT_BUCKET" 10)"
  [[ "$code" == 200 || "$code" == 409 ]] || return 1
  [[ "$(s3_request PUT "/$DEFAULT_BUCKET/.floe-s3-ready" 10)" == 200 ]] || return 1
  [[ "$(s3_request DELETE "/$DEFAULT_BUCKET/.floe-s3-ready" 10)" == 204 ]]
}

announce() {
  echo "s3 up on http://$HOST:$PORT access-key $ACCESS_KEY secret-key $SECRET_KEY region $REGION$1"
}

write_identities() {
  # Exactly one identity; no `anonymous` one, so unsigned requests are refused too.
  jq -n --arg k "$ACCESS_KEY" --arg s "$SECRET_KEY" '{identities: [{
    name: "floe", credentials: [{accessKey: $k, secretKey: $s}],
    actions: ["Admin", "Read", "List", "Tagging", "Write"]}]}' >"$DATA_HOME/s3.json"
}

cmd_up() {
  need jq "apt-get install jq"
  need curl "apt-get install curl"
  ensure_weed
  lock_data_dir 0
  local pid t0; t0="$(date +%s%N)"
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    local deadline=$((SECONDS + START_TIMEOUT))
    until ready; do
      kill -0 "$pid" 2>/dev/null || die "server pid $pid died while starting; see $LOG"
      (( SECONDS < deadline )) || die "server pid $pid not answering on $HOST:$PORT (is FLOE_S3_SECRET_KEY the one it started with?)"
      sleep 0.3
    done
    announce " (already running, pid $pid)"; return 0
  fi
  local p
  for p in "$MASTER_PORT" "$VOLUME_PORT" "$FILER_PORT" "$PORT" "$ADMIN_PORT"; do
    port_open "$p" && die "port $p is taken by another process; stop it or set FLOE_S3_PORT (uses PORT-3..PORT+1 and each +10000)"
    port_open $((p + 10000)) && die "port $((p + 10000)) is taken by another process; stop it or set FLOE_S3_PORT (uses PORT-3..PORT+1 and each +10000)"
  done
  mkdir -p "$DATA_HOME/data"
  write_identities
  # `weed mini` (master, volume server, filer, S3 gateway and an admin server in one process)
  # rather than `weed server -s3`: it takes writes after ~5 s instead of ~12 s, and stops on
  # SIGTERM in ~3 s, where `weed server` stops its volume server before the filer flushes its
  # metadata log and then never exits (SIGKILL after the timeout). Mini also grows one volume
  # per collection at a time, so many test buckets (one collection each) fit in its slots.
  # Loopback only (-ip, -ip.bind); no WebDAV, admin UI, Iceberg/Lance side servers, telemetry.
  # -s3.autoCreateBucket=false: a PUT into a missing bucket is NoSuchBucket, as on AWS.
  # -volume.max=256: volume slots fixed, not "free disk ÷ volume size" (with a few GB free the
  # auto value left too few slots for the suite's buckets: "no free volumes left"). Volumes
  # are not preallocated, so slots cost no disk until written.
  # `exec` in the subshell: $! is weed itself, and no shell holding the data-dir lock (fd 9) waits on it.
  (cd "$DATA_HOME" && exec nohup "$WEED" -logtostderr=true mini \
      -ip="$HOST" -ip.bind="$HOST" -dir="$DATA_HOME/data" \
      -master.port="$MASTER_PORT" -master.port.grpc=$((MASTER_PORT + 10000)) -master.telemetry=false \
      -volume.port="$VOLUME_PORT" -volume.port.grpc=$((VOLUME_PORT + 10000)) -volume.max=256 \
      -filer.port="$FILER_PORT" -filer.port.grpc=$((FILER_PORT + 10000)) \
      -s3.port="$PORT" -s3.port.grpc=$((PORT + 10000)) -s3.port.iceberg=0 -s3.port.lance=0 \
      -s3.config="$DATA_HOME/s3.json" -s3.autoCreateBucket=false -bucket="$DEFAULT_BUCKET" \
      -admin.ui=false -admin.port="$ADMIN_PORT" -admin.port.grpc=$((ADMIN_PORT + 10000)) -admin.port.legacy=0 \
      -webdav=false \
  ) >"$LOG" 2>&1 </dev/null 9>&- 8>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"
  await_started "$pid" ready "$t0"
  announce ""
}

cmd_down() {
  lock_data_dir 0
  local pid; pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    local t0; t0="$(date +%s%N)"
    stop_pid "$pid"
    say "stopped (pid $pid) after $(( ($(date +%s%N) - t0) / 1000000 )) ms$([[ $KILLED == 1 ]] && echo ' (SIGKILL)')"
  else
    say "not running"
  fi
  rm -f "$PID_FILE"
  if [[ "${1:-}" == "--wipe" ]]; then rm -rf "$DATA_HOME"; say "wiped $DATA_HOME"; fi
}

cmd_status() {
  local pid; pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    local code; code="$(s3_request GET /)"
    [[ "$code" == 200 ]] && { echo "s3 up on http://$HOST:$PORT (pid $pid)"; exit 0; }
    [[ "$code" == 403 ]] && { echo "s3 running (pid $pid) but it refuses this key: started with another FLOE_S3_ACCESS_KEY / FLOE_S3_SECRET_KEY?"; exit 1; }
    echo "s3 running (pid $pid) but not answering (HTTP $code)"; exit 1
  fi
  echo "s3 down"; exit 1
}

case "${1:-}" in
  up) cmd_up ;;
  build) ensure_weed; say "weed ready: $WEED" ;;
  down) shift; cmd_down "$@" ;;
  status) cmd_status ;;
  *) die "usage: s3.sh up | down [--wipe] | status | build" ;;
esac
