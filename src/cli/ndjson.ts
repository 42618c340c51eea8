// NDJSON input for `floe append`: one JSON object per line, longs kept exact (a long written
// as a bare number above 2^53 stays a bigint), blank lines skipped, errors by line number.
// Read as a stream of chunks, so an input of any size never sits in memory whole.
import { ValidationError } from '../errors.ts';
import type { Line } from '../io/line-reader.ts';
import { parseJsonExact } from '../spec/json.ts';
import type { RecordChunk } from '../transaction/append-records.ts';

/** Records per chunk are bounded by their NDJSON bytes. Measured on 150 MB of events (peak RSS
 * of the floe process, 145 MiB of it the bare process): 8 MiB chunks 340 MiB, 2 MiB 268 MiB,
 * 1 MiB 240 MiB and the fastest — the JS objects of a chunk and their garbage dominate. */
export const CHUNK_INPUT_BYTES = 1024 * 1024;

export interface NdjsonChunk extends RecordChunk {
  /** 1-based line number of each record, for error messages. */
  readonly lines: readonly number[];
}

/** How far the reader got: the byte after the last line read, and that line's successor. */
export interface NdjsonProgress { end: bigint; nextLine: number; records: number }

export async function* ndjsonChunks(lines: AsyncIterable<Line>, name: string, progress: NdjsonProgress, chunkBytes = CHUNK_INPUT_BYTES): AsyncGenerator<NdjsonChunk> {
  let records: unknown[] = [];
  let numbers: number[] = [];
  let bytes = 0;
  for await (const { text, end, line, invalidUtf8 } of lines) {
    progress.end = end;
    progress.nextLine = line + 1;
    if (invalidUtf8) throw new ValidationError(`${name} line ${line}: invalid UTF-8 (the line's bytes are not UTF-8 text)`);
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = parseJsonExact(text);
    } catch (err) {
      throw new ValidationError(`${name} line ${line}: invalid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ValidationError(`${name} line ${line}: expected a JSON object per line`);
    }
    records.push(value);
    numbers.push(line);
    bytes += text.length + 1;
    progress.records++;
    if (bytes >= chunkBytes) {
      yield { records, lines: numbers, inputBytes: bytes };
      records = [];
      numbers = [];
      bytes = 0;
    }
  }
  if (records.length > 0) yield { records, lines: numbers, inputBytes: bytes };
}
