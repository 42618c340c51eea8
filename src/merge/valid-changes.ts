// The changes of a batch a merge will apply, and the records it refuses: decoded (plain, op
// field or Debezium), then every upserted row validated against the table's schema and
// partition spec — the one check both `mergeRecords` and ingest's dead-letter step run, so
// what ingest dead-letters before a commit is exactly what the merge would refuse.
import type { PartitionFieldType } from '../spec/partition-spec.ts';
import type { Schema } from '../spec/schema.ts';
import { findRecordProblem } from '../writer/record-validator.ts';
import { decodeChanges, type Change, type DecodeChangesOptions, type RejectedChange } from './change-decoder.ts';

export interface ValidChanges {
  readonly changes: Change[];
  /** By input index, ascending. */
  readonly rejected: RejectedChange[];
  /** Input indexes that are no change at all (Debezium tombstones, Connect null payloads). */
  readonly skipped: ReadonlySet<number>;
  readonly orderPath: string | null;
}

export function validChanges(records: readonly unknown[], partitionFields: readonly PartitionFieldType[], opts: DecodeChangesOptions & { schema: Schema }): ValidChanges {
  const decoded = decodeChanges(records, opts);
  const rejected = [...decoded.rejected];
  const changes: Change[] = [];
  for (const c of decoded.changes) {
    const problem = c.op === 'upsert' ? findRecordProblem(opts.schema, c.row, partitionFields) : undefined;
    if (problem) rejected.push({ index: c.index, reason: `field '${problem.field}': ${problem.reason}` });
    else changes.push(c);
  }
  const skipped = new Set<number>(records.keys());
  for (const c of decoded.changes) skipped.delete(c.index);
  for (const r of decoded.rejected) skipped.delete(r.index);
  return { changes, rejected: rejected.sort((a, b) => a.index - b.index), skipped, orderPath: decoded.orderPath };
}
