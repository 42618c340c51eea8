#!/usr/bin/env bash
# The whole test suite, set-up included (what `npm test` and .ci/run run): installs npm
# packages and the interop readers when missing, type-checks, then runs every test file with
# node's test runner. Under CI=true a test whose reader or service is missing fails.
#
#   bash scripts/test.sh                everything (npm test, .ci/run)
#   bash scripts/test.sh --unit         unit tests only: no Python, Java, Kafka or Trino (npm run test:unit)
#   bash scripts/test.sh --integration  set-up + test/integration (npm run test:integration)
#   bash scripts/test.sh --interop      set-up + test/interop: every reader (npm run test:interop)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SUITE=all
case "${1:-}" in
  '') ;;
  --unit) SUITE=unit ;;
  --integration) SUITE=integration ;;
  --interop) SUITE=interop ;;
  *) echo "usage: scripts/test.sh [--unit | --integration | --interop]" >&2; exit 2 ;;
esac
UNIT_ONLY=0
[[ $SUITE == unit ]] && UNIT_ONLY=1

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[test] npm ci"
  npm ci --no-audit --no-fund
fi
if [[ $UNIT_ONLY == 0 ]]; then
  # SeaweedFS (the S3 tests' server) builds from source on a fresh machine (~10 min): start it now,
  # beside the reader set-up and the first test files; `s3.sh up` waits for it (or reports its log).
  mkdir -p "$HOME/.cache/floe"
  bash scripts/s3.sh build >"$HOME/.cache/floe/s3-build-bg.log" 2>&1 &
  echo "[test] interop readers (pyiceberg, DuckDB, Spark; Trino is installed by the first test that needs it)"
  bash scripts/setup-readers.sh
fi
echo "[test] type check"
npx tsc --noEmit -p tsconfig.json
echo "[test] lint (Biome, biome.jsonc)"
npx biome lint --error-on-warnings

shopt -s globstar nullglob
case $SUITE in
  unit) files=(test/unit/**/*.test.ts) ;;
  integration) files=(test/integration/**/*.test.ts) ;;
  interop) files=(test/interop/**/*.test.ts) ;;
  *) files=(test/unit/**/*.test.ts test/integration/**/*.test.ts test/interop/**/*.test.ts) ;;
esac
echo "[test] ${#files[@]} test files"
status=0
# Unit test files share nothing (no server, no fixed port): run three at a time (most of a file's
# time is the process start-up). The other suites share servers and run one file at a time.
concurrency=1
[[ $SUITE == unit ]] && concurrency=3
node --import tsx --test --test-concurrency=$concurrency --test-reporter=spec --test-timeout=1800000 "${files[@]}" || status=$?
# On CI the Kafka broker, the Trino server, the PostgreSQL cluster, the REST catalog server and
# the S3 server the tests started must not outlive the run; locally they stay up so the next run
# starts fast (npm run kafka:down / trino:down / pg:down / rest:down / s3:down).
if [[ "${CI:-}" == "true" ]]; then
  bash scripts/kafka.sh down >/dev/null 2>&1 || true
  bash scripts/trino.sh down >/dev/null 2>&1 || true
  bash scripts/pg.sh down >/dev/null 2>&1 || true
  bash scripts/rest.sh down >/dev/null 2>&1 || true
  bash scripts/s3.sh down >/dev/null 2>&1 || true
fi
exit $status
