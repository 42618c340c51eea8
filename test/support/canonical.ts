// The canonical row form shared with test/interop/readers/canonical.py, built here from the
// in-memory values a test generated — independently of floe's own input parsers, so a parser
// bug cannot make floe and the expectation agree.
import type { Schema } from '../../src/spec/schema.ts';
import { isPrimitive, type IcebergType, type PrimitiveType } from '../../src/spec/types.ts';

const pad = (n: number | bigint, w: number): string => String(n).padStart(w, '0');

function civilFromDays(z0: number): [number, number, number] {
  const z = z0 + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

export function formatDate(days: number): string {
  const [y, m, d] = civilFromDays(days);
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

export function formatTime(micros: bigint): string {
  const s = micros / 1_000_000n;
  const f = micros % 1_000_000n;
  return `${pad(s / 3600n, 2)}:${pad((s / 60n) % 60n, 2)}:${pad(s % 60n, 2)}.${pad(f, 6)}`;
}

export function formatTimestamp(micros: bigint): string {
  const day = micros >= 0n ? micros / 86_400_000_000n : -((-micros + 86_400_000_000n - 1n) / 86_400_000_000n);
  const rest = micros - day * 86_400_000_000n;
  return `${formatDate(Number(day))}T${formatTime(rest)}`;
}

export function formatDecimal(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const body = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return neg ? `-${body}` : body;
}

export function formatUuid(b: Uint8Array): string {
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function canonicalFloat(v: number): unknown {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export function canonicalPrimitive(t: PrimitiveType, v: unknown): unknown {
  switch (t.kind) {
    case 'boolean': case 'string': return v;
    case 'int': case 'long': return String(v);
    case 'float': return canonicalFloat(Math.fround(v as number));
    case 'double': return canonicalFloat(v as number);
    case 'decimal': return formatDecimal(v as bigint, t.scale);
    case 'date': return formatDate(v as number);
    case 'time': return formatTime(v as bigint);
    case 'timestamp': return formatTimestamp(v as bigint);
    case 'timestamptz': return `${formatTimestamp(v as bigint)}+00:00`;
    case 'uuid': return formatUuid(v as Uint8Array);
    case 'fixed': case 'binary': return Buffer.from(v as Uint8Array).toString('base64');
  }
}

/** Canonical form of an in-memory value (maps given as arrays of [key, value]). */
export function canonicalValue(t: IcebergType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (isPrimitive(t)) return canonicalPrimitive(t, v);
  if (t.kind === 'struct') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(t.fields.map((f) => [f.name, canonicalValue(f.type, o[f.name])]));
  }
  if (t.kind === 'list') return (v as unknown[]).map((e) => canonicalValue(t.element, e));
  return sortPairs((v as [unknown, unknown][]).map(([k, val]) => [canonicalValue(t.key, k), canonicalValue(t.value, val)]));
}

function sortPairs(pairs: unknown[][]): unknown[][] {
  return [...pairs].sort((a, b) => (JSON.stringify(a[0]) < JSON.stringify(b[0]) ? -1 : JSON.stringify(a[0]) > JSON.stringify(b[0]) ? 1 : 0));
}

/** Re-sorts map pairs of a reader's canonical value with this file's ordering. */
function normalize(t: IcebergType, v: unknown): unknown {
  if (v === null || v === undefined || isPrimitive(t)) return v ?? null;
  if (t.kind === 'struct') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(t.fields.map((f) => [f.name, normalize(f.type, o[f.name])]));
  }
  if (t.kind === 'list') return (v as unknown[]).map((e) => normalize(t.element, e));
  return sortPairs((v as unknown[][]).map(([k, val]) => [normalize(t.key, k), normalize(t.value, val)]));
}

function stableKey(row: Record<string, unknown>): string {
  return JSON.stringify(row, (_k, val: unknown) => (val && typeof val === 'object' && !Array.isArray(val)
    ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : val));
}

/** Rows in one order, map pairs in one order: ready for deepStrictEqual. */
export function normalizeRows(schema: Schema, rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return rows
    .map((r) => Object.fromEntries(schema.fields.map((f) => [f.name, normalize(f.type, r[f.name])])))
    .sort((a, b) => (stableKey(a) < stableKey(b) ? -1 : stableKey(a) > stableKey(b) ? 1 : 0));
}

export function canonicalRows(schema: Schema, rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return normalizeRows(schema, rows.map((r) => Object.fromEntries(schema.fields.map((f) => [f.name, canonicalValue(f.type, r[f.name])]))));
}
