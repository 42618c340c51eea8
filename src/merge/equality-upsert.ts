// Flink-compatible streaming upsert (table property `write.upsert.enabled=true`, Flink's own
// name; off by default): a batch is written without reading the table — one equality-delete
// file per partition holding the key of every changed row, plus the new rows. Readers drop the
// older rows whose key matches (equality deletes apply to data files of the same partition with
// a smaller data sequence number, so the batch's own rows stay). Cheap to write, costly to
// read until compaction applies them; not every reader reads them (README), which is why it is
// not the default. As in Flink, the partition source columns must be key columns, so a key's
// old and new rows always share a partition.
import { ValidationError } from '../errors.ts';
import { partitionKey, partitionType, type PartitionSpec } from '../spec/partition-spec.ts';
import type { Schema } from '../spec/schema.ts';
import type { TableMetadata } from '../spec/table-metadata.ts';
import { boolProperty, UPSERT_ENABLED } from '../spec/table-properties.ts';
import type { DataFile, PartitionTuple } from '../spec/data-file.ts';
import type { FileIO } from '../io/file-io.ts';
import { DataFileWriter, partitionTupleOf } from '../writer/data-file-writer.ts';
import { writeEqualityDeletes } from '../writer/equality-delete-writer.ts';
import type { Change } from './change-decoder.ts';

export const UPSERT_ENABLED_PROPERTY = UPSERT_ENABLED.name;

export function equalityUpsertEnabled(meta: TableMetadata): boolean {
  return boolProperty(meta, UPSERT_ENABLED);
}

/** Refuses a spec whose partition source columns are not all key columns, naming the column. */
export function checkEqualityUpsertSpec(schema: Schema, spec: PartitionSpec): void {
  const keys = new Set(schema.identifierFieldIds);
  for (const f of spec.fields) {
    if (f.transform.kind === 'void' || keys.has(f.sourceId)) continue;
    throw new ValidationError(`${UPSERT_ENABLED_PROPERTY}=true needs every partition source column in the key (as Flink's upsert mode does): '${schema.findColumnName(f.sourceId) ?? f.sourceId}' is not a key column`);
  }
}

/** The input-form record a change's key is read from: the row for an upsert, the record itself
 * (plain) or its `before` image (Debezium) for a delete. */
function keySource(c: Change, raw: unknown, format: 'plain' | 'debezium'): unknown {
  if (c.row) return c.row;
  if (format === 'plain') return raw;
  const envelope = raw !== null && typeof raw === 'object' && 'payload' in raw ? (raw as { payload: unknown }).payload : raw;
  return (envelope as { before?: unknown } | null)?.before;
}

export async function planEqualityUpsert(o: {
  io: FileIO; meta: TableMetadata; schema: Schema; spec: PartitionSpec; winners: readonly Change[];
  records: readonly unknown[]; format: 'plain' | 'debezium'; written: string[];
}): Promise<{ addedDataFiles: DataFile[]; addedDeleteFiles: DataFile[]; upserts: number; deletes: number }> {
  checkEqualityUpsertSpec(o.schema, o.spec);
  const fields = partitionType(o.spec, o.schema);
  const byPartition = new Map<string, { tuple: PartitionTuple; rows: unknown[] }>();
  const rows: unknown[] = [];
  let deletes = 0;
  for (const c of o.winners) {
    const source = keySource(c, o.records[c.index], o.format);
    const tuple = partitionTupleOf(source, fields, o.schema);
    const key = partitionKey(tuple);
    let g = byPartition.get(key);
    if (!g) { g = { tuple, rows: [] }; byPartition.set(key, g); }
    g.rows.push(source);
    if (c.op === 'upsert') rows.push(c.row); else deletes++;
  }
  const addedDeleteFiles: DataFile[] = [];
  const target = { io: o.io, location: o.meta.location, schema: o.schema, spec: o.spec, properties: o.meta.properties };
  for (const g of byPartition.values()) {
    const f = await writeEqualityDeletes(target, g.tuple, o.schema.identifierFieldIds, g.rows);
    o.written.push(f.filePath);
    addedDeleteFiles.push(f);
  }
  const addedDataFiles = rows.length > 0 ? await new DataFileWriter({ ...target }).write(rows) : [];
  for (const f of addedDataFiles) o.written.push(f.filePath);
  return { addedDataFiles, addedDeleteFiles, upserts: rows.length, deletes };
}
