// What one snapshot itself did, read from its manifests: the files it added (ADDED entries it
// wrote) and removed (DELETED entries it wrote). Cherry-pick re-applies them elsewhere, and
// publish validates them against what another branch did meanwhile (Java's
// `SnapshotChanges` / `snapshot.addedDataFiles(io)`).
import type { FileIO } from '../io/file-io.ts';
import { EntryStatus, ManifestContent, type DataFile } from '../spec/data-file.ts';
import type { Snapshot } from '../spec/table-metadata.ts';
import { manifestEntries, snapshotManifests } from './table-manifests.ts';

export interface OwnChanges {
  readonly addedDataFiles: readonly DataFile[];
  readonly addedDeleteFiles: readonly DataFile[];
  /** Data and delete files the snapshot removed from its parent. */
  readonly removedFiles: readonly DataFile[];
  /** Data sequence number of each added file (differs from the snapshot's for a rewrite). */
  readonly addedSequenceNumbers: ReadonlyMap<string, bigint>;
}

export async function snapshotOwnChanges(io: FileIO, s: Snapshot): Promise<OwnChanges> {
  const addedDataFiles: DataFile[] = [];
  const addedDeleteFiles: DataFile[] = [];
  const removedFiles: DataFile[] = [];
  const addedSequenceNumbers = new Map<string, bigint>();
  for (const m of await snapshotManifests(io, s)) {
    // Only manifests this snapshot wrote can hold entries it added or removed.
    if (m.addedSnapshotId !== s.snapshotId) continue;
    for (const e of await manifestEntries(io, m)) {
      if (e.snapshotId !== s.snapshotId) continue;
      if (e.status === EntryStatus.Added) {
        (m.content === ManifestContent.Data ? addedDataFiles : addedDeleteFiles).push(e.dataFile);
        addedSequenceNumbers.set(e.dataFile.filePath, e.sequenceNumber ?? s.sequenceNumber);
      } else if (e.status === EntryStatus.Deleted) {
        removedFiles.push(e.dataFile);
      }
    }
  }
  return { addedDataFiles, addedDeleteFiles, removedFiles, addedSequenceNumbers };
}
