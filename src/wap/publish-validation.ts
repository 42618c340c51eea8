// Whether a branch snapshot can be re-applied on a main that moved since the branch forked,
// giving exactly the rows that running the same batch directly on the new main gives. The rules
// are Java's for a commit that lost a race (MergingSnapshotProducer / BaseRowDelta /
// BaseOverwriteFiles), applied to "what main did since the fork":
// - validateDataFilesExist: every data file the batch removes or its position deletes point
//   at is still live on main (a compaction or copy-on-write on main would make them dangle);
// - validateNoNewDeletesForDataFiles: no delete file main added since the fork applies to a
//   data file the batch removes (copy-on-write would resurrect the rows main deleted);
// - validateNoConflictingDataFiles / conflicting deletes, by key (the table's identifier
//   fields): no key whose rows the batch changes had its rows changed on main since the fork.
//   A merge decides per key from the rows it read; if main did not touch those keys, the rows
//   it would read on the new main are the ones it read on the branch, so it would do the same.
// - a delete by predicate (`floe delete --where`, summary `floe.delete.where`) is checked by its
//   predicate instead of by key (delete-filter-validation.ts): no row main added since the fork
//   may match it.
// Appends need none of this (Java cherry-picks them without validation) — except a MERGE that
// only inserted (summary `floe.merge.key`): it decided by key, so it is validated by key. A table without a key
// cannot be checked row by row: a row-level batch other than a delete by predicate is then
// refused whenever main changed rows.
import type { FileIO } from '../io/file-io.ts';
import { scanLiveRows } from '../merge/live-rows.ts';
import { MERGE_KEY_SUMMARY } from '../merge/merge-records.ts';
import { loadRowLevelBase, type RowLevelBase } from '../merge/row-level-base.ts';
import { scanColumns } from '../reader/data-file-reader.ts';
import { buildDeleteIndex, equalityKey, readPositionDeleteFile } from '../reader/delete-index.ts';
import { EntryStatus, FileContent, ManifestContent, type DataFile } from '../spec/data-file.ts';
import type { Schema } from '../spec/schema.ts';
import { currentSchema, snapshotById, specById, type Snapshot, type TableMetadata } from '../spec/table-metadata.ts';
import { isPrimitive, type PrimitiveValue } from '../spec/types.ts';
import type { LoadedTable } from '../table/catalog.ts';
import { CherryPickConflictError } from '../transaction/cherry-pick.ts';
import { checkDeleteFilter, deleteFilterOf, type MainAddedFile } from './delete-filter-validation.ts';
import { snapshotOwnChanges, type OwnChanges } from '../transaction/snapshot-own-changes.ts';
import { manifestEntries, snapshotManifests } from '../transaction/table-manifests.ts';

/** The keys a snapshot changed: canonical key → readable `id=5`. `any`: every key (an equality
 * delete on other columns, or a removed delete file). */
export interface TouchedKeys {
  readonly keys: Map<string, string>;
  any: boolean;
}

interface KeyShape {
  readonly keyIds: readonly number[];
  readonly rowIds: readonly number[];
  readonly names: ReadonlyMap<number, string>;
  readonly hasKey: boolean;
}

function keyShape(schema: Schema): KeyShape {
  const rowFields = schema.fields.filter((f) => isPrimitive(f.type));
  const names = new Map(rowFields.map((f) => [f.id, f.name]));
  const hasKey = schema.identifierFieldIds.length > 0;
  if (hasKey) {
    // Identifier fields may sit inside structs: name them by id.
    for (const id of schema.identifierFieldIds) if (!names.has(id)) names.set(id, `field ${id}`);
  }
  const keyIds = hasKey ? schema.identifierFieldIds : rowFields.map((f) => f.id);
  return { keyIds, rowIds: [...new Set([...rowFields.map((f) => f.id), ...keyIds])], names, hasKey };
}

const show = (v: PrimitiveValue | null): string => v === null ? 'null' : v instanceof Uint8Array ? `0x${Buffer.from(v).toString('hex')}` : String(v);

export const isRowLevel = (c: OwnChanges): boolean => c.addedDeleteFiles.length > 0 || c.removedFiles.length > 0;

/**
 * The keys `s` changed relative to its parent: the rows it added and removed (data files,
 * position deletes), netted per key — a copy-on-write rewrite or a compaction that keeps a
 * row unchanged does not touch its key — plus the keys of its equality deletes.
 */
export async function touchedKeys(io: FileIO, meta: TableMetadata, s: Snapshot, changes?: OwnChanges): Promise<TouchedKeys> {
  const shape = keyShape(currentSchema(meta));
  const own = changes ?? await snapshotOwnChanges(io, s);
  const out: TouchedKeys = { keys: new Map(), any: false };
  // Rows are compared whole wherever a removal may cancel an addition (an update by position
  // delete + insert, copy-on-write, compaction: with key columns only, an update would cancel
  // out and go unseen); a plain append touches every key it adds, so its key columns are
  // enough (main's appends since the fork are read for keys only).
  const netted = own.removedFiles.length > 0 || own.addedDeleteFiles.length > 0;
  const rowIds = netted ? shape.rowIds : shape.keyIds;
  const counts = new Map<string, Map<string, number>>();
  const count = (get: (id: number) => PrimitiveValue | null, delta: number): void => {
    const keyValues = shape.keyIds.map(get);
    const key = equalityKey(keyValues);
    if (!out.keys.has(key)) out.keys.set(key, shape.keyIds.map((id, i) => `${shape.names.get(id) ?? id}=${show(keyValues[i]!)}`).join(','));
    const row = equalityKey(rowIds.map(get));
    let rows = counts.get(key);
    if (!rows) { rows = new Map(); counts.set(key, rows); }
    rows.set(row, (rows.get(row) ?? 0) + delta);
  };
  const parent = s.parentSnapshotId === null ? undefined : snapshotById(meta, s.parentSnapshotId);
  let parentBase: RowLevelBase | undefined;
  const base = async (): Promise<RowLevelBase> => parentBase ??= await loadRowLevelBase(io, meta, parent);

  for (const f of own.addedDataFiles) {
    await scanColumns(io, f, rowIds, (_first, n, column) => {
      for (let i = 0; i < n; i++) count((id) => column(id)(i), +1);
    }, { schema: currentSchema(meta) });
  }
  const removedPaths = new Set(own.removedFiles.map((f) => f.filePath));
  for (const f of own.removedFiles) {
    if (f.content === FileContent.Data) {
      const b = await base();
      const live = b.data.find((d) => d.file.filePath === f.filePath);
      if (!live) continue;
      await scanLiveRows(b, live, rowIds, (_pos, column, row) => count((id) => column(id)(row), -1));
    } else if (f.content === FileContent.EqualityDeletes || !removedPaths.has(f.referencedDataFile ?? '')) {
      // A dropped delete file brings rows back unless its data file goes too: any key.
      if (s.summary.operation !== 'replace') out.any = true;
    }
  }
  // Rows removed by position deletes: read at their positions in the parent's live files (or
  // in this snapshot's own new files).
  const positions = new Map<string, Set<number>>();
  for (const d of own.addedDeleteFiles) {
    if (d.content === FileContent.PositionDeletes) {
      for (const [path, list] of await readPositionDeleteFile(io, d)) {
        let set = positions.get(path);
        if (!set) { set = new Set(); positions.set(path, set); }
        for (const p of list) set.add(p);
      }
    } else {
      const ids = d.equalityIds ?? [];
      const at = shape.keyIds.map((k) => ids.indexOf(k));
      if (!shape.hasKey || at.some((i) => i < 0)) { out.any = true; continue; }
      await scanColumns(io, d, ids, (_first, n, column) => {
        for (let i = 0; i < n; i++) {
          const values = at.map((j) => column(ids[j]!)(i));
          const key = equalityKey(values);
          if (!out.keys.has(key)) out.keys.set(key, shape.keyIds.map((id, x) => `${shape.names.get(id) ?? id}=${show(values[x]!)}`).join(','));
          let rows = counts.get(key);
          if (!rows) { rows = new Map(); counts.set(key, rows); }
          rows.set('\u0000eq-delete', 1);
        }
      });
    }
  }
  for (const [path, set] of positions) {
    if (removedPaths.has(path)) continue;
    const b = await base();
    const live = b.data.find((d) => d.file.filePath === path);
    if (live) {
      await scanLiveRows(b, live, rowIds, (pos, column, row) => { if (set.has(pos)) count((id) => column(id)(row), -1); });
      continue;
    }
    const added = own.addedDataFiles.find((f) => f.filePath === path);
    if (!added) continue;
    await scanColumns(io, added, rowIds, (first, n, column) => {
      for (let i = 0; i < n; i++) if (set.has(first + i)) count((id) => column(id)(i), -1);
    }, { schema: currentSchema(meta) });
  }
  for (const [key, rows] of counts) {
    if (![...rows.values()].some((c) => c !== 0)) out.keys.delete(key);
  }
  return out;
}

export interface PublishCheckContext {
  readonly io: FileIO;
  /** Metadata holding the fork point, main's new snapshots and the branch's snapshots. */
  readonly meta: TableMetadata;
  /** Names for messages: `db.t`, the branch. */
  readonly table: string;
  readonly branch: string;
  /** What main committed since the fork, oldest first. */
  readonly mainSince: readonly Snapshot[];
}

/** The re-validation of every branch snapshot on the chain it is re-applied on. */
export class PublishValidator {
  private mainKeys: Promise<{ keys: Map<string, { shown: string; snapshotId: bigint }>; any: bigint | undefined; changed: bigint | undefined }> | undefined;
  private mainChanges: Promise<{ s: Snapshot; own: OwnChanges }[]> | undefined;
  private mainDeletes: Promise<{ file: DataFile; sequenceNumber: bigint; snapshotId: bigint }[]> | undefined;

  constructor(private readonly c: PublishCheckContext) {}

  private refuse(source: Snapshot, detail: string): never {
    throw new CherryPickConflictError(`cannot publish branch '${this.c.branch}' of ${this.c.table}: snapshot ${source.snapshotId} (${source.summary.operation ?? '?'}) ${detail}; main and the branch are unchanged (the batch stays staged)`);
  }

  /** Checks `source` (with its own `changes`) going on top of `parent` (main's head, or the
   * snapshot re-applied just before it in the same publish). */
  async validate(base: LoadedTable, parent: Snapshot | undefined, source: Snapshot, changes: OwnChanges): Promise<void> {
    if (!isRowLevel(changes) && source.summary[MERGE_KEY_SUMMARY] === undefined) return;
    if (source.summary.operation === 'replace') {
      this.refuse(source, `rewrites files (compaction on the branch), which cannot be re-applied on a main that moved; compact after publishing`);
    }
    if (this.c.mainSince.length === 0) return;
    const liveData = new Set<string>();
    for (const m of await snapshotManifests(this.c.io, parent)) {
      if (m.content !== ManifestContent.Data) continue;
      for (const e of await manifestEntries(this.c.io, m)) if (e.status !== EntryStatus.Deleted) liveData.add(e.dataFile.filePath);
    }
    // validateDataFilesExist
    for (const f of changes.removedFiles) {
      if (f.content === FileContent.Data && !liveData.has(f.filePath)) this.refuse(source, `removes data file ${f.filePath}, which main no longer has (removed or rewritten since the fork)`);
    }
    for (const d of changes.addedDeleteFiles) {
      if (d.content !== FileContent.PositionDeletes) continue;
      for (const path of (await readPositionDeleteFile(this.c.io, d)).keys()) {
        if (!liveData.has(path)) this.refuse(source, `has position deletes (${d.filePath}) for data file ${path}, which main no longer has (removed or rewritten since the fork)`);
      }
    }
    // validateNoNewDeletesForDataFiles
    const removedData = changes.removedFiles.filter((f) => f.content === FileContent.Data);
    if (removedData.length > 0) {
      const deletes = await this.deletesOnMain();
      if (deletes.length > 0) {
        const index = await buildDeleteIndex(this.c.io, deletes);
        const specOf = (id: number) => specById(base.metadata, id);
        for (const f of removedData) {
          const pos = await index.deletedPositions(f, 0n, specOf);
          const eq = await index.equalityDeletes(f, 0n, specOf);
          if ((pos?.size ?? 0) > 0 || eq.some((e) => e.keys.size > 0)) {
            this.refuse(source, `removes data file ${f.filePath}, for which main added deletes since the fork`);
          }
        }
      }
    }
    // A delete by predicate: by its predicate (Java's conflict-detection filter), not by key.
    const filter = deleteFilterOf(source);
    if (filter !== undefined) {
      const verdict = await checkDeleteFilter(this.c.io, this.c.meta, parent, source, filter, await this.addedOnMain());
      if (!verdict.ok) this.refuse(source, verdict.detail);
      return;
    }
    // Conflicting changes by key.
    const mine = await touchedKeys(this.c.io, this.c.meta, source, changes);
    if (!mine.any && mine.keys.size === 0) return;
    const main = await this.keysChangedOnMain();
    if (main.changed === undefined) return;
    if (!keyShape(currentSchema(this.c.meta)).hasKey) this.refuse(source, `changes rows of a table without a key (identifier fields), and main changed rows since the fork (snapshot ${main.changed}): it cannot be re-validated row by row`);
    if (mine.any && main.changed !== undefined) this.refuse(source, `has deletes that are not by key, and main changed rows since the fork (snapshot ${main.changed})`);
    if (main.any !== undefined && mine.keys.size > 0) this.refuse(source, `changes keys, and main's snapshot ${main.any} since the fork has deletes that are not by key`);
    for (const [key, shown] of mine.keys) {
      const hit = main.keys.get(key);
      if (hit) this.refuse(source, `changes key ${shown}, which main also changed since the fork (snapshot ${hit.snapshotId})`);
    }
  }

  /** main's snapshots since the fork with their own changes (read once). */
  private changesOnMain(): Promise<{ s: Snapshot; own: OwnChanges }[]> {
    this.mainChanges ??= (async () => {
      const out: { s: Snapshot; own: OwnChanges }[] = [];
      for (const s of this.c.mainSince) out.push({ s, own: await snapshotOwnChanges(this.c.io, s) });
      return out;
    })();
    return this.mainChanges;
  }

  /** Data files main added since the fork, by path (whether still live is the caller's). */
  private async addedOnMain(): Promise<Map<string, MainAddedFile>> {
    const out = new Map<string, MainAddedFile>();
    for (const { s, own } of await this.changesOnMain()) {
      for (const f of own.addedDataFiles) out.set(f.filePath, { path: f.filePath, snapshotId: s.snapshotId });
    }
    return out;
  }

  private deletesOnMain(): Promise<{ file: DataFile; sequenceNumber: bigint; snapshotId: bigint }[]> {
    this.mainDeletes ??= (async () => {
      const out: { file: DataFile; sequenceNumber: bigint; snapshotId: bigint }[] = [];
      for (const { s, own } of await this.changesOnMain()) {
        for (const d of own.addedDeleteFiles) out.push({ file: d, sequenceNumber: own.addedSequenceNumbers.get(d.filePath) ?? s.sequenceNumber, snapshotId: s.snapshotId });
      }
      return out;
    })();
    return this.mainDeletes;
  }

  private keysChangedOnMain(): Promise<{ keys: Map<string, { shown: string; snapshotId: bigint }>; any: bigint | undefined; changed: bigint | undefined }> {
    this.mainKeys ??= (async () => {
      const keys = new Map<string, { shown: string; snapshotId: bigint }>();
      let any: bigint | undefined;
      let changed: bigint | undefined;
      for (const s of this.c.mainSince) {
        const t = await touchedKeys(this.c.io, this.c.meta, s);
        if (t.any) any ??= s.snapshotId;
        if (t.any || t.keys.size > 0) changed ??= s.snapshotId;
        for (const [k, shown] of t.keys) if (!keys.has(k)) keys.set(k, { shown, snapshotId: s.snapshotId });
      }
      return { keys, any, changed };
    })();
    return this.mainKeys;
  }
}
