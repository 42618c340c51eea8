// Shared by the expr tests: a schema with one column of each family, and data files whose
// metrics are computed from a set of rows the way a writer computes them (bounds over non-null,
// non-NaN values, optionally truncated as the truncate(N) metrics mode does).
import {
  truncateLowerBinary, truncateLowerString, truncateUpperBinary, truncateUpperString,
} from '../../../src/spec/bound-truncation.ts';
import { FileContent, type DataFile, type PartitionTuple } from '../../../src/spec/data-file.ts';
import { Schema } from '../../../src/spec/schema.ts';
import { compareValues, encodeSingleValue } from '../../../src/spec/single-value.ts';
import { isPrimitive, type PrimitiveType, type PrimitiveValue } from '../../../src/spec/types.ts';

export const schema = new Schema(0, [
  { id: 1, name: 'i', required: false, type: { kind: 'int' } },
  { id: 2, name: 'l', required: true, type: { kind: 'long' } },
  { id: 3, name: 's', required: false, type: { kind: 'string' } },
  { id: 4, name: 'd', required: false, type: { kind: 'double' } },
  { id: 5, name: 'dt', required: false, type: { kind: 'date' } },
  { id: 6, name: 'ts', required: false, type: { kind: 'timestamp' } },
  { id: 7, name: 'dec', required: false, type: { kind: 'decimal', precision: 9, scale: 2 } },
  { id: 8, name: 'b', required: false, type: { kind: 'boolean' } },
  { id: 9, name: 'bin', required: false, type: { kind: 'binary' } },
  { id: 10, name: 'st', required: false, type: { kind: 'struct', fields: [
    { id: 11, name: 'x', required: true, type: { kind: 'int' } },
  ] } },
  { id: 12, name: 'f', required: false, type: { kind: 'float' } },
]);

export const LEAF_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12];

export function typeOf(id: number): PrimitiveType {
  const t = schema.findField(id)?.type;
  if (!t || !isPrimitive(t)) throw new Error(`no primitive field ${id}`);
  return t;
}

export type Row = ReadonlyMap<number, PrimitiveValue | null>;

export interface StatsOptions {
  /** Truncate string and binary bounds to this many code points / bytes. */
  readonly truncateLength?: number;
  /** Leave these metrics out entirely. */
  readonly omit?: ReadonlySet<'valueCounts' | 'nullValueCounts' | 'nanValueCounts' | 'lowerBounds' | 'upperBounds'>;
}

function isNaNValue(v: PrimitiveValue): boolean {
  return typeof v === 'number' && Number.isNaN(v);
}

export function fileFromRows(rows: readonly Row[], options: StatsOptions = {}, partition: PartitionTuple = []): DataFile {
  const valueCounts = new Map<number, bigint>();
  const nullValueCounts = new Map<number, bigint>();
  const nanValueCounts = new Map<number, bigint>();
  const lowerBounds = new Map<number, Uint8Array>();
  const upperBounds = new Map<number, Uint8Array>();
  for (const id of LEAF_IDS) {
    const type = typeOf(id);
    const values = rows.map((r) => r.get(id) ?? null);
    valueCounts.set(id, BigInt(values.length));
    nullValueCounts.set(id, BigInt(values.filter((v) => v === null).length));
    if (type.kind === 'float' || type.kind === 'double') {
      nanValueCounts.set(id, BigInt(values.filter((v) => v !== null && isNaNValue(v)).length));
    }
    const present = values.filter((v): v is PrimitiveValue => v !== null && !isNaNValue(v));
    if (present.length === 0) continue;
    const sorted = [...present].sort((a, b) => compareValues(type, a, b));
    let lower: PrimitiveValue | undefined = sorted[0]!;
    let upper: PrimitiveValue | undefined = sorted[sorted.length - 1]!;
    const n = options.truncateLength;
    if (n !== undefined && type.kind === 'string') {
      lower = truncateLowerString(lower as string, n);
      upper = truncateUpperString(upper as string, n);
    } else if (n !== undefined && type.kind === 'binary') {
      lower = truncateLowerBinary(lower as Uint8Array, n);
      upper = truncateUpperBinary(upper as Uint8Array, n);
    }
    lowerBounds.set(id, encodeSingleValue(type, lower));
    if (upper !== undefined) upperBounds.set(id, encodeSingleValue(type, upper));
  }
  const omit = options.omit ?? new Set();
  return {
    content: FileContent.Data,
    filePath: 'mem://data.parquet',
    fileFormat: 'parquet',
    specId: 0,
    partition,
    recordCount: BigInt(rows.length),
    fileSizeInBytes: 100n,
    ...(omit.has('valueCounts') ? {} : { valueCounts }),
    ...(omit.has('nullValueCounts') ? {} : { nullValueCounts }),
    ...(omit.has('nanValueCounts') ? {} : { nanValueCounts }),
    ...(omit.has('lowerBounds') ? {} : { lowerBounds }),
    ...(omit.has('upperBounds') ? {} : { upperBounds }),
  };
}

/** A row from `column name → value`; unnamed columns are null. */
export function row(values: Readonly<Record<string, PrimitiveValue | null>>): Row {
  const out = new Map<number, PrimitiveValue | null>();
  for (const [name, v] of Object.entries(values)) {
    const f = schema.findFieldByName(name);
    if (!f) throw new Error(`no column ${name}`);
    out.set(f.id, v);
  }
  return out;
}

export const getter = (r: Row) => (id: number): PrimitiveValue | null => r.get(id) ?? null;
