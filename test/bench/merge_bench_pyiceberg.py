"""Benchmark helper (not a test): the pyiceberg side and the checks of test/bench/merge-bench.ts.

  .venv/bin/python test/bench/merge_bench_pyiceberg.py prepare --catalog-db DB --warehouse DIR \
      --catalog-name floe --table bench.base --changes changes.ndjson --out changes.parquet
  .venv/bin/python test/bench/merge_bench_pyiceberg.py upsert  ... --table bench.pyiceberg --changes changes.parquet
  .venv/bin/python test/bench/merge_bench_pyiceberg.py verify  ... --table bench.X --changes changes.parquet \
      --sample sample.json --expect-rows N

prepare  turns the bench's NDJSON change batch into Parquet with the table's own Arrow schema
         (what pyiceberg's upsert and Spark's MERGE read), so every engine merges the same rows.
upsert   times `Table.upsert(changes, join_cols=['id'])` alone: the catalog, the table and the
         change batch are loaded before the clock starts (as floe's side parses its batch first).
verify   reads the table back (pyiceberg applies position deletes): row count, distinct keys,
         the sampled keys' full rows against the change batch, and how many live data files
         carry deletes. A wrong-but-fast run fails here.
Each command prints one JSON line on stdout; logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from typing import Any

sys.dont_write_bytecode = True  # no __pycache__ in the repo


def log(msg: str) -> None:
    print(f"[merge_bench_pyiceberg] {msg}", file=sys.stderr, flush=True)


def open_table(args: argparse.Namespace) -> Any:
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog(
        args.catalog_name,
        uri=f"sqlite:///{os.path.abspath(args.catalog_db)}",
        warehouse=f"file://{os.path.abspath(args.warehouse)}",
    )
    return catalog.load_table(args.table)


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    schema = open_table(args).schema().as_arrow()
    # Timestamps arrive as ISO strings with 6 fractional digits: read them as strings and cast,
    # which keeps the microseconds exact.
    read_schema = pa.schema([pa.field(f.name, pa.string() if pa.types.is_timestamp(f.type) else f.type) for f in schema])
    raw = pj.read_json(args.changes, parse_options=pj.ParseOptions(explicit_schema=read_schema))
    cols = []
    for f in schema:
        cols.append(raw.column(f.name).cast(f.type))
    table = pa.Table.from_arrays(cols, schema=schema)
    pq.write_table(table, args.out, compression="zstd")
    return {"rows": table.num_rows, "out": args.out}


def upsert(args: argparse.Namespace) -> dict[str, Any]:
    import pyarrow.parquet as pq
    import pyiceberg

    from pyiceberg.table import upsert_util

    started = time.monotonic()
    table = open_table(args)
    base_snapshot = table.current_snapshot().snapshot_id
    changes = pq.read_table(args.changes)
    load_seconds = time.monotonic() - started
    log(f"pyiceberg {pyiceberg.__version__}: {changes.num_rows} changes loaded in {load_seconds:.1f}s; upsert on {args.table}")
    cpu0 = os.times()
    started = time.monotonic()
    result = table.upsert(changes, join_cols=["id"])
    seconds = time.monotonic() - started
    cpu1 = os.times()
    log(f"upsert took {seconds:.2f}s: {result}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    # After the clock: the files the upsert's match scan plans on the base snapshot.
    match = upsert_util.create_match_filter(changes, ["id"])
    match_scan_files = len(list(table.scan(row_filter=match, snapshot_id=base_snapshot).plan_files()))
    return {
        "seconds": seconds,
        "load_seconds": load_seconds,
        "cpu_seconds": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
        "rows_updated": result.rows_updated,
        "rows_inserted": result.rows_inserted,
        "pyiceberg_version": pyiceberg.__version__,
        "match_scan_files": match_scan_files,
        # ru_maxrss is in KiB on Linux.
        "peak_rss_bytes": peak,
    }


def canonical(value: Any) -> Any:
    """Comparable form of a cell: floats by repr (the merge must keep them bit-exact)."""
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def verify(args: argparse.Namespace) -> dict[str, Any]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from pyiceberg.expressions import In

    started = time.monotonic()
    table = open_table(args)
    ids = table.scan(selected_fields=("id",)).to_arrow().column("id")
    rows = len(ids)
    distinct = pc.count_distinct(ids).as_py()
    problems: list[str] = []
    if rows != args.expect_rows:
        problems.append(f"{rows} rows, expected {args.expect_rows}")
    if distinct != rows:
        problems.append(f"{rows - distinct} duplicate key(s)")

    with open(args.sample, encoding="utf-8") as f:
        sample = [int(x) for x in json.load(f)]
    changes = pq.read_table(args.changes)
    expected = {r["id"]: r for r in changes.filter(pc.is_in(changes.column("id"), value_set=pa_array(sample))).to_pylist()}
    got: dict[int, list[dict[str, Any]]] = {}
    for r in table.scan(row_filter=In("id", sample)).to_arrow().to_pylist():
        got.setdefault(r["id"], []).append(r)
    wrong = 0
    for key in sample:
        want = expected.get(key)
        have = got.get(key, [])
        ok = want is not None and len(have) == 1 and all(canonical(have[0][c]) == canonical(want[c]) for c in want)
        if not ok:
            wrong += 1
            if wrong <= 3:
                problems.append(f"key {key}: table has {have!r}, change batch has {want!r}")
    if wrong > 3:
        problems.append(f"... {wrong} of {len(sample)} sampled keys wrong in all")

    tasks = list(table.scan().plan_files())
    with_deletes = sum(1 for t in tasks if t.delete_files)
    delete_files = len({d.file_path for t in tasks for d in t.delete_files})
    return {
        "rows": rows,
        "distinct": distinct,
        "sampled": len(sample),
        "sample_wrong": wrong,
        "live_data_files": len(tasks),
        "data_files_with_deletes": with_deletes,
        "live_delete_files": delete_files,
        "problems": problems,
        "seconds": time.monotonic() - started,
    }


def pa_array(values: list[int]) -> Any:
    import pyarrow as pa

    return pa.array(values, type=pa.int64())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=["prepare", "upsert", "verify"])
    p.add_argument("--catalog-db", required=True)
    p.add_argument("--warehouse", required=True)
    p.add_argument("--catalog-name", required=True)
    p.add_argument("--table", required=True, help="NS.T")
    p.add_argument("--changes", required=True, help="NDJSON for prepare, Parquet otherwise")
    p.add_argument("--out", help="prepare: the Parquet file to write")
    p.add_argument("--sample", help="verify: JSON array of updated keys to check")
    p.add_argument("--expect-rows", type=int, help="verify: base rows + new keys")
    args = p.parse_args()
    out = {"prepare": prepare, "upsert": upsert, "verify": verify}[args.command](args)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
