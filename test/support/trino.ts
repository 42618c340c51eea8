// Test client for scripts/trino.sh: a real single-node Trino 476 on loopback, started once per
// process and left running for the next test file (stop it with `npm run trino:down`). It speaks
// Trino's HTTP client protocol (POST /v1/statement, then GET nextUri until the query is done)
// and turns Trino's JSON values into the canonical row form of canonical.ts / canonical.py.
// A server that cannot be started fails the tests that need it, never skips them; only outside
// CI can FLOE_SKIP_TRINO=1 leave Trino out (readers.ts: TRINO_SKIPPED, ALL_READERS).
//
// Each warehouse gets its own catalog (`CREATE CATALOG … USING iceberg`, Trino's dynamic catalog
// management) reading floe's SQLite catalog.db directly, dropped when the test is done.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseLossless } from 'lossless-json';
import { catalogOf, type ReadRequest, type ReaderCatalog } from './readers.ts';

const execFileP = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TRINO_SCRIPT = path.join(REPO_ROOT, 'scripts/trino.sh');

let started: Promise<TrinoClient> | undefined;
/** Milliseconds `scripts/trino.sh up` took in this process (0 when the server was already up). */
export let trinoStartMs = 0;
/** Statements this process sent to Trino and the wall time they took (FLOE_TRINO_TIMING=1 prints them at exit). */
export const trinoTiming = { statements: 0, ms: 0 };
if (process.env.FLOE_TRINO_TIMING === '1') {
  process.on('exit', () => {
    if (trinoTiming.statements > 0 || trinoStartMs > 0) {
      process.stderr.write(`[trino timing] ${process.argv[1] ?? ''}: start ${trinoStartMs} ms, ${trinoTiming.statements} statements ${Math.round(trinoTiming.ms)} ms\n`);
    }
  });
}

/** Starts Trino with `scripts/trino.sh up` (once per process); resolves to a client for it. */
export function ensureTrino(): Promise<TrinoClient> {
  started ??= startServer();
  return started;
}

async function startServer(): Promise<TrinoClient> {
  let stdout: string;
  const t0 = Date.now();
  try {
    // The first run fetches ~540 MB from Maven Central and unpacks it: give it time.
    ({ stdout } = await execFileP('bash', [TRINO_SCRIPT, 'up'], { timeout: 20 * 60_000, maxBuffer: 16 << 20 }));
  } catch (err) {
    const e = err as { code?: unknown; signal?: unknown; stdout?: string; stderr?: string; message: string };
    const detail = (e.stderr || e.stdout || e.message).trim().split('\n').slice(-15).join('\n');
    throw new Error(`scripts/trino.sh up failed (exit ${String(e.code ?? e.signal)}):\n${detail}`);
  }
  if (!/already running/.test(stdout)) trinoStartMs = Date.now() - t0;
  if (process.env.FLOE_TRINO_LOG) process.stderr.write(stdout);
  const m = /trino up on (\S+)/.exec(stdout);
  if (!m?.[1]) throw new Error(`scripts/trino.sh up printed no address:\n${stdout}`);
  const client = new TrinoClient(`http://${m[1]}`);
  await dropOrphanCatalogs(client);
  return client;
}

// Catalogs are named after the test process that created them (floe_p<pid>_…): those of
// processes that are gone (killed before their after() hook) are dropped, so a server left
// running across many local runs does not collect them.
async function dropOrphanCatalogs(client: TrinoClient): Promise<void> {
  const alive = (pid: number): boolean => {
    try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
  };
  for (const [name] of (await client.query('SHOW CATALOGS')).rows as [string][]) {
    const pid = /^floe_p(\d+)_[0-9a-f]+$/.exec(name)?.[1];
    if (pid && !alive(Number(pid))) await client.dropCatalog(name);
  }
}

// --- protocol ------------------------------------------------------------------------------

/** A type signature as the client protocol sends it (`columns[].typeSignature`). */
export interface TypeSignature {
  rawType: string;
  arguments: { kind: 'TYPE' | 'NAMED_TYPE' | 'LONG' | 'VARIABLE'; value: unknown }[];
}
export interface TrinoColumn { name: string; type: string; typeSignature: TypeSignature }
export interface TrinoResult {
  queryId: string;
  columns: TrinoColumn[];
  /** Raw JSON values; integers beyond 2^53 stay decimal strings. */
  rows: unknown[][];
  /** The final `stats` object (processedRows, processedBytes, …). */
  stats: Record<string, unknown>;
  updateType?: string | undefined;
  updateCount?: number | undefined;
}

export class TrinoQueryError extends Error {
  constructor(message: string, readonly errorName: string | undefined, readonly sql: string) {
    super(message);
    this.name = 'TrinoQueryError';
  }
}

interface QueryResults {
  id: string;
  nextUri?: string;
  columns?: TrinoColumn[];
  data?: unknown[][];
  stats?: Record<string, unknown>;
  error?: { message: string; errorName?: string; failureInfo?: { stack?: string[] } };
  updateType?: string;
  updateCount?: number;
}

// Integers that a double cannot hold exactly (bigint columns, snapshot ids) stay strings; every
// other number is a JS number (Trino writes doubles in Java's shortest round-trip form).
function parseNumber(s: string): unknown {
  const n = Number(s);
  return /^-?\d+$/.test(s) && !Number.isSafeInteger(n) ? s : n;
}

export interface QueryOptions {
  catalog?: string;
  schema?: string;
  /** Session properties, e.g. { 'iceberg.…': 'true' } or catalog ones as `<catalog>.<name>`. */
  session?: Record<string, string>;
}

export class TrinoClient {
  constructor(readonly url: string, readonly user = 'floe-test') {}

  /** Runs one statement to completion; throws TrinoQueryError with Trino's message on failure. */
  async query(sql: string, opts: QueryOptions = {}): Promise<TrinoResult> {
    const t0 = performance.now();
    try {
      return await this.run(sql, opts);
    } finally {
      trinoTiming.statements++;
      trinoTiming.ms += performance.now() - t0;
    }
  }

  private async run(sql: string, opts: QueryOptions): Promise<TrinoResult> {
    const headers: Record<string, string> = {
      'X-Trino-User': this.user,
      'X-Trino-Source': 'floe-tests',
      // Timestamps with time zone come back in UTC, as every other reader gives them.
      'X-Trino-Time-Zone': 'UTC',
      // Without it Trino rounds time/timestamp values to milliseconds for "legacy" clients.
      'X-Trino-Client-Capabilities': 'PARAMETRIC_DATETIME',
    };
    if (opts.catalog) headers['X-Trino-Catalog'] = opts.catalog;
    if (opts.schema) headers['X-Trino-Schema'] = opts.schema;
    if (opts.session && Object.keys(opts.session).length > 0) {
      headers['X-Trino-Session'] = Object.entries(opts.session).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join(',');
    }
    let res = await this.request(`${this.url}/v1/statement`, { method: 'POST', headers, body: sql }, sql);
    const rows: unknown[][] = [];
    let columns: TrinoColumn[] | undefined;
    for (;;) {
      if (res.error) {
        const where = res.error.failureInfo?.stack?.slice(0, 3).join(' | ');
        throw new TrinoQueryError(`trino: ${res.error.errorName ?? 'error'}: ${res.error.message}${where ? ` (${where})` : ''}\n  sql: ${sql}`, res.error.errorName, sql);
      }
      columns ??= res.columns;
      if (res.data) rows.push(...res.data);
      if (!res.nextUri) break;
      res = await this.request(res.nextUri, { method: 'GET', headers: { 'X-Trino-User': this.user } }, sql);
    }
    return { queryId: res.id, columns: columns ?? [], rows, stats: res.stats ?? {}, updateType: res.updateType, updateCount: res.updateCount };
  }

  private async request(url: string, init: RequestInit, sql: string): Promise<QueryResults> {
    // The protocol answers 503 when the coordinator is busy: the client is expected to retry.
    for (let attempt = 0; ; attempt++) {
      const r = await fetch(url, init);
      const text = await r.text();
      if (r.status === 503 && attempt < 20) { await new Promise((res) => setTimeout(res, 100 * (attempt + 1))); continue; }
      if (!r.ok) throw new TrinoQueryError(`trino: HTTP ${r.status} from ${url}: ${text.slice(0, 500)}\n  sql: ${sql}`, undefined, sql);
      return parseLossless(text, null, parseNumber) as QueryResults;
    }
  }

  /** Rows as objects keyed by column name, values in canonical form (see canonicalTrinoValue). */
  async rows(sql: string, opts: QueryOptions = {}): Promise<Record<string, unknown>[]> {
    return canonicalTrinoRows(await this.query(sql, opts));
  }

  /**
   * A catalog named `floe_p<pid>_<random>` on a floe warehouse (its SQLite catalog.db, Iceberg catalog
   * name `catalogName`), created with CREATE CATALOG; drop it with dropCatalog when done.
   */
  async createCatalog(warehouse: string, catalogDb = path.join(warehouse, 'catalog.db'), catalogName = 'floe'): Promise<string> {
    return this.createCatalogOn({ kind: 'sqlite', db: catalogDb, warehouse, name: catalogName });
  }

  /** A catalog `floe_p<pid>_<random>` reading tables through `c` (see trinoCatalogProperties). */
  async createCatalogOn(c: ReaderCatalog): Promise<string> {
    const name = `floe_p${process.pid}_${randomBytes(4).toString('hex')}`;
    const withClause = Object.entries(trinoCatalogProperties(c)).map(([k, v]) => `"${k}" = ${sqlString(v)}`).join(', ');
    await this.query(`CREATE CATALOG ${name} USING iceberg WITH (${withClause})`);
    return name;
  }

  async dropCatalog(name: string): Promise<void> {
    await this.query(`DROP CATALOG IF EXISTS ${name}`);
  }
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A quoted SQL identifier; a dotted table name `ns.tbl` becomes `"ns"."tbl"`. */
export function sqlName(dotted: string): string {
  return dotted.split('.').map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
}

/**
 * The Iceberg connector properties (a catalog properties file, or CREATE CATALOG … WITH) that
 * read floe's tables through `c`. Trino 476's iceberg plugin bundles the PostgreSQL driver;
 * scripts/trino.sh adds sqlite-jdbc next to it. Tables on a local warehouse are read with
 * Trino's native local file system rooted at `/` (file:///… locations), those on S3 with its
 * native S3 file system (path-style, the endpoint and key given).
 */
export function trinoCatalogProperties(c: ReaderCatalog): Record<string, string> {
  const localFs: Record<string, string> = { 'fs.native-local.enabled': 'true', 'local.location': '/' };
  if (c.s3) {
    Object.assign(localFs, {
      'fs.native-s3.enabled': 'true', 's3.endpoint': c.s3.endpoint, 's3.path-style-access': 'true',
      's3.region': c.s3.region, 's3.aws-access-key': c.s3.accessKeyId, 's3.aws-secret-key': c.s3.secretAccessKey,
    });
  }
  const dir = (warehouse: string): string => (/^[a-z][a-z0-9+.-]*:\/\//.test(warehouse) ? warehouse : `file://${warehouse}`);
  switch (c.kind) {
    case 'sqlite': return {
      'iceberg.catalog.type': 'jdbc',
      'iceberg.jdbc-catalog.catalog-name': c.name,
      'iceberg.jdbc-catalog.driver-class': 'org.sqlite.JDBC',
      'iceberg.jdbc-catalog.connection-url': `jdbc:sqlite:${c.db}`,
      'iceberg.jdbc-catalog.default-warehouse-dir': dir(c.warehouse),
      ...localFs,
    };
    case 'postgres': {
      const { url, user, password } = jdbcPostgres(c.uri);
      return {
        'iceberg.catalog.type': 'jdbc',
        'iceberg.jdbc-catalog.catalog-name': c.name,
        'iceberg.jdbc-catalog.driver-class': 'org.postgresql.Driver',
        'iceberg.jdbc-catalog.connection-url': url,
        ...(user ? { 'iceberg.jdbc-catalog.connection-user': user } : {}),
        ...(password ? { 'iceberg.jdbc-catalog.connection-password': password } : {}),
        'iceberg.jdbc-catalog.default-warehouse-dir': dir(c.warehouse),
        ...localFs,
      };
    }
    case 'rest': return {
      'iceberg.catalog.type': 'rest',
      'iceberg.rest-catalog.uri': c.uri,
      ...localFs,
    };
  }
}

/** `postgresql://user:pw@host:port/db` → JDBC URL (credentials apart, as JDBC wants them). */
export function jdbcPostgres(uri: string): { url: string; user: string; password: string } {
  const u = new URL(uri);
  return {
    url: `jdbc:postgresql://${u.hostname}:${u.port || '5432'}${u.pathname}`,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
}

// --- canonical values ----------------------------------------------------------------------
// Driven by Trino's own type of each column, so metadata tables and ad-hoc SQL canonicalise the
// same way as table reads. Iceberg → Trino: int → integer, long → bigint, float → real,
// double → double, decimal → decimal, date → date, time → time(6), timestamp → timestamp(6),
// timestamptz → timestamp(6) with time zone, string → varchar, uuid → uuid,
// fixed/binary → varbinary, struct → row, list → array, map → map.

const typeArg = (t: TypeSignature, i: number): TypeSignature => {
  const a = t.arguments[i];
  if (!a) throw new Error(`trino type ${t.rawType} lacks argument ${i}`);
  return (a.kind === 'NAMED_TYPE' ? (a.value as { typeSignature: TypeSignature }).typeSignature : a.value) as TypeSignature;
};

function canonicalFloat(v: unknown): unknown {
  if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return v;
  const n = typeof v === 'number' ? v : Number(v);
  return Object.is(n, -0) ? -0 : n;
}

// "2024-01-03 04:05:06.123456" → "2024-01-03T04:05:06.123456" (fraction padded to 6 digits).
function isoTimestamp(v: string): string {
  const m = /^(\+?-?\d{4,}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d+))?$/.exec(v);
  if (!m) throw new Error(`unexpected trino timestamp ${JSON.stringify(v)}`);
  return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(6, '0').slice(0, 6)}`;
}

function canonicalTime(v: string): string {
  const m = /^(\d{2}:\d{2}:\d{2})(?:\.(\d+))?$/.exec(v);
  if (!m) throw new Error(`unexpected trino time ${JSON.stringify(v)}`);
  return `${m[1]}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}`;
}

/** Canonical form of one value Trino returned for type `t` (canonical.ts / canonical.py rules). */
export function canonicalTrinoValue(t: TypeSignature, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (t.rawType) {
    case 'boolean': case 'varchar': case 'char': case 'uuid': case 'date': return v;
    case 'tinyint': case 'smallint': case 'integer': case 'bigint': return String(v);
    case 'double': return canonicalFloat(v);
    // Trino writes a real as the shortest decimal that round-trips the float32: back to float32.
    case 'real': { const f = canonicalFloat(v); return typeof f === 'number' ? Math.fround(f) : f; }
    case 'decimal': return canonicalDecimal(String(v));
    case 'time': return canonicalTime(String(v));
    case 'timestamp': return isoTimestamp(String(v));
    case 'timestamp with time zone': {
      const m = /^(.*) UTC$/.exec(String(v));
      if (!m?.[1]) throw new Error(`timestamp with time zone not in UTC: ${JSON.stringify(v)} (session time zone must be UTC)`);
      return `${isoTimestamp(m[1])}+00:00`;
    }
    case 'varbinary': return v; // already standard base64
    case 'row': {
      const values = v as unknown[];
      return Object.fromEntries(t.arguments.map((a, i) => {
        const named = a.value as { fieldName?: { name: string }; typeSignature: TypeSignature };
        return [named.fieldName?.name ?? `field${i}`, canonicalTrinoValue(named.typeSignature, values[i])];
      }));
    }
    case 'array': return (v as unknown[]).map((e) => canonicalTrinoValue(typeArg(t, 0), e));
    case 'map': {
      // JSON object keys are strings: a key is read back as the JSON value of its key type.
      const kt = typeArg(t, 0);
      const pairs = Object.entries(v as Record<string, unknown>)
        .map(([k, val]) => [canonicalTrinoValue(kt, mapKey(kt, k)), canonicalTrinoValue(typeArg(t, 1), val)]);
      return pairs.sort((a, b) => (JSON.stringify(a[0]) < JSON.stringify(b[0]) ? -1 : JSON.stringify(a[0]) > JSON.stringify(b[0]) ? 1 : 0));
    }
    default: return v;
  }
}

function mapKey(t: TypeSignature, k: string): unknown {
  switch (t.rawType) {
    case 'boolean': return k === 'true';
    case 'real': case 'double': return k === 'NaN' || k.endsWith('Infinity') ? k : Number(k);
    default: return k;
  }
}

// Canonical decimal: as Trino prints it (exactly `scale` fraction digits), zero without a sign.
function canonicalDecimal(s: string): string {
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

export function canonicalTrinoRows(res: TrinoResult): Record<string, unknown>[] {
  return res.rows.map((r) => Object.fromEntries(res.columns.map((c, i) => [c.name, canonicalTrinoValue(c.typeSignature, r[i])])));
}

// --- table reads for ReaderServer ------------------------------------------------------------

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** What the Trino reader needs of a ReaderServer request (readers.ts). */
export type TrinoReadRequest = DistributiveOmit<ReadRequest, 'reader' | 'metadataLocation'>;
type TableOf = DistributiveOmit<TrinoReadRequest, 'snapshotId' | 'ref' | 'asOfTimestampMs' | 'filter'>;

/**
 * Reads floe tables through Trino: one dynamic catalog per catalog a request names (SQLite
 * catalog.db, PostgreSQL, REST), created on first use and dropped by close().
 */
export class TrinoReader {
  private readonly catalogs = new Map<string, Promise<string>>();
  constructor(readonly client: TrinoClient) {}

  /** The Trino catalog reading this warehouse's SQLite catalog (created on first call). */
  catalogFor(warehouse: string, catalogDb: string, catalogName = 'floe'): Promise<string> {
    return this.catalogOn({ kind: 'sqlite', db: catalogDb, warehouse, name: catalogName });
  }

  /** The Trino catalog reading through `c` (created on first call). */
  catalogOn(c: ReaderCatalog): Promise<string> {
    const key = JSON.stringify(c);
    let name = this.catalogs.get(key);
    if (!name) {
      name = this.client.createCatalogOn(c);
      this.catalogs.set(key, name);
      name.catch(() => this.catalogs.delete(key));
    }
    return name;
  }

  /** `<catalog>."ns"."tbl"` for a request's table. */
  async tableRef(r: TableOf): Promise<string> {
    return `${await this.catalogOn(catalogOf(r))}.${sqlName(r.table)}`;
  }

  /**
   * Rows in canonical form, and the number of data-file splits Trino scanned (one split per
   * data file for files below Trino's split size, as every test file is), for pruning tests.
   */
  async read(r: TrinoReadRequest): Promise<{ rows: Record<string, unknown>[]; filesScanned: number | null }> {
    let from = await this.tableRef(r);
    if (r.snapshotId !== undefined) from += ` FOR VERSION AS OF ${r.snapshotId}`;
    else if (r.ref !== undefined) from += ` FOR VERSION AS OF '${r.ref.replaceAll("'", "''")}'`;
    else if (r.asOfTimestampMs !== undefined) from += ` FOR TIMESTAMP AS OF ${timestampTzLiteral(r.asOfTimestampMs)}`;
    let where = '';
    if (r.filter) {
      const col = sqlName(r.filter.column);
      if (r.filter.op === 'is_null') where = ` WHERE ${col} IS NULL`;
      else {
        const probe = await this.client.query(`SELECT ${col} FROM ${from} LIMIT 0`);
        const t = probe.columns[0]!;
        where = ` WHERE ${predicate(col, t, r.filter.op, r.filter.value)}`;
      }
    }
    const res = await this.client.query(`SELECT * FROM ${from}${where}`);
    return { rows: canonicalTrinoRows(res), filesScanned: scannedSplits(res.stats) };
  }

  async close(): Promise<void> {
    const names = await Promise.allSettled(this.catalogs.values());
    this.catalogs.clear();
    for (const n of names) if (n.status === 'fulfilled') await this.client.dropCatalog(n.value);
  }
}

/** `TIMESTAMP '2026-01-02 03:04:05.678 UTC'` for an instant in ms since the epoch. */
export function timestampTzLiteral(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-01-02T03:04:05.678Z
  return `TIMESTAMP '${iso.slice(0, 10)} ${iso.slice(11, 23)} UTC'`;
}

// A predicate on a canonical value (canonical.py's filter form), as a literal of the column's
// own Trino type so that Trino can push it down to partition values and file bounds.
function predicate(col: string, c: TrinoColumn, op: string, value: unknown): string {
  const raw = c.typeSignature.rawType;
  const sqlOp = op === '==' ? '=' : op;
  if ((raw === 'real' || raw === 'double') && value === 'NaN') {
    if (op !== '==') throw new Error(`NaN only supports ==, not ${op}`);
    return `is_nan(${col})`;
  }
  let lit: string;
  switch (raw) {
    case 'boolean': lit = value ? 'true' : 'false'; break;
    case 'varchar': lit = sqlString(String(value)); break;
    case 'varbinary': lit = `from_base64(${sqlString(String(value))})`; break;
    case 'timestamp': lit = `CAST(${sqlString(String(value).replace('T', ' '))} AS ${c.type})`; break;
    case 'timestamp with time zone': {
      const s = String(value);
      if (!s.endsWith('+00:00')) throw new Error(`timestamptz filter value not canonical UTC: ${s}`);
      lit = `CAST(${sqlString(`${s.slice(0, -6).replace('T', ' ')} UTC`)} AS ${c.type})`;
      break;
    }
    case 'real': case 'double':
      lit = value === 'Infinity' ? `CAST(infinity() AS ${c.type})` : value === '-Infinity' ? `CAST(-infinity() AS ${c.type})` : `CAST(${sqlString(String(value))} AS ${c.type})`;
      break;
    default: lit = `CAST(${sqlString(String(value))} AS ${c.type})`;
  }
  return `${col} ${sqlOp} ${lit}`;
}

interface StageStats { totalSplits?: number; subStages?: StageStats[] }

/** Splits of the leaf (table scan) stages of a finished query's stats. */
export function scannedSplits(stats: Record<string, unknown>): number | null {
  const root = stats.rootStage as StageStats | undefined;
  if (!root) return null;
  let total = 0;
  const walk = (s: StageStats): void => {
    if (!s.subStages || s.subStages.length === 0) total += s.totalSplits ?? 0;
    else s.subStages.forEach(walk);
  };
  walk(root);
  return total;
}
