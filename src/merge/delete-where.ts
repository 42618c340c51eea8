// DELETE FROM t WHERE <predicate>, as one snapshot. Files are pruned by partition values
// (inclusive projection through the partition transforms) and column bounds; a file every row
// of which matches by its bounds is dropped whole without reading it (both modes, like Spark's
// metadata-only delete); the others are read — only the predicate's columns — and their
// matching rows removed with position deletes (merge-on-read) or by rewriting the file
// (copy-on-write, `write.delete.mode`). Planned again on the new head after a conflict.
// The predicate is recorded in the snapshot summary (`floe.delete.where`, canonical text) so
// that `floe publish` can re-validate a staged delete against the rows main added since the
// fork (Java's conflict-detection filter), not only by key.
import { deleteAll } from '../io/file-io.ts';
import { bindPredicate, type BoundExpr } from '../expr/bind-predicate.ts';
import { evaluateRow, mightMatchFile, mightMatchPartition, mustMatchFile, referencedFieldIds } from '../expr/evaluate.ts';
import { formatPredicate, parsePredicate } from '../expr/parse-predicate.ts';
import type { DataFile } from '../spec/data-file.ts';
import { currentSchema, MAIN_BRANCH, type Snapshot } from '../spec/table-metadata.ts';
import type { Catalog, LoadedTable } from '../table/catalog.ts';
import { identifierToString, type TableIdentifier } from '../table/identifier.ts';
import { checkStaging } from '../transaction/snapshot-producer.ts';
import { commitSnapshotIfChanged, type CommitHooks } from '../transaction/commit-with-retry.ts';
import { RowDelta, type RowDeltaChanges } from '../transaction/row-delta.ts';
import { scanLiveRows } from './live-rows.ts';
import { loadRowLevelBase, removeRows, rowLevelMode, type FileHits, type RowLevelMode } from './row-level-base.ts';

/** Summary key holding the predicate of a delete by predicate, in the canonical text of
 * formatPredicate (parsePredicate + bindPredicate read it back to the same predicate). */
export const DELETE_WHERE_SUMMARY = 'floe.delete.where';

/** Options of {@link deleteWhere}. */
export interface DeleteWhereOptions {
  /** The branch to commit to (default `main`). */
  readonly branch?: string;
  /** Overrides `write.delete.mode`. */
  readonly mode?: RowLevelMode;
  /** Callbacks around each commit attempt. */
  readonly hooks?: CommitHooks;
  /** Stage the snapshot on main's head with summary `wap.id`, moving no branch (write.wap.enabled). */
  readonly wapId?: string;
}

/** What {@link deleteWhere} committed. */
export interface DeleteWhereResult {
  /** Undefined when no row matched (nothing was committed). */
  readonly snapshot: Snapshot | undefined;
  /** Commit attempts (1 = no conflict). */
  readonly attempts: number;
  /** How the rows were removed. */
  readonly mode: RowLevelMode;
  /** Rows deleted. */
  readonly deletedRows: number;
  /** Data files read to find matching rows. */
  readonly filesScanned: number;
  /** Data files skipped by partition values and column bounds. */
  readonly filesSkipped: number;
  /** Files every row of which matched, dropped without being read. */
  readonly filesDropped: number;
  /** Data files that lost some rows. */
  readonly filesTouched: number;
  /** Position-delete files written (merge-on-read). */
  readonly deleteFilesWritten: number;
  /** Data files written (copy-on-write). */
  readonly dataFilesWritten: number;
}

/**
 * `DELETE FROM table WHERE <where>` as one snapshot. The predicate is SQL-like
 * (`country = 'DE' AND ts < '2026-01-01'`, `id IN (1, 2)`, `note IS NULL`). Files are pruned by
 * partition values and column bounds; a file every row of which matches is dropped whole; the
 * others lose their matching rows through position deletes (`merge-on-read`) or a rewrite
 * (`copy-on-write`), per `write.delete.mode`. The predicate is kept in the snapshot summary
 * (`floe.delete.where`) so a publish can re-validate it.
 *
 * @throws {@link ValidationError} for a predicate that does not parse or names an unknown
 * column; the commit errors of {@link appendRecords}.
 * @example
 * ```ts
 * const r = await deleteWhere(catalog, id, "status = 'cancelled'");
 * console.log(r.deletedRows);
 * ```
 */
export async function deleteWhere(catalog: Catalog, id: TableIdentifier, where: string, opts: DeleteWhereOptions = {}): Promise<DeleteWhereResult> {
  const base = await catalog.loadTable(id);
  // Parse and bind before anything is read: a typo or a missing column fails here, named.
  const parsed = parsePredicate(where);
  const bound = bindPredicate(parsed, currentSchema(base.metadata));
  const mode = rowLevelMode(base.metadata, 'delete', opts.mode);
  let stats: Omit<DeleteWhereResult, 'snapshot' | 'attempts' | 'mode'> | undefined;
  checkStaging(base.metadata, identifierToString(id), opts.wapId, opts.branch);
  const delta = new RowDelta(catalog.io, {
    branch: opts.branch ?? MAIN_BRANCH,
    summary: { [DELETE_WHERE_SUMMARY]: formatPredicate(parsed) },
    ...(opts.wapId !== undefined ? { wapId: opts.wapId } : {}),
    plan: async (b, parent) => {
      const written: string[] = [];
      try {
        const planned = await planDelete(catalog, b, parent, bound, mode, written);
        stats = planned.stats;
        return planned.changes;
      } catch (err) {
        await deleteAll(catalog.io, written);
        throw err;
      }
    },
  });
  const result = await commitSnapshotIfChanged(catalog, id, delta, { base, ...(opts.hooks ? { hooks: opts.hooks } : {}) });
  return { ...stats!, snapshot: result.snapshot, attempts: result.attempts, mode };
}

async function planDelete(catalog: Catalog, b: LoadedTable, parent: Snapshot | undefined, bound: BoundExpr, mode: RowLevelMode, written: string[]) {
  const rb = await loadRowLevelBase(catalog.io, b.metadata, parent);
  const schema = rb.schema;
  const columns = referencedFieldIds(bound);
  const hits: FileHits[] = [];
  const dropped: DataFile[] = [];
  let deletedRows = 0, filesScanned = 0, filesSkipped = 0;
  for (const live of rb.data) {
    const f = live.file;
    if (!mightMatchPartition(bound, rb.specOf(f.specId), schema, f.partition) || !mightMatchFile(bound, f, schema)) { filesSkipped++; continue; }
    if (mustMatchFile(bound, f, schema)) {
      dropped.push(f);
      const already = await rb.deletes.deletedPositions(f, live.sequenceNumber, rb.specOf);
      deletedRows += Number(f.recordCount) - (already?.size ?? 0);
      continue;
    }
    filesScanned++;
    const positions: number[] = [];
    const scan = await scanLiveRows(rb, live, columns, (position, column, row) => {
      if (evaluateRow(bound, (fieldId) => column(fieldId)(row))) positions.push(position);
    });
    if (positions.length > 0) {
      hits.push({ live, positions, alreadyDeleted: scan.alreadyDeleted });
      deletedRows += positions.length;
    }
  }
  const removal = await removeRows(rb, hits, mode, written);
  const stats = {
    deletedRows, filesScanned, filesSkipped, filesDropped: dropped.length, filesTouched: hits.length,
    deleteFilesWritten: removal.addedDeleteFiles.length, dataFilesWritten: removal.addedDataFiles.length,
  };
  const changes: RowDeltaChanges | null = hits.length === 0 && dropped.length === 0 ? null : {
    addedDataFiles: removal.addedDataFiles, addedDeleteFiles: removal.addedDeleteFiles,
    removedFiles: [...dropped, ...removal.removedFiles], attemptFiles: [...written],
  };
  return { changes, stats };
}
