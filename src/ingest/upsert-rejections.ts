// The records of an upsert batch that mergeRecords will refuse (null or bad key, unknown op,
// Debezium truncate, a row value its column refuses), found before the commit with the same
// decoder and validator mergeRecords runs. Ingest must know them first: their dead letters are
// committed before the batch's offsets, or a crash between the two commits would lose them
// (the restart resumes after the batch).
import type { RejectedChange } from '../merge/change-decoder.ts';
import { validChanges } from '../merge/valid-changes.ts';
import type { PartitionFieldType } from '../spec/partition-spec.ts';
import type { Schema } from '../spec/schema.ts';
import type { UpsertMergeOptions } from './exactly-once-merge.ts';

export interface UpsertCheck {
  /** By input index, in input order; reasons read as mergeRecords' `rejected`. */
  readonly rejected: RejectedChange[];
  /** Input indexes that are no change at all (Debezium tombstones, Connect null payloads). */
  readonly skipped: ReadonlySet<number>;
}

export function checkUpsertBatch(
  schema: Schema, partitionFields: readonly PartitionFieldType[], values: readonly unknown[], opts: UpsertMergeOptions,
): UpsertCheck {
  const { rejected, skipped } = validChanges(values, partitionFields, {
    schema, format: opts.format ?? 'plain',
    ...(opts.opField !== undefined ? { opField: opts.opField } : {}),
    ...(opts.orderBy !== undefined ? { orderBy: opts.orderBy } : {}),
  });
  return { rejected, skipped };
}
