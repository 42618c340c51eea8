# The pyiceberg peer of test/bench/catalog-commit-bench.ts: `table.append` of the same small
# row batch, N times, to a table floe created, through the same catalog (SQLite or PostgreSQL
# SqlCatalog, or the REST catalog). Prints one JSON line: the latency of every append in ms.
#
#   python catalog_commit_pyiceberg.py sqlite|postgres|rest URI WAREHOUSE TABLE COMMITS ROWS
import json
import resource
import sys
import time

import pyarrow as pa

kind, uri, warehouse, table_name, commits, rows = sys.argv[1:7]
if kind == "rest":
    from pyiceberg.catalog.rest import RestCatalog

    catalog = RestCatalog("rest", uri=uri)
else:
    from pyiceberg.catalog.sql import SqlCatalog

    # The catalog_name floe writes ('floe'): both see the same iceberg_tables rows.
    catalog = SqlCatalog("floe", uri=uri, warehouse=warehouse)

table = catalog.load_table(table_name)
# The same rows as the floe side (id, worker, batch, payload), with the table's own Arrow schema
# so required columns are non-nullable fields.
batch = pa.Table.from_pylist(
    [{"id": i, "worker": 0, "batch": 0, "payload": f"w0-b0-r{i}"} for i in range(int(rows))],
    schema=table.schema().as_arrow(),
)
cpu0 = time.process_time()
started = time.perf_counter()
latencies = []
for _ in range(int(commits)):
    t0 = time.perf_counter()
    table.append(batch)
    latencies.append((time.perf_counter() - t0) * 1000)
wall = time.perf_counter() - started
print(json.dumps({
    "latencies": latencies,
    "wallSeconds": wall,
    "cpuSeconds": time.process_time() - cpu0,
    "snapshots": len(catalog.load_table(table_name).metadata.snapshots),
    "maxrssKiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
