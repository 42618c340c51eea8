// Runs the checks of a check file against a branch (or a staged wap.id snapshot) in an
// embedded DuckDB: binds them to the table first (columns, the table's key, SQL prepared
// against the table's column types, the other tables of relationships checks) so bad input
// fails before any data file is read, then loads the rows each scope needs and runs one
// count and one sample query per check.
import { StatementType } from '@duckdb/node-api';
import { NotFoundError, ValidationError, errorMessage } from '../errors.ts';
import type { Schema } from '../spec/schema.ts';
import { ancestorsOf, currentSchema, MAIN_BRANCH, snapshotById, type Snapshot, type TableMetadata } from '../spec/table-metadata.ts';
import type { Catalog, LoadedTable } from '../table/catalog.ts';
import { identifierToString, parseTableIdentifier, type TableIdentifier } from '../table/identifier.ts';
import { divergence, refSnapshot } from '../table/ref-lineage.ts';
import type { AuditChecks, CheckScope, CheckSeverity, CheckType } from './audit-checks.ts';
import { oneLine } from './audit-checks.ts';
import { baseFilesRemovedBy, loadRows, type RowSource } from './audit-rows.ts';
import { freshnessSql, INLINE_ACCEPTED_VALUES, literalText, offendingRowsSql, resolveColumn, type BoundCheck } from './check-sql.ts';
import { duckdbType, isoTimestamp, jsonRows, lockDownFiles, openAuditDatabase, quoteIdent, type AuditDatabase, type JsonValue } from './duckdb-session.ts';

export interface AuditOptions {
  /** The branch audited; with `snapshotId`, only the name the result is reported and recorded under. */
  readonly branch: string;
  readonly checks: AuditChecks;
  /** "Now" for freshness checks (default Date.now()). */
  readonly nowMs?: number;
  /** What `scope: added` compares with (default main). */
  readonly baseBranch?: string;
  /** Audit this snapshot (e.g. one staged with a wap.id) instead of the branch head; `added`
   * is then the snapshot's own rows. */
  readonly snapshotId?: bigint;
}

/** The result of one audit check. */
export interface CheckResult {
  /** The check's name. */
  readonly name: string;
  /** The check's type. */
  readonly type: CheckType;
  /** `added` (rows the branch adds) or `branch` (all the branch's rows). */
  readonly scope: CheckScope;
  /** `error` fails the audit, `warn` is reported only. */
  readonly severity: CheckSeverity;
  /** Whether the check passed. */
  readonly passed: boolean;
  /** Offending rows (unique: duplicated key values; row_count: the row count when out of
   * bounds; freshness: the age in ms of the newest value when too old). */
  readonly failing: number;
  /** Rows in the check's scope. */
  readonly total: number;
  /** One line on the outcome. */
  readonly message: string;
  /** At most 5 offending rows, values exact and JSON-safe (bigint/decimal as strings,
   * timestamps ISO-8601, binary base64). */
  readonly samples: readonly Record<string, JsonValue>[];
}

/** The result of an audit of a branch. */
export interface AuditReport {
  /** The table (`ns.table`). */
  readonly table: string;
  /** The audited branch. */
  readonly branch: string;
  /** What `scope: added` compared with (main). */
  readonly baseBranch: string;
  /** The audited snapshot (the branch head, or `snapshotId`). */
  readonly snapshotId: bigint;
  /** Where the branch forked from the base (null: no common history). */
  readonly forkSnapshotId: bigint | null;
  /** When the audit ran. */
  readonly checkedAtMs: number;
  /** True when no check of severity error failed (warnings never fail an audit). */
  readonly passed: boolean;
  /** Every check's result, in the file's order. */
  readonly checks: readonly CheckResult[];
  /** Wall time of the audit. */
  readonly durationMs: number;
}

const SAMPLE_ROWS = 5;
const TIME_KINDS = new Set(['timestamp', 'timestamptz', 'date']);
const NOT_COMPARABLE = new Set(['struct', 'list', 'map']);

/** What an audit reads: the table, the audited snapshot and the snapshots of scope `added`. */
interface AuditTarget {
  readonly table: LoadedTable;
  readonly schema: Schema;
  readonly snapshot: Snapshot;
  readonly addedBy: ReadonlySet<bigint>;
  /** The base state the branch forked from (undefined: no common history). */
  readonly forkPoint: Snapshot | undefined;
  readonly forkSnapshotId: bigint | null;
}

function auditTarget(table: LoadedTable, o: AuditOptions): AuditTarget {
  const m = table.metadata;
  const name = identifierToString(table.identifier);
  const baseBranch = o.baseBranch ?? MAIN_BRANCH;
  const baseRef = m.refs[baseBranch];
  if (o.snapshotId !== undefined) {
    const snapshot = snapshotById(m, o.snapshotId);
    if (!snapshot) throw new NotFoundError(`table ${name} has no snapshot ${o.snapshotId}`);
    const d = baseRef === undefined ? { forkPoint: undefined } : divergence(m, snapshot.snapshotId, baseRef.snapshotId);
    const parent = snapshot.parentSnapshotId === null ? undefined : snapshotById(m, snapshot.parentSnapshotId);
    return { table, schema: currentSchema(m), snapshot, addedBy: new Set([snapshot.snapshotId]), forkPoint: parent, forkSnapshotId: d.forkPoint?.snapshotId ?? null };
  }
  let snapshot: Snapshot;
  try { snapshot = refSnapshot(m, o.branch); } catch (e) { throw new NotFoundError(`table ${name}: ${errorMessage(e)}`); }
  // A table whose first rows are staged on a branch has no main yet: everything is added.
  if (baseRef === undefined && baseBranch !== MAIN_BRANCH) throw new NotFoundError(`table ${name} has no base branch '${baseBranch}' to compare branch '${o.branch}' with`);
  const d = baseRef === undefined ? { forkPoint: undefined, branchOnly: [...ancestorsOf(m, snapshot.snapshotId)] } : divergence(m, snapshot.snapshotId, baseRef.snapshotId);
  return { table, schema: currentSchema(m), snapshot, addedBy: new Set(d.branchOnly.map((s) => s.snapshotId)), forkPoint: d.forkPoint, forkSnapshotId: d.forkPoint?.snapshotId ?? null };
}

interface BoundChecks {
  readonly checks: readonly BoundCheck[];
  /** Other tables of relationships checks: DuckDB table name → what to load. */
  readonly refs: ReadonlyMap<string, { table: LoadedTable; field: Schema['fields'][number] }>;
}

/** Resolves columns and keys and loads the tables relationships checks point to. */
async function bindChecks(catalog: Catalog, table: LoadedTable, schema: Schema, checks: AuditChecks): Promise<BoundChecks> {
  const tableName = identifierToString(table.identifier);
  const refs = new Map<string, { table: LoadedTable; field: Schema['fields'][number] }>();
  const bound = [];
  for (const [i, c] of checks.checks.entries()) {
    const what = `${checks.source}: checks[${i}] (${c.name}) on ${tableName}`;
    const column = (n: string) => resolveColumn(schema, n, what);
    let b: BoundCheck;
    switch (c.type) {
      case 'not_null': b = { ...c, fields: c.columns.map(column) }; break;
      case 'unique': {
        if (c.columns) { b = { ...c, fields: c.columns.map(column) }; break; }
        const key = schema.identifierFieldIds.map((id) => schema.fields.find((f) => f.id === id));
        if (key.length === 0 || key.some((f) => f === undefined)) {
          throw new ValidationError(`${what}: the table has no key (identifier fields) at the top level; give columns`);
        }
        b = { ...c, columns: key.map((f) => f!.name), fields: key as NonNullable<(typeof key)[number]>[] };
        break;
      }
      case 'accepted_values':
        b = { ...c, fields: [column(c.column)], ...(c.values.length > INLINE_ACCEPTED_VALUES ? { valuesTable: `accepted_${i}` } : {}) };
        break;
      case 'range': case 'freshness': case 'relationships': b = { ...c, fields: [column(c.column)] }; break;
      case 'row_count': case 'sql': b = { ...c, fields: [] }; break;
    }
    for (const f of b.fields) {
      if (NOT_COMPARABLE.has(f.type.kind) && c.type !== 'not_null') throw new ValidationError(`${what}: column '${f.name}' is a ${f.type.kind}; ${c.type} needs a primitive column`);
    }
    if (c.type === 'freshness' && !TIME_KINDS.has(b.fields[0]!.type.kind)) {
      throw new ValidationError(`${what}: column '${c.column}' is ${b.fields[0]!.type.kind}; freshness needs a timestamp, timestamptz or date column`);
    }
    if (c.type === 'relationships') {
      let other: LoadedTable;
      try { other = await catalog.loadTable(parseTableIdentifier(c.to.table)); } catch (e) {
        throw new ValidationError(`${what}: cannot load table '${c.to.table}': ${errorMessage(e)}`);
      }
      const field = resolveColumn(currentSchema(other.metadata), c.to.column, `${what}: to ${c.to.table}`);
      const refTable = `ref_${i}`;
      refs.set(refTable, { table: other, field });
      b = { ...b, refTable };
    }
    bound.push(b);
  }
  return { checks: bound, refs };
}

/** Loads the long accepted-values lists into their tables (as text, cast in the query). */
async function loadAcceptedValues(db: AuditDatabase, bound: BoundChecks): Promise<void> {
  for (const b of bound.checks) {
    if (b.type !== 'accepted_values' || b.valuesTable === undefined) continue;
    await db.connection.run(`CREATE OR REPLACE TABLE ${quoteIdent(b.valuesTable)} (v VARCHAR)`);
    const appender = await db.connection.createAppender(b.valuesTable);
    try {
      for (const v of b.values) { appender.appendVarchar(literalText(v)); appender.endRow(); }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }
}

/** Prepares every check's queries against empty tables of the right types: SQL that does
 * not bind (unknown column, bad literal, not a SELECT) fails here, before data is read. */
async function prepareChecks(db: AuditDatabase, schema: Schema, bound: BoundChecks, checks: AuditChecks, tableName: string): Promise<void> {
  const c = db.connection;
  await c.run(`CREATE OR REPLACE TABLE audit_empty (${schema.fields.map((f) => `${quoteIdent(f.name)} ${duckdbType(f.type)}`).join(', ')})`);
  await c.run('CREATE OR REPLACE VIEW rows AS SELECT * FROM audit_empty');
  for (const [name, r] of bound.refs) await c.run(`CREATE OR REPLACE TABLE ${quoteIdent(name)} (v ${duckdbType(r.field.type)})`);
  await loadAcceptedValues(db, bound);
  for (const [i, b] of bound.checks.entries()) {
    const what = `${checks.source}: checks[${i}] (${b.name}) on ${tableName}`;
    if (b.type === 'accepted_values' && b.valuesTable !== undefined) {
      // A value that is not of the column's type fails here, as an inline literal would.
      try { await c.run(`SELECT CAST(v AS ${duckdbType(b.fields[0]!.type)}) FROM ${quoteIdent(b.valuesTable)}`); } catch (e) {
        throw new ValidationError(`${what}: cannot compile the check: ${oneLine(errorMessage(e))}`);
      }
    }
    const sql = b.type === 'row_count' ? undefined : b.type === 'freshness' ? freshnessSql(b) : offendingRowsSql(b);
    if (sql === undefined) continue;
    try {
      const p = await c.prepare(sql);
      if (b.type === 'sql' && p.statementType !== StatementType.SELECT) throw new ValidationError('the query must be a SELECT (its rows are the offending rows)');
      p.destroySync();
      (await c.prepare(`SELECT count(*) FROM (${sql}) q`)).destroySync();
    } catch (e) {
      throw new ValidationError(`${what}: ${b.type === 'sql' ? 'SQL is invalid' : 'cannot compile the check'}: ${oneLine(errorMessage(e))}`);
    }
  }
}

async function prepareInSandbox(schema: Schema, bound: BoundChecks, checks: AuditChecks, tableName: string): Promise<void> {
  const db = await openAuditDatabase({ sandboxed: true });
  try {
    await prepareChecks(db, schema, bound, checks, tableName);
  } finally {
    db.close();
  }
}

/**
 * Checks that `checks` fit table `id` (columns, key, SQL, relationships' tables) without
 * reading data: what a pipeline calls once at start-up. Throws a one-line ValidationError.
 */
export async function validateAuditChecks(catalog: Catalog, id: TableIdentifier, checks: AuditChecks): Promise<void> {
  const table = await catalog.loadTable(id);
  const schema = currentSchema(table.metadata);
  await prepareInSandbox(schema, await bindChecks(catalog, table, schema, checks), checks, identifierToString(id));
}

function describeValues(values: readonly unknown[]): string {
  const shown = values.slice(0, 10).map((v) => JSON.stringify(v)).join(', ');
  return `[${shown}${values.length > 10 ? ', ...' : ''}]`;
}

function ageText(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

async function runCheck(db: AuditDatabase, b: BoundCheck, total: number, nowMs: number, refNames: ReadonlyMap<string, string>): Promise<CheckResult> {
  const c = db.connection;
  const head = { name: b.name, type: b.type, scope: b.scope, severity: b.severity } as const;
  if (b.type === 'row_count') {
    const low = b.min !== undefined && total < b.min;
    const high = b.max !== undefined && total > b.max;
    const bounds = `${b.min ?? 0}..${b.max ?? '∞'}`;
    const message = low ? `${total} rows, fewer than min ${b.min}` : high ? `${total} rows, more than max ${b.max}` : `${total} rows (expected ${bounds})`;
    return { ...head, passed: !low && !high, failing: low || high ? total : 0, total, message, samples: [] };
  }
  if (b.type === 'freshness') {
    const r = await c.runAndReadAll(freshnessSql(b));
    const v = r.getRows()[0]?.[0];
    if (v === null || v === undefined) {
      return { ...head, passed: false, failing: 0, total, message: `no value of ${b.column} in ${total} rows: cannot tell how fresh the data is`, samples: [] };
    }
    const newest = BigInt(v as bigint);
    const ageMs = nowMs - Number(newest / 1000n);
    const passed = ageMs <= b.maxAgeMs;
    const message = `newest ${b.column} ${isoTimestamp(newest)}Z is ${ageText(Math.max(0, ageMs))} old (max_age ${b.maxAge})`;
    return { ...head, passed, failing: passed ? 0 : ageMs, total, message, samples: passed ? [] : [{ [b.column]: `${isoTimestamp(newest)}Z` }] };
  }
  const sql = offendingRowsSql(b)!;
  const counted = await c.runAndReadAll(`SELECT count(*) FROM (${sql}) q`);
  const failing = Number(counted.getRows()[0]![0] as bigint);
  let samples: Record<string, JsonValue>[] = [];
  if (failing > 0) {
    const s = await c.runAndReadAll(`SELECT * FROM (${sql}) q LIMIT ${SAMPLE_ROWS}`);
    samples = jsonRows(s.columnNames(), s.getRows());
  }
  const cols = b.fields.map((f) => f.name).join(', ');
  let message: string;
  switch (b.type) {
    case 'not_null': message = `${failing} of ${total} rows have a null in ${cols}`; break;
    case 'unique': message = `${failing} duplicated value(s) of (${cols}) among ${total} rows`; break;
    case 'accepted_values': message = `${failing} of ${total} rows have ${cols} not in ${describeValues(b.values)}`; break;
    case 'range': message = `${failing} of ${total} rows have ${cols} outside ${b.inclusive ? '[' : '('}${b.min ?? '-∞'}, ${b.max ?? '∞'}${b.inclusive ? ']' : ')'}`; break;
    case 'relationships': message = `${failing} of ${total} rows have ${cols} not in ${b.to.table}.${b.to.column} (${refNames.get(b.refTable!) ?? 'main'})`; break;
    default: message = `${failing} row(s) returned by the query (${total} rows in scope)`;
  }
  return { ...head, passed: failing === 0, failing, total, message, samples };
}

/**
 * The rows the branch adds: live rows of the files its snapshots added, minus (as a multiset)
 * the rows of base files its snapshots rewrote — a copy-on-write MERGE copies the unchanged
 * rows of every file it touches into a new file, and those rows are not added by the branch.
 */
async function loadAddedRows(db: AuditDatabase, target: AuditTarget, src: Omit<RowSource, 'addedBy'>): Promise<number> {
  const m = target.table.metadata;
  const own = [...target.addedBy].map((id) => snapshotById(m, id)!).filter((s) => s !== undefined);
  const rewritten = await baseFilesRemovedBy(src.io, own);
  if (rewritten.size === 0 || !target.forkPoint) return loadRows(db, 'rows_added', { ...src, addedBy: target.addedBy });
  await loadRows(db, 'rows_added__raw', { ...src, addedBy: target.addedBy });
  await loadRows(db, 'rows_added__rewritten', { ...src, snapshot: target.forkPoint, onlyPaths: rewritten });
  const c = db.connection;
  await c.run('CREATE OR REPLACE TABLE rows_added AS SELECT * FROM rows_added__raw EXCEPT ALL SELECT * FROM rows_added__rewritten');
  await c.run('DROP TABLE rows_added__raw');
  await c.run('DROP TABLE rows_added__rewritten');
  const r = await c.runAndReadAll('SELECT count(*) FROM rows_added');
  return Number(r.getRows()[0]![0] as bigint);
}

/** Audits a branch (or a staged snapshot) with `o.checks`; see AuditReport. Changes nothing. */
export async function runAudit(catalog: Catalog, id: TableIdentifier, o: AuditOptions): Promise<AuditReport> {
  const started = performance.now();
  const nowMs = o.nowMs ?? Date.now();
  const baseBranch = o.baseBranch ?? MAIN_BRANCH;
  const table = await catalog.loadTable(id);
  const tableName = identifierToString(id);
  const target = auditTarget(table, o);
  const bound = await bindChecks(catalog, table, target.schema, o.checks);
  await prepareInSandbox(target.schema, bound, o.checks, tableName);
  const db = await openAuditDatabase();
  try {
    const scopes = new Set(bound.checks.map((b) => b.scope));
    const totals = new Map<CheckScope, number>();
    const src = { io: catalog.io, meta: table.metadata, schema: target.schema, snapshot: target.snapshot };
    for (const scope of scopes) {
      totals.set(scope, scope === 'added' ? await loadAddedRows(db, target, src) : await loadRows(db, `rows_${scope}`, src));
    }
    const refNames = new Map<string, string>();
    for (const [name, r] of bound.refs) {
      const m: TableMetadata = r.table.metadata;
      const mainRef = m.refs[MAIN_BRANCH];
      const snapshot = mainRef ? snapshotById(m, mainRef.snapshotId) : undefined;
      await loadRows(db, `${name}__rows`, { io: catalog.io, meta: m, schema: currentSchema(m), snapshot, fields: [r.field] });
      await db.connection.run(`CREATE OR REPLACE TABLE ${quoteIdent(name)} AS SELECT DISTINCT ${quoteIdent(r.field.name)} AS v FROM ${quoteIdent(`${name}__rows`)}`);
      refNames.set(name, `main${snapshot ? ` at snapshot ${snapshot.snapshotId}` : ', empty'}`);
    }
    await loadAcceptedValues(db, bound);
    await lockDownFiles(db);
    const results: CheckResult[] = [];
    let viewScope: CheckScope | undefined;
    for (const b of bound.checks) {
      if (viewScope !== b.scope) {
        await db.connection.run(`CREATE OR REPLACE VIEW rows AS SELECT * FROM ${quoteIdent(`rows_${b.scope}`)}`);
        viewScope = b.scope;
      }
      results.push(await runCheck(db, b, totals.get(b.scope)!, nowMs, refNames));
    }
    return {
      table: tableName, branch: o.branch, baseBranch, snapshotId: target.snapshot.snapshotId, forkSnapshotId: target.forkSnapshotId,
      checkedAtMs: nowMs, passed: results.every((r) => r.passed || r.severity === 'warn'), checks: results,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    db.close();
  }
}

