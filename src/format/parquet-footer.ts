// A Parquet file's footer (FileMetaData) read from its last bytes: leaf columns with their
// field ids, row groups, per-chunk sizes, offsets and statistics. What manifests need from a
// file floe did not encode row by row (compaction output, imported files): exact column
// sizes, split offsets and the chunk statistics that become Iceberg metrics.
import type { RandomAccessBlob } from '../io/file-io.ts';
import { InvalidMetadataError } from '../errors.ts';
import { readThriftStruct, type ThriftStruct, type ThriftValue } from './thrift-compact.ts';

export const ParquetType = { BOOLEAN: 0, INT32: 1, INT64: 2, INT96: 3, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6, FIXED_LEN_BYTE_ARRAY: 7 } as const;
const REPEATED = 2;

export interface ParquetLeaf {
  readonly path: readonly string[];
  readonly fieldId: number | undefined;
  readonly physicalType: number;
  /** Inside a repeated group (list or map): no bounds are kept for it, as in Java. */
  readonly repeated: boolean;
}

export interface ChunkStatistics {
  /** `min_value` / `max_value` (sort-order correct); absent for all-null chunks. */
  readonly min: Uint8Array | undefined;
  readonly max: Uint8Array | undefined;
  readonly nullCount: bigint | undefined;
}

export interface ParquetChunk {
  readonly numValues: bigint;
  readonly compressedSize: bigint;
  /** Where the chunk's first page (dictionary page if any) starts. */
  readonly startOffset: bigint;
  readonly statistics: ChunkStatistics | undefined;
}

export interface ParquetRowGroup { readonly numRows: bigint; readonly columns: readonly ParquetChunk[] }

export interface ParquetFooter {
  readonly numRows: bigint;
  /** The physical schema (every schema element, and the embedded Arrow schema if any) as text:
   * files with equal keys decode to identical Arrow schemas. */
  readonly schemaKey: string;
  readonly leaves: readonly ParquetLeaf[];
  readonly rowGroups: readonly ParquetRowGroup[];
}

const MAGIC = 'PAR1';

function struct(v: ThriftValue | undefined): ThriftStruct | undefined {
  return v instanceof Map ? v as ThriftStruct : undefined;
}
function list(v: ThriftValue | undefined): ThriftValue[] { return Array.isArray(v) ? v : []; }
function int(v: ThriftValue | undefined): number | undefined { return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined; }
function long(v: ThriftValue | undefined): bigint | undefined { return typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : undefined; }
function bytes(v: ThriftValue | undefined): Uint8Array | undefined { return v instanceof Uint8Array ? v : undefined; }

/** Reads the footer of a Parquet file from a Blob, fetching only its last bytes. */
export async function readParquetFooter(blob: RandomAccessBlob, what: string): Promise<ParquetFooter> {
  if (blob.size < 12) throw new InvalidMetadataError(what, `not a Parquet file (${blob.size} bytes)`);
  const tail = new Uint8Array(await blob.slice(blob.size - 8).arrayBuffer());
  if (new TextDecoder().decode(tail.subarray(4)) !== MAGIC) throw new InvalidMetadataError(what, `not a Parquet file (no PAR1 trailer)`);
  const length = new DataView(tail.buffer, tail.byteOffset).getUint32(0, true);
  if (length + 12 > blob.size) throw new InvalidMetadataError(what, `footer length ${length} exceeds the file`);
  return parseParquetFooter(new Uint8Array(await blob.slice(blob.size - 8 - length, blob.size - 8).arrayBuffer()), what);
}

/** The footer of a whole Parquet file held in memory. */
export function parquetFooterOf(file: Uint8Array, what: string): ParquetFooter {
  const length = new DataView(file.buffer, file.byteOffset + file.length - 8).getUint32(0, true);
  return parseParquetFooter(file.subarray(file.length - 8 - length, file.length - 8), what);
}

/** Parses footer bytes (the FileMetaData between the data and the length + `PAR1`). */
export function parseParquetFooter(footer: Uint8Array, what: string): ParquetFooter {
  const meta = readThriftStruct(footer, `${what} footer`);
  const elements = list(meta.get(2)).map((e) => struct(e)!);
  const leaves: ParquetLeaf[] = [];
  let next = 1; // element 0 is the root
  const walk = (count: number, prefix: readonly string[], repeated: boolean): void => {
    for (let i = 0; i < count; i++) {
      const el = elements[next++];
      if (!el) throw new InvalidMetadataError(what, `Parquet schema ends early`);
      const name = new TextDecoder().decode(bytes(el.get(4)) ?? new Uint8Array());
      const isRepeated = repeated || int(el.get(3)) === REPEATED;
      const children = int(el.get(5));
      if (children !== undefined && children > 0) walk(children, [...prefix, name], isRepeated);
      else leaves.push({ path: [...prefix, name], fieldId: int(el.get(9)), physicalType: int(el.get(1)) ?? -1, repeated: isRepeated });
    }
  };
  walk(int(elements[0]?.get(5)) ?? 0, [], false);
  const rowGroups = list(meta.get(4)).map((g): ParquetRowGroup => {
    const rg = struct(g)!;
    const columns = list(rg.get(1)).map((c): ParquetChunk => {
      const md = struct(struct(c)?.get(3));
      if (!md) throw new InvalidMetadataError(what, `column chunk without metadata`);
      const stats = struct(md.get(12));
      const dictionaryOffset = long(md.get(11));
      const dataOffset = long(md.get(9)) ?? 0n;
      return {
        numValues: long(md.get(5)) ?? 0n,
        compressedSize: long(md.get(7)) ?? 0n,
        startOffset: dictionaryOffset !== undefined && dictionaryOffset > 0n && dictionaryOffset < dataOffset ? dictionaryOffset : dataOffset,
        statistics: stats ? { min: bytes(stats.get(6)), max: bytes(stats.get(5)), nullCount: long(stats.get(3)) } : undefined,
      };
    });
    if (columns.length !== leaves.length) throw new InvalidMetadataError(what, `row group has ${columns.length} columns, schema has ${leaves.length} leaves`);
    return { numRows: long(rg.get(3)) ?? 0n, columns };
  });
  const text = (v: ThriftValue | undefined): string => new TextDecoder().decode(bytes(v) ?? new Uint8Array());
  const arrowSchema = list(meta.get(5)).map((kv) => struct(kv)!).find((kv) => text(kv.get(1)) === 'ARROW:schema');
  const schemaKey = JSON.stringify([
    elements.map((el) => [...el].map(([k, v]) => [k, v instanceof Uint8Array ? text(v) : v instanceof Map ? [...(v as ThriftStruct).keys()] : String(v)])),
    arrowSchema ? text(arrowSchema.get(2)) : null,
  ]);
  return { numRows: long(meta.get(3)) ?? 0n, schemaKey, leaves, rowGroups };
}

/** Σ compressed bytes per leaf, in leaf order. */
export function footerColumnSizes(f: ParquetFooter): bigint[] {
  return f.leaves.map((_, i) => f.rowGroups.reduce((sum, g) => sum + g.columns[i]!.compressedSize, 0n));
}

/** Start offset of each row group (its first chunk's first page), ascending. */
export function footerSplitOffsets(f: ParquetFooter): bigint[] {
  return f.rowGroups.filter((g) => g.columns.length > 0).map((g) => g.columns[0]!.startOffset).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
