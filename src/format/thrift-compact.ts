// A reader for Thrift's compact protocol, enough to decode a Parquet footer (FileMetaData).
// Hand-written because parquet-wasm exposes no column statistics and the npm Thrift packages
// need generated code for parquet.thrift; the protocol itself is small and fixed.
//
// A struct decodes to a Map from field id to value; lists to arrays; i64 to bigint;
// binary to Uint8Array. Unknown fields are decoded too (and ignored by the caller), so
// footers from newer writers still read.
import { InvalidMetadataError } from '../errors.ts';

export type ThriftValue = boolean | number | bigint | Uint8Array | ThriftStruct | ThriftValue[] | Map<ThriftValue, ThriftValue>;
export type ThriftStruct = Map<number, ThriftValue>;

const T = { STOP: 0, TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;

class CompactReader {
  pos = 0;
  constructor(private readonly buf: Uint8Array, private readonly what: string) {}

  private fail(msg: string): never {
    throw new InvalidMetadataError(this.what, `${msg} at byte ${this.pos}`);
  }

  byte(): number {
    if (this.pos >= this.buf.length) this.fail('unexpected end of Thrift data');
    return this.buf[this.pos++]!;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) this.fail('varint too long');
    }
  }

  zigzag(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }

  binary(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) this.fail(`binary of ${len} bytes runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  value(type: number): ThriftValue {
    switch (type) {
      case T.TRUE: return true;
      case T.FALSE: return false;
      case T.BYTE: { const b = this.byte(); return b > 127 ? b - 256 : b; }
      case T.I16: case T.I32: return Number(this.zigzag());
      case T.I64: return this.zigzag();
      case T.DOUBLE: {
        if (this.pos + 8 > this.buf.length) this.fail('double runs past the end');
        const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
        this.pos += 8;
        return v;
      }
      case T.BINARY: return this.binary();
      case T.LIST: case T.SET: {
        const header = this.byte();
        let size = header >> 4;
        if (size === 15) size = Number(this.varint());
        const elemType = header & 0x0f;
        const out: ThriftValue[] = [];
        // Booleans inside containers are one byte each (1 = true).
        for (let i = 0; i < size; i++) out.push(elemType === T.TRUE || elemType === T.FALSE ? this.byte() === 1 : this.value(elemType));
        return out;
      }
      case T.MAP: {
        const size = Number(this.varint());
        const out = new Map<ThriftValue, ThriftValue>();
        if (size === 0) return out;
        const kv = this.byte();
        for (let i = 0; i < size; i++) out.set(this.value(kv >> 4), this.value(kv & 0x0f));
        return out;
      }
      case T.STRUCT: return this.struct();
      default: return this.fail(`unknown Thrift type ${type}`);
    }
  }

  struct(): ThriftStruct {
    const out: ThriftStruct = new Map();
    let lastId = 0;
    for (;;) {
      const header = this.byte();
      const type = header & 0x0f;
      if (type === T.STOP) return out;
      const delta = header >> 4;
      const id = delta === 0 ? Number(this.zigzag()) : lastId + delta;
      lastId = id;
      out.set(id, this.value(type));
    }
  }
}

/** Decodes one compact-protocol struct from the start of `bytes`. */
export function readThriftStruct(bytes: Uint8Array, what: string): ThriftStruct {
  return new CompactReader(bytes, what).struct();
}

/** One field of a compact-protocol struct as it is on the wire: its id, its type nibble and the
 * bytes of its value (empty for a boolean field, whose value is the type). */
export interface ThriftFieldSpan {
  readonly id: number;
  readonly type: number;
  readonly value: Uint8Array;
}

/** The fields of the struct that starts at `bytes[0]`, each with its value's raw bytes, so a
 * footer can be written back with some fields replaced and the rest copied unchanged. */
export function readThriftFieldSpans(bytes: Uint8Array, what: string): ThriftFieldSpan[] {
  const r = new CompactReader(bytes, what);
  const out: ThriftFieldSpan[] = [];
  let lastId = 0;
  for (;;) {
    const header = r.byte();
    const type = header & 0x0f;
    if (type === T.STOP) return out;
    const delta = header >> 4;
    const id = delta === 0 ? Number(r.zigzag()) : lastId + delta;
    lastId = id;
    const start = r.pos;
    if (type !== T.TRUE && type !== T.FALSE) r.value(type);
    out.push({ id, type, value: bytes.subarray(start, r.pos) });
  }
}

/** The list header at `bytes[0]`: element type, count, and where the elements start. */
export function readThriftListHeader(bytes: Uint8Array, what: string): { elemType: number; size: number; start: number } {
  const r = new CompactReader(bytes, what);
  const header = r.byte();
  let size = header >> 4;
  if (size === 15) size = Number(r.varint());
  return { elemType: header & 0x0f, size, start: r.pos };
}

/** Splits a list of structs (the raw value of a list field) into each element's raw bytes. */
export function readThriftStructList(bytes: Uint8Array, what: string): Uint8Array[] {
  const { elemType, size, start } = readThriftListHeader(bytes, what);
  if (size > 0 && elemType !== T.STRUCT) throw new InvalidMetadataError(what, `expected a list of structs, got element type ${elemType}`);
  const r = new CompactReader(bytes, what);
  r.pos = start;
  const out: Uint8Array[] = [];
  for (let i = 0; i < size; i++) {
    const s = r.pos;
    r.struct();
    out.push(bytes.subarray(s, r.pos));
  }
  return out;
}

/** Compact-protocol type nibbles (for writers of raw fields). */
export const ThriftType = T;
