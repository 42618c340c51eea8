// The files a set of snapshots reaches — manifest lists, manifests, and the data and delete
// files of their live entries — shared by snapshot expiry (what may go once snapshots are
// gone) and orphan removal (what must never go).
import type { FileIO } from '../src/io/file-io.ts';
import { EntryStatus } from '../src/spec/data-file.ts';
import type { Snapshot } from '../src/spec/table-metadata.ts';
import { manifestEntries, snapshotManifests } from '../src/transaction/table-manifests.ts';

/** Files (manifest lists, manifests, data/delete files) reachable from the given snapshots.
 * DELETED entries are skipped: their file belongs to the parent snapshot, which reaches it
 * itself while it is kept. */
export async function reachableFiles(io: FileIO, snapshots: Iterable<Snapshot>): Promise<Set<string>> {
  const out = new Set<string>();
  const seenManifests = new Set<string>();
  for (const s of snapshots) {
    out.add(s.manifestList);
    for (const mf of await snapshotManifests(io, s)) {
      out.add(mf.manifestPath);
      if (seenManifests.has(mf.manifestPath)) continue;
      seenManifests.add(mf.manifestPath);
      for (const e of await manifestEntries(io, mf)) if (e.status !== EntryStatus.Deleted) out.add(e.dataFile.filePath);
    }
  }
  return out;
}
