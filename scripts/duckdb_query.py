"""Runs one SQL query in DuckDB with the iceberg extension and prints the result as a table.

Used by `floe demo` and by people checking a table by hand:
    .venv/bin/python scripts/duckdb_query.py "SELECT count(*) FROM iceberg_scan('file:///…/00003-….metadata.json')"
The avro and iceberg extensions are loaded from the duckdb-extension-* wheels installed by
scripts/setup-readers.sh: this machine cannot download extensions at run time.
"""

from __future__ import annotations

import importlib.util
import os
import sys

sys.dont_write_bytecode = True  # imported by test/interop/readers: no __pycache__ in the repo

import duckdb


def extension_path(name: str) -> str:
    """The .duckdb_extension file shipped in the duckdb-extension-<name> wheel."""
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or spec.origin is None:
        raise RuntimeError(f"python package duckdb-extension-{name} is not installed (run scripts/setup-readers.sh --duckdb)")
    path = os.path.join(os.path.dirname(spec.origin), "extensions", f"v{duckdb.__version__}", f"{name}.duckdb_extension")
    if not os.path.isfile(path):
        raise RuntimeError(f"{path} missing: duckdb {duckdb.__version__} does not match the extension package")
    return path


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"})
    # iceberg needs avro loaded first, or it tries to download it.
    for name in ("avro", "iceberg"):
        con.execute(f"LOAD '{extension_path(name)}'")
    con.execute("SET TimeZone = 'UTC'")
    return con


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: duckdb_query.py SQL")
    try:
        con = connect()
    except RuntimeError as e:
        raise SystemExit(str(e))
    rel = con.sql(sys.argv[1])
    cols = rel.columns
    rows = [[("NULL" if v is None else str(v)) for v in row] for row in rel.fetchall()]
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip())
    for r in rows:
        print("  ".join(v.rjust(w) if v.replace(".", "", 1).isdigit() else v.ljust(w) for v, w in zip(r, widths)).rstrip())


if __name__ == "__main__":
    main()
