// The exactly-once loop every ingest commit shares (appends, upserts, dead letters): a commit
// records the batch's source offsets, refuses offsets already committed, and on refusal trims
// what another writer committed first and commits the rest (never loses the tail of a batch).
// What the commit writes — an append, a merge — is the caller's `commit` function.
import { FloeError } from '../errors.ts';
import type { CommitHooks } from '../transaction/commit-with-retry.ts';
import type { Catalog, LoadedTable } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';
import { committedOffsets, offsetsSummary, offsetsValidator, StaleBatchError, type OffsetRange } from './source-offsets.ts';

/** Where a record sits in its source: what exactly-once commits record in the snapshot summary. */
export interface SourcePosition {
  /** Identifies the source (for Kafka: group and topic). */
  readonly sourceId: string;
  /** The source partition (a Kafka partition; 0 for a file). */
  readonly partition: number;
  /** The record's offset in the partition (a file source: its byte offset). */
  readonly offset: bigint;
  /** Where the next record starts (default offset + 1; a file source's offsets are bytes). */
  readonly next?: bigint;
}

export interface Positioned { readonly position?: SourcePosition }

export interface ExactlyOnceResult { readonly committed: number; readonly trimmed: number; readonly attempts: number }

export interface ExactlyOnceOptions {
  readonly branch: string;
  readonly sourceId: string | undefined;
  /** The offsets the whole source batch covered: a partition's recorded next offset is the
   * batch's, even when its last records went elsewhere (e.g. dead letters). */
  readonly batchRanges: ReadonlyMap<number, OffsetRange>;
  readonly summary?: Record<string, string>;
  readonly onTrim?: (dropped: number) => void;
  /** Callbacks around each catalog commit attempt (passed to the commit as is). */
  readonly hooks?: CommitHooks;
}

/** What one commit attempt of `pending` must carry: the offsets in its summary, and the
 * validator that refuses offsets already committed (absent without a source id). */
export interface OffsetsCommitArgs {
  readonly branch: string;
  readonly summary: Record<string, string>;
  readonly validate?: (base: LoadedTable, branch: string) => void;
  readonly hooks?: CommitHooks;
}

export function rangesOf(items: readonly Positioned[]): Map<number, OffsetRange> {
  const out = new Map<number, OffsetRange>();
  for (const r of items) {
    if (!r.position) continue;
    const { partition, offset } = r.position;
    const next = r.position.next ?? offset + 1n;
    const cur = out.get(partition);
    out.set(partition, cur
      ? { start: offset < cur.start ? offset : cur.start, next: next > cur.next ? next : cur.next }
      : { start: offset, next });
  }
  return out;
}

/** A refused batch that trimming cannot shrink: the offsets validator and the table disagree. */
export class UntrimmableBatchError extends FloeError {
  constructor(message: string) {
    super('commit-conflict', message, { retryable: false });
    this.name = 'UntrimmableBatchError';
  }
}

/**
 * Commits `records` exactly once by their source positions with `commit` (one table commit per
 * call, carrying `args`); on StaleBatchError keeps only the records at or past the offsets the
 * table holds and calls `commit` again. Resolves to the last commit's value (undefined when
 * nothing was left to commit) and the records it committed.
 */
export async function commitExactlyOnce<R extends Positioned, T>(
  catalog: Catalog, table: TableIdentifier, records: readonly R[], opts: ExactlyOnceOptions,
  commit: (pending: readonly R[], args: OffsetsCommitArgs) => Promise<{ readonly attempts: number; readonly value: T }>,
): Promise<ExactlyOnceResult & { readonly value: T | undefined; readonly pending: readonly R[] }> {
  let pending = records;
  let attempts = 0;
  let trimmed = 0;
  let value: T | undefined;
  const { sourceId } = opts;
  while (pending.length > 0) {
    const ranges = new Map<number, OffsetRange>();
    for (const [p, r] of rangesOf(pending)) ranges.set(p, { start: r.start, next: opts.batchRanges.get(p)?.next ?? r.next });
    try {
      const result = await commit(pending, {
        branch: opts.branch,
        summary: { ...(opts.summary ?? {}), ...(sourceId ? offsetsSummary(sourceId, ranges) : {}) },
        ...(sourceId ? { validate: offsetsValidator(sourceId, ranges) } : {}),
        ...(opts.hooks ? { hooks: opts.hooks } : {}),
      });
      attempts += result.attempts;
      value = result.value;
      break;
    } catch (err) {
      if (!(err instanceof StaleBatchError) || !sourceId) throw err;
      const done = committedOffsets((await catalog.loadTable(table)).metadata, opts.branch, sourceId);
      const before = pending.length;
      pending = pending.filter((p) => !p.position || p.position.offset >= (done.get(p.position.partition) ?? 0n));
      const dropped = before - pending.length;
      if (dropped === 0) throw new UntrimmableBatchError(`stale batch for ${sourceId} could not be trimmed: ${err.message}`);
      trimmed += dropped;
      opts.onTrim?.(dropped);
    }
  }
  return { committed: pending.length, trimmed, attempts, value, pending };
}
