"""Benchmark helper (not a test): compacts one Iceberg table with Spark's rewrite_data_files.

Run by test/bench/compaction-bench.ts as the reference for floe's compactor:

  .venv/bin/python test/bench/spark_rewrite_data_files.py --warehouse DIR \
      --catalog-db DIR/catalog.db --catalog-name floe --table bench.spark_t \
      --target-file-size-bytes 67108864 [--min-input-files 5] [--driver-memory 4g]

Starts a local[2] SparkSession configured like test/interop/readers/reader_server.py (same
Iceberg runtime + sqlite-jdbc jars, JdbcCatalog over floe's SQLite catalog), loads the table
once, then times only `CALL <catalog>.system.rewrite_data_files(... strategy => 'binpack')`.
JVM start and the first table load are reported apart.  Prints exactly one JSON line on
stdout; Spark's and our logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from typing import Any, Optional

sys.dont_write_bytecode = True  # no __pycache__ in the repo

# The jar lookup and session extensions are the interop harness's own.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop", "readers"))
from reader_server import ICEBERG_EXTENSIONS, spark_jars  # noqa: E402


def log(msg: str) -> None:
    print(f"[spark_rewrite_data_files] {msg}", file=sys.stderr, flush=True)


def result_stdout() -> Any:
    """Keep the real stdout for the JSON line; point fd 1 (the JVM inherits it) at stderr."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def quote(part: str) -> str:
    return "`" + part.replace("`", "``") + "`"


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def peak_rss_bytes(pid: int) -> Optional[int]:
    """VmHWM (peak resident set) of a live process, from /proc; None where /proc is absent."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> Optional[float]:
    """utime + stime of a live process, from /proc/<pid>/stat; None where /proc is absent."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


def start_spark(args: Any, app_name: str, tmp_prefix: str, log: Any) -> tuple[Any, str, float, int]:
    """A local[2] Spark session with the Iceberg runtime and floe's SQLite catalog (JdbcCatalog)
    as `args.catalog_name`, and the quoted identifier of `args.table` (NS.T) in it. Returns the
    session, the identifier, the JVM start-up seconds and the JVM pid (for RSS and CPU)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    warehouse = os.path.abspath(args.warehouse)
    catalog_db = os.path.abspath(args.catalog_db)
    cat = args.catalog_name
    prefix = f"spark.sql.catalog.{cat}"
    tmp = tempfile.mkdtemp(prefix=tmp_prefix)

    started = time.monotonic()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName(app_name)
        .config("spark.jars", ",".join(spark_jars()))
        .config("spark.sql.extensions", ICEBERG_EXTENSIONS)
        .config("spark.driver.memory", args.driver_memory)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", os.path.join(tmp, "spark-warehouse"))
        .config(prefix, "org.apache.iceberg.spark.SparkCatalog")
        .config(f"{prefix}.type", "jdbc")
        .config(f"{prefix}.uri", f"jdbc:sqlite:{catalog_db}")
        .config(f"{prefix}.warehouse", f"file://{warehouse}")
        .config(f"{prefix}.cache-enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    jvm_start = time.monotonic() - started
    jvm_pid = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
    log(f"spark {spark.version} started in {jvm_start:.1f}s (JVM pid {jvm_pid}, driver memory {args.driver_memory})")

    ns, _, name = args.table.rpartition(".")
    if not ns:
        raise SystemExit(f"--table must be NS.T, got {args.table!r}")
    ident = ".".join(quote(x) for x in [cat, *ns.split("."), name])
    return spark, ident, jvm_start, jvm_pid


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--warehouse", required=True)
    p.add_argument("--catalog-db", required=True)
    p.add_argument("--catalog-name", required=True, help="must equal floe's catalog name (JdbcCatalog's catalog_name column)")
    p.add_argument("--table", required=True, help="NS.T")
    p.add_argument("--target-file-size-bytes", required=True, type=int)
    p.add_argument("--min-input-files", type=int, default=5)
    p.add_argument("--driver-memory", default="4g")
    p.add_argument("--warm-scan", action="store_true",
                   help="read every column of the table once before the CALL (JIT-warm Parquet read path), timed apart")
    args = p.parse_args()

    out = result_stdout()
    spark, ident, jvm_start, jvm_pid = start_spark(args, "floe-compaction-bench", "floe-spark-bench-", log)
    cat = args.catalog_name

    # Load the catalog and the table once (Iceberg classes, JDBC connection) outside the timing,
    # as floe's side opens its catalog before the clock starts.
    started = time.monotonic()
    files_before = spark.sql(f"SELECT count(*) AS n FROM {ident}.files").collect()[0]["n"]
    warmup = time.monotonic() - started
    log(f"table {args.table}: {files_before} data files before; catalog + table load took {warmup:.1f}s")
    warm_scan = None
    if args.warm_scan:
        started = time.monotonic()
        spark.table(ident).write.format("noop").mode("overwrite").save()
        warm_scan = time.monotonic() - started
        log(f"warm-up scan of every column took {warm_scan:.1f}s")

    call = (
        f"CALL {quote(cat)}.system.rewrite_data_files("
        f"table => {sql_string(args.table)}, strategy => 'binpack', "
        f"options => map('target-file-size-bytes', '{args.target_file_size_bytes}', "
        f"'min-input-files', '{args.min_input_files}'))"
    )
    log(call)
    cpu_before = cpu_seconds(jvm_pid)
    started = time.monotonic()
    row = spark.sql(call).collect()[0].asDict()
    seconds = time.monotonic() - started
    cpu_after = cpu_seconds(jvm_pid)
    log(f"rewrite_data_files took {seconds:.2f}s: {row}")

    result = {
        "seconds": seconds,
        "jvm_start_seconds": jvm_start,
        "warmup_seconds": warmup,
        "warm_scan_seconds": warm_scan,
        # JVM user + system CPU during the CALL (all threads: tasks, driver, GC, JIT).
        "cpu_seconds": None if cpu_before is None or cpu_after is None else cpu_after - cpu_before,
        "rewritten_data_files_count": row.get("rewritten_data_files_count"),
        "added_data_files_count": row.get("added_data_files_count"),
        "rewritten_bytes_count": row.get("rewritten_bytes_count"),
        "failed_data_files_count": row.get("failed_data_files_count"),
        "spark_version": spark.version,
        "jvm_pid": jvm_pid,
        "jvm_peak_rss_bytes": peak_rss_bytes(jvm_pid),
        # ru_maxrss is in KiB on Linux.
        "python_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    spark.stop()
    out.write(json.dumps(result) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
