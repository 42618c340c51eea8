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
import math
import os
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any, Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the repo
sys.path.insert(0, HERE)
from canonical import canonical_rows  # noqa: E402
from make_pyiceberg_table import ARROW_SCHEMA, SCHEMA, make_row  # noqa: E402

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


def f32(x: float) -> float:
    return x if math.isnan(x) or math.isinf(x) else struct.unpack("<f", struct.pack("<f", x))[0]


def all_types_rows(with_time: bool) -> list[dict[str, Any]]:
    """Edge values of every Iceberg v2 type (``t``, time, only when with_time)."""
    utc = dt.timezone.utc
    rows: list[dict[str, Any]] = [
        dict(b=True, i=-2147483648, l=9223372036854775807, f=0.1, d=float("nan"),
             dec=decimal.Decimal("-1234567890123456789012345678.0123456789"), dt=dt.date(1, 1, 1),
             ts=dt.datetime(9999, 12, 31, 23, 59, 59, 999999), tstz=dt.datetime(1900, 1, 1, 0, 0, 0, 1, tzinfo=utc),
             s="h\u00e9llo 'q' \"dq\" \\ \u65e5\u672c", u=uuid.UUID("F79C3E09-677C-4BBD-A479-3F349CB785E7"),
             fx=b"\x00\xff\x10", bin=b"", st={"a": 1, "b": None}, li=[1, None, -3],
             m={"z": 1.5, "a": float("inf"), "n": None}, ls=[{"x": dt.date(2024, 2, 29)}, None],
             t=dt.time(23, 59, 59, 999999)),
        dict(b=False, i=0, l=-9223372036854775808, f=float("-inf"), d=-1e-300, dec=decimal.Decimal("0"),
             dt=dt.date(1970, 1, 1), ts=dt.datetime(1970, 1, 1), tstz=dt.datetime(2024, 6, 1, 12, tzinfo=utc), s="",
             u=uuid.UUID(int=0), fx=b"abc", bin=b"\x01\x02", st=None, li=[], m={}, ls=[], t=dt.time(0, 0)),
        # pyiceberg 0.12 writes a null list<struct> as [] (the parquet file holds []), so ls=[] here.
        dict(b=None, i=None, l=None, f=None, d=None, dec=None, dt=None, ts=None, tstz=None, s=None, u=None,
             fx=None, bin=None, st=None, li=None, m=None, ls=[], t=None),
    ]
    for r in rows:
        if r["f"] is not None:
            r["f"] = f32(r["f"])
        if not with_time:
            del r["t"]
    return rows


def all_types_schema(with_time: bool) -> Any:
    from pyiceberg.schema import Schema
    from pyiceberg.types import (
        BinaryType, BooleanType, DateType, DecimalType, DoubleType, FixedType, FloatType, IntegerType,
        ListType, LongType, MapType, NestedField, StringType, StructType, TimestampType, TimestamptzType,
        TimeType, UUIDType,
    )

    fields = [
        NestedField(1, "b", BooleanType()), NestedField(2, "i", IntegerType()), NestedField(3, "l", LongType()),
        NestedField(4, "f", FloatType()), NestedField(5, "d", DoubleType()),
        NestedField(6, "dec", DecimalType(38, 10)), NestedField(7, "dt", DateType()),
        NestedField(8, "ts", TimestampType()), NestedField(9, "tstz", TimestamptzType()),
        NestedField(10, "s", StringType()), NestedField(11, "u", UUIDType()), NestedField(12, "fx", FixedType(3)),
        NestedField(13, "bin", BinaryType()),
        NestedField(14, "st", StructType(NestedField(20, "a", IntegerType()), NestedField(21, "b", StringType()))),
        NestedField(15, "li", ListType(22, LongType(), element_required=False)),
        NestedField(16, "m", MapType(23, StringType(), 24, DoubleType(), value_required=False)),
        NestedField(17, "ls", ListType(25, StructType(NestedField(26, "x", DateType())), element_required=False)),
    ]
    if with_time:
        fields.append(NestedField(18, "t", TimeType()))
    return Schema(*fields)


def make_all_types_table(warehouse: str, table: str, with_time: bool) -> list[Any]:
    """Write all_types_rows() with pyiceberg; returns their canonical form."""
    import pyarrow as pa
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    os.makedirs(warehouse, exist_ok=True)
    cat = SqlCatalog(CATALOG, uri=f"sqlite:///{warehouse}/catalog.db", warehouse=f"file://{warehouse}")
    cat.create_namespace_if_not_exists(table.rpartition(".")[0])
    tbl = cat.create_table(table, schema=all_types_schema(with_time))
    rows = all_types_rows(with_time)
    arrow_rows = [{**r, "u": r["u"].bytes if r["u"] else None} for r in rows]
    tbl.append(pa.Table.from_pylist(arrow_rows, schema=schema_to_pyarrow(tbl.schema())))
    return canonical_rows(rows, tbl.schema())


def first_snapshot_id(warehouse: str, table: str) -> str:
    from pyiceberg.catalog.sql import SqlCatalog

    cat = SqlCatalog(CATALOG, uri=f"sqlite:///{warehouse}/catalog.db", warehouse=f"file://{warehouse}")
    snaps = sorted(cat.load_table(table).snapshots(), key=lambda s: s.sequence_number or 0)
    return str(snaps[0].snapshot_id)


class Checks:
    def __init__(self, client: ReaderClient) -> None:
        self.client = client
        self.passed = 0
        self.failed = 0

    def rows(self, name: str, req: dict[str, Any], want: Optional[list[Any]]) -> dict[str, Any]:
        """Send req; pass if ok and (want is None or rows == want)."""
        started = time.monotonic()
        resp = self.client.call(req)
        elapsed = time.monotonic() - started
        if resp.get("ok") is True and (want is None or resp.get("rows") == want):
            self.passed += 1
            n = len(resp.get("rows", []))
            print(f"PASS {name}: {n} rows, files_scanned={resp.get('files_scanned')} ({elapsed:.2f}s)")
            return resp
        self.failed += 1
        print(f"FAIL {name}: {resp.get('error') or 'rows differ'}")
        if resp.get("ok"):
            got = resp.get("rows") or []
            print(f"  want {len(want or [])} rows, got {len(got)}")
            for w, g in zip(want or [], got):
                if w != g:
                    print(f"  first difference: want {json.dumps(w)}\n                    got  {json.dumps(g)}")
                    break
        return resp

    def error_line(self, name: str, req: dict[str, Any]) -> None:
        resp = self.client.call(req)
        err = resp.get("error", "")
        if resp.get("ok") is False and isinstance(err, str) and "\n" not in err and err:
            self.passed += 1
            print(f"PASS {name}: error reported as one line: {err[:160]}")
        else:
            self.failed += 1
            print(f"FAIL {name}: expected a one-line error, got {resp}")


def events_cases(wh1: str, table: str) -> list[tuple[str, dict[str, Any], list[Any]]]:
    """(name, request fields, expected rows) for the make_pyiceberg_table.py table."""
    return [
        ("all", {}, expected(lambda r: True)),
        ("snapshot", {"snapshot_id": first_snapshot_id(wh1, table)}, expected(lambda r: True, ROWS // 2)),
        ("ts<", {"filter": {"column": "ts", "op": "<", "value": TS_CUTOFF}}, expected(ts_before(TS_CUTOFF))),
        ("name is_null", {"filter": {"column": "name", "op": "is_null"}}, expected(lambda r: r["name"] is None)),
        ("id==", {"filter": {"column": "id", "op": "==", "value": "-9007199254740993"}},
         expected(lambda r: r["id"] == -9007199254740993)),
        ("amount>=", {"filter": {"column": "amount", "op": ">=", "value": "0.48"}},
         expected(lambda r: r["amount"] >= decimal.Decimal("0.48"))),
        ("day<=", {"filter": {"column": "day", "op": "<=", "value": "2024-01-02"}},
         expected(lambda r: r["day"] is not None and r["day"] <= dt.date(2024, 1, 2))),
    ]


def check_events(checks: Checks, wh1: str, wh2: str, table: str, written2: list[Any]) -> dict[str, Any]:
    """All readers on the partitioned table; returns files_scanned of the ts filter per reader."""
    files: dict[str, Any] = {}
    cases = events_cases(wh1, table)
    for reader in READERS:
        for name, extra, want in cases:
            resp = checks.rows(f"{reader} {name}", read_req(reader, wh1, table, **extra), want)
            if name == "ts<":
                files[reader] = resp.get("files_scanned")
        checks.rows(f"{reader} second catalog db", read_req(reader, wh2, table), written2)
        checks.error_line(f"{reader} missing table", read_req(reader, wh1, "ns.missing"))
    return files


def append_rows(warehouse: str, table: str, start: int, stop: int) -> None:
    """Commit make_row(start..stop-1) from this process, as floe would from another."""
    import pyarrow as pa
    from pyiceberg.catalog.sql import SqlCatalog

    cat = SqlCatalog(CATALOG, uri=f"sqlite:///{warehouse}/catalog.db", warehouse=f"file://{warehouse}")
    rows = [make_row(i) for i in range(start, stop)]
    cat.load_table(table).append(pa.Table.from_pylist(rows, schema=ARROW_SCHEMA))


def check_sees_new_commit(checks: Checks, wh2: str, table: str) -> None:
    """Readers were used on wh2 already; a later commit must be visible (no stale caches)."""
    append_rows(wh2, table, 5, 8)
    for reader in READERS:
        checks.rows(f"{reader} sees later commit", read_req(reader, wh2, table), expected(lambda r: True, 8))


def check_all_types(checks: Checks, wh3: str, all_types: list[Any], with_time: list[Any]) -> None:
    s_value = all_types_rows(False)[0]["s"]
    s_filter = {"column": "s", "op": "==", "value": s_value}
    nan_filter = {"column": "d", "op": "==", "value": "NaN"}
    for reader in READERS:
        checks.rows(f"{reader} all types", read_req(reader, wh3, "ns.all_types"), all_types)
        checks.rows(f"{reader} string literal escaping",
                    read_req(reader, wh3, "ns.all_types", filter=s_filter), [r for r in all_types if r["s"] == s_value])
        checks.rows(f"{reader} == NaN", read_req(reader, wh3, "ns.all_types", filter=nan_filter),
                    [r for r in all_types if r["d"] == "NaN"])
        if reader == "spark":  # Spark has no TIME type; Iceberg's Spark reader refuses the table
            checks.error_line("spark time column", read_req(reader, wh3, "ns.with_time"))
        else:
            checks.rows(f"{reader} time column", read_req(reader, wh3, "ns.with_time"), with_time)


def check_misc(checks: Checks, wh1: str, table: str) -> None:
    checks.rows("ping", {"op": "ping"}, None)
    checks.rows("duckdb sql", {"op": "sql", "reader": "duckdb", "sql": "SELECT 1 AS one"}, [{"one": "1"}])
    sql = {"op": "sql", "reader": "spark", "warehouse": wh1, "catalog_db": os.path.join(wh1, "catalog.db"),
           "catalog_name": CATALOG, "sql": f"SELECT count(*) AS n FROM {CATALOG}.{table}"}
    checks.rows("spark sql", sql, [{"n": str(ROWS)}])
    meta = metadata_location(wh1, table)
    for loc in (meta, meta.removeprefix("file://")):
        checks.rows(f"duckdb metadata_location {loc[:8]}...",
                    read_req("duckdb", wh1, table, metadata_location=loc), expected(lambda r: True))


def run(tmp: str) -> Checks:
    wh1, wh2, wh3 = (os.path.join(tmp, w) for w in ("wh1", "wh2", "wh3"))
    table = "ns.events"
    written = make_table(wh1, table, ROWS)
    assert written == expected(lambda r: True), "make_pyiceberg_table output differs from make_row()"
    written2 = make_table(wh2, table, 5)  # same catalog and table name, other catalog db
    all_types = make_all_types_table(wh3, "ns.all_types", with_time=False)
    with_time = make_all_types_table(wh3, "ns.with_time", with_time=True)
    checks = Checks(ReaderClient(os.path.join(tmp, "reader_server.log")))
    try:
        check_misc(checks, wh1, table)
        files = check_events(checks, wh1, wh2, table, written2)
        check_sees_new_commit(checks, wh2, table)
        check_all_types(checks, wh3, all_types, with_time)
        print(f"files_scanned for ts < {TS_CUTOFF}: {json.dumps(files)} (total data files: {total_files(wh1)})")
    finally:
        rc = checks.client.close()
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
