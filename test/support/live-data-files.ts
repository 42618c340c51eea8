// The data files live at a branch head of a table, read from its manifests (what a reader plans).
import { EntryStatus, type DataFile } from '../../src/spec/data-file.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';

export async function liveDataFiles(catalog: Catalog, id: TableIdentifier, branch = 'main'): Promise<DataFile[]> {
  const t = await catalog.loadTable(id);
  const out: DataFile[] = [];
  for (const m of await snapshotManifests(catalog.io, branchHead(t.metadata, branch))) {
    for (const e of await manifestEntries(catalog.io, m)) if (e.status !== EntryStatus.Deleted) out.push(e.dataFile);
  }
  return out;
}
