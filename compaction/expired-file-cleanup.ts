// Deleting the files of expired snapshots so that a crash at any point loses nothing and leaks
// nothing: files go bottom-up (data and delete files, then manifests, then manifest lists, as
// Java's FileCleanupStrategy does), so whatever is left is still found from the manifest lists
// that remain; and every run also finishes the cleanup of earlier runs that died after their
// commit — the snapshots they removed are still in the metadata files of the table's log.
import { faultPoint } from '../src/fault-points.ts';
import { deleteAll, type FileIO } from '../src/io/file-io.ts';
import { isS3Uri } from '../src/io/s3-location.ts';
import { EntryStatus, type ManifestFile } from '../src/spec/data-file.ts';
import { parseTableMetadata, type Snapshot, type TableMetadata } from '../src/spec/table-metadata.ts';
import { manifestEntries, snapshotManifests } from '../src/transaction/table-manifests.ts';
import { reachableFiles } from '../src/table/table-files.ts';
import { comparableLocation } from '../src/table/table-location.ts';

/**
 * Snapshots that metadata files in `current`'s log still list but `current` no longer has:
 * removed by an expiry (only expiry removes snapshots), whose files may not all be deleted yet.
 * Logged metadata files that are gone (write.metadata.delete-after-commit) are skipped.
 */
export async function droppedSnapshots(io: FileIO, current: TableMetadata): Promise<Snapshot[]> {
  const live = new Set(current.snapshots.map((s) => s.snapshotId));
  const dropped = new Map<bigint, Snapshot>();
  for (const e of current.metadataLog) {
    if (!(await io.exists(e.metadataFile))) continue;
    const old = parseTableMetadata(new TextDecoder().decode(await io.read(e.metadataFile)), e.metadataFile);
    for (const s of old.snapshots) if (!live.has(s.snapshotId) && !dropped.has(s.snapshotId)) dropped.set(s.snapshotId, s);
  }
  return [...dropped.values()];
}

/** The files `snapshots` reach, by layer; manifest lists and manifests already deleted are skipped. */
async function filesByLayer(io: FileIO, snapshots: readonly Snapshot[]): Promise<{ content: string[]; manifests: string[]; lists: string[] }> {
  const lists = new Set<string>();
  const manifests = new Map<string, ManifestFile>();
  for (const s of snapshots) {
    if (!(await io.exists(s.manifestList))) continue;
    lists.add(s.manifestList);
    for (const m of await snapshotManifests(io, s)) manifests.set(m.manifestPath, m);
  }
  const content = new Set<string>();
  for (const m of manifests.values()) {
    if (!(await io.exists(m.manifestPath))) continue;
    for (const e of await manifestEntries(io, m)) if (e.status !== EntryStatus.Deleted) content.add(e.dataFile.filePath);
  }
  return { content: [...content], manifests: [...manifests.keys()], lists: [...lists] };
}

/**
 * Deletes what `removed` snapshots reach and no snapshot of `current` does, bottom-up.
 * `deleted` counts files really deleted (files already gone are not counted), `left` those
 * whose deletion failed.
 */
export async function deleteExpiredFiles(io: FileIO, current: TableMetadata, removed: readonly Snapshot[]): Promise<{ deleted: number; left: number }> {
  const layers = await filesByLayer(io, removed);
  // Usually every dropped snapshot's files are long gone: then the live tree is not walked.
  if (layers.lists.length === 0 && layers.manifests.length === 0) return { deleted: 0, left: 0 };
  const keep = new Set([...await reachableFiles(io, current.snapshots)].map(comparableLocation));
  let deleted = 0;
  let left = 0;
  for (const layer of [layers.content, layers.manifests, layers.lists]) {
    // On an object store a layer goes in DeleteObjects batches (1,000 keys a call); locally file
    // by file (the crash tests kill between two files).
    const batch: string[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      // Counted as deleted when queued; what the store refused moves to `left`.
      const failed = (await deleteAll(io, batch.splice(0))).length;
      left += failed;
      deleted -= failed;
    };
    for (const f of layer) {
      if (keep.has(comparableLocation(f)) || !(await io.exists(f))) continue;
      if (isS3Uri(f)) {
        batch.push(f);
        deleted++;
        if (batch.length >= 1000) { faultPoint('expire.mid-delete'); await flush(); }
        continue;
      }
      faultPoint('expire.mid-delete');
      if ((await deleteAll(io, [f])).length === 0) deleted++; else left++;
    }
    if (batch.length > 0) faultPoint('expire.mid-delete');
    await flush();
  }
  return { deleted, left };
}
