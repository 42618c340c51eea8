// Which columns to write without dictionary encoding. arrow-rs dictionary-encodes every column
// until the dictionary page reaches its size limit; for high-cardinality columns (ids,
// timestamps, measurements) that costs ~5× the encoding time and yields larger files than
// plain encoding. parquet-mr (Java) falls back when the dictionary does not pay; floe decides
// up front from a sample: a column whose sampled values are mostly distinct is written plain.
import * as arrow from 'apache-arrow';

const SAMPLE_ROWS = 4096;
const MIN_SAMPLE = 256;
const MAX_DISTINCT_RATIO = 0.5;

function key(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');
  if (typeof v === 'object' && v !== null) return String(v);
  return v;
}

function visit(vector: arrow.Vector, path: string, out: string[]): void {
  const type = vector.type;
  if (arrow.DataType.isStruct(type)) {
    type.children.forEach((f, i) => { visit(vector.getChildAt(i)!, `${path}.${f.name}`, out); });
    return;
  }
  // Repeated leaves (lists, maps) and booleans keep the writer's default.
  if (arrow.DataType.isList(type) || arrow.DataType.isMap(type) || arrow.DataType.isBool(type) || arrow.DataType.isNull(type)) return;
  const n = Math.min(vector.length, SAMPLE_ROWS);
  const seen = new Set<unknown>();
  let nonNull = 0;
  if (arrow.DataType.isTimestamp(type)) {
    // Raw microseconds: Arrow's get() converts them to a millisecond number and throws beyond
    // 2^53 ms (year ~287,000), a value an Iceberg timestamp may hold; that threw away a batch.
    let i = 0;
    for (const d of vector.data) {
      const values = d.values as BigInt64Array;
      for (let j = 0; j < d.length && i < n; j++, i++) {
        if (!d.getValid(j)) continue;
        nonNull++;
        seen.add(values[j]);
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = vector.get(i);
      if (v === null || v === undefined) continue;
      nonNull++;
      seen.add(key(v));
    }
  }
  if (nonNull >= MIN_SAMPLE && seen.size > MAX_DISTINCT_RATIO * nonNull) out.push(path);
}

/** Dotted Parquet column paths of the sampled table's mostly-distinct columns. */
export function highCardinalityColumns(table: arrow.Table | arrow.RecordBatch): string[] {
  const out: string[] = [];
  table.schema.fields.forEach((f, i) => {
    const child = table.getChildAt(i);
    if (child) visit(child as arrow.Vector, f.name, out);
  });
  return out;
}
