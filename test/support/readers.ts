// Test client for test/interop/readers/reader_server.py: one long-lived Python process that
// reads tables with pyiceberg, DuckDB and Spark (Spark's JVM starts once per test file), and
// for Trino, the server of scripts/trino.sh through test/support/trino.ts (its catalogs for
// this ReaderServer's warehouses are dropped by close()).
// Under CI=true a missing reader is a failure, never a skip. Outside CI, FLOE_SKIP_TRINO=1
// leaves Trino out of ALL_READERS (a machine without Java 24+).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openCatalog } from '../../catalog/index.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import { parseTableMetadata, type TableMetadata } from '../../src/spec/table-metadata.ts';
import { parseTableIdentifier } from '../../src/table/identifier.ts';
import { refSnapshot } from '../../src/table/ref-lineage.ts';
import { ensureTrino, TrinoReader } from './trino.ts';

export type ReaderName = 'pyiceberg' | 'duckdb' | 'spark' | 'trino';
export const TRINO_SKIPPED = process.env.CI !== 'true' && process.env.FLOE_SKIP_TRINO === '1';
export const ALL_READERS: readonly ReaderName[] = TRINO_SKIPPED ? ['pyiceberg', 'duckdb', 'spark'] : ['pyiceberg', 'duckdb', 'spark', 'trino'];

/** What each reader does with a table holding equality-delete files, as of pyiceberg 0.12.0,
 * DuckDB 1.5.5, Spark 3.5.9 with Iceberg 1.10 and the Trino of scripts/trino.sh (asserted by
 * test/interop/equality-deletes-readers.test.ts and equality-upsert.test.ts; the README's reader
 * table repeats it). */
export const EQUALITY_DELETES_SUPPORT: Record<ReaderName, 'reads' | 'refuses'> = { pyiceberg: 'refuses', duckdb: 'reads', spark: 'reads', trino: 'reads' };

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const VENV_PYTHON = path.join(process.env.FLOE_VENV ?? path.join(REPO_ROOT, '.venv'), 'bin', 'python');

export interface ReadFilter { column: string; op: '==' | '<' | '<=' | '>' | '>=' | 'is_null'; value?: unknown }

/**
 * The catalog a reader finds a table through (default: the warehouse's SQLite catalog.db).
 * `name` is the Iceberg catalog name: for the SQL catalogs the `catalog_name` column floe wrote,
 * which Spark's catalog, Trino's `iceberg.jdbc-catalog.catalog-name` and pyiceberg's SqlCatalog
 * must all use (a REST server keeps its own; there the name is only the readers' label).
 */
export type ReaderCatalog = (
  /** `warehouse`: a folder, or s3://bucket/prefix (then give `s3`). */
  | { kind: 'sqlite'; db: string; warehouse: string; name: string }
  /** `uri`: postgresql://user[:password]@host:port/database (floe's own `--catalog` form). */
  | { kind: 'postgres'; uri: string; warehouse: string; name: string }
  /** `uri`: http://host:port of an Iceberg REST catalog (no auth). */
  | { kind: 'rest'; uri: string; name: string }
) & {
  /** How readers reach table files on S3 (every reader is given them: the catalogs hand out
   * no credentials). */
  s3?: ReaderS3;
};

/** An S3-compatible server: path-style addressing, plain HTTP allowed. */
export interface ReaderS3 { endpoint: string; accessKeyId: string; secretAccessKey: string; region: string }

interface ReadRequestBase {
  reader: ReaderName;
  table: string;
  snapshotId?: bigint;
  /** A branch or tag by name: Spark `VERSION AS OF 'name'`, Trino `FOR VERSION AS OF 'name'`;
   * pyiceberg and DuckDB read the ref's snapshot id, resolved here from the table's metadata. */
  ref?: string;
  /** Time travel by time (Trino only: `FOR TIMESTAMP AS OF`), ms since the epoch. */
  asOfTimestampMs?: number;
  filter?: ReadFilter;
  metadataLocation?: string;
}
/** A table of a warehouse's SQLite catalog (floe's default). */
export interface SqliteReadRequest extends ReadRequestBase {
  warehouse: string;
  catalogDb: string;
  catalogName?: string;
  catalog?: undefined;
}
/** A table found through any catalog (PostgreSQL, REST, or SQLite spelled out). */
export interface CatalogReadRequest extends ReadRequestBase {
  catalog: ReaderCatalog;
  warehouse?: undefined;
  catalogDb?: undefined;
  catalogName?: undefined;
}
export type ReadRequest = SqliteReadRequest | CatalogReadRequest;

/** The catalog a request reads through. */
export function catalogOf(r: Pick<SqliteReadRequest, 'warehouse' | 'catalogDb' | 'catalogName'> | { catalog: ReaderCatalog }): ReaderCatalog {
  if ('catalog' in r && r.catalog) return r.catalog;
  const s = r as Pick<SqliteReadRequest, 'warehouse' | 'catalogDb' | 'catalogName'>;
  return { kind: 'sqlite', db: s.catalogDb, warehouse: s.warehouse, name: s.catalogName ?? 'floe' };
}

/** floe's (and Iceberg's) s3.* properties for a reader's S3 access. */
export function floeS3Properties(s3: ReaderS3 | undefined): Record<string, string> {
  if (!s3) return {};
  return {
    's3.endpoint': s3.endpoint, 's3.path-style-access': 'true', 's3.region': s3.region,
    's3.access-key-id': s3.accessKeyId, 's3.secret-access-key': s3.secretAccessKey,
  };
}

/** floe's own catalog on what a reader reads (to resolve refs as floe sees them). */
export function openReaderCatalog(c: ReaderCatalog): Promise<Catalog> {
  switch (c.kind) {
    case 'sqlite': return openCatalog({ warehouse: c.warehouse, uri: `sqlite:${c.db}`, name: c.name, properties: floeS3Properties(c.s3) });
    case 'postgres': return openCatalog({ warehouse: c.warehouse, uri: c.uri, name: c.name, properties: floeS3Properties(c.s3) });
    // The warehouse is the server's; floe's REST catalog never uses the local one.
    case 'rest': return openCatalog({ warehouse: '/', uri: `rest+${c.uri}`, name: c.name, properties: floeS3Properties(c.s3) });
  }
}

export interface ReadResult { rows: Record<string, unknown>[]; filesScanned: number | null }

/** The snapshot a request's ref names, read from the metadata file it gives or from its catalog. */
async function refSnapshotId(r: ReadRequest): Promise<bigint> {
  let metadata: TableMetadata;
  if (r.metadataLocation !== undefined) {
    const file = r.metadataLocation.startsWith('file:') ? fileURLToPath(r.metadataLocation) : r.metadataLocation;
    metadata = parseTableMetadata(readFileSync(file, 'utf8'), r.metadataLocation);
  } else {
    const catalog = await openReaderCatalog(catalogOf(r));
    try { metadata = (await catalog.loadTable(parseTableIdentifier(r.table))).metadata; } finally { await catalog.close(); }
  }
  return refSnapshot(metadata, r.ref!).snapshotId;
}

/** Whether interop tests can run; outside CI a missing venv skips with this reason. */
export function readersUnavailable(): string | undefined {
  if (existsSync(VENV_PYTHON)) return undefined;
  const reason = `reader venv missing (${VENV_PYTHON}); run: bash scripts/setup-readers.sh`;
  if (process.env.CI === 'true') throw new Error(`CI=true: ${reason}`);
  return reason;
}

export class ReaderServer {
  private readonly proc: ChildProcessWithoutNullStreams;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private stderrTail: string[] = [];
  private trinoReader: Promise<TrinoReader> | undefined;

  constructor() {
    this.proc = spawn(VENV_PYTHON, [path.join(REPO_ROOT, 'test/interop/readers/reader_server.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      let msg: Record<string, unknown>;
      try { msg = JSON.parse(line) as Record<string, unknown>; } catch { return; }
      const p = this.pending.get(Number(msg.id));
      if (!p) return;
      this.pending.delete(Number(msg.id));
      if (msg.ok) p.resolve(msg); else p.reject(new Error(String(msg.error)));
    });
    createInterface({ input: this.proc.stderr }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 40) this.stderrTail.shift();
      if (process.env.FLOE_READER_LOG) process.stderr.write(`${line}\n`);
    });
    this.proc.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`reader server exited (${code}): ${this.stderrTail.slice(-10).join('\n')}`));
      this.pending.clear();
    });
  }

  private call(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.proc.stdin.write(`${JSON.stringify({ id, ...req })}\n`);
    });
  }

  /** The Trino side (starts the server on first use); its catalogs live until close(). */
  trino(): Promise<TrinoReader> {
    this.trinoReader ??= ensureTrino().then((client) => new TrinoReader(client));
    return this.trinoReader;
  }

  async read(r: ReadRequest): Promise<ReadResult> {
    if (r.reader === 'trino') {
      if (r.metadataLocation) throw new Error('trino reads through the catalog: metadataLocation is not supported');
      return (await this.trino()).read(r);
    }
    if (r.asOfTimestampMs !== undefined) throw new Error(`${r.reader}: asOfTimestampMs is only implemented for trino`);
    if (r.ref !== undefined && r.snapshotId !== undefined) throw new Error('give ref or snapshotId, not both');
    // Spark resolves the name itself; pyiceberg and DuckDB are given the ref's snapshot.
    const snapshotId = r.ref !== undefined && r.reader !== 'spark' ? await refSnapshotId(r) : r.snapshotId;
    const res = await this.call({
      op: 'read', reader: r.reader, catalog: catalogOf(r), table: r.table, snapshot_id: snapshotId === undefined ? null : snapshotId.toString(),
      ref: r.reader === 'spark' ? r.ref ?? null : null,
      filter: r.filter ?? null, metadata_location: r.metadataLocation ?? null,
    });
    return { rows: res.rows as Record<string, unknown>[], filesScanned: (res.files_scanned as number | null) ?? null };
  }

  async sql(reader: 'spark' | 'duckdb', sql: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>[]> {
    const res = await this.call({ op: 'sql', reader, sql, ...extra });
    return res.rows as Record<string, unknown>[];
  }

  async close(): Promise<void> {
    const trino = this.trinoReader;
    this.trinoReader = undefined;
    try {
      // A server that never started has no catalogs to drop.
      if (trino) await (await trino.catch(() => undefined))?.close();
    } finally {
      this.proc.stdin.end();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { this.proc.kill('SIGKILL'); resolve(); }, 20_000);
        this.proc.on('exit', () => { clearTimeout(t); resolve(); });
      });
    }
  }
}
