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
import { compiledConversion } from './compiled-converter.ts';
import { primitiveParser, ValueError } from './value-parsers.ts';
import { asList, asStruct, fieldValue, isInheritedName, knownNames, mapEntries, MISSING_REQUIRED, unknownFieldReason, unknownKey } from './value-shapes.ts';

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

/** What a record must be, in messages. */
export const RECORD_SHAPE = 'an object (one record)';

export class Converter {
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
        if (required && !parentIsNull) this.fail(owners, i, path, new ValueError(MISSING_REQUIRED));
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
        const structs = new Array<Record<string, unknown> | undefined>(n);
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (v === null || v === undefined) continue;
          try { structs[i] = asStruct(v); } catch (err) { this.fail(owners, i, path, err); }
        }
        const children = type.fields.map((f) => {
          const childValues = new Array<unknown>(n);
          const inherited = isInheritedName(f.name);
          for (let i = 0; i < n; i++) {
            const s = structs[i];
            if (s !== undefined) childValues[i] = fieldValue(s, f.name, inherited);
          }
          return this.column(f.id, f.type, f.required, childValues, owners, `${path}.${f.name}`, inRepeated, validity);
        });
        const known = knownNames(type.fields);
        for (let i = 0; i < n; i++) {
          const s = structs[i];
          const k = s === undefined ? undefined : unknownKey(s, known);
          if (k !== undefined) this.fail(owners, i, `${path}.${k}`, new ValueError(unknownFieldReason(`struct '${path}'`, type.fields)));
        }
        return arrow.makeData({ type: at as arrow.Struct, length: n, nullCount, nullBitmap, children });
      }
      case 'list': {
        const offsets = new Int32Array(n + 1);
        const elements: unknown[] = [];
        const elementOwners: number[] = [];
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (v !== null && v !== undefined) {
            let list: readonly unknown[] = [];
            try { list = asList(v); } catch (err) { this.fail(owners, i, path, err); }
            for (const e of list) { elements.push(e); elementOwners.push(owners[i] ?? i); }
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
            let entries: readonly (readonly [unknown, unknown])[] = [];
            try { entries = mapEntries(type, v); } catch (err) { this.fail(owners, i, path, err); }
            for (const [k, val] of entries) { keys.push(k); vals.push(val); entryOwners.push(owners[i] ?? i); }
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
          const parse = primitiveParser(type as PrimitiveType & { kind: 'boolean' });
          let sawTrue = false; let sawFalse = false;
          for (; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            if (parse(v)) { bits[i >> 3]! |= 1 << (i & 7); sawTrue = true; } else sawFalse = true;
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
          const parse = primitiveParser(type as PrimitiveType & { kind: 'int' | 'date' });
          for (; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            const x = parse(v);
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
          const parse = primitiveParser(type as PrimitiveType & { kind: 'long' | 'time' | 'timestamp' | 'timestamptz' });
          for (; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            const x = parse(v);
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
          const parse = primitiveParser(type as PrimitiveType & { kind: 'float' | 'double' });
          for (; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            out[i] = parse(v);
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
          const parse = primitiveParser(type);
          for (; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            const x = parse(v);
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
          const parse = primitiveParser(type as PrimitiveType & { kind: 'string' });
          for (; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            const s = parse(v);
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
          const parse = primitiveParser(type as PrimitiveType & { kind: 'uuid' | 'fixed' });
          for (; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            const b = parse(v);
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
          const parse = primitiveParser(type as PrimitiveType & { kind: 'binary' });
          for (; i < n; i++) {
            const v = values[i];
            if (v === null || v === undefined) continue;
            const b = parse(v);
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

  /** Checks each record's shape and returns it as an object (the same check as the validator's). */
  checkRecords(records: readonly unknown[], owners: Owners): Record<string, unknown>[] {
    const known = knownNames(this.schema.fields);
    const out = new Array<Record<string, unknown>>(records.length);
    for (let i = 0; i < records.length; i++) {
      let r: Record<string, unknown>;
      try { r = asStruct(records[i], RECORD_SHAPE); } catch (err) { this.fail(owners, i, '(record)', err); }
      const k = unknownKey(r, known);
      if (k !== undefined) this.fail(owners, i, k, new ValueError(unknownFieldReason('the table', this.schema.fields)));
      out[i] = r;
    }
    return out;
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
 *
 * The schema's compiled loop (compiled-converter.ts) converts the batch when every record fits
 * its fast shapes; otherwise, and whenever a record may be bad, the reference converter below
 * converts the batch or throws the error it always has.
 */
export function recordsToArrow(schema: Schema, records: readonly unknown[], owners?: Owners): ConvertedBatch {
  const compiled = compiledConversion(schema);
  if (compiled !== undefined) {
    const conv = new Converter(schema);
    let children: arrow.Data[] | undefined;
    try {
      children = compiled(records, conv, owners ?? identityOwners(records.length));
    } catch {
      children = undefined; // the reference decides, with its own error
    }
    if (children !== undefined) return assemble(schema, records.length, children, conv);
  }
  return recordsToArrowReference(schema, records, owners);
}

/** The reference conversion: column by column, every value through its parser. */
export function recordsToArrowReference(schema: Schema, records: readonly unknown[], owners?: Owners): ConvertedBatch {
  const conv = new Converter(schema);
  const ownerOf: Owners = owners ?? identityOwners(records.length);
  const objects = conv.checkRecords(records, ownerOf);
  const n = records.length;
  const children = schema.fields.map((f) => {
    const values = new Array<unknown>(n);
    const inherited = isInheritedName(f.name);
    for (let i = 0; i < n; i++) values[i] = fieldValue(objects[i]!, f.name, inherited);
    return conv.column(f.id, f.type, f.required, values, ownerOf, f.name, false);
  });
  return assemble(schema, n, children, conv);
}

function assemble(schema: Schema, n: number, children: arrow.Data[], conv: Converter): ConvertedBatch {
  const arrowSchemaOfTable = arrowSchema(schema);
  const data = arrow.makeData({ type: new arrow.Struct(arrowSchemaOfTable.fields), length: n, nullCount: 0, children });
  const batch = new arrow.RecordBatch(arrowSchemaOfTable, data);
  return { table: new arrow.Table([batch]), numRows: n, metrics: conv.metrics, arrowBytes: conv.bytes };
}
