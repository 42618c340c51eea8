// A Blob-shaped view of an object whose bytes are fetched by ranged GET only when asked for:
// Parquet readers (ours and parquet-wasm's) seek the footer and then the column chunks they
// need, so compaction and MERGE never hold a whole remote file in memory.
import { FileIOError } from '../errors.ts';
import type { RandomAccessBlob } from './file-io.ts';

export type RangeReader = (start: number, endExclusive: number) => Promise<Uint8Array>;

export class RangedBlob implements RandomAccessBlob {
  readonly size: number;
  readonly type = '';
  /** `uri` names the object in errors: a short read must say which of many files it hit. */
  constructor(private readonly readRange: RangeReader, private readonly start: number, private readonly end: number, private readonly uri = 'a ranged object') {
    this.size = Math.max(0, end - start);
  }

  /** Blob.slice semantics: negative offsets count from the end, the range is clamped. */
  slice(start = 0, end = this.size): RangedBlob {
    const clamp = (v: number): number => Math.min(this.size, Math.max(0, v < 0 ? this.size + v : v));
    const s = clamp(start);
    const e = Math.max(s, clamp(end));
    return new RangedBlob(this.readRange, this.start + s, this.start + e, this.uri);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    if (this.size === 0) return new ArrayBuffer(0);
    const bytes = await this.readRange(this.start, this.end);
    if (bytes.length !== this.size) throw new FileIOError(`cannot read ${this.uri}: ranged read of bytes ${this.start}-${this.end} returned ${bytes.length} of ${this.size} bytes`);
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer);
  }

  async bytes(): Promise<Uint8Array> { return new Uint8Array(await this.arrayBuffer()); }
}
