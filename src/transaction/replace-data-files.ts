// The commit of a rewrite (Iceberg's RewriteFiles, operation `replace`): removes the rewritten
// files and adds their replacements in one snapshot, validated against what happened since the
// rewrite started, so it is safe next to streaming writers without any lock:
// - the starting snapshot must still be the branch head or one of its ancestors;
// - every replaced file must still be live at the head (no concurrent rewrite or delete took it);
// - no position-delete file committed after the start may touch a replaced file's partition
//   (its deletes would point at a path that no longer exists and rows would come back).
// New files keep the starting snapshot's sequence number, so equality deletes committed later
// still apply to them. Appends that landed meanwhile are carried over untouched.
// Delete files the rewrite made obsolete (`removedDeletes`, chosen on the starting snapshot) go
// in the same snapshot — each only while still live at the head: one another commit already
// removed (rewrite-position-deletes merged it) is left out rather than failing the rewrite.
import { ValidationError } from '../errors.ts';
import type { FileIO } from '../io/file-io.ts';
import { EntryStatus, FileContent, ManifestContent, type DataFile } from '../spec/data-file.ts';
import { partitionKey } from '../spec/partition-spec.ts';
import { ancestorsOf, type Snapshot } from '../spec/table-metadata.ts';
import type { LoadedTable } from '../table/catalog.ts';
import { SnapshotProducer, type ProducerFaultPoints, type ProducerOptions, type SnapshotChanges } from './snapshot-producer.ts';
import { manifestEntries, snapshotManifests } from './table-manifests.ts';

/** A rewrite that can no longer be committed (not retryable: the base moved under it). */
export class RewriteValidationError extends ValidationError {
  constructor(message: string) {
    super(message);
    this.name = 'RewriteValidationError';
  }
}

export interface ReplaceOptions extends ProducerOptions {
  /** The branch head the rewrite read its files from. */
  readonly startingSnapshot: Snapshot;
  readonly removed: readonly DataFile[];
  readonly added: readonly DataFile[];
  /** Delete files of the starting snapshot that no longer apply once `removed` are gone. */
  readonly removedDeletes?: readonly DataFile[];
}

const fileKey = (f: DataFile): string => `${f.specId}/${partitionKey(f.partition)}`;

export class ReplaceDataFiles extends SnapshotProducer {
  constructor(io: FileIO, private readonly o: ReplaceOptions) {
    super(io, o);
    if (o.removed.length === 0) throw new ValidationError('a rewrite must replace at least one file');
  }

  protected override faultPoints(): ProducerFaultPoints {
    return { afterManifests: 'compaction.after-manifests', afterManifestList: 'compaction.after-manifest-list' };
  }

  protected override removedFilesMissing(missing: readonly string[]): never {
    throw new RewriteValidationError(`cannot commit rewrite: ${missing.length} replaced file(s) are no longer live at ${this.branch}'s head (removed by a concurrent commit), e.g. ${missing[0]}`);
  }

  protected async changes(base: LoadedTable, head: Snapshot | undefined): Promise<SnapshotChanges> {
    const start = this.o.startingSnapshot;
    if (!head || ![...ancestorsOf(base.metadata, head.snapshotId)].some((s) => s.snapshotId === start.snapshotId)) {
      throw new RewriteValidationError(`cannot commit rewrite: starting snapshot ${start.snapshotId} is no longer an ancestor of ${this.branch}'s head ${head?.snapshotId ?? '(none)'}`);
    }
    await this.refuseNewPositionDeletes(head);
    const droppedDeletes = await this.stillLiveDeletes(head);
    return {
      operation: 'replace', addedDataFiles: this.o.added, removedFiles: [...this.o.removed, ...droppedDeletes],
      // The rewritten rows are as old as the snapshot they were read from.
      dataSequenceNumber: start.sequenceNumber,
    };
  }

  /** The `removedDeletes` still live at `head`. */
  private async stillLiveDeletes(head: Snapshot): Promise<DataFile[]> {
    const wanted = this.o.removedDeletes ?? [];
    if (wanted.length === 0) return [];
    const live = new Set<string>();
    for (const m of await snapshotManifests(this.io, head)) {
      if (m.content !== ManifestContent.Deletes) continue;
      for (const e of await manifestEntries(this.io, m)) if (e.status !== EntryStatus.Deleted) live.add(e.dataFile.filePath);
    }
    return wanted.filter((d) => live.has(d.filePath));
  }

  private async refuseNewPositionDeletes(head: Snapshot): Promise<void> {
    const start = this.o.startingSnapshot;
    const removedPaths = new Set(this.o.removed.map((f) => f.filePath));
    const removedPartitions = new Set(this.o.removed.map(fileKey));
    for (const m of await snapshotManifests(this.io, head)) {
      // Only manifests written after the start can hold deletes committed after it.
      if (m.content !== ManifestContent.Deletes || m.sequenceNumber <= start.sequenceNumber) continue;
      for (const e of await manifestEntries(this.io, m)) {
        if (e.status === EntryStatus.Deleted || (e.sequenceNumber ?? 0n) <= start.sequenceNumber) continue;
        const d = e.dataFile;
        const mayTouch = d.partition.length === 0 || removedPartitions.has(fileKey(d)) || removedPaths.has(d.referencedDataFile ?? '');
        if (d.content === FileContent.PositionDeletes && mayTouch) {
          throw new RewriteValidationError(`cannot commit rewrite: found new position delete ${d.filePath} for a replaced data file`);
        }
      }
    }
  }
}
