"""Self-check of the reader harness, before floe writes anything.

1. make_pyiceberg_table.py writes a table (two appends) into a temp warehouse,
   plus a second table in a second warehouse under the same catalog name;
2. reader_server.py is started once;
3. pyiceberg, DuckDB and Spark must each return exactly the written rows, for the
   current snapshot, the first snapshot, several filters and both warehouses;
4. files_scanned is printed for a filter on ts.

Run with the venv's python:  .venv/bin/python test/interop/readers/selfcheck.py
Exits non-zero on any failure; last line is "selfcheck: N passed, M failed".
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from canonical import canonical_rows  # noqa: E402
from make_pyiceberg_table import SCHEMA, make_row  # noqa: E402

READERS = ("pyiceberg", "duckdb", "spark")
ROWS = 20
CATALOG = "floe"
TS_CUTOFF = "2024-01-03T00:00:00.000000+00:00"


class ReaderClient:
    """Minimal client for reader_server.py (the real one is TypeScript)."""

    def __init__(self, log_path: str) -> None:
        self._log = open(log_path, "w")
        self._proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "reader_server.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self._next = 0

    def call(self, req: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin and self._proc.stdout
        self._next += 1
        self._proc.stdin.write(json.dumps({"id": self._next, **req}) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("reader_server exited; see its log")
        resp = json.loads(line)
        if resp.get("id") != self._next:
            raise RuntimeError(f"response id {resp.get('id')} != request id {self._next}")
        return resp

    def close(self) -> int:
        assert self._proc.stdin
        self._proc.stdin.close()
        rc = self._proc.wait(timeout=120)
        self._log.close()
        return rc


def make_table(warehouse: str, table: str, rows: int) -> list[Any]:
    out = subprocess.run(
        [
            sys.executable,
            os.path.join(HERE, "make_pyiceberg_table.py"),
            "--warehouse", warehouse,
            "--catalog-db", os.path.join(warehouse, "catalog.db"),
            "--catalog-name", CATALOG,
            "--table", table,
            "--rows", str(rows),
        ],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)


def read_req(reader: str, warehouse: str, table: str, **extra: Any) -> dict[str, Any]:
    req: dict[str, Any] = {
        "reader": reader,
        "warehouse": warehouse,
        "catalog_db": os.path.join(warehouse, "catalog.db"),
        "catalog_name": CATALOG,
        "table": table,
        "snapshot_id": None,
        "filter": None,
        "metadata_location": None,
    }
    req.update(extra)
    return req


def expected(pred: Callable[[dict[str, Any]], bool], n: int = ROWS) -> list[Any]:
    return canonical_rows([r for r in (make_row(i) for i in range(n)) if pred(r)], SCHEMA)


def ts_before(cutoff: str) -> Callable[[dict[str, Any]], bool]:
    limit = dt.datetime.fromisoformat(cutoff)
    return lambda r: r["ts"] is not None and r["ts"] < limit


def first_snapshot_id(warehouse: str, table: str) -> str:
    from pyiceberg.catalog.sql import SqlCatalog

    cat = SqlCatalog(CATALOG, uri=f"sqlite:///{warehouse}/catalog.db", warehouse=f"file://{warehouse}")
    snaps = sorted(cat.load_table(table).snapshots(), key=lambda s: s.sequence_number)
    return str(snaps[0].snapshot_id)


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def expect(self, name: str, resp: dict[str, Any], want: Optional[list[Any]], elapsed: float) -> None:
        ok = resp.get("ok") is True and (want is None or resp.get("rows") == want)
        if ok:
            self.passed += 1
            n = len(resp.get("rows", []))
            print(f"PASS {name}: {n} rows, files_scanned={resp.get('files_scanned')} ({elapsed:.2f}s)")
            return
        self.failed += 1
        print(f"FAIL {name}: {resp.get('error') or 'rows differ'}")
        if resp.get("ok"):
            got = resp.get("rows") or []
            print(f"  want {len(want or [])} rows, got {len(got)}")
            for w, g in zip(want or [], got):
                if w != g:
                    print(f"  first difference: want {json.dumps(w)}\n                    got  {json.dumps(g)}")
                    break

    def error_line(self, name: str, resp: dict[str, Any]) -> None:
        err = resp.get("error", "")
        if resp.get("ok") is False and isinstance(err, str) and "\n" not in err and err:
            self.passed += 1
            print(f"PASS {name}: error reported as one line: {err[:160]}")
        else:
            self.failed += 1
            print(f"FAIL {name}: expected a one-line error, got {resp}")


def run(tmp: str) -> Checks:
    wh1, wh2 = os.path.join(tmp, "wh1"), os.path.join(tmp, "wh2")
    table = "ns.events"
    written = make_table(wh1, table, ROWS)
    written2 = make_table(wh2, table, 5)  # same catalog name and table name, other db
    checks = Checks()
    assert written == expected(lambda r: True), "make_pyiceberg_table output differs from make_row()"
    snap1 = first_snapshot_id(wh1, table)
    first_batch = expected(lambda r: True, ROWS // 2)
    cases: list[tuple[str, dict[str, Any], list[Any]]] = [
        ("all", {}, written),
        ("snapshot", {"snapshot_id": snap1}, first_batch),
        ("ts<", {"filter": {"column": "ts", "op": "<", "value": TS_CUTOFF}}, expected(ts_before(TS_CUTOFF))),
        ("name is_null", {"filter": {"column": "name", "op": "is_null"}}, expected(lambda r: r["name"] is None)),
        ("id==", {"filter": {"column": "id", "op": "==", "value": "-9007199254740993"}},
         expected(lambda r: r["id"] == -9007199254740993)),
        ("amount>=", {"filter": {"column": "amount", "op": ">=", "value": "0.48"}},
         expected(lambda r: r["amount"] >= decimal.Decimal("0.48"))),
        ("day<=", {"filter": {"column": "day", "op": "<=", "value": "2024-01-02"}},
         expected(lambda r: r["day"] is not None and r["day"] <= dt.date(2024, 1, 2))),
    ]
    client = ReaderClient(os.path.join(tmp, "reader_server.log"))
    try:
        checks.expect("ping", client.call({"op": "ping"}), None, 0.0)
        files: dict[str, Any] = {}
        for reader in READERS:
            for name, extra, want in cases:
                started = time.monotonic()
                resp = client.call(read_req(reader, wh1, table, **extra))
                checks.expect(f"{reader} {name}", resp, want, time.monotonic() - started)
                if name == "ts<":
                    files[reader] = resp.get("files_scanned")
            started = time.monotonic()
            resp = client.call(read_req(reader, wh2, table))
            checks.expect(f"{reader} second catalog db", resp, written2, time.monotonic() - started)
            checks.error_line(f"{reader} missing table", client.call(read_req(reader, wh1, "ns.missing")))
        resp = client.call({"op": "sql", "reader": "duckdb", "sql": "SELECT 1 AS one"})
        checks.expect("duckdb sql", resp, [{"one": "1"}], 0.0)
        meta = metadata_location(wh1, table)
        for loc in (meta, meta.removeprefix("file://")):
            resp = client.call(read_req("duckdb", wh1, table, metadata_location=loc))
            checks.expect(f"duckdb metadata_location {loc[:8]}...", resp, written, 0.0)
        print(f"files_scanned for ts < {TS_CUTOFF}: {json.dumps(files)} (total data files: {total_files(wh1)})")
    finally:
        rc = client.close()
        if rc != 0:
            checks.failed += 1
            print(f"FAIL reader_server exit code {rc}")
    return checks


def metadata_location(warehouse: str, table: str) -> str:
    import sqlite3

    ns, _, name = table.rpartition(".")
    with sqlite3.connect(os.path.join(warehouse, "catalog.db")) as conn:
        row = conn.execute(
            "SELECT metadata_location FROM iceberg_tables WHERE catalog_name=? AND table_namespace=? AND table_name=?",
            (CATALOG, ns, name),
        ).fetchone()
    return str(row[0])


def total_files(warehouse: str) -> int:
    return sum(f.endswith(".parquet") for _, _, fs in os.walk(warehouse) for f in fs)


def main() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="floe-selfcheck-") as tmp:
        checks = run(tmp)
        if checks.failed:
            with open(os.path.join(tmp, "reader_server.log")) as f:
                sys.stderr.write(f.read()[-6000:])
    print(f"total {time.monotonic() - started:.1f}s")
    print(f"selfcheck: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
