// Source offsets kept in the table itself, which is what makes ingest exactly once: every
// commit records, in its snapshot summary, the next offset to read for each source partition
// it consumed. On start and on every partition assignment a consumer resumes from the offsets
// in the target branch's history (not from Kafka's committed offsets), and a batch whose
// offsets another writer already committed is refused at commit time.
//
// Summary key:   floe.offsets.<source-id>          e.g. floe.offsets.kafka/orders-sink/orders
// Summary value: JSON {"<partition>": <next offset>, ...} for the partitions of that commit.
import { FloeError } from '../errors.ts';
import { ancestorsOf, branchBase, type TableMetadata } from '../spec/table-metadata.ts';
import type { LoadedTable } from '../table/catalog.ts';
import { QUARANTINE_PREFIX } from '../wap/branch-status.ts';

import { decodeOffsets, encodeOffsets, OFFSETS_KEY_PREFIX, type PartitionOffsets } from '../transaction/source-positions.ts';

export { decodeOffsets, encodeOffsets, OFFSETS_KEY_PREFIX, type PartitionOffsets };

/** Source id for a Kafka consumer group and topic: `kafka/<group>/<topic>`. */
export function kafkaSourceId(group: string, topic: string): string {
  return `kafka/${group}/${topic}`;
}

export function offsetsSummaryKey(sourceId: string): string {
  return `${OFFSETS_KEY_PREFIX}${sourceId}`;
}

/**
 * The heads whose history records what a writer to `branch` has consumed: the branch's (main's
 * while the branch does not exist yet) and, for a write-audit-publish branch, the heads of its
 * quarantined batches (`quarantine/<branch>/<id>`): a quarantined batch's records were consumed
 * — they wait on the quarantine branch — so they are neither read again nor lost.
 */
export function positionHeads(m: TableMetadata, branch: string): bigint[] {
  const heads: bigint[] = [];
  const own = branchBase(m, branch)?.snapshotId;
  if (own !== undefined) heads.push(own);
  const quarantined = `${QUARANTINE_PREFIX}${branch}/`;
  for (const [name, ref] of Object.entries(m.refs)) {
    // Exactly `quarantine/<branch>/<snapshot id>`: the quarantine of a branch `<branch>/x`
    // (`quarantine/<branch>/x/<id>`) shares the prefix but is another branch's batch.
    if (ref.type === 'branch' && name.startsWith(quarantined) && /^-?\d+$/.test(name.slice(quarantined.length)) && !heads.includes(ref.snapshotId)) heads.push(ref.snapshotId);
  }
  return heads;
}

/**
 * The committed next-offset of every partition of `sourceId` on `branch`: for each partition
 * the value of the newest snapshot (walking back from the head) that recorded it; with
 * quarantined batches of the branch, the greatest over them and the branch.
 */
export function committedOffsets(m: TableMetadata, branch: string, sourceId: string): Map<number, bigint> {
  const key = offsetsSummaryKey(sourceId);
  const out = new Map<number, bigint>();
  for (const head of positionHeads(m, branch)) {
    const seen = new Set<number>();
    for (const snap of ancestorsOf(m, head)) {
      const text = snap.summary[key];
      if (text === undefined) continue;
      for (const [p, o] of decodeOffsets(text)) {
        if (seen.has(p)) continue;
        seen.add(p);
        const cur = out.get(p);
        if (cur === undefined || o > cur) out.set(p, o);
      }
    }
  }
  return out;
}

/** A batch whose offsets were already committed (a zombie writer after a rebalance, or a
 * replay): it must be dropped, never appended. */
export class StaleBatchError extends FloeError {
  constructor(message: string) {
    super('commit-conflict', message, { retryable: false });
    this.name = 'StaleBatchError';
  }
}

/** A batch read partition p from `start` (inclusive) to `next` (exclusive). */
/** The offsets a batch covers in one partition: `start` (inclusive) to `next` (exclusive). */
export interface OffsetRange {
  /** The first offset of the batch. */
  readonly start: bigint;
  /** The offset after its last record: where the next batch starts. */
  readonly next: bigint;
}

/**
 * The validator an append runs on every base: refuses the batch if, for any of its
 * partitions, the table already holds offsets beyond the batch's start.
 */
export function offsetsValidator(sourceId: string, ranges: ReadonlyMap<number, OffsetRange>): (base: LoadedTable, branch: string) => void {
  return (base, branch) => {
    const committed = committedOffsets(base.metadata, branch, sourceId);
    for (const [p, r] of ranges) {
      const done = committed.get(p);
      if (done !== undefined && done > r.start) {
        throw new StaleBatchError(`batch for ${sourceId} partition ${p} starts at offset ${r.start}, but offsets up to ${done} are already committed on '${branch}'`);
      }
    }
  };
}

export function offsetsSummary(sourceId: string, ranges: ReadonlyMap<number, OffsetRange>): Record<string, string> {
  return { [offsetsSummaryKey(sourceId)]: encodeOffsets(new Map([...ranges].map(([p, r]) => [p, r.next]))) };
}
