// `floe merge TABLE FILE|-` and `floe delete TABLE --where EXPR | --keys FILE|-`: one
// row-level commit each. The merge input is one batch (read whole: its changes are decided
// together), NDJSON, plain records or Debezium envelopes; errors name the input line. A file's
// position is recorded like `floe append` records it, so a rerun never re-applies old changes.
import { ValidationError } from '../errors.ts';
import { FILE_PARTITION, FileSource, fingerprintSummary, resumePoint } from '../ingest/file-source.ts';
import { offsetsSummary, offsetsValidator, StaleBatchError } from '../ingest/source-offsets.ts';
import { fileChunks, splitLines, streamChunks, type Line } from '../io/line-reader.ts';
import { deleteWhere, type DeleteWhereResult } from '../merge/delete-where.ts';
import { mergeRecords, type MergeOptions, type MergeResult } from '../merge/merge-records.ts';
import type { RowLevelMode } from '../merge/row-level-base.ts';
import type { Catalog } from '../table/catalog.ts';
import { identifierToString, type TableIdentifier } from '../table/identifier.ts';
import { ndjsonChunks, type NdjsonProgress } from './ndjson.ts';

export interface RowLevelCommandOptions {
  readonly branch: string;
  readonly mode?: RowLevelMode;
  readonly stdin?: NodeJS.ReadableStream;
  /** Stage the snapshot with summary `wap.id` instead of committing to `branch`. */
  readonly wapId?: string;
}

interface MergeInput {
  readonly records: unknown[];
  readonly lines: number[];
  readonly name: string;
  /** Summary and validation that record the file's position (absent for stdin). */
  readonly position?: Pick<MergeOptions, 'summary' | 'validate'>;
  /** Set when the table already holds the whole file: nothing to do. */
  readonly alreadyMerged?: string;
  readonly resumedAtLine?: number;
}

/**
 * The batch of a merge: a whole NDJSON file, or the lines after the position an earlier merge
 * of this file recorded (as `floe append` does: path, byte offset, fingerprint in the summary).
 * Re-applying an old change file after newer changes would put old values back, so a rerun of
 * a merged file merges nothing, and a file that grew merges only its new lines.
 */
async function readMergeInput(file: string, branch: string, catalog: Catalog, id: TableIdentifier, allowRerun: boolean, stdin?: NodeJS.ReadableStream): Promise<MergeInput> {
  const name = file === '-' ? 'stdin' : file;
  const source = file === '-' ? undefined : await FileSource.open(file);
  try {
    let start = 0n;
    let line = 1;
    let resumedAtLine: number | undefined;
    if (source) {
      const r = await resumePoint((await catalog.loadTable(id)).metadata, branch, source, allowRerun, 'nothing was merged (--allow-rerun merges it from its start)');
      if (r.finished) {
        return { records: [], lines: [], name, alreadyMerged: `${file} is already merged into ${identifierToString(id)} (branch ${branch}) up to its end, recorded by snapshot ${r.recorded!.snapshotId}; --allow-rerun merges it again` };
      }
      start = r.start;
      line = r.line;
      if (start > 0n) resumedAtLine = line;
    }
    const lines: AsyncIterable<Line> = splitLines(source ? fileChunks(source.handle, start) : streamChunks(stdin ?? process.stdin), start, line);
    const progress: NdjsonProgress = { end: start, nextLine: line, records: 0 };
    const records: unknown[] = [];
    const numbers: number[] = [];
    for await (const chunk of ndjsonChunks(lines, name, progress)) {
      for (const r of chunk.records) records.push(r);
      for (const l of chunk.lines) numbers.push(l);
    }
    if (!source) return { records, lines: numbers, name };
    const range = new Map([[FILE_PARTITION, { start, next: progress.end }]]);
    const position = {
      summary: { ...offsetsSummary(source.sourceId, range), ...fingerprintSummary(source.sourceId, await source.fingerprintAt(progress.end, progress.nextLine)) },
      ...(allowRerun ? {} : { validate: offsetsValidator(source.sourceId, range) }),
    };
    return { records, lines: numbers, name, position, ...(resumedAtLine !== undefined ? { resumedAtLine } : {}) };
  } finally {
    await source?.close();
  }
}

/** "record 12: …" from the merge core becomes "<file> line 14: …". */
function withLine(err: unknown, name: string, lines: readonly number[]): unknown {
  if (!(err instanceof ValidationError)) return err;
  const m = /^record (\d+): (.*)$/s.exec(err.message);
  if (!m) return err;
  const line = lines[Number(m[1])];
  return line === undefined ? err : new ValidationError(`${name} line ${line}: ${m[2]}`, { cause: err });
}

export function mergeSummary(table: string, r: MergeResult): string {
  const what = (r.mode === 'equality-deletes' ? `${r.upserted} upserted, ${r.deleted} deleted by equality deletes` : `${r.inserted} inserted, ${r.updated} updated, ${r.deleted} deleted`)
    + `${r.stale > 0 ? `, ${r.stale} older than the table's row (kept)` : ''}`
    + `${r.absentDeletes > 0 ? `, ${r.absentDeletes} delete(s) of absent keys` : ''}`
    + `${r.superseded > 0 ? `, ${r.superseded} superseded in the batch` : ''}`;
  const files = `${r.filesScanned} file(s) read, ${r.filesSkipped} skipped by key bounds, ${r.filesTouched} touched; `
    + `${r.dataFilesWritten} data file(s) and ${r.deleteFilesWritten} delete file(s) written`;
  return r.snapshot
    ? `merged into ${table} (${r.mode}): ${what}; ${files}; snapshot ${r.snapshot.snapshotId} (${r.snapshot.summary.operation})`
    : `nothing to change in ${table}: ${what}; ${files}`;
}

export async function mergeNdjson(
  catalog: Catalog, id: TableIdentifier, file: string,
  o: RowLevelCommandOptions & Pick<MergeOptions, 'opField' | 'orderBy' | 'format' | 'deleteOnly'> & { allowRerun?: boolean },
  out: (line: string) => void,
): Promise<MergeResult | undefined> {
  const input = await readMergeInput(file, o.branch, catalog, id, o.allowRerun ?? false, o.stdin);
  const { records, lines, name } = input;
  if (input.alreadyMerged) { out(`nothing to merge: ${input.alreadyMerged}`); return undefined; }
  if (records.length === 0) {
    if (input.resumedAtLine === undefined) throw new ValidationError(`${name} holds no records`);
    out(`nothing to merge: ${name} has no records after line ${input.resumedAtLine - 1}`);
    return undefined;
  }
  try {
    const r = await mergeRecords(catalog, id, records, {
      branch: o.branch,
      ...(o.wapId !== undefined ? { wapId: o.wapId } : {}),
      ...(input.position ? { ...input.position, alwaysCommit: true } : {}),
      ...(o.mode ? { mode: o.mode } : {}),
      ...(o.opField !== undefined ? { opField: o.opField } : {}),
      ...(o.orderBy !== undefined ? { orderBy: o.orderBy } : {}),
      ...(o.format ? { format: o.format } : {}),
      ...(o.deleteOnly ? { deleteOnly: true } : {}),
    });
    out(mergeSummary(identifierToString(id), r) + stagedNote(o.wapId, r.snapshot !== undefined) + (input.resumedAtLine !== undefined ? ` (resumed at line ${input.resumedAtLine}: the lines before were merged earlier)` : ''));
    return r;
  } catch (err) {
    if (err instanceof StaleBatchError) throw new ValidationError(`another merge of ${name} committed these lines first (${err.message}); nothing was committed`);
    throw withLine(err, name, lines);
  }
}

/** Appended to a commit line when the snapshot was staged by wap id rather than committed. */
export function stagedNote(wapId: string | undefined, committed: boolean): string {
  return wapId !== undefined && committed ? ` staged with wap.id=${wapId}: no branch moved; publish it to make it visible` : '';
}

export function deleteSummary(table: string, r: DeleteWhereResult): string {
  const files = `${r.filesScanned} file(s) read, ${r.filesSkipped} skipped by partition or bounds, ${r.filesDropped} dropped whole; `
    + `${r.dataFilesWritten} data file(s) and ${r.deleteFilesWritten} delete file(s) written`;
  return r.snapshot
    ? `deleted ${r.deletedRows} row(s) from ${table} (${r.mode}); ${files}; snapshot ${r.snapshot.snapshotId} (${r.snapshot.summary.operation})`
    : `no row of ${table} matches; nothing committed (${files})`;
}

export async function deleteRows(catalog: Catalog, id: TableIdentifier, where: string, o: RowLevelCommandOptions, out: (line: string) => void): Promise<DeleteWhereResult> {
  const r = await deleteWhere(catalog, id, where, { branch: o.branch, ...(o.mode ? { mode: o.mode } : {}), ...(o.wapId !== undefined ? { wapId: o.wapId } : {}) });
  out(deleteSummary(identifierToString(id), r) + stagedNote(o.wapId, r.snapshot !== undefined));
  return r;
}
