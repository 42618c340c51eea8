// A table's live rows read in-process with the live-row scan the merge itself uses (position and
// equality deletes applied), unlike read-table.ts, which reads data files only. The interop and
// Kafka tests check the same tables with pyiceberg and DuckDB.
import { scanLiveRows } from '../../src/merge/live-rows.ts';
import { loadRowLevelBase } from '../../src/merge/row-level-base.ts';
import { branchHead, currentSchema } from '../../src/spec/table-metadata.ts';
import { isPrimitive, type PrimitiveValue } from '../../src/spec/types.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';

/** Every live row's top-level primitive columns, by column name, as floe values (long → bigint). */
export async function readLiveRows(catalog: Catalog, id: TableIdentifier, branch = 'main'): Promise<Record<string, PrimitiveValue | null>[]> {
  const t = await catalog.loadTable(id);
  const schema = currentSchema(t.metadata);
  const fields = schema.fields.filter((f) => isPrimitive(f.type));
  const base = await loadRowLevelBase(catalog.io, t.metadata, branchHead(t.metadata, branch));
  const out: Record<string, PrimitiveValue | null>[] = [];
  for (const live of base.data) {
    await scanLiveRows(base, live, fields.map((f) => f.id), (_pos, col, row) => {
      const r: Record<string, PrimitiveValue | null> = {};
      for (const f of fields) r[f.name] = col(f.id)(row);
      out.push(r);
    });
  }
  return out;
}
