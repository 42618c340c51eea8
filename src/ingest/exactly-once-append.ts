// Appends records that carry source positions so each position lands exactly once: the
// commit records the offsets, refuses offsets already committed, and on refusal trims what
// another writer committed first and commits the rest (never loses the tail of a batch).
import { errorMessage } from '../errors.ts';
import type { Catalog } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';
import { appendRecords } from '../transaction/append-records.ts';
import { committedOffsets, offsetsSummary, offsetsValidator, StaleBatchError, type OffsetRange } from './source-offsets.ts';

export interface SourcePosition {
  readonly sourceId: string;
  readonly partition: number;
  readonly offset: bigint;
  /** Where the next record starts (default offset + 1; a file source's offsets are bytes). */
  readonly next?: bigint;
}
export interface PositionedRecord { readonly value: Record<string, unknown>; readonly position?: SourcePosition }

export interface ExactlyOnceResult { readonly committed: number; readonly trimmed: number; readonly attempts: number }

export function rangesOf(items: readonly { position?: SourcePosition }[]): Map<number, OffsetRange> {
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

/**
 * `batchRanges` are the offsets the whole source batch covered: a partition's recorded next
 * offset is the batch's, even when its last records went elsewhere (e.g. dead letters).
 */
export async function appendExactlyOnce(
  catalog: Catalog, table: TableIdentifier, records: readonly PositionedRecord[],
  opts: { branch: string; sourceId: string | undefined; batchRanges: ReadonlyMap<number, OffsetRange>; summary?: Record<string, string>; onTrim?: (dropped: number) => void },
): Promise<ExactlyOnceResult> {
  let pending = records;
  let attempts = 0;
  let trimmed = 0;
  const { sourceId } = opts;
  while (pending.length > 0) {
    const ranges = new Map<number, OffsetRange>();
    for (const [p, r] of rangesOf(pending)) ranges.set(p, { start: r.start, next: opts.batchRanges.get(p)?.next ?? r.next });
    try {
      const result = await appendRecords(catalog, table, pending.map((p) => p.value), {
        branch: opts.branch,
        summary: { ...(opts.summary ?? {}), ...(sourceId ? offsetsSummary(sourceId, ranges) : {}) },
        ...(sourceId ? { validate: offsetsValidator(sourceId, ranges) } : {}),
      });
      attempts += result.attempts;
      break;
    } catch (err) {
      if (!(err instanceof StaleBatchError) || !sourceId) throw err;
      const done = committedOffsets((await catalog.loadTable(table)).metadata, opts.branch, sourceId);
      const before = pending.length;
      pending = pending.filter((p) => !p.position || p.position.offset >= (done.get(p.position.partition) ?? 0n));
      const dropped = before - pending.length;
      if (dropped === 0) throw new Error(`stale batch could not be trimmed: ${errorMessage(err)}`);
      trimmed += dropped;
      opts.onTrim?.(dropped);
    }
  }
  return { committed: pending.length, trimmed, attempts };
}
