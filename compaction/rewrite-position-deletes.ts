// rewrite-position-deletes (Iceberg's rewrite_position_delete_files): after many merge-on-read
// merges a partition holds many small position-delete files, and every reader opens each of
// them. Per partition, all live position-delete files are merged into one, sorted by path and
// position, without the entries whose data file is no longer live (dangling: a compaction or
// copy-on-write removed it); one `replace` snapshot (src/transaction/rewrite-position-deletes.ts)
// commits every partition. Equality deletes are left alone. A partition is rewritten when it
// has at least `minInputFiles` position-delete files, or any dangling entry.
import { CommitStateUnknownError } from '../src/errors.ts';
import { deleteAll } from '../src/io/file-io.ts';
import { readPositionDeleteFile } from '../src/reader/delete-index.ts';
import { EntryStatus, FileContent, ManifestContent, type DataFile } from '../src/spec/data-file.ts';
import { partitionKey } from '../src/spec/partition-spec.ts';
import { branchHead, currentSchema, MAIN_BRANCH, specById } from '../src/spec/table-metadata.ts';
import type { Catalog } from '../src/table/catalog.ts';
import type { TableIdentifier } from '../src/table/identifier.ts';
import { commitWithRetry, type CommitHooks } from '../src/transaction/commit-with-retry.ts';
import { RewritePositionDeletes, type MergedPositionDeletes } from '../src/transaction/rewrite-position-deletes.ts';
import { manifestEntries, snapshotManifests } from '../src/transaction/table-manifests.ts';
import { writePositionDeletes } from '../src/writer/position-delete-writer.ts';

/** Options of {@link rewritePositionDeletes}. */
export interface RewritePositionDeletesOptions {
  /** The branch to rewrite (default `main`). */
  readonly branch?: string;
  /** Position-delete files a partition needs before it is rewritten (default 2; a partition
   * with a dangling entry is rewritten whatever its count). */
  readonly minInputFiles?: number;
  /** Callbacks around each commit attempt. */
  readonly hooks?: CommitHooks;
}

/** What {@link rewritePositionDeletes} committed. */
export interface RewritePositionDeletesResult {
  /** The new snapshot, or null when there was nothing to rewrite (see `reason`). */
  readonly snapshotId: bigint | null;
  /** The branch rewritten. */
  readonly branch: string;
  /** Partitions rewritten. */
  readonly partitions: number;
  /** Position-delete files replaced. */
  readonly rewrittenDeleteFiles: number;
  /** Position-delete files written. */
  readonly addedDeleteFiles: number;
  /** Entries dropped because their data file is no longer live. */
  readonly danglingDeletes: number;
  /** Entries written to the new files. */
  readonly positionDeletes: number;
  /** Why nothing was rewritten. */
  readonly reason?: string;
}

interface PartitionDeletes {
  readonly specId: number;
  readonly partition: DataFile['partition'];
  readonly files: { file: DataFile; sequenceNumber: bigint }[];
}

/**
 * Merges each partition's position-delete files into one (Iceberg's
 * rewrite_position_delete_files), dropping entries whose data file is gone: after many
 * merge-on-read merges readers open far fewer files. Equality deletes are left alone. A
 * partition is rewritten when it has at least `minInputFiles` files or a dangling entry.
 *
 * @throws {@link floe!NotFoundError} for a missing table or branch.
 */
export async function rewritePositionDeletes(catalog: Catalog, id: TableIdentifier, opts: RewritePositionDeletesOptions = {}): Promise<RewritePositionDeletesResult> {
  const branch = opts.branch ?? MAIN_BRANCH;
  const minInputFiles = Math.max(1, opts.minInputFiles ?? 2);
  const base = await catalog.loadTable(id);
  const meta = base.metadata;
  const head = branchHead(meta, branch);
  const nothing = (reason: string): RewritePositionDeletesResult => ({
    snapshotId: null, branch, partitions: 0, rewrittenDeleteFiles: 0, addedDeleteFiles: 0, danglingDeletes: 0, positionDeletes: 0, reason,
  });
  if (!head) return nothing(`branch '${branch}' has no snapshot; nothing to rewrite`);

  const liveData = new Set<string>();
  const partitions = new Map<string, PartitionDeletes>();
  for (const m of await snapshotManifests(catalog.io, head)) {
    for (const e of await manifestEntries(catalog.io, m)) {
      if (e.status === EntryStatus.Deleted) continue;
      const f = e.dataFile;
      if (m.content === ManifestContent.Data) { liveData.add(f.filePath); continue; }
      // Deletion vectors (Puffin) are one per data file already: left as they are.
      if (f.content !== FileContent.PositionDeletes || f.fileFormat !== 'parquet') continue;
      const key = `${f.specId}\u0000${partitionKey(f.partition)}`;
      let p = partitions.get(key);
      if (!p) { p = { specId: f.specId, partition: f.partition, files: [] }; partitions.set(key, p); }
      p.files.push({ file: f, sequenceNumber: e.sequenceNumber ?? 0n });
    }
  }

  const schema = currentSchema(meta);
  const removed: DataFile[] = [];
  const added: MergedPositionDeletes[] = [];
  let danglingDeletes = 0;
  let positionDeletes = 0;
  let rewritten = 0;
  try {
    for (const p of partitions.values()) {
      // Read one partition at a time: memory holds one partition's deletes.
      const merged = new Map<string, number[]>();
      let dangling = 0;
      for (const { file } of p.files) {
        for (const [path, positions] of await readPositionDeleteFile(catalog.io, file)) {
          if (!liveData.has(path)) { dangling += positions.length; continue; }
          const list = merged.get(path);
          if (list) list.push(...positions); else merged.set(path, [...positions]);
        }
      }
      if (p.files.length < minInputFiles && dangling === 0) continue;
      const dataSequenceNumber = p.files.reduce((max, f) => (f.sequenceNumber > max ? f.sequenceNumber : max), 0n);
      const file = merged.size === 0 ? null : await writePositionDeletes(
        { io: catalog.io, location: meta.location, schema, spec: specById(meta, p.specId), properties: meta.properties }, p.partition, merged,
      );
      added.push({ file, dataSequenceNumber });
      removed.push(...p.files.map((f) => f.file));
      danglingDeletes += dangling;
      positionDeletes += Number(file?.recordCount ?? 0n);
      rewritten++;
    }
  } catch (err) {
    await deleteAll(catalog.io, added.flatMap((a) => (a.file ? [a.file.filePath] : [])));
    throw err;
  }
  if (removed.length === 0) return nothing(`no partition of branch '${branch}' has ${minInputFiles}+ position-delete files or a dangling delete`);

  const newFiles = added.flatMap((a) => (a.file ? [a.file] : []));
  let snapshotId: bigint;
  try {
    const r = await commitWithRetry(catalog, id, new RewritePositionDeletes(catalog.io, { branch, removed, added }), { base, ...(opts.hooks ? { hooks: opts.hooks } : {}) });
    snapshotId = r.snapshot.snapshotId;
  } catch (err) {
    // An unknown outcome may have landed: its files are then the table's.
    if (!(err instanceof CommitStateUnknownError)) await deleteAll(catalog.io, newFiles.map((f) => f.filePath));
    throw err;
  }
  return { snapshotId, branch, partitions: rewritten, rewrittenDeleteFiles: removed.length, addedDeleteFiles: newFiles.length, danglingDeletes, positionDeletes };
}
