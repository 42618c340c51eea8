// Deterministic test data: rows of in-memory Iceberg values for a schema, and the input form
// floe's record API takes (ISO strings, decimal strings, base64, longs as numbers/strings/
// bigint). Edge values (2^53+1, pre-1970 instants, NaN, -0.0, non-BMP text) are always in.
import type { Schema } from '../../src/spec/schema.ts';
import { isPrimitive, type IcebergType, type PrimitiveType } from '../../src/spec/types.ts';
import { formatDate, formatDecimal, formatTime, formatTimestamp, formatUuid } from './canonical.ts';

import { seededRandom as rng } from '../../src/cli/demo.ts';

export { rng };

/** The 8-column event table of the benchmarks. */
export const EVENTS_SCHEMA_JSON = {
  type: 'struct',
  fields: [
    { name: 'event_id', required: true, type: 'long' },
    { name: 'user_id', required: true, type: 'long' },
    { name: 'ts', required: true, type: 'timestamptz' },
    { name: 'event_type', required: true, type: 'string' },
    { name: 'page', required: false, type: 'string' },
    { name: 'value', required: false, type: 'double' },
    { name: 'count', required: false, type: 'int' },
    { name: 'flag', required: false, type: 'boolean' },
  ],
};
export const EVENT_TYPES = ['click', 'view', 'purchase', 'signup', 'scroll'];

export const ALL_TYPES_SCHEMA_JSON = {
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'b', required: false, type: 'boolean' },
    { name: 'i', required: false, type: 'int' },
    { name: 'l', required: false, type: 'long' },
    { name: 'f', required: false, type: 'float' },
    { name: 'd', required: false, type: 'double' },
    { name: 'dec', required: false, type: 'decimal(10,2)' },
    { name: 'dec38', required: false, type: 'decimal(38,6)' },
    { name: 'dt', required: false, type: 'date' },
    { name: 'tm', required: false, type: 'time' },
    { name: 'ts', required: false, type: 'timestamp' },
    { name: 'tstz', required: false, type: 'timestamptz' },
    { name: 's', required: false, type: 'string' },
    { name: 'u', required: false, type: 'uuid' },
    { name: 'fx', required: false, type: 'fixed[4]' },
    { name: 'bin', required: false, type: 'binary' },
    { name: 'st', required: false, type: { type: 'struct', fields: [
      { name: 'x', required: true, type: 'int' },
      { name: 'y', required: false, type: 'string' },
    ] } },
    { name: 'lst', required: false, type: { type: 'list', 'element-required': false, element: 'long' } },
    { name: 'mp', required: false, type: { type: 'map', key: 'string', 'value-required': false, value: 'double' } },
  ],
};

const STRINGS = ['', 'a', 'hello world', 'Grüße', '日本語テキスト', 'emoji 😀 here', 'x'.repeat(40), 'zzz'];
const MICROS_PER_DAY = 86_400_000_000n;

export interface GeneratedRow { values: Record<string, unknown>; input: Record<string, unknown> }

/** One value of `t` in memory, plus the input form floe is given for it. */
function primitivePair(t: PrimitiveType, r: () => number, i: number): [unknown, unknown] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  switch (t.kind) {
    case 'boolean': { const v = r() < 0.5; return [v, v]; }
    case 'int': { const v = pick([0, 1, -1, 2147483647, -2147483648, Math.floor(r() * 2e6) - 1e6]); return [v, v]; }
    case 'long': {
      const v = pick([0n, 9007199254740993n, -9223372036854775808n, 9223372036854775807n, BigInt(Math.floor(r() * 1e12)) - 500_000_000_000n]);
      // Longs arrive as numbers when safe, else as strings or bigint.
      return [v, Number.isSafeInteger(Number(v)) && BigInt(Number(v)) === v ? Number(v) : i % 2 === 0 ? v.toString() : v];
    }
    case 'float': { const v = pick([0, -0, 1.5, -2.25, 3.4028234663852886e38, Number.NaN, r() * 1000]); return [Math.fround(v), Number.isNaN(v) ? 'NaN' : v]; }
    case 'double': { const v = pick([0, -0, 1e-300, -1.7976931348623157e308, Number.NaN, Infinity, r() * 1e6]); return [v, Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v]; }
    case 'decimal': {
      const digits = BigInt(10) ** BigInt(t.precision) - 1n;
      const v = pick([0n, digits, -digits, BigInt(Math.floor(r() * 1e8)) - 50_000_000n, -1n]);
      return [v, formatDecimal(v, t.scale)];
    }
    case 'date': { const v = pick([0, -1, -25567, 19000, 2932896, Math.floor(r() * 40000) - 20000]); return [v, formatDate(v)]; }
    case 'time': { const v = pick([0n, 86_399_999_999n, BigInt(Math.floor(r() * 86_400_000_000))]); return [v, formatTime(v)]; }
    case 'timestamp': {
      const v = pick([0n, -1n, -2208988800000000n, 4102444800000000n, BigInt(Math.floor(r() * 3e15)) - 1_000_000_000_000_000n]);
      return [v, formatTimestamp(v)];
    }
    case 'timestamptz': {
      const v = pick([0n, -1n, -2208988800000000n, 4102444800000000n, BigInt(Math.floor(r() * 3e15)) - 1_000_000_000_000_000n]);
      // Input carries a UTC offset; the stored value is the instant.
      const offsetMin = pick([0, 330, -480, 60]);
      const local = v + BigInt(offsetMin) * 60_000_000n;
      const sign = offsetMin < 0 ? '-' : '+';
      const abs = Math.abs(offsetMin);
      const zone = offsetMin === 0 ? 'Z' : `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
      return [v, `${formatTimestamp(local)}${zone}`];
    }
    case 'string': { const v = pick(STRINGS) + (r() < 0.5 ? String(i) : ''); return [v, v]; }
    case 'uuid': {
      const b = new Uint8Array(16).map(() => Math.floor(r() * 256));
      return [b, formatUuid(b)];
    }
    case 'fixed': { const b = new Uint8Array(t.length).map(() => Math.floor(r() * 256)); return [b, Buffer.from(b).toString('base64')]; }
    case 'binary': {
      const b = new Uint8Array(Math.floor(r() * 8)).map(() => Math.floor(r() * 256));
      return [b, i % 2 === 0 ? Buffer.from(b).toString('base64') : b];
    }
  }
}

function pair(t: IcebergType, required: boolean, r: () => number, i: number): [unknown, unknown] {
  if (!required && r() < 0.1) return [null, null];
  if (isPrimitive(t)) return primitivePair(t, r, i);
  if (t.kind === 'struct') {
    const v: Record<string, unknown> = {};
    const input: Record<string, unknown> = {};
    for (const f of t.fields) [v[f.name], input[f.name]] = pair(f.type, f.required, r, i);
    return [v, input];
  }
  if (t.kind === 'list') {
    const n = Math.floor(r() * 4);
    const items = Array.from({ length: n }, () => pair(t.element, t.elementRequired, r, i));
    return [items.map((x) => x[0]), items.map((x) => x[1])];
  }
  const n = Math.floor(r() * 3);
  const pairs: [unknown, unknown][] = [];
  const input: Record<string, unknown> = {};
  for (let k = 0; k < n; k++) {
    const key = `k${k}_${Math.floor(r() * 100)}`;
    if (key in input) continue;
    const [v, vi] = pair(t.value, t.valueRequired, r, i);
    pairs.push([key, v]);
    input[key] = vi;
  }
  return [pairs, input];
}

/** Rows for `schema`; the first field must be a required long `id`, set to `firstId + i`. */
export function generateRows(schema: Schema, count: number, seed: number, firstId = 0): GeneratedRow[] {
  const r = rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const values: Record<string, unknown> = {};
    const input: Record<string, unknown> = {};
    for (const f of schema.fields) {
      if (f.name === 'id') { values.id = BigInt(firstId + i); input.id = firstId + i; continue; }
      [values[f.name], input[f.name]] = pair(f.type, f.required, r, i);
    }
    return { values, input };
  });
}

export { MICROS_PER_DAY };

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** `bytes` pseudo-random base64 characters, the same for the same seed: text that compresses to
 * only ~3/4 of its size, so a few thousand rows of it make a data file of several MB (S3 parts). */
export function noiseText(seed: number, bytes: number): string {
  let x = ((seed + 1) * 2654435761 >>> 0) || 1;
  const chars: string[] = [];
  while (chars.length < bytes) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    for (let k = 0; k < 5; k++) chars.push(B64[(x >>> (6 * k)) & 63]!);
  }
  return chars.slice(0, bytes).join('');
}
