// What every row-level change (upsert, delete by key, delete by predicate) needs from the base
// it is planned on: the live data files of the branch with their data sequence numbers, the
// deletes that already apply to each, the write mode Iceberg's properties choose, and — once
// the rows to remove are known — the files that remove them: position-delete files
// (merge-on-read) or rewritten data files (copy-on-write).
import { ValidationError } from '../errors.ts';
import type { FileIO } from '../io/file-io.ts';
import { buildDeleteIndex, type DeleteIndex } from '../reader/delete-index.ts';
import { EntryStatus, ManifestContent, type DataFile, type PartitionTuple } from '../spec/data-file.ts';
import { partitionKey, type PartitionSpec } from '../spec/partition-spec.ts';
import type { Schema } from '../spec/schema.ts';
import { currentSchema, specById, type Snapshot, type TableMetadata } from '../spec/table-metadata.ts';
import {
  DELETE_MODE, intProperty, MERGE_MODE, stringProperty, UPDATE_MODE, WRITE_TARGET_FILE_SIZE_BYTES,
  type TableProperty,
} from '../spec/table-properties.ts';
import { manifestEntries, snapshotManifests } from '../transaction/table-manifests.ts';
import { rewriteDataFiles } from '../writer/data-file-rewriter.ts';
import { writePositionDeletes } from '../writer/position-delete-writer.ts';

/** How row-level changes are written (`write.delete.mode`, `write.update.mode`, `write.merge.mode`):
 * `merge-on-read` adds position-delete files (fast writes, readers apply them), `copy-on-write`
 * rewrites the touched data files (slower writes, plain reads). */
export type RowLevelMode = 'merge-on-read' | 'copy-on-write';
export type RowLevelCommand = 'merge' | 'update' | 'delete';

const MODE_PROPERTY: Readonly<Record<RowLevelCommand, TableProperty<string>>> = { merge: MERGE_MODE, update: UPDATE_MODE, delete: DELETE_MODE };

/** Iceberg's `write.<command>.mode` (default merge-on-read, as floe's streaming use wants:
 * copy-on-write rewrites whole files for every micro-batch). */
export function rowLevelMode(meta: TableMetadata, command: RowLevelCommand, override?: RowLevelMode): RowLevelMode {
  if (override) return override;
  const p = MODE_PROPERTY[command];
  const v = stringProperty(meta, p);
  if (v !== 'merge-on-read' && v !== 'copy-on-write') throw new ValidationError(`table property ${p.name}='${v}' must be merge-on-read or copy-on-write`);
  return v;
}

export interface LiveDataFile { readonly file: DataFile; readonly sequenceNumber: bigint }

export interface RowLevelBase {
  readonly io: FileIO;
  readonly meta: TableMetadata;
  readonly schema: Schema;
  readonly parent: Snapshot | undefined;
  readonly data: readonly LiveDataFile[];
  readonly deletes: DeleteIndex;
  readonly specOf: (specId: number) => PartitionSpec;
}

export async function loadRowLevelBase(io: FileIO, meta: TableMetadata, parent: Snapshot | undefined): Promise<RowLevelBase> {
  const data: LiveDataFile[] = [];
  const deleteEntries: { file: DataFile; sequenceNumber: bigint }[] = [];
  for (const m of await snapshotManifests(io, parent)) {
    for (const e of await manifestEntries(io, m)) {
      if (e.status === EntryStatus.Deleted) continue;
      const live = { file: e.dataFile, sequenceNumber: e.sequenceNumber ?? m.sequenceNumber };
      (m.content === ManifestContent.Data ? data : deleteEntries).push(live);
    }
  }
  return {
    io, meta, schema: currentSchema(meta), parent, data,
    deletes: await buildDeleteIndex(io, deleteEntries),
    specOf: (specId) => specById(meta, specId),
  };
}

/** Rows of one live data file a change removes (positions ascending, not yet deleted). */
export interface FileHits {
  readonly live: LiveDataFile;
  readonly positions: readonly number[];
  /** Positions already deleted by existing delete files (copy-on-write drops them too). */
  readonly alreadyDeleted: ReadonlySet<number>;
}

export interface RowRemoval {
  readonly addedDeleteFiles: DataFile[];
  readonly addedDataFiles: DataFile[];
  readonly removedFiles: DataFile[];
  rowsRewritten: number;
}

/** Files that remove `hits` from the table; every written path is pushed to `written` as soon
 * as it exists, so a failure half-way leaves nothing the caller does not know about. */
export async function removeRows(base: RowLevelBase, hits: readonly FileHits[], mode: RowLevelMode, written: string[]): Promise<RowRemoval> {
  const out: RowRemoval = { addedDeleteFiles: [], addedDataFiles: [], removedFiles: [], rowsRewritten: 0 };
  const byPartition = new Map<string, { spec: PartitionSpec; partition: PartitionTuple; hits: FileHits[] }>();
  for (const h of hits) {
    if (h.positions.length === 0) continue;
    const key = `${h.live.file.specId}\u0000${partitionKey(h.live.file.partition)}`;
    let g = byPartition.get(key);
    if (!g) { g = { spec: base.specOf(h.live.file.specId), partition: h.live.file.partition, hits: [] }; byPartition.set(key, g); }
    g.hits.push(h);
  }
  const props = base.meta.properties;
  for (const g of byPartition.values()) {
    if (mode === 'merge-on-read') {
      const positions = new Map(g.hits.map((h) => [h.live.file.filePath, h.positions] as const));
      const file = await writePositionDeletes({ io: base.io, location: base.meta.location, schema: base.schema, spec: g.spec, properties: props }, g.partition, positions);
      written.push(file.filePath);
      out.addedDeleteFiles.push(file);
      continue;
    }
    // Copy-on-write: every touched file is rewritten without its deleted rows (old and new).
    for (const h of g.hits) {
      const gone = new Set(h.alreadyDeleted);
      for (const p of h.positions) gone.add(p);
      out.removedFiles.push(h.live.file);
      if (BigInt(gone.size) >= h.live.file.recordCount) continue; // nothing left: just drop the file
      const result = await rewriteDataFiles([{ file: h.live.file, deletedPositions: [...gone].sort((a, b) => a - b) }], {
        io: base.io, schema: base.schema, spec: g.spec, location: base.meta.location, properties: props,
        targetFileSizeBytes: intProperty(props, WRITE_TARGET_FILE_SIZE_BYTES),
      });
      for (const f of result.files) { written.push(f.filePath); out.addedDataFiles.push(f); }
      out.rowsRewritten += result.rowsRead - result.rowsDeleted;
    }
  }
  return out;
}
