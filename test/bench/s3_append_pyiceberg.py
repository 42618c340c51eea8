"""pyiceberg's side of test/bench/s3-bench.ts: appends NDJSON files (one commit each) to a table
on S3 through a SQL catalog (sqlite) and prints one JSON line with the per-append times.

    python s3_append_pyiceberg.py CATALOG_DB WAREHOUSE ENDPOINT KEY_ID SECRET REGION FILE...

Each append's time is split into reading the NDJSON into Arrow (pyarrow.json) and pyiceberg's
append (Parquet writing, upload, commit), so the peer can be compared with or without parsing.
"""

from __future__ import annotations

import json
import sys
import time

import pyarrow as pa
import pyarrow.json as pj
from pyiceberg.catalog.sql import SqlCatalog

SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("payload", pa.string(), nullable=False)])


def main() -> None:
    db, warehouse, endpoint, key, secret, region, *files = sys.argv[1:]
    catalog = SqlCatalog("bench", uri=f"sqlite:///{db}", warehouse=warehouse, **{
        "s3.endpoint": endpoint, "s3.access-key-id": key, "s3.secret-access-key": secret,
        "s3.region": region, "s3.force-virtual-addressing": "false",
    })
    catalog.create_namespace("bench")
    table = catalog.create_table("bench.py", schema=SCHEMA)
    appends = []
    for f in files:
        t0 = time.perf_counter()
        data = pj.read_json(f, parse_options=pj.ParseOptions(explicit_schema=SCHEMA)).cast(SCHEMA)
        t1 = time.perf_counter()
        table.append(data)
        t2 = time.perf_counter()
        appends.append({"rows": data.num_rows, "readMs": (t1 - t0) * 1000, "appendMs": (t2 - t1) * 1000})
    table = catalog.load_table("bench.py")
    size = sum(task.file.file_size_in_bytes for task in table.scan().plan_files())
    print(json.dumps({"appends": appends, "fileBytes": size}))


if __name__ == "__main__":
    main()
