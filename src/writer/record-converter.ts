// Plain JS records → Arrow columns, strictly. One typed-array pass per column (no per-value
// builder calls); every value is checked against the Iceberg type, and a record that does not
// fit fails with its index, field path, value and the expected type — never a silent null or
// a rounded long. Per-leaf metrics (counts, NaN, min/max) are gathered in the same pass.
import * as arrow from 'apache-arrow';
import { RecordValidationError } from '../errors.ts';
import { arrowSchema, arrowType } from '../format/arrow-schema.ts';
import type { Schema } from '../spec/schema.ts';
import { compareValues } from '../spec/single-value.ts';
import { isPrimitive, type IcebergType, type PrimitiveType, type PrimitiveValue } from '../spec/types.ts';
import {
  parseBinary, parseBoolean, parseDate, parseDecimal, parseFixed, parseFloat32, parseFloating,
  parseInt32, parseInt64, parseString, parseTime, parseTimestamp, parseUuid, ValueError,
} from './value-parsers.ts';

export interface LeafMetrics {
  readonly type: PrimitiveType;
  /** Bounds are kept only for leaves outside lists and maps (what Java records). */
  readonly collectBounds: boolean;
  valueCount: number;
  nullCount: number;
  nanCount: number;
  /** Set when NaNs were not counted (metrics taken from a Parquet footer): no NaN count is written. */
  nanCountUnknown?: boolean;
  min: PrimitiveValue | undefined;
  max: PrimitiveValue | undefined;
}

export interface ConvertedBatch {
  readonly table: arrow.Table;
  readonly numRows: number;
  readonly metrics: ReadonlyMap<number, LeafMetrics>;
  /** Bytes of the Arrow buffers: the base for file-size estimates. */
  readonly arrowBytes: number;
}

type Owners = ArrayLike<number>;

class Converter {
  readonly metrics = new Map<number, LeafMetrics>();
  bytes = 0;
  constructor(private readonly schema: Schema) {}

  fail(owners: Owners, i: number, path: string, err: unknown): never {
    if (err instanceof RecordValidationError) throw err;
    const detail = err instanceof ValueError ? err.message : String(err instanceof Error ? err.message : err);
    throw new RecordValidationError(owners[i] ?? i, path, detail);
  }

  leaf(id: number, type: PrimitiveType, inRepeated: boolean): LeafMetrics {
    let m = this.metrics.get(id);
    if (!m) {
      m = { type, collectBounds: !inRepeated, valueCount: 0, nullCount: 0, nanCount: 0, min: undefined, max: undefined };
      this.metrics.set(id, m);
    }
    return m;
  }

  /**
   * Builds one column. `values[i]` belongs to record `owners[i]`; `parentValid` (when given)
   * marks slots whose parent struct is null, where a null child is no error.
   */
  column(id: number, type: IcebergType, required: boolean, values: readonly unknown[], owners: Owners,
    path: string, inRepeated: boolean, parentValid?: Uint8Array): arrow.Data {
    const n = values.length;
    const validity = new Uint8Array((n + 7) >> 3);
    let nullCount = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) {
        const parentIsNull = parentValid !== undefined && (parentValid[i >> 3]! & (1 << (i & 7))) === 0;
        if (required && !parentIsNull) this.fail(owners, i, path, new ValueError('required value is missing (null)'));
        nullCount++;
      } else {
        validity[i >> 3]! |= 1 << (i & 7);
      }
    }
    const nullBitmap = nullCount > 0 ? validity : undefined;
    this.bytes += nullBitmap ? nullBitmap.byteLength : 0;
    if (isPrimitive(type)) return this.primitive(id, type, values, owners, path, inRepeated, nullCount, nullBitmap);
    const at = arrowType(type);
    switch (type.kind) {
      case 'struct': {
        const children = type.fields.map((f) => {
          const childValues = new Array<unknown>(n);
          for (let i = 0; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            if (typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) this.fail(owners, i, path, new ValueError(`expected struct (object), got ${Array.isArray(v) ? 'array' : typeof v}`));
            childValues[i] = (v as Record<string, unknown>)[f.name];
          }
          return this.column(f.id, f.type, f.required, childValues, owners, `${path}.${f.name}`, inRepeated, validity);
        });
        this.checkUnknownStructKeys(type.fields.map((f) => f.name), values, owners, path);
        return arrow.makeData({ type: at as arrow.Struct, length: n, nullCount, nullBitmap, children });
      }
      case 'list': {
        const offsets = new Int32Array(n + 1);
        const elements: unknown[] = [];
        const elementOwners: number[] = [];
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (v !== null && v !== undefined) {
            if (!Array.isArray(v)) this.fail(owners, i, path, new ValueError(`expected list (array), got ${typeof v}`));
            for (const e of v) { elements.push(e); elementOwners.push(owners[i] ?? i); }
          }
          offsets[i + 1] = elements.length;
        }
        this.bytes += offsets.byteLength;
        const child = this.column(type.elementId, type.element, type.elementRequired, elements, elementOwners, `${path}.element`, true);
        return arrow.makeData({ type: at as arrow.List, length: n, nullCount, nullBitmap, valueOffsets: offsets, child });
      }
      case 'map': {
        const offsets = new Int32Array(n + 1);
        const keys: unknown[] = [];
        const vals: unknown[] = [];
        const entryOwners: number[] = [];
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (v !== null && v !== undefined) {
            let entries: Iterable<readonly [unknown, unknown]>;
            if (v instanceof Map) entries = v.entries();
            else if (Array.isArray(v)) {
              for (const e of v) if (!Array.isArray(e) || e.length !== 2) this.fail(owners, i, path, new ValueError('expected map as an object, a Map or an array of [key, value] pairs'));
              entries = v as [unknown, unknown][];
            } else if (typeof v === 'object' && !(v instanceof Uint8Array)) entries = Object.entries(v as object);
            else this.fail(owners, i, path, new ValueError(`expected map (object), got ${typeof v}`));
            const seen = new Set<unknown>();
            for (const [k, val] of entries) {
              const keyId = typeof k === 'object' ? JSON.stringify(k) : k;
              if (seen.has(keyId)) this.fail(owners, i, path, new ValueError(`map has duplicate key ${String(keyId)}`));
              seen.add(keyId);
              keys.push(k); vals.push(val); entryOwners.push(owners[i] ?? i);
            }
          }
          offsets[i + 1] = keys.length;
        }
        this.bytes += offsets.byteLength;
        const keyData = this.column(type.keyId, type.key, true, keys, entryOwners, `${path}.key`, true);
        const valueData = this.column(type.valueId, type.value, type.valueRequired, vals, entryOwners, `${path}.value`, true);
        const mapType = at as arrow.Map_;
        const entriesData = arrow.makeData({ type: mapType.children[0]!.type as arrow.Struct, length: keys.length, nullCount: 0, children: [keyData, valueData] });
        return arrow.makeData({ type: mapType, length: n, nullCount, nullBitmap, valueOffsets: offsets, child: entriesData });
      }
    }
  }

  private checkUnknownStructKeys(names: string[], values: readonly unknown[], owners: Owners, path: string): void {
    const known = new Set(names);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) continue;
      for (const k in v as object) {
        if (!known.has(k)) this.fail(owners, i, `${path}.${k}`, new ValueError(`unknown field (struct '${path}' has ${names.join(', ')})`));
      }
    }
  }

  private primitive(id: number, type: PrimitiveType, values: readonly unknown[], owners: Owners, path: string,
    inRepeated: boolean, nullCount: number, nullBitmap: Uint8Array | undefined): arrow.Data {
    const n = values.length;
    const m = this.leaf(id, type, inRepeated);
    m.valueCount += n;
    m.nullCount += nullCount;
    const at = arrowType(type);
    const bounds = m.collectBounds;
    let i = 0;
    try {
      switch (type.kind) {
        case 'boolean': {
          const bits = new Uint8Array((n + 7) >> 3);
          let sawTrue = false; let sawFalse = false;
          for (; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            if (parseBoolean(v)) { bits[i >> 3]! |= 1 << (i & 7); sawTrue = true; } else sawFalse = true;
          }
          if (bounds && (sawTrue || sawFalse)) {
            const lo = !sawFalse; const hi = sawTrue;
            if (m.min === undefined || (m.min === true && !lo)) m.min = lo;
            if (m.max === undefined || (m.max === false && hi)) m.max = hi;
          }
          this.bytes += bits.byteLength;
          return arrow.makeData({ type: at as arrow.Bool, length: n, nullCount, nullBitmap, data: bits });
        }
        case 'int': case 'date': {
          const out = new Int32Array(n);
          let lo = Infinity; let hi = -Infinity;
          const parse = type.kind === 'int' ? parseInt32 : parseDate;
          for (; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            const x = typeof v === 'number' && type.kind === 'int' && (v | 0) === v ? v : parse(v);
            out[i] = x;
            if (x < lo) lo = x;
            if (x > hi) hi = x;
          }
          if (bounds && lo <= hi) this.mergeBounds(m, lo, hi);
          this.bytes += out.byteLength;
          return arrow.makeData({ type: at as arrow.Int32, length: n, nullCount, nullBitmap, data: out });
        }
        case 'long': case 'time': case 'timestamp': case 'timestamptz': {
          const out = new BigInt64Array(n);
          let lo: bigint | undefined; let hi: bigint | undefined;
          const k = type.kind;
          for (; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            const x = k === 'long' ? (typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : parseInt64(v))
              : k === 'time' ? parseTime(v) : parseTimestamp(v, k === 'timestamptz');
            out[i] = x;
            if (lo === undefined || x < lo) lo = x;
            if (hi === undefined || x > hi) hi = x;
          }
          if (bounds && lo !== undefined && hi !== undefined) this.mergeBounds(m, lo, hi);
          this.bytes += out.byteLength;
          return arrow.makeData({ type: at as arrow.Int64, length: n, nullCount, nullBitmap, data: out });
        }
        case 'float': case 'double': {
          const out = type.kind === 'float' ? new Float32Array(n) : new Float64Array(n);
          let lo = Infinity; let hi = -Infinity; let any = false; let nans = 0;
          const parse = type.kind === 'float' ? parseFloat32 : parseFloating;
          for (; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            const x0 = typeof v === 'number' ? v : parse(v);
            if (type.kind === 'float' && typeof v === 'number' && Number.isFinite(v) && Math.abs(v) > 3.4028234663852886e38) parse(v);
            out[i] = x0;
            const x = out[i]!; // rounded to float32 where the column is float
            if (Number.isNaN(x)) { nans++; continue; }
            any = true;
            // -0.0 sorts before +0.0 (Java's bound comparator); plain < treats them as equal.
            if (x < lo || (x === 0 && lo === 0 && Object.is(x, -0))) lo = x;
            if (x > hi || (x === 0 && hi === 0 && Object.is(hi, -0))) hi = x;
          }
          m.nanCount += nans;
          if (bounds && any) this.mergeBounds(m, lo, hi);
          this.bytes += out.byteLength;
          return arrow.makeData({ type: at as arrow.Float, length: n, nullCount, nullBitmap, data: out });
        }
        case 'decimal': {
          const words = new BigUint64Array(n * 2);
          let lo: bigint | undefined; let hi: bigint | undefined;
          for (; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            const x = parseDecimal(v, type.precision, type.scale);
            words[2 * i] = BigInt.asUintN(64, x);
            words[2 * i + 1] = BigInt.asUintN(64, x >> 64n);
            if (lo === undefined || x < lo) lo = x;
            if (hi === undefined || x > hi) hi = x;
          }
          if (bounds && lo !== undefined && hi !== undefined) this.mergeBounds(m, lo, hi);
          this.bytes += words.byteLength;
          return arrow.makeData({ type: at as arrow.Decimal, length: n, nullCount, nullBitmap, data: new Uint32Array(words.buffer) });
        }
        case 'string': {
          const strs = new Array<string>(n);
          let total = 0;
          let lo: string | undefined; let hi: string | undefined;
          for (; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            const s = typeof v === 'string' ? v : parseString(v);
            strs[i] = s;
            total += Buffer.byteLength(s, 'utf8');
            if (bounds) {
              if (lo === undefined || compareValues(type, s, lo) < 0) lo = s;
              if (hi === undefined || compareValues(type, s, hi) > 0) hi = s;
            }
          }
          const offsets = new Int32Array(n + 1);
          const data = Buffer.allocUnsafe(total);
          let pos = 0;
          for (let j = 0; j < n; j++) {
            const s = strs[j];
            if (s !== undefined) pos += data.write(s, pos, 'utf8');
            offsets[j + 1] = pos;
          }
          if (lo !== undefined && hi !== undefined) this.mergeBounds(m, lo, hi);
          this.bytes += offsets.byteLength + data.byteLength;
          return arrow.makeData({ type: at as arrow.Utf8, length: n, nullCount, nullBitmap, valueOffsets: offsets, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
        }
        case 'uuid': case 'fixed': {
          const width = type.kind === 'fixed' ? type.length : 16;
          const data = new Uint8Array(n * width);
          let lo: Uint8Array | undefined; let hi: Uint8Array | undefined;
          for (; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            const b = type.kind === 'uuid' ? parseUuid(v) : parseFixed(v, width);
            data.set(b, i * width);
            if (bounds) {
              if (lo === undefined || compareValues(type, b, lo) < 0) lo = b;
              if (hi === undefined || compareValues(type, b, hi) > 0) hi = b;
            }
          }
          if (lo !== undefined && hi !== undefined) this.mergeBounds(m, lo, hi);
          this.bytes += data.byteLength;
          return arrow.makeData({ type: at as arrow.FixedSizeBinary, length: n, nullCount, nullBitmap, data });
        }
        case 'binary': {
          const parts = new Array<Uint8Array>(n);
          let total = 0;
          let lo: Uint8Array | undefined; let hi: Uint8Array | undefined;
          for (; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            const b = parseBinary(v);
            parts[i] = b;
            total += b.length;
            if (bounds) {
              if (lo === undefined || compareValues(type, b, lo) < 0) lo = b;
              if (hi === undefined || compareValues(type, b, hi) > 0) hi = b;
            }
          }
          const offsets = new Int32Array(n + 1);
          const data = new Uint8Array(total);
          let pos = 0;
          for (let j = 0; j < n; j++) {
            const b = parts[j];
            if (b !== undefined) { data.set(b, pos); pos += b.length; }
            offsets[j + 1] = pos;
          }
          if (lo !== undefined && hi !== undefined) this.mergeBounds(m, lo, hi);
          this.bytes += offsets.byteLength + data.byteLength;
          return arrow.makeData({ type: at as arrow.Binary, length: n, nullCount, nullBitmap, valueOffsets: offsets, data });
        }
      }
    } catch (err) {
      this.fail(owners, i, path, err);
    }
  }

  private mergeBounds(m: LeafMetrics, lo: PrimitiveValue, hi: PrimitiveValue): void {
    if (m.min === undefined || compareValues(m.type, lo, m.min) < 0) m.min = lo;
    if (m.max === undefined || compareValues(m.type, hi, m.max) > 0) m.max = hi;
  }

  checkRecords(records: readonly unknown[], owners: Owners): void {
    const known = new Set(this.schema.fields.map((f) => f.name));
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (r === null || typeof r !== 'object' || Array.isArray(r)) {
        throw new RecordValidationError(owners[i] ?? i, '(record)', `expected an object, got ${Array.isArray(r) ? 'array' : r === null ? 'null' : typeof r}`);
      }
      for (const k in r) {
        if (!known.has(k)) throw new RecordValidationError(owners[i] ?? i, k, `unknown column (the table has ${[...known].join(', ')})`);
      }
    }
  }
}

function identityOwners(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/**
 * Converts records to an Arrow table of the schema. `owners[i]` is the index reported in
 * errors for `records[i]` (its index in the caller's batch); defaults to i.
 */
export function recordsToArrow(schema: Schema, records: readonly unknown[], owners?: Owners): ConvertedBatch {
  const conv = new Converter(schema);
  const ownerOf: Owners = owners ?? identityOwners(records.length);
  conv.checkRecords(records, ownerOf);
  const n = records.length;
  const children = schema.fields.map((f) => {
    const values = new Array<unknown>(n);
    for (let i = 0; i < n; i++) values[i] = (records[i] as Record<string, unknown>)[f.name];
    return conv.column(f.id, f.type, f.required, values, ownerOf, f.name, false);
  });
  const arrowSchemaOfTable = arrowSchema(schema);
  const data = arrow.makeData({ type: new arrow.Struct(arrowSchemaOfTable.fields), length: n, nullCount: 0, children });
  const batch = new arrow.RecordBatch(arrowSchemaOfTable, data);
  return { table: new arrow.Table([batch]), numRows: n, metrics: conv.metrics, arrowBytes: conv.bytes };
}
