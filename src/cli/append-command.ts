// `floe append TABLE FILE`: streams an NDJSON file (or stdin) into rolling data files and
// commits them at once. A file's position is recorded like `floe ingest` records it (see
// ingest/file-source.ts), so rerunning an append that already committed adds nothing, and a
// file that grew since adds only its new lines. --allow-duplicate appends from the start anyway.
import { RecordValidationError, ValidationError } from '../errors.ts';
import { FILE_PARTITION, FileSource, fingerprintSummary, resumePoint } from '../ingest/file-source.ts';
import { offsetsSummary, offsetsValidator, StaleBatchError } from '../ingest/source-offsets.ts';
import { fileChunks, splitLines, streamChunks, type Line } from '../io/line-reader.ts';
import type { Catalog } from '../table/catalog.ts';
import { identifierToString, type TableIdentifier } from '../table/identifier.ts';
import { appendRecordStream, type StreamAppendOptions } from '../transaction/append-records.ts';
import { ndjsonChunks, type NdjsonChunk, type NdjsonProgress } from './ndjson.ts';

export interface AppendCommandOptions {
  readonly branch: string;
  /** Ignore the position recorded for this file: append all of it again. */
  readonly allowDuplicate: boolean;
  readonly stdin?: NodeJS.ReadableStream;
  /** Stage the snapshot with summary `wap.id` (write-audit-publish) instead of committing to `branch`. */
  readonly wapId?: string;
}

export async function appendNdjson(
  catalog: Catalog, id: TableIdentifier, file: string, o: AppendCommandOptions,
  out: (line: string) => void, note: (line: string) => void,
): Promise<void> {
  const name = file === '-' ? 'stdin' : file;
  const table = identifierToString(id);
  const progress: NdjsonProgress = { end: 0n, nextLine: 1, records: 0 };
  let lines: AsyncIterable<Line>;
  let source: FileSource | undefined;
  let resumed: { offset: bigint; line: number; snapshotId: bigint } | undefined;
  let beforeCommit: StreamAppendOptions['beforeCommit'];
  if (file === '-') {
    note('note: stdin cannot be resumed (a stream has no identity or position): nothing is recorded, and rerunning this append adds its records again');
    lines = splitLines(streamChunks(o.stdin ?? process.stdin));
  } else {
    source = await FileSource.open(file);
  }
  try {
    if (source) {
      const src = source;
      const r = await resumePoint((await catalog.loadTable(id)).metadata, o.branch, src, o.allowDuplicate, 'nothing was appended (--allow-duplicate appends it from its start)');
      if (r.finished) {
        out(`nothing to append: ${file} is already in ${table} (branch ${o.branch}) up to its end, recorded by snapshot ${r.recorded!.snapshotId}; --allow-duplicate appends it again`);
        return;
      }
      const start = r.start;
      const line = r.line;
      if (start > 0n) resumed = { offset: start, line, snapshotId: r.recorded!.snapshotId };
      progress.end = start;
      progress.nextLine = line;
      lines = splitLines(fileChunks(src.handle, start), start, line);
      beforeCommit = async () => {
        const range = new Map([[FILE_PARTITION, { start, next: progress.end }]]);
        return {
          summary: { ...offsetsSummary(src.sourceId, range), ...fingerprintSummary(src.sourceId, await src.fingerprintAt(progress.end, progress.nextLine)) },
          // Refuses the commit if another append of this file committed these lines meanwhile.
          ...(o.allowDuplicate ? {} : { validate: offsetsValidator(src.sourceId, range) }),
        };
      };
    }

    // The chunk being written when a record fails, to turn its index into a line number.
    let chunkStart = 0;
    let current: NdjsonChunk | undefined;
    const chunks = (async function* (): AsyncGenerator<NdjsonChunk> {
      for await (const c of ndjsonChunks(lines!, name, progress)) {
        current = c;
        yield c;
        chunkStart += c.records.length;
      }
    })();
    let r;
    try {
      r = await appendRecordStream(catalog, id, chunks, { branch: o.branch, ...(beforeCommit ? { beforeCommit } : {}), ...(o.wapId !== undefined ? { wapId: o.wapId } : {}) });
    } catch (e) {
      if (e instanceof RecordValidationError) {
        const lineNo = current?.lines[e.recordIndex - chunkStart] ?? '?';
        throw new ValidationError(`${name} line ${lineNo}: field '${e.fieldPath}': ${e.message.replace(/^record \d+: field '[^']*': /, '')}; nothing was committed`);
      }
      if (e instanceof StaleBatchError) throw new ValidationError(`another append of ${name} committed these lines first (${e.message}); nothing was committed`);
      throw e;
    }
    if (!r) {
      out(`nothing to append: ${file} has no records${resumed ? ` after line ${resumed.line - 1}` : ''}`);
      return;
    }
    out(`appended ${r.records} records in ${r.dataFiles} file(s) to ${table} (${o.wapId !== undefined ? `staged with wap.id=${o.wapId}, no branch moved` : `branch ${o.branch}`}): snapshot ${r.snapshot.snapshotId}, sequence ${r.snapshot.sequenceNumber}`
      + (resumed ? ` (resumed at line ${resumed.line}, byte ${resumed.offset}: the lines before were appended by snapshot ${resumed.snapshotId})` : ''));
  } finally {
    await source?.close();
  }
}
