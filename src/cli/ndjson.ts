// NDJSON input for `floe append`: one JSON object per line, longs kept exact (a long written
// as a bare number above 2^53 stays a bigint), blank lines skipped, errors by line number.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ValidationError } from '../errors.ts';
import { parseJsonExact } from '../spec/json.ts';

export interface NdjsonBatch {
  readonly records: unknown[];
  /** 1-based line number of each record, for error messages. */
  readonly lines: number[];
}

export async function readNdjson(source: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<NdjsonBatch> {
  const input = source === '-' ? stdin : createReadStream(source, { encoding: 'utf8' });
  const records: unknown[] = [];
  const lines: number[] = [];
  const name = source === '-' ? 'stdin' : source;
  let lineNo = 0;
  const rl = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of rl) {
      lineNo++;
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = parseJsonExact(line);
      } catch (err) {
        throw new ValidationError(`${name} line ${lineNo}: invalid JSON (${err instanceof Error ? err.message : String(err)})`);
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new ValidationError(`${name} line ${lineNo}: expected a JSON object per line`);
      }
      records.push(value);
      lines.push(lineNo);
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new ValidationError(`cannot read ${source}: no such file`);
    throw err;
  }
  return { records, lines };
}
