// Which delete files a compaction commit can drop: those that no longer apply to any data file
// that stays live after it (Iceberg's "dangling deletes"). Decided on the snapshot the rewrite
// started from, so a delete file committed later is never dropped; the commit drops only those
// still live at the head (src/transaction/replace-data-files.ts).
// - An equality-delete file applies to data files of its partition (every partition, for an
//   unpartitioned spec) with a smaller data sequence number: once no remaining one exists, it is
//   obsolete — the rewritten rows already had it applied and got the starting sequence number,
//   which is not smaller than the delete's, and files appended later are newer still.
// - A position-delete file names data files by path: once none of them remains live, it is
//   obsolete. Its path bounds rule most files out without reading; those that touched a
//   rewritten file are read (only their file_path column).
import type { FileIO } from '../src/io/file-io.ts';
import { scanColumns } from '../src/reader/data-file-reader.ts';
import type { DeleteEntry, DeleteIndex, SpecOf } from '../src/reader/delete-index.ts';
import { FileContent, type DataFile } from '../src/spec/data-file.ts';
import { DELETE_FILE_PATH_FIELD_ID } from '../src/spec/position-delete-schema.ts';

export interface ObsoleteDeletesInput {
  /** Live data files of the starting snapshot, with their data sequence numbers. */
  readonly data: readonly DeleteEntry[];
  /** Live delete files of the starting snapshot. */
  readonly deletes: readonly DeleteEntry[];
  /** The index of `deletes` (the compaction's own, so delete files are read once). */
  readonly index: DeleteIndex;
  readonly specOf: SpecOf;
  /** Data files of the starting snapshot that are gone once the commit lands. */
  readonly removedPaths: ReadonlySet<string>;
}

/** The data file paths a position-delete file names. */
export async function referencedDataFiles(io: FileIO, d: DataFile): Promise<Set<string>> {
  if (d.referencedDataFile != null) return new Set([d.referencedDataFile]);
  const out = new Set<string>();
  await scanColumns(io, d, [DELETE_FILE_PATH_FIELD_ID], (_first, n, column) => {
    const paths = column(DELETE_FILE_PATH_FIELD_ID);
    for (let i = 0; i < n; i++) {
      const p = paths(i);
      if (typeof p === 'string') out.add(p);
    }
  });
  return out;
}

/** The delete files of `o.deletes` that no remaining data file needs. */
export async function obsoleteDeleteFiles(io: FileIO, o: ObsoleteDeletesInput): Promise<DataFile[]> {
  const remaining = o.data.filter((f) => !o.removedPaths.has(f.file.filePath));
  const remainingPaths = new Set(remaining.map((f) => f.file.filePath));
  const mayApply = new Set<string>();
  for (const f of remaining) {
    for (const d of o.index.equalityDeleteFiles(f.file, f.sequenceNumber, o.specOf)) mayApply.add(d.filePath);
    for (const d of o.index.positionDeleteFiles(f.file, f.sequenceNumber, o.specOf)) mayApply.add(d.filePath);
  }
  // Only delete files that touched a removed file are read: the others did not change.
  const touched = new Set<string>();
  for (const f of o.data) {
    if (!o.removedPaths.has(f.file.filePath)) continue;
    for (const d of o.index.positionDeleteFiles(f.file, f.sequenceNumber, o.specOf)) touched.add(d.filePath);
  }
  const out: DataFile[] = [];
  for (const { file: d } of o.deletes) {
    if (!mayApply.has(d.filePath)) { out.push(d); continue; }
    if (d.content !== FileContent.PositionDeletes || !touched.has(d.filePath)) continue;
    // Its bounds enclose a remaining file's path: it is obsolete only if it names none of them.
    const named = await referencedDataFiles(io, d);
    if (![...named].some((p) => remainingPaths.has(p))) out.push(d);
  }
  return out;
}
