"""The Python peers of floe's append in test/bench/peers-bench.ts (a benchmark, not a test).

One mode per process, so each gets its own peak RSS:

  python append_peers.py --mode dicts  --records N --catalog-db DB --warehouse URI --table bench.py_dicts
  python append_peers.py --mode arrow  --records N --catalog-db DB --warehouse URI --table bench.py_arrow
  python append_peers.py --mode duckdb --records N --out DIR/duckdb.parquet
  python append_peers.py --mode check  --records N --check-files F1,F2,...

  dicts   pyiceberg `table.append` from a list of Python dicts: building the Arrow table from
          the dicts (`pa.Table.from_pylist`) is inside the timing, as floe's records → Arrow is;
  arrow   pyiceberg `table.append` of a ready Arrow table (built before the timing);
  duckdb  DuckDB `COPY … TO 'x.parquet' (FORMAT parquet, COMPRESSION zstd)` of the ready Arrow
          table: one Parquet file, no table, no commit (DuckDB's own thread count);
  check   floe's data files (Parquet) hold exactly these rows, value for value.

The rows are those of test/bench/event-records.ts (same formula, no RNG): event_id = offset + i,
user_id = i * 7919 % 100000, ts = 2026-11-01T00:00Z + (offset + i) * 37 ms, event_type =
TYPES[i % 5], page = None every 10th row else /products/{i % 5000}, value = (i % 1000) / 7,
count = i % 100, flag = i % 3 == 0. Timestamps are Python datetimes (UTC) in the dicts: what a
Python caller holds, and what pyarrow accepts for a timestamptz column.

Prints exactly one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Any

sys.dont_write_bytecode = True  # no __pycache__ in the repo

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

TYPES = ["click", "view", "purchase", "signup", "scroll"]
BASE = datetime(2026, 11, 1, tzinfo=timezone.utc)
NAMES = ["event_id", "user_id", "ts", "event_type", "page", "value", "count", "flag"]


def columns(n: int, offset: int) -> dict[str, list[Any]]:
    r = range(n)
    return {
        "event_id": [offset + i for i in r],
        "user_id": [(i * 7919) % 100_000 for i in r],
        "ts": [BASE + timedelta(milliseconds=(offset + i) * 37) for i in r],
        "event_type": [TYPES[i % 5] for i in r],
        "page": [None if i % 10 == 0 else f"/products/{i % 5000}" for i in r],
        "value": [(i % 1000) / 7 for i in r],
        "count": [i % 100 for i in r],
        "flag": [i % 3 == 0 for i in r],
    }


def dicts(cols: dict[str, list[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(NAMES, row)) for row in zip(*(cols[k] for k in NAMES))]


def default_schema() -> pa.Schema:
    """The Arrow form of EVENTS_SCHEMA_JSON (what pyiceberg's as_arrow() gives, minus field ids)."""
    return pa.schema([
        pa.field("event_id", pa.int64(), nullable=False),
        pa.field("user_id", pa.int64(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("event_type", pa.large_string(), nullable=False),
        pa.field("page", pa.large_string()),
        pa.field("value", pa.float64()),
        pa.field("count", pa.int32()),
        pa.field("flag", pa.bool_()),
    ])


def arrow_table(cols: dict[str, list[Any]], schema: pa.Schema) -> pa.Table:
    return pa.table([pa.array(cols[f.name], type=f.type) for f in schema], schema=schema)


def catalog_table(args: argparse.Namespace) -> Any:
    from pyiceberg.catalog.sql import SqlCatalog

    # The catalog_name floe writes ('floe'): both see the same iceberg_tables rows.
    catalog = SqlCatalog("floe", uri=f"sqlite:///{args.catalog_db}", warehouse=args.warehouse)
    return catalog.load_table(args.table)


def versions() -> dict[str, str]:
    out = {"pyarrow": pa.__version__, "python": sys.version.split()[0]}
    for mod in ("pyiceberg", "duckdb"):
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:
            pass
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mode", required=True, choices=["dicts", "arrow", "duckdb", "check"])
    p.add_argument("--records", type=int, required=True)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--catalog-db")
    p.add_argument("--warehouse")
    p.add_argument("--table")
    p.add_argument("--out")
    p.add_argument("--check-files", default="")
    args = p.parse_args()

    n = args.records
    cols = columns(n, args.offset)
    result: dict[str, Any] = {"mode": args.mode, "records": n, "versions": versions()}

    if args.mode in ("dicts", "arrow"):
        table = catalog_table(args)
        schema = table.schema().as_arrow()
        if args.mode == "dicts":
            rows = dicts(cols)
            del cols
            cpu0, t0 = time.process_time(), time.perf_counter()
            data = pa.Table.from_pylist(rows, schema=schema)
            t1 = time.perf_counter()
            table.append(data)
            t2 = time.perf_counter()
            result["fromPylistSeconds"] = t1 - t0
        else:
            data = arrow_table(cols, schema)
            del cols
            cpu0, t0 = time.process_time(), time.perf_counter()
            table.append(data)
            t2 = time.perf_counter()
        result["seconds"] = t2 - t0
        result["cpuSeconds"] = time.process_time() - cpu0
        table = table.refresh()
        summary = table.current_snapshot().summary
        result["dataFiles"] = int(summary["added-data-files"])
        result["fileBytes"] = int(summary["added-files-size"])
        result["totalRecords"] = int(summary["total-records"])
        result["codec"] = table.properties.get("write.parquet.compression-codec", "pyiceberg default")
    elif args.mode == "duckdb":
        import duckdb

        data = arrow_table(cols, default_schema())
        del cols
        con = duckdb.connect()
        con.register("events", data)
        out = args.out.replace("'", "''")
        cpu0, t0 = time.process_time(), time.perf_counter()
        con.execute(f"COPY events TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
        result["seconds"] = time.perf_counter() - t0
        result["cpuSeconds"] = time.process_time() - cpu0
        result["threads"] = con.execute("SELECT current_setting('threads')").fetchone()[0]
        result["fileBytes"] = os.path.getsize(args.out)
        result["totalRecords"] = pq.ParquetFile(args.out).metadata.num_rows
    else:
        expected = arrow_table(cols, default_schema())
        # The dicts path builds the same values: check it too, so all four sides write one data set.
        from_dicts = pa.Table.from_pylist(dicts(cols), schema=default_schema())
        if not from_dicts.equals(expected):
            raise SystemExit("append_peers: the dicts and the Arrow table differ (generator bug)")
        files = [f for f in args.check_files.split(",") if f]
        got = pa.concat_tables([pq.read_table(f) for f in files], promote_options="permissive")
        got = got.sort_by("event_id")
        mismatched = []
        for field in expected.schema:
            a = got.column(field.name).cast(field.type).combine_chunks()
            if not a.equals(expected.column(field.name).combine_chunks()):
                mismatched.append(field.name)
        result["files"] = len(files)
        result["rows"] = got.num_rows
        result["mismatchedColumns"] = mismatched
        result["same"] = got.num_rows == n and not mismatched

    if "seconds" in result:
        result["rowsPerSecond"] = n / result["seconds"]
    result["peakRssBytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
