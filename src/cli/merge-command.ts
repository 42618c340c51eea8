// `floe merge TABLE FILE|-` and `floe delete TABLE --where EXPR | --keys FILE|-`: one
// row-level commit each. The merge input is one batch (read whole: its changes are decided
// together), NDJSON, plain records or Debezium envelopes; errors name the input line.
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, ValidationError } from '../errors.ts';
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
}

async function readNdjson(file: string, stdin?: NodeJS.ReadableStream): Promise<{ records: unknown[]; lines: number[]; name: string }> {
  const name = file === '-' ? 'stdin' : file;
  let handle: FileHandle | undefined;
  try {
    handle = file === '-' ? undefined : await open(file, 'r');
  } catch (err) {
    throw new ValidationError(`cannot read ${path.resolve(file)}: ${errorMessage(err)}`);
  }
  try {
    const lines: AsyncIterable<Line> = splitLines(handle ? fileChunks(handle, 0n) : streamChunks(stdin ?? process.stdin));
    const progress: NdjsonProgress = { end: 0n, nextLine: 1, records: 0 };
    const records: unknown[] = [];
    const numbers: number[] = [];
    for await (const chunk of ndjsonChunks(lines, name, progress)) {
      for (const r of chunk.records) records.push(r);
      for (const l of chunk.lines) numbers.push(l);
    }
    return { records, lines: numbers, name };
  } finally {
    await handle?.close();
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

export async function mergeNdjson(catalog: Catalog, id: TableIdentifier, file: string, o: RowLevelCommandOptions & Pick<MergeOptions, 'opField' | 'orderBy' | 'format' | 'deleteOnly'>, out: (line: string) => void): Promise<MergeResult> {
  const { records, lines, name } = await readNdjson(file, o.stdin);
  if (records.length === 0) throw new ValidationError(`${name} holds no records`);
  try {
    const r = await mergeRecords(catalog, id, records, {
      branch: o.branch,
      ...(o.mode ? { mode: o.mode } : {}),
      ...(o.opField !== undefined ? { opField: o.opField } : {}),
      ...(o.orderBy !== undefined ? { orderBy: o.orderBy } : {}),
      ...(o.format ? { format: o.format } : {}),
      ...(o.deleteOnly ? { deleteOnly: true } : {}),
    });
    out(mergeSummary(identifierToString(id), r));
    return r;
  } catch (err) {
    throw withLine(err, name, lines);
  }
}

export function deleteSummary(table: string, r: DeleteWhereResult): string {
  const files = `${r.filesScanned} file(s) read, ${r.filesSkipped} skipped by partition or bounds, ${r.filesDropped} dropped whole; `
    + `${r.dataFilesWritten} data file(s) and ${r.deleteFilesWritten} delete file(s) written`;
  return r.snapshot
    ? `deleted ${r.deletedRows} row(s) from ${table} (${r.mode}); ${files}; snapshot ${r.snapshot.snapshotId} (${r.snapshot.summary.operation})`
    : `no row of ${table} matches; nothing committed (${files})`;
}

export async function deleteRows(catalog: Catalog, id: TableIdentifier, where: string, o: RowLevelCommandOptions, out: (line: string) => void): Promise<DeleteWhereResult> {
  const r = await deleteWhere(catalog, id, where, { branch: o.branch, ...(o.mode ? { mode: o.mode } : {}) });
  out(deleteSummary(identifierToString(id), r));
  return r;
}
