// Upserts a batch of changes that carry source positions so each position is applied exactly
// once: one mergeRecords commit per batch, through the same offsets loop as appends
// (exactly-once-commit.ts). `alwaysCommit` makes a batch that changes no row (only tombstones,
// stale changes or deletes of absent keys) still record its offsets.
import type { MergeOptions, MergeResult } from '../merge/merge-records.ts';
import { mergeRecords } from '../merge/merge-records.ts';
import type { Catalog } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';
import { commitExactlyOnce, type ExactlyOnceOptions, type ExactlyOnceResult, type SourcePosition } from './exactly-once-commit.ts';

/** A change as it came from the source: a plain record, a Debezium event, or null (a tombstone). */
export interface PositionedChange { readonly value: unknown; readonly position?: SourcePosition }

/** The merge settings of an upsert route (see {@link MergeOptions}): `format`, `opField`, `orderBy`, `mode`. */
export type UpsertMergeOptions = Pick<MergeOptions, 'format' | 'opField' | 'orderBy' | 'mode'>;

export interface MergeExactlyOnceResult<C extends PositionedChange> extends ExactlyOnceResult {
  /** Rows written: inserted + updated, or, with equality deletes (write.upsert.enabled: the table is not read), all that is known. */
  readonly upserted: number;
  readonly inserted: number;
  readonly updated: number;
  readonly deleted: number;
  /** The records mergeRecords refused (lenient), with its reason; `change` is the input record. */
  readonly rejected: readonly { readonly change: C; readonly reason: string }[];
  /** The last commit's result; undefined when another writer had committed the whole batch. */
  readonly merge: MergeResult | undefined;
  /** The changes the last commit took (the batch less what was trimmed). */
  readonly pending: readonly C[];
}

export async function mergeExactlyOnce<C extends PositionedChange>(
  catalog: Catalog, table: TableIdentifier, changes: readonly C[], opts: ExactlyOnceOptions & { readonly merge: UpsertMergeOptions },
): Promise<MergeExactlyOnceResult<C>> {
  const r = await commitExactlyOnce(catalog, table, changes, opts, async (pending, args) => {
    const result = await mergeRecords(catalog, table, pending.map((p) => p.value), {
      ...opts.merge, ...args, lenient: true, alwaysCommit: true,
    });
    return { attempts: result.attempts, value: result };
  });
  const m = r.value;
  return {
    committed: r.committed, trimmed: r.trimmed, attempts: r.attempts,
    upserted: m?.upserted ?? 0, inserted: m?.inserted ?? 0, updated: m?.updated ?? 0, deleted: m?.deleted ?? 0,
    rejected: (m?.rejected ?? []).map((x) => ({ change: r.pending[x.index]!, reason: x.reason })),
    merge: m, pending: r.pending,
  };
}
