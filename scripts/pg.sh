#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for floe's PostgreSQL catalog (dev and tests): Debian's
# PostgreSQL binaries, a fresh cluster in a temp folder, its own port on 127.0.0.1, trust
# authentication on loopback only, and a database `floe`.
#
#   bash scripts/pg.sh up       start (initdb on first start); idempotent; prints the catalog URI
#   bash scripts/pg.sh down     stop (fast, then immediate) and delete the cluster folder
#   bash scripts/pg.sh status   exit 0 when up and accepting connections; prints the URI
#
#   FLOE_PG_PORT   port on 127.0.0.1                  (default 15432)
#   FLOE_PG_DIR    cluster folder (deleted by `down`) (default /tmp/floe-pg-<port>)
#
# initdb refuses to run as root: as root the cluster belongs to the `postgres` user (created
# by the Debian package). Missing binaries are installed with apt-get when running as root.
set -euo pipefail

HOST=127.0.0.1
PORT="${FLOE_PG_PORT:-15432}"
PG_DIR="${FLOE_PG_DIR:-/tmp/floe-pg-$PORT}"
DATA="$PG_DIR/data"
LOG="$PG_DIR/postgres.log"
DB=floe
USER_NAME=postgres
URI="postgresql://$USER_NAME@$HOST:$PORT/$DB"

say() { printf '[pg] %s\n' "$*"; }
die() { printf 'pg.sh: error: %s\n' "$*" >&2; exit 1; }

find_bin() {
  local d
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    d="$(dirname "$(readlink -f "$(command -v initdb)")")"
    [[ -x "$d/postgres" ]] && { echo "$d"; return 0; }
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]] && { echo "$d"; return 0; }
  done
  return 1
}

BIN="$(find_bin || true)"
ensure_bin() {
  [[ -n "$BIN" ]] && return 0
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing PostgreSQL (apt-get install postgresql)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1 \
      || { DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; } \
      || die "apt-get install postgresql failed"
    BIN="$(find_bin || true)"
  fi
  [[ -n "$BIN" ]] || die "PostgreSQL binaries not found (initdb, pg_ctl, postgres): apt-get install postgresql"
}

# Runs a PostgreSQL program as the cluster's owner (postgres when we are root).
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    id "$USER_NAME" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
    runuser -u "$USER_NAME" -- "$@"
  else
    "$@"
  fi
}

is_up() {
  [[ -n "$BIN" && -f "$DATA/PG_VERSION" ]] || return 1
  as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1 || return 1
  "$BIN/pg_isready" -q -h "$HOST" -p "$PORT" -d "$DB" -U "$USER_NAME" >/dev/null 2>&1
}

cmd_up() {
  ensure_bin
  mkdir -p "$(dirname "$PG_DIR")"
  # Several test processes may call `up` at once: one starts the cluster, the others wait.
  exec 9>"$PG_DIR.lock"
  flock -w 120 9 || die "timed out waiting for another 'pg.sh up'"
  if is_up; then say "postgres already up on $HOST:$PORT"; echo "postgres up: $URI"; return 0; fi
  if [[ -f "$DATA/postmaster.pid" ]]; then
    as_owner "$BIN/pg_ctl" -D "$DATA" stop -m immediate >/dev/null 2>&1 || true
  fi
  if [[ ! -f "$DATA/PG_VERSION" ]]; then
    rm -rf "$PG_DIR"
    mkdir -p "$PG_DIR"
    [[ "$(id -u)" == 0 ]] && { as_owner true; chown "$USER_NAME" "$PG_DIR"; }
    as_owner "$BIN/initdb" -D "$DATA" -U "$USER_NAME" --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
      || as_owner "$BIN/initdb" -D "$DATA" -U "$USER_NAME" --auth=trust --encoding=UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1 \
      || die "initdb failed: $(tail -3 "$PG_DIR/initdb.log" | tr '\n' ' ')"
    # Loopback only: the superuser `postgres` is trusted (a throwaway test cluster, never
    # reachable from elsewhere); other roles log in with a password, so tests can show what a
    # wrong password does.
    cat >"$DATA/pg_hba.conf" <<EOF
local all all trust
host  all $USER_NAME 127.0.0.1/32 trust
host  all $USER_NAME ::1/128 trust
host  all all 127.0.0.1/32 scram-sha-256
host  all all ::1/128 scram-sha-256
EOF
  fi
  say "starting postgres on $HOST:$PORT (cluster $DATA)"
  as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
    -o "-c listen_addresses=$HOST -p $PORT -k $PG_DIR -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null 9>&- || die "pg_ctl start failed: $(tail -5 "$LOG" 2>/dev/null | tr '\n' ' ')"
  if ! "$BIN/psql" -h "$HOST" -p "$PORT" -U "$USER_NAME" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    "$BIN/createdb" -h "$HOST" -p "$PORT" -U "$USER_NAME" "$DB" || die "createdb $DB failed"
  fi
  echo "postgres up: $URI"
}

cmd_down() {
  if [[ -n "$BIN" && -f "$DATA/PG_VERSION" ]]; then
    as_owner "$BIN/pg_ctl" -D "$DATA" stop -m fast -w -t 20 >/dev/null 2>&1 \
      || as_owner "$BIN/pg_ctl" -D "$DATA" stop -m immediate -w -t 20 >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_DIR" "$PG_DIR.lock"
  say "postgres down ($HOST:$PORT)"
}

cmd_status() {
  if is_up; then echo "postgres up: $URI"; return 0; fi
  echo "postgres down ($HOST:$PORT)"; return 1
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) die "usage: pg.sh up | down | status" ;;
esac
