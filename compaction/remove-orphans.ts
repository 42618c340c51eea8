// Orphan file removal (Iceberg's DeleteOrphanFiles): files under the table's data/ and
// metadata/ folders that no snapshot, no metadata file of the log and no statistics file
// reaches, and that are older than a safety margin, are deleted. The margin is what keeps a
// concurrent writer's files (written, not yet committed) alive.
import PQueue from 'p-queue';
import type { FileInfo, FileIO } from '../src/io/file-io.ts';
import { isS3Uri } from '../src/io/s3-location.ts';
import { parseTableMetadata, type TableMetadata } from '../src/spec/table-metadata.ts';
import type { Catalog } from '../src/table/catalog.ts';
import { identifierToString, type TableIdentifier } from '../src/table/identifier.ts';
import { tableFiles } from '../src/table/table-files.ts';
import { comparableLocation, isWithinLocation, ownedByAnotherTable, ownerResolver, type TableLocation } from '../src/table/table-location.ts';

/** Java's default `older_than`: three days, longer than any sane commit takes. */
export const DEFAULT_ORPHAN_AGE_MS = 3 * 86_400_000;
const DELETE_CONCURRENCY = 8;

/** Options of {@link removeOrphanFiles}. */
export interface RemoveOrphansOptions {
  /** "Now" (usually `Date.now()`): file ages are measured from it. */
  readonly nowMs: number;
  /** Only files last modified longer ago than this may go (default 3 days). */
  readonly olderThanMs?: number;
  /** List the orphans, delete nothing. */
  readonly dryRun?: boolean;
}

/** What {@link removeOrphanFiles} found and deleted. */
export interface RemoveOrphansResult {
  /** Files under the table location that were looked at. */
  readonly scannedFiles: number;
  /** Orphans old enough to go: deleted, or in a dry run what would be deleted. */
  readonly orphans: readonly FileInfo[];
  /** Orphans deleted. */
  readonly deletedFiles: number;
  /** Their total size. */
  readonly deletedBytes: number;
  /** Orphans whose deletion failed (the next run retries them). */
  readonly failed: readonly string[];
  /** Unreferenced files spared because they are younger than the margin. */
  readonly tooYoung: number;
  /** Multipart uploads under the table older than the margin, aborted (object stores: what a
   * killed writer leaves; its parts cost storage and no listing shows them). */
  readonly abortedUploads?: number;
  /** Whether this was a dry run. */
  readonly dryRun: boolean;
}

export { comparableLocation };

/** Every file the table's current metadata needs: reachable from any snapshot (any ref or
 * none), the current and logged metadata files, statistics files, `version-hint.text`. */
export async function liveTableFiles(io: FileIO, metadata: TableMetadata, metadataLocation: string): Promise<Set<string>> {
  const live = new Set<string>();
  for (const f of await tableFiles(io, metadata, metadataLocation)) live.add(comparableLocation(f));
  return live;
}

/** Pure: which listed files are orphans old enough to delete, and how many were spared. */
export function planOrphanRemoval(listed: readonly FileInfo[], live: ReadonlySet<string>, location: string, o: { nowMs: number; olderThanMs: number; otherTables?: readonly TableLocation[] }):
  { orphans: FileInfo[]; tooYoung: number } {
  const root = comparableLocation(location).replace(/\/+$/, '');
  // Only the folders Iceberg writers use: a catalog database or anything else a user keeps
  // next to (or inside) the table folder is never ours to delete.
  const owned = [`${root}/data/`, `${root}/metadata/`];
  const orphans: FileInfo[] = [];
  let tooYoung = 0;
  for (const f of listed) {
    const p = comparableLocation(f.uri);
    if (!owned.some((dir) => p.startsWith(dir)) || live.has(p)) continue;
    // A table whose folder lies inside ours (made before floe refused such locations) keeps
    // its files: they are live for it, whatever our metadata says.
    if (o.otherTables && ownedByAnotherTable(f.uri, location, o.otherTables)) continue;
    if (o.nowMs - f.modifiedMs > o.olderThanMs) orphans.push(f); else tooYoung++;
  }
  orphans.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  return { orphans, tooYoung };
}

/**
 * Deletes files under the table's location that no metadata references (Iceberg's
 * remove_orphan_files): leftovers of crashed writers or failed commits. Only files older than
 * `olderThanMs` (default 3 days) go, so a commit in flight never loses its files; files inside
 * another table's location are never touched.
 *
 * @throws {@link floe!NotFoundError} for a missing table.
 * @example
 * ```ts
 * const r = await removeOrphanFiles(catalog, id, { nowMs: Date.now(), dryRun: true });
 * for (const f of r.orphans) console.log(f.uri, f.size);
 * ```
 */
export async function removeOrphanFiles(catalog: Catalog, id: TableIdentifier, o: RemoveOrphansOptions): Promise<RemoveOrphansResult> {
  // Metadata before the listing: a commit landing in between only adds files younger than
  // the margin, so the order cannot turn a live file into an orphan. Everything is read
  // before anything is deleted: an unreadable manifest fails the run, naming the file.
  const table = await catalog.loadTable(id);
  const live = await liveTableFiles(catalog.io, table.metadata, table.metadataLocation);
  const self = identifierToString(id);
  const others = (await catalog.listTableLocations()).filter((t) => t.identifier !== self);
  // A table whose folder contains ours (or is ours) may have written into our folder: its
  // referenced files are live too.
  for (const t of others) {
    if (!isWithinLocation(table.metadata.location, t.location)) continue;
    const m = parseTableMetadata(new TextDecoder().decode(await catalog.io.read(t.metadataLocation)), t.metadataLocation);
    for (const f of await liveTableFiles(catalog.io, m, t.metadataLocation)) live.add(f);
  }
  const listed = await catalog.io.list(`${table.metadata.location.replace(/\/+$/, '')}/`);
  const planned = planOrphanRemoval(listed, live, table.metadata.location, { nowMs: o.nowMs, olderThanMs: o.olderThanMs ?? DEFAULT_ORPHAN_AGE_MS, otherTables: others });
  // The same with symbolic links seen through: a table whose location is a link into our
  // folder owns what lies there.
  const ownerOf = await ownerResolver(table.metadata.location, others, catalog.io.canonicalLocation?.bind(catalog.io));
  const orphans: FileInfo[] = [];
  for (const f of planned.orphans) if (!(await ownerOf(f.uri))) orphans.push(f);
  const tooYoung = planned.tooYoung;
  const dryRun = o.dryRun ?? false;
  const failed: string[] = [];
  let deletedFiles = 0;
  let deletedBytes = 0;
  if (!dryRun && catalog.io.deleteMany && orphans.some((f) => isS3Uri(f.uri))) {
    // Object stores: DeleteObjects batches (s3.delete.batch-size keys a call).
    const refused = new Set(await catalog.io.deleteMany(orphans.map((f) => f.uri)));
    for (const f of orphans) {
      if (refused.has(f.uri)) failed.push(f.uri);
      else { deletedFiles++; deletedBytes += f.size; }
    }
  } else if (!dryRun) {
    const queue = new PQueue({ concurrency: DELETE_CONCURRENCY });
    for (const f of orphans) {
      void queue.add(async () => {
        try {
          await catalog.io.delete(f.uri);
          deletedFiles++;
          deletedBytes += f.size;
        } catch {
          failed.push(f.uri);
        }
      });
    }
    await queue.onIdle();
  }
  const olderThanMs = o.olderThanMs ?? DEFAULT_ORPHAN_AGE_MS;
  const abortedUploads = !dryRun && catalog.io.abortStaleUploads
    ? await catalog.io.abortStaleUploads(table.metadata.location, o.nowMs - olderThanMs) : 0;
  return { scannedFiles: listed.length, orphans, deletedFiles, deletedBytes, failed: failed.sort(), tooYoung, abortedUploads, dryRun };
}
