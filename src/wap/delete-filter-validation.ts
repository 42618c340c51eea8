// Re-validating a staged delete by predicate (`floe delete --where`, summary `floe.delete.where`)
// on a main that moved: Java's conflict-detection filter (BaseRowDelta / BaseOverwriteFiles
// `conflictDetectionFilter` + validateNoConflictingDataFiles / validateAddedDataFiles). The
// re-applied delete removes exactly the rows it removed on the branch; a direct delete on the
// new main would also remove every row main added since the fork that matches the predicate —
// appended rows, rows main updated (position or equality delete + re-insert), rows compaction
// rewrote. So: no live row in a data file main added since the fork may match. Rows that were
// live at the fork and still are were seen by the delete on the branch (the other checks make
// sure its files and positions still hold), so the key check is not needed for such a batch,
// and a table without a key can be validated too.
import type { FileIO } from '../io/file-io.ts';
import { bindPredicate, type BoundExpr } from '../expr/bind-predicate.ts';
import { evaluateRow, mightMatchFile, mightMatchPartition, referencedFieldIds } from '../expr/evaluate.ts';
import { parsePredicate } from '../expr/parse-predicate.ts';
import { DELETE_WHERE_SUMMARY } from '../merge/delete-where.ts';
import { scanLiveRows } from '../merge/live-rows.ts';
import { loadRowLevelBase } from '../merge/row-level-base.ts';
import type { Schema } from '../spec/schema.ts';
import { currentSchema, type Snapshot, type TableMetadata } from '../spec/table-metadata.ts';
import { isPrimitive, primitiveToString, type PrimitiveValue } from '../spec/types.ts';

/** The predicate a staged snapshot deleted by, or undefined for any other snapshot. */
export const deleteFilterOf = (s: Snapshot): string | undefined => s.summary[DELETE_WHERE_SUMMARY];

/** A data file main added since the fork, with the main snapshot that added it. */
export interface MainAddedFile { readonly path: string; readonly snapshotId: bigint }

export type DeleteFilterVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly detail: string };

const show = (v: PrimitiveValue | null): string => v === null ? 'null' : v instanceof Uint8Array ? `0x${Buffer.from(v).toString('hex')}` : String(v);
const quoted = (text: string): string => text.startsWith('(') ? text : `(${text})`;

/** Binds the recorded predicate to the schema the delete was planned with; its columns must
 * still be in the table's current schema with the same types (renames are fine: by field id). */
function bindRecorded(meta: TableMetadata, source: Snapshot, text: string): BoundExpr | string {
  const planned: Schema = meta.schemas.find((s) => s.schemaId === source.schemaId) ?? currentSchema(meta);
  let bound: BoundExpr;
  try {
    bound = bindPredicate(parsePredicate(text, DELETE_WHERE_SUMMARY), planned, DELETE_WHERE_SUMMARY);
  } catch (err) {
    return `records a delete predicate ${quoted(text)} that no longer binds to the table (${(err as Error).message})`;
  }
  const now = currentSchema(meta);
  const walk = (e: BoundExpr): string | undefined => {
    switch (e.kind) {
      case 'true': case 'false': return undefined;
      case 'not': return walk(e.child);
      case 'and': case 'or': return walk(e.left) ?? walk(e.right);
      default: {
        const f = now.findField(e.ref.fieldId);
        if (!f || !isPrimitive(f.type) || primitiveToString(f.type) !== primitiveToString(e.ref.type)) {
          return `deletes rows where ${quoted(text)}, and column ${e.ref.column} (field ${e.ref.fieldId}) was dropped or changed type since: the rows main added cannot be checked against it`;
        }
        return undefined;
      }
    }
  };
  return walk(bound) ?? bound;
}

/**
 * Whether re-applying `source` (a delete by the predicate `text`) on `parent` gives the rows a
 * direct delete on `parent` gives: no row live at `parent` in a data file main added since the
 * fork matches. Files are pruned by partition and column bounds before being read.
 */
export async function checkDeleteFilter(
  io: FileIO, meta: TableMetadata, parent: Snapshot | undefined, source: Snapshot, text: string,
  mainAdded: ReadonlyMap<string, MainAddedFile>,
): Promise<DeleteFilterVerdict> {
  const bound = bindRecorded(meta, source, text);
  if (typeof bound === 'string') return { ok: false, detail: bound };
  if (mainAdded.size === 0) return { ok: true };
  const base = await loadRowLevelBase(io, meta, parent);
  const columns = referencedFieldIds(bound);
  for (const live of base.data) {
    const added = mainAdded.get(live.file.filePath);
    if (!added) continue;
    const f = live.file;
    if (!mightMatchPartition(bound, base.specOf(f.specId), base.schema, f.partition) || !mightMatchFile(bound, f, base.schema)) continue;
    let hit: string | undefined;
    await scanLiveRows(base, live, columns, (_pos, column, row) => {
      if (hit === undefined && evaluateRow(bound, (id) => column(id)(row))) {
        hit = columns.map((id) => `${base.schema.findColumnName(id) ?? `field ${id}`}=${show(column(id)(row))}`).join(',');
      }
    });
    if (hit !== undefined) {
      return { ok: false, detail: `deletes rows where ${quoted(text)}, and main added matching rows since the fork in data file ${f.filePath} (snapshot ${added.snapshotId}, e.g. ${hit}), which a delete on main would remove too` };
    }
  }
  return { ok: true };
}
