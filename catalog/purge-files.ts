// What a purge deletes, for every catalog implementation: the files of Java's
// CatalogUtil.dropTableData plus the files directly in the table's metadata/ folder — never a
// file inside another table's location (it is counted as spared instead).
import type { FileIO } from '../src/io/file-io.ts';
import type { LoadedTable } from '../src/table/catalog.ts';
import { tableFiles } from '../src/table/table-files.ts';
import { comparableLocation, ownerResolver, type TableLocation } from '../src/table/table-location.ts';

/**
 * After a purge on a local disk: removes the table's folders left empty (data/, partition
 * folders, metadata/, the table folder itself) — only folders at or below the table's
 * location, never one inside another table's location (the same ownership rule as the files).
 * A folder that still holds a file (a stray, a spared file) stays. Object stores: nothing.
 */
export async function removeEmptyTableFolders(io: FileIO, location: string, others: readonly TableLocation[]): Promise<number> {
  if (!io.removeEmptyFolders) return 0;
  const ownerOf = await ownerResolver(location, others, io.canonicalLocation?.bind(io));
  return io.removeEmptyFolders(location, async (folder) => (await ownerOf(folder)) !== undefined);
}

export async function purgeFiles(io: FileIO, table: LoadedTable, others: readonly TableLocation[]): Promise<{ doomed: string[]; spared: number }> {
  const { metadata, metadataLocation } = table;
  const files = await tableFiles(io, metadata, metadataLocation, { includeDeletedEntries: true, skipMissing: true });
  const metadataDir = `${metadata.location.replace(/\/+$/, '')}/metadata`;
  // version-hint.text goes with the folder listing below if it exists (it seldom does).
  files.delete(`${metadataDir}/version-hint.text`);
  for (const f of await io.list(`${metadataDir}/`)) {
    if (!comparableLocation(f.uri).slice(comparableLocation(metadataDir).length + 1).includes('/')) files.add(f.uri);
  }
  const ownerOf = await ownerResolver(metadata.location, others, io.canonicalLocation?.bind(io));
  const byPlace = new Map<string, string>();
  let spared = 0;
  for (const f of files) {
    if (await ownerOf(f)) { spared++; continue; }
    byPlace.set(comparableLocation(f), f);
  }
  return { doomed: [...byPlace.values()], spared };
}
