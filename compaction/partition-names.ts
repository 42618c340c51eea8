// Partitions as people read them: the folder Iceberg writers put a partition's files in
// (`ts_day=2026-03-01/bucket=4/cust=cust`, Java's PartitionSpec.partitionToPath), for plans
// and reports — not the internal grouping key (`number:20513\0number:4\0string:cust`).
import { partitionType, type PartitionFieldType } from '../src/spec/partition-spec.ts';
import type { PartitionTuple } from '../src/spec/data-file.ts';
import { currentSchema, specById, type TableMetadata } from '../src/spec/table-metadata.ts';
import { partitionPath } from '../src/writer/data-file-writer.ts';

/**
 * A namer for the partitions of `metadata`'s specs. A spec whose source column is no longer
 * in the current schema (dropped after the spec was replaced) has no result types: its tuple
 * is printed as `field=value` with the raw values.
 */
export function partitionPathNamer(metadata: TableMetadata): (specId: number, tuple: PartitionTuple) => string {
  const schema = currentSchema(metadata);
  const types = new Map<number, PartitionFieldType[] | undefined>();
  return (specId, tuple) => {
    const spec = specById(metadata, specId);
    if (spec.fields.length === 0) return '';
    if (!types.has(specId)) {
      try { types.set(specId, partitionType(spec, schema)); } catch { types.set(specId, undefined); }
    }
    const fields = types.get(specId);
    if (fields) return partitionPath(fields, tuple);
    return spec.fields.map((f, i) => `${encodeURIComponent(f.name)}=${tuple[i] === null || tuple[i] === undefined ? 'null' : encodeURIComponent(String(tuple[i]))}`).join('/');
  };
}
