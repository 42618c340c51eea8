// How two refs of a table relate, from metadata alone: where a branch forked from main, which
// snapshots it has that main does not, whether one head is an ancestor of the other. Used by
// audit (what a branch adds), publish (fast-forward or re-apply) and the ref commands.
import { NotFoundError } from '../errors.ts';
import { ancestorsOf, MAIN_BRANCH, type Snapshot, type TableMetadata } from '../spec/table-metadata.ts';

/** The snapshot a ref points to; NotFoundError naming the ref and the table's refs otherwise. */
export function refSnapshot(m: TableMetadata, ref: string): Snapshot {
  const r = m.refs[ref];
  if (!r) {
    const known = Object.keys(m.refs).sort();
    throw new NotFoundError(`no branch or tag '${ref}' (the table has: ${known.length > 0 ? known.join(', ') : 'no refs'})`);
  }
  const s = m.snapshots.find((x) => x.snapshotId === r.snapshotId);
  if (!s) throw new NotFoundError(`ref '${ref}' points to snapshot ${r.snapshotId}, which the table does not have`);
  return s;
}

export function isAncestorOf(m: TableMetadata, ancestorId: bigint, snapshotId: bigint): boolean {
  for (const s of ancestorsOf(m, snapshotId)) if (s.snapshotId === ancestorId) return true;
  return false;
}

export interface BranchDivergence {
  /** The newest snapshot both heads descend from (undefined: no common history). */
  readonly forkPoint: Snapshot | undefined;
  /** The branch's own snapshots after the fork point, oldest first. */
  readonly branchOnly: readonly Snapshot[];
  /** The base's snapshots after the fork point, oldest first (what happened on main meanwhile). */
  readonly baseOnly: readonly Snapshot[];
}

/** How `branchHeadId` diverged from `baseHeadId` (default: main's head). */
export function divergence(m: TableMetadata, branchHeadId: bigint | undefined, baseHeadId: bigint | undefined = m.refs[MAIN_BRANCH]?.snapshotId): BranchDivergence {
  const baseLine = [...ancestorsOf(m, baseHeadId)];
  const onBase = new Set(baseLine.map((s) => s.snapshotId));
  const branchOnly: Snapshot[] = [];
  let forkPoint: Snapshot | undefined;
  for (const s of ancestorsOf(m, branchHeadId)) {
    if (onBase.has(s.snapshotId)) { forkPoint = s; break; }
    branchOnly.push(s);
  }
  const baseOnly: Snapshot[] = [];
  for (const s of baseLine) {
    if (forkPoint && s.snapshotId === forkPoint.snapshotId) break;
    baseOnly.push(s);
  }
  return { forkPoint, branchOnly: branchOnly.reverse(), baseOnly: baseOnly.reverse() };
}
