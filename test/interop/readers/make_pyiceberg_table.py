"""Create an Iceberg table with pyiceberg's SqlCatalog and append two batches.

Used for reverse interop (pyiceberg creates, floe appends) and by selfcheck.py.
Prints the canonical rows it wrote (see canonical.py) as one JSON array on stdout.

    python make_pyiceberg_table.py --warehouse /abs/wh --catalog-db /abs/wh/catalog.db \
        --catalog-name floe --table ns.tbl --rows 20
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import json
import os
import sys
from typing import Any

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import DayTransform
from pyiceberg.types import DateType, DecimalType, LongType, NestedField, StringType, TimestamptzType

sys.dont_write_bytecode = True  # no __pycache__ in the repo
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from canonical import canonical_rows  # noqa: E402

SCHEMA = Schema(
    NestedField(1, "id", LongType(), required=True),
    NestedField(2, "name", StringType(), required=False),
    NestedField(3, "ts", TimestamptzType(), required=False),
    NestedField(4, "amount", DecimalType(10, 2), required=False),
    NestedField(5, "day", DateType(), required=False),
)
SPEC = PartitionSpec(PartitionField(source_id=3, field_id=1000, transform=DayTransform(), name="ts_day"))
ARROW_SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("ts", pa.timestamp("us", tz="UTC")),
        pa.field("amount", pa.decimal128(10, 2)),
        pa.field("day", pa.date32()),
    ]
)
BASE_TS = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
STEP = dt.timedelta(hours=7, minutes=13, seconds=1, microseconds=123)


def make_row(i: int) -> dict[str, Any]:
    """Deterministic row i, with a few edge values (2^53+1, pre-epoch, nulls)."""
    ts = dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone.utc) if i == 1 else BASE_TS + i * STEP
    return {
        "id": -9007199254740993 if i == 0 else i,
        "name": None if i % 5 == 4 else f"name-{i}",
        "ts": None if i % 11 == 10 else ts,
        "amount": decimal.Decimal(i * 137 - 500).scaleb(-2),
        "day": None if i % 7 == 6 else ts.date(),
    }


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--warehouse", required=True, help="absolute directory")
    p.add_argument("--catalog-db", required=True, help="absolute path of the SQLite catalog file")
    p.add_argument("--catalog-name", default="floe")
    p.add_argument("--table", required=True, help="namespace.table")
    p.add_argument("--rows", type=int, default=20)
    return p.parse_args()


def main() -> int:
    args = parse_args()
    warehouse = os.path.abspath(args.warehouse)
    os.makedirs(warehouse, exist_ok=True)
    catalog = SqlCatalog(
        args.catalog_name,
        uri=f"sqlite:///{os.path.abspath(args.catalog_db)}",
        warehouse=f"file://{warehouse}",
    )
    namespace, _, _name = args.table.rpartition(".")
    catalog.create_namespace_if_not_exists(namespace)
    table = catalog.create_table(args.table, schema=SCHEMA, partition_spec=SPEC)
    rows = [make_row(i) for i in range(args.rows)]
    half = len(rows) // 2
    for batch in (rows[:half], rows[half:]):
        if batch:
            table.append(pa.Table.from_pylist(batch, schema=ARROW_SCHEMA))
    print(f"created {args.table} at {table.metadata_location}", file=sys.stderr)
    json.dump(canonical_rows(rows, SCHEMA), sys.stdout, allow_nan=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
