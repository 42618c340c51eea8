// The table, batch log and replay model of test/integration/merge-concurrency.test.ts: workers
// write every batch they commit to an NDJSON log keyed by the batch's snapshot-summary tag, and
// the test replays the branch's snapshot history through this model to get the rows the table
// must hold. The model follows MERGE's documented rules, independently of floe's code.
import { readFileSync } from 'node:fs';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { schemaWithKey } from '../../src/transaction/set-table-key.ts';

export const TAG = 'floe.test-batch';
export const REGIONS = ['eu', 'us', 'ap'] as const;

/** Keyed by id; partitioned by region, so an upsert can move its row to another partition. */
export const MERGE_CONCURRENCY_SCHEMA = schemaWithKey(schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'region', required: true, type: 'string' },
    { name: 'v', required: false, type: 'string' },
    { name: 'n', required: false, type: 'long' },
  ],
}, { assignIds: true }), ['id']);

export interface Row { readonly id: number; readonly region: string; readonly v: string | null; readonly n: number | null }
/** A merge input record: `op` is the op field (not a column). */
export type MergeChange = ({ readonly op: 'u' } & Row) | { readonly op: 'd'; readonly id: number };

/** What the merger saw when its batch landed (MergeResult counters of the landed attempt). */
export interface MergeCounts { inserted: number; updated: number; deleted: number; absentDeletes: number; superseded: number }

export type BatchLogEntry =
  | { readonly tag: string; readonly kind: 'merge'; readonly changes: readonly MergeChange[] }
  | { readonly tag: string; readonly kind: 'append'; readonly rows: readonly Row[] };

/** Written after the commit returned. */
export interface CommitLogEntry { readonly tag: string; readonly committed: string; readonly attempts: number; readonly counts?: MergeCounts }

export type LogLine = BatchLogEntry | CommitLogEntry;

export function readBatchLog(file: string): { batches: Map<string, BatchLogEntry>; commits: Map<string, CommitLogEntry> } {
  const batches = new Map<string, BatchLogEntry>();
  const commits = new Map<string, CommitLogEntry>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const e = JSON.parse(line) as LogLine;
    if ('committed' in e) commits.set(e.tag, e);
    else batches.set(e.tag, e);
  }
  return { batches, commits };
}

/** The table as a multiset of rows per key (an append of an existing key duplicates it). */
export type TableModel = Map<number, Row[]>;

/** Applies one batch; for a merge returns the counters the merge must have reported. */
export function applyBatch(model: TableModel, batch: BatchLogEntry): MergeCounts | undefined {
  if (batch.kind === 'append') {
    for (const r of batch.rows) model.set(r.id, [...(model.get(r.id) ?? []), r]);
    return undefined;
  }
  // No ordering field: the last change per key in the batch wins.
  const winners = new Map<number, MergeChange>();
  for (const c of batch.changes) winners.set(c.id, c);
  const counts: MergeCounts = { inserted: 0, updated: 0, deleted: 0, absentDeletes: 0, superseded: batch.changes.length - winners.size };
  for (const [id, c] of winners) {
    const existing = model.get(id)?.length ?? 0;
    if (c.op === 'u') {
      // Replaces every live row with the key (duplicates from appends included).
      model.set(id, [{ id: c.id, region: c.region, v: c.v, n: c.n }]);
      if (existing > 0) counts.updated++; else counts.inserted++;
    } else {
      model.delete(id);
      if (existing > 0) counts.deleted++; else counts.absentDeletes++;
    }
  }
  return counts;
}

export function modelRows(model: TableModel): Row[] {
  return [...model.values()].flat();
}
