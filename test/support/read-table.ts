// Reads a table's live rows in-process (manifests → Parquet through parquet-wasm → Arrow →
// plain objects), for tests that need the content but not a second engine's opinion; the
// interop tests use pyiceberg, DuckDB and Spark for that.
import * as arrow from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { buildDeleteIndex } from '../../src/reader/delete-index.ts';
import { EntryStatus, ManifestContent } from '../../src/spec/data-file.ts';
import { branchHead, snapshotById, specById } from '../../src/spec/table-metadata.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';

/** Live rows at a branch's head or a tag, or (bigint) at one snapshot, e.g. a staged one. */
export async function readTableRows(catalog: Catalog, id: TableIdentifier, branch: string | bigint = 'main'): Promise<Record<string, unknown>[]> {
  const t = await catalog.loadTable(id);
  const rows: Record<string, unknown>[] = [];
  // A tag name reads its snapshot; a branch its head.
  const tagged = typeof branch === 'string' && t.metadata.refs[branch]?.type === 'tag' ? t.metadata.refs[branch]!.snapshotId : undefined;
  const snapshot = typeof branch === 'bigint' ? snapshotById(t.metadata, branch)
    : tagged !== undefined ? snapshotById(t.metadata, tagged) : branchHead(t.metadata, branch);
  if (typeof branch === 'bigint' && !snapshot) throw new Error(`no snapshot ${branch}`);
  const manifests = await snapshotManifests(catalog.io, snapshot);
  // Position deletes (merge-on-read MERGE/DELETE) are applied; equality deletes are not (floe
  // writes none; the interop tests read such tables with the real readers).
  const deleteEntries = [];
  for (const m of manifests.filter((x) => x.content === ManifestContent.Deletes)) {
    for (const e of await manifestEntries(catalog.io, m)) if (e.status !== EntryStatus.Deleted) deleteEntries.push({ file: e.dataFile, sequenceNumber: e.sequenceNumber ?? m.sequenceNumber });
  }
  const deletes = await buildDeleteIndex(catalog.io, deleteEntries);
  for (const m of manifests.filter((x) => x.content === ManifestContent.Data)) {
    for (const e of await manifestEntries(catalog.io, m)) {
      if (e.status === EntryStatus.Deleted) continue;
      const gone = await deletes.deletedPositions(e.dataFile, e.sequenceNumber ?? m.sequenceNumber, (specId) => specById(t.metadata, specId)) ?? new Set<number>();
      const wasm = parquet.readParquet(await catalog.io.read(e.dataFile.filePath));
      const table = arrow.tableFromIPC(wasm.intoIPCStream());
      let pos = 0;
      for (const r of table) { if (!gone.has(pos++)) rows.push(r!.toJSON() as Record<string, unknown>); }
    }
  }
  return rows;
}

/** One top-level column's live values, without materialising rows (Arrow's row objects turn a
 * timestamp into a millisecond number and throw beyond 2^53 ms, which fuzzed tables hold). */
export async function readTableColumn(catalog: Catalog, id: TableIdentifier, column: string, branch = 'main'): Promise<unknown[]> {
  const t = await catalog.loadTable(id);
  const values: unknown[] = [];
  for (const m of await snapshotManifests(catalog.io, branchHead(t.metadata, branch))) {
    for (const e of await manifestEntries(catalog.io, m)) {
      if (e.status === EntryStatus.Deleted) continue;
      const wasm = parquet.readParquet(await catalog.io.read(e.dataFile.filePath));
      const child = arrow.tableFromIPC(wasm.intoIPCStream()).getChild(column);
      if (!child) throw new Error(`${e.dataFile.filePath} has no column ${column}`);
      for (const v of child) values.push(v);
    }
  }
  return values;
}
