"""Reads a manifest list and its manifests with pyiceberg's own readers and prints them as JSON.

Used by manifest-pyiceberg.test.ts to prove pyiceberg reads what floe writes. Values are
tagged so nothing is lost on the way to JavaScript: "i:<int>" (64-bit exact), "f:<repr>"
(keeps nan and -0.0), "b:<hex>" bytes, "u:<hex>" UUID, "d:<decimal>" Decimal, "s:<text>".

Usage: read_manifest_with_pyiceberg.py <manifest-list path>
"""

import json
import sys
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from uuid import UUID

from pyiceberg.io.pyarrow import PyArrowFileIO
from pyiceberg.manifest import read_manifest_list


def tag(value):
    if isinstance(value, Enum):
        value = value.value
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return f"i:{value}"
    if isinstance(value, float):
        return f"f:{value!r}"
    if isinstance(value, (bytes, bytearray)):
        return f"b:{bytes(value).hex()}"
    if isinstance(value, UUID):
        return f"u:{value.hex}"
    if isinstance(value, Decimal):
        return f"d:{value}"
    if isinstance(value, str):
        return f"s:{value}"
    if isinstance(value, Mapping):  # pyiceberg returns metrics maps as LazyDict
        return {str(k): tag(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [tag(v) for v in value]
    raise TypeError(f"cannot tag {type(value).__name__}: {value!r}")


def record_values(record):
    return [record[i] for i in range(len(record))]


DATA_FILE_FIELDS = [
    "content", "file_path", "file_format", "record_count", "file_size_in_bytes",
    "column_sizes", "value_counts", "null_value_counts", "nan_value_counts",
    "lower_bounds", "upper_bounds", "key_metadata", "split_offsets", "equality_ids", "sort_order_id",
]

MANIFEST_FIELDS = [
    "manifest_path", "manifest_length", "partition_spec_id", "content", "sequence_number",
    "min_sequence_number", "added_snapshot_id", "added_files_count", "existing_files_count",
    "deleted_files_count", "added_rows_count", "existing_rows_count", "deleted_rows_count", "key_metadata",
]


def main(list_path):
    io = PyArrowFileIO()
    out = []
    for manifest in read_manifest_list(io.new_input(list_path)):
        item = {name: tag(getattr(manifest, name)) for name in MANIFEST_FIELDS}
        item["partitions"] = None if manifest.partitions is None else [
            {
                "contains_null": s.contains_null,
                "contains_nan": s.contains_nan,
                "lower_bound": tag(s.lower_bound),
                "upper_bound": tag(s.upper_bound),
            }
            for s in manifest.partitions
        ]
        entries = []
        for entry in manifest.fetch_manifest_entry(io, discard_deleted=False):
            data_file = entry.data_file
            file_item = {name: tag(getattr(data_file, name)) for name in DATA_FILE_FIELDS}
            file_item["partition"] = tag(record_values(data_file.partition))
            entries.append({
                "status": tag(entry.status),
                "snapshot_id": tag(entry.snapshot_id),
                "sequence_number": tag(entry.sequence_number),
                "file_sequence_number": tag(entry.file_sequence_number),
                "data_file": file_item,
            })
        item["entries"] = entries
        out.append(item)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
