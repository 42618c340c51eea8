// Records → Arrow, fast path: one loop per schema, generated once with `new Function`, reads
// every top-level field of a record by a constant property name (so V8 keeps one inline cache
// per field), folds the record-shape and unknown-key checks into the same pass, and writes
// straight into typed arrays — longs and timestamps as two 32-bit words, without a BigInt per
// value. Hand-written because no library does schema-specialised record → Arrow conversion
// (apache-arrow's builders go value by value through generic visitors).
//
// It never decides a record is bad. Any doubt — a value off the fast shapes, a parser refusal,
// an unknown key, a missing required value — makes it throw, and recordsToArrow then runs the
// reference converter (record-converter.ts) on the whole batch, which gives the one error the
// writer has always given, or the result. So what it accepts must be exactly what the reference
// accepts with the same output; test/unit/writer/compiled-converter.test.ts compares the two on
// random records. Nested and rarer primitive columns (date, time, decimal, uuid, fixed, binary,
// struct, list, map) are gathered in the same pass and built by the reference's column code.
import { InternalError } from '../errors.ts';
import * as arrow from 'apache-arrow';
import { arrowType } from '../format/arrow-schema.ts';
import type { Schema } from '../spec/schema.ts';
import { compareValues } from '../spec/single-value.ts';
import { isPrimitive, type IcebergType, type NestedField, type PrimitiveType, type PrimitiveValue } from '../spec/types.ts';
import type { LeafMetrics } from './record-converter.ts';
import { primitiveParser, timestampMicrosFast } from './value-parsers.ts';
import { isInheritedName } from './value-shapes.ts';

/** What the fast path needs of the reference converter. */
export interface ColumnBuilder {
  bytes: number;
  leaf(id: number, type: PrimitiveType, inRepeated: boolean): LeafMetrics;
  column(id: number, type: IcebergType, required: boolean, values: readonly unknown[], owners: ArrayLike<number>,
    path: string, inRepeated: boolean): arrow.Data;
}

export type CompiledConversion = (records: readonly unknown[], conv: ColumnBuilder, owners: ArrayLike<number>) => arrow.Data[];

type Plan = 'bool' | 'int' | 'long' | 'ts' | 'tstz' | 'float' | 'double' | 'string' | 'raw';

function planOf(type: IcebergType): Plan {
  if (!isPrimitive(type)) return 'raw';
  switch (type.kind) {
    case 'boolean': return 'bool';
    case 'int': return 'int';
    case 'long': return 'long';
    case 'timestamp': return 'ts';
    case 'timestamptz': return 'tstz';
    case 'float': return 'float';
    case 'double': return 'double';
    case 'string': return 'string';
    default: return 'raw';
  }
}

/** Per-column buffers handed to the generated loop and the scalars it hands back. */
interface ColumnState {
  valid: Uint8Array;
  data: Uint8Array | Int32Array | BigInt64Array | Float32Array | Float64Array | (string | undefined)[] | unknown[];
  words?: Int32Array;
  offsets?: Int32Array;
  nullCount: number;
  lo: number; hi: number;
  blo: bigint | undefined; bhi: bigint | undefined;
  sawTrue: boolean; sawFalse: boolean;
  any: boolean; nans: number;
  chars: number;
}

/** Thrown by the generated loop: "let the reference converter decide". */
const FALLBACK = Object.freeze({ fallback: true });

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The generated loop's source for `fields`. Property names appear only JSON.stringify'd. */
function loopSource(fields: readonly NestedField[], plans: readonly Plan[]): string {
  const decl: string[] = [];
  const body: string[] = [];
  const back: string[] = [];
  const keys = fields.map((f) => `case ${JSON.stringify(f.name)}:`).join(' ');
  fields.forEach((f, j) => {
    const plan = plans[j]!;
    const key = JSON.stringify(f.name);
    const read = isInheritedName(f.name) ? `(hasOwn.call(r, ${key}) ? G(r, ${key}) : undefined)` : `G(r, ${key})`;
    if (plan === 'raw') {
      decl.push(`const d${j} = S[${j}].data;`);
      body.push(`d${j}[i] = ${read};`);
      return;
    }
    decl.push(`const vb${j} = S[${j}].valid, d${j} = S[${j}].data; let nc${j} = S[${j}].nullCount;`);
    back.push(`S[${j}].nullCount = nc${j};`);
    let store: string;
    const num = (x: string): string => `hw = Math.floor(${x} / 4294967296); w${j}[2 * i] = ${x} - hw * 4294967296; w${j}[2 * i + 1] = hw; if (${x} < lo${j}) lo${j} = ${x}; if (${x} > hi${j}) hi${j} = ${x};`;
    const big = `b = P[${j}](v); d${j}[i] = b; if (blo${j} === undefined || b < blo${j}) blo${j} = b; if (bhi${j} === undefined || b > bhi${j}) bhi${j} = b;`;
    switch (plan) {
      case 'bool':
        decl.push(`let t${j} = S[${j}].sawTrue, f${j} = S[${j}].sawFalse;`);
        back.push(`S[${j}].sawTrue = t${j}; S[${j}].sawFalse = f${j};`);
        store = `if (v === true) { d${j}[i >> 3] |= 1 << (i & 7); t${j} = true; } else if (v === false) f${j} = true; else throw FB;`;
        break;
      case 'int':
        decl.push(`let lo${j} = S[${j}].lo, hi${j} = S[${j}].hi;`);
        back.push(`S[${j}].lo = lo${j}; S[${j}].hi = hi${j};`);
        store = `x = (typeof v === 'number' && (v | 0) === v) ? v : P[${j}](v); d${j}[i] = x; if (x < lo${j}) lo${j} = x; if (x > hi${j}) hi${j} = x;`;
        break;
      case 'long':
        decl.push(`const w${j} = S[${j}].words; let lo${j} = S[${j}].lo, hi${j} = S[${j}].hi, blo${j} = S[${j}].blo, bhi${j} = S[${j}].bhi;`);
        back.push(`S[${j}].lo = lo${j}; S[${j}].hi = hi${j}; S[${j}].blo = blo${j}; S[${j}].bhi = bhi${j};`);
        store = `if (typeof v === 'number' && v <= 9007199254740991 && v >= -9007199254740991 && Math.floor(v) === v) { ${num('v')} } else { ${big} }`;
        break;
      case 'ts': case 'tstz':
        decl.push(`const w${j} = S[${j}].words; let lo${j} = S[${j}].lo, hi${j} = S[${j}].hi, blo${j} = S[${j}].blo, bhi${j} = S[${j}].bhi;`);
        back.push(`S[${j}].lo = lo${j}; S[${j}].hi = hi${j}; S[${j}].blo = blo${j}; S[${j}].bhi = bhi${j};`);
        store = `if (typeof v === 'string' && (x = TSF(v, ${plan === 'tstz'})) !== undefined) { ${num('x')} } else { ${big} }`;
        break;
      case 'float': case 'double':
        decl.push(`let lo${j} = S[${j}].lo, hi${j} = S[${j}].hi, any${j} = S[${j}].any, nan${j} = S[${j}].nans;`);
        back.push(`S[${j}].lo = lo${j}; S[${j}].hi = hi${j}; S[${j}].any = any${j}; S[${j}].nans = nan${j};`);
        // -0.0 sorts before +0.0 (Java's bound comparator); plain < treats them as equal.
        store = `${plan === 'double' ? `x = typeof v === 'number' ? v : P[${j}](v);` : `x = P[${j}](v);`} d${j}[i] = x; x = d${j}[i];
          if (x !== x) nan${j}++;
          else { any${j} = true;
            if (x < lo${j} || (x === 0 && lo${j} === 0 && Object.is(x, -0))) lo${j} = x;
            if (x > hi${j} || (x === 0 && hi${j} === 0 && Object.is(hi${j}, -0))) hi${j} = x; }`;
        break;
      case 'string':
        decl.push(`const o${j} = S[${j}].offsets; let p${j} = S[${j}].chars;`);
        back.push(`S[${j}].chars = p${j};`);
        store = `if (typeof v !== 'string') throw FB; d${j}[i] = v; p${j} += v.length;`;
        break;
    }
    const onNull = f.required ? 'throw FB;' : `nc${j}++;`;
    body.push(`v = ${read};
      if (v === null || v === undefined) { ${onNull} } else { vb${j}[i >> 3] |= 1 << (i & 7); ${store} }${plan === 'string' ? ` o${j}[i + 1] = p${j};` : ''}`);
  });
  return `'use strict';
    ${decl.join('\n    ')}
    let v, x, b, hw;
    for (let i = from; i < to; i++) {
      const r = records[i];
      if (typeof r !== 'object' || r === null || isArray(r) || r instanceof U8 || r instanceof MapC || r instanceof DateC) throw FB;
      for (const k in r) { switch (k) { ${keys} continue; } throw FB; }
      ${body.join('\n      ')}
    }
    ${back.join('\n    ')}`;
}

/** Converts records [from, to) into S, carrying each column's running state (counts, bounds,
 * character offset) in and out. */
type Loop = (records: readonly unknown[], from: number, to: number, S: ColumnState[]) => void;

/**
 * Records per call of the generated loop. One call over a whole append left V8 optimising the
 * loop on-stack (OSR) without feedback for the code after it, so each batch's optimised loop
 * deoptimised on leaving and the next batch began unoptimised again (`--trace-deopt`:
 * "Insufficient type feedback" at the loop's exit, every batch): a process's first 300k
 * records converted 4–8× slower than warm ones. Called in chunks, the whole function runs with
 * full feedback from its first call and is optimised as a function.
 */
const LOOP_CHUNK_RECORDS = 2048;

/**
 * Every property read of every generated loop: one shared function, so its load sees many names
 * and stays megamorphic (a stub-cache lookup per read, also for records whose hidden class V8
 * has since deprecated). A caller's records built by a loop that V8 optimised part-way (the
 * bench's generator: records 1–271,181 of 1M) carry a deprecated map; a load site of their own
 * in the generated loop migrated each such record on an inline-cache miss (~0.65 µs) and, as
 * its feedback kept changing, kept the loop unoptimised (`--trace-opt-verbose`: "resetting
 * ticks for convertRecords … due to IC change", ~1,700 times per 1M records): a process's first
 * append converted its first ~300k records 4–8× slower than later ones. Here the records stay
 * as they are and are read at ~8 ns per value; a warm loop converts ~15–20% slower than with inline
 * loads, which the encoder worker hides (it is the slower stage once warm). This replaces a
 * primer that read the first 1,024 records before the loop (the same churn, on fewer records).
 */
function readProperty(o: Record<string, unknown>, k: string): unknown { return o[k]; }

function compileLoop(fields: readonly NestedField[], plans: readonly Plan[]): Loop {
  const parsers = fields.map((f) => (isPrimitive(f.type) ? primitiveParser(f.type) : undefined));
  const make = new Function('P', 'TSF', 'FB', 'hasOwn', 'isArray', 'U8', 'MapC', 'DateC', 'G',
    `return function convertRecords(records, from, to, S) {\n${loopSource(fields, plans)}\n};`) as (...a: unknown[]) => Loop;
  return make(parsers, timestampMicrosFast, FALLBACK, Object.prototype.hasOwnProperty, Array.isArray, Uint8Array, Map, Date, readProperty);
}

function newState(plan: Plan, n: number): ColumnState {
  const s: ColumnState = {
    valid: plan === 'raw' ? new Uint8Array(0) : new Uint8Array((n + 7) >> 3), data: [], nullCount: 0, lo: Infinity, hi: -Infinity,
    blo: undefined, bhi: undefined, sawTrue: false, sawFalse: false, any: false, nans: 0, chars: 0,
  };
  switch (plan) {
    case 'bool': s.data = new Uint8Array((n + 7) >> 3); break;
    case 'int': s.data = new Int32Array(n); break;
    case 'long': case 'ts': case 'tstz': {
      const d = new BigInt64Array(n);
      s.data = d;
      s.words = new Int32Array(d.buffer);
      break;
    }
    case 'float': s.data = new Float32Array(n); break;
    case 'double': s.data = new Float64Array(n); break;
    case 'string': s.data = new Array<string | undefined>(n); s.offsets = new Int32Array(n + 1); break;
    case 'raw': s.data = new Array<unknown>(n); break;
  }
  return s;
}

function mergeBounds(m: LeafMetrics, lo: PrimitiveValue, hi: PrimitiveValue): void {
  if (m.min === undefined || compareValues(m.type, lo, m.min) < 0) m.min = lo;
  if (m.max === undefined || compareValues(m.type, hi, m.max) > 0) m.max = hi;
}

/** Builds one column from what the loop gathered, as the reference converter would. */
function finish(f: NestedField, plan: Plan, s: ColumnState, n: number, conv: ColumnBuilder, owners: ArrayLike<number>): arrow.Data {
  if (plan === 'raw') return conv.column(f.id, f.type, f.required, s.data as unknown[], owners, f.name, false);
  const type = f.type as PrimitiveType;
  const nullCount = s.nullCount;
  const nullBitmap = nullCount > 0 ? s.valid : undefined;
  conv.bytes += nullBitmap ? nullBitmap.byteLength : 0;
  const m = conv.leaf(f.id, type, false);
  m.valueCount += n;
  m.nullCount += nullCount;
  const at = arrowType(type);
  switch (plan) {
    case 'bool': {
      if (s.sawTrue || s.sawFalse) {
        const lo = !s.sawFalse; const hi = s.sawTrue;
        if (m.min === undefined || (m.min === true && !lo)) m.min = lo;
        if (m.max === undefined || (m.max === false && hi)) m.max = hi;
      }
      const bits = s.data as Uint8Array;
      conv.bytes += bits.byteLength;
      return arrow.makeData({ type: at as arrow.Bool, length: n, nullCount, nullBitmap, data: bits });
    }
    case 'int': {
      if (s.lo <= s.hi) mergeBounds(m, s.lo, s.hi);
      const out = s.data as Int32Array;
      conv.bytes += out.byteLength;
      return arrow.makeData({ type: at as arrow.Int32, length: n, nullCount, nullBitmap, data: out });
    }
    case 'long': case 'ts': case 'tstz': {
      let lo = s.blo; let hi = s.bhi;
      if (s.lo <= s.hi) {
        const nlo = BigInt(s.lo); const nhi = BigInt(s.hi);
        if (lo === undefined || nlo < lo) lo = nlo;
        if (hi === undefined || nhi > hi) hi = nhi;
      }
      if (lo !== undefined && hi !== undefined) mergeBounds(m, lo, hi);
      const out = s.data as BigInt64Array;
      conv.bytes += out.byteLength;
      return arrow.makeData({ type: at as arrow.Int64, length: n, nullCount, nullBitmap, data: out });
    }
    case 'float': case 'double': {
      m.nanCount += s.nans;
      if (s.any) mergeBounds(m, s.lo, s.hi);
      const out = s.data as Float32Array | Float64Array;
      conv.bytes += out.byteLength;
      return arrow.makeData({ type: at as arrow.Float, length: n, nullCount, nullBitmap, data: out });
    }
    case 'string': return finishStrings(type, s, n, m, nullCount, nullBitmap, at as arrow.Utf8, conv);
    default: throw new InternalError(`unreachable plan ${plan}`);
  }
}

type WellFormed = string & { isWellFormed(): boolean };

/** Columns with at most this many characters are joined into one string to be checked and
 * copied (a larger one would be a large transient heap string: value by value instead). */
const JOINED_STRINGS_MAX_CHARS = 8 * 1024 * 1024;
/** …and whose values average at most this many characters (beyond, the per-value calls cost
 * little next to the copy). */
const JOINED_STRINGS_MAX_AVERAGE = 64;

/** Unsigned byte order of values i and j of a column's bytes `b` cut by `offsets`. */
function compareBytesAt(b: Uint8Array, offsets: Int32Array, i: number, j: number): number {
  let p = offsets[i]!; let q = offsets[j]!;
  const pe = offsets[i + 1]!; const qe = offsets[j + 1]!;
  for (; p < pe && q < qe; p++, q++) {
    const d = b[p]! - b[q]!;
    if (d !== 0) return d;
  }
  return (pe - p) - (qe - q);
}

/**
 * Strings, ASCII first: the characters are copied into the value buffer as bytes and the
 * offsets counted in the loop are byte offsets; bounds come from those bytes (short values,
 * joined) or from native `<` (long values, copied one by one) — for ASCII, byte order, UTF-16
 * order and code point order agree. At the first non-ASCII character the column starts
 * over the general way: each string checked for lone surrogates, measured and encoded, and
 * bounds by Iceberg's comparison.
 */
function finishStrings(type: PrimitiveType, s: ColumnState, n: number, m: LeafMetrics, nullCount: number,
  nullBitmap: Uint8Array | undefined, at: arrow.Utf8, conv: ColumnBuilder): arrow.Data {
  const strs = s.data as (string | undefined)[];
  const offsets = s.offsets!;
  // ASCII first (offsets already count its bytes): a string is ASCII exactly when its UTF-8
  // length equals its UTF-16 length (any other code unit takes 2+ bytes, a lone surrogate 3),
  // and then latin1 writes its bytes. Both run natively: a per-character loop here cost 1.1 s of
  // a 9.5 s Kafka ingest profile with 880-character payloads.
  const ascii = Buffer.allocUnsafe(s.chars);
  let data: Uint8Array | undefined = new Uint8Array(ascii.buffer, ascii.byteOffset, ascii.byteLength);
  let lo: string | undefined; let hi: string | undefined;
  if (s.chars <= JOINED_STRINGS_MAX_CHARS && s.chars <= JOINED_STRINGS_MAX_AVERAGE * (n - nullCount)) {
    // Short strings (up to a few MiB in all) are joined (nulls join as '') and checked and
    // copied in one native call each: two calls per value cost ~100 ns, most of the time of a
    // short string. Long ones are copied value by value (no large transient string).
    const joined = strs.join('');
    if (joined.length === s.chars && Buffer.byteLength(joined, 'utf8') === joined.length) {
      ascii.write(joined, 0, 'latin1');
      // Bounds from the copied bytes, not the strings: a caller's strings built by
      // concatenation (`/products/${id}`) are cons strings that `<` flattens one by one
      // (allocating each anew): 2.4–12 ms per 65k values against ~1 ms for flat ones.
      let loAt = -1; let hiAt = -1;
      for (let i = 0; i < n; i++) {
        if (strs[i] === undefined) continue;
        if (loAt < 0) { loAt = i; hiAt = i; } else if (compareBytesAt(ascii, offsets, i, loAt) < 0) loAt = i;
        else if (compareBytesAt(ascii, offsets, i, hiAt) > 0) hiAt = i;
      }
      if (loAt >= 0) { lo = strs[loAt]; hi = strs[hiAt]; }
    } else data = undefined;
  } else {
    let p = 0;
    for (let i = 0; i < n; i++) {
      const x = strs[i];
      if (x === undefined) continue;
      if (Buffer.byteLength(x, 'utf8') !== x.length) { data = undefined; break; }
      p += ascii.write(x, p, 'latin1');
      if (x === lo || x === hi) continue;
      if (lo === undefined || x < lo) lo = x;
      if (hi === undefined || x > hi) hi = x;
    }
  }
  if (data === undefined) {
    lo = undefined; hi = undefined;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const x = strs[i];
      if (x !== undefined) {
        if (!(x as WellFormed).isWellFormed()) throw FALLBACK; // the reference names the record
        total += Buffer.byteLength(x, 'utf8');
        if (lo === undefined || compareValues(type, x, lo) < 0) lo = x;
        if (hi === undefined || compareValues(type, x, hi) > 0) hi = x;
      }
      offsets[i + 1] = total;
    }
    const buf = Buffer.allocUnsafe(total);
    let pos = 0;
    for (let i = 0; i < n; i++) { const x = strs[i]; if (x !== undefined) pos += buf.write(x, pos, 'utf8'); }
    data = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  if (lo !== undefined && hi !== undefined) mergeBounds(m, lo, hi);
  conv.bytes += offsets.byteLength + data.byteLength;
  return arrow.makeData({ type: at, length: n, nullCount, nullBitmap, valueOffsets: offsets, data });
}

/** Registers every leaf's metrics in the reference converter's order (depth-first). */
function registerLeaves(conv: ColumnBuilder, type: IcebergType, id: number, inRepeated: boolean): void {
  if (isPrimitive(type)) { conv.leaf(id, type, inRepeated); return; }
  switch (type.kind) {
    case 'struct': for (const f of type.fields) registerLeaves(conv, f.type, f.id, inRepeated); break;
    case 'list': registerLeaves(conv, type.element, type.elementId, true); break;
    case 'map': registerLeaves(conv, type.key, type.keyId, true); registerLeaves(conv, type.value, type.valueId, true); break;
  }
}

const bySchema = new WeakMap<Schema, CompiledConversion | null>();
/** Every table load makes new Schema objects: loops are shared by schemas of equal fields, so a
 * stream of small commits compiles (and warms up) one loop, not one per commit. */
const bySignature = new Map<string, CompiledConversion>();
const MAX_SIGNATURES = 64;

/** The fast conversion of `schema`'s records, or undefined where it does not apply. */
export function compiledConversion(schema: Schema): CompiledConversion | undefined {
  let c = bySchema.get(schema);
  if (c === undefined) {
    if (!LITTLE_ENDIAN || schema.fields.length === 0) c = null;
    else {
      const signature = JSON.stringify(schema.fields, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
      c = bySignature.get(signature) ?? null;
      if (c === null) {
        try {
          c = build(schema);
        } catch {
          c = null; // code generation disallowed (--disallow-code-generation-from-strings): the reference converts
        }
        if (c !== null) {
          if (bySignature.size >= MAX_SIGNATURES) bySignature.clear();
          bySignature.set(signature, c);
        }
      }
    }
    bySchema.set(schema, c);
  }
  return c ?? undefined;
}

function build(schema: Schema): CompiledConversion {
  const fields = schema.fields;
  const plans = fields.map((f) => planOf(f.type));
  const loop = compileLoop(fields, plans);
  return (records, conv, owners) => {
    const n = records.length;
    const states = plans.map((p) => newState(p, n));
    for (let from = 0; from < n; from += LOOP_CHUNK_RECORDS) loop(records, from, Math.min(n, from + LOOP_CHUNK_RECORDS), states);
    for (const f of fields) registerLeaves(conv, f.type, f.id, false);
    return fields.map((f, j) => finish(f, plans[j]!, states[j]!, n, conv, owners));
  };
}
