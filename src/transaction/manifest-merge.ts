// Manifest merging on commit (Java MergeAppend's properties) so 10,000 micro-batch commits do
// not leave 10,000 manifests in the list: data manifests of one spec are packed in order (this
// commit's first) into bins of `commit.manifest.target-size-bytes`; a bin is merged into one
// manifest unless it is a single manifest, or holds this commit's manifest with fewer than
// `commit.manifest.min-count-to-merge` manifests.
// Unlike Java, bins are also size-tiered: a manifest holding more entries than all newer ones in
// its bin together starts a new bin. Java rewrites the one big merged manifest with every
// `min-count` new ones, so a merging commit costs time proportional to the table's history;
// here merged manifests grow like a binary counter (100, 200, 100, 400 … entries at min-count
// 100): each entry is rewritten O(log n) times, most merging commits rewrite about min-count
// entries, and the list stays below min-count + log2(commits / min-count) + 1 manifests.
import type { FileIO } from '../io/file-io.ts';
import type { PendingWrites } from '../io/pending-writes.ts';
import { EntryStatus, ManifestContent, type ManifestEntry, type ManifestFile } from '../spec/data-file.ts';
import type { TableMetadata } from '../spec/table-metadata.ts';
import { boolProperty, intProperty, MANIFEST_MERGE_ENABLED, MANIFEST_MIN_MERGE_COUNT, MANIFEST_TARGET_SIZE_BYTES } from '../spec/table-properties.ts';
import { manifestEntriesToRewrite, writeTableManifest } from './table-manifests.ts';

export interface MergeConfig { enabled: boolean; minCountToMerge: number; targetSizeBytes: number }

export function mergeConfig(m: TableMetadata): MergeConfig {
  return {
    enabled: boolProperty(m, MANIFEST_MERGE_ENABLED),
    minCountToMerge: intProperty(m, MANIFEST_MIN_MERGE_COUNT),
    targetSizeBytes: intProperty(m, MANIFEST_TARGET_SIZE_BYTES),
  };
}

const entryCount = (m: ManifestFile): number => m.addedFilesCount + m.existingFilesCount + m.deletedFilesCount;

/** Pure: which manifests go together. Returns bins in order, each to merge or keep. */
export function planManifestMerge(manifests: readonly ManifestFile[], snapshotId: bigint, cfg: MergeConfig): { merge: boolean; manifests: ManifestFile[] }[] {
  if (!cfg.enabled) return manifests.map((m) => ({ merge: false, manifests: [m] }));
  const out: { merge: boolean; manifests: ManifestFile[] }[] = [];
  const groups = new Map<string, ManifestFile[]>();
  for (const m of manifests) {
    if (m.content !== ManifestContent.Data) { out.push({ merge: false, manifests: [m] }); continue; }
    const key = String(m.partitionSpecId);
    let g = groups.get(key);
    if (!g) { g = []; groups.set(key, g); }
    g.push(m);
  }
  for (const group of groups.values()) {
    let bin: ManifestFile[] = [];
    let binSize = 0n;
    const bins: ManifestFile[][] = [];
    let binEntries = 0;
    for (const m of group) {
      const full = bin.length > 0 && binSize + m.manifestLength > BigInt(cfg.targetSizeBytes);
      // Size-tiered: a manifest with more entries than all newer ones of its bin together
      // starts a new bin, so a merge never rewrites a big manifest for a few small ones.
      const bigger = bin.length > 0 && entryCount(m) > binEntries;
      if (full || bigger) { bins.push(bin); bin = []; binSize = 0n; binEntries = 0; }
      bin.push(m);
      binSize += m.manifestLength;
      binEntries += entryCount(m);
    }
    if (bin.length > 0) bins.push(bin);
    for (const b of bins) {
      const hasNew = b.some((m) => m.addedSnapshotId === snapshotId);
      const merge = b.length > 1 && !(hasNew && b.length < cfg.minCountToMerge);
      if (merge) out.push({ merge: true, manifests: b });
      else for (const m of b) out.push({ merge: false, manifests: [m] });
    }
  }
  return out;
}

/** Carries an entry into a manifest written by `snapshotId`: this commit's additions stay
 * ADDED (inheriting), older live entries become EXISTING with explicit sequence numbers, and
 * older DELETED entries are dropped (they were only informational for their own snapshot). */
function carryEntry(e: ManifestEntry, fromNewManifest: boolean): ManifestEntry | undefined {
  if (fromNewManifest) return e;
  if (e.status === EntryStatus.Deleted) return undefined;
  return { ...e, status: EntryStatus.Existing };
}

const READ_CONCURRENCY = 8;

/** `fn` over `items` with at most `limit` running at once; results in the items' order. */
async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export async function mergeManifests(opts: {
  io: FileIO; metadata: TableMetadata; manifests: readonly ManifestFile[]; snapshotId: bigint;
  pathFor: (index: number) => string;
  /** Where the commit's new manifests are being written (merged ones join them). */
  writes?: PendingWrites;
}): Promise<{ manifests: ManifestFile[]; written: string[] }> {
  const plan = planManifestMerge(opts.manifests, opts.snapshotId, mergeConfig(opts.metadata));
  const manifests: ManifestFile[] = [];
  const written: string[] = [];
  for (const bin of plan) {
    if (!bin.merge) { manifests.push(...bin.manifests); continue; }
    // Read a few at a time (a bin is ~min-count-to-merge manifests; one after the other, a
    // disk's latency was paid min-count times), carried over in the bin's order.
    const read = await mapConcurrently(bin.manifests, READ_CONCURRENCY, (m) => manifestEntriesToRewrite(opts.io, m, opts.writes));
    const entries: ManifestEntry[] = [];
    bin.manifests.forEach((m, i) => {
      const isNew = m.addedSnapshotId === opts.snapshotId;
      for (const e of read[i]!) {
        const carried = carryEntry(e, isNew);
        if (carried) entries.push(carried);
      }
    });
    if (entries.length === 0) continue;
    const path = opts.pathFor(written.length);
    const result = await writeTableManifest({
      io: opts.io, metadata: opts.metadata, path, specId: bin.manifests[0]!.partitionSpecId,
      entries, addedSnapshotId: opts.snapshotId, ...(opts.writes ? { writes: opts.writes } : {}),
    });
    written.push(...result.paths);
    manifests.push(...result.manifests);
  }
  return { manifests, written };
}
