// Iceberg's single-value binary encoding (spec Appendix D) used by lower/upper bounds and
// partition field summaries, plus the value ordering those bounds are computed with.
// Pure: no I/O.
import { DecodingError, ValidationError, ValueTypeError } from '../errors.ts';
import type { PrimitiveType, PrimitiveValue } from './types.ts';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes one value of `type` as the spec's single-value bytes (no length prefix). */
export function encodeSingleValue(type: PrimitiveType, value: PrimitiveValue): Uint8Array {
  switch (type.kind) {
    case 'boolean':
      // Java writes 0x01 for true; any reader treats non-zero as true.
      return Uint8Array.of(expectBoolean(type, value) ? 1 : 0);
    case 'int':
    case 'date': {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setInt32(0, expectInt32(type, value), true);
      return out;
    }
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setBigInt64(0, expectInt64(type, value), true);
      return out;
    }
    case 'float': {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setFloat32(0, expectNumber(type, value), true);
      return out;
    }
    case 'double': {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setFloat64(0, expectNumber(type, value), true);
      return out;
    }
    case 'string':
      return utf8Encoder.encode(expectString(type, value));
    case 'uuid': {
      const bytes = expectBytes(type, value);
      if (bytes.length !== 16) throw new ValidationError(`uuid value must be 16 bytes, got ${bytes.length}`);
      return bytes.slice();
    }
    case 'fixed':
    case 'binary':
      // Fixed bounds may be truncated (shorter than the type's length), so no length check.
      return expectBytes(type, value).slice();
    case 'decimal':
      return bigintToTwosComplementBytes(expectBigint(type, value));
  }
}

/**
 * Decodes single-value bytes back to the in-memory value form. Accepts the widths that type
 * promotion leaves behind in old bounds (spec "Schema Evolution"): 4-byte int bounds for a
 * long column, 4-byte float bounds for a double column.
 */
export function decodeSingleValue(type: PrimitiveType, bytes: Uint8Array): PrimitiveValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type.kind) {
    case 'boolean':
      expectLength(type, bytes, 1);
      return bytes[0] !== 0;
    case 'int':
    case 'date':
      expectLength(type, bytes, 4);
      return view.getInt32(0, true);
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      if (bytes.length === 4) return BigInt(view.getInt32(0, true));
      expectLength(type, bytes, 8);
      return view.getBigInt64(0, true);
    case 'float':
      expectLength(type, bytes, 4);
      return view.getFloat32(0, true);
    case 'double':
      if (bytes.length === 4) return view.getFloat32(0, true);
      expectLength(type, bytes, 8);
      return view.getFloat64(0, true);
    case 'string':
      return utf8Decoder.decode(bytes);
    case 'uuid':
      expectLength(type, bytes, 16);
      return bytes.slice();
    case 'fixed':
    case 'binary':
      return bytes.slice();
    case 'decimal':
      return twosComplementBytesToBigint(bytes);
  }
}

/**
 * Total order used for lower/upper bounds: signed numbers; floats as Java's Float.compare
 * (-0.0 < +0.0, NaN above everything — bounds never hold NaN, but a total order keeps sorts
 * stable); strings by Unicode code point, which equals unsigned UTF-8 byte order (what Java's
 * CharSequence comparator and Parquet's min/max use); binary, fixed and uuid as unsigned bytes.
 */
export function compareValues(type: PrimitiveType, a: PrimitiveValue, b: PrimitiveValue): number {
  switch (type.kind) {
    case 'boolean':
      return Number(expectBoolean(type, a)) - Number(expectBoolean(type, b));
    case 'int':
    case 'date':
      return Math.sign(expectNumber(type, a) - expectNumber(type, b));
    case 'float':
    case 'double':
      return compareFloats(expectNumber(type, a), expectNumber(type, b));
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
    case 'decimal': {
      const x = expectBigint(type, a);
      const y = expectBigint(type, b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'string':
      return compareCodePoints(expectString(type, a), expectString(type, b));
    case 'uuid':
    case 'fixed':
    case 'binary':
      return compareUnsignedBytes(expectBytes(type, a), expectBytes(type, b));
  }
}

export function compareFloats(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  const aNaN = Number.isNaN(a);
  const bNaN = Number.isNaN(b);
  if (aNaN || bNaN) return aNaN === bNaN ? 0 : aNaN ? 1 : -1;
  // Equal by `==`: only the sign of zero can still differ.
  const aNegZero = Object.is(a, -0);
  const bNegZero = Object.is(b, -0);
  return aNegZero === bNegZero ? 0 : aNegZero ? -1 : 1;
}

/** Orders strings by Unicode code point (JS `<` orders by UTF-16 unit, which misplaces
 * astral characters relative to U+E000..U+FFFF). Only the first differing unit decides, so the
 * shared prefix is skipped natively (string equality on slices runs as a memory compare): a
 * JS loop over the 880 shared characters of two Kafka payloads cost 60× more (issue 12). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const i = commonPrefixLength(a, b);
  if (i === a.length || i === b.length) return Math.sign(a.length - b.length);
  const x = a.charCodeAt(i);
  const y = b.charCodeAt(i);
  // Neither unit a surrogate: each is its own code point.
  if ((x < 0xd800 || x > 0xdfff) && (y < 0xd800 || y > 0xdfff)) return x < y ? -1 : 1;
  return (a.codePointAt(i) as number) < (b.codePointAt(i) as number) ? -1 : 1;
}

/** The reference for compareCodePoints, unit by unit (kept for its property test). */
export function compareCodePointsSlow(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // At the first differing unit both strings share the prefix, so codePointAt starts a
    // code point in both (or sits on two low surrogates of the same high one).
    const cpA = a.codePointAt(i) as number;
    const cpB = b.codePointAt(i) as number;
    return cpA < cpB ? -1 : 1;
  }
  return Math.sign(a.length - b.length);
}

const PREFIX_LOOP = 32;

/** Index of the first UTF-16 unit where `a` and `b` differ (the shorter length if one is a
 * prefix of the other): a short JS loop, then blocks of doubling size compared natively, then
 * a bisection of the first differing block. */
export function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  const head = Math.min(n, PREFIX_LOOP);
  for (let i = 0; i < head; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return i;
  let lo = head;
  for (let size = PREFIX_LOOP; lo < n; size *= 2) {
    const hi = Math.min(n, lo + size);
    if (a.slice(lo, hi) !== b.slice(lo, hi)) {
      // The first difference is in [l, h).
      let l = lo;
      let h = hi;
      while (h - l > PREFIX_LOOP) {
        const m = (l + h) >>> 1;
        if (a.slice(l, m) === b.slice(l, m)) l = m;
        else h = m;
      }
      for (; l < h; l++) if (a.charCodeAt(l) !== b.charCodeAt(l)) return l;
      return h;
    }
    lo = hi;
  }
  return n;
}

export function compareUnsignedBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return Math.sign(a.length - b.length);
}

/** Minimal big-endian two's complement bytes, exactly as Java's BigInteger.toByteArray(). */
export function bigintToTwosComplementBytes(value: bigint): Uint8Array {
  // Smallest n with -2^(8n-1) <= value < 2^(8n-1).
  let length = 1;
  let limit = 128n;
  while (value >= limit || value < -limit) {
    length++;
    limit <<= 8n;
  }
  return bigintToFixedBytes(value, length);
}

/** Big-endian two's complement in exactly `length` bytes (sign-extended); throws if it
 * does not fit — a decimal stored in a fixed of the wrong size reads back as a different
 * number in every engine. */
export function bigintToFixedBytes(value: bigint, length: number): Uint8Array {
  const limit = 1n << BigInt(8 * length - 1);
  if (value >= limit || value < -limit) {
    throw new ValidationError(`value ${value} does not fit in ${length} bytes of two's complement`);
  }
  const out = new Uint8Array(length);
  let rest = BigInt.asUintN(8 * length, value);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

export function twosComplementBytesToBigint(bytes: Uint8Array): bigint {
  if (bytes.length === 0) throw new DecodingError('decimal value needs at least one byte');
  let unsigned = 0n;
  for (const byte of bytes) unsigned = (unsigned << 8n) | BigInt(byte);
  return BigInt.asIntN(8 * bytes.length, unsigned);
}

function expectLength(type: PrimitiveType, bytes: Uint8Array, length: number): void {
  if (bytes.length !== length) {
    throw new DecodingError(`${type.kind} single value must be ${length} bytes, got ${bytes.length}`);
  }
}

function describe(value: unknown): string {
  return value instanceof Uint8Array ? 'Uint8Array' : typeof value;
}

function expectBoolean(type: PrimitiveType, value: PrimitiveValue): boolean {
  if (typeof value !== 'boolean') throw new ValueTypeError(`${type.kind} value must be a boolean, got ${describe(value)}`);
  return value;
}

function expectNumber(type: PrimitiveType, value: PrimitiveValue): number {
  if (typeof value !== 'number') throw new ValueTypeError(`${type.kind} value must be a number, got ${describe(value)}`);
  return value;
}

function expectInt32(type: PrimitiveType, value: PrimitiveValue): number {
  const n = expectNumber(type, value);
  if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
    throw new ValidationError(`${type.kind} value must be a 32-bit integer, got ${n}`);
  }
  return n;
}

function expectBigint(type: PrimitiveType, value: PrimitiveValue): bigint {
  // Longs travel as bigint end to end: a number here means precision may already be lost.
  if (typeof value !== 'bigint') throw new ValueTypeError(`${type.kind} value must be a bigint, got ${describe(value)}`);
  return value;
}

function expectInt64(type: PrimitiveType, value: PrimitiveValue): bigint {
  const n = expectBigint(type, value);
  if (n !== BigInt.asIntN(64, n)) throw new ValidationError(`${type.kind} value ${n} does not fit in 64 bits`);
  return n;
}

function expectString(type: PrimitiveType, value: PrimitiveValue): string {
  if (typeof value !== 'string') throw new ValueTypeError(`${type.kind} value must be a string, got ${describe(value)}`);
  return value;
}

function expectBytes(type: PrimitiveType, value: PrimitiveValue): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new ValueTypeError(`${type.kind} value must be a Uint8Array, got ${describe(value)}`);
  return value;
}
