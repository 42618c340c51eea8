"""Long-lived interop reader: one JSON request per stdin line, one JSON response per stdout line.

Readers: pyiceberg (SqlCatalog, RestCatalog), DuckDB (iceberg extension, loaded offline from
the duckdb-extension-* wheels: iceberg_scan of the catalog's metadata location, or ATTACH to a
REST catalog) and Spark (Iceberg SparkCatalog of type jdbc or rest, one JVM for the life of the
process, started on the first Spark request). Each request names the catalog the table is
found through: the warehouse's SQLite catalog.db (default), PostgreSQL or a REST server.
Logs go to stderr only; see README.md for the protocol and the canonical row form.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import decimal
import glob
import json
import os
import re
import sqlite3
import sys
import tempfile
import time
import traceback
import uuid
from dataclasses import dataclass
from typing import IO, Any, Optional

sys.dont_write_bytecode = True  # no __pycache__ in the repo
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from canonical import canonical_rows, canonical_untyped, sort_rows  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'scripts'))
from duckdb_query import extension_path  # noqa: E402

from pyiceberg.expressions import (  # noqa: E402
    BooleanExpression,
    EqualTo,
    GreaterThan,
    GreaterThanOrEqual,
    IsNaN,
    IsNull,
    LessThan,
    LessThanOrEqual,
    Reference,
)
from pyiceberg.schema import Schema  # noqa: E402
from pyiceberg.table import StaticTable, Table  # noqa: E402
from pyiceberg.types import (  # noqa: E402
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FixedType,
    FloatType,
    IcebergType,
    IntegerType,
    LongType,
    StringType,
    TimestampType,
    TimestamptzType,
    TimeType,
    UUIDType,
)

READERS = ("pyiceberg", "duckdb", "spark")
JARS_DIR = os.environ.get("FLOE_JARS_DIR", os.path.expanduser("~/.cache/floe/jars"))
SPARK_DRIVER_MEMORY = os.environ.get("FLOE_SPARK_DRIVER_MEMORY", "1g")
ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"


def log(msg: str) -> None:
    print(f"[reader_server] {msg}", file=sys.stderr, flush=True)


def one_line(text: str, limit: int = 2000) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- requests -------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: Any


@dataclass(frozen=True)
class CatalogSpec:
    """The catalog a table is found through (readers.ts: ReaderCatalog).

    kind sqlite: ``uri`` is the catalog.db path; postgres: ``postgresql://user[:pw]@host:port/db``;
    rest: ``http://host:port``. ``name`` is the Iceberg catalog name: the ``catalog_name``
    column of the SQL catalogs, so Spark's catalog must carry exactly this name.
    """

    kind: str
    name: str
    uri: str
    warehouse: Optional[str]
    s3: Optional["S3Access"] = None

    @property
    def key(self) -> tuple[str, str, str, Optional[str]]:
        return (self.kind, self.name, self.uri, self.warehouse)

    @property
    def warehouse_uri(self) -> Optional[str]:
        """The warehouse as a URI: s3://… as given, a folder as file://…."""
        if self.warehouse is None or "://" in self.warehouse:
            return self.warehouse
        return f"file://{self.warehouse}"


@dataclass(frozen=True)
class S3Access:
    """An S3-compatible server (readers.ts: ReaderS3): path-style, plain HTTP allowed."""

    endpoint: str
    access_key_id: str
    secret_access_key: str
    region: str

    def iceberg_properties(self) -> dict[str, str]:
        """Iceberg's s3.* properties, which pyiceberg's FileIO reads too."""
        return {
            "s3.endpoint": self.endpoint,
            "s3.access-key-id": self.access_key_id,
            "s3.secret-access-key": self.secret_access_key,
            "s3.region": self.region,
            "s3.path-style-access": "true",
        }


def parse_s3(c: dict[str, Any]) -> Optional[S3Access]:
    s3 = c.get("s3")
    if not s3:
        return None
    return S3Access(s3["endpoint"], s3["accessKeyId"], s3["secretAccessKey"], s3.get("region") or "us-east-1")


def warehouse_of(value: str) -> str:
    """A warehouse URI (s3://…) as given, a folder made absolute."""
    return value if "://" in value else os.path.abspath(value)


def parse_catalog(req: dict[str, Any]) -> CatalogSpec:
    c = req.get("catalog")
    if c is None:  # the SQLite form: warehouse + catalog_db (+ catalog_name)
        return CatalogSpec(
            "sqlite", req.get("catalog_name") or "floe",
            os.path.abspath(req["catalog_db"]), os.path.abspath(req["warehouse"]),
        )
    kind, name, s3 = c.get("kind"), c.get("name") or "floe", parse_s3(c)
    if kind == "sqlite":
        return CatalogSpec("sqlite", name, os.path.abspath(c["db"]), warehouse_of(c["warehouse"]), s3)
    if kind == "postgres":
        return CatalogSpec("postgres", name, c["uri"], warehouse_of(c["warehouse"]), s3)
    if kind == "rest":
        return CatalogSpec("rest", name, c["uri"].rstrip("/"), None, s3)
    raise ValueError(f"unknown catalog kind {kind!r}")


def sqlalchemy_postgres_uri(uri: str) -> str:
    """floe's postgresql://… → SQLAlchemy's postgresql+psycopg2://… (pyiceberg SqlCatalog)."""
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg2://", uri)


def jdbc_postgres(uri: str) -> tuple[str, str, str]:
    """postgresql://user:pw@host:port/db → (jdbc:postgresql://host:port/db, user, password)."""
    from urllib.parse import unquote, urlsplit

    u = urlsplit(uri)
    return (
        f"jdbc:postgresql://{u.hostname}:{u.port or 5432}{u.path}",
        unquote(u.username or ""),
        unquote(u.password or ""),
    )


@dataclass(frozen=True)
class ReadRequest:
    reader: str
    catalog: CatalogSpec
    table: str
    snapshot_id: Optional[int]
    # A branch or tag name (Spark only: VERSION AS OF 'name'; the client resolves it for the others).
    ref: Optional[str]
    filter: Optional[Filter]
    metadata_location: Optional[str]

    @property
    def namespace(self) -> str:
        return self.table.rpartition(".")[0]

    @property
    def name(self) -> str:
        return self.table.rpartition(".")[2]


def parse_read_request(req: dict[str, Any]) -> ReadRequest:
    reader = req.get("reader")
    if reader not in READERS:
        raise ValueError(f"unknown reader {reader!r}")
    table = req.get("table") or ""
    if "." not in table:
        raise ValueError(f"table must be namespace.table, got {table!r}")
    flt = req.get("filter")
    snapshot = req.get("snapshot_id")
    return ReadRequest(
        reader=reader,
        catalog=parse_catalog(req),
        table=table,
        snapshot_id=int(snapshot) if snapshot is not None else None,
        ref=req.get("ref"),
        filter=Filter(flt["column"], flt["op"], flt.get("value")) if flt else None,
        metadata_location=req.get("metadata_location"),
    )


# --- filters --------------------------------------------------------------------

_PYICEBERG_OPS = {
    "==": EqualTo,
    "<": LessThan,
    "<=": LessThanOrEqual,
    ">": GreaterThan,
    ">=": GreaterThanOrEqual,
}
_SQL_OPS = {"==": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_SPECIAL_FLOATS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def column_type(schema: Schema, column: str) -> IcebergType:
    return schema.find_field(column).field_type


def python_value(value: Any, t: IcebergType) -> Any:
    """Canonical filter value -> Python value of the Iceberg type."""
    if isinstance(t, (IntegerType, LongType)):
        return int(value)
    if isinstance(t, (FloatType, DoubleType)):
        return _SPECIAL_FLOATS.get(value, value) if isinstance(value, str) else float(value)
    if isinstance(t, DecimalType):
        return decimal.Decimal(str(value))
    if isinstance(t, DateType):
        return dt.date.fromisoformat(value)
    if isinstance(t, TimeType):
        return dt.time.fromisoformat(value)
    if isinstance(t, TimestamptzType):
        return dt.datetime.fromisoformat(value).astimezone(dt.timezone.utc)
    if isinstance(t, TimestampType):
        return dt.datetime.fromisoformat(value)
    if isinstance(t, UUIDType):
        return uuid.UUID(value)
    if isinstance(t, (BinaryType, FixedType)):
        return base64.b64decode(value)
    if isinstance(t, (BooleanType, StringType)):
        return value
    raise ValueError(f"cannot filter on type {t}")


def is_nan_equality(f: Filter) -> bool:
    """``== "NaN"`` means "is NaN" (NaN = NaN is false in pyiceberg and Spark)."""
    return f.op == "==" and f.value == "NaN"


def pyiceberg_filter(f: Filter, schema: Schema) -> BooleanExpression:
    if f.op == "is_null":
        return IsNull(Reference(f.column))  # type: ignore[call-arg]
    if is_nan_equality(f):
        return IsNaN(Reference(f.column))  # type: ignore[call-arg]
    if f.op not in _PYICEBERG_OPS:
        raise ValueError(f"unknown filter op {f.op!r}")
    return _PYICEBERG_OPS[f.op](f.column, python_value(f.value, column_type(schema, f.column)))


def sql_string(s: str, dialect: str = "duckdb") -> str:
    """Quoted SQL string: DuckDB doubles quotes; Spark uses backslash escapes."""
    if dialect == "spark":
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + s.replace("'", "''") + "'"


def sql_literal(value: Any, t: IcebergType, dialect: str) -> str:
    """SQL literal for a canonical filter value; dialect is 'duckdb' or 'spark'."""
    v = python_value(value, t)

    def q(text: str) -> str:
        return sql_string(text, dialect)

    if isinstance(t, BooleanType):
        return "TRUE" if v else "FALSE"
    if isinstance(t, IntegerType):
        return f"CAST({v} AS INT)"
    if isinstance(t, LongType):
        return f"CAST({v} AS BIGINT)"
    if isinstance(t, (FloatType, DoubleType)):
        sql_type = "FLOAT" if isinstance(t, FloatType) else "DOUBLE"
        return f"CAST({q(value if isinstance(value, str) else repr(v))} AS {sql_type})"
    if isinstance(t, DecimalType):
        return f"CAST({q(format(v, 'f'))} AS DECIMAL({t.precision},{t.scale}))"
    if isinstance(t, DateType):
        return f"DATE {q(v.isoformat())}"
    if isinstance(t, TimeType):
        return f"TIME {q(v.isoformat())}"
    if isinstance(t, TimestamptzType):
        kw = "TIMESTAMPTZ" if dialect == "duckdb" else "TIMESTAMP"
        return f"{kw} {q(v.isoformat(sep=' '))}"
    if isinstance(t, TimestampType):
        kw = "TIMESTAMP" if dialect == "duckdb" else "TIMESTAMP_NTZ"
        return f"{kw} {q(v.isoformat(sep=' '))}"
    if isinstance(t, UUIDType):
        return f"CAST({q(str(v))} AS UUID)" if dialect == "duckdb" else q(str(v))
    if isinstance(t, (BinaryType, FixedType)):
        return f"from_hex({q(v.hex())})" if dialect == "duckdb" else f"X{q(v.hex())}"
    return q(v)


def sql_column(column: str, dialect: str) -> str:
    q = '"' if dialect == "duckdb" else "`"
    return ".".join(q + part.replace(q, q + q) + q for part in column.split("."))


def sql_where(f: Optional[Filter], schema: Schema, dialect: str) -> str:
    if f is None:
        return ""
    col = sql_column(f.column, dialect)
    if f.op == "is_null":
        return f" WHERE {col} IS NULL"
    if is_nan_equality(f):
        return f" WHERE isnan({col})"
    if f.op not in _SQL_OPS:
        raise ValueError(f"unknown filter op {f.op!r}")
    return f" WHERE {col} {_SQL_OPS[f.op]} {sql_literal(f.value, column_type(schema, f.column), dialect)}"


# --- pyiceberg --------------------------------------------------------------------


class PyIcebergReader:
    def __init__(self) -> None:
        self._catalogs: dict[tuple[str, str, str, Optional[str]], Any] = {}

    def catalog(self, r: ReadRequest) -> Any:
        c = r.catalog
        if c.key not in self._catalogs:
            self._catalogs[c.key] = pyiceberg_catalog(c)
        return self._catalogs[c.key]

    def load_table(self, r: ReadRequest) -> Table:
        return self.catalog(r).load_table(r.table)

    def read(self, r: ReadRequest) -> tuple[list[Any], Optional[int]]:
        table = self.load_table(r)
        schema = scan_schema(table, r.snapshot_id)
        kwargs: dict[str, Any] = {"snapshot_id": r.snapshot_id}
        if r.filter is not None:
            kwargs["row_filter"] = pyiceberg_filter(r.filter, schema)
        scan = table.scan(**kwargs)
        files = len(list(scan.plan_files()))
        return canonical_rows(scan.to_arrow().to_pylist(), schema), files


def pyiceberg_catalog(c: CatalogSpec) -> Any:
    """pyiceberg's SqlCatalog (SQLite, PostgreSQL) or RestCatalog for a catalog spec."""
    s3 = c.s3.iceberg_properties() if c.s3 else {}
    if c.kind == "rest":
        from pyiceberg.catalog.rest import RestCatalog

        return RestCatalog(c.name, uri=c.uri, **s3)
    from pyiceberg.catalog.sql import SqlCatalog

    uri = f"sqlite:///{c.uri}" if c.kind == "sqlite" else sqlalchemy_postgres_uri(c.uri)
    return SqlCatalog(c.name, uri=uri, warehouse=c.warehouse_uri, **s3)


def scan_schema(table: Table, snapshot_id: Optional[int]) -> Schema:
    """Schema of the snapshot being read (pyiceberg resolves the snapshot's schema id)."""
    return table.scan(snapshot_id=snapshot_id).projection()


# --- duckdb -----------------------------------------------------------------------


def duckdb_extension_path(name: str) -> str:
    """The .duckdb_extension file shipped in the duckdb-extension-<name> wheel."""
    return extension_path(name)


def catalog_metadata_location(r: ReadRequest) -> str:
    """The table's current metadata file, read from the SQL catalog's iceberg_tables row."""
    c = r.catalog
    query = (
        "SELECT metadata_location FROM iceberg_tables"
        " WHERE catalog_name = {p} AND table_namespace = {p} AND table_name = {p}"
    )
    args = (c.name, r.namespace, r.name)
    if c.kind == "sqlite":
        with contextlib.closing(sqlite3.connect(f"file:{c.uri}?mode=ro", uri=True)) as conn:
            row = conn.execute(query.format(p="?"), args).fetchone()
    elif c.kind == "postgres":
        import psycopg2

        with contextlib.closing(psycopg2.connect(c.uri)) as conn, conn.cursor() as cur:
            cur.execute(query.format(p="%s"), args)
            row = cur.fetchone()
    else:
        raise ValueError(f"{c.kind} catalog has no iceberg_tables row to read")
    if row is None or not row[0]:
        raise LookupError(f"no iceberg_tables row for {c.name}.{r.table} in {c.kind} catalog {redact(c.uri)}")
    return str(row[0])


def redact(uri: str) -> str:
    """A URI without its password (errors end up in test output)."""
    return re.sub(r"(//[^:/@]+):[^@/]*@", r"\1:***@", uri)


_FILES_READ = re.compile(r"Total Files Read:\s*([\d,]+)")


class DuckDBReader:
    """iceberg_scan of the catalog's metadata location (SQLite, PostgreSQL), or the table of a
    REST catalog ATTACHed as a DuckDB database (``TYPE iceberg``, one per endpoint)."""

    def __init__(self) -> None:
        self._con: Any = None
        self._attached: dict[str, str] = {}
        self._secrets: dict[S3Access, str] = {}

    def use_s3(self, s3: Optional[S3Access]) -> None:
        """A DuckDB S3 secret for the server (httpfs), made once per endpoint and key."""
        if s3 is None or s3 in self._secrets:
            return
        from urllib.parse import urlsplit

        u = urlsplit(s3.endpoint)
        name = f"s3_{len(self._secrets)}"
        self.con().execute(
            f"CREATE SECRET {name} (TYPE s3, KEY_ID {sql_string(s3.access_key_id)},"
            f" SECRET {sql_string(s3.secret_access_key)}, REGION {sql_string(s3.region)},"
            f" ENDPOINT {sql_string(u.netloc)}, URL_STYLE 'path', USE_SSL {'true' if u.scheme == 'https' else 'false'})"
        )
        self._secrets[s3] = name

    def con(self) -> Any:
        if self._con is None:
            self._con = self._connect()
        return self._con

    @staticmethod
    def _connect() -> Any:
        import duckdb

        con = duckdb.connect(
            config={
                "autoinstall_known_extensions": "false",
                "autoload_known_extensions": "false",
            }
        )
        con.execute("SET enable_progress_bar = false")
        # iceberg's init needs avro already loaded, else it tries to download it; ATTACH to a
        # REST catalog needs httpfs (its HTTP client) loaded too.
        for name in ("avro", "httpfs", "iceberg"):
            con.execute(f"LOAD {sql_string(duckdb_extension_path(name))}")
        con.execute("SET TimeZone = 'UTC'")
        log(f"duckdb {duckdb.__version__} with avro+httpfs+iceberg loaded from wheel files")
        return con

    def attach(self, c: CatalogSpec) -> str:
        """The DuckDB database name of a REST catalog (ATTACHed on first use)."""
        if c.uri not in self._attached:
            db = f"rest{len(self._attached)}"
            self.con().execute(
                f"ATTACH '' AS {db} (TYPE iceberg, ENDPOINT {sql_string(c.uri)}, AUTHORIZATION_TYPE 'none')"
            )
            self._attached[c.uri] = db
        return self._attached[c.uri]

    def read(self, r: ReadRequest, pyiceberg: "PyIcebergReader") -> tuple[list[Any], Optional[int]]:
        self.use_s3(r.catalog.s3)
        if r.metadata_location is None and r.catalog.kind == "rest":
            schema = scan_schema(pyiceberg.load_table(r), r.snapshot_id)
            source = ".".join([self.attach(r.catalog), *(sql_column(p, "duckdb") for p in r.table.split("."))])
            if r.snapshot_id is not None:
                source += f" AT (VERSION => {r.snapshot_id})"
        else:
            location = r.metadata_location or catalog_metadata_location(r)
            props = r.catalog.s3.iceberg_properties() if r.catalog.s3 else {}
            schema = scan_schema(StaticTable.from_metadata(location, props), r.snapshot_id)
            args = sql_string(location)
            if r.snapshot_id is not None:
                args += f", snapshot_from_id => {r.snapshot_id}"
            source = f"iceberg_scan({args})"
        query = f"SELECT * FROM {source}{sql_where(r.filter, schema, 'duckdb')}"
        con = self.con()
        rows = con.execute(query).to_arrow_table().to_pylist()
        return canonical_rows(rows, schema), self.files_read(query)

    def files_read(self, query: str) -> Optional[int]:
        """'Total Files Read' of the ICEBERG_SCAN operator in EXPLAIN ANALYZE."""
        plan = "\n".join(str(row[-1]) for row in self.con().execute("EXPLAIN ANALYZE " + query).fetchall())
        counts = [int(m.replace(",", "")) for m in _FILES_READ.findall(plan)]
        return sum(counts) if counts else None

    def sql(self, sql: str) -> list[Any]:
        cur = self.con().execute(sql)
        if cur.description is None:
            return []
        return untyped_rows(cur.to_arrow_table().to_pylist())


# --- spark ------------------------------------------------------------------------


# One jar of each in JARS_DIR (scripts/setup-readers.sh): the Iceberg runtime, the JDBC
# drivers of JdbcCatalog on SQLite and on PostgreSQL, and the AWS SDK of Iceberg's S3FileIO.
SPARK_JAR_PREFIXES = ("iceberg-spark-runtime-", "sqlite-jdbc-", "postgresql-", "iceberg-aws-bundle-")


def spark_jars() -> list[str]:
    jars = []
    for prefix in SPARK_JAR_PREFIXES:
        found = sorted(glob.glob(os.path.join(JARS_DIR, f"{prefix}*.jar")))
        if len(found) != 1:
            raise RuntimeError(
                f"expected one {prefix}*.jar in {JARS_DIR}, found {found}: run bash scripts/setup-readers.sh"
            )
        jars += found
    return jars


def spark_catalog_conf(c: CatalogSpec) -> dict[str, str]:
    """``spark.sql.catalog.<name>.*`` settings (without the prefix) of an Iceberg catalog."""
    conf = {"": "org.apache.iceberg.spark.SparkCatalog"}
    if c.kind == "rest":
        conf.update({"type": "rest", "uri": c.uri})
    else:
        conf["type"] = "jdbc"
        if c.kind == "sqlite":
            conf["uri"] = f"jdbc:sqlite:{c.uri}"
        else:
            url, user, password = jdbc_postgres(c.uri)
            conf.update({"uri": url, "jdbc.user": user})
            if password:
                conf["jdbc.password"] = password
        conf["warehouse"] = c.warehouse_uri or ""
    if c.s3:
        # Iceberg's own S3 client for s3:// locations (not Hadoop's S3A).
        conf["io-impl"] = "org.apache.iceberg.aws.s3.S3FileIO"
        conf.update(c.s3.iceberg_properties())
        conf["client.region"] = c.s3.region
    # Other processes (floe) commit between reads: never serve cached metadata.
    conf["cache-enabled"] = "false"
    return conf


class SparkReader:
    """One SparkContext; one SparkSession per catalog.

    Iceberg's JdbcCatalog uses the Spark catalog name as its ``catalog_name`` column,
    so the Spark catalog must be called exactly ``catalog_name``.  Two catalogs
    with the same name therefore get two sessions (``newSession()`` shares the JVM
    and SparkContext but has its own SQL conf and catalog manager).
    """

    def __init__(self) -> None:
        self._base: Any = None
        self._sessions: dict[tuple[str, str, str, Optional[str]], Any] = {}

    def base(self) -> Any:
        if self._base is None:
            self._base = self._start()
        return self._base

    @staticmethod
    def _start() -> Any:
        from pyspark.sql import SparkSession

        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        started = time.monotonic()
        tmp = tempfile.mkdtemp(prefix="floe-spark-")
        spark = (
            SparkSession.builder.master("local[2]")
            .appName("floe-interop-reader")
            .config("spark.jars", ",".join(spark_jars()))
            .config("spark.sql.extensions", ICEBERG_EXTENSIONS)
            .config("spark.driver.memory", SPARK_DRIVER_MEMORY)
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.adaptive.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.warehouse.dir", os.path.join(tmp, "spark-warehouse"))
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("WARN")
        jars = ", ".join(os.path.basename(j) for j in spark_jars())
        log(f"spark {spark.version} started in {time.monotonic() - started:.1f}s with {jars}")
        return spark

    def session(self, c: CatalogSpec) -> Any:
        if c.key not in self._sessions:
            s = self.base().newSession()
            prefix = f"spark.sql.catalog.{c.name}"
            for k, v in spark_catalog_conf(c).items():
                s.conf.set(f"{prefix}.{k}" if k else prefix, v)
            self._sessions[c.key] = s
        return self._sessions[c.key]

    def release(self, session: Any, catalog_name: str) -> None:
        """Close the catalog's JDBC connections and forget the catalog.

        Iceberg 1.10's JdbcCatalog.initialize() leaves a DatabaseMetaData.getColumns
        ResultSet open (updateSchemaIfRequired), so its pooled sqlite connection keeps
        a read lock on catalog.db and every later commit by another process (floe)
        fails with "database is locked".  Closing the catalog after each request and
        re-creating it on the next one (a few ms) avoids that.
        """
        try:
            manager = session._jsparkSession.sessionState().catalogManager()
            manager.catalog(catalog_name).icebergCatalog().close()
            manager.reset()
        except Exception as e:  # best effort; a failure here must not hide the result
            log(f"spark: could not release catalog {catalog_name}: {one_line(str(e), 300)}")

    def read(self, r: ReadRequest, schema: Schema) -> tuple[list[Any], Optional[int]]:
        s = self.session(r.catalog)
        ident = ".".join(sql_column(p, "spark") for p in [r.catalog.name, *r.table.split(".")])
        if r.ref is not None:
            version = f" VERSION AS OF {sql_string(r.ref, 'spark')}"
        else:
            version = f" VERSION AS OF {r.snapshot_id}" if r.snapshot_id is not None else ""
        try:
            df = s.sql(f"SELECT * FROM {ident}{version}{sql_where(r.filter, schema, 'spark')}")
            rows = [row.asDict() for row in df.collect()]
            files = self.files_scanned(df)
        finally:
            self.release(s, r.catalog.name)
        return canonical_rows(rows, schema), files

    def files_scanned(self, df: Any) -> Optional[int]:
        """Iceberg's ``resultDataFiles`` driver metric on the executed BatchScanExec."""
        try:
            jvm = df.sparkSession._jvm
            plan = df._jdf.queryExecution().executedPlan()
            leaves = jvm.scala.collection.JavaConverters.seqAsJavaList(plan.collectLeaves())
            total, found = 0, False
            for leaf in leaves:
                metric = leaf.metrics().get("resultDataFiles")
                if metric.isDefined():
                    total += int(metric.get().value())
                    found = True
            return total if found else None
        except Exception as e:  # metrics are best effort, rows are what matters
            log(f"spark files_scanned unavailable: {one_line(str(e), 300)}")
            return None

    def sql(self, sql: str, req: dict[str, Any]) -> list[Any]:
        if not req.get("catalog_db") and not req.get("catalog"):
            return untyped_rows(row.asDict() for row in self.base().sql(sql).collect())
        c = parse_catalog(req)
        s = self.session(c)
        try:
            return untyped_rows(row.asDict() for row in s.sql(sql).collect())
        finally:
            self.release(s, c.name)

    def stop(self) -> None:
        if self._base is not None:
            self._base.stop()


def untyped_rows(rows: Any) -> list[Any]:
    return sort_rows({k: canonical_untyped(v) for k, v in row.items()} for row in rows)


# --- dispatch ---------------------------------------------------------------------


def describe_error(e: BaseException) -> str:
    java = getattr(e, "java_exception", None)
    if java is not None:
        return one_line(java.toString())
    return one_line(f"{type(e).__name__}: {e}")


class Server:
    def __init__(self) -> None:
        self.pyiceberg = PyIcebergReader()
        self.duckdb = DuckDBReader()
        self.spark = SparkReader()

    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        op = req.get("op", "read")
        if op == "ping":
            return {"ok": True}
        if op == "sql":
            return self.handle_sql(req)
        if op == "read":
            return self.handle_read(req)
        raise ValueError(f"unknown op {op!r}")

    def handle_read(self, req: dict[str, Any]) -> dict[str, Any]:
        r = parse_read_request(req)
        started = time.monotonic()
        try:
            rows, files = self.read(r)
        except Exception as e:
            log(f"{r.reader} {r.table} failed:\n{traceback.format_exc()}")
            return {"ok": False, "error": f"{r.reader} reading {r.table}: {describe_error(e)}"}
        log(f"{r.reader} {r.table}: {len(rows)} rows, {files} files in {time.monotonic() - started:.2f}s")
        return {"ok": True, "rows": rows, "files_scanned": files}

    def read(self, r: ReadRequest) -> tuple[list[Any], Optional[int]]:
        if r.reader == "pyiceberg":
            return self.pyiceberg.read(r)
        if r.reader == "duckdb":
            return self.duckdb.read(r, self.pyiceberg)
        table = self.pyiceberg.load_table(r)
        snapshot_id = r.snapshot_id
        if r.ref is not None:
            ref = table.metadata.refs.get(r.ref)
            if ref is None:
                raise LookupError(f"{r.table} has no branch or tag {r.ref!r}")
            snapshot_id = ref.snapshot_id
        return self.spark.read(r, scan_schema(table, snapshot_id))

    def handle_sql(self, req: dict[str, Any]) -> dict[str, Any]:
        reader, sql = req.get("reader"), req.get("sql")
        if not isinstance(sql, str):
            raise ValueError("sql op needs a 'sql' string")
        try:
            if reader == "duckdb":
                rows = self.duckdb.sql(sql)
            elif reader == "spark":
                rows = self.spark.sql(sql, req)
            else:
                raise ValueError(f"sql op supports duckdb and spark, not {reader!r}")
        except Exception as e:
            log(f"{reader} sql failed:\n{traceback.format_exc()}")
            return {"ok": False, "error": f"{reader} sql: {describe_error(e)}"}
        return {"ok": True, "rows": rows}


def respond(out: IO[str], rid: Any, body: dict[str, Any]) -> None:
    try:
        text = json.dumps({"id": rid, **body}, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        text = json.dumps({"id": rid, "ok": False, "error": one_line(f"response not JSON-serialisable: {e}")})
    out.write(text + "\n")
    out.flush()


def handle_line(server: Server, line: str) -> tuple[Any, dict[str, Any]]:
    rid: Any = None
    try:
        req = json.loads(line)
        if not isinstance(req, dict):
            raise ValueError("request must be a JSON object")
        rid = req.get("id")
        return rid, server.handle(req)
    except Exception as e:
        log(f"bad request {one_line(line, 300)}:\n{traceback.format_exc()}")
        return rid, {"ok": False, "error": f"request: {describe_error(e)}"}


def protocol_stdout() -> IO[str]:
    """Keep the real stdout for responses; point fd 1 (incl. the JVM's) at stderr."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def main() -> int:
    os.environ["TZ"] = "UTC"  # pyspark turns timestamps into naive local datetimes
    time.tzset()
    out = protocol_stdout()
    server = Server()
    log("ready")
    try:
        for line in sys.stdin:
            if line.strip():
                rid, body = handle_line(server, line)
                respond(out, rid, body)
    finally:
        server.spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
