// The commit of a rewrite (Iceberg's RewriteFiles, operation `replace`): removes the rewritten
// files and adds their replacements in one snapshot, validated against what happened since the
// rewrite started, so it is safe next to streaming writers without any lock:
// - the starting snapshot must still be the branch head or one of its ancestors;
// - every replaced file must still be live at the head (no concurrent rewrite or delete took it);
// - no position-delete file committed after the start may touch a replaced file's partition
//   (its deletes would point at a path that no longer exists and rows would come back).
// New files keep the starting snapshot's sequence number, so equality deletes committed later
// still apply to them. The manifests are rebuilt on the current head at every attempt, so
// appends that landed meanwhile are carried over untouched.
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../src/errors.ts';
import { faultPoint } from '../src/fault-points.ts';
import { writeManifestList } from '../src/format/manifest-list-writer.ts';
import type { FileIO } from '../src/io/file-io.ts';
import { EntryStatus, FileContent, ManifestContent, type DataFile, type ManifestEntry, type ManifestFile } from '../src/spec/data-file.ts';
import { partitionKey } from '../src/spec/partition-spec.ts';
import { ancestorsOf, branchHead, MAIN_BRANCH, type Snapshot } from '../src/spec/table-metadata.ts';
import type { LoadedTable } from '../src/table/catalog.ts';
import { mergeManifests } from '../src/transaction/manifest-merge.ts';
import { branchCommit, parentTotals, type PreparedSnapshot, type SnapshotAction } from '../src/transaction/snapshot-action.ts';
import { newSnapshotId } from '../src/transaction/snapshot-id.ts';
import { addFile, buildSummary, emptyDelta, removeFile } from '../src/transaction/snapshot-summary.ts';
import { manifestEntries, snapshotManifests, writeTableManifest } from '../src/transaction/table-manifests.ts';

/** A rewrite that can no longer be committed (not retryable: the base moved under it). */
export class RewriteValidationError extends ValidationError {
  constructor(message: string) {
    super(message);
    this.name = 'RewriteValidationError';
  }
}

export interface ReplaceOptions {
  readonly branch?: string;
  /** The branch head the rewrite read its files from. */
  readonly startingSnapshot: Snapshot;
  readonly removed: readonly DataFile[];
  readonly added: readonly DataFile[];
  readonly summary?: Readonly<Record<string, string>>;
}

const fileKey = (f: DataFile): string => `${f.specId}/${partitionKey(f.partition)}`;

export class ReplaceDataFiles implements SnapshotAction {
  readonly snapshotId = newSnapshotId();
  readonly branch: string;
  private readonly commitUuid = randomUUID();
  private addedManifests: ManifestFile[] | undefined;
  private readonly shared: string[] = [];

  constructor(private readonly io: FileIO, private readonly o: ReplaceOptions) {
    if (o.removed.length === 0) throw new ValidationError('a rewrite must replace at least one file');
    this.branch = o.branch ?? MAIN_BRANCH;
  }

  sharedFiles(): readonly string[] { return this.shared; }

  private async writeAddedManifests(base: LoadedTable): Promise<ManifestFile[]> {
    if (this.addedManifests) return this.addedManifests;
    const bySpec = new Map<number, DataFile[]>();
    for (const f of this.o.added) bySpec.set(f.specId, [...(bySpec.get(f.specId) ?? []), f]);
    const out: ManifestFile[] = [];
    for (const [specId, files] of bySpec) {
      const path = `${base.metadata.location}/metadata/${this.commitUuid}-m${out.length}.avro`;
      const { manifests, paths } = await writeTableManifest({
        io: this.io, metadata: base.metadata, path, specId, addedSnapshotId: this.snapshotId,
        // Explicit data sequence number: the rewritten rows are as old as the snapshot they were read from.
        entries: files.map((dataFile) => ({ status: EntryStatus.Added, snapshotId: this.snapshotId, sequenceNumber: this.o.startingSnapshot.sequenceNumber, fileSequenceNumber: null, dataFile })),
      });
      this.shared.push(...paths);
      out.push(...manifests);
    }
    this.addedManifests = out;
    return out;
  }

  async prepare(base: LoadedTable, attempt: number): Promise<PreparedSnapshot> {
    const meta = base.metadata;
    const head = branchHead(meta, this.branch);
    const start = this.o.startingSnapshot;
    if (!head || ![...ancestorsOf(meta, head.snapshotId)].some((s) => s.snapshotId === start.snapshotId)) {
      throw new RewriteValidationError(`cannot commit rewrite: starting snapshot ${start.snapshotId} is no longer an ancestor of ${this.branch}'s head ${head?.snapshotId ?? '(none)'}`);
    }
    const removedPaths = new Set(this.o.removed.map((f) => f.filePath));
    const removedPartitions = new Set(this.o.removed.map(fileKey));
    const found = new Set<string>();
    const headManifests = await snapshotManifests(this.io, head);
    const kept: ManifestFile[] = [];
    const rewritten: { manifest: ManifestFile; entries: ManifestEntry[] }[] = [];
    for (const m of headManifests) {
      if (m.content === ManifestContent.Deletes) {
        // Only manifests written after the start can hold deletes committed after it.
        if (m.sequenceNumber > start.sequenceNumber) {
          for (const e of await manifestEntries(this.io, m)) {
            if (e.status === EntryStatus.Deleted || (e.sequenceNumber ?? 0n) <= start.sequenceNumber) continue;
            const d = e.dataFile;
            const mayTouch = d.partition.length === 0 || removedPartitions.has(fileKey(d)) || removedPaths.has(d.referencedDataFile ?? '');
            if (d.content === FileContent.PositionDeletes && mayTouch) {
              throw new RewriteValidationError(`cannot commit rewrite: found new position delete ${d.filePath} for a replaced data file`);
            }
          }
        }
        kept.push(m);
        continue;
      }
      const entries = await manifestEntries(this.io, m);
      const hits = entries.filter((e) => e.status !== EntryStatus.Deleted && removedPaths.has(e.dataFile.filePath));
      if (hits.length === 0) { kept.push(m); continue; }
      for (const e of hits) found.add(e.dataFile.filePath);
      rewritten.push({ manifest: m, entries });
    }
    const missing = [...removedPaths].filter((p) => !found.has(p));
    if (missing.length > 0) {
      throw new RewriteValidationError(`cannot commit rewrite: ${missing.length} replaced file(s) are no longer live at ${this.branch}'s head (removed by a concurrent commit), e.g. ${missing[0]}`);
    }

    const attemptFiles: string[] = [];
    const cleanupOnError = async (err: unknown): Promise<never> => {
      for (const f of attemptFiles) await this.io.delete(f);
      throw err;
    };
    const sequenceNumber = meta.lastSequenceNumber + 1n;
    const added = await this.writeAddedManifests(base);
    const replacedManifests: ManifestFile[] = [];
    try {
      for (const { manifest, entries } of rewritten) {
        const path = `${meta.location}/metadata/${this.commitUuid}-a${attempt}-r${replacedManifests.length}.avro`;
        const carried: ManifestEntry[] = [];
        for (const e of entries) {
          if (e.status === EntryStatus.Deleted) continue;
          carried.push(removedPaths.has(e.dataFile.filePath)
            ? { ...e, status: EntryStatus.Deleted, snapshotId: this.snapshotId }
            : { ...e, status: EntryStatus.Existing });
        }
        const written = await writeTableManifest({ io: this.io, metadata: meta, path, specId: manifest.partitionSpecId, entries: carried, addedSnapshotId: this.snapshotId });
        attemptFiles.push(...written.paths);
        replacedManifests.push(...written.manifests);
      }
      const merged = await mergeManifests({
        io: this.io, metadata: meta, manifests: [...added, ...replacedManifests, ...kept], snapshotId: this.snapshotId,
        pathFor: (i) => `${meta.location}/metadata/${this.commitUuid}-a${attempt}-merged-m${i}.avro`,
      });
      attemptFiles.push(...merged.written);
      faultPoint('compaction.after-manifests');
      const listPath = `${meta.location}/metadata/snap-${this.snapshotId}-${attempt}-${this.commitUuid}.avro`;
      await this.io.writeNew(listPath, writeManifestList({ manifests: merged.manifests, snapshotId: this.snapshotId, parentSnapshotId: head.snapshotId, sequenceNumber }));
      attemptFiles.push(listPath);
      faultPoint('compaction.after-manifest-list');
      const delta = emptyDelta();
      for (const f of this.o.added) addFile(delta, f);
      for (const f of this.o.removed) removeFile(delta, f);
      const totals = await parentTotals(this.io, head, headManifests);
      const snapshot: Snapshot = {
        snapshotId: this.snapshotId,
        parentSnapshotId: head.snapshotId,
        sequenceNumber,
        timestampMs: Date.now(),
        manifestList: listPath,
        summary: buildSummary('replace', delta, totals, this.o.summary ?? {}),
        schemaId: meta.currentSchemaId,
      };
      return branchCommit(meta, this.branch, snapshot, attemptFiles);
    } catch (err) {
      return cleanupOnError(err);
    }
  }

}
