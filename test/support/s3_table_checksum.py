"""Streams an Iceberg table on S3 through pyiceberg or DuckDB and prints one JSON line: the
order-independent checksum of test/support/random-payload-rows.ts (count, sum of ids, sum of
payload lengths, xor and sum mod 2^64 of md5_number_upper(payload)) and this process's peak RSS.

    python s3_table_checksum.py pyiceberg|duckdb METADATA_LOCATION ENDPOINT KEY_ID SECRET REGION

Values, not just counts: every payload byte goes through MD5. Neither reader holds the table:
pyiceberg yields Arrow batches, DuckDB aggregates while it scans.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
from urllib.parse import urlparse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))

MASK64 = (1 << 64) - 1


def with_pyiceberg(metadata: str, endpoint: str, key: str, secret: str, region: str) -> dict:
    import pyarrow.compute as pc
    from pyiceberg.table import StaticTable

    table = StaticTable.from_metadata(metadata, properties={
        "s3.endpoint": endpoint, "s3.access-key-id": key, "s3.secret-access-key": secret,
        "s3.region": region, "s3.force-virtual-addressing": "false",
    })
    count = id_sum = length_sum = hash_xor = hash_sum = 0
    files = len(list(table.scan().plan_files()))
    for batch in table.scan(selected_fields=("id", "payload")).to_arrow_batch_reader():
        count += batch.num_rows
        id_sum += pc.sum(batch.column("id")).as_py() or 0
        payload = batch.column("payload")
        length_sum += pc.sum(pc.utf8_length(payload)).as_py() or 0
        for p in payload.to_pylist():
            h = int.from_bytes(hashlib.md5(p.encode()).digest()[:8], "little")
            hash_xor ^= h
            hash_sum = (hash_sum + h) & MASK64
    return {"files": files, "count": count, "idSum": id_sum, "lengthSum": length_sum, "hashXor": hash_xor, "hashSum": hash_sum}


def with_duckdb(metadata: str, endpoint: str, key: str, secret: str, region: str) -> dict:
    from duckdb_query import connect, extension_path

    con = connect()
    con.execute(f"LOAD '{extension_path('httpfs')}'")
    host = urlparse(endpoint).netloc
    con.execute(f"""CREATE SECRET floe_s3 (TYPE s3, KEY_ID '{key}', SECRET '{secret}', ENDPOINT '{host}',
        URL_STYLE 'path', USE_SSL {'true' if endpoint.startswith('https') else 'false'}, REGION '{region}')""")
    con.execute("SET threads = 2")
    row = con.sql(f"""SELECT count(*), sum(id), sum(length(payload)), bit_xor(md5_number_upper(payload)),
        sum(md5_number_upper(payload)::HUGEINT) % 18446744073709551616
        FROM iceberg_scan('{metadata}')""").fetchone()
    files = con.sql(f"SELECT count(*) FROM iceberg_metadata('{metadata}') WHERE status <> 'DELETED'").fetchone()[0]
    return {"files": files, "count": row[0], "idSum": int(row[1] or 0), "lengthSum": int(row[2] or 0),
            "hashXor": int(row[3] or 0), "hashSum": int(row[4] or 0)}


def main() -> None:
    if len(sys.argv) != 7 or sys.argv[1] not in ("pyiceberg", "duckdb"):
        raise SystemExit("usage: s3_table_checksum.py pyiceberg|duckdb METADATA_LOCATION ENDPOINT KEY_ID SECRET REGION")
    reader, *args = sys.argv[1:]
    out = (with_pyiceberg if reader == "pyiceberg" else with_duckdb)(*args)
    out = {k: str(v) for k, v in out.items()}
    out["peakRssBytes"] = str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
