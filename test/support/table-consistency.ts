// Deep consistency check of a table as a crash left it, for the crash tests: the one place to
// swap for `floe doctor --deep` once that exists. Every snapshot still in the metadata must be
// whole: its manifest list readable, every manifest present with its recorded length and
// decodable with counts that match its entries, every live file present with its recorded size
// and (data files) a Parquet footer whose row count is the recorded record_count; and every
// branch head's summary totals must equal what its manifests hold. Files nobody references
// (orphans of a crashed writer) are allowed: they are invisible to every reader.
import { readParquetFooter } from '../../src/format/parquet-footer.ts';
import { readManifest, readManifestList } from '../../src/format/manifest-reader.ts';
import { EntryStatus, FileContent, type ManifestFile } from '../../src/spec/data-file.ts';
import { snapshotById, type Snapshot } from '../../src/spec/table-metadata.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';

export interface ConsistencyReport {
  /** Empty when the table is consistent; otherwise one sentence per problem. */
  readonly problems: string[];
  /** Live data and delete files of the main branch's head. */
  readonly liveFiles: number;
  /** Sum of the live data files' record counts at the main branch's head. */
  readonly liveRecords: bigint;
  readonly snapshots: number;
}

async function sizeOf(catalog: Catalog, uri: string, sizes: Map<string, number>): Promise<number | undefined> {
  if (sizes.has(uri)) return sizes.get(uri);
  if (!(await catalog.io.exists(uri))) return undefined;
  const size = (await catalog.io.openBlob(uri)).size;
  sizes.set(uri, size);
  return size;
}

export async function checkTableConsistency(catalog: Catalog, id: TableIdentifier): Promise<ConsistencyReport> {
  const problems: string[] = [];
  const table = await catalog.loadTable(id);
  const m = table.metadata;
  const sizes = new Map<string, number>();
  const checkedManifests = new Set<string>();
  const checkedFiles = new Set<string>();

  if (m.currentSnapshotId !== null && m.refs.main?.snapshotId !== m.currentSnapshotId) {
    problems.push(`current-snapshot-id ${m.currentSnapshotId} is not refs.main (${m.refs.main?.snapshotId ?? 'none'})`);
  }
  for (const [name, ref] of Object.entries(m.refs)) {
    if (!snapshotById(m, ref.snapshotId)) problems.push(`ref ${name} points at missing snapshot ${ref.snapshotId}`);
  }
  for (const s of m.snapshots) {
    if (s.sequenceNumber > m.lastSequenceNumber) problems.push(`snapshot ${s.snapshotId} has sequence ${s.sequenceNumber} > last-sequence-number ${m.lastSequenceNumber}`);
  }

  const liveOf = async (s: Snapshot): Promise<{ files: number; records: bigint; dataFiles: bigint; size: bigint; deleteFiles: bigint; positionDeletes: bigint } | undefined> => {
    let manifests: ManifestFile[];
    try {
      manifests = readManifestList(await catalog.io.read(s.manifestList));
    } catch (err) {
      problems.push(`snapshot ${s.snapshotId}: manifest list ${s.manifestList} unreadable: ${(err as Error).message}`);
      return undefined;
    }
    const live = { files: 0, records: 0n, dataFiles: 0n, size: 0n, deleteFiles: 0n, positionDeletes: 0n };
    for (const mf of manifests) {
      const size = await sizeOf(catalog, mf.manifestPath, sizes);
      if (size === undefined) { problems.push(`snapshot ${s.snapshotId}: manifest ${mf.manifestPath} is missing`); continue; }
      if (BigInt(size) !== mf.manifestLength) problems.push(`manifest ${mf.manifestPath} is ${size} bytes, the manifest list says ${mf.manifestLength}`);
      let entries;
      try {
        entries = readManifest(await catalog.io.read(mf.manifestPath), mf).entries;
      } catch (err) {
        problems.push(`manifest ${mf.manifestPath} does not decode: ${(err as Error).message}`);
        continue;
      }
      if (!checkedManifests.has(mf.manifestPath)) {
        checkedManifests.add(mf.manifestPath);
        const count = (st: EntryStatus) => entries.filter((e) => e.status === st).length;
        if (count(EntryStatus.Added) !== mf.addedFilesCount || count(EntryStatus.Existing) !== mf.existingFilesCount || count(EntryStatus.Deleted) !== mf.deletedFilesCount) {
          problems.push(`manifest ${mf.manifestPath}: entry counts ${count(EntryStatus.Added)}/${count(EntryStatus.Existing)}/${count(EntryStatus.Deleted)} differ from the list's ${mf.addedFilesCount}/${mf.existingFilesCount}/${mf.deletedFilesCount}`);
        }
      }
      for (const e of entries) {
        if (e.status === EntryStatus.Deleted) continue;
        const f = e.dataFile;
        live.files++;
        // total-files-size counts every live file, delete files included (spec Appendix F, Java).
        live.size += f.fileSizeInBytes;
        if (f.content === FileContent.Data) { live.records += f.recordCount; live.dataFiles++; } else {
          live.deleteFiles++;
          if (f.content === FileContent.PositionDeletes) live.positionDeletes += f.recordCount;
        }
        if (checkedFiles.has(f.filePath)) continue;
        checkedFiles.add(f.filePath);
        const actual = await sizeOf(catalog, f.filePath, sizes);
        if (actual === undefined) { problems.push(`snapshot ${s.snapshotId}: data file ${f.filePath} is missing`); continue; }
        if (BigInt(actual) !== f.fileSizeInBytes) { problems.push(`${f.filePath} is ${actual} bytes, its manifest says ${f.fileSizeInBytes}`); continue; }
        try {
          const footer = await readParquetFooter(await catalog.io.openBlob(f.filePath), f.filePath);
          if (footer.numRows !== f.recordCount) problems.push(`${f.filePath} holds ${footer.numRows} rows, its manifest says ${f.recordCount}`);
        } catch (err) {
          problems.push(`${f.filePath}: unreadable Parquet footer: ${(err as Error).message}`);
        }
      }
    }
    return live;
  };

  let head = { files: 0, records: 0n };
  for (const s of m.snapshots) {
    const live = await liveOf(s);
    if (!live) continue;
    const total = (k: string): bigint | undefined => s.summary[k] === undefined ? undefined : BigInt(s.summary[k]!);
    if (total('total-records') !== undefined && total('total-records') !== live.records) problems.push(`snapshot ${s.snapshotId}: summary total-records ${total('total-records')} but its manifests hold ${live.records}`);
    if (total('total-data-files') !== undefined && total('total-data-files') !== live.dataFiles) problems.push(`snapshot ${s.snapshotId}: summary total-data-files ${total('total-data-files')} but its manifests hold ${live.dataFiles}`);
    if (total('total-files-size') !== undefined && total('total-files-size') !== live.size) problems.push(`snapshot ${s.snapshotId}: summary total-files-size ${total('total-files-size')} but its live files hold ${live.size}`);
    if (total('total-delete-files') !== undefined && total('total-delete-files') !== live.deleteFiles) problems.push(`snapshot ${s.snapshotId}: summary total-delete-files ${total('total-delete-files')} but its manifests hold ${live.deleteFiles}`);
    if (total('total-position-deletes') !== undefined && total('total-position-deletes') !== live.positionDeletes) problems.push(`snapshot ${s.snapshotId}: summary total-position-deletes ${total('total-position-deletes')} but its delete files hold ${live.positionDeletes}`);
    if (s.snapshotId === m.refs.main?.snapshotId) head = live;
  }
  return { problems, liveFiles: head.files, liveRecords: head.records, snapshots: m.snapshots.length };
}
