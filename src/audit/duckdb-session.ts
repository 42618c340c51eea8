// The embedded SQL engine audits run in (DuckDB, in memory, one database per audit): Iceberg
// types as DuckDB types, SQL quoting, parse-only checks of user SQL, and DuckDB values turned
// into exact JSON-safe values for report samples (bigint and decimals as strings, timestamps
// ISO-8601, binary as base64).
import {
  DuckDBBlobValue, type DuckDBConnection, DuckDBDateValue, DuckDBDecimalValue, DuckDBInstance, DuckDBListValue,
  DuckDBMapValue, DuckDBStructValue, DuckDBTimestampTZValue, DuckDBTimestampValue, DuckDBTimeValue, DuckDBUUIDValue,
  DuckDBArrayValue, DuckDBIntervalValue, type DuckDBValue,
} from '@duckdb/node-api';
import { UnsupportedError, ValidationError } from '../errors.ts';
import type { IcebergType } from '../spec/types.ts';

/** A JSON value (audit samples: bigints and decimals as strings). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export interface AuditDatabase {
  readonly connection: DuckDBConnection;
  close(): void;
}

/**
 * A fresh in-memory DuckDB (UTC session time zone: timestamptz text is UTC). With
 * `sandboxed`, DuckDB may not touch any file: what check SQL is prepared and run in (an
 * audit's own database is sandboxed once its rows are loaded: see lockDownFiles).
 */
export async function openAuditDatabase(o: { sandboxed?: boolean } = {}): Promise<AuditDatabase> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2', ...(o.sandboxed ? { enable_external_access: 'false' } : {}) });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  return {
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** From here on the database reads and writes no file: a check's SQL (read_text, COPY…) can
 * only see the tables loaded for it. Cannot be undone. */
export async function lockDownFiles(db: AuditDatabase): Promise<void> {
  await db.connection.run('SET enable_external_access = false');
}

let parser: Promise<AuditDatabase> | undefined;

/** Parses (without binding) one SQL statement; throws DuckDB's parser error. */
export async function parseSqlStatement(sql: string): Promise<void> {
  parser ??= openAuditDatabase({ sandboxed: true });
  const db = await parser;
  const statements = await db.connection.extractStatements(sql);
  if (statements.count !== 1) throw new ValidationError(`expected one SELECT statement, found ${statements.count}`);
}

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
export const quoteString = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** The DuckDB type holding an Iceberg type's values exactly. */
export function duckdbType(t: IcebergType): string {
  switch (t.kind) {
    case 'boolean': return 'BOOLEAN';
    case 'int': return 'INTEGER';
    case 'long': return 'BIGINT';
    case 'float': return 'FLOAT';
    case 'double': return 'DOUBLE';
    case 'decimal':
      if (t.precision > 38) throw new UnsupportedError(`decimal(${t.precision},${t.scale}) is wider than DuckDB's 38 digits`);
      return `DECIMAL(${t.precision},${t.scale})`;
    case 'date': return 'DATE';
    case 'time': return 'TIME';
    case 'timestamp': return 'TIMESTAMP';
    case 'timestamptz': return 'TIMESTAMPTZ';
    case 'string': return 'VARCHAR';
    case 'uuid': return 'UUID';
    case 'binary': case 'fixed': return 'BLOB';
    case 'struct': return `STRUCT(${t.fields.map((f) => `${quoteIdent(f.name)} ${duckdbType(f.type)}`).join(', ')})`;
    case 'list': return `${duckdbType(t.element)}[]`;
    case 'map': return `MAP(${duckdbType(t.key)}, ${duckdbType(t.value)})`;
  }
}

const MICROS_PER_DAY = 86_400_000_000n;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b !== a && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

function pad(n: number | bigint, width: number): string { return String(n).padStart(width, '0'); }

/** Days since 1970-01-01 → `YYYY-MM-DD` (proleptic Gregorian, years 0..9999). */
function isoDate(days: number): string {
  const d = new Date(days * 86_400_000);
  const y = d.getUTCFullYear();
  return `${y < 0 ? '-' : ''}${pad(Math.abs(y), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

function isoTime(micros: bigint): string {
  const s = micros / 1_000_000n;
  return `${pad(s / 3600n, 2)}:${pad((s / 60n) % 60n, 2)}:${pad(s % 60n, 2)}.${pad(micros % 1_000_000n, 6)}`;
}

/** Microseconds since the epoch → `YYYY-MM-DDTHH:MM:SS.ffffff` (exact to the microsecond). */
export function isoTimestamp(micros: bigint): string {
  const days = floorDiv(micros, MICROS_PER_DAY);
  return `${isoDate(Number(days))}T${isoTime(micros - days * MICROS_PER_DAY)}`;
}

/** One DuckDB value as an exact JSON-safe value. */
export function toJsonValue(v: DuckDBValue): JsonValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (v instanceof DuckDBDecimalValue) return v.toString();
  if (v instanceof DuckDBTimestampTZValue) return v.isFinite ? `${isoTimestamp(v.micros)}Z` : v.toString();
  if (v instanceof DuckDBTimestampValue) return v.isFinite ? isoTimestamp(v.micros) : v.toString();
  if (v instanceof DuckDBDateValue) return v.isFinite ? isoDate(v.days) : v.toString();
  if (v instanceof DuckDBTimeValue) return isoTime(v.micros);
  if (v instanceof DuckDBUUIDValue) return v.toString();
  if (v instanceof DuckDBBlobValue) return Buffer.from(v.bytes).toString('base64');
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return v.items.map(toJsonValue);
  if (v instanceof DuckDBStructValue) {
    const out: Record<string, JsonValue> = {};
    for (const [k, x] of Object.entries(v.entries)) out[k] = toJsonValue(x);
    return out;
  }
  if (v instanceof DuckDBMapValue) return v.entries.map((e) => ({ key: toJsonValue(e.key), value: toJsonValue(e.value) }));
  if (v instanceof DuckDBIntervalValue) return v.toString();
  return String(v);
}

/** Rows of a result as JSON-safe objects keyed by column name. */
export function jsonRows(columnNames: readonly string[], rows: readonly (readonly DuckDBValue[])[]): Record<string, JsonValue>[] {
  return rows.map((r) => {
    const o: Record<string, JsonValue> = {};
    columnNames.forEach((n, i) => { o[n] = toJsonValue(r[i] ?? null); });
    return o;
  });
}
