"""Create two tables with a fixed[4] column through pyiceberg's SqlCatalog: ``<ns>.fixed_col``
(unpartitioned) and ``<ns>.fixed_part`` (identity(fx)), two rows each.

Used by trino-metadata-tables.test.ts to show that Trino 476's limits with fixed columns hit
tables pyiceberg wrote exactly as they hit floe's.

    python make_pyiceberg_fixed_tables.py --warehouse /abs/wh --catalog-db /abs/wh/catalog.db \
        --catalog-name floe --namespace py
"""

from __future__ import annotations

import argparse
import sys

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import IdentityTransform
from pyiceberg.types import FixedType, LongType, NestedField

sys.dont_write_bytecode = True  # no __pycache__ in the repo


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--warehouse", required=True)
    p.add_argument("--catalog-db", required=True)
    p.add_argument("--catalog-name", default="floe")
    p.add_argument("--namespace", required=True)
    a = p.parse_args()
    cat = SqlCatalog(a.catalog_name, uri=f"sqlite:///{a.catalog_db}", warehouse=f"file://{a.warehouse}")
    cat.create_namespace(a.namespace)
    schema = Schema(NestedField(1, "id", LongType(), required=False), NestedField(2, "fx", FixedType(4), required=False))
    data = pa.table({"id": pa.array([1, 2], pa.int64()), "fx": pa.array([b"abcd", b"wxyz"], pa.binary(4))})
    cat.create_table(f"{a.namespace}.fixed_col", schema=schema).append(data)
    spec = PartitionSpec(PartitionField(source_id=2, field_id=1000, transform=IdentityTransform(), name="fx"))
    cat.create_table(f"{a.namespace}.fixed_part", schema=schema, partition_spec=spec).append(data)


if __name__ == "__main__":
    main()
