"""Benchmark helper (not a test): upserts a change batch into an Iceberg table with Spark's MERGE INTO.

Run by test/bench/merge-bench.ts as a reference for floe's mergeRecords:

  .venv/bin/python test/bench/spark_merge_into.py --warehouse DIR --catalog-db DIR/catalog.db \
      --catalog-name floe --table bench.spark_mor --changes changes.parquet [--driver-memory 4g]

Starts a local[2] SparkSession configured like test/bench/spark_rewrite_data_files.py (same
Iceberg runtime + sqlite-jdbc jars, JdbcCatalog over floe's SQLite catalog). Outside the timing:
JVM start, the first table load, and reading the change batch into a cached DataFrame (floe's
side parses its batch before its clock starts too). Timed: only

  MERGE INTO t USING changes s ON t.id = s.id
  WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *

The table's write.merge.mode (merge-on-read or copy-on-write) is set by the bench on this
engine's own table. Prints exactly one JSON line on stdout; Spark's and our logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the repo

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "interop", "readers"))
sys.path.insert(0, here)
from spark_rewrite_data_files import cpu_seconds, peak_rss_bytes, result_stdout, start_spark  # noqa: E402


def log(msg: str) -> None:
    print(f"[spark_merge_into] {msg}", file=sys.stderr, flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--warehouse", required=True)
    p.add_argument("--catalog-db", required=True)
    p.add_argument("--catalog-name", required=True, help="must equal floe's catalog name (JdbcCatalog's catalog_name column)")
    p.add_argument("--table", required=True, help="NS.T")
    p.add_argument("--changes", required=True, help="Parquet file with the table's columns")
    p.add_argument("--driver-memory", default="4g")
    args = p.parse_args()

    out = result_stdout()
    spark, ident, jvm_start, jvm_pid = start_spark(args, "floe-merge-bench", "floe-spark-merge-bench-", log)

    started = time.monotonic()
    files_before = spark.sql(f"SELECT count(*) AS n FROM {ident}.files").collect()[0]["n"]
    mode = spark.sql(f"SHOW TBLPROPERTIES {ident} ('write.merge.mode')").collect()[0]["value"]
    changes = spark.read.parquet(os.path.abspath(args.changes)).cache()
    n_changes = changes.count()
    changes.createOrReplaceTempView("merge_bench_changes")
    warmup = time.monotonic() - started
    log(f"table {args.table}: {files_before} files, write.merge.mode {mode}; {n_changes} changes cached; load took {warmup:.1f}s")

    merge = (
        f"MERGE INTO {ident} t USING merge_bench_changes s ON t.id = s.id "
        "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
    )
    log(merge)
    cpu_before = cpu_seconds(jvm_pid)
    started = time.monotonic()
    spark.sql(merge).collect()
    seconds = time.monotonic() - started
    cpu_after = cpu_seconds(jvm_pid)
    log(f"MERGE INTO took {seconds:.2f}s")

    result = {
        "seconds": seconds,
        "jvm_start_seconds": jvm_start,
        "warmup_seconds": warmup,
        "cpu_seconds": None if cpu_before is None or cpu_after is None else cpu_after - cpu_before,
        "merge_mode": mode,
        "spark_version": spark.version,
        "jvm_pid": jvm_pid,
        "jvm_peak_rss_bytes": peak_rss_bytes(jvm_pid),
        "python_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    spark.stop()
    out.write(json.dumps(result) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
