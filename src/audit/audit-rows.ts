// Puts the rows an audit looks at into a DuckDB table: the live rows of a snapshot (scope
// `branch`), or only those of data files added by a given set of snapshots (scope `added`),
// with the snapshot's position and equality deletes applied. DuckDB reads the Parquet data
// files itself (read_parquet, columns matched by Iceberg field id through its `schema`
// parameter, so renamed columns, added columns and int→long promotion read right); floe's
// delete index (src/reader/delete-index.ts, src/merge/live-rows.ts) decides which positions
// are deleted, and those are anti-joined on file_row_number.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileIOError, UnsupportedError, errorMessage } from '../errors.ts';
import type { FileIO } from '../io/file-io.ts';
import { uriToPath } from '../io/local-file-io.ts';
import { scanLiveRows } from '../merge/live-rows.ts';
import type { RowLevelBase } from '../merge/row-level-base.ts';
import { buildDeleteIndex, type DeleteEntry } from '../reader/delete-index.ts';
import { EntryStatus, ManifestContent, type DataFile } from '../spec/data-file.ts';
import type { Schema } from '../spec/schema.ts';
import { specById, type Snapshot, type TableMetadata } from '../spec/table-metadata.ts';
import type { NestedField } from '../spec/types.ts';
import { manifestEntries, snapshotManifests } from '../transaction/table-manifests.ts';
import { duckdbType, quoteIdent, quoteString, type AuditDatabase } from './duckdb-session.ts';

export interface RowSource {
  readonly io: FileIO;
  readonly meta: TableMetadata;
  readonly schema: Schema;
  /** The snapshot whose live rows are read (undefined: an empty table). */
  readonly snapshot: Snapshot | undefined;
  /** Only data files added by these snapshots (scope `added`); undefined: every live file. */
  readonly addedBy?: ReadonlySet<bigint>;
  /** Top-level columns to expose (default: all of the schema's). */
  readonly fields?: readonly NestedField[];
  /** Only these data files (by path). */
  readonly onlyPaths?: ReadonlySet<string>;
}

interface LiveFile { readonly file: DataFile; readonly sequenceNumber: bigint }

/** Data files to read and the delete index that applies to them. */
async function liveFiles(src: RowSource): Promise<{ data: LiveFile[]; deletes: DeleteEntry[] }> {
  const data: LiveFile[] = [];
  const deletes: DeleteEntry[] = [];
  for (const m of await snapshotManifests(src.io, src.snapshot)) {
    // A file added by snapshot S sits in a manifest written by S or by a later rewrite on the
    // same line, so manifests of other snapshots never hold one; deletes that apply to such a
    // file are newer than it, so they too are in the branch's own manifests.
    if (src.addedBy && !src.addedBy.has(m.addedSnapshotId)) continue;
    for (const e of await manifestEntries(src.io, m)) {
      if (e.status === EntryStatus.Deleted) continue;
      const live = { file: e.dataFile, sequenceNumber: e.sequenceNumber ?? m.sequenceNumber };
      if (m.content !== ManifestContent.Data) { deletes.push(live); continue; }
      if (src.addedBy && !src.addedBy.has(e.snapshotId ?? m.addedSnapshotId)) continue;
      if (src.onlyPaths && !src.onlyPaths.has(e.dataFile.filePath)) continue;
      data.push(live);
    }
  }
  return { data, deletes };
}

/**
 * Data files that `snapshots` (a branch's own snapshots) removed although none of them added
 * them: files of the base that a copy-on-write MERGE/DELETE (or a compaction) on the branch
 * rewrote. The rewritten files carry the rows that were not changed, which the branch does
 * not add; the caller subtracts these files' rows. Deleted entries are read from the manifests
 * each snapshot wrote itself (only those with deleted files).
 */
export async function baseFilesRemovedBy(io: FileIO, snapshots: readonly Snapshot[]): Promise<Set<string>> {
  const ids = new Set(snapshots.map((s) => s.snapshotId));
  const removed = new Set<string>();
  const added = new Set<string>();
  for (const s of snapshots) {
    for (const m of await snapshotManifests(io, s)) {
      if (m.addedSnapshotId !== s.snapshotId || m.content !== ManifestContent.Data) continue;
      if (m.deletedFilesCount === 0 && m.addedFilesCount === 0) continue;
      for (const e of await manifestEntries(io, m)) {
        const by = e.snapshotId ?? m.addedSnapshotId;
        if (e.status === EntryStatus.Deleted && by === s.snapshotId) removed.add(e.dataFile.filePath);
        else if (e.status === EntryStatus.Added && ids.has(by)) added.add(e.dataFile.filePath);
      }
    }
  }
  for (const p of added) removed.delete(p);
  return removed;
}

/** Local paths for DuckDB: `file:` URIs as paths, other stores copied to a temp folder. */
class LocalCopies {
  private dir: string | undefined;
  private n = 0;
  constructor(private readonly io: FileIO) {}
  async pathOf(uri: string): Promise<string> {
    if (uri.startsWith('file:') || uri.startsWith('/')) return uriToPath(uri);
    this.dir ??= await mkdtemp(path.join(os.tmpdir(), 'floe-audit-'));
    const p = path.join(this.dir, `${this.n++}.parquet`);
    await writeFile(p, await this.io.read(uri));
    return p;
  }
  async cleanup(): Promise<void> { if (this.dir) await rm(this.dir, { recursive: true, force: true }); }
}

/**
 * The error for a failed read of a snapshot's data files: one line naming the data file (as the
 * table's metadata spells it) that is missing or does not decode, found by reading the files
 * one by one — never a partial audit, which could pass a batch whose rows were not all seen.
 */
async function unreadableFile(db: AuditDatabase, src: RowSource, files: readonly { path: string; file: string }[], readOne: (p: string) => string, cause: unknown): Promise<Error> {
  const at = src.snapshot ? ` of snapshot ${src.snapshot.snapshotId}` : '';
  const firstLine = (e: unknown): string => errorMessage(e).split('\n')[0]!.trim();
  for (const f of files) {
    try {
      await db.connection.run(`CREATE OR REPLACE TEMP TABLE audit_probe AS ${readOne(f.path)}`);
    } catch (e) {
      return new FileIOError(`cannot audit: data file ${f.file}${at} cannot be read: ${firstLine(e)}`, { cause: e });
    } finally {
      await db.connection.run('DROP TABLE IF EXISTS audit_probe');
    }
  }
  return new FileIOError(`cannot audit: the data files${at} cannot be read: ${firstLine(cause)}`, { cause });
}

/** The `schema` argument of read_parquet: field id → column name, DuckDB type, NULL default. */
function parquetSchemaArg(fields: readonly NestedField[]): string {
  return `MAP {${fields.map((f) => `${f.id}: {name: ${quoteString(f.name)}, type: ${quoteString(duckdbType(f.type))}, default_value: NULL}`).join(', ')}}`;
}

/**
 * Creates DuckDB table `name` holding the rows of `src`; returns its row count. Every
 * column has the DuckDB type of its Iceberg type (duckdbType), whichever file it came from.
 */
export async function loadRows(db: AuditDatabase, name: string, src: RowSource): Promise<number> {
  const fields = src.fields ?? src.schema.fields;
  const c = db.connection;
  const { data, deletes } = await liveFiles(src);
  for (const d of data) {
    if (d.file.fileFormat !== 'parquet') throw new UnsupportedError(`cannot audit ${d.file.filePath}: only Parquet data files are read (format ${d.file.fileFormat})`);
  }
  if (data.length === 0) {
    await c.run(`CREATE OR REPLACE TABLE ${quoteIdent(name)} (${fields.map((f) => `${quoteIdent(f.name)} ${duckdbType(f.type)}`).join(', ')})`);
    return 0;
  }
  const copies = new LocalCopies(src.io);
  try {
    const index = await buildDeleteIndex(src.io, deletes);
    const specOf = (id: number) => specById(src.meta, id);
    const paths: string[] = [];
    const deleted: { path: string; positions: Iterable<number> }[] = [];
    const base: RowLevelBase = { io: src.io, meta: src.meta, schema: src.schema, parent: src.snapshot, data, deletes: index, specOf };
    for (const d of data) {
      const p = await copies.pathOf(d.file.filePath);
      paths.push(p);
      if (index.equalityDeleteFiles(d.file, d.sequenceNumber, specOf).length > 0) {
        // Equality deletes (written by Flink, or floe's equality upserts): read the key columns.
        const scan = await scanLiveRows(base, d, [], () => {});
        if (scan.alreadyDeleted.size > 0) deleted.push({ path: p, positions: scan.alreadyDeleted });
      } else {
        const positions = await index.deletedPositions(d.file, d.sequenceNumber, specOf);
        if (positions && positions.size > 0) deleted.push({ path: p, positions });
      }
    }
    const deletedTable = `${name}__deleted`;
    if (deleted.length > 0) {
      await c.run(`CREATE OR REPLACE TABLE ${quoteIdent(deletedTable)} (path VARCHAR, pos BIGINT)`);
      const app = await c.createAppender(deletedTable);
      for (const d of deleted) {
        for (const pos of d.positions) { app.appendVarchar(d.path); app.appendBigInt(BigInt(pos)); app.endRow(); }
      }
      app.closeSync();
    }
    const scanOf = (ps: readonly string[]): string => `read_parquet([${ps.map(quoteString).join(', ')}], filename = true, file_row_number = true, schema = ${parquetSchemaArg(fields)})`;
    const antiJoin = deleted.length > 0 ? ` ANTI JOIN ${quoteIdent(deletedTable)} d ON d.path = p.filename AND d.pos = p.file_row_number` : '';
    const columns = fields.map((f) => `p.${quoteIdent(f.name)}`).join(', ');
    try {
      await c.run(`CREATE OR REPLACE TABLE ${quoteIdent(name)} AS SELECT ${columns} FROM ${scanOf(paths)} p${antiJoin}`);
    } catch (e) {
      throw await unreadableFile(db, src, data.map((d, i) => ({ path: paths[i]!, file: d.file.filePath })), (p) => `SELECT ${columns} FROM ${scanOf([p])} p`, e);
    }
    if (deleted.length > 0) await c.run(`DROP TABLE ${quoteIdent(deletedTable)}`);
    const r = await c.runAndReadAll(`SELECT count(*) FROM ${quoteIdent(name)}`);
    return Number(r.getRows()[0]![0]);
  } finally {
    await copies.cleanup();
  }
}
