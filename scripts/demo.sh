#!/usr/bin/env bash
# `npm run demo`: everything floe's demo needs on a fresh machine, then the demo itself —
# npm packages, DuckDB with its iceberg extension (from PyPI, into .venv), and
# `floe demo` on the embedded default (./warehouse folder + SQLite catalog, synthetic events),
# then `floe compact` on the table it grew.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund >&2
fi
bash scripts/setup-readers.sh --duckdb >&2
node bin/floe.js demo "$@"
# Micro-batches leave small files; the compactor merges them (readers see the same rows).
echo
echo "compacting the small files the micro-batches left:"
node bin/floe.js compact demo.events 2> >(grep -v '"level":30' >&2)
