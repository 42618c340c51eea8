"""Canonical JSON form of Iceberg rows, shared by every reader in reader_server.py.

Readers hand back Python objects whose type alone is ambiguous (an ``int`` may be
an Iceberg int or long, a ``datetime`` may be a timestamp or a timestamptz), so
every value is canonicalised against the Iceberg type from the table schema
(loaded through pyiceberg).  See README.md for the rules.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import uuid
from typing import Any, Callable, Iterable, Mapping

from pyiceberg.schema import Schema
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FixedType,
    FloatType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
    TimeType,
    UUIDType,
)

Json = Any
_DECIMAL_CTX = decimal.Context(prec=200)


class CanonicalError(ValueError):
    """A reader returned a value that does not fit the Iceberg type."""


# --- primitives -----------------------------------------------------------------


def canon_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    raise CanonicalError(f"expected bool, got {type(v).__name__}")


def canon_integer(v: Any) -> str:
    if isinstance(v, bool) or not isinstance(v, int):
        raise CanonicalError(f"expected int, got {type(v).__name__}")
    return str(v)


def canon_floating(v: Any) -> Json:
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        raise CanonicalError(f"expected float, got {type(v).__name__}")
    f = float(v)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    return f


def canon_decimal(v: Any, scale: int) -> str:
    if isinstance(v, (int, str)):
        v = decimal.Decimal(v)
    if not isinstance(v, decimal.Decimal):
        raise CanonicalError(f"expected Decimal, got {type(v).__name__}")
    q = v.quantize(decimal.Decimal(1).scaleb(-scale), context=_DECIMAL_CTX)
    if q.is_zero():
        q = q.copy_abs()
    return format(q, "f")


def format_date(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def format_time(t: dt.time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}.{t.microsecond:06d}"


def canon_date(v: Any) -> str:
    if isinstance(v, dt.datetime) or not isinstance(v, dt.date):
        raise CanonicalError(f"expected date, got {type(v).__name__}")
    return format_date(v)


def canon_time(v: Any) -> str:
    if not isinstance(v, dt.time):
        raise CanonicalError(f"expected time, got {type(v).__name__}")
    return format_time(v)


def canon_timestamp(v: Any) -> str:
    """Timestamp without zone: wall-clock value as read (an aware value is an error)."""
    if not isinstance(v, dt.datetime):
        raise CanonicalError(f"expected datetime, got {type(v).__name__}")
    if v.tzinfo is not None and v.utcoffset() != dt.timedelta(0):
        raise CanonicalError(f"timestamp (no zone) read with offset {v.utcoffset()}")
    return f"{format_date(v)}T{format_time(v.time())}"


def canon_timestamptz(v: Any) -> str:
    """Timestamptz in UTC; naive values are taken as UTC (readers run with TZ=UTC)."""
    if not isinstance(v, dt.datetime):
        raise CanonicalError(f"expected datetime, got {type(v).__name__}")
    if v.tzinfo is not None:
        v = v.astimezone(dt.timezone.utc)
    return f"{format_date(v)}T{format_time(v.time())}+00:00"


def canon_string(v: Any) -> str:
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8")
    if not isinstance(v, str):
        raise CanonicalError(f"expected str, got {type(v).__name__}")
    return v


def canon_uuid(v: Any) -> str:
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, (bytes, bytearray, memoryview)) and len(v) == 16:
        return str(uuid.UUID(bytes=bytes(v)))
    if isinstance(v, str):
        return str(uuid.UUID(v))
    raise CanonicalError(f"expected uuid, got {type(v).__name__}")


def canon_binary(v: Any) -> str:
    if not isinstance(v, (bytes, bytearray, memoryview)):
        raise CanonicalError(f"expected bytes, got {type(v).__name__}")
    return base64.b64encode(bytes(v)).decode("ascii")


# --- nested ---------------------------------------------------------------------


def _struct_items(v: Any, struct: StructType) -> Mapping[str, Any]:
    """Field name -> value for dicts (Arrow, DuckDB), Spark Rows and plain tuples."""
    if isinstance(v, Mapping):
        return v
    as_dict = getattr(v, "asDict", None)
    if callable(as_dict):
        return as_dict()
    if isinstance(v, (tuple, list)) and len(v) == len(struct.fields):
        return {f.name: x for f, x in zip(struct.fields, v)}
    raise CanonicalError(f"expected struct, got {type(v).__name__}")


def canon_struct(v: Any, struct: StructType) -> dict[str, Json]:
    items = _struct_items(v, struct)
    extra = set(items) - {f.name for f in struct.fields}
    if extra:
        raise CanonicalError(f"unexpected fields {sorted(extra)}")
    out: dict[str, Json] = {}
    for field in struct.fields:
        if field.name not in items:
            raise CanonicalError(f"missing field {field.name!r}")
        out[field.name] = canonical_value(items[field.name], field.field_type, field.name)
    return out


def canon_list(v: Any, t: ListType) -> list[Json]:
    if isinstance(v, (str, bytes, Mapping)) or not isinstance(v, Iterable):
        raise CanonicalError(f"expected list, got {type(v).__name__}")
    return [canonical_value(x, t.element_type, "element") for x in v]


def _map_pairs(v: Any) -> list[tuple[Any, Any]]:
    """Spark/DuckDB give dicts, Arrow gives a list of (key, value) tuples."""
    if isinstance(v, Mapping):
        return list(v.items())
    if isinstance(v, (list, tuple)):
        return [tuple(p) for p in v]  # type: ignore[misc]
    raise CanonicalError(f"expected map, got {type(v).__name__}")


def canon_map(v: Any, t: MapType) -> list[list[Json]]:
    pairs = [
        [canonical_value(k, t.key_type, "key"), canonical_value(x, t.value_type, "value")]
        for k, x in _map_pairs(v)
    ]
    return sorted(pairs, key=lambda p: json.dumps(p[0], sort_keys=True))


# --- dispatch -------------------------------------------------------------------

_PRIMITIVES: dict[type, Callable[[Any], Json]] = {
    BooleanType: canon_bool,
    IntegerType: canon_integer,
    LongType: canon_integer,
    FloatType: canon_floating,
    DoubleType: canon_floating,
    DateType: canon_date,
    TimeType: canon_time,
    TimestampType: canon_timestamp,
    TimestamptzType: canon_timestamptz,
    StringType: canon_string,
    UUIDType: canon_uuid,
    BinaryType: canon_binary,
    FixedType: canon_binary,
}


def canonical_value(v: Any, t: IcebergType, where: str = "") -> Json:
    """Canonical JSON value of ``v`` read from a column of Iceberg type ``t``."""
    if v is None:
        return None
    try:
        if isinstance(t, StructType):
            return canon_struct(v, t)
        if isinstance(t, ListType):
            return canon_list(v, t)
        if isinstance(t, MapType):
            return canon_map(v, t)
        if isinstance(t, DecimalType):
            return canon_decimal(v, t.scale)
        fn = _PRIMITIVES.get(type(t))
        if fn is None:
            raise CanonicalError(f"unsupported Iceberg type {t}")
        return fn(v)
    except CanonicalError as e:
        raise CanonicalError(f"{where}: {e}" if where else str(e)) from None


def canonical_row(row: Mapping[str, Any], schema: Schema) -> dict[str, Json]:
    """Canonical JSON object for one top-level row (all schema columns required)."""
    return canon_struct(row, schema.as_struct())


def sort_rows(rows: Iterable[Json]) -> list[Json]:
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))


def canonical_rows(rows: Iterable[Mapping[str, Any]], schema: Schema) -> list[dict[str, Json]]:
    return sort_rows(canonical_row(r, schema) for r in rows)


# --- schemaless (ad-hoc SQL results) ----------------------------------------------


def canonical_untyped(v: Any) -> Json:
    """Best-effort canonical form when no Iceberg type is known (``op: sql``)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return canon_floating(v)
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, dt.datetime):
        return canon_timestamptz(v) if v.tzinfo is not None else canon_timestamp(v)
    if isinstance(v, dt.date):
        return format_date(v)
    if isinstance(v, dt.time):
        return format_time(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return canon_binary(v)
    as_dict = getattr(v, "asDict", None)
    if callable(as_dict):
        return {k: canonical_untyped(x) for k, x in as_dict().items()}
    if isinstance(v, Mapping):
        return {str(k): canonical_untyped(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [canonical_untyped(x) for x in v]
    return str(v)
