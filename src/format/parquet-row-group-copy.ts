// Parquet row groups copied byte for byte into a new file (compaction's row-group copy): the
// column chunks' pages are written unchanged, and a new footer (FileMetaData) is built from the
// source footers with every file offset moved to where the chunk now starts. Page indexes
// (column and offset indexes) and bloom filters are dropped: they live outside the chunks and
// their offsets would point into the old file. Chunk statistics are kept, so the new footer's
// metrics (footer-metrics.ts) are the merge of the copied row groups' own.
import { InvalidMetadataError } from '../errors.ts';
import type { OutputFile, RandomAccessBlob } from '../io/file-io.ts';
import { ThriftCompactWriter } from './thrift-compact-writer.ts';
import { readThriftFieldSpans, readThriftStruct, readThriftStructList, ThriftType, type ThriftFieldSpan } from './thrift-compact.ts';

/** Thrift field ids of parquet.thrift used here. */
const FileMetaData = { NUM_ROWS: 3, ROW_GROUPS: 4, CREATED_BY: 6, ENCRYPTION_ALGORITHM: 8, FOOTER_SIGNING_KEY: 9 } as const;
const RowGroup = { COLUMNS: 1, NUM_ROWS: 3, FILE_OFFSET: 5, TOTAL_COMPRESSED_SIZE: 6, ORDINAL: 7 } as const;
const ColumnChunk = { FILE_PATH: 1, FILE_OFFSET: 2, META_DATA: 3, OFFSET_INDEX_OFFSET: 4, OFFSET_INDEX_LENGTH: 5, COLUMN_INDEX_OFFSET: 6, COLUMN_INDEX_LENGTH: 7, CRYPTO: 8, ENCRYPTED_META: 9 } as const;
const ColumnMetaData = { CODEC: 4, TOTAL_COMPRESSED_SIZE: 7, DATA_PAGE_OFFSET: 9, INDEX_PAGE_OFFSET: 10, DICTIONARY_PAGE_OFFSET: 11, STATISTICS: 12, BLOOM_FILTER_OFFSET: 14, BLOOM_FILTER_LENGTH: 15 } as const;
const Statistics = { NULL_COUNT: 3 } as const;

/** Parquet's CompressionCodec enum values by floe's codec names. */
export const PARQUET_CODEC_IDS = { uncompressed: 0, snappy: 1, gzip: 2, brotli: 4, lz4: 7, zstd: 6 } as const;

export interface ChunkLayout {
  /** Where the chunk's first page starts in its file, and its length (all pages with headers). */
  readonly start: bigint;
  readonly length: bigint;
  readonly codec: number;
  /** Chunk statistics carry a null count (what Iceberg's null counts need). */
  readonly hasNullCount: boolean;
  /** Stored in another file, or encrypted: never copied. */
  readonly external: boolean;
  readonly fields: readonly ThriftFieldSpan[];
  readonly metaFields: readonly ThriftFieldSpan[];
}

export interface RowGroupLayout {
  readonly numRows: bigint;
  /** Σ compressed chunk bytes. */
  readonly compressedBytes: bigint;
  /** The byte span the chunks occupy (they are contiguous in every writer floe knows, but only
   * the chunks themselves are copied). */
  readonly start: bigint;
  readonly end: bigint;
  readonly chunks: readonly ChunkLayout[];
  readonly fields: readonly ThriftFieldSpan[];
}

/** A footer split into what a row-group copy needs, with every field's raw bytes. */
export interface ParquetFooterLayout {
  readonly fields: readonly ThriftFieldSpan[];
  readonly rowGroups: readonly RowGroupLayout[];
  readonly encrypted: boolean;
  /** `created_by` ('' if absent): readers key workarounds for old writers' bugs on it, so the
   * new footer's must be true of every row group copied under it. */
  readonly createdBy: string;
}

const num = (v: unknown): bigint | undefined => (typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : undefined);

function chunkLayout(bytes: Uint8Array, what: string): ChunkLayout {
  const fields = readThriftFieldSpans(bytes, what);
  const metaSpan = fields.find((f) => f.id === ColumnChunk.META_DATA);
  if (!metaSpan) throw new InvalidMetadataError(what, 'column chunk without metadata');
  const metaFields = readThriftFieldSpans(metaSpan.value, what);
  const meta = readThriftStruct(metaSpan.value, what);
  const data = num(meta.get(ColumnMetaData.DATA_PAGE_OFFSET)) ?? 0n;
  const dict = num(meta.get(ColumnMetaData.DICTIONARY_PAGE_OFFSET));
  const stats = meta.get(ColumnMetaData.STATISTICS);
  return {
    start: dict !== undefined && dict > 0n && dict < data ? dict : data,
    length: num(meta.get(ColumnMetaData.TOTAL_COMPRESSED_SIZE)) ?? 0n,
    codec: Number(num(meta.get(ColumnMetaData.CODEC)) ?? -1n),
    hasNullCount: stats instanceof Map && stats.has(Statistics.NULL_COUNT),
    external: fields.some((f) => f.id === ColumnChunk.FILE_PATH || f.id === ColumnChunk.CRYPTO || f.id === ColumnChunk.ENCRYPTED_META),
    fields, metaFields,
  };
}

/** The layout of a footer (the FileMetaData bytes between the data and the length + `PAR1`). */
export function parquetFooterLayout(footer: Uint8Array, what: string): ParquetFooterLayout {
  const fields = readThriftFieldSpans(footer, `${what} footer`);
  const groups = fields.find((f) => f.id === FileMetaData.ROW_GROUPS);
  const rowGroups = (groups ? readThriftStructList(groups.value, what) : []).map((rgBytes): RowGroupLayout => {
    const rgFields = readThriftFieldSpans(rgBytes, what);
    const cols = rgFields.find((f) => f.id === RowGroup.COLUMNS);
    const chunks = (cols ? readThriftStructList(cols.value, what) : []).map((c) => chunkLayout(c, what));
    const rg = readThriftStruct(rgBytes, what);
    let start = -1n;
    let end = 0n;
    for (const c of chunks) {
      if (start < 0n || c.start < start) start = c.start;
      if (c.start + c.length > end) end = c.start + c.length;
    }
    return {
      numRows: num(rg.get(RowGroup.NUM_ROWS)) ?? 0n, compressedBytes: chunks.reduce((s, c) => s + c.length, 0n),
      start: start < 0n ? 0n : start, end, chunks, fields: rgFields,
    };
  });
  const encrypted = fields.some((f) => f.id === FileMetaData.ENCRYPTION_ALGORITHM || f.id === FileMetaData.FOOTER_SIGNING_KEY);
  const createdBy = readThriftStruct(footer, what).get(FileMetaData.CREATED_BY);
  return { fields, rowGroups, encrypted, createdBy: createdBy instanceof Uint8Array ? new TextDecoder().decode(createdBy) : '' };
}

/** The raw footer bytes of a Parquet file (what {@link parquetFooterLayout} and the footer reader parse). */
export async function readFooterBytes(blob: RandomAccessBlob, what: string): Promise<Uint8Array> {
  if (blob.size < 12) throw new InvalidMetadataError(what, `not a Parquet file (${blob.size} bytes)`);
  const tail = new Uint8Array(await blob.slice(blob.size - 8).arrayBuffer());
  if (new TextDecoder().decode(tail.subarray(4)) !== 'PAR1') throw new InvalidMetadataError(what, 'not a Parquet file (no PAR1 trailer)');
  const length = new DataView(tail.buffer, tail.byteOffset).getUint32(0, true);
  if (length + 12 > blob.size) throw new InvalidMetadataError(what, `footer length ${length} exceeds the file`);
  return new Uint8Array(await blob.slice(blob.size - 8 - length, blob.size - 8).arrayBuffer());
}

/**
 * Throws unless every column chunk of `layout` lies in its file's data: after the leading `PAR1`
 * and before the footer (`fileSize` bytes in all, `footer` the footer bytes). A footer that
 * places a chunk over the footer or past the end is damaged: a decoder refuses the file, and a
 * copy would take the footer's bytes (or none) for the chunk's pages.
 */
export function checkChunksInData(layout: ParquetFooterLayout, fileSize: number, footer: Uint8Array, what: string): void {
  const dataEnd = BigInt(fileSize - 8 - footer.length);
  layout.rowGroups.forEach((rg, j) => {
    rg.chunks.forEach((c, k) => {
      if (c.external) return;
      if (c.start < 4n || c.length < 0n || c.start + c.length > dataEnd) {
        throw new InvalidMetadataError(what, `column chunk ${k} of row group ${j} lies at bytes ${c.start}..${c.start + c.length}, outside the file's data (bytes 4..${dataEnd}): damaged footer`);
      }
    });
  });
}

/** The footer of a whole Parquet file held in memory (a view into it). */
export function footerBytesOf(file: Uint8Array): Uint8Array {
  const length = new DataView(file.buffer, file.byteOffset + file.length - 8).getUint32(0, true);
  return file.subarray(file.length - 8 - length, file.length - 8);
}

/** Whether a row group can be copied into a file written with `codec` (a Parquet codec id):
 * every chunk in this file, unencrypted, with that codec and with a null count. */
export function rowGroupCopyable(layout: ParquetFooterLayout, rg: RowGroupLayout, codec: number): boolean {
  return !layout.encrypted && rg.chunks.length > 0 && rg.chunks.every((c) => !c.external && c.codec === codec && c.hasNullCount && c.length > 0n);
}

interface Placed { readonly rg: RowGroupLayout; readonly starts: readonly bigint[] }

const MAGIC = new TextEncoder().encode('PAR1');
/** Largest read of a copy: a 128 MiB row group goes through in 16 pieces. */
export const COPY_PIECE_BYTES = 8 * 1024 * 1024;

/**
 * Writes a Parquet file made of copied row groups. All row groups must come from files with the
 * same physical schema as `base` (the caller checks it: floe compares schema keys), whose
 * schema, key-value metadata (the embedded Arrow schema), `created_by` and column orders the
 * new footer keeps.
 */
export class ParquetRowGroupCopyWriter {
  private readonly placed: Placed[] = [];
  private offset = 0n;
  private started = false;
  /** Rows copied so far. */
  rows = 0n;

  private readonly piece: bigint;

  constructor(private readonly sink: OutputFile, private readonly base: ParquetFooterLayout, private readonly what: string, pieceBytes = COPY_PIECE_BYTES) {
    this.piece = BigInt(Math.max(1, pieceBytes));
  }

  /** Bytes written so far (the footer not included). */
  get bytesWritten(): number { return Number(this.offset); }

  /**
   * Appends row group `rg`, whose bytes from file position `spanStart` on are in `data`
   * (at least up to `rg.end`).
   */
  async append(rg: RowGroupLayout, data: Uint8Array, spanStart: bigint): Promise<void> {
    await this.appendFrom(rg, async (from, to) => {
      const a = Number(from - spanStart);
      const b = Number(to - spanStart);
      if (a < 0 || b > data.length) throw new InvalidMetadataError(this.what, `column chunk bytes ${from}..${to} lie outside the bytes given`);
      return data.subarray(a, b);
    });
  }

  /**
   * Appends row group `rg`, reading its chunks' bytes through `read(from, to)` (file positions)
   * in pieces of at most {@link COPY_PIECE_BYTES}, the next piece read while the last is written:
   * memory holds two pieces whatever the row group's size.
   */
  async appendFrom(rg: RowGroupLayout, read: (from: bigint, to: bigint) => Promise<Uint8Array>): Promise<void> {
    const leaves = this.base.rowGroups[0]?.chunks.length;
    if (leaves !== undefined && rg.chunks.length !== leaves) throw new InvalidMetadataError(this.what, `row group has ${rg.chunks.length} columns, the file has ${leaves}`);
    if (!this.started) {
      await this.sink.write(MAGIC);
      this.offset = 4n;
      this.started = true;
    }
    const pieces: [bigint, bigint][] = [];
    const starts: bigint[] = [];
    let at = this.offset;
    for (const c of rg.chunks) {
      starts.push(at);
      at += c.length;
      for (let p = c.start; p < c.start + c.length; p += this.piece) pieces.push([p, p + this.piece < c.start + c.length ? p + this.piece : c.start + c.length]);
    }
    let next = pieces.length > 0 ? read(...pieces[0]!) : undefined;
    for (let i = 0; i < pieces.length; i++) {
      const bytes = await next!;
      const [from, to] = pieces[i]!;
      if (BigInt(bytes.length) !== to - from) throw new InvalidMetadataError(this.what, `read ${bytes.length} bytes of column chunk bytes ${from}..${to}`);
      next = i + 1 < pieces.length ? read(...pieces[i + 1]!) : undefined;
      // A failed read-ahead is reported when its turn comes, not as an unhandled rejection.
      next?.catch(() => undefined);
      await this.sink.write(bytes);
      this.offset += BigInt(bytes.length);
    }
    this.placed.push({ rg, starts });
    this.rows += rg.numRows;
  }

  /** The new footer (FileMetaData) for the row groups appended so far. */
  footer(): Uint8Array {
    const w = new ThriftCompactWriter().beginStruct();
    let wroteGroups = false;
    const writeGroups = (): void => {
      wroteGroups = true;
      w.listHeader(FileMetaData.ROW_GROUPS, ThriftType.STRUCT, this.placed.length);
      this.placed.forEach((p, ordinal) => { writeRowGroup(w, p, ordinal); });
    };
    for (const f of this.base.fields) {
      if (f.id === FileMetaData.NUM_ROWS) w.i64(f.id, this.rows);
      else if (f.id === FileMetaData.ROW_GROUPS) writeGroups();
      else w.copyField(f);
    }
    if (!wroteGroups) throw new InvalidMetadataError(this.what, 'source footer has no row_groups field');
    return w.endStruct().bytes();
  }

  /** Writes the footer and publishes the file; returns its size. */
  async close(): Promise<number> {
    if (!this.started) throw new InvalidMetadataError(this.what, 'a copied Parquet file needs at least one row group');
    const footer = this.footer();
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, footer.length, true);
    tail.set(MAGIC, 4);
    await this.sink.write(footer);
    await this.sink.write(tail);
    return this.sink.close();
  }

  async abort(): Promise<void> {
    await this.sink.abort().catch(() => undefined);
  }
}

function writeRowGroup(w: ThriftCompactWriter, p: Placed, ordinal: number): void {
  w.beginStruct();
  for (const f of p.rg.fields) {
    switch (f.id) {
      case RowGroup.COLUMNS:
        w.listHeader(f.id, ThriftType.STRUCT, p.rg.chunks.length);
        p.rg.chunks.forEach((c, i) => { writeChunk(w, c, p.starts[i]!); });
        break;
      case RowGroup.FILE_OFFSET: w.i64(f.id, p.starts[0] ?? 0n); break;
      case RowGroup.ORDINAL: w.i16(f.id, ordinal); break;
      default: w.copyField(f);
    }
  }
  w.endStruct();
}

function writeChunk(w: ThriftCompactWriter, c: ChunkLayout, newStart: bigint): void {
  const delta = newStart - c.start;
  w.beginStruct();
  for (const f of c.fields) {
    switch (f.id) {
      case ColumnChunk.FILE_OFFSET: w.i64(f.id, newStart); break;
      case ColumnChunk.META_DATA:
        w.fieldHeader(f.id, ThriftType.STRUCT);
        writeColumnMeta(w, c, delta);
        break;
      // Page indexes point into the old file: dropped (readers then read every page).
      case ColumnChunk.OFFSET_INDEX_OFFSET: case ColumnChunk.OFFSET_INDEX_LENGTH:
      case ColumnChunk.COLUMN_INDEX_OFFSET: case ColumnChunk.COLUMN_INDEX_LENGTH:
        break;
      default: w.copyField(f);
    }
  }
  w.endStruct();
}

function writeColumnMeta(w: ThriftCompactWriter, c: ChunkLayout, delta: bigint): void {
  w.beginStruct();
  for (const f of c.metaFields) {
    switch (f.id) {
      case ColumnMetaData.DATA_PAGE_OFFSET: case ColumnMetaData.INDEX_PAGE_OFFSET: {
        w.i64(f.id, zigzagValue(f) + delta);
        break;
      }
      case ColumnMetaData.DICTIONARY_PAGE_OFFSET: {
        const v = zigzagValue(f);
        // A dictionary offset of 0 (some writers' "none") is dropped, not moved.
        if (v > 0n && v >= c.start) w.i64(f.id, v + delta);
        break;
      }
      // Bloom filters live outside the chunk: dropped.
      case ColumnMetaData.BLOOM_FILTER_OFFSET: case ColumnMetaData.BLOOM_FILTER_LENGTH: break;
      default: w.copyField(f);
    }
  }
  w.endStruct();
}

/** The value of an i32/i64 field span. */
function zigzagValue(f: ThriftFieldSpan): bigint {
  let result = 0n;
  let shift = 0n;
  for (const b of f.value) {
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7n;
  }
  return (result >> 1n) ^ -(result & 1n);
}

/**
 * Row group `rg` of a file (`layout` its footer) as a Parquet file of its own, in memory: its chunks copied under the
 * input's footer (offsets moved), for the synchronous reader. parquet-wasm's async reader panics
 * on damaged pages outside any promise (an uncaught "RuntimeError: unreachable" that ends the
 * process, the rewrite never settling); the synchronous one throws an error that names the file.
 */
export async function rowGroupAlone(layout: ParquetFooterLayout, rg: RowGroupLayout, read: (from: bigint, to: bigint) => Promise<Uint8Array>, what: string): Promise<Uint8Array> {
  // Room for the chunks and a footer of a row group, so the pages are copied once.
  let buf = new Uint8Array(4 + Number(rg.compressedBytes) + 64 * 1024);
  let size = 0;
  const sink: OutputFile = {
    write: async (chunk) => {
      if (size + chunk.length > buf.length) {
        const grown = new Uint8Array(Math.max(2 * buf.length, size + chunk.length));
        grown.set(buf.subarray(0, size));
        buf = grown;
      }
      buf.set(chunk, size);
      size += chunk.length;
    },
    close: async () => size,
    abort: async () => { size = 0; },
  };
  const writer = new ParquetRowGroupCopyWriter(sink, layout, what);
  await writer.appendFrom(rg, read);
  await writer.close();
  return buf.subarray(0, size);
}
