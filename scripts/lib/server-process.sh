# Shared by the scripts that start local test servers (kafka, trino, rest, s3): the
# process-handling pieces of a server started in the background. The sourcing script defines
# say, die, STOP_TIMEOUT, START_TIMEOUT, HOST, DATA_HOME and LOG, and its own readiness probe.

show_tail() { [[ -s "$1" ]] && { printf '  | %s\n' "--- last lines of $1" >&2; tail -n "${2:-15}" "$1" | sed 's/^/  | /' >&2; }; return 0; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH ($2)"; }
port_open() { timeout 3 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

# One script at a time per data folder; $1 = extra seconds to wait for another one.
lock_data_dir() {
  mkdir -p "$DATA_HOME"
  exec 9>"$DATA_HOME/.lock"
  flock -w "$((START_TIMEOUT + STOP_TIMEOUT + $1))" 9 || die "timed out waiting for another $(basename "$0") on $DATA_HOME"
}

# SIGTERM, then SIGKILL after STOP_TIMEOUT seconds; sets KILLED=1 when it had to.
stop_pid() {
  local pid="$1" waited=0
  KILLED=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null; do
    if (( waited >= STOP_TIMEOUT * 10 )); then
      say "pid $pid still running after ${STOP_TIMEOUT}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      KILLED=1
      sleep 0.2
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# Waits until the probe (function name $2) answers for the server just started as pid $1 (at
# $3, date +%s%N); dies with the tail of $LOG when it exits or stays silent for START_TIMEOUT.
await_started() {
  local pid="$1" probe="$2" t0="$3" deadline=$((SECONDS + START_TIMEOUT))
  until "$probe"; do
    if ! kill -0 "$pid" 2>/dev/null; then show_tail "$LOG"; die "server exited while starting (log $LOG)"; fi
    if (( SECONDS >= deadline )); then show_tail "$LOG"; stop_pid "$pid"; die "server not answering after ${START_TIMEOUT}s"; fi
    sleep 0.3
  done
  say "ready after $(( ($(date +%s%N) - t0) / 1000000 )) ms (pid $pid, data $DATA_HOME)"
}
