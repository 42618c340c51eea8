// The files a table's metadata references — manifest lists, manifests, data and delete files,
// metadata files of the log, statistics files — shared by snapshot expiry (what may go once
// snapshots are gone), orphan removal (what must never go) and purge (exactly what goes: the
// files of Iceberg Java's CatalogUtil.dropTableData, never a folder tree).
import { NotFoundError } from '../errors.ts';
import type { FileIO } from '../io/file-io.ts';
import { EntryStatus, FileContent, type ManifestFile } from '../spec/data-file.ts';
import type { Snapshot, TableMetadata } from '../spec/table-metadata.ts';
import { manifestEntries, snapshotManifests } from '../transaction/table-manifests.ts';

export interface ReachOptions {
  /** Also the files of DELETED entries (purge: the file is this table's all the same). */
  readonly includeDeletedEntries?: boolean;
  /** Skip a manifest list or manifest that no longer exists instead of failing (purge of a
   * damaged table); a file that exists but cannot be decoded always fails, naming it. */
  readonly skipMissing?: boolean;
}

/** What a reachable file is, and its size where the metadata records it (manifest lists have none). */
export interface ReachableFile {
  readonly kind: 'manifest-list' | 'manifest' | 'data' | 'position-deletes' | 'equality-deletes';
  readonly sizeBytes: bigint | null;
}

const CONTENT_KIND = { [FileContent.Data]: 'data', [FileContent.PositionDeletes]: 'position-deletes', [FileContent.EqualityDeletes]: 'equality-deletes' } as const;

/**
 * Files (manifest lists, manifests, data/delete files) reachable from the given snapshots.
 * By default DELETED entries are skipped: their file belongs to the parent snapshot, which
 * reaches it itself while it is kept. Every file is read before this returns, so a caller
 * that plans from the result never acts on half a picture.
 */
export async function reachableFiles(io: FileIO, snapshots: Iterable<Snapshot>, o: ReachOptions = {}): Promise<Set<string>> {
  return new Set((await reachableFileDetails(io, snapshots, o)).keys());
}

/** `reachableFiles` with each file's kind and recorded size (what a dry run lists). */
export async function reachableFileDetails(io: FileIO, snapshots: Iterable<Snapshot>, o: ReachOptions = {}): Promise<Map<string, ReachableFile>> {
  const out = new Map<string, ReachableFile>();
  const seenManifests = new Set<string>();
  const orMissing = async <T>(p: Promise<T>, empty: T): Promise<T> => {
    try { return await p; } catch (err) { if (o.skipMissing && err instanceof NotFoundError) return empty; throw err; }
  };
  for (const s of snapshots) {
    if (!out.has(s.manifestList)) out.set(s.manifestList, { kind: 'manifest-list', sizeBytes: null });
    const manifests: ManifestFile[] = await orMissing(snapshotManifests(io, s), []);
    for (const mf of manifests) {
      if (seenManifests.has(mf.manifestPath)) continue;
      seenManifests.add(mf.manifestPath);
      out.set(mf.manifestPath, { kind: 'manifest', sizeBytes: mf.manifestLength });
      for (const e of await orMissing(manifestEntries(io, mf), [])) {
        if (o.includeDeletedEntries || e.status !== EntryStatus.Deleted) {
          out.set(e.dataFile.filePath, { kind: CONTENT_KIND[e.dataFile.content], sizeBytes: e.dataFile.fileSizeInBytes });
        }
      }
    }
  }
  return out;
}

/** The metadata-level files of a table: current and logged metadata files, statistics
 * files (floe writes none, but keeps Java's and Trino's), and `version-hint.text`. */
export function metadataLevelFiles(metadata: TableMetadata, metadataLocation: string): string[] {
  const out = [metadataLocation, ...metadata.metadataLog.map((e) => e.metadataFile)];
  for (const s of [...(metadata.statistics ?? []), ...(metadata.partitionStatistics ?? [])]) {
    const p = (s as { 'statistics-path'?: unknown })['statistics-path'];
    if (typeof p === 'string') out.push(p);
  }
  out.push(`${metadata.location.replace(/\/+$/, '')}/metadata/version-hint.text`);
  return out;
}

/** Every file the table's current metadata references, from any snapshot (any ref or none). */
export async function tableFiles(io: FileIO, metadata: TableMetadata, metadataLocation: string, o: ReachOptions = {}): Promise<Set<string>> {
  const out = await reachableFiles(io, metadata.snapshots, o);
  for (const f of metadataLevelFiles(metadata, metadataLocation)) out.add(f);
  return out;
}
