// MERGE / upsert of a batch of changes into a keyed table, as one snapshot: each change is an
// upsert (insert, or replace the row with the same key) or a delete of its key. The key is the
// table's identifier fields. Within the batch one change per key wins (the greatest ordering
// value, else the last one); against the table, when the ordering field is a table column, an
// older change never overwrites a newer row. The rows it replaces are found on the branch head
// the attempt is built on — re-planned after every conflict — pruned by the key column's bounds
// per file, and removed with position deletes (merge-on-read) or rewritten files (copy-on-write);
// or, with `write.upsert.enabled`, not read at all: equality deletes (equality-upsert.ts).
import { RecordValidationError, ValidationError } from '../errors.ts';
import { deleteAll } from '../io/file-io.ts';
import { valueAtPath, type Change } from './change-decoder.ts';
import { validChanges } from './valid-changes.ts';
import { latestPerKey } from './latest-changes.ts';
import { keyEncoder, type KeyEncoder } from './row-key.ts';
import { partitionType } from '../spec/partition-spec.ts';
import type { Schema } from '../spec/schema.ts';
import { compareValues, decodeSingleValue } from '../spec/single-value.ts';
import { currentSchema, defaultSpec, MAIN_BRANCH, type Snapshot } from '../spec/table-metadata.ts';
import { isPrimitive, type PrimitiveType, type PrimitiveValue } from '../spec/types.ts';
import type { Catalog, LoadedTable } from '../table/catalog.ts';
import { identifierToString, type TableIdentifier } from '../table/identifier.ts';
import { checkStaging } from '../transaction/snapshot-producer.ts';
import { commitSnapshotIfChanged, type CommitHooks } from '../transaction/commit-with-retry.ts';
import { RowDelta, type RowDeltaChanges } from '../transaction/row-delta.ts';
import { DataFileWriter } from '../writer/data-file-writer.ts';
import { primitiveParser } from '../writer/value-parsers.ts';
import { checkEqualityUpsertSpec, equalityUpsertEnabled, planEqualityUpsert } from './equality-upsert.ts';
import { scanLiveRows } from './live-rows.ts';
import { loadRowLevelBase, removeRows, rowLevelMode, type FileHits, type LiveDataFile, type RowLevelMode } from './row-level-base.ts';

/** Options of {@link mergeRecords}. */
export interface MergeOptions {
  /** The branch to commit to (default `main`). */
  readonly branch?: string;
  /** `plain` records (default) or Debezium change envelopes. */
  readonly format?: 'plain' | 'debezium';
  /** A field holding each record's operation (c/r/u/d, insert/update/delete…). */
  readonly opField?: string;
  /** The field whose greatest value wins (within the batch; against the table too when it is a column). */
  readonly orderBy?: string;
  /** Every record is a key to delete (`floe delete --keys`). */
  readonly deleteOnly?: boolean;
  /** Overrides `write.merge.mode` / `write.delete.mode`. */
  readonly mode?: RowLevelMode;
  /** Bad records are returned in `rejected` (ingest dead-letters them) instead of failing the batch. */
  readonly lenient?: boolean;
  /** Extra snapshot summary properties. */
  readonly summary?: Readonly<Record<string, string>>;
  /** Commit a snapshot even when no row changes (ingest must still record its offsets). */
  readonly alwaysCommit?: boolean;
  /** Runs on every base the merge is planned on; throwing aborts the merge and removes its files. */
  readonly validate?: (base: LoadedTable, branch: string) => void;
  /** Callbacks around each commit attempt. */
  readonly hooks?: CommitHooks;
  /** Stage the snapshot on main's head with summary `wap.id`, moving no branch (write.wap.enabled). */
  readonly wapId?: string;
}

/** What a merge did to rows and files. */
export interface MergeStats {
  /** Rows written (inserted + updated; with equality deletes, where the table is not read, only this is known). */
  readonly upserted: number;
  /** Rows whose key was not in the table. */
  readonly inserted: number;
  /** Rows that replaced a row with the same key. */
  readonly updated: number;
  /** Rows deleted by a delete change. */
  readonly deleted: number;
  /** Changes older than the table's row with the same key (kept the table's). */
  readonly stale: number;
  /** Deletes of keys not in the table (harmless). */
  readonly absentDeletes: number;
  /** Changes superseded by a newer change to the same key in the batch. */
  readonly superseded: number;
  /** Data files read to find the keys. */
  readonly filesScanned: number;
  /** Data files skipped by their key bounds. */
  readonly filesSkipped: number;
  /** Data files that held a replaced or deleted row. */
  readonly filesTouched: number;
  /** Position- or equality-delete files written. */
  readonly deleteFilesWritten: number;
  /** Data files written (new rows, and rewritten files in copy-on-write). */
  readonly dataFilesWritten: number;
  /** Unchanged rows copied into rewritten files (copy-on-write). */
  readonly rowsRewritten: number;
}

/** What {@link mergeRecords} committed. */
export interface MergeResult extends MergeStats {
  /** Undefined when the batch changed nothing (nothing was committed). */
  readonly snapshot: Snapshot | undefined;
  /** Commit attempts (1 = no conflict). */
  readonly attempts: number;
  /** How replaced rows were removed. */
  readonly mode: RowLevelMode | 'equality-deletes';
  /** With `lenient`: the records refused (index in the input, one-line reason). */
  readonly rejected: readonly { index: number; reason: string }[];
}

/** Summary key of every MERGE snapshot: the key columns it decided by (comma-separated). A
 * MERGE that only inserted (its keys were absent) commits an `append`, which `floe publish`
 * must still re-validate by key — on a main that got those keys since, it would replace them. */
export const MERGE_KEY_SUMMARY = 'floe.merge.key';

/** The key columns of a table, or a clear error naming the table and the fix. */
export function requireKey(schema: Schema, id: TableIdentifier): readonly number[] {
  if (schema.identifierFieldIds.length > 0) return schema.identifierFieldIds;
  const name = identifierToString(id);
  throw new ValidationError(`table ${name} has no key, so rows cannot be matched: set one with 'floe table set-key ${name} COLUMNS' (Iceberg identifier fields)`);
}

/** One key's decision input: the winning change, its order in the table column's type. */
interface Wanted { readonly change: Change; readonly tableOrder: PrimitiveValue | null }

/**
 * MERGE / upsert: applies a batch of changes to a keyed table as one snapshot. Each record is
 * an upsert (insert, or replace the row with the same key) or, with `opField`/Debezium
 * envelopes, a delete of its key. The key is the table's identifier fields
 * (`identifier-field-ids`; `floe table set-key`). One change per key wins within the batch
 * (the greatest `orderBy` value, else the last). Replaced rows are removed with position
 * deletes (`merge-on-read`) or rewritten files (`copy-on-write`), per `write.merge.mode`; with
 * `write.upsert.enabled=true` the table is not read and equality deletes are written instead.
 * A conflict re-plans the merge on the new head.
 *
 * @throws {@link ValidationError} when the table has no key or a record lacks it;
 * {@link RecordValidationError} for a bad value (unless `lenient`); the commit errors of
 * {@link appendRecords}.
 * @example
 * ```ts
 * const r = await mergeRecords(catalog, id, [
 *   { id: 1, status: 'shipped', updated_at: '2026-03-01T10:00:00Z' },
 *   { id: 7, status: 'new', updated_at: '2026-03-01T10:05:00Z' },
 * ], { orderBy: 'updated_at' });
 * console.log(r.inserted, r.updated);
 * ```
 */
export async function mergeRecords(catalog: Catalog, id: TableIdentifier, records: readonly unknown[], opts: MergeOptions = {}): Promise<MergeResult> {
  const base = await catalog.loadTable(id);
  checkStaging(base.metadata, identifierToString(id), opts.wapId, opts.branch);
  const schema = currentSchema(base.metadata);
  const keyIds = requireKey(schema, id);
  const format = opts.format ?? 'plain';
  const decoded = validChanges(opts.deleteOnly ? records.map((r) => ({ ...(r as object), __floe_op: 'd' })) : records, partitionType(defaultSpec(base.metadata), schema), {
    schema, format,
    ...(opts.deleteOnly ? { opField: '__floe_op' } : opts.opField !== undefined ? { opField: opts.opField } : {}),
    ...(opts.orderBy !== undefined ? { orderBy: opts.orderBy } : {}),
  });
  // Rows to write were validated before anything is read or written.
  const { rejected, changes: valid } = decoded;
  if (rejected.length > 0 && !opts.lenient) {
    const r = rejected[0]!;
    throw new ValidationError(`record ${r.index}: ${r.reason}${rejected.length > 1 ? ` (and ${rejected.length - 1} more bad record(s))` : ''}; nothing was written`);
  }
  const winners = latestPerKey(valid, decoded.orderPath !== null);
  const superseded = valid.length - winners.length;

  // Against the table: only when the ordering field is a column of it (plain records).
  const orderField = format === 'plain' && opts.orderBy !== undefined ? schema.findFieldByName(opts.orderBy) : undefined;
  const orderType = orderField && isPrimitive(orderField.type) ? orderField.type as PrimitiveType : undefined;
  const wanted = new Map<string, Wanted>();
  for (const c of winners) {
    let tableOrder: PrimitiveValue | null = null;
    if (orderType) {
      const raw = valueAtPath(records[c.index], opts.orderBy!);
      tableOrder = raw === null || raw === undefined ? null : primitiveParser(orderType)(raw);
    }
    wanted.set(c.key, { change: c, tableOrder });
  }

  const command = winners.some((c) => c.op === 'upsert') ? 'merge' : 'delete';
  const equality = equalityUpsertEnabled(base.metadata) && opts.mode === undefined;
  const mode = equality ? 'equality-deletes' : rowLevelMode(base.metadata, command, opts.mode);
  if (equality) checkEqualityUpsertSpec(schema, defaultSpec(base.metadata));
  const encoder = keyEncoder(schema);
  let stats: MergeStats | undefined;
  const delta = new RowDelta(catalog.io, {
    branch: opts.branch ?? MAIN_BRANCH,
    summary: { ...opts.summary, [MERGE_KEY_SUMMARY]: keyIds.map((k) => schema.findColumnName(k) ?? String(k)).join(',') },
    ...(opts.wapId !== undefined ? { wapId: opts.wapId } : {}),
    plan: async (b, parent) => {
      opts.validate?.(b, opts.branch ?? MAIN_BRANCH);
      const written: string[] = [];
      try {
        const planned = mode === 'equality-deletes'
          ? await planWithEqualityDeletes(catalog, b, winners, records, format, written)
          : await planMerge(catalog, b, parent, { wanted, encoder, keyIds, orderFieldId: orderType ? orderField!.id : undefined, orderType, mode, written });
        stats = { ...planned.stats, superseded };
        return planned.changes ?? (opts.alwaysCommit ? { attemptFiles: [] } : null);
      } catch (err) {
        await deleteAll(catalog.io, written);
        throw err;
      }
    },
  });
  const result = await commitSnapshotIfChanged(catalog, id, delta, { base, ...(opts.hooks ? { hooks: opts.hooks } : {}) });
  return { ...stats!, snapshot: result.snapshot, attempts: result.attempts, mode, rejected };
}

async function planWithEqualityDeletes(catalog: Catalog, b: LoadedTable, winners: readonly Change[], records: readonly unknown[], format: 'plain' | 'debezium', written: string[]): Promise<{ changes: RowDeltaChanges | null; stats: Omit<MergeStats, 'superseded'> }> {
  const meta = b.metadata;
  const r = await planEqualityUpsert({ io: catalog.io, meta, schema: currentSchema(meta), spec: defaultSpec(meta), winners, records, format, written });
  return {
    changes: { addedDataFiles: r.addedDataFiles, addedDeleteFiles: r.addedDeleteFiles, attemptFiles: [...written] },
    stats: {
      upserted: r.upserts, inserted: 0, updated: 0, deleted: r.deletes, stale: 0, absentDeletes: 0, filesScanned: 0, filesSkipped: 0, filesTouched: 0,
      deleteFilesWritten: r.addedDeleteFiles.length, dataFilesWritten: r.addedDataFiles.length, rowsRewritten: 0,
    },
  };
}

interface PlanInput {
  readonly wanted: ReadonlyMap<string, Wanted>;
  readonly encoder: KeyEncoder;
  readonly keyIds: readonly number[];
  readonly orderFieldId: number | undefined;
  readonly orderType: PrimitiveType | undefined;
  readonly mode: RowLevelMode;
  readonly written: string[];
}

/** Whether a file's bounds on the first key column can hold any wanted key (binary search
 * over the wanted keys' sorted first values). */
function keyRangeFilter(schema: Schema, keyIds: readonly number[], wanted: ReadonlyMap<string, Wanted>): (f: LiveDataFile) => boolean {
  const firstId = keyIds[0]!;
  const type = schema.findField(firstId)!.type as PrimitiveType;
  const values = [...wanted.values()].map((w) => w.change.keyValues[0]).filter((v): v is PrimitiveValue => v !== null && v !== undefined);
  values.sort((a, b) => compareValues(type, a, b));
  // uuid bounds: Java writes them in signed byte order, the spec in unsigned; never prune on them.
  if (type.kind === 'uuid') return () => true;
  return (f) => {
    const lo = f.file.lowerBounds?.get(firstId);
    const hi = f.file.upperBounds?.get(firstId);
    if (!lo || !hi || values.length === 0) return true;
    const lower = decodeSingleValue(type, lo);
    const upper = decodeSingleValue(type, hi);
    // Truncated string/binary upper bounds are still ≥ every value, so the test stays inclusive.
    let l = 0;
    let h = values.length;
    while (l < h) { const m = (l + h) >> 1; if (compareValues(type, values[m]!, lower) < 0) l = m + 1; else h = m; }
    return l < values.length && compareValues(type, values[l]!, upper) <= 0;
  };
}

async function planMerge(catalog: Catalog, b: LoadedTable, parent: Snapshot | undefined, p: PlanInput): Promise<{ changes: RowDeltaChanges | null; stats: Omit<MergeStats, 'superseded'> }> {
  const rb = await loadRowLevelBase(catalog.io, b.metadata, parent);
  const schema = rb.schema;
  const mayHold = keyRangeFilter(schema, p.keyIds, p.wanted);
  // Rows of the table per wanted key: where they are and their ordering value.
  const found = new Map<string, { live: LiveDataFile; position: number; order: PrimitiveValue | null }[]>();
  const scans = new Map<string, { live: LiveDataFile; alreadyDeleted: Set<number> }>();
  let filesScanned = 0;
  let filesSkipped = 0;
  const readIds = p.orderFieldId !== undefined ? [...p.keyIds, p.orderFieldId] : [...p.keyIds];
  for (const live of rb.data) {
    if (!mayHold(live)) { filesSkipped++; continue; }
    filesScanned++;
    const keyValues: (PrimitiveValue | null)[] = new Array(p.keyIds.length);
    const scan = await scanLiveRows(rb, live, readIds, (position, column, row) => {
      for (let k = 0; k < p.keyIds.length; k++) keyValues[k] = column(p.keyIds[k]!)(row);
      const key = p.encoder.encode(keyValues);
      if (!p.wanted.has(key)) return;
      const order = p.orderFieldId !== undefined ? column(p.orderFieldId)(row) : null;
      const list = found.get(key);
      const hit = { live, position, order };
      if (list) list.push(hit); else found.set(key, [hit]);
    });
    scans.set(live.file.filePath, { live, alreadyDeleted: scan.alreadyDeleted });
  }

  let inserted = 0, updated = 0, deleted = 0, stale = 0, absentDeletes = 0;
  const positions = new Map<string, number[]>();
  const rows: unknown[] = [];
  for (const [key, w] of p.wanted) {
    const existing = found.get(key) ?? [];
    if (p.orderType && w.tableOrder !== null && existing.some((e) => e.order !== null && compareValues(p.orderType!, e.order, w.tableOrder!) > 0)) {
      stale++;
      continue;
    }
    for (const e of existing) {
      const list = positions.get(e.live.file.filePath);
      if (list) list.push(e.position); else positions.set(e.live.file.filePath, [e.position]);
    }
    if (w.change.op === 'upsert') {
      rows.push(w.change.row);
      if (existing.length > 0) updated++; else inserted++;
    } else if (existing.length > 0) deleted++;
    else absentDeletes++;
  }
  const hits: FileHits[] = [...positions].map(([path, pos]) => {
    const s = scans.get(path)!;
    return { live: s.live, positions: pos.sort((a, c) => a - c), alreadyDeleted: s.alreadyDeleted };
  });
  const removal = await removeRows(rb, hits, p.mode, p.written);
  const writer = new DataFileWriter({ schema, spec: defaultSpec(b.metadata), properties: b.metadata.properties, location: b.metadata.location, io: catalog.io });
  let newFiles: Awaited<ReturnType<DataFileWriter['write']>> = [];
  if (rows.length > 0) {
    try {
      newFiles = await writer.write(rows);
    } catch (err) {
      // Validated up front, so this is a defect or an I/O failure: say which batch record.
      if (err instanceof RecordValidationError) throw new ValidationError(`merge row ${err.recordIndex}: ${err.message}`);
      throw err;
    }
    for (const f of newFiles) p.written.push(f.filePath);
  }
  const stats = {
    upserted: inserted + updated, inserted, updated, deleted, stale, absentDeletes, filesScanned, filesSkipped, filesTouched: hits.length,
    deleteFilesWritten: removal.addedDeleteFiles.length, dataFilesWritten: newFiles.length + removal.addedDataFiles.length,
    rowsRewritten: removal.rowsRewritten,
  };
  const addedDataFiles = [...newFiles, ...removal.addedDataFiles];
  if (addedDataFiles.length === 0 && removal.addedDeleteFiles.length === 0 && removal.removedFiles.length === 0) return { changes: null, stats };
  return {
    stats,
    changes: { addedDataFiles, addedDeleteFiles: removal.addedDeleteFiles, removedFiles: removal.removedFiles, attemptFiles: [...p.written] },
  };
}
