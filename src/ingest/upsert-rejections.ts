// The records of an upsert batch that mergeRecords will refuse (null or bad key, unknown op,
// Debezium truncate, a row value its column refuses), found before the commit with the same
// decoder and validator mergeRecords runs. Ingest must know them first: their dead letters are
// committed before the batch's offsets, or a crash between the two commits would lose them
// (the restart resumes after the batch).
import { decodeChanges, type RejectedChange } from '../merge/change-decoder.ts';
import type { PartitionFieldType } from '../spec/partition-spec.ts';
import type { Schema } from '../spec/schema.ts';
import { findRecordProblem } from '../writer/record-validator.ts';
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
  const decoded = decodeChanges(values, {
    schema, format: opts.format ?? 'plain',
    ...(opts.opField !== undefined ? { opField: opts.opField } : {}),
    ...(opts.orderBy !== undefined ? { orderBy: opts.orderBy } : {}),
  });
  const rejected = [...decoded.rejected];
  for (const c of decoded.changes) {
    const problem = c.op === 'upsert' ? findRecordProblem(schema, c.row, partitionFields) : undefined;
    if (problem) rejected.push({ index: c.index, reason: `field '${problem.field}': ${problem.reason}` });
  }
  const skipped = new Set<number>(values.keys());
  for (const c of decoded.changes) skipped.delete(c.index);
  for (const r of decoded.rejected) skipped.delete(r.index);
  return { rejected: rejected.sort((a, b) => a.index - b.index), skipped };
}
