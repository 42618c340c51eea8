// A writer for Thrift's compact protocol, the counterpart of thrift-compact.ts: enough to write
// a Parquet footer back with some fields replaced (row-group copies in compaction) and the rest
// copied as raw bytes from the footer they came from.
import { ThriftType as T, type ThriftFieldSpan } from './thrift-compact.ts';

export class ThriftCompactWriter {
  private buf = new Uint8Array(1024);
  private len = 0;
  private readonly lastIds: number[] = [0];

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): this {
    this.ensure(1);
    this.buf[this.len++] = b & 0xff;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  varint(v: bigint): this {
    let x = BigInt.asUintN(64, v);
    for (;;) {
      const low = Number(x & 0x7fn);
      x >>= 7n;
      if (x === 0n) return this.byte(low);
      this.byte(low | 0x80);
    }
  }

  private zigzag(v: bigint): this {
    return this.varint(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n)));
  }

  /** A field header; ids must ascend within a struct for the short form, else the long form is used. */
  fieldHeader(id: number, type: number): this {
    const last = this.lastIds[this.lastIds.length - 1]!;
    const delta = id - last;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else this.byte(type).zigzag(BigInt(id));
    this.lastIds[this.lastIds.length - 1] = id;
    return this;
  }

  beginStruct(): this { this.lastIds.push(0); return this; }
  endStruct(): this { this.lastIds.pop(); return this.byte(T.STOP); }

  i16(id: number, v: number): this { return this.fieldHeader(id, T.I16).zigzag(BigInt(v)); }
  i32(id: number, v: number): this { return this.fieldHeader(id, T.I32).zigzag(BigInt(v)); }
  i64(id: number, v: bigint): this { return this.fieldHeader(id, T.I64).zigzag(v); }

  listHeader(id: number, elemType: number, size: number): this {
    this.fieldHeader(id, T.LIST);
    if (size < 15) return this.byte((size << 4) | elemType);
    return this.byte(0xf0 | elemType).varint(BigInt(size));
  }

  /** A field copied from another struct as it was on the wire. */
  copyField(f: ThriftFieldSpan): this {
    return this.fieldHeader(f.id, f.type).raw(f.value);
  }

  bytes(): Uint8Array { return this.buf.slice(0, this.len); }
}
