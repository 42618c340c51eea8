#!/usr/bin/env bash
# Installs the interop readers used by test/interop (pyiceberg, DuckDB + its
# iceberg + httpfs extensions, Spark + Iceberg runtime + SQLite and PostgreSQL JDBC + the
# AWS SDK bundle for S3FileIO). Idempotent: a warm
# rerun only checks stamps and file presence and takes a few seconds.
#
#   FLOE_VENV      Python venv to create/use        (default <repo>/.venv)
#   FLOE_JARS_DIR  where the Spark jars are copied   (default ~/.cache/floe/jars)
#   FLOE_PYTHON    interpreter used to create venv  (default python3)
#
# pip's cache stays at its default (~/.cache/pip); Maven's at ~/.m2.
#
#   --duckdb       only DuckDB and its extensions (what `floe demo` needs; no Spark)
set -euo pipefail
DUCKDB_ONLY=0
[[ "${1:-}" == "--duckdb" ]] && DUCKDB_ONLY=1

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${FLOE_VENV:-$REPO/.venv}"
JARS_DIR="${FLOE_JARS_DIR:-$HOME/.cache/floe/jars}"
PYTHON="${FLOE_PYTHON:-python3}"

# --- pinned versions (see test/interop/readers/README.md for why) -----------
PYICEBERG_VERSION=0.12.0
PYARROW_VERSION=23.0.1
PYICEBERG_CORE_VERSION=0.10.1         # needed by pyiceberg for partition transforms on write
SQLALCHEMY_VERSION=2.0.44
PSYCOPG2_VERSION=2.9.13               # pyiceberg's SqlCatalog on PostgreSQL (postgresql+psycopg2://)
DUCKDB_VERSION=1.5.5                  # must equal the extension package version
DUCKDB_ICEBERG_EXT_VERSION=1.5.5
DUCKDB_AVRO_EXT_VERSION=1.5.5         # iceberg extension reads manifests through avro
DUCKDB_HTTPFS_EXT_VERSION=1.5.5       # ATTACH to a REST catalog (its HTTP client); S3 warehouses
PYTZ_VERSION=2026.6                   # DuckDB's Python client needs it to return timestamptz values (scripts/duckdb_query.py)
PYSPARK_VERSION=3.5.9
ICEBERG_VERSION=1.10.2
ICEBERG_SPARK_ARTIFACT=iceberg-spark-runtime-3.5_2.12
SQLITE_JDBC_VERSION=3.50.3.0
POSTGRESQL_JDBC_VERSION=42.7.6        # Spark's JdbcCatalog on PostgreSQL (the driver Trino 476 bundles)
ICEBERG_AWS_BUNDLE_VERSION=1.10.0     # the AWS SDK of S3FileIO (no 1.10.2 bundle on Maven Central; scripts/rest.sh uses the same)

PY_REQS=(
  "pyiceberg[sql-sqlite,pyarrow,pyiceberg-core]==$PYICEBERG_VERSION"
  "pyiceberg-core==$PYICEBERG_CORE_VERSION"
  "pyarrow==$PYARROW_VERSION"
  "sqlalchemy==$SQLALCHEMY_VERSION"
  "psycopg2-binary==$PSYCOPG2_VERSION"
  "duckdb==$DUCKDB_VERSION"
  "duckdb-extension-iceberg==$DUCKDB_ICEBERG_EXT_VERSION"
  "duckdb-extension-avro==$DUCKDB_AVRO_EXT_VERSION"
  "duckdb-extension-httpfs==$DUCKDB_HTTPFS_EXT_VERSION"
  "pytz==$PYTZ_VERSION"
  "pyspark==$PYSPARK_VERSION"
)
JARS=(
  "org.apache.iceberg:$ICEBERG_SPARK_ARTIFACT:$ICEBERG_VERSION"
  "org.xerial:sqlite-jdbc:$SQLITE_JDBC_VERSION"
  "org.postgresql:postgresql:$POSTGRESQL_JDBC_VERSION"
  "org.apache.iceberg:iceberg-aws-bundle:$ICEBERG_AWS_BUNDLE_VERSION"
)

step() { printf '[setup-readers] %s\n' "$*"; }
die() { printf '[setup-readers] ERROR: %s\n' "$*" >&2; exit 1; }

# --- 1. venv ------------------------------------------------------------------
if [[ -x "$VENV/bin/python" ]]; then
  step "venv: present at $VENV"
else
  step "venv: creating $VENV"
  "$PYTHON" -m venv "$VENV" || die "could not create venv at $VENV"
fi
VPY="$VENV/bin/python"

# --- 2. python packages --------------------------------------------------------
STAMP="$VENV/.floe-readers-stamp"
WANT="$(printf '%s\n' "${PY_REQS[@]}")"
if [[ $DUCKDB_ONLY == 1 ]]; then
  PY_REQS=("duckdb==$DUCKDB_VERSION" "duckdb-extension-iceberg==$DUCKDB_ICEBERG_EXT_VERSION" "duckdb-extension-avro==$DUCKDB_AVRO_EXT_VERSION" "duckdb-extension-httpfs==$DUCKDB_HTTPFS_EXT_VERSION" "pytz==$PYTZ_VERSION")
  if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then PY_REQS=(); fi
  STAMP="$VENV/.floe-duckdb-stamp"
  WANT="$(printf '%s\n' "${PY_REQS[@]}")"
fi
if [[ ${#PY_REQS[@]} == 0 ]] || [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
  step "python packages: already installed (stamp matches)"
else
  step "python packages: installing ${PY_REQS[*]}"
  "$VPY" -m pip install --disable-pip-version-check -q "${PY_REQS[@]}" \
    || die "pip install failed"
  printf '%s\n' "$WANT" > "$STAMP"
fi

# --- 3. quick import check (also proves the duckdb extensions load offline) -----
step "python packages: import check"
DUCKDB_ONLY=$DUCKDB_ONLY "$VPY" - <<'EOF' || die "import check failed (delete $STAMP to force a reinstall)"
import importlib.util, os, sys
import duckdb  # noqa: F401
import pytz  # noqa: F401  (DuckDB converts timestamptz values to Python through it)
if os.environ.get("DUCKDB_ONLY") != "1":
    import pyarrow, pyiceberg  # noqa: F401
for mod, name in (("duckdb_extension_avro", "avro"), ("duckdb_extension_httpfs", "httpfs"), ("duckdb_extension_iceberg", "iceberg")):
    spec = importlib.util.find_spec(mod)
    base = os.path.dirname(spec.origin)
    path = os.path.join(base, "extensions", "v" + duckdb.__version__, name + ".duckdb_extension")
    if not os.path.isfile(path):
        sys.exit(f"missing {path}")
if os.environ.get("DUCKDB_ONLY") != "1" and importlib.util.find_spec("pyspark") is None:
    sys.exit("pyspark missing")
EOF
if [[ $DUCKDB_ONLY == 1 ]]; then
  step "done (duckdb only, venv=$VENV)"
  exit 0
fi

# --- 4. jars --------------------------------------------------------------------
command -v java >/dev/null || die "java not on PATH (Spark needs Java 17)"
mkdir -p "$JARS_DIR"
M2_REPO="${M2_REPO:-$HOME/.m2/repository}"
for coord in "${JARS[@]}"; do
  IFS=: read -r group artifact version <<<"$coord"
  jar="$artifact-$version.jar"
  if [[ -s "$JARS_DIR/$jar" ]]; then
    step "jar: $jar present"
    continue
  fi
  src="$M2_REPO/${group//.//}/$artifact/$version/$jar"
  if [[ ! -s "$src" ]]; then
    step "jar: fetching $coord with mvn dependency:get"
    mvn_log="$(mktemp)"
    if ! mvn -B -ntp -Dstyle.color=never dependency:get -Dartifact="$coord" -Dtransitive=false \
        >"$mvn_log" 2>&1; then
      tail -n 30 "$mvn_log" >&2
      rm -f "$mvn_log"
      die "mvn dependency:get $coord failed"
    fi
    rm -f "$mvn_log"
  fi
  [[ -s "$src" ]] || die "expected $src after mvn dependency:get"
  cp "$src" "$JARS_DIR/$jar.tmp.$$" && mv "$JARS_DIR/$jar.tmp.$$" "$JARS_DIR/$jar"
  step "jar: $jar copied to $JARS_DIR"
done

# reader_server.py expects exactly one jar of each kind here (runtime, sqlite-jdbc, postgresql, aws-bundle).
wanted=()
for coord in "${JARS[@]}"; do
  IFS=: read -r _ artifact version <<<"$coord"
  wanted+=("$artifact-$version.jar")
done
for f in "$JARS_DIR"/iceberg-spark-runtime-*.jar "$JARS_DIR"/sqlite-jdbc-*.jar "$JARS_DIR"/postgresql-*.jar "$JARS_DIR"/iceberg-aws-bundle-*.jar; do
  [[ -e "$f" ]] || continue
  if [[ " ${wanted[*]} " != *" $(basename "$f") "* ]]; then
    rm -f "$f"
    step "jar: removed stale $(basename "$f")"
  fi
done

step "done (venv=$VENV jars=$JARS_DIR)"
