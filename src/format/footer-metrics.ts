// Iceberg metrics from a Parquet footer, as Java's ParquetUtil.footerMetrics does for files it
// did not write row by row: value counts = chunk value counts, null counts = chunk statistics,
// bounds = the smallest min / largest max over row groups, decoded from Parquet's plain
// encoding and re-encoded as Iceberg single values, then truncated per the table's metrics
// modes. NaNs are not counted in Parquet statistics, so no NaN count is written; a column
// whose statistics are missing in any non-null chunk gets no bounds (never a wrong one).
import type { Schema } from '../spec/schema.ts';
import { compareValues, twosComplementBytesToBigint } from '../spec/single-value.ts';
import { isPrimitive, type PrimitiveType, type PrimitiveValue } from '../spec/types.ts';
import type { LeafMetrics } from '../writer/record-converter.ts';
import { buildFileMetrics, type FileMetrics } from './file-metrics.ts';
import { footerColumnSizes, ParquetType, type ParquetFooter } from './parquet-footer.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A Parquet plain-encoded statistic as the Iceberg value of `type`; undefined if it cannot be. */
export function decodeParquetStatistic(type: PrimitiveType, physicalType: number, b: Uint8Array): PrimitiveValue | undefined {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const wantsBigint = type.kind === 'long' || type.kind === 'time' || type.kind === 'timestamp' || type.kind === 'timestamptz' || type.kind === 'decimal';
  switch (physicalType) {
    case ParquetType.BOOLEAN: return type.kind === 'boolean' && b.length >= 1 ? b[0] !== 0 : undefined;
    case ParquetType.INT32: {
      if (b.length !== 4) return undefined;
      const v = view.getInt32(0, true);
      return wantsBigint ? BigInt(v) : type.kind === 'int' || type.kind === 'date' ? v : undefined;
    }
    case ParquetType.INT64: return b.length === 8 && wantsBigint ? view.getBigInt64(0, true) : undefined;
    case ParquetType.FLOAT: {
      if (b.length !== 4 || (type.kind !== 'float' && type.kind !== 'double')) return undefined;
      const v = view.getFloat32(0, true);
      return Number.isNaN(v) ? undefined : v;
    }
    case ParquetType.DOUBLE: {
      if (b.length !== 8 || type.kind !== 'double') return undefined;
      const v = view.getFloat64(0, true);
      return Number.isNaN(v) ? undefined : v;
    }
    case ParquetType.BYTE_ARRAY:
    case ParquetType.FIXED_LEN_BYTE_ARRAY:
      if (type.kind === 'string') {
        try { return strictUtf8.decode(b); } catch { return undefined; }
      }
      if (type.kind === 'decimal') return b.length > 0 ? twosComplementBytesToBigint(b) : undefined;
      if (type.kind === 'binary' || type.kind === 'fixed') return b.slice();
      return undefined; // uuid: no bounds (see file-metrics.ts)
    default: return undefined;
  }
}

export function footerMetrics(schema: Schema, footer: ParquetFooter, properties: Readonly<Record<string, string>>): FileMetrics {
  const leaves = new Map<number, LeafMetrics>();
  const sizes = footerColumnSizes(footer);
  const columnSizes = new Map<number, bigint>();
  footer.leaves.forEach((leaf, i) => {
    const field = leaf.fieldId !== undefined ? schema.findField(leaf.fieldId) : undefined;
    if (!field || !isPrimitive(field.type)) return;
    const type = field.type;
    columnSizes.set(field.id, sizes[i]!);
    let valueCount = 0n;
    let nullCount: bigint | undefined = 0n;
    let min: PrimitiveValue | undefined;
    let max: PrimitiveValue | undefined;
    let boundsKnown = !leaf.repeated;
    for (const g of footer.rowGroups) {
      const c = g.columns[i]!;
      valueCount += c.numValues;
      const s = c.statistics;
      if (nullCount !== undefined) nullCount = s?.nullCount !== undefined ? nullCount + s.nullCount : undefined;
      if (!boundsKnown) continue;
      const allNull = s?.nullCount !== undefined && s.nullCount === c.numValues;
      if (allNull) continue;
      const lo = s?.min ? decodeParquetStatistic(type, leaf.physicalType, s.min) : undefined;
      const hi = s?.max ? decodeParquetStatistic(type, leaf.physicalType, s.max) : undefined;
      if (lo === undefined || hi === undefined) { boundsKnown = false; continue; }
      if (min === undefined || compareValues(type, lo, min) < 0) min = lo;
      if (max === undefined || compareValues(type, hi, max) > 0) max = hi;
    }
    if (nullCount === undefined) return; // counts unknown: write nothing for the column
    leaves.set(field.id, {
      type, collectBounds: boundsKnown, valueCount: Number(valueCount), nullCount: Number(nullCount),
      nanCount: 0, nanCountUnknown: true,
      min: boundsKnown ? min : undefined, max: boundsKnown ? max : undefined,
    });
  });
  const metrics = buildFileMetrics(schema, leaves, [], properties);
  for (const [id, size] of columnSizes) metrics.columnSizes.set(id, size);
  return metrics;
}
